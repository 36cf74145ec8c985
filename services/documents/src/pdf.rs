//! PDF: the text layer of each page with `pdf-extract` (fonts' ToUnicode maps and encodings, on
//! `lopdf`), and OCR for a page without one (a scan): its pictures — JPEG (`DCTDecode`) as they are, or
//! 8-bit gray/RGB samples — are read by [`OcrEngine`].
//!
//! An encrypted PDF that opens with the empty user password (common: "no copying" permissions only) is
//! read; one that needs a password is [`ExtractError::Encrypted`]. `pdf-extract` panics on some malformed
//! content streams; a page that does is taken as having no text layer (and so goes to OCR), instead of
//! failing the document.

use std::panic::AssertUnwindSafe;

use image::{GrayImage, RgbImage};
use pdf_extract::{Document, ObjectId, PlainTextOutput};

use crate::extract::{ExtractError, Extracted, Limits, tidy};
use crate::ocr::{self, OcrEngine};

/// The text of a PDF, page by page (pages separated by an empty line). Errors: corrupt,
/// [`ExtractError::Encrypted`], [`ExtractError::TooLarge`] beyond [`Limits::max_pages`] pages or
/// [`Limits::max_ocr_pages`] pages to OCR.
pub fn extract(
    bytes: &[u8],
    languages: &str,
    limits: &Limits,
    engine: &OcrEngine,
) -> Result<Extracted, ExtractError> {
    let mut document = load(bytes)?;
    if document.is_encrypted() && document.decrypt("").is_err() {
        return Err(ExtractError::Encrypted);
    }
    let pages = document.get_pages();
    if pages.is_empty() {
        return Err(ExtractError::Corrupt("a PDF without pages".into()));
    }
    let count = u32::try_from(pages.len()).unwrap_or(u32::MAX);
    if count > limits.max_pages {
        return Err(ExtractError::TooLarge(format!(
            "{count} pages (at most {})",
            limits.max_pages
        )));
    }
    let mut texts = Vec::with_capacity(pages.len());
    let mut ocr_pages = 0;
    let mut characters = 0usize;
    for (&number, &page_id) in &pages {
        let mut text = page_text(&document, number);
        if !text.chars().any(char::is_alphanumeric) {
            let pictures = page_pictures(&document, page_id, limits);
            if !pictures.is_empty() {
                ocr_pages += 1;
                if ocr_pages > limits.max_ocr_pages {
                    return Err(ExtractError::TooLarge(format!(
                        "more than {} scanned pages",
                        limits.max_ocr_pages
                    )));
                }
                let mut read = Vec::new();
                for picture in pictures {
                    let (picture, _) = ocr::prepare(picture, limits);
                    read.push(engine.recognize(&picture, languages)?);
                }
                text = read.join("\n");
            }
        }
        let text = tidy(&text);
        characters += text.chars().count();
        if characters > limits.max_text_chars {
            return Err(ExtractError::TooLarge(format!(
                "more than {} characters of text",
                limits.max_text_chars
            )));
        }
        texts.push(text);
    }
    Ok(Extracted {
        text: tidy(&texts.join("\n\n")),
        pages: count,
        ocr_pages,
        encoding: String::new(),
    })
}

/// Parses the file, turning a parser panic into [`ExtractError::Corrupt`].
fn load(bytes: &[u8]) -> Result<Document, ExtractError> {
    match std::panic::catch_unwind(AssertUnwindSafe(|| Document::load_mem(bytes))) {
        Ok(Ok(document)) => Ok(document),
        Ok(Err(pdf_extract::Error::Decryption(_))) => Err(ExtractError::Encrypted),
        Ok(Err(e)) => Err(ExtractError::Corrupt(format!("PDF: {e}"))),
        Err(_) => Err(ExtractError::Corrupt("PDF: the parser gave up".into())),
    }
}

/// The text layer of page `number` (1-based); empty when it has none or cannot be read.
pub fn page_text(document: &Document, number: u32) -> String {
    let mut text = String::new();
    let read = std::panic::catch_unwind(AssertUnwindSafe(|| {
        let mut output = PlainTextOutput::new(&mut text);
        pdf_extract::output_doc_page(document, &mut output, number)
    }));
    match read {
        Ok(Ok(())) => text,
        Ok(Err(error)) => {
            tracing::debug!(%error, page = number, "page text not readable");
            String::new()
        }
        Err(_) => {
            tracing::debug!(page = number, "pdf-extract panicked on a page");
            String::new()
        }
    }
}

/// The pictures of a page that OCR can read, as grayscale: JPEGs, and 8-bit DeviceGray/DeviceRGB samples
/// (Flate-compressed or plain). Pictures beyond the pixel limit, or smaller than 100 px a side (logos,
/// bullets), are skipped.
fn page_pictures(document: &Document, page_id: ObjectId, limits: &Limits) -> Vec<GrayImage> {
    let Ok(images) = document.get_page_images(page_id) else {
        return Vec::new();
    };
    let mut pictures = Vec::new();
    for image in images {
        let (Ok(width), Ok(height)) = (u32::try_from(image.width), u32::try_from(image.height))
        else {
            continue;
        };
        if width < 100
            || height < 100
            || u64::from(width) * u64::from(height) > limits.max_image_pixels
        {
            continue;
        }
        let filters = image.filters.clone().unwrap_or_default();
        let picture = if filters.iter().any(|f| f == "DCTDecode") {
            ocr::decode(image.content, limits)
                .ok()
                .map(|decoded| decoded.to_luma8())
        } else if filters.iter().all(|f| f == "FlateDecode") && image.bits_per_component == Some(8)
        {
            samples(
                document,
                image.id,
                width,
                height,
                image.color_space.as_deref(),
            )
        } else {
            None
        };
        if let Some(picture) = picture {
            pictures.push(picture);
        }
    }
    pictures
}

/// An 8-bit gray or RGB sample picture, decompressed.
fn samples(
    document: &Document,
    id: ObjectId,
    width: u32,
    height: u32,
    color_space: Option<&str>,
) -> Option<GrayImage> {
    let stream = document.get_object(id).ok()?.as_stream().ok()?;
    let data = stream
        .decompressed_content()
        .unwrap_or_else(|_| stream.content.clone());
    match color_space {
        Some("DeviceGray") => GrayImage::from_raw(width, height, data),
        Some("DeviceRGB") => RgbImage::from_raw(width, height, data)
            .map(|rgb| image::DynamicImage::from(rgb).to_luma8()),
        _ => None,
    }
}
