//! What the reply says about a text: characters, words, the languages by script, and the beginning
//! shown in the chat.
//!
//! The language is told by script, not by a statistical model: the bot's users write Russian and
//! English, and Cyrillic against Latin letters tells those two apart exactly; a language whose letters
//! are at least [`MIN_LANGUAGE_SHARE`] of all letters is named.

/// Longest beginning of a text carried in `ExtractedText.text`, characters: with the summary it fits
/// one Telegram message (4096).
pub const PREVIEW_CHARS: usize = 3000;
/// Share of the letters a script needs for its language to be named.
pub const MIN_LANGUAGE_SHARE: f64 = 0.15;

/// Counts of a text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stats {
    /// Unicode scalar values.
    pub characters: u64,
    /// Runs of letters or digits (an apostrophe or hyphen inside a word keeps it one word).
    pub words: u64,
    /// ISO 639-1 codes by script, most letters first, comma-separated ("ru,en"); empty without letters.
    pub language: String,
}

/// The counts of `text`.
pub fn stats(text: &str) -> Stats {
    let mut words = 0u64;
    let mut in_word = false;
    let (mut cyrillic, mut latin) = (0u64, 0u64);
    let mut previous = ' ';
    for c in text.chars() {
        let word_char = c.is_alphanumeric()
            || (in_word && matches!(c, '\'' | '’' | '-') && previous.is_alphanumeric());
        if word_char && !in_word {
            words += 1;
        }
        in_word = word_char;
        if c.is_alphabetic() {
            match c {
                'а'..='я' | 'А'..='Я' | 'ё' | 'Ё' | '\u{0400}'..='\u{04FF}' => cyrillic += 1,
                'a'..='z' | 'A'..='Z' => latin += 1,
                _ => {}
            }
        }
        previous = c;
    }
    let letters = (cyrillic + latin).max(1) as f64;
    let mut languages = [("ru", cyrillic), ("en", latin)];
    languages.sort_by_key(|language| std::cmp::Reverse(language.1));
    let language = languages
        .iter()
        .filter(|(_, count)| *count > 0 && *count as f64 / letters >= MIN_LANGUAGE_SHARE)
        .map(|(code, _)| *code)
        .collect::<Vec<_>>()
        .join(",");
    Stats {
        characters: text.chars().count() as u64,
        words,
        language,
    }
}

/// The beginning of `text`: all of it if it has at most `max_chars` characters, else the longest start
/// that ends at a line or word boundary (cut inside a word only when a single word is longer).
pub fn beginning(text: &str, max_chars: usize) -> &str {
    let Some((cut, _)) = text.char_indices().nth(max_chars) else {
        return text;
    };
    let head = &text[..cut];
    let at_line = head.rfind('\n').filter(|&i| i > cut / 2);
    let at_word = head.rfind(char::is_whitespace).filter(|&i| i > 0);
    head[..at_line.or(at_word).unwrap_or(cut)].trim_end()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_and_languages() {
        let s = stats("Отчёт о работе — report, don't stop; 12 процентов");
        assert_eq!(s.words, 8);
        assert_eq!(s.language, "ru,en");
        assert_eq!(stats("Hello world").language, "en");
        assert_eq!(stats("Привет").language, "ru");
        assert_eq!(stats("12 34").language, "");
        assert_eq!(stats("абв").characters, 3);
    }

    #[test]
    fn beginnings_end_at_words() {
        assert_eq!(beginning("short", 10), "short");
        assert_eq!(beginning("один два три", 9), "один два");
        assert_eq!(
            beginning("первая строка\nвторая строка", 20),
            "первая строка"
        );
        assert_eq!(beginning("абвгдежз", 3), "абв");
    }
}
