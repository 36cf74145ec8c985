//! The documents integration tests, one binary: extraction on the real fixtures (and on hostile files
//! built here: an encrypted and a corrupt PDF, a DOCX zip bomb, binary data named .txt, a blank picture),
//! and the whole service (gRPC + worker) against a real nats-server.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    missing_docs,
    reason = "tests fail loudly"
)]

mod extraction;
mod helpers;
mod service;
