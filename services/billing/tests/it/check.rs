//! `billing check`, run as the real binary's subcommand: it passes on a ledger the service wrote, and
//! on a deliberately corrupted one it exits 1 and names each broken account (and job).

use mediabot_proto::billing::v1::{CaptureRequest, ReleaseRequest, TopUpRequest};

use crate::helpers::{
    Backend, Options, TestDb, job_id, run_check, spawn_app_on, transcribe, upscale_2x,
};
use crate::on_both_backends;

on_both_backends!(
    check_passes_on_a_used_ledger,
    check_names_corrupted_accounts
);

/// Reserve, capture (whole and partial), release and top up on a few accounts.
async fn use_ledger(app: &crate::helpers::TestApp, account_id: i64) -> (String, String) {
    let (captured, released) = (job_id(), job_id());
    app.reserve(&captured, account_id, upscale_2x())
        .await
        .unwrap();
    app.client
        .clone()
        .capture(CaptureRequest {
            job_id: captured.clone(),
            amount_minor: Some(200),
        })
        .await
        .unwrap();
    app.reserve(&released, account_id, transcribe())
        .await
        .unwrap();
    app.client
        .clone()
        .release(ReleaseRequest {
            job_id: released.clone(),
        })
        .await
        .unwrap();
    app.client
        .clone()
        .top_up(TopUpRequest {
            account_id,
            amount_minor: 10_000,
            idempotency_key: format!("check-{account_id}"),
            source: "admin:1".into(),
        })
        .await
        .unwrap();
    (captured, released)
}

async fn check_passes_on_a_used_ledger(backend: Backend) {
    let db = TestDb::create(backend).await;
    let app = spawn_app_on(&db, Options::new(backend)).await;
    for account in [42, 43] {
        use_ledger(&app, account).await;
    }
    // A pending hold (not yet due) is fine.
    app.reserve(&job_id(), 44, upscale_2x()).await.unwrap();
    // Beside the running service.
    let (code, out) = run_check(db.url()).await;
    assert_eq!(code, 0, "{out}");
    assert!(
        out.trim()
            .starts_with("ledger ok: 3 accounts, 5 holds (1 pending)"),
        "{out}"
    );
    app.stop().await;
}

async fn check_names_corrupted_accounts(backend: Backend) {
    let db = TestDb::create(backend).await;
    let app = spawn_app_on(&db, Options::new(backend)).await;
    let mut jobs = Vec::new();
    for account in [42, 43, 44, 45, 46] {
        jobs.push(use_ledger(&app, account).await);
    }
    let overdue = job_id();
    app.reserve(&overdue, 46, upscale_2x()).await.unwrap();
    app.stop().await;

    let raw = billing::db::Db::open(db.url(), 1).await.unwrap();
    let pool = raw.pool();
    let run = |sql: String| async move {
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .execute(pool)
            .await
            .unwrap();
    };
    // 43: the stored balance edited.
    run("UPDATE accounts SET balance_minor = balance_minor + 100 WHERE id = 43".into()).await;
    // 44: a captured hold marked released too (two final states).
    run(format!(
        "UPDATE holds SET state = 'released', captured_minor = 0 WHERE job_id = '{}'",
        jobs[2].0
    ))
    .await;
    // 45: a ledger entry deleted behind the append-only trigger's back.
    let (disable, enable) = match backend {
        Backend::Postgres => (
            vec!["ALTER TABLE ledger_entries DISABLE TRIGGER ledger_entries_no_change"],
            vec!["ALTER TABLE ledger_entries ENABLE TRIGGER ledger_entries_no_change"],
        ),
        Backend::Sqlite => (
            vec!["DROP TRIGGER ledger_entries_no_delete"],
            vec![
                "CREATE TRIGGER ledger_entries_no_delete BEFORE DELETE ON ledger_entries \
                 BEGIN SELECT RAISE(ABORT, 'ledger entries are immutable'); END",
            ],
        ),
    };
    for sql in disable {
        run(sql.into()).await;
    }
    run("DELETE FROM ledger_entries WHERE account_id = 45 AND kind = 'top_up'".into()).await;
    for sql in enable {
        run(sql.into()).await;
    }
    // 46: a pending hold an hour past its expiry (no sweeper ran).
    let hour_ago = service_runtime::now_unix_ms() - 3_600_000;
    run(format!(
        "UPDATE holds SET expires_at_ms = {hour_ago} WHERE job_id = '{overdue}'"
    ))
    .await;
    raw.close().await;

    let (code, out) = run_check(db.url()).await;
    assert_eq!(code, 1, "{out}");
    let lines: Vec<&str> = out.lines().collect();
    let about = |prefix: &str| lines.iter().filter(|l| l.starts_with(prefix)).count();
    assert_eq!(about("account 42"), 0, "{out}");
    assert!(about("account 43: stored balance") == 1, "{out}");
    assert!(
        about(&format!("account 44, job {}: state released", jobs[2].0)) == 1,
        "{out}"
    );
    assert!(about("account 45: stored balance") == 1, "{out}");
    assert!(
        about(&format!("account 46, job {overdue}: still pending")) == 1,
        "{out}"
    );
    assert!(
        lines.last().unwrap().starts_with("ledger check FAILED"),
        "{out}"
    );
}
