//! `image.add_text`: the user's text drawn onto the image — Cyrillic, Latin and colour emoji, shaped
//! (cosmic-text: HarfRust shaping, per-character font fallback to the emoji font), wrapped to the image's
//! width and centred line by line, at the top, centre or bottom, optionally on a translucent plate with
//! soft edges.
//!
//! Layout, all in pixels of the oriented image (W × H, shorter side S):
//!
//! - font size: `size_px`, or the preset's share of S (`TextSize::share_of_short_side`: 4 % … 13 %),
//!   at least 8 px; bold sans-serif ([`Fonts::sans_serif`]), line height 1.2 × the size;
//! - lines wrap at word boundaries (inside a word only when it alone is too wide) to W less 5 % margins;
//! - the block's top is `offset` % of H below the top edge (top), its bottom `offset` % above the bottom
//!   edge (bottom, the default, 10 %), or it is centred; it never leaves the image;
//! - the plate is the block's box plus 0.4 × size left and right and 0.2 × size above and below, in
//!   black or white at its opacity (default 50 %), its edges blurred over the radius (default 5 px): the
//!   blur of a rectangle is separable, so its alpha is the product of two blurred steps, computed exactly
//!   per row and column instead of blurring a layer;
//! - with no colour given, the text is white on a black plate, black on a white one, and without a plate
//!   white or black, whichever contrasts more with the mean luminance of the pixels under the block.
//!
//! Output: the format rules of every operation ([`pipeline::output_format`]: JPEG stays JPEG at quality
//! 95, PNG/WebP/GIF/BMP/TIFF become PNG with their alpha), oriented, sRGB, no metadata; the preview is
//! made from the result, so the thumbnail shows the text.

use cosmic_text::{Align, Attrs, Buffer, Color, Family, Metrics, Shaping, Weight, Wrap};
use image::DynamicImage;
use mediabot_proto::catalog::ADD_TEXT_SIZE_PX;
use mediabot_proto::jobs::v1::{AddText, Operation, TextPlate, TextPosition, TextSize};

use crate::fonts::Fonts;
use crate::pipeline::{self, ImageError, Limits, Output};

/// Line height as a multiple of the font size.
const LINE_HEIGHT: f32 = 1.2;
/// Margin left and right of the text, share of the width.
const MARGIN: f32 = 0.05;
/// The plate's padding around the text block, multiples of the font size (horizontal, vertical).
const PLATE_PADDING: (f32, f32) = (0.4, 0.2);
/// Mean luminance (0–255) above which automatic text is black instead of white.
const LIGHT_BACKGROUND: f32 = 150.0;

/// How big the text is.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Size {
    /// A share of the image's shorter side.
    Preset(TextSize),
    /// Pixels.
    Px(u32),
}

/// The plate behind the text.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Plate {
    /// Its colour.
    pub rgb: [u8; 3],
    /// Opacity, 0–1.
    pub opacity: f32,
    /// Blur radius of its edges, pixels.
    pub blur_px: u32,
}

/// A checked `AddText`: what to draw and how.
#[derive(Debug, Clone, PartialEq)]
pub struct Spec {
    /// The text, 1–200 characters; `\n` starts a new line.
    pub text: String,
    /// Font size.
    pub size: Size,
    /// Text colour; `None`: automatic contrast.
    pub color: Option<[u8; 3]>,
    /// Top, center or bottom.
    pub position: TextPosition,
    /// Distance from the top or bottom edge, percent of the height.
    pub offset_pct: u32,
    /// The plate, if any.
    pub plate: Option<Plate>,
}

/// An `AddText` the catalog refuses (empty or too long text, a size, offset, opacity or blur out of
/// range).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct InvalidSpec(pub String);

impl TryFrom<&AddText> for Spec {
    type Error = InvalidSpec;

    fn try_from(params: &AddText) -> Result<Self, InvalidSpec> {
        Operation::add_text(params.clone())
            .validate()
            .map_err(|e| InvalidSpec(e.to_string()))?;
        let plate = match params.plate_kind() {
            TextPlate::Black => Some([0, 0, 0]),
            TextPlate::White => Some([255, 255, 255]),
            TextPlate::None | TextPlate::Unspecified => None,
        };
        Ok(Spec {
            // Windows line ends and tabs would show as boxes.
            text: params.text.replace("\r\n", "\n").replace(['\r', '\t'], " "),
            size: if params.size_px == 0 {
                Size::Preset(params.size_preset())
            } else {
                Size::Px(params.size_px)
            },
            color: params
                .color_rgb
                .map(|c| [(c >> 16) as u8, (c >> 8) as u8, c as u8]),
            position: params.placement(),
            offset_pct: params.offset(),
            plate: plate.map(|rgb| Plate {
                rgb,
                opacity: params.opacity() as f32 / 100.0,
                blur_px: params.blur(),
            }),
        })
    }
}

/// Where the text went: the block's box and its font size, in pixels of the result (for tests and logs).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Placed {
    /// Left, top, right, bottom of the text block (line boxes, before the plate's padding).
    pub block: (u32, u32, u32, u32),
    /// Font size, pixels.
    pub font_px: f32,
    /// Lines after wrapping.
    pub lines: usize,
    /// The text colour used.
    pub color: [u8; 3],
}

/// Draws the text onto an image and encodes it (see the module docs).
///
/// Errors: [`ImageError`] — `Empty`/`Corrupt` (CORRUPT_INPUT), `UnsupportedFormat`, `TooManyPixels`/
/// `OutputTooLarge` (TOO_LARGE), `Encode` (INTERNAL).
pub fn add_text(
    input: &[u8],
    spec: &Spec,
    fonts: &Fonts,
    limits: &Limits,
) -> Result<Output, ImageError> {
    let decoded = pipeline::decode(input, limits, 1)?;
    let format = pipeline::output_format(&decoded);
    let (input_format, frames) = (decoded.format_name(), decoded.frames);
    let image = pipeline::orient(decoded);
    let (image, placed) = render(image, spec, fonts);
    tracing::debug!(?placed, "text drawn");
    let preview = pipeline::preview_jpeg(&image);
    let mut output = pipeline::finish(&image, format, limits)?.with_input(input_format, frames);
    output.preview_jpeg = preview.unwrap_or_default();
    Ok(output)
}

/// Draws the text onto `image` (converted to Rgb8, or Rgba8 when it has alpha) and says where.
pub fn render(image: DynamicImage, spec: &Spec, fonts: &Fonts) -> (DynamicImage, Placed) {
    let mut canvas = Canvas::from(image);
    let (width, height) = (canvas.width as f32, canvas.height as f32);
    let font_px = match spec.size {
        Size::Px(px) => px as f32,
        Size::Preset(preset) => width.min(height) * preset.share_of_short_side(),
    }
    .max(*ADD_TEXT_SIZE_PX.start() as f32);
    let margin = (width * MARGIN).round();
    let wrap_width = (width - 2.0 * margin).max(font_px);

    let placed = fonts.with_shaper(|shaper| {
        let font_system = &mut shaper.font_system;
        let mut buffer = Buffer::new(font_system, Metrics::new(font_px, font_px * LINE_HEIGHT));
        buffer.set_wrap(Wrap::WordOrGlyph);
        buffer.set_size(Some(wrap_width), None);
        let attrs = Attrs::new().family(Family::SansSerif).weight(Weight::BOLD);
        buffer.set_text(&spec.text, &attrs, Shaping::Advanced, Some(Align::Center));
        buffer.shape_until_scroll(font_system, false);

        // The block: from the leftmost to the rightmost glyph, from the first line's top to the last's
        // bottom.
        let (mut left, mut right, mut bottom, mut lines) = (f32::MAX, 0.0f32, 0.0f32, 0);
        for run in buffer.layout_runs() {
            lines += 1;
            bottom = bottom.max(run.line_top + run.line_height);
            for glyph in run.glyphs {
                left = left.min(glyph.x);
                right = right.max(glyph.x + glyph.w);
            }
        }
        if lines == 0 || left > right {
            (left, right) = (0.0, 0.0);
        }
        let block_height = bottom;
        let offset = height * spec.offset_pct as f32 / 100.0;
        let top = match spec.position {
            TextPosition::Top => offset,
            TextPosition::Center => (height - block_height) / 2.0,
            TextPosition::Bottom | TextPosition::Unspecified => height - offset - block_height,
        }
        .clamp(0.0, (height - block_height).max(0.0))
        .round();
        let block = (
            (margin + left).floor().max(0.0),
            top,
            (margin + right).ceil().min(width),
            (top + block_height).ceil().min(height),
        );

        if let Some(plate) = spec.plate {
            let (pad_x, pad_y) = (PLATE_PADDING.0 * font_px, PLATE_PADDING.1 * font_px);
            canvas.plate(
                (
                    block.0 - pad_x,
                    block.1 - pad_y,
                    block.2 + pad_x,
                    block.3 + pad_y,
                ),
                plate,
            );
        }
        let color = spec.color.unwrap_or_else(|| match spec.plate {
            // A light plate takes black text, a dark one white.
            Some(plate) if plate.opacity >= 0.3 && plate.rgb[0] > 127 => [0, 0, 0],
            Some(plate) if plate.opacity >= 0.3 => [255, 255, 255],
            _ if canvas.mean_luminance(block) > LIGHT_BACKGROUND => [0, 0, 0],
            _ => [255, 255, 255],
        });

        let origin = (margin as i32, top as i32);
        let base = Color::rgb(color[0], color[1], color[2]);
        buffer.draw(font_system, &mut shaper.cache, base, |x, y, w, h, pixel| {
            // Glyph pixels come one at a time; decorations (none here) as rectangles.
            for dy in 0..h as i32 {
                for dx in 0..w as i32 {
                    canvas.blend(
                        origin.0 + x + dx,
                        origin.1 + y + dy,
                        [pixel.r(), pixel.g(), pixel.b()],
                        f32::from(pixel.a()) / 255.0,
                    );
                }
            }
        });
        Placed {
            block: (
                block.0 as u32,
                block.1 as u32,
                block.2 as u32,
                block.3 as u32,
            ),
            font_px,
            lines,
            color,
        }
    });
    (canvas.into_image(), placed)
}

/// 8-bit RGB or RGBA pixels to draw on.
struct Canvas {
    pixels: Vec<u8>,
    channels: usize,
    width: u32,
    height: u32,
}

impl From<DynamicImage> for Canvas {
    fn from(image: DynamicImage) -> Self {
        let (width, height) = (image.width(), image.height());
        let (pixels, channels) = match image {
            DynamicImage::ImageRgb8(rgb) => (rgb.into_raw(), 3),
            DynamicImage::ImageRgba8(rgba) => (rgba.into_raw(), 4),
            other if other.color().has_alpha() => (other.into_rgba8().into_raw(), 4),
            other => (other.into_rgb8().into_raw(), 3),
        };
        Canvas {
            pixels,
            channels,
            width,
            height,
        }
    }
}

impl Canvas {
    fn into_image(self) -> DynamicImage {
        let (w, h) = (self.width, self.height);
        let image = if self.channels == 4 {
            image::RgbaImage::from_raw(w, h, self.pixels).map(DynamicImage::ImageRgba8)
        } else {
            image::RgbImage::from_raw(w, h, self.pixels).map(DynamicImage::ImageRgb8)
        };
        // The buffer came from an image of this size, so this cannot fail.
        image.unwrap_or_default()
    }

    /// Blends `rgb` at coverage `alpha` (0–1) over the pixel at (x, y); outside the image nothing happens.
    /// With an alpha channel the result is "over" compositing.
    fn blend(&mut self, x: i32, y: i32, rgb: [u8; 3], alpha: f32) {
        if alpha <= 0.0 || x < 0 || y < 0 || x as u32 >= self.width || y as u32 >= self.height {
            return;
        }
        let i = (y as usize * self.width as usize + x as usize) * self.channels;
        let a = alpha.min(1.0);
        let pixel = &mut self.pixels[i..i + self.channels];
        if self.channels == 4 {
            let below = f32::from(pixel[3]) / 255.0;
            let out = a + below * (1.0 - a);
            if out > 0.0 {
                for (channel, &value) in pixel.iter_mut().zip(&rgb) {
                    let mixed =
                        (f32::from(value) * a + f32::from(*channel) * below * (1.0 - a)) / out;
                    *channel = round_u8(mixed);
                }
            }
            pixel[3] = round_u8(out * 255.0);
        } else {
            for (channel, &value) in pixel.iter_mut().zip(&rgb) {
                let mixed = f32::from(value) * a + f32::from(*channel) * (1.0 - a);
                *channel = round_u8(mixed);
            }
        }
    }

    /// A plate over the box (left, top, right, bottom), its edges blurred: the alpha at (x, y) is the
    /// opacity times the blurred step of each axis ([`soft_step`]), which is what blurring a filled
    /// rectangle with a separable kernel gives.
    fn plate(&mut self, (left, top, right, bottom): (f32, f32, f32, f32), plate: Plate) {
        let radius = plate.blur_px as f32;
        let x_range = span(left, right, radius, self.width);
        let y_range = span(top, bottom, radius, self.height);
        let columns: Vec<f32> = x_range
            .clone()
            .map(|x| soft_step(x as f32 + 0.5, left, right, radius))
            .collect();
        for y in y_range {
            let row = soft_step(y as f32 + 0.5, top, bottom, radius) * plate.opacity;
            if row <= 0.0 {
                continue;
            }
            if self.channels == 3 {
                // The common case (photos) in integer arithmetic over the row's slice: the coverage in
                // 1/255 steps, as 8-bit alpha compositing does.
                let row_start = y as usize * self.width as usize;
                let range = (row_start + x_range.start as usize) * 3
                    ..(row_start + x_range.end as usize) * 3;
                let Some(pixels) = self.pixels.get_mut(range) else {
                    continue;
                };
                for (pixel, column) in pixels.chunks_exact_mut(3).zip(&columns) {
                    let a = u32::from(round_u8(row * column * 255.0));
                    for (channel, &value) in pixel.iter_mut().zip(&plate.rgb) {
                        let mixed = u32::from(value) * a + u32::from(*channel) * (255 - a);
                        *channel = ((mixed + 127) / 255) as u8;
                    }
                }
            } else {
                for (x, column) in x_range.clone().zip(&columns) {
                    self.blend(x as i32, y as i32, plate.rgb, row * column);
                }
            }
        }
    }

    /// Mean luminance (Rec. 601, 0–255) of the box, sampled on a grid of at most about 64 × 64 points.
    fn mean_luminance(&self, (left, top, right, bottom): (f32, f32, f32, f32)) -> f32 {
        let (x0, x1) = (left.max(0.0) as u32, (right as u32).min(self.width));
        let (y0, y1) = (top.max(0.0) as u32, (bottom as u32).min(self.height));
        if x0 >= x1 || y0 >= y1 {
            return 0.0;
        }
        let step_x = ((x1 - x0) / 64).max(1);
        let step_y = ((y1 - y0) / 64).max(1);
        let (mut sum, mut count) = (0.0f32, 0u32);
        for y in (y0..y1).step_by(step_y as usize) {
            for x in (x0..x1).step_by(step_x as usize) {
                let i = (y as usize * self.width as usize + x as usize) * self.channels;
                let p = &self.pixels[i..i + 3];
                sum += 0.299 * f32::from(p[0]) + 0.587 * f32::from(p[1]) + 0.114 * f32::from(p[2]);
                count += 1;
            }
        }
        sum / count.max(1) as f32
    }
}

/// `value` (0–255) rounded to the nearest integer, halves up: what `f32::round` gives for it, without
/// the `roundf` call that the baseline x86-64 target makes of `round` (it was a third of add-text's time
/// on a 1280×960 picture, in the plate's per-pixel blend).
fn round_u8(value: f32) -> u8 {
    (value + 0.5) as u8
}

/// The pixel indices a blurred interval [from, to) with `radius` can touch, within 0..limit.
fn span(from: f32, to: f32, radius: f32, limit: u32) -> std::ops::Range<u32> {
    let start = (from - radius).floor().max(0.0) as u32;
    let end = ((to + radius).ceil().max(0.0) as u32).min(limit);
    start.min(end)..end
}

/// The indicator of [from, to) blurred with a box of half-width `radius` and smoothed (smoothstep), at
/// `t`: 1 well inside, 0 well outside, a soft ramp of 2 × radius across each edge; a hard edge when the
/// radius is 0.
fn soft_step(t: f32, from: f32, to: f32, radius: f32) -> f32 {
    let ramp = |d: f32| {
        if radius <= 0.0 {
            return if d >= 0.0 { 1.0 } else { 0.0 };
        }
        let s = ((d + radius) / (2.0 * radius)).clamp(0.0, 1.0);
        s * s * (3.0 - 2.0 * s)
    };
    ramp(t - from) * ramp(to - t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs_resolve_defaults_and_refuse_bad_options() {
        let spec = Spec::try_from(&AddText::with_text("Привет")).unwrap();
        assert_eq!(spec.size, Size::Preset(TextSize::Normal));
        assert_eq!(spec.position, TextPosition::Bottom);
        assert_eq!(spec.offset_pct, 10);
        assert_eq!(spec.plate, None);
        assert_eq!(spec.color, None);
        let black = AddText {
            plate: TextPlate::Black as i32,
            color_rgb: Some(0xff0000),
            ..AddText::with_text("a\r\nb\tc")
        };
        let spec = Spec::try_from(&black).unwrap();
        assert_eq!(spec.text, "a\nb c");
        assert_eq!(spec.color, Some([255, 0, 0]));
        assert_eq!(
            spec.plate,
            Some(Plate {
                rgb: [0, 0, 0],
                opacity: 0.5,
                blur_px: 5
            })
        );
        assert!(Spec::try_from(&AddText::with_text("")).is_err());
        assert!(
            Spec::try_from(&AddText {
                size_px: 2,
                ..AddText::with_text("a")
            })
            .is_err()
        );
    }

    #[test]
    fn soft_steps_ramp_across_the_edges() {
        assert_eq!(soft_step(5.0, 0.0, 10.0, 0.0), 1.0);
        assert_eq!(soft_step(10.5, 0.0, 10.0, 0.0), 0.0);
        assert!((soft_step(0.0, 0.0, 10.0, 2.0) - 0.5).abs() < 1e-6);
        assert_eq!(soft_step(5.0, 0.0, 10.0, 2.0), 1.0);
        assert_eq!(soft_step(-3.0, 0.0, 10.0, 2.0), 0.0);
        assert_eq!(span(10.0, 20.0, 5.0, 100), 5..25);
        assert_eq!(span(-10.0, 200.0, 5.0, 100), 0..100);
    }
}
