//! TopUp idempotency and ListOperations paging.

use mediabot_proto::billing::v1::{
    CaptureRequest, EntryKind, HoldState, ListHoldsRequest, ListOperationsRequest, ReleaseRequest,
    TopUpRequest,
};
use tonic::Code;

use crate::helpers::{Backend, assert_ledger_consistent, job_id, spawn_app, upscale_2x};
use crate::on_both_backends;

on_both_backends!(
    top_up_is_idempotent,
    operations_are_paged_newest_first,
    holds_are_one_line_per_paid_job_paged_and_filtered
);

fn top_up(account_id: i64, amount_minor: i64, key: &str, source: &str) -> TopUpRequest {
    TopUpRequest {
        account_id,
        amount_minor,
        idempotency_key: key.into(),
        source: source.into(),
    }
}

async fn top_up_is_idempotent(backend: Backend) {
    let app = spawn_app(backend).await;
    let mut client = app.client.clone();
    let first = client
        .top_up(top_up(42, 1000, "stars:1", "telegram_stars:1"))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(first.balance.as_ref().unwrap().balance_minor, 4000);
    assert!(!first.entry_id.is_empty());
    let again = client
        .top_up(top_up(42, 1000, "stars:1", "telegram_stars:1"))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(again, first);
    for conflicting in [
        top_up(42, 999, "stars:1", "telegram_stars:1"),
        top_up(43, 1000, "stars:1", "telegram_stars:1"),
        top_up(42, 1000, "stars:1", "admin:1"),
    ] {
        let status = client.top_up(conflicting).await.unwrap_err();
        assert_eq!(status.code(), Code::AlreadyExists);
    }
    for invalid in [
        top_up(42, 0, "k", "s"),
        top_up(42, -5, "k", "s"),
        top_up(42, 5, "", "s"),
    ] {
        let status = client.top_up(invalid).await.unwrap_err();
        assert_eq!(status.code(), Code::InvalidArgument);
    }
    assert_eq!(app.balance(42).await.balance_minor, 4000);
    let operations = app.all_operations(42).await;
    assert_eq!(operations.len(), 2);
    assert_eq!(operations[0].kind, EntryKind::TopUp as i32);
    assert_eq!(
        (operations[0].amount_minor, operations[0].reference.as_str()),
        (1000, "stars:1")
    );
    assert_eq!(operations[0].description, "telegram_stars:1");
    assert_eq!(operations[0].entry_id, first.entry_id);
    assert_ledger_consistent(&app).await;
    app.stop().await;
}

async fn operations_are_paged_newest_first(backend: Backend) {
    let app = spawn_app(backend).await;
    let mut client = app.client.clone();
    for i in 1..=24 {
        client
            .top_up(top_up(42, i, &format!("key-{i}"), "admin:1"))
            .await
            .unwrap();
    }
    // Another account's entries never show up.
    client
        .top_up(top_up(43, 1, "other", "admin:1"))
        .await
        .unwrap();
    let mut pages = Vec::new();
    let mut page_token = String::new();
    loop {
        let page = client
            .list_operations(ListOperationsRequest {
                account_id: 42,
                page_size: 10,
                page_token,
            })
            .await
            .unwrap()
            .into_inner();
        pages.push(
            page.operations
                .iter()
                .map(|o| o.amount_minor)
                .collect::<Vec<_>>(),
        );
        if page.next_page_token.is_empty() {
            break;
        }
        page_token = page.next_page_token;
    }
    let mut expected: Vec<i64> = (1..=24).rev().collect();
    expected.push(3000);
    assert_eq!(
        pages,
        expected.chunks(10).map(<[i64]>::to_vec).collect::<Vec<_>>()
    );
    let default_page = client
        .list_operations(ListOperationsRequest {
            account_id: 42,
            page_size: 0,
            page_token: String::new(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(default_page.operations.len(), 20);
    let bad = client
        .list_operations(ListOperationsRequest {
            account_id: 42,
            page_size: 0,
            page_token: "nope".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(bad.code(), Code::InvalidArgument);
    assert_ledger_consistent(&app).await;
    app.stop().await;
}

/// Every hold of account 42 that `filter` lets through, page by page (`page_size` each): job ids and
/// states, newest first.
async fn listed_holds(
    app: &crate::helpers::TestApp,
    page_size: u32,
    state: HoldState,
    job_id_suffix: &str,
) -> Vec<(String, HoldState)> {
    let mut all = Vec::new();
    let mut page_token = String::new();
    loop {
        let page = app
            .client
            .clone()
            .list_holds(ListHoldsRequest {
                account_id: 42,
                page_size,
                page_token,
                state: state as i32,
                job_id_suffix: job_id_suffix.into(),
            })
            .await
            .unwrap()
            .into_inner();
        assert!(page.holds.len() <= page_size as usize);
        all.extend(page.holds.into_iter().map(|h| {
            assert!(h.created_at_unix_ms > 0);
            assert_eq!(h.settled_at_unix_ms > 0, h.state() != HoldState::Pending);
            (h.job_id.clone(), h.state())
        }));
        if page.next_page_token.is_empty() {
            return all;
        }
        page_token = page.next_page_token;
    }
}

async fn holds_are_one_line_per_paid_job_paged_and_filtered(backend: Backend) {
    let app = spawn_app(backend).await;
    let mut client = app.client.clone();
    client
        .top_up(top_up(42, 10_000, "money", "admin:1"))
        .await
        .unwrap();
    // Seven jobs: captured, released, pending, in turn (several within one millisecond: the cursor
    // orders by time, then job id).
    let mut jobs = Vec::new();
    for i in 0..7 {
        let job = job_id();
        app.reserve(&job, 42, upscale_2x()).await.unwrap();
        let state = match i % 3 {
            0 => {
                client
                    .capture(CaptureRequest {
                        job_id: job.clone(),
                        amount_minor: None,
                    })
                    .await
                    .unwrap();
                HoldState::Captured
            }
            1 => {
                client
                    .release(ReleaseRequest {
                        job_id: job.clone(),
                    })
                    .await
                    .unwrap();
                HoldState::Released
            }
            _ => HoldState::Pending,
        };
        jobs.push((job, state));
    }
    // Another account's hold never shows up.
    app.reserve(&job_id(), 43, upscale_2x()).await.unwrap();

    let all = listed_holds(&app, 3, HoldState::Unspecified, "").await;
    let mut expected = jobs.clone();
    expected.reverse();
    // Jobs reserved within one millisecond are ordered by job id, not by when they came: compare
    // membership here, and the order through paging below.
    assert_eq!(all.len(), 7);
    for job in &expected {
        assert!(all.contains(job), "{job:?} missing from {all:?}");
    }
    let everything_at_once = listed_holds(&app, 100, HoldState::Unspecified, "").await;
    assert_eq!(
        all, everything_at_once,
        "pages join up without gaps or repeats"
    );

    let pending = listed_holds(&app, 10, HoldState::Pending, "").await;
    let expected_pending: Vec<_> = expected
        .iter()
        .filter(|(_, s)| *s == HoldState::Pending)
        .cloned()
        .collect();
    assert_eq!(pending.len(), expected_pending.len());
    assert!(pending.iter().all(|p| expected_pending.contains(p)));

    // A short job id: its last eight characters find the job, in either case.
    let (wanted, state) = jobs[4].clone();
    let short = &wanted[wanted.len() - 8..];
    assert_eq!(
        listed_holds(&app, 10, HoldState::Unspecified, &short.to_uppercase()).await,
        [(wanted.clone(), state)]
    );
    assert!(
        listed_holds(&app, 10, HoldState::Unspecified, "00000000-0000")
            .await
            .is_empty()
    );
    for bad_suffix in ["ab", "50%", "a_b_c"] {
        let status = client
            .list_holds(ListHoldsRequest {
                account_id: 42,
                job_id_suffix: bad_suffix.into(),
                ..Default::default()
            })
            .await
            .unwrap_err();
        assert_eq!(status.code(), Code::InvalidArgument, "{bad_suffix}");
    }
    let status = client
        .list_holds(ListHoldsRequest {
            account_id: 42,
            page_token: "le1.5".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    assert_ledger_consistent(&app).await;
    app.stop().await;
}
