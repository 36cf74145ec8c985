//! The ledger: accounts, holds and immutable ledger entries, and every rule about money.
//!
//! Each operation changes the account's stored balance (or held sum) together with the entries and holds
//! that explain the change, atomically, so `balance = Σ entries` and `held = Σ pending holds` hold after
//! every commit (`billing check` verifies exactly that). On SQLite each is one transaction of several
//! statements. On PostgreSQL the hot paths — Reserve on an existing account, Capture, Release, expiry —
//! are one statement each (data-modifying CTEs, see [`postgres`]): one round trip instead of six or
//! seven, with the same guards; opening an account and top-ups keep the transaction. Under load,
//! concurrent hot-path calls share one statement and one commit ([`batch`], group commit).
//!
//! Concurrency: the only way money gets held is the conditional
//! `UPDATE accounts SET held = held + price WHERE balance − held >= price`, which PostgreSQL evaluates
//! under the account's row lock and SQLite under its single write lock, so concurrent reserves can never
//! overdraw an account (a CHECK constraint guards the same invariant). Settlements move a hold out of
//! `pending` with `UPDATE holds … WHERE state = 'pending'`, so exactly one of several racing settlements
//! wins and the others see the result and answer as repeats.

use std::sync::Arc;
use std::time::Duration;

use service_runtime::now_unix_ms;
use sqlx::any::AnyRow;
use sqlx::{Any, AnyConnection, Executor, Row};
use tracing::instrument;

use crate::db::{Backend, Db};
use crate::domain::{
    AccountId, Balance, Entry, EntryKind, EntryPage, Hold, HoldCursor, HoldFilter, HoldOutcome,
    HoldPage, HoldState, IdempotencyKey, JobId, PageCursor, PositiveAmount, ValidOperation,
};
use crate::prices::PriceList;

mod batch;
pub mod postgres;

pub use batch::BatchStats;

/// Errors of ledger operations. Each maps to one gRPC status in `error.rs`.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// No entry of the price list matches the operation with these parameters (it cannot be bought).
    #[error("no price for operation {operation:?}")]
    NoPrice {
        /// The operation's key, e.g. `image.upscale factor=4`.
        operation: String,
    },
    /// The account cannot afford the price.
    #[error(
        "not enough money: the price is {price_minor} and {available_minor} is available ({currency} minor units)"
    )]
    InsufficientFunds {
        /// Price of the operation, minor units.
        price_minor: i64,
        /// Available balance, minor units.
        available_minor: i64,
        /// Currency code.
        currency: String,
    },
    /// The job id already has a hold for another account or operation.
    #[error("job {job_id} already has a hold for another account or operation")]
    HoldConflict {
        /// The job id.
        job_id: String,
    },
    /// No hold has this job id.
    #[error("no hold for job {job_id}")]
    HoldNotFound {
        /// The job id.
        job_id: String,
    },
    /// The hold was already settled in a way that excludes the request (capture after release, release
    /// after capture).
    #[error("the hold of job {job_id} is already {state}")]
    HoldSettled {
        /// The job id.
        job_id: String,
        /// Its state.
        state: HoldState,
    },
    /// A capture asked for more than the hold holds (or a negative amount).
    #[error("cannot capture {requested_minor} for job {job_id}: it holds {held_minor}")]
    CaptureExceedsHold {
        /// The job id.
        job_id: String,
        /// Requested amount, minor units.
        requested_minor: i64,
        /// Held amount, minor units.
        held_minor: i64,
    },
    /// A repeated capture named another amount than the first one took.
    #[error("job {job_id} was already captured for {captured_minor}, not {requested_minor}")]
    CaptureConflict {
        /// The job id.
        job_id: String,
        /// Amount captured the first time, minor units.
        captured_minor: i64,
        /// Amount requested now, minor units.
        requested_minor: i64,
    },
    /// The idempotency key was already used for a top-up with other content.
    #[error("idempotency key {key:?} was already used for another top-up")]
    TopUpConflict {
        /// The key.
        key: String,
    },
    /// The database failed (down, timed out, constraint violated unexpectedly).
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    /// Stored data broke an invariant (an unknown state name, a missing account).
    #[error("inconsistent ledger data: {0}")]
    Inconsistent(String),
}

/// A result of the ledger.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Settings of the ledger.
#[derive(Debug, Clone)]
pub struct Settings {
    /// ISO 4217 code of every account and price, e.g. "RUB".
    pub currency: String,
    /// Credited once when an account is opened, minor units (0 = none).
    pub welcome_credit_minor: i64,
    /// How long a hold may stay pending before the sweeper releases it.
    pub hold_timeout: Duration,
}

/// The result of a top-up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopUpOutcome {
    /// The account's balance now.
    pub balance: Balance,
    /// Id of the ledger entry that credited the money (the first one, for a repeat).
    pub entry_id: i64,
}

/// Pending holds at one moment ([`Ledger::pending_holds`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PendingHolds {
    /// Holds in state `pending`: money reserved for jobs not settled yet.
    pub pending: i64,
    /// Of those, the ones past their `expires_at`: the sweeper has not expired them (it waits for
    /// outcome events to be settled first, or cannot ask NATS).
    pub overdue: i64,
}

/// Accounts, holds and the ledger on one database. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Ledger {
    db: Db,
    prices: Arc<PriceList>,
    settings: Arc<Settings>,
    /// Group commit of the hot paths (PostgreSQL only).
    batcher: Option<batch::Batcher>,
}

/// Columns of `holds`, in the order [`hold_from_row`] reads them by name.
macro_rules! hold_columns {
    () => {
        "job_id, account_id, operation, amount_minor, captured_minor, state, created_at_ms, expires_at_ms, settled_at_ms"
    };
}

/// Columns of `ledger_entries` read by [`entry_from_row`].
macro_rules! entry_columns {
    () => {
        "id, kind, amount_minor, reference, description, created_at_ms"
    };
}

/// What a settlement does to a pending hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Settle {
    /// Capture this much (`None`: all of it).
    Capture(Option<i64>),
    /// Return everything (Release, or a failed job).
    Release,
    /// Return everything because the hold lapsed (sweeper); only if `expires_at <= now`.
    Expire,
}

impl Settle {
    /// The hold's state once settled, the kind of its (first) ledger entry, and the amount to capture.
    fn target(self) -> (HoldState, EntryKind, Option<i64>) {
        match self {
            Settle::Capture(amount) => (HoldState::Captured, EntryKind::Capture, amount),
            Settle::Release => (HoldState::Released, EntryKind::Release, None),
            Settle::Expire => (HoldState::Expired, EntryKind::Expiry, None),
        }
    }
}

/// A hold about to be placed: the job, the account, the operation's key and its price. Serialized (as
/// JSON fields of the same names) into a reserve batch's input.
#[derive(serde::Serialize)]
struct NewHold<'a> {
    job_id: &'a str,
    account_id: i64,
    operation: &'a str,
    amount_minor: i64,
    created_at_ms: i64,
    expires_at_ms: i64,
}

impl NewHold<'_> {
    /// The hold as stored once placed.
    fn placed(&self) -> Hold {
        Hold {
            job_id: self.job_id.to_string(),
            account_id: self.account_id,
            operation: self.operation.to_string(),
            amount_minor: self.amount_minor,
            captured_minor: 0,
            state: HoldState::Pending,
            created_at_ms: self.created_at_ms,
            expires_at_ms: self.expires_at_ms,
            settled_at_ms: None,
        }
    }
}

/// A new ledger entry.
struct NewEntry<'a> {
    account_id: i64,
    kind: EntryKind,
    amount_minor: i64,
    balance_after_minor: i64,
    reference: &'a str,
    description: &'a str,
    created_at_ms: i64,
}

impl Ledger {
    /// A ledger on a migrated database. On PostgreSQL it starts the batchers of the hot paths (see
    /// [`batch`]) on the current tokio runtime, so it must be called inside one.
    pub fn new(db: Db, prices: PriceList, settings: Settings) -> Self {
        let batcher = (db.backend() == Backend::Postgres)
            .then(|| batch::Batcher::start(db.pool().clone(), settings.currency.as_str().into()));
        Self {
            db,
            prices: Arc::new(prices),
            settings: Arc::new(settings),
            batcher,
        }
    }

    /// How many calls group commit has answered in shared statements so far (zero on SQLite).
    pub fn batch_stats(&self) -> BatchStats {
        self.batcher
            .as_ref()
            .map(batch::Batcher::stats)
            .unwrap_or_default()
    }

    /// The price list.
    pub fn prices(&self) -> &PriceList {
        &self.prices
    }

    /// The settings.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// The database.
    pub fn db(&self) -> &Db {
        &self.db
    }

    /// The balance of an account, opening it (with the welcome credit) on first contact.
    #[instrument(skip_all, fields(account_id = %account), err(level = "debug"))]
    pub async fn balance(&self, account: AccountId) -> Result<Balance> {
        if let Some(balance) = fetch_balance(self.db.pool(), account.get()).await? {
            return Ok(balance);
        }
        let mut tx = self.db.begin_write().await?;
        self.open_account(&mut tx, account, now_unix_ms()).await?;
        let balance = fetch_balance(&mut *tx, account.get())
            .await?
            .ok_or_else(|| missing(account))?;
        tx.commit().await?;
        Ok(balance)
    }

    /// Holds the price of `operation` on the account for `job`: the price list's entry for the
    /// operation and its parameters, times the started minutes of `audio_duration_ms` for per-minute
    /// prices (0 = unknown, one minute). The hold records the operation's key (`image.upscale factor=2`).
    ///
    /// Idempotent on `job`: a repeat with the same account and operation key returns the hold as it is
    /// now (whatever its state); other content is [`Error::HoldConflict`]. Errors: [`Error::NoPrice`],
    /// [`Error::InsufficientFunds`] (with the price and the available balance).
    #[instrument(
        skip_all,
        fields(job_id = %job, account_id = %account, operation = %operation.key()),
        err(level = "debug")
    )]
    pub async fn reserve(
        &self,
        job: &JobId,
        account: AccountId,
        operation: &ValidOperation,
        audio_duration_ms: u64,
    ) -> Result<HoldOutcome> {
        let key = operation.key();
        let (price, _) = self
            .prices
            .price_of(operation.get(), audio_duration_ms)
            .ok_or_else(|| Error::NoPrice {
                operation: key.clone(),
            })?;
        let now = now_unix_ms();
        let hold = NewHold {
            job_id: job.as_str(),
            account_id: account.get(),
            operation: &key,
            amount_minor: price,
            created_at_ms: now,
            expires_at_ms: now.saturating_add(duration_ms(self.settings.hold_timeout)),
        };
        // On PostgreSQL, first contact with an account falls through: it is opened (with the welcome
        // credit) in the transaction below.
        if let Some(batcher) = &self.batcher
            && let Some(outcome) = batcher.reserve(&hold).await?
        {
            return Ok(outcome);
        }
        self.reserve_in_transaction(account, &hold).await
    }

    /// Reserve as one transaction: opens the account if needed, then holds the price.
    async fn reserve_in_transaction(
        &self,
        account: AccountId,
        new: &NewHold<'_>,
    ) -> Result<HoldOutcome> {
        let (job, operation, price, now) = (
            new.job_id,
            new.operation,
            new.amount_minor,
            new.created_at_ms,
        );
        let mut tx = self.db.begin_write().await?;
        self.open_account(&mut tx, account, now).await?;
        if let Some(hold) = fetch_hold(&mut *tx, job).await? {
            let balance = fetch_balance(&mut *tx, hold.account_id).await?;
            tx.commit().await?;
            return repeat_reserve(hold, account.get(), operation, balance);
        }
        let held = sqlx::query(
            "UPDATE accounts SET held_minor = held_minor + $2, updated_at_ms = $3 \
             WHERE id = $1 AND balance_minor - held_minor >= $2 \
             RETURNING balance_minor, held_minor",
        )
        .bind(account.get())
        .bind(price)
        .bind(now)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = held else {
            let balance = fetch_balance(&mut *tx, account.get())
                .await?
                .ok_or_else(|| missing(account))?;
            // Commit rather than roll back: the account may have been opened just now.
            tx.commit().await?;
            // On PostgreSQL a concurrent reserve of the same job may have taken the money first.
            if let Some(hold) = fetch_hold(self.db.pool(), job).await? {
                let balance = fetch_balance(self.db.pool(), hold.account_id).await?;
                return repeat_reserve(hold, account.get(), operation, balance);
            }
            return Err(self.insufficient(price, &balance));
        };
        let balance = balance_from_row(account.get(), &row)?;
        let inserted = sqlx::query(
            "INSERT INTO holds (job_id, account_id, operation, amount_minor, captured_minor, state, \
                                created_at_ms, expires_at_ms) \
             VALUES ($1, $2, $3, $4, 0, 'pending', $5, $6) \
             ON CONFLICT (job_id) DO NOTHING RETURNING job_id",
        )
        .bind(job)
        .bind(account.get())
        .bind(operation)
        .bind(price)
        .bind(now)
        .bind(new.expires_at_ms)
        .fetch_optional(&mut *tx)
        .await?;
        if inserted.is_none() {
            // Lost a race with a reserve of the same job id (PostgreSQL): undo ours, answer as a repeat.
            tx.rollback().await?;
            let hold = fetch_hold(self.db.pool(), job).await?.ok_or_else(|| {
                Error::Inconsistent(format!("hold {job} vanished after a conflict"))
            })?;
            let balance = fetch_balance(self.db.pool(), hold.account_id).await?;
            return repeat_reserve(hold, account.get(), operation, balance);
        }
        insert_entry(
            &mut tx,
            NewEntry {
                account_id: account.get(),
                kind: EntryKind::Hold,
                amount_minor: 0,
                balance_after_minor: balance.balance_minor,
                reference: job,
                description: operation,
                created_at_ms: now,
            },
        )
        .await?;
        tx.commit().await?;
        tracing::info!(price_minor = price, "hold placed");
        crate::metrics::hold_placed(operation);
        Ok(HoldOutcome {
            hold: new.placed(),
            available_minor: balance.available_minor(),
        })
    }

    /// [`Error::InsufficientFunds`] for `price` against `balance`.
    fn insufficient(&self, price_minor: i64, balance: &Balance) -> Error {
        Error::InsufficientFunds {
            price_minor,
            available_minor: balance.available_minor(),
            currency: self.settings.currency.clone(),
        }
    }

    /// Takes `amount_minor` (all of it when `None`) of the job's hold and returns the rest.
    ///
    /// Exactly once: a repeat returns the captured hold ([`Error::CaptureConflict`] if it names another
    /// amount). Errors: [`Error::HoldNotFound`], [`Error::HoldSettled`] (released or expired),
    /// [`Error::CaptureExceedsHold`].
    #[instrument(skip_all, fields(job_id = %job, ?amount_minor), err(level = "debug"))]
    pub async fn capture(&self, job: &JobId, amount_minor: Option<i64>) -> Result<HoldOutcome> {
        self.settle(job.as_str(), Settle::Capture(amount_minor))
            .await
    }

    /// Returns the job's held money to the account.
    ///
    /// A repeat (or a hold that already expired) returns the hold as it is. Errors:
    /// [`Error::HoldNotFound`], [`Error::HoldSettled`] (captured).
    #[instrument(skip_all, fields(job_id = %job), err(level = "debug"))]
    pub async fn release(&self, job: &JobId) -> Result<HoldOutcome> {
        self.settle(job.as_str(), Settle::Release).await
    }

    /// Expires pending holds whose `expires_at` is at or before `cutoff_ms` (ms since the Unix epoch; at
    /// most now), oldest first, at most `limit` of them. Returns how many were expired.
    #[instrument(skip(self), err(level = "debug"))]
    pub async fn expire_due(&self, cutoff_ms: i64, limit: i64) -> Result<usize> {
        let now = cutoff_ms.min(now_unix_ms());
        let due = sqlx::query(
            "SELECT job_id FROM holds WHERE state = 'pending' AND expires_at_ms <= $1 \
             ORDER BY expires_at_ms LIMIT $2",
        )
        .bind(now)
        .bind(limit)
        .fetch_all(self.db.pool())
        .await?;
        let mut expired = 0;
        for row in due {
            // Stored ids are used as stored: a hold whose id predates today's job-id rules still expires.
            let job_id: String = row.try_get("job_id")?;
            let outcome = self.settle(&job_id, Settle::Expire).await?;
            if outcome.hold.state == HoldState::Expired {
                expired += 1;
            }
        }
        Ok(expired)
    }

    /// Pending holds now, and how many of them are past their `expires_at` at `now_ms` (ms since the Unix
    /// epoch): the holds gauges' values. One indexed scan of the pending holds
    /// (`holds_pending_by_expiry`).
    pub async fn pending_holds(&self, now_ms: i64) -> Result<PendingHolds> {
        let row = sqlx::query(
            "SELECT COUNT(*) AS pending, \
             COALESCE(SUM(CASE WHEN expires_at_ms <= $1 THEN 1 ELSE 0 END), 0) AS overdue \
             FROM holds WHERE state = 'pending'",
        )
        .bind(now_ms)
        .fetch_one(self.db.pool())
        .await?;
        Ok(PendingHolds {
            pending: row.try_get("pending")?,
            overdue: row.try_get("overdue")?,
        })
    }

    /// Credits `amount` to the account, once per idempotency key.
    ///
    /// A repeat with the same account, amount and source returns the first entry id and the balance now;
    /// other content is [`Error::TopUpConflict`].
    #[instrument(
        skip_all,
        fields(account_id = %account, amount_minor = amount.get(), idempotency_key = key.as_str()),
        err(level = "debug")
    )]
    pub async fn top_up(
        &self,
        account: AccountId,
        amount: PositiveAmount,
        key: &IdempotencyKey,
        source: &str,
    ) -> Result<TopUpOutcome> {
        let now = now_unix_ms();
        let mut tx = self.db.begin_write().await?;
        self.open_account(&mut tx, account, now).await?;
        if let Some(first) = fetch_top_up(&mut *tx, key.as_str()).await? {
            tx.commit().await?;
            return self
                .repeat_top_up(first, account, amount, key, source)
                .await;
        }
        let row = sqlx::query(
            "UPDATE accounts SET balance_minor = balance_minor + $2, updated_at_ms = $3 WHERE id = $1 \
             RETURNING balance_minor, held_minor",
        )
        .bind(account.get())
        .bind(amount.get())
        .bind(now)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(|| missing(account))?;
        let balance = balance_from_row(account.get(), &row)?;
        let entry = insert_entry(
            &mut tx,
            NewEntry {
                account_id: account.get(),
                kind: EntryKind::TopUp,
                amount_minor: amount.get(),
                balance_after_minor: balance.balance_minor,
                reference: key.as_str(),
                description: source,
                created_at_ms: now,
            },
        )
        .await;
        let entry_id = match entry {
            Ok(id) => id,
            Err(error) if is_unique_violation(&error) => {
                // A concurrent top-up with the same key committed first (PostgreSQL).
                tx.rollback().await?;
                let first = fetch_top_up(self.db.pool(), key.as_str())
                    .await?
                    .ok_or_else(|| {
                        Error::Inconsistent(format!("top-up {key:?} vanished after a conflict"))
                    })?;
                return self
                    .repeat_top_up(first, account, amount, key, source)
                    .await;
            }
            Err(error) => return Err(error.into()),
        };
        tx.commit().await?;
        tracing::info!(
            amount_minor = amount.get(),
            source,
            entry_id,
            "top-up credited"
        );
        Ok(TopUpOutcome { balance, entry_id })
    }

    /// Ledger entries of an account, newest first: at most `page_size` entries older than `cursor`.
    /// Opens the account on first contact.
    #[instrument(skip_all, fields(account_id = %account, page_size = page_size, ?cursor), err(level = "debug"))]
    pub async fn operations(
        &self,
        account: AccountId,
        page_size: u32,
        cursor: Option<PageCursor>,
    ) -> Result<EntryPage> {
        self.balance(account).await?;
        let before = cursor.map_or(i64::MAX, |c| c.0);
        let rows = sqlx::query(concat!(
            "SELECT ",
            entry_columns!(),
            " FROM ledger_entries WHERE account_id = $1 AND id < $2 ORDER BY id DESC LIMIT $3"
        ))
        .bind(account.get())
        .bind(before)
        .bind(i64::from(page_size) + 1)
        .fetch_all(self.db.pool())
        .await?;
        let mut entries = rows
            .iter()
            .map(entry_from_row)
            .collect::<Result<Vec<_>>>()?;
        let next = if entries.len() > page_size as usize {
            entries.truncate(page_size as usize);
            entries.last().map(|e| PageCursor(e.id))
        } else {
            None
        };
        Ok(EntryPage { entries, next })
    }

    /// The account's holds (one per paid job), newest first: at most `page_size` placed before `cursor`,
    /// narrowed by `filter`. Does not open the account (an unknown one has none).
    #[instrument(skip_all, fields(account_id = %account, page_size = page_size, ?cursor, ?filter), err(level = "debug"))]
    pub async fn holds(
        &self,
        account: AccountId,
        page_size: u32,
        cursor: Option<HoldCursor>,
        filter: &HoldFilter,
    ) -> Result<HoldPage> {
        let (before_ms, before_job) =
            cursor.map_or((i64::MAX, String::new()), |c| (c.created_at_ms, c.job_id));
        // An empty `before_job` with `i64::MAX` matches everything: the newest page.
        let rows = sqlx::query(concat!(
            "SELECT ",
            hold_columns!(),
            " FROM holds WHERE account_id = $1",
            " AND (created_at_ms < $2 OR (created_at_ms = $2 AND job_id < $3) OR $3 = '')",
            " AND ($4 = '' OR state = $4)",
            " AND ($5 = '' OR job_id LIKE $6)",
            " ORDER BY created_at_ms DESC, job_id DESC LIMIT $7"
        ))
        .bind(account.get())
        .bind(before_ms)
        .bind(before_job)
        .bind(filter.state.map(HoldState::as_db).unwrap_or_default())
        .bind(filter.job_id_suffix.clone().unwrap_or_default())
        // The suffix holds only hex digits and '-' (HoldFilter::job_id_suffix): no LIKE wildcards.
        .bind(format!(
            "%{}",
            filter.job_id_suffix.as_deref().unwrap_or_default()
        ))
        .bind(i64::from(page_size) + 1)
        .fetch_all(self.db.pool())
        .await?;
        let mut holds = rows.iter().map(hold_from_row).collect::<Result<Vec<_>>>()?;
        let next = if holds.len() > page_size as usize {
            holds.truncate(page_size as usize);
            holds.last().map(|h| HoldCursor {
                created_at_ms: h.created_at_ms,
                job_id: h.job_id.clone(),
            })
        } else {
            None
        };
        Ok(HoldPage { holds, next })
    }

    /// Opens the account with the welcome credit unless it exists. Runs inside the caller's write
    /// transaction so the credit and the account appear together, exactly once (the unique index on
    /// welcome entries backs this up).
    async fn open_account(
        &self,
        conn: &mut AnyConnection,
        account: AccountId,
        now: i64,
    ) -> Result<()> {
        let welcome = self.settings.welcome_credit_minor;
        let opened = sqlx::query(
            "INSERT INTO accounts (id, currency, balance_minor, held_minor, created_at_ms, updated_at_ms) \
             VALUES ($1, $2, $3, 0, $4, $4) ON CONFLICT (id) DO NOTHING RETURNING id",
        )
        .bind(account.get())
        .bind(self.settings.currency.as_str())
        .bind(welcome)
        .bind(now)
        .fetch_optional(&mut *conn)
        .await?;
        if opened.is_some() {
            if welcome != 0 {
                insert_entry(
                    conn,
                    NewEntry {
                        account_id: account.get(),
                        kind: EntryKind::WelcomeCredit,
                        amount_minor: welcome,
                        balance_after_minor: welcome,
                        reference: "welcome",
                        description: "welcome credit",
                        created_at_ms: now,
                    },
                )
                .await?;
            }
            tracing::info!(account_id = %account, welcome_credit_minor = welcome, "account opened");
        }
        Ok(())
    }

    /// Settles the hold of `job` (a stored job id) as `action` says, exactly once.
    async fn settle(&self, job: &str, action: Settle) -> Result<HoldOutcome> {
        match &self.batcher {
            Some(batcher) => batcher.settle(job, action).await,
            None => self.settle_in_transaction(job, action).await,
        }
    }

    /// Settle as one transaction of several statements (SQLite).
    async fn settle_in_transaction(&self, job: &str, action: Settle) -> Result<HoldOutcome> {
        // A racing settlement can move the hold out of `pending` between our read and our update; then
        // we read it again and answer from its new state. Two rounds always suffice (a hold leaves
        // `pending` once); the third is a safety net.
        for _ in 0..3 {
            let now = now_unix_ms();
            let mut tx = self.db.begin_write().await?;
            let hold = fetch_hold(&mut *tx, job)
                .await?
                .ok_or_else(|| Error::HoldNotFound {
                    job_id: job.to_string(),
                })?;
            if let Some(answer) = settled_answer(&hold, action) {
                let balance = fetch_balance(&mut *tx, hold.account_id).await?;
                tx.commit().await?;
                return answer_with_balance(answer, balance);
            }
            let (state, first_kind, amount) = action.target();
            let captured = match state {
                HoldState::Captured => amount.unwrap_or(hold.amount_minor),
                _ => 0,
            };
            if !(0..=hold.amount_minor).contains(&captured) {
                return Err(capture_exceeds(&hold, captured));
            }
            let moved = sqlx::query(
                "UPDATE holds SET state = $2, captured_minor = $3, settled_at_ms = $4 \
                 WHERE job_id = $1 AND state = 'pending' RETURNING job_id",
            )
            .bind(job)
            .bind(state.as_db())
            .bind(captured)
            .bind(now)
            .fetch_optional(&mut *tx)
            .await?;
            if moved.is_none() {
                tx.rollback().await?;
                continue;
            }
            let row = sqlx::query(
                "UPDATE accounts SET balance_minor = balance_minor - $2, held_minor = held_minor - $3, \
                 updated_at_ms = $4 WHERE id = $1 RETURNING balance_minor, held_minor",
            )
            .bind(hold.account_id)
            .bind(captured)
            .bind(hold.amount_minor)
            .bind(now)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or_else(|| Error::Inconsistent(format!("account {} of hold {job} is missing", hold.account_id)))?;
            let balance = balance_from_row(hold.account_id, &row)?;
            let entry = |kind, amount_minor| NewEntry {
                account_id: hold.account_id,
                kind,
                amount_minor,
                balance_after_minor: balance.balance_minor,
                reference: job,
                description: &hold.operation,
                created_at_ms: now,
            };
            insert_entry(&mut tx, entry(first_kind, -captured)).await?;
            if state == HoldState::Captured && captured < hold.amount_minor {
                insert_entry(&mut tx, entry(EntryKind::Release, 0)).await?;
            }
            tx.commit().await?;
            return Ok(settled(hold, state, captured, now, &balance));
        }
        Err(Error::Inconsistent(format!(
            "hold {job} kept changing while being settled"
        )))
    }

    async fn repeat_top_up(
        &self,
        first: FirstTopUp,
        account: AccountId,
        amount: PositiveAmount,
        key: &IdempotencyKey,
        source: &str,
    ) -> Result<TopUpOutcome> {
        if first.account_id != account.get()
            || first.amount_minor != amount.get()
            || first.source != source
        {
            return Err(Error::TopUpConflict {
                key: key.as_str().to_string(),
            });
        }
        let balance = fetch_balance(self.db.pool(), account.get())
            .await?
            .ok_or_else(|| missing(account))?;
        Ok(TopUpOutcome {
            balance,
            entry_id: first.entry_id,
        })
    }
}

/// For a hold that is no longer pending (or, for expiry, not yet due): the answer without changing
/// anything. `None` means: go ahead and settle it.
fn settled_answer(hold: &Hold, action: Settle) -> Option<Result<Hold>> {
    let settled = |state| {
        Err(Error::HoldSettled {
            job_id: hold.job_id.clone(),
            state,
        })
    };
    let answer = match (action, hold.state) {
        (Settle::Expire, HoldState::Pending) if hold.expires_at_ms > now_unix_ms() => {
            Ok(hold.clone())
        }
        (_, HoldState::Pending) => return None,
        (Settle::Capture(Some(requested)), HoldState::Captured)
            if requested != hold.captured_minor =>
        {
            Err(Error::CaptureConflict {
                job_id: hold.job_id.clone(),
                captured_minor: hold.captured_minor,
                requested_minor: requested,
            })
        }
        (Settle::Capture(_), HoldState::Captured) => Ok(hold.clone()),
        (Settle::Capture(_), state @ (HoldState::Released | HoldState::Expired)) => settled(state),
        (Settle::Release, HoldState::Captured) => settled(HoldState::Captured),
        (Settle::Release | Settle::Expire, _) => Ok(hold.clone()),
    };
    Some(answer)
}

/// The hold just moved to `state` (capturing `captured`), with the account's balance right after.
fn settled(
    hold: Hold,
    state: HoldState,
    captured: i64,
    now: i64,
    balance: &Balance,
) -> HoldOutcome {
    tracing::info!(%state, captured_minor = captured, held_minor = hold.amount_minor, "hold settled");
    crate::metrics::hold_settled(&hold.operation, state, captured);
    HoldOutcome {
        hold: Hold {
            state,
            captured_minor: captured,
            settled_at_ms: Some(now),
            ..hold
        },
        available_minor: balance.available_minor(),
    }
}

/// A [`settled_answer`] with the available balance of the hold's account.
fn answer_with_balance(answer: Result<Hold>, balance: Option<Balance>) -> Result<HoldOutcome> {
    let available_minor = balance.map_or(0, |b| b.available_minor());
    answer.map(|hold| HoldOutcome {
        hold,
        available_minor,
    })
}

fn capture_exceeds(hold: &Hold, requested_minor: i64) -> Error {
    Error::CaptureExceedsHold {
        job_id: hold.job_id.clone(),
        requested_minor,
        held_minor: hold.amount_minor,
    }
}

/// The answer to a Reserve whose job id already has a hold: the hold if the account and the operation
/// key are the same, [`Error::HoldConflict`] otherwise.
fn repeat_reserve(
    hold: Hold,
    account_id: i64,
    operation: &str,
    balance: Option<Balance>,
) -> Result<HoldOutcome> {
    if hold.account_id != account_id || hold.operation != operation {
        return Err(Error::HoldConflict {
            job_id: hold.job_id,
        });
    }
    Ok(HoldOutcome {
        hold,
        available_minor: balance.map_or(0, |b| b.available_minor()),
    })
}

fn missing(account: AccountId) -> Error {
    Error::Inconsistent(format!(
        "account {account} is missing right after opening it"
    ))
}

fn duration_ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

fn is_unique_violation(error: &sqlx::Error) -> bool {
    error
        .as_database_error()
        .is_some_and(|e| e.is_unique_violation())
}

async fn fetch_balance<'e, E>(executor: E, account_id: i64) -> Result<Option<Balance>>
where
    E: Executor<'e, Database = Any>,
{
    let row = sqlx::query("SELECT balance_minor, held_minor FROM accounts WHERE id = $1")
        .bind(account_id)
        .fetch_optional(executor)
        .await?;
    row.map(|row| balance_from_row(account_id, &row))
        .transpose()
}

fn balance_from_row(account_id: i64, row: &AnyRow) -> Result<Balance> {
    Ok(Balance {
        account_id,
        balance_minor: row.try_get("balance_minor")?,
        held_minor: row.try_get("held_minor")?,
    })
}

async fn fetch_hold<'e, E>(executor: E, job_id: &str) -> Result<Option<Hold>>
where
    E: Executor<'e, Database = Any>,
{
    let row = sqlx::query(concat!(
        "SELECT ",
        hold_columns!(),
        " FROM holds WHERE job_id = $1"
    ))
    .bind(job_id)
    .fetch_optional(executor)
    .await?;
    row.as_ref().map(hold_from_row).transpose()
}

fn hold_from_row(row: &AnyRow) -> Result<Hold> {
    let state: String = row.try_get("state")?;
    let state = HoldState::from_db(&state)
        .ok_or_else(|| Error::Inconsistent(format!("hold state {state:?}")))?;
    Ok(Hold {
        job_id: row.try_get("job_id")?,
        account_id: row.try_get("account_id")?,
        operation: row.try_get("operation")?,
        amount_minor: row.try_get("amount_minor")?,
        captured_minor: row.try_get("captured_minor")?,
        state,
        created_at_ms: row.try_get("created_at_ms")?,
        expires_at_ms: row.try_get("expires_at_ms")?,
        settled_at_ms: row.try_get("settled_at_ms")?,
    })
}

fn entry_from_row(row: &AnyRow) -> Result<Entry> {
    let kind: String = row.try_get("kind")?;
    let kind = EntryKind::from_db(&kind)
        .ok_or_else(|| Error::Inconsistent(format!("entry kind {kind:?}")))?;
    Ok(Entry {
        id: row.try_get("id")?,
        kind,
        amount_minor: row.try_get("amount_minor")?,
        reference: row.try_get("reference")?,
        description: row.try_get("description")?,
        created_at_ms: row.try_get("created_at_ms")?,
    })
}

async fn insert_entry(conn: &mut AnyConnection, entry: NewEntry<'_>) -> Result<i64, sqlx::Error> {
    let row = sqlx::query(
        "INSERT INTO ledger_entries (account_id, kind, amount_minor, balance_after_minor, reference, \
                                     description, created_at_ms) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
    )
    .bind(entry.account_id)
    .bind(entry.kind.as_db())
    .bind(entry.amount_minor)
    .bind(entry.balance_after_minor)
    .bind(entry.reference)
    .bind(entry.description)
    .bind(entry.created_at_ms)
    .fetch_one(conn)
    .await?;
    row.try_get(0)
}

/// The first top-up made with an idempotency key.
struct FirstTopUp {
    entry_id: i64,
    account_id: i64,
    amount_minor: i64,
    source: String,
}

async fn fetch_top_up<'e, E>(executor: E, key: &str) -> Result<Option<FirstTopUp>>
where
    E: Executor<'e, Database = Any>,
{
    let row = sqlx::query(
        "SELECT id, account_id, amount_minor, description FROM ledger_entries \
         WHERE kind = 'top_up' AND reference = $1",
    )
    .bind(key)
    .fetch_optional(executor)
    .await?;
    row.map(|row| {
        Ok(FirstTopUp {
            entry_id: row.try_get("id")?,
            account_id: row.try_get("account_id")?,
            amount_minor: row.try_get("amount_minor")?,
            source: row.try_get("description")?,
        })
    })
    .transpose()
}
