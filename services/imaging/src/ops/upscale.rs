//! `image.upscale`: Lanczos3 upscale by a factor of 2 or 4 after applying the EXIF orientation, so the
//! result is exactly `factor` × the oriented width and height.
//!
//! The result's pixel count (`factor²` × the input's) is checked against
//! [`Limits::max_output_pixels`] from the header, before anything is decoded: ×4 multiplies the pixels by
//! 16, so a photo small enough for ×2 can be refused for ×4 (`TOO_LARGE`) instead of allocating gigabytes.
//! The result keeps the input's kind: JPEG in → JPEG at [`pipeline::JPEG_QUALITY`]; PNG (with its alpha),
//! WebP, GIF (its first frame; the result says how many frames there were), BMP, TIFF → PNG. It carries a
//! small preview for the document's thumbnail and no metadata.

use mediabot_proto::catalog::UPSCALE_FACTORS;

use crate::pipeline::{self, ImageError, Limits, Output};

/// A scale factor `image.upscale` accepts (see [`UPSCALE_FACTORS`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Factor(u32);

/// A factor that is not 2 or 4.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("upscale factor {0} is not one of 2, 4")]
pub struct InvalidFactor(pub u32);

impl Factor {
    /// ×2.
    pub const X2: Factor = Factor(2);
    /// ×4.
    pub const X4: Factor = Factor(4);

    /// The factor as a number.
    pub fn get(self) -> u32 {
        self.0
    }
}

impl TryFrom<u32> for Factor {
    type Error = InvalidFactor;

    fn try_from(factor: u32) -> Result<Self, InvalidFactor> {
        if UPSCALE_FACTORS.contains(&factor) {
            Ok(Factor(factor))
        } else {
            Err(InvalidFactor(factor))
        }
    }
}

/// Upscales an image to exactly `factor` × its (EXIF-oriented) width and height with Lanczos3.
///
/// The format is sniffed from the bytes; any declared MIME type is ignored. Broken EXIF metadata is
/// ignored (the image is used as stored). Errors: [`ImageError`] — `Empty`/`Corrupt` (CORRUPT_INPUT),
/// `UnsupportedFormat`, `TooManyPixels`/`TooManyOutputPixels`/`OutputTooLarge` (TOO_LARGE).
pub fn upscale(input: &[u8], factor: Factor, limits: &Limits) -> Result<Output, ImageError> {
    let decoded = pipeline::decode(input, limits, factor.get())?;
    let format = pipeline::output_format(&decoded);
    let (input_format, frames) = (decoded.format_name(), decoded.frames);
    let oriented = pipeline::orient(decoded);
    // The preview comes from the input, which is a quarter (or a sixteenth) of the result's size.
    let preview = pipeline::preview_jpeg(&oriented);
    let resized = pipeline::resize(oriented, factor.get())?;
    let mut output = pipeline::finish(&resized, format, limits)?.with_input(input_format, frames);
    output.preview_jpeg = preview.unwrap_or_default();
    Ok(output)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_catalog_factors() {
        assert_eq!(Factor::try_from(2), Ok(Factor::X2));
        assert_eq!(Factor::try_from(4), Ok(Factor::X4));
        assert_eq!(Factor::try_from(3), Err(InvalidFactor(3)));
        assert_eq!(Factor::try_from(0), Err(InvalidFactor(0)));
    }
}
