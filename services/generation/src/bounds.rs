//! The two limits every provider call of a job runs under: the job's deadline (`--job-deadline-secs`,
//! after which the job fails as PROVIDER_FAILED) and the worker's stop token (shutdown: the job is left
//! for redelivery). [`Bounds::run`] races a call against both.

use std::time::Instant;

use tokio_util::sync::CancellationToken;

/// Which limit ended a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Interruption {
    /// The job's deadline passed.
    TimedOut,
    /// The service is shutting down.
    Stopped,
}

/// A job's deadline and stop token.
#[derive(Debug, Clone)]
pub struct Bounds {
    /// When the job gives up.
    pub deadline: Instant,
    /// Cancelled on shutdown.
    pub stop: CancellationToken,
}

impl Bounds {
    /// `work`, unless the deadline passes or `stop` fires first (then `work` is dropped and the
    /// [`Interruption`] returned as `E`).
    pub async fn run<T, E: From<Interruption>>(
        &self,
        work: impl Future<Output = Result<T, E>>,
    ) -> Result<T, E> {
        tokio::select! {
            result = work => result,
            () = tokio::time::sleep_until(self.deadline.into()) => Err(Interruption::TimedOut.into()),
            () = self.stop.cancelled() => Err(Interruption::Stopped.into()),
        }
    }

    /// Which limit has been reached, if any.
    pub fn interrupted(&self) -> Option<Interruption> {
        if self.stop.is_cancelled() {
            Some(Interruption::Stopped)
        } else if Instant::now() >= self.deadline {
            Some(Interruption::TimedOut)
        } else {
            None
        }
    }
}
