//! billing's Prometheus metrics (names and labels: docs/architecture.md, "Metrics"), recorded by the
//! ledger where a hold actually changes state — never for an idempotent repeat, so a redelivered
//! `jobs.delivered` or a second Release is not counted twice:
//!
//! - `mediabot_billing_holds_total{operation, outcome}`: holds `placed` (Reserve), `captured`,
//!   `released` (Release, a failed or undelivered job) and `expired` (the sweeper);
//! - `mediabot_billing_captured_minor_total{operation}`: money captured, in minor units of the
//!   installation's currency (`--currency`; kopecks for RUB).
//!
//! - `mediabot_billing_holds_pending` and `mediabot_billing_holds_overdue` (gauges): pending holds, and
//!   those past their expiry, sampled by the sweeper each round ([`holds_sampled`]).
//!
//! `operation` is the catalog's stable id (`image.upscale`), taken from the hold's operation key.

use mediabot_proto::jobs::v1::Operation;

use crate::domain::HoldState;
use crate::ledger::PendingHolds;

/// The `operation` label of a hold's operation key (`image.upscale factor=2` → `image.upscale`);
/// `unknown` for a key the catalog does not know (a hold stored by an older price list).
pub fn operation_label(key: &str) -> &'static str {
    Operation::from_key(key)
        .and_then(|o| o.id())
        .unwrap_or("unknown")
}

/// A hold for operation key `operation` was placed.
pub fn hold_placed(operation: &str) {
    metrics::counter!(
        "mediabot_billing_holds_total",
        "operation" => operation_label(operation),
        "outcome" => "placed",
    )
    .increment(1);
}

/// A pending hold for operation key `operation` moved to `state`, `captured_minor` of it captured.
pub fn hold_settled(operation: &str, state: HoldState, captured_minor: i64) {
    let operation = operation_label(operation);
    let outcome = match state {
        HoldState::Pending => return,
        HoldState::Captured => "captured",
        HoldState::Released => "released",
        HoldState::Expired => "expired",
    };
    metrics::counter!(
        "mediabot_billing_holds_total",
        "operation" => operation,
        "outcome" => outcome,
    )
    .increment(1);
    if captured_minor > 0 {
        metrics::counter!(
            "mediabot_billing_captured_minor_total",
            "operation" => operation,
        )
        .increment(captured_minor.unsigned_abs());
    }
}

/// The pending holds counted by the sweeper this round.
pub fn holds_sampled(holds: PendingHolds) {
    metrics::gauge!("mediabot_billing_holds_pending").set(holds.pending as f64);
    metrics::gauge!("mediabot_billing_holds_overdue").set(holds.overdue as f64);
}
