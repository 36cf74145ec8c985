//! Provider keys as a type that never reaches a log: `Debug` prints `[redacted]`, there is no `Display`,
//! and the value is read only through [`Secret::expose`] where a request is signed. The flags that take
//! them are declared with `hide_env_values`, so `--help` does not print them either.

use std::convert::Infallible;
use std::str::FromStr;

/// A provider API key.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps `value`.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The key itself, for an `Authorization` header.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Whether the key is empty or only whitespace (an env var set to "" means "not set").
    pub fn is_blank(&self) -> bool {
        self.0.trim().is_empty()
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("[redacted]")
    }
}

impl FromStr for Secret {
    type Err = Infallible;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(Self::new(s.trim()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_printed() {
        let key = Secret::new("fal-1234");
        assert_eq!(format!("{key:?}"), "[redacted]");
        assert_eq!(format!("{:?}", Some(key.clone())), "Some([redacted])");
        assert_eq!(key.expose(), "fal-1234");
        assert!(Secret::new("  ").is_blank());
    }
}
