//! Administrators and `/add_balance [<telegram id>] <amount in ₽>`: who may credit accounts, how the
//! command's arguments are validated, and the idempotency key that keeps a replayed update from
//! crediting twice. The Telegram handler only calls these and billing's TopUp.

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

/// The largest amount one `/add_balance` may credit: 100 000 ₽, in kopecks.
pub const MAX_TOP_UP_MINOR: i64 = 100_000 * 100;

/// Telegram user ids allowed to run admin commands (`ADMIN_IDS=1,2,3`; empty: nobody).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AdminIds(BTreeSet<u64>);

impl AdminIds {
    /// True if `user_id` is an administrator.
    pub fn contains(&self, user_id: u64) -> bool {
        self.0.contains(&user_id)
    }

    /// The administrators' Telegram user ids, ascending.
    pub fn iter(&self) -> impl Iterator<Item = u64> + '_ {
        self.0.iter().copied()
    }

    /// How many administrators there are.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// True when nobody is an administrator.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl FromStr for AdminIds {
    type Err = String;

    /// Comma- (or space-) separated positive Telegram user ids; an empty string is an empty list.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        s.split(|c: char| c == ',' || c.is_whitespace())
            .filter(|part| !part.is_empty())
            .map(|part| {
                part.parse::<u64>()
                    .ok()
                    .filter(|id| *id > 0)
                    .ok_or_else(|| format!("not a Telegram user id: {part:?}"))
            })
            .collect::<Result<BTreeSet<_>, _>>()
            .map(AdminIds)
    }
}

/// Why `/add_balance` arguments were refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AddBalanceError {
    /// No amount, or more than two arguments.
    #[error("usage: /add_balance [<telegram id>] <amount>")]
    Usage,
    /// The Telegram id is not a positive integer.
    #[error("not a Telegram user id")]
    BadUserId,
    /// The amount is not a number such as `100`, `100.5` or `100,50`.
    #[error("not an amount")]
    NotANumber,
    /// Zero or negative.
    #[error("the amount must be positive")]
    NotPositive,
    /// More than two digits after the decimal separator.
    #[error("at most two decimals (kopecks)")]
    TooManyDecimals,
    /// Above [`MAX_TOP_UP_MINOR`].
    #[error("the amount is above the limit")]
    TooLarge,
}

/// Validated `/add_balance` arguments.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AddBalance {
    /// The account to credit; `None`: the admin's own.
    pub account_id: Option<i64>,
    /// The amount, kopecks: positive, at most [`MAX_TOP_UP_MINOR`].
    pub amount_minor: i64,
}

impl AddBalance {
    /// Parses the text after the command: `<amount>` or `<telegram id> <amount>`.
    pub fn parse(args: &str) -> Result<Self, AddBalanceError> {
        let words: Vec<&str> = args.split_whitespace().collect();
        let (account_id, amount) = match words.as_slice() {
            [amount] => (None, *amount),
            [id, amount] => {
                let id = id
                    .parse::<i64>()
                    .ok()
                    .filter(|id| *id > 0)
                    .ok_or(AddBalanceError::BadUserId)?;
                (Some(id), *amount)
            }
            _ => return Err(AddBalanceError::Usage),
        };
        Ok(Self {
            account_id,
            amount_minor: parse_rubles(amount)?,
        })
    }
}

/// Parses rubles with at most two decimals, `.` or `,` as separator (`"100"`, `"100.5"`, `"100,50"`),
/// into kopecks; positive and at most [`MAX_TOP_UP_MINOR`].
pub fn parse_rubles(text: &str) -> Result<i64, AddBalanceError> {
    let text = text.trim();
    if text.starts_with('-') {
        return Err(AddBalanceError::NotPositive);
    }
    let (whole, fraction) = match text.split_once(['.', ',']) {
        Some((whole, fraction)) => (whole, fraction),
        None => (text, ""),
    };
    let digits = |s: &str| s.chars().all(|c| c.is_ascii_digit());
    if whole.is_empty() || !digits(whole) || !digits(fraction) {
        return Err(AddBalanceError::NotANumber);
    }
    if text.len() > whole.len() && fraction.is_empty() {
        // "100." or "100,"
        return Err(AddBalanceError::NotANumber);
    }
    if fraction.len() > 2 {
        return Err(AddBalanceError::TooManyDecimals);
    }
    // Anything with more digits than the limit has is too large, and cannot overflow below.
    let whole = whole.trim_start_matches('0');
    if whole.len() > 7 {
        return Err(AddBalanceError::TooLarge);
    }
    let rubles: i64 = if whole.is_empty() {
        0
    } else {
        whole.parse().map_err(|_| AddBalanceError::NotANumber)?
    };
    let kopecks: i64 = match fraction.len() {
        0 => 0,
        1 => {
            fraction
                .parse::<i64>()
                .map_err(|_| AddBalanceError::NotANumber)?
                * 10
        }
        _ => fraction.parse().map_err(|_| AddBalanceError::NotANumber)?,
    };
    let minor = rubles * 100 + kopecks;
    if minor <= 0 {
        return Err(AddBalanceError::NotPositive);
    }
    if minor > MAX_TOP_UP_MINOR {
        return Err(AddBalanceError::TooLarge);
    }
    Ok(minor)
}

/// The TopUp idempotency key of an `/add_balance` message: the same chat and message id always give
/// the same key, so a replayed update credits nothing twice.
pub fn idempotency_key(chat_id: i64, message_id: i32) -> String {
    format!("tg-add-balance:{chat_id}:{message_id}")
}

/// The TopUp `source` of a credit by the admin with this Telegram id.
pub fn source(admin_id: u64) -> String {
    format!("admin:{admin_id}")
}

impl fmt::Display for AdminIds {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ids: Vec<String> = self.0.iter().map(u64::to_string).collect();
        f.write_str(&ids.join(","))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_in_rubles() {
        assert_eq!(parse_rubles("100"), Ok(10_000));
        assert_eq!(parse_rubles("100.5"), Ok(10_050));
        assert_eq!(parse_rubles("100,50"), Ok(10_050));
        assert_eq!(parse_rubles("0.01"), Ok(1));
        assert_eq!(parse_rubles("100000"), Ok(MAX_TOP_UP_MINOR));
        assert_eq!(parse_rubles("-1"), Err(AddBalanceError::NotPositive));
        assert_eq!(parse_rubles("0"), Err(AddBalanceError::NotPositive));
        assert_eq!(parse_rubles("0,00"), Err(AddBalanceError::NotPositive));
        assert_eq!(parse_rubles("1.234"), Err(AddBalanceError::TooManyDecimals));
        assert_eq!(parse_rubles("abc"), Err(AddBalanceError::NotANumber));
        assert_eq!(parse_rubles("1e3"), Err(AddBalanceError::NotANumber));
        assert_eq!(parse_rubles("1.2.3"), Err(AddBalanceError::NotANumber));
        assert_eq!(parse_rubles("100."), Err(AddBalanceError::NotANumber));
        assert_eq!(parse_rubles(".5"), Err(AddBalanceError::NotANumber));
        assert_eq!(parse_rubles("+5"), Err(AddBalanceError::NotANumber));
        assert_eq!(parse_rubles("100000.01"), Err(AddBalanceError::TooLarge));
        assert_eq!(
            parse_rubles("99999999999999999999999"),
            Err(AddBalanceError::TooLarge)
        );
    }

    #[test]
    fn add_balance_arguments() {
        assert_eq!(
            AddBalance::parse("100"),
            Ok(AddBalance {
                account_id: None,
                amount_minor: 10_000
            })
        );
        assert_eq!(
            AddBalance::parse(" 123456  50,5 "),
            Ok(AddBalance {
                account_id: Some(123_456),
                amount_minor: 5_050
            })
        );
        assert_eq!(AddBalance::parse(""), Err(AddBalanceError::Usage));
        assert_eq!(AddBalance::parse("1 2 3"), Err(AddBalanceError::Usage));
        assert_eq!(AddBalance::parse("-5 10"), Err(AddBalanceError::BadUserId));
        assert_eq!(AddBalance::parse("x 10"), Err(AddBalanceError::BadUserId));
        assert_eq!(AddBalance::parse("7 abc"), Err(AddBalanceError::NotANumber));
    }

    #[test]
    fn admin_ids_from_env() {
        let ids: AdminIds = "1, 22,333".parse().unwrap();
        assert!(ids.contains(22) && ids.contains(333) && !ids.contains(4));
        assert_eq!(ids.len(), 3);
        assert!("".parse::<AdminIds>().unwrap().is_empty());
        assert!("1,x".parse::<AdminIds>().is_err());
        assert!("0".parse::<AdminIds>().is_err());
        assert_eq!(ids.to_string(), "1,22,333");
    }

    #[test]
    fn keys_follow_the_update() {
        assert_eq!(idempotency_key(-100, 7), idempotency_key(-100, 7));
        assert_ne!(idempotency_key(-100, 7), idempotency_key(-100, 8));
        assert_eq!(source(5), "admin:5");
    }
}
