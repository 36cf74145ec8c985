//! The price list: what each paid operation costs, as data. It is read from a TOML file at start-up
//! (the shipped `services/billing/prices.toml` is built in as the default; `--prices-file` replaces it),
//! checked entry by entry, and kept as `mediabot.billing.v1.Price` entries, which `ListPrices` serves
//! as they are and [`PriceList::price_of`] matches with the catalog's one rule
//! ([`mediabot_proto::catalog::price_of`]: the entry naming the most parameters wins; per-minute prices
//! count started minutes). Nothing else in billing knows a price.
//!
//! The file (format documented in `prices.toml` itself and in the README) is one array of inline tables,
//! so a new price is one line:
//!
//! ```toml
//! prices = [
//!   { operation = "image.upscale", params = { factor = "2" }, amount_minor = 500 },
//!   { operation = "speech.transcribe", amount_minor = 300, unit = "started_minute" },
//!   { operation = "gen.create", amount_minor = 1000, multiplier = { model = { "flux-schnell" = 1, "flux-pro" = 2.5 } } },
//! ]
//! ```
//!
//! A `multiplier` is expanded at load time into one concrete entry per listed value (per combination,
//! when several parameters have multipliers), so matching never sees it.

use std::collections::BTreeMap;
use std::path::Path;

use mediabot_proto::billing::v1::{Price, PriceUnit};
use mediabot_proto::jobs::v1::Operation;
use serde::Deserialize;

/// The shipped price list (`services/billing/prices.toml`), used when no file is given.
pub const BUILT_IN: &str = include_str!("../prices.toml");

/// Name of the built-in list in error messages.
const BUILT_IN_NAME: &str = "built-in prices.toml";

/// Multipliers are decimals with at most this many fractional digits (they are applied exactly, in
/// millionths, never as floats).
const MULTIPLIER_SCALE: i128 = 1_000_000;

/// Why a price list cannot be used. Every variant names the file; entry problems name the line and the
/// entry (1-based, in file order).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The file could not be read.
    #[error("reading the price list {path}: {source}")]
    Read {
        /// The path given.
        path: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// Not TOML, or not the shape of a price list (the message carries the line and column).
    #[error("price list {file}: {message}")]
    Syntax {
        /// The file (or the built-in list).
        file: String,
        /// The parser's message, with line and column.
        message: String,
    },
    /// One entry is invalid.
    #[error("price list {file}, line {line}, entry {entry} ({operation}): {reason}")]
    Entry {
        /// The file (or the built-in list).
        file: String,
        /// Line of the entry, 1-based.
        line: usize,
        /// Position of the entry in `prices`, 1-based.
        entry: usize,
        /// Its operation id as written.
        operation: String,
        /// What is wrong.
        reason: String,
    },
    /// The list has no entries: nothing could be bought.
    #[error("price list {file} lists no prices")]
    Empty {
        /// The file (or the built-in list).
        file: String,
    },
}

/// How an entry's amount is counted (the file's `unit`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Unit {
    /// `amount_minor` per job (the default).
    #[default]
    Job,
    /// `amount_minor` per started minute of input audio.
    StartedMinute,
}

impl From<Unit> for PriceUnit {
    fn from(unit: Unit) -> Self {
        match unit {
            Unit::Job => PriceUnit::Job,
            Unit::StartedMinute => PriceUnit::StartedMinute,
        }
    }
}

/// One concrete price (multipliers already applied).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PriceEntry {
    /// Operation id from the catalog, e.g. `image.upscale`.
    pub operation: String,
    /// Parameter values the entry applies to (empty: any), e.g. `{factor: "2"}`.
    pub params: BTreeMap<String, String>,
    /// The price in minor units, per [`unit`](Self::unit).
    pub amount_minor: i64,
    /// How the amount is counted.
    pub unit: Unit,
}

impl PriceEntry {
    /// The entry as `ListPrices` serves it, in `currency` (an ISO 4217 code).
    pub fn to_proto(&self, currency: &str) -> Price {
        Price {
            operation: self.operation.clone(),
            amount_minor: self.amount_minor,
            currency: currency.to_string(),
            params: self
                .params
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            unit: PriceUnit::from(self.unit) as i32,
        }
    }

    /// `image.upscale factor=2`: the entry in words, for messages.
    fn describe(&self) -> String {
        let mut text = self.operation.clone();
        for (name, value) in &self.params {
            text.push_str(&format!(" {name}={value}"));
        }
        text
    }
}

/// The loaded price list, in file order (multiplier expansions in value order).
#[derive(Debug, Clone, PartialEq)]
pub struct PriceList {
    prices: Vec<Price>,
}

impl PriceList {
    /// Loads the file at `path`, or the built-in list when `None`; prices are in `currency`.
    /// Errors: [`Error`], naming the file and, for a bad entry, its line.
    pub fn load(path: Option<&Path>, currency: &str) -> Result<Self, Error> {
        match path {
            None => Self::parse(BUILT_IN, BUILT_IN_NAME, currency),
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|source| Error::Read {
                    path: path.display().to_string(),
                    source,
                })?;
                Self::parse(&text, &path.display().to_string(), currency)
            }
        }
    }

    /// Parses price-list TOML; `file` names it in errors.
    pub fn parse(text: &str, file: &str, currency: &str) -> Result<Self, Error> {
        let parsed: PriceFile = toml::from_str(text).map_err(|e| Error::Syntax {
            file: file.to_string(),
            message: e.to_string().trim_end().to_string(),
        })?;
        let mut entries: Vec<(PriceEntry, usize)> = Vec::new();
        for (index, raw) in parsed.prices.iter().enumerate() {
            let line = line_of(text, raw.span().start);
            let raw = raw.get_ref();
            let fail = |reason: String| Error::Entry {
                file: file.to_string(),
                line,
                entry: index + 1,
                operation: raw.operation.clone(),
                reason,
            };
            for entry in raw.expand().map_err(fail)? {
                if let Some((_, first)) = entries
                    .iter()
                    .find(|(e, _)| e.operation == entry.operation && e.params == entry.params)
                {
                    return Err(fail(format!(
                        "a second price for {} (entry {first} already sets one)",
                        entry.describe()
                    )));
                }
                entries.push((entry, index + 1));
            }
        }
        if entries.is_empty() {
            return Err(Error::Empty {
                file: file.to_string(),
            });
        }
        Ok(Self {
            prices: entries
                .into_iter()
                .map(|(e, _)| e.to_proto(currency))
                .collect(),
        })
    }

    /// The price of `operation` in minor units, and the entry that set it; `None` when no entry
    /// matches (the operation cannot be bought). `audio_duration_ms` counts for per-minute prices (0:
    /// unknown, one minute).
    pub fn price_of(&self, operation: &Operation, audio_duration_ms: u64) -> Option<(i64, &Price)> {
        mediabot_proto::catalog::price_of(&self.prices, operation, audio_duration_ms)
    }

    /// Every entry, as `ListPrices` returns them.
    pub fn as_proto(&self) -> &[Price] {
        &self.prices
    }
}

/// The file: `prices = [ {...}, ... ]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PriceFile {
    #[serde(default)]
    prices: Vec<toml::Spanned<RawEntry>>,
}

/// One entry as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEntry {
    operation: String,
    #[serde(default)]
    params: BTreeMap<String, ParamValue>,
    amount_minor: i64,
    #[serde(default)]
    unit: Unit,
    #[serde(default)]
    multiplier: BTreeMap<String, BTreeMap<String, f64>>,
}

/// A parameter value as written: `"2"`, `2` and `true` all mean the text the catalog compares.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
enum ParamValue {
    Text(String),
    Integer(i64),
    Bool(bool),
}

impl ParamValue {
    fn into_text(self) -> String {
        match self {
            ParamValue::Text(text) => text,
            ParamValue::Integer(n) => n.to_string(),
            ParamValue::Bool(b) => b.to_string(),
        }
    }
}

impl RawEntry {
    /// Checks the entry and applies its multipliers: one concrete entry per combination of listed
    /// values (just itself when it has none).
    fn expand(&self) -> Result<Vec<PriceEntry>, String> {
        check_operation_id(&self.operation)?;
        if self.amount_minor < 0 {
            return Err(format!(
                "amount_minor must not be negative, got {}",
                self.amount_minor
            ));
        }
        let mut params = BTreeMap::new();
        for (name, value) in &self.params {
            check_param(name)?;
            let value = value.clone().into_text();
            check_value(name, &value)?;
            params.insert(name.clone(), value);
        }
        // Exact arithmetic: every combination's amount is `numerator / MULTIPLIER_SCALE^scale`.
        let too_large = || "amount_minor x multiplier is too large".to_string();
        let mut combinations = vec![(params, i128::from(self.amount_minor))];
        let mut scale: u32 = 0;
        for (name, factors) in &self.multiplier {
            check_param(name)?;
            if self.params.contains_key(name) {
                return Err(format!(
                    "parameter {name:?} is in both params and multiplier"
                ));
            }
            if factors.is_empty() {
                return Err(format!("multiplier.{name} lists no values"));
            }
            let mut next = Vec::with_capacity(combinations.len() * factors.len());
            for (params, numerator) in &combinations {
                for (value, factor) in factors {
                    check_value(name, value)?;
                    let factor = millionths(*factor)
                        .map_err(|reason| format!("multiplier.{name}.{value}: {reason}"))?;
                    let mut params = params.clone();
                    params.insert(name.clone(), value.clone());
                    next.push((params, numerator.checked_mul(factor).ok_or_else(too_large)?));
                }
            }
            combinations = next;
            scale += 1;
        }
        let denominator = MULTIPLIER_SCALE.checked_pow(scale).ok_or_else(too_large)?;
        combinations
            .into_iter()
            .map(|(params, numerator)| {
                if numerator % denominator != 0 {
                    return Err(format!(
                        "amount_minor x multiplier for {params:?} is {}, not a whole number of minor units",
                        numerator as f64 / denominator as f64
                    ));
                }
                let amount_minor =
                    i64::try_from(numerator / denominator).map_err(|_| too_large())?;
                Ok(PriceEntry {
                    operation: self.operation.clone(),
                    params,
                    amount_minor,
                    unit: self.unit,
                })
            })
            .collect()
    }
}

/// A multiplier in millionths: finite, ≥ 0, at most six decimals.
fn millionths(factor: f64) -> Result<i128, String> {
    if !factor.is_finite() || factor < 0.0 {
        return Err(format!("must be a number >= 0, got {factor}"));
    }
    let scaled = factor * MULTIPLIER_SCALE as f64;
    let rounded = scaled.round();
    if (scaled - rounded).abs() > 1e-3 || rounded > 1e15 {
        return Err(format!(
            "at most 6 decimal places and below 10^9, got {factor}"
        ));
    }
    // In range by the check above.
    Ok(rounded as i128)
}

/// An operation id: dotted lower-case words, as the catalog spells them (`image.upscale`).
fn check_operation_id(id: &str) -> Result<(), String> {
    let ok = id.contains('.')
        && id.split('.').all(|part| {
            !part.is_empty()
                && part
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        });
    if ok {
        Ok(())
    } else {
        Err(format!(
            "operation must be a catalog id such as \"image.upscale\", got {id:?}"
        ))
    }
}

fn check_param(name: &str) -> Result<(), String> {
    let ok = !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "parameter names are lower-case words such as \"factor\", got {name:?}"
        ))
    }
}

fn check_value(name: &str, value: &str) -> Result<(), String> {
    if value.is_empty() || value.chars().any(|c| c.is_whitespace() || c.is_control()) {
        Err(format!(
            "value of {name:?} must be non-empty, without spaces, got {value:?}"
        ))
    } else {
        Ok(())
    }
}

/// The 1-based line of byte `offset` in `text`.
fn line_of(text: &str, offset: usize) -> usize {
    text.get(..offset)
        .map_or(0, |before| before.bytes().filter(|b| *b == b'\n').count())
        + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<PriceList, Error> {
        PriceList::parse(text, "test.toml", "RUB")
    }

    fn amount(list: &PriceList, operation: &Operation, audio_ms: u64) -> Option<i64> {
        list.price_of(operation, audio_ms).map(|(a, _)| a)
    }

    #[test]
    fn the_shipped_list_has_todays_prices() {
        let list = PriceList::load(None, "RUB").unwrap();
        assert_eq!(amount(&list, &Operation::upscale(2), 0), Some(500));
        let transcribe = Operation::transcribe("auto");
        assert_eq!(amount(&list, &transcribe, 0), Some(300));
        assert_eq!(amount(&list, &transcribe, 59_000), Some(300));
        assert_eq!(amount(&list, &transcribe, 61_000), Some(600));
        assert_eq!(
            amount(&list, &Operation::transcribe("ru"), 180_000),
            Some(900)
        );
        let upscale = list
            .as_proto()
            .iter()
            .find(|p| {
                p.operation == "image.upscale"
                    && p.params.get("factor").map(String::as_str) == Some("2")
            })
            .unwrap();
        assert_eq!(
            (
                upscale.amount_minor,
                upscale.currency.as_str(),
                upscale.unit()
            ),
            (500, "RUB", PriceUnit::Job)
        );
    }

    #[test]
    fn one_line_adds_a_price_by_parameter() {
        let base = "prices = [\n  { operation = \"image.upscale\", params = { factor = \"2\" }, amount_minor = 500 },\n]\n";
        let before = parse(base).unwrap();
        assert_eq!(amount(&before, &Operation::upscale(4), 0), None);
        let after = parse(&base.replace(
            "]\n",
            "  { operation = \"image.upscale\", params = { factor = \"4\" }, amount_minor = 900 },\n]\n",
        ))
        .unwrap();
        assert_eq!(amount(&after, &Operation::upscale(4), 0), Some(900));
        assert_eq!(amount(&after, &Operation::upscale(2), 0), Some(500));
    }

    #[test]
    fn multipliers_expand_into_concrete_entries() {
        let list = parse(
            r#"
prices = [
  { operation = "speech.transcribe", amount_minor = 200, unit = "started_minute", multiplier = { language = { ru = 1, en = 1.5, auto = 2.25 } } },
  { operation = "gen.create", amount_minor = 1000, params = { size = 1024 }, multiplier = { model = { "flux-schnell" = 1, "flux-pro" = 2.5 }, quality = { draft = 0.5, best = 2 } } },
]
"#,
        )
        .unwrap();
        type Row = (String, Vec<(String, String)>, i64);
        let entries: Vec<Row> = list
            .as_proto()
            .iter()
            .map(|p| {
                let mut params: Vec<_> = p.params.clone().into_iter().collect();
                params.sort();
                (p.operation.clone(), params, p.amount_minor)
            })
            .collect();
        let p = |pairs: &[(&str, &str)]| {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            entries,
            vec![
                ("speech.transcribe".into(), p(&[("language", "auto")]), 450),
                ("speech.transcribe".into(), p(&[("language", "en")]), 300),
                ("speech.transcribe".into(), p(&[("language", "ru")]), 200),
                (
                    "gen.create".into(),
                    p(&[("model", "flux-pro"), ("quality", "best"), ("size", "1024")]),
                    5000
                ),
                (
                    "gen.create".into(),
                    p(&[
                        ("model", "flux-pro"),
                        ("quality", "draft"),
                        ("size", "1024")
                    ]),
                    1250
                ),
                (
                    "gen.create".into(),
                    p(&[
                        ("model", "flux-schnell"),
                        ("quality", "best"),
                        ("size", "1024")
                    ]),
                    2000
                ),
                (
                    "gen.create".into(),
                    p(&[
                        ("model", "flux-schnell"),
                        ("quality", "draft"),
                        ("size", "1024")
                    ]),
                    500
                ),
            ]
        );
        assert!(list.as_proto().iter().all(|p| p.unit()
            == if p.operation == "gen.create" {
                PriceUnit::Job
            } else {
                PriceUnit::StartedMinute
            }));
        // The expanded entries price real operations; a value not listed has no price.
        assert_eq!(
            amount(&list, &Operation::transcribe("en"), 61_000),
            Some(600)
        );
        assert_eq!(amount(&list, &Operation::transcribe(""), 1), Some(450));
        assert_eq!(amount(&list, &Operation::transcribe("de"), 1), None);
    }

    #[test]
    fn bad_files_name_the_line_and_entry() {
        let error = |text: &str| parse(text).unwrap_err().to_string();
        let negative = error(
            "prices = [\n  { operation = \"image.upscale\", amount_minor = 1 },\n  { operation = \"speech.transcribe\", amount_minor = -5 },\n]\n",
        );
        assert!(
            negative.contains("test.toml, line 3, entry 2 (speech.transcribe)")
                && negative.contains("negative"),
            "{negative}"
        );
        let duplicate = error(
            "prices = [\n  { operation = \"image.upscale\", params = { factor = 2 }, amount_minor = 1 },\n  { operation = \"image.upscale\", params = { factor = \"2\" }, amount_minor = 2 },\n]\n",
        );
        assert!(
            duplicate.contains("line 3, entry 2") && duplicate.contains("entry 1 already"),
            "{duplicate}"
        );
        let fraction = error(
            "prices = [{ operation = \"gen.create\", amount_minor = 333, multiplier = { model = { a = 1.5 } } }]",
        );
        assert!(fraction.contains("whole number"), "{fraction}");
        let unknown_field =
            error("prices = [\n  { operation = \"image.upscale\", amount = 5 },\n]\n");
        assert!(
            unknown_field.contains("line 2") && unknown_field.contains("amount"),
            "{unknown_field}"
        );
        let bad_id = error("prices = [{ operation = \"Upscale 2x\", amount_minor = 5 }]");
        assert!(bad_id.contains("catalog id"), "{bad_id}");
        let bad_unit =
            error("prices = [{ operation = \"a.b\", amount_minor = 5, unit = \"hour\" }]");
        assert!(bad_unit.contains("hour"), "{bad_unit}");
        assert!(matches!(parse("prices = []"), Err(Error::Empty { .. })));
        assert!(matches!(parse("prices = [ {"), Err(Error::Syntax { .. })));
        assert!(matches!(
            PriceList::load(Some(Path::new("/nonexistent/prices.toml")), "RUB"),
            Err(Error::Read { .. })
        ));
    }
}
