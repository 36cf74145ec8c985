//! The job lifecycle, once for every worker service (imaging, speech, and those to come):
//!
//! - [`jetstream`]: the NATS side — subjects, streams (work queues derived from the operation catalog),
//!   the media object store and the job-status bucket, publishing with `Nats-Msg-Id`, the consume loop
//!   with progress acks and bounded concurrency that every worker and event consumer (billing, gateway)
//!   runs, and retention ([`Pipeline::discard_media`](jetstream::Pipeline::discard_media));
//! - [`submit`]: the [`JobQueue`] of a service — validate a `JobRequest` once, QUEUED, publish, queue
//!   position — and reading a job's status;
//! - [`grpc`]: the one implementation of `mediabot.jobs.v1.Jobs` every worker service serves;
//!   [`error`] maps its errors to gRPC codes;
//! - [`metrics`]: the Prometheus metrics of jobs (by operation and outcome, queue wait, run and end-to-end
//!   latency) and of consumers (pending and unacknowledged messages), recorded here for every service;
//! - [`worker`]: the [`JobHandler`] trait a service implements and the [`Worker`] that runs it — RUNNING,
//!   input, result object, COMPLETED/FAILED, events, retries by error class, poison jobs, shutdown;
//! - [`service`]: the run loop of a built service — its gRPC server, worker and metrics port, stopped
//!   together.
//!
//! A service that runs jobs is its [`JobHandler`] plus a thin `main`: submit → QUEUED → RUNNING →
//! COMPLETED / FAILED → (gateway) delivered or undelivered → (billing) settled → media discarded.

pub mod error;
pub mod grpc;
pub mod jetstream;
pub mod metrics;
pub mod service;
pub mod submit;
pub mod worker;

pub use submit::{JobQueue, StatusError, SubmitError, Submitted};
pub use worker::{JobError, JobHandler, JobOutput, Progress, Worker, WorkerConfig};

/// Milliseconds since the Unix epoch (UTC) now; the timestamp unit of every mediabot message.
pub use service_runtime::now_unix_ms;
