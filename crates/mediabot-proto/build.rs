//! Compiles every .proto under `<workspace>/proto` into Rust, plus one file descriptor set for reflection.
use std::{env, error::Error, path::PathBuf};

fn main() -> Result<(), Box<dyn Error>> {
    let proto_root = PathBuf::from(env::var("CARGO_MANIFEST_DIR")?).join("../../proto");
    let files = [
        "mediabot/jobs/v1/jobs.proto",
        "mediabot/billing/v1/billing.proto",
        "mediabot/speech/v1/speech.proto",
        "mediabot/imaging/v1/imaging.proto",
    ]
    .map(|f| proto_root.join(f));
    let descriptor_path = PathBuf::from(env::var("OUT_DIR")?).join("mediabot_descriptor.bin");
    tonic_prost_build::configure()
        .file_descriptor_set_path(&descriptor_path)
        .compile_protos(&files, std::slice::from_ref(&proto_root))?;
    println!("cargo:rerun-if-changed={}", proto_root.display());
    Ok(())
}
