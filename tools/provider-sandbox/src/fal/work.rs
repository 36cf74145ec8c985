//! A Fal request's life after the submit: `IN_QUEUE` for the queue time (forever under a `stuck` fault),
//! `IN_PROGRESS` for at least the work time (plus a `slow` fault's delay) while the inputs are fetched and
//! the pictures rendered, then `COMPLETED` with the result or an error. Cancelling the request's token
//! ends the task wherever it is.

use std::{sync::Arc, time::Duration};

use base64::{
    Engine, alphabet,
    engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig},
};
use bytes::Bytes;
use image::DynamicImage;
use serde_json::json;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::{
    client::{Fault, FaultKind},
    error::{FalError, FieldError},
    fal::input::Job,
    render::{self, Edit, TextToImage},
    state::{Outcome, Shared, StoredFile},
};

/// Standard base64, padded or not.
const BASE64: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// URL-safe base64, padded or not (some clients write data URIs with it).
const BASE64_URL: GeneralPurpose = GeneralPurpose::new(
    &alphabet::URL_SAFE,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// Largest input image download, in bytes.
const MAX_DOWNLOAD: usize = 64 * 1024 * 1024;

/// Runs request `id` to its end (see the module docs).
pub async fn run(
    shared: Arc<Shared>,
    id: Uuid,
    model: String,
    job: Job,
    fault: Option<Fault>,
    cancel: CancellationToken,
) {
    let kind = fault.as_ref().map(|fault| fault.kind);
    let queued = async {
        if kind == Some(FaultKind::Stuck) {
            std::future::pending::<()>().await;
        }
        tokio::time::sleep(shared.settings.queue_time).await;
    };
    tokio::select! {
        () = cancel.cancelled() => return,
        () = queued => {}
    }
    let started = format!("Running {} on {model}", job.name());
    if !shared.lock().start(id, started) {
        return;
    }
    tracing::debug!(%id, %model, job = job.name(), "request in progress");
    let delay = match &fault {
        Some(fault) if fault.kind == FaultKind::Slow => {
            Duration::from_millis(fault.delay_ms.unwrap_or(1000))
        }
        _ => Duration::ZERO,
    };
    let work = async {
        let (produced, ()) = tokio::join!(
            produce(&shared, id, &model, &job, kind),
            tokio::time::sleep(shared.settings.work_time + delay),
        );
        produced
    };
    let (outcome, files) = tokio::select! {
        () = cancel.cancelled() => return,
        produced = work => produced,
    };
    if let Outcome::Failed { message, .. } = &outcome {
        tracing::debug!(%id, %model, error = %message, "request failed");
    } else {
        tracing::debug!(%id, %model, "request completed");
    }
    shared.lock().complete(id, outcome, files);
}

type Produced = (Outcome, Vec<(String, StoredFile)>);

/// The request's outcome and the files it made.
async fn produce(
    shared: &Arc<Shared>,
    id: Uuid,
    model: &str,
    job: &Job,
    fault: Option<FaultKind>,
) -> Produced {
    let output = job.output();
    // Fal's seeds are 32-bit; a random one when none is given.
    let seed = output.seed.unwrap_or(u64::from(id.as_u128() as u32));
    match fault {
        Some(FaultKind::Failed) => {
            let message = "Runner failed while processing the request (provider-sandbox fault)";
            return (
                Outcome::Failed {
                    error: FalError::retryable_server_error(message),
                    message: message.to_owned(),
                    error_type: "runner_server_error".to_owned(),
                },
                Vec::new(),
            );
        }
        Some(FaultKind::Rejected) => {
            let message = "The prompt was rejected by the safety checker (provider-sandbox fault)";
            return (
                failed_422("prompt", "content_policy_violation", message),
                Vec::new(),
            );
        }
        Some(FaultKind::Malformed) => {
            // A result a client must refuse: 200, valid JSON, no `images`.
            return (
                Outcome::Result(json!({ "seed": seed, "description": "" })),
                Vec::new(),
            );
        }
        _ => {}
    }
    let inputs = match fetch_inputs(shared, job).await {
        Ok(inputs) => inputs,
        Err(outcome) => return (outcome, Vec::new()),
    };
    let Ok(permit) = shared.renders.acquire().await else {
        return (internal("the renderer is shut down"), Vec::new());
    };
    let task = {
        let shared = Arc::clone(shared);
        let model = model.to_owned();
        let job = job.clone();
        tokio::task::spawn_blocking(move || render_all(&shared, &model, &job, inputs, seed)).await
    };
    drop(permit);
    let images = match task {
        Ok(Ok(images)) => images,
        Ok(Err(outcome)) => return (outcome, Vec::new()),
        Err(err) => return (internal(&format!("render task failed: {err}")), Vec::new()),
    };
    let mut files = Vec::new();
    let mut described = Vec::new();
    for (index, image) in images.into_iter().enumerate() {
        let (width, height) = image.size;
        let format = output.format;
        let name = format!("{id}-{index}.{}", format.extension());
        described.push(json!({
            "url": format!("{}/files/{name}", shared.settings.public_url),
            "content_type": format.content_type(),
            "file_name": name,
            "file_size": image.bytes.len(),
            "width": width,
            "height": height,
        }));
        files.push((
            name,
            StoredFile {
                content_type: format.content_type(),
                bytes: Bytes::from(image.bytes),
            },
        ));
    }
    let result = json!({
        "images": described,
        "seed": seed,
        "description": "",
    });
    (Outcome::Result(result), files)
}

/// One finished image.
struct Encoded {
    /// The file's bytes.
    bytes: Vec<u8>,
    /// Width and height in pixels.
    size: (u32, u32),
}

/// Renders and encodes every image of the request.
fn render_all(
    shared: &Shared,
    model: &str,
    job: &Job,
    inputs: Vec<DynamicImage>,
    seed: u64,
) -> Result<Vec<Encoded>, Outcome> {
    let output = job.output();
    let fonts = &shared.fonts;
    let pictures = match job {
        Job::TextToImage { prompt, size, .. } => (0..output.num_images)
            .map(|index| {
                render::text_to_image(
                    fonts,
                    &TextToImage {
                        model,
                        prompt,
                        size: size.resolve(None),
                        seed: seed.wrapping_add(u64::from(index)),
                        index,
                        count: output.num_images,
                    },
                )
            })
            .collect(),
        Job::Edit { prompt, size, .. } => {
            let first = inputs.first().map(|image| (image.width(), image.height()));
            let size = size.resolve(first);
            (0..output.num_images)
                .map(|index| {
                    render::edit(
                        fonts,
                        &Edit {
                            prompt,
                            inputs: &inputs,
                            size: Some(size),
                            index,
                        },
                    )
                })
                .collect()
        }
        Job::FaceSwap { .. } => match inputs.as_slice() {
            [base, swap] => vec![render::face_swap(base, swap)],
            _ => return Err(internal("face swap needs two inputs")),
        },
        Job::Upscale { factor, .. } => {
            let Some(input) = inputs.first() else {
                return Err(internal("upscale needs an input"));
            };
            let Some(size) = render::upscaled_size((input.width(), input.height()), *factor) else {
                return Err(failed_422(
                    "image_url",
                    "image_too_large",
                    &format!(
                        "The upscaled image would be over {} pixels a side ({}x{} × {factor})",
                        render::MAX_UPSCALED_SIDE,
                        input.width(),
                        input.height()
                    ),
                ));
            };
            vec![render::upscale(input, size)]
        }
    };
    pictures
        .into_iter()
        .map(|picture| {
            let size = picture.dimensions();
            render::encode(&picture, output.format)
                .map(|bytes| Encoded { bytes, size })
                .map_err(|err| internal(&format!("can't encode the image: {err}")))
        })
        .collect()
}

/// Downloads and decodes the job's input images, in order (face swap: base, then swap).
async fn fetch_inputs(shared: &Shared, job: &Job) -> Result<Vec<DynamicImage>, Outcome> {
    let urls: Vec<(&str, &str)> = match job {
        Job::TextToImage { .. } => return Ok(Vec::new()),
        Job::Edit { inputs, field, .. } => {
            inputs.iter().map(|url| (*field, url.as_str())).collect()
        }
        Job::FaceSwap { base, swap, .. } => {
            vec![
                ("base_image_url", base.as_str()),
                ("swap_image_url", swap.as_str()),
            ]
        }
        Job::Upscale { input, .. } => vec![("image_url", input.as_str())],
    };
    let mut images = Vec::with_capacity(urls.len());
    for (field, url) in urls {
        let bytes = fetch(shared, url).await.map_err(|reason| {
            tracing::debug!(field, %reason, "input download failed");
            failed_422(
                field,
                "file_download_error",
                &format!("Failed to download the file: {reason}"),
            )
        })?;
        let image = tokio::task::spawn_blocking(move || render::decode(&bytes))
            .await
            .map_err(|err| internal(&format!("decoder task failed: {err}")))?
            .map_err(|err| {
                failed_422(
                    field,
                    "image_load_error",
                    &format!(
                        "Failed to load the image. Please ensure the image file is not corrupted \
                         and is in a supported format ({err})"
                    ),
                )
            })?;
        images.push(image);
    }
    Ok(images)
}

/// The bytes behind a `data:` URI, one of the sandbox's own files, or an http(s) URL.
async fn fetch(shared: &Shared, url: &str) -> Result<Bytes, String> {
    if let Some(rest) = url.strip_prefix("data:") {
        let (header, data) = rest
            .split_once(',')
            .ok_or_else(|| "a data URI without a comma".to_owned())?;
        if !header.ends_with(";base64") {
            return Ok(Bytes::copy_from_slice(data.as_bytes()));
        }
        let data: String = data.chars().filter(|c| !c.is_ascii_whitespace()).collect();
        return BASE64
            .decode(&data)
            .or_else(|_| BASE64_URL.decode(&data))
            .map(Bytes::from)
            .map_err(|err| format!("bad base64 in the data URI: {err}"));
    }
    let own = format!("{}/files/", shared.settings.public_url);
    if let Some(name) = url.strip_prefix(&own) {
        return shared
            .lock()
            .file(name)
            .map(|file| file.bytes)
            .ok_or_else(|| format!("{url}: 404 Not Found"));
    }
    let response = shared
        .http
        .get(url)
        .send()
        .await
        .map_err(|err| format!("{url}: {err}"))?;
    let status = response.status();
    if !status.is_success() {
        return Err(format!("{url}: {status}"));
    }
    if response
        .content_length()
        .is_some_and(|length| length > MAX_DOWNLOAD as u64)
    {
        return Err(format!("{url}: over {MAX_DOWNLOAD} bytes"));
    }
    let bytes = response
        .bytes()
        .await
        .map_err(|err| format!("{url}: {err}"))?;
    if bytes.len() > MAX_DOWNLOAD {
        return Err(format!("{url}: over {MAX_DOWNLOAD} bytes"));
    }
    Ok(bytes)
}

/// A request that completed with a 422 about `field`.
fn failed_422(field: &str, error_type: &str, message: &str) -> Outcome {
    Outcome::Failed {
        error: FalError::validation(vec![FieldError::new(Some(field), error_type, message)]),
        message: message.to_owned(),
        error_type: error_type.to_owned(),
    }
}

/// A request that completed with a 500 that is the sandbox's own fault.
fn internal(message: &str) -> Outcome {
    tracing::error!(error = message, "request failed inside the sandbox");
    Outcome::Failed {
        error: FalError::retryable_server_error(message),
        message: message.to_owned(),
        error_type: "internal_server_error".to_owned(),
    }
}
