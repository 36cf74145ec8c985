//! The user's wishes for `image.add_text`, in free Russian or English («крупный белый текст сверху на
//! чёрной плашке», "big yellow text at the top"), turned into its options by a deterministic parser: the
//! same words always give the same options, and nothing is sent anywhere to be understood.
//!
//! The text is lower-cased (ё read as е) and cut into words and numbers; a number glued to its unit
//! («48px», «30%») is split from it. Words are recognised by their stems, so every case of a Russian
//! adjective works («белый», «белым», «белого», «белой»). What is recognised:
//!
//! | option | words |
//! | --- | --- |
//! | size preset | маленький/мелкий/small/tiny, средний/medium, обычный/normal/regular, крупный/большой/big/large, огромный/huge/giant |
//! | size in pixels | «48px», «48 px», «72 пикселей», «размер 96», «шрифт 60», "size 96", "font 60" |
//! | colour | names (white, black, red, green, blue, light blue, yellow, orange, purple, pink, grey, brown, gold, silver, cyan in both languages) or `#rrggbb` / `#rgb` |
//! | position | сверху/вверху/наверху/top, по центру/в центре/посередине/center/middle, снизу/внизу/bottom |
//! | offset | «отступ 5%», "offset 5%", "margin 5", or a percentage next to a position word («сверху 20%») |
//! | plate | a colour next to плашка/фон/подложка/plate/background/box, or after «на»/"on" («на чёрной плашке», "on black"); «плашка» alone is black; «без плашки»/«без фона»/"no plate"/"without background": none |
//! | plate opacity | «непрозрачность 70%»/"opacity 70" is the opacity; «прозрачность 30%»/"transparency 30%" is its complement (opacity 70 %) |
//! | plate blur | «размытие 10»/"blur 10", «без размытия»/"no blur": 0 |
//!
//! A plate colour other than black or white becomes the nearer of the two (the plates are black and
//! white). Asking for a plate's opacity or blur without naming a plate gives a black one. Numbers out of
//! range are clamped to it. Unknown words are ignored; nothing recognised leaves every option at its
//! default.

use mediabot_proto::catalog::{ADD_TEXT_MAX_BLUR_PX, ADD_TEXT_MAX_OFFSET_PCT, ADD_TEXT_SIZE_PX};
use mediabot_proto::jobs::v1::{AddText, TextPlate, TextPosition, TextSize};

/// What the wishes asked for; `None`: not mentioned (the default applies).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Wishes {
    /// A size preset.
    pub size: Option<TextSize>,
    /// A size in pixels (wins over the preset).
    pub size_px: Option<u32>,
    /// Text colour, 0xRRGGBB.
    pub color: Option<u32>,
    /// Where the text goes.
    pub position: Option<TextPosition>,
    /// Offset from the edge, percent of the height.
    pub offset_pct: Option<u32>,
    /// The plate (NONE when refused explicitly).
    pub plate: Option<TextPlate>,
    /// Plate opacity, percent.
    pub opacity_pct: Option<u32>,
    /// Plate blur radius, pixels.
    pub blur_px: Option<u32>,
}

impl Wishes {
    /// Whether anything was recognised.
    pub fn is_empty(&self) -> bool {
        *self == Wishes::default()
    }

    /// The operation's parameters: `text` with these wishes (defaults where none was said).
    pub fn apply(&self, text: &str) -> AddText {
        AddText {
            text: text.to_string(),
            size: self.size.unwrap_or(TextSize::Normal) as i32,
            size_px: self.size_px.unwrap_or(0),
            color_rgb: self.color,
            position: self.position.unwrap_or(TextPosition::Bottom) as i32,
            offset_pct: self.offset_pct,
            plate: self.plate.unwrap_or(TextPlate::None) as i32,
            plate_opacity_pct: self.opacity_pct,
            plate_blur_px: self.blur_px,
        }
    }
}

/// A number that the next words may claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Slot {
    SizePx,
    Opacity,
    Transparency,
    Blur,
    Offset,
}

/// Words a pending [`Slot`] waits for its number ("прозрачность плашки 30%": two words later).
const SLOT_REACH: usize = 3;

/// Parses free text into [`Wishes`] (see the module docs).
pub fn parse(wishes: &str) -> Wishes {
    let tokens = tokenize(wishes);
    let mut out = Wishes::default();
    let mut pending: Option<(Slot, usize)> = None;
    let mut plate_wanted = false;
    let mut i = 0;
    while i < tokens.len() {
        let token = tokens[i].as_str();
        let prev = i.checked_sub(1).map(|j| tokens[j].as_str()).unwrap_or("");
        let next = tokens.get(i + 1).map(String::as_str).unwrap_or("");
        if let Some((_, left)) = pending.as_mut() {
            if *left == 0 {
                pending = None;
            } else {
                *left -= 1;
            }
        }

        if let Ok(number) = token.parse::<u32>() {
            if is_pixel_unit(next) {
                out.size_px = Some(clamp_px(number));
                i += 2;
                continue;
            }
            let percent = next == "%";
            match pending.take().map(|(slot, _)| slot) {
                Some(Slot::SizePx) => out.size_px = Some(clamp_px(number)),
                Some(Slot::Opacity) => {
                    out.opacity_pct = Some(number.min(100));
                    plate_wanted = true;
                }
                Some(Slot::Transparency) => {
                    out.opacity_pct = Some(100 - number.min(100));
                    plate_wanted = true;
                }
                Some(Slot::Blur) => {
                    out.blur_px = Some(number.min(ADD_TEXT_MAX_BLUR_PX));
                    plate_wanted = true;
                }
                Some(Slot::Offset) => out.offset_pct = Some(number.min(ADD_TEXT_MAX_OFFSET_PCT)),
                // «сверху 20%», "15% from the bottom": a percentage beside a position word.
                None if percent
                    && (position_word(prev).is_some()
                        || tokens
                            .iter()
                            .skip(i + 2)
                            .take(3)
                            .any(|t| position_word(t).is_some())) =>
                {
                    out.offset_pct = Some(number.min(ADD_TEXT_MAX_OFFSET_PCT));
                }
                None => {}
            }
            i += if percent { 2 } else { 1 };
            continue;
        }

        if let Some(slot) = slot_word(token) {
            pending = Some((slot, SLOT_REACH));
            i += 1;
            continue;
        }
        if is_negation(token) {
            if is_plate_word(next) {
                out.plate = Some(TextPlate::None);
                i += 2;
                continue;
            }
            if slot_word(next) == Some(Slot::Blur) {
                out.blur_px = Some(0);
                i += 2;
                continue;
            }
        }
        if let Some(size) = size_word(token) {
            out.size = Some(size);
        } else if let Some(position) = position_word(token) {
            // «по центру», «в центре»: the preposition is just skipped as an unknown word.
            out.position = Some(position);
        } else if let Some(color) = color_word(token) {
            let on_plate = is_plate_word(next)
                || is_plate_word(prev)
                || matches!(prev, "на" | "on")
                || (matches!(prev, "a" | "the") && i >= 2 && tokens[i - 2] == "on");
            if on_plate {
                out.plate = Some(plate_of(color));
            } else {
                out.color = Some(color);
            }
        } else if is_plate_word(token) && out.plate.is_none() {
            plate_wanted = true;
        }
        i += 1;
    }
    if plate_wanted && out.plate.is_none() {
        out.plate = Some(TextPlate::Black);
    }
    out
}

/// Lower-cased words and numbers; `#hex` colours stay whole; a number glued to letters or `%` is split
/// from them ("48px" → "48", "px").
fn tokenize(text: &str) -> Vec<String> {
    let text = text.to_lowercase().replace('ё', "е");
    let mut tokens = Vec::new();
    for word in text.split(|c: char| !(c.is_alphanumeric() || c == '#' || c == '%')) {
        if word.is_empty() {
            continue;
        }
        if word.starts_with('#') {
            tokens.push(word.to_string());
            continue;
        }
        // Split at every change between digits, letters and '%'.
        let mut current = String::new();
        let mut kind = None;
        for c in word.chars() {
            let k = if c.is_ascii_digit() {
                0
            } else if c == '%' {
                2
            } else {
                1
            };
            if kind.is_some_and(|prev| prev != k || k == 2) && !current.is_empty() {
                tokens.push(std::mem::take(&mut current));
            }
            kind = Some(k);
            current.push(c);
        }
        if !current.is_empty() {
            tokens.push(current);
        }
    }
    tokens
}

fn starts(token: &str, stems: &[&str]) -> bool {
    stems.iter().any(|s| token.starts_with(s))
}

fn is_pixel_unit(token: &str) -> bool {
    matches!(
        token,
        "px" | "пикс" | "пкс" | "пт" | "pt" | "pixel" | "pixels"
    ) || token.starts_with("пиксел")
}

fn clamp_px(px: u32) -> u32 {
    px.clamp(*ADD_TEXT_SIZE_PX.start(), *ADD_TEXT_SIZE_PX.end())
}

fn slot_word(token: &str) -> Option<Slot> {
    if starts(token, &["непрозрачн", "opacity", "opaque"]) {
        Some(Slot::Opacity)
    } else if starts(token, &["прозрачн", "transparen"]) {
        Some(Slot::Transparency)
    } else if starts(token, &["размыт", "blur", "радиус", "radius"]) {
        Some(Slot::Blur)
    } else if starts(token, &["отступ", "offset", "margin", "indent"]) {
        Some(Slot::Offset)
    } else if starts(token, &["размер", "size", "шрифт", "font", "кегл"]) {
        Some(Slot::SizePx)
    } else {
        None
    }
}

fn is_negation(token: &str) -> bool {
    matches!(token, "без" | "no" | "without" | "нет")
}

fn is_plate_word(token: &str) -> bool {
    starts(
        token,
        &["плашк", "подложк", "plate", "background", "backdrop", "box"],
    ) || matches!(token, "фон" | "фона" | "фоне" | "фоном" | "фону")
}

fn size_word(token: &str) -> Option<TextSize> {
    Some(if starts(token, &["маленьк", "мелк", "small", "tiny"]) {
        TextSize::Small
    } else if starts(token, &["средн", "medium"]) {
        TextSize::Medium
    } else if starts(token, &["обычн", "normal", "regular"]) {
        TextSize::Normal
    } else if starts(token, &["крупн", "больш", "big", "large"]) {
        TextSize::Large
    } else if starts(token, &["огромн", "гигантск", "huge", "giant", "enormous"]) {
        TextSize::Huge
    } else {
        return None;
    })
}

fn position_word(token: &str) -> Option<TextPosition> {
    Some(
        if matches!(
            token,
            "сверху"
                | "вверху"
                | "наверху"
                | "вверх"
                | "верх"
                | "верху"
                | "top"
                | "up"
                | "upper"
        ) {
            TextPosition::Top
        } else if starts(
            token,
            &[
                "центр",
                "посередин",
                "середин",
                "center",
                "centre",
                "middle",
            ],
        ) {
            TextPosition::Center
        } else if matches!(
            token,
            "снизу" | "внизу" | "низ" | "низу" | "вниз" | "bottom" | "down" | "lower"
        ) {
            TextPosition::Bottom
        } else {
            return None;
        },
    )
}

/// A colour name in either language, any case of a Russian adjective, or `#rrggbb` / `#rgb`.
fn color_word(token: &str) -> Option<u32> {
    if let Some(hex) = token.strip_prefix('#') {
        let valid = hex.chars().all(|c| c.is_ascii_hexdigit());
        return match hex.len() {
            6 if valid => u32::from_str_radix(hex, 16).ok(),
            3 if valid => {
                let v = u32::from_str_radix(hex, 16).ok()?;
                let (r, g, b) = ((v >> 8) & 0xf, (v >> 4) & 0xf, v & 0xf);
                Some(((r * 0x11) << 16) | ((g * 0x11) << 8) | (b * 0x11))
            }
            _ => None,
        };
    }
    // Grey's stem «сер» would also catch «серебро», «сердце»: its forms are listed.
    const GREY: &[&str] = &[
        "серый",
        "серая",
        "серое",
        "серого",
        "серым",
        "серой",
        "серую",
        "серые",
        "серых",
        "сером",
        "серому",
    ];
    let named: &[(&[&str], u32)] = &[
        (&["бел", "white"], 0xffffff),
        (&["черн", "black"], 0x000000),
        (&["красн", "red"], 0xff0000),
        (&["зелен", "green"], 0x00c000),
        (&["голуб", "lightblue", "skyblue"], 0x42aaff),
        (&["син", "blue"], 0x0050ff),
        (&["желт", "yellow"], 0xffff00),
        (&["оранж", "orange"], 0xff8c00),
        (&["фиолет", "пурпур", "purple", "violet"], 0x8b00ff),
        (&["розов", "pink"], 0xff69b4),
        (&["gray", "grey"], 0x808080),
        (&["коричн", "brown"], 0x8b4513),
        (&["золот", "gold"], 0xffd700),
        (&["серебр", "silver"], 0xc0c0c0),
        (&["бирюз", "cyan", "turquoise", "aqua"], 0x00ffff),
    ];
    if GREY.contains(&token) {
        return Some(0x808080);
    }
    // "red" must not catch "reduce", "blue" must match "blue" only: English names match whole words.
    named.iter().find_map(|(stems, rgb)| {
        stems
            .iter()
            .any(|s| {
                if s.is_ascii() {
                    token == *s
                } else {
                    token.starts_with(s)
                }
            })
            .then_some(*rgb)
    })
}

/// The plate nearest a colour: black for dark colours, white for light ones.
fn plate_of(rgb: u32) -> TextPlate {
    let (r, g, b) = ((rgb >> 16) & 0xff, (rgb >> 8) & 0xff, rgb & 0xff);
    let luma = 299 * r + 587 * g + 114 * b;
    if luma > 128_000 {
        TextPlate::White
    } else {
        TextPlate::Black
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wishes(text: &str) -> Wishes {
        parse(text)
    }

    #[test]
    fn the_examples_of_the_issue() {
        assert_eq!(
            wishes("крупный белый текст сверху на чёрной плашке"),
            Wishes {
                size: Some(TextSize::Large),
                color: Some(0xffffff),
                position: Some(TextPosition::Top),
                plate: Some(TextPlate::Black),
                ..Wishes::default()
            }
        );
        assert_eq!(
            wishes("big yellow text at the top"),
            Wishes {
                size: Some(TextSize::Large),
                color: Some(0xffff00),
                position: Some(TextPosition::Top),
                ..Wishes::default()
            }
        );
    }

    #[test]
    fn sizes_as_presets_and_pixels() {
        for (text, size) in [
            ("Маленький", TextSize::Small),
            ("мелкий шрифт", TextSize::Small),
            ("Средний", TextSize::Medium),
            ("Обычный", TextSize::Normal),
            ("Крупный", TextSize::Large),
            ("большими буквами", TextSize::Large),
            ("Огромный", TextSize::Huge),
            ("огромными", TextSize::Huge),
            ("small", TextSize::Small),
            ("HUGE text", TextSize::Huge),
        ] {
            assert_eq!(wishes(text).size, Some(size), "{text}");
        }
        for (text, px) in [
            ("48px", 48),
            ("48 px", 48),
            ("72 пикселей", 72),
            ("72 пикселя", 72),
            ("размер 96", 96),
            ("размер шрифта 60", 60),
            ("size 96", 96),
            ("font 40", 40),
            ("5px", 8),
            ("5000px", 1000),
        ] {
            assert_eq!(wishes(text).size_px, Some(px), "{text}");
        }
        assert_eq!(wishes("96").size_px, None, "a bare number means nothing");
    }

    #[test]
    fn colours_by_name_in_any_form_and_by_hex() {
        for (text, rgb) in [
            ("белый", 0xffffff),
            ("белым", 0xffffff),
            ("белого цвета", 0xffffff),
            ("белая надпись", 0xffffff),
            ("чёрный", 0x000000),
            ("черным", 0x000000),
            ("красный", 0xff0000),
            ("зелёным", 0x00c000),
            ("синий", 0x0050ff),
            ("голубой", 0x42aaff),
            ("жёлтый", 0xffff00),
            ("оранжевым", 0xff8c00),
            ("фиолетовый", 0x8b00ff),
            ("розовый", 0xff69b4),
            ("серым", 0x808080),
            ("золотой", 0xffd700),
            ("white", 0xffffff),
            ("Red", 0xff0000),
            ("grey", 0x808080),
            ("gray", 0x808080),
            ("#ff0000", 0xff0000),
            ("цвет #00FF7f", 0x00ff7f),
            ("#fc0", 0xffcc00),
        ] {
            assert_eq!(wishes(text).color, Some(rgb), "{text}");
        }
        assert_eq!(wishes("серебро").color, Some(0xc0c0c0));
        assert_eq!(wishes("сердце").color, None);
        assert_eq!(wishes("reduce").color, None);
        assert_eq!(wishes("#ggg000").color, None);
    }

    #[test]
    fn positions_and_offsets() {
        for (text, position) in [
            ("сверху", TextPosition::Top),
            ("вверху", TextPosition::Top),
            ("наверху", TextPosition::Top),
            ("по центру", TextPosition::Center),
            ("в центре", TextPosition::Center),
            ("посередине", TextPosition::Center),
            ("снизу", TextPosition::Bottom),
            ("внизу", TextPosition::Bottom),
            ("at the top", TextPosition::Top),
            ("in the middle", TextPosition::Center),
            ("centered", TextPosition::Center),
            ("bottom", TextPosition::Bottom),
        ] {
            assert_eq!(wishes(text).position, Some(position), "{text}");
        }
        assert_eq!(wishes("отступ 5%").offset_pct, Some(5));
        assert_eq!(wishes("offset 20").offset_pct, Some(20));
        let w = wishes("сверху 20%");
        assert_eq!(
            (w.position, w.offset_pct),
            (Some(TextPosition::Top), Some(20))
        );
        assert_eq!(wishes("15% from the bottom").offset_pct, Some(15));
        assert_eq!(wishes("отступ 90%").offset_pct, Some(45));
    }

    #[test]
    fn plates_opacity_and_blur() {
        assert_eq!(wishes("на чёрной плашке").plate, Some(TextPlate::Black));
        assert_eq!(wishes("на белой подложке").plate, Some(TextPlate::White));
        assert_eq!(wishes("белый фон").plate, Some(TextPlate::White));
        assert_eq!(wishes("плашка белая").plate, Some(TextPlate::White));
        assert_eq!(wishes("с плашкой").plate, Some(TextPlate::Black));
        assert_eq!(wishes("на красной плашке").plate, Some(TextPlate::Black));
        assert_eq!(wishes("on a white plate").plate, Some(TextPlate::White));
        assert_eq!(wishes("black background").plate, Some(TextPlate::Black));
        let w = wishes("white text on black");
        assert_eq!((w.color, w.plate), (Some(0xffffff), Some(TextPlate::Black)));
        assert_eq!(wishes("без плашки").plate, Some(TextPlate::None));
        assert_eq!(wishes("без фона").plate, Some(TextPlate::None));
        assert_eq!(wishes("no plate").plate, Some(TextPlate::None));
        assert_eq!(wishes("without background").plate, Some(TextPlate::None));
        let w = wishes("прозрачность 30%");
        assert_eq!((w.opacity_pct, w.plate), (Some(70), Some(TextPlate::Black)));
        assert_eq!(wishes("прозрачность плашки 30%").opacity_pct, Some(70));
        assert_eq!(wishes("непрозрачность 80").opacity_pct, Some(80));
        assert_eq!(wishes("opacity 40%").opacity_pct, Some(40));
        assert_eq!(wishes("transparency 25%").opacity_pct, Some(75));
        assert_eq!(wishes("белая плашка, размытие 10").blur_px, Some(10));
        assert_eq!(wishes("blur 100").blur_px, Some(50));
        assert_eq!(wishes("на чёрной плашке без размытия").blur_px, Some(0));
        assert_eq!(wishes("no blur").blur_px, Some(0));
    }

    #[test]
    fn everything_at_once_and_nothing_at_all() {
        let w = wishes(
            "Огромный красный текст по центру, на белой плашке, прозрачность 20%, размытие 8",
        );
        assert_eq!(
            w,
            Wishes {
                size: Some(TextSize::Huge),
                color: Some(0xff0000),
                position: Some(TextPosition::Center),
                plate: Some(TextPlate::White),
                opacity_pct: Some(80),
                blur_px: Some(8),
                ..Wishes::default()
            }
        );
        let params = w.apply("Привет");
        assert_eq!(params.text, "Привет");
        assert_eq!(params.plate, TextPlate::White as i32);
        assert!(wishes("сделай красиво пожалуйста").is_empty());
        assert!(wishes("").is_empty());
        assert!(wishes("🙂🙂").is_empty());
        let defaults = Wishes::default().apply("x");
        assert_eq!(
            defaults,
            AddText {
                size: TextSize::Normal as i32,
                position: TextPosition::Bottom as i32,
                plate: TextPlate::None as i32,
                ..AddText::with_text("x")
            }
        );
        let w = wishes("small #00ff00 text, bottom, 48px");
        assert_eq!(
            (w.size, w.size_px, w.color),
            (Some(TextSize::Small), Some(48), Some(0x00ff00))
        );
    }
}
