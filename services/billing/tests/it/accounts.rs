//! Accounts: opened on first contact with the welcome credit exactly once; prices; validation; health.

use std::time::Duration;

use futures::future::join_all;
use mediabot_proto::billing::v1::{
    EntryKind, GetBalanceRequest, ListPricesRequest, Price, PriceUnit,
};
use mediabot_proto::jobs::v1::Operation;
use tonic::Code;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

use crate::helpers::{
    Backend, Options, TestDb, assert_ledger_consistent, eventually, job_id, spawn_app,
    spawn_app_on, spawn_app_with, transcribe, upscale_2x,
};
use crate::on_both_backends;

on_both_backends!(
    data_survives_restart,
    ledger_is_insert_only,
    welcome_credit_once,
    welcome_credit_once_under_concurrency,
    settings_and_validation,
    built_in_prices
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
    app.reserve(&job_id(), 43, transcribe()).await.unwrap();
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

/// A price list file for tests: a per-job price by parameter and a per-parameter multiplier.
const TEST_PRICES: &str = r#"
prices = [
  { operation = "image.upscale", params = { factor = "2" }, amount_minor = 700 },
  { operation = "speech.transcribe", amount_minor = 100, unit = "started_minute", multiplier = { language = { ru = 1, en = 2.5 } } },
]
"#;

async fn settings_and_validation(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let prices_file = dir.path().join("prices.toml");
    std::fs::write(&prices_file, TEST_PRICES).unwrap();
    let app = spawn_app_with(Options {
        welcome_credit_minor: 0,
        prices_file: Some(prices_file),
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
    let price = |operation: &str, param: (&str, &str), amount_minor, unit: PriceUnit| Price {
        operation: operation.into(),
        amount_minor,
        currency: "RUB".into(),
        params: [(param.0.to_string(), param.1.to_string())].into(),
        unit: unit as i32,
    };
    assert_eq!(
        prices,
        vec![
            price("image.upscale", ("factor", "2"), 700, PriceUnit::Job),
            price(
                "speech.transcribe",
                ("language", "en"),
                250,
                PriceUnit::StartedMinute
            ),
            price(
                "speech.transcribe",
                ("language", "ru"),
                100,
                PriceUnit::StartedMinute
            ),
        ]
    );
    let status = app
        .client
        .clone()
        .get_balance(GetBalanceRequest { account_id: 0 })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    app.client
        .clone()
        .top_up(mediabot_proto::billing::v1::TopUpRequest {
            account_id: 5,
            amount_minor: 10_000,
            idempotency_key: "validation".into(),
            source: "admin:1".into(),
        })
        .await
        .unwrap();
    // The loaded prices are the ones charged.
    let en = app
        .reserve_audio(&job_id(), 5, Operation::transcribe("en"), 90_000)
        .await
        .unwrap();
    assert_eq!(en.amount_minor, 500);
    assert_eq!(
        app.reserve(&job_id(), 5, upscale_2x())
            .await
            .unwrap()
            .amount_minor,
        700
    );
    // Bad requests: INVALID_ARGUMENT with a field violation, and nothing held.
    let field_of = |status: &tonic::Status| {
        use tonic_types::StatusExt as _;
        let details = status.get_error_details();
        let violations = &details.bad_request().expect("BadRequest").field_violations;
        violations[0].field.clone()
    };
    let cases = [
        ("".to_string(), upscale_2x(), "job_id", "job_id"),
        ("job-1".to_string(), upscale_2x(), "job_id", "UUID"),
        (job_id(), Operation::default(), "operation", "no operation"),
        (job_id(), Operation::upscale(3), "operation", "factor"),
        (
            job_id(),
            Operation::transcribe("russian"),
            "operation",
            "language",
        ),
        // Valid, but this price list has no entry for it.
        (
            job_id(),
            Operation::transcribe("de"),
            "operation",
            "speech.transcribe language=de",
        ),
    ];
    for (job, operation, field, words) in cases {
        let status = app.reserve(&job, 5, operation).await.unwrap_err();
        assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
        assert_eq!(field_of(&status), field, "{status:?}");
        assert!(status.message().contains(words), "{}", status.message());
    }
    let missing = app
        .client
        .clone()
        .reserve(mediabot_proto::billing::v1::ReserveRequest {
            job_id: job_id(),
            account_id: 5,
            operation: None,
            audio_duration_ms: 0,
        })
        .await
        .unwrap_err();
    assert_eq!(missing.code(), Code::InvalidArgument);
    assert_eq!(app.balance(5).await.held_minor, 1200);
    assert_ledger_consistent(&app).await;
    app.stop().await;
}

/// The shipped price list is what billing charges when no file is given.
async fn built_in_prices(backend: Backend) {
    let app = spawn_app(backend).await;
    let prices = app
        .client
        .clone()
        .list_prices(ListPricesRequest {})
        .await
        .unwrap()
        .into_inner()
        .prices;
    let upscale = prices
        .iter()
        .find(|p| {
            p.operation == "image.upscale"
                && p.params.get("factor").map(String::as_str) == Some("2")
        })
        .expect("image.upscale factor=2 is priced");
    assert_eq!(
        (upscale.amount_minor, upscale.unit()),
        (500, PriceUnit::Job)
    );
    let transcribe = prices
        .iter()
        .find(|p| p.operation == "speech.transcribe" && p.params.is_empty())
        .expect("speech.transcribe is priced");
    assert_eq!(
        (
            transcribe.amount_minor,
            transcribe.unit(),
            transcribe.currency.as_str()
        ),
        (300, PriceUnit::StartedMinute, "RUB")
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
    app.reserve(&job_id(), 1, upscale_2x()).await.unwrap();
    assert_eq!(health_status(app.addr).await, ServingStatus::NotServing);
    app.stop().await;
}

async fn data_survives_restart(backend: Backend) {
    let db = TestDb::create(backend).await;
    let app = spawn_app_on(&db, Options::new(backend)).await;
    let job = job_id();
    let hold = app.reserve(&job, 42, upscale_2x()).await.unwrap();
    app.stop().await;
    // Migrations run again on an up-to-date database, and the money is where it was.
    let app = spawn_app_on(&db, Options::new(backend)).await;
    let balance = app.balance(42).await;
    assert_eq!((balance.balance_minor, balance.held_minor), (3000, 500));
    assert_eq!(app.reserve(&job, 42, upscale_2x()).await.unwrap(), hold);
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
