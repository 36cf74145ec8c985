//! TopUp idempotency and ListOperations paging.

use mediabot_proto::billing::v1::{EntryKind, ListOperationsRequest, TopUpRequest};
use tonic::Code;

use crate::helpers::{Backend, assert_ledger_consistent, spawn_app};
use crate::on_both_backends;

on_both_backends!(top_up_is_idempotent, operations_are_paged_newest_first);

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
