//! Integration tests: one binary (one link) for the whole crate. `helpers` starts a sandbox on a free port
//! and talks to its control API; the other modules drive it with raw HTTP and with real teloxide bots.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests fail by panicking"
)]

mod browser;
mod groups;
mod helpers;
mod media;
mod reply_keyboard;
mod teloxide_bot;
mod web_page;
mod wire;
