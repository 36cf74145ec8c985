//! Billing's domain types: validated identifiers, the price list, holds, ledger entries and balances.
//! gRPC handlers turn protobuf requests into these (rejecting bad input with [`InvalidInput`]) before
//! anything touches the database.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

/// A request field that failed validation (→ INVALID_ARGUMENT with a field violation).
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
#[error("{field}: {reason}")]
pub struct InvalidInput {
    /// The protobuf field name.
    pub field: &'static str,
    /// Why it was rejected.
    pub reason: String,
}

impl InvalidInput {
    /// A violation of `field`.
    pub fn new(field: &'static str, reason: impl Into<String>) -> Self {
        Self {
            field,
            reason: reason.into(),
        }
    }
}

/// A Telegram user id, the key of an account. Positive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AccountId(i64);

impl AccountId {
    /// Validates a Telegram user id (must be positive).
    pub fn parse(id: i64) -> Result<Self, InvalidInput> {
        if id > 0 {
            Ok(Self(id))
        } else {
            Err(InvalidInput::new(
                "account_id",
                "must be a positive Telegram user id",
            ))
        }
    }

    /// The raw id.
    pub fn get(self) -> i64 {
        self.0
    }
}

impl fmt::Display for AccountId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// Longest accepted job id or idempotency key, in bytes (a UUID is 36).
pub const MAX_KEY_LEN: usize = 128;

fn parse_key(field: &'static str, key: &str) -> Result<String, InvalidInput> {
    if key.is_empty() {
        return Err(InvalidInput::new(field, "must not be empty"));
    }
    if key.len() > MAX_KEY_LEN {
        return Err(InvalidInput::new(
            field,
            format!("at most {MAX_KEY_LEN} bytes"),
        ));
    }
    if key.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err(InvalidInput::new(
            field,
            "must not contain whitespace or control characters",
        ));
    }
    Ok(key.to_string())
}

/// A job id (normally a UUID): the idempotency key of a hold.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct JobId(String);

impl JobId {
    /// Validates a job id: 1..=128 bytes, no whitespace or control characters.
    pub fn parse(id: &str) -> Result<Self, InvalidInput> {
        parse_key("job_id", id).map(Self)
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for JobId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The idempotency key of a top-up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    /// Validates a key: 1..=128 bytes, no whitespace or control characters.
    pub fn parse(key: &str) -> Result<Self, InvalidInput> {
        parse_key("idempotency_key", key).map(Self)
    }

    /// The key as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A positive amount of money in minor units (kopecks).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PositiveAmount(i64);

impl PositiveAmount {
    /// Validates `amount_minor > 0`.
    pub fn parse(field: &'static str, amount_minor: i64) -> Result<Self, InvalidInput> {
        if amount_minor > 0 {
            Ok(Self(amount_minor))
        } else {
            Err(InvalidInput::new(field, "must be positive (minor units)"))
        }
    }

    /// Minor units.
    pub fn get(self) -> i64 {
        self.0
    }
}

/// One `OPERATION=AMOUNT_MINOR` price setting, as given on the command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PriceSetting {
    /// Operation name, e.g. `image.upscale_2x`.
    pub operation: String,
    /// Price in minor units (0 = free, but still held and recorded).
    pub amount_minor: i64,
}

impl FromStr for PriceSetting {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (operation, amount) = s
            .split_once('=')
            .ok_or_else(|| format!("expected OPERATION=AMOUNT_MINOR, got {s:?}"))?;
        let operation = operation.trim();
        if operation.is_empty()
            || operation
                .chars()
                .any(|c| c.is_whitespace() || c.is_control())
        {
            return Err(format!("bad operation name in {s:?}"));
        }
        let amount_minor: i64 = amount
            .trim()
            .parse()
            .map_err(|_| format!("bad amount (integer minor units) in {s:?}"))?;
        if amount_minor < 0 {
            return Err(format!("negative price in {s:?}"));
        }
        Ok(Self {
            operation: operation.to_string(),
            amount_minor,
        })
    }
}

/// The price list: operation name → price in minor units, in one currency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prices {
    by_operation: BTreeMap<String, i64>,
}

impl Prices {
    /// Builds the list; an operation named twice is an error.
    pub fn new(settings: &[PriceSetting]) -> Result<Self, String> {
        let mut by_operation = BTreeMap::new();
        for s in settings {
            if by_operation
                .insert(s.operation.clone(), s.amount_minor)
                .is_some()
            {
                return Err(format!("operation {:?} is priced twice", s.operation));
            }
        }
        Ok(Self { by_operation })
    }

    /// The price of `operation` in minor units, if it is a paid operation.
    pub fn get(&self, operation: &str) -> Option<i64> {
        self.by_operation.get(operation).copied()
    }

    /// Every (operation, price in minor units), sorted by operation name.
    pub fn iter(&self) -> impl Iterator<Item = (&str, i64)> {
        self.by_operation.iter().map(|(k, v)| (k.as_str(), *v))
    }
}

/// Where a hold is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HoldState {
    /// Money held, not yet settled.
    Pending,
    /// Settled: `captured_minor` taken, the rest returned.
    Captured,
    /// Settled: everything returned by a Release (or a failed job).
    Released,
    /// Settled: everything returned because nobody settled it before `expires_at`.
    Expired,
}

impl HoldState {
    /// The name stored in the `holds.state` column.
    pub fn as_db(self) -> &'static str {
        match self {
            HoldState::Pending => "pending",
            HoldState::Captured => "captured",
            HoldState::Released => "released",
            HoldState::Expired => "expired",
        }
    }

    /// Parses the `holds.state` column.
    pub fn from_db(s: &str) -> Option<Self> {
        Some(match s {
            "pending" => HoldState::Pending,
            "captured" => HoldState::Captured,
            "released" => HoldState::Released,
            "expired" => HoldState::Expired,
            _ => return None,
        })
    }
}

impl fmt::Display for HoldState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_db())
    }
}

/// A hold as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hold {
    /// The job id (idempotency key).
    pub job_id: String,
    /// The account the money is held on.
    pub account_id: i64,
    /// The priced operation.
    pub operation: String,
    /// Amount held at reserve time, minor units.
    pub amount_minor: i64,
    /// Amount captured, minor units (0 unless captured).
    pub captured_minor: i64,
    /// Current state.
    pub state: HoldState,
    /// When reserved, ms since the Unix epoch (UTC).
    pub created_at_ms: i64,
    /// When it lapses if not settled, ms since the Unix epoch (UTC).
    pub expires_at_ms: i64,
    /// When settled (captured, released or expired), ms since the Unix epoch (UTC).
    pub settled_at_ms: Option<i64>,
}

/// A hold together with the account's available balance right after the call that returned it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HoldOutcome {
    /// The hold.
    pub hold: Hold,
    /// `balance − held` of the hold's account, minor units.
    pub available_minor: i64,
}

/// An account's money, minor units.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Balance {
    /// The account (Telegram user id).
    pub account_id: i64,
    /// Sum of the ledger entries.
    pub balance_minor: i64,
    /// Sum of pending holds.
    pub held_minor: i64,
}

impl Balance {
    /// `balance − held`, never negative.
    pub fn available_minor(&self) -> i64 {
        (self.balance_minor - self.held_minor).max(0)
    }
}

/// What a ledger entry records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryKind {
    /// The one-off credit of a new account.
    WelcomeCredit,
    /// Money paid in.
    TopUp,
    /// A hold was placed (amount 0: holds do not change the balance).
    Hold,
    /// Held money was taken (negative amount).
    Capture,
    /// A hold (or the uncaptured part of one) was returned (amount 0).
    Release,
    /// A hold lapsed and was returned (amount 0).
    Expiry,
    /// Money given back after a capture (positive amount).
    Refund,
    /// A manual correction by an operator (either sign).
    Adjustment,
}

impl EntryKind {
    /// The name stored in the `ledger_entries.kind` column.
    pub fn as_db(self) -> &'static str {
        match self {
            EntryKind::WelcomeCredit => "welcome_credit",
            EntryKind::TopUp => "top_up",
            EntryKind::Hold => "hold",
            EntryKind::Capture => "capture",
            EntryKind::Release => "release",
            EntryKind::Expiry => "expiry",
            EntryKind::Refund => "refund",
            EntryKind::Adjustment => "adjustment",
        }
    }

    /// Parses the `ledger_entries.kind` column.
    pub fn from_db(s: &str) -> Option<Self> {
        Some(match s {
            "welcome_credit" => EntryKind::WelcomeCredit,
            "top_up" => EntryKind::TopUp,
            "hold" => EntryKind::Hold,
            "capture" => EntryKind::Capture,
            "release" => EntryKind::Release,
            "expiry" => EntryKind::Expiry,
            "refund" => EntryKind::Refund,
            "adjustment" => EntryKind::Adjustment,
            _ => return None,
        })
    }
}

/// One immutable ledger entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Entry id (increasing).
    pub id: i64,
    /// What it records.
    pub kind: EntryKind,
    /// Signed change of the balance, minor units.
    pub amount_minor: i64,
    /// Job id or idempotency key.
    pub reference: String,
    /// Operation name or top-up source.
    pub description: String,
    /// When written, ms since the Unix epoch (UTC).
    pub created_at_ms: i64,
}

/// A page of ledger entries, newest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryPage {
    /// The entries.
    pub entries: Vec<Entry>,
    /// Cursor for the next (older) page; `None` when there is none.
    pub next: Option<PageCursor>,
}

/// Where a page of ledger entries starts: entries with ids below this one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageCursor(pub i64);

impl PageCursor {
    const PREFIX: &'static str = "le1.";

    /// The opaque token clients pass back.
    pub fn to_token(self) -> String {
        format!("{}{:x}", Self::PREFIX, self.0)
    }

    /// Parses a token from [`to_token`](Self::to_token); empty means "the newest page" (`None`).
    pub fn from_token(token: &str) -> Result<Option<Self>, InvalidInput> {
        if token.is_empty() {
            return Ok(None);
        }
        token
            .strip_prefix(Self::PREFIX)
            .and_then(|hex| i64::from_str_radix(hex, 16).ok())
            .filter(|id| *id > 0)
            .map(|id| Some(Self(id)))
            .ok_or_else(|| InvalidInput::new("page_token", "not a token from a previous response"))
    }
}

/// Default number of entries per page.
pub const DEFAULT_PAGE_SIZE: u32 = 20;
/// Largest page.
pub const MAX_PAGE_SIZE: u32 = 100;

/// Clamps a requested page size: 0 means the default, anything above the maximum is the maximum.
pub fn page_size(requested: u32) -> u32 {
    match requested {
        0 => DEFAULT_PAGE_SIZE,
        n => n.min(MAX_PAGE_SIZE),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn price_settings_parse() {
        let p: PriceSetting = "image.upscale_2x=500".parse().unwrap();
        assert_eq!(
            p,
            PriceSetting {
                operation: "image.upscale_2x".into(),
                amount_minor: 500
            }
        );
        assert!("x".parse::<PriceSetting>().is_err());
        assert!("x=-1".parse::<PriceSetting>().is_err());
        assert!("=1".parse::<PriceSetting>().is_err());
        assert!(Prices::new(&[p.clone(), p]).is_err());
    }

    #[test]
    fn page_tokens_round_trip() {
        assert_eq!(
            PageCursor::from_token(&PageCursor(12345).to_token()),
            Ok(Some(PageCursor(12345)))
        );
        assert_eq!(PageCursor::from_token(""), Ok(None));
        assert!(PageCursor::from_token("garbage").is_err());
        assert_eq!(page_size(0), 20);
        assert_eq!(page_size(1000), 100);
    }
}
