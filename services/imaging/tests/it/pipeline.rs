//! The upscale operation on real photos: EXIF orientation, exact ×2 and ×4 sizes, output formats, Telegram
//! limits, and the failure reasons for corrupt, unsupported and oversized inputs (and results).

use image::{DynamicImage, GenericImageView, ImageFormat, RgbaImage};
use imaging::ops::upscale::{Factor, upscale as upscale_by};
use imaging::pipeline::{ImageError, Limits, Output};
use mediabot_proto::jobs::v1::FailureReason;

use crate::helpers::fixture;

fn upscale(name: &str) -> Result<Output, ImageError> {
    upscale_2x(&fixture(name), &Limits::default())
}

fn upscale_2x(input: &[u8], limits: &Limits) -> Result<Output, ImageError> {
    upscale_by(input, Factor::X2, limits)
}

fn decode_output(output: &Output) -> DynamicImage {
    let image = image::load_from_memory(&output.bytes).expect("the output decodes");
    assert_eq!(
        (image.width(), image.height()),
        (output.width, output.height),
        "header matches the report"
    );
    image
}

/// Mean absolute difference per channel (0–255) after shrinking both images to 48×36.
fn difference(a: &DynamicImage, b: &DynamicImage) -> f64 {
    let small = |i: &DynamicImage| {
        i.resize_exact(48, 36, image::imageops::FilterType::Triangle)
            .to_rgb8()
    };
    let (a, b) = (small(a), small(b));
    let total: u64 = a
        .as_raw()
        .iter()
        .zip(b.as_raw())
        .map(|(x, y)| u64::from(x.abs_diff(*y)))
        .sum();
    total as f64 / a.as_raw().len() as f64
}

#[test]
fn every_exif_orientation_comes_out_the_same_way_up_at_exactly_2x() {
    let reference_input =
        image::load_from_memory(&fixture("orientation/landscape_1.jpg")).expect("decodes");
    assert_eq!(reference_input.dimensions(), (600, 450));
    let reference = decode_output(&upscale("orientation/landscape_1.jpg").expect("upscales"));
    assert_eq!(reference.dimensions(), (1200, 900));
    for n in [3, 6, 8] {
        let name = format!("orientation/landscape_{n}.jpg");
        let stored = image::load_from_memory(&fixture(&name)).expect("decodes");
        let output = upscale(&name).expect("upscales");
        assert_eq!(
            (output.width, output.height),
            (1200, 900),
            "{name}: 2x of the oriented 600x450"
        );
        assert_eq!(output.mime_type, "image/jpeg");
        assert!(!output.send_as_document);
        let result = decode_output(&output);
        let diff = difference(&result, &reference);
        assert!(
            diff < 25.0,
            "{name} differs from landscape_1 by {diff:.1} per channel"
        );
        // The check can tell orientations apart: the file as stored (not rotated) is far from the reference.
        let unrotated = stored.resize_exact(600, 450, image::imageops::FilterType::Triangle);
        let wrong = difference(&unrotated, &reference);
        assert!(
            wrong > 2.0 * diff,
            "{name}: as stored it differs by only {wrong:.1}"
        );
    }
}

#[test]
fn nokia_photo_doubles_and_is_too_big_for_a_telegram_photo() {
    let output = upscale("nokia-8.3-4608x1976.jpg").expect("upscales");
    assert_eq!((output.width, output.height), (9216, 3952));
    assert_eq!(output.mime_type, "image/jpeg");
    assert!(output.send_as_document, "9216 + 3952 > 10000");
    assert_eq!(
        image::guess_format(&output.bytes).ok(),
        Some(ImageFormat::Jpeg)
    );
    assert_eq!(
        image::ImageReader::new(std::io::Cursor::new(&output.bytes))
            .with_guessed_format()
            .unwrap()
            .into_dimensions()
            .unwrap(),
        (9216, 3952)
    );
}

#[test]
fn iphone_photo_doubles() {
    let output = upscale("iphone6-3264x2448.jpg").expect("upscales");
    assert_eq!((output.width, output.height), (6528, 4896));
    assert_eq!(output.mime_type, "image/jpeg");
    assert!(output.send_as_document, "6528 + 4896 > 10000");
    let result = decode_output(&output);
    let input = image::load_from_memory(&fixture("iphone6-3264x2448.jpg")).expect("decodes");
    let diff = difference(&result, &input);
    assert!(
        diff < 3.0,
        "the upscale looks like the input (differs by {diff:.1})"
    );
}

#[test]
fn small_photo_stays_a_photo() {
    let output = upscale("canon-40d.jpg").expect("upscales");
    assert_eq!((output.width, output.height), (200, 136));
    assert!(!output.send_as_document);
}

#[test]
fn corrupt_jpeg_is_corrupt_input() {
    let error = upscale("bad/corrupted.jpg").expect_err("refused");
    assert_eq!(error.reason(), FailureReason::CorruptInput, "{error}");
}

#[test]
fn stray_bytes_between_segments_are_tolerated_but_a_cut_off_scan_is_not() {
    // Stray bytes before the end-of-image marker: libjpeg warns ("extraneous bytes"), every pixel is there.
    let mut padded = fixture("canon-40d.jpg");
    let eoi = padded.len() - 2;
    assert_eq!(padded[eoi..], [0xFF, 0xD9]);
    padded.splice(eoi..eoi, [0x00, 0x12, 0x34]);
    let output = upscale_2x(&padded, &Limits::default()).expect("upscales");
    assert_eq!((output.width, output.height), (200, 136));

    // The same file cut in the middle of its scan.
    let whole = fixture("canon-40d.jpg");
    let error = upscale_2x(&whole[..whole.len() * 3 / 4], &Limits::default()).expect_err("refused");
    assert_eq!(error.reason(), FailureReason::CorruptInput, "{error}");
}

#[test]
fn cmyk_jpeg_is_converted_to_rgb() {
    let (width, height) = (40usize, 30usize);
    let pixels: Vec<u8> = (0..width * height)
        .flat_map(|i| [(i % 200) as u8, 40, 80, 10])
        .collect();
    let mut compressor = turbojpeg::Compressor::new().unwrap();
    compressor
        .set_colorspace(turbojpeg::Colorspace::CMYK)
        .unwrap();
    compressor.set_subsamp(turbojpeg::Subsamp::None).unwrap();
    let image = turbojpeg::Image {
        pixels: &pixels[..],
        width,
        pitch: width * 4,
        height,
        format: turbojpeg::PixelFormat::CMYK,
    };
    let cmyk = compressor.compress_to_vec(image).unwrap();
    assert_eq!(
        turbojpeg::read_header(&cmyk).unwrap().colorspace,
        turbojpeg::Colorspace::CMYK
    );
    let output = upscale_2x(&cmyk, &Limits::default()).expect("upscales");
    assert_eq!(
        (output.mime_type, output.width, output.height),
        ("image/jpeg", 80, 60)
    );
}

#[test]
fn a_heic_photo_is_upscaled_to_a_jpeg() {
    let output = upscale("bad/samplefilehub.heif").expect("libheif decodes it");
    assert_eq!(
        (
            output.mime_type,
            output.input_format,
            output.width,
            output.height
        ),
        ("image/jpeg", "HEIC", 1280, 852)
    );
    decode_output(&output);
}

#[test]
fn pdf_and_empty_input() {
    let pdf =
        upscale_2x(b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\n", &Limits::default()).expect_err("refused");
    assert_eq!(pdf.reason(), FailureReason::UnsupportedFormat);
    let empty = upscale_2x(b"", &Limits::default()).expect_err("refused");
    assert_eq!(empty.reason(), FailureReason::CorruptInput);
}

#[test]
fn jpeg_with_broken_exif_is_upscaled_as_stored() {
    let output = upscale("bad/invalid-image01137.jpg")
        .expect("the pixels are fine; the broken EXIF is ignored");
    assert_eq!((output.width, output.height), (176, 128));
}

#[test]
fn png_with_alpha_stays_png_with_alpha() {
    let mut rgba = RgbaImage::new(64, 48);
    for (x, y, pixel) in rgba.enumerate_pixels_mut() {
        *pixel = image::Rgba([
            (x * 4) as u8,
            (y * 5) as u8,
            128,
            if x < 32 { 0 } else { 255 },
        ]);
    }
    let mut png = Vec::new();
    DynamicImage::ImageRgba8(rgba)
        .write_to(&mut std::io::Cursor::new(&mut png), ImageFormat::Png)
        .unwrap();
    let output = upscale_2x(&png, &Limits::default()).expect("upscales");
    assert_eq!(
        (output.mime_type, output.width, output.height),
        ("image/png", 128, 96)
    );
    let result = decode_output(&output);
    assert!(result.color().has_alpha());
    let result = result.to_rgba8();
    assert_eq!(
        result.get_pixel(10, 50)[3],
        0,
        "transparent side stays transparent"
    );
    assert_eq!(
        result.get_pixel(120, 50)[3],
        255,
        "opaque side stays opaque"
    );
}

#[test]
fn oversized_inputs_are_refused_from_the_header() {
    // A JPEG whose frame header claims 60000x60000 (3.6 gigapixels): refused before any pixel is decoded.
    let mut bomb = fixture("canon-40d.jpg");
    // The last SOF0 is the main image's (the first may be the EXIF thumbnail's).
    let sof = bomb
        .windows(2)
        .rposition(|w| w == [0xFF, 0xC0])
        .expect("baseline JPEG");
    bomb[sof + 5..sof + 9].copy_from_slice(&[0xEA, 0x60, 0xEA, 0x60]);
    let error = upscale_2x(&bomb, &Limits::default()).expect_err("refused");
    assert_eq!(error.reason(), FailureReason::TooLarge, "{error}");

    // A real 10000x6000 PNG of one colour: 60 MB of pixels in a ~60 kB file.
    let flat = DynamicImage::ImageLuma8(image::GrayImage::new(10_000, 6_000));
    let mut png = Vec::new();
    flat.write_to(&mut std::io::Cursor::new(&mut png), ImageFormat::Png)
        .unwrap();
    assert!(png.len() < 1_000_000);
    let error = upscale_2x(&png, &Limits::default()).expect_err("refused");
    assert!(
        matches!(
            error,
            ImageError::TooManyPixels {
                pixels: 60_000_000,
                ..
            }
        ),
        "{error}"
    );

    let tight = Limits {
        max_input_pixels: 5_000,
        ..Limits::default()
    };
    let error = upscale_2x(&fixture("canon-40d.jpg"), &tight).expect_err("refused");
    assert_eq!(error.reason(), FailureReason::TooLarge);

    let small_out = Limits {
        max_output_bytes: 1_000,
        ..Limits::default()
    };
    let error = upscale_2x(&fixture("canon-40d.jpg"), &small_out).expect_err("refused");
    assert!(
        matches!(error, ImageError::OutputTooLarge { .. }),
        "{error}"
    );
}

#[test]
fn x4_of_a_rotated_photo_is_exactly_four_times_the_oriented_size() {
    // Stored 450x600 with EXIF orientation 6 (rotate 90°): 600x450 the way up, 2400x1800 at ×4.
    let output = upscale_by(
        &fixture("orientation/landscape_6.jpg"),
        Factor::X4,
        &Limits::default(),
    )
    .expect("upscales");
    assert_eq!(
        (output.mime_type, output.width, output.height),
        ("image/jpeg", 2400, 1800)
    );
    assert!(
        !output.send_as_document,
        "2400 + 1800 fits a Telegram photo"
    );
    let result = decode_output(&output);
    assert_eq!(result.dimensions(), (2400, 1800));
    // The same way up as ×2 of the unrotated reference.
    let reference = decode_output(&upscale("orientation/landscape_1.jpg").expect("upscales"));
    let diff = difference(&result, &reference);
    assert!(diff < 25.0, "×4 differs from the reference by {diff:.1}");
}

#[test]
fn x4_counts_the_result_pixels_before_decoding() {
    // A real 5000x3000 PNG (15 MP): fine for ×2 (60 MP), but ×4 would be 20000x12000 = 240 MP.
    let flat = DynamicImage::ImageLuma8(image::GrayImage::new(5_000, 3_000));
    let mut png = Vec::new();
    flat.write_to(&mut std::io::Cursor::new(&mut png), ImageFormat::Png)
        .unwrap();
    let error = upscale_by(&png, Factor::X4, &Limits::default()).expect_err("refused");
    assert_eq!(error.reason(), FailureReason::TooLarge, "{error}");
    assert!(
        matches!(
            error,
            ImageError::TooManyOutputPixels {
                width: 20_000,
                height: 12_000,
                pixels: 240_000_000,
                max: 200_000_000,
            }
        ),
        "{error}"
    );
    // The same photo under a tighter output limit: ×2 too is refused, by the same rule.
    let tight = Limits {
        max_output_pixels: 50_000_000,
        ..Limits::default()
    };
    let error = upscale_by(&png, Factor::X2, &tight).expect_err("refused");
    assert!(
        matches!(error, ImageError::TooManyOutputPixels { .. }),
        "{error}"
    );
    // A real JPEG too: canon-40d is 100x68, ×4 is 108 800 pixels.
    let small = Limits {
        max_output_pixels: 100_000,
        ..Limits::default()
    };
    let error = upscale_by(&fixture("canon-40d.jpg"), Factor::X4, &small).expect_err("refused");
    assert_eq!(error.reason(), FailureReason::TooLarge, "{error}");
    let output = upscale_by(&fixture("canon-40d.jpg"), Factor::X2, &small).expect("×2 fits");
    assert_eq!((output.width, output.height), (200, 136));
}
