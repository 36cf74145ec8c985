//! The imaging [`JobHandler`]: picks the operation module by the job's `Operation` case, runs it on a
//! blocking thread (image work is CPU-bound) and hands the encoded result to the job pipeline, which does
//! the rest of the lifecycle (status, input, result object, events, retries, acks).

use bytes::Bytes;
use job_pipeline::jetstream::output_key;
use job_pipeline::{JobError, JobHandler, JobOutput, Progress};
use mediabot_proto::Service;
use mediabot_proto::jobs::v1::operation::Params;
use mediabot_proto::jobs::v1::{ImageResult, JobRequest, job_completed};
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
}

impl JobHandler for ImagingHandler {
    fn service(&self) -> Service {
        Service::Imaging
    }

    /// Jobs are short (seconds) and CPU-bound, so a running one finishes on shutdown: `_stop` is ignored.
    async fn run(
        &self,
        job: &JobRequest,
        input: Bytes,
        _progress: &Progress,
        _stop: &CancellationToken,
    ) -> Result<JobOutput, JobError> {
        let limits = self.limits;
        let input_size_bytes = input.len() as u64;
        let params = job.operation.as_ref().and_then(|o| o.params.clone());
        let work: Box<dyn FnOnce() -> Result<Output, ImageError> + Send> = match params {
            Some(Params::Upscale(p)) => {
                let factor =
                    Factor::try_from(p.factor).map_err(|e| JobError::Internal(e.to_string()))?;
                Box::new(move || upscale::upscale(&input, factor, &limits))
            }
            Some(Params::Compress(p)) => {
                let target =
                    Target::try_from(p.target_kb).map_err(|e| JobError::Internal(e.to_string()))?;
                Box::new(move || compress::compress(&input, target, &limits))
            }
            Some(Params::Convert(p)) => {
                let target = convert::Target::try_from(p.target)
                    .map_err(|e| JobError::Internal(e.to_string()))?;
                Box::new(move || convert::convert(&input, target, &limits))
            }
            Some(Params::AddText(p)) => {
                // SubmitJob validated the parameters; a job that still fails here is a bug.
                let spec =
                    add_text::Spec::try_from(&p).map_err(|e| JobError::Internal(e.to_string()))?;
                let fonts = Arc::clone(&self.fonts);
                Box::new(move || add_text::add_text(&input, &spec, &fonts, &limits))
            }
            other => {
                return Err(JobError::Internal(format!(
                    "not an imaging operation: {other:?}"
                )));
            }
        };
        let output = tokio::task::spawn_blocking(work)
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
