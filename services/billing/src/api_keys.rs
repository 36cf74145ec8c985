//! API keys of the gateway's HTTP API. A key names a billing account, so API use is paid from the same
//! balance as the bot's. A key is `mb_` and 64 hex digits (256 random bits from the OS through UUIDv4s);
//! billing stores only its SHA-256, so a copy of the database opens no account. An account has at most
//! one valid key: issuing a new one revokes the older ones (a lost or leaked key is replaced with
//! `/apikey` in the bot, or `billing api-key issue` by an operator).

use sha2::{Digest, Sha256};
use sqlx::Row;
use tracing::instrument;

use service_runtime::now_unix_ms;

use crate::domain::{AccountId, InvalidInput};
use crate::ledger::{Ledger, Result};

/// What every key starts with.
pub const KEY_PREFIX: &str = "mb_";
/// Characters of a key shown as its name (`mb_` and 8 hex digits).
const SHOWN_CHARS: usize = KEY_PREFIX.len() + 8;

/// A key as presented by a client: `mb_` and 64 lower-case hex digits.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey(String);

impl std::fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ApiKey({}…)", self.prefix())
    }
}

impl ApiKey {
    /// Validates the shape of a key. Errors: [`InvalidInput`] on `api_key`.
    pub fn parse(raw: &str) -> Result<Self, InvalidInput> {
        let raw = raw.trim();
        let ok = raw
            .strip_prefix(KEY_PREFIX)
            .is_some_and(|hex| hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()));
        if ok {
            Ok(Self(raw.to_ascii_lowercase()))
        } else {
            Err(InvalidInput::new(
                "api_key",
                "must be mb_ followed by 64 hex digits",
            ))
        }
    }

    /// A new random key.
    pub fn generate() -> Self {
        let a = uuid::Uuid::new_v4().simple().to_string();
        let b = uuid::Uuid::new_v4().simple().to_string();
        Self(format!("{KEY_PREFIX}{a}{b}"))
    }

    /// The key itself, to hand to its owner once.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Its first characters, safe to show and log.
    pub fn prefix(&self) -> &str {
        self.0.get(..SHOWN_CHARS).unwrap_or(&self.0)
    }

    /// What is stored: the SHA-256 of the key, hex.
    pub fn sha256_hex(&self) -> String {
        Sha256::digest(self.0.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }
}

/// A key just issued.
#[derive(Debug, Clone)]
pub struct IssuedKey {
    /// The key (shown once).
    pub key: ApiKey,
    /// Older keys of the account revoked by issuing it.
    pub revoked: u64,
}

impl Ledger {
    /// Issues a new key for `account` (opening the account on first contact) and revokes its older keys.
    #[instrument(skip_all, fields(account_id = %account), err(level = "debug"))]
    pub async fn issue_api_key(&self, account: AccountId) -> Result<IssuedKey> {
        self.balance(account).await?;
        let key = ApiKey::generate();
        let now = now_unix_ms();
        let mut tx = self.db().begin_write().await?;
        let revoked = sqlx::query(
            "UPDATE api_keys SET revoked_at_ms = $2 WHERE account_id = $1 AND revoked_at_ms IS NULL",
        )
        .bind(account.get())
        .bind(now)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        sqlx::query(
            "INSERT INTO api_keys (key_sha256, account_id, prefix, created_at_ms) VALUES ($1, $2, $3, $4)",
        )
        .bind(key.sha256_hex())
        .bind(account.get())
        .bind(key.prefix())
        .bind(now)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        tracing::info!(prefix = key.prefix(), revoked, "API key issued");
        Ok(IssuedKey { key, revoked })
    }

    /// The account of a valid key and the key's prefix; `None` for an unknown or revoked key.
    #[instrument(skip_all, fields(prefix = key.prefix()), err(level = "debug"))]
    pub async fn resolve_api_key(&self, key: &ApiKey) -> Result<Option<(i64, String)>> {
        let row = sqlx::query(
            "SELECT account_id, prefix FROM api_keys WHERE key_sha256 = $1 AND revoked_at_ms IS NULL",
        )
        .bind(key.sha256_hex())
        .fetch_optional(self.db().pool())
        .await?;
        match row {
            Some(row) => Ok(Some((row.try_get(0)?, row.try_get(1)?))),
            None => Ok(None),
        }
    }

    /// Revokes every valid key of `account`; answers how many there were.
    #[instrument(skip_all, fields(account_id = %account), err(level = "debug"))]
    pub async fn revoke_api_keys(&self, account: AccountId) -> Result<u64> {
        let mut tx = self.db().begin_write().await?;
        let revoked = sqlx::query(
            "UPDATE api_keys SET revoked_at_ms = $2 WHERE account_id = $1 AND revoked_at_ms IS NULL",
        )
        .bind(account.get())
        .bind(now_unix_ms())
        .execute(&mut *tx)
        .await?
        .rows_affected();
        tx.commit().await?;
        tracing::info!(revoked, "API keys revoked");
        Ok(revoked)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_have_one_shape_and_hash_to_hex() {
        let key = ApiKey::generate();
        assert_eq!(key.expose().len(), 67);
        assert_eq!(ApiKey::parse(key.expose()).ok(), Some(key.clone()));
        assert_eq!(key.prefix().len(), 11);
        assert_eq!(key.sha256_hex().len(), 64);
        assert_ne!(ApiKey::generate(), key);
        assert!(ApiKey::parse("sk-abc").is_err());
        assert!(ApiKey::parse(&format!("mb_{}", "g".repeat(64))).is_err());
        assert!(!format!("{key:?}").contains(key.expose()));
    }
}
