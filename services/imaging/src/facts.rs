//! The facts of an image file — what the bot tells a user about a picture they sent: format, size as a
//! viewer shows it, colour model and bit depth, animation frames, the EXIF camera, date and orientation,
//! whether a GPS position is inside, whether a colour profile is embedded.
//!
//! Everything is read from the headers and the metadata; no pixel is decoded, so a file of any size costs
//! a few milliseconds and bounded memory (a decompression bomb is described, not expanded). JPEG headers
//! come from libjpeg-turbo, PNG's from its `IHDR` chunk, HEIF/HEIC/AVIF from libheif's container, the
//! other formats from the `image` crate's decoders; EXIF from `kamadak-exif` (JPEG, PNG, WebP, TIFF,
//! HEIF).

use std::io::Cursor;

use image::metadata::Orientation;
use image::{ColorType, ImageDecoder, ImageReader};
use mediabot_proto::imaging::v1::{ColorModel, ImageFacts};

use crate::heif;
use crate::pipeline::{self, ImageError, InputFormat};

/// The facts of the image file `input`. Errors: `Empty`, `UnsupportedFormat` (not an image format imaging
/// reads), `Corrupt` (a header that cannot be read).
pub fn describe(input: &[u8]) -> Result<ImageFacts, ImageError> {
    let format = pipeline::sniff(input)?;
    let header = match format {
        InputFormat::Jpeg => jpeg_header(input)?,
        InputFormat::Png => png_header(input)?,
        InputFormat::Heic | InputFormat::Heif | InputFormat::Avif => heif_header(input, format)?,
        other => image_header(input, other)?,
    };
    let exif = Exif::read(input);
    let (mut width, mut height) = (header.width, header.height);
    // libheif reports the size with the file's transformations applied already; the others as stored.
    let transformed = matches!(
        format,
        InputFormat::Heic | InputFormat::Heif | InputFormat::Avif
    );
    if !transformed && exif.orientation.is_some_and(swaps_sides) {
        std::mem::swap(&mut width, &mut height);
    }
    Ok(ImageFacts {
        format: format.name().to_string(),
        width_px: width,
        height_px: height,
        color_model: header.color_model as i32,
        bits_per_channel: u32::from(header.bits_per_channel),
        size_bytes: input.len() as u64,
        frames: header.frames.max(1),
        exif_orientation: exif.orientation.map_or(0, u32::from),
        camera_make: exif.make,
        camera_model: exif.model,
        taken_at: exif.taken_at,
        has_gps: exif.has_gps,
        has_icc_profile: header.has_icc_profile,
    })
}

/// What a format's header says.
#[derive(Debug, Clone, Copy)]
struct Header {
    width: u32,
    height: u32,
    color_model: ColorModel,
    bits_per_channel: u8,
    frames: u32,
    has_icc_profile: bool,
}

/// EXIF orientations 5–8 turn the picture by a quarter: width and height trade places.
fn swaps_sides(orientation: u8) -> bool {
    (5..=8).contains(&orientation)
}

fn corrupt(format: InputFormat, detail: impl ToString) -> ImageError {
    ImageError::Corrupt {
        format: format.name(),
        detail: detail.to_string(),
    }
}

fn jpeg_header(input: &[u8]) -> Result<Header, ImageError> {
    let header = turbojpeg::Decompressor::new()
        .and_then(|mut d| d.read_header(input))
        .map_err(|e| corrupt(InputFormat::Jpeg, e))?;
    let color_model = match header.colorspace {
        turbojpeg::Colorspace::Gray => ColorModel::Grayscale,
        turbojpeg::Colorspace::CMYK | turbojpeg::Colorspace::YCCK => ColorModel::Cmyk,
        _ => ColorModel::Rgb,
    };
    Ok(Header {
        width: u32::try_from(header.width).unwrap_or(u32::MAX),
        height: u32::try_from(header.height).unwrap_or(u32::MAX),
        color_model,
        // libjpeg-turbo reads baseline and progressive 8-bit JPEGs (12-bit ones fail its header call).
        bits_per_channel: 8,
        frames: 1,
        has_icc_profile: pipeline::jpeg_markers(input).icc.is_some(),
    })
}

/// PNG: `IHDR` is the first chunk (signature, length, type, then width, height, bit depth, colour type);
/// the `image` decoder validates the rest of the header and finds an `iCCP` chunk.
fn png_header(input: &[u8]) -> Result<Header, ImageError> {
    let ihdr = input
        .get(8..29)
        .filter(|chunk| &chunk[4..8] == b"IHDR")
        .ok_or_else(|| corrupt(InputFormat::Png, "no IHDR chunk"))?;
    let be32 = |at: usize| u32::from_be_bytes([ihdr[at], ihdr[at + 1], ihdr[at + 2], ihdr[at + 3]]);
    let color_model = match ihdr[17] {
        0 => ColorModel::Grayscale,
        2 => ColorModel::Rgb,
        3 => ColorModel::Palette,
        4 => ColorModel::GrayscaleAlpha,
        6 => ColorModel::Rgba,
        other => return Err(corrupt(InputFormat::Png, format!("colour type {other}"))),
    };
    let decoded = image_header(input, InputFormat::Png)?;
    Ok(Header {
        width: be32(8),
        height: be32(12),
        color_model,
        bits_per_channel: ihdr[16],
        ..decoded
    })
}

fn heif_header(input: &[u8], format: InputFormat) -> Result<Header, ImageError> {
    let header = heif::header(input).map_err(|error| pipeline::heif_error(format, error))?;
    Ok(Header {
        width: header.width,
        height: header.height,
        color_model: if header.has_alpha {
            ColorModel::Rgba
        } else {
            ColorModel::Rgb
        },
        bits_per_channel: header.bits_per_channel,
        frames: 1,
        has_icc_profile: header.has_icc_profile,
    })
}

/// WebP, GIF, BMP, TIFF (and PNG's profile and frames): the `image` crate's decoder reads the header
/// only; its colour type is what the pixels would be decoded to (a GIF's palette becomes RGBA there, so
/// GIF is reported as the palette it is).
fn image_header(input: &[u8], format: InputFormat) -> Result<Header, ImageError> {
    let image_format = format
        .image_format()
        .ok_or_else(|| ImageError::UnsupportedFormat(format.name().to_string()))?;
    let mut reader = ImageReader::with_format(Cursor::new(input), image_format);
    // Nothing is decoded, so no size is too large to describe.
    reader.no_limits();
    let mut decoder = reader.into_decoder().map_err(|e| corrupt(format, e))?;
    let (width, height) = decoder.dimensions();
    let (color_model, bits_per_channel) = if format == InputFormat::Gif {
        (ColorModel::Palette, 8)
    } else {
        color_of(decoder.color_type())
    };
    let has_icc_profile = decoder.icc_profile().ok().flatten().is_some();
    Ok(Header {
        width,
        height,
        color_model,
        bits_per_channel,
        frames: pipeline::count_frames(input, image_format),
        has_icc_profile,
    })
}

fn color_of(color: ColorType) -> (ColorModel, u8) {
    let model = match (color.has_color(), color.has_alpha()) {
        (false, false) => ColorModel::Grayscale,
        (false, true) => ColorModel::GrayscaleAlpha,
        (true, false) => ColorModel::Rgb,
        (true, true) => ColorModel::Rgba,
    };
    let channels = color.channel_count().max(1);
    (
        model,
        color.bits_per_pixel().div_ceil(u16::from(channels)) as u8,
    )
}

/// What the EXIF block says, where there is one.
#[derive(Debug, Default)]
struct Exif {
    orientation: Option<u8>,
    make: String,
    model: String,
    taken_at: String,
    has_gps: bool,
}

impl Exif {
    /// Reads the EXIF of a JPEG, PNG, WebP, TIFF or HEIF; an absent or broken block gives no facts (broken
    /// EXIF is common and the picture is still fine).
    fn read(input: &[u8]) -> Exif {
        let Ok(exif) = exif::Reader::new().read_from_container(&mut Cursor::new(input)) else {
            return Exif::default();
        };
        let field = |tag| exif.get_field(tag, exif::In::PRIMARY);
        let text = |tag| {
            field(tag)
                .and_then(|f| match &f.value {
                    exif::Value::Ascii(parts) => parts.first().map(|p| ascii_text(p)),
                    _ => None,
                })
                .unwrap_or_default()
        };
        let orientation = field(exif::Tag::Orientation)
            .and_then(|f| f.value.get_uint(0))
            .and_then(|value| u8::try_from(value).ok())
            .filter(|value| Orientation::from_exif(*value).is_some());
        let taken_at = [exif::Tag::DateTimeOriginal, exif::Tag::DateTime]
            .into_iter()
            .find_map(|tag| {
                let field = field(tag)?;
                let exif::Value::Ascii(parts) = &field.value else {
                    return None;
                };
                let time = exif::DateTime::from_ascii(parts.first()?).ok()?;
                Some(format!(
                    "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
                    time.year, time.month, time.day, time.hour, time.minute, time.second
                ))
            })
            .unwrap_or_default();
        Exif {
            orientation,
            make: text(exif::Tag::Make),
            model: text(exif::Tag::Model),
            taken_at,
            has_gps: field(exif::Tag::GPSLatitude).is_some()
                && field(exif::Tag::GPSLongitude).is_some(),
        }
    }
}

/// An EXIF ASCII value as text: up to the first NUL, trimmed, at most 64 characters (some cameras pad
/// with spaces; a hostile file could put anything there).
fn ascii_text(bytes: &[u8]) -> String {
    let end = bytes.iter().position(|b| *b == 0).unwrap_or(bytes.len());
    String::from_utf8_lossy(&bytes[..end])
        .trim()
        .chars()
        .filter(|c| !c.is_control())
        .take(64)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exif_text_stops_at_nul_and_drops_padding_and_control_characters() {
        assert_eq!(ascii_text(b"Canon\0\0\0"), "Canon");
        assert_eq!(ascii_text(b"  Nokia 8.3 5G   "), "Nokia 8.3 5G");
        assert_eq!(ascii_text(b"a\x1b[31mb"), "a[31mb");
        assert_eq!(ascii_text(&[b'x'; 200]).len(), 64);
    }

    #[test]
    fn colour_types_map_to_models_and_bits_per_channel() {
        assert_eq!(color_of(ColorType::L8), (ColorModel::Grayscale, 8));
        assert_eq!(color_of(ColorType::La16), (ColorModel::GrayscaleAlpha, 16));
        assert_eq!(color_of(ColorType::Rgb16), (ColorModel::Rgb, 16));
        assert_eq!(color_of(ColorType::Rgba8), (ColorModel::Rgba, 8));
        assert_eq!(color_of(ColorType::Rgb32F), (ColorModel::Rgb, 32));
    }
}
