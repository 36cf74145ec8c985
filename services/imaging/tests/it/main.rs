//! The imaging integration tests, one binary: the pure pipeline on the real fixtures, and the whole
//! service (gRPC + worker) against a real nats-server.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    missing_docs,
    reason = "tests fail loudly"
)]

mod add_text;
mod api;
mod convert;
mod facts;
mod fuzz;
mod helpers;
mod pipeline;
mod results;
