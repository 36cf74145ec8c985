//! What a generated picture is before it becomes the job's result: its format sniffed from the bytes
//! (`image::guess_format`), its size read from the header and checked (at most [`MAX_PIXELS`]) before it is
//! decoded, and a JPEG preview of at most [`PREVIEW_MAX_SIDE`] px a side for the document's thumbnail. A
//! picture that fails any of this is the model's failure, and the chain moves on.

use std::io::Cursor;

use image::codecs::jpeg::JpegEncoder;
use image::{DynamicImage, ImageFormat, ImageReader, Limits};

/// The most pixels a result may have (64 MP); a larger one is refused before decoding.
pub const MAX_PIXELS: u64 = 64_000_000;
/// The longest side of the preview, pixels (Telegram's thumbnail limit).
pub const PREVIEW_MAX_SIDE: u32 = 320;
/// JPEG quality of the preview.
pub const PREVIEW_QUALITY: u8 = 80;

/// Why a picture is unusable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PictureError {
    /// Not a picture format the service reads.
    #[error("not a known picture format")]
    UnknownFormat,
    /// Over [`MAX_PIXELS`].
    #[error("{width}x{height} is over {MAX_PIXELS} pixels")]
    TooLarge {
        /// Width, pixels.
        width: u32,
        /// Height, pixels.
        height: u32,
    },
    /// The header or the pixels do not decode.
    #[error("does not decode: {0}")]
    Corrupt(String),
    /// The preview could not be encoded.
    #[error("preview: {0}")]
    Preview(String),
}

/// The facts of a picture.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Picture {
    /// `image/png`, `image/jpeg`, `image/webp`, ...
    pub mime_type: String,
    /// Width, pixels.
    pub width: u32,
    /// Height, pixels.
    pub height: u32,
    /// A JPEG of at most [`PREVIEW_MAX_SIDE`] px a side, transparency shown on white.
    pub preview_jpeg: Vec<u8>,
}

/// Sniffs, measures and decodes `bytes`, and makes the preview. Blocking (decoding a 2048 px picture
/// takes tens of milliseconds).
pub fn probe(bytes: &[u8]) -> Result<Picture, PictureError> {
    let format = image::guess_format(bytes).map_err(|_| PictureError::UnknownFormat)?;
    let reader = || ImageReader::with_format(Cursor::new(bytes), format);
    let (width, height) = reader()
        .into_dimensions()
        .map_err(|e| PictureError::Corrupt(e.to_string()))?;
    if u64::from(width) * u64::from(height) > MAX_PIXELS {
        return Err(PictureError::TooLarge { width, height });
    }
    let mut reader = reader();
    let mut limits = Limits::default();
    // The header's size was checked; this bounds what a lying header could make the decoder allocate.
    limits.max_alloc = Some(MAX_PIXELS * 8 + (64 << 20));
    reader.limits(limits);
    let image = reader
        .decode()
        .map_err(|e| PictureError::Corrupt(e.to_string()))?;
    Ok(Picture {
        mime_type: mime_type(format).to_string(),
        width,
        height,
        preview_jpeg: preview_jpeg(&image)?,
    })
}

fn mime_type(format: ImageFormat) -> &'static str {
    format.to_mime_type()
}

/// A JPEG of at most [`PREVIEW_MAX_SIDE`] px a side, alpha composed over white.
pub fn preview_jpeg(image: &DynamicImage) -> Result<Vec<u8>, PictureError> {
    let small = if image.width().max(image.height()) > PREVIEW_MAX_SIDE {
        image.thumbnail(PREVIEW_MAX_SIDE, PREVIEW_MAX_SIDE)
    } else {
        image.clone()
    };
    let mut rgb = image::RgbImage::new(small.width(), small.height());
    for (x, y, pixel) in small.to_rgba8().enumerate_pixels() {
        let [r, g, b, a] = pixel.0;
        let over_white = |c: u8| -> u8 {
            let (c, a) = (u32::from(c), u32::from(a));
            ((c * a + 255 * (255 - a) + 127) / 255) as u8
        };
        rgb.put_pixel(
            x,
            y,
            image::Rgb([over_white(r), over_white(g), over_white(b)]),
        );
    }
    let mut jpeg = Vec::new();
    JpegEncoder::new_with_quality(&mut jpeg, PREVIEW_QUALITY)
        .encode_image(&rgb)
        .map_err(|e| PictureError::Preview(e.to_string()))?;
    Ok(jpeg)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests fail loudly")]

    use super::*;

    fn png(width: u32, height: u32, alpha: u8) -> Vec<u8> {
        let image = image::RgbaImage::from_pixel(width, height, image::Rgba([10, 20, 30, alpha]));
        let mut bytes = Vec::new();
        DynamicImage::from(image)
            .write_to(&mut Cursor::new(&mut bytes), ImageFormat::Png)
            .unwrap();
        bytes
    }

    #[test]
    fn probes_and_previews() {
        let picture = probe(&png(1472, 2048, 0)).unwrap();
        assert_eq!(picture.mime_type, "image/png");
        assert_eq!((picture.width, picture.height), (1472, 2048));
        let preview = image::load_from_memory(&picture.preview_jpeg).unwrap();
        assert_eq!(
            image::guess_format(&picture.preview_jpeg).unwrap(),
            ImageFormat::Jpeg
        );
        assert_eq!((preview.width(), preview.height()), (230, 320));
        // Fully transparent is white in the preview.
        assert!(preview.to_rgb8().get_pixel(5, 5).0.iter().all(|&c| c > 245));
        let small = probe(&png(100, 50, 255)).unwrap();
        let preview = image::load_from_memory(&small.preview_jpeg).unwrap();
        assert_eq!((preview.width(), preview.height()), (100, 50));
    }

    #[test]
    fn refuses_what_is_not_a_usable_picture() {
        assert_eq!(probe(b"{\"images\":[]}"), Err(PictureError::UnknownFormat));
        let mut truncated = png(64, 64, 255);
        truncated.truncate(truncated.len() / 2);
        assert!(matches!(probe(&truncated), Err(PictureError::Corrupt(_))));
        // A PNG header claiming 10000×10000 (100 MP) is refused before any pixel is decoded.
        let mut huge = png(1, 1, 255);
        huge[16..20].copy_from_slice(&10_000u32.to_be_bytes());
        huge[20..24].copy_from_slice(&10_000u32.to_be_bytes());
        let crc = crc32(&huge[12..29]);
        huge[29..33].copy_from_slice(&crc.to_be_bytes());
        assert!(matches!(probe(&huge), Err(PictureError::TooLarge { .. })));
    }

    /// CRC-32 (IEEE) of a PNG chunk's type and data.
    fn crc32(bytes: &[u8]) -> u32 {
        let mut crc = 0xFFFF_FFFFu32;
        for &byte in bytes {
            crc ^= u32::from(byte);
            for _ in 0..8 {
                crc = if crc & 1 == 1 {
                    (crc >> 1) ^ 0xEDB8_8320
                } else {
                    crc >> 1
                };
            }
        }
        !crc
    }
}
