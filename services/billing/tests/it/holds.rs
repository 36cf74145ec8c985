//! Reserve, Capture and Release: the happy paths, idempotency, conflicts and expiry.

use std::time::Duration;

use mediabot_proto::billing::v1::{CaptureRequest, EntryKind, HoldState, ReleaseRequest};
use tonic::Code;
use tonic_types::StatusExt as _;

use crate::helpers::{
    Backend, Options, assert_ledger_consistent, eventually, job_id, spawn_app, spawn_app_with,
    transcribe, upscale_2x,
};
use crate::on_both_backends;
use mediabot_proto::jobs::v1::Operation;

on_both_backends!(
    reserve_is_idempotent,
    reserve_conflicts,
    reserve_prices_per_started_minute,
    insufficient_funds_carry_price_and_balance,
    capture_whole_and_partial,
    release_returns_money,
    unknown_holds,
    lapsed_holds_expire,
);

async fn reserve_is_idempotent(backend: Backend) {
    let app = spawn_app(backend).await;
    let job = job_id();
    let hold = app.reserve(&job, 42, upscale_2x()).await.unwrap();
    assert_eq!(hold.job_id, job);
    assert_eq!(hold.amount_minor, 500);
    assert_eq!(hold.state, HoldState::Pending as i32);
    assert_eq!(hold.operation, "image.upscale factor=2");
    assert_eq!(hold.available_minor, 2500);
    assert_eq!(hold.currency, "RUB");
    let now = service_runtime::now_unix_ms();
    assert!((now + 1_700_000..=now + 1_800_000).contains(&hold.expires_at_unix_ms));
    let again = app.reserve(&job, 42, upscale_2x()).await.unwrap();
    assert_eq!(again, hold);
    let balance = app.balance(42).await;
    assert_eq!(
        (
            balance.balance_minor,
            balance.held_minor,
            balance.available_minor
        ),
        (3000, 500, 2500)
    );
    let holds = app
        .all_operations(42)
        .await
        .into_iter()
        .filter(|o| o.kind == EntryKind::Hold as i32)
        .count();
    assert_eq!(holds, 1);
    assert_ledger_consistent(&app).await;
    app.stop().await;
}

async fn reserve_conflicts(backend: Backend) {
    let app = spawn_app(backend).await;
    let job = job_id();
    app.reserve(&job, 42, upscale_2x()).await.unwrap();
    let other_operation = app.reserve(&job, 42, transcribe()).await.unwrap_err();
    assert_eq!(other_operation.code(), Code::AlreadyExists);
    let other_account = app.reserve(&job, 43, upscale_2x()).await.unwrap_err();
    assert_eq!(other_account.code(), Code::AlreadyExists);
    // The same operation with other parameters is other content too.
    let speech = job_id();
    app.reserve(&speech, 42, Operation::transcribe("ru"))
        .await
        .unwrap();
    let other_language = app
        .reserve(&speech, 42, Operation::transcribe("en"))
        .await
        .unwrap_err();
    assert_eq!(other_language.code(), Code::AlreadyExists);
    // The same id in another spelling is the same job.
    let again = app
        .reserve(&speech.to_uppercase(), 42, Operation::transcribe("ru"))
        .await
        .unwrap();
    assert_eq!(again.job_id, speech);
    assert_eq!(app.balance(42).await.held_minor, 800);
    assert_ledger_consistent(&app).await;
    app.stop().await;
}

/// `speech.transcribe` costs 300 per started minute of audio (the shipped price list); a repeat with
/// another length is still the same job and answers with the first hold.
async fn reserve_prices_per_started_minute(backend: Backend) {
    let app = spawn_app(backend).await;
    let cases = [
        (0, 300),
        (1, 300),
        (60_000, 300),
        (60_001, 600),
        (185_000, 1200),
    ];
    let mut held = 0;
    for (audio_ms, price) in cases {
        let job = job_id();
        let hold = app
            .reserve_audio(&job, 42, transcribe(), audio_ms)
            .await
            .unwrap();
        assert_eq!(hold.amount_minor, price, "{audio_ms} ms");
        assert_eq!(hold.operation, "speech.transcribe language=auto");
        held += price;
        let repeat = app
            .reserve_audio(&job, 42, transcribe(), audio_ms + 120_000)
            .await
            .unwrap();
        assert_eq!(repeat, hold);
    }
    assert_eq!(app.balance(42).await.held_minor, held);
    assert_ledger_consistent(&app).await;
    app.stop().await;
}

async fn insufficient_funds_carry_price_and_balance(backend: Backend) {
    let app = spawn_app_with(Options {
        welcome_credit_minor: 700,
        ..Options::new(backend)
    })
    .await;
    app.reserve(&job_id(), 42, upscale_2x()).await.unwrap();
    let status = app.reserve(&job_id(), 42, upscale_2x()).await.unwrap_err();
    assert_eq!(status.code(), Code::FailedPrecondition);
    assert!(
        status.message().contains("500") && status.message().contains("200"),
        "{}",
        status.message()
    );
    let details = status.get_error_details();
    let info = details.error_info().expect("ErrorInfo");
    assert_eq!(info.reason, "INSUFFICIENT_FUNDS");
    assert_eq!(info.metadata["price_minor"], "500");
    assert_eq!(info.metadata["available_minor"], "200");
    assert_eq!(info.metadata["shortfall_minor"], "300");
    assert_eq!(info.metadata["currency"], "RUB");
    assert!(details.precondition_failure().is_some());
    // The cheaper operation (300) does not fit either.
    app.reserve(&job_id(), 42, transcribe()).await.unwrap_err();
    let balance = app.balance(42).await;
    assert_eq!(
        (
            balance.balance_minor,
            balance.held_minor,
            balance.available_minor
        ),
        (700, 500, 200)
    );
    assert_ledger_consistent(&app).await;
    app.stop().await;
}

async fn capture_whole_and_partial(backend: Backend) {
    let app = spawn_app(backend).await;
    let mut client = app.client.clone();
    let whole = job_id();
    app.reserve(&whole, 42, upscale_2x()).await.unwrap();
    let captured = client
        .capture(CaptureRequest {
            job_id: whole.clone(),
            amount_minor: None,
        })
        .await
        .unwrap();
    let captured = captured.into_inner();
    assert_eq!(captured.state, HoldState::Captured as i32);
    assert_eq!(
        (
            captured.amount_minor,
            captured.captured_minor,
            captured.available_minor
        ),
        (500, 500, 2500)
    );
    let again = client
        .capture(CaptureRequest {
            job_id: whole.clone(),
            amount_minor: None,
        })
        .await
        .unwrap();
    assert_eq!(again.into_inner(), captured);
    let same_amount = client
        .capture(CaptureRequest {
            job_id: whole.clone(),
            amount_minor: Some(500),
        })
        .await
        .unwrap();
    assert_eq!(same_amount.into_inner(), captured);
    let other_amount = client
        .capture(CaptureRequest {
            job_id: whole.clone(),
            amount_minor: Some(100),
        })
        .await
        .unwrap_err();
    assert_eq!(other_amount.code(), Code::AlreadyExists);
    let release = client
        .release(ReleaseRequest {
            job_id: whole.clone(),
        })
        .await
        .unwrap_err();
    assert_eq!(release.code(), Code::FailedPrecondition);

    let partial = job_id();
    app.reserve(&partial, 42, upscale_2x()).await.unwrap();
    let too_much = client
        .capture(CaptureRequest {
            job_id: partial.clone(),
            amount_minor: Some(501),
        })
        .await
        .unwrap_err();
    assert_eq!(too_much.code(), Code::InvalidArgument);
    let negative = client
        .capture(CaptureRequest {
            job_id: partial.clone(),
            amount_minor: Some(-1),
        })
        .await
        .unwrap_err();
    assert_eq!(negative.code(), Code::InvalidArgument);
    let captured = client
        .capture(CaptureRequest {
            job_id: partial.clone(),
            amount_minor: Some(200),
        })
        .await
        .unwrap();
    let captured = captured.into_inner();
    assert_eq!(
        (captured.captured_minor, captured.available_minor),
        (200, 2300)
    );
    let balance = app.balance(42).await;
    assert_eq!(
        (
            balance.balance_minor,
            balance.held_minor,
            balance.available_minor
        ),
        (2300, 0, 2300)
    );
    let captures: Vec<i64> = app
        .all_operations(42)
        .await
        .into_iter()
        .filter(|o| o.kind == EntryKind::Capture as i32)
        .map(|o| o.amount_minor)
        .collect();
    assert_eq!(captures, vec![-200, -500]);
    assert_ledger_consistent(&app).await;
    app.stop().await;
}

async fn release_returns_money(backend: Backend) {
    let app = spawn_app(backend).await;
    let mut client = app.client.clone();
    let job = job_id();
    app.reserve(&job, 42, transcribe()).await.unwrap();
    let released = client
        .release(ReleaseRequest {
            job_id: job.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(released.state, HoldState::Released as i32);
    assert_eq!(
        (released.captured_minor, released.available_minor),
        (0, 3000)
    );
    let again = client
        .release(ReleaseRequest {
            job_id: job.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(again, released);
    let capture = client
        .capture(CaptureRequest {
            job_id: job.clone(),
            amount_minor: None,
        })
        .await
        .unwrap_err();
    assert_eq!(capture.code(), Code::FailedPrecondition);
    // The same job id cannot be reserved again once settled: the repeat answers with the released hold.
    let repeat = app.reserve(&job, 42, transcribe()).await.unwrap();
    assert_eq!(repeat.state, HoldState::Released as i32);
    let balance = app.balance(42).await;
    assert_eq!(
        (
            balance.balance_minor,
            balance.held_minor,
            balance.available_minor
        ),
        (3000, 0, 3000)
    );
    assert_ledger_consistent(&app).await;
    app.stop().await;
}

async fn unknown_holds(backend: Backend) {
    let app = spawn_app(backend).await;
    let mut client = app.client.clone();
    let capture = client
        .capture(CaptureRequest {
            job_id: job_id(),
            amount_minor: None,
        })
        .await
        .unwrap_err();
    assert_eq!(capture.code(), Code::NotFound);
    let release = client
        .release(ReleaseRequest { job_id: job_id() })
        .await
        .unwrap_err();
    assert_eq!(release.code(), Code::NotFound);
    assert_ledger_consistent(&app).await;
    app.stop().await;
}

async fn lapsed_holds_expire(backend: Backend) {
    // The sweeper expires only once it can ask NATS that no outcome event waits: a hold with no event
    // at all expires.
    let app = spawn_app_with(Options {
        hold_timeout_secs: 1,
        nats: true,
        ..Options::new(backend)
    })
    .await;
    let mut client = app.client.clone();
    let job = job_id();
    app.reserve(&job, 42, upscale_2x()).await.unwrap();
    eventually(Duration::from_secs(10), "the hold to expire", || async {
        (app.balance(42).await.held_minor == 0).then_some(())
    })
    .await;
    let released = client
        .release(ReleaseRequest {
            job_id: job.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(released.state, HoldState::Expired as i32);
    let capture = client
        .capture(CaptureRequest {
            job_id: job.clone(),
            amount_minor: None,
        })
        .await
        .unwrap_err();
    assert_eq!(capture.code(), Code::FailedPrecondition);
    let operations = app.all_operations(42).await;
    assert_eq!(operations[0].kind, EntryKind::Expiry as i32);
    assert_eq!(operations[0].reference, job);
    assert_eq!(app.balance(42).await.balance_minor, 3000);
    assert_ledger_consistent(&app).await;
    app.stop().await;
}
