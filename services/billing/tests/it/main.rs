//! Integration tests of the billing service: each test starts the service through the very same
//! `Application::build` as production (port 0), on a fresh SQLite file and on a fresh PostgreSQL database
//! (the same test body runs on both), and talks to it with the generated gRPC client. Settlement tests
//! run a real nats-server.
//!
//! PostgreSQL: `postgres://postgres@127.0.0.1:5432/postgres` (or `BILLING_TEST_PG_URL`); each test
//! creates its own database and drops it afterwards. Logs: set `TEST_LOG=1`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests fail loudly"
)]

mod helpers;

mod accounts;
mod api_keys;
mod check;
mod cli;
mod concurrency;
mod crash;
mod group_commit;
mod holds;
mod operations;
mod settlement;
mod sweeper;
mod unavailable;
