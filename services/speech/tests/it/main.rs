//! Integration tests of the speech service: audio decoding of real recordings and of real videos' sound, the whisper pipeline with a
//! tiny generated model, and the service end to end through a real nats-server and its gRPC API, started
//! through the same `Application::build` as production.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests fail loudly"
)]

mod audio;
mod fetch_model;
mod fuzz;
mod helpers;
mod long_audio;
mod real_model;
mod service;
mod transcription;
mod video;
