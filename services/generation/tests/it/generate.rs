//! `image.generate` through gRPC, NATS and the provider sandbox: sizes as each kind of model takes them,
//! the default chain falling back, refusals, retries, the deadline, translation, and shutdown.

use std::time::{Duration, Instant};

use mediabot_proto::jobs::v1::{FailureReason, Generate, ImageShape, JobState};
use provider_sandbox::client::{CHAT, Fault, FaultKind};
use serde_json::{Value, json};

use crate::helpers::{Outcome, TestEnv};

const PRO: &str = "fal-ai/nano-banana-pro";
const FLASH: &str = "fal-ai/nano-banana";
const SEEDREAM: &str = "fal-ai/bytedance/seedream/v4/text-to-image";
const FLUX: &str = "fal-ai/flux/dev";

/// One size case: what is asked, what the sandbox must see (`aspect_ratio` or `image_size`), and the
/// picture's size.
struct Case {
    model: &'static str,
    shape: ImageShape,
    exact: (u32, u32),
    ratio: &'static str,
    sent: Value,
    size: (u32, u32),
}

impl Case {
    fn shape(model: &'static str, shape: ImageShape, sent: Value, size: (u32, u32)) -> Self {
        Self {
            model,
            shape,
            exact: (0, 0),
            ratio: "",
            sent,
            size,
        }
    }
}

fn generate(prompt: &str, model: &str) -> Generate {
    Generate {
        prompt: prompt.into(),
        model: model.into(),
        ..Generate::default()
    }
}

/// Each shape reaches an aspect-ratio model (Nano Banana Pro, 2K) as its ratio and an image-size model
/// (Seedream) as its pixels, and the result's size is the picture's; exact sizes and ratios too.
#[tokio::test]
async fn sizes_reach_each_kind_of_model() {
    let env = TestEnv::start().await;
    let app = env.spawn(&[]).await;
    let cases = [
        Case::shape("pro", ImageShape::Vertical, json!("3:4"), (1536, 2048)),
        Case::shape("pro", ImageShape::Square, json!("1:1"), (2048, 2048)),
        Case::shape("pro", ImageShape::Horizontal, json!("4:3"), (2048, 1536)),
        Case {
            exact: (1920, 1080),
            ..Case::shape("pro", ImageShape::Square, json!("16:9"), (2048, 1152))
        },
        Case::shape(
            "seedream",
            ImageShape::Vertical,
            json!({"width": 1472, "height": 2048}),
            (1472, 2048),
        ),
        Case::shape(
            "seedream",
            ImageShape::Square,
            json!({"width": 1792, "height": 1792}),
            (1792, 1792),
        ),
        Case::shape(
            "seedream",
            ImageShape::Horizontal,
            json!({"width": 2048, "height": 1472}),
            (2048, 1472),
        ),
        Case {
            ratio: "16:9",
            ..Case::shape(
                "flux",
                ImageShape::Square,
                json!({"width": 2048, "height": 1152}),
                (2048, 1152),
            )
        },
    ];
    let mut jobs = Vec::new();
    for (i, case) in cases.iter().enumerate() {
        let params = Generate {
            shape: case.shape as i32,
            width_px: case.exact.0,
            height_px: case.exact.1,
            aspect_ratio: case.ratio.to_string(),
            ..generate(&format!("size case {i}"), case.model)
        };
        jobs.push(env.generate(&app, params).await);
    }
    for (i, (job, case)) in jobs.iter().zip(&cases).enumerate() {
        let Case {
            model,
            shape,
            sent,
            size,
            ..
        } = case;
        let image = env.outcome(job).await.image();
        assert_eq!(
            (image.width_px, image.height_px),
            *size,
            "case {i}: {model} {shape:?}"
        );
        assert_eq!((image.model.as_str(), image.fallbacks), (*model, 0));
        assert_eq!(image.mime_type, "image/png");
        assert!(image.send_as_document);
        let preview = image::load_from_memory(&image.preview_jpeg).unwrap();
        assert_eq!(preview.width().max(preview.height()), 320);
        let stored = env.object(&image.output_key).await;
        assert_eq!(stored.len() as u64, image.size_bytes);
        let picture = image::load_from_memory(&stored).unwrap();
        assert_eq!((picture.width(), picture.height()), *size);

        let request = env.fal_request(&format!("size case {i}")).await;
        let input = &request.input;
        let endpoint = match *model {
            "pro" => PRO,
            "seedream" => SEEDREAM,
            _ => FLUX,
        };
        assert_eq!(request.model, endpoint);
        if *model == "pro" {
            assert_eq!(input["aspect_ratio"], *sent, "case {i}");
            assert_eq!(input["resolution"], "2K");
            assert!(input.get("image_size").is_none());
        } else {
            assert_eq!(input["image_size"], *sent, "case {i}");
            assert!(input.get("aspect_ratio").is_none());
        }
        if *model == "flux" {
            assert_eq!(input["num_inference_steps"], 28);
            assert_eq!(input["guidance_scale"], 3.5);
        }
    }
}

/// The default chain: a failing or malformed first model falls back to the next, and the job completes
/// once, naming the model that made the picture; a named model does not fall back.
#[tokio::test]
async fn the_chain_falls_back_to_the_next_model() {
    let env = TestEnv::start().await;
    let app = env.spawn(&[]).await;

    env.sandbox
        .set_fault(&Fault::once(PRO, FaultKind::Failed))
        .await
        .unwrap();
    let job = env
        .generate(&app, generate("a lighthouse at dusk", ""))
        .await;
    let image = env.outcome(&job).await.image();
    assert_eq!((image.model.as_str(), image.fallbacks), ("flash", 1));
    assert_eq!(env.state(&job).await, JobState::Completed);
    assert_eq!(
        env.outcome_counts(&job).await,
        (1, 0),
        "one completion, no failure"
    );
    let stats = env.stats().await;
    assert_eq!(
        (stats.model(PRO).submitted, stats.model(PRO).failed),
        (1, 1)
    );
    assert_eq!(stats.model(FLASH).completed, 1);
    assert_eq!(stats.model(SEEDREAM).submitted, 0);

    // A result without images is the model's failure too.
    env.sandbox
        .set_fault(&Fault::once(PRO, FaultKind::Malformed))
        .await
        .unwrap();
    let job = env
        .generate(&app, generate("a malformed lighthouse", ""))
        .await;
    let image = env.outcome(&job).await.image();
    assert_eq!((image.model.as_str(), image.fallbacks), ("flash", 1));

    // Every model of the chain failing fails the job, each model's failure in the detail.
    env.sandbox
        .set_fault(&Fault::new("*", FaultKind::Failed).count(3))
        .await
        .unwrap();
    let job = env.generate(&app, generate("nothing works", "")).await;
    let failed = env.outcome(&job).await.failure();
    assert_eq!(failed.reason(), FailureReason::ProviderFailed, "{failed:?}");
    for model in ["pro:", "flash:", "seedream:"] {
        assert!(failed.detail.contains(model), "{}", failed.detail);
    }

    // A model the user named is the only one tried.
    env.sandbox
        .set_fault(&Fault::once(FLUX, FaultKind::Failed))
        .await
        .unwrap();
    let job = env.generate(&app, generate("flux only", "flux")).await;
    let failed = env.outcome(&job).await.failure();
    assert_eq!(failed.reason(), FailureReason::ProviderFailed);
    assert!(
        failed.detail.starts_with("every model failed: flux:"),
        "{}",
        failed.detail
    );
    assert_eq!(env.fal_request("flux only").await.model, FLUX);
    assert_eq!(env.stats().await.model(FLUX).submitted, 1);
}

/// A content-policy refusal is the user's: FAILED REJECTED with the provider's words, and no other model
/// is asked.
#[tokio::test]
async fn a_refused_prompt_fails_as_rejected() {
    let env = TestEnv::start().await;
    let app = env.spawn(&[]).await;
    env.sandbox
        .set_fault(&Fault::once(PRO, FaultKind::Rejected))
        .await
        .unwrap();
    let job = env
        .generate(&app, generate("something forbidden", ""))
        .await;
    let failed = env.outcome(&job).await.failure();
    assert_eq!(failed.reason(), FailureReason::Rejected, "{failed:?}");
    assert!(
        failed.provider_message.contains("safety checker"),
        "{failed:?}"
    );
    assert_eq!(env.stats().await.model(FLASH).submitted, 0);

    // An unknown alias is a configuration mismatch, not the user's fault.
    let job = env.generate(&app, generate("a cat", "dalle")).await;
    let failed = env.outcome(&job).await.failure();
    assert_eq!(failed.reason(), FailureReason::Internal);
    assert!(failed.detail.contains("dalle"), "{}", failed.detail);
}

/// A 429 at submit is retried (after a back-off) and the same model succeeds.
#[tokio::test]
async fn a_rate_limited_submit_is_retried() {
    let env = TestEnv::start().await;
    let app = env.spawn(&[]).await;
    env.sandbox
        .set_fault(&Fault::once(PRO, FaultKind::RateLimit))
        .await
        .unwrap();
    let job = env.generate(&app, generate("patience", "")).await;
    let image = env.outcome(&job).await.image();
    assert_eq!((image.model.as_str(), image.fallbacks), ("pro", 0));
    let pro = env.stats().await.model(PRO);
    assert_eq!((pro.rejected_429, pro.submitted, pro.completed), (1, 1, 1));
}

/// A request stuck in Fal's queue ends with the job's deadline: cancelled at Fal, its slot freed, the
/// job FAILED PROVIDER_FAILED, and the chain not continued.
#[tokio::test]
async fn the_deadline_cancels_a_stuck_request() {
    let env = TestEnv::start().await;
    let app = env.spawn(&["--job-deadline-secs", "3"]).await;
    env.sandbox
        .set_fault(&Fault::once(PRO, FaultKind::Stuck))
        .await
        .unwrap();
    let started = Instant::now();
    let job = env.generate(&app, generate("forever", "")).await;
    let failed = env.outcome(&job).await.failure();
    let took = started.elapsed();
    assert_eq!(failed.reason(), FailureReason::ProviderFailed, "{failed:?}");
    assert!(failed.detail.contains("timed out"), "{}", failed.detail);
    assert!(
        took >= Duration::from_secs(3) && took < Duration::from_secs(5),
        "{took:?}"
    );
    let stats = env.stats().await;
    assert_eq!(stats.model(PRO).cancelled, 1);
    assert_eq!(stats.model(FLASH).submitted, 0);
    assert_eq!(stats.key(provider_sandbox::DEFAULT_FAL_KEY).in_flight, 0);
    // The slot is free again: its key's latest entry is a delete.
    let slots = env
        .pipeline
        .jetstream
        .get_key_value(generation::slots::SLOTS_BUCKET)
        .await
        .unwrap();
    let prefix = generation::slots::key_prefix(provider_sandbox::DEFAULT_FAL_KEY);
    let entry = slots.entry(format!("{prefix}.0")).await.unwrap().unwrap();
    assert_eq!(
        entry.operation,
        async_nats::jetstream::kv::Operation::Delete
    );
}

/// A Cyrillic prompt reaches a `translate_prompt` model (Seedream) in Latin letters, translated by the
/// LLM, and other models as written; a failed translation sends the original.
#[tokio::test]
async fn prompts_are_translated_for_models_that_want_english() {
    let env = TestEnv::start().await;
    let app = env.spawn(&[]).await;
    let job = env
        .generate(&app, generate("Кот в космосе", "seedream"))
        .await;
    env.outcome(&job).await.image();
    let stats = env.stats().await;
    let seen = stats
        .recent
        .iter()
        .find(|r| r.model == SEEDREAM)
        .expect("a Seedream request");
    let prompt = seen.input["prompt"].as_str().unwrap();
    assert_eq!(prompt, "Kot v kosmose");
    assert_eq!(stats.chat_completions, 1);

    let job = env.generate(&app, generate("Собака на Луне", "pro")).await;
    env.outcome(&job).await.image();
    assert_eq!(env.fal_request("Собака на Луне").await.model, PRO);

    env.sandbox
        .set_fault(&Fault::once(CHAT, FaultKind::Malformed))
        .await
        .unwrap();
    let job = env
        .generate(&app, generate("Рыба в море", "seedream"))
        .await;
    env.outcome(&job).await.image();
    assert_eq!(env.fal_request("Рыба в море").await.model, SEEDREAM);
}

/// On shutdown a running job's request is cancelled at Fal and the job is left for redelivery (not
/// failed); the next replica runs it to completion.
#[tokio::test]
async fn shutdown_cancels_at_the_provider_and_redelivers() {
    let env = TestEnv::start().await;
    let first = env.spawn(&[]).await;
    env.sandbox
        .set_fault(&Fault::once(PRO, FaultKind::Stuck))
        .await
        .unwrap();
    let job = env.generate(&first, generate("interrupted", "")).await;
    env.until_stats(Duration::from_secs(10), |s| s.model(PRO).submitted == 1)
        .await;
    first.stop().await;
    assert_eq!(env.stats().await.model(PRO).cancelled, 1);
    assert_eq!(env.state(&job).await, JobState::Running);

    let second = env.spawn(&[]).await;
    match env.outcome(&job).await {
        Outcome::Completed(done) => assert_eq!(done.job_id, job),
        Outcome::Failed(failed) => panic!("the redelivered job failed: {failed:?}"),
    }
    drop(second);
}
