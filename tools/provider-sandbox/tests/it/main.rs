//! Integration tests: one binary (one link) for the whole crate. Every test starts its own sandbox on a free
//! port through `provider_sandbox::spawn` (as the binary does) and talks to it over loopback HTTP with
//! reqwest: the Fal and OpenAI wire formats raw, the control API through the typed client.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests fail by panicking"
)]

mod chat;
mod control;
mod fal_faults;
mod fal_images;
mod fal_queue;
mod helpers;
