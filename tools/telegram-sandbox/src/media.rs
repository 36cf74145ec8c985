//! Media processing that makes files look the way Telegram delivers them: photos re-encoded into several
//! JPEG sizes with the EXIF orientation applied and metadata dropped, audio durations read from the file, and
//! MIME types guessed when the sender gave none.

use std::io::Cursor;

use bytes::Bytes;
use image::{
    DynamicImage, ImageDecoder, ImageReader, codecs::jpeg::JpegEncoder, imageops::FilterType,
};

/// The longest side of each size Telegram makes of a normal photo (its `s`, `m`, `x` and `y` sizes).
pub const PHOTO_SIDES: [u32; 4] = [90, 320, 800, 1280];

/// JPEG quality of the re-encoded sizes; Telegram's are close to this.
const JPEG_QUALITY: u8 = 87;

/// Why a photo could not be processed.
#[derive(Debug, thiserror::Error)]
pub enum MediaError {
    /// The bytes are not an image the sandbox can decode.
    #[error("can't decode the image: {0}")]
    Decode(#[from] image::ImageError),
    /// Reading the image failed.
    #[error("can't read the image: {0}")]
    Io(#[from] std::io::Error),
}

/// One re-encoded size of a photo.
#[derive(Debug, Clone)]
pub struct EncodedPhoto {
    /// JPEG bytes.
    pub bytes: Bytes,
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
}

/// Re-encodes a photo as Telegram does: EXIF orientation applied, metadata stripped, one JPEG per size in
/// [`PHOTO_SIDES`] that is smaller than the original, plus the original size capped at 1280; smallest first.
pub fn photo_sizes(data: &[u8]) -> Result<Vec<EncodedPhoto>, MediaError> {
    let mut decoder = ImageReader::new(Cursor::new(data))
        .with_guessed_format()?
        .into_decoder()?;
    let orientation = decoder.orientation()?;
    let mut image = DynamicImage::from_decoder(decoder)?;
    image.apply_orientation(orientation);
    let image = DynamicImage::ImageRgb8(image.to_rgb8());
    let longest = image.width().max(image.height()).max(1);
    let mut sides: Vec<u32> = PHOTO_SIDES
        .iter()
        .copied()
        .filter(|side| *side < longest)
        .collect();
    let top = longest.min(PHOTO_SIDES[PHOTO_SIDES.len() - 1]);
    if !sides.contains(&top) {
        sides.push(top);
    }
    // Resize from the largest size down: each step resamples an already small image.
    let mut out = Vec::with_capacity(sides.len());
    let mut source = image;
    for side in sides.iter().rev() {
        let (w, h) = fit(source.width(), source.height(), *side);
        let resized = if (w, h) == (source.width(), source.height()) {
            source
        } else {
            source.resize_exact(w, h, FilterType::Triangle)
        };
        let mut jpeg = Vec::new();
        JpegEncoder::new_with_quality(&mut jpeg, JPEG_QUALITY).encode_image(&resized)?;
        out.push(EncodedPhoto {
            bytes: Bytes::from(jpeg),
            width: w,
            height: h,
        });
        source = resized;
    }
    out.reverse();
    Ok(out)
}

/// Scales `(width, height)` so that the longest side is `side`, keeping the aspect ratio.
fn fit(width: u32, height: u32, side: u32) -> (u32, u32) {
    let longest = width.max(height).max(1);
    if longest <= side {
        return (width.max(1), height.max(1));
    }
    let scale = f64::from(side) / f64::from(longest);
    let w = ((f64::from(width) * scale).round() as u32).max(1);
    let h = ((f64::from(height) * scale).round() as u32).max(1);
    (w, h)
}

/// The duration in whole seconds (rounded) of an audio or video file, or `None` if it cannot be read.
/// OGG/Opus is read from the last page's granule position (48 kHz, minus the pre-skip); other formats
/// through symphonia.
pub fn duration_secs(data: &[u8]) -> Option<u32> {
    let secs = if data.starts_with(b"OggS") {
        ogg_opus_duration(data).or_else(|| symphonia_duration(data))
    } else {
        symphonia_duration(data)
    }?;
    Some(secs.round().max(0.0) as u32)
}

/// Duration of an OGG/Opus stream in seconds: the granule position of the last page counts 48 kHz samples,
/// including the pre-skip declared in the `OpusHead` packet (RFC 7845, section 4).
pub fn ogg_opus_duration(data: &[u8]) -> Option<f64> {
    let head = find(data, b"OpusHead")?;
    let pre_skip = u16::from_le_bytes([*data.get(head + 10)?, *data.get(head + 11)?]);
    let last = rfind(data, b"OggS")?;
    let granule_bytes: [u8; 8] = data.get(last + 6..last + 14)?.try_into().ok()?;
    let granule = i64::from_le_bytes(granule_bytes);
    if granule < 0 {
        return None;
    }
    Some((granule - i64::from(pre_skip)).max(0) as f64 / 48_000.0)
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn rfind(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).rposition(|w| w == needle)
}

fn symphonia_duration(data: &[u8]) -> Option<f64> {
    use symphonia::core::{
        formats::{FormatOptions, probe::Hint},
        io::MediaSourceStream,
        meta::MetadataOptions,
    };
    let source = MediaSourceStream::new(Box::new(Cursor::new(data.to_vec())), Default::default());
    let mut reader = symphonia::default::get_probe()
        .probe(
            &Hint::new(),
            source,
            FormatOptions::default(),
            MetadataOptions::default(),
        )
        .ok()?;
    let track = reader.tracks().first()?.clone();
    let time_base = track.time_base?;
    if let Some(duration) = track.duration {
        return time_base.calc_duration(duration).map(|t| t.as_secs_f64());
    }
    // No duration in the container (e.g. MP3 without a Xing header): add up the packets.
    let mut total: u64 = 0;
    while let Ok(Some(packet)) = reader.next_packet() {
        if packet.track_id == track.id {
            total = total.saturating_add(packet.dur.get());
        }
    }
    time_base
        .calc_duration(symphonia::core::units::Duration::from(total))
        .map(|t| t.as_secs_f64())
}

/// Width and height of the first video track of a container symphonia can read (MP4), if any.
pub fn video_size(data: &[u8]) -> Option<(u32, u32)> {
    use symphonia::core::{
        codecs::CodecParameters,
        formats::{FormatOptions, probe::Hint},
        io::MediaSourceStream,
        meta::MetadataOptions,
    };
    let source = MediaSourceStream::new(Box::new(Cursor::new(data.to_vec())), Default::default());
    let reader = symphonia::default::get_probe()
        .probe(
            &Hint::new(),
            source,
            FormatOptions::default(),
            MetadataOptions::default(),
        )
        .ok()?;
    reader
        .tracks()
        .iter()
        .find_map(|track| match &track.codec_params {
            Some(CodecParameters::Video(video)) => {
                Some((u32::from(video.width?), u32::from(video.height?)))
            }
            _ => None,
        })
}

/// Width, height and duration in seconds (the frame delays added up; a delay under 2/100 s counts as
/// 1/10 s, as browsers play it) of a GIF, read from its blocks without decoding a frame. A stream cut short
/// counts up to where it ends; `None` when it is not a GIF.
pub fn gif_info(data: &[u8]) -> Option<(u32, u32, f64)> {
    if !(data.starts_with(b"GIF87a") || data.starts_with(b"GIF89a")) {
        return None;
    }
    let width = u16::from_le_bytes([*data.get(6)?, *data.get(7)?]);
    let height = u16::from_le_bytes([*data.get(8)?, *data.get(9)?]);
    let table = |packed: u8| {
        if packed & 0x80 != 0 {
            3usize << ((packed & 7) + 1)
        } else {
            0
        }
    };
    let skip_sub_blocks = |mut pos: usize| -> Option<usize> {
        loop {
            let len = usize::from(*data.get(pos)?);
            pos += 1 + len;
            if len == 0 {
                return Some(pos);
            }
        }
    };
    let mut pos = 13 + table(*data.get(10)?);
    let mut centis: u64 = 0;
    loop {
        match data.get(pos) {
            Some(0x21) => {
                let label = data.get(pos + 1).copied();
                pos += 2;
                if label == Some(0xF9) && data.get(pos) == Some(&4) {
                    let (Some(lo), Some(hi)) = (data.get(pos + 2), data.get(pos + 3)) else {
                        break;
                    };
                    let delay = u16::from_le_bytes([*lo, *hi]);
                    centis += u64::from(if delay < 2 { 10 } else { delay });
                }
                match skip_sub_blocks(pos) {
                    Some(next) => pos = next,
                    None => break,
                }
            }
            Some(0x2C) => {
                let Some(packed) = data.get(pos + 9) else {
                    break;
                };
                // Image descriptor (10 bytes), local colour table, LZW minimum code size, image data.
                pos += 10 + table(*packed) + 1;
                match skip_sub_blocks(pos) {
                    Some(next) => pos = next,
                    None => break,
                }
            }
            _ => break,
        }
    }
    Some((u32::from(width), u32::from(height), centis as f64 / 100.0))
}

/// What a file sent as a sticker holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StickerFormat {
    /// A static image; `webp` is the image re-encoded as WebP when it was in another format (PNG, JPEG):
    /// Telegram's static stickers are WebP files.
    Static {
        /// Pixels.
        width: u32,
        /// Pixels.
        height: u32,
        /// The WebP bytes, when the input was not WebP already.
        webp: Option<Bytes>,
    },
    /// An animated sticker: gzip-compressed Lottie JSON (`.tgs`).
    Animated,
    /// A video sticker: WebM (VP9).
    Video,
}

/// Reads a sticker file: a TGS (gzip) is animated, a WebM a video sticker, anything else must be an image,
/// whose size is read and which is re-encoded as lossless WebP unless it is WebP already.
pub fn sticker_format(data: &[u8]) -> Result<StickerFormat, MediaError> {
    if data.starts_with(&[0x1f, 0x8b]) {
        return Ok(StickerFormat::Animated);
    }
    if data.starts_with(&[0x1a, 0x45, 0xdf, 0xa3]) {
        return Ok(StickerFormat::Video);
    }
    let reader = ImageReader::new(Cursor::new(data)).with_guessed_format()?;
    if reader.format() == Some(image::ImageFormat::WebP) {
        let (width, height) = reader.into_dimensions()?;
        return Ok(StickerFormat::Static {
            width,
            height,
            webp: None,
        });
    }
    let image = DynamicImage::ImageRgba8(reader.decode()?.to_rgba8());
    let mut webp = Vec::new();
    image.write_to(&mut Cursor::new(&mut webp), image::ImageFormat::WebP)?;
    Ok(StickerFormat::Static {
        width: image.width(),
        height: image.height(),
        webp: Some(Bytes::from(webp)),
    })
}

/// A MIME type for a file: from its name's extension, else from its first bytes, else
/// `application/octet-stream`.
pub fn guess_mime(file_name: Option<&str>, data: &[u8]) -> String {
    if let Some(mime) = file_name.and_then(|name| mime_guess::from_path(name).first()) {
        return mime.essence_str().to_owned();
    }
    let sniffed = if data.starts_with(b"\xFF\xD8\xFF") {
        "image/jpeg"
    } else if data.starts_with(b"\x89PNG") {
        "image/png"
    } else if data.starts_with(b"GIF8") {
        "image/gif"
    } else if data.starts_with(b"RIFF") && data.get(8..12) == Some(b"WEBP") {
        "image/webp"
    } else if data.starts_with(b"RIFF") && data.get(8..12) == Some(b"WAVE") {
        "audio/x-wav"
    } else if data.starts_with(&[0x1a, 0x45, 0xdf, 0xa3]) {
        "video/webm"
    } else if data.starts_with(b"%PDF") {
        "application/pdf"
    } else if data.starts_with(b"OggS") {
        "audio/ogg"
    } else if data.starts_with(b"ID3")
        || data.starts_with(b"\xFF\xFB")
        || data.starts_with(b"\xFF\xF3")
    {
        "audio/mpeg"
    } else if data.get(4..8) == Some(b"ftyp") {
        if data.get(8..11) == Some(b"M4A") {
            "audio/mp4"
        } else {
            "video/mp4"
        }
    } else {
        "application/octet-stream"
    };
    sniffed.to_owned()
}

/// The usual file extension for a MIME type, for `file_path`s.
pub fn extension_for(mime: &str, file_name: Option<&str>) -> String {
    if let Some(ext) = file_name
        .and_then(|n| n.rsplit_once('.'))
        .map(|(_, ext)| ext)
        && !ext.is_empty()
        && ext.len() <= 8
        && ext.chars().all(|c| c.is_ascii_alphanumeric())
    {
        return ext.to_ascii_lowercase();
    }
    match mime {
        "image/jpeg" => "jpg",
        "image/png" => "png",
        "audio/ogg" => "oga",
        "audio/mpeg" => "mp3",
        "audio/mp4" => "m4a",
        "audio/x-wav" => "wav",
        "video/mp4" => "mp4",
        "video/webm" => "webm",
        "image/webp" => "webp",
        "image/gif" => "gif",
        "application/x-tgsticker" => "tgs",
        "application/pdf" => "pdf",
        _ => "bin",
    }
    .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(path: &str) -> Vec<u8> {
        std::fs::read(format!(
            "{}/../../../shared/fixtures/{path}",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap()
    }

    #[test]
    fn voice_duration_from_ogg_granule() {
        assert_eq!(duration_secs(&fixture("audio/jfk-voice.ogg")), Some(11));
    }

    #[test]
    fn durations_through_symphonia() {
        for file in ["audio/jfk.mp3", "audio/jfk.m4a", "audio/jfk.wav"] {
            assert_eq!(duration_secs(&fixture(file)), Some(11), "{file}");
        }
    }

    #[test]
    fn photo_sizes_capped_and_oriented() {
        let sizes = photo_sizes(&fixture("images/nokia-8.3-4608x1976.jpg")).unwrap();
        let sides: Vec<u32> = sizes.iter().map(|s| s.width.max(s.height)).collect();
        assert_eq!(sides, vec![90, 320, 800, 1280]);
        // Orientation 6 (rotate 90°) turns the stored landscape into portrait... or the reverse; either way
        // all four orientation fixtures must come out with the same shape.
        let shapes: Vec<(u32, u32)> = [1, 3, 6, 8]
            .iter()
            .map(|n| {
                let sizes = photo_sizes(&fixture(&format!("images/orientation/landscape_{n}.jpg")))
                    .unwrap();
                let last = sizes.last().unwrap();
                (last.width, last.height)
            })
            .collect();
        assert!(shapes.iter().all(|s| *s == shapes[0]), "{shapes:?}");
    }

    #[test]
    fn gif_size_and_duration_from_its_blocks() {
        let mut gif = Vec::new();
        {
            let mut encoder = image::codecs::gif::GifEncoder::new(&mut gif);
            let frame = |ms| {
                image::Frame::from_parts(
                    image::RgbaImage::from_pixel(7, 5, image::Rgba([1, 2, 3, 255])),
                    0,
                    0,
                    image::Delay::from_numer_denom_ms(ms, 1),
                )
            };
            // 1.2 s, 0.3 s and a zero delay that players show for 0.1 s.
            encoder
                .encode_frames([frame(1200), frame(300), frame(0)])
                .unwrap();
        }
        let (w, h, secs) = gif_info(&gif).unwrap();
        assert_eq!((w, h), (7, 5));
        assert!((secs - 1.6).abs() < 1e-9, "{secs}");
        // Cut short: the frames up to the cut still count; not a GIF at all: None.
        let (_, _, cut) = gif_info(&gif[..gif.len() - 20]).unwrap();
        assert!(cut >= 1.2, "{cut}");
        assert!(gif_info(b"\x89PNG....").is_none());
    }

    #[test]
    fn mime_guessing() {
        assert_eq!(guess_mime(Some("a.pdf"), b""), "application/pdf");
        assert_eq!(guess_mime(None, b"OggS...."), "audio/ogg");
        assert_eq!(guess_mime(None, b"zzzz"), "application/octet-stream");
    }
}
