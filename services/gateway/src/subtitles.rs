//! Subtitles from a transcript's segments: SubRip (`.srt`) and WebVTT (`.vtt`), the two formats video
//! players and editors open. The speech worker sends the segments (times and text) as data
//! (`Transcript.segments`); how they are written out is presentation, so it happens here, where the
//! files are sent (see docs/architecture.md, "Long audio").
//!
//! Formats, as their references define them:
//! - SubRip: numbered cues from 1, `HH:MM:SS,mmm --> HH:MM:SS,mmm`, the text, a blank line
//!   (<https://en.wikipedia.org/wiki/SubRip#Format>);
//! - WebVTT: the `WEBVTT` header and a blank line, then cues with `HH:MM:SS.mmm --> HH:MM:SS.mmm` and the
//!   text, `&`, `<` and `>` escaped (<https://www.w3.org/TR/webvtt1/>).
//!
//! A cue's text is one line (line breaks inside a segment become spaces), so no cue text can hold the
//! blank line that ends a cue or an arrow (`-->`) that would read as a timing line.

use std::fmt::Write as _;

use mediabot_proto::jobs::v1::Segment;

/// The transcript as SubRip text: one numbered cue per segment with text, in the order given. Empty
/// (no cues) for no segments.
pub fn srt(segments: &[Segment]) -> String {
    let mut out = String::new();
    for (number, segment) in cues(segments).enumerate() {
        let _ = write!(
            out,
            "{}\n{} --> {}\n{}\n\n",
            number + 1,
            timestamp(segment.start_ms, ','),
            timestamp(segment.end_ms, ','),
            one_line(&segment.text).replace("-->", "->"),
        );
    }
    out
}

/// The transcript as WebVTT text: the `WEBVTT` header, then one numbered cue per segment with text.
pub fn vtt(segments: &[Segment]) -> String {
    let mut out = String::from("WEBVTT\n\n");
    for (number, segment) in cues(segments).enumerate() {
        let text = one_line(&segment.text)
            .replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;");
        let _ = write!(
            out,
            "{}\n{} --> {}\n{}\n\n",
            number + 1,
            timestamp(segment.start_ms, '.'),
            timestamp(segment.end_ms, '.'),
            text,
        );
    }
    out
}

/// The segments that make cues: those with some text.
fn cues(segments: &[Segment]) -> impl Iterator<Item = &Segment> {
    segments.iter().filter(|s| !s.text.trim().is_empty())
}

/// `ms` as `HH:MM:SS<separator>mmm` (hours not wrapped: 100 h is `100:00:00,000`).
fn timestamp(ms: u64, separator: char) -> String {
    let (hours, rest) = (ms / 3_600_000, ms % 3_600_000);
    let (minutes, rest) = (rest / 60_000, rest % 60_000);
    let (seconds, millis) = (rest / 1000, rest % 1000);
    format!("{hours:02}:{minutes:02}:{seconds:02}{separator}{millis:03}")
}

/// The text on one line, its runs of white space (line breaks included) made single spaces.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn segment(start_ms: u64, end_ms: u64, text: &str) -> Segment {
        Segment {
            start_ms,
            end_ms,
            text: text.into(),
        }
    }

    #[test]
    fn timestamps_have_two_digit_fields_and_milliseconds() {
        assert_eq!(timestamp(0, ','), "00:00:00,000");
        assert_eq!(timestamp(61_005, ','), "00:01:01,005");
        assert_eq!(timestamp(3_599_999, '.'), "00:59:59.999");
        assert_eq!(
            timestamp(3_600_000 + 2 * 60_000 + 3_040, '.'),
            "01:02:03.040"
        );
        assert_eq!(timestamp(100 * 3_600_000, ','), "100:00:00,000");
    }

    #[test]
    fn srt_numbers_cues_and_separates_them_with_blank_lines() {
        let text = srt(&[
            segment(0, 2_500, " Hello there. "),
            segment(2_500, 65_120, "Second\nline"),
            segment(65_120, 66_000, "  "),
        ]);
        assert_eq!(
            text,
            "1\n00:00:00,000 --> 00:00:02,500\nHello there.\n\n\
             2\n00:00:02,500 --> 00:01:05,120\nSecond line\n\n"
        );
        let parsed = subtp::srt::SubRip::parse(&text).unwrap();
        assert_eq!(parsed.subtitles.len(), 2);
        assert_eq!(parsed.subtitles[1].sequence, 2);
        assert_eq!(parsed.subtitles[1].start.seconds, 2);
        assert_eq!(parsed.subtitles[1].end.minutes, 1);
        assert_eq!(parsed.subtitles[1].text, ["Second line"]);
    }

    #[test]
    fn vtt_has_its_header_dots_and_escapes() {
        let text = vtt(&[
            segment(1_000, 2_000, "Tom & Jerry <3"),
            segment(2_000, 3_000, "a --> b"),
        ]);
        assert_eq!(
            text,
            "WEBVTT\n\n\
             1\n00:00:01.000 --> 00:00:02.000\nTom &amp; Jerry &lt;3\n\n\
             2\n00:00:02.000 --> 00:00:03.000\na --&gt; b\n\n"
        );
        let parsed = subtp::vtt::WebVtt::parse(&text).unwrap();
        assert_eq!(parsed.blocks.len(), 2);
    }

    #[test]
    fn no_segments_make_no_cues() {
        assert_eq!(srt(&[]), "");
        assert_eq!(vtt(&[]), "WEBVTT\n\n");
        assert!(subtp::vtt::WebVtt::parse(&vtt(&[])).is_ok());
    }
}
