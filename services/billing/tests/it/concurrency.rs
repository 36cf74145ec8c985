//! Reserves racing each other never overdraw an account, and never hold twice for one job.

use futures::future::join_all;
use tonic::Code;

use crate::helpers::{
    Backend, Options, assert_ledger_consistent, job_id, spawn_app_with, upscale_2x,
};
use crate::on_both_backends;

on_both_backends!(
    hundred_reserves_for_thirty_seven,
    same_job_reserved_concurrently
);

async fn hundred_reserves_for_thirty_seven(backend: Backend) {
    // 37 × 500 = 18 500 fits into 18 999; a 38th would not.
    let app = spawn_app_with(Options {
        welcome_credit_minor: 18_999,
        ..Options::new(backend)
    })
    .await;
    let started = std::time::Instant::now();
    let calls = (0..100).map(|_| {
        let app = &app;
        async move { app.reserve(&job_id(), 42, upscale_2x()).await }
    });
    let results = join_all(calls).await;
    let elapsed = started.elapsed();
    let succeeded = results.iter().filter(|r| r.is_ok()).count();
    for result in &results {
        match result {
            Ok(hold) => assert!(hold.available_minor >= 0),
            Err(status) => assert_eq!(status.code(), Code::FailedPrecondition, "{status:?}"),
        }
    }
    assert_eq!(succeeded, 37);
    let balance = app.balance(42).await;
    assert_eq!(
        (
            balance.balance_minor,
            balance.held_minor,
            balance.available_minor
        ),
        (18_999, 18_500, 499)
    );
    eprintln!("{backend:?}: 100 concurrent reserves in {elapsed:?}");
    assert_ledger_consistent(&app).await;
    app.stop().await;
}

async fn same_job_reserved_concurrently(backend: Backend) {
    let app = spawn_app_with(Options::new(backend)).await;
    let job = job_id();
    let calls = (0..20).map(|_| {
        let (app, job) = (&app, job.clone());
        async move { app.reserve(&job, 42, upscale_2x()).await.unwrap() }
    });
    let holds = join_all(calls).await;
    assert!(
        holds
            .iter()
            .all(|h| h.job_id == job && h.amount_minor == 500)
    );
    let balance = app.balance(42).await;
    assert_eq!((balance.held_minor, balance.available_minor), (500, 2500));
    assert_ledger_consistent(&app).await;
    app.stop().await;
}
