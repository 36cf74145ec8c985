//! What a picture from Fal is before it becomes the job's result: its format sniffed from the bytes
//! (`image::guess_format`), its size read from the header and checked (at most [`MAX_PIXELS`]) before it is
//! decoded, and a JPEG preview of at most [`PREVIEW_MAX_SIDE`] px a side for the document's thumbnail. A
//! picture that fails any of this is the model's failure (`image.generate`'s chain moves on).
//!
//! A job that asks for a format ([`ResultFormat`]: `image.edit`'s `format`, PNG for retouches and face
//! swaps) gets it even from a model that ignores Fal's `output_format`: [`probe_as`] converts the picture
//! (PNG, JPEG quality [`CONVERT_JPEG_QUALITY`], lossless WebP).

use std::io::Cursor;

use bytes::Bytes;
use image::codecs::jpeg::JpegEncoder;
use image::{DynamicImage, ImageFormat, ImageReader, Limits};

/// The most pixels a result may have (64 MP); a larger one is refused before decoding.
pub const MAX_PIXELS: u64 = 64_000_000;
/// The longest side of the preview, pixels (Telegram's thumbnail limit).
pub const PREVIEW_MAX_SIDE: u32 = 320;
/// JPEG quality of the preview.
pub const PREVIEW_QUALITY: u8 = 80;
/// JPEG quality of a picture converted to JPEG (libjpeg scale 1–100): high, the user pays for it.
pub const CONVERT_JPEG_QUALITY: i32 = 95;

/// The format a job wants its picture in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResultFormat {
    /// `image/png`.
    Png,
    /// `image/jpeg`.
    Jpeg,
    /// `image/webp`, lossless.
    WebP,
}

impl ResultFormat {
    /// `image.edit`'s `format`: `png` (also when empty), `jpeg` or `webp`; `None` for anything else.
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "" | "png" => Some(ResultFormat::Png),
            "jpeg" => Some(ResultFormat::Jpeg),
            "webp" => Some(ResultFormat::WebP),
            _ => None,
        }
    }

    /// The value of Fal's `output_format`: `png`, `jpeg`, `webp`.
    pub fn name(self) -> &'static str {
        match self {
            ResultFormat::Png => "png",
            ResultFormat::Jpeg => "jpeg",
            ResultFormat::WebP => "webp",
        }
    }

    fn image_format(self) -> ImageFormat {
        match self {
            ResultFormat::Png => ImageFormat::Png,
            ResultFormat::Jpeg => ImageFormat::Jpeg,
            ResultFormat::WebP => ImageFormat::WebP,
        }
    }
}

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
    /// The picture could not be converted to the format the job asks for.
    #[error("converting to {format}: {detail}")]
    Convert {
        /// The format asked for.
        format: &'static str,
        /// The encoder's message.
        detail: String,
    },
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
    let (format, image) = decode(bytes)?;
    Ok(Picture {
        mime_type: mime_type(format).to_string(),
        width: image.width(),
        height: image.height(),
        preview_jpeg: preview_jpeg(&image)?,
    })
}

/// [`probe`] for a job that wants `wanted`: a picture in another format (a model that ignores
/// `output_format`) is converted to it first — PNG, JPEG at [`CONVERT_JPEG_QUALITY`] (transparency on
/// white), lossless WebP. Returns the facts and the bytes to store. Blocking.
pub fn probe_as(bytes: Bytes, wanted: ResultFormat) -> Result<(Picture, Bytes), PictureError> {
    let (format, image) = decode(&bytes)?;
    let bytes = if format == wanted.image_format() {
        bytes
    } else {
        tracing::info!(
            from = mime_type(format),
            to = mime_type(wanted.image_format()),
            "the model ignored output_format; converting its picture"
        );
        Bytes::from(convert(&image, wanted)?)
    };
    let picture = Picture {
        mime_type: mime_type(wanted.image_format()).to_string(),
        width: image.width(),
        height: image.height(),
        preview_jpeg: preview_jpeg(&image)?,
    };
    Ok((picture, bytes))
}

/// `image` encoded as `format`.
fn convert(image: &DynamicImage, format: ResultFormat) -> Result<Vec<u8>, PictureError> {
    let failed = |e: &dyn std::fmt::Display| PictureError::Convert {
        format: format.name(),
        detail: e.to_string(),
    };
    if format == ResultFormat::Jpeg {
        return turbojpeg::compress_image(
            &over_white(image),
            CONVERT_JPEG_QUALITY,
            turbojpeg::Subsamp::Sub2x2,
        )
        .map(|jpeg| jpeg.to_vec())
        .map_err(|e| failed(&e));
    }
    // PNG and WebP keep the alpha; both are written 8 bits a channel (`image`'s WebP encoder is lossless).
    let eight_bit = if image.color().has_alpha() {
        DynamicImage::ImageRgba8(image.to_rgba8())
    } else {
        DynamicImage::ImageRgb8(image.to_rgb8())
    };
    let mut bytes = Vec::new();
    eight_bit
        .write_to(&mut Cursor::new(&mut bytes), format.image_format())
        .map_err(|e| failed(&e))?;
    Ok(bytes)
}

/// Sniffs, measures and decodes `bytes`.
fn decode(bytes: &[u8]) -> Result<(ImageFormat, DynamicImage), PictureError> {
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
    Ok((format, image))
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
    let rgb = over_white(&small);
    let mut jpeg = Vec::new();
    JpegEncoder::new_with_quality(&mut jpeg, PREVIEW_QUALITY)
        .encode_image(&rgb)
        .map_err(|e| PictureError::Preview(e.to_string()))?;
    Ok(jpeg)
}

/// `image` as 8-bit RGB, alpha composed over white (what a viewer shows for transparency).
fn over_white(image: &DynamicImage) -> image::RgbImage {
    if !image.color().has_alpha() {
        return image.to_rgb8();
    }
    let mut rgb = image::RgbImage::new(image.width(), image.height());
    for (x, y, pixel) in image.to_rgba8().enumerate_pixels() {
        let [r, g, b, a] = pixel.0;
        let on_white = |c: u8| -> u8 {
            let (c, a) = (u32::from(c), u32::from(a));
            ((c * a + 255 * (255 - a) + 127) / 255) as u8
        };
        rgb.put_pixel(x, y, image::Rgb([on_white(r), on_white(g), on_white(b)]));
    }
    rgb
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

    /// A picture already in the wanted format is stored as it came; another is converted, transparency
    /// kept in WebP and shown on white in JPEG.
    #[test]
    fn pictures_are_converted_to_the_wanted_format() {
        let source = Bytes::from(png(300, 200, 0));
        let (picture, kept) = probe_as(source.clone(), ResultFormat::Png).unwrap();
        assert_eq!(kept, source);
        assert_eq!(picture.mime_type, "image/png");
        let (picture, jpeg) = probe_as(source.clone(), ResultFormat::Jpeg).unwrap();
        assert_eq!(picture.mime_type, "image/jpeg");
        assert_eq!((picture.width, picture.height), (300, 200));
        assert_eq!(image::guess_format(&jpeg).unwrap(), ImageFormat::Jpeg);
        let decoded = image::load_from_memory(&jpeg).unwrap();
        assert!(decoded.to_rgb8().get_pixel(5, 5).0.iter().all(|&c| c > 245));
        let (picture, webp) = probe_as(source, ResultFormat::WebP).unwrap();
        assert_eq!(picture.mime_type, "image/webp");
        let decoded = image::load_from_memory(&webp).unwrap();
        assert_eq!(image::guess_format(&webp).unwrap(), ImageFormat::WebP);
        assert_eq!(decoded.to_rgba8().get_pixel(5, 5).0[3], 0);
        let (_, png) = probe_as(jpeg, ResultFormat::Png).unwrap();
        assert_eq!(image::guess_format(&png).unwrap(), ImageFormat::Png);
        assert_eq!(ResultFormat::parse(""), Some(ResultFormat::Png));
        assert_eq!(ResultFormat::parse("jpeg").unwrap().name(), "jpeg");
        assert_eq!(ResultFormat::parse("gif"), None);
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
