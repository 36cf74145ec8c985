//! The local image operations, one module each. An operation composes the [`pipeline`](crate::pipeline)
//! stages into a pure function from input bytes to an encoded [`Output`](crate::pipeline::Output); the job
//! handler ([`crate::handler`]) picks it by the job's `Operation` case and runs it on a blocking thread.
//!
//! Adding an operation: its case in `mediabot.jobs.v1.Operation` (and the catalog), a module here, and an
//! arm in [`ImagingHandler`](crate::handler::ImagingHandler)'s dispatch.

pub mod add_text;
pub mod compress;
pub mod convert;
pub mod upscale;
