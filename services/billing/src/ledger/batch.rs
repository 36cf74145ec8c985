//! Group commit for the PostgreSQL hot paths: concurrent Reserve calls run as one
//! [`RESERVE_BATCH`](super::postgres::RESERVE_BATCH) statement, concurrent settlements (capture, release,
//! expiry) as one [`SETTLE_BATCH`](super::postgres::SETTLE_BATCH), so PostgreSQL plans, executes and commits
//! once for many calls instead of once per call.
//!
//! Each kind has a queue and [`CONNECTIONS_PER_KIND`] batchers. A batcher takes what is waiting (at most
//! [`MAX_BATCH`] calls) — nothing waits for a batch to fill: while one batch runs, the next calls queue
//! up — and runs it on a connection of its own, taken out of the pool, with
//! `plan_cache_mode = force_custom_plan` (a plan cached for the first, small tables would keep scanning
//! them whole once they are large: the statement's input is a JSON array whose size the planner cannot
//! know). A lone call runs the one-row statement through the pool, exactly as without batching.
//!
//! A batch never holds two calls for one job, nor two reserves for one account (one statement changes a
//! row once); such calls, and settlements of a second hold of an account in the same batch, run on their
//! own right after the batch. Every call is idempotent, so whenever a batch fails as a whole — its
//! connection died, a concurrent reserve of one of its jobs committed first (unique violation), a
//! deadlock with another replica — each of its calls simply runs on its own, through the one-row path
//! and its guards. The money rules are the statements' own; batching only changes how many calls share a
//! statement.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, AnyPool, Executor as _, Row as _};
use tokio::sync::{Mutex, mpsc, oneshot};

use super::postgres::{self, RESERVE_BATCH, ReserveStep, SETTLE_BATCH};
use super::{Error, NewHold, Result, Settle};
use crate::domain::HoldOutcome;
use service_runtime::now_unix_ms;

/// Most calls one statement carries.
pub const MAX_BATCH: usize = 64;
/// Batchers (and so connections taken out of the pool) per kind of call.
pub const CONNECTIONS_PER_KIND: usize = 2;

/// How many statements carried more than one call, and how many calls they carried.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct BatchStats {
    /// Statements run for several calls at once.
    pub batches: u64,
    /// Calls answered by those statements.
    pub calls: u64,
}

#[derive(Debug, Default)]
struct Counters {
    batches: AtomicU64,
    calls: AtomicU64,
}

impl Counters {
    /// One statement answered `calls` calls.
    fn answered(&self, calls: usize) {
        self.batches.fetch_add(1, Ordering::Relaxed);
        self.calls.fetch_add(calls as u64, Ordering::Relaxed);
    }
}

/// A reserve waiting for its batch (owned copy of a [`NewHold`]).
struct ReserveCall {
    job_id: String,
    account_id: i64,
    operation: String,
    amount_minor: i64,
    created_at_ms: i64,
    expires_at_ms: i64,
    reply: oneshot::Sender<Result<Option<HoldOutcome>>>,
}

impl ReserveCall {
    fn hold(&self) -> NewHold<'_> {
        NewHold {
            job_id: &self.job_id,
            account_id: self.account_id,
            operation: &self.operation,
            amount_minor: self.amount_minor,
            created_at_ms: self.created_at_ms,
            expires_at_ms: self.expires_at_ms,
        }
    }
}

/// A settlement waiting for its batch.
struct SettleCall {
    job_id: String,
    action: Settle,
    reply: oneshot::Sender<Result<HoldOutcome>>,
}

/// The queues of both kinds; dropping the last clone stops the batchers and closes their connections.
#[derive(Debug, Clone)]
pub(super) struct Batcher {
    reserves: mpsc::UnboundedSender<ReserveCall>,
    settlements: mpsc::UnboundedSender<SettleCall>,
    counters: Arc<Counters>,
}

impl std::fmt::Debug for ReserveCall {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReserveCall")
            .field("job_id", &self.job_id)
            .finish_non_exhaustive()
    }
}

impl std::fmt::Debug for SettleCall {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SettleCall")
            .field("job_id", &self.job_id)
            .finish_non_exhaustive()
    }
}

impl Batcher {
    /// Starts the batchers on the current tokio runtime. Their connections come from `pool` when the
    /// first batch needs them.
    pub(super) fn start(pool: AnyPool, currency: Arc<str>) -> Self {
        let counters = Arc::new(Counters::default());
        let (reserves, reserve_queue) = mpsc::unbounded_channel();
        let (settlements, settle_queue) = mpsc::unbounded_channel();
        let reserve_queue = Arc::new(Mutex::new(reserve_queue));
        let settle_queue = Arc::new(Mutex::new(settle_queue));
        for _ in 0..CONNECTIONS_PER_KIND {
            tokio::spawn(run_reserves(
                pool.clone(),
                currency.clone(),
                reserve_queue.clone(),
                counters.clone(),
            ));
            tokio::spawn(run_settlements(
                pool.clone(),
                settle_queue.clone(),
                counters.clone(),
            ));
        }
        Self {
            reserves,
            settlements,
            counters,
        }
    }

    /// [`postgres::reserve`], in a batch when other reserves are waiting.
    pub(super) async fn reserve(&self, new: &NewHold<'_>) -> Result<Option<HoldOutcome>> {
        let (reply, answer) = oneshot::channel();
        self.reserves
            .send(ReserveCall {
                job_id: new.job_id.to_string(),
                account_id: new.account_id,
                operation: new.operation.to_string(),
                amount_minor: new.amount_minor,
                created_at_ms: new.created_at_ms,
                expires_at_ms: new.expires_at_ms,
                reply,
            })
            .map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }

    /// [`postgres::settle`], in a batch when other settlements are waiting.
    pub(super) async fn settle(&self, job: &str, action: Settle) -> Result<HoldOutcome> {
        let (reply, answer) = oneshot::channel();
        self.settlements
            .send(SettleCall {
                job_id: job.to_string(),
                action,
                reply,
            })
            .map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }

    /// Batches run so far.
    pub(super) fn stats(&self) -> BatchStats {
        BatchStats {
            batches: self.counters.batches.load(Ordering::Relaxed),
            calls: self.counters.calls.load(Ordering::Relaxed),
        }
    }
}

fn stopped() -> Error {
    Error::Inconsistent("the ledger's batcher stopped".into())
}

/// Takes the calls waiting in `queue` (at least one; `None` once every sender is gone).
async fn next_calls<T>(queue: &Mutex<mpsc::UnboundedReceiver<T>>) -> Option<Vec<T>> {
    let mut queue = queue.lock().await;
    let first = queue.recv().await?;
    let mut calls = vec![first];
    while calls.len() < MAX_BATCH {
        match queue.try_recv() {
            Ok(call) => calls.push(call),
            Err(_) => break,
        }
    }
    Some(calls)
}

/// Splits `calls` into a batch with distinct keys and the rest, keeping their order.
fn distinct<T>(calls: Vec<T>, keys: impl Fn(&T) -> (String, Option<i64>)) -> (Vec<T>, Vec<T>) {
    let mut jobs = HashSet::new();
    let mut accounts = HashSet::new();
    let (mut batch, mut rest) = (Vec::new(), Vec::new());
    for call in calls {
        let (job, account) = keys(&call);
        let fresh_account = account.is_none_or(|account| !accounts.contains(&account));
        if fresh_account && !jobs.contains(&job) {
            jobs.insert(job);
            accounts.extend(account);
            batch.push(call);
        } else {
            rest.push(call);
        }
    }
    (batch, rest)
}

/// A connection of the batcher's own, set up for batches; `None` after it failed.
async fn batch_connection<'c>(
    pool: &AnyPool,
    connection: &'c mut Option<AnyConnection>,
) -> Result<&'c mut AnyConnection, sqlx::Error> {
    if connection.is_none() {
        let mut fresh = pool.acquire().await?.detach();
        fresh
            .execute("SET plan_cache_mode = force_custom_plan")
            .await?;
        *connection = Some(fresh);
    }
    connection
        .as_mut()
        .ok_or_else(|| sqlx::Error::Protocol("no batch connection".into()))
}

/// Runs `sql` with the JSON `input` (and `now` when given) on the batcher's connection; any failure
/// drops the connection (a fresh one is taken for the next batch).
async fn run_batch(
    pool: &AnyPool,
    connection: &mut Option<AnyConnection>,
    sql: &'static str,
    input: String,
    now: Option<i64>,
) -> Result<Vec<AnyRow>, sqlx::Error> {
    let conn = batch_connection(pool, connection).await?;
    let mut query = sqlx::query(sql).bind(input);
    if let Some(now) = now {
        query = query.bind(now);
    }
    // `fetch_all` reads the answer to the end, past the commit (see `fetch_on_live_connection`).
    let result = query.fetch_all(&mut *conn).await;
    if result.is_err() {
        *connection = None;
    }
    result
}

#[derive(Serialize)]
struct ReserveInput<'a> {
    n: usize,
    #[serde(flatten)]
    hold: NewHold<'a>,
}

#[derive(Serialize)]
struct SettleInput<'a> {
    n: usize,
    job_id: &'a str,
    state: &'static str,
    amount_minor: Option<i64>,
    kind: &'static str,
}

async fn run_reserves(
    pool: AnyPool,
    currency: Arc<str>,
    queue: Arc<Mutex<mpsc::UnboundedReceiver<ReserveCall>>>,
    counters: Arc<Counters>,
) {
    let mut connection = None;
    while let Some(calls) = next_calls(&queue).await {
        let (mut batch, rest) =
            distinct(calls, |call| (call.job_id.clone(), Some(call.account_id)));
        if batch.len() > 1 {
            // The statement locks the accounts in id order itself; the same order here keeps its
            // entries in that order too.
            batch.sort_by_key(|call| call.account_id);
            let input: Vec<ReserveInput<'_>> = batch
                .iter()
                .enumerate()
                .map(|(n, call)| ReserveInput {
                    n,
                    hold: call.hold(),
                })
                .collect();
            let rows = match serde_json::to_string(&input) {
                Ok(input) => run_batch(&pool, &mut connection, RESERVE_BATCH, input, None).await,
                Err(error) => Err(sqlx::Error::Encode(Box::new(error))),
            };
            match rows {
                Ok(rows) if rows.len() == batch.len() => {
                    counters.answered(batch.len());
                    for (call, row) in batch.into_iter().zip(rows) {
                        tokio::spawn(answer_reserve(
                            pool.clone(),
                            currency.clone(),
                            call,
                            Some(row),
                        ));
                    }
                }
                result => {
                    if let Err(error) = result {
                        tracing::debug!(%error, calls = batch.len(), "reserve batch failed; each call runs on its own");
                    }
                    for call in batch {
                        tokio::spawn(answer_reserve(pool.clone(), currency.clone(), call, None));
                    }
                }
            }
        } else {
            for call in batch {
                tokio::spawn(answer_reserve(pool.clone(), currency.clone(), call, None));
            }
        }
        for call in rest {
            tokio::spawn(answer_reserve(pool.clone(), currency.clone(), call, None));
        }
    }
}

/// Answers `call` from its batch's `row`, or through the one-row path when there is none or the row
/// asks for another round.
async fn answer_reserve(pool: AnyPool, currency: Arc<str>, call: ReserveCall, row: Option<AnyRow>) {
    let new = call.hold();
    let answer = match row {
        Some(row) => match postgres::reserve_step(&pool, &new, &currency, &row).await {
            Ok(ReserveStep::Done(outcome)) => Ok(outcome),
            Ok(ReserveStep::Again(_)) => postgres::reserve(&pool, &new, &currency).await,
            Err(error) => Err(error),
        },
        None => postgres::reserve(&pool, &new, &currency).await,
    };
    // The caller may have gone (its request was cancelled); the hold stays, as it would have anyway.
    let _ = call.reply.send(answer);
}

async fn run_settlements(
    pool: AnyPool,
    queue: Arc<Mutex<mpsc::UnboundedReceiver<SettleCall>>>,
    counters: Arc<Counters>,
) {
    let mut connection = None;
    while let Some(calls) = next_calls(&queue).await {
        let (mut batch, rest) = distinct(calls, |call| (call.job_id.clone(), None));
        if batch.len() > 1 {
            // Holds are updated in input order: job-id order in every batch, so two batches that share
            // jobs (a repeated settlement) wait on each other instead of deadlocking.
            batch.sort_by(|a, b| a.job_id.cmp(&b.job_id));
            let input: Vec<SettleInput<'_>> = batch
                .iter()
                .enumerate()
                .map(|(n, call)| {
                    let (state, kind, amount_minor) = call.action.target();
                    SettleInput {
                        n,
                        job_id: &call.job_id,
                        state: state.as_db(),
                        amount_minor,
                        kind: kind.as_db(),
                    }
                })
                .collect();
            let now = now_unix_ms();
            let rows = match serde_json::to_string(&input) {
                Ok(input) => {
                    run_batch(&pool, &mut connection, SETTLE_BATCH, input, Some(now)).await
                }
                Err(error) => Err(sqlx::Error::Encode(Box::new(error))),
            };
            match rows {
                Ok(rows) if rows.len() == batch.len() => {
                    counters.answered(batch.len());
                    for (call, row) in batch.into_iter().zip(rows) {
                        tokio::spawn(answer_settlement(pool.clone(), call, Some((row, now))));
                    }
                }
                result => {
                    if let Err(error) = result {
                        tracing::debug!(%error, calls = batch.len(), "settlement batch failed; each call runs on its own");
                    }
                    for call in batch {
                        tokio::spawn(answer_settlement(pool.clone(), call, None));
                    }
                }
            }
        } else {
            for call in batch {
                tokio::spawn(answer_settlement(pool.clone(), call, None));
            }
        }
        for call in rest {
            tokio::spawn(answer_settlement(pool.clone(), call, None));
        }
    }
}

/// Answers `call` from its batch's row (run at `now`), or through the one-row path when there is none,
/// the job's hold was left for its own statement (another hold of its account was in the batch), or the
/// row asks for another round.
async fn answer_settlement(pool: AnyPool, call: SettleCall, row: Option<(AnyRow, i64)>) {
    let answer = match row {
        Some((row, now)) => settle_from_row(&pool, &call, &row, now).await,
        None => postgres::settle(&pool, &call.job_id, call.action).await,
    };
    let _ = call.reply.send(answer);
}

async fn settle_from_row(
    pool: &AnyPool,
    call: &SettleCall,
    row: &AnyRow,
    now: i64,
) -> Result<HoldOutcome> {
    let job: Option<String> = row.try_get("job_id")?;
    if job.is_none() {
        return Err(Error::HoldNotFound {
            job_id: call.job_id.clone(),
        });
    }
    let account_rank: Option<i64> = row.try_get("account_rank")?;
    if account_rank == Some(1)
        && let Some(outcome) =
            postgres::settle_step(pool, &call.job_id, call.action, row, now).await?
    {
        return Ok(outcome);
    }
    postgres::settle(pool, &call.job_id, call.action).await
}

#[cfg(test)]
mod tests {
    use super::distinct;

    #[test]
    fn a_batch_holds_each_job_and_each_account_once() {
        let calls = vec![("a", 1), ("b", 2), ("a", 3), ("c", 1), ("d", 4)];
        let (batch, rest) = distinct(calls, |(job, account)| (job.to_string(), Some(*account)));
        assert_eq!(batch, vec![("a", 1), ("b", 2), ("d", 4)]);
        assert_eq!(rest, vec![("a", 3), ("c", 1)]);
        let (batch, rest) = distinct(vec!["x", "y", "x"], |job| (job.to_string(), None));
        assert_eq!((batch, rest), (vec!["x", "y"], vec!["x"]));
    }
}
