//! Every Bot API call the gateway makes goes through [`call`], which counts it by method and outcome and
//! times it (Prometheus, see docs/architecture.md "Metrics"), and sends it again after a 429.
//!
//! The [`Throttle`](teloxide::adaptors::Throttle) adaptor paces sends within Telegram's limits and, on a
//! 429, freezes the chat's queue for `retry_after`; its own resend is turned off ([`TelegramBot`] is
//! built with `no_retry`) so that each 429 reaches [`call`], is counted (`outcome="rate_limited"`), and
//! is resent here after `retry_after` — through the same throttled queue.
//!
//! - `mediabot_telegram_requests_total{method, outcome}`: `method` is the Bot API method
//!   (`SendMessage`, `SendDocument`, `AnswerCallbackQuery`, ...); `outcome` is `ok`, `rate_limited`
//!   (429), `api_error` (Telegram refused: blocked, chat not found, ...), `network_error` or `error`
//!   (anything else: an answer teloxide could not parse, an I/O error on a download);
//! - `mediabot_telegram_request_seconds{method}`: time of each attempt, including the time spent in the
//!   throttle's queue;
//! - `mediabot_telegram_polling_errors_total{kind}`: failed getUpdates of the long-polling listener
//!   ([`polling_failed`]), `kind` = `conflict` (409: another process polls the same bot) or `error`.
//!
//! [`TelegramBot`]: crate::TelegramBot

use std::time::{Duration, Instant};

use teloxide::requests::{Output, Payload, Request};
use teloxide::{ApiError, RequestError};

/// How many times a request answered 429 is sent again before the 429 is returned to the caller.
pub const MAX_RATE_LIMITED_RESENDS: u32 = 10;

/// The `outcome` label of a Bot API answer.
pub fn outcome<T>(result: &Result<T, RequestError>) -> &'static str {
    match result {
        Ok(_) => "ok",
        Err(RequestError::RetryAfter(_)) => "rate_limited",
        Err(RequestError::Api(_)) | Err(RequestError::MigrateToChatId(_)) => "api_error",
        Err(RequestError::Network(_)) => "network_error",
        Err(_) => "error",
    }
}

/// Records one Bot API attempt of `method` that took `elapsed`.
pub fn record(method: &'static str, outcome: &'static str, elapsed: Duration) {
    metrics::counter!(
        "mediabot_telegram_requests_total",
        "method" => method,
        "outcome" => outcome,
    )
    .increment(1);
    metrics::histogram!("mediabot_telegram_request_seconds", "method" => method)
        .record(elapsed.as_secs_f64());
}

/// Sends `request`, recording each attempt; on a 429 waits the `retry_after` Telegram asked for and sends
/// it again (at most [`MAX_RATE_LIMITED_RESENDS`] times). Errors: the Bot API's [`RequestError`].
pub async fn call<R>(request: R) -> Result<Output<R>, RequestError>
where
    R: Request<Err = RequestError>,
{
    let method = <R::Payload as Payload>::NAME;
    let mut resends = 0;
    loop {
        let started = Instant::now();
        let result = request.send_ref().await;
        record(method, outcome(&result), started.elapsed());
        match result {
            Err(RequestError::RetryAfter(after)) if resends < MAX_RATE_LIMITED_RESENDS => {
                resends += 1;
                tracing::info!(
                    method,
                    retry_after_s = after.seconds(),
                    "Bot API flood control; sending again"
                );
                tokio::time::sleep(after.duration()).await;
            }
            result => return result,
        }
    }
}

/// What the polling listener does with a failed getUpdates (teloxide retries it with backoff): counts it
/// in `mediabot_telegram_polling_errors_total` by kind, and logs it. A 409 "terminated by other getUpdates
/// request" means another process polls this bot's updates (a second replica in long-polling mode, or a
/// gateway that outlived its stop): the two would take turns at the updates, so it is logged as an error
/// saying what to do.
pub async fn polling_failed(error: RequestError) {
    let kind = match &error {
        RequestError::Api(ApiError::TerminatedByOtherGetUpdates) => {
            tracing::error!(
                "another process is polling this bot's updates (Telegram answered 409): run exactly one \
                 gateway in long-polling mode, or switch every replica to webhook mode (--webhook-url)"
            );
            "conflict"
        }
        other => {
            tracing::warn!(error = %other, "getUpdates failed; retrying");
            "error"
        }
    };
    metrics::counter!("mediabot_telegram_polling_errors_total", "kind" => kind).increment(1);
}
