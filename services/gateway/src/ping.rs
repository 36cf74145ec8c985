//! `/ping`: whether the bot and the services behind it answer now, and how fast. Every part is asked at
//! once, each for at most [`PING_TIMEOUT`], so the answer comes within about that time even when a service
//! hangs:
//!
//! - NATS: a JetStream API round trip (the info of the `JOB_EVENTS` stream, which carries every job's
//!   outcome to the gateway and billing);
//! - billing: its gRPC health service (SERVING once its settlement consumer is set up);
//! - each worker service of the catalog: the health of its job queue (`mediabot.jobs.v1.Jobs`; speech
//!   without a model answers NOT_SERVING, shown as "not set up").

use std::time::{Duration, Instant};

use futures::future::join_all;
use job_pipeline::jetstream::EVENTS_STREAM;
use mediabot_proto::Service;

use crate::Gateway;
use crate::backends::Availability;

/// Longest /ping waits for one part's answer.
pub const PING_TIMEOUT: Duration = Duration::from_secs(2);

/// A part of the system /ping asks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    /// NATS JetStream: job queues, outcomes, files in transit.
    Nats,
    /// billing: balances and holds.
    Billing,
    /// A worker service.
    Worker(Service),
}

/// What a part answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    /// It answered and works, after `ms` milliseconds.
    Up {
        /// Round-trip time, milliseconds.
        ms: u64,
    },
    /// It answered but does not take jobs here (speech without a model), after `ms` milliseconds.
    NotSetUp {
        /// Round-trip time, milliseconds.
        ms: u64,
    },
    /// No answer within [`PING_TIMEOUT`], or an error.
    Down,
}

impl Answer {
    /// Whether the part works.
    pub fn is_up(self) -> bool {
        matches!(self, Answer::Up { .. })
    }
}

/// One part and its answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Check {
    /// What was asked.
    pub part: Part,
    /// What it answered.
    pub answer: Answer,
}

/// Asks NATS, billing and every configured worker service at once; the checks come in that order.
pub async fn ping(gateway: &Gateway) -> Vec<Check> {
    let mut checks = vec![
        check(Part::Nats, async {
            gateway
                .pipeline
                .jetstream
                .get_stream(EVENTS_STREAM)
                .await
                .map(|_| true)
                .map_err(|error| error.to_string())
        })
        .await,
    ];
    let billing = check(Part::Billing, async {
        gateway
            .backends
            .billing_ready()
            .await
            .map(|()| true)
            .map_err(|error| error.to_string())
    });
    let workers = Service::ALL
        .into_iter()
        .filter(|service| gateway.backends.jobs(*service).is_ok())
        .map(|service| {
            check(Part::Worker(service), async move {
                match gateway.backends.availability(service).await {
                    Ok(availability) => Ok(availability == Availability::Ready),
                    Err(error) => Err(error.to_string()),
                }
            })
        });
    let (billing, workers) = tokio::join!(billing, join_all(workers));
    checks.push(billing);
    checks.extend(workers);
    checks
}

/// Runs `ask` (`Ok(true)`: up, `Ok(false)`: up but not set up) for at most [`PING_TIMEOUT`], timing it.
async fn check(part: Part, ask: impl std::future::Future<Output = Result<bool, String>>) -> Check {
    let started = Instant::now();
    let answered = tokio::time::timeout(PING_TIMEOUT, ask).await;
    let ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    let answer = match answered {
        Ok(Ok(true)) => Answer::Up { ms },
        Ok(Ok(false)) => Answer::NotSetUp { ms },
        Ok(Err(error)) => {
            tracing::info!(?part, %error, "/ping: no answer");
            Answer::Down
        }
        Err(_) => {
            tracing::info!(?part, timeout = ?PING_TIMEOUT, "/ping: no answer in time");
            Answer::Down
        }
    };
    Check { part, answer }
}
