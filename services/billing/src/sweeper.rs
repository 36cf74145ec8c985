//! The hold expiry sweeper: every few seconds, pending holds past their `expires_at` are returned to
//! their accounts with state `expired` and an `expiry` ledger entry. It backs up the settlement consumer
//! (a job whose outcome never arrives must not keep money held forever) and stops on shutdown.

use std::time::Duration;

use tokio::time::MissedTickBehavior;
use tokio_util::sync::CancellationToken;

use crate::ledger::Ledger;

/// Holds expired per transaction batch; a full batch is followed by another at once.
const BATCH: i64 = 100;

/// Sweeps every `interval` until `shutdown`.
pub async fn run(ledger: Ledger, interval: Duration, shutdown: CancellationToken) {
    let mut ticker = tokio::time::interval(interval.max(Duration::from_millis(10)));
    ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => break,
            _ = ticker.tick() => {}
        }
        loop {
            match ledger.expire_due(BATCH).await {
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
    tracing::debug!("hold sweeper stopped");
}
