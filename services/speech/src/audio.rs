//! Audio decoding: any common audio file in, 16 kHz mono `f32` PCM out — the only input whisper.cpp takes.
//!
//! The container is sniffed from the bytes, never taken from a declared MIME type or file name:
//!
//! - OGG whose first packet is `OpusHead` (Telegram voice notes): demuxed with `ogg` and decoded by libopus
//!   (`opus` crate) straight at 16 kHz mono, so no resampling is needed. The header's pre-skip is dropped
//!   and the end is trimmed to the last page's granule position (RFC 7845 §4).
//! - Everything else (MP3, AAC in MP4/M4A or ADTS, WAV, FLAC, OGG/Vorbis): demuxed and decoded by symphonia,
//!   downmixed to mono by averaging the channels, and resampled to 16 kHz with rubato's FFT resampler.
//!
//! Everything here is synchronous and CPU-bound: callers run it on a blocking thread.

use std::io::Cursor;
use std::time::Duration;

use rubato::audioadapter_buffers::direct::InterleavedSlice;
use rubato::{Fft, FixedSync, Resampler as _};
use symphonia::core::codecs::audio::AudioDecoderOptions;
use symphonia::core::errors::Error as SymphoniaError;
use symphonia::core::formats::probe::Hint;
use symphonia::core::formats::{FormatOptions, TrackType};
use symphonia::core::io::MediaSourceStream;
use symphonia::core::meta::MetadataOptions;

/// The sample rate whisper.cpp expects, in Hz.
pub const SAMPLE_RATE_HZ: u32 = 16_000;

/// Opus timestamps (pre-skip, granule positions) always count 48 kHz samples (RFC 7845 §4).
const OPUS_GRANULE_RATE_HZ: u64 = 48_000;
/// The largest Opus packet is 120 ms; at 16 kHz that is 1920 samples.
const OPUS_MAX_PACKET_SAMPLES: usize = 1920;
/// Input frames per resampler chunk; a power of two keeps the FFTs cheap.
const RESAMPLER_CHUNK_FRAMES: usize = 1024;

/// Decoded audio: 16 kHz mono PCM.
#[derive(Debug, Clone)]
pub struct Pcm {
    /// Samples at [`SAMPLE_RATE_HZ`], nominally in `-1.0..=1.0`.
    pub samples: Vec<f32>,
    /// Length of the audio (`samples.len() / 16000` seconds).
    pub duration: Duration,
}

impl Pcm {
    /// Wraps 16 kHz mono samples (`-1.0..=1.0`).
    pub fn new(samples: Vec<f32>) -> Self {
        let duration = duration_of(samples.len() as u64, SAMPLE_RATE_HZ);
        Self { samples, duration }
    }

    /// Root-mean-square level of the whole signal, `0.0..=1.0` (0 for no samples).
    pub fn rms(&self) -> f32 {
        if self.samples.is_empty() {
            return 0.0;
        }
        let sum: f64 = self
            .samples
            .iter()
            .map(|&s| f64::from(s) * f64::from(s))
            .sum();
        (sum / self.samples.len() as f64).sqrt() as f32
    }
}

/// Why audio could not be decoded. Each variant maps to a `FailureReason` the user is told about.
#[derive(Debug, thiserror::Error)]
pub enum AudioError {
    /// Empty, truncated or malformed data in a recognised container (`FAILURE_REASON_CORRUPT_INPUT`).
    #[error("corrupt audio: {0}")]
    Corrupt(String),
    /// Not audio, or a container/codec this service does not decode (`FAILURE_REASON_UNSUPPORTED_FORMAT`).
    #[error("unsupported audio format: {0}")]
    Unsupported(String),
    /// Longer than the configured limit (`FAILURE_REASON_TOO_LARGE`).
    #[error("audio is longer than the limit of {limit_secs} s")]
    TooLong {
        /// The limit, seconds.
        limit_secs: u64,
    },
}

/// Decodes `bytes` (a whole audio file) to 16 kHz mono PCM, refusing audio longer than `max_duration`.
///
/// The duration is checked from the container's header where it has one, and otherwise while decoding, so
/// an over-long file is refused without decoding all of it.
///
/// Errors: [`AudioError::Corrupt`] for empty or malformed data, [`AudioError::Unsupported`] for data that is
/// not audio in a supported format, [`AudioError::TooLong`] past `max_duration`.
pub fn decode_to_16k_mono(bytes: &[u8], max_duration: Duration) -> Result<Pcm, AudioError> {
    if bytes.is_empty() {
        return Err(AudioError::Corrupt("no data".into()));
    }
    if bytes.starts_with(b"OggS") && first_ogg_packet_is_opus_head(bytes) {
        return decode_ogg_opus(bytes, max_duration);
    }
    decode_with_symphonia(bytes, max_duration)
}

fn duration_of(frames: u64, rate_hz: u32) -> Duration {
    Duration::from_secs_f64(frames as f64 / f64::from(rate_hz.max(1)))
}

fn max_frames(max_duration: Duration, rate_hz: u32) -> u64 {
    (max_duration.as_secs_f64() * f64::from(rate_hz)).ceil() as u64
}

fn too_long(max_duration: Duration) -> AudioError {
    AudioError::TooLong {
        limit_secs: max_duration.as_secs(),
    }
}

fn first_ogg_packet_is_opus_head(bytes: &[u8]) -> bool {
    let mut reader = ogg::PacketReader::new(Cursor::new(bytes));
    matches!(reader.read_packet(), Ok(Some(packet)) if packet.data.starts_with(b"OpusHead"))
}

/// The parts of the `OpusHead` identification header (RFC 7845 §5.1) that decoding needs.
struct OpusHead {
    channels: u8,
    /// Samples at 48 kHz to drop from the start of the decoded stream.
    pre_skip: u16,
    mapping_family: u8,
}

impl OpusHead {
    fn parse(data: &[u8]) -> Result<Self, AudioError> {
        if data.len() < 19 || !data.starts_with(b"OpusHead") {
            return Err(AudioError::Corrupt("OpusHead header too short".into()));
        }
        let version = data[8];
        // Versions 0-15 are compatible with version 1; higher major versions are not.
        if version > 15 {
            return Err(AudioError::Unsupported(format!(
                "Ogg Opus version {version}"
            )));
        }
        Ok(Self {
            channels: data[9],
            pre_skip: u16::from_le_bytes([data[10], data[11]]),
            mapping_family: data[18],
        })
    }
}

fn decode_ogg_opus(bytes: &[u8], max_duration: Duration) -> Result<Pcm, AudioError> {
    let mut reader = ogg::PacketReader::new(Cursor::new(bytes));
    let corrupt = |e: ogg::OggReadError| AudioError::Corrupt(format!("ogg: {e}"));
    let head_packet = reader
        .read_packet()
        .map_err(corrupt)?
        .ok_or_else(|| AudioError::Corrupt("no packets".into()))?;
    let head = OpusHead::parse(&head_packet.data)?;
    let serial = head_packet.stream_serial();
    if head.mapping_family != 0 || !(1..=2).contains(&head.channels) {
        // Families 1 and 255 are multistream (surround); no messenger sends them.
        return Err(AudioError::Unsupported(format!(
            "Ogg Opus with channel mapping family {} and {} channels",
            head.mapping_family, head.channels
        )));
    }
    // libopus downmixes a stereo stream itself when the decoder is mono, and resamples internally to any
    // of its supported output rates, 16 kHz included.
    let mut decoder = opus::Decoder::new(SAMPLE_RATE_HZ, opus::Channels::Mono)
        .map_err(|e| AudioError::Corrupt(format!("opus decoder: {e}")))?;
    let ratio = OPUS_GRANULE_RATE_HZ / u64::from(SAMPLE_RATE_HZ);
    let limit = max_frames(max_duration, SAMPLE_RATE_HZ);
    let mut samples: Vec<f32> = Vec::new();
    let mut buffer = vec![0.0f32; OPUS_MAX_PACKET_SAMPLES];
    let mut last_granule: Option<u64> = None;
    let mut skipped_tags = false;
    while let Some(packet) = reader.read_packet().map_err(corrupt)? {
        if packet.stream_serial() != serial {
            // A chained or multiplexed stream; only the first logical stream is speech we know how to read.
            continue;
        }
        if !skipped_tags {
            // The second packet is OpusTags (comments), not audio.
            skipped_tags = true;
            continue;
        }
        let n = decoder
            .decode_float(&packet.data, &mut buffer, false)
            .map_err(|e| AudioError::Corrupt(format!("opus packet: {e}")))?;
        samples.extend_from_slice(&buffer[..n.min(buffer.len())]);
        if packet.last_in_page() {
            last_granule = Some(packet.absgp_page());
        }
        let skip = u64::from(head.pre_skip) / ratio;
        if samples.len() as u64 > limit + skip {
            return Err(too_long(max_duration));
        }
    }
    if !skipped_tags {
        return Err(AudioError::Corrupt(
            "Ogg Opus stream has no audio packets".into(),
        ));
    }
    // The last granule position is the end of the playable audio in 48 kHz samples, pre-skip included;
    // whatever the encoder padded the last packet with lies beyond it.
    if let Some(granule) = last_granule
        && granule != u64::MAX
    {
        let end = usize::try_from(granule / ratio).unwrap_or(usize::MAX);
        samples.truncate(end);
    }
    let skip = usize::from(head.pre_skip) / usize::try_from(ratio).unwrap_or(3);
    samples.drain(..skip.min(samples.len()));
    if samples.is_empty() {
        return Err(AudioError::Corrupt(
            "Ogg Opus stream decoded to no samples".into(),
        ));
    }
    Ok(Pcm::new(samples))
}

/// True when the bytes start like a container we would decode: then a failure to open it means the
/// file is damaged, not that it is some other kind of file.
fn looks_like_known_audio(bytes: &[u8]) -> bool {
    let mp3_sync = bytes.len() >= 2 && bytes[0] == 0xFF && (bytes[1] & 0xE0) == 0xE0;
    bytes.starts_with(b"RIFF")
        || bytes.starts_with(b"ID3")
        || bytes.starts_with(b"fLaC")
        || bytes.starts_with(b"OggS")
        || bytes.get(4..8) == Some(b"ftyp".as_slice())
        || mp3_sync
}

fn decode_with_symphonia(bytes: &[u8], max_duration: Duration) -> Result<Pcm, AudioError> {
    let source = MediaSourceStream::new(Box::new(Cursor::new(bytes)), Default::default());
    let mut format = symphonia::default::get_probe()
        .probe(
            &Hint::new(),
            source,
            FormatOptions::default(),
            MetadataOptions::default(),
        )
        .map_err(|e| match e {
            SymphoniaError::Unsupported(_) if !looks_like_known_audio(bytes) => {
                AudioError::Unsupported("not a recognised audio container".into())
            }
            other => AudioError::Corrupt(format!("opening the container: {other}")),
        })?;
    let track = format
        .default_track(TrackType::Audio)
        .ok_or_else(|| AudioError::Unsupported("no audio track".into()))?
        .clone();
    let params = track
        .codec_params
        .as_ref()
        .and_then(|p| p.audio())
        .ok_or_else(|| AudioError::Unsupported("audio track without codec parameters".into()))?
        .clone();
    // The header's duration, where the container has one, refuses a long file before any decoding.
    if let (Some(time_base), Some(duration)) = (track.time_base, track.duration)
        && let Some(time) = time_base.calc_duration(duration)
        && time.as_secs_f64() > max_duration.as_secs_f64() + 0.5
    {
        return Err(too_long(max_duration));
    }
    let mut decoder = symphonia::default::get_codecs()
        .make_audio_decoder(&params, &AudioDecoderOptions::default())
        .map_err(|e| AudioError::Unsupported(format!("codec {:?}: {e}", params.codec)))?;

    let mut mono: Vec<f32> = Vec::new();
    let mut planes: Vec<Vec<f32>> = Vec::new();
    let mut rate_hz: Option<u32> = params.sample_rate;
    let mut decode_errors = 0usize;
    let mut decoded_packets = 0usize;
    loop {
        let packet = match format.next_packet() {
            Ok(Some(packet)) => packet,
            Ok(None) => break,
            // A truncated file: keep what was decoded so far.
            Err(SymphoniaError::IoError(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
                break;
            }
            Err(e) => {
                if decoded_packets > 0 {
                    break;
                }
                return Err(AudioError::Corrupt(format!("reading packets: {e}")));
            }
        };
        if packet.track_id != track.id {
            continue;
        }
        let buffer = match decoder.decode(&packet) {
            Ok(buffer) => buffer,
            Err(SymphoniaError::DecodeError(_)) | Err(SymphoniaError::IoError(_)) => {
                // One bad packet is a glitch, not a reason to throw the whole file away.
                decode_errors += 1;
                continue;
            }
            Err(e) => return Err(AudioError::Corrupt(format!("decoding: {e}"))),
        };
        decoded_packets += 1;
        let rate = *rate_hz.get_or_insert(buffer.spec().rate());
        buffer.copy_to_vecs_planar::<f32>(&mut planes);
        let channels = planes.len().max(1);
        let frames = buffer.frames();
        let scale = 1.0 / channels as f32;
        for i in 0..frames {
            let sum: f32 = planes
                .iter()
                .map(|plane| plane.get(i).copied().unwrap_or(0.0))
                .sum();
            mono.push(sum * scale);
        }
        if mono.len() as u64 > max_frames(max_duration, rate) {
            return Err(too_long(max_duration));
        }
    }
    if mono.is_empty() {
        return Err(AudioError::Corrupt(format!(
            "no audio decoded ({decode_errors} bad packets)"
        )));
    }
    let rate = rate_hz.ok_or_else(|| AudioError::Corrupt("unknown sample rate".into()))?;
    Ok(Pcm::new(resample_to_16k(mono, rate)?))
}

/// Resamples mono PCM from `rate_hz` to 16 kHz.
fn resample_to_16k(mono: Vec<f32>, rate_hz: u32) -> Result<Vec<f32>, AudioError> {
    if rate_hz == SAMPLE_RATE_HZ {
        return Ok(mono);
    }
    let internal = |e: &dyn std::fmt::Display| {
        AudioError::Corrupt(format!("resampling from {rate_hz} Hz: {e}"))
    };
    let mut resampler = Fft::<f32>::new(
        rate_hz as usize,
        SAMPLE_RATE_HZ as usize,
        RESAMPLER_CHUNK_FRAMES,
        1,
        FixedSync::Input,
    )
    .map_err(|e| internal(&e))?;
    let input = InterleavedSlice::new(&mono[..], 1, mono.len()).map_err(|e| internal(&e))?;
    let output = resampler
        .process_all(&input, mono.len(), None)
        .map_err(|e| internal(&e))?;
    Ok(output.take_data())
}
