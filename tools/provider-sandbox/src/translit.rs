//! Cyrillic → Latin transliteration (Russian and Ukrainian letters, a simple BGN/PCGN-like table). The
//! sandbox's chat "translation" is this: a visible, deterministic stand-in for a translation into English.

/// The Latin spelling of one lowercase Cyrillic letter, `None` for anything else.
fn latin(letter: char) -> Option<&'static str> {
    Some(match letter {
        'а' => "a",
        'б' => "b",
        'в' => "v",
        'г' => "g",
        'ґ' => "g",
        'д' => "d",
        'е' => "e",
        'ё' => "yo",
        'є' => "ye",
        'ж' => "zh",
        'з' => "z",
        'и' => "i",
        'і' => "i",
        'ї' => "yi",
        'й' => "y",
        'к' => "k",
        'л' => "l",
        'м' => "m",
        'н' => "n",
        'о' => "o",
        'п' => "p",
        'р' => "r",
        'с' => "s",
        'т' => "t",
        'у' => "u",
        'ф' => "f",
        'х' => "kh",
        'ц' => "ts",
        'ч' => "ch",
        'ш' => "sh",
        'щ' => "shch",
        'ъ' | 'ь' => "",
        'ы' => "y",
        'э' => "e",
        'ю' => "yu",
        'я' => "ya",
        _ => return None,
    })
}

/// `text` with every Cyrillic letter spelled in Latin letters (capitals keep a capital first letter:
/// `Щука` → `Shchuka`); everything else unchanged.
pub fn to_latin(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for letter in text.chars() {
        let lower = letter.to_lowercase().next().unwrap_or(letter);
        match latin(lower) {
            Some(spelled) if lower != letter => {
                let mut chars = spelled.chars();
                if let Some(first) = chars.next() {
                    out.extend(first.to_uppercase());
                    out.extend(chars);
                }
            }
            Some(spelled) => out.push_str(spelled),
            None => out.push(letter),
        }
    }
    out
}

/// Whether `text` has any Cyrillic letter.
pub fn has_cyrillic(text: &str) -> bool {
    text.chars().any(|c| ('\u{0400}'..='\u{04FF}').contains(&c))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn russian_and_ukrainian_become_latin() {
        assert_eq!(to_latin("Кот в космосе!"), "Kot v kosmose!");
        assert_eq!(to_latin("Щука и ёж"), "Shchuka i yozh");
        assert_eq!(to_latin("Їжак"), "Yizhak");
        assert_eq!(to_latin("a cat, 42"), "a cat, 42");
        assert!(has_cyrillic("кот"));
        assert!(!has_cyrillic("cat"));
    }
}
