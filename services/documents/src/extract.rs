//! What a file is and the text it holds: the format is sniffed from the bytes (`%PDF-`, a zip holding
//! `word/document.xml` or an OpenDocument text, an image signature), then taken from the file name or
//! MIME type for plain text; each format's module reads it within [`Limits`]. Every way a user's file can
//! be unusable is one [`ExtractError`] variant, mapped to a job outcome in [`crate::error`].

use mediabot_proto::jobs::v1::FailureReason;

use crate::ocr::OcrEngine;
use crate::{office, pdf, plain};

/// How much work and memory one job may take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Most pages of a PDF read; more is TOO_LARGE.
    pub max_pages: u32,
    /// Most PDF pages without a text layer read by OCR; more is TOO_LARGE.
    pub max_ocr_pages: u32,
    /// Longest text produced, characters; more is TOO_LARGE.
    pub max_text_chars: usize,
    /// Largest plain-text file, bytes.
    pub max_text_file_bytes: usize,
    /// Most bytes of XML read out of a DOCX/ODT archive, whatever its header claims.
    pub max_xml_bytes: u64,
    /// Largest image OCR reads, pixels.
    pub max_image_pixels: u64,
}

impl Default for Limits {
    /// 500 pages, 20 of them by OCR, 2 million characters (about 1000 pages of prose), 10 MB of plain
    /// text, 64 MB of XML, 40 megapixels.
    fn default() -> Self {
        Self {
            max_pages: 500,
            max_ocr_pages: 20,
            max_text_chars: 2_000_000,
            max_text_file_bytes: 10 * 1024 * 1024,
            max_xml_bytes: 64 * 1024 * 1024,
            max_image_pixels: 40_000_000,
        }
    }
}

/// A readable input format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// PDF.
    Pdf,
    /// Office Open XML word processing (Word 2007 and later).
    Docx,
    /// OpenDocument text (LibreOffice).
    Odt,
    /// Plain text: TXT, MD, CSV, TSV, logs, in any common encoding.
    Text,
    /// A picture (JPEG, PNG, WebP, GIF, BMP, TIFF): read by OCR.
    Image,
}

impl Format {
    /// The name carried in `ExtractedText.source_format`: "PDF", "DOCX", "ODT", "TXT", "image".
    pub fn name(self) -> &'static str {
        match self {
            Format::Pdf => "PDF",
            Format::Docx => "DOCX",
            Format::Odt => "ODT",
            Format::Text => "TXT",
            Format::Image => "image",
        }
    }
}

/// File name endings read as plain text.
pub const TEXT_EXTENSIONS: &[&str] = &["txt", "md", "markdown", "csv", "tsv", "log", "text"];

/// The format of `bytes`: by signature first (a `.txt` that is really a PDF is read as a PDF), then, for
/// plain text, by the file name's ending or a `text/*` MIME type. Errors: [`ExtractError::Unsupported`]
/// for anything else (RTF, DOC, spreadsheets, archives, ...).
pub fn detect(bytes: &[u8], mime_type: &str, file_name: &str) -> Result<Format, ExtractError> {
    // Some writers put junk before the header; readers accept it within the first kilobyte.
    if bytes
        .get(..1024.min(bytes.len()))
        .is_some_and(|head| head.windows(5).any(|w| w == b"%PDF-"))
    {
        return Ok(Format::Pdf);
    }
    if bytes.starts_with(b"PK\x03\x04") {
        return office::detect(bytes).ok_or_else(|| {
            ExtractError::Unsupported("a zip archive that is neither DOCX nor ODT".into())
        });
    }
    if office::is_ole(bytes) {
        let name = file_name.to_ascii_lowercase();
        // Office keeps a password-protected DOCX as an encrypted package inside a compound file.
        return Err(if name.ends_with(".docx") || name.ends_with(".odt") {
            ExtractError::Encrypted
        } else {
            ExtractError::Unsupported("a Word 97–2003 (.doc) or other OLE2 file".into())
        });
    }
    if image::guess_format(bytes).is_ok() {
        return Ok(Format::Image);
    }
    if bytes.starts_with(b"{\\rtf") {
        return Err(ExtractError::Unsupported("RTF".into()));
    }
    let extension = file_name
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    let mime = mime_type.to_ascii_lowercase();
    if TEXT_EXTENSIONS.contains(&extension.as_str())
        || mime.starts_with("text/")
        || (extension.is_empty() && mime.is_empty())
    {
        return Ok(Format::Text);
    }
    Err(ExtractError::Unsupported(format!(
        "file {file_name:?} of type {mime_type:?}"
    )))
}

/// The text of a file, before counting.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Extracted {
    /// The text, UTF-8 with LF line ends, trimmed.
    pub text: String,
    /// Pages (PDF), 1 for an image, 0 where the format has none.
    pub pages: u32,
    /// Pages read by OCR.
    pub ocr_pages: u32,
    /// The encoding a plain-text file was decoded from; empty otherwise.
    pub encoding: String,
}

/// Why a file gave no text; one variant per cause.
#[derive(Debug, thiserror::Error)]
pub enum ExtractError {
    /// Not a format this service reads.
    #[error("unsupported format: {0}")]
    Unsupported(String),
    /// A file named and typed as text that holds binary data.
    #[error("not a text file: {0}")]
    NotText(String),
    /// The file is damaged, truncated or empty.
    #[error("corrupt input: {0}")]
    Corrupt(String),
    /// The document needs a password.
    #[error("the document is encrypted (password-protected)")]
    Encrypted,
    /// Too many pages, characters, bytes or pixels.
    #[error("too large: {0}")]
    TooLarge(String),
    /// A readable file without any text.
    #[error("no text found")]
    NoText,
    /// Tesseract failed (not the user's file).
    #[error("OCR: {0}")]
    Ocr(String),
}

impl ExtractError {
    /// The reason the user is told.
    pub fn reason(&self) -> FailureReason {
        match self {
            ExtractError::Unsupported(_) | ExtractError::NotText(_) => {
                FailureReason::UnsupportedFormat
            }
            ExtractError::Corrupt(_) => FailureReason::CorruptInput,
            ExtractError::Encrypted => FailureReason::Encrypted,
            ExtractError::TooLarge(_) => FailureReason::TooLarge,
            ExtractError::NoText => FailureReason::NoText,
            ExtractError::Ocr(_) => FailureReason::Internal,
        }
    }
}

/// The text of a document of `format` (`document.text`), OCR in `languages` (Tesseract's `rus+eng`) for
/// images and for PDF pages without a text layer. Errors: [`ExtractError`]; [`ExtractError::NoText`]
/// when the file holds no text at all.
pub fn extract(
    bytes: &[u8],
    format: Format,
    languages: &str,
    limits: &Limits,
    engine: &OcrEngine,
) -> Result<Extracted, ExtractError> {
    let extracted = match format {
        Format::Pdf => pdf::extract(bytes, languages, limits, engine)?,
        Format::Docx => office::docx(bytes, limits)?,
        Format::Odt => office::odt(bytes, limits)?,
        Format::Text => plain::decode(bytes, limits)?,
        Format::Image => engine.recognize_image(bytes, languages, limits)?,
    };
    if extracted.text.chars().count() > limits.max_text_chars {
        return Err(ExtractError::TooLarge(format!(
            "more than {} characters of text",
            limits.max_text_chars
        )));
    }
    if !extracted.text.chars().any(char::is_alphanumeric) {
        return Err(ExtractError::NoText);
    }
    Ok(extracted)
}

/// Normalises extracted text: LF line ends, no trailing spaces on lines, at most one empty line in a row,
/// no form feeds or other control characters but tabs, trimmed.
pub fn tidy(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut blank_lines = 0;
    // A form feed (a page break in text files and pdf text) ends a line, like a line break.
    let text = text.replace("\r\n", "\n").replace(['\r', '\u{0C}'], "\n");
    for line in text.split('\n') {
        let line: String = line
            .chars()
            .filter(|c| *c == '\t' || !c.is_control())
            .collect();
        let line = line.trim_end();
        if line.trim().is_empty() {
            blank_lines += 1;
            if blank_lines > 1 {
                continue;
            }
        } else {
            blank_lines = 0;
        }
        out.push_str(line);
        out.push('\n');
    }
    out.trim().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_by_signature_then_name() {
        assert!(matches!(
            detect(b"%PDF-1.7\n", "", "a.txt"),
            Ok(Format::Pdf)
        ));
        assert!(matches!(detect(b"hello", "", "notes.md"), Ok(Format::Text)));
        assert!(matches!(
            detect(b"hello", "text/csv", "export"),
            Ok(Format::Text)
        ));
        assert!(matches!(
            detect(b"{\\rtf1 hello}", "", "a.rtf"),
            Err(ExtractError::Unsupported(_))
        ));
        assert!(matches!(
            detect(b"\x89PNG\r\n\x1a\n....", "", "scan.txt"),
            Ok(Format::Image)
        ));
        assert!(matches!(
            detect(b"hello", "application/x-foo", "a.bin"),
            Err(ExtractError::Unsupported(_))
        ));
    }

    #[test]
    fn tidy_text() {
        assert_eq!(tidy("a  \r\nb\r\n\r\n\r\n\x0cc\x07"), "a\nb\n\nc");
    }
}
