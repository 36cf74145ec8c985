//! The facts of an image (`facts::describe` and the `Imaging/Describe` RPC) on the real fixtures and on
//! files made here for what the fixtures lack: 16-bit, palette, alpha, CMYK, animation, HEIC, bombs.

use std::io::Cursor;

use image::{DynamicImage, ImageEncoder, Rgba, RgbaImage};
use imaging::facts::describe;
use imaging::pipeline::ImageError;
use mediabot_proto::imaging::v1::imaging_client::ImagingClient;
use mediabot_proto::imaging::v1::{ColorModel, DescribeRequest, ImageFacts};
use tonic::Code;

use crate::helpers::{fixture, spawn_app};

fn facts(bytes: &[u8]) -> ImageFacts {
    describe(bytes).unwrap_or_else(|e| panic!("described: {e}"))
}

fn model(facts: &ImageFacts) -> ColorModel {
    ColorModel::try_from(facts.color_model).unwrap()
}

#[test]
fn a_phone_photo_with_gps_names_its_camera_date_and_position() {
    let bytes = fixture("nokia-8.3-4608x1976.jpg");
    let facts = facts(&bytes);
    assert_eq!(facts.format, "JPEG");
    assert_eq!((facts.width_px, facts.height_px), (4608, 1976));
    assert_eq!(model(&facts), ColorModel::Rgb);
    assert_eq!(facts.bits_per_channel, 8);
    assert_eq!(facts.size_bytes, bytes.len() as u64);
    assert_eq!(facts.frames, 1);
    assert_eq!(facts.camera_make, "HMD Global");
    assert_eq!(facts.camera_model, "Nokia 8.3 5G");
    assert_eq!(facts.taken_at, "2022-08-14 14:12:31");
    assert!(facts.has_gps);

    let canon = self::facts(&fixture("canon-40d.jpg"));
    assert_eq!(
        (canon.camera_make.as_str(), canon.camera_model.as_str()),
        ("Canon", "Canon EOS 40D")
    );
    assert!(canon.taken_at.starts_with("2008-"), "{}", canon.taken_at);
    assert!(!canon.has_gps);
}

#[test]
fn sizes_are_as_a_viewer_shows_them_whatever_the_orientation_tag() {
    let upright = facts(&fixture("orientation/landscape_1.jpg"));
    for (name, tag) in [
        ("landscape_1", 1),
        ("landscape_3", 3),
        ("landscape_6", 6),
        ("landscape_8", 8),
    ] {
        let facts = facts(&fixture(&format!("orientation/{name}.jpg")));
        assert_eq!(facts.exif_orientation, tag, "{name}");
        assert_eq!(
            (facts.width_px, facts.height_px),
            (upright.width_px, upright.height_px),
            "{name}"
        );
    }
    assert!(upright.width_px > upright.height_px, "a landscape");
}

fn png(image: &DynamicImage) -> Vec<u8> {
    let mut out = Vec::new();
    image
        .write_to(&mut Cursor::new(&mut out), image::ImageFormat::Png)
        .unwrap();
    out
}

#[test]
fn colour_models_and_bit_depths_of_made_files() {
    let rgba16 = DynamicImage::ImageRgba16(image::ImageBuffer::from_pixel(
        30,
        20,
        Rgba([1u16, 2, 3, 4]),
    ));
    let facts16 = facts(&png(&rgba16));
    assert_eq!(
        (
            facts16.format.as_str(),
            model(&facts16),
            facts16.bits_per_channel
        ),
        ("PNG", ColorModel::Rgba, 16)
    );
    assert_eq!((facts16.width_px, facts16.height_px), (30, 20));
    assert_eq!(facts16.exif_orientation, 0);
    assert!(facts16.camera_make.is_empty() && facts16.taken_at.is_empty() && !facts16.has_gps);

    let grey = facts(&png(&DynamicImage::ImageLuma8(image::GrayImage::new(8, 8))));
    assert_eq!(
        (model(&grey), grey.bits_per_channel),
        (ColorModel::Grayscale, 8)
    );

    // A palette PNG, 4 bits per index, written by the png crate.
    let mut palette = Vec::new();
    let mut encoder = png::Encoder::new(&mut palette, 16, 4);
    encoder.set_color(png::ColorType::Indexed);
    encoder.set_depth(png::BitDepth::Four);
    encoder.set_palette(vec![0, 0, 0, 255, 255, 255]);
    encoder
        .write_header()
        .unwrap()
        .write_image_data(&[0x01; 32])
        .unwrap();
    let indexed = facts(&palette);
    assert_eq!(
        (model(&indexed), indexed.bits_per_channel),
        (ColorModel::Palette, 4)
    );

    // CMYK from libjpeg-turbo.
    let pixels = vec![0u8; 16 * 8 * 4];
    let mut compressor = turbojpeg::Compressor::new().unwrap();
    compressor
        .set_colorspace(turbojpeg::Colorspace::CMYK)
        .unwrap();
    let cmyk = compressor
        .compress_to_vec(turbojpeg::Image {
            pixels: &pixels[..],
            width: 16,
            pitch: 64,
            height: 8,
            format: turbojpeg::PixelFormat::CMYK,
        })
        .unwrap();
    assert_eq!(model(&facts(&cmyk)), ColorModel::Cmyk);

    // Lossless WebP with alpha, and a profile-tagged PNG.
    let mut webp = Vec::new();
    image::codecs::webp::WebPEncoder::new_lossless(&mut webp)
        .write_image(
            RgbaImage::new(10, 10).as_raw(),
            10,
            10,
            image::ExtendedColorType::Rgba8,
        )
        .unwrap();
    let webp = facts(&webp);
    assert_eq!(
        (webp.format.as_str(), model(&webp)),
        ("WebP", ColorModel::Rgba)
    );
    let p3 = moxcms::ColorProfile::new_display_p3().encode().unwrap();
    let mut tagged = Vec::new();
    let mut encoder = image::codecs::png::PngEncoder::new(&mut tagged);
    image::ImageEncoder::set_icc_profile(&mut encoder, p3).unwrap();
    encoder
        .write_image(&[9u8; 4 * 4 * 3], 4, 4, image::ExtendedColorType::Rgb8)
        .unwrap();
    assert!(facts(&tagged).has_icc_profile);
    assert!(!facts(&png(&rgba16)).has_icc_profile);
}

#[test]
fn an_animated_gif_counts_its_frames_and_a_heic_is_read_from_its_container() {
    let frame = |c: u8| image::Frame::new(RgbaImage::from_pixel(40, 30, Rgba([c, 0, 0, 255])));
    let mut gif = Vec::new();
    image::codecs::gif::GifEncoder::new(&mut gif)
        .encode_frames([frame(10), frame(100), frame(200), frame(250)])
        .unwrap();
    let gif = facts(&gif);
    assert_eq!(
        (gif.format.as_str(), gif.frames, model(&gif)),
        ("GIF", 4, ColorModel::Palette)
    );
    assert_eq!((gif.width_px, gif.height_px), (40, 30));

    let heic = facts(&fixture("bad/samplefilehub.heif"));
    assert!(
        ["HEIC", "HEIF"].contains(&heic.format.as_str()),
        "{}",
        heic.format
    );
    assert!(heic.width_px > 0 && heic.height_px > 0);
    assert_eq!(heic.frames, 1);
}

#[test]
fn bombs_are_described_without_decoding_and_bad_files_are_refused() {
    // The Canon JPEG's frame header bent to 60000×60000 (3.6 gigapixels): described, nothing allocated.
    let mut bomb = fixture("canon-40d.jpg");
    // The last SOF0 is the main image's (the first is the EXIF thumbnail's).
    let sof = bomb
        .windows(2)
        .rposition(|w| w == [0xFF, 0xC0])
        .expect("a baseline frame header");
    bomb[sof + 5..sof + 9].copy_from_slice(&[0xEA, 0x60, 0xEA, 0x60]);
    let facts = facts(&bomb);
    assert_eq!((facts.width_px, facts.height_px), (60000, 60000));

    assert!(matches!(describe(&[]), Err(ImageError::Empty)));
    assert!(matches!(
        describe(b"%PDF-1.7 ..."),
        Err(ImageError::UnsupportedFormat(_))
    ));
    let corrupt = fixture("bad/corrupted.jpg");
    let truncated = &fixture("iphone6-3264x2448.jpg")[..100];
    for bad in [
        &corrupt[..],
        truncated,
        &png(&DynamicImage::new_rgb8(4, 4))[..20],
    ] {
        if let Ok(facts) = describe(bad) {
            // A header that survives may be described; what is said must still be sane.
            assert!(facts.width_px > 0 && facts.height_px > 0, "{facts:?}");
        }
    }
    // Broken EXIF loses the EXIF facts only.
    let broken = self::facts(&fixture("bad/invalid-image01137.jpg"));
    assert_eq!(broken.format, "JPEG");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_describe_rpc_answers_facts_and_invalid_argument() {
    let app = spawn_app().await;
    let mut client = ImagingClient::new(app.channel.clone()).max_encoding_message_size(32 << 20);
    let bytes = fixture("nokia-8.3-4608x1976.jpg");
    let facts = client
        .describe(DescribeRequest {
            image: bytes.clone(),
        })
        .await
        .expect("described")
        .into_inner();
    assert_eq!(
        (facts.width_px, facts.height_px, facts.size_bytes),
        (4608, 1976, bytes.len() as u64)
    );
    assert!(facts.has_gps);
    let refused = client
        .describe(DescribeRequest {
            image: b"%PDF-1.4".to_vec(),
        })
        .await
        .expect_err("a PDF is not an image");
    assert_eq!(refused.code(), Code::InvalidArgument);
    assert!(refused.message().contains("PDF"), "{}", refused.message());
    let too_big = client
        .describe(DescribeRequest {
            image: vec![0xFF; 25 << 20],
        })
        .await
        .expect_err("over 24 MiB");
    assert!(
        matches!(
            too_big.code(),
            Code::InvalidArgument | Code::OutOfRange | Code::ResourceExhausted
        ),
        "{too_big:?}"
    );
}
