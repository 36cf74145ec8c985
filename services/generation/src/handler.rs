//! The generation [`JobHandler`]: `image.generate` (a picture from Fal, the default chain or one named
//! model), `prompt.write` (an image prompt from the LLM), and three operations on the user's pictures
//! through Fal — `image.edit` (1 to 4 pictures changed as an instruction says), `image.retouch` (a
//! portrait in one of two presets) and `image.face_swap` (a portrait's face onto a target photo). All wait
//! on the network, not the CPU, so many run at once (`--workers`).
//!
//! `image.generate` tries the job's models in order. A model's prompt is translated to English first when
//! the model asks for it and the prompt has non-Latin letters (a failed translation sends the original).
//! The first picture that decodes is the result (`out/<job_id>`, sent as a document) with the model that
//! made it and the number that failed before it. A content-policy refusal ends the chain at once: another
//! model would be asked the same thing. `prompt.write` takes no input object either.
//!
//! The picture operations read their input object — `image.edit`'s and `image.face_swap`'s is an
//! `InputParts` (edit: the pictures in the user's order; face swap: the target photo, then the portrait),
//! `image.retouch`'s the picture itself — and make each picture ready for Fal on a blocking thread
//! ([`crate::inputs`]: upright, at most 2048 px a side, a `data:` URI); a picture that cannot be read
//! fails the job before Fal is asked. Each asks one model, with no fallback: the edit model the job names
//! (or the model list's default) with the instruction (translated when the model asks) and the format
//! the job wants, the retouch model with the preset's prompt and "Also: <instruction>", the face-swap
//! model with the target as `base_image_url` and the portrait as `swap_image_url`. A picture that comes
//! back in another format than asked (PNG for retouch and face swap) is converted before it is stored.
//!
//! `image.upscale_remote` sends the picture as large as its result may be (at most 8192 px a side: a
//! picture is shrunk to 8192 / factor first) to the model list's upscale model with the factor; the
//! result is a PNG.
//!
//! Every job runs under one deadline (`--job-deadline-secs`). Its stop token fires on shutdown and on the
//! user's cancel alike: the request at Fal is cancelled and the worker decides what follows (redelivery
//! after a shutdown, `CANCELLED` after a cancel).

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use job_pipeline::jetstream::output_key;
use job_pipeline::{JobError, JobHandler, JobOutput, Progress};
use mediabot_proto::Service;
use mediabot_proto::catalog::{EDIT_MAX_IMAGES, UPSCALE_REMOTE_MAX_SIDE_PX};
use mediabot_proto::jobs::v1::operation::Params;
use mediabot_proto::jobs::v1::{
    Edit, Generate, ImageResult, JobRequest, PromptText, Retouch, WritePrompt, job_completed,
};
use serde_json::Value;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use crate::bounds::Bounds;
use crate::error::{GenerationError, ModelFailure};
use crate::fal::{Endpoint, FalClient, FalError};
use crate::inputs::{self, Prepared};
use crate::llm::{LlmClient, LlmError, needs_translation};
use crate::metrics::{self, Outcome};
use crate::models::ModelList;
use crate::picture::{self, ResultFormat};

/// The `model` label of the retouch model's requests.
const RETOUCH_LABEL: &str = "retouch";
/// The `model` label of the face-swap model's requests.
const FACE_SWAP_LABEL: &str = "face_swap";
/// The `model` label of `image.upscale_remote`'s requests.
const UPSCALE_LABEL: &str = "upscale";

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
            let endpoint = Endpoint {
                label: &model.alias,
                fal_model: &model.fal_model,
            };
            let started = Instant::now();
            let attempt = self
                .attempt(job, endpoint, &input, None, progress, bounds)
                .await;
            metrics::provider_request(
                metrics::FAL,
                &model.alias,
                attempt_outcome(&attempt),
                started.elapsed(),
            );
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
                    return Ok(image_output(
                        job,
                        &model.alias,
                        failures.len(),
                        picture,
                        bytes,
                    ));
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

    /// One model: the picture from Fal, probed, and converted to `format` when one is wanted and the
    /// model answered in another.
    async fn attempt(
        &self,
        job: &JobRequest,
        endpoint: Endpoint<'_>,
        input: &Value,
        format: Option<ResultFormat>,
        progress: &watch::Sender<u32>,
        bounds: &Bounds,
    ) -> Result<(picture::Picture, Bytes), Attempt> {
        let bytes = self
            .fal
            .picture(&job.job_id, endpoint, input, progress, bounds)
            .await
            .map_err(Attempt::Fal)?;
        tokio::task::spawn_blocking(move || match format {
            Some(format) => picture::probe_as(bytes, format),
            None => picture::probe(&bytes).map(|picture| (picture, bytes)),
        })
        .await
        .map_err(|e| Attempt::Crashed(format!("probing the picture crashed: {e}")))?
        .map_err(Attempt::Picture)
    }

    /// The one request of an edit, a retouch or a face swap (no chain to fall back on): its picture in
    /// `format`, or the job's failure.
    async fn single(
        &self,
        job: &JobRequest,
        endpoint: Endpoint<'_>,
        input: &Value,
        format: ResultFormat,
        progress: &watch::Sender<u32>,
        bounds: &Bounds,
    ) -> Result<(picture::Picture, Bytes), GenerationError> {
        let started = Instant::now();
        let attempt = self
            .attempt(job, endpoint, input, Some(format), progress, bounds)
            .await;
        metrics::provider_request(
            metrics::FAL,
            endpoint.label,
            attempt_outcome(&attempt),
            started.elapsed(),
        );
        let failed = |reason: String| {
            GenerationError::Failed(ModelFailure {
                model: endpoint.label.to_string(),
                reason,
            })
        };
        match attempt {
            Ok((picture, bytes)) => {
                tracing::info!(
                    model = %endpoint.label,
                    width = picture.width,
                    height = picture.height,
                    bytes = bytes.len(),
                    mime_type = %picture.mime_type,
                    seconds = started.elapsed().as_secs_f64(),
                    "picture made"
                );
                Ok((picture, bytes))
            }
            Err(Attempt::Fal(FalError::Rejected { message, status })) => {
                Err(GenerationError::Rejected {
                    model: endpoint.label.to_string(),
                    status,
                    message,
                })
            }
            Err(Attempt::Fal(FalError::TimedOut)) => Err(GenerationError::TimedOut {
                after: self.deadline,
                failures: Vec::new(),
            }),
            Err(Attempt::Fal(FalError::Stopped)) => Err(GenerationError::Stopped),
            Err(Attempt::Fal(FalError::Slots(detail))) => Err(GenerationError::Nats(detail)),
            Err(Attempt::Crashed(detail)) => Err(GenerationError::Crashed(detail)),
            Err(Attempt::Fal(FalError::Failed(reason))) => Err(failed(reason)),
            Err(Attempt::Picture(error)) => Err(failed(format!("the picture {error}"))),
        }
    }

    /// `image.edit`: the job's pictures changed by its edit model as the instruction says.
    async fn edit(
        &self,
        job: &JobRequest,
        params: &Edit,
        input: Bytes,
        progress: &watch::Sender<u32>,
        bounds: &Bounds,
    ) -> Result<JobOutput, GenerationError> {
        let model = self.models.edit().for_job(&params.model)?;
        let format = ResultFormat::parse(&params.format)
            .ok_or_else(|| GenerationError::BadJob(format!("format {:?}", params.format)))?;
        let parts = inputs::parts(&input, 1..=EDIT_MAX_IMAGES).map_err(GenerationError::BadJob)?;
        let pictures = prepare(parts).await?;
        let prompt = if model.translate_prompt && needs_translation(&params.instruction) {
            self.translate(&params.instruction, bounds, &[]).await?
        } else {
            params.instruction.clone()
        };
        let urls: Vec<String> = pictures.into_iter().map(|p| p.data_uri).collect();
        let body = model.input(&prompt, &urls, format.name());
        let label = format!("edit/{}", model.alias);
        let endpoint = Endpoint {
            label: &label,
            fal_model: &model.fal_model,
        };
        let (picture, bytes) = self
            .single(job, endpoint, &body, format, progress, bounds)
            .await?;
        Ok(image_output(job, &model.alias, 0, picture, bytes))
    }

    /// `image.retouch`: the picture edited with the preset's prompt and the user's wishes.
    async fn retouch(
        &self,
        job: &JobRequest,
        params: &Retouch,
        input: Bytes,
        progress: &watch::Sender<u32>,
        bounds: &Bounds,
    ) -> Result<JobOutput, GenerationError> {
        let model = self.models.retouch();
        let mut pictures = prepare(vec![input]).await?;
        let picture = pictures
            .pop()
            .ok_or_else(|| GenerationError::Crashed("no picture was prepared".into()))?;
        let prompt = model.prompt(params.preset_kind(), &params.instruction);
        let format = ResultFormat::Png;
        let body = model.input(&prompt, &picture.data_uri, format.name());
        let endpoint = Endpoint {
            label: RETOUCH_LABEL,
            fal_model: &model.fal_model,
        };
        let (picture, bytes) = self
            .single(job, endpoint, &body, format, progress, bounds)
            .await?;
        Ok(image_output(job, "", 0, picture, bytes))
    }

    /// `image.face_swap`: the portrait's face (part 1) on the person of the target photo (part 0).
    async fn face_swap(
        &self,
        job: &JobRequest,
        input: Bytes,
        progress: &watch::Sender<u32>,
        bounds: &Bounds,
    ) -> Result<JobOutput, GenerationError> {
        let model = self.models.face_swap();
        let parts = inputs::parts(&input, 2..=2).map_err(GenerationError::BadJob)?;
        let pictures = prepare(parts).await?;
        let [target, portrait] = pictures.as_slice() else {
            return Err(GenerationError::Crashed(format!(
                "{} pictures prepared for a face swap",
                pictures.len()
            )));
        };
        let body = model.input(&target.data_uri, &portrait.data_uri);
        let endpoint = Endpoint {
            label: FACE_SWAP_LABEL,
            fal_model: &model.fal_model,
        };
        let (picture, bytes) = self
            .single(job, endpoint, &body, ResultFormat::Png, progress, bounds)
            .await?;
        Ok(image_output(job, "", 0, picture, bytes))
    }

    /// `image.upscale_remote`: the picture upscaled by the model list's upscale model.
    async fn upscale(
        &self,
        job: &JobRequest,
        factor: u32,
        input: Bytes,
        progress: &watch::Sender<u32>,
        bounds: &Bounds,
    ) -> Result<JobOutput, GenerationError> {
        let model = self.models.upscale().ok_or_else(|| {
            GenerationError::BadJob(
                "image.upscale_remote, but the model list has no [upscale] model".into(),
            )
        })?;
        let max_side = UPSCALE_REMOTE_MAX_SIDE_PX / factor.max(1);
        let picture = tokio::task::spawn_blocking(move || inputs::prepare_within(&input, max_side))
            .await
            .map_err(|e| GenerationError::Crashed(format!("preparing the picture crashed: {e}")))?
            .map_err(|error| {
                GenerationError::Input(inputs::PartError {
                    number: 1,
                    count: 1,
                    error,
                })
            })?;
        tracing::info!(
            width = picture.width,
            height = picture.height,
            factor,
            "picture prepared for the upscale"
        );
        let body = model.input(&picture.data_uri, factor);
        let endpoint = Endpoint {
            label: UPSCALE_LABEL,
            fal_model: &model.fal_model,
        };
        let (picture, bytes) = self
            .single(job, endpoint, &body, ResultFormat::Png, progress, bounds)
            .await?;
        Ok(image_output(job, "", 0, picture, bytes))
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

/// The `outcome` label of an attempt.
fn attempt_outcome<T>(attempt: &Result<T, Attempt>) -> Outcome {
    match attempt {
        Ok(_) => Outcome::Completed,
        Err(Attempt::Fal(FalError::Rejected { .. })) => Outcome::Rejected,
        Err(Attempt::Fal(FalError::TimedOut)) => Outcome::TimedOut,
        Err(Attempt::Fal(FalError::Stopped)) => Outcome::Interrupted,
        Err(_) => Outcome::Failed,
    }
}

/// The user's pictures made ready for Fal, on a blocking thread (decoding and resizing phone photos
/// takes a few hundred milliseconds each).
async fn prepare(parts: Vec<Bytes>) -> Result<Vec<Prepared>, GenerationError> {
    let started = Instant::now();
    let pictures = tokio::task::spawn_blocking(move || inputs::prepare_all(&parts))
        .await
        .map_err(|e| GenerationError::Crashed(format!("preparing the pictures crashed: {e}")))??;
    tracing::info!(
        pictures = pictures.len(),
        sizes = ?pictures.iter().map(|p| (p.width, p.height)).collect::<Vec<_>>(),
        bytes = pictures.iter().map(|p| p.data_uri.len()).sum::<usize>(),
        seconds = started.elapsed().as_secs_f64(),
        "pictures prepared for Fal"
    );
    Ok(pictures)
}

/// The job's result: `picture` stored at `out/<job_id>`, made by `model` (an alias; empty for retouch
/// and face swap) after `fallbacks` models failed.
fn image_output(
    job: &JobRequest,
    model: &str,
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
        model: model.to_string(),
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
        input: Bytes,
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
            Some(Params::Edit(params)) => self.edit(job, params, input, &percent, &bounds).await,
            Some(Params::Retouch(params)) => {
                self.retouch(job, params, input, &percent, &bounds).await
            }
            Some(Params::FaceSwap(_)) => self.face_swap(job, input, &percent, &bounds).await,
            Some(Params::UpscaleRemote(params)) => {
                self.upscale(job, params.factor, input, &percent, &bounds)
                    .await
            }
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
