//! The image input path under fuzzing: real photos and small files of every other accepted format, each
//! mutated (header and body) by `fuzz_inputs`, go through `pipeline::decode` and `orient` as a job's input
//! does. Every case must end within the deadline with pixels or an `ImageError`: no panic, no abort, no
//! hang; the decoder's pixel limits keep memory bounded. `MEDIABOT_FUZZ_CASES` sets the run's length.

use std::io::Cursor;
use std::sync::LazyLock;
use std::time::Duration;

use image::codecs::gif::GifEncoder;
use image::{DynamicImage, Frame, ImageFormat, Rgba, RgbaImage};
use imaging::pipeline::{Limits, decode, orient};
use proptest::prelude::*;

use crate::helpers::fixture;

/// Generous for a debug build on a busy 2-core machine; a decode of these seeds takes milliseconds.
const DEADLINE: Duration = Duration::from_secs(30);

fn gradient(width: u32, height: u32) -> RgbaImage {
    RgbaImage::from_fn(width, height, |x, y| {
        Rgba([
            (x * 4) as u8,
            (y * 4) as u8,
            ((x + y) * 2) as u8,
            (255 - x) as u8,
        ])
    })
}

fn encoded(image: DynamicImage, format: ImageFormat) -> Vec<u8> {
    let mut bytes = Cursor::new(Vec::new());
    image.write_to(&mut bytes, format).unwrap();
    bytes.into_inner()
}

fn animated_gif() -> Vec<u8> {
    let mut bytes = Vec::new();
    {
        let mut encoder = GifEncoder::new(&mut bytes);
        let frames = (0..3).map(|i| {
            let mut image = gradient(48, 32);
            image.put_pixel(i, i, Rgba([255, 0, 0, 255]));
            Frame::new(image)
        });
        encoder.encode_frames(frames).unwrap();
    }
    bytes
}

/// The seeds: (name, bytes). Real files where the fixtures have them (an EXIF-rotated phone JPEG, a
/// HEIF), small generated ones for the other formats the service accepts.
static SEEDS: LazyLock<Vec<(&'static str, Vec<u8>)>> = LazyLock::new(|| {
    let rgba = DynamicImage::ImageRgba8(gradient(64, 48));
    vec![
        ("landscape_6.jpg", fixture("orientation/landscape_6.jpg")),
        ("samplefilehub.heif", fixture("bad/samplefilehub.heif")),
        ("rgba.png", encoded(rgba.clone(), ImageFormat::Png)),
        (
            "rgba16.png",
            encoded(
                DynamicImage::ImageRgba16(rgba.to_rgba16()),
                ImageFormat::Png,
            ),
        ),
        ("lossless.webp", encoded(rgba.clone(), ImageFormat::WebP)),
        ("animated.gif", animated_gif()),
        (
            "rgb.bmp",
            encoded(DynamicImage::ImageRgb8(rgba.to_rgb8()), ImageFormat::Bmp),
        ),
        ("rgba.tiff", encoded(rgba, ImageFormat::Tiff)),
    ]
});

proptest! {
    #![proptest_config(fuzz_inputs::config())]

    #[test]
    fn mutated_images_decode_or_fail_cleanly(
        seed in 0..SEEDS.len(),
        mutations in fuzz_inputs::mutations(),
    ) {
        let (name, bytes) = &SEEDS[seed];
        let input = fuzz_inputs::apply(bytes, &mutations);
        let outcome = fuzz_inputs::within(DEADLINE, move || {
            decode(&input, &Limits::default(), 1).map(|decoded| {
                let image = orient(decoded);
                (image.width(), image.height())
            })
        });
        match outcome {
            Err(waited) => {
                return Err(TestCaseError::fail(format!("{name}: no result after {waited:?}")));
            }
            Ok(Ok((width, height))) => prop_assert!(width > 0 && height > 0, "{name}: empty image"),
            Ok(Err(error)) => {
                // Every refusal has a reason the user is told, and words to tell.
                let _ = error.reason();
                prop_assert!(!error.to_string().is_empty(), "{name}: an error without a message");
            }
        }
    }
}

#[test]
fn every_seed_decodes_unmutated() {
    for (name, bytes) in SEEDS.iter() {
        let decoded = decode(bytes, &Limits::default(), 1);
        assert!(decoded.is_ok(), "{name}: {:?}", decoded.err());
    }
}
