//! API keys of the HTTP API: issued for an account (opening it), resolved to it, replaced by the next
//! issue, revoked; only their SHA-256 is stored; the `billing api-key` command does the same on the
//! database directly.

use mediabot_proto::billing::v1::{IssueApiKeyRequest, ResolveApiKeyRequest, RevokeApiKeysRequest};
use sqlx::Row;
use tonic::Code;

use crate::helpers::{Backend, spawn_app};
use crate::on_both_backends;

on_both_backends!(keys_are_issued_resolved_replaced_and_revoked);

async fn keys_are_issued_resolved_replaced_and_revoked(backend: Backend) {
    let app = spawn_app(backend).await;
    let mut client = app.client.clone();
    let issued = client
        .issue_api_key(IssueApiKeyRequest { account_id: 501 })
        .await
        .unwrap()
        .into_inner();
    assert!(
        issued.api_key.starts_with("mb_") && issued.api_key.len() == 67,
        "{issued:?}"
    );
    assert!(issued.api_key.starts_with(&issued.prefix));
    assert_eq!(issued.revoked, 0);
    // The account was opened with its welcome credit.
    assert_eq!(app.balance(501).await.balance_minor, 3000);

    let resolver = client.clone();
    let resolve = |key: String| {
        let mut client = resolver.clone();
        async move {
            client
                .resolve_api_key(ResolveApiKeyRequest { api_key: key })
                .await
                .map(|r| r.into_inner().account_id)
                .map_err(|s| s.code())
        }
    };
    assert_eq!(resolve(issued.api_key.clone()).await, Ok(501));
    assert_eq!(
        resolve(format!("mb_{}", "0".repeat(64))).await,
        Err(Code::NotFound)
    );
    assert_eq!(
        resolve("sk-proj-123".into()).await,
        Err(Code::InvalidArgument)
    );

    // Only the hash is stored.
    let rows = sqlx::query("SELECT key_sha256 FROM api_keys")
        .fetch_all(app.ledger.db().pool())
        .await
        .unwrap();
    assert_eq!(rows.len(), 1);
    let stored: String = rows[0].try_get(0).unwrap();
    assert_eq!(stored.len(), 64);
    assert!(!issued.api_key.contains(&stored));

    // A new key replaces the old one.
    let second = client
        .issue_api_key(IssueApiKeyRequest { account_id: 501 })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(second.revoked, 1);
    assert_eq!(resolve(issued.api_key.clone()).await, Err(Code::NotFound));
    assert_eq!(resolve(second.api_key.clone()).await, Ok(501));

    let revoked = client
        .revoke_api_keys(RevokeApiKeysRequest { account_id: 501 })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(revoked.revoked, 1);
    assert_eq!(resolve(second.api_key).await, Err(Code::NotFound));
    let bad = client
        .issue_api_key(IssueApiKeyRequest { account_id: 0 })
        .await
        .unwrap_err();
    assert_eq!(bad.code(), Code::InvalidArgument);

    // The operator's command, on the same database beside the running service.
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_billing"))
        .args(["api-key", "issue", "--account", "502"])
        .env("DATABASE_URL", app.db().url())
        .output()
        .await
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let key = String::from_utf8(output.stdout).unwrap().trim().to_string();
    assert_eq!(resolve(key).await, Ok(502));
}
