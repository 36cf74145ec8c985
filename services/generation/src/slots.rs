//! A cap on the requests in flight per provider key, shared by every replica: Fal runs at most 10 requests
//! of one key at once and answers 429 beyond, so the replicas together must never submit an eleventh.
//!
//! The slots are keys of the NATS KV bucket [`SLOTS_BUCKET`]: `<first 16 hex digits of sha256(key)>.<n>`
//! for n in `0..cap` (the provider key itself never leaves the process). Taking a slot is a KV `create` of
//! the first free one — atomic across replicas, so two can never hold the same one; when all are taken the
//! job tries again every 200 ms to 1 s (with jitter, so waiting replicas do not move in step) until its
//! deadline. Freeing it is a delete of exactly the revision that was created. A [`Slot`] frees itself when
//! dropped, so every path (completed, failed, cancelled, timed out, a panic) gives it back; a replica that
//! dies holding slots loses them only until the bucket's `max_age` (the job deadline plus a minute) removes
//! them.

use std::time::{Duration, Instant};

use async_nats::jetstream::{self, kv};
use bytes::Bytes;
use job_pipeline::jetstream::key_value_bucket;
use sha2::{Digest as _, Sha256};
use tokio_util::sync::CancellationToken;

/// The KV bucket holding the taken slots.
pub const SLOTS_BUCKET: &str = "provider-slots";
/// The shortest wait before trying again while every slot is taken.
pub const RETRY_MIN: Duration = Duration::from_millis(200);
/// The longest such wait.
pub const RETRY_MAX: Duration = Duration::from_millis(1000);

/// Why no slot was taken.
#[derive(Debug, thiserror::Error)]
pub enum SlotError {
    /// Every slot stayed taken until the deadline.
    #[error("all {cap} provider slots stayed taken until the deadline")]
    TimedOut {
        /// The cap.
        cap: u32,
    },
    /// The process is shutting down.
    #[error("stopped while waiting for a provider slot")]
    Stopped,
    /// NATS failed.
    #[error("provider-slots bucket: {0}")]
    Nats(String),
}

/// The slots of one provider key.
#[derive(Clone)]
pub struct Slots {
    kv: kv::Store,
    prefix: String,
    cap: u32,
    holder: String,
}

impl std::fmt::Debug for Slots {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Slots")
            .field("prefix", &self.prefix)
            .field("cap", &self.cap)
            .field("holder", &self.holder)
            .finish()
    }
}

impl Slots {
    /// Creates (or updates) the bucket with `max_age` and returns the `cap` slots of `provider_key`;
    /// `holder` names this replica in the slots it takes (for operators reading the bucket).
    pub async fn open(
        js: &jetstream::Context,
        provider_key: &str,
        cap: u32,
        max_age: Duration,
        holder: impl Into<String>,
    ) -> Result<Self, job_pipeline::jetstream::Error> {
        let kv = key_value_bucket(
            js,
            SLOTS_BUCKET,
            "mediabot generation: provider requests in flight per key, across replicas",
            max_age,
        )
        .await?;
        Ok(Self {
            kv,
            prefix: key_prefix(provider_key),
            cap: cap.max(1),
            holder: holder.into(),
        })
    }

    /// The cap.
    pub fn cap(&self) -> u32 {
        self.cap
    }

    /// Takes a free slot for `job_id`, waiting while all are taken, until `deadline` ([`SlotError::TimedOut`])
    /// or `stop` ([`SlotError::Stopped`]). A create in flight is never abandoned half-way: `stop` and the
    /// deadline are looked at between tries.
    pub async fn acquire(
        &self,
        job_id: &str,
        deadline: Instant,
        stop: &CancellationToken,
    ) -> Result<Slot, SlotError> {
        let value = Bytes::from(
            serde_json::json!({
                "job_id": job_id,
                "holder": self.holder,
                "since_unix_ms": service_runtime::now_unix_ms(),
            })
            .to_string(),
        );
        let mut waited = false;
        loop {
            for n in 0..self.cap {
                let key = format!("{}.{n}", self.prefix);
                match self.kv.create(&key, value.clone()).await {
                    Ok(revision) => {
                        tracing::debug!(slot = %key, revision, waited, "provider slot taken");
                        return Ok(Slot {
                            kv: self.kv.clone(),
                            key,
                            revision,
                            released: false,
                        });
                    }
                    Err(e) if e.kind() == kv::CreateErrorKind::AlreadyExists => {}
                    Err(e) => return Err(SlotError::Nats(format!("taking {key}: {e}"))),
                }
            }
            if !waited {
                tracing::info!(cap = self.cap, "all provider slots taken; waiting");
                waited = true;
            }
            let pause = jitter();
            if Instant::now() + pause >= deadline {
                return Err(SlotError::TimedOut { cap: self.cap });
            }
            tokio::select! {
                () = tokio::time::sleep(pause) => {}
                () = stop.cancelled() => return Err(SlotError::Stopped),
            }
        }
    }
}

/// A taken slot; freed by [`release`](Self::release) or, failing that, when dropped.
#[derive(Debug)]
pub struct Slot {
    kv: kv::Store,
    key: String,
    revision: u64,
    released: bool,
}

impl Slot {
    /// The slot's KV key.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// Frees the slot now (deletes the revision this slot created; a slot that expired and was taken again
    /// by someone else is left alone).
    pub async fn release(mut self) {
        self.released = true;
        delete(&self.kv, &self.key, self.revision).await;
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        if self.released {
            return;
        }
        // Dropped on an early return or a cancelled future: free it in the background.
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => {
                let (kv, key, revision) = (self.kv.clone(), self.key.clone(), self.revision);
                runtime.spawn(async move { delete(&kv, &key, revision).await });
            }
            Err(_) => {
                tracing::warn!(slot = %self.key, "provider slot dropped outside the runtime; it expires with the bucket's max_age");
            }
        }
    }
}

async fn delete(kv: &kv::Store, key: &str, revision: u64) {
    match kv.delete_expect_revision(key, Some(revision)).await {
        Ok(()) => tracing::debug!(slot = %key, revision, "provider slot freed"),
        Err(error) => {
            tracing::warn!(slot = %key, revision, %error, "freeing a provider slot failed; it expires with the bucket's max_age")
        }
    }
}

/// The first 16 hex digits of the SHA-256 of `provider_key`: the slots' key prefix (the key itself is a
/// secret).
pub fn key_prefix(provider_key: &str) -> String {
    Sha256::digest(provider_key.as_bytes())
        .iter()
        .take(8)
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A wait between [`RETRY_MIN`] and [`RETRY_MAX`], uniformly spread.
fn jitter() -> Duration {
    let span = (RETRY_MAX - RETRY_MIN).as_millis().max(1);
    let random = uuid::Uuid::new_v4().as_u128() % span;
    RETRY_MIN + Duration::from_millis(u64::try_from(random).unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_hide_the_key() {
        let prefix = key_prefix("sandbox-fal-key");
        assert_eq!(prefix.len(), 16);
        assert!(prefix.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_ne!(prefix, key_prefix("another-key"));
    }

    #[test]
    fn jitter_stays_in_range() {
        for _ in 0..100 {
            let pause = jitter();
            assert!((RETRY_MIN..RETRY_MAX).contains(&pause), "{pause:?}");
        }
    }
}
