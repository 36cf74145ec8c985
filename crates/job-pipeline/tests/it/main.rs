//! Integration tests of the job pipeline against a real nats-server: the JetStream guarantees it relies on
//! (de-duplication, redelivery of a dead worker's job, progress acks), the bucket limits and retention,
//! submit through the Jobs gRPC service, and the worker's lifecycle with a scripted handler (input errors,
//! transient retries, poison jobs).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    missing_docs,
    reason = "test helpers: any failure here is a test failure"
)]

mod helpers;
mod jetstream;
mod submit;
mod worker;
