//! `image.edit`, `image.retouch` and `image.face_swap` of real photos through gRPC, NATS and the provider
//! sandbox: what reaches Fal (the pictures upright and shrunk as `data:` URIs, in order; the instruction,
//! translated where the model wants English; the preset prompts; the sizes and formats), what comes back,
//! and the failures — unreadable pictures before Fal is asked, refusals, a failed model without fallback.

use std::collections::BTreeMap;
use std::sync::Mutex;

use generation::inputs;
use generation::models::ModelList;
use mediabot_proto::jobs::v1::{Edit, FailureReason, Operation, RetouchPreset};
use provider_sandbox::client::{Fault, FaultKind, RecentRequest, Stats};
use serde_json::{Value, json};

use crate::helpers::{TestEnv, fixture, input_parts};

const FLASH_EDIT: &str = "fal-ai/nano-banana/edit";
const PRO_EDIT: &str = "fal-ai/nano-banana-pro/edit";
const SEEDREAM_EDIT: &str = "fal-ai/bytedance/seedream/v4/edit";
const FACE_SWAP: &str = "fal-ai/face-swap";
/// 4608×1976: sent as 2048×878.
const NOKIA: &str = "nokia-8.3-4608x1976.jpg";
/// 3264×2448: sent as 2048×1536.
const IPHONE: &str = "iphone6-3264x2448.jpg";
/// A small camera JPEG (100×68), sent at its size.
const CANON: &str = "canon-40d.jpg";

fn edit(instruction: &str, model: &str, format: &str) -> Operation {
    Operation::edit(Edit {
        instruction: instruction.into(),
        model: model.into(),
        format: format.into(),
    })
}

/// The length of a `data:` URI as the sandbox's stats show it (`data:image/jpeg;base64,/9j/… (N bytes)`),
/// after checking it is a JPEG's.
fn jpeg_uri_length(shown: &Value) -> usize {
    let shown = shown
        .as_str()
        .unwrap_or_else(|| panic!("not a string: {shown}"));
    assert!(shown.starts_with("data:image/jpeg;base64,/9j/"), "{shown}");
    shown
        .rsplit_once('(')
        .and_then(|(_, tail)| tail.strip_suffix(" bytes)"))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no length in {shown}"))
}

/// The length of the `data:` URI generation makes of a fixture (deterministic: the same bytes make the
/// same URI). Worked out once per fixture for the whole binary: resampling is slow in a debug build.
fn prepared_length(name: &'static str) -> usize {
    static LENGTHS: Mutex<BTreeMap<&str, usize>> = Mutex::new(BTreeMap::new());
    if let Some(length) = LENGTHS.lock().unwrap().get(name) {
        return *length;
    }
    let length = inputs::prepare(&fixture(name)).unwrap().data_uri.len();
    LENGTHS.lock().unwrap().insert(name, length);
    length
}

/// The only Fal request the sandbox saw for `model`.
fn only_request(stats: &Stats, model: &str) -> RecentRequest {
    let mut requests = stats.recent.iter().filter(|r| r.model == model);
    let request = requests
        .next()
        .unwrap_or_else(|| panic!("no request for {model}: {stats:?}"))
        .clone();
    assert!(
        requests.next().is_none(),
        "more than one request for {model}"
    );
    request
}

fn fal_submits(stats: &Stats) -> u64 {
    stats.models.values().map(|m| m.submitted).sum()
}

/// Two phone photos reach the edit model as JPEG `data:` URIs of at most 2048 px, in the user's order,
/// with the instruction and the format; the result is the sandbox's picture (the first input's size) as
/// PNG. An EXIF-rotated photo is sent upright; `pro` takes a 2K resolution; `jpeg` and `webp` come back
/// as asked.
#[tokio::test]
async fn an_edit_sends_the_photos_upright_and_shrunk() {
    let env = TestEnv::start().await;
    let app = env.spawn(&[]).await;

    let two = input_parts(&[&fixture(NOKIA), &fixture(IPHONE)]);
    let job = env
        .submit_input(
            &app,
            edit("Put them on a beach at sunset", "flash", ""),
            &two,
        )
        .await;
    let image = env.outcome(&job).await.image();
    assert_eq!((image.width_px, image.height_px), (2048, 878));
    assert_eq!(image.mime_type, "image/png");
    assert_eq!((image.model.as_str(), image.fallbacks), ("flash", 0));
    assert!(image.send_as_document);
    let preview = image::load_from_memory(&image.preview_jpeg).unwrap();
    assert_eq!((preview.width(), preview.height()), (320, 137));
    let stored = env.object(&image.output_key).await;
    assert_eq!(stored.len() as u64, image.size_bytes);
    assert_eq!(
        image::guess_format(&stored).unwrap(),
        image::ImageFormat::Png
    );
    let picture = image::load_from_memory(&stored).unwrap();
    assert_eq!((picture.width(), picture.height()), (2048, 878));

    let request = env.fal_request("Put them on a beach at sunset").await;
    assert_eq!(request.model, FLASH_EDIT);
    let urls = request.input["image_urls"].as_array().unwrap();
    assert_eq!(urls.len(), 2);
    assert_eq!(jpeg_uri_length(&urls[0]), prepared_length(NOKIA));
    assert_eq!(jpeg_uri_length(&urls[1]), prepared_length(IPHONE));
    assert_eq!(request.input["output_format"], "png");
    assert!(request.input.get("resolution").is_none());
    assert!(request.input.get("image_size").is_none());

    // Stored with EXIF orientation 6 (on its side): sent upright, so the edit has the upright size.
    let rotated = fixture("orientation/landscape_6.jpg");
    let stored = image::load_from_memory(&rotated).unwrap();
    assert!(
        stored.height() > stored.width(),
        "the fixture is stored on its side"
    );
    let job = env
        .submit_input(
            &app,
            edit("Make it winter", "", ""),
            &input_parts(&[&rotated]),
        )
        .await;
    let image = env.outcome(&job).await.image();
    assert_eq!(
        (image.width_px, image.height_px),
        (stored.height(), stored.width())
    );
    assert_eq!(image.model, "flash", "the default edit model");
    assert_eq!(env.fal_request("Make it winter").await.model, FLASH_EDIT);

    // `pro` asks for 2K (the long side, the first picture's aspect); the result comes back as JPEG.
    let job = env
        .submit_input(
            &app,
            edit("Make it night", "pro", "jpeg"),
            &input_parts(&[&fixture(IPHONE)]),
        )
        .await;
    let image = env.outcome(&job).await.image();
    assert_eq!(image.mime_type, "image/jpeg");
    assert_eq!((image.width_px, image.height_px), (2048, 1536));
    assert_eq!(image.model, "pro");
    let stored = env.object(&image.output_key).await;
    assert_eq!(
        image::guess_format(&stored).unwrap(),
        image::ImageFormat::Jpeg
    );
    let request = env.fal_request("Make it night").await;
    assert_eq!(request.model, PRO_EDIT);
    assert_eq!(request.input["resolution"], "2K");
    assert_eq!(request.input["output_format"], "jpeg");

    let job = env
        .submit_input(
            &app,
            edit("Make it foggy", "flash", "webp"),
            &input_parts(&[&fixture(CANON)]),
        )
        .await;
    let image = env.outcome(&job).await.image();
    assert_eq!(image.mime_type, "image/webp");
    let stored = env.object(&image.output_key).await;
    assert_eq!(
        image::guess_format(&stored).unwrap(),
        image::ImageFormat::WebP
    );
}

/// Seedream takes English and a fixed 1024×1024 `image_size`: a Russian instruction reaches it translated
/// by the LLM (the sandbox's stand-in transliterates); Nano Banana gets the instruction as written.
#[tokio::test]
async fn seedream_edits_get_english_and_a_fixed_size() {
    let env = TestEnv::start().await;
    let app = env.spawn(&[]).await;
    let job = env
        .submit_input(
            &app,
            edit("Сделай небо ночным", "seedream", ""),
            &input_parts(&[&fixture(CANON)]),
        )
        .await;
    let image = env.outcome(&job).await.image();
    assert_eq!((image.width_px, image.height_px), (1024, 1024));
    assert_eq!(image.model, "seedream");
    let stats = env.stats().await;
    assert_eq!(stats.chat_completions, 1);
    let request = only_request(&stats, SEEDREAM_EDIT);
    assert_eq!(request.input["prompt"], "Sdelay nebo nochnym");
    assert_eq!(
        request.input["image_size"],
        json!({"width": 1024, "height": 1024})
    );

    let job = env
        .submit_input(
            &app,
            edit("Сделай небо ночным", "flash", ""),
            &input_parts(&[&fixture(CANON)]),
        )
        .await;
    env.outcome(&job).await.image();
    assert_eq!(
        env.fal_request("Сделай небо ночным").await.model,
        FLASH_EDIT
    );
    assert_eq!(
        env.stats().await.chat_completions,
        1,
        "no second translation"
    );
}

/// A retouch sends the preset's prompt (with the user's wishes after "Also:") and the one picture to the
/// retouch model, and asks for PNG; the two presets differ.
#[tokio::test]
async fn retouches_send_the_preset_prompt_and_the_wishes() {
    let env = TestEnv::start().await;
    let app = env.spawn(&[]).await;
    let models = ModelList::shipped().unwrap();
    let retouch = models.retouch();
    let photo = fixture(CANON);

    let job = env
        .submit_input(
            &app,
            Operation::retouch(RetouchPreset::Soft, "убери блики"),
            &photo,
        )
        .await;
    let soft = env.outcome(&job).await.image();
    let soft_prompt = format!("{}\n\nAlso: убери блики", retouch.soft);
    let request = env.fal_request(&soft_prompt).await;
    assert_eq!(request.model, FLASH_EDIT);
    assert!(soft_prompt.contains("Do not change the lips."));
    let urls = request.input["image_urls"].as_array().unwrap();
    assert_eq!(urls.len(), 1);
    assert_eq!(jpeg_uri_length(&urls[0]), prepared_length(CANON));
    assert_eq!(request.input["output_format"], "png");

    let job = env
        .submit_input(&app, Operation::retouch(RetouchPreset::Enhance, ""), &photo)
        .await;
    let enhance = env.outcome(&job).await.image();
    assert_ne!(retouch.enhance, retouch.soft);
    assert_eq!(env.fal_request(&retouch.enhance).await.model, FLASH_EDIT);

    for image in [soft, enhance] {
        assert_eq!(image.mime_type, "image/png");
        assert_eq!((image.width_px, image.height_px), (100, 68));
        assert_eq!((image.model.as_str(), image.fallbacks), ("", 0));
    }
}

/// A face swap sends the target photo as `base_image_url` and the portrait as `swap_image_url`; the result
/// has the target's size (after the 2048 px shrink). A job with three pictures is the gateway's bug.
#[tokio::test]
async fn a_face_swap_puts_the_portrait_on_the_target() {
    let env = TestEnv::start().await;
    let app = env.spawn(&[]).await;
    let parts = input_parts(&[&fixture(NOKIA), &fixture(IPHONE)]);
    let job = env.submit_input(&app, Operation::face_swap(), &parts).await;
    let image = env.outcome(&job).await.image();
    assert_eq!((image.width_px, image.height_px), (2048, 878));
    assert_eq!(image.mime_type, "image/png");
    assert_eq!((image.model.as_str(), image.fallbacks), ("", 0));
    let request = only_request(&env.stats().await, FACE_SWAP);
    let (base, swap) = (prepared_length(NOKIA), prepared_length(IPHONE));
    assert_ne!(base, swap);
    assert_eq!(jpeg_uri_length(&request.input["base_image_url"]), base);
    assert_eq!(jpeg_uri_length(&request.input["swap_image_url"]), swap);

    let three = input_parts(&[&fixture(NOKIA), &fixture(IPHONE), &fixture(CANON)]);
    let job = env.submit_input(&app, Operation::face_swap(), &three).await;
    let failed = env.outcome(&job).await.failure();
    assert_eq!(failed.reason(), FailureReason::Internal, "{failed:?}");
    assert!(
        failed.detail.contains("holds 3 pictures"),
        "{}",
        failed.detail
    );
    assert_eq!(env.stats().await.model(FACE_SWAP).submitted, 1);
}

/// A picture that does not decode fails the job as CORRUPT_INPUT, a HEIC one as UNSUPPORTED_FORMAT, and
/// five pictures as INTERNAL — each before Fal is asked anything.
#[tokio::test]
async fn unreadable_pictures_fail_before_fal_is_asked() {
    let env = TestEnv::start().await;
    let app = env.spawn(&[]).await;
    let corrupt = input_parts(&[&fixture(CANON), &fixture("bad/corrupted.jpg")]);
    let job = env
        .submit_input(&app, edit("Make it night", "flash", ""), &corrupt)
        .await;
    let failed = env.outcome(&job).await.failure();
    assert_eq!(failed.reason(), FailureReason::CorruptInput, "{failed:?}");
    assert!(
        failed.detail.starts_with("picture 2 of 2:"),
        "{}",
        failed.detail
    );

    let heic = fixture("bad/samplefilehub.heif");
    let job = env
        .submit_input(&app, Operation::retouch(RetouchPreset::Soft, ""), &heic)
        .await;
    let failed = env.outcome(&job).await.failure();
    assert_eq!(
        failed.reason(),
        FailureReason::UnsupportedFormat,
        "{failed:?}"
    );
    assert!(failed.detail.contains("HEIC"), "{}", failed.detail);

    let canon = fixture(CANON);
    let five = input_parts(&[&canon, &canon, &canon, &canon, &canon]);
    let job = env
        .submit_input(&app, edit("Make it night", "flash", ""), &five)
        .await;
    let failed = env.outcome(&job).await.failure();
    assert_eq!(failed.reason(), FailureReason::Internal, "{failed:?}");

    let stats = env.stats().await;
    assert_eq!(fal_submits(&stats), 0, "{stats:?}");
    assert_eq!(stats.chat_completions, 0);
}

/// A content-policy refusal fails an edit as REJECTED with the provider's words; a failed edit model is
/// PROVIDER_FAILED at once — no other edit model is asked; an alias the list lacks is INTERNAL.
#[tokio::test]
async fn refusals_and_failures_of_the_edit_model() {
    let env = TestEnv::start().await;
    let app = env.spawn(&[]).await;
    let photo = input_parts(&[&fixture(CANON)]);

    env.sandbox
        .set_fault(&Fault::once(FLASH_EDIT, FaultKind::Rejected))
        .await
        .unwrap();
    let job = env
        .submit_input(&app, edit("Something forbidden", "flash", ""), &photo)
        .await;
    let failed = env.outcome(&job).await.failure();
    assert_eq!(failed.reason(), FailureReason::Rejected, "{failed:?}");
    assert!(
        failed.provider_message.contains("safety checker"),
        "{failed:?}"
    );

    env.sandbox
        .set_fault(&Fault::once(PRO_EDIT, FaultKind::Failed))
        .await
        .unwrap();
    let job = env
        .submit_input(&app, edit("Make it night", "pro", ""), &photo)
        .await;
    let failed = env.outcome(&job).await.failure();
    assert_eq!(failed.reason(), FailureReason::ProviderFailed, "{failed:?}");
    assert!(
        failed
            .detail
            .starts_with("edit/pro: the request completed with 500"),
        "{}",
        failed.detail
    );
    let stats = env.stats().await;
    assert_eq!(
        (
            stats.model(PRO_EDIT).submitted,
            stats.model(PRO_EDIT).failed
        ),
        (1, 1)
    );
    assert_eq!(stats.model(FLASH_EDIT).submitted, 1, "only the refused one");
    assert_eq!(stats.model(SEEDREAM_EDIT).submitted, 0);

    let job = env
        .submit_input(&app, edit("Make it night", "dalle", ""), &photo)
        .await;
    let failed = env.outcome(&job).await.failure();
    assert_eq!(failed.reason(), FailureReason::Internal, "{failed:?}");
    assert!(failed.detail.contains("dalle"), "{}", failed.detail);
}

/// `image.upscale_remote`: the picture goes whole (not shrunk to 2048) when its result fits in 8192 px,
/// with the factor; a larger one is shrunk to 8192 / factor first; the result is the sandbox's upscale.
#[tokio::test]
async fn a_remote_upscale_sends_the_picture_as_large_as_its_result_allows() {
    const UPSCALER: &str = "fal-ai/clarity-upscaler";
    let env = TestEnv::start().await;
    let app = env.spawn(&[]).await;
    // 3264×2448 ×2 = 6528×4896: sent whole.
    let job = env
        .submit_input(&app, Operation::upscale_remote(2), &fixture(IPHONE))
        .await;
    let image = env.outcome(&job).await.image();
    assert_eq!((image.width_px, image.height_px), (6528, 4896));
    assert_eq!(image.mime_type, "image/png");
    let request = only_request(&env.stats().await, UPSCALER);
    assert_eq!(request.input["upscale_factor"], 2);
    let whole = inputs::prepare_within(&fixture(IPHONE), 4096)
        .unwrap()
        .data_uri
        .len();
    assert_eq!(jpeg_uri_length(&request.input["image_url"]), whole);
    assert!(
        whole > prepared_length(IPHONE),
        "larger than an edit's input"
    );

    // 4608×1976 ×4 would be 18432 px wide: sent as 2048×878, the result 8192×3512.
    let job = env
        .submit_input(&app, Operation::upscale_remote(4), &fixture(NOKIA))
        .await;
    let image = env.outcome(&job).await.image();
    assert_eq!((image.width_px, image.height_px), (8192, 3512));
}
