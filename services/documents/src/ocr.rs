//! Text from pictures: what a phone photo of a page needs before Tesseract, then Tesseract 5 (Debian's
//! libtesseract, through the `tesseract` crate) with the Russian and English models.
//!
//! Preprocessing ([`prepare`]), in order:
//! 1. the pixel count is checked from the header before decoding ([`Limits::max_image_pixels`]);
//! 2. the EXIF orientation is applied (a phone stores portrait photos sideways with a tag);
//! 3. grayscale (Tesseract binarises luminance anyway; one byte a pixel is a third of the memory);
//! 4. deskew: the angle in ±[`MAX_SKEW_DEGREES`] whose horizontal projection profile of dark pixels is the
//!    sharpest (the sum of squared row counts is largest when text lines are horizontal), found on a copy
//!    at most [`ANALYSIS_WIDTH`] wide, binarised with Otsu's threshold; the photo is then rotated back
//!    (bilinear, white outside);
//! 5. upscaling small text: the text-line height is the median height of the runs of inked rows in that
//!    profile; Tesseract reads best at 20–30 px x-height (about 300 dpi for body text), so lines under
//!    [`MIN_LINE_PX`] are enlarged to [`TARGET_LINE_PX`] (Catmull-Rom), by at most 4×.
//!
//! Tesseract instances are expensive to start (loading `rus.traineddata` and `eng.traineddata` takes
//! about as long as reading a page), so [`OcrEngine`] keeps started ones per language set and reuses them.

use std::collections::HashMap;
use std::io::Cursor;
use std::sync::Mutex;

use image::imageops::FilterType;
use image::{DynamicImage, GrayImage, ImageDecoder as _, ImageReader, Luma};
use tesseract::Tesseract;

use crate::extract::{ExtractError, Extracted, Limits, tidy};

/// Largest skew corrected, degrees either way; a photo more crooked than that is retaken.
pub const MAX_SKEW_DEGREES: f32 = 6.0;
/// Step of the skew search, degrees.
const SKEW_STEP_DEGREES: f32 = 0.1;
/// Width of the copy the skew and the line height are measured on, pixels.
pub const ANALYSIS_WIDTH: u32 = 1000;
/// Text lines lower than this (pixels, in the photo) are enlarged.
pub const MIN_LINE_PX: f32 = 36.0;
/// The line height small text is enlarged to, pixels.
pub const TARGET_LINE_PX: f32 = 48.0;
/// Most an image is enlarged.
const MAX_UPSCALE: f32 = 4.0;

/// Started Tesseract instances, reused across jobs, per language set (`rus+eng`).
pub struct OcrEngine {
    datapath: Option<String>,
    idle: Mutex<HashMap<String, Vec<Tesseract>>>,
}

impl std::fmt::Debug for OcrEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OcrEngine")
            .field("datapath", &self.datapath)
            .finish_non_exhaustive()
    }
}

/// What [`prepare`] did to a picture, for logs and the bench.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Prepared {
    /// The skew corrected, degrees (positive: the text rose to the right).
    pub skew_degrees: f32,
    /// The median text-line height measured, pixels of the oriented photo; 0 when no lines were found.
    pub line_height_px: f32,
    /// The factor the picture was enlarged by (1 when not).
    pub scale: f32,
}

impl OcrEngine {
    /// An engine reading models from `datapath` (Tesseract's own default when `None`). Nothing is started
    /// until the first use or [`check`](Self::check).
    pub fn new(datapath: Option<String>) -> Self {
        Self {
            datapath,
            idle: Mutex::new(HashMap::new()),
        }
    }

    /// Starts Tesseract with Russian and English once (and keeps it for the first job). Errors: why it
    /// cannot start (a model missing), in English, for the operator.
    pub fn check(&self) -> Result<(), String> {
        let tesseract = self.take("rus+eng").map_err(|e| e.to_string())?;
        self.give_back("rus+eng", tesseract);
        Ok(())
    }

    fn take(&self, languages: &str) -> Result<Tesseract, ExtractError> {
        let idle = self
            .idle
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .get_mut(languages)
            .and_then(Vec::pop);
        match idle {
            Some(tesseract) => Ok(tesseract),
            None => Tesseract::new(self.datapath.as_deref(), Some(languages)).map_err(|e| {
                ExtractError::Ocr(format!("starting Tesseract with {languages}: {e}"))
            }),
        }
    }

    fn give_back(&self, languages: &str, tesseract: Tesseract) {
        self.idle
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .entry(languages.to_string())
            .or_default()
            .push(tesseract);
    }

    /// Recognises the text of a prepared grayscale picture in `languages` (`rus+eng`). Errors:
    /// [`ExtractError::Ocr`] when Tesseract fails.
    pub fn recognize(&self, picture: &GrayImage, languages: &str) -> Result<String, ExtractError> {
        let tesseract = self.take(languages)?;
        let (width, height) = picture.dimensions();
        let (width, height) = (
            i32::try_from(width).map_err(|_| ExtractError::TooLarge("image width".into()))?,
            i32::try_from(height).map_err(|_| ExtractError::TooLarge("image height".into()))?,
        );
        let failed = |e: &dyn std::fmt::Display| ExtractError::Ocr(e.to_string());
        let mut tesseract = tesseract
            .set_frame(picture.as_raw(), width, height, 1, width)
            .map_err(|e| failed(&e))?
            .set_source_resolution(300)
            .recognize()
            .map_err(|e| failed(&e))?;
        let text = tesseract.get_text().map_err(|e| failed(&e))?;
        self.give_back(languages, tesseract);
        Ok(text)
    }

    /// The text of an image file (`image.ocr`, and images sent for `document.text`): decoded, prepared
    /// ([`prepare`]) and recognised. Errors: [`ExtractError::Corrupt`] for an unreadable image,
    /// [`ExtractError::TooLarge`] beyond the pixel limit, [`ExtractError::Ocr`].
    pub fn recognize_image(
        &self,
        bytes: &[u8],
        languages: &str,
        limits: &Limits,
    ) -> Result<Extracted, ExtractError> {
        let oriented = decode(bytes, limits)?;
        let (picture, prepared) = prepare(oriented.to_luma8(), limits);
        drop(oriented);
        tracing::debug!(?prepared, "picture prepared for OCR");
        let text = self.recognize(&picture, languages)?;
        Ok(Extracted {
            text: tidy(&text),
            pages: 1,
            ocr_pages: 0,
            encoding: String::new(),
        })
    }
}

/// Decodes an image file with its EXIF orientation applied. Errors: corrupt or unsupported image,
/// [`ExtractError::TooLarge`] (checked from the header, before decoding).
pub fn decode(bytes: &[u8], limits: &Limits) -> Result<DynamicImage, ExtractError> {
    let corrupt = |e: image::ImageError| ExtractError::Corrupt(format!("image: {e}"));
    let reader = || {
        ImageReader::new(Cursor::new(bytes))
            .with_guessed_format()
            .map_err(|e| ExtractError::Corrupt(format!("image: {e}")))
    };
    let (width, height) = reader()?.into_dimensions().map_err(corrupt)?;
    if u64::from(width) * u64::from(height) > limits.max_image_pixels {
        return Err(ExtractError::TooLarge(format!(
            "an image of {width}×{height} pixels (at most {})",
            limits.max_image_pixels
        )));
    }
    let mut decoder = reader()?.into_decoder().map_err(corrupt)?;
    let orientation = decoder.orientation().map_err(corrupt)?;
    let mut image = DynamicImage::from_decoder(decoder).map_err(corrupt)?;
    image.apply_orientation(orientation);
    Ok(image)
}

/// Deskews a grayscale picture and enlarges small text (see the module docs), within the pixel limit.
pub fn prepare(gray: GrayImage, limits: &Limits) -> (GrayImage, Prepared) {
    let (width, height) = gray.dimensions();
    let analysis_scale = (ANALYSIS_WIDTH as f32 / width.max(1) as f32).min(1.0);
    let small = if analysis_scale < 1.0 {
        image::imageops::resize(
            &gray,
            ANALYSIS_WIDTH,
            ((height as f32 * analysis_scale).round() as u32).max(1),
            FilterType::Triangle,
        )
    } else {
        gray.clone()
    };
    let ink = dark_pixels(&small);
    let skew = best_skew(&ink, small.height());
    let line_height = line_height(&ink, skew, small.height()) / analysis_scale;
    let rotated = if skew.abs() >= 0.2 {
        rotate(&gray, skew)
    } else {
        gray
    };
    let mut scale = 1.0;
    if line_height > 0.0 && line_height < MIN_LINE_PX {
        scale = (TARGET_LINE_PX / line_height).min(MAX_UPSCALE);
        let pixels = f64::from(rotated.width()) * f64::from(rotated.height());
        let room = (limits.max_image_pixels as f64 / pixels).sqrt() as f32;
        scale = scale.min(room.max(1.0));
    }
    let picture = if scale > 1.05 {
        let (w, h) = rotated.dimensions();
        image::imageops::resize(
            &rotated,
            (w as f32 * scale).round() as u32,
            (h as f32 * scale).round() as u32,
            FilterType::CatmullRom,
        )
    } else {
        scale = 1.0;
        rotated
    };
    (
        picture,
        Prepared {
            skew_degrees: skew,
            line_height_px: line_height,
            scale,
        },
    )
}

/// Otsu's threshold of a grayscale histogram: the level that best separates ink from paper.
fn otsu(gray: &GrayImage) -> u8 {
    let mut histogram = [0u64; 256];
    for pixel in gray.pixels() {
        histogram[usize::from(pixel.0[0])] += 1;
    }
    let total: u64 = histogram.iter().sum();
    let sum_all: f64 = histogram
        .iter()
        .enumerate()
        .map(|(level, &count)| level as f64 * count as f64)
        .sum();
    let (mut weight_dark, mut sum_dark) = (0u64, 0f64);
    let (mut best, mut best_variance) = (127u8, 0f64);
    for (level, &count) in histogram.iter().enumerate() {
        weight_dark += count;
        if weight_dark == 0 {
            continue;
        }
        let weight_light = total - weight_dark;
        if weight_light == 0 {
            break;
        }
        sum_dark += level as f64 * count as f64;
        let mean_dark = sum_dark / weight_dark as f64;
        let mean_light = (sum_all - sum_dark) / weight_light as f64;
        let variance = weight_dark as f64 * weight_light as f64 * (mean_dark - mean_light).powi(2);
        if variance > best_variance {
            best_variance = variance;
            best = u8::try_from(level).unwrap_or(u8::MAX);
        }
    }
    best
}

/// The coordinates of the ink (pixels at or below Otsu's threshold, the dark class it separates), at most
/// about 200 000 of them.
fn dark_pixels(gray: &GrayImage) -> Vec<(f32, f32)> {
    let threshold = otsu(gray);
    let dark = gray.pixels().filter(|p| p.0[0] <= threshold).count();
    // A page is mostly paper; more ink than paper means the threshold found no text.
    if dark == 0 || dark * 2 > gray.pixels().len() {
        return Vec::new();
    }
    let step = dark.div_ceil(200_000);
    gray.enumerate_pixels()
        .filter(|(_, _, p)| p.0[0] <= threshold)
        .step_by(step)
        .map(|(x, y, _)| (x as f32, y as f32))
        .collect()
}

/// The row profile of `ink` seen at `degrees`: counts per row of y·cos θ − x·sin θ.
fn profile(ink: &[(f32, f32)], degrees: f32, height: u32) -> Vec<u32> {
    let (sin, cos) = degrees.to_radians().sin_cos();
    let margin = height as f32; // rotated rows may go above 0
    let mut rows = vec![0u32; (height as usize) * 3 + 1];
    for &(x, y) in ink {
        let row = (y * cos - x * sin + margin).round();
        if row >= 0.0
            && let Some(count) = rows.get_mut(row as usize)
        {
            *count += 1;
        }
    }
    rows
}

/// The skew of the text lines in degrees: the angle whose profile is sharpest; 0 without ink.
fn best_skew(ink: &[(f32, f32)], height: u32) -> f32 {
    if ink.len() < 100 {
        return 0.0;
    }
    let steps = (MAX_SKEW_DEGREES / SKEW_STEP_DEGREES).round() as i32;
    let mut best = (0.0f32, 0u64);
    for step in -steps..=steps {
        let degrees = step as f32 * SKEW_STEP_DEGREES;
        let score: u64 = profile(ink, degrees, height)
            .iter()
            .map(|&c| u64::from(c) * u64::from(c))
            .sum();
        if score > best.1 {
            best = (degrees, score);
        }
    }
    best.0
}

/// The median height of the runs of inked rows of the profile at `degrees`, pixels of the analysed copy;
/// 0 when there are none.
fn line_height(ink: &[(f32, f32)], degrees: f32, height: u32) -> f32 {
    if ink.len() < 100 {
        return 0.0;
    }
    let rows = profile(ink, degrees, height);
    let peak = rows.iter().copied().max().unwrap_or(0);
    // Rows with a tenth of the busiest row's ink belong to a line; fewer is noise or a descender.
    let floor = (peak / 10).max(1);
    let mut runs = Vec::new();
    let mut run = 0u32;
    for &count in &rows {
        if count >= floor {
            run += 1;
        } else if run > 0 {
            runs.push(run);
            run = 0;
        }
    }
    if run > 0 {
        runs.push(run);
    }
    runs.retain(|&r| r >= 3);
    if runs.is_empty() {
        return 0.0;
    }
    runs.sort_unstable();
    runs[runs.len() / 2] as f32
}

/// `gray` rotated so that text sloping by `degrees` becomes horizontal (bilinear; white outside).
fn rotate(gray: &GrayImage, degrees: f32) -> GrayImage {
    let (width, height) = gray.dimensions();
    let (sin, cos) = degrees.to_radians().sin_cos();
    let (cx, cy) = (width as f32 / 2.0, height as f32 / 2.0);
    let sample = |x: i64, y: i64| -> f32 {
        if x < 0 || y < 0 || x >= i64::from(width) || y >= i64::from(height) {
            255.0
        } else {
            f32::from(gray.get_pixel(x as u32, y as u32).0[0])
        }
    };
    GrayImage::from_fn(width, height, |xo, yo| {
        let (dx, dy) = (xo as f32 - cx, yo as f32 - cy);
        let xs = dx * cos - dy * sin + cx;
        let ys = dx * sin + dy * cos + cy;
        let (x0, y0) = (xs.floor(), ys.floor());
        let (fx, fy) = (xs - x0, ys - y0);
        let (x0, y0) = (x0 as i64, y0 as i64);
        let top = sample(x0, y0) * (1.0 - fx) + sample(x0 + 1, y0) * fx;
        let bottom = sample(x0, y0 + 1) * (1.0 - fx) + sample(x0 + 1, y0 + 1) * fx;
        Luma([(top * (1.0 - fy) + bottom * fy).round().clamp(0.0, 255.0) as u8])
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A white page with black bars of `line` pixels every `period` rows, sloping by `degrees`.
    fn page(degrees: f32, line: u32, period: u32) -> GrayImage {
        let slope = degrees.to_radians().tan();
        GrayImage::from_fn(800, 600, |x, y| {
            let y = y as f32 - x as f32 * slope;
            let inside = x > 50 && x < 750 && y > 40.0 && y < 560.0;
            let phase = (y as i64).rem_euclid(i64::from(period)) as u32;
            Luma([if inside && phase < line { 0 } else { 255 }])
        })
    }

    #[test]
    fn skew_is_found_and_corrected() {
        let limits = Limits::default();
        for degrees in [-3.0f32, 0.0, 2.5] {
            let (_, prepared) = prepare(page(degrees, 12, 40), &limits);
            assert!(
                (prepared.skew_degrees - degrees).abs() <= 0.2,
                "{degrees}: {prepared:?}"
            );
        }
    }

    #[test]
    fn small_text_is_enlarged() {
        let limits = Limits::default();
        let (picture, prepared) = prepare(page(0.0, 12, 40), &limits);
        assert!(
            (prepared.line_height_px - 12.0).abs() <= 2.0,
            "{prepared:?}"
        );
        assert_eq!(prepared.scale, MAX_UPSCALE);
        assert_eq!(picture.width(), 3200);
        let (_, big) = prepare(page(0.0, 60, 120), &limits);
        assert_eq!(big.scale, 1.0);
    }
}
