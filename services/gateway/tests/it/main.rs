//! Integration tests of the gateway's billing commands: the gateway is started through its own
//! `Application::build`, against telegram-sandbox (a local Bot API that speaks Telegram's wire
//! protocol), a real nats-server and the real `billing` binary on SQLite (talked to through proto only),
//! and driven as a Telegram user would through the sandbox's typed control client.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests fail loudly"
)]

mod billing_commands;
mod dialogues;
mod intake;
mod languages;
mod ping;
mod shutdown;
mod system;
mod webhook;
