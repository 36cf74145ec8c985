//! The user's pictures made ready for Fal (`image.edit`, `image.retouch`, `image.face_swap`,
//! `image.upscale_remote`; the last keeps up to [`prepare_within`]'s larger side). Fal takes an
//! input picture as a URL, and a `data:` URI is one, so nothing is uploaded anywhere first.
//!
//! Each picture is sniffed from its bytes (whatever the user sent: JPEG, PNG, WebP, GIF's first frame,
//! BMP, TIFF), its size read from the header and checked (at most [`MAX_INPUT_PIXELS`], so a
//! decompression bomb is refused before anything is allocated), decoded (JPEG with libjpeg-turbo, which
//! refuses damaged image data rather than filling it with grey; the rest with `image`), turned the way up by
//! its EXIF orientation (Fal's models would see a phone photo on its side), shrunk so its long side is at
//! most [`MAX_SIDE_PX`] (Lanczos3 with `fast_image_resize`; the models work at 1–2 K, and four full-size
//! phone photos would make a request body of tens of megabytes) and encoded as JPEG (quality
//! [`JPEG_QUALITY`], libjpeg-turbo) — or as PNG when it has transparent pixels, which JPEG would lose.
//!
//! HEIF/HEIC and AVIF are refused as UNSUPPORTED_FORMAT: reading them needs libheif, which only the
//! imaging service links. Everything here is blocking: run it on a blocking thread.
//!
//! The input object of an operation that takes several pictures is a protobuf `InputParts` ([`parts`]);
//! a wrong count is the gateway's bug, not the user's.

use std::io::Cursor;
use std::ops::RangeInclusive;

use base64::Engine as _;
use bytes::Bytes;
use fast_image_resize::{FilterType, ResizeAlg, ResizeOptions, Resizer};
use image::codecs::png::{self, PngEncoder};
use image::metadata::Orientation;
use image::{DynamicImage, ImageDecoder, ImageEncoder, ImageFormat, ImageReader, Limits};
use mediabot_proto::jobs::v1::{FailureReason, InputParts};
use prost::Message as _;

/// The most pixels an input picture may have (100 MP), read from its header before decoding.
pub const MAX_INPUT_PIXELS: u64 = 100_000_000;
/// The longest side of a picture sent to Fal, pixels; larger ones are shrunk to it.
pub const MAX_SIDE_PX: u32 = 2048;
/// JPEG quality of a picture sent to Fal (libjpeg scale 1–100): no visible loss, a quarter of PNG's size.
pub const JPEG_QUALITY: i32 = 90;

/// Why a picture cannot be sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InputError {
    /// A format this service does not read (HEIC, PDF, ...), named when recognised.
    #[error(
        "{0} is not a format generation reads (JPEG, PNG, WebP, GIF, BMP and TIFF are; HEIF/HEIC and AVIF are not)"
    )]
    Unsupported(String),
    /// Not a valid picture of the format it claims (corrupt, truncated, empty).
    #[error("not a readable picture: {0}")]
    Corrupt(String),
    /// Over [`MAX_INPUT_PIXELS`], or a decoder would need more memory than allowed.
    #[error("{0}")]
    TooLarge(String),
    /// Resizing or encoding failed (a bug: sizes and pixel types are checked before).
    #[error("preparing the picture: {0}")]
    Internal(String),
}

impl InputError {
    /// The reason the user is told.
    pub fn reason(&self) -> FailureReason {
        match self {
            InputError::Unsupported(_) => FailureReason::UnsupportedFormat,
            InputError::Corrupt(_) => FailureReason::CorruptInput,
            InputError::TooLarge(_) => FailureReason::TooLarge,
            InputError::Internal(_) => FailureReason::Internal,
        }
    }
}

/// One of a job's pictures could not be sent: which one, of how many, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("picture {number} of {count}: {error}")]
pub struct PartError {
    /// 1-based, in the order the user sent them.
    pub number: usize,
    /// How many the job has.
    pub count: usize,
    /// Why.
    pub error: InputError,
}

/// A picture ready for Fal.
#[derive(Clone, PartialEq, Eq)]
pub struct Prepared {
    /// `data:image/jpeg;base64,...` or `data:image/png;base64,...`.
    pub data_uri: String,
    /// Width as sent (upright, shrunk), pixels.
    pub width: u32,
    /// Height as sent, pixels.
    pub height: u32,
}

impl std::fmt::Debug for Prepared {
    // The URI would flood logs and test failures; its length is what matters.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Prepared")
            .field("data_uri", &format_args!("<{} bytes>", self.data_uri.len()))
            .field("width", &self.width)
            .field("height", &self.height)
            .finish()
    }
}

/// The pictures an `InputParts` input object holds, checking their number is in `count`. Errors (a
/// description for the INTERNAL failure): not an `InputParts`, or a wrong number of parts.
pub fn parts(input: &Bytes, count: RangeInclusive<usize>) -> Result<Vec<Bytes>, String> {
    let parts = InputParts::decode(input.clone())
        .map_err(|e| format!("the input object is not an InputParts message: {e}"))?
        .parts;
    if !count.contains(&parts.len()) {
        return Err(format!(
            "the input holds {} pictures; this operation takes {} to {}",
            parts.len(),
            count.start(),
            count.end()
        ));
    }
    Ok(parts.into_iter().map(Bytes::from).collect())
}

/// Every picture of `parts` prepared ([`prepare`]), in order; the first that fails stops the rest.
pub fn prepare_all(parts: &[Bytes]) -> Result<Vec<Prepared>, PartError> {
    parts
        .iter()
        .enumerate()
        .map(|(index, bytes)| {
            prepare(bytes).map_err(|error| PartError {
                number: index + 1,
                count: parts.len(),
                error,
            })
        })
        .collect()
}

/// The picture in `bytes` decoded, upright, shrunk to at most [`MAX_SIDE_PX`] a side and encoded as a
/// `data:` URI (JPEG, or PNG when it has transparent pixels).
pub fn prepare(bytes: &[u8]) -> Result<Prepared, InputError> {
    prepare_within(bytes, MAX_SIDE_PX)
}

/// [`prepare`] with a long side of at most `max_side` pixels instead of [`MAX_SIDE_PX`]
/// (`image.upscale_remote` sends the picture as large as its result allows).
pub fn prepare_within(bytes: &[u8], max_side: u32) -> Result<Prepared, InputError> {
    let image = decode_upright_within(bytes, max_side)?;
    // A JPEG reduced while decoding still has a long side of at least `max_side`, so this is the
    // full-size picture's shrunk size to within a pixel of rounding.
    let (width, height) = shrunk_within(image.width(), image.height(), max_side);
    let image = resize(image, width, height)?;
    let (width, height) = (image.width(), image.height());
    let (mime, encoded) = match &image {
        DynamicImage::ImageRgba8(rgba) => {
            let mut png = Vec::new();
            PngEncoder::new_with_quality(
                &mut png,
                png::CompressionType::Fast,
                png::FilterType::Adaptive,
            )
            .write_image(rgba, width, height, image::ExtendedColorType::Rgba8)
            .map_err(|e| InputError::Internal(format!("PNG: {e}")))?;
            ("image/png", png)
        }
        other => {
            let rgb = other.to_rgb8();
            let jpeg = turbojpeg::compress_image(&rgb, JPEG_QUALITY, turbojpeg::Subsamp::Sub2x2)
                .map_err(|e| InputError::Internal(format!("JPEG: {e}")))?;
            ("image/jpeg", jpeg.to_vec())
        }
    };
    Ok(Prepared {
        data_uri: format!(
            "data:{mime};base64,{}",
            base64::engine::general_purpose::STANDARD.encode(encoded)
        ),
        width,
        height,
    })
}

/// Sniffs, checks and decodes `bytes`, and applies the EXIF orientation. The result is 8-bit RGB, or
/// RGBA when a pixel is not fully opaque; a large JPEG comes already reduced while decoding, to no less
/// than [`MAX_SIDE_PX`] on its long side ([`jpeg_scale`]).
pub fn decode_upright(bytes: &[u8]) -> Result<DynamicImage, InputError> {
    decode_upright_within(bytes, MAX_SIDE_PX)
}

/// [`decode_upright`] with a JPEG reduced to no less than `max_side` on its long side.
fn decode_upright_within(bytes: &[u8], max_side: u32) -> Result<DynamicImage, InputError> {
    let format = sniff(bytes)?;
    let (mut image, orientation) = match format {
        ImageFormat::Jpeg => match decode_jpeg(bytes, max_side)? {
            Some(image) => (image, jpeg_orientation(bytes)),
            None => decode_with_image(bytes, format)?,
        },
        _ => decode_with_image(bytes, format)?,
    };
    image.apply_orientation(orientation);
    Ok(eight_bit(image))
}

/// The reduction libjpeg-turbo applies while decoding a JPEG of `width` × `height` (a scaled inverse DCT,
/// far cheaper than decoding every pixel and resampling them): the smallest of 1/8, 2/8, ... 8/8 that
/// keeps the long side at least [`MAX_SIDE_PX`] (or the picture whole when it is smaller).
pub fn jpeg_scale(width: usize, height: usize) -> turbojpeg::ScalingFactor {
    jpeg_scale_within(width, height, MAX_SIDE_PX)
}

/// [`jpeg_scale`] keeping the long side at least `max_side`.
fn jpeg_scale_within(width: usize, height: usize, max_side: u32) -> turbojpeg::ScalingFactor {
    let long = width.max(height);
    (1..=8)
        .map(|eighths| turbojpeg::ScalingFactor::new(eighths, 8))
        .find(|factor| factor.scale(long) >= max_side as usize)
        .unwrap_or(turbojpeg::ScalingFactor::ONE)
}

/// A JPEG's pixels with libjpeg-turbo, which refuses damaged image data (a cut-off scan, bad Huffman
/// codes) where `image`'s decoder would fill the gap with grey, reduced by [`jpeg_scale`]. `None` for a
/// CMYK JPEG, which libjpeg-turbo does not turn into RGB (`image` does).
fn decode_jpeg(bytes: &[u8], max_side: u32) -> Result<Option<DynamicImage>, InputError> {
    let corrupt = |e: turbojpeg::Error| InputError::Corrupt(format!("JPEG: {e}"));
    let mut decompressor =
        turbojpeg::Decompressor::new().map_err(|e| InputError::Internal(e.to_string()))?;
    let header = decompressor.read_header(bytes).map_err(corrupt)?;
    let (width, height) = (
        u32::try_from(header.width).unwrap_or(u32::MAX),
        u32::try_from(header.height).unwrap_or(u32::MAX),
    );
    check_pixels(width, height)?;
    let format = match header.colorspace {
        turbojpeg::Colorspace::CMYK | turbojpeg::Colorspace::YCCK => return Ok(None),
        turbojpeg::Colorspace::Gray => turbojpeg::PixelFormat::GRAY,
        _ => turbojpeg::PixelFormat::RGB,
    };
    let factor = jpeg_scale_within(header.width, header.height, max_side);
    decompressor
        .set_scaling_factor(factor)
        .map_err(|e| InputError::Internal(format!("JPEG scaling: {e}")))?;
    let header = header.scaled(factor);
    let (width, height) = (
        u32::try_from(header.width).unwrap_or(u32::MAX),
        u32::try_from(header.height).unwrap_or(u32::MAX),
    );
    let pitch = header.width * format.size();
    let mut pixels = vec![0u8; pitch * header.height];
    let target = turbojpeg::Image {
        pixels: pixels.as_mut_slice(),
        width: header.width,
        pitch,
        height: header.height,
        format,
    };
    // libjpeg-turbo decodes through damage but then fails the call with its first warning. Stray bytes
    // between segments, which some cameras and editors write, leave every pixel intact: not damage.
    if let Err(error) = decompressor.decompress(bytes, target)
        && !matches!(&error, turbojpeg::Error::TurboJpegError(message)
            if message.contains("extraneous bytes before marker"))
    {
        return Err(corrupt(error));
    }
    let image = if format == turbojpeg::PixelFormat::GRAY {
        image::GrayImage::from_raw(width, height, pixels).map(DynamicImage::ImageLuma8)
    } else {
        image::RgbImage::from_raw(width, height, pixels).map(DynamicImage::ImageRgb8)
    };
    image
        .map(Some)
        .ok_or_else(|| InputError::Internal("the decoded JPEG does not match its header".into()))
}

/// A JPEG's EXIF orientation; a missing or broken EXIF block means "as stored" (broken EXIF is common in
/// files edited by some tools, and the pixels are still fine).
fn jpeg_orientation(bytes: &[u8]) -> Orientation {
    image::codecs::jpeg::JpegDecoder::new(Cursor::new(bytes))
        .and_then(|mut decoder| decoder.orientation())
        .unwrap_or(Orientation::NoTransforms)
}

/// Any other format with `image`, and its orientation.
fn decode_with_image(
    bytes: &[u8],
    format: ImageFormat,
) -> Result<(DynamicImage, Orientation), InputError> {
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    // The header's size is checked below; this bounds what a lying header could make a decoder allocate.
    let budget = MAX_INPUT_PIXELS * 8 + (64 << 20);
    let mut limits = Limits::default();
    limits.max_alloc = Some(budget);
    reader.limits(limits);
    let mut decoder = reader.into_decoder().map_err(decode_error)?;
    let (width, height) = decoder.dimensions();
    check_pixels(width, height)?;
    if decoder.total_bytes() > budget {
        return Err(InputError::TooLarge(format!(
            "decoding the {width}x{height} picture needs {} bytes",
            decoder.total_bytes()
        )));
    }
    let orientation = decoder.orientation().unwrap_or(Orientation::NoTransforms);
    let image = DynamicImage::from_decoder(decoder).map_err(decode_error)?;
    Ok((image, orientation))
}

/// At most [`MAX_INPUT_PIXELS`], from the header, before anything is decoded.
fn check_pixels(width: u32, height: u32) -> Result<(), InputError> {
    if u64::from(width) * u64::from(height) > MAX_INPUT_PIXELS {
        return Err(InputError::TooLarge(format!(
            "the picture is {width}x{height}; at most {MAX_INPUT_PIXELS} pixels are accepted"
        )));
    }
    Ok(())
}

/// `image` as 8-bit RGBA when it has a pixel that is not fully opaque, else as 8-bit RGB.
fn eight_bit(image: DynamicImage) -> DynamicImage {
    match image {
        DynamicImage::ImageRgb8(_) => image,
        image if !image.color().has_alpha() => DynamicImage::ImageRgb8(image.to_rgb8()),
        image => {
            let rgba = image.into_rgba8();
            if rgba.pixels().any(|p| p.0[3] < u8::MAX) {
                DynamicImage::ImageRgba8(rgba)
            } else {
                DynamicImage::ImageRgb8(DynamicImage::ImageRgba8(rgba).to_rgb8())
            }
        }
    }
}

/// The size `(width, height)` is shrunk to: the same when its long side is at most [`MAX_SIDE_PX`], else
/// a long side of [`MAX_SIDE_PX`] and the other side in proportion (rounded, at least 1).
pub fn shrunk_size(width: u32, height: u32) -> (u32, u32) {
    shrunk_within(width, height, MAX_SIDE_PX)
}

/// [`shrunk_size`] to a long side of at most `max_side`.
fn shrunk_within(width: u32, height: u32, max_side: u32) -> (u32, u32) {
    let long = width.max(height);
    if long <= max_side {
        return (width, height);
    }
    let scale = f64::from(max_side) / f64::from(long);
    let side = |v: u32| ((f64::from(v) * scale).round() as u32).clamp(1, max_side);
    (side(width), side(height))
}

/// `image` (8-bit RGB or RGBA) resized to `width` × `height` with Lanczos3.
fn resize(image: DynamicImage, width: u32, height: u32) -> Result<DynamicImage, InputError> {
    if (width, height) == (image.width(), image.height()) {
        return Ok(image);
    }
    let mut small = DynamicImage::new(width, height, image.color());
    let options = ResizeOptions::new().resize_alg(ResizeAlg::Convolution(FilterType::Lanczos3));
    Resizer::new()
        .resize(&image, &mut small, &options)
        .map_err(|e| InputError::Internal(format!("resizing: {e}")))?;
    Ok(small)
}

/// The `image` format of `bytes`, sniffed from its first bytes (a declared type is not trusted).
fn sniff(bytes: &[u8]) -> Result<ImageFormat, InputError> {
    if bytes.is_empty() {
        return Err(InputError::Corrupt("the file is empty".into()));
    }
    // Before `image`'s guess, which takes an AVIF for a format of its own that this build cannot decode.
    if let Some(name) = heif_family(bytes) {
        return Err(InputError::Unsupported(name.into()));
    }
    match image::guess_format(bytes) {
        Ok(
            format @ (ImageFormat::Jpeg
            | ImageFormat::Png
            | ImageFormat::WebP
            | ImageFormat::Gif
            | ImageFormat::Bmp
            | ImageFormat::Tiff),
        ) => Ok(format),
        Ok(other) => Err(InputError::Unsupported(format!("{other:?}"))),
        Err(_) if bytes.starts_with(b"%PDF") => Err(InputError::Unsupported("PDF".into())),
        Err(_) => Err(InputError::Unsupported("an unrecognised file".into())),
    }
}

/// `HEIC`, `HEIF` or `AVIF` when `bytes` is an ISO media file with one of their brands in its `ftyp` box.
fn heif_family(bytes: &[u8]) -> Option<&'static str> {
    if bytes.get(4..8) != Some(b"ftyp") {
        return None;
    }
    let size = u32::from_be_bytes(bytes.get(0..4)?.try_into().ok()?) as usize;
    // The major brand (8..12), the minor version (12..16), then the compatible brands.
    let end = size.clamp(16, 16 + 4 * 64).min(bytes.len());
    let brands: Vec<&[u8]> = std::iter::once(bytes.get(8..12)?)
        .chain(bytes.get(16..end).unwrap_or_default().chunks_exact(4))
        .collect();
    let any = |wanted: &[&[u8; 4]]| brands.iter().any(|b| wanted.iter().any(|w| *b == &w[..]));
    if any(&[b"avif", b"avis"]) {
        Some("AVIF")
    } else if any(&[b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx"]) {
        Some("HEIC")
    } else if any(&[b"mif1", b"msf1"]) {
        Some("HEIF")
    } else {
        None
    }
}

fn decode_error(error: image::ImageError) -> InputError {
    match error {
        image::ImageError::Limits(e) => InputError::TooLarge(format!("decoding: {e}")),
        image::ImageError::Unsupported(e) => InputError::Unsupported(e.to_string()),
        other => InputError::Corrupt(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests fail loudly")]

    use super::*;

    const FIXTURES: &str = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/fixtures/images"
    );

    fn fixture(name: &str) -> Vec<u8> {
        std::fs::read(format!("{FIXTURES}/{name}"))
            .unwrap_or_else(|e| panic!("fixture {name}: {e}"))
    }

    fn encoded(image: DynamicImage, format: ImageFormat) -> Vec<u8> {
        let mut bytes = Vec::new();
        image
            .write_to(&mut Cursor::new(&mut bytes), format)
            .unwrap();
        bytes
    }

    /// The picture behind a `data:` URI, and its MIME type.
    fn open(uri: &str) -> (String, DynamicImage) {
        let (meta, payload) = uri.strip_prefix("data:").unwrap().split_once(',').unwrap();
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(payload)
            .unwrap();
        (
            meta.strip_suffix(";base64").unwrap().to_string(),
            image::load_from_memory(&bytes).unwrap(),
        )
    }

    #[test]
    fn large_jpegs_are_reduced_while_decoding() {
        let eighths = |w, h| {
            let factor = jpeg_scale(w, h);
            (factor.num() * 8 / factor.denom(), factor.scale(w.max(h)))
        };
        assert_eq!(eighths(4608, 1976), (4, 2304));
        assert_eq!(eighths(3264, 2448), (6, 2448));
        assert_eq!(eighths(16384, 16384), (1, 2048));
        assert_eq!(eighths(2048, 1536), (8, 2048));
        assert_eq!(eighths(640, 480), (8, 640));
    }

    #[test]
    fn sizes_shrink_to_a_2048_long_side() {
        assert_eq!(shrunk_size(4608, 1976), (2048, 878));
        assert_eq!(shrunk_size(2448, 3264), (1536, 2048));
        assert_eq!(shrunk_size(2048, 2048), (2048, 2048));
        assert_eq!(shrunk_size(640, 480), (640, 480));
        assert_eq!(shrunk_size(100_000, 1), (2048, 1));
        assert_eq!(shrunk_within(4608, 1976, 4096), (4096, 1756));
        assert_eq!(shrunk_within(3000, 2000, 4096), (3000, 2000));
    }

    /// A real phone photo becomes a JPEG of 2048 px on its long side, in proportion.
    #[test]
    fn a_phone_photo_is_shrunk_to_a_jpeg() {
        let prepared = prepare(&fixture("nokia-8.3-4608x1976.jpg")).unwrap();
        assert_eq!((prepared.width, prepared.height), (2048, 878));
        assert!(prepared.data_uri.starts_with("data:image/jpeg;base64,/9j/"));
        let (mime, picture) = open(&prepared.data_uri);
        assert_eq!(mime, "image/jpeg");
        assert_eq!((picture.width(), picture.height()), (2048, 878));
        // Deterministic: the same bytes make the same URI (the face-swap test relies on it).
        assert_eq!(
            prepare(&fixture("nokia-8.3-4608x1976.jpg")).unwrap(),
            prepared
        );
    }

    /// The four orientation fixtures are one scene stored four ways: once upright, all have the same size
    /// and the same pixels (up to JPEG's losses), which the scene as stored does not.
    #[test]
    fn exif_orientation_is_applied() {
        let upright = prepare(&fixture("orientation/landscape_1.jpg")).unwrap();
        assert!(upright.width > upright.height, "{upright:?}");
        let reference = open(&upright.data_uri).1.to_rgb8();
        let difference = |other: &image::RgbImage| {
            let total: u64 = reference
                .as_raw()
                .iter()
                .zip(other.as_raw())
                .map(|(a, b)| u64::from(a.abs_diff(*b)))
                .sum();
            total as f64 / reference.as_raw().len() as f64
        };
        for n in [3, 6, 8] {
            let bytes = fixture(&format!("orientation/landscape_{n}.jpg"));
            let stored = image::load_from_memory(&bytes).unwrap();
            let prepared = prepare(&bytes).unwrap();
            assert_eq!(
                (prepared.width, prepared.height),
                (upright.width, upright.height),
                "landscape_{n} (stored {}x{})",
                stored.width(),
                stored.height()
            );
            // The fixtures are not pixel-identical once turned (about 14 per channel apart); turned
            // wrongly or not at all they are 50 to 68 apart.
            let turned = difference(&open(&prepared.data_uri).1.to_rgb8());
            assert!(turned < 25.0, "landscape_{n}: {turned} per channel");
        }
        let as_stored = image::load_from_memory(&fixture("orientation/landscape_3.jpg")).unwrap();
        assert!(difference(&as_stored.to_rgb8()) > 45.0);
    }

    /// Transparency survives as PNG; an opaque alpha channel does not force PNG.
    #[test]
    fn transparent_pictures_stay_png() {
        let mut rgba = image::RgbaImage::from_pixel(3000, 1000, image::Rgba([200, 10, 10, 255]));
        rgba.put_pixel(0, 0, image::Rgba([0, 0, 0, 0]));
        let prepared = prepare(&encoded(rgba.clone().into(), ImageFormat::Png)).unwrap();
        assert_eq!((prepared.width, prepared.height), (2048, 683));
        let (mime, picture) = open(&prepared.data_uri);
        assert_eq!(mime, "image/png");
        assert!(picture.color().has_alpha());
        rgba.put_pixel(0, 0, image::Rgba([0, 0, 0, 255]));
        let opaque = prepare(&encoded(rgba.into(), ImageFormat::Png)).unwrap();
        assert!(opaque.data_uri.starts_with("data:image/jpeg;base64,"));
        // A small WebP keeps its size.
        let webp = encoded(
            image::RgbImage::from_pixel(300, 200, image::Rgb([1, 2, 3])).into(),
            ImageFormat::WebP,
        );
        let small = prepare(&webp).unwrap();
        assert_eq!((small.width, small.height), (300, 200));
    }

    #[test]
    fn bad_files_are_named() {
        assert!(matches!(prepare(b""), Err(InputError::Corrupt(_))));
        let heif = prepare(&fixture("bad/samplefilehub.heif")).unwrap_err();
        assert_eq!(heif, InputError::Unsupported("HEIC".into()));
        assert_eq!(heif.reason(), FailureReason::UnsupportedFormat);
        assert_eq!(
            prepare(b"%PDF-1.7 ...").unwrap_err().reason(),
            FailureReason::UnsupportedFormat
        );
        let corrupt = prepare(&fixture("bad/corrupted.jpg")).unwrap_err();
        assert_eq!(corrupt.reason(), FailureReason::CorruptInput, "{corrupt}");
        let mut truncated = fixture("canon-40d.jpg");
        truncated.truncate(truncated.len() / 3);
        assert_eq!(
            prepare(&truncated).unwrap_err().reason(),
            FailureReason::CorruptInput
        );
        // Broken EXIF: the pixels are fine, the picture is sent as stored.
        let broken = prepare(&fixture("bad/invalid-image01137.jpg")).unwrap();
        assert_eq!((broken.width, broken.height), (88, 64));
        // A JPEG header claiming 30000×30000 (900 MP) is refused before its pixels are decoded. The last
        // SOF0 is the photo's (the first is its EXIF thumbnail's; scan data never holds FF C0).
        let mut huge = fixture("canon-40d.jpg");
        let sof = huge
            .windows(2)
            .rposition(|w| w == [0xFF, 0xC0])
            .expect("a baseline JPEG");
        huge[sof + 5..sof + 7].copy_from_slice(&30_000u16.to_be_bytes());
        huge[sof + 7..sof + 9].copy_from_slice(&30_000u16.to_be_bytes());
        assert_eq!(
            prepare(&huge).unwrap_err().reason(),
            FailureReason::TooLarge
        );
    }

    /// A PNG whose header claims 20000×20000 (400 MP) is refused before any pixel is decoded.
    #[test]
    fn a_decompression_bomb_is_too_large() {
        let mut bomb = encoded(
            image::RgbImage::from_pixel(1, 1, image::Rgb([0, 0, 0])).into(),
            ImageFormat::Png,
        );
        bomb[16..20].copy_from_slice(&20_000u32.to_be_bytes());
        bomb[20..24].copy_from_slice(&20_000u32.to_be_bytes());
        let crc = crc32(&bomb[12..29]);
        bomb[29..33].copy_from_slice(&crc.to_be_bytes());
        let error = prepare(&bomb).unwrap_err();
        assert_eq!(error.reason(), FailureReason::TooLarge, "{error}");
    }

    #[test]
    fn input_parts() {
        let message = InputParts {
            parts: vec![b"one".to_vec(), b"two".to_vec()],
        };
        let bytes = Bytes::from(message.encode_to_vec());
        let parts = parts(&bytes, 1..=4).unwrap();
        assert_eq!(
            parts,
            [Bytes::from_static(b"one"), Bytes::from_static(b"two")]
        );
        assert!(super::parts(&bytes, 2..=2).is_ok());
        assert!(super::parts(&bytes, 3..=4).unwrap_err().contains("holds 2"));
        assert!(super::parts(&Bytes::new(), 1..=4).is_err());
        assert!(super::parts(&Bytes::from_static(b"\xff\xd8\xff\xe0"), 1..=4).is_err());
        let numbered = prepare_all(&[
            Bytes::from(fixture("canon-40d.jpg")),
            Bytes::from_static(b""),
        ])
        .unwrap_err();
        assert_eq!((numbered.number, numbered.count), (2, 2));
        assert!(numbered.to_string().starts_with("picture 2 of 2: "));
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
