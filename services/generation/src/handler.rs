//! The generation [`JobHandler`]: `image.generate` (a picture from Fal, the default chain or one named
//! model) and `prompt.write` (an image prompt from the LLM). Neither takes an input object; both wait on
//! the network, not the CPU, so many run at once (`--workers`).
//!
//! `image.generate` tries the job's models in order. A model's prompt is translated to English first when
//! the model asks for it and the prompt has non-Latin letters (a failed translation sends the original).
//! The first picture that decodes is the result (`out/<job_id>`, sent as a document) with the model that
//! made it and the number that failed before it. A content-policy refusal ends the chain at once: another
//! model would be asked the same thing. The whole job runs under one deadline (`--job-deadline-secs`).

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use job_pipeline::jetstream::output_key;
use job_pipeline::{JobError, JobHandler, JobOutput, Progress};
use mediabot_proto::Service;
use mediabot_proto::jobs::v1::operation::Params;
use mediabot_proto::jobs::v1::{
    Generate, ImageResult, JobRequest, PromptText, WritePrompt, job_completed,
};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use crate::bounds::Bounds;
use crate::error::{GenerationError, ModelFailure};
use crate::fal::{FalClient, FalError};
use crate::llm::{LlmClient, LlmError, needs_translation};
use crate::metrics::{self, Outcome};
use crate::models::{Model, ModelList};
use crate::picture;

/// Runs the generation operations with one model list, one Fal client and one LLM client.
#[derive(Debug, Clone)]
pub struct GenerationHandler {
    models: Arc<ModelList>,
    fal: FalClient,
    llm: LlmClient,
    deadline: Duration,
}

impl GenerationHandler {
    /// A handler whose jobs each end within `deadline`.
    pub fn new(models: Arc<ModelList>, fal: FalClient, llm: LlmClient, deadline: Duration) -> Self {
        Self {
            models,
            fal,
            llm,
            deadline,
        }
    }

    /// `image.generate`: the first model of the job's chain that gives a usable picture.
    async fn generate(
        &self,
        job: &JobRequest,
        params: &Generate,
        progress: &watch::Sender<u32>,
        bounds: &Bounds,
    ) -> Result<JobOutput, GenerationError> {
        let chain = self.models.chain_for(&params.model)?;
        let mut failures: Vec<ModelFailure> = Vec::new();
        let mut translation: Option<String> = None;
        for model in chain {
            let prompt = if model.translate_prompt && needs_translation(&params.prompt) {
                match &translation {
                    Some(english) => english.clone(),
                    None => {
                        let english = self.translate(&params.prompt, bounds, &failures).await?;
                        translation = Some(english.clone());
                        english
                    }
                }
            } else {
                params.prompt.clone()
            };
            let input = model.input(params, &prompt);
            let started = Instant::now();
            let attempt = self.attempt(job, model, &input, progress, bounds).await;
            let outcome = match &attempt {
                Ok(_) => Outcome::Completed,
                Err(Attempt::Fal(FalError::Rejected { .. })) => Outcome::Rejected,
                Err(Attempt::Fal(FalError::TimedOut)) => Outcome::TimedOut,
                Err(Attempt::Fal(FalError::Stopped)) => Outcome::Interrupted,
                Err(_) => Outcome::Failed,
            };
            metrics::provider_request(metrics::FAL, &model.alias, outcome, started.elapsed());
            let reason = match attempt {
                Ok((picture, bytes)) => {
                    tracing::info!(
                        model = %model.alias,
                        fallbacks = failures.len(),
                        width = picture.width,
                        height = picture.height,
                        bytes = bytes.len(),
                        mime_type = %picture.mime_type,
                        seconds = started.elapsed().as_secs_f64(),
                        "picture generated"
                    );
                    return Ok(image_output(job, model, failures.len(), picture, bytes));
                }
                Err(Attempt::Fal(FalError::Rejected { message, status })) => {
                    return Err(GenerationError::Rejected {
                        model: model.alias.clone(),
                        status,
                        message,
                    });
                }
                Err(Attempt::Fal(FalError::TimedOut)) => {
                    return Err(GenerationError::TimedOut {
                        after: self.deadline,
                        failures,
                    });
                }
                Err(Attempt::Fal(FalError::Stopped)) => return Err(GenerationError::Stopped),
                Err(Attempt::Fal(FalError::Slots(detail))) => {
                    return Err(GenerationError::Nats(detail));
                }
                Err(Attempt::Crashed(detail)) => return Err(GenerationError::Crashed(detail)),
                Err(Attempt::Fal(FalError::Failed(reason))) => reason,
                Err(Attempt::Picture(error)) => format!("the picture {error}"),
            };
            tracing::warn!(model = %model.alias, %reason, "model failed; trying the next one");
            failures.push(ModelFailure {
                model: model.alias.clone(),
                reason,
            });
        }
        Err(GenerationError::AllFailed(failures))
    }

    /// One model: the picture from Fal, probed.
    async fn attempt(
        &self,
        job: &JobRequest,
        model: &Model,
        input: &serde_json::Value,
        progress: &watch::Sender<u32>,
        bounds: &Bounds,
    ) -> Result<(picture::Picture, Bytes), Attempt> {
        let bytes = self
            .fal
            .generate(&job.job_id, model, input, progress, bounds)
            .await
            .map_err(Attempt::Fal)?;
        let probed = bytes.clone();
        let picture = tokio::task::spawn_blocking(move || picture::probe(&probed))
            .await
            .map_err(|e| Attempt::Crashed(format!("probing the picture crashed: {e}")))?
            .map_err(Attempt::Picture)?;
        Ok((picture, bytes))
    }

    /// `prompt` in English, or `prompt` itself when the LLM fails (logged); only the deadline and
    /// shutdown end the job here.
    async fn translate(
        &self,
        prompt: &str,
        bounds: &Bounds,
        failures: &[ModelFailure],
    ) -> Result<String, GenerationError> {
        match self.llm.translate(prompt, bounds).await {
            Ok(english) => {
                tracing::info!(
                    chars = english.chars().count(),
                    "prompt translated to English"
                );
                Ok(english)
            }
            Err(LlmError::Failed(error)) => {
                tracing::warn!(%error, "translating the prompt failed; sending it as written");
                Ok(prompt.to_string())
            }
            Err(LlmError::TimedOut) => Err(GenerationError::TimedOut {
                after: self.deadline,
                failures: failures.to_vec(),
            }),
            Err(LlmError::Stopped) => Err(GenerationError::Stopped),
        }
    }

    /// `prompt.write`: the LLM's prompt for the user's idea.
    async fn write_prompt(
        &self,
        params: &WritePrompt,
        bounds: &Bounds,
    ) -> Result<JobOutput, GenerationError> {
        match self
            .llm
            .write_prompt(&params.idea, &params.language, bounds)
            .await
        {
            Ok(completion) => {
                tracing::info!(
                    chars = completion.text.chars().count(),
                    model = %completion.model,
                    "prompt written"
                );
                Ok(JobOutput::new(job_completed::Result::Prompt(PromptText {
                    text: completion.text,
                    model: completion.model,
                })))
            }
            Err(LlmError::Failed(error)) => Err(GenerationError::Llm(error)),
            Err(LlmError::TimedOut) => Err(GenerationError::TimedOut {
                after: self.deadline,
                failures: Vec::new(),
            }),
            Err(LlmError::Stopped) => Err(GenerationError::Stopped),
        }
    }
}

/// Why one model gave no usable picture.
enum Attempt {
    Fal(FalError),
    Picture(picture::PictureError),
    Crashed(String),
}

fn image_output(
    job: &JobRequest,
    model: &Model,
    fallbacks: usize,
    picture: picture::Picture,
    bytes: Bytes,
) -> JobOutput {
    let result = ImageResult {
        output_key: output_key(&job.job_id),
        mime_type: picture.mime_type,
        width_px: picture.width,
        height_px: picture.height,
        size_bytes: bytes.len() as u64,
        // Every picture is a document: Telegram would recompress a photo.
        send_as_document: true,
        preview_jpeg: picture.preview_jpeg,
        model: model.alias.clone(),
        fallbacks: u32::try_from(fallbacks).unwrap_or(u32::MAX),
        ..ImageResult::default()
    };
    JobOutput::with_object(job_completed::Result::Image(result), bytes)
}

/// Publishes each new percentage of `percent` as the job's progress, until the sender is dropped.
async fn forward_progress(progress: Progress, mut percent: watch::Receiver<u32>) {
    while percent.changed().await.is_ok() {
        let value = *percent.borrow_and_update();
        progress.report(value).await;
    }
}

impl JobHandler for GenerationHandler {
    fn service(&self) -> Service {
        Service::Generation
    }

    /// On shutdown (`stop`) a request at the provider is cancelled there and the job is left for
    /// redelivery.
    async fn run(
        &self,
        job: &JobRequest,
        _input: Bytes,
        progress: &Progress,
        stop: &CancellationToken,
    ) -> Result<JobOutput, JobError> {
        let bounds = Bounds {
            deadline: Instant::now() + self.deadline,
            stop: stop.clone(),
        };
        let (percent, watching) = watch::channel(0);
        let forwarding = tokio::spawn(forward_progress(progress.clone(), watching));
        let result = match job.operation.as_ref().and_then(|o| o.params.as_ref()) {
            Some(Params::Generate(params)) => self.generate(job, params, &percent, &bounds).await,
            Some(Params::WritePrompt(params)) => self.write_prompt(params, &bounds).await,
            other => Err(GenerationError::NotOurs(format!("{other:?}"))),
        };
        // The last percentage goes out before the outcome.
        drop(percent);
        if let Err(error) = forwarding.await {
            tracing::debug!(%error, "the progress task ended badly");
        }
        result.map_err(JobError::from)
    }
}
