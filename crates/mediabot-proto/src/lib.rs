//! Generated protobuf messages and gRPC clients/servers for every mediabot package.
//!
//! The module tree mirrors the proto packages: `mediabot.billing.v1` is [`billing::v1`], and so on.
//! [`FILE_DESCRIPTOR_SET`] holds all of them, for `tonic-reflection`. [`catalog`] derives every name of an
//! operation (price key, queue, callback data, job id) from its case in `mediabot.jobs.v1.Operation`.

pub mod catalog;

pub use catalog::{JobId, Service};

/// Encoded `google.protobuf.FileDescriptorSet` of every mediabot .proto file.
pub const FILE_DESCRIPTOR_SET: &[u8] = tonic::include_file_descriptor_set!("mediabot_descriptor");

/// Events and job messages carried on NATS (`mediabot.jobs.*`).
pub mod jobs {
    /// `mediabot.jobs.v1`
    #[allow(missing_docs, clippy::all)]
    pub mod v1 {
        tonic::include_proto!("mediabot.jobs.v1");
    }
}

/// Balances, holds and the ledger (`mediabot.billing.*`).
pub mod billing {
    /// `mediabot.billing.v1`
    #[allow(missing_docs, clippy::all)]
    pub mod v1 {
        tonic::include_proto!("mediabot.billing.v1");
    }
}

/// Transcription (`mediabot.speech.*`).
pub mod speech {
    /// `mediabot.speech.v1`
    #[allow(missing_docs, clippy::all)]
    pub mod v1 {
        tonic::include_proto!("mediabot.speech.v1");
    }
}

/// What an image file is (`mediabot.imaging.*`): the facts the bot tells a user about a picture.
pub mod imaging {
    /// `mediabot.imaging.v1`
    #[allow(missing_docs, clippy::all)]
    pub mod v1 {
        tonic::include_proto!("mediabot.imaging.v1");
    }
}
