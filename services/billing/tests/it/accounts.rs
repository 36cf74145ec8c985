//! Accounts: opened on first contact with the welcome credit exactly once; prices; validation; health.

use std::time::Duration;

use futures::future::join_all;
use mediabot_proto::billing::v1::{EntryKind, GetBalanceRequest, ListPricesRequest, Price};
use tonic::Code;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

use crate::helpers::{
    Backend, Options, TestDb, assert_ledger_consistent, eventually, spawn_app, spawn_app_on,
    spawn_app_with,
};
use crate::on_both_backends;

on_both_backends!(
    data_survives_restart,
    ledger_is_insert_only,
    welcome_credit_once,
    welcome_credit_once_under_concurrency,
    settings_and_validation
);

async fn welcome_credit_once(backend: Backend) {
    let app = spawn_app(backend).await;
    let first = app.balance(42).await;
    assert_eq!(
        (first.balance_minor, first.held_minor, first.available_minor),
        (3000, 0, 3000)
    );
    assert_eq!(first.currency, "RUB");
    assert_eq!(app.balance(42).await, first);
    // Reserve on an unknown account opens it too.
    app.reserve("job-a", 43, "speech.transcribe").await.unwrap();
    let other = app.balance(43).await;
    assert_eq!(
        (other.balance_minor, other.held_minor, other.available_minor),
        (3000, 300, 2700)
    );
    for account in [42, 43] {
        let welcomes = app
            .all_operations(account)
            .await
            .into_iter()
            .filter(|o| o.kind == EntryKind::WelcomeCredit as i32)
            .collect::<Vec<_>>();
        assert_eq!(welcomes.len(), 1);
        assert_eq!(welcomes[0].amount_minor, 3000);
    }
    app.stop().await;
}

async fn welcome_credit_once_under_concurrency(backend: Backend) {
    let app = spawn_app(backend).await;
    let calls = (0..20).map(|_| {
        let mut client = app.client.clone();
        async move {
            client
                .get_balance(GetBalanceRequest { account_id: 7 })
                .await
                .unwrap()
                .into_inner()
        }
    });
    for balance in join_all(calls).await {
        assert_eq!(balance.balance_minor, 3000);
    }
    let operations = app.all_operations(7).await;
    assert_eq!(operations.len(), 1, "{operations:?}");
    app.stop().await;
}

async fn settings_and_validation(backend: Backend) {
    let app = spawn_app_with(Options {
        welcome_credit_minor: 0,
        ..Options::new(backend)
    })
    .await;
    assert_eq!(app.balance(5).await.balance_minor, 0);
    assert!(
        app.all_operations(5).await.is_empty(),
        "no welcome entry when the credit is 0"
    );
    let prices = app
        .client
        .clone()
        .list_prices(ListPricesRequest {})
        .await
        .unwrap()
        .into_inner()
        .prices;
    assert_eq!(
        prices,
        vec![
            Price {
                operation: "image.upscale_2x".into(),
                amount_minor: 500,
                currency: "RUB".into()
            },
            Price {
                operation: "speech.transcribe".into(),
                amount_minor: 300,
                currency: "RUB".into()
            },
        ]
    );
    let status = app
        .client
        .clone()
        .get_balance(GetBalanceRequest { account_id: 0 })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    let status = app.reserve("", 5, "image.upscale_2x").await.unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    let status = app.reserve("job", 5, "image.generate").await.unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    assert!(
        status.message().contains("image.generate"),
        "{}",
        status.message()
    );
    app.stop().await;
}

pub(crate) async fn health_status(addr: std::net::SocketAddr) -> ServingStatus {
    let channel = tonic::transport::Endpoint::from_shared(format!("http://{addr}"))
        .unwrap()
        .connect()
        .await
        .unwrap();
    let response = HealthClient::new(channel)
        .check(HealthCheckRequest {
            service: "mediabot.billing.v1.Billing".into(),
        })
        .await
        .unwrap()
        .into_inner();
    ServingStatus::try_from(response.status).unwrap()
}

#[tokio::test]
async fn serving_once_nats_consumer_exists() {
    let app = spawn_app_with(Options {
        nats: true,
        ..Options::new(Backend::Sqlite)
    })
    .await;
    eventually(Duration::from_secs(20), "health SERVING", || async {
        (health_status(app.addr).await == ServingStatus::Serving).then_some(())
    })
    .await;
    app.stop().await;
}

#[tokio::test]
async fn money_calls_work_while_nats_is_down() {
    let app = spawn_app(Backend::Sqlite).await;
    assert_eq!(app.balance(1).await.available_minor, 3000);
    app.reserve("job-1", 1, "image.upscale_2x").await.unwrap();
    assert_eq!(health_status(app.addr).await, ServingStatus::NotServing);
    app.stop().await;
}

async fn data_survives_restart(backend: Backend) {
    let db = TestDb::create(backend).await;
    let app = spawn_app_on(&db, Options::new(backend)).await;
    let hold = app.reserve("job-1", 42, "image.upscale_2x").await.unwrap();
    app.stop().await;
    // Migrations run again on an up-to-date database, and the money is where it was.
    let app = spawn_app_on(&db, Options::new(backend)).await;
    let balance = app.balance(42).await;
    assert_eq!((balance.balance_minor, balance.held_minor), (3000, 500));
    assert_eq!(
        app.reserve("job-1", 42, "image.upscale_2x").await.unwrap(),
        hold
    );
    assert_ledger_consistent(&app).await;
    app.stop().await;
}

async fn ledger_is_insert_only(backend: Backend) {
    let app = spawn_app(backend).await;
    app.balance(42).await;
    let pool = app.ledger.db().pool();
    let update = sqlx::query("UPDATE ledger_entries SET amount_minor = 1000000")
        .execute(pool)
        .await;
    assert!(update.is_err(), "UPDATE must be refused");
    let delete = sqlx::query("DELETE FROM ledger_entries")
        .execute(pool)
        .await;
    assert!(delete.is_err(), "DELETE must be refused");
    assert_eq!(app.all_operations(42).await.len(), 1);
    app.stop().await;
}
