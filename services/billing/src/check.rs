//! `billing check`: the ledger's invariants, verified straight on the database for operators.
//!
//! Every rule the ledger keeps in its transactions is checked again from the stored rows, in one
//! read-only snapshot (REPEATABLE READ on PostgreSQL, a read transaction on SQLite), so it can run beside
//! a live service:
//!
//! - per account: `balance = Σ entries`, `held = Σ pending holds`, `held ≥ 0`, `balance − held ≥ 0`,
//!   and each entry's `balance_after_minor` equals the running sum of the entries up to it;
//! - per hold: exactly one `hold` entry; the settlement entries match its one final state (captured:
//!   one `capture` entry of `−captured_minor`, plus one `release` entry when only part was taken;
//!   released: one `release`; expired: one `expiry`; pending: none), `settled_at` set iff settled;
//! - no job entry without a hold, and no pending hold past `expires_at` by more than the grace period
//!   (the sweeper should have expired it).
//!
//! Each problem names the account (and the job id where there is one).

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::time::Duration;

use sqlx::Row as _;

use crate::db::{Backend, Db};
use crate::domain::HoldState;

/// One broken invariant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The account it concerns.
    pub account_id: i64,
    /// The job id, for problems of one hold.
    pub job_id: Option<String>,
    /// What is wrong, in words.
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.job_id {
            Some(job) => write!(
                f,
                "account {}, job {job}: {}",
                self.account_id, self.message
            ),
            None => write!(f, "account {}: {}", self.account_id, self.message),
        }
    }
}

/// What a check found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// Accounts checked.
    pub accounts: usize,
    /// Holds checked.
    pub holds: usize,
    /// Of which pending.
    pub pending_holds: usize,
    /// Ledger entries checked.
    pub entries: usize,
    /// Everything wrong, by account.
    pub problems: Vec<Problem>,
}

impl Report {
    /// True when nothing is wrong.
    pub fn is_ok(&self) -> bool {
        self.problems.is_empty()
    }

    /// The one-line summary printed after the problems.
    pub fn summary(&self) -> String {
        let counts = format!(
            "{} accounts, {} holds ({} pending), {} ledger entries",
            self.accounts, self.holds, self.pending_holds, self.entries
        );
        if self.is_ok() {
            format!("ledger ok: {counts}")
        } else {
            format!(
                "ledger check FAILED: {} problem(s) in {counts}",
                self.problems.len()
            )
        }
    }
}

/// Per-account sums built from the entries and holds.
#[derive(Default)]
struct Derived {
    entries_sum: i64,
    pending_sum: i64,
}

/// Settlement entries seen for one job: (kind → count, sum of amounts).
#[derive(Default)]
struct JobEntries {
    account_id: i64,
    counts: HashMap<String, (usize, i64)>,
}

impl JobEntries {
    fn count(&self, kind: &str) -> usize {
        self.counts.get(kind).map_or(0, |c| c.0)
    }
    fn sum(&self, kind: &str) -> i64 {
        self.counts.get(kind).map_or(0, |c| c.1)
    }
}

/// Checks the whole ledger at `now_ms` (ms since the Unix epoch); pending holds may be overdue by at
/// most `grace`. Errors only when the database cannot be read.
pub async fn run(db: &Db, now_ms: i64, grace: Duration) -> Result<Report, sqlx::Error> {
    let begin = match db.backend() {
        Backend::Postgres => "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
        // A deferred transaction reads one snapshot (WAL) from its first read on.
        Backend::Sqlite => "BEGIN",
    };
    let mut tx = db.pool().begin_with(begin).await?;
    let mut report = Report::default();
    let mut derived: BTreeMap<i64, Derived> = BTreeMap::new();
    let mut jobs: HashMap<String, JobEntries> = HashMap::new();

    // Entries, per account in id order: running sums and balance_after.
    let entries = sqlx::query(
        "SELECT id, account_id, kind, amount_minor, balance_after_minor, reference \
         FROM ledger_entries ORDER BY account_id, id",
    )
    .fetch_all(&mut *tx)
    .await?;
    for row in &entries {
        let id: i64 = row.try_get("id")?;
        let account_id: i64 = row.try_get("account_id")?;
        let kind: String = row.try_get("kind")?;
        let amount: i64 = row.try_get("amount_minor")?;
        let after: i64 = row.try_get("balance_after_minor")?;
        let reference: String = row.try_get("reference")?;
        let d = derived.entry(account_id).or_default();
        d.entries_sum = d.entries_sum.saturating_add(amount);
        if after != d.entries_sum {
            report.problems.push(Problem {
                account_id,
                job_id: None,
                message: format!(
                    "entry {id} ({kind}) records balance_after {after} but the entries up to it sum to {}",
                    d.entries_sum
                ),
            });
        }
        if matches!(kind.as_str(), "hold" | "capture" | "release" | "expiry") {
            let job = jobs.entry(reference).or_default();
            job.account_id = account_id;
            let c = job.counts.entry(kind).or_default();
            c.0 += 1;
            c.1 = c.1.saturating_add(amount);
        }
    }
    report.entries = entries.len();

    let holds = sqlx::query(
        "SELECT job_id, account_id, amount_minor, captured_minor, state, expires_at_ms, settled_at_ms \
         FROM holds ORDER BY account_id, job_id",
    )
    .fetch_all(&mut *tx)
    .await?;
    let grace_ms = i64::try_from(grace.as_millis()).unwrap_or(i64::MAX);
    for row in &holds {
        let job_id: String = row.try_get("job_id")?;
        let account_id: i64 = row.try_get("account_id")?;
        let amount: i64 = row.try_get("amount_minor")?;
        let captured: i64 = row.try_get("captured_minor")?;
        let state_name: String = row.try_get("state")?;
        let expires_at: i64 = row.try_get("expires_at_ms")?;
        let settled_at: Option<i64> = row.try_get("settled_at_ms")?;
        let mut messages = Vec::new();
        let mut pending = false;
        let mut problem = |message: String| messages.push(message);
        let seen = jobs.remove(&job_id).unwrap_or_default();
        if seen.count("hold") != 0 && seen.account_id != account_id {
            problem(format!(
                "its ledger entries are on account {}",
                seen.account_id
            ));
        }
        if seen.count("hold") != 1 {
            problem(format!("{} hold entries instead of 1", seen.count("hold")));
        }
        let state = HoldState::from_db(&state_name);
        if state.is_none() {
            problem(format!("unknown hold state {state_name:?}"));
        }
        if let Some(state) = state {
            let (captures, releases, expiries) = (
                seen.count("capture"),
                seen.count("release"),
                seen.count("expiry"),
            );
            // (captures, releases, expiries) the state calls for.
            let expected = match state {
                HoldState::Pending => (0, 0, 0),
                HoldState::Captured => (1, usize::from(captured < amount), 0),
                HoldState::Released => (0, 1, 0),
                HoldState::Expired => (0, 0, 1),
            };
            if (captures, releases, expiries) != expected {
                problem(format!(
                    "state {state} (captured {captured} of {amount}) but the ledger has {captures} capture, \
                 {releases} release and {expiries} expiry entries"
                ));
            }
            if state == HoldState::Captured && seen.sum("capture") != -captured {
                problem(format!(
                    "captured {captured} but its capture entries sum to {}",
                    seen.sum("capture")
                ));
            }
            if state != HoldState::Captured && captured != 0 {
                problem(format!("state {state} with captured_minor {captured}"));
            }
            if (state == HoldState::Pending) == settled_at.is_some() {
                problem(format!("state {state} with settled_at {settled_at:?}"));
            }
            if state == HoldState::Pending {
                pending = true;
                if expires_at.saturating_add(grace_ms) < now_ms {
                    problem(format!(
                        "still pending {} s after it expired (grace {} s): the sweeper is not running, or cannot ask NATS",
                        (now_ms - expires_at) / 1000,
                        grace.as_secs()
                    ));
                }
            }
        }
        if pending {
            report.pending_holds += 1;
            let d = derived.entry(account_id).or_default();
            d.pending_sum = d.pending_sum.saturating_add(amount);
        }
        report
            .problems
            .extend(messages.into_iter().map(|message| Problem {
                account_id,
                job_id: Some(job_id.clone()),
                message,
            }));
    }
    report.holds = holds.len();
    let mut orphans: Vec<_> = jobs.into_iter().collect();
    orphans.sort_by(|a, b| a.0.cmp(&b.0));
    for (job_id, seen) in orphans {
        report.problems.push(Problem {
            account_id: seen.account_id,
            job_id: Some(job_id),
            message: "ledger entries for a job that has no hold".into(),
        });
    }

    let accounts = sqlx::query("SELECT id, balance_minor, held_minor FROM accounts ORDER BY id")
        .fetch_all(&mut *tx)
        .await?;
    for row in &accounts {
        let account_id: i64 = row.try_get("id")?;
        let balance: i64 = row.try_get("balance_minor")?;
        let held: i64 = row.try_get("held_minor")?;
        let d = derived.remove(&account_id).unwrap_or_default();
        let mut problem = |message: String| {
            report.problems.push(Problem {
                account_id,
                job_id: None,
                message,
            });
        };
        if balance != d.entries_sum {
            problem(format!(
                "stored balance {balance} but the ledger entries sum to {}",
                d.entries_sum
            ));
        }
        if held != d.pending_sum {
            problem(format!(
                "stored held {held} but the pending holds sum to {}",
                d.pending_sum
            ));
        }
        if held < 0 {
            problem(format!("held {held} is negative"));
        }
        if balance - held < 0 {
            problem(format!(
                "available {} is negative (balance {balance}, held {held})",
                balance - held
            ));
        }
    }
    report.accounts = accounts.len();
    for (account_id, _) in derived {
        report.problems.push(Problem {
            account_id,
            job_id: None,
            message: "ledger entries or holds for an account that does not exist".into(),
        });
    }
    tx.rollback().await?;
    report
        .problems
        .sort_by(|a, b| (a.account_id, &a.job_id).cmp(&(b.account_id, &b.job_id)));
    Ok(report)
}
