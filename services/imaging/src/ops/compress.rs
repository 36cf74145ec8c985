//! `image.compress`: a JPEG no larger than a target size (1, 2, 4 or 8 MB), at the highest quality that
//! fits, found with few encodes.
//!
//! The original bot walked JPEG quality down from 85 to 50 in steps, one encode per step, then downscaled.
//! Here the size of one encode at quality 85 predicts the size at every other quality through a fixed
//! curve ([`relative_size`]: the size at quality q over the size at 85, measured with libjpeg-turbo on phone
//! photos, which it follows within a few percent); the second encode is at the quality predicted to fit
//! with a small margin. If that one is still too large (an image that does not follow the curve), the
//! prediction is corrected from the second measurement and the quality lowered again. Only if quality
//! [`MIN_QUALITY`] cannot fit is the image downscaled (Lanczos3), by the square root of the remaining size
//! ratio, and encoded at [`MIN_QUALITY`]. The result never exceeds the target: every candidate is measured,
//! and only one that fits is returned.
//!
//! The result is always JPEG (4:2:0; transparency flattened onto white), oriented, with no metadata.

use image::DynamicImage;
use mediabot_proto::catalog::COMPRESS_TARGETS_KB;

use crate::pipeline::{self, ImageError, Limits, Output, OutputFormat};

/// The quality of the first encode, the original bot's starting point.
pub const FIRST_QUALITY: i32 = 85;
/// The highest quality tried when the first encode leaves room.
pub const MAX_QUALITY: i32 = 95;
/// The lowest quality used; below it the image is downscaled instead.
pub const MIN_QUALITY: i32 = 50;
/// Fraction of the target a predicted size aims at, so that prediction errors of a few percent still fit.
const AIM: f64 = 0.96;
/// Smallest side a downscale goes to, pixels.
const MIN_SIDE: u32 = 16;
/// Encodes at most, whatever the image (a bound, not the usual count, which is 1–2).
const MAX_ENCODES: u32 = 12;

/// A target size `image.compress` accepts (see [`COMPRESS_TARGETS_KB`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Target(u32);

/// A target that is not one of [`COMPRESS_TARGETS_KB`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("compression target {0} kB is not one of 1000, 2000, 4000, 8000")]
pub struct InvalidTarget(pub u32);

impl Target {
    /// The target in bytes (kilobytes of 1000 bytes).
    pub fn bytes(self) -> usize {
        self.0 as usize * 1000
    }

    /// The target in kilobytes.
    pub fn kilobytes(self) -> u32 {
        self.0
    }
}

impl TryFrom<u32> for Target {
    type Error = InvalidTarget;

    fn try_from(target_kb: u32) -> Result<Self, InvalidTarget> {
        if COMPRESS_TARGETS_KB.contains(&target_kb) {
            Ok(Target(target_kb))
        } else {
            Err(InvalidTarget(target_kb))
        }
    }
}

/// Size at JPEG quality `quality` relative to the size at [`FIRST_QUALITY`] (libjpeg-turbo, 4:2:0),
/// interpolated linearly between measured points. Measured on the project's phone photos (iPhone 6,
/// Nokia 8.3, the orientation set); they stay within ±5 % of it between 50 and 95.
pub fn relative_size(quality: i32) -> f64 {
    const CURVE: [(i32, f64); 11] = [
        (30, 0.37),
        (40, 0.435),
        (50, 0.50),
        (60, 0.565),
        (70, 0.675),
        (75, 0.745),
        (80, 0.855),
        (85, 1.0),
        (90, 1.35),
        (95, 1.82),
        (100, 3.2),
    ];
    let q = quality.clamp(30, 100);
    CURVE.windows(2).find(|w| q <= w[1].0).map_or(1.0, |w| {
        let ((q0, s0), (q1, s1)) = (w[0], w[1]);
        s0 + (s1 - s0) * f64::from(q - q0) / f64::from(q1 - q0)
    })
}

/// The highest quality in `low..=high` whose size, predicted from a measured `(quality, size)`, is at most
/// `aim` bytes; `None` when even `low` is predicted too large.
fn predict(measured: (i32, usize), aim: f64, low: i32, high: i32) -> Option<i32> {
    let (q0, size0) = measured;
    let per_unit = size0 as f64 / relative_size(q0);
    (low..=high)
        .rev()
        .find(|&q| per_unit * relative_size(q) <= aim)
}

/// Compresses an image to a JPEG of at most `target` bytes (see the module docs).
///
/// Errors: [`ImageError`] — `Empty`/`Corrupt` (CORRUPT_INPUT), `UnsupportedFormat`, `TooManyPixels`
/// (TOO_LARGE), `Encode`/`Resize` (INTERNAL).
pub fn compress(input: &[u8], target: Target, limits: &Limits) -> Result<Output, ImageError> {
    let decoded = pipeline::decode(input, limits, 1)?;
    let (input_format, frames) = (decoded.format_name(), decoded.frames);
    let image = pipeline::flatten_on_white(pipeline::orient(decoded));
    let preview = pipeline::preview_jpeg(&image);
    let mut output = fit(image, target.bytes(), limits)?.with_input(input_format, frames);
    output.preview_jpeg = preview.unwrap_or_default();
    Ok(output)
}

/// The search itself, on an opaque 8-bit image (L8 or Rgb8).
fn fit(image: DynamicImage, target: usize, limits: &Limits) -> Result<Output, ImageError> {
    let aim = target as f64 * AIM;
    let mut encodes = 0;
    let encode = |image: &DynamicImage, quality: i32, encodes: &mut u32| {
        *encodes += 1;
        pipeline::encode_jpeg(image, quality).map(|bytes| (quality, bytes))
    };
    let done = |(quality, bytes): (i32, Vec<u8>), image: &DynamicImage, encodes: u32| {
        let format = OutputFormat::Jpeg(quality);
        let output = Output::new(bytes, format, image.width(), image.height(), limits)?;
        Ok::<_, ImageError>(Output { encodes, ..output })
    };

    let first = encode(&image, FIRST_QUALITY, &mut encodes)?;
    let first_size = first.1.len();
    if first_size <= target {
        // Room to spare: one try at the best quality predicted to fit, else keep the first.
        let better = predict(
            (FIRST_QUALITY, first_size),
            aim,
            FIRST_QUALITY + 1,
            MAX_QUALITY,
        );
        if let Some(quality) = better {
            let second = encode(&image, quality, &mut encodes)?;
            if second.1.len() <= target {
                return done(second, &image, encodes);
            }
        }
        return done(first, &image, encodes);
    }

    // Too large at 85: walk down by prediction, correcting from the latest measurement each time.
    let mut measured = (FIRST_QUALITY, first_size);
    while encodes < MAX_ENCODES {
        let Some(quality) = predict(measured, aim, MIN_QUALITY, measured.0 - 1) else {
            break;
        };
        let candidate = encode(&image, quality, &mut encodes)?;
        if candidate.1.len() <= target {
            return done(candidate, &image, encodes);
        }
        measured = (quality, candidate.1.len());
        if quality == MIN_QUALITY {
            break;
        }
    }

    // Quality 50 is not enough: downscale, encoding at 50, until it fits.
    let per_unit = measured.1 as f64 / relative_size(measured.0);
    let mut size_at_min = per_unit * relative_size(MIN_QUALITY);
    let (mut width, mut height) = (image.width(), image.height());
    let mut current = image;
    while encodes < MAX_ENCODES {
        // JPEG size falls a little slower than the pixel count, hence the margin on top of `aim`.
        let scale = (aim / size_at_min).sqrt().min(0.95) * 0.98;
        let next = |side: u32| ((f64::from(side) * scale).floor() as u32).max(MIN_SIDE);
        (width, height) = (next(width), next(height));
        // Always from the previous, larger image: each round only shrinks further.
        current = pipeline::resize_to(current, width, height)?;
        let candidate = encode(&current, MIN_QUALITY, &mut encodes)?;
        if candidate.1.len() <= target {
            return done(candidate, &current, encodes);
        }
        size_at_min = candidate.1.len() as f64;
        if width == MIN_SIDE || height == MIN_SIDE {
            break;
        }
    }
    Err(ImageError::OutputTooLarge {
        size: size_at_min as usize,
        max: target,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_catalog_targets() {
        assert_eq!(Target::try_from(2000).map(Target::bytes), Ok(2_000_000));
        assert_eq!(Target::try_from(1500), Err(InvalidTarget(1500)));
    }

    #[test]
    fn the_curve_is_monotonic_and_anchored_at_85() {
        assert!((relative_size(FIRST_QUALITY) - 1.0).abs() < 1e-9);
        for q in 31..=100 {
            assert!(relative_size(q) > relative_size(q - 1), "{q}");
        }
        // 2 MB at 85 → aiming at 1 MB needs about 0.5 of it: quality 50.
        assert_eq!(predict((85, 2_000_000), 1_000_000.0, 50, 84), Some(50));
        assert_eq!(predict((85, 2_000_000), 900_000.0, 50, 84), None);
        assert_eq!(predict((85, 1_000_000), 1_900_000.0, 86, 95), Some(95));
    }
}
