//! `image.convert`: the image in another format — JPEG, PNG, lossless WebP or lossy WebP — at its own
//! size, the way up (EXIF orientation applied), in sRGB (an embedded ICC profile applied, CMYK made
//! RGB), with no metadata at all (no EXIF, so no GPS position, camera or date; no profile).
//!
//! Inputs: everything [`pipeline::decode`] reads — JPEG, PNG, WebP, GIF, BMP, TIFF, HEIF/HEIC and AVIF;
//! an animation gives its first frame, and the result says so (`first_frame_only`).
//!
//! | target | written with | alpha |
//! | --- | --- | --- |
//! | JPEG | libjpeg-turbo, quality [`pipeline::JPEG_QUALITY`], 4:2:0 | flattened onto white |
//! | PNG | `image`, fast deflate | kept |
//! | WebP lossless | `image` (VP8L) | kept, exactly |
//! | WebP lossy | libwebp, quality [`WEBP_QUALITY`] | kept (lossy-compressed) |

use mediabot_proto::jobs::v1::ConvertTarget;

use crate::pipeline::{self, ImageError, Limits, Output, OutputFormat};

/// libwebp quality of a lossy WebP result (0–100): visually lossless for photos, about a third of a
/// quality-95 JPEG's size.
pub const WEBP_QUALITY: u8 = 90;

/// A format `image.convert` writes (a valid `ConvertTarget`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// JPEG.
    Jpeg,
    /// PNG.
    Png,
    /// Lossless WebP.
    WebPLossless,
    /// Lossy WebP.
    WebPLossy,
}

/// A `ConvertTarget` that names no format (UNSPECIFIED, or a number this build does not know).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("conversion target {0} is not one of jpeg, png, webp_lossless, webp_lossy")]
pub struct InvalidTarget(pub i32);

impl TryFrom<i32> for Target {
    type Error = InvalidTarget;

    /// From the proto's `Convert.target`.
    fn try_from(target: i32) -> Result<Self, InvalidTarget> {
        match ConvertTarget::try_from(target) {
            Ok(ConvertTarget::Jpeg) => Ok(Target::Jpeg),
            Ok(ConvertTarget::Png) => Ok(Target::Png),
            Ok(ConvertTarget::WebpLossless) => Ok(Target::WebPLossless),
            Ok(ConvertTarget::WebpLossy) => Ok(Target::WebPLossy),
            Ok(ConvertTarget::Unspecified) | Err(_) => Err(InvalidTarget(target)),
        }
    }
}

impl Target {
    /// The encoder settings for this target.
    pub fn output_format(self) -> OutputFormat {
        match self {
            Target::Jpeg => OutputFormat::Jpeg(pipeline::JPEG_QUALITY),
            Target::Png => OutputFormat::Png,
            Target::WebPLossless => OutputFormat::WebPLossless,
            Target::WebPLossy => OutputFormat::WebPLossy(WEBP_QUALITY),
        }
    }
}

/// Converts an image to `target` at its own (oriented) size.
///
/// The format is sniffed from the bytes; any declared MIME type is ignored. Errors: [`ImageError`] —
/// `Empty`/`Corrupt` (CORRUPT_INPUT), `UnsupportedFormat`, `TooManyPixels`/`DecoderLimit`/
/// `TooLargeForFormat` (a WebP over 16383 pixels a side)/`OutputTooLarge` (TOO_LARGE), `Encode` (INTERNAL).
pub fn convert(input: &[u8], target: Target, limits: &Limits) -> Result<Output, ImageError> {
    let decoded = pipeline::decode(input, limits, 1)?;
    let (input_format, frames) = (decoded.format_name(), decoded.frames);
    let image = pipeline::orient(decoded);
    let preview = pipeline::preview_jpeg(&image);
    let image = match target {
        Target::Jpeg => pipeline::flatten_on_white(image),
        _ => image,
    };
    let mut output =
        pipeline::finish(&image, target.output_format(), limits)?.with_input(input_format, frames);
    output.preview_jpeg = preview.unwrap_or_default();
    Ok(output)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_named_targets() {
        assert_eq!(Target::try_from(ConvertTarget::Png as i32), Ok(Target::Png));
        assert_eq!(
            Target::try_from(ConvertTarget::WebpLossy as i32),
            Ok(Target::WebPLossy)
        );
        assert_eq!(Target::try_from(0), Err(InvalidTarget(0)));
        assert_eq!(Target::try_from(42), Err(InvalidTarget(42)));
    }
}
