//! `image.add_text` with the fonts installed from Debian packages (fonts-dejavu-core,
//! fonts-noto-color-emoji): Cyrillic, Latin and colour emoji drawn where asked, in the colour asked, on
//! the plate asked; automatic contrast; wrapping to the width; the input's format and alpha kept, the
//! EXIF orientation applied; the job through the service; and the refusals (a corrupt file, no fonts).

use std::path::Path;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use image::{DynamicImage, ImageFormat, Rgb, RgbImage, Rgba, RgbaImage};
use imaging::fonts::{FontError, Fonts};
use imaging::ops::add_text::{Spec, add_text, render};
use imaging::pipeline::{ImageError, Limits};
use mediabot_proto::jobs::v1::{
    AddText, FailureReason, Operation, TextPlate, TextPosition, TextSize, job_completed,
};

use crate::helpers::{Outcome, fixture, request, spawn_app};

fn fonts() -> Arc<Fonts> {
    static FONTS: OnceLock<Arc<Fonts>> = OnceLock::new();
    FONTS
        .get_or_init(|| Fonts::load(Path::new("/usr/share/fonts")).expect("fonts installed"))
        .clone()
}

fn jpeg(image: &DynamicImage) -> Vec<u8> {
    imaging::pipeline::encode_jpeg(image, 95).unwrap()
}

fn grey(width: u32, height: u32, level: u8) -> DynamicImage {
    DynamicImage::ImageRgb8(RgbImage::from_pixel(width, height, Rgb([level; 3])))
}

/// Pixels of `image` inside rows `rows` that satisfy `test`.
fn count(image: &RgbImage, rows: std::ops::Range<u32>, test: impl Fn(&Rgb<u8>) -> bool) -> usize {
    image
        .enumerate_pixels()
        .filter(|(_, y, p)| rows.contains(y) && test(p))
        .count()
}

fn near(p: &Rgb<u8>, target: [u8; 3], tolerance: u8) -> bool {
    p.0.iter()
        .zip(target)
        .all(|(a, b)| a.abs_diff(b) <= tolerance)
}

/// Strongly coloured: channels far apart (emoji), not grey, white or black.
fn colourful(p: &Rgb<u8>) -> bool {
    let max = *p.0.iter().max().unwrap();
    let min = *p.0.iter().min().unwrap();
    max - min > 80
}

fn mean_luma(image: &RgbImage, rows: std::ops::Range<u32>) -> f64 {
    let (mut sum, mut n) = (0.0, 0.0);
    for (_, y, p) in image.enumerate_pixels() {
        if rows.contains(&y) {
            sum += 0.299 * f64::from(p[0]) + 0.587 * f64::from(p[1]) + 0.114 * f64::from(p[2]);
            n += 1.0;
        }
    }
    sum / n
}

#[test]
fn yellow_cyrillic_and_emoji_at_the_top_on_a_black_plate() {
    let input = jpeg(&grey(1280, 960, 128));
    let params = AddText {
        size: TextSize::Large as i32,
        color_rgb: Some(0xffff00),
        position: TextPosition::Top as i32,
        plate: TextPlate::Black as i32,
        ..AddText::with_text("Привет, мир! 🎉\nHello 🌍")
    };
    let spec = Spec::try_from(&params).unwrap();
    let output = add_text(&input, &spec, &fonts(), &Limits::default()).unwrap();
    assert_eq!(output.mime_type, "image/jpeg");
    assert_eq!((output.width, output.height), (1280, 960));
    assert!(!output.preview_jpeg.is_empty());
    let result = image::load_from_memory_with_format(&output.bytes, ImageFormat::Jpeg)
        .unwrap()
        .to_rgb8();
    assert_eq!(result.dimensions(), (1280, 960));
    let top = 0..320;
    let rest = 320..960;
    let yellow = count(&result, top.clone(), |p| near(p, [255, 255, 0], 40));
    assert!(yellow > 2000, "yellow text pixels at the top: {yellow}");
    assert_eq!(
        count(&result, rest.clone(), |p| near(p, [255, 255, 0], 60)),
        0
    );
    // The emoji are in colour: pixels that are neither yellow text nor the grey/black background.
    let emoji = count(&result, top.clone(), |p| {
        colourful(p) && !near(p, [255, 255, 0], 90)
    });
    assert!(emoji > 300, "colour emoji pixels: {emoji}");
    // The black plate at 50 % darkens the top, and nothing else changed.
    assert!(
        mean_luma(&result, 96..100) < 100.0,
        "{}",
        mean_luma(&result, 96..100)
    );
    assert!((mean_luma(&result, rest) - 128.0).abs() < 2.0);
}

#[test]
fn the_defaults_put_contrasting_text_at_the_bottom() {
    let (_, dark) = render(grey(800, 600, 30), &spec("Снизу"), &fonts());
    assert_eq!(dark.color, [255, 255, 255]);
    let (image, light) = render(grey(800, 600, 230), &spec("Снизу"), &fonts());
    assert_eq!(light.color, [0, 0, 0]);
    assert_eq!(light.lines, 1);
    // Normal size: 7 % of the shorter side; the block ends 10 % above the bottom edge.
    assert!((light.font_px - 42.0).abs() < 0.01);
    let (_, top, _, bottom) = light.block;
    assert!((539..=541).contains(&bottom), "{:?}", light.block);
    assert!(top > 450);
    let rgb = image.to_rgb8();
    assert!(count(&rgb, top..bottom, |p| p[0] < 40) > 300);
    assert_eq!(count(&rgb, 0..top, |p| p[0] < 200), 0);
}

fn spec(text: &str) -> Spec {
    Spec::try_from(&AddText::with_text(text)).unwrap()
}

#[test]
fn long_text_wraps_to_the_width_and_pixel_sizes_are_kept() {
    let text = "Очень длинная подпись, которая никак не поместится в одну строку на узкой картинке";
    let params = AddText {
        size_px: 48,
        position: TextPosition::Center as i32,
        ..AddText::with_text(text)
    };
    let (_, placed) = render(
        grey(600, 900, 90),
        &Spec::try_from(&params).unwrap(),
        &fonts(),
    );
    assert_eq!(placed.font_px, 48.0);
    assert!(placed.lines >= 3, "{placed:?}");
    let (left, top, right, bottom) = placed.block;
    assert!(left >= 25 && right <= 575, "inside the margins: {placed:?}");
    let middle = (top + bottom) / 2;
    assert!((440..=460).contains(&middle), "centred: {placed:?}");
}

#[test]
fn transparency_is_kept_and_photos_come_out_the_way_up() {
    let mut rgba = RgbaImage::from_pixel(400, 300, Rgba([0, 0, 0, 0]));
    for (x, _, p) in rgba.enumerate_pixels_mut() {
        if x >= 200 {
            *p = Rgba([200, 30, 30, 255]);
        }
    }
    let mut png = Vec::new();
    DynamicImage::ImageRgba8(rgba)
        .write_to(&mut std::io::Cursor::new(&mut png), ImageFormat::Png)
        .unwrap();
    let params = AddText {
        color_rgb: Some(0x0000ff),
        ..AddText::with_text("PNG")
    };
    let output = add_text(
        &png,
        &Spec::try_from(&params).unwrap(),
        &fonts(),
        &Limits::default(),
    )
    .unwrap();
    assert_eq!(output.mime_type, "image/png");
    let result = image::load_from_memory(&output.bytes).unwrap().to_rgba8();
    assert_eq!(
        result.get_pixel(10, 10).0,
        [0, 0, 0, 0],
        "transparent stays transparent"
    );
    assert!(
        result.pixels().any(|p| p.0 == [0, 0, 255, 255]),
        "blue text"
    );

    // EXIF orientation 6: stored landscape, shown portrait; the text goes on the shown picture.
    let photo = fixture("orientation/landscape_6.jpg");
    let stored = image::load_from_memory(&photo).unwrap();
    let output = add_text(&photo, &spec("Поворот"), &fonts(), &Limits::default()).unwrap();
    assert_eq!(
        (output.width, output.height),
        (stored.height(), stored.width())
    );
    assert_eq!(output.mime_type, "image/jpeg");
}

#[test]
fn a_real_photo_gets_its_text() {
    let photo = fixture("iphone6-3264x2448.jpg");
    let params = AddText {
        size: TextSize::Huge as i32,
        color_rgb: Some(0xffffff),
        plate: TextPlate::Black as i32,
        plate_opacity_pct: Some(80),
        ..AddText::with_text("Отпуск 2026 ☀️🏖")
    };
    let started = std::time::Instant::now();
    let output = add_text(
        &photo,
        &Spec::try_from(&params).unwrap(),
        &fonts(),
        &Limits::default(),
    )
    .unwrap();
    eprintln!("3264x2448 photo with text: {:?}", started.elapsed());
    assert_eq!((output.width, output.height), (3264, 2448));
    let result = image::load_from_memory(&output.bytes).unwrap().to_rgb8();
    // The bottom band (text ends 10 % above the edge) holds white text on the dark plate.
    let band = 1700..2203;
    assert!(count(&result, band.clone(), |p| near(p, [255, 255, 255], 20)) > 10_000);
    assert!(
        count(&result, band, colourful) > 1000,
        "the sun and the beach are in colour"
    );
}

#[test]
fn corrupt_files_and_missing_fonts_are_refused() {
    let corrupt = fixture("bad/corrupted.jpg");
    let error = add_text(&corrupt, &spec("x"), &fonts(), &Limits::default()).unwrap_err();
    assert_eq!(error.reason(), FailureReason::CorruptInput, "{error}");
    assert!(matches!(
        add_text(&[], &spec("x"), &fonts(), &Limits::default()),
        Err(ImageError::Empty)
    ));
    let empty = tempfile::tempdir().unwrap();
    let error = Fonts::load(empty.path()).unwrap_err();
    assert!(matches!(error, FontError::NoFonts { .. }));
    assert!(error.to_string().contains("fonts-dejavu-core"), "{error}");
    assert_eq!(fonts().sans_serif(), "DejaVu Sans");
    assert_eq!(fonts().emoji(), Some("Noto Color Emoji"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_service_runs_add_text_jobs() {
    let app = spawn_app().await;
    let job_id = app.put_input(&fixture("canon-40d.jpg")).await;
    let operation = Operation::add_text(AddText {
        position: TextPosition::Top as i32,
        ..AddText::with_text("Canon 📷")
    });
    app.client
        .clone()
        .submit_job(request(&job_id, operation))
        .await
        .unwrap();
    let (outcome, _) = app.wait_outcome(&job_id, Duration::from_secs(60)).await;
    let Outcome::Completed(done) = outcome else {
        panic!("{outcome:?}")
    };
    let Some(job_completed::Result::Image(image)) = done.result else {
        panic!("{done:?}")
    };
    assert_eq!(image.mime_type, "image/jpeg");
    let bytes = app.read_object(&image.output_key).await;
    let result = image::load_from_memory(&bytes).unwrap();
    assert_eq!(
        (result.width(), result.height()),
        (image.width_px, image.height_px)
    );

    // An empty text is refused at submit; a corrupt file fails the job.
    let job_id = app.put_input(&fixture("bad/corrupted.jpg")).await;
    let status = app
        .client
        .clone()
        .submit_job(request(
            &job_id,
            Operation::add_text(AddText::with_text("  ")),
        ))
        .await
        .unwrap_err();
    assert_eq!(status.code(), tonic::Code::InvalidArgument);
    app.client
        .clone()
        .submit_job(request(
            &job_id,
            Operation::add_text(AddText::with_text("x")),
        ))
        .await
        .unwrap();
    let (outcome, _) = app.wait_outcome(&job_id, Duration::from_secs(60)).await;
    let Outcome::Failed(failed) = outcome else {
        panic!("{outcome:?}")
    };
    assert_eq!(failed.reason(), FailureReason::CorruptInput);
}
