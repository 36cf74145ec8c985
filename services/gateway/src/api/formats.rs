//! The `response_format`s of OpenAI's audio API, rendered from a [`Transcript`]:
//!
//! | format | body | content type |
//! | --- | --- | --- |
//! | `json` (default) | `{"text": "…"}` | `application/json` |
//! | `text` | the text and a line break | `text/plain; charset=utf-8` |
//! | `srt` | SubRip cues from the segments ([`crate::subtitles`]) | `text/plain; charset=utf-8` |
//! | `vtt` | WebVTT cues from the segments | `text/plain; charset=utf-8` (as OpenAI's) |
//! | `verbose_json` | `task`, `language` (whisper's English name, `english`), `duration` (seconds), `text`, `segments` (`id`, `seek`, `start`, `end`, `text`, `temperature`) | `application/json` |

use axum::Json;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use mediabot_proto::jobs::v1::Transcript;
use serde_json::{Value, json};

use crate::subtitles;

/// What a transcription answers with (OpenAI's `response_format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ResponseFormat {
    /// `{"text": …}`.
    #[default]
    Json,
    /// Plain text.
    Text,
    /// SubRip subtitles.
    Srt,
    /// WebVTT subtitles.
    Vtt,
    /// Text, language, duration and segments.
    VerboseJson,
}

impl ResponseFormat {
    /// Parses OpenAI's names; `None` for anything else.
    pub fn parse(name: &str) -> Option<Self> {
        Some(match name.trim() {
            "" | "json" => Self::Json,
            "text" => Self::Text,
            "srt" => Self::Srt,
            "vtt" => Self::Vtt,
            "verbose_json" => Self::VerboseJson,
            _ => return None,
        })
    }

    /// OpenAI's name of the format.
    pub fn name(self) -> &'static str {
        match self {
            Self::Json => "json",
            Self::Text => "text",
            Self::Srt => "srt",
            Self::Vtt => "vtt",
            Self::VerboseJson => "verbose_json",
        }
    }

    /// The result as this format's body: a JSON value for the JSON formats, a string for the others.
    pub fn render(self, transcript: &Transcript, temperature: f32) -> Value {
        match self {
            Self::Json => json!({ "text": transcript.text }),
            Self::Text => Value::String(format!("{}\n", transcript.text)),
            Self::Srt => Value::String(subtitles::srt(&transcript.segments)),
            Self::Vtt => Value::String(subtitles::vtt(&transcript.segments)),
            Self::VerboseJson => verbose_json(transcript, temperature),
        }
    }

    /// The result as an HTTP response.
    pub fn respond(self, transcript: &Transcript, temperature: f32) -> Response {
        match self.render(transcript, temperature) {
            Value::String(text) => {
                ([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], text).into_response()
            }
            value => Json(value).into_response(),
        }
    }
}

/// OpenAI's `verbose_json`.
fn verbose_json(transcript: &Transcript, temperature: f32) -> Value {
    let seconds = |ms: u64| ms as f64 / 1000.0;
    let segments = transcript
        .segments
        .iter()
        .enumerate()
        .map(|(id, segment)| {
            json!({
                "id": id,
                "seek": 0,
                "start": seconds(segment.start_ms),
                "end": seconds(segment.end_ms),
                "text": segment.text,
                "temperature": temperature,
            })
        })
        .collect::<Vec<_>>();
    json!({
        "task": if transcript.translated { "translate" } else { "transcribe" },
        "language": language_name(&transcript.language),
        "duration": seconds(transcript.audio_duration_ms),
        "text": transcript.text,
        "segments": segments,
    })
}

/// whisper's English name of a language code (`en` → `english`), as OpenAI's `verbose_json` writes it;
/// the code itself for one whisper does not know. From whisper's tokenizer (`LANGUAGES` in OpenAI's
/// `whisper/tokenizer.py`, the same table as whisper.cpp's `g_lang`).
pub fn language_name(code: &str) -> String {
    LANGUAGES
        .iter()
        .find(|(c, _)| *c == code)
        .map_or_else(|| code.to_string(), |(_, name)| (*name).to_string())
}

const LANGUAGES: [(&str, &str); 100] = [
    ("en", "english"),
    ("zh", "chinese"),
    ("de", "german"),
    ("es", "spanish"),
    ("ru", "russian"),
    ("ko", "korean"),
    ("fr", "french"),
    ("ja", "japanese"),
    ("pt", "portuguese"),
    ("tr", "turkish"),
    ("pl", "polish"),
    ("ca", "catalan"),
    ("nl", "dutch"),
    ("ar", "arabic"),
    ("sv", "swedish"),
    ("it", "italian"),
    ("id", "indonesian"),
    ("hi", "hindi"),
    ("fi", "finnish"),
    ("vi", "vietnamese"),
    ("he", "hebrew"),
    ("uk", "ukrainian"),
    ("el", "greek"),
    ("ms", "malay"),
    ("cs", "czech"),
    ("ro", "romanian"),
    ("da", "danish"),
    ("hu", "hungarian"),
    ("ta", "tamil"),
    ("no", "norwegian"),
    ("th", "thai"),
    ("ur", "urdu"),
    ("hr", "croatian"),
    ("bg", "bulgarian"),
    ("lt", "lithuanian"),
    ("la", "latin"),
    ("mi", "maori"),
    ("ml", "malayalam"),
    ("cy", "welsh"),
    ("sk", "slovak"),
    ("te", "telugu"),
    ("fa", "persian"),
    ("lv", "latvian"),
    ("bn", "bengali"),
    ("sr", "serbian"),
    ("az", "azerbaijani"),
    ("sl", "slovenian"),
    ("kn", "kannada"),
    ("et", "estonian"),
    ("mk", "macedonian"),
    ("br", "breton"),
    ("eu", "basque"),
    ("is", "icelandic"),
    ("hy", "armenian"),
    ("ne", "nepali"),
    ("mn", "mongolian"),
    ("bs", "bosnian"),
    ("kk", "kazakh"),
    ("sq", "albanian"),
    ("sw", "swahili"),
    ("gl", "galician"),
    ("mr", "marathi"),
    ("pa", "punjabi"),
    ("si", "sinhala"),
    ("km", "khmer"),
    ("sn", "shona"),
    ("yo", "yoruba"),
    ("so", "somali"),
    ("af", "afrikaans"),
    ("oc", "occitan"),
    ("ka", "georgian"),
    ("be", "belarusian"),
    ("tg", "tajik"),
    ("sd", "sindhi"),
    ("gu", "gujarati"),
    ("am", "amharic"),
    ("yi", "yiddish"),
    ("lo", "lao"),
    ("uz", "uzbek"),
    ("fo", "faroese"),
    ("ht", "haitian creole"),
    ("ps", "pashto"),
    ("tk", "turkmen"),
    ("nn", "nynorsk"),
    ("mt", "maltese"),
    ("sa", "sanskrit"),
    ("lb", "luxembourgish"),
    ("my", "myanmar"),
    ("bo", "tibetan"),
    ("tl", "tagalog"),
    ("mg", "malagasy"),
    ("as", "assamese"),
    ("tt", "tatar"),
    ("haw", "hawaiian"),
    ("ln", "lingala"),
    ("ha", "hausa"),
    ("ba", "bashkir"),
    ("jw", "javanese"),
    ("su", "sundanese"),
    ("yue", "cantonese"),
];

#[cfg(test)]
mod tests {
    use super::*;
    use mediabot_proto::jobs::v1::Segment;

    #[test]
    fn formats_parse_and_render() {
        assert_eq!(ResponseFormat::parse(""), Some(ResponseFormat::Json));
        assert_eq!(
            ResponseFormat::parse("verbose_json"),
            Some(ResponseFormat::VerboseJson)
        );
        assert_eq!(ResponseFormat::parse("xml"), None);
        let transcript = Transcript {
            text: "And so my fellow Americans".into(),
            language: "en".into(),
            audio_duration_ms: 11_000,
            translated: false,
            segments: vec![Segment {
                start_ms: 0,
                end_ms: 2_500,
                text: "And so my fellow Americans".into(),
            }],
        };
        let verbose = ResponseFormat::VerboseJson.render(&transcript, 0.0);
        assert_eq!(verbose["language"], "english");
        assert_eq!(verbose["duration"], 11.0);
        assert_eq!(verbose["segments"][0]["end"], 2.5);
        assert_eq!(verbose["task"], "transcribe");
        assert_eq!(
            ResponseFormat::Text.render(&transcript, 0.0),
            Value::String("And so my fellow Americans\n".into())
        );
        assert_eq!(language_name("ru"), "russian");
        assert_eq!(language_name("xx"), "xx");
    }
}
