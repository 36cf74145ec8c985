//! The operation catalog: every paid operation is defined once, as a case of the `Operation` oneof in
//! `mediabot.jobs.v1` (proto/mediabot/jobs/v1/jobs.proto), and everything else derives from it here:
//!
//! | derived            | `image.upscale` ×4                 | from                               |
//! |--------------------|------------------------------------|------------------------------------|
//! | stable id          | `image.upscale`                    | [`Operation::id`]                  |
//! | price key          | `image.upscale factor=4`           | [`Operation::key`], [`price_of`]   |
//! | worker service     | imaging                            | [`Operation::service`]             |
//! | work queue subject | `jobs.imaging.requested`           | [`Service::requested_subject`]     |
//! | metric label       | `image.upscale`                    | [`Operation::id`]                  |
//! | callback data      | `op:image.upscale:factor=4`        | [`Operation::callback_data`]       |
//! | text keys          | `image.upscale` + its parameters   | [`Operation::id`], [`Operation::params`] |
//! | job id             | UUIDv5 of chat, message, key       | [`JobId::derive`]                  |
//!
//! Adding an operation: a oneof case and its parameter message in jobs.proto, one arm in each `match`
//! below (the compiler lists them), a worker module in its service, a row in the gateway's operations table,
//! its texts and a price line.

use std::fmt;

use crate::billing::v1::{Price, PriceUnit};
use crate::jobs::v1::{Compress, Operation, Transcribe, Upscale, operation::Params};

/// A worker service that runs jobs from its own JetStream work queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Service {
    /// Image operations (`services/imaging`).
    Imaging,
    /// Speech operations (`services/speech`).
    Speech,
}

impl Service {
    /// Every worker service.
    pub const ALL: [Service; 2] = [Service::Imaging, Service::Speech];

    /// The service's name: `imaging`, `speech`.
    pub fn name(self) -> &'static str {
        match self {
            Service::Imaging => "imaging",
            Service::Speech => "speech",
        }
    }

    /// Subject of its work queue: `jobs.<name>.requested`.
    pub fn requested_subject(self) -> &'static str {
        match self {
            Service::Imaging => "jobs.imaging.requested",
            Service::Speech => "jobs.speech.requested",
        }
    }

    /// Name of its work-queue stream: `JOBS_<NAME>`.
    pub fn stream(self) -> &'static str {
        match self {
            Service::Imaging => "JOBS_IMAGING",
            Service::Speech => "JOBS_SPEECH",
        }
    }

    /// Name of the durable consumer its workers share: `<name>-workers`.
    pub fn consumer(self) -> &'static str {
        match self {
            Service::Imaging => "imaging-workers",
            Service::Speech => "speech-workers",
        }
    }
}

impl fmt::Display for Service {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Scale factors `image.upscale` accepts.
pub const UPSCALE_FACTORS: [u32; 2] = [2, 4];

/// Targets `image.compress` accepts, in kilobytes of 1000 bytes (1, 2, 4 and 8 MB).
pub const COMPRESS_TARGETS_KB: [u32; 4] = [1000, 2000, 4000, 8000];

/// Why an [`Operation`] is not valid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidOperation {
    /// The oneof is empty (or a case this build does not know).
    #[error("operation: no operation set")]
    Missing,
    /// A parameter is out of range.
    #[error("operation.{operation}.{param}: {reason}")]
    Param {
        /// Operation id.
        operation: &'static str,
        /// Parameter name.
        param: &'static str,
        /// What is wrong, in English.
        reason: String,
    },
}

impl Operation {
    /// `image.upscale` by `factor` (2 or 4).
    pub fn upscale(factor: u32) -> Self {
        Operation {
            params: Some(Params::Upscale(Upscale { factor })),
        }
    }

    /// `speech.transcribe` in `language` ("auto" or an ISO 639-1 code).
    pub fn transcribe(language: &str) -> Self {
        Operation {
            params: Some(Params::Transcribe(Transcribe {
                language: language.to_string(),
                translate: false,
            })),
        }
    }

    /// `speech.transcribe` of speech in `language` ("auto" or an ISO 639-1 code), translated to English
    /// (whisper's translate task); its key and callback data carry `translate=true`.
    pub fn translate_to_english(language: &str) -> Self {
        Operation {
            params: Some(Params::Transcribe(Transcribe {
                language: language.to_string(),
                translate: true,
            })),
        }
    }

    /// `image.compress` to at most `target_kb` kilobytes (1000 bytes each; one of
    /// [`COMPRESS_TARGETS_KB`]).
    pub fn compress(target_kb: u32) -> Self {
        Operation {
            params: Some(Params::Compress(Compress { target_kb })),
        }
    }

    /// The stable operation id (`image.upscale`), or `None` when no case is set.
    pub fn id(&self) -> Option<&'static str> {
        Some(match self.params.as_ref()? {
            Params::Upscale(_) => "image.upscale",
            Params::Compress(_) => "image.compress",
            Params::Transcribe(_) => "speech.transcribe",
        })
    }

    /// The worker service that runs it, or `None` when no case is set.
    pub fn service(&self) -> Option<Service> {
        Some(match self.params.as_ref()? {
            Params::Upscale(_) | Params::Compress(_) => Service::Imaging,
            Params::Transcribe(_) => Service::Speech,
        })
    }

    /// Its parameters as (name, value) text pairs, in a fixed order: what prices match on, and part of the
    /// [`key`](Self::key) and the [`callback_data`](Self::callback_data).
    pub fn params(&self) -> Vec<(&'static str, String)> {
        match self.params.as_ref() {
            Some(Params::Upscale(p)) => vec![("factor", p.factor.to_string())],
            Some(Params::Compress(p)) => vec![("target_kb", p.target_kb.to_string())],
            // `translate` only when set, so the keys (and job ids) of plain transcriptions stay as they were.
            Some(Params::Transcribe(p)) if p.translate => vec![
                ("language", language_or_auto(&p.language)),
                ("translate", "true".to_string()),
            ],
            Some(Params::Transcribe(p)) => vec![("language", language_or_auto(&p.language))],
            None => Vec::new(),
        }
    }

    /// Checks every parameter. Errors: [`InvalidOperation`] naming the first bad one.
    pub fn validate(&self) -> Result<(), InvalidOperation> {
        match self.params.as_ref() {
            None => Err(InvalidOperation::Missing),
            Some(Params::Compress(p)) if !COMPRESS_TARGETS_KB.contains(&p.target_kb) => {
                Err(InvalidOperation::Param {
                    operation: "image.compress",
                    param: "target_kb",
                    reason: format!(
                        "must be one of {COMPRESS_TARGETS_KB:?}, got {}",
                        p.target_kb
                    ),
                })
            }
            Some(Params::Upscale(p)) if !UPSCALE_FACTORS.contains(&p.factor) => {
                Err(InvalidOperation::Param {
                    operation: "image.upscale",
                    param: "factor",
                    reason: format!("must be 2 or 4, got {}", p.factor),
                })
            }
            Some(Params::Transcribe(p)) => {
                let language = language_or_auto(&p.language);
                let ok = language == "auto"
                    || (language.len() == 2 && language.bytes().all(|b| b.is_ascii_lowercase()));
                if ok {
                    Ok(())
                } else {
                    Err(InvalidOperation::Param {
                        operation: "speech.transcribe",
                        param: "language",
                        reason: format!(
                            "must be \"auto\" or an ISO 639-1 code such as \"ru\", got {:?}",
                            p.language
                        ),
                    })
                }
            }
            Some(_) => Ok(()),
        }
    }

    /// The id with its parameters, `image.upscale factor=4`: the text a hold records and the job id is
    /// derived from. Empty when no case is set.
    pub fn key(&self) -> String {
        let Some(id) = self.id() else {
            return String::new();
        };
        let mut key = id.to_string();
        for (name, value) in self.params() {
            key.push(' ');
            key.push_str(name);
            key.push('=');
            key.push_str(&value);
        }
        key
    }

    /// Telegram callback data of a button that starts this operation: `op:image.upscale:factor=4`
    /// (at most 64 bytes, Telegram's limit). Parse it back with [`from_callback_data`](Self::from_callback_data).
    pub fn callback_data(&self) -> String {
        let params = self
            .params()
            .into_iter()
            .map(|(name, value)| format!("{name}={value}"))
            .collect::<Vec<_>>()
            .join(",");
        format!("op:{}:{params}", self.id().unwrap_or_default())
    }

    /// The operation a button's callback data names; `None` for anything else (or invalid parameters).
    pub fn from_callback_data(data: &str) -> Option<Self> {
        let rest = data.strip_prefix("op:")?;
        let (id, params) = rest.split_once(':').unwrap_or((rest, ""));
        Self::from_parts(id, params)
    }

    /// The operation a [`key`](Self::key) names (`image.upscale factor=4`, as a hold records it);
    /// `None` for anything else.
    pub fn from_key(key: &str) -> Option<Self> {
        let (id, params) = key.split_once(' ').unwrap_or((key, ""));
        Self::from_parts(id, &params.replace(' ', ","))
    }

    /// From an id and `name=value` parameters separated by commas.
    fn from_parts(id: &str, params: &str) -> Option<Self> {
        let param = |name: &str| {
            params
                .split(',')
                .filter_map(|p| p.split_once('='))
                .find(|(n, _)| *n == name)
                .map(|(_, v)| v.to_string())
        };
        let operation = match id {
            "image.upscale" => Operation::upscale(param("factor")?.parse().ok()?),
            "image.compress" => Operation::compress(param("target_kb")?.parse().ok()?),
            "speech.transcribe" => {
                let language = param("language").unwrap_or_else(|| "auto".into());
                match param("translate").as_deref() {
                    None | Some("false") => Operation::transcribe(&language),
                    Some("true") => Operation::translate_to_english(&language),
                    Some(_) => return None,
                }
            }
            _ => return None,
        };
        operation.validate().ok().map(|()| operation)
    }
}

fn language_or_auto(language: &str) -> String {
    let language = language.trim().to_ascii_lowercase();
    if language.is_empty() {
        "auto".into()
    } else {
        language
    }
}

/// The price of `operation` from a price list (billing's `ListPrices`), in minor units, with the entry
/// that set it; `None` when no entry matches.
///
/// An entry matches when its operation id is the operation's and each of its `params` equals the
/// operation's parameter of that name; among matches, the entry naming the most parameters wins. A
/// [`PriceUnit::StartedMinute`] price is multiplied by the started minutes of `audio_duration_ms` (at least
/// one: 0 ms, unknown, counts as one minute; 60 001 ms as two).
pub fn price_of<'a>(
    prices: &'a [Price],
    operation: &Operation,
    audio_duration_ms: u64,
) -> Option<(i64, &'a Price)> {
    let id = operation.id()?;
    let params = operation.params();
    let entry = prices
        .iter()
        .filter(|p| p.operation == id)
        .filter(|p| {
            p.params.iter().all(|(name, value)| {
                params
                    .iter()
                    .any(|(n, v)| n == name && v.eq_ignore_ascii_case(value))
            })
        })
        .max_by_key(|p| p.params.len())?;
    let amount = match entry.unit() {
        PriceUnit::StartedMinute => {
            let minutes = audio_duration_ms.div_ceil(60_000).max(1);
            entry
                .amount_minor
                .checked_mul(i64::try_from(minutes).ok()?)?
        }
        PriceUnit::Job | PriceUnit::Unspecified => entry.amount_minor,
    };
    Some((amount, entry))
}

/// A job id: a UUID in its canonical hyphenated lower-case form. It is the billing hold's idempotency key,
/// part of the object keys (`in/<job_id>`) and of every event's `Nats-Msg-Id`, so it is parsed once, here.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct JobId(String);

/// A job id that is not a UUID.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("job_id: {0:?} is not a UUID such as 67e55044-10b1-426f-9247-bb680e5fe0c8")]
pub struct InvalidJobId(pub String);

/// Namespace of [`JobId::derive`] (a fixed random UUID; changing it changes every derived id).
const JOB_ID_NAMESPACE: uuid::Uuid = uuid::uuid!("5b0f9b8e-5f7c-4c1e-9a35-2f1d0c6e7a41");

impl JobId {
    /// Parses any UUID spelling (upper case, braces, no hyphens) and keeps the canonical form.
    /// Errors: [`InvalidJobId`].
    pub fn parse(raw: &str) -> Result<Self, InvalidJobId> {
        uuid::Uuid::parse_str(raw.trim())
            .map(|id| JobId(id.hyphenated().to_string()))
            .map_err(|_| InvalidJobId(raw.to_string()))
    }

    /// The id of the job that applies `operation` to the message `message_id` in chat `chat_id`: a UUIDv5,
    /// so a double tap, a replayed update or a restarted gateway names the same job (and the same hold).
    pub fn derive(chat_id: i64, message_id: i32, operation: &Operation) -> Self {
        let name = format!("{chat_id}/{message_id}/{}", operation.key());
        JobId(
            uuid::Uuid::new_v5(&JOB_ID_NAMESPACE, name.as_bytes())
                .hyphenated()
                .to_string(),
        )
    }

    /// A new random id (UUIDv4), for jobs that are not tied to a Telegram message (tools, benchmarks).
    pub fn random() -> Self {
        JobId(uuid::Uuid::new_v4().hyphenated().to_string())
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for JobId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn price(operation: &str, params: &[(&str, &str)], amount: i64, unit: PriceUnit) -> Price {
        Price {
            operation: operation.into(),
            amount_minor: amount,
            currency: "RUB".into(),
            params: params
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect::<HashMap<_, _>>(),
            unit: unit as i32,
        }
    }

    #[test]
    fn ids_keys_and_services() {
        let x4 = Operation::upscale(4);
        assert_eq!(x4.id(), Some("image.upscale"));
        assert_eq!(x4.key(), "image.upscale factor=4");
        assert_eq!(x4.service(), Some(Service::Imaging));
        assert_eq!(
            Service::Imaging.requested_subject(),
            "jobs.imaging.requested"
        );
        let t = Operation::transcribe("");
        assert_eq!(t.key(), "speech.transcribe language=auto");
        assert_eq!(t.service().map(Service::stream), Some("JOBS_SPEECH"));
        assert_eq!(Operation::default().id(), None);
        assert_eq!(
            Operation::default().validate(),
            Err(InvalidOperation::Missing)
        );
    }

    #[test]
    fn validation() {
        assert!(Operation::upscale(2).validate().is_ok());
        assert!(Operation::upscale(4).validate().is_ok());
        assert!(Operation::upscale(3).validate().is_err());
        assert!(Operation::compress(2000).validate().is_ok());
        assert!(Operation::compress(1500).validate().is_err());
        assert_eq!(
            Operation::compress(8000).key(),
            "image.compress target_kb=8000"
        );
        assert_eq!(Operation::compress(1000).service(), Some(Service::Imaging));
        assert!(Operation::transcribe("ru").validate().is_ok());
        assert!(Operation::transcribe("auto").validate().is_ok());
        assert!(Operation::transcribe("russian").validate().is_err());
    }

    #[test]
    fn callback_data_round_trips_and_fits_telegram() {
        for op in [
            Operation::upscale(2),
            Operation::upscale(4),
            Operation::transcribe("ru"),
            Operation::translate_to_english("ru"),
            Operation::translate_to_english("auto"),
            Operation::compress(1000),
            Operation::compress(8000),
        ] {
            let data = op.callback_data();
            assert!(data.len() <= 64, "{data}");
            assert_eq!(Operation::from_callback_data(&data), Some(op));
        }
        assert_eq!(
            Operation::upscale(4).callback_data(),
            "op:image.upscale:factor=4"
        );
        assert_eq!(
            Operation::from_callback_data("op:image.upscale:factor=3"),
            None
        );
        assert_eq!(Operation::from_callback_data("upscale_2x"), None);
        assert_eq!(Operation::from_callback_data("op:image.nope:"), None);
        for op in [
            Operation::upscale(4),
            Operation::transcribe("ru"),
            Operation::translate_to_english("uk"),
        ] {
            assert_eq!(Operation::from_key(&op.key()), Some(op));
        }
        assert_eq!(
            Operation::translate_to_english("ru").key(),
            "speech.transcribe language=ru translate=true"
        );
        assert_eq!(
            Operation::from_callback_data("op:speech.transcribe:language=ru,translate=maybe"),
            None
        );
        assert_eq!(Operation::from_key("image.upscale_2x"), None);
    }

    #[test]
    fn prices_match_the_most_specific_entry() {
        let prices = [
            price("image.upscale", &[], 500, PriceUnit::Job),
            price("image.upscale", &[("factor", "4")], 900, PriceUnit::Job),
            price("speech.transcribe", &[], 300, PriceUnit::StartedMinute),
            price(
                "speech.transcribe",
                &[("translate", "true")],
                400,
                PriceUnit::StartedMinute,
            ),
        ];
        let amount = |op: &Operation, ms| price_of(&prices, op, ms).map(|(a, _)| a);
        assert_eq!(amount(&Operation::upscale(2), 0), Some(500));
        assert_eq!(amount(&Operation::upscale(4), 0), Some(900));
        let t = Operation::transcribe("auto");
        assert_eq!(amount(&t, 0), Some(300));
        assert_eq!(amount(&t, 11_000), Some(300));
        assert_eq!(amount(&t, 60_000), Some(300));
        assert_eq!(amount(&t, 60_001), Some(600));
        assert_eq!(
            amount(&Operation::translate_to_english("ru"), 61_000),
            Some(800)
        );
        assert_eq!(amount(&Operation::default(), 0), None);
        assert_eq!(price_of(&prices[..1], &t, 0).map(|(a, _)| a), None);
    }

    #[test]
    fn job_ids() {
        let a = JobId::derive(1001, 7, &Operation::upscale(2));
        assert_eq!(a, JobId::derive(1001, 7, &Operation::upscale(2)));
        assert_ne!(a, JobId::derive(1001, 7, &Operation::upscale(4)));
        assert_ne!(a, JobId::derive(1001, 8, &Operation::upscale(2)));
        assert_ne!(a, JobId::derive(1002, 7, &Operation::upscale(2)));
        assert_eq!(JobId::parse(a.as_str()), Ok(a.clone()));
        assert_eq!(
            JobId::parse("6F9619FF-8B86-D011-B42D-00C04FC964FF").map(|j| j.to_string()),
            Ok("6f9619ff-8b86-d011-b42d-00c04fc964ff".to_string())
        );
        assert!(JobId::parse("nope").is_err());
    }
}
