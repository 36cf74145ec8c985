//! The language a user chose with /language: the interface language (ru, en) and whether their
//! recordings are transcribed in it or with whisper's detection ("auto").
//!
//! Stored in the NATS key-value bucket [`LANGUAGES_BUCKET`] (key: the Telegram user id; value: a
//! [`LanguageChoice`] as JSON), shared by every gateway replica and kept across restarts, without expiry.
//! A user who never chose gets the language of their Telegram interface ([`Lang::from_code`]), and their
//! recordings are transcribed in it.

use serde::{Deserialize, Serialize};
use teloxide::types::User;

use crate::i18n::Lang;
use crate::{Error, Gateway};

/// Key-value bucket of /language choices (key: user id, value: a [`LanguageChoice`] as JSON).
pub const LANGUAGES_BUCKET: &str = "gateway-languages";

/// What a user chose with /language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct LanguageChoice {
    /// The interface language: texts, buttons, and (unless `detect_speech`) the spoken language.
    pub lang: Lang,
    /// Transcribe with whisper's language detection instead of in `lang`.
    #[serde(default)]
    pub detect_speech: bool,
}

impl LanguageChoice {
    /// The language of a user who has not chosen: their Telegram interface's.
    pub fn from_telegram(user: &User) -> Self {
        Self {
            lang: Lang::from_code(user.language_code.as_deref()),
            detect_speech: false,
        }
    }

    /// The spoken language their recordings are transcribed in: `"ru"`, `"en"` or `"auto"` (the
    /// job's `language`; see [`crate::operations::speech_language`]).
    pub fn speech_language(&self) -> &'static str {
        if self.detect_speech {
            "auto"
        } else {
            self.lang.code()
        }
    }
}

impl Gateway {
    /// The language of `user`: their /language choice, else their Telegram interface's. A choice that
    /// cannot be read (NATS down, an unreadable entry) counts as none, and is logged.
    pub async fn language_of(&self, user: &User) -> LanguageChoice {
        match self.stored_language(user.id.0).await {
            Ok(Some(choice)) => choice,
            Ok(None) => LanguageChoice::from_telegram(user),
            Err(error) => {
                tracing::warn!(%error, user_id = user.id.0, "could not read the language choice");
                LanguageChoice::from_telegram(user)
            }
        }
    }

    async fn stored_language(&self, user_id: u64) -> Result<Option<LanguageChoice>, Error> {
        let entry = self
            .languages
            .get(user_id.to_string())
            .await
            .map_err(|e| Error::KeyValue(e.to_string()))?;
        Ok(entry.and_then(|bytes| serde_json::from_slice(&bytes).ok()))
    }

    /// Stores `user_id`'s choice (replacing an earlier one).
    pub async fn save_language(&self, user_id: u64, choice: LanguageChoice) -> Result<(), Error> {
        let value = serde_json::to_vec(&choice).map_err(|e| Error::KeyValue(e.to_string()))?;
        self.languages
            .put(user_id.to_string(), value.into())
            .await
            .map_err(|e| Error::KeyValue(e.to_string()))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn choices_round_trip_and_name_the_spoken_language() {
        let choice = LanguageChoice {
            lang: Lang::Ru,
            detect_speech: false,
        };
        let json = serde_json::to_string(&choice).unwrap();
        assert_eq!(json, r#"{"lang":"ru","detect_speech":false}"#);
        assert_eq!(
            serde_json::from_str::<LanguageChoice>(&json).unwrap(),
            choice
        );
        assert_eq!(choice.speech_language(), "ru");
        let detect = LanguageChoice {
            detect_speech: true,
            ..choice
        };
        assert_eq!(detect.speech_language(), "auto");
    }
}
