//! Integration tests of the gateway's billing commands: the gateway is started through its own
//! `Application::build`, against telegram-sandbox (a local Bot API that speaks Telegram's wire
//! protocol), a real nats-server and a real billing service on SQLite (started through billing's own
//! `Application::build`), and driven as a Telegram user would through the sandbox's control API.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests fail loudly"
)]

mod billing_commands;
