//! End-to-end: the real binaries (telegram-sandbox, billing, imaging, speech, gateway) and a real
//! nats-server, driven through the sandbox's control API as a Telegram user would.
//!
//! The binaries must be built first (`cargo build --workspace --bins`; `scripts/test.sh` does it).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test harness: any failure here is a test failure"
)]

mod browser;
mod harness;
mod image_results;
mod money_follows_delivery;
mod resilience;
mod speech_languages;
mod tracing;
mod unhappy_paths;
mod walking_skeleton;
