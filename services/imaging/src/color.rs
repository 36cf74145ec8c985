//! Colour management for every decoded input: pixels tagged with an ICC profile are converted to sRGB,
//! and CMYK JPEGs become RGB, so every result is sRGB (its encoders write no profile, and an untagged
//! image is read as sRGB everywhere).
//!
//! - **ICC → sRGB** ([`to_srgb`]): with `moxcms` (pure Rust, already in the tree through `image`), from
//!   the input's profile to moxcms' built-in sRGB, relative colorimetric (the profile's own intent is not
//!   consulted: photo profiles are matrix/TRC profiles, where intents coincide). A profile that is sRGB
//!   already is recognised by transforming a few probe colours first: when they come back unchanged (±1),
//!   the pixels are left as they are, which spares the full transform for the common case. A profile
//!   that does not parse, or that does not fit the pixels (a grey profile on RGB, CMYK on RGB), is
//!   ignored: the pixels are used as stored, as browsers do.
//! - **CMYK** ([`cmyk_to_rgb`]): JPEGs written by Adobe software (an `Adobe` APP14 segment) store CMYK
//!   inverted (255 = no ink); others store ink amounts. With an embedded CMYK profile, moxcms converts
//!   the inks to sRGB; without one, the naive `R = (255 − C)(255 − K) / 255` (what Pillow does).
//!
//! Grey images keep their grey values: a grey profile's curve is close to sRGB's, and converting would
//! turn L8 into RGB for no visible gain.

use image::{DynamicImage, RgbImage};
use moxcms::{ColorProfile, DataColorSpace, Layout, TransformOptions};

/// Colours tried before converting a whole image: the primaries, secondaries, greys and a few mixed
/// colours; if the profile maps each of them to itself (±1), it is sRGB for our purposes.
const PROBES: [[u8; 3]; 12] = [
    [255, 0, 0],
    [0, 255, 0],
    [0, 0, 255],
    [255, 255, 0],
    [0, 255, 255],
    [255, 0, 255],
    [0, 0, 0],
    [64, 64, 64],
    [128, 128, 128],
    [255, 255, 255],
    [200, 100, 50],
    [30, 160, 220],
];

/// What [`to_srgb`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Conversion {
    /// No profile, or one that is sRGB already: the pixels are unchanged.
    None,
    /// The pixels were converted from the embedded profile to sRGB.
    ToSrgb,
    /// The profile was unreadable or does not fit the pixels: they are used as stored.
    Ignored,
}

/// Converts 8-bit RGB or RGBA pixels described by the ICC profile `icc` to sRGB (alpha untouched);
/// other layouts, sRGB profiles and unusable profiles leave the image as it is (see the module docs).
pub fn to_srgb(image: DynamicImage, icc: Option<&[u8]>) -> (DynamicImage, Conversion) {
    let Some(icc) = icc.filter(|icc| !icc.is_empty()) else {
        return (image, Conversion::None);
    };
    let profile = match ColorProfile::new_from_slice(icc) {
        Ok(profile) => profile,
        Err(error) => {
            tracing::info!(%error, bytes = icc.len(), "unreadable ICC profile ignored");
            return (image, Conversion::Ignored);
        }
    };
    if profile.color_space != DataColorSpace::Rgb {
        // Grey profiles on grey pixels are kept (module docs); anything else does not describe RGB pixels.
        let conversion = if matches!(
            (&image, profile.color_space),
            (
                DynamicImage::ImageLuma8(_) | DynamicImage::ImageLumaA8(_),
                DataColorSpace::Gray
            )
        ) {
            Conversion::None
        } else {
            Conversion::Ignored
        };
        return (image, conversion);
    }
    let srgb = ColorProfile::new_srgb();
    let options = TransformOptions::default();
    let probe = match profile.create_transform_8bit(Layout::Rgb, &srgb, Layout::Rgb, options) {
        Ok(transform) => transform,
        Err(error) => {
            tracing::info!(%error, "ICC profile cannot be applied; ignored");
            return (image, Conversion::Ignored);
        }
    };
    let probes = PROBES.concat();
    let mut probed = vec![0u8; probes.len()];
    if probe.transform(&probes, &mut probed).is_err() {
        return (image, Conversion::Ignored);
    }
    if probes.iter().zip(&probed).all(|(a, b)| a.abs_diff(*b) <= 1) {
        return (image, Conversion::None);
    }
    match image {
        DynamicImage::ImageRgb8(rgb) => {
            let (width, height) = rgb.dimensions();
            let mut out = vec![0u8; rgb.as_raw().len()];
            if probe.transform(rgb.as_raw(), &mut out).is_err() {
                return (DynamicImage::ImageRgb8(rgb), Conversion::Ignored);
            }
            match RgbImage::from_raw(width, height, out) {
                Some(converted) => (DynamicImage::ImageRgb8(converted), Conversion::ToSrgb),
                None => (DynamicImage::ImageRgb8(rgb), Conversion::Ignored),
            }
        }
        DynamicImage::ImageRgba8(rgba) => {
            let transform =
                match profile.create_transform_8bit(Layout::Rgba, &srgb, Layout::Rgba, options) {
                    Ok(transform) => transform,
                    Err(_) => return (DynamicImage::ImageRgba8(rgba), Conversion::Ignored),
                };
            let (width, height) = rgba.dimensions();
            let mut out = vec![0u8; rgba.as_raw().len()];
            if transform.transform(rgba.as_raw(), &mut out).is_err() {
                return (DynamicImage::ImageRgba8(rgba), Conversion::Ignored);
            }
            match image::RgbaImage::from_raw(width, height, out) {
                Some(converted) => (DynamicImage::ImageRgba8(converted), Conversion::ToSrgb),
                None => (DynamicImage::ImageRgba8(rgba), Conversion::Ignored),
            }
        }
        // Grey pixels with an RGB profile: nothing sensible to do.
        other => (other, Conversion::Ignored),
    }
}

/// Converts packed CMYK pixels (4 bytes each, as libjpeg-turbo decodes a CMYK or YCCK JPEG) to RGB.
///
/// `inverted`: the values are Adobe's inverted ones (255 = no ink), as in every JPEG with an `Adobe`
/// APP14 segment. `icc`: the JPEG's embedded profile; a CMYK one converts the inks to sRGB, anything else
/// (none, unreadable, not CMYK) falls back to the naive formula. Returns `None` when `cmyk.len()` is not
/// `4 × width × height`.
pub fn cmyk_to_rgb(
    mut cmyk: Vec<u8>,
    width: u32,
    height: u32,
    inverted: bool,
    icc: Option<&[u8]>,
) -> Option<(RgbImage, Conversion)> {
    let pixels = usize::try_from(u64::from(width) * u64::from(height)).ok()?;
    if cmyk.len() != pixels.checked_mul(4)? {
        return None;
    }
    if inverted {
        for value in &mut cmyk {
            *value = 255 - *value;
        }
    }
    let profile = icc
        .and_then(|icc| ColorProfile::new_from_slice(icc).ok())
        .filter(|p| p.color_space == DataColorSpace::Cmyk);
    if let Some(profile) = profile {
        let srgb = ColorProfile::new_srgb();
        let transform = profile.create_transform_8bit(
            Layout::Rgba,
            &srgb,
            Layout::Rgb,
            TransformOptions::default(),
        );
        if let Ok(transform) = transform {
            let mut rgb = vec![0u8; pixels.checked_mul(3)?];
            if transform.transform(&cmyk, &mut rgb).is_ok() {
                return RgbImage::from_raw(width, height, rgb).map(|i| (i, Conversion::ToSrgb));
            }
        }
        tracing::info!("CMYK profile cannot be applied; converting naively");
    }
    let rgb = cmyk
        .chunks_exact(4)
        .flat_map(|p| {
            let white = 255 - u32::from(p[3]);
            let channel = |ink: u8| ((255 - u32::from(ink)) * white / 255) as u8;
            [channel(p[0]), channel(p[1]), channel(p[2])]
        })
        .collect();
    RgbImage::from_raw(width, height, rgb).map(|i| (i, Conversion::None))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "tests")]
mod tests {
    use super::*;

    #[test]
    fn srgb_profiles_leave_pixels_alone_and_display_p3_is_converted() {
        let image = DynamicImage::ImageRgb8(RgbImage::from_pixel(4, 4, image::Rgb([200, 100, 50])));
        let srgb = ColorProfile::new_srgb().encode().unwrap();
        let (same, conversion) = to_srgb(image.clone(), Some(&srgb));
        assert_eq!(conversion, Conversion::None);
        assert_eq!(same.to_rgb8().get_pixel(0, 0).0, [200, 100, 50]);
        let p3 = ColorProfile::new_display_p3().encode().unwrap();
        let (converted, conversion) = to_srgb(image.clone(), Some(&p3));
        assert_eq!(conversion, Conversion::ToSrgb);
        // P3 (200, 100, 50) is more saturated than sRGB can say: red goes up, green and blue down.
        let [r, g, b] = converted.to_rgb8().get_pixel(0, 0).0;
        assert!(r > 210 && g < 100 && b < 50, "{r} {g} {b}");
        let (kept, conversion) = to_srgb(image, Some(b"not a profile"));
        assert_eq!(conversion, Conversion::Ignored);
        assert_eq!(kept.to_rgb8().get_pixel(0, 0).0, [200, 100, 50]);
    }

    #[test]
    fn cmyk_naive_and_inverted() {
        // 100 % cyan, no black: (0, 255, 255); Adobe stores it as (0, 255, 255, 255) inverted.
        let (rgb, _) = cmyk_to_rgb(vec![255, 0, 0, 0], 1, 1, false, None).unwrap();
        assert_eq!(rgb.get_pixel(0, 0).0, [0, 255, 255]);
        let (rgb, _) = cmyk_to_rgb(vec![0, 255, 255, 255], 1, 1, true, None).unwrap();
        assert_eq!(rgb.get_pixel(0, 0).0, [0, 255, 255]);
        assert!(cmyk_to_rgb(vec![0; 7], 1, 2, false, None).is_none());
    }
}
