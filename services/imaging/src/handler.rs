//! The imaging [`JobHandler`]: picks the operation module by the job's `Operation` case, runs it on a
//! blocking thread (image work is CPU-bound) and hands the encoded result to the job pipeline, which does
//! the rest of the lifecycle (status, input, result object, events, retries, acks).

use bytes::Bytes;
use job_pipeline::jetstream::output_key;
use job_pipeline::{JobError, JobHandler, JobOutput, Progress};
use mediabot_proto::Service;
use mediabot_proto::jobs::v1::operation::Params;
use mediabot_proto::jobs::v1::{
    FailureReason, ImageArchive, ImageResult, InputParts, JobRequest, job_completed,
};
use prost::Message as _;
use tokio_util::sync::CancellationToken;

use std::sync::Arc;

use crate::fonts::Fonts;
use crate::ops::add_text;
use crate::ops::compress::{self, Target};
use crate::ops::convert;
use crate::ops::upscale::{self, Factor};
use crate::pipeline::{ImageError, Limits, Output};

/// Runs imaging's operations within `limits`, drawing text with `fonts`.
#[derive(Debug, Clone)]
pub struct ImagingHandler {
    limits: Limits,
    fonts: Arc<Fonts>,
}

impl ImagingHandler {
    /// A handler that refuses inputs and results beyond `limits` and draws `image.add_text` with `fonts`.
    pub fn new(limits: Limits, fonts: Arc<Fonts>) -> Self {
        Self { limits, fonts }
    }

    /// The work of one picture for an operation's `params`. Errors: `Internal` for parameters SubmitJob
    /// should have refused, or an operation that is not imaging's.
    fn work_for(&self, params: Option<Params>) -> Result<Work, JobError> {
        let limits = self.limits;
        let invalid = |e: &dyn std::fmt::Display| JobError::Internal(e.to_string());
        Ok(match params {
            Some(Params::Upscale(p)) => {
                let factor = Factor::try_from(p.factor).map_err(|e| invalid(&e))?;
                Arc::new(move |input: &[u8]| upscale::upscale(input, factor, &limits))
            }
            Some(Params::Compress(p)) => {
                let target = Target::try_from(p.target_kb).map_err(|e| invalid(&e))?;
                Arc::new(move |input: &[u8]| compress::compress(input, target, &limits))
            }
            Some(Params::Convert(p)) => {
                let target = convert::Target::try_from(p.target).map_err(|e| invalid(&e))?;
                Arc::new(move |input: &[u8]| convert::convert(input, target, &limits))
            }
            Some(Params::AddText(p)) => {
                // SubmitJob validated the parameters; a job that still fails here is a bug.
                let spec = add_text::Spec::try_from(&p).map_err(|e| invalid(&e))?;
                let fonts = Arc::clone(&self.fonts);
                Arc::new(move |input: &[u8]| add_text::add_text(input, &spec, &fonts, &limits))
            }
            other => {
                return Err(JobError::Internal(format!(
                    "not an imaging operation: {other:?}"
                )));
            }
        })
    }
}

/// One picture's work: its bytes in, the encoded result out.
type Work = Arc<dyn Fn(&[u8]) -> Result<Output, ImageError> + Send + Sync>;

/// An album job: `work` on each of the `count` pictures of the job's `InputParts` (a blocking task
/// each, progress reported after each), stored in a ZIP archive as `photo-01.jpg`, `photo-02.png`, … in
/// their order. A picture that fails fails the job with its reason (nothing is charged for a part).
async fn album(
    job: &JobRequest,
    input: Bytes,
    count: u32,
    work: Work,
    progress: &Progress,
) -> Result<JobOutput, JobError> {
    let input_size_bytes = input.len() as u64;
    let parts = InputParts::decode(input)
        .map_err(|e| JobError::input(FailureReason::CorruptInput, format!("album input: {e}")))?
        .parts;
    if parts.len() != count as usize {
        return Err(JobError::Internal(format!(
            "the album job counts {count} pictures but its input holds {}",
            parts.len()
        )));
    }
    let mut archive = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let stored = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Stored)
        .large_file(false);
    let total = parts.len();
    for (index, part) in parts.into_iter().enumerate() {
        let work = Arc::clone(&work);
        let output = tokio::task::spawn_blocking(move || work(&part))
            .await
            .map_err(|e| JobError::Internal(format!("image operation crashed: {e}")))?
            .map_err(|e| {
                let number = index + 1;
                tracing::info!(picture = number, error = %e, "an album picture failed");
                JobError::from(e)
            })?;
        let extension = match output.mime_type {
            "image/png" => "png",
            "image/webp" => "webp",
            _ => "jpg",
        };
        let name = format!("photo-{:02}.{extension}", index + 1);
        let zip_error =
            |e: zip::result::ZipError| JobError::Internal(format!("writing the archive: {e}"));
        archive.start_file(name, stored).map_err(zip_error)?;
        std::io::Write::write_all(&mut archive, &output.bytes)
            .map_err(|e| JobError::Internal(format!("writing the archive: {e}")))?;
        let done = u32::try_from((index + 1) * 100 / total).unwrap_or(100);
        progress.report(done.min(99)).await;
    }
    let bytes = archive
        .finish()
        .map_err(|e| JobError::Internal(format!("writing the archive: {e}")))?
        .into_inner();
    tracing::info!(
        images = count,
        size_bytes = bytes.len(),
        input_size_bytes,
        "album ready"
    );
    let result = ImageArchive {
        output_key: output_key(&job.job_id),
        size_bytes: bytes.len() as u64,
        images: count,
        input_size_bytes,
    };
    Ok(JobOutput::with_object(
        job_completed::Result::Archive(result),
        bytes,
    ))
}

impl JobHandler for ImagingHandler {
    fn service(&self) -> Service {
        Service::Imaging
    }

    /// Jobs are short (seconds) and CPU-bound, so a running one finishes on shutdown: `_stop` is ignored.
    /// An album job (`Operation.count` above 1) runs the operation on each picture of its `InputParts`
    /// in turn, reporting progress after each, and returns them as one ZIP archive.
    async fn run(
        &self,
        job: &JobRequest,
        input: Bytes,
        progress: &Progress,
        _stop: &CancellationToken,
    ) -> Result<JobOutput, JobError> {
        let input_size_bytes = input.len() as u64;
        let operation = job.operation.clone().unwrap_or_default();
        let work = self.work_for(operation.params.clone())?;
        if operation.count > 1 {
            return album(job, input, operation.count, work, progress).await;
        }
        let output = tokio::task::spawn_blocking(move || work(&input))
            .await
            // A panic inside a codec is a bug that would repeat on every delivery.
            .map_err(|e| JobError::Internal(format!("image operation crashed: {e}")))??;
        tracing::info!(
            width = output.width,
            height = output.height,
            mime_type = output.mime_type,
            send_as_document = output.send_as_document,
            input_format = output.input_format,
            input_frames = output.input_frames,
            encodes = output.encodes,
            size_bytes = output.bytes.len(),
            input_size_bytes,
            "image ready"
        );
        let result = ImageResult {
            output_key: output_key(&job.job_id),
            mime_type: output.mime_type.to_string(),
            width_px: output.width,
            height_px: output.height,
            size_bytes: output.bytes.len() as u64,
            send_as_document: output.send_as_document,
            preview_jpeg: output.preview_jpeg,
            input_size_bytes,
            input_format: output.input_format.to_string(),
            first_frame_only: output.input_frames > 1,
            // Local work: no provider model, no fallback.
            model: String::new(),
            fallbacks: 0,
        };
        Ok(JobOutput::with_object(
            job_completed::Result::Image(result),
            output.bytes,
        ))
    }
}
