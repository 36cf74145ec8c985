//! Extraction on the real fixtures and on hostile files, without NATS: what each format gives, and that
//! every bad input is the right error.

use documents::extract::{self, ExtractError, Format, Limits};
use documents::handler::run_blocking;
use documents::ocr::OcrEngine;
use documents::stats;

use crate::helpers::{
    PHOTO_LINES, blank_jpeg, cer, encrypted_pdf, fixture, scanned_pdf, true_lines, zip_bomb_docx,
};

fn engine() -> OcrEngine {
    let engine = OcrEngine::new(None);
    engine
        .check()
        .expect("Tesseract with rus+eng (scripts/install-deps.sh installs it)");
    engine
}

fn read(bytes: &[u8], file_name: &str) -> Result<(extract::Extracted, Format), ExtractError> {
    run_blocking(
        bytes,
        "",
        file_name,
        false,
        "rus+eng",
        &Limits::default(),
        &engine(),
    )
}

#[test]
fn the_pdf_gives_its_three_pages_of_text() {
    let (pdf, format) = read(&fixture("report-ru-en.pdf"), "report-ru-en.pdf").unwrap();
    assert_eq!(format, Format::Pdf);
    assert_eq!((pdf.pages, pdf.ocr_pages), (3, 0));
    for line in true_lines() {
        assert!(
            pdf.text.contains(&line),
            "{line:?} missing from:\n{}",
            pdf.text
        );
    }
    assert!(pdf.text.contains("Page 3"), "{}", pdf.text);
    assert_eq!(stats::stats(&pdf.text).language, "ru,en");
}

#[test]
fn the_docx_gives_its_paragraphs_and_table() {
    let (docx, format) = read(&fixture("minutes-ru-en.docx"), "minutes-ru-en.docx").unwrap();
    assert_eq!(format, Format::Docx);
    let lines: Vec<&str> = docx.text.lines().collect();
    assert!(lines.len() >= 4, "{}", docx.text);
    // The 2×2 table: two lines with two cells each.
    let rows: Vec<&&str> = lines
        .iter()
        .filter(|l| l.matches(" | ").count() == 1)
        .collect();
    assert_eq!(rows.len(), 2, "{}", docx.text);
    assert!(
        docx.text.chars().any(|c| ('а'..='я').contains(&c)),
        "{}",
        docx.text
    );
    assert!(
        docx.text.chars().any(|c| c.is_ascii_lowercase()),
        "{}",
        docx.text
    );
}

#[test]
fn windows_1251_and_utf8_text_read_alike() {
    let (cp1251, format) = read(&fixture("notes-cp1251.txt"), "notes-cp1251.txt").unwrap();
    assert_eq!(format, Format::Text);
    assert_eq!(cp1251.encoding, "windows-1251");
    let (utf8, _) = read(&fixture("notes-utf8.txt"), "notes-utf8.txt").unwrap();
    assert_eq!(utf8.encoding, "UTF-8");
    assert!(
        cp1251.text.contains("Отчёт о работе отдела"),
        "{}",
        cp1251.text
    );
    assert!(!cp1251.text.contains('\r'));
    // The same Russian lines either way.
    for line in utf8.text.lines().filter(|l| !l.is_ascii()) {
        assert!(
            cp1251.text.contains(line),
            "{line:?} not in {}",
            cp1251.text
        );
    }
}

#[test]
fn the_page_photo_reads_within_five_percent_cer() {
    let (photo, format) = run_blocking(
        &fixture("page-photo-ru-en.jpg"),
        "image/jpeg",
        "",
        true,
        "rus+eng",
        &Limits::default(),
        &engine(),
    )
    .unwrap();
    assert_eq!(format, Format::Image);
    let rate = cer(&photo.text, &PHOTO_LINES.join("\n"));
    assert!(rate <= 0.05, "CER {:.3} on:\n{}", rate, photo.text);
    assert_eq!(stats::stats(&photo.text).language, "ru,en");
}

#[test]
fn a_scanned_pdf_page_goes_through_ocr() {
    let pdf = scanned_pdf(&fixture("page-photo-ru-en.jpg"), 1600, 1100);
    let (scanned, _) = read(&pdf, "scan.pdf").unwrap();
    assert_eq!((scanned.pages, scanned.ocr_pages), (1, 1));
    assert!(
        cer(&scanned.text, &PHOTO_LINES.join("\n")) <= 0.05,
        "{}",
        scanned.text
    );
}

#[test]
fn bad_inputs_are_told_apart() {
    let reason = |bytes: &[u8], name: &str| read(bytes, name).unwrap_err();
    assert!(matches!(
        reason(&encrypted_pdf(), "secret.pdf"),
        ExtractError::Encrypted
    ));
    let mut truncated = fixture("report-ru-en.pdf");
    truncated.truncate(300);
    assert!(matches!(
        reason(&truncated, "broken.pdf"),
        ExtractError::Corrupt(_)
    ));
    assert!(matches!(
        reason(b"%PDF-1.4\ngarbage garbage", "broken.pdf"),
        ExtractError::Corrupt(_)
    ));
    let elf = b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0\x03\0>\0".repeat(100);
    assert!(matches!(
        reason(&elf, "notes.txt"),
        ExtractError::NotText(_)
    ));
    assert!(matches!(
        reason(&blank_jpeg(), "blank.jpg"),
        ExtractError::NoText
    ));
    assert!(matches!(
        reason(b"   \n\n  ", "empty.txt"),
        ExtractError::NoText
    ));
    assert!(matches!(
        reason(b"PK\x03\x04not really a zip", "a.docx"),
        ExtractError::Unsupported(_) | ExtractError::Corrupt(_)
    ));
    assert!(matches!(
        reason(b"{\\rtf1\\ansi hello}", "a.rtf"),
        ExtractError::Unsupported(_)
    ));
    let mut ole = b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1".to_vec();
    ole.resize(4096, 0);
    assert!(matches!(
        reason(&ole, "locked.docx"),
        ExtractError::Encrypted
    ));
}

#[test]
fn a_docx_zip_bomb_stops_at_the_limit() {
    let bomb = zip_bomb_docx(100 << 20);
    assert!(bomb.len() < 1 << 20, "{} bytes", bomb.len());
    let limits = Limits::default();
    assert!(matches!(
        documents::office::docx(&bomb, &limits),
        Err(ExtractError::TooLarge(_))
    ));
}

#[test]
fn an_enormous_text_file_is_too_large() {
    let limits = Limits {
        max_text_file_bytes: 1000,
        ..Limits::default()
    };
    let big = "слово ".repeat(1000);
    assert!(matches!(
        documents::plain::decode(big.as_bytes(), &limits),
        Err(ExtractError::TooLarge(_))
    ));
}
