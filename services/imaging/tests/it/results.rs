//! What a result file is, on real inputs: the format kept (JPEG → JPEG, PNG → PNG with alpha, WebP → PNG,
//! GIF → its first frame as PNG, said so), no metadata left (the Nokia photo's GPS position), a preview for
//! the thumbnail; and the inputs that must be refused without a panic (a 20000×20000 PNG bomb of a few
//! hundred kilobytes, 16-bit PNG, zero bytes, truncated files).

use std::io::Cursor;

use image::{DynamicImage, ImageFormat, Rgba, RgbaImage};
use imaging::ops::compress::{self, Target};
use imaging::ops::upscale::{Factor, upscale};
use imaging::pipeline::{ImageError, Limits, PREVIEW_MAX_SIDE};
use mediabot_proto::jobs::v1::FailureReason;

use crate::helpers::fixture;

fn encode(image: &DynamicImage, format: ImageFormat) -> Vec<u8> {
    let mut bytes = Vec::new();
    image
        .write_to(&mut Cursor::new(&mut bytes), format)
        .unwrap();
    bytes
}

fn has_exif(bytes: &[u8]) -> bool {
    exif::Reader::new()
        .read_from_container(&mut Cursor::new(bytes))
        .is_ok()
}

#[test]
fn a_jpeg_upscale_is_a_high_quality_jpeg_without_exif_or_gps_with_a_preview() {
    let input = fixture("nokia-8.3-4608x1976.jpg");
    let exif = exif::Reader::new()
        .read_from_container(&mut Cursor::new(&input))
        .expect("the fixture has EXIF");
    assert!(
        exif.get_field(exif::Tag::GPSLatitude, exif::In::PRIMARY)
            .is_some(),
        "the fixture has a GPS position"
    );
    let output = upscale(&input, Factor::X2, &Limits::default()).unwrap();
    assert_eq!(output.mime_type, "image/jpeg");
    assert_eq!((output.input_format, output.input_frames), ("JPEG", 1));
    assert!(!has_exif(&output.bytes), "the result carries no EXIF");
    assert!(
        !output.bytes.windows(4).any(|w| w == b"Exif"),
        "no EXIF block at all"
    );
    let preview = image::load_from_memory(&output.preview_jpeg).expect("the preview is an image");
    assert_eq!(
        image::guess_format(&output.preview_jpeg).ok(),
        Some(ImageFormat::Jpeg)
    );
    assert_eq!(
        preview.width().max(preview.height()),
        PREVIEW_MAX_SIDE,
        "preview {}x{}",
        preview.width(),
        preview.height()
    );
    assert!(output.preview_jpeg.len() < 200_000);
}

#[test]
fn an_opaque_webp_becomes_a_png_of_the_same_pixels() {
    let photo = image::load_from_memory(&fixture("orientation/landscape_1.jpg")).unwrap();
    let webp = encode(&DynamicImage::ImageRgb8(photo.to_rgb8()), ImageFormat::WebP);
    let output = upscale(&webp, Factor::X2, &Limits::default()).unwrap();
    assert_eq!(output.mime_type, "image/png");
    assert_eq!(output.input_format, "WebP");
    let result = image::load_from_memory_with_format(&output.bytes, ImageFormat::Png).unwrap();
    assert_eq!((result.width(), result.height()), (1200, 900));
}

#[test]
fn an_animated_gif_gives_its_first_frame_as_png_and_says_so() {
    let frame = |colour: [u8; 4]| image::Frame::new(RgbaImage::from_pixel(40, 30, Rgba(colour)));
    let mut gif = Vec::new();
    {
        let mut encoder = image::codecs::gif::GifEncoder::new(&mut gif);
        encoder
            .encode_frames([
                frame([255, 0, 0, 255]),
                frame([0, 255, 0, 255]),
                frame([0, 0, 255, 255]),
            ])
            .unwrap();
    }
    let output = upscale(&gif, Factor::X2, &Limits::default()).unwrap();
    assert_eq!(
        (output.mime_type, output.width, output.height),
        ("image/png", 80, 60)
    );
    assert_eq!((output.input_format, output.input_frames), ("GIF", 3));
    let result = image::load_from_memory(&output.bytes).unwrap().to_rgb8();
    assert_eq!(result.get_pixel(40, 30).0, [255, 0, 0], "the first frame");

    // A still GIF is one frame.
    let mut still = Vec::new();
    image::codecs::gif::GifEncoder::new(&mut still)
        .encode_frames([frame([9, 9, 9, 255])])
        .unwrap();
    let output = upscale(&still, Factor::X2, &Limits::default()).unwrap();
    assert_eq!(output.input_frames, 1);
}

#[test]
fn a_16_bit_png_with_alpha_is_upscaled_to_an_8_bit_png_keeping_alpha() {
    let mut deep = image::ImageBuffer::<Rgba<u16>, Vec<u16>>::new(50, 40);
    for (x, _, pixel) in deep.enumerate_pixels_mut() {
        *pixel = Rgba([40_000, 20_000, 1_000, if x < 25 { 0 } else { 65_535 }]);
    }
    let png = encode(&DynamicImage::ImageRgba16(deep), ImageFormat::Png);
    let output = upscale(&png, Factor::X2, &Limits::default()).unwrap();
    assert_eq!(
        (output.mime_type, output.width, output.height),
        ("image/png", 100, 80)
    );
    let result = image::load_from_memory(&output.bytes).unwrap().to_rgba8();
    assert_eq!(result.get_pixel(5, 40)[3], 0);
    assert_eq!(result.get_pixel(95, 40).0, [156, 78, 4, 255]);
}

/// A real 20000×20000 greyscale PNG of zeros, written row by row: about 400 kB that would decode to
/// 400 MB.
fn png_bomb() -> Vec<u8> {
    let mut bytes = Vec::new();
    {
        let mut encoder = png::Encoder::new(&mut bytes, 20_000, 20_000);
        encoder.set_color(png::ColorType::Grayscale);
        encoder.set_depth(png::BitDepth::Eight);
        encoder.set_compression(png::Compression::Fast);
        let mut writer = encoder.write_header().unwrap();
        let mut stream = writer.stream_writer().unwrap();
        let row = vec![0u8; 20_000];
        for _ in 0..20_000 {
            std::io::Write::write_all(&mut stream, &row).unwrap();
        }
        stream.finish().unwrap();
    }
    bytes
}

#[test]
fn a_png_bomb_is_refused_by_every_operation_before_decoding() {
    let bomb = png_bomb();
    assert!(bomb.len() < 2_000_000, "{} bytes", bomb.len());
    let limits = Limits::default();
    let upscaled = upscale(&bomb, Factor::X2, &limits).expect_err("refused");
    let compressed =
        compress::compress(&bomb, Target::try_from(1000).unwrap(), &limits).expect_err("refused");
    for error in [upscaled, compressed] {
        assert!(
            matches!(
                error,
                ImageError::TooManyPixels {
                    pixels: 400_000_000,
                    ..
                }
            ),
            "{error}"
        );
        assert_eq!(error.reason(), FailureReason::TooLarge);
    }
}

#[test]
fn broken_inputs_are_refused_by_compression_too() {
    let target = Target::try_from(1000).unwrap();
    let limits = Limits::default();
    let whole = fixture("iphone6-3264x2448.jpg");
    for (name, input) in [
        ("empty", Vec::new()),
        ("truncated", whole[..whole.len() / 2].to_vec()),
        ("corrupt", fixture("bad/corrupted.jpg")),
    ] {
        let error = compress::compress(&input, target, &limits).expect_err(name);
        assert_eq!(
            error.reason(),
            FailureReason::CorruptInput,
            "{name}: {error}"
        );
    }
    // A HEIC compresses like any photo; cut in half, it is corrupt.
    let heic = fixture("bad/samplefilehub.heif");
    let output = compress::compress(&heic, target, &limits).expect("HEIC");
    assert_eq!(
        (output.mime_type, output.input_format, output.width),
        ("image/jpeg", "HEIC", 640)
    );
    let cut = compress::compress(&heic[..heic.len() / 2], target, &limits).expect_err("cut HEIC");
    assert_eq!(cut.reason(), FailureReason::CorruptInput, "{cut}");
}

#[test]
fn photos_compress_to_every_target_below_their_size_in_two_encodes_on_average() {
    let limits = Limits::default();
    let mut encodes = Vec::new();
    for name in ["iphone6-3264x2448.jpg", "nokia-8.3-4608x1976.jpg"] {
        let input = fixture(name);
        let original = image::load_from_memory(&input).unwrap();
        for kb in [1000, 2000] {
            if kb * 1000 >= input.len() {
                continue;
            }
            let output =
                compress::compress(&input, Target::try_from(kb as u32).unwrap(), &limits).unwrap();
            assert!(
                output.bytes.len() <= kb * 1000,
                "{name} → {kb} kB: {} bytes",
                output.bytes.len()
            );
            assert!(
                output.bytes.len() >= kb * 1000 * 3 / 4,
                "{name} → {kb} kB: {} bytes wastes the budget",
                output.bytes.len()
            );
            assert_eq!(output.mime_type, "image/jpeg");
            assert_eq!(
                (output.width, output.height),
                (original.width(), original.height()),
                "{name}: quality alone is enough, no downscale"
            );
            assert!(!has_exif(&output.bytes));
            encodes.push(output.encodes);
        }
    }
    let average = encodes.iter().sum::<u32>() as f64 / encodes.len() as f64;
    assert!(
        !encodes.is_empty() && average <= 2.0,
        "encodes per compression: {encodes:?}"
    );
}

#[test]
fn noise_that_quality_50_cannot_fit_is_downscaled_below_the_target() {
    // 2000×1500 of pseudo-random colour: about 3 MB even at quality 50.
    let mut state = 0x2545_f491_u32;
    let noise = RgbaImage::from_fn(2000, 1500, |_, _| {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        let [a, b, c, _] = state.to_le_bytes();
        Rgba([a, b, c, 255])
    });
    let png = encode(&DynamicImage::ImageRgba8(noise), ImageFormat::Png);
    let output =
        compress::compress(&png, Target::try_from(1000).unwrap(), &Limits::default()).unwrap();
    assert!(output.bytes.len() <= 1_000_000, "{}", output.bytes.len());
    assert_eq!(output.mime_type, "image/jpeg");
    assert!(output.width < 2000 && output.height < 1500);
    let ratio = f64::from(output.width) / f64::from(output.height);
    assert!((ratio - 4.0 / 3.0).abs() < 0.01, "aspect kept: {ratio}");
    assert_eq!(output.input_format, "PNG");
    assert!(output.encodes <= 6, "{} encodes", output.encodes);
}

#[test]
fn a_transparent_png_compresses_to_a_jpeg_on_white() {
    let mut rgba = RgbaImage::from_pixel(1600, 1200, Rgba([10, 20, 200, 255]));
    for (x, _, pixel) in rgba.enumerate_pixels_mut() {
        if x < 800 {
            *pixel = Rgba([0, 0, 0, 0]);
        }
    }
    let png = encode(&DynamicImage::ImageRgba8(rgba), ImageFormat::Png);
    let output =
        compress::compress(&png, Target::try_from(1000).unwrap(), &Limits::default()).unwrap();
    let result = image::load_from_memory(&output.bytes).unwrap().to_rgb8();
    let white = result.get_pixel(100, 600).0;
    assert!(
        white.iter().all(|&c| c > 245),
        "transparent → white: {white:?}"
    );
    let blue = result.get_pixel(1500, 600).0;
    assert!(blue[2] > 180 && blue[0] < 40, "opaque stays blue: {blue:?}");
}
