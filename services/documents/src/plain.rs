//! Plain text (TXT, MD, CSV, ...) in any common encoding. A byte-order mark decides (UTF-8, UTF-16);
//! otherwise valid UTF-8 is UTF-8, and anything else is guessed by chardetng (the detector Firefox uses
//! for unlabelled pages, which tells Windows-1251, KOI8-R and the Latin code pages apart from letter
//! statistics) and decoded by encoding_rs. A file with NUL bytes, or whose decoded text is more than 1 %
//! control characters, is binary whatever its name says ([`ExtractError::NotText`]).

use chardetng::{EncodingDetector, Iso2022JpDetection, Utf8Detection};
use encoding_rs::Encoding;

use crate::extract::{ExtractError, Extracted, Limits, tidy};

/// Share of control characters (other than line ends, tabs and form feeds) above which decoded text is
/// taken for binary data.
const MAX_CONTROL_SHARE: f64 = 0.01;

/// Decodes a plain-text file. Errors: [`ExtractError::TooLarge`] above [`Limits::max_text_file_bytes`]
/// (checked before decoding), [`ExtractError::NotText`] for binary data.
pub fn decode(bytes: &[u8], limits: &Limits) -> Result<Extracted, ExtractError> {
    if bytes.len() > limits.max_text_file_bytes {
        return Err(ExtractError::TooLarge(format!(
            "a text file of {} bytes (at most {})",
            bytes.len(),
            limits.max_text_file_bytes
        )));
    }
    let (text, encoding) = match Encoding::for_bom(bytes) {
        Some((encoding, bom)) => {
            let body = bytes.get(bom..).unwrap_or_default();
            let (text, _) = encoding.decode_without_bom_handling(body);
            (text, encoding)
        }
        None => {
            if bytes.contains(&0) {
                return Err(ExtractError::NotText("NUL bytes in a text file".into()));
            }
            let encoding = match std::str::from_utf8(bytes) {
                Ok(_) => encoding_rs::UTF_8,
                Err(_) => {
                    let mut detector = EncodingDetector::new(Iso2022JpDetection::Deny);
                    detector.feed(bytes, true);
                    detector.guess(None, Utf8Detection::Allow)
                }
            };
            let (text, _) = encoding.decode_without_bom_handling(bytes);
            (text, encoding)
        }
    };
    let total = text.chars().count().max(1);
    let control = text
        .chars()
        .filter(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t' | '\u{0C}'))
        .count();
    if control as f64 / total as f64 > MAX_CONTROL_SHARE {
        return Err(ExtractError::NotText(format!(
            "{control} control characters in {total}"
        )));
    }
    Ok(Extracted {
        text: tidy(&text),
        pages: 0,
        ocr_pages: 0,
        encoding: encoding.name().to_string(),
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn encodings() {
        let limits = Limits::default();
        let (cp1251, _, _) =
            encoding_rs::WINDOWS_1251.encode("Привет, мир! Отчёт о работе отдела.");
        let decoded = decode(&cp1251, &limits).unwrap();
        assert_eq!(decoded.text, "Привет, мир! Отчёт о работе отдела.");
        assert_eq!(decoded.encoding, "windows-1251");
        let utf8 = decode("Привет\r\n".as_bytes(), &limits).unwrap();
        assert_eq!(
            (utf8.text.as_str(), utf8.encoding.as_str()),
            ("Привет", "UTF-8")
        );
        let mut utf16 = vec![0xFF, 0xFE];
        for unit in "Привет".encode_utf16() {
            utf16.extend_from_slice(&unit.to_le_bytes());
        }
        let decoded = decode(&utf16, &limits).unwrap();
        assert_eq!(
            (decoded.text.as_str(), decoded.encoding.as_str()),
            ("Привет", "UTF-16LE")
        );
    }

    #[test]
    fn binary_is_refused() {
        let limits = Limits::default();
        assert!(matches!(
            decode(b"\x7fELF\x02\x01\x01\0\0\0", &limits),
            Err(ExtractError::NotText(_))
        ));
        let noise: Vec<u8> = (0..4096u32).map(|i| (i * 7 % 251) as u8 + 1).collect();
        assert!(matches!(
            decode(&noise, &limits),
            Err(ExtractError::NotText(_))
        ));
    }
}
