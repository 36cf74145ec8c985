//! The ledger's hot paths on PostgreSQL, one statement each: Reserve on an existing account, and every
//! settlement (capture, release, expiry).
//!
//! Each statement is a chain of data-modifying CTEs (PostgreSQL docs, "Data-Modifying Statements in
//! WITH"): the account update, the hold insert or update and the ledger entries run as one atomic
//! statement in one round trip, instead of a transaction of six or seven. The guards are the same as in
//! the transaction path, in the statement itself:
//!
//! - the balance check is the conditional `UPDATE accounts … WHERE balance_minor − held_minor >= price`,
//!   re-evaluated on the newest row version under its row lock (READ COMMITTED), so concurrent reserves
//!   never overdraw an account;
//! - the idempotent repeat: the statement reads the job's hold first and changes nothing when there is
//!   one; a concurrent reserve of the same job id that commits first makes the hold insert fail with a
//!   unique violation, which aborts the whole statement (the account update included), and the caller
//!   answers as a repeat;
//! - the hold state: a settlement only moves a hold with `WHERE state = 'pending'`, so of several racing
//!   settlements exactly one changes anything; the others see the result and answer from it.
//!
//! Ledger entries get their ids while the statement holds the account's row lock (they are inserted
//! from the account update's result), so per account, entry ids follow the order of balance changes,
//! as `billing check` requires; the capture and release entries of a partial capture are inserted by
//! one `INSERT … SELECT … ORDER BY`, capture first. The insert-only triggers on `ledger_entries` apply
//! as to any insert.
//!
//! Every one of these calls is idempotent (a repeat answers from the hold's state), so a statement whose
//! connection turns out to be dead — killed while idle in the pool, or by a server restart — is simply
//! run again on another connection ([`fetch_on_live_connection`]). The pool does not ping before each
//! use (that would double the round trips); it pings on release, and long-idle connections on acquire.
//!
//! The statements are public so that `billing-bench` measures the very same SQL on a native pool (the
//! ceiling for the gRPC path).

use sqlx::any::{AnyArguments, AnyRow};
use sqlx::query::Query;
use sqlx::{Any, AnyPool, Row as _};

use super::{
    Error, NewHold, Result, Settle, answer_with_balance, capture_exceeds, fetch_balance,
    fetch_hold, hold_from_row, is_unique_violation, repeat_reserve, settled, settled_answer,
};
use crate::domain::{Balance, HoldOutcome, HoldState};
use service_runtime::now_unix_ms;

/// Reserve on an existing account, as one statement.
///
/// Parameters: `$1` job id (text), `$2` account id, `$3` operation key (text), `$4` price (minor
/// units), `$5` now (ms), `$6` expires at (ms). One row:
/// - the job's hold as it was (`job_id` … `settled_at_ms`, NULL when there was none);
/// - `placed_balance_minor`, `placed_held_minor`: the account after the new hold, NULL when none was
///   placed (a hold existed, too little money, or no account: then the caller reads the account; the
///   hot path reads nothing else).
///
/// Fails with a unique violation on `holds_pkey` when a concurrent reserve of the job committed first
/// (then nothing changed).
pub const RESERVE: &str = "\
WITH existing AS (
    SELECT job_id, account_id, operation, amount_minor, captured_minor, state,
           created_at_ms, expires_at_ms, settled_at_ms
    FROM holds WHERE job_id = $1
), placed AS (
    UPDATE accounts SET held_minor = held_minor + $4, updated_at_ms = $5
    WHERE id = $2 AND balance_minor - held_minor >= $4 AND NOT EXISTS (SELECT 1 FROM existing)
    RETURNING balance_minor, held_minor
), hold AS (
    INSERT INTO holds (job_id, account_id, operation, amount_minor, captured_minor, state,
                       created_at_ms, expires_at_ms)
    SELECT $1, $2, $3, $4, 0, 'pending', $5, $6 FROM placed
    RETURNING job_id
), entry AS (
    INSERT INTO ledger_entries (account_id, kind, amount_minor, balance_after_minor, reference,
                                description, created_at_ms)
    SELECT $2, 'hold', 0, placed.balance_minor, $1, $3, $5 FROM placed CROSS JOIN hold
    RETURNING id
)
SELECT existing.job_id, existing.account_id, existing.operation, existing.amount_minor,
       existing.captured_minor, existing.state, existing.created_at_ms, existing.expires_at_ms,
       existing.settled_at_ms,
       placed.balance_minor AS placed_balance_minor, placed.held_minor AS placed_held_minor
FROM (SELECT 1) AS one
LEFT JOIN existing ON TRUE
LEFT JOIN placed ON TRUE";

/// A settlement (capture, release or expiry) as one statement.
///
/// Parameters: `$1` job id (text), `$2` the new state (`captured`, `released`, `expired`), `$3` the
/// amount to capture (minor units; NULL: all of it; ignored unless capturing), `$4` now (ms), `$5` the
/// kind of the settlement's ledger entry (`capture`, `release`, `expiry`). No row when the job has no
/// hold; otherwise one:
/// - the hold as it was (`job_id` … `settled_at_ms`);
/// - `settled_captured_minor`, `settled_balance_minor`, `settled_held_minor`: the amount captured and
///   the account afterwards, NULL when nothing was settled (the hold was not pending, the amount is out
///   of range, an expiry not yet due, or a concurrent settlement won: then the caller reads the
///   account).
///
/// Entries: one `$5` entry of −captured (0 unless capturing), plus a `release` entry of 0 after a
/// partial capture.
pub const SETTLE: &str = "\
WITH prior AS (
    SELECT job_id, account_id, operation, amount_minor, captured_minor, state,
           created_at_ms, expires_at_ms, settled_at_ms
    FROM holds WHERE job_id = $1
), settled AS (
    UPDATE holds
    SET state = $2,
        captured_minor = CASE WHEN $2 = 'captured' THEN COALESCE($3, amount_minor) ELSE 0 END,
        settled_at_ms = $4
    WHERE job_id = $1 AND state = 'pending'
      AND ($2 <> 'captured' OR COALESCE($3, amount_minor) BETWEEN 0 AND amount_minor)
      AND ($2 <> 'expired' OR expires_at_ms <= $4)
    RETURNING account_id, operation, amount_minor, captured_minor
), account AS (
    UPDATE accounts
    SET balance_minor = accounts.balance_minor - settled.captured_minor,
        held_minor = accounts.held_minor - settled.amount_minor,
        updated_at_ms = $4
    FROM settled WHERE accounts.id = settled.account_id
    RETURNING accounts.balance_minor, accounts.held_minor
), entries AS (
    INSERT INTO ledger_entries (account_id, kind, amount_minor, balance_after_minor, reference,
                                description, created_at_ms)
    SELECT settled.account_id, entry.kind, entry.amount_minor, account.balance_minor, $1,
           settled.operation, $4
    FROM settled CROSS JOIN account
    CROSS JOIN LATERAL (VALUES (1, $5, -settled.captured_minor), (2, 'release', 0))
        AS entry (n, kind, amount_minor)
    WHERE entry.n = 1 OR ($2 = 'captured' AND settled.captured_minor < settled.amount_minor)
    ORDER BY entry.n
    RETURNING id
)
SELECT prior.job_id, prior.account_id, prior.operation, prior.amount_minor, prior.captured_minor,
       prior.state, prior.created_at_ms, prior.expires_at_ms, prior.settled_at_ms,
       settled.captured_minor AS settled_captured_minor,
       account.balance_minor AS settled_balance_minor, account.held_minor AS settled_held_minor
FROM prior
LEFT JOIN settled ON TRUE
LEFT JOIN account ON TRUE";

/// [`RESERVE`] for several jobs at once, in one statement (group commit, see [`super::batch`]).
///
/// Parameter: `$1` a JSON array of objects `{n, job_id, account_id, operation, amount_minor,
/// created_at_ms, expires_at_ms}` (`n` numbers them; no two with one job id or one account). One row
/// per object, ordered by `n`, with [`RESERVE`]'s columns plus `n`. Accounts are locked in ascending id
/// order before any is changed (the `locked` CTE), so batches running beside each other cannot deadlock
/// on them. Fails with a unique violation, changing nothing, when a concurrent reserve of one of the
/// jobs committed first.
pub const RESERVE_BATCH: &str = "\
WITH input AS (
    SELECT * FROM json_to_recordset($1::json) AS input (
        n int8, job_id text, account_id int8, operation text, amount_minor int8, created_at_ms int8,
        expires_at_ms int8)
), existing AS (
    SELECT input.n, holds.job_id, holds.account_id, holds.operation, holds.amount_minor,
           holds.captured_minor, holds.state, holds.created_at_ms, holds.expires_at_ms,
           holds.settled_at_ms
    FROM input JOIN holds ON holds.job_id = input.job_id
), locked AS (
    SELECT accounts.id FROM accounts
    WHERE accounts.id IN (SELECT input.account_id FROM input)
    ORDER BY accounts.id
    FOR UPDATE
), placed AS (
    UPDATE accounts
    SET held_minor = accounts.held_minor + input.amount_minor, updated_at_ms = input.created_at_ms
    FROM input JOIN locked ON locked.id = input.account_id
    WHERE accounts.id = input.account_id
      AND accounts.balance_minor - accounts.held_minor >= input.amount_minor
      AND NOT EXISTS (SELECT 1 FROM existing WHERE existing.n = input.n)
    RETURNING input.n, accounts.balance_minor, accounts.held_minor
), hold AS (
    INSERT INTO holds (job_id, account_id, operation, amount_minor, captured_minor, state,
                       created_at_ms, expires_at_ms)
    SELECT input.job_id, input.account_id, input.operation, input.amount_minor, 0, 'pending',
           input.created_at_ms, input.expires_at_ms
    FROM input JOIN placed ON placed.n = input.n
    RETURNING job_id
), entry AS (
    INSERT INTO ledger_entries (account_id, kind, amount_minor, balance_after_minor, reference,
                                description, created_at_ms)
    SELECT input.account_id, 'hold', 0, placed.balance_minor, input.job_id, input.operation,
           input.created_at_ms
    FROM input JOIN placed ON placed.n = input.n JOIN hold ON hold.job_id = input.job_id
    ORDER BY input.n
    RETURNING id
)
SELECT input.n, existing.job_id, existing.account_id, existing.operation, existing.amount_minor,
       existing.captured_minor, existing.state, existing.created_at_ms, existing.expires_at_ms,
       existing.settled_at_ms,
       placed.balance_minor AS placed_balance_minor, placed.held_minor AS placed_held_minor
FROM input
LEFT JOIN existing ON existing.n = input.n
LEFT JOIN placed ON placed.n = input.n
ORDER BY input.n";

/// [`SETTLE`] for several jobs at once, in one statement (group commit, see [`super::batch`]).
///
/// Parameters: `$1` a JSON array of objects `{n, job_id, state, amount_minor, kind}` (as [`SETTLE`]'s
/// `$1`, `$2`, `$3`, `$5`; `n` numbers them; no two with one job id), `$2` now (ms). One row per
/// object, ordered by `n`, with [`SETTLE`]'s columns plus `n` and `account_rank`; the hold columns are
/// NULL when the job has no hold. Of several holds of one account only the first (`account_rank` 1)
/// is settled — one statement changes an account row once — and the others come back unsettled with
/// `account_rank` > 1, for the caller to settle on their own. Accounts are locked in ascending id order
/// before any is changed.
///
/// `(holds.state = 'pending') IS TRUE` rather than `holds.state = 'pending'`: with the plain form the
/// planner may answer the join from the partial index of pending holds (`holds_pending_by_expiry`),
/// reading every pending hold for each job instead of the primary key's one row.
pub const SETTLE_BATCH: &str = "\
WITH input AS (
    SELECT * FROM json_to_recordset($1::json) AS input (
        n int8, job_id text, state text, amount_minor int8, kind text)
), prior AS (
    SELECT input.n, holds.job_id, holds.account_id, holds.operation, holds.amount_minor,
           holds.captured_minor, holds.state, holds.created_at_ms, holds.expires_at_ms,
           holds.settled_at_ms,
           row_number() OVER (PARTITION BY holds.account_id ORDER BY input.n) AS account_rank
    FROM input JOIN holds ON holds.job_id = input.job_id
), settled AS (
    UPDATE holds
    SET state = input.state,
        captured_minor = CASE WHEN input.state = 'captured'
                              THEN COALESCE(input.amount_minor, holds.amount_minor) ELSE 0 END,
        settled_at_ms = $2
    FROM input JOIN prior ON prior.n = input.n AND prior.account_rank = 1
    WHERE holds.job_id = input.job_id AND (holds.state = 'pending') IS TRUE
      AND (input.state <> 'captured'
           OR COALESCE(input.amount_minor, holds.amount_minor) BETWEEN 0 AND holds.amount_minor)
      AND (input.state <> 'expired' OR holds.expires_at_ms <= $2)
    RETURNING input.n, input.job_id, input.state, input.kind, holds.account_id, holds.operation,
              holds.amount_minor, holds.captured_minor
), locked AS (
    SELECT accounts.id FROM accounts
    WHERE accounts.id IN (SELECT settled.account_id FROM settled)
    ORDER BY accounts.id
    FOR UPDATE
), account AS (
    UPDATE accounts
    SET balance_minor = accounts.balance_minor - settled.captured_minor,
        held_minor = accounts.held_minor - settled.amount_minor,
        updated_at_ms = $2
    FROM settled JOIN locked ON locked.id = settled.account_id
    WHERE accounts.id = settled.account_id
    RETURNING settled.n, accounts.balance_minor, accounts.held_minor
), entries AS (
    INSERT INTO ledger_entries (account_id, kind, amount_minor, balance_after_minor, reference,
                                description, created_at_ms)
    SELECT settled.account_id, entry.kind, entry.amount_minor, account.balance_minor, settled.job_id,
           settled.operation, $2
    FROM settled JOIN account ON account.n = settled.n
    CROSS JOIN LATERAL (VALUES (1, settled.kind, -settled.captured_minor), (2, 'release', 0))
        AS entry (k, kind, amount_minor)
    WHERE entry.k = 1
       OR (settled.state = 'captured' AND settled.captured_minor < settled.amount_minor)
    ORDER BY settled.n, entry.k
    RETURNING id
)
SELECT input.n, prior.job_id, prior.account_id, prior.operation, prior.amount_minor,
       prior.captured_minor, prior.state, prior.created_at_ms, prior.expires_at_ms,
       prior.settled_at_ms, prior.account_rank,
       settled.captured_minor AS settled_captured_minor,
       account.balance_minor AS settled_balance_minor, account.held_minor AS settled_held_minor
FROM input
LEFT JOIN prior ON prior.n = input.n
LEFT JOIN settled ON settled.n = input.n
LEFT JOIN account ON account.n = input.n
ORDER BY input.n";

/// How many times a statement is run again when a concurrent change made its snapshot stale (a hold
/// settled by someone else, money held by a concurrent reserve). Two rounds always suffice for a
/// settlement (a hold leaves `pending` once); the rest is a safety net.
const ROUNDS: usize = 4;

/// Reserve with [`RESERVE`]. `Ok(None)`: the account does not exist yet (the caller opens it in a
/// transaction and reserves there).
pub(super) async fn reserve(
    pool: &AnyPool,
    new: &NewHold<'_>,
    currency: &str,
) -> Result<Option<HoldOutcome>> {
    let mut last_balance = None;
    for _ in 0..ROUNDS {
        let result = fetch_on_live_connection(pool, || {
            sqlx::query(RESERVE)
                .bind(new.job_id)
                .bind(new.account_id)
                .bind(new.operation)
                .bind(new.amount_minor)
                .bind(new.created_at_ms)
                .bind(new.expires_at_ms)
        })
        .await;
        let row = match result {
            Ok(Some(row)) => row,
            Ok(None) => {
                return Err(Error::Inconsistent(
                    "the reserve statement returned no row".into(),
                ));
            }
            Err(error) if is_unique_violation(&error) => {
                // A concurrent reserve of this job id committed first; this statement changed nothing.
                return reserve_conflict(pool, new).await.map(Some);
            }
            Err(error) => return Err(error.into()),
        };
        match reserve_step(pool, new, currency, &row).await? {
            ReserveStep::Done(outcome) => return Ok(outcome),
            ReserveStep::Again(balance) => last_balance = Some(balance),
        }
    }
    let balance = last_balance
        .ok_or_else(|| Error::Inconsistent(format!("account {} vanished", new.account_id)))?;
    Err(insufficient(new.amount_minor, &balance, currency))
}

/// What a row of [`RESERVE`] (or of [`RESERVE_BATCH`]) means.
pub(super) enum ReserveStep {
    /// The answer: the hold placed or repeated, or `None` when the account does not exist yet.
    Done(Option<HoldOutcome>),
    /// Nothing placed although the account can afford it by now (a release or top-up came in between
    /// the statement and the read): run the statement again.
    Again(Balance),
}

/// Reads `row`, a result of [`RESERVE`] or one row of [`RESERVE_BATCH`] for `new`, reading the account
/// when the row alone does not answer.
pub(super) async fn reserve_step(
    pool: &AnyPool,
    new: &NewHold<'_>,
    currency: &str,
    row: &AnyRow,
) -> Result<ReserveStep> {
    let existing: Option<String> = row.try_get("job_id")?;
    if existing.is_some() {
        let hold = hold_from_row(row)?;
        let balance = fetch_balance(pool, hold.account_id).await?;
        return repeat_reserve(hold, new.account_id, new.operation, balance)
            .map(|outcome| ReserveStep::Done(Some(outcome)));
    }
    let placed_balance: Option<i64> = row.try_get("placed_balance_minor")?;
    let placed_held: Option<i64> = row.try_get("placed_held_minor")?;
    if let (Some(balance_minor), Some(held_minor)) = (placed_balance, placed_held) {
        tracing::info!(price_minor = new.amount_minor, "hold placed");
        crate::metrics::hold_placed(new.operation);
        let balance = Balance {
            account_id: new.account_id,
            balance_minor,
            held_minor,
        };
        return Ok(ReserveStep::Done(Some(HoldOutcome {
            hold: new.placed(),
            available_minor: balance.available_minor(),
        })));
    }
    // No hold placed: no account yet, or too little money.
    let Some(balance) = fetch_balance(pool, new.account_id).await? else {
        return Ok(ReserveStep::Done(None));
    };
    if balance.available_minor() < new.amount_minor {
        return Err(insufficient(new.amount_minor, &balance, currency));
    }
    Ok(ReserveStep::Again(balance))
}

/// The answer to a reserve whose hold insert failed because a concurrent reserve of the job committed
/// first: the hold that one placed, as a repeat.
async fn reserve_conflict(pool: &AnyPool, new: &NewHold<'_>) -> Result<HoldOutcome> {
    let hold = fetch_hold(pool, new.job_id).await?.ok_or_else(|| {
        Error::Inconsistent(format!("hold {} vanished after a conflict", new.job_id))
    })?;
    let balance = fetch_balance(pool, hold.account_id).await?;
    repeat_reserve(hold, new.account_id, new.operation, balance)
}

fn insufficient(price_minor: i64, balance: &Balance, currency: &str) -> Error {
    Error::InsufficientFunds {
        price_minor,
        available_minor: balance.available_minor(),
        currency: currency.to_string(),
    }
}

/// Settles the hold of `job` with [`SETTLE`], answering repeats and conflicts exactly as the
/// transaction path does.
pub(super) async fn settle(pool: &AnyPool, job: &str, action: Settle) -> Result<HoldOutcome> {
    let (state, first_kind, amount) = action.target();
    for _ in 0..ROUNDS {
        let now = now_unix_ms();
        let row = fetch_on_live_connection(pool, || {
            sqlx::query(SETTLE)
                .bind(job)
                .bind(state.as_db())
                .bind(amount)
                .bind(now)
                .bind(first_kind.as_db())
        })
        .await?
        .ok_or_else(|| Error::HoldNotFound {
            job_id: job.to_string(),
        })?;
        if let Some(outcome) = settle_step(pool, job, action, &row, now).await? {
            return Ok(outcome);
        }
    }
    Err(Error::Inconsistent(format!(
        "hold {job} kept changing while being settled"
    )))
}

/// Reads `row`, a result of [`SETTLE`] or one row of [`SETTLE_BATCH`] for `job` run at `now`: the
/// answer, or `None` when the statement must run again (the hold was pending when it started, but a
/// concurrent settlement moved it first, or an expiry fell due in between).
pub(super) async fn settle_step(
    pool: &AnyPool,
    job: &str,
    action: Settle,
    row: &AnyRow,
    now: i64,
) -> Result<Option<HoldOutcome>> {
    let (state, _, _) = action.target();
    let hold = hold_from_row(row)?;
    let settled_captured: Option<i64> = row.try_get("settled_captured_minor")?;
    if let Some(captured) = settled_captured {
        let after = row
            .try_get::<Option<i64>, _>("settled_balance_minor")?
            .zip(row.try_get::<Option<i64>, _>("settled_held_minor")?)
            .ok_or_else(|| {
                Error::Inconsistent(format!(
                    "account {} of hold {job} is missing",
                    hold.account_id
                ))
            })?;
        let balance = Balance {
            account_id: hold.account_id,
            balance_minor: after.0,
            held_minor: after.1,
        };
        return Ok(Some(settled(hold, state, captured, now, &balance)));
    }
    if let Some(answer) = settled_answer(&hold, action) {
        let balance = fetch_balance(pool, hold.account_id).await?;
        return answer_with_balance(answer, balance).map(Some);
    }
    if let Settle::Capture(Some(requested)) = action
        && hold.state == HoldState::Pending
        && !(0..=hold.amount_minor).contains(&requested)
    {
        return Err(capture_exceeds(&hold, requested));
    }
    Ok(None)
}

/// Runs the (idempotent) statement `query` builds; when the connection it got is dead (an I/O or
/// protocol error, or a connection-class PostgreSQL error such as 57P01 after `pg_terminate_backend`),
/// runs it again on another one — at most once per pooled connection plus one, since each dead
/// connection is dropped after failing. Other errors, and the last one, are returned as they are.
async fn fetch_on_live_connection<'q, F>(
    pool: &AnyPool,
    query: F,
) -> Result<Option<AnyRow>, sqlx::Error>
where
    F: Fn() -> Query<'q, Any, AnyArguments>,
{
    let attempts = pool.options().get_max_connections() as usize + 1;
    let mut attempt = 1;
    loop {
        // `fetch_all`, not `fetch_optional`: the statement commits when the server answers its Sync
        // (ReadyForQuery), after the row is sent. sqlx's Any driver returns from `fetch_optional` on the
        // first row, so a connection killed between the row and the commit would report a change that was
        // rolled back; `fetch_all` reads the answer to the end.
        match query().fetch_all(pool).await {
            Err(error) if attempt < attempts && is_dead_connection(&error) => {
                tracing::debug!(%error, attempt, "connection lost; running the statement again");
                attempt += 1;
            }
            result => return result.map(|rows| rows.into_iter().next()),
        }
    }
}

/// True when the connection a statement ran on is gone (not when the database refuses new ones).
fn is_dead_connection(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::Io(_) | sqlx::Error::Protocol(_) => true,
        sqlx::Error::Database(db) => db
            .code()
            .is_some_and(|code| code.starts_with("08") || code == "57P01" || code == "57P02"),
        _ => false,
    }
}
