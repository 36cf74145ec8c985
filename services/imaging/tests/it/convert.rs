//! `image.convert` on real and generated inputs: every target's format sniffed from the result, sizes,
//! alpha through PNG → lossless WebP → PNG, a GIF's first frame flagged, HEIC (the real fixture and one
//! made here with libheif's x265 encoder) and AVIF (libheif's aom encoder) decoded to the right pixels,
//! a Display P3 profile converted to sRGB values computed here from the P3 → sRGB matrix, CMYK JPEGs
//! (Adobe's inverted ones and plain ones) in the right colours, EXIF and GPS gone with the orientation
//! applied; and the refusals: zero bytes, truncated HEIF, a bomb, a HEIF over the pixel limit.

use std::io::Cursor;

use image::{DynamicImage, ImageEncoder, ImageFormat, Rgb, RgbImage, Rgba, RgbaImage};
use imaging::ops::convert::{Target, convert};
use imaging::pipeline::{ImageError, Limits, Output};
use libheif_rs::{
    Channel, ColorSpace, CompressionFormat, EncoderQuality, HeifContext, LibHeif, RgbChroma,
};
use mediabot_proto::jobs::v1::FailureReason;

use crate::helpers::fixture;

fn run(input: &[u8], target: Target) -> Output {
    convert(input, target, &Limits::default()).unwrap_or_else(|e| panic!("{target:?}: {e}"))
}

fn decoded(output: &Output, format: ImageFormat) -> DynamicImage {
    assert_eq!(
        image::guess_format(&output.bytes).ok(),
        Some(format),
        "the bytes are {format:?}"
    );
    let image = image::load_from_memory_with_format(&output.bytes, format).expect("decodes");
    assert_eq!(
        (image.width(), image.height()),
        (output.width, output.height)
    );
    image
}

fn has_exif(bytes: &[u8]) -> bool {
    exif::Reader::new()
        .read_from_container(&mut Cursor::new(bytes))
        .is_ok()
}

fn png(image: &DynamicImage) -> Vec<u8> {
    let mut bytes = Vec::new();
    image
        .write_to(&mut Cursor::new(&mut bytes), ImageFormat::Png)
        .unwrap();
    bytes
}

/// Mean absolute difference per channel (0–255) of two images of one size.
fn difference(a: &RgbImage, b: &RgbImage) -> f64 {
    assert_eq!(a.dimensions(), b.dimensions());
    let total: u64 = a
        .as_raw()
        .iter()
        .zip(b.as_raw())
        .map(|(x, y)| u64::from(x.abs_diff(*y)))
        .sum();
    total as f64 / a.as_raw().len() as f64
}

/// A test picture with structure: a gradient with a dark disc, so a wrong decode (rotated, shifted
/// colours, garbage) shows in [`difference`].
fn picture(width: u32, height: u32) -> RgbImage {
    RgbImage::from_fn(width, height, |x, y| {
        let (cx, cy) = (width as i64 / 3, height as i64 / 2);
        let d2 = (x as i64 - cx).pow(2) + (y as i64 - cy).pow(2);
        if d2 < (height as i64 / 4).pow(2) {
            Rgb([20, 30, 40])
        } else {
            Rgb([(x * 255 / width) as u8, (y * 255 / height) as u8, 160])
        }
    })
}

/// Encodes `rgb` with libheif: HEVC (x265) or AV1 (aom), lossy at quality 90.
fn encode_heif(rgb: &RgbImage, format: CompressionFormat) -> Vec<u8> {
    let lib = LibHeif::new();
    let (width, height) = rgb.dimensions();
    let mut image = libheif_rs::Image::new(width, height, ColorSpace::Rgb(RgbChroma::Rgb)).unwrap();
    image
        .create_plane(Channel::Interleaved, width, height, 8)
        .unwrap();
    {
        let planes = image.planes_mut();
        let plane = planes.interleaved.unwrap();
        let row = width as usize * 3;
        for (y, line) in rgb.as_raw().chunks_exact(row).enumerate() {
            plane.data[y * plane.stride..y * plane.stride + row].copy_from_slice(line);
        }
    }
    let mut context = HeifContext::new().unwrap();
    let mut encoder = lib.encoder_for_format(format).unwrap();
    encoder.set_quality(EncoderQuality::Lossy(90)).unwrap();
    // No encoding options: libheif-rs 0.20 frees them before use (see imaging's heif module).
    context.encode_image(&image, &mut encoder, None).unwrap();
    context.write_to_bytes().unwrap()
}

#[test]
fn the_real_heic_photo_becomes_a_jpeg_png_and_webp() {
    let heic = fixture("bad/samplefilehub.heif");
    let jpeg = run(&heic, Target::Jpeg);
    assert_eq!(
        (jpeg.mime_type, jpeg.input_format, jpeg.width, jpeg.height),
        ("image/jpeg", "HEIC", 640, 426)
    );
    let from_jpeg = decoded(&jpeg, ImageFormat::Jpeg).to_rgb8();
    assert!(
        !has_exif(&jpeg.bytes),
        "the HEIC's EXIF is not carried over"
    );
    let lossless = run(&heic, Target::Png);
    let from_png = decoded(&lossless, ImageFormat::Png).to_rgb8();
    // The same pixels, give or take JPEG's loss: a real photo, not a blank or a garbled decode.
    assert!(difference(&from_jpeg, &from_png) < 3.0);
    let spread = from_png.pixels().map(|p| p.0[1]).max().unwrap()
        - from_png.pixels().map(|p| p.0[1]).min().unwrap();
    assert!(spread > 100, "a photo has contrast: {spread}");
    for target in [Target::WebPLossless, Target::WebPLossy] {
        let webp = run(&heic, target);
        assert_eq!(webp.mime_type, "image/webp");
        let from_webp = decoded(&webp, ImageFormat::WebP).to_rgb8();
        assert!(difference(&from_webp, &from_png) < 3.0, "{target:?}");
        assert!(!webp.preview_jpeg.is_empty());
    }
}

#[test]
fn heic_and_avif_made_by_libheif_decode_to_their_pixels() {
    let source = picture(160, 120);
    for (format, name) in [
        (CompressionFormat::Hevc, "HEIC"),
        (CompressionFormat::Av1, "AVIF"),
    ] {
        let bytes = encode_heif(&source, format);
        let output = run(&bytes, Target::Png);
        assert_eq!(
            (output.input_format, output.width, output.height),
            (name, 160, 120)
        );
        let result = decoded(&output, ImageFormat::Png).to_rgb8();
        let diff = difference(&result, &source);
        assert!(diff < 4.0, "{name}: differs by {diff:.2}");
        // The dark disc is where it was drawn.
        let disc = result.get_pixel(53, 60).0;
        assert!(disc.iter().all(|&c| c < 70), "{name}: {disc:?}");
    }
}

#[test]
fn png_alpha_survives_lossless_webp_and_back() {
    let mut rgba = RgbaImage::new(64, 48);
    for (x, y, pixel) in rgba.enumerate_pixels_mut() {
        *pixel = Rgba([(x * 4) as u8, (y * 5) as u8, 90, (x * 4 + y) as u8]);
    }
    let input = png(&DynamicImage::ImageRgba8(rgba.clone()));
    let webp = run(&input, Target::WebPLossless);
    assert_eq!((webp.mime_type, webp.input_format), ("image/webp", "PNG"));
    let via_webp = decoded(&webp, ImageFormat::WebP);
    assert!(via_webp.color().has_alpha());
    assert_eq!(via_webp.to_rgba8(), rgba, "lossless WebP keeps every pixel");
    let back = run(&webp.bytes, Target::Png);
    assert_eq!(back.input_format, "WebP");
    assert_eq!(decoded(&back, ImageFormat::Png).to_rgba8(), rgba);

    // Lossy WebP keeps the alpha channel too, approximately.
    let lossy = run(&input, Target::WebPLossy);
    let lossy = decoded(&lossy, ImageFormat::WebP).to_rgba8();
    assert!(lossy.pixels().any(|p| p[3] < 40) && lossy.pixels().any(|p| p[3] > 200));

    // JPEG has no alpha: transparency is flattened onto white.
    let mut half = RgbaImage::from_pixel(40, 20, Rgba([0, 0, 200, 255]));
    for x in 0..20 {
        for y in 0..20 {
            half.put_pixel(x, y, Rgba([0, 0, 0, 0]));
        }
    }
    let jpeg = run(&png(&DynamicImage::ImageRgba8(half)), Target::Jpeg);
    let jpeg = decoded(&jpeg, ImageFormat::Jpeg).to_rgb8();
    assert!(jpeg.get_pixel(5, 10).0.iter().all(|&c| c > 240));
    assert!(jpeg.get_pixel(35, 10).0[2] > 170);
}

#[test]
fn an_animated_gif_gives_its_first_frame_and_says_so() {
    let frame = |colour: [u8; 4]| image::Frame::new(RgbaImage::from_pixel(40, 30, Rgba(colour)));
    let mut gif = Vec::new();
    image::codecs::gif::GifEncoder::new(&mut gif)
        .encode_frames([
            frame([250, 0, 0, 255]),
            frame([0, 250, 0, 255]),
            frame([0, 0, 250, 255]),
        ])
        .unwrap();
    let output = run(&gif, Target::Jpeg);
    assert_eq!((output.input_format, output.input_frames), ("GIF", 3));
    let first = decoded(&output, ImageFormat::Jpeg).to_rgb8();
    let [r, g, b] = first.get_pixel(20, 15).0;
    assert!(r > 230 && g < 25 && b < 25, "the first frame: {r} {g} {b}");
}

/// A flat image in Display P3 with its profile: P3 (200, 100, 50) must come out as the sRGB values the
/// P3 → sRGB matrix gives, whatever container carries the profile.
#[test]
fn a_display_p3_profile_is_converted_to_srgb() {
    let p3 = moxcms::ColorProfile::new_display_p3().encode().unwrap();
    let expected = p3_to_srgb([200, 100, 50]);
    let flat = RgbImage::from_pixel(32, 24, Rgb([200, 100, 50]));

    // PNG with an iCCP chunk.
    let mut tagged_png = Vec::new();
    let mut encoder = image::codecs::png::PngEncoder::new(&mut tagged_png);
    encoder.set_icc_profile(p3.clone()).unwrap();
    encoder
        .write_image(flat.as_raw(), 32, 24, image::ExtendedColorType::Rgb8)
        .unwrap();
    // JPEG with the profile in APP2 `ICC_PROFILE` segments, right after SOI.
    let mut jpeg = Vec::new();
    DynamicImage::ImageRgb8(flat.clone())
        .write_to(&mut Cursor::new(&mut jpeg), ImageFormat::Jpeg)
        .unwrap();
    let mut segment = vec![0xFF, 0xE2];
    segment.extend_from_slice(&((p3.len() + 16) as u16).to_be_bytes());
    segment.extend_from_slice(b"ICC_PROFILE\0\x01\x01");
    segment.extend_from_slice(&p3);
    jpeg.splice(2..2, segment);

    for (name, input, tolerance) in [("PNG", tagged_png, 2), ("JPEG", jpeg, 4)] {
        let output = run(&input, Target::Png);
        let result = decoded(&output, ImageFormat::Png).to_rgb8();
        let got = result.get_pixel(16, 12).0;
        for c in 0..3 {
            assert!(
                got[c].abs_diff(expected[c]) <= tolerance,
                "{name}: got {got:?}, expected {expected:?} (untouched would be [200, 100, 50])"
            );
        }
        let mut decoder = image::codecs::png::PngDecoder::new(Cursor::new(&output.bytes)).unwrap();
        assert_eq!(
            image::ImageDecoder::icc_profile(&mut decoder).unwrap(),
            None,
            "{name}: the result is plain sRGB, no profile"
        );
    }

    // An sRGB profile changes nothing.
    let srgb = moxcms::ColorProfile::new_srgb().encode().unwrap();
    let mut tagged = Vec::new();
    let mut encoder = image::codecs::png::PngEncoder::new(&mut tagged);
    encoder.set_icc_profile(srgb).unwrap();
    encoder
        .write_image(flat.as_raw(), 32, 24, image::ExtendedColorType::Rgb8)
        .unwrap();
    let same = decoded(&run(&tagged, Target::Png), ImageFormat::Png).to_rgb8();
    assert_eq!(same.get_pixel(3, 3).0, [200, 100, 50]);
}

/// Display P3 (D65, sRGB transfer) → sRGB, from the primaries' matrix (linear P3 → XYZ → linear sRGB).
fn p3_to_srgb(p3: [u8; 3]) -> [u8; 3] {
    const M: [[f64; 3]; 3] = [
        [1.224_940_2, -0.224_940_2, 0.0],
        [-0.042_056_9, 1.042_056_9, 0.0],
        [-0.019_637_6, -0.078_636_1, 1.098_273_7],
    ];
    let decode = |v: u8| {
        let v = f64::from(v) / 255.0;
        if v <= 0.040_45 {
            v / 12.92
        } else {
            ((v + 0.055) / 1.055).powf(2.4)
        }
    };
    let encode = |v: f64| {
        let v = v.clamp(0.0, 1.0);
        let v = if v <= 0.003_130_8 {
            v * 12.92
        } else {
            1.055 * v.powf(1.0 / 2.4) - 0.055
        };
        (v * 255.0).round() as u8
    };
    let linear = p3.map(decode);
    let mut out = [0u8; 3];
    for (row, value) in M.iter().zip(&mut out) {
        *value = encode(row[0] * linear[0] + row[1] * linear[1] + row[2] * linear[2]);
    }
    out
}

/// A CMYK JPEG of one colour, written by libjpeg-turbo (which adds an Adobe APP14 segment, as Photoshop
/// does). `adobe = false` strips that segment.
fn cmyk_jpeg(stored: [u8; 4], adobe: bool) -> Vec<u8> {
    let (width, height) = (32usize, 24usize);
    let pixels: Vec<u8> = std::iter::repeat_n(stored, width * height)
        .flatten()
        .collect();
    let mut compressor = turbojpeg::Compressor::new().unwrap();
    compressor
        .set_colorspace(turbojpeg::Colorspace::CMYK)
        .unwrap();
    compressor.set_subsamp(turbojpeg::Subsamp::None).unwrap();
    compressor.set_quality(95).unwrap();
    let mut jpeg = compressor
        .compress_to_vec(turbojpeg::Image {
            pixels: &pixels[..],
            width,
            pitch: width * 4,
            height,
            format: turbojpeg::PixelFormat::CMYK,
        })
        .unwrap();
    let app14 = jpeg
        .windows(7)
        .position(|w| w[0] == 0xFF && w[1] == 0xEE && &w[4..7] == b"Ado")
        .expect("libjpeg writes an Adobe segment for CMYK");
    if !adobe {
        let length = usize::from(u16::from_be_bytes([jpeg[app14 + 2], jpeg[app14 + 3]]));
        jpeg.drain(app14..app14 + 2 + length);
    }
    jpeg
}

#[test]
fn cmyk_jpegs_come_out_in_their_colours_inverted_or_not() {
    // Magenta + yellow ink, no cyan, no black: red. Adobe stores 255 − ink.
    for (stored, adobe) in [([255, 0, 0, 255], true), ([0, 255, 255, 0], false)] {
        let jpeg = cmyk_jpeg(stored, adobe);
        assert_eq!(
            turbojpeg::read_header(&jpeg).unwrap().colorspace,
            turbojpeg::Colorspace::CMYK
        );
        for target in [Target::Png, Target::Jpeg] {
            let output = run(&jpeg, target);
            let format = if target == Target::Png {
                ImageFormat::Png
            } else {
                ImageFormat::Jpeg
            };
            let [r, g, b] = decoded(&output, format).to_rgb8().get_pixel(16, 12).0;
            assert!(
                r > 235 && g < 20 && b < 20,
                "adobe={adobe} {target:?}: ({r}, {g}, {b}) is not red"
            );
        }
    }
}

#[test]
fn exif_and_gps_are_gone_and_the_orientation_is_applied() {
    let nokia = fixture("nokia-8.3-4608x1976.jpg");
    assert!(has_exif(&nokia));
    for target in [Target::Png, Target::WebPLossy, Target::Jpeg] {
        let output = run(&nokia, target);
        assert!(!has_exif(&output.bytes), "{target:?} carries no EXIF");
        assert!(
            !output
                .bytes
                .windows(4)
                .any(|w| w == b"Exif" || w == b"eXIf"),
            "{target:?}: no EXIF block at all"
        );
        assert_eq!((output.width, output.height), (4608, 1976));
    }
    let reference = decoded(
        &run(&fixture("orientation/landscape_1.jpg"), Target::Png),
        ImageFormat::Png,
    )
    .to_rgb8();
    for n in [3, 6, 8] {
        let output = run(
            &fixture(&format!("orientation/landscape_{n}.jpg")),
            Target::Png,
        );
        assert_eq!((output.width, output.height), (600, 450), "orientation {n}");
        let diff = difference(&decoded(&output, ImageFormat::Png).to_rgb8(), &reference);
        assert!(diff < 20.0, "orientation {n}: differs by {diff:.1}");
    }
}

#[test]
fn a_16_bit_png_becomes_an_8_bit_jpeg() {
    let deep =
        image::ImageBuffer::<Rgb<u16>, Vec<u16>>::from_pixel(30, 20, Rgb([65_535, 32_768, 0]));
    let output = run(&png(&DynamicImage::ImageRgb16(deep)), Target::Jpeg);
    let [r, g, b] = decoded(&output, ImageFormat::Jpeg)
        .to_rgb8()
        .get_pixel(15, 10)
        .0;
    assert!(r > 245 && (120..=136).contains(&g) && b < 10, "{r} {g} {b}");
}

#[test]
fn bad_inputs_are_refused_with_their_reason() {
    let limits = Limits::default();
    let heic = fixture("bad/samplefilehub.heif");
    let cases: [(&str, Vec<u8>, FailureReason); 4] = [
        ("empty", Vec::new(), FailureReason::CorruptInput),
        (
            "truncated HEIF",
            heic[..heic.len() / 2].to_vec(),
            FailureReason::CorruptInput,
        ),
        (
            "HEIF header only",
            heic[..64].to_vec(),
            FailureReason::CorruptInput,
        ),
        (
            "PDF",
            b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\n".to_vec(),
            FailureReason::UnsupportedFormat,
        ),
    ];
    for (name, input, reason) in cases {
        for target in [Target::Jpeg, Target::WebPLossless] {
            let error = convert(&input, target, &limits).expect_err(name);
            assert_eq!(error.reason(), reason, "{name}: {error}");
        }
    }

    // A HEIF larger than the pixel limit is refused from its container, before decoding.
    let tight = Limits {
        max_input_pixels: 100_000,
        ..Limits::default()
    };
    let error = convert(&heic, Target::Jpeg, &tight).expect_err("too many pixels");
    assert!(
        matches!(
            error,
            ImageError::TooManyPixels {
                width: 640,
                height: 426,
                ..
            }
        ),
        "{error}"
    );

    // The 20000×20000 PNG bomb (400 MP in a few hundred kilobytes).
    let mut bomb = Vec::new();
    {
        let mut encoder = png::Encoder::new(&mut bomb, 20_000, 20_000);
        encoder.set_color(png::ColorType::Grayscale);
        encoder.set_compression(png::Compression::Fast);
        let mut writer = encoder.write_header().unwrap();
        let mut stream = writer.stream_writer().unwrap();
        let row = vec![0u8; 20_000];
        for _ in 0..20_000 {
            std::io::Write::write_all(&mut stream, &row).unwrap();
        }
        stream.finish().unwrap();
    }
    let error = convert(&bomb, Target::WebPLossy, &limits).expect_err("bomb");
    assert_eq!(error.reason(), FailureReason::TooLarge, "{error}");

    // WebP cannot hold more than 16383 pixels a side: refused as too large, not a crash.
    let wide = DynamicImage::ImageLuma8(image::GrayImage::new(17_000, 2));
    let error = convert(&png(&wide), Target::WebPLossless, &limits).expect_err("too wide");
    assert!(
        matches!(error, ImageError::TooLargeForFormat { .. }),
        "{error}"
    );
    assert_eq!(error.reason(), FailureReason::TooLarge);
}
