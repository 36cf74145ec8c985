//! HEIF/HEIC and AVIF decoding with libheif (Debian 12's libheif 1.15, through `libheif-rs`): HEVC-coded
//! images with libde265, AV1-coded ones with dav1d or libaom, whichever the library was built with.
//!
//! Only the primary image is decoded, to interleaved 8-bit RGB (RGBA when it has an alpha channel);
//! libheif applies the file's own transformations (rotation, mirroring, clean aperture), so the pixels
//! come out the way up (a HEIF's EXIF orientation is informative only and is not applied again). The
//! size is checked against the pixel limits from the container (`ispe`), before anything is decoded.
//! The colour profile is returned for [`crate::color::to_srgb`]: an ICC profile as stored, or a
//! Display P3 / BT.2020 profile for the matching `nclx` primaries (iPhones write either).
//!
//! libheif-rs 0.20 frees `DecodingOptions` before the call that uses them (fixed in 1.0.1, which needs
//! libheif 1.17), so decoding passes no options: libheif's defaults are what we want anyway.

use std::sync::OnceLock;

use image::{DynamicImage, RgbImage, RgbaImage};
use libheif_rs::{
    ColorPrimaries, ColorSpace, HeifContext, HeifError, HeifErrorCode, LibHeif, RgbChroma,
};

/// A decoded HEIF/AVIF primary image.
pub struct HeifImage {
    /// 8-bit RGB or RGBA pixels, transformations applied.
    pub image: DynamicImage,
    /// The ICC profile that describes the pixels, if any (see the module docs).
    pub icc: Option<Vec<u8>>,
}

/// Why a HEIF could not be decoded.
#[derive(Debug, thiserror::Error)]
pub enum HeifDecodeError {
    /// Not a valid HEIF/AVIF, or truncated.
    #[error("{0}")]
    Corrupt(String),
    /// A valid file with a feature or codec this libheif cannot decode.
    #[error("{0}")]
    Unsupported(String),
    /// libheif could not allocate memory.
    #[error("{0}")]
    OutOfMemory(String),
}

impl From<HeifError> for HeifDecodeError {
    fn from(error: HeifError) -> Self {
        let text = format!("{:?}/{:?}: {}", error.code, error.sub_code, error.message);
        match error.code {
            HeifErrorCode::UnsupportedFileType
            | HeifErrorCode::UnsupportedFeature
            | HeifErrorCode::PluginLoadingError => HeifDecodeError::Unsupported(text),
            HeifErrorCode::MemoryAllocationError => HeifDecodeError::OutOfMemory(text),
            _ => HeifDecodeError::Corrupt(text),
        }
    }
}

/// libheif initialised once for the process (`heif_init`; plugins, if any, are loaded then).
fn libheif() -> &'static LibHeif {
    static LIBHEIF: OnceLock<LibHeif> = OnceLock::new();
    LIBHEIF.get_or_init(LibHeif::new)
}

/// Reads the primary image's width and height (after transformations) and hands them to `check`
/// before decoding anything; then decodes it. Errors: `check`'s own, or [`HeifDecodeError`].
pub fn decode<E>(
    input: &[u8],
    check: impl FnOnce(u32, u32) -> Result<(), E>,
) -> Result<Result<HeifImage, HeifDecodeError>, E> {
    let context = match HeifContext::read_from_bytes(input) {
        Ok(context) => context,
        Err(error) => return Ok(Err(error.into())),
    };
    let handle = match context.primary_image_handle() {
        Ok(handle) => handle,
        Err(error) => return Ok(Err(error.into())),
    };
    check(handle.width(), handle.height())?;
    Ok(decode_handle(&handle))
}

/// What a HEIF/AVIF's container says of its primary image, without decoding it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HeifHeader {
    /// Width, pixels, after the file's own transformations (as a viewer shows it).
    pub width: u32,
    /// Height, pixels, after the transformations.
    pub height: u32,
    /// Whether the image has an alpha channel.
    pub has_alpha: bool,
    /// Bits per luma sample (8 for most photos; 10 for HDR iPhone pictures).
    pub bits_per_channel: u8,
    /// Whether an ICC profile is stored (`prof`/`rICC`).
    pub has_icc_profile: bool,
}

/// Reads the primary image's header from the container. Errors: [`HeifDecodeError`].
pub fn header(input: &[u8]) -> Result<HeifHeader, HeifDecodeError> {
    let context = HeifContext::read_from_bytes(input)?;
    let handle = context.primary_image_handle()?;
    Ok(HeifHeader {
        width: handle.width(),
        height: handle.height(),
        has_alpha: handle.has_alpha_channel(),
        bits_per_channel: handle.luma_bits_per_pixel(),
        has_icc_profile: handle.color_profile_raw().is_some(),
    })
}

fn decode_handle(handle: &libheif_rs::ImageHandle) -> Result<HeifImage, HeifDecodeError> {
    let alpha = handle.has_alpha_channel();
    let chroma = if alpha {
        RgbChroma::Rgba
    } else {
        RgbChroma::Rgb
    };
    let decoded = libheif().decode(handle, ColorSpace::Rgb(chroma), None)?;
    let planes = decoded.planes();
    let plane = planes
        .interleaved
        .ok_or_else(|| HeifDecodeError::Corrupt("no interleaved plane".into()))?;
    let channels: usize = if alpha { 4 } else { 3 };
    if plane.bits_per_pixel != 8 && usize::from(plane.storage_bits_per_pixel) != 8 * channels {
        return Err(HeifDecodeError::Unsupported(format!(
            "{} bits per pixel",
            plane.storage_bits_per_pixel
        )));
    }
    let (width, height) = (plane.width, plane.height);
    let row = width as usize * channels;
    let mut pixels = Vec::with_capacity(row * height as usize);
    for y in 0..height as usize {
        let start = y * plane.stride;
        let line = plane.data.get(start..start + row).ok_or_else(|| {
            HeifDecodeError::Corrupt("decoded plane shorter than its size".into())
        })?;
        pixels.extend_from_slice(line);
    }
    let image = if alpha {
        RgbaImage::from_raw(width, height, pixels).map(DynamicImage::ImageRgba8)
    } else {
        RgbImage::from_raw(width, height, pixels).map(DynamicImage::ImageRgb8)
    }
    .ok_or_else(|| HeifDecodeError::Corrupt("decoded buffer does not match its size".into()))?;
    Ok(HeifImage {
        image,
        icc: profile_of(handle),
    })
}

/// The ICC profile describing the handle's pixels: the stored one (`prof`/`rICC`), else one for the
/// `nclx` primaries when they are wider than sRGB's (Display P3, BT.2020); `None` for sRGB/unknown.
fn profile_of(handle: &libheif_rs::ImageHandle) -> Option<Vec<u8>> {
    if let Some(raw) = handle.color_profile_raw() {
        return Some(raw.data);
    }
    let nclx = handle.color_profile_nclx()?;
    let profile = match nclx.color_primaries() {
        // EG 432-1 is Display P3 (D65); RP 431-2, cinema P3 with its own white, is left alone.
        ColorPrimaries::SMPTE_EG_432_1 => moxcms::ColorProfile::new_display_p3(),
        ColorPrimaries::ITU_R_BT_2020_2_and_2100_0 => moxcms::ColorProfile::new_bt2020(),
        _ => return None,
    };
    profile.encode().ok()
}
