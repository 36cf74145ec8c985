//! End-to-end: the real binaries (telegram-sandbox, billing, imaging, speech, documents, gateway) and a real
//! nats-server, driven through the sandbox's control API as a Telegram user would.
//!
//! The binaries must be built first (`cargo build --workspace --bins`; `scripts/test.sh` does it).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test harness: any failure here is a test failure"
)]

mod add_text;
mod browser;
mod documents;
mod generation;
mod harness;
mod image_convert;
mod image_results;
mod long_audio;
mod money_follows_delivery;
mod openai_api;
mod picture_modes;
mod resilience;
mod speech_languages;
mod telegram_experience;
mod tracing;
mod unhappy_paths;
mod video_speech;
mod walking_skeleton;
