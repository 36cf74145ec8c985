//! The stages every local image operation is made of, as pure synchronous functions over bytes (no I/O, no
//! async): sniff the format → check the pixel counts (input and result) from the header → decode → apply
//! the EXIF orientation → resample → encode. The operations in [`crate::ops`] compose them; the job handler
//! runs an operation on a blocking thread; the bench binary times the stages one by one.
//!
//! Codecs: JPEG is decoded and encoded with libjpeg-turbo (`turbojpeg`), PNG, WebP, GIF (first frame), BMP
//! and TIFF are decoded with `image`, HEIF/HEIC and AVIF with libheif ([`crate::heif`]); resampling is
//! `fast_image_resize` (SIMD convolution). Measured on this project's machines, plain `image` is 4–9×
//! slower for both steps (docs/architecture.md). WebP is written by `image` (lossless) or libwebp
//! (lossy, through the `webp` crate).
//!
//! Colour: every decoded image is sRGB. An embedded ICC profile (JPEG APP2, PNG iCCP, WebP ICCP, TIFF,
//! HEIF `colr`) is applied with moxcms, and CMYK JPEGs (Adobe's inverted ones too) become RGB
//! ([`crate::color`]). Encoders write no profile, and an untagged image is read as sRGB.
//!
//! Output format ([`output_format`]): a JPEG stays JPEG (quality [`JPEG_QUALITY`], 4:2:0); everything else —
//! PNG (with its alpha), WebP, GIF (its first frame), BMP, TIFF — becomes PNG, lossless. PNG is written with
//! the fast deflate setting: an upscale is large and speed matters more. Results carry no metadata at all:
//! the EXIF orientation is applied to the pixels, and neither encoder writes EXIF (so no GPS position,
//! camera serial or date leaves with a result).
//!
//! Resampling ([`resize`]): Lanczos3 with `fast_image_resize` on 8-bit pixels as decoded (no conversion to
//! float or to 4 channels). An upscale runs the horizontal pass first, on the input's rows, then the vertical
//! one: for 8-bit pixels the library would start with the vertical pass, which leaves the costlier
//! horizontal pass twice as many rows (×2) when enlarging. Alpha is premultiplied only when the image has a
//! pixel that is not fully opaque.

use std::io::Cursor;

use fast_image_resize::{FilterType, ResizeAlg, ResizeOptions, Resizer};
use image::codecs::png::{CompressionType, PngEncoder};
use image::metadata::Orientation;
use image::{DynamicImage, ImageDecoder, ImageEncoder, ImageFormat, ImageReader};
use mediabot_proto::jobs::v1::FailureReason;

use crate::color::{self, Conversion};
use crate::heif::{self, HeifDecodeError};

/// JPEG quality of an upscale's result (libjpeg scale 1–100): high, since the user pays for the pixels.
pub const JPEG_QUALITY: i32 = 95;

/// Longest side of the preview sent as a document's thumbnail, pixels (Telegram: at most 320).
pub const PREVIEW_MAX_SIDE: u32 = 320;

/// Frames counted at most in an animated input (the count is only told to the user).
pub const MAX_FRAMES_COUNTED: u32 = 10_000;

/// Telegram's limit for a photo (`sendPhoto`): larger results must be sent as a document.
/// Source: Bot API, sendPhoto — "The photo must be at most 10 MB in size. The photo's width and height must
/// not exceed 10000 in total. Width and height ratio must be at most 20."
pub const TELEGRAM_PHOTO_MAX_BYTES: usize = 10 * 1000 * 1000;
/// Telegram's limit for the sum of a photo's width and height, pixels.
pub const TELEGRAM_PHOTO_MAX_WIDTH_PLUS_HEIGHT: u64 = 10_000;
/// Telegram's limit for a photo's aspect ratio (longer side / shorter side).
pub const TELEGRAM_PHOTO_MAX_RATIO: u64 = 20;

/// Limits that protect a worker from inputs that would take too much memory or produce an undeliverable
/// result.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest input, in pixels (width × height as stored), checked from the header before decoding, so a
    /// small file that claims a huge size (a decompression bomb) is refused without allocating.
    pub max_input_pixels: u64,
    /// Largest result, in pixels, checked from the input's header before decoding: an upscale by `f` has
    /// `f²` times the input's pixels (×4 of a 50 MP photo would be 800 MP, about 2.4 GB of RGB), so an
    /// input that fits [`max_input_pixels`](Self::max_input_pixels) can still be refused here.
    pub max_output_pixels: u64,
    /// Largest encoded result, bytes. Telegram bots upload at most 50 MB, so a larger result could not be
    /// delivered at all.
    pub max_output_bytes: usize,
}

impl Default for Limits {
    /// 50 megapixels in, 200 megapixels out (a 50 MP photo upscaled ×2 peaks at 874 MiB), 50 MB out.
    fn default() -> Self {
        Self {
            max_input_pixels: 50_000_000,
            max_output_pixels: 200_000_000,
            max_output_bytes: 50 * 1000 * 1000,
        }
    }
}

/// Why an input could not be processed. [`ImageError::reason`] maps each cause to the proto
/// [`FailureReason`] the user is told.
#[derive(Debug, thiserror::Error)]
pub enum ImageError {
    /// Zero bytes.
    #[error("the input is empty")]
    Empty,
    /// A file format this service does not read (PDF, a HEIF of a codec libheif lacks, ...), named when
    /// recognised.
    #[error(
        "{0} is not a supported input format (JPEG, PNG, WebP, GIF, BMP, TIFF, HEIF/HEIC, AVIF are)"
    )]
    UnsupportedFormat(String),
    /// The data is not a valid image of the format it claims to be (corrupt or truncated).
    #[error("corrupt or truncated {format}: {detail}")]
    Corrupt {
        /// Format sniffed from the first bytes.
        format: &'static str,
        /// The decoder's message.
        detail: String,
    },
    /// The input has more pixels than [`Limits::max_input_pixels`].
    #[error("the image is {width}x{height} ({pixels} pixels); at most {max} pixels are accepted")]
    TooManyPixels {
        /// Stored width, pixels.
        width: u32,
        /// Stored height, pixels.
        height: u32,
        /// width × height.
        pixels: u64,
        /// The limit.
        max: u64,
    },
    /// The result would have more pixels than [`Limits::max_output_pixels`].
    #[error(
        "the result would be {width}x{height} ({pixels} pixels); at most {max} pixels can be produced"
    )]
    TooManyOutputPixels {
        /// Result width, pixels.
        width: u64,
        /// Result height, pixels.
        height: u64,
        /// width × height.
        pixels: u64,
        /// The limit.
        max: u64,
    },
    /// The image is larger than the output format can hold (WebP: 16383 pixels a side; JPEG: 65500).
    #[error("{format} holds at most {max_side} pixels a side; the image is {width}x{height}")]
    TooLargeForFormat {
        /// Output format.
        format: &'static str,
        /// Image width, pixels.
        width: u32,
        /// Image height, pixels.
        height: u32,
        /// The format's limit, pixels.
        max_side: u32,
    },
    /// The encoded result is larger than [`Limits::max_output_bytes`].
    #[error("the result is {size} bytes; at most {max} bytes can be delivered")]
    OutputTooLarge {
        /// Encoded size, bytes.
        size: usize,
        /// The limit.
        max: usize,
    },
    /// A decoder needed more memory than allowed for an image of an accepted size.
    #[error("decoding needs too much memory: {0}")]
    DecoderLimit(String),
    /// Resampling failed (a bug: sizes and pixel types are checked before).
    #[error("resizing: {0}")]
    Resize(String),
    /// Encoding the result failed (a bug or out of memory).
    #[error("encoding {format}: {detail}")]
    Encode {
        /// Output format.
        format: &'static str,
        /// The encoder's message.
        detail: String,
    },
}

impl ImageError {
    /// The reason reported in `JobFailed`.
    pub fn reason(&self) -> FailureReason {
        match self {
            ImageError::Empty | ImageError::Corrupt { .. } => FailureReason::CorruptInput,
            ImageError::UnsupportedFormat(_) => FailureReason::UnsupportedFormat,
            ImageError::TooManyPixels { .. }
            | ImageError::TooManyOutputPixels { .. }
            | ImageError::OutputTooLarge { .. }
            | ImageError::TooLargeForFormat { .. }
            | ImageError::DecoderLimit(_) => FailureReason::TooLarge,
            ImageError::Resize(_) | ImageError::Encode { .. } => FailureReason::Internal,
        }
    }
}

/// Format of an encoded result.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputFormat {
    /// `image/jpeg`, 4:2:0 chroma subsampling (grey stays grey), at the given quality (1–100).
    Jpeg(i32),
    /// `image/png`, fast deflate.
    Png,
    /// `image/webp`, lossless (VP8L, written by `image`), keeping alpha.
    WebPLossless,
    /// `image/webp`, lossy (VP8 with lossy alpha, libwebp) at the given quality (0–100).
    WebPLossy(u8),
}

/// WebP's largest width or height, pixels (the bitstream has 14 bits for each).
pub const WEBP_MAX_SIDE: u32 = 16383;
/// JPEG's largest width or height that libjpeg-turbo writes, pixels.
pub const JPEG_MAX_SIDE: u32 = 65500;

impl OutputFormat {
    /// The MIME type.
    pub fn mime_type(self) -> &'static str {
        match self {
            OutputFormat::Jpeg(_) => "image/jpeg",
            OutputFormat::Png => "image/png",
            OutputFormat::WebPLossless | OutputFormat::WebPLossy(_) => "image/webp",
        }
    }
}

/// An encoded result, ready to store.
#[derive(Clone)]
pub struct Output {
    /// The encoded image.
    pub bytes: Vec<u8>,
    /// `image/jpeg`, `image/png` or `image/webp`.
    pub mime_type: &'static str,
    /// Width, pixels.
    pub width: u32,
    /// Height, pixels.
    pub height: u32,
    /// True when Telegram would not take it as a photo (see [`must_send_as_document`]).
    pub send_as_document: bool,
    /// A JPEG preview at most [`PREVIEW_MAX_SIDE`] pixels a side (empty when none was made).
    pub preview_jpeg: Vec<u8>,
    /// The input's format name ([`InputFormat::name`]: `JPEG`, `PNG`, `WebP`, `GIF`, `BMP`, `TIFF`,
    /// `HEIC`, `HEIF`, `AVIF`).
    pub input_format: &'static str,
    /// Frames of the input when it was animated (only the first was used); 1 for a still image.
    pub input_frames: u32,
    /// JPEG/PNG encodes made to produce the result (a compression may need more than one).
    pub encodes: u32,
}

impl std::fmt::Debug for Output {
    // The bytes would flood logs and test failures; their length is what matters.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Output")
            .field("bytes", &format_args!("<{} bytes>", self.bytes.len()))
            .field("mime_type", &self.mime_type)
            .field("width", &self.width)
            .field("height", &self.height)
            .field("send_as_document", &self.send_as_document)
            .field("preview_jpeg", &self.preview_jpeg.len())
            .field("input_format", &self.input_format)
            .field("input_frames", &self.input_frames)
            .field("encodes", &self.encodes)
            .finish()
    }
}

/// A format [`decode`] reads, sniffed from the first bytes of a file (any declared type is ignored).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputFormat {
    /// JPEG (JFIF/EXIF), RGB, grey or CMYK.
    Jpeg,
    /// PNG and APNG (first frame).
    Png,
    /// WebP, lossy or lossless, still or animated (first frame).
    WebP,
    /// GIF (first frame).
    Gif,
    /// BMP.
    Bmp,
    /// TIFF.
    Tiff,
    /// HEIF with HEVC-coded images (the `heic`/`heix`/`hevc`... brands): iPhone photos.
    Heic,
    /// Any other HEIF (`mif1`/`msf1` without an HEVC or AV1 brand).
    Heif,
    /// AVIF: HEIF with AV1-coded images.
    Avif,
}

impl InputFormat {
    /// The name users and logs see: `JPEG`, `PNG`, `WebP`, `GIF`, `BMP`, `TIFF`, `HEIC`, `HEIF`, `AVIF`.
    pub fn name(self) -> &'static str {
        match self {
            InputFormat::Jpeg => "JPEG",
            InputFormat::Png => "PNG",
            InputFormat::WebP => "WebP",
            InputFormat::Gif => "GIF",
            InputFormat::Bmp => "BMP",
            InputFormat::Tiff => "TIFF",
            InputFormat::Heic => "HEIC",
            InputFormat::Heif => "HEIF",
            InputFormat::Avif => "AVIF",
        }
    }

    /// The `image` crate's format, for the formats it decodes (not HEIF/AVIF, which libheif decodes).
    pub(crate) fn image_format(self) -> Option<ImageFormat> {
        Some(match self {
            InputFormat::Jpeg => ImageFormat::Jpeg,
            InputFormat::Png => ImageFormat::Png,
            InputFormat::WebP => ImageFormat::WebP,
            InputFormat::Gif => ImageFormat::Gif,
            InputFormat::Bmp => ImageFormat::Bmp,
            InputFormat::Tiff => ImageFormat::Tiff,
            InputFormat::Heic | InputFormat::Heif | InputFormat::Avif => return None,
        })
    }
}

/// A decoded input, before orientation.
#[derive(Debug, Clone)]
pub struct Decoded {
    /// Pixels, 8 bits per channel: L8, La8, Rgb8 or Rgba8, in sRGB (see [`color`](Self::color)).
    pub image: DynamicImage,
    /// The sniffed input format.
    pub format: InputFormat,
    /// What was done to the colours: converted from the embedded ICC profile to sRGB, or nothing.
    pub color: Conversion,
    /// The EXIF orientation to apply (`NoTransforms` when absent or unreadable).
    pub orientation: Orientation,
    /// Frames in the file: more than 1 for an animated GIF, APNG or WebP, of which only the first was
    /// decoded (counted up to [`MAX_FRAMES_COUNTED`]).
    pub frames: u32,
}

impl Decoded {
    /// The input format's name for users and logs (`JPEG`, `PNG`, ...).
    pub fn format_name(&self) -> &'static str {
        self.format.name()
    }
}

/// Encodes `image` as `format` and checks the size against [`Limits::max_output_bytes`]: the last stage of
/// every operation. The result has no preview and says nothing of its input yet
/// ([`Output::with_input`], [`preview_jpeg`]). Errors: `OutputTooLarge` (TOO_LARGE), `Encode`.
pub fn finish(
    image: &DynamicImage,
    format: OutputFormat,
    limits: &Limits,
) -> Result<Output, ImageError> {
    let bytes = encode(image, format)?;
    Output::new(bytes, format, image.width(), image.height(), limits)
}

impl Output {
    /// An encoded result of `width` × `height` pixels, checked against [`Limits::max_output_bytes`]
    /// (`OutputTooLarge` beyond it); one encode, no preview, input unknown.
    pub fn new(
        bytes: Vec<u8>,
        format: OutputFormat,
        width: u32,
        height: u32,
        limits: &Limits,
    ) -> Result<Output, ImageError> {
        if bytes.len() > limits.max_output_bytes {
            return Err(ImageError::OutputTooLarge {
                size: bytes.len(),
                max: limits.max_output_bytes,
            });
        }
        Ok(Output {
            send_as_document: must_send_as_document(bytes.len(), width, height),
            mime_type: format.mime_type(),
            bytes,
            width,
            height,
            preview_jpeg: Vec::new(),
            input_format: "image",
            input_frames: 1,
            encodes: 1,
        })
    }

    /// Records what the input was: its format and frame count.
    pub fn with_input(mut self, format: &'static str, frames: u32) -> Output {
        self.input_format = format;
        self.input_frames = frames.max(1);
        self
    }
}

/// A small JPEG of `image` for a document's thumbnail: at most [`PREVIEW_MAX_SIDE`] pixels a side,
/// transparent pixels shown on white, quality 80 (a few kilobytes; Telegram takes up to 200 kB).
/// Errors: `Resize`, `Encode`.
pub fn preview_jpeg(image: &DynamicImage) -> Result<Vec<u8>, ImageError> {
    let (width, height) = (image.width().max(1), image.height().max(1));
    let scale = f64::from(PREVIEW_MAX_SIDE) / f64::from(width.max(height));
    let small = if scale < 1.0 {
        let w = ((f64::from(width) * scale).round() as u32).max(1);
        let h = ((f64::from(height) * scale).round() as u32).max(1);
        let mut small = DynamicImage::new(w, h, image.color());
        // A thumbnail: a cheap box filter is sharp enough and ten times faster than Lanczos here.
        let options = ResizeOptions::new().resize_alg(ResizeAlg::Convolution(FilterType::Box));
        Resizer::new()
            .resize(image, &mut small, &options)
            .map_err(|e| ImageError::Resize(e.to_string()))?;
        small
    } else {
        image.clone()
    };
    encode_jpeg(&flatten_on_white(small), 80)
}

/// Composes an image with alpha over white (what a viewer shows for transparency) and drops the alpha
/// channel: L8 or Rgb8 out, for JPEG. Images without alpha are returned as they are.
pub fn flatten_on_white(image: DynamicImage) -> DynamicImage {
    let blend = |c: u8, a: u8| -> u8 {
        let (c, a) = (u32::from(c), u32::from(a));
        ((c * a + 255 * (255 - a) + 127) / 255) as u8
    };
    match image {
        DynamicImage::ImageLumaA8(la) => {
            let (w, h) = la.dimensions();
            let pixels = la.pixels().map(|p| blend(p[0], p[1])).collect();
            image::GrayImage::from_raw(w, h, pixels)
                .map(DynamicImage::ImageLuma8)
                .unwrap_or_default()
        }
        DynamicImage::ImageRgba8(rgba) => {
            let (w, h) = rgba.dimensions();
            let pixels = rgba
                .pixels()
                .flat_map(|p| [blend(p[0], p[3]), blend(p[1], p[3]), blend(p[2], p[3])])
                .collect();
            image::RgbImage::from_raw(w, h, pixels)
                .map(DynamicImage::ImageRgb8)
                .unwrap_or_default()
        }
        other => other,
    }
}

/// True when Telegram's `sendPhoto` would refuse (or recompress) an image of this size: over
/// [`TELEGRAM_PHOTO_MAX_BYTES`], width + height over [`TELEGRAM_PHOTO_MAX_WIDTH_PLUS_HEIGHT`], or an aspect
/// ratio over [`TELEGRAM_PHOTO_MAX_RATIO`].
pub fn must_send_as_document(size_bytes: usize, width: u32, height: u32) -> bool {
    let (w, h) = (u64::from(width), u64::from(height));
    let (long, short) = (w.max(h), w.min(h).max(1));
    size_bytes > TELEGRAM_PHOTO_MAX_BYTES
        || w + h > TELEGRAM_PHOTO_MAX_WIDTH_PLUS_HEIGHT
        || long > short * TELEGRAM_PHOTO_MAX_RATIO
}

/// Sniffs the format, checks the header's pixel count against `limits` — the input's, and the result's
/// for an operation that multiplies each side by `scale` (1 for one that keeps the size) — reads the EXIF
/// orientation, decodes to 8-bit pixels and converts them to sRGB ([`crate::color`]). JPEG goes through
/// libjpeg-turbo, HEIF/HEIC/AVIF through libheif, the other formats through `image`. Errors:
/// `Empty`/`Corrupt`, `UnsupportedFormat`, `TooManyPixels`/`TooManyOutputPixels`/`DecoderLimit`
/// (TOO_LARGE).
pub fn decode(input: &[u8], limits: &Limits, scale: u32) -> Result<Decoded, ImageError> {
    let format = sniff(input)?;
    let check = PixelCheck {
        limits,
        scale: u64::from(scale.max(1)),
    };
    match format {
        InputFormat::Jpeg => decode_jpeg(input, &check),
        InputFormat::Heic | InputFormat::Heif | InputFormat::Avif => {
            decode_heif(input, format, &check)
        }
        other => match other.image_format() {
            Some(image_format) => decode_with_image(input, other, image_format, &check),
            None => Err(ImageError::UnsupportedFormat(other.name().to_string())),
        },
    }
}

/// HEIF/HEIC/AVIF: the container's size is checked before libheif decodes a pixel.
fn decode_heif(
    input: &[u8],
    format: InputFormat,
    check: &PixelCheck<'_>,
) -> Result<Decoded, ImageError> {
    let decoded = heif::decode(input, |width, height| check.check(width, height))?
        .map_err(|error| heif_error(format, error))?;
    let (image, color) = color::to_srgb(decoded.image, decoded.icc.as_deref());
    Ok(Decoded {
        image,
        format,
        color,
        // libheif has applied the file's rotation and mirroring already.
        orientation: Orientation::NoTransforms,
        frames: 1,
    })
}

/// A libheif failure on a file sniffed as `format` (HEIC, HEIF or AVIF), as the image error users are told.
pub(crate) fn heif_error(format: InputFormat, error: HeifDecodeError) -> ImageError {
    match error {
        HeifDecodeError::Corrupt(detail) => ImageError::Corrupt {
            format: format.name(),
            detail,
        },
        HeifDecodeError::Unsupported(detail) => {
            ImageError::UnsupportedFormat(format!("this {} ({detail})", format.name()))
        }
        HeifDecodeError::OutOfMemory(detail) => ImageError::DecoderLimit(detail),
    }
}

/// What [`decode`] checks a header's size against.
struct PixelCheck<'a> {
    limits: &'a Limits,
    scale: u64,
}

/// The format an upscale is written in: JPEG in → JPEG at [`JPEG_QUALITY`]; HEIC/HEIF/AVIF without
/// alpha (photos) → JPEG too; anything else (PNG with or without alpha, WebP, GIF, BMP, TIFF, a HEIF
/// with alpha) → PNG, lossless, keeping alpha.
pub fn output_format(decoded: &Decoded) -> OutputFormat {
    match decoded.format {
        InputFormat::Jpeg | InputFormat::Heic | InputFormat::Heif | InputFormat::Avif
            if !decoded.image.color().has_alpha() =>
        {
            OutputFormat::Jpeg(JPEG_QUALITY)
        }
        _ => OutputFormat::Png,
    }
}

/// Applies the EXIF orientation, so the image is the way up a viewer would show it.
pub fn orient(decoded: Decoded) -> DynamicImage {
    let mut image = decoded.image;
    image.apply_orientation(decoded.orientation);
    image
}

/// Lanczos3 resampling to exactly `factor` × width and `factor` × height; see [`resize_to`].
pub fn resize(image: DynamicImage, factor: u32) -> Result<DynamicImage, ImageError> {
    let (width, height) = (image.width(), image.height());
    let (Some(out_width), Some(out_height)) =
        (width.checked_mul(factor), height.checked_mul(factor))
    else {
        return Err(ImageError::Resize(format!(
            "{width}x{height} cannot be scaled by {factor}"
        )));
    };
    resize_to(image, out_width, out_height)
}

/// Lanczos3 resampling to `width` × `height` pixels (both at least 1), in the image's own 8-bit layout.
///
/// Alpha-aware where it matters: an image with a pixel that is not fully opaque is filtered with colour
/// premultiplied by alpha (so transparent pixels do not bleed dark fringes); an opaque one is not
/// premultiplied at all. An enlargement of an opaque image runs the horizontal pass first, on the input's
/// rows, and frees the input before the vertical pass (see the module docs). Errors: `Resize` (a zero
/// size; a bug otherwise).
pub fn resize_to(image: DynamicImage, width: u32, height: u32) -> Result<DynamicImage, ImageError> {
    let error = |e: &dyn std::fmt::Display| ImageError::Resize(e.to_string());
    let color = image.color();
    let premultiply = color.has_alpha() && has_transparency(&image);
    let options = ResizeOptions::new()
        .resize_alg(ResizeAlg::Convolution(FilterType::Lanczos3))
        .use_alpha(premultiply);
    let mut resizer = Resizer::new();
    if !premultiply && width > image.width() && height > image.height() {
        let mut wide = DynamicImage::new(width, image.height(), color);
        resizer
            .resize(&image, &mut wide, &options)
            .map_err(|e| error(&e))?;
        drop(image);
        let mut resized = DynamicImage::new(width, height, color);
        resizer
            .resize(&wide, &mut resized, &options)
            .map_err(|e| error(&e))?;
        return Ok(resized);
    }
    let mut resized = DynamicImage::new(width, height, color);
    resizer
        .resize(&image, &mut resized, &options)
        .map_err(|e| error(&e))?;
    Ok(resized)
}

/// Whether an 8-bit image with alpha has a pixel that is not fully opaque.
fn has_transparency(image: &DynamicImage) -> bool {
    match image {
        DynamicImage::ImageLumaA8(la) => la.pixels().any(|p| p[1] != u8::MAX),
        DynamicImage::ImageRgba8(rgba) => rgba.pixels().any(|p| p[3] != u8::MAX),
        other => other.color().has_alpha(),
    }
}

/// Encodes 8-bit pixels (L8, La8, Rgb8 or Rgba8) as `format`. JPEG drops alpha, so callers choose PNG for
/// images that have it ([`output_format`]).
pub fn encode(image: &DynamicImage, format: OutputFormat) -> Result<Vec<u8>, ImageError> {
    match format {
        OutputFormat::Jpeg(quality) => encode_jpeg(image, quality),
        OutputFormat::Png => encode_png(image),
        OutputFormat::WebPLossless => encode_webp_lossless(image),
        OutputFormat::WebPLossy(quality) => encode_webp_lossy(image, quality),
    }
}

pub(crate) fn sniff(input: &[u8]) -> Result<InputFormat, ImageError> {
    if input.is_empty() {
        return Err(ImageError::Empty);
    }
    // Before `image`'s guess, which takes an AVIF for a format of its own that this build cannot decode.
    if let Some(format) = sniff_heif(input) {
        return Ok(format);
    }
    match image::guess_format(input) {
        Ok(ImageFormat::Jpeg) => Ok(InputFormat::Jpeg),
        Ok(ImageFormat::Png) => Ok(InputFormat::Png),
        Ok(ImageFormat::WebP) => Ok(InputFormat::WebP),
        Ok(ImageFormat::Gif) => Ok(InputFormat::Gif),
        Ok(ImageFormat::Bmp) => Ok(InputFormat::Bmp),
        Ok(ImageFormat::Tiff) => Ok(InputFormat::Tiff),
        Ok(other) => Err(ImageError::UnsupportedFormat(format!("{other:?}"))),
        Err(_) => Err(ImageError::UnsupportedFormat(
            name_unreadable_format(input).to_string(),
        )),
    }
}

/// A HEIF family file from its `ftyp` box: AVIF when any brand is `avif`/`avis`, HEIC when any is an
/// HEVC one, HEIF for the plain image brands (`mif1`, `msf1`); `None` for anything else (MP4, MOV, ...).
fn sniff_heif(input: &[u8]) -> Option<InputFormat> {
    if input.get(4..8) != Some(b"ftyp") {
        return None;
    }
    let size = input
        .get(0..4)
        .and_then(|n| n.try_into().ok())
        .map(u32::from_be_bytes)? as usize;
    // The major brand (8..12), the minor version (12..16), then the compatible brands.
    let end = size.clamp(16, 16 + 4 * 64).min(input.len());
    let brands: Vec<&[u8]> = std::iter::once(input.get(8..12)?)
        .chain(input.get(16..end).unwrap_or_default().chunks_exact(4))
        .collect();
    let any = |wanted: &[&[u8; 4]]| brands.iter().any(|b| wanted.iter().any(|w| *b == &w[..]));
    if any(&[b"avif", b"avis"]) {
        Some(InputFormat::Avif)
    } else if any(&[b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx"]) {
        Some(InputFormat::Heic)
    } else if any(&[b"mif1", b"msf1"]) {
        Some(InputFormat::Heif)
    } else {
        None
    }
}

/// Names common files that are not images we read, for the log and the operator; the user is told
/// "unsupported format" either way.
fn name_unreadable_format(input: &[u8]) -> &'static str {
    match input.get(4..8) {
        Some(b"ftyp") => "an ISO media file (MP4/MOV)",
        _ if input.starts_with(b"%PDF") => "PDF",
        _ => "an unrecognised file",
    }
}

impl PixelCheck<'_> {
    fn check(&self, width: u32, height: u32) -> Result<(), ImageError> {
        let pixels = u64::from(width) * u64::from(height);
        let max = self.limits.max_input_pixels;
        if pixels > max {
            return Err(ImageError::TooManyPixels {
                width,
                height,
                pixels,
                max,
            });
        }
        if pixels == 0 {
            return Err(ImageError::Corrupt {
                format: "image",
                detail: format!("{width}x{height} has no pixels"),
            });
        }
        let (out_width, out_height) = (
            u64::from(width) * self.scale,
            u64::from(height) * self.scale,
        );
        let out_pixels = out_width.saturating_mul(out_height);
        let max = self.limits.max_output_pixels;
        if out_pixels > max {
            return Err(ImageError::TooManyOutputPixels {
                width: out_width,
                height: out_height,
                pixels: out_pixels,
                max,
            });
        }
        Ok(())
    }
}

fn decode_jpeg(input: &[u8], check: &PixelCheck<'_>) -> Result<Decoded, ImageError> {
    let corrupt = |e: turbojpeg::Error| ImageError::Corrupt {
        format: "JPEG",
        detail: e.to_string(),
    };
    let mut decompressor = turbojpeg::Decompressor::new().map_err(corrupt)?;
    let header = decompressor.read_header(input).map_err(corrupt)?;
    let (width, height) = (
        u32::try_from(header.width).unwrap_or(u32::MAX),
        u32::try_from(header.height).unwrap_or(u32::MAX),
    );
    check.check(width, height)?;
    let markers = jpeg_markers(input);
    let cmyk = matches!(
        header.colorspace,
        turbojpeg::Colorspace::CMYK | turbojpeg::Colorspace::YCCK
    );
    let grey = header.colorspace == turbojpeg::Colorspace::Gray;
    // TurboJPEG does not convert CMYK to RGB: it hands the inks over (YCCK already turned into CMYK),
    // and `color::cmyk_to_rgb` does the rest.
    let pixel_format = if cmyk {
        turbojpeg::PixelFormat::CMYK
    } else if grey {
        turbojpeg::PixelFormat::GRAY
    } else {
        turbojpeg::PixelFormat::RGB
    };
    let pitch = header.width * pixel_format.size();
    let mut pixels = vec![0u8; pitch * header.height];
    let target = turbojpeg::Image {
        pixels: pixels.as_mut_slice(),
        width: header.width,
        pitch,
        height: header.height,
        format: pixel_format,
    };
    // TurboJPEG decodes through recoverable damage but then fails the call with the first warning. Damage
    // to the image data (a truncated scan, bad Huffman codes) is refused rather than upscaled with grey
    // bands; stray bytes between segments, which some cameras and editors write, leave every pixel intact.
    if let Err(error) = decompressor.decompress(input, target)
        && !is_harmless_warning(&error)
    {
        return Err(corrupt(error));
    }
    let mismatch = || ImageError::Corrupt {
        format: "JPEG",
        detail: "decoded buffer does not match the header size".into(),
    };
    let icc = markers.icc.as_deref();
    let (image, color) = if cmyk {
        let (rgb, color) =
            color::cmyk_to_rgb(pixels, width, height, markers.adobe, icc).ok_or_else(mismatch)?;
        (DynamicImage::ImageRgb8(rgb), color)
    } else {
        let image = if grey {
            image::GrayImage::from_raw(width, height, pixels).map(DynamicImage::ImageLuma8)
        } else {
            image::RgbImage::from_raw(width, height, pixels).map(DynamicImage::ImageRgb8)
        };
        color::to_srgb(image.ok_or_else(mismatch)?, icc)
    };
    Ok(Decoded {
        image,
        format: InputFormat::Jpeg,
        color,
        orientation: jpeg_orientation(input),
        frames: 1,
    })
}

/// What a JPEG's segments before the scan say about its colours.
#[derive(Debug, Default)]
pub(crate) struct JpegMarkers {
    /// The ICC profile, reassembled from its `ICC_PROFILE` APP2 chunks in sequence order.
    pub(crate) icc: Option<Vec<u8>>,
    /// An `Adobe` APP14 segment: CMYK values are stored inverted.
    pub(crate) adobe: bool,
}

/// Walks the segments from SOI to the first SOS (each: `FF xx`, a big-endian length that counts itself,
/// the payload) and collects the ICC chunks and the Adobe flag. A malformed walk stops where it breaks:
/// the decoder judges the file, this only reads metadata.
pub(crate) fn jpeg_markers(input: &[u8]) -> JpegMarkers {
    let mut markers = JpegMarkers::default();
    let mut chunks: Vec<(u8, &[u8])> = Vec::new();
    let mut at = 2; // after SOI
    while let (Some(&0xFF), Some(&kind)) = (input.get(at), input.get(at + 1)) {
        if kind == 0xFF {
            at += 1; // fill byte
            continue;
        }
        if kind == 0xDA || kind == 0xD9 {
            break; // start of scan / end of image
        }
        if (0xD0..=0xD7).contains(&kind) || kind == 0x01 {
            at += 2; // markers without a length
            continue;
        }
        let Some(length) = input
            .get(at + 2..at + 4)
            .map(|n| usize::from(u16::from_be_bytes([n[0], n[1]])))
        else {
            break;
        };
        let Some(payload) = input.get(at + 4..at + 2 + length.max(2)) else {
            break;
        };
        match kind {
            0xE2 if payload.starts_with(b"ICC_PROFILE\0") && payload.len() > 14 => {
                chunks.push((payload[12], &payload[14..]));
            }
            0xEE if payload.starts_with(b"Adobe") => markers.adobe = true,
            _ => {}
        }
        at += 2 + length.max(2);
    }
    if !chunks.is_empty() {
        chunks.sort_by_key(|(sequence, _)| *sequence);
        markers.icc = Some(
            chunks
                .into_iter()
                .flat_map(|(_, data)| data.to_vec())
                .collect(),
        );
    }
    markers
}

/// libjpeg's JWRN_EXTRANEOUS_DATA ("Corrupt JPEG data: N extraneous bytes before marker 0xXX"): garbage
/// between two segments, skipped by the decoder with the pixels complete.
fn is_harmless_warning(error: &turbojpeg::Error) -> bool {
    matches!(error, turbojpeg::Error::TurboJpegError(message) if message.contains("extraneous bytes before marker"))
}

/// Orientation from the JPEG's EXIF block; a missing, unreadable or out-of-range tag means "as stored"
/// (broken EXIF is common in files edited by some tools, and the pixels are still fine).
fn jpeg_orientation(input: &[u8]) -> Orientation {
    let Ok(exif) = exif::Reader::new().read_from_container(&mut Cursor::new(input)) else {
        return Orientation::NoTransforms;
    };
    exif.get_field(exif::Tag::Orientation, exif::In::PRIMARY)
        .and_then(|field| field.value.get_uint(0))
        .and_then(|value| u8::try_from(value).ok())
        .and_then(Orientation::from_exif)
        .unwrap_or(Orientation::NoTransforms)
}

fn decode_with_image(
    input: &[u8],
    input_format: InputFormat,
    format: ImageFormat,
    check: &PixelCheck<'_>,
) -> Result<Decoded, ImageError> {
    let name = input_format.name();
    let map = |e: image::ImageError| match e {
        image::ImageError::Unsupported(u) => {
            ImageError::UnsupportedFormat(format!("this {name} variant ({u})"))
        }
        image::ImageError::Limits(l) => ImageError::DecoderLimit(l.to_string()),
        other => ImageError::Corrupt {
            format: name,
            detail: other.to_string(),
        },
    };
    let mut reader = ImageReader::with_format(Cursor::new(input), format);
    // Our own limits are set once the header has been read: `image`'s default (512 MiB) would refuse
    // some acceptable inputs with an allocation error before we saw their size.
    reader.no_limits();
    let mut decoder = reader.into_decoder().map_err(map)?;
    let (width, height) = decoder.dimensions();
    check.check(width, height)?;
    let mut image_limits = image::Limits::default();
    // Room for the decoded image in its widest sample type (4 channels × 4 bytes) plus the decoder's
    // working memory; the pixel count has been checked above, this only caps what a decoder may allocate.
    image_limits.max_alloc = Some(
        check
            .limits
            .max_input_pixels
            .saturating_mul(16)
            .saturating_add(64 << 20),
    );
    decoder.set_limits(image_limits).map_err(map)?;
    let orientation = decoder.orientation().unwrap_or(Orientation::NoTransforms);
    // A profile that cannot be read is no reason to refuse the pixels.
    let icc = decoder.icc_profile().ok().flatten();
    let image = DynamicImage::from_decoder(decoder).map_err(map)?;
    let (image, color) = color::to_srgb(to_8_bit(image), icc.as_deref());
    Ok(Decoded {
        image,
        format: input_format,
        color,
        orientation,
        frames: count_frames(input, format),
    })
}

/// Frames of an animated input (GIF, APNG, animated WebP), counted from the container without decoding
/// the pixels, up to [`MAX_FRAMES_COUNTED`]; 1 for anything else or anything unreadable (the first frame
/// decoded already, so the count only changes what the user is told).
pub(crate) fn count_frames(input: &[u8], format: ImageFormat) -> u32 {
    match format {
        ImageFormat::Gif => {
            let mut options = gif::DecodeOptions::new();
            options.set_color_output(gif::ColorOutput::Indexed);
            let Ok(mut reader) = options.read_info(Cursor::new(input)) else {
                return 1;
            };
            let mut frames = 0;
            while frames < MAX_FRAMES_COUNTED {
                match reader.next_frame_info() {
                    Ok(Some(_)) => frames += 1,
                    _ => break,
                }
            }
            frames.max(1)
        }
        ImageFormat::Png => image::codecs::png::PngDecoder::new(Cursor::new(input))
            .ok()
            .and_then(|d| d.is_apng().ok())
            .map_or(1, |apng| if apng { apng_frames(input) } else { 1 }),
        ImageFormat::WebP => image::codecs::webp::WebPDecoder::new(Cursor::new(input))
            .ok()
            .filter(|d| d.has_animation())
            .map_or(1, |_| webp_frames(input)),
        _ => 1,
    }
}

/// The frame count an APNG declares in its `acTL` chunk (at least 2 for an animation), found by walking
/// the chunks (`length`, `type`, data, CRC).
fn apng_frames(input: &[u8]) -> u32 {
    let mut at = 8; // the PNG signature
    while let (Some(length), Some(kind)) = (input.get(at..at + 4), input.get(at + 4..at + 8)) {
        let length = length
            .try_into()
            .map(u32::from_be_bytes)
            .map_or(usize::MAX, |n| n as usize);
        if kind == b"acTL" {
            return input
                .get(at + 8..at + 12)
                .and_then(|n| n.try_into().ok())
                .map(u32::from_be_bytes)
                .unwrap_or(2)
                .clamp(2, MAX_FRAMES_COUNTED);
        }
        if kind == b"IDAT" {
            break; // acTL must come before the image data
        }
        at = at.saturating_add(12).saturating_add(length);
    }
    2
}

/// Frames of an animated WebP: its `ANMF` chunks, found by walking the RIFF chunks (fourcc, little-endian
/// size, data padded to an even length).
fn webp_frames(input: &[u8]) -> u32 {
    let mut frames = 0u32;
    let mut at = 12; // "RIFF", size, "WEBP"
    while let (Some(kind), Some(size)) = (input.get(at..at + 4), input.get(at + 4..at + 8)) {
        let size = size
            .try_into()
            .map(u32::from_le_bytes)
            .map_or(usize::MAX, |n| n as usize);
        if kind == b"ANMF" {
            frames += 1;
            if frames >= MAX_FRAMES_COUNTED {
                break;
            }
        }
        at = at
            .saturating_add(8)
            .saturating_add(size)
            .saturating_add(size & 1);
    }
    frames.clamp(2, MAX_FRAMES_COUNTED)
}

/// Converts to one of the four 8-bit layouts the encoders take, keeping alpha and grey where present.
fn to_8_bit(image: DynamicImage) -> DynamicImage {
    match image {
        DynamicImage::ImageLuma8(_)
        | DynamicImage::ImageLumaA8(_)
        | DynamicImage::ImageRgb8(_)
        | DynamicImage::ImageRgba8(_) => image,
        DynamicImage::ImageLuma16(_) => DynamicImage::ImageLuma8(image.to_luma8()),
        DynamicImage::ImageLumaA16(_) => DynamicImage::ImageLumaA8(image.to_luma_alpha8()),
        other if other.color().has_alpha() => DynamicImage::ImageRgba8(other.to_rgba8()),
        other => DynamicImage::ImageRgb8(other.to_rgb8()),
    }
}

/// Encodes 8-bit pixels as a baseline JPEG at `quality` (1–100) with libjpeg-turbo: 4:2:0 colour, or
/// greyscale for L8. Alpha is dropped (flatten first, [`flatten_on_white`]). Errors: `Encode`.
pub fn encode_jpeg(image: &DynamicImage, quality: i32) -> Result<Vec<u8>, ImageError> {
    let error = |e: turbojpeg::Error| ImageError::Encode {
        format: "JPEG",
        detail: e.to_string(),
    };
    let opaque;
    let (pixels, pixel_format, subsamp) = match image {
        DynamicImage::ImageLuma8(grey) => (
            grey.as_raw(),
            turbojpeg::PixelFormat::GRAY,
            turbojpeg::Subsamp::Gray,
        ),
        DynamicImage::ImageRgb8(rgb) => (
            rgb.as_raw(),
            turbojpeg::PixelFormat::RGB,
            turbojpeg::Subsamp::Sub2x2,
        ),
        other => {
            opaque = other.to_rgb8();
            (
                opaque.as_raw(),
                turbojpeg::PixelFormat::RGB,
                turbojpeg::Subsamp::Sub2x2,
            )
        }
    };
    fits_format(image, "JPEG", JPEG_MAX_SIDE)?;
    let width = usize::try_from(image.width())
        .map_err(|_| error(turbojpeg::Error::IntegerOverflow("width")))?;
    let height = usize::try_from(image.height())
        .map_err(|_| error(turbojpeg::Error::IntegerOverflow("height")))?;
    let mut compressor = turbojpeg::Compressor::new().map_err(error)?;
    compressor
        .set_quality(quality.clamp(1, 100))
        .map_err(error)?;
    compressor.set_subsamp(subsamp).map_err(error)?;
    let source = turbojpeg::Image {
        pixels: pixels.as_slice(),
        width,
        pitch: width * pixel_format.size(),
        height,
        format: pixel_format,
    };
    compressor.compress_to_vec(source).map_err(error)
}

/// Checks `image` against a format's largest side (`TooLargeForFormat`).
fn fits_format(
    image: &DynamicImage,
    format: &'static str,
    max_side: u32,
) -> Result<(), ImageError> {
    if image.width() > max_side || image.height() > max_side {
        return Err(ImageError::TooLargeForFormat {
            format,
            width: image.width(),
            height: image.height(),
            max_side,
        });
    }
    Ok(())
}

/// Lossless WebP (VP8L) with `image`'s encoder; grey becomes RGB(A), alpha is kept. Errors:
/// `TooLargeForFormat` beyond [`WEBP_MAX_SIDE`], `Encode`.
fn encode_webp_lossless(image: &DynamicImage) -> Result<Vec<u8>, ImageError> {
    fits_format(image, "WebP", WEBP_MAX_SIDE)?;
    let error = |e: image::ImageError| ImageError::Encode {
        format: "WebP",
        detail: e.to_string(),
    };
    let mut bytes = Vec::new();
    let encoder = image::codecs::webp::WebPEncoder::new_lossless(&mut bytes);
    match image {
        DynamicImage::ImageRgb8(_) | DynamicImage::ImageRgba8(_) => encoder
            .write_image(
                image.as_bytes(),
                image.width(),
                image.height(),
                image.color().into(),
            )
            .map_err(error)?,
        other if other.color().has_alpha() => {
            let rgba = other.to_rgba8();
            encoder
                .write_image(
                    rgba.as_raw(),
                    rgba.width(),
                    rgba.height(),
                    image::ExtendedColorType::Rgba8,
                )
                .map_err(error)?
        }
        other => {
            let rgb = other.to_rgb8();
            encoder
                .write_image(
                    rgb.as_raw(),
                    rgb.width(),
                    rgb.height(),
                    image::ExtendedColorType::Rgb8,
                )
                .map_err(error)?
        }
    }
    Ok(bytes)
}

/// Lossy WebP with libwebp at `quality` (0–100), alpha kept (lossy-compressed). Errors:
/// `TooLargeForFormat` beyond [`WEBP_MAX_SIDE`], `Encode`.
fn encode_webp_lossy(image: &DynamicImage, quality: u8) -> Result<Vec<u8>, ImageError> {
    fits_format(image, "WebP", WEBP_MAX_SIDE)?;
    let (width, height) = (image.width(), image.height());
    let alpha = image.color().has_alpha();
    let converted;
    let pixels: &[u8] = match image {
        DynamicImage::ImageRgb8(rgb) => rgb.as_raw(),
        DynamicImage::ImageRgba8(rgba) => rgba.as_raw(),
        other if alpha => {
            converted = other.to_rgba8().into_raw();
            &converted
        }
        other => {
            converted = other.to_rgb8().into_raw();
            &converted
        }
    };
    let encoder = if alpha {
        webp::Encoder::from_rgba(pixels, width, height)
    } else {
        webp::Encoder::from_rgb(pixels, width, height)
    };
    encoder
        .encode_simple(false, f32::from(quality.min(100)))
        .map(|memory| memory.to_vec())
        .map_err(|e| ImageError::Encode {
            format: "WebP",
            detail: format!("{e:?}"),
        })
}

fn encode_png(image: &DynamicImage) -> Result<Vec<u8>, ImageError> {
    let mut bytes = Vec::new();
    let encoder = PngEncoder::new_with_quality(
        &mut bytes,
        CompressionType::Fast,
        image::codecs::png::FilterType::Adaptive,
    );
    encoder
        .write_image(
            image.as_bytes(),
            image.width(),
            image.height(),
            image.color().into(),
        )
        .map_err(|e| ImageError::Encode {
            format: "PNG",
            detail: e.to_string(),
        })?;
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn telegram_photo_limits() {
        assert!(!must_send_as_document(1_000_000, 6000, 4000));
        assert!(must_send_as_document(1_000_000, 9216, 3952));
        assert!(must_send_as_document(10_000_001, 1000, 1000));
        assert!(must_send_as_document(1000, 4200, 200));
        assert!(!must_send_as_document(1000, 4000, 200));
    }

    #[test]
    fn sniffs_the_heif_family_and_names_pdf() {
        let ftyp = |major: &[u8; 4], compatible: &[&[u8; 4]]| {
            let size = 16 + 4 * compatible.len() as u32;
            let mut bytes = size.to_be_bytes().to_vec();
            bytes.extend_from_slice(b"ftyp");
            bytes.extend_from_slice(major);
            bytes.extend_from_slice(&[0; 4]);
            compatible.iter().for_each(|b| bytes.extend_from_slice(*b));
            bytes
        };
        assert_eq!(
            sniff(&ftyp(b"heic", &[b"mif1"])).ok(),
            Some(InputFormat::Heic)
        );
        assert_eq!(
            sniff(&ftyp(b"mif1", &[b"mif1", b"heic"])).ok(),
            Some(InputFormat::Heic)
        );
        assert_eq!(
            sniff(&ftyp(b"mif1", &[b"avif", b"miaf"])).ok(),
            Some(InputFormat::Avif)
        );
        assert_eq!(sniff(&ftyp(b"avif", &[])).ok(), Some(InputFormat::Avif));
        assert_eq!(sniff(&ftyp(b"msf1", &[])).ok(), Some(InputFormat::Heif));
        assert!(matches!(
            sniff(&ftyp(b"isom", &[b"mp41"])),
            Err(ImageError::UnsupportedFormat(_))
        ));
        assert!(
            matches!(sniff(b"%PDF-1.7\n"), Err(ImageError::UnsupportedFormat(f)) if f == "PDF")
        );
        assert!(matches!(sniff(b""), Err(ImageError::Empty)));
    }

    #[test]
    fn jpeg_markers_reassemble_the_icc_profile_and_see_adobe() {
        let segment = |kind: u8, payload: &[u8]| {
            let mut s = vec![0xFF, kind];
            s.extend_from_slice(&((payload.len() + 2) as u16).to_be_bytes());
            s.extend_from_slice(payload);
            s
        };
        let icc_chunk = |n: u8, data: &[u8]| {
            let mut p = b"ICC_PROFILE\0".to_vec();
            p.extend_from_slice(&[n, 2]);
            p.extend_from_slice(data);
            p
        };
        let mut jpeg = vec![0xFF, 0xD8];
        jpeg.extend(segment(0xE2, &icc_chunk(2, b"world")));
        jpeg.extend(segment(0xEE, b"Adobe\0\x64\0\0\0\0\x02"));
        jpeg.extend(segment(0xE2, &icc_chunk(1, b"hello ")));
        jpeg.extend([0xFF, 0xDA, 0, 2]);
        let markers = jpeg_markers(&jpeg);
        assert_eq!(markers.icc.as_deref(), Some(&b"hello world"[..]));
        assert!(markers.adobe);
        let plain = jpeg_markers(&[0xFF, 0xD8, 0xFF, 0xDA]);
        assert!(plain.icc.is_none() && !plain.adobe);
    }
}
