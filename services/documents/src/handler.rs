//! The documents [`JobHandler`]: `document.text` (any readable document, format sniffed) and `image.ocr`
//! (a picture), both run on a blocking thread (parsing and OCR are CPU-bound). The whole text becomes
//! the result object (`out/<job_id>`, UTF-8) that the gateway sends as a `.txt`; the event carries its
//! beginning and counts ([`ExtractedText`]).

use std::sync::Arc;

use bytes::Bytes;
use job_pipeline::jetstream::output_key;
use job_pipeline::{JobError, JobHandler, JobOutput, Progress};
use mediabot_proto::Service;
use mediabot_proto::catalog::ocr_languages;
use mediabot_proto::jobs::v1::operation::Params;
use mediabot_proto::jobs::v1::{ExtractedText, JobRequest, job_completed};
use tokio_util::sync::CancellationToken;

use crate::extract::{self, ExtractError, Extracted, Format, Limits};
use crate::ocr::OcrEngine;
use crate::stats::{self, PREVIEW_CHARS};

/// Runs the documents operations within `limits`, with one shared [`OcrEngine`].
#[derive(Debug, Clone)]
pub struct DocumentsHandler {
    limits: Limits,
    engine: Arc<OcrEngine>,
}

impl DocumentsHandler {
    /// A handler that refuses inputs beyond `limits` and reads pictures with `engine`.
    pub fn new(limits: Limits, engine: Arc<OcrEngine>) -> Self {
        Self { limits, engine }
    }
}

/// The text of one input: what `document.text` or `image.ocr` (`ocr_only`) reads, in Tesseract's
/// `languages`. Blocking. Errors: [`ExtractError`]; an `image.ocr` input that is not a picture is
/// [`ExtractError::Unsupported`].
pub fn run_blocking(
    input: &[u8],
    mime_type: &str,
    file_name: &str,
    ocr_only: bool,
    languages: &str,
    limits: &Limits,
    engine: &OcrEngine,
) -> Result<(Extracted, Format), ExtractError> {
    let format = extract::detect(input, mime_type, file_name)?;
    if ocr_only && format != Format::Image {
        return Err(ExtractError::Unsupported(format!(
            "{} is not a picture",
            format.name()
        )));
    }
    let extracted = extract::extract(input, format, languages, limits, engine)?;
    Ok((extracted, format))
}

/// The name of the `.txt` document: the input's name with its extension replaced, or `text.txt`.
pub fn txt_file_name(file_name: &str) -> String {
    let stem = file_name
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or_default()
        .rsplit_once('.')
        .map(|(stem, _)| stem)
        .unwrap_or(file_name)
        .trim();
    if stem.is_empty() {
        "text.txt".into()
    } else {
        format!("{stem}.txt")
    }
}

impl JobHandler for DocumentsHandler {
    fn service(&self) -> Service {
        Service::Documents
    }

    /// Jobs take seconds and are CPU-bound, so a running one finishes on shutdown: `_stop` is ignored.
    async fn run(
        &self,
        job: &JobRequest,
        input: Bytes,
        _progress: &Progress,
        _stop: &CancellationToken,
    ) -> Result<JobOutput, JobError> {
        let (language, ocr_only) = match job.operation.as_ref().and_then(|o| o.params.as_ref()) {
            Some(Params::DocumentText(p)) => (p.language.clone(), false),
            Some(Params::Ocr(p)) => (p.language.clone(), true),
            other => {
                return Err(JobError::Internal(format!(
                    "not a documents operation: {other:?}"
                )));
            }
        };
        let languages = ocr_languages(&language);
        let (limits, engine) = (self.limits, self.engine.clone());
        let (mime_type, file_name) = (job.mime_type.clone(), job.file_name.clone());
        let (extracted, format) = tokio::task::spawn_blocking(move || {
            run_blocking(
                &input, &mime_type, &file_name, ocr_only, languages, &limits, &engine,
            )
        })
        .await
        // A panic in a parser or in Tesseract is a bug that would repeat on every delivery.
        .map_err(|e| JobError::Internal(format!("text extraction crashed: {e}")))??;
        let counts = stats::stats(&extracted.text);
        tracing::info!(
            source_format = format.name(),
            pages = extracted.pages,
            ocr_pages = extracted.ocr_pages,
            characters = counts.characters,
            words = counts.words,
            language = %counts.language,
            encoding = %extracted.encoding,
            "text extracted"
        );
        let whole = Bytes::from(format!("{}\n", extracted.text));
        let result = ExtractedText {
            text: stats::beginning(&extracted.text, PREVIEW_CHARS).to_string(),
            output_key: output_key(&job.job_id),
            pages: extracted.pages,
            ocr_pages: extracted.ocr_pages,
            characters: counts.characters,
            words: counts.words,
            language: counts.language,
            source_format: format.name().to_string(),
            encoding: extracted.encoding,
            file_name: txt_file_name(&job.file_name),
            size_bytes: whole.len() as u64,
        };
        Ok(JobOutput::with_object(
            job_completed::Result::Text(result),
            whole,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn txt_names() {
        assert_eq!(txt_file_name("report-ru-en.pdf"), "report-ru-en.txt");
        assert_eq!(txt_file_name(""), "text.txt");
        assert_eq!(txt_file_name("notes"), "notes.txt");
        assert_eq!(txt_file_name("a/b/c.docx"), "c.txt");
    }
}
