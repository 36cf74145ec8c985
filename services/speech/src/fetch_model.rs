//! `speech fetch-model NAME`: downloads an official whisper.cpp model file (`ggml-NAME.bin`) from the
//! whisper.cpp project's model repository on Hugging Face, verifies its SHA-256 and puts it in place.
//!
//! - The download goes to `ggml-NAME.bin.partial` next to the target; a second run after an interruption
//!   asks only for the missing bytes (HTTP `Range: bytes=N-`, answered `206 Partial Content`; a server that
//!   answers `200` sends the whole file again and the partial file is restarted).
//! - The finished file must match the SHA-256 in [`OFFICIAL_MODELS`]; a mismatch deletes the partial file
//!   and fails. Only then is it renamed to `ggml-NAME.bin`, so a file with the final name is always whole.
//! - Without a network (DNS failure, refused or timed-out connection) it fails at once with the URL, the
//!   checksum and the path to put a file downloaded by hand.
//!
//! The checksums: whisper.cpp's own `models/README.md` publishes SHA-1 sums only; the SHA-256 sums here are
//! the Git LFS object ids of the same files in the Hugging Face repository (an LFS object id is the
//! file's SHA-256), pinned at the revision the sizes below belong to.

use std::path::{Path, PathBuf};
use std::time::Duration;

use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;

/// Where the official files are: `<base>/ggml-<name>.bin`.
pub const DEFAULT_BASE_URL: &str = "https://huggingface.co/ggerganov/whisper.cpp/resolve/main";

/// How long to wait for a connection before calling the machine offline.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// One official model file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OfficialModel {
    /// The name on the command line and in the file name (`base` → `ggml-base.bin`).
    pub name: &'static str,
    /// Size in bytes.
    pub size_bytes: u64,
    /// SHA-256 of the file, lower-case hex.
    pub sha256: &'static str,
}

impl OfficialModel {
    /// The file name: `ggml-<name>.bin`.
    pub fn file_name(&self) -> String {
        format!("ggml-{}.bin", self.name)
    }
}

/// The official models this command knows, with their sizes and SHA-256 sums.
pub const OFFICIAL_MODELS: &[OfficialModel] = &[
    OfficialModel {
        name: "tiny",
        size_bytes: 77_691_713,
        sha256: "be07e048e1e599ad46341c8d2a135645097a538221678b7acdd1b1919c6e1b21",
    },
    OfficialModel {
        name: "tiny.en",
        size_bytes: 77_704_715,
        sha256: "921e4cf8686fdd993dcd081a5da5b6c365bfde1162e72b08d75ac75289920b1f",
    },
    OfficialModel {
        name: "base",
        size_bytes: 147_951_465,
        sha256: "60ed5bc3dd14eea856493d334349b405782ddcaf0028d4b5df4088345fba2efe",
    },
    OfficialModel {
        name: "base.en",
        size_bytes: 147_964_211,
        sha256: "a03779c86df3323075f5e796cb2ce5029f00ec8869eee3fdfb897afe36c6d002",
    },
    OfficialModel {
        name: "small",
        size_bytes: 487_601_967,
        sha256: "1be3a9b2063867b937e64e2ec7483364a79917e157fa98c5d94b5c1fffea987b",
    },
    OfficialModel {
        name: "small.en",
        size_bytes: 487_614_201,
        sha256: "c6138d6d58ecc8322097e0f987c32f1be8bb0a18532a3f88f734d1bbf9c41e5d",
    },
];

/// Arguments of `speech fetch-model`.
#[derive(Debug, Clone, clap::Args)]
pub struct FetchModelArgs {
    /// The model: tiny, tiny.en, base, base.en, small or small.en (multilingual unless `.en`).
    pub name: String,
    /// Directory the model goes to (created if missing).
    #[arg(long, env = "SPEECH_MODELS_DIR", default_value = "models")]
    pub dir: PathBuf,
    /// Base URL of the model repository; the file is fetched from `<url>/ggml-<name>.bin`.
    #[arg(long, env = "SPEECH_MODELS_URL", default_value = DEFAULT_BASE_URL)]
    pub url: String,
}

/// Why a model could not be fetched.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// Not one of [`OFFICIAL_MODELS`].
    #[error("unknown model {name:?}: choose one of {known}")]
    UnknownModel {
        /// What was asked for.
        name: String,
        /// The known names, comma-separated.
        known: String,
    },
    /// The repository could not be reached (no network, DNS failure, connection refused or timed out).
    #[error(
        "cannot reach {url} ({source}). Offline? Download {file} by hand from {url} on a machine with \
         internet access, check that its SHA-256 is {sha256}, and put it at {target}"
    )]
    Offline {
        /// The file's URL.
        url: String,
        /// The file name.
        file: String,
        /// Its expected SHA-256.
        sha256: &'static str,
        /// Where to put it.
        target: PathBuf,
        /// Cause.
        source: reqwest::Error,
    },
    /// The server answered with an error status.
    #[error("{url}: the server answered {status}")]
    Status {
        /// The file's URL.
        url: String,
        /// The HTTP status.
        status: reqwest::StatusCode,
    },
    /// The connection broke off during the download (run the command again to resume).
    #[error("downloading {url}: {source} (run the command again to resume)")]
    Transfer {
        /// The file's URL.
        url: String,
        /// Cause.
        source: reqwest::Error,
    },
    /// Reading or writing a local file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Cause.
        source: std::io::Error,
    },
    /// The downloaded file is not the official one; it was deleted.
    #[error("{file}: SHA-256 is {actual}, expected {expected}; the download was deleted")]
    Checksum {
        /// The file name.
        file: String,
        /// The official SHA-256.
        expected: &'static str,
        /// What the download hashed to.
        actual: String,
    },
}

/// Looks up an official model by name (`base`, `tiny.en`, ...; a `ggml-` prefix or `.bin` suffix is
/// accepted). Errors: [`FetchError::UnknownModel`].
pub fn official_model(name: &str) -> Result<&'static OfficialModel, FetchError> {
    let name = name.trim();
    let name = name.strip_prefix("ggml-").unwrap_or(name);
    let name = name.strip_suffix(".bin").unwrap_or(name);
    OFFICIAL_MODELS
        .iter()
        .find(|m| m.name == name)
        .ok_or_else(|| FetchError::UnknownModel {
            name: name.to_string(),
            known: OFFICIAL_MODELS
                .iter()
                .map(|m| m.name)
                .collect::<Vec<_>>()
                .join(", "),
        })
}

/// `speech fetch-model`: fetches the official model `args.name` into `args.dir` with [`download`].
pub async fn fetch_model(args: &FetchModelArgs) -> Result<PathBuf, FetchError> {
    download(official_model(&args.name)?, &args.dir, &args.url).await
}

/// Downloads `model` from `<base_url>/ggml-<name>.bin` into `dir` (see the module docs) and returns the
/// path of the verified file. A file already there with the right checksum is kept and nothing is
/// downloaded; one with a wrong checksum is replaced. Progress goes to the log.
pub async fn download(
    model: &OfficialModel,
    dir: &Path,
    base_url: &str,
) -> Result<PathBuf, FetchError> {
    let file = model.file_name();
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| FetchError::Io { path, source }
    };
    tokio::fs::create_dir_all(dir).await.map_err(io(dir))?;
    let target = dir.join(&file);
    let partial = dir.join(format!("{file}.partial"));
    if tokio::fs::try_exists(&target).await.unwrap_or(false) {
        if sha256_of(&target).await? == model.sha256 {
            tracing::info!(path = %target.display(), "the model is already there and verified");
            return Ok(target);
        }
        tracing::warn!(path = %target.display(), "the model file there has a wrong checksum; downloading it again");
        tokio::fs::remove_file(&target).await.map_err(io(&target))?;
    }

    let url = format!("{}/{file}", base_url.trim_end_matches('/'));
    let client = reqwest::Client::builder()
        .connect_timeout(CONNECT_TIMEOUT)
        .build()
        .map_err(|source| FetchError::Transfer {
            url: url.clone(),
            source,
        })?;
    let offset = tokio::fs::metadata(&partial)
        .await
        .map(|m| m.len())
        .unwrap_or(0);
    let mut request = client.get(&url);
    if offset > 0 {
        request = request.header(reqwest::header::RANGE, format!("bytes={offset}-"));
    }
    let response = request.send().await.map_err(|source| {
        if source.is_connect() || source.is_timeout() {
            FetchError::Offline {
                url: url.clone(),
                file: file.clone(),
                sha256: model.sha256,
                target: target.clone(),
                source,
            }
        } else {
            FetchError::Transfer {
                url: url.clone(),
                source,
            }
        }
    })?;
    let status = response.status();
    let mut out = match status {
        // The partial file is whole already (the previous run died between the last byte and the rename).
        reqwest::StatusCode::RANGE_NOT_SATISFIABLE if offset > 0 => None,
        reqwest::StatusCode::PARTIAL_CONTENT if offset > 0 => {
            tracing::info!(offset, "resuming the download");
            Some(
                tokio::fs::OpenOptions::new()
                    .append(true)
                    .open(&partial)
                    .await
                    .map_err(io(&partial))?,
            )
        }
        status if status.is_success() => Some(
            tokio::fs::File::create(&partial)
                .await
                .map_err(io(&partial))?,
        ),
        status => return Err(FetchError::Status { url, status }),
    };
    if let Some(out) = out.as_mut() {
        let mut response = response;
        let total = response.content_length().unwrap_or(0)
            + if status == reqwest::StatusCode::PARTIAL_CONTENT {
                offset
            } else {
                0
            };
        let mut written = if status == reqwest::StatusCode::PARTIAL_CONTENT {
            offset
        } else {
            0
        };
        let mut next_report = 0u64;
        loop {
            let chunk = match response.chunk().await {
                Ok(chunk) => chunk,
                Err(source) => {
                    // What arrived is kept for the next run, so it must be on disk before we return
                    // (tokio writes files from a background thread).
                    out.flush().await.map_err(io(&partial))?;
                    return Err(FetchError::Transfer {
                        url: url.clone(),
                        source,
                    });
                }
            };
            let Some(chunk) = chunk else { break };
            out.write_all(&chunk).await.map_err(io(&partial))?;
            written += chunk.len() as u64;
            if total > 0 && written * 10 / total >= next_report {
                tracing::info!(
                    percent = written * 100 / total,
                    mb = written >> 20,
                    "downloading {file}"
                );
                next_report = written * 10 / total + 1;
            }
        }
        out.flush().await.map_err(io(&partial))?;
    }
    let actual = sha256_of(&partial).await?;
    if actual != model.sha256 {
        tokio::fs::remove_file(&partial)
            .await
            .map_err(io(&partial))?;
        return Err(FetchError::Checksum {
            file,
            expected: model.sha256,
            actual,
        });
    }
    tokio::fs::rename(&partial, &target)
        .await
        .map_err(io(&target))?;
    tracing::info!(path = %target.display(), "model downloaded and verified");
    Ok(target)
}

/// SHA-256 of a file, lower-case hex, computed on a blocking thread.
async fn sha256_of(path: &Path) -> Result<String, FetchError> {
    let owned = path.to_path_buf();
    let hashed = tokio::task::spawn_blocking(move || -> std::io::Result<String> {
        let mut file = std::fs::File::open(&owned)?;
        let mut hasher = Sha256::new();
        std::io::copy(&mut file, &mut hasher)?;
        Ok(format!("{:x}", hasher.finalize()))
    })
    .await
    .map_err(|e| FetchError::Io {
        path: path.to_path_buf(),
        source: std::io::Error::other(e),
    })?;
    hashed.map_err(|source| FetchError::Io {
        path: path.to_path_buf(),
        source,
    })
}
