//! `prompt.write` through the LLM: a long structured prompt, and a rate-limited call retried.

use mediabot_proto::jobs::v1::{FailureReason, JobCompleted, Operation, job_completed};
use provider_sandbox::client::{CHAT, Fault, FaultKind};

use crate::helpers::{Outcome, TestEnv};

fn prompt_text(outcome: Outcome) -> (String, String) {
    match outcome {
        Outcome::Completed(JobCompleted {
            result: Some(job_completed::Result::Prompt(prompt)),
            ..
        }) => (prompt.text, prompt.model),
        other => panic!("not a prompt: {other:?}"),
    }
}

/// The idea becomes an English prompt of at least 1000 characters (and at most 4000) in labelled sections.
#[tokio::test]
async fn writes_a_long_english_prompt() {
    let env = TestEnv::start().await;
    let app = env.spawn(&[]).await;
    let job = env
        .submit(&app, Operation::write_prompt("кот в космосе", "ru"))
        .await;
    let (text, model) = prompt_text(env.outcome(&job).await);
    let chars = text.chars().count();
    assert!((1000..=4000).contains(&chars), "{chars} characters: {text}");
    assert_eq!(model, "gpt-4o-mini");
    for section in ["Subject", "Composition", "Lighting", "Style", "Mood"] {
        assert!(text.contains(section), "no {section}: {text}");
    }
    assert!(text.contains("kot v kosmose"), "{text}");
    assert_eq!(env.stats().await.chat_completions, 1);
}

/// A 429 from the LLM is retried after its Retry-After and the job completes; an LLM that keeps failing
/// fails the job as PROVIDER_FAILED.
#[tokio::test]
async fn a_rate_limited_llm_is_retried() {
    let env = TestEnv::start().await;
    let app = env.spawn(&[]).await;
    env.sandbox
        .set_fault(&Fault::once(CHAT, FaultKind::RateLimit))
        .await
        .unwrap();
    let job = env
        .submit(&app, Operation::write_prompt("a red bicycle", "en"))
        .await;
    let (text, _) = prompt_text(env.outcome(&job).await);
    assert!(text.chars().count() >= 1000);
    let stats = env.stats().await;
    assert_eq!((stats.chat_errors, stats.chat_completions), (1, 1));

    env.sandbox
        .set_fault(&Fault::once(CHAT, FaultKind::Malformed))
        .await
        .unwrap();
    let job = env
        .submit(&app, Operation::write_prompt("a blue bicycle", "en"))
        .await;
    let failed = env.outcome(&job).await.failure();
    assert_eq!(failed.reason(), FailureReason::ProviderFailed, "{failed:?}");
    assert!(failed.detail.contains("no text"), "{}", failed.detail);
}
