//! The hold expiry sweeper: every few seconds, pending holds past their `expires_at` are returned to
//! their accounts with state `expired` and an `expiry` ledger entry. It backs up the settlement consumer
//! (a job whose outcome never arrives must not keep money held forever) and stops on shutdown. Each
//! round it also counts the pending and overdue holds for the metrics.
//!
//! It never runs ahead of the outcome events. Each round asks NATS where the settlement consumer stands
//! ([`Backlog::position`]) and works with a watermark: at time T it notes the stream's last sequence S;
//! once the consumer's ack floor has reached S — every event published before T is settled — it expires
//! the holds that were due at T, and notes a new watermark. So an event that waits (billing was down, a
//! database error made it retry) always settles its hold first, and a steady stream of new events never
//! stalls expiry (only events older than the watermark are waited for). After an outage of billing
//! longer than the hold timeout, the events that piled up are settled as they happened (captured on
//! delivery, released on failure) and only holds with no outcome at all expire. While NATS or the
//! consumer cannot be asked, nothing expires (and the log says why): an expired hold cannot be captured
//! any more, so guessing would give the work away.

use std::time::Duration;

use tokio::time::MissedTickBehavior;
use tokio_util::sync::CancellationToken;

use crate::ledger::Ledger;
use crate::settlement::{Backlog, Position};

/// Holds expired per batch; a full batch is followed by another at once.
const BATCH: i64 = 100;

/// Why a round did not expire anything, for logging each change once.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Blocked {
    /// Outcome events wait in the settlement consumer.
    Backlog,
    /// The consumer's state cannot be asked.
    Unknown(String),
}

/// Sweeps every `interval` until `shutdown`, expiring only holds whose outcome events (if any) are settled.
pub async fn run(
    ledger: Ledger,
    backlog: Backlog,
    interval: Duration,
    shutdown: CancellationToken,
) {
    let mut ticker = tokio::time::interval(interval.max(Duration::from_millis(10)));
    ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut blocked: Option<Blocked> = None;
    // (stream sequence, time in ms) noted at the last watermark.
    let mut watermark: Option<(u64, i64)> = None;
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => break,
            _ = ticker.tick() => {}
        }
        let now = service_runtime::now_unix_ms();
        match ledger.pending_holds(now).await {
            Ok(holds) => crate::metrics::holds_sampled(holds),
            Err(error) => tracing::debug!(%error, "counting pending holds failed"),
        }
        let (now_blocked, position) = match backlog.position().await {
            Ok(position) => (None, Some(position)),
            Err(error) => (Some(Blocked::Unknown(error.to_string())), None),
        };
        let now_blocked = match (now_blocked, position, watermark) {
            (Some(unknown), _, _) => Some(unknown),
            (None, Some(Position { settled, .. }), Some((mark, _))) if settled < mark => {
                tracing::debug!(
                    settled,
                    mark,
                    "outcome events wait to be settled; not expiring holds yet"
                );
                Some(Blocked::Backlog)
            }
            (None, _, _) => None,
        };
        if now_blocked != blocked {
            match &now_blocked {
                None => tracing::info!("settlement is caught up; expiring lapsed holds"),
                Some(Blocked::Backlog) => {
                    tracing::info!("outcome events wait to be settled; holds expire after them")
                }
                Some(Blocked::Unknown(reason)) => tracing::warn!(
                    %reason,
                    "cannot tell whether outcome events wait to be settled; no hold expires until NATS answers"
                ),
            }
            blocked = now_blocked;
        }
        let Some(position) = position else { continue };
        if blocked.is_some() {
            continue;
        }
        // Every event published before the watermark's time is settled: holds due then may go.
        if let Some((_, marked_at)) = watermark {
            sweep(&ledger, marked_at, &shutdown).await;
        }
        watermark = Some((position.published, now));
    }
    tracing::debug!("hold sweeper stopped");
}

/// Expires lapsed holds, batch after batch, until none is left (or an error, or shutdown).
async fn sweep(ledger: &Ledger, cutoff_ms: i64, shutdown: &CancellationToken) {
    loop {
        match ledger.expire_due(cutoff_ms, BATCH).await {
            Ok(0) => break,
            Ok(expired) => {
                tracing::info!(expired, "expired lapsed holds");
                if (expired as i64) < BATCH || shutdown.is_cancelled() {
                    break;
                }
            }
            Err(error) => {
                tracing::warn!(%error, "expiring holds failed; next round will retry");
                break;
            }
        }
    }
}
