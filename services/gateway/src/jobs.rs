//! Starting a paid job, in the order DESIGN.md fixes: check size (and duration) from the message metadata,
//! download from the Bot API, put the bytes in the object store (`in/<job_id>`), reserve the price in
//! billing with the job id as idempotency key, submit to imaging or speech — and if the submit fails,
//! release the hold at once. The user's status message says at each step where things stand, and every
//! failure says that nothing was charged.
//!
//! A gateway that dies between reserve and submit leaves a pending hold; billing's sweeper releases it
//! after the hold timeout, so the money comes back either way.

use mediabot_proto::billing::v1::{
    GetBalanceRequest, ListPricesRequest, ReleaseRequest, ReserveRequest,
};
use mediabot_proto::imaging::v1::SubmitJobRequest;
use mediabot_proto::jobs::v1::{ImageOperation, JobContext};
use mediabot_proto::speech::v1::SubmitTranscriptionRequest;
use service_runtime::jetstream::input_key;
use teloxide::net::Download;
use teloxide::prelude::*;
use teloxide::types::{FileId, MessageId};
use tonic::Code;
use tracing::Instrument;

use crate::i18n::{self, Lang};
use crate::{Error, Gateway};

/// A file a user sent, as described by the message metadata (nothing downloaded yet).
#[derive(Debug, Clone)]
pub struct MediaRef {
    /// Bot API file id.
    pub file_id: FileId,
    /// Size in bytes as Telegram reports it.
    pub size_bytes: u64,
    /// MIME type if Telegram knows one.
    pub mime_type: Option<String>,
    /// File name, for documents.
    pub file_name: Option<String>,
    /// Duration in seconds, for voice notes and audio.
    pub duration_secs: Option<u32>,
}

/// What a job does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobKind {
    /// Image upscale ×2 (imaging).
    Upscale2x,
    /// Transcription (speech).
    Transcribe,
}

impl JobKind {
    /// The billing operation name.
    pub fn operation(self) -> &'static str {
        match self {
            JobKind::Upscale2x => i18n::UPSCALE_2X,
            JobKind::Transcribe => i18n::TRANSCRIBE,
        }
    }
}

/// A job about to start: what, on which file, for whom, and which message shows its status.
#[derive(Debug, Clone)]
pub struct JobRequest {
    /// Which operation.
    pub kind: JobKind,
    /// The input file.
    pub media: MediaRef,
    /// The chat the result goes to.
    pub chat_id: ChatId,
    /// The paying Telegram user.
    pub user_id: i64,
    /// The user's message holding the file (results reply to it).
    pub source_message: MessageId,
    /// The bot's status message, edited as the job moves on.
    pub status_message: MessageId,
    /// Reply language.
    pub lang: Lang,
}

impl Gateway {
    /// Runs the start of a paid job to the point where it is queued (or has failed without charge), and
    /// keeps the status message up to date. Errors are reported to the user here; the returned error is
    /// only for the log.
    pub async fn start_job(&self, request: JobRequest) -> Result<(), Error> {
        let job_id = uuid::Uuid::now_v7().to_string();
        let span = tracing::info_span!(
            "start_job",
            job_id = %job_id,
            user_id = request.user_id,
            chat_id = request.chat_id.0,
            operation = request.kind.operation(),
        );
        async {
            let result = self.try_start_job(&job_id, &request).await;
            if let Err(error) = &result {
                tracing::warn!(%error, "job not started");
            }
            result
        }
        .instrument(span)
        .await
    }

    async fn try_start_job(&self, job_id: &str, request: &JobRequest) -> Result<(), Error> {
        let lang = request.lang;
        let media = &request.media;
        if media.size_bytes > self.limits.max_file_bytes {
            return self
                .set_status(
                    request,
                    i18n::file_too_big(lang, self.limits.max_file_bytes >> 20),
                )
                .await;
        }
        if request.kind == JobKind::Transcribe {
            if media.duration_secs.unwrap_or(0) > self.limits.max_audio_secs {
                return self
                    .set_status(
                        request,
                        i18n::audio_too_long(lang, self.limits.max_audio_secs / 60),
                    )
                    .await;
            }
            match self.backends.speech_ready().await {
                Ok(true) => {}
                Ok(false) => {
                    return self
                        .set_status(request, i18n::speech_not_set_up(lang))
                        .await;
                }
                Err(status) => {
                    self.set_status(request, i18n::try_later(lang)).await?;
                    return Err(Error::Backend {
                        service: "speech",
                        status,
                    });
                }
            }
        }

        let bytes = match self.download(&media.file_id).await {
            Ok(bytes) => bytes,
            Err(error) => {
                let text = if is_file_too_big(&error) {
                    i18n::file_too_big(lang, self.limits.max_file_bytes >> 20)
                } else {
                    i18n::try_later(lang)
                };
                self.set_status(request, text).await?;
                return Err(error);
            }
        };
        let key = input_key(job_id);
        if let Err(error) = self
            .pipeline
            .media
            .put(key.as_str(), &mut bytes.as_slice())
            .await
        {
            self.set_status(request, i18n::try_later(lang)).await?;
            return Err(Error::ObjectStore(error.to_string()));
        }
        tracing::debug!(bytes = bytes.len(), "input stored");

        let reserve = ReserveRequest {
            job_id: job_id.to_string(),
            account_id: request.user_id,
            operation: request.kind.operation().to_string(),
        };
        if let Err(status) = self.backends.billing.clone().reserve(reserve).await {
            let text = if status.code() == Code::FailedPrecondition {
                self.insufficient_funds_text(request).await
            } else {
                i18n::try_later(lang)
            };
            self.set_status(request, text).await?;
            self.delete_input(&key).await;
            return match status.code() {
                Code::FailedPrecondition => Ok(()),
                _ => Err(Error::Backend {
                    service: "billing",
                    status,
                }),
            };
        }

        let context = JobContext {
            chat_id: request.chat_id.0,
            user_id: request.user_id,
            status_message_id: request.status_message.0,
            reply_to_message_id: request.source_message.0,
            language_code: lang.code().to_string(),
        };
        let submitted = match request.kind {
            JobKind::Upscale2x => {
                let submit = SubmitJobRequest {
                    job_id: job_id.to_string(),
                    operation: ImageOperation::Upscale2x as i32,
                    input_key: key.clone(),
                    mime_type: media.mime_type.clone().unwrap_or_default(),
                    file_name: media.file_name.clone().unwrap_or_default(),
                    context: Some(context),
                };
                self.backends
                    .imaging
                    .clone()
                    .submit_job(submit)
                    .await
                    .map_err(|s| ("imaging", s))
            }
            JobKind::Transcribe => {
                let submit = SubmitTranscriptionRequest {
                    job_id: job_id.to_string(),
                    input_key: key.clone(),
                    mime_type: media.mime_type.clone().unwrap_or_default(),
                    language: "auto".to_string(),
                    context: Some(context),
                };
                self.backends
                    .speech
                    .clone()
                    .submit_transcription(submit)
                    .await
                    .map_err(|s| ("speech", s))
            }
        };
        match submitted {
            Ok(response) => {
                let position = response.into_inner().queue_position;
                tracing::info!(position, "job queued");
                // The worker may already have moved the status on; a failed edit here is harmless.
                let _ = self.set_status(request, i18n::queued(lang, position)).await;
                Ok(())
            }
            Err((service, status)) => {
                if let Err(release) = self
                    .backends
                    .billing
                    .clone()
                    .release(ReleaseRequest {
                        job_id: job_id.to_string(),
                    })
                    .await
                {
                    // The sweeper releases the hold after its timeout; log loudly so operators know.
                    tracing::error!(%release, "releasing the hold after a failed submit failed");
                }
                let text = if service == "speech" && status.code() == Code::FailedPrecondition {
                    i18n::speech_not_set_up(lang)
                } else {
                    i18n::try_later(lang)
                };
                self.set_status(request, text).await?;
                self.delete_input(&key).await;
                Err(Error::Backend { service, status })
            }
        }
    }

    async fn download(&self, file_id: &FileId) -> Result<Vec<u8>, Error> {
        let file = self.bot.get_file(file_id.clone()).await?;
        let mut bytes = Vec::with_capacity(file.meta.size as usize);
        self.bot.download_file(&file.path, &mut bytes).await?;
        Ok(bytes)
    }

    async fn delete_input(&self, key: &str) {
        if let Err(error) = self.pipeline.media.delete(key).await {
            tracing::debug!(%error, key, "could not delete an unused input; it expires by itself");
        }
    }

    async fn insufficient_funds_text(&self, request: &JobRequest) -> String {
        let lang = request.lang;
        let mut billing = self.backends.billing.clone();
        let balance = billing
            .get_balance(GetBalanceRequest {
                account_id: request.user_id,
            })
            .await;
        let prices = billing.list_prices(ListPricesRequest {}).await;
        match (balance, prices) {
            (Ok(balance), Ok(prices)) => {
                let balance = balance.into_inner();
                let price = prices
                    .into_inner()
                    .prices
                    .into_iter()
                    .find(|p| p.operation == request.kind.operation())
                    .map(|p| i18n::money(lang, p.amount_minor, &p.currency))
                    .unwrap_or_default();
                i18n::insufficient_funds(
                    lang,
                    &price,
                    &i18n::money(lang, balance.available_minor, &balance.currency),
                )
            }
            _ => i18n::try_later(lang),
        }
    }

    /// Replaces the text of the job's status message (dropping any keyboard).
    async fn set_status(&self, request: &JobRequest, text: String) -> Result<(), Error> {
        match self
            .bot
            .edit_message_text(request.chat_id, request.status_message, text)
            .await
        {
            Ok(_) => Ok(()),
            Err(teloxide::RequestError::Api(teloxide::ApiError::MessageNotModified)) => Ok(()),
            Err(error) => Err(error.into()),
        }
    }
}

fn is_file_too_big(error: &Error) -> bool {
    matches!(error, Error::Telegram(teloxide::RequestError::Api(api)) if api.to_string().contains("file is too big"))
}
