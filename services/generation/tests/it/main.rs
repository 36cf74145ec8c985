//! The generation integration tests, one binary: the real service (`Application::build`, gRPC, the job
//! worker) against a real nats-server and a real provider-sandbox speaking Fal's queue API and OpenAI chat
//! completions, with real photos from `../shared/fixtures`. `TEST_LOG=1` shows the logs.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    missing_docs,
    reason = "tests fail loudly"
)]

mod generate;
mod helpers;
mod photos;
mod prompt;
mod replicas;
mod serving;
