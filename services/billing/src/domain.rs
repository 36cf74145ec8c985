//! Billing's domain types: validated identifiers and operations, holds, ledger entries and balances.
//! gRPC handlers turn protobuf requests into these (rejecting bad input with [`InvalidInput`]) before
//! anything touches the database.

use std::fmt;

use mediabot_proto::catalog::InvalidOperation;
use mediabot_proto::jobs::v1::Operation;

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

/// Longest accepted idempotency key, in bytes.
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

/// A job id: the idempotency key of a hold. A thin wrapper around the system's one job-id parser,
/// [`mediabot_proto::JobId`] (a UUID, kept in canonical lower-case hyphenated form), whose errors it
/// turns into a field violation of `job_id`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct JobId(mediabot_proto::JobId);

impl JobId {
    /// Parses a job id (any UUID spelling). Errors: [`InvalidInput`] on `job_id`.
    pub fn parse(id: &str) -> Result<Self, InvalidInput> {
        mediabot_proto::JobId::parse(id).map(Self).map_err(|_| {
            InvalidInput::new(
                "job_id",
                "must be a UUID such as 67e55044-10b1-426f-9247-bb680e5fe0c8",
            )
        })
    }

    /// The id as text (canonical form).
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }
}

impl fmt::Display for JobId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0.as_str())
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

/// A paid operation whose parameters are valid (the catalog's [`Operation::validate`]): what Reserve
/// buys. Its [`key`](Self::key) (`image.upscale factor=2`) is what a hold records.
#[derive(Debug, Clone, PartialEq)]
pub struct ValidOperation(Operation);

impl ValidOperation {
    /// Validates the request's `operation` field: it must be set, name an operation this build knows,
    /// and carry valid parameters.
    pub fn parse(operation: Option<Operation>) -> Result<Self, InvalidInput> {
        let operation = operation.ok_or_else(|| InvalidInput::new("operation", "must be set"))?;
        match operation.validate() {
            Ok(()) => Ok(Self(operation)),
            Err(InvalidOperation::Missing) => Err(InvalidInput::new(
                "operation",
                "no operation set (or one this billing does not know)",
            )),
            Err(error @ InvalidOperation::Param { .. }) => {
                Err(InvalidInput::new("operation", error.to_string()))
            }
        }
    }

    /// The operation.
    pub fn get(&self) -> &Operation {
        &self.0
    }

    /// Its id with its parameters, e.g. `image.upscale factor=2`.
    pub fn key(&self) -> String {
        self.0.key()
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

/// A page of holds (paid operations), newest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HoldPage {
    /// The holds.
    pub holds: Vec<Hold>,
    /// Cursor for the next (older) page; `None` when there is none.
    pub next: Option<HoldCursor>,
}

/// Where a page of holds starts: holds placed before this one (by `created_at_ms`, then job id).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HoldCursor {
    /// The last listed hold's `created_at_ms`.
    pub created_at_ms: i64,
    /// The last listed hold's job id.
    pub job_id: String,
}

impl HoldCursor {
    const PREFIX: &'static str = "ho1.";

    /// The opaque token clients pass back: `ho1.<created_at_ms in hex>.<job id>`.
    pub fn to_token(&self) -> String {
        format!("{}{:x}.{}", Self::PREFIX, self.created_at_ms, self.job_id)
    }

    /// Parses a token from [`to_token`](Self::to_token); empty means "the newest page" (`None`).
    pub fn from_token(token: &str) -> Result<Option<Self>, InvalidInput> {
        if token.is_empty() {
            return Ok(None);
        }
        token
            .strip_prefix(Self::PREFIX)
            .and_then(|rest| rest.split_once('.'))
            .and_then(|(ms, job_id)| {
                let created_at_ms = i64::from_str_radix(ms, 16).ok()?;
                (!job_id.is_empty() && job_id.len() <= 64).then(|| Self {
                    created_at_ms,
                    job_id: job_id.to_string(),
                })
            })
            .map(Some)
            .ok_or_else(|| InvalidInput::new("page_token", "not a token from a previous response"))
    }
}

/// Which holds a listing returns.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HoldFilter {
    /// Only holds in this state; `None`: every state.
    pub state: Option<HoldState>,
    /// Only holds whose job id ends with this (validated by [`HoldFilter::job_id_suffix`]).
    pub job_id_suffix: Option<String>,
}

impl HoldFilter {
    /// A job id suffix as a filter: 4 to 36 lower-case hex digits and '-' (a short job id as users see
    /// it, or a whole one); empty means none. Upper case is folded.
    pub fn job_id_suffix(raw: &str) -> Result<Option<String>, InvalidInput> {
        let suffix = raw.trim().to_ascii_lowercase();
        if suffix.is_empty() {
            return Ok(None);
        }
        let valid = (4..=36).contains(&suffix.len())
            && suffix.chars().all(|c| c.is_ascii_hexdigit() || c == '-');
        if valid {
            Ok(Some(suffix))
        } else {
            Err(InvalidInput::new(
                "job_id_suffix",
                "4 to 36 hex digits and '-', the end of a job id",
            ))
        }
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
    fn job_ids_and_operations_parse() {
        let job = JobId::parse("6F9619FF-8B86-D011-B42D-00C04FC964FF").unwrap();
        assert_eq!(job.as_str(), "6f9619ff-8b86-d011-b42d-00c04fc964ff");
        assert_eq!(JobId::parse("job-1").unwrap_err().field, "job_id");
        assert_eq!(JobId::parse("").unwrap_err().field, "job_id");
        let upscale = ValidOperation::parse(Some(Operation::upscale(2))).unwrap();
        assert_eq!(upscale.key(), "image.upscale factor=2");
        let bad = ValidOperation::parse(Some(Operation::upscale(3))).unwrap_err();
        assert_eq!(bad.field, "operation");
        assert!(bad.reason.contains("factor"), "{bad}");
        assert!(ValidOperation::parse(None).is_err());
        assert!(ValidOperation::parse(Some(Operation::default())).is_err());
    }

    #[test]
    fn page_tokens_round_trip() {
        assert_eq!(
            PageCursor::from_token(&PageCursor(12345).to_token()),
            Ok(Some(PageCursor(12345)))
        );
        assert_eq!(PageCursor::from_token(""), Ok(None));
        let cursor = HoldCursor {
            created_at_ms: 1_765_000_000_123,
            job_id: "0190c2d4-5b6a-7c8d-9e0f-a1b2c3d4e5f6".into(),
        };
        assert_eq!(HoldCursor::from_token(&cursor.to_token()), Ok(Some(cursor)));
        assert_eq!(HoldCursor::from_token(""), Ok(None));
        assert!(HoldCursor::from_token("le1.12").is_err());
        assert!(HoldCursor::from_token("ho1.zz.x").is_err());
        assert_eq!(
            HoldFilter::job_id_suffix(" C3D4E5F6 "),
            Ok(Some("c3d4e5f6".into()))
        );
        assert_eq!(HoldFilter::job_id_suffix(""), Ok(None));
        assert!(HoldFilter::job_id_suffix("abc").is_err());
        assert!(HoldFilter::job_id_suffix("a%b_c").is_err());
        assert!(PageCursor::from_token("garbage").is_err());
        assert_eq!(page_size(0), 20);
        assert_eq!(page_size(1000), 100);
    }
}
