//! Audio decoding: any common audio file, or the audio track of a video, in; 16 kHz mono `f32` PCM out —
//! the only input whisper.cpp takes.
//!
//! The container is sniffed from the bytes, never taken from a declared MIME type or file name:
//!
//! - OGG whose first packet is `OpusHead` (Telegram voice notes): demuxed with `ogg` and decoded by libopus
//!   (`opus` crate) straight at 16 kHz mono, so no resampling is needed. The header's pre-skip is dropped
//!   and the end is trimmed to the last page's granule position (RFC 7845 §4).
//! - Everything else (MP3, AAC in MP4/M4A or ADTS, WAV, FLAC, OGG/Vorbis, and videos: MP4/MOV, MKV/WebM):
//!   demuxed by symphonia, which picks the container's default audio track (the first one unless a track
//!   is flagged default) and skips every video track. Opus tracks (WebM/MKV, MP4) go to libopus as above;
//!   every other codec (AAC, the usual audio of MP4/MOV videos; Vorbis, the old WebM audio) is decoded by
//!   symphonia, downmixed to mono by averaging the channels, and resampled to 16 kHz with rubato's FFT
//!   resampler. A container with tracks but none of them audio (a silent video) is
//!   [`AudioError::NoAudioTrack`]. For MP4/MOV the sound track's edit list is applied (symphonia 0.6 reads
//!   but does not apply it): the AAC encoder's priming (1024 samples from FFmpeg, 2112 from Apple's) is
//!   dropped from the start and the padding from the end, so the speech starts where the file says.
//!
//! Everything here is synchronous and CPU-bound: callers run it on a blocking thread.

use std::io::Cursor;
use std::time::Duration;

use rubato::audioadapter_buffers::direct::InterleavedSlice;
use rubato::{Fft, FixedSync, Resampler as _};
use symphonia::core::codecs::audio::well_known::CODEC_ID_OPUS;
use symphonia::core::codecs::audio::{AudioCodecParameters, AudioDecoderOptions};
use symphonia::core::errors::Error as SymphoniaError;
use symphonia::core::formats::probe::Hint;
use symphonia::core::formats::{FormatOptions, FormatReader, Track, TrackType};
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
    /// A readable container whose tracks hold no audio, such as a video recorded without sound
    /// (`FAILURE_REASON_NO_SPEECH`: there is nothing to hear).
    #[error("no audio track (the file has {tracks} track(s), none of them audio)")]
    NoAudioTrack {
        /// How many tracks the container has.
        tracks: usize,
    },
    /// Longer than the configured limit (`FAILURE_REASON_TOO_LARGE`).
    #[error("audio is longer than the limit of {limit_secs} s")]
    TooLong {
        /// The limit, seconds.
        limit_secs: u64,
    },
}

/// Decodes `bytes` (a whole audio file, or a video whose audio track is wanted) to 16 kHz mono PCM,
/// refusing audio longer than `max_duration`.
///
/// The duration is checked from the container's header where it has one, and otherwise while decoding, so
/// an over-long file is refused without decoding all of it.
///
/// Errors: [`AudioError::Corrupt`] for empty or malformed data, [`AudioError::Unsupported`] for data that is
/// not audio in a supported format, [`AudioError::NoAudioTrack`] for a video without sound,
/// [`AudioError::TooLong`] past `max_duration`.
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

/// The first four bytes of every EBML file, and so of every Matroska (MKV) and WebM file.
const EBML_MAGIC: &[u8] = &[0x1A, 0x45, 0xDF, 0xA3];

/// True when the bytes start like a container we would decode: then a failure to open it means the
/// file is damaged, not that it is some other kind of file.
fn looks_like_known_audio(bytes: &[u8]) -> bool {
    let mp3_sync = bytes.len() >= 2 && bytes[0] == 0xFF && (bytes[1] & 0xE0) == 0xE0;
    // An ISO BMFF (MP4, M4A, 3GP) file starts with `ftyp`; an old QuickTime MOV may start with any of its
    // top-level atoms instead.
    let mp4_atom = bytes.get(4..8).is_some_and(|atom| {
        [b"ftyp", b"moov", b"mdat", b"wide"]
            .iter()
            .any(|known| atom == known.as_slice())
    });
    bytes.starts_with(b"RIFF")
        || bytes.starts_with(b"ID3")
        || bytes.starts_with(b"fLaC")
        || bytes.starts_with(b"OggS")
        || bytes.starts_with(EBML_MAGIC)
        || mp4_atom
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
    let track = match format.default_track(TrackType::Audio) {
        Some(track) => track.clone(),
        // A video recorded without sound: nothing to transcribe, and the user should be told so.
        None if !format.tracks().is_empty() => {
            return Err(AudioError::NoAudioTrack {
                tracks: format.tracks().len(),
            });
        }
        None => return Err(AudioError::Corrupt("the container has no tracks".into())),
    };
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
    if params.codec == CODEC_ID_OPUS {
        // symphonia demuxes Opus (WebM, MKV, MP4) but has no decoder for it.
        return decode_demuxed_opus(format.as_mut(), &track, &params, max_duration);
    }
    let edit = mp4_sound_edit(bytes);
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
        let rate = check_rate(*rate_hz.get_or_insert(buffer.spec().rate()))?;
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
    let rate =
        check_rate(rate_hz.ok_or_else(|| AudioError::Corrupt("unknown sample rate".into()))?)?;
    if let Some(edit) = edit {
        edit.apply(&mut mono, rate);
    }
    if mono.is_empty() {
        return Err(AudioError::Corrupt(format!(
            "no audio decoded ({decode_errors} bad packets)"
        )));
    }
    Ok(Pcm::new(resample_to_16k(mono, rate)?))
}

/// Decodes the Opus packets of `track` (demuxed by symphonia from WebM, MKV or MP4) with libopus straight
/// to 16 kHz mono, dropping the encoder's pre-skip at the start.
///
/// The pre-skip comes from the track's `OpusHead` (Matroska's `CodecPrivate`, RFC 7845 §5.1), else from
/// the container's encoder delay; the few milliseconds of padding at the end are kept (silence to whisper).
fn decode_demuxed_opus(
    format: &mut dyn FormatReader,
    track: &Track,
    params: &AudioCodecParameters,
    max_duration: Duration,
) -> Result<Pcm, AudioError> {
    let head = params
        .extra_data
        .as_deref()
        .filter(|data| data.starts_with(b"OpusHead"))
        .map(OpusHead::parse)
        .transpose()?;
    if let Some(head) = &head
        && head.mapping_family != 0
    {
        return Err(AudioError::Unsupported(format!(
            "Opus with channel mapping family {} and {} channels",
            head.mapping_family, head.channels
        )));
    }
    let pre_skip_48k = head
        .map(|h| u64::from(h.pre_skip))
        .or_else(|| track.delay.map(u64::from))
        .unwrap_or(0);
    let mut decoder = opus::Decoder::new(SAMPLE_RATE_HZ, opus::Channels::Mono)
        .map_err(|e| AudioError::Corrupt(format!("opus decoder: {e}")))?;
    let ratio = OPUS_GRANULE_RATE_HZ / u64::from(SAMPLE_RATE_HZ);
    let skip = pre_skip_48k / ratio;
    let limit = max_frames(max_duration, SAMPLE_RATE_HZ);
    let mut samples: Vec<f32> = Vec::new();
    let mut buffer = vec![0.0f32; OPUS_MAX_PACKET_SAMPLES];
    let mut bad_packets = 0usize;
    loop {
        let packet = match format.next_packet() {
            Ok(Some(packet)) => packet,
            Ok(None) => break,
            // A truncated file: keep what was decoded so far.
            Err(SymphoniaError::IoError(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
                break;
            }
            Err(e) if !samples.is_empty() => {
                tracing::debug!(error = %e, "stopping at an unreadable packet");
                break;
            }
            Err(e) => return Err(AudioError::Corrupt(format!("reading packets: {e}"))),
        };
        if packet.track_id != track.id {
            continue;
        }
        match decoder.decode_float(&packet.data, &mut buffer, false) {
            Ok(n) => samples.extend_from_slice(&buffer[..n.min(buffer.len())]),
            // One bad packet is a glitch, not a reason to throw the whole file away.
            Err(_) => bad_packets += 1,
        }
        if samples.len() as u64 > limit + skip {
            return Err(too_long(max_duration));
        }
    }
    samples.drain(
        ..usize::try_from(skip)
            .unwrap_or(usize::MAX)
            .min(samples.len()),
    );
    if samples.is_empty() {
        return Err(AudioError::Corrupt(format!(
            "no Opus audio decoded ({bad_packets} bad packets)"
        )));
    }
    Ok(Pcm::new(samples))
}

/// The presented part of an MP4/MOV sound track, from the first non-empty entry of its edit list
/// (ISO/IEC 14496-12 §8.6.6 `elst`): where it starts in the decoded audio and how long it plays.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Edit {
    /// Seconds of decoded audio before the presentation starts (the encoder's priming).
    skip_secs: f64,
    /// Seconds presented from there (without the encoder's padding).
    length_secs: f64,
}

impl Edit {
    /// Trims `samples` (at `rate_hz`) to the edit. An edit that would leave nothing is ignored: the
    /// samples are then more trustworthy than the index.
    fn apply(self, samples: &mut Vec<f32>, rate_hz: u32) {
        let frames = |secs: f64| (secs * f64::from(rate_hz)).round() as usize;
        let skip = frames(self.skip_secs);
        let length = frames(self.length_secs);
        if skip >= samples.len() || length == 0 {
            return;
        }
        samples.drain(..skip);
        samples.truncate(length);
    }
}

/// The edit of the first sound track (`hdlr` `soun`) of an ISO BMFF file (MP4, M4A, MOV), if it has one
/// that can be read; `None` for any other container.
fn mp4_sound_edit(bytes: &[u8]) -> Option<Edit> {
    let moov = boxes(bytes).find(|(kind, _)| kind == b"moov")?.1;
    let movie_timescale = timescale(boxes(moov).find(|(kind, _)| kind == b"mvhd")?.1)?;
    boxes(moov)
        .filter(|(kind, _)| kind == b"trak")
        .find_map(|(_, trak)| {
            let mdia = boxes(trak).find(|(kind, _)| kind == b"mdia")?.1;
            let hdlr = boxes(mdia).find(|(kind, _)| kind == b"hdlr")?.1;
            (hdlr.get(8..12)? == b"soun").then_some((trak, mdia))
        })
        .and_then(|(trak, mdia)| {
            let media_timescale = timescale(boxes(mdia).find(|(kind, _)| kind == b"mdhd")?.1)?;
            let edts = boxes(trak).find(|(kind, _)| kind == b"edts")?.1;
            let elst = boxes(edts).find(|(kind, _)| kind == b"elst")?.1;
            let version = *elst.first()?;
            let count = u32::from_be_bytes(elst.get(4..8)?.try_into().ok()?) as usize;
            let entry_size = if version == 1 { 20 } else { 12 };
            (0..count.min(16)).find_map(|i| {
                let entry = elst.get(8 + i * entry_size..8 + (i + 1) * entry_size)?;
                let (duration, media_time) = if version == 1 {
                    (
                        u64::from_be_bytes(entry.get(0..8)?.try_into().ok()?),
                        i64::from_be_bytes(entry.get(8..16)?.try_into().ok()?),
                    )
                } else {
                    (
                        u64::from(u32::from_be_bytes(entry.get(0..4)?.try_into().ok()?)),
                        i64::from(i32::from_be_bytes(entry.get(4..8)?.try_into().ok()?)),
                    )
                };
                // media_time -1 is an empty edit (a pause before the track); skip it.
                (media_time >= 0).then(|| Edit {
                    skip_secs: media_time as f64 / f64::from(media_timescale),
                    length_secs: duration as f64 / f64::from(movie_timescale),
                })
            })
        })
}

/// The `timescale` of an `mvhd` or `mdhd` body (units per second), after version, flags and the two
/// creation/modification times (32-bit in version 0, 64-bit in version 1).
fn timescale(body: &[u8]) -> Option<u32> {
    let at = if *body.first()? == 1 { 20 } else { 12 };
    let scale = u32::from_be_bytes(body.get(at..at + 4)?.try_into().ok()?);
    (scale > 0).then_some(scale)
}

/// The ISO BMFF boxes directly inside `data`, as (type, body); stops at the first malformed size.
fn boxes(data: &[u8]) -> impl Iterator<Item = ([u8; 4], &[u8])> {
    let mut at = 0usize;
    std::iter::from_fn(move || {
        let header = data.get(at..at + 8)?;
        let kind: [u8; 4] = header.get(4..8)?.try_into().ok()?;
        let (size, header_len) = match u32::from_be_bytes(header.get(0..4)?.try_into().ok()?) {
            // The box runs to the end of the file.
            0 => (data.len() - at, 8),
            // A 64-bit size follows the type.
            1 => (
                usize::try_from(u64::from_be_bytes(
                    data.get(at + 8..at + 16)?.try_into().ok()?,
                ))
                .ok()?,
                16,
            ),
            size => (size as usize, 8),
        };
        if size < header_len {
            return None;
        }
        let body = data.get(at + header_len..at.checked_add(size)?)?;
        at += size;
        Some((kind, body))
    })
}

/// Sample rates a recording can really have, Hz: 1 kHz (below any codec's) to 384 kHz (the highest
/// that audio interfaces record). A header that claims more is corrupt, and believing it would be costly:
/// the duration limit is counted in frames at that rate, and the resampler's FFT grows with it (a WAV
/// header bent to 2^31 Hz, found by fuzzing, kept a worker busy for minutes).
const SAMPLE_RATES_HZ: std::ops::RangeInclusive<u32> = 1_000..=384_000;

/// `rate_hz` if it is in [`SAMPLE_RATES_HZ`]; otherwise [`AudioError::Corrupt`].
fn check_rate(rate_hz: u32) -> Result<u32, AudioError> {
    if SAMPLE_RATES_HZ.contains(&rate_hz) {
        Ok(rate_hz)
    } else {
        Err(AudioError::Corrupt(format!(
            "a sample rate of {rate_hz} Hz (expected {} to {} Hz)",
            SAMPLE_RATES_HZ.start(),
            SAMPLE_RATES_HZ.end()
        )))
    }
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
