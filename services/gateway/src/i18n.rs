//! Everything the bot says to users, in Russian and English. The language is the user's /language choice
//! ([`crate::languages`]), else their Telegram `language_code` ([`Lang::from_code`]).

use mediabot_proto::Service;
use mediabot_proto::billing::v1::{Hold, HoldState};
use mediabot_proto::imaging::v1::{ColorModel, ImageFacts};
use mediabot_proto::jobs::v1::{
    ExtractedText, FailureReason, ImageResult, ImageShape, JobState, Operation, RetouchPreset,
};
use time::macros::{format_description, offset};

use crate::admin::{AddBalanceError, MAX_TOP_UP_MINOR};

/// Reply language (`"ru"`, `"en"` in JSON).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    /// Русский.
    Ru,
    /// English.
    En,
}

impl Lang {
    /// From a Telegram `language_code` (IETF tag such as "ru", "ru-RU", "en-US"): Russian for Russian,
    /// Ukrainian, Belarusian and Kazakh interfaces (the bot's Russian-speaking audience), English for
    /// anything else or nothing.
    pub fn from_code(code: Option<&str>) -> Self {
        let primary = code
            .unwrap_or_default()
            .split(['-', '_'])
            .next()
            .unwrap_or_default()
            .to_ascii_lowercase();
        match primary.as_str() {
            "ru" | "uk" | "be" | "kk" => Lang::Ru,
            _ => Lang::En,
        }
    }

    /// The tag carried in `JobContext.language_code`.
    pub fn code(self) -> &'static str {
        match self {
            Lang::Ru => "ru",
            Lang::En => "en",
        }
    }
}

/// Formats an amount of minor units (kopecks) as rubles: `3000` → "30 ₽", `550` → "5.50 ₽" ("5,50 ₽" in Russian).
pub fn money(lang: Lang, minor: i64, currency: &str) -> String {
    let sign = if minor < 0 { "-" } else { "" };
    let abs = minor.unsigned_abs();
    let (major, cents) = (abs / 100, abs % 100);
    let symbol = if currency.is_empty() || currency == "RUB" {
        "₽"
    } else {
        currency
    };
    let separator = if lang == Lang::Ru { "," } else { "." };
    if cents == 0 {
        format!("{sign}{major} {symbol}")
    } else {
        format!("{sign}{major}{separator}{cents:02} {symbol}")
    }
}

/// The parameter `name` of `operation`, as text ("" when it has none).
fn param(operation: &Operation, name: &str) -> String {
    operation
        .params()
        .into_iter()
        .find(|(n, _)| *n == name)
        .map(|(_, v)| v)
        .unwrap_or_default()
}

/// What an operation is called (price list, history, buttons), keyed by its catalog id; an album's
/// says how many pictures: «Увеличение фото ×2 · 4 фото».
pub fn operation_name(lang: Lang, operation: &Operation) -> String {
    let name = one_picture_operation_name(lang, operation);
    match (lang, operation.count) {
        (_, 0 | 1) => name,
        (Lang::Ru, n) => format!("{name} · {n} фото"),
        (Lang::En, n) => format!("{name} · {n} pictures"),
    }
}

/// [`operation_name`] of one picture's (or a picture-less) operation.
fn one_picture_operation_name(lang: Lang, operation: &Operation) -> String {
    match (lang, operation.id()) {
        (Lang::Ru, Some("image.upscale")) => {
            format!("Увеличение фото ×{}", param(operation, "factor"))
        }
        (Lang::En, Some("image.upscale")) => {
            format!("Photo upscale ×{}", param(operation, "factor"))
        }
        (Lang::Ru, Some("image.compress")) => "Сжатие до размера (1, 2, 4, 8 МБ)".into(),
        (Lang::En, Some("image.compress")) => "Compression to a size (1, 2, 4, 8 MB)".into(),
        (Lang::Ru, Some("image.convert")) => "Смена формата (JPEG, PNG, WebP)".into(),
        (Lang::En, Some("image.convert")) => "Format conversion (JPEG, PNG, WebP)".into(),
        (Lang::Ru, Some("image.add_text")) => "Текст на картинке".into(),
        (Lang::En, Some("image.add_text")) => "Text on a picture".into(),
        (Lang::Ru, Some("speech.transcribe")) if param(operation, "translate") == "true" => {
            "Перевод речи на английский (голосовые, аудио, видео)".into()
        }
        (Lang::En, Some("speech.transcribe")) if param(operation, "translate") == "true" => {
            "Speech translation to English (voice, audio, video)".into()
        }
        (Lang::Ru, Some("speech.transcribe")) => {
            "Расшифровка речи (голосовые, аудио, видео)".into()
        }
        (Lang::En, Some("speech.transcribe")) => {
            "Speech transcription (voice, audio, video)".into()
        }
        (Lang::Ru, Some("image.ocr")) => "Текст с фото".into(),
        (Lang::En, Some("image.ocr")) => "Text from a photo".into(),
        (Lang::Ru, Some("document.text")) => "Текст из документа (PDF, DOCX, ODT, TXT)".into(),
        (Lang::En, Some("document.text")) => "Text from a document (PDF, DOCX, ODT, TXT)".into(),
        (Lang::Ru, Some("image.generate")) => match param(operation, "model").as_str() {
            "" | "auto" => "🎨 Картинка по описанию (/create)".into(),
            model => format!("🎨 Картинка по описанию, модель {model}"),
        },
        (Lang::En, Some("image.generate")) => match param(operation, "model").as_str() {
            "" | "auto" => "🎨 Picture from a description (/create)".into(),
            model => format!("🎨 Picture from a description, model {model}"),
        },
        (Lang::Ru, Some("prompt.write")) => "✍️ Промпт по идее (/prompt)".into(),
        (Lang::En, Some("prompt.write")) => "✍️ Prompt from an idea (/prompt)".into(),
        (Lang::Ru, Some("image.upscale_remote")) => {
            format!("Увеличение нейросетью ×{}", param(operation, "factor"))
        }
        (Lang::En, Some("image.upscale_remote")) => {
            format!("AI upscale ×{}", param(operation, "factor"))
        }
        (Lang::Ru, Some("image.edit")) => match param(operation, "model").as_str() {
            "" | "auto" => "✏️ Изменение картинки по описанию".into(),
            model => format!("✏️ Изменение картинки по описанию, модель {model}"),
        },
        (Lang::En, Some("image.edit")) => match param(operation, "model").as_str() {
            "" | "auto" => "✏️ Picture edit by instruction".into(),
            model => format!("✏️ Picture edit by instruction, model {model}"),
        },
        (Lang::Ru, Some("image.retouch")) => "✨ Ретушь портрета".into(),
        (Lang::En, Some("image.retouch")) => "✨ Portrait retouch".into(),
        (Lang::Ru, Some("image.face_swap")) => "🔄 Замена лица".into(),
        (Lang::En, Some("image.face_swap")) => "🔄 Face swap".into(),
        (Lang::Ru, _) => "Операция".into(),
        (Lang::En, _) => "Operation".into(),
    }
}

/// The label of a button that starts `operation` for `price` (already formatted).
pub fn operation_button(lang: Lang, operation: &Operation, price: &str) -> String {
    match (lang, operation.id()) {
        (Lang::Ru, Some("image.upscale")) => {
            format!("Увеличить ×{} — {price}", param(operation, "factor"))
        }
        (Lang::En, Some("image.upscale")) => {
            format!("Upscale ×{} — {price}", param(operation, "factor"))
        }
        (_, Some("image.compress")) => {
            let target = param(operation, "target_kb").parse().unwrap_or(0u64) * 1000;
            match lang {
                Lang::Ru => format!("Сжать до {} — {price}", file_size(lang, target)),
                Lang::En => format!("Compress to {} — {price}", file_size(lang, target)),
            }
        }
        // The same in both languages: the format's name is the point.
        (_, Some("image.convert")) => {
            let target = match param(operation, "target").as_str() {
                "jpeg" => "JPEG",
                "png" => "PNG",
                _ => "WebP",
            };
            format!("→ {target} — {price}")
        }
        (Lang::Ru, Some("image.add_text")) => format!("Добавить текст — {price}"),
        (Lang::En, Some("image.add_text")) => format!("Add text — {price}"),
        (Lang::Ru, Some("speech.transcribe")) if param(operation, "translate") == "true" => {
            format!("Перевести на английский — {price}")
        }
        (Lang::En, Some("speech.transcribe")) if param(operation, "translate") == "true" => {
            format!("Translate to English — {price}")
        }
        (Lang::Ru, Some("image.ocr")) => format!("Текст с фото — {price}"),
        (Lang::En, Some("image.ocr")) => format!("Text from photo — {price}"),
        (Lang::Ru, Some("image.upscale_remote")) => {
            format!("✨ Увеличить ИИ ×{} — {price}", param(operation, "factor"))
        }
        (Lang::En, Some("image.upscale_remote")) => {
            format!("✨ AI upscale ×{} — {price}", param(operation, "factor"))
        }
        (Lang::Ru, Some("image.edit")) => format!("✏️ Изменить — {price}"),
        (Lang::En, Some("image.edit")) => format!("✏️ Edit — {price}"),
        (Lang::Ru, Some("image.retouch")) => format!("✨ Ретушь — {price}"),
        (Lang::En, Some("image.retouch")) => format!("✨ Retouch — {price}"),
        (Lang::Ru, Some("image.face_swap")) => format!("🔄 Заменить лицо — {price}"),
        (Lang::En, Some("image.face_swap")) => format!("🔄 Face swap — {price}"),
        (_, _) => format!("{} — {price}", operation_name(lang, operation)),
    }
}

/// A price-list line's price: "5 ₽", or "3 ₽/min" for a price per started minute of audio.
pub fn price_label(lang: Lang, amount: &str, per_minute: bool) -> String {
    match (lang, per_minute) {
        (_, false) => amount.to_string(),
        (Lang::Ru, true) => format!("{amount}/мин"),
        (Lang::En, true) => format!("{amount}/min"),
    }
}

/// A hold's operation as billing records it (the catalog key, e.g. `image.upscale factor=2`), by name;
/// entries written before the catalog (`image.upscale_2x`) are read too.
pub fn recorded_operation_name(lang: Lang, key: &str) -> String {
    let operation = match key {
        "image.upscale_2x" => Some(Operation::upscale(2)),
        other => Operation::from_key(other),
    };
    match operation {
        Some(operation) => operation_name(lang, &operation),
        None => key.to_string(),
    }
}

/// Reply to /start: what the bot does, the balance and the prices (`prices`: already formatted lines).
pub fn welcome(lang: Lang, balance: &str, prices: &[String]) -> String {
    let list = prices
        .iter()
        .map(|p| format!("• {p}"))
        .collect::<Vec<_>>()
        .join("\n");
    match lang {
        Lang::Ru => format!(
            "Привет! Я обрабатываю то, что вы присылаете:\n\
             • фото или файл изображения — увеличу в 2 или 4 раза, сожму до нужного размера или \
             переведу в другой формат (JPEG, PNG, WebP; HEIC и AVIF тоже читаю), добавлю на неё текст;\n\
             • голосовое, аудио, видео или видеосообщение — превращу речь в текст;\n\
             • /create — нарисую картинку по описанию, /prompt — напишу подробный промпт по идее;\n\
             • по фото: ✏️ изменю по вашему описанию (до 4 фото), ✨ отретуширую портрет, 🔄 заменю лицо.\n\
             Режимы — на клавиатуре внизу (/menu).\n\n\
             Цены:\n{list}\n\nВаш баланс: {balance}\nДеньги списываются только за выполненную работу.\n/help — помощь, /balance — баланс."
        ),
        Lang::En => format!(
            "Hi! I process what you send me:\n\
             • a photo or an image file — I upscale it 2× or 4×, compress it to a size, or convert it \
             to another format (JPEG, PNG, WebP; I read HEIC and AVIF too), or add text to it;\n\
             • a voice note, audio, a video or a video message — I turn the speech into text;\n\
             • /create — I draw a picture from a description, /prompt — I write a detailed prompt from an idea;\n\
             • from photos: ✏️ I edit them as you describe (up to 4 photos), ✨ retouch a portrait, 🔄 swap a face.\n\
             The modes are on the keyboard below (/menu).\n\n\
             Prices:\n{list}\n\nYour balance: {balance}\nYou only pay for work that is done.\n/help for help, /balance for your balance."
        ),
    }
}

/// Reply to /help; `limit_mb` is the gateway's file size limit (`--max-file-bytes`) in MB (2^20 bytes, as
/// [`file_too_big`] counts them).
pub fn help(lang: Lang, limit_mb: u64) -> String {
    match lang {
        Lang::Ru => format!(
            "Пришлите фото или картинку файлом (JPEG, PNG, WebP, HEIC, AVIF, GIF, BMP, TIFF) — я \
                     предложу увеличить её в 2 или 4 раза, сжать до 1, 2, 4 или 8 МБ или перевести в JPEG, \
                     PNG или WebP, или добавить текст (русский, английский, эмодзи; размер, цвет, место и плашку \
                     опишите своими словами, например «крупный белый текст сверху на чёрной плашке»); \
                     результат придёт файлом в полном разрешении, без EXIF и геометок.\n\
                     Пришлите голосовое, аудиофайл, видео или видеосообщение — я пришлю расшифровку на вашем языке \
                     (русский или английский, см. /language), а под ней кнопку перевода на английский.\n\
                     Пришлите документ (PDF, DOCX, ODT, TXT, MD, CSV) — я достану из него текст; с фото \
                     текст распознаю по кнопке «Текст с фото».\n\
                     /create — картинка по описанию (формат — кнопками), /prompt — подробный промпт по идее с \
                     кнопкой «Создать». Для точной настройки: «Изображение <описание> | model=flash | \
                     size=vertical | aspect_ratio=16:9 | negative=текст».\n\
                     Под фото есть кнопки «✏️ Изменить» (по описанию, можно до 4 фото, модель и формат — \
                     кнопками), «✨ Ретушь» (мягкая или «усилить черты», до 10 МБ) и «🔄 Заменить лицо» (лицо с \
                     этого фото, потом пришлите фото, куда его поставить). Пока картинка делается, её можно \
                     отменить кнопкой «✖️ Отменить». Все режимы — в /menu.\n\
                     Файлы до {limit_mb} МБ. Если что-то не получится, деньги не списываются.\n\n\
                     /start — начало, /menu — меню, /balance — баланс, /history — операции, /status — что выполняется (/status и номер задания — одно задание), /apikey — ключ для HTTP API, \
                     /cancel — отменить то, о чём я спрашиваю, /language — язык, /ping — работает ли бот, /help — эта справка."
        ),
        Lang::En => format!(
            "Send a photo or an image file (JPEG, PNG, WebP, HEIC, AVIF, GIF, BMP, TIFF) and I will \
                     offer to upscale it 2× or 4×, to compress it to 1, 2, 4 or 8 MB, or to convert it to JPEG, PNG \
                     or WebP, or to add text to it (Latin, Cyrillic, emoji; describe the size, colour, place and \
                     plate in your own words, e.g. \"big yellow text at the top\"); the result comes as a file \
                     at full resolution, without EXIF or location.\n\
                     Send a voice note, an audio file, a video or a video message and I will send back the transcript (in your language, \
                     English or Russian; see /language), with a button to translate it to English.\n\
                     Send a document (PDF, DOCX, ODT, TXT, MD, CSV) and I will extract its text; for the text \
                     in a photo, press \"Text from photo\".\n\
                     /create draws a picture from a description (choose the shape with the buttons), /prompt \
                     writes a detailed prompt from an idea, with a \"Create\" button. For full control: \
                     \"Image <description> | model=flash | size=vertical | aspect_ratio=16:9 | negative=text\".\n\
                     Under a photo there are \"✏️ Edit\" (by your instruction, up to 4 photos, the model and the \
                     format with the buttons), \"✨ Retouch\" (soft or enhance features, up to 10 MB) and \
                     \"🔄 Face swap\" (the face from that photo, then send the photo to put it on). While a \
                     picture is being made, \"✖️ Cancel\" stops it. Every mode is in /menu.\n\
                     Files up to {limit_mb} MB. If something fails, you are not charged.\n\n\
                     /start to begin, /menu for the menu, /balance for your balance, /history for your operations, /status for jobs in progress (/status and a job's number for one job), /apikey for an HTTP API key, \
                     /cancel to cancel what I am asking for, /language for the language, /ping to check the bot works, /help for this text."
        ),
    }
}

/// The /language menu, in the current interface language: what is set, and what the buttons do.
pub fn language_menu(choice: crate::languages::LanguageChoice) -> String {
    match (choice.lang, choice.detect_speech) {
        (Lang::Ru, false) => {
            "🌐 Язык: русский. Голосовые и видео расшифровываю на русском.\nВыберите язык \
                              или включите определение языка речи."
                .into()
        }
        (Lang::Ru, true) => {
            "🌐 Язык: русский. Язык речи в голосовых и видео определяю сам.\nВыберите язык \
                             или расшифровывайте на языке интерфейса."
                .into()
        }
        (Lang::En, false) => {
            "🌐 Language: English. I transcribe voice notes and videos in English.\nChoose a \
                              language, or let me detect the spoken language."
                .into()
        }
        (Lang::En, true) => {
            "🌐 Language: English. I detect the spoken language of voice notes and videos.\n\
                             Choose a language, or transcribe in the interface language."
                .into()
        }
    }
}

/// The /language confirmation after a press, in the language just chosen.
pub fn language_saved(choice: crate::languages::LanguageChoice) -> String {
    match (choice.lang, choice.detect_speech) {
        (Lang::Ru, false) => "✅ Готово: отвечаю по-русски и расшифровываю речь на русском.".into(),
        (Lang::Ru, true) => "✅ Готово: отвечаю по-русски, язык речи определяю сам.".into(),
        (Lang::En, false) => {
            "✅ Done: I answer in English and transcribe speech in English.".into()
        }
        (Lang::En, true) => "✅ Done: I answer in English and detect the spoken language.".into(),
    }
}

/// The /language button that switches the spoken-language setting.
pub fn language_speech_button(choice: crate::languages::LanguageChoice) -> String {
    match (choice.lang, choice.detect_speech) {
        (Lang::Ru, false) => "🎙 Определять язык речи".into(),
        (Lang::Ru, true) => "🎙 Расшифровывать на русском".into(),
        (Lang::En, false) => "🎙 Detect the spoken language".into(),
        (Lang::En, true) => "🎙 Transcribe in English".into(),
    }
}

/// Reply to /cancel: what was pending is cancelled, or there was nothing to cancel.
pub fn cancelled(lang: Lang, ended: bool) -> String {
    match (lang, ended) {
        (Lang::Ru, true) => {
            "Отменено. Пришлите фото, голосовое или документ, когда будете готовы.".into()
        }
        (Lang::Ru, false) => "Отменять нечего: я ничего не жду от вас.".into(),
        (Lang::En, true) => {
            "Cancelled. Send a photo, a voice note or a document when you are ready.".into()
        }
        (Lang::En, false) => "Nothing to cancel: I am not waiting for anything from you.".into(),
    }
}

/// Reply to /ping: one line per part of the system (working, not set up, or not answering, with the
/// round-trip time), and what a part that does not answer means for the user.
pub fn ping(lang: Lang, checks: &[crate::ping::Check]) -> String {
    use crate::ping::{Answer, Part};
    let ms = match lang {
        Lang::Ru => "мс",
        Lang::En => "ms",
    };
    let mut lines = vec![match lang {
        Lang::Ru => "🏓 Понг! Бот на связи.".to_string(),
        Lang::En => "🏓 Pong! The bot is up.".to_string(),
    }];
    for check in checks {
        let name = match (lang, check.part) {
            (Lang::Ru, Part::Nats) => "Очередь заданий (NATS)",
            (Lang::En, Part::Nats) => "Job queue (NATS)",
            (Lang::Ru, Part::Billing) => "Баланс и оплата",
            (Lang::En, Part::Billing) => "Balance and payments",
            (Lang::Ru, Part::Worker(Service::Imaging)) => "Картинки",
            (Lang::En, Part::Worker(Service::Imaging)) => "Images",
            (Lang::Ru, Part::Worker(Service::Speech)) => "Расшифровка речи",
            (Lang::En, Part::Worker(Service::Speech)) => "Speech to text",
            (Lang::Ru, Part::Worker(Service::Documents)) => "Текст из документов",
            (Lang::En, Part::Worker(Service::Documents)) => "Text from documents",
            (Lang::Ru, Part::Worker(Service::Generation)) => "Генерация картинок и промптов",
            (Lang::En, Part::Worker(Service::Generation)) => "Pictures and prompts (providers)",
        };
        lines.push(match (lang, check.answer) {
            (_, Answer::Up { ms: t }) => format!("✅ {name} — {t} {ms}"),
            (Lang::Ru, Answer::NotSetUp { ms: t }) => {
                format!("⚠️ {name} — не настроено здесь ({t} {ms})")
            }
            (Lang::En, Answer::NotSetUp { ms: t }) => {
                format!("⚠️ {name} — not set up here ({t} {ms})")
            }
            (Lang::Ru, Answer::Down) => format!("❌ {name} — не отвечает"),
            (Lang::En, Answer::Down) => format!("❌ {name} — not answering"),
        });
    }
    if checks.iter().any(|c| !c.answer.is_up()) {
        lines.push(match lang {
            Lang::Ru => {
                "Что зависит от ❌ и ⚠️, пока не сработает: бот скажет об этом и ничего не спишет."
                    .to_string()
            }
            Lang::En => {
                "What depends on ❌ or ⚠️ will not work for now: the bot will say so and charge \
                         nothing."
                    .to_string()
            }
        });
    }
    lines.join("\n")
}

/// Reply to /apikey: the key, how to call the API with it, and that it replaced an older one.
pub fn api_key(lang: Lang, key: &str, base_url: &str, replaced: bool) -> String {
    let curl = format!(
        "curl {base_url}/audio/transcriptions -H \"Authorization: Bearer {key}\" -F file=@audio.ogg -F model=whisper-1"
    );
    match lang {
        Lang::Ru => format!(
            "Ваш ключ API (покажу только сейчас, храните как пароль):\n{key}\n\n\
             API совместим с OpenAI (распознавание и перевод речи): укажите в клиенте OpenAI base_url {base_url} \
             и этот ключ. Оплата — с этого баланса, поминутно, как в боте; неудачные запросы бесплатны.\n\n{curl}{}",
            if replaced {
                "\n\nПрежний ключ больше не действует."
            } else {
                ""
            }
        ),
        Lang::En => format!(
            "Your API key (shown only now; keep it like a password):\n{key}\n\n\
             The API is OpenAI-compatible (speech to text and translation): give an OpenAI client base_url \
             {base_url} and this key. It is paid from this balance, per minute, as in the bot; failed requests \
             are free.\n\n{curl}{}",
            if replaced {
                "\n\nYour previous key no longer works."
            } else {
                ""
            }
        ),
    }
}

/// /apikey where the HTTP API is not enabled.
pub fn api_off(lang: Lang) -> String {
    match lang {
        Lang::Ru => "HTTP API на этой установке не включён.".into(),
        Lang::En => "The HTTP API is not enabled on this installation.".into(),
    }
}

/// /apikey in a group: keys are given in a private chat only.
pub fn api_key_private_only(lang: Lang) -> String {
    match lang {
        Lang::Ru => "Ключ API выдаю только в личном чате со мной.".into(),
        Lang::En => "I give API keys in a private chat with me only.".into(),
    }
}

/// Reply to /balance.
pub fn balance(lang: Lang, available: &str, held: Option<&str>) -> String {
    match (lang, held) {
        (Lang::Ru, None) => format!("Ваш баланс: {available}"),
        (Lang::En, None) => format!("Your balance: {available}"),
        (Lang::Ru, Some(held)) => {
            format!("Ваш баланс: {available}\nЗарезервировано под задания в работе: {held}")
        }
        (Lang::En, Some(held)) => {
            format!("Your balance: {available}\nReserved for jobs in progress: {held}")
        }
    }
}

/// Text above the operation buttons for a received image.
pub fn choose_image_operation(lang: Lang) -> String {
    match lang {
        Lang::Ru => "Что сделать с изображением?".into(),
        Lang::En => "What should I do with this image?".into(),
    }
}

/// The Russian plural form of a count: `one` for 1, 21, 31 …, `few` for 2–4, 22–24 …, `many` for the rest
/// (0, 5–20, 11–14, …): «1 кадр», «3 кадра», «12 кадров».
pub fn ru_plural(n: u64, one: &'static str, few: &'static str, many: &'static str) -> &'static str {
    match (n % 10, n % 100) {
        (1, 11) | (2..=4, 12..=14) => many,
        (1, _) => one,
        (2..=4, _) => few,
        _ => many,
    }
}

/// What an image file is, above the operation buttons (from imaging's `Describe`): one line of format,
/// size as shown, megapixels, colour model and depth, file size; then, where they apply, the camera and
/// when the picture was taken, the EXIF turn, a GPS position (never passed on), an animation's frames
/// and an embedded colour profile.
pub fn image_facts(lang: Lang, facts: &ImageFacts) -> String {
    let ru = lang == Lang::Ru;
    let (w, h) = (facts.width_px, facts.height_px);
    // Megapixels to one decimal; none for an icon-sized picture, which would read "0.0 MP".
    let megapixels = f64::from(w) * f64::from(h) / 1e6;
    let megapixels = match (megapixels >= 0.05, ru) {
        (false, _) => String::new(),
        (true, true) => format!(" · {} Мп", format!("{megapixels:.1}").replace('.', ",")),
        (true, false) => format!(" · {megapixels:.1} MP"),
    };
    let color = match (ColorModel::try_from(facts.color_model), ru) {
        (Ok(ColorModel::Grayscale), false) => "greyscale",
        (Ok(ColorModel::Grayscale), true) => "оттенки серого",
        (Ok(ColorModel::GrayscaleAlpha), false) => "greyscale + alpha",
        (Ok(ColorModel::GrayscaleAlpha), true) => "оттенки серого + прозрачность",
        (Ok(ColorModel::Rgba), false) => "RGB + alpha",
        (Ok(ColorModel::Rgba), true) => "RGB + прозрачность",
        (Ok(ColorModel::Palette), false) => "palette",
        (Ok(ColorModel::Palette), true) => "палитра",
        (Ok(ColorModel::Cmyk), _) => "CMYK",
        _ => "RGB",
    };
    let bits = u64::from(facts.bits_per_channel);
    let bits = if ru {
        format!("{bits} {}", ru_plural(bits, "бит", "бита", "бит"))
    } else {
        format!("{bits}-bit")
    };
    let mut lines = vec![format!(
        "🖼 {} · {w}×{h}{megapixels} · {color}, {bits} · {}",
        facts.format,
        file_size(lang, facts.size_bytes)
    )];
    let (make, model) = (facts.camera_make.trim(), facts.camera_model.trim());
    // "Canon" + "Canon EOS 40D" is said once.
    let camera = if model.to_lowercase().starts_with(&make.to_lowercase()) {
        model.to_string()
    } else {
        format!("{make} {model}").trim().to_string()
    };
    let taken = facts.taken_at.get(..16).unwrap_or(&facts.taken_at);
    match (camera.is_empty(), taken.is_empty(), ru) {
        (true, true, _) => {}
        (false, true, _) => lines.push(format!("📷 {camera}")),
        (true, false, false) => lines.push(format!("📷 Taken {taken}")),
        (true, false, true) => lines.push(format!("📷 Снято {taken}")),
        (false, false, false) => lines.push(format!("📷 {camera} · taken {taken}")),
        (false, false, true) => lines.push(format!("📷 {camera} · снято {taken}")),
    }
    if facts.exif_orientation > 1 {
        lines.push(match lang {
            Lang::Ru => {
                "🔄 Повёрнуто по EXIF — результаты будут повёрнуты так же, как вы видите.".into()
            }
            Lang::En => "🔄 Turned by its EXIF tag — results come out the way you see it.".into(),
        });
    }
    if facts.has_gps {
        lines.push(match lang {
            Lang::Ru => "📍 Внутри есть GPS-координаты — в результатах их не будет.".into(),
            Lang::En => "📍 It holds a GPS position — results never carry it.".into(),
        });
    }
    if facts.frames > 1 {
        let frames = u64::from(facts.frames);
        lines.push(match lang {
            Lang::Ru => format!(
                "🎞 Анимация: {frames} {} — обрабатывается первый.",
                ru_plural(frames, "кадр", "кадра", "кадров")
            ),
            Lang::En => format!("🎞 An animation of {frames} frames — the first one is processed."),
        });
    }
    if facts.has_icc_profile {
        lines.push(match lang {
            Lang::Ru => "🎨 Встроенный цветовой профиль — результаты в sRGB.".into(),
            Lang::En => "🎨 An embedded colour profile — results are in sRGB.".into(),
        });
    }
    lines.join("\n")
}

/// The text above an image's operation buttons: its facts, when imaging described it, then the question.
pub fn image_offer(lang: Lang, facts: Option<&ImageFacts>) -> String {
    match facts {
        Some(facts) => format!(
            "{}\n\n{}",
            image_facts(lang, facts),
            choose_image_operation(lang)
        ),
        None => choose_image_operation(lang),
    }
}

/// The intake reply, instead of the offer, to an image that imaging's `Describe` refused (corrupt, not an
/// image, or a format imaging does not read).
pub fn image_unreadable(lang: Lang) -> String {
    match lang {
        Lang::Ru => "❌ Не могу прочитать это изображение: файл повреждён или это не картинка \
                     (JPEG, PNG, WebP, GIF, BMP, TIFF, HEIC, AVIF). Ничего не списано."
            .into(),
        Lang::En => "❌ I can't read this image: the file is damaged or not a picture \
                     (JPEG, PNG, WebP, GIF, BMP, TIFF, HEIC, AVIF). Nothing was charged."
            .into(),
    }
}

/// Asks for the text to put on the picture (the first step of the add-text dialogue).
pub fn add_text_ask_text(lang: Lang, max_chars: usize) -> String {
    match lang {
        Lang::Ru => format!(
            "✏️ Пришлите текст, который добавить на картинку (до {max_chars} символов). \
             Можно по-русски и по-английски, с эмодзи; перенос строки — с новой строки. \
             /cancel — передумать."
        ),
        Lang::En => format!(
            "✏️ Send the text to put on the picture (up to {max_chars} characters). \
             Latin, Cyrillic and emoji are fine; a line break starts a new line. /cancel if you changed \
             your mind."
        ),
    }
}

/// Asks how the text should look, with examples of what the wishes parser understands.
pub fn add_text_ask_wishes(lang: Lang) -> String {
    match lang {
        Lang::Ru => "🎨 Как оформить? Напишите пожелания своими словами, например:\n\
                     • крупный белый текст сверху на чёрной плашке\n\
                     • красный 72px по центру\n\
                     • маленький #ffcc00 снизу, отступ 5%, без плашки\n\
                     Размер: маленький, средний, обычный, крупный, огромный или в пикселях; цвет: название \
                     или #hex; положение: сверху, по центру, снизу; плашка: чёрная или белая, прозрачность, \
                     размытие.\n\
                     Или нажмите «Пропустить»: обычный размер, внизу, цвет подберу под фон."
            .into(),
        Lang::En => "🎨 How should it look? Describe it in your own words, for example:\n\
                     • big yellow text at the top\n\
                     • white 72px in the center on a black plate\n\
                     • small #ffcc00 at the bottom, offset 5%, no plate\n\
                     Size: small, medium, normal, large, huge or pixels; colour: a name or #hex; position: \
                     top, center, bottom; plate: black or white, opacity, blur.\n\
                     Or press Skip: normal size, at the bottom, a colour that stands out from the picture."
            .into(),
    }
}

/// The label of the button that takes the default look.
pub fn skip_button(lang: Lang) -> String {
    match lang {
        Lang::Ru => "Пропустить".into(),
        Lang::En => "Skip".into(),
    }
}

/// The text sent for the picture has nothing to draw (only spaces or invisible characters).
pub fn add_text_empty(lang: Lang) -> String {
    match lang {
        Lang::Ru => "В сообщении нет текста — пришлите слова, которые добавить на картинку.".into(),
        Lang::En => {
            "There is no text in that message — send the words to put on the picture.".into()
        }
    }
}

/// The text sent for the picture is longer than allowed.
pub fn add_text_too_long(lang: Lang, chars: usize, max_chars: usize) -> String {
    match lang {
        Lang::Ru => format!(
            "Слишком длинный текст: {chars} символов, можно до {max_chars}. Пришлите покороче."
        ),
        Lang::En => format!(
            "That text is too long: {chars} characters, at most {max_chars}. Please send a shorter one."
        ),
    }
}

/// Something other than text arrived while the add-text dialogue waits for the text.
pub fn add_text_send_text(lang: Lang) -> String {
    match lang {
        Lang::Ru => "Жду текст для картинки — пришлите его обычным сообщением.".into(),
        Lang::En => "I'm waiting for the text for the picture — send it as a plain message.".into(),
    }
}

/// The answer to a second press of a button whose job is already under way (or done).
pub fn already_started(lang: Lang, state: Option<JobState>) -> String {
    match (lang, state) {
        (Lang::Ru, Some(JobState::Completed | JobState::Failed)) => {
            "Это задание уже выполнено.".into()
        }
        (Lang::En, Some(JobState::Completed | JobState::Failed)) => {
            "This job is already done.".into()
        }
        (Lang::Ru, _) => "Это задание уже выполняется — второй раз не запускаю.".into(),
        (Lang::En, _) => "This job is already running — not starting it twice.".into(),
    }
}

/// The result was ready but the Bot API would not take it (refused file, chat trouble).
pub fn undeliverable(lang: Lang) -> String {
    match lang {
        Lang::Ru => "❌ Не удалось отправить результат. Деньги не списаны.".into(),
        Lang::En => "❌ I could not send you the result. You were not charged.".into(),
    }
}

/// Status message while a job waits in the queue (`position`: jobs ahead of it).
pub fn queued(lang: Lang, position: u64) -> String {
    match (lang, position) {
        (Lang::Ru, 0) => "⏳ В очереди, вы следующий…".into(),
        (Lang::En, 0) => "⏳ Queued, you are next…".into(),
        (Lang::Ru, n) => format!("⏳ В очереди, перед вами заданий: {n}…"),
        (Lang::En, n) => format!("⏳ Queued, {n} job(s) ahead of you…"),
    }
}

/// Status message while a file is being received, before the job is queued.
pub fn receiving(lang: Lang) -> String {
    match lang {
        Lang::Ru => "⏳ Получаю файл…".into(),
        Lang::En => "⏳ Receiving the file…".into(),
    }
}

/// Status message while a worker runs the job.
pub fn working(lang: Lang, percent: u32) -> String {
    match (lang, percent) {
        (Lang::Ru, 0) => "⚙️ Обрабатываю…".into(),
        (Lang::En, 0) => "⚙️ Working on it…".into(),
        (Lang::Ru, p) => format!("⚙️ Обрабатываю… {p}%"),
        (Lang::En, p) => format!("⚙️ Working on it… {p}%"),
    }
}

/// Status message while a worker runs the job, with the worker's estimate of the time left
/// (`JobProgress.remaining_ms`; 0 = no estimate, then it reads as [`working`]).
pub fn working_with_estimate(lang: Lang, percent: u32, remaining_ms: u64) -> String {
    if remaining_ms == 0 || percent == 0 {
        return working(lang, percent);
    }
    let left = time_left(lang, remaining_ms);
    match lang {
        Lang::Ru => format!("⚙️ Обрабатываю… {percent}%, осталось {left}"),
        Lang::En => format!("⚙️ Working on it… {percent}%, {left} left"),
    }
}

/// An estimate of time left for people, never precise-looking: "about 40 s" under a minute (rounded up
/// to 5 s), "about 3 min" beyond (minutes rounded up).
pub fn time_left(lang: Lang, ms: u64) -> String {
    if ms < 60_000 {
        let seconds = ms.div_ceil(5_000).max(1) * 5;
        match lang {
            Lang::Ru => format!("около {seconds} с"),
            Lang::En => format!("about {seconds} s"),
        }
    } else {
        let minutes = ms.div_ceil(60_000);
        match lang {
            Lang::Ru => format!("около {minutes} мин"),
            Lang::En => format!("about {minutes} min"),
        }
    }
}

/// The line under the start of a long transcript in the chat: the rest is in the files sent with it.
/// `truncated`: the chat shows only the start of the text.
pub fn transcript_in_files(lang: Lang, truncated: bool) -> String {
    match (lang, truncated) {
        (Lang::Ru, true) => {
            "…\n\n📎 Полный текст — в файле .txt, субтитры — в файлах .srt и .vtt.".into()
        }
        (Lang::En, true) => {
            "…\n\n📎 The full text is in the .txt file, subtitles in the .srt and .vtt files."
                .into()
        }
        (Lang::Ru, false) => "📎 Текст — в файле .txt, субтитры — в файлах .srt и .vtt.".into(),
        (Lang::En, false) => {
            "📎 The text is in the .txt file, subtitles in the .srt and .vtt files.".into()
        }
    }
}

/// A file size for people: "8 B" (under 100 bytes), "850 KB", "1.9 MB" ("1,9 МБ" in Russian); decimal
/// units (1 MB = 1000 KB), as the compression targets are.
pub fn file_size(lang: Lang, bytes: u64) -> String {
    // A few bytes would read "0.0 KB".
    if bytes < 100 {
        return format!("{bytes} {}", if lang == Lang::Ru { "Б" } else { "B" });
    }
    let (value, unit) = if bytes >= 1_000_000 {
        (
            bytes as f64 / 1e6,
            if lang == Lang::Ru { "МБ" } else { "MB" },
        )
    } else {
        (
            bytes as f64 / 1e3,
            if lang == Lang::Ru { "КБ" } else { "KB" },
        )
    };
    let text = if value >= 100.0 || (value.fract() < 0.05 && bytes >= 1_000_000) {
        format!("{value:.0}")
    } else {
        format!("{value:.1}")
    };
    let text = if lang == Lang::Ru {
        text.replace('.', ",")
    } else {
        text
    };
    format!("{text} {unit}")
}

/// The caption of an image result (sent as a file, at full resolution): what was done, the result's
/// pixels, format and size (a compression: before → after), a note when only the first frame of an
/// animation was used, and the balance.
pub fn image_result(
    lang: Lang,
    operation: &Operation,
    image: &ImageResult,
    balance: &str,
) -> String {
    let (w, h) = (image.width_px, image.height_px);
    let format = match image.mime_type.as_str() {
        "image/png" => "PNG",
        "image/webp" => "WebP",
        "image/jpeg" => "JPEG",
        other => other,
    };
    let size = file_size(lang, image.size_bytes);
    let format = match (lang, param(operation, "target").as_str()) {
        (Lang::Ru, "webp_lossless") if operation.id() == Some("image.convert") => "WebP без потерь",
        (Lang::En, "webp_lossless") if operation.id() == Some("image.convert") => "lossless WebP",
        (Lang::Ru, "webp_lossy") if operation.id() == Some("image.convert") => "WebP с потерями",
        (Lang::En, "webp_lossy") if operation.id() == Some("image.convert") => "lossy WebP",
        _ => format,
    };
    let from = if image.input_format.is_empty() {
        "?"
    } else {
        image.input_format.as_str()
    };
    let mut text = match (lang, operation.id()) {
        (Lang::Ru, Some("image.convert")) => {
            format!("Готово: {from} → {format}, {w}×{h}, {size}.")
        }
        (Lang::En, Some("image.convert")) => {
            format!("Converted: {from} → {format}, {w}×{h}, {size}.")
        }
        (Lang::Ru, Some("image.compress")) => format!(
            "Сжато: {} → {size} ({format}, {w}×{h}).",
            file_size(lang, image.input_size_bytes)
        ),
        (Lang::En, Some("image.compress")) => format!(
            "Compressed: {} → {size} ({format}, {w}×{h}).",
            file_size(lang, image.input_size_bytes)
        ),
        (Lang::Ru, Some("image.generate")) => {
            format!(
                "🎨 Готово: {w}×{h}, {format}, {size}. Модель: {}.",
                image.model
            )
        }
        (Lang::En, Some("image.generate")) => {
            format!(
                "🎨 Done: {w}×{h}, {format}, {size}. Model: {}.",
                image.model
            )
        }
        (Lang::Ru, Some("image.edit")) => {
            format!(
                "✏️ Готово: {w}×{h}, {format}, {size}. Модель: {}.",
                image.model
            )
        }
        (Lang::En, Some("image.edit")) => {
            format!(
                "✏️ Done: {w}×{h}, {format}, {size}. Model: {}.",
                image.model
            )
        }
        (Lang::Ru, Some("image.retouch")) => format!("✨ Готово: {w}×{h}, {format}, {size}."),
        (Lang::En, Some("image.retouch")) => format!("✨ Done: {w}×{h}, {format}, {size}."),
        (Lang::Ru, Some("image.face_swap")) => format!("🔄 Готово: {w}×{h}, {format}, {size}."),
        (Lang::En, Some("image.face_swap")) => format!("🔄 Done: {w}×{h}, {format}, {size}."),
        (Lang::Ru, _) => format!("Готово: {w}×{h}, {format}, {size}."),
        (Lang::En, _) => format!("Done: {w}×{h}, {format}, {size}."),
    };
    if image.fallbacks > 0 {
        text.push('\n');
        text.push_str(match lang {
            Lang::Ru => "Первая модель не справилась, картинку сделала следующая — цена та же.",
            Lang::En => "The first model failed, so the next one made it — the price is the same.",
        });
    }
    if image.first_frame_only {
        text.push('\n');
        text.push_str(match lang {
            Lang::Ru => "Это анимация — обработан только первый кадр.",
            Lang::En => "This is an animation: only its first frame was used.",
        });
    }
    match lang {
        Lang::Ru => format!("{text}\nБаланс: {balance}"),
        Lang::En => format!("{text}\nBalance: {balance}"),
    }
}

/// A spoken language's name, from its ISO 639-1 code (the languages the bot's users speak most; the code
/// itself for the others, and "unknown" for none).
pub fn language_name(lang: Lang, code: &str) -> String {
    let name = match (lang, code) {
        (_, "") => {
            return match lang {
                Lang::Ru => "не определён".into(),
                Lang::En => "unknown".into(),
            };
        }
        (Lang::Ru, "ru") => "русский",
        (Lang::En, "ru") => "Russian",
        (Lang::Ru, "en") => "английский",
        (Lang::En, "en") => "English",
        (Lang::Ru, "uk") => "украинский",
        (Lang::En, "uk") => "Ukrainian",
        (Lang::Ru, "be") => "белорусский",
        (Lang::En, "be") => "Belarusian",
        (Lang::Ru, "kk") => "казахский",
        (Lang::En, "kk") => "Kazakh",
        (Lang::Ru, "de") => "немецкий",
        (Lang::En, "de") => "German",
        (Lang::Ru, "fr") => "французский",
        (Lang::En, "fr") => "French",
        (Lang::Ru, "es") => "испанский",
        (Lang::En, "es") => "Spanish",
        (Lang::Ru, "it") => "итальянский",
        (Lang::En, "it") => "Italian",
        (Lang::Ru, "tr") => "турецкий",
        (Lang::En, "tr") => "Turkish",
        (Lang::Ru, "zh") => "китайский",
        (Lang::En, "zh") => "Chinese",
        (_, other) => other,
    };
    name.to_string()
}

/// The lines after a transcript: the spoken language (and that the text is an English translation, when
/// it is) and the balance.
pub fn transcript_done(lang: Lang, language: &str, translated: bool, balance: &str) -> String {
    let spoken = language_name(lang, language);
    match (lang, translated) {
        (Lang::Ru, false) => format!("Язык: {spoken}\nБаланс: {balance}"),
        (Lang::En, false) => format!("Language: {spoken}\nBalance: {balance}"),
        (Lang::Ru, true) => {
            format!("Перевод на английский, язык записи: {spoken}\nБаланс: {balance}")
        }
        (Lang::En, true) => {
            format!("Translated to English from {spoken}\nBalance: {balance}")
        }
    }
}

/// The summary under extracted text: what was read (pages, of them by OCR), characters, words, the
/// languages, the encoding of a plain-text file, and the balance. `language`: comma-separated ISO 639-1
/// codes ("ru,en").
pub fn text_summary(lang: Lang, text: &ExtractedText, balance: &str) -> String {
    let mut parts = Vec::new();
    if text.source_format == "image" {
        parts.push(match lang {
            Lang::Ru => "Распознано с фото".to_string(),
            Lang::En => "Read from the photo".to_string(),
        });
    } else {
        parts.push(text.source_format.clone());
    }
    if text.pages > 0 && text.source_format != "image" {
        parts.push(match lang {
            Lang::Ru => format!("страниц: {}", text.pages),
            Lang::En => format!(
                "{} page{}",
                text.pages,
                if text.pages == 1 { "" } else { "s" }
            ),
        });
    }
    if text.ocr_pages > 0 {
        parts.push(match lang {
            Lang::Ru => format!("распознано со сканов: {}", text.ocr_pages),
            Lang::En => format!("{} read by OCR", text.ocr_pages),
        });
    }
    parts.push(match lang {
        Lang::Ru => format!("символов: {}, слов: {}", text.characters, text.words),
        Lang::En => format!("{} characters, {} words", text.characters, text.words),
    });
    if !text.encoding.is_empty() && !text.encoding.eq_ignore_ascii_case("utf-8") {
        parts.push(match lang {
            Lang::Ru => format!("кодировка {}", text.encoding),
            Lang::En => format!("encoding {}", text.encoding),
        });
    }
    let languages = text
        .language
        .split(',')
        .filter(|code| !code.is_empty())
        .map(|code| language_name(lang, code))
        .collect::<Vec<_>>();
    let languages = if languages.is_empty() {
        language_name(lang, "")
    } else {
        languages.join(", ")
    };
    match lang {
        Lang::Ru => format!(
            "📄 {}\nЯзык: {languages}\nБаланс: {balance}",
            parts.join(", ")
        ),
        Lang::En => format!(
            "📄 {}\nLanguage: {languages}\nBalance: {balance}",
            parts.join(", ")
        ),
    }
}

/// The line after the beginning of an extracted text: the whole text is in the `.txt` sent with it.
/// `truncated`: the chat shows only the beginning.
pub fn text_in_file(lang: Lang, truncated: bool) -> String {
    match (lang, truncated) {
        (Lang::Ru, true) => "…\n\n📎 Весь текст — в файле .txt.".into(),
        (Lang::En, true) => "…\n\n📎 The whole text is in the .txt file.".into(),
        (Lang::Ru, false) => "📎 Текст — также в файле .txt.".into(),
        (Lang::En, false) => "📎 The text is also in the .txt file.".into(),
    }
}

/// When the recording holds no recognisable speech.
pub fn no_speech(lang: Lang) -> String {
    match lang {
        Lang::Ru => "В записи не удалось распознать речь.".into(),
        Lang::En => "No speech could be recognised in this recording.".into(),
    }
}

/// Not enough money for an operation.
pub fn insufficient_funds(lang: Lang, price: &str, balance: &str) -> String {
    match lang {
        Lang::Ru => format!(
            "Недостаточно средств: стоимость {price}, ваш баланс {balance}. Ничего не списано."
        ),
        Lang::En => format!(
            "Not enough money: this costs {price}, your balance is {balance}. Nothing was charged."
        ),
    }
}

/// A file over the size limit.
pub fn file_too_big(lang: Lang, limit_mb: u64) -> String {
    match lang {
        Lang::Ru => {
            format!("Файл слишком большой: я принимаю файлы до {limit_mb} МБ. Ничего не списано.")
        }
        Lang::En => {
            format!("The file is too big: I accept files up to {limit_mb} MB. Nothing was charged.")
        }
    }
}

/// Audio over the duration limit.
pub fn audio_too_long(lang: Lang, limit_min: u32) -> String {
    match lang {
        Lang::Ru => format!(
            "Запись слишком длинная: я расшифровываю до {limit_min} мин. Ничего не списано."
        ),
        Lang::En => format!(
            "The recording is too long: I transcribe up to {limit_min} min. Nothing was charged."
        ),
    }
}

/// The operation is not available on this installation (speech has no model, ...).
pub fn not_set_up(lang: Lang, operation: &Operation) -> String {
    match (lang, operation.id()) {
        (Lang::Ru, Some("speech.transcribe")) => {
            "Расшифровка голоса не настроена на этой установке бота. Ничего не списано.".into()
        }
        (Lang::En, Some("speech.transcribe")) => {
            "Voice transcription is not set up on this installation. Nothing was charged.".into()
        }
        (Lang::Ru, _) => format!(
            "«{}» не настроено на этой установке бота. Ничего не списано.",
            operation_name(lang, operation)
        ),
        (Lang::En, _) => format!(
            "{} is not set up on this installation. Nothing was charged.",
            operation_name(lang, operation)
        ),
    }
}

/// A backend is down or a call failed before the job was queued.
pub fn try_later(lang: Lang) -> String {
    match lang {
        Lang::Ru => "Сервис временно недоступен, попробуйте через минуту. Ничего не списано.".into(),
        Lang::En => "The service is temporarily unavailable, please try again in a minute. Nothing was charged.".into(),
    }
}

/// The button's source message is gone (too old, deleted).
pub fn send_again(lang: Lang) -> String {
    match lang {
        Lang::Ru => "Не нашёл исходный файл — пришлите его ещё раз, пожалуйста.".into(),
        Lang::En => "I can't find the original file any more — please send it again.".into(),
    }
}

/// Anything else a user sends.
pub fn unsupported_message(lang: Lang) -> String {
    match lang {
        Lang::Ru => {
            "Я понимаю фото, картинки файлом, голосовые, аудио, видео и документы (PDF, DOCX, TXT). \
             /help — подробнее.".into()
        }
        Lang::En => {
            "I understand photos, image files, voice notes, audio, videos and documents (PDF, DOCX, \
             TXT). See /help.".into()
        }
    }
}

/// A document of a type the bot does not process: what it is (its file name as [`safe_file_name`] shows
/// it, MIME type and size, from the message: nothing is downloaded), that there is no operation for it
/// yet, and what the bot does take.
pub fn unsupported_file(
    lang: Lang,
    file_name: Option<&str>,
    mime_type: Option<&str>,
    size_bytes: u64,
) -> String {
    let mut facts = Vec::new();
    if let Some(name) = file_name.map(safe_file_name).filter(|n| !n.is_empty()) {
        facts.push(format!("«{name}»"));
    }
    if let Some(mime) = mime_type.filter(|m| !m.is_empty()) {
        facts.push(mime.chars().filter(|c| !c.is_control()).take(80).collect());
    }
    if size_bytes > 0 {
        facts.push(file_size(lang, size_bytes));
    }
    let what = if facts.is_empty() {
        String::new()
    } else {
        format!("📄 {}\n", facts.join(" · "))
    };
    match lang {
        Lang::Ru => format!(
            "{what}Для такого файла у меня пока нет операций. Пришлите изображение (JPEG, PNG, WebP, \
             HEIC), аудио, видео или документ (PDF, DOCX, ODT, TXT, MD, CSV)."
        ),
        Lang::En => format!(
            "{what}I have no operation for this type of file yet. Send an image (JPEG, PNG, WebP, \
             HEIC), audio, a video or a document (PDF, DOCX, ODT, TXT, MD, CSV)."
        ),
    }
}

/// A file name as the bot repeats it: the last path component, without control characters or the
/// bidirectional overrides that make `invoice\u{202e}fdp.exe` read as `invoiceexe.pdf`, trimmed, at most
/// 64 characters (longer names end in "…").
pub fn safe_file_name(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or_default();
    let clean: String = base
        .chars()
        .filter(|c| {
            !c.is_control() && !matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
        })
        .collect();
    let clean = clean.trim();
    if clean.chars().count() > 64 {
        format!("{}…", clean.chars().take(63).collect::<String>())
    } else {
        clean.to_string()
    }
}

/// A failed job, in plain words; always says that nothing was charged.
pub fn job_failed(lang: Lang, reason: FailureReason) -> String {
    let what = match (lang, reason) {
        (Lang::Ru, FailureReason::CorruptInput) => "Файл повреждён или не читается.",
        (Lang::En, FailureReason::CorruptInput) => "The file is damaged or unreadable.",
        (Lang::Ru, FailureReason::UnsupportedFormat) => "Этот формат я пока не поддерживаю.",
        (Lang::En, FailureReason::UnsupportedFormat) => "I don't support this format yet.",
        (Lang::Ru, FailureReason::TooLarge) => "Файл слишком большой для обработки.",
        (Lang::En, FailureReason::TooLarge) => "The file is too large to process.",
        (Lang::Ru, FailureReason::InputMissing) => {
            "Файл потерялся по дороге — пришлите его ещё раз."
        }
        (Lang::En, FailureReason::InputMissing) => {
            "The file got lost on the way — please send it again."
        }
        (Lang::Ru, FailureReason::NoSpeech) => {
            "В записи не нашлось речи: в ней нет звука или только тишина и шум."
        }
        (Lang::En, FailureReason::NoSpeech) => {
            "I found no speech in this recording: it has no sound, or only silence or noise."
        }
        (Lang::Ru, FailureReason::NoText) => "Текста здесь не нашлось.",
        (Lang::En, FailureReason::NoText) => "I found no text in it.",
        (Lang::Ru, FailureReason::Encrypted) => {
            "Документ защищён паролем — пришлите его без пароля."
        }
        (Lang::En, FailureReason::Encrypted) => {
            "The document is password-protected — please send it without the password."
        }
        (Lang::Ru, FailureReason::Rejected) => "Сервис генерации отклонил запрос.",
        (Lang::En, FailureReason::Rejected) => "The generation service refused the request.",
        (Lang::Ru, FailureReason::ProviderFailed) => {
            "Сервис генерации сейчас не справился (ни одна модель не ответила вовремя) — попробуйте \
             ещё раз чуть позже."
        }
        (Lang::En, FailureReason::ProviderFailed) => {
            "The generation service could not do it right now (no model answered in time) — please \
             try again a little later."
        }
        (Lang::Ru, FailureReason::WorkerLost) => {
            "Этот файл несколько раз обрушил обработку, я его отложил."
        }
        (Lang::En, FailureReason::WorkerLost) => {
            "This file crashed the processing several times, so I gave up on it."
        }
        (Lang::Ru, FailureReason::Cancelled) => "Отменено, как вы просили.",
        (Lang::En, FailureReason::Cancelled) => "Cancelled, as you asked.",
        (Lang::Ru, _) => "Что-то пошло не так при обработке.",
        (Lang::En, _) => "Something went wrong while processing it.",
    };
    let mark = if reason == FailureReason::Cancelled {
        "✖️"
    } else {
        "❌"
    };
    match lang {
        Lang::Ru => format!("{mark} {what} Деньги не списаны."),
        Lang::En => format!("{mark} {what} You were not charged."),
    }
}

/// The button under the status of a job that can be cancelled while it waits or runs.
pub fn cancel_button(lang: Lang) -> String {
    match lang {
        Lang::Ru => "✖️ Отменить".into(),
        Lang::En => "✖️ Cancel".into(),
    }
}

/// The answer to a press of Cancel that cancels nothing: the job is someone else's (`not_yours`, in a
/// group), or it has finished.
pub fn cancel_refused(lang: Lang, not_yours: bool) -> String {
    match (lang, not_yours) {
        (Lang::Ru, true) => "Отменить задание может только тот, кто его запустил.".into(),
        (Lang::En, true) => "Only the person who started this job can cancel it.".into(),
        (Lang::Ru, false) => "Это задание уже закончилось — отменять нечего.".into(),
        (Lang::En, false) => "This job has finished already — nothing to cancel.".into(),
    }
}

/// The answer to a press of Cancel under a job's status: the cancel is asked for; the status then says
/// how it ended.
pub fn cancelling(lang: Lang) -> String {
    match lang {
        Lang::Ru => "Отменяю…".into(),
        Lang::En => "Cancelling…".into(),
    }
}

/// A UTC instant (ms since the Unix epoch) as Moscow wall-clock time, `DD.MM.YYYY HH:MM`. Moscow is
/// UTC+3 all year (no daylight saving since 2014), so a fixed offset is exact.
pub fn moscow_time(unix_ms: i64) -> String {
    let utc = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(unix_ms) * 1_000_000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    utc.to_offset(offset!(+3))
        .format(format_description!("[day].[month].[year] [hour]:[minute]"))
        .unwrap_or_default()
}

/// /add_balance from someone not in ADMIN_IDS.
pub fn not_allowed(lang: Lang) -> String {
    match lang {
        Lang::Ru => "Эта команда доступна только администраторам. Ничего не изменено.".into(),
        Lang::En => "This command is for administrators only. Nothing was changed.".into(),
    }
}

/// /add_balance with arguments that do not parse.
pub fn add_balance_invalid(lang: Lang, error: AddBalanceError) -> String {
    let limit = money(lang, MAX_TOP_UP_MINOR, "RUB");
    let why = match (lang, error) {
        (Lang::Ru, AddBalanceError::Usage) => "Укажите сумму.".to_string(),
        (Lang::En, AddBalanceError::Usage) => "Give an amount.".to_string(),
        (Lang::Ru, AddBalanceError::BadUserId) => {
            "Telegram id должен быть положительным числом.".to_string()
        }
        (Lang::En, AddBalanceError::BadUserId) => {
            "The Telegram id must be a positive number.".to_string()
        }
        (Lang::Ru, AddBalanceError::NotANumber) => {
            "Сумма — число рублей, например 100, 100.5 или 100,50.".to_string()
        }
        (Lang::En, AddBalanceError::NotANumber) => {
            "The amount is a number of rubles, e.g. 100, 100.5 or 100,50.".to_string()
        }
        (Lang::Ru, AddBalanceError::NotPositive) => "Сумма должна быть больше нуля.".to_string(),
        (Lang::En, AddBalanceError::NotPositive) => "The amount must be above zero.".to_string(),
        (Lang::Ru, AddBalanceError::TooManyDecimals) => {
            "Не больше двух знаков после запятой (копейки).".to_string()
        }
        (Lang::En, AddBalanceError::TooManyDecimals) => {
            "At most two decimals (kopecks).".to_string()
        }
        (Lang::Ru, AddBalanceError::TooLarge) => format!("Не больше {limit} за раз."),
        (Lang::En, AddBalanceError::TooLarge) => format!("At most {limit} at a time."),
    };
    match lang {
        Lang::Ru => format!("{why}\nФормат: /add_balance [<telegram id>] <сумма в ₽>"),
        Lang::En => format!("{why}\nFormat: /add_balance [<telegram id>] <amount in ₽>"),
    }
}

/// /add_balance done: `amount` credited to `account_id`, whose balance is now `balance`.
pub fn balance_added(lang: Lang, amount: &str, account_id: i64, balance: &str) -> String {
    match lang {
        Lang::Ru => format!("Начислено {amount} на счёт {account_id}. Баланс: {balance}"),
        Lang::En => format!("Credited {amount} to account {account_id}. Balance: {balance}"),
    }
}

/// Splits `text` into chunks of at most `max_chars` characters (Telegram's limit is 4096), preferring to
/// break at a newline, then at a space.
pub fn split_message(text: &str, max_chars: usize) -> Vec<String> {
    let mut chunks = Vec::new();
    let mut rest = text.trim();
    while rest.chars().count() > max_chars {
        let hard = rest
            .char_indices()
            .nth(max_chars)
            .map(|(i, _)| i)
            .unwrap_or(rest.len());
        let head = &rest[..hard];
        let cut = head
            .rfind('\n')
            .or_else(|| head.rfind(' '))
            .filter(|&i| i > 0)
            .unwrap_or(hard);
        chunks.push(rest[..cut].trim_end().to_string());
        rest = rest[cut..].trim_start();
    }
    if !rest.is_empty() {
        chunks.push(rest.to_string());
    }
    chunks
}

/// A job the provider refused for what it asked (`FAILURE_REASON_REJECTED`): the provider's own words,
/// quoted, and that nothing was charged.
pub fn job_rejected(lang: Lang, provider_message: &str) -> String {
    let words: String = provider_message
        .chars()
        .filter(|c| !c.is_control())
        .take(300)
        .collect();
    match (lang, words.trim().is_empty()) {
        (Lang::Ru, true) => "❌ Сервис генерации отклонил запрос — попробуйте описать иначе. Деньги не списаны.".into(),
        (Lang::En, true) => "❌ The generation service refused the request — try describing it differently. You were not charged.".into(),
        (Lang::Ru, false) => format!(
            "❌ Сервис генерации отклонил запрос: «{}». Попробуйте описать иначе. Деньги не списаны.",
            words.trim()
        ),
        (Lang::En, false) => format!(
            "❌ The generation service refused the request: \"{}\". Try describing it differently. You were not charged.",
            words.trim()
        ),
    }
}

/// The /create question: what to send, the shape buttons below, the prices per model (`models`: alias
/// and formatted price, `auto` first) and the power syntax for more control.
pub fn create_ask(lang: Lang, models: &[(String, String)]) -> String {
    let auto = models
        .iter()
        .find(|(m, _)| m == "auto")
        .map(|(_, p)| p.clone())
        .unwrap_or_default();
    let named = models
        .iter()
        .filter(|(m, _)| m != "auto")
        .map(|(m, p)| format!("{m} — {p}"))
        .collect::<Vec<_>>()
        .join(", ");
    match lang {
        Lang::Ru => format!(
            "🎨 Опишите картинку, которую нужно создать, — своими словами, на любом языке.\n\
             Формат выберите кнопками ниже (сейчас — квадрат).\n\
             Цена: {auto}; деньги списываются, только когда картинка пришла.\n\n\
             Точная настройка одним сообщением:\n\
             Изображение <описание> | model=<модель> | size=vertical|square|horizontal|ШxВ | aspect_ratio=16:9 | negative=<чего не должно быть>\n\
             Модели: {named}.\n/cancel — отменить."
        ),
        Lang::En => format!(
            "🎨 Describe the picture to create — in your own words, in any language.\n\
             Choose the shape with the buttons below (square for now).\n\
             Price: {auto}; you pay only once the picture has arrived.\n\n\
             For full control, in one message:\n\
             Image <description> | model=<model> | size=vertical|square|horizontal|WxH | aspect_ratio=16:9 | negative=<what to leave out>\n\
             Models: {named}.\n/cancel to cancel."
        ),
    }
}

/// A shape button under the /create question, marked when chosen.
pub fn shape_button(lang: Lang, shape: ImageShape, chosen: bool) -> String {
    let name = match (lang, shape) {
        (Lang::Ru, ImageShape::Vertical) => "▯ Вертикальный",
        (Lang::En, ImageShape::Vertical) => "▯ Vertical",
        (Lang::Ru, ImageShape::Horizontal) => "▭ Горизонтальный",
        (Lang::En, ImageShape::Horizontal) => "▭ Horizontal",
        (Lang::Ru, _) => "□ Квадрат",
        (Lang::En, _) => "□ Square",
    };
    if chosen {
        format!("✅ {name}")
    } else {
        name.to_string()
    }
}

/// The toast after a shape button: which shape and size the picture will have.
pub fn shape_chosen(lang: Lang, shape: ImageShape) -> String {
    let (w, h) = shape.size_px();
    match lang {
        Lang::Ru => format!("Формат: {w}×{h}. Теперь пришлите описание."),
        Lang::En => format!("Shape: {w}×{h}. Now send the description."),
    }
}

/// The /prompt question.
pub fn prompt_ask(lang: Lang, price: &str, max_chars: usize) -> String {
    match lang {
        Lang::Ru => format!(
            "✍️ Опишите идею картинки в нескольких словах (до {max_chars} символов) — я напишу \
             подробный промпт на английском, а под ним будет кнопка «Создать». Цена промпта: {price}.\n\
             /cancel — отменить."
        ),
        Lang::En => format!(
            "✍️ Describe the idea of a picture in a few words (up to {max_chars} characters) — I will \
             write a detailed prompt in English, with a \"Create\" button under it. The prompt costs {price}.\n\
             /cancel to cancel."
        ),
    }
}

/// A Create or Write-a-prompt dialogue got something other than words.
pub fn words_needed(lang: Lang) -> String {
    match lang {
        Lang::Ru => "Пришлите описание обычным текстом, пожалуйста (или /cancel).".into(),
        Lang::En => "Please send the description as plain text (or /cancel).".into(),
    }
}

/// The description or idea is longer than the operation takes.
pub fn words_too_long(lang: Lang, chars: usize, max_chars: usize) -> String {
    match lang {
        Lang::Ru => format!(
            "Слишком длинно: {chars} символов, а можно до {max_chars}. Сократите, пожалуйста."
        ),
        Lang::En => format!(
            "That is too long: {chars} characters, and at most {max_chars} fit. Please shorten it."
        ),
    }
}

/// A button under a question that is no longer asked (the dialogue ended or expired).
pub fn old_question(lang: Lang) -> String {
    match lang {
        Lang::Ru => "Этот вопрос уже неактуален — начните заново (/menu).".into(),
        Lang::En => "This question is no longer open — start again (/menu).".into(),
    }
}

/// What is wrong with a power-syntax message, and what is valid (`models`: the aliases on sale).
pub fn power_error(lang: Lang, error: &crate::generate::PowerError, models: &[String]) -> String {
    use crate::generate::{POWER_KEYS, PowerError};
    let models = models.join(", ");
    let keys = POWER_KEYS.join(", ");
    let what = match (lang, error) {
        (Lang::Ru, PowerError::EmptyPrompt) => {
            "После «Изображение» нужно описание картинки.".to_string()
        }
        (Lang::En, PowerError::EmptyPrompt) => {
            "\"Image\" must be followed by a description of the picture.".to_string()
        }
        (Lang::Ru, PowerError::UnknownKey(key)) => {
            format!("Не знаю параметр «{key}». Параметры: {keys}.")
        }
        (Lang::En, PowerError::UnknownKey(key)) => {
            format!("I don't know the parameter \"{key}\". Parameters: {keys}.")
        }
        (Lang::Ru, PowerError::UnknownModel(model)) => {
            format!("Нет модели «{model}». Модели: {models}.")
        }
        (Lang::En, PowerError::UnknownModel(model)) => {
            format!("There is no model \"{model}\". Models: {models}.")
        }
        (Lang::Ru, PowerError::BadSize(size)) => format!(
            "Размер «{size}» не подходит: vertical, square, horizontal или ШxВ, каждая сторона от 64 до 4096."
        ),
        (Lang::En, PowerError::BadSize(size)) => format!(
            "The size \"{size}\" does not work: vertical, square, horizontal or WxH, each side 64 to 4096."
        ),
        (Lang::Ru, PowerError::BadAspectRatio(ratio)) => format!(
            "Соотношение сторон «{ratio}» не подходит: нужно w:h, например 16:9 или 3:4 (числа от 1 до 64)."
        ),
        (Lang::En, PowerError::BadAspectRatio(ratio)) => format!(
            "The aspect ratio \"{ratio}\" does not work: it is w:h, e.g. 16:9 or 3:4 (numbers 1 to 64)."
        ),
        (Lang::Ru, PowerError::SizeAndAspectRatio) => {
            "Укажите либо size=ШxВ, либо aspect_ratio, но не оба.".to_string()
        }
        (Lang::En, PowerError::SizeAndAspectRatio) => {
            "Give either size=WxH or aspect_ratio, not both.".to_string()
        }
        (Lang::Ru, PowerError::TooLong(chars)) => format!(
            "Описание слишком длинное: {chars} символов, можно до {}.",
            mediabot_proto::catalog::GENERATE_MAX_PROMPT_CHARS
        ),
        (Lang::En, PowerError::TooLong(chars)) => format!(
            "The description is too long: {chars} characters, at most {} fit.",
            mediabot_proto::catalog::GENERATE_MAX_PROMPT_CHARS
        ),
        (Lang::Ru, PowerError::NegativeTooLong) => format!(
            "negative слишком длинный: можно до {} символов.",
            mediabot_proto::catalog::GENERATE_MAX_NEGATIVE_CHARS
        ),
        (Lang::En, PowerError::NegativeTooLong) => format!(
            "negative is too long: at most {} characters.",
            mediabot_proto::catalog::GENERATE_MAX_NEGATIVE_CHARS
        ),
    };
    match lang {
        Lang::Ru => format!(
            "{what}\nПример: Изображение кот-астронавт | model=flash | size=vertical | negative=текст"
        ),
        Lang::En => format!(
            "{what}\nExample: Image a cat astronaut | model=flash | size=vertical | negative=text"
        ),
    }
}

/// The first line of a written prompt's message, per language; [`strip_prompt_header`] removes it.
const PROMPT_HEADERS: [&str; 2] = ["✍️ Промпт:", "✍️ Prompt:"];

/// A written prompt as the bot sends it: a header line, then the prompt itself (the text "Create from this
/// prompt" takes back with [`strip_prompt_header`]).
pub fn written_prompt(lang: Lang, prompt: &str) -> String {
    let header = match lang {
        Lang::Ru => PROMPT_HEADERS[0],
        Lang::En => PROMPT_HEADERS[1],
    };
    format!("{header}\n\n{prompt}")
}

/// The prompt in a message made by [`written_prompt`] (in either language): the text less its header.
pub fn strip_prompt_header(text: &str) -> &str {
    PROMPT_HEADERS
        .iter()
        .find_map(|h| text.strip_prefix(h))
        .unwrap_or(text)
        .trim()
}

/// The button under a written prompt.
pub fn create_from_prompt_button(lang: Lang, price: &str) -> String {
    match lang {
        Lang::Ru => format!("🎨 Создать по этому промпту — {price}"),
        Lang::En => format!("🎨 Create from this prompt — {price}"),
    }
}

/// The result format's name as shown: PNG, JPEG, WebP.
pub fn format_name(format: &str) -> &'static str {
    match format {
        "jpeg" => "JPEG",
        "webp" => "WebP",
        _ => "PNG",
    }
}

/// The Edit question: what to send, how many pictures there are, the chosen model with its price and
/// the result's format (both changed with the buttons below).
pub fn edit_ask(
    lang: Lang,
    images: usize,
    max_images: usize,
    model: &str,
    price: &str,
    format: &str,
    max_chars: usize,
) -> String {
    let format = format_name(format);
    match lang {
        Lang::Ru => format!(
            "✏️ Напишите, что изменить, — своими словами, на любом языке (до {max_chars} символов), \
             например «сделай ночь и добавь снег».\n\
             Картинок: {images} из {max_images}. До описания можно прислать ещё фото — например, чтобы \
             объединить их в одну картинку.\n\
             Модель: {model} — {price}. Формат результата: {format}. Поменять — кнопками ниже.\n\
             Деньги спишутся, только когда результат придёт. /cancel — отменить."
        ),
        Lang::En => format!(
            "✏️ Write what to change — in your own words, in any language (up to {max_chars} \
             characters), e.g. \"make it night and add snow\".\n\
             Pictures: {images} of {max_images}. You can send more photos before the instruction — to \
             combine them into one picture, say.\n\
             Model: {model} — {price}. Result format: {format}. Change them with the buttons below.\n\
             You pay only once the result has arrived. /cancel to cancel."
        ),
    }
}

/// A model button under the Edit question: the alias and its price, marked when chosen.
pub fn model_button(model: &str, price: &str, chosen: bool) -> String {
    if chosen {
        format!("✅ {model} · {price}")
    } else {
        format!("{model} · {price}")
    }
}

/// A format button under the Edit question, marked when chosen.
pub fn format_button(format: &str, chosen: bool) -> String {
    let name = format_name(format);
    if chosen {
        format!("✅ {name}")
    } else {
        name.to_string()
    }
}

/// A picture beyond the most one edit takes.
pub fn edit_too_many(lang: Lang, max_images: usize) -> String {
    match lang {
        Lang::Ru => format!(
            "Больше {max_images} картинок за раз не получится. Теперь напишите, что изменить (или /cancel)."
        ),
        Lang::En => format!(
            "At most {max_images} pictures at a time. Now write what to change (or /cancel)."
        ),
    }
}

/// Something other than words arrived while Edit waits for the instruction.
pub fn edit_instruction_needed(lang: Lang) -> String {
    match lang {
        Lang::Ru => "Напишите обычным текстом, что изменить на картинке (или /cancel).".into(),
        Lang::En => "Please write as plain text what to change in the picture (or /cancel).".into(),
    }
}

/// What a retouch preset is called.
pub fn retouch_preset_name(lang: Lang, preset: RetouchPreset) -> &'static str {
    match (lang, preset) {
        (Lang::Ru, RetouchPreset::Enhance) => "Усилить черты",
        (Lang::En, RetouchPreset::Enhance) => "Enhance features",
        (Lang::Ru, _) => "Мягкая ретушь",
        (Lang::En, _) => "Soft retouch",
    }
}

/// A preset button under the Retouch question, marked when chosen.
pub fn retouch_preset_button(lang: Lang, preset: RetouchPreset, chosen: bool) -> String {
    let icon = match preset {
        RetouchPreset::Enhance => "💎",
        _ => "🌸",
    };
    let name = retouch_preset_name(lang, preset);
    if chosen {
        format!("✅ {name}")
    } else {
        format!("{icon} {name}")
    }
}

/// The Retouch question: the two presets and what neither changes.
pub fn retouch_ask(lang: Lang, price: &str) -> String {
    match lang {
        Lang::Ru => format!(
            "✨ Ретушь портрета — {price}. Выберите вариант кнопкой:\n\
             • Мягкая ретушь — ровный тон кожи, меньше пятен, блеска и теней под глазами, текстура кожи \
             сохраняется;\n\
             • Усилить черты — выразительнее глаза, брови и контуры лица.\n\
             Губы, возраст и предметы в кадре не меняются. /cancel — отменить."
        ),
        Lang::En => format!(
            "✨ Portrait retouch — {price}. Choose with a button:\n\
             • Soft retouch — an even skin tone, fewer blemishes, less shine and fewer shadows under the \
             eyes, the skin's texture kept;\n\
             • Enhance features — clearer eyes, brows and facial contours.\n\
             Lips, age and the objects in the picture stay as they are. /cancel to cancel."
        ),
    }
}

/// After a preset button: an optional instruction, or Start.
pub fn retouch_ask_wishes(lang: Lang, preset: RetouchPreset, max_chars: usize) -> String {
    let name = retouch_preset_name(lang, preset);
    match lang {
        Lang::Ru => format!(
            "✨ {name}. Хотите что-то добавить? Напишите пожелание (до {max_chars} символов), например \
             «убери блик на лбу», — или нажмите «Начать»."
        ),
        Lang::En => format!(
            "✨ {name}. Anything to add? Write it (up to {max_chars} characters), e.g. \"remove the shine \
             on the forehead\" — or press Start."
        ),
    }
}

/// The Cancel button under a dialogue's question (it ends the dialogue, as /cancel does).
pub fn dialogue_cancel_button(lang: Lang) -> String {
    match lang {
        Lang::Ru => "✖️ Отмена".into(),
        Lang::En => "✖️ Cancel".into(),
    }
}

/// The button that starts a job with the choices made so far, with its price.
pub fn start_button(lang: Lang, price: &str) -> String {
    match lang {
        Lang::Ru => format!("▶️ Начать — {price}"),
        Lang::En => format!("▶️ Start — {price}"),
    }
}

/// Words arrived before a retouch preset was chosen.
pub fn retouch_choose_preset(lang: Lang) -> String {
    match lang {
        Lang::Ru => "Сначала выберите вариант ретуши кнопкой под вопросом (или /cancel).".into(),
        Lang::En => {
            "First choose the kind of retouch with a button under the question (or /cancel).".into()
        }
    }
}

/// A picture over the largest retouch takes (`limit_mb` in MB of 10^6 bytes).
pub fn retouch_too_big(lang: Lang, limit_mb: u64) -> String {
    match lang {
        Lang::Ru => format!(
            "Для ретуши нужна картинка до {limit_mb} МБ — эта больше. Сожмите её (кнопка «Сжать») и \
             пришлите снова. Ничего не списано."
        ),
        Lang::En => format!(
            "Retouch takes pictures up to {limit_mb} MB, and this one is larger. Compress it (the \
             \"Compress\" button) and send it again. Nothing was charged."
        ),
    }
}

/// The Face swap question, under the portrait: now the photo to put the face on.
pub fn face_swap_ask(lang: Lang, price: &str) -> String {
    match lang {
        Lang::Ru => format!(
            "🔄 Замена лица — {price}. Лицо возьму с этого фото. Теперь пришлите фото, на которое его \
             перенести (человек на нём должен быть хорошо виден). /cancel — отменить."
        ),
        Lang::En => format!(
            "🔄 Face swap — {price}. I'll take the face from this photo. Now send the photo to put it on \
             (the person in it should be clearly visible). /cancel to cancel."
        ),
    }
}

/// Something other than a picture arrived while the bot waits for one.
pub fn photo_needed(lang: Lang) -> String {
    match lang {
        Lang::Ru => "Жду фото — пришлите картинку (или /cancel).".into(),
        Lang::En => "I'm waiting for a photo — please send a picture (or /cancel).".into(),
    }
}

/// The label of a main-menu button (the reply keyboard); either language's label opens the mode.
pub fn menu_label(lang: Lang, mode: crate::menu::Mode) -> &'static str {
    use crate::menu::Mode;
    match (lang, mode) {
        (Lang::Ru, Mode::Create) => "🎨 Создать",
        (Lang::En, Mode::Create) => "🎨 Create",
        (Lang::Ru, Mode::Write) => "✍️ Написать",
        (Lang::En, Mode::Write) => "✍️ Write a prompt",
        (Lang::Ru, Mode::Edit) => "✏️ Изменить",
        (Lang::En, Mode::Edit) => "✏️ Edit",
        (Lang::Ru, Mode::Retouch) => "✨ Ретушь",
        (Lang::En, Mode::Retouch) => "✨ Retouch",
        (Lang::Ru, Mode::AddText) => "📝 Добавить текст",
        (Lang::En, Mode::AddText) => "📝 Add text",
        (Lang::Ru, Mode::FaceSwap) => "🔄 Заменить лицо",
        (Lang::En, Mode::FaceSwap) => "🔄 Face swap",
        (Lang::Ru, Mode::Enhance) => "⬆️ Улучшить",
        (Lang::En, Mode::Enhance) => "⬆️ Enhance",
        (Lang::Ru, Mode::Balance) => "💰 Баланс",
        (Lang::En, Mode::Balance) => "💰 Balance",
        (Lang::Ru, Mode::Info) => "ℹ️ Инфо",
        (Lang::En, Mode::Info) => "ℹ️ Info",
    }
}

/// Reply to /menu: the main menu is the keyboard below.
pub fn menu_text(lang: Lang) -> String {
    match lang {
        Lang::Ru => "Выберите, что сделать, кнопками внизу. Или просто пришлите фото, голосовое, \
                     видео или документ — я скажу, что могу с ним сделать."
            .into(),
        Lang::En => {
            "Choose what to do with the buttons below. Or just send a photo, a voice note, a \
                     video or a document and I'll tell you what I can do with it."
                .into()
        }
    }
}

/// A menu mode asks for the picture it works on (`price`: the mode's price, "from" the cheapest where
/// there are several).
pub fn mode_ask_image(lang: Lang, mode: crate::menu::Mode, price: &str) -> String {
    use crate::menu::Mode;
    let ask = match (lang, mode) {
        (Lang::Ru, Mode::Edit) => {
            "✏️ Пришлите фото, которое нужно изменить (можно до 4 — например, чтобы объединить их)."
        }
        (Lang::En, Mode::Edit) => "✏️ Send the photo to edit (up to 4 — to combine them, say).",
        (Lang::Ru, Mode::Retouch) => "✨ Пришлите портрет для ретуши (до 10 МБ).",
        (Lang::En, Mode::Retouch) => "✨ Send the portrait to retouch (up to 10 MB).",
        (Lang::Ru, Mode::AddText) => "📝 Пришлите картинку, на которую добавить текст.",
        (Lang::En, Mode::AddText) => "📝 Send the picture to put text on.",
        (Lang::Ru, Mode::FaceSwap) => {
            "🔄 Пришлите портрет — фото с лицом, которое нужно перенести. Потом я попрошу фото, куда его поставить."
        }
        (Lang::En, Mode::FaceSwap) => {
            "🔄 Send the portrait — the photo with the face to use. Then I'll ask for the photo to put it on."
        }
        (Lang::Ru, _) => {
            "⬆️ Пришлите фото — предложу увеличить его в 2 или 4 раза, сжать или сменить формат."
        }
        (Lang::En, _) => {
            "⬆️ Send a photo — I'll offer to upscale it 2× or 4×, compress it or convert it."
        }
    };
    match lang {
        Lang::Ru => format!("{ask}\nЦена: {price}. /cancel — отменить."),
        Lang::En => format!("{ask}\nPrice: {price}. /cancel to cancel."),
    }
}

/// "from 8 ₽": the lowest of several prices.
pub fn price_from(lang: Lang, price: &str) -> String {
    match lang {
        Lang::Ru => format!("от {price}"),
        Lang::En => format!("from {price}"),
    }
}

/// Where a job of the user's stands, for /status (from its hold and its `JobStatus`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Progress {
    /// Paid for, not queued yet: the file is being received.
    Preparing,
    /// Waiting in its service's queue, `ahead` jobs before it.
    Queued {
        /// Jobs ahead of it (0: next).
        ahead: u64,
    },
    /// A worker runs it; the latest percent it reported.
    Running {
        /// 0..=100.
        percent: u32,
    },
    /// Done or failed; the result or the reason is on its way to the chat.
    Finishing,
}

/// How far a job is, as /status shows it.
pub fn progress_text(lang: Lang, progress: Progress) -> String {
    match (lang, progress) {
        (Lang::Ru, Progress::Preparing) => "⏳ получаю файл".into(),
        (Lang::En, Progress::Preparing) => "⏳ receiving the file".into(),
        (Lang::Ru, Progress::Queued { ahead: 0 }) => "⏳ в очереди, следующее".into(),
        (Lang::En, Progress::Queued { ahead: 0 }) => "⏳ queued, next".into(),
        (Lang::Ru, Progress::Queued { ahead }) => format!(
            "⏳ в очереди, перед ним {ahead} {}",
            ru_plural(ahead, "задание", "задания", "заданий")
        ),
        (Lang::En, Progress::Queued { ahead }) => format!(
            "⏳ queued, {ahead} {} ahead",
            if ahead == 1 { "job" } else { "jobs" }
        ),
        (Lang::Ru, Progress::Running { percent }) => format!("⚙️ выполняется, {percent}%"),
        (Lang::En, Progress::Running { percent }) => format!("⚙️ running, {percent}%"),
        (Lang::Ru, Progress::Finishing) => "📤 готово, отправляю результат".into(),
        (Lang::En, Progress::Finishing) => "📤 done, sending the result".into(),
    }
}

/// One job in progress, a /status line: `#c3d4e5f6 · Photo upscale ×2 · ⚙️ running, 40%`.
pub fn status_line(lang: Lang, short_id: &str, operation: &str, progress: Progress) -> String {
    format!(
        "#{short_id} · {} · {}",
        recorded_operation_name(lang, operation),
        progress_text(lang, progress)
    )
}

/// Reply to /status: the user's jobs in progress (`lines` from [`status_line`]), or that there are none.
pub fn status_list(lang: Lang, lines: &[String]) -> String {
    if lines.is_empty() {
        return match lang {
            Lang::Ru => "Сейчас ничего не выполняется. Готовые операции — в /history.".into(),
            Lang::En => "Nothing in progress. Finished operations are in /history.".into(),
        };
    }
    let mut text = match lang {
        Lang::Ru => format!(
            "Выполняется {} {}:",
            lines.len(),
            ru_plural(lines.len() as u64, "задание", "задания", "заданий")
        ),
        Lang::En => format!(
            "{} {} in progress:",
            lines.len(),
            if lines.len() == 1 { "job" } else { "jobs" }
        ),
    };
    for line in lines {
        text.push('\n');
        text.push_str(line);
    }
    text.push_str(match lang {
        Lang::Ru => "\n\nОдно задание подробно: /status и его номер.",
        Lang::En => "\n\nOne job in detail: /status and its number.",
    });
    text
}

/// A paid operation's state as /history and `/status <id>` tell it.
pub fn hold_state_text(lang: Lang, state: HoldState) -> &'static str {
    match (lang, state) {
        (Lang::Ru, HoldState::Pending) => "⏳ выполняется",
        (Lang::En, HoldState::Pending) => "⏳ in progress",
        (Lang::Ru, HoldState::Captured) => "✅ выполнено и оплачено",
        (Lang::En, HoldState::Captured) => "✅ done and paid",
        (Lang::Ru, HoldState::Released | HoldState::Expired) => {
            "↩️ не выполнено, деньги возвращены"
        }
        (Lang::En, HoldState::Released | HoldState::Expired) => "↩️ not done, money returned",
        (Lang::Ru, HoldState::Unspecified) => "—",
        (Lang::En, HoldState::Unspecified) => "—",
    }
}

/// The money of a paid operation: what was taken once captured, what is held while in progress, none
/// once returned.
fn hold_money(lang: Lang, hold: &Hold) -> Option<String> {
    match hold.state() {
        HoldState::Captured => Some(money(lang, hold.captured_minor, &hold.currency)),
        HoldState::Pending => Some(money(lang, hold.amount_minor, &hold.currency)),
        _ => None,
    }
}

/// One /history line: `21.11.2026 09:33 · Photo upscale ×2 · 5 ₽ · ✅ done and paid · #c3d4e5f6`.
pub fn history_hold_line(lang: Lang, hold: &Hold, short_id: &str) -> String {
    let mut parts = vec![
        moscow_time(hold.created_at_unix_ms),
        recorded_operation_name(lang, &hold.operation),
    ];
    parts.extend(hold_money(lang, hold));
    parts.push(hold_state_text(lang, hold.state()).to_string());
    parts.push(format!("#{short_id}"));
    parts.join(" · ")
}

/// Reply to /history and its "More" pages: one line per paid operation (`lines`, newest first).
pub fn history_page(lang: Lang, lines: &[String], first_page: bool) -> String {
    if lines.is_empty() {
        return match (lang, first_page) {
            (Lang::Ru, true) => "Платных операций пока нет. Баланс — /balance.".into(),
            (Lang::En, true) => "No paid operations yet. Your balance: /balance.".into(),
            (Lang::Ru, false) => "Больше операций нет.".into(),
            (Lang::En, false) => "No more operations.".into(),
        };
    }
    let mut text = match (lang, first_page) {
        (Lang::Ru, true) => "Ваши операции, новые сверху (время московское):".to_string(),
        (Lang::En, true) => "Your operations, newest first (Moscow time):".to_string(),
        (Lang::Ru, false) => "Раньше:".to_string(),
        (Lang::En, false) => "Earlier:".to_string(),
    };
    for line in lines {
        text.push('\n');
        text.push_str(line);
    }
    text
}

/// The button under a /history page that shows the older operations.
pub fn more_button(lang: Lang) -> String {
    match lang {
        Lang::Ru => "Ещё ⬇️".into(),
        Lang::En => "More ⬇️".into(),
    }
}

/// `/status <id>` of one job: its operation, money, state and, while in progress, how far it is.
pub fn status_one(lang: Lang, short_id: &str, hold: &Hold, progress: Option<Progress>) -> String {
    let name = recorded_operation_name(lang, &hold.operation);
    let when = moscow_time(hold.created_at_unix_ms);
    let state = match progress {
        Some(progress) if hold.state() == HoldState::Pending => progress_text(lang, progress),
        _ => hold_state_text(lang, hold.state()).to_string(),
    };
    let money = hold_money(lang, hold);
    match lang {
        Lang::Ru => {
            let money = money.map(|m| format!("\nСумма: {m}")).unwrap_or_default();
            format!("Задание #{short_id}: {name}\nНачато: {when} (МСК){money}\nСостояние: {state}")
        }
        Lang::En => {
            let money = money.map(|m| format!("\nAmount: {m}")).unwrap_or_default();
            format!("Job #{short_id}: {name}\nStarted: {when} (Moscow time){money}\nState: {state}")
        }
    }
}

/// `/status <id>` with an id that is none of the user's jobs.
pub fn status_unknown(lang: Lang, short_id: &str) -> String {
    match lang {
        Lang::Ru => format!(
            "Задания #{short_id} среди ваших нет. Номер — 8 знаков после # в сообщении о задании или в /history."
        ),
        Lang::En => format!(
            "None of your jobs is #{short_id}. The number is the 8 characters after # in a job's message or in /history."
        ),
    }
}

/// `/status <id>` with something that cannot be a job number.
pub fn status_bad_id(lang: Lang) -> String {
    match lang {
        Lang::Ru => {
            "Номер задания — 8 знаков после # в сообщении о задании, например /status 1a2b3c4d."
                .into()
        }
        Lang::En => {
            "A job number is the 8 characters after # in a job's message, e.g. /status 1a2b3c4d."
                .into()
        }
    }
}

/// How to use the bot in a group (its /menu and /start there; `bot_username` without the @): the menu's
/// buttons are for private chats, where every message reaches the bot.
pub fn group_how_to(lang: Lang, bot_username: &str) -> String {
    match lang {
        Lang::Ru => format!(
            "В группе я читаю только команды со своим именем (/help@{bot_username}), упоминания \
             @{bot_username} и ответы на мои сообщения: чтобы я обработал фото или файл, ответьте им \
             на моё сообщение или подпишите @{bot_username}. Меню с кнопками — в личном чате со мной."
        ),
        Lang::En => format!(
            "In a group I read only commands with my name (/help@{bot_username}), mentions of \
             @{bot_username} and replies to my messages: to have a photo or a file processed, send it \
             as a reply to one of my messages or with @{bot_username} in its caption. The menu with \
             buttons is in a private chat with me."
        ),
    }
}

/// A kind of file the bot has no operation for (a static sticker is a picture, offered as one).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OtherMedia {
    /// A GIF, or the silent MP4 Telegram turns GIFs into.
    Animation,
    /// An animated (`.tgs`) sticker.
    AnimatedSticker,
    /// A video (`.webm`) sticker.
    VideoSticker,
}

/// What the message says of such a file (nothing is downloaded).
#[derive(Debug, Clone, Default)]
pub struct MediaFacts<'a> {
    /// Pixels; 0 when unknown.
    pub width: u32,
    /// Pixels; 0 when unknown.
    pub height: u32,
    /// Seconds, for animations.
    pub duration_secs: Option<u32>,
    /// As Telegram reports it.
    pub mime_type: Option<&'a str>,
    /// Bytes; 0 when unknown.
    pub size_bytes: u64,
    /// As sent (shown through [`safe_file_name`]).
    pub file_name: Option<&'a str>,
    /// A sticker's emoji.
    pub emoji: Option<&'a str>,
}

/// The reply to a file of `kind`: what it is, from the message's metadata, and that there is no
/// operation for it yet, with what the bot does take.
pub fn other_media(lang: Lang, kind: OtherMedia, facts: &MediaFacts<'_>) -> String {
    let what = match (lang, kind) {
        (Lang::Ru, OtherMedia::Animation) => "🎞 Анимация",
        (Lang::En, OtherMedia::Animation) => "🎞 Animation",
        (Lang::Ru, OtherMedia::AnimatedSticker) => "🧩 Анимированный стикер",
        (Lang::En, OtherMedia::AnimatedSticker) => "🧩 Animated sticker",
        (Lang::Ru, OtherMedia::VideoSticker) => "🧩 Видеостикер",
        (Lang::En, OtherMedia::VideoSticker) => "🧩 Video sticker",
    };
    let mut parts = vec![match facts.emoji.filter(|e| !e.is_empty()) {
        Some(emoji) => format!("{what} {emoji}"),
        None => what.to_string(),
    }];
    if let Some(name) = facts
        .file_name
        .map(safe_file_name)
        .filter(|n| !n.is_empty())
    {
        parts.push(format!("«{name}»"));
    }
    if facts.width > 0 && facts.height > 0 {
        parts.push(format!("{}×{}", facts.width, facts.height));
    }
    if let Some(seconds) = facts.duration_secs.filter(|s| *s > 0) {
        parts.push(match lang {
            Lang::Ru => format!("{seconds} с"),
            Lang::En => format!("{seconds} s"),
        });
    }
    if let Some(mime) = facts.mime_type.filter(|m| !m.is_empty()) {
        parts.push(mime.chars().filter(|c| !c.is_control()).take(80).collect());
    }
    if facts.size_bytes > 0 {
        parts.push(file_size(lang, facts.size_bytes));
    }
    let facts_line = parts.join(" · ");
    let verdict = match (lang, kind) {
        (Lang::Ru, OtherMedia::Animation) => {
            "Для анимаций у меня пока нет операций. Пришлите картинку, фото, аудио, видео или документ."
        }
        (Lang::En, OtherMedia::Animation) => {
            "I have no operation for animations yet. Send a picture, a photo, audio, a video or a document."
        }
        (Lang::Ru, _) => {
            "Для анимированных и видеостикеров у меня пока нет операций; обычный стикер я могу увеличить \
             или сконвертировать."
        }
        (Lang::En, _) => {
            "I have no operation for animated or video stickers yet; an ordinary sticker I can upscale \
             or convert."
        }
    };
    format!("{facts_line}\n{verdict}")
}

/// The offer under an album of `count` pictures (sent together): every button works on all of them.
pub fn album_offer(lang: Lang, count: u32) -> String {
    match lang {
        Lang::Ru => format!(
            "🖼 {count} {} вместе. Что сделать со всеми сразу? Цена — за все; результат придёт одним \
             архивом.",
            ru_plural(u64::from(count), "картинка", "картинки", "картинок")
        ),
        Lang::En => format!(
            "🖼 {count} pictures together. What shall I do with all of them? The price is for all; the \
             result comes as one archive."
        ),
    }
}

/// The caption of an album's archive: how many pictures, its size, then the balance.
pub fn archive_result(
    lang: Lang,
    operation: &Operation,
    images: u32,
    size_bytes: u64,
    balance: &str,
) -> String {
    let what = one_picture_operation_name(lang, operation);
    let size = file_size(lang, size_bytes);
    match lang {
        Lang::Ru => format!(
            "Готово: {what} — {images} {} в архиве, {size}.\nБаланс: {balance}",
            ru_plural(u64::from(images), "картинка", "картинки", "картинок")
        ),
        Lang::En => {
            format!("Done: {what} — {images} pictures in the archive, {size}.\nBalance: {balance}")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_says_percent_and_time_left() {
        assert_eq!(
            working_with_estimate(Lang::En, 40, 83_000),
            "⚙️ Working on it… 40%, about 2 min left"
        );
        assert_eq!(
            working_with_estimate(Lang::Ru, 75, 12_300),
            "⚙️ Обрабатываю… 75%, осталось около 15 с"
        );
        assert_eq!(
            working_with_estimate(Lang::En, 10, 0),
            working(Lang::En, 10)
        );
        assert_eq!(time_left(Lang::En, 1), "about 5 s");
        assert_eq!(time_left(Lang::Ru, 60_000), "около 1 мин");
    }

    #[test]
    fn money_formats_kopecks() {
        assert_eq!(money(Lang::En, 3000, "RUB"), "30 ₽");
        assert_eq!(money(Lang::En, 550, "RUB"), "5.50 ₽");
        assert_eq!(money(Lang::Ru, 505, "RUB"), "5,05 ₽");
        assert_eq!(money(Lang::Ru, -200, "RUB"), "-2 ₽");
    }

    #[test]
    fn moscow_time_is_utc_plus_three() {
        // 2026-11-21 06:33:00 UTC
        assert_eq!(moscow_time(1_795_242_780_000), "21.11.2026 09:33");
        // Across midnight: 2026-12-31 22:15 UTC is already the new year in Moscow.
        assert_eq!(moscow_time(1_798_755_300_000), "01.01.2027 01:15");
        // Summer: still +3 (no daylight saving).
        assert_eq!(moscow_time(1_783_000_000_000), "02.07.2026 16:46");
    }

    #[test]
    fn files_without_operations_are_described_from_their_metadata() {
        let facts = MediaFacts {
            width: 480,
            height: 270,
            duration_secs: Some(3),
            mime_type: Some("video/mp4"),
            size_bytes: 1_258_291,
            file_name: Some("cat\u{202e}fig.mp4"),
            emoji: None,
        };
        let text = other_media(Lang::Ru, OtherMedia::Animation, &facts);
        assert!(
            text.starts_with("🎞 Анимация · «catfig.mp4» · 480×270 · 3 с · video/mp4 · "),
            "{text}"
        );
        assert!(text.contains("нет операций"), "{text}");
        let sticker = MediaFacts {
            width: 512,
            height: 512,
            emoji: Some("😀"),
            ..MediaFacts::default()
        };
        assert_eq!(
            other_media(Lang::En, OtherMedia::VideoSticker, &sticker)
                .lines()
                .next(),
            Some("🧩 Video sticker 😀 · 512×512")
        );
    }

    #[test]
    fn history_has_one_line_per_paid_operation_with_its_state() {
        let hold = |state: HoldState, amount_minor, captured_minor| Hold {
            job_id: "0190c2d4-5b6a-7c8d-9e0f-a1b2c3d4e5f6".into(),
            operation: "image.upscale factor=2".into(),
            amount_minor,
            captured_minor,
            state: state as i32,
            currency: "RUB".into(),
            created_at_unix_ms: 1_795_242_780_000,
            ..Default::default()
        };
        assert_eq!(
            history_hold_line(Lang::Ru, &hold(HoldState::Captured, 500, 500), "c3d4e5f6"),
            "21.11.2026 09:33 · Увеличение фото ×2 · 5 ₽ · ✅ выполнено и оплачено · #c3d4e5f6"
        );
        assert_eq!(
            history_hold_line(Lang::En, &hold(HoldState::Pending, 500, 0), "c3d4e5f6"),
            "21.11.2026 09:33 · Photo upscale ×2 · 5 ₽ · ⏳ in progress · #c3d4e5f6"
        );
        assert_eq!(
            history_hold_line(Lang::En, &hold(HoldState::Expired, 500, 0), "c3d4e5f6"),
            "21.11.2026 09:33 · Photo upscale ×2 · ↩️ not done, money returned · #c3d4e5f6"
        );
        assert_eq!(
            history_page(Lang::En, &[], true),
            "No paid operations yet. Your balance: /balance."
        );
        assert_eq!(
            progress_text(Lang::Ru, Progress::Queued { ahead: 2 }),
            "⏳ в очереди, перед ним 2 задания"
        );
        assert_eq!(
            progress_text(Lang::Ru, Progress::Queued { ahead: 5 }),
            "⏳ в очереди, перед ним 5 заданий"
        );
        assert_eq!(
            progress_text(Lang::En, Progress::Queued { ahead: 1 }),
            "⏳ queued, 1 job ahead"
        );
        assert_eq!(
            status_list(Lang::Ru, &["a".into()]),
            "Выполняется 1 задание:\na\n\nОдно задание подробно: /status и его номер."
        );
    }

    #[test]
    fn operation_texts_follow_the_catalog() {
        let x4 = Operation::upscale(4);
        assert_eq!(operation_name(Lang::Ru, &x4), "Увеличение фото ×4");
        assert_eq!(operation_button(Lang::En, &x4, "9 ₽"), "Upscale ×4 — 9 ₽");
        assert_eq!(
            recorded_operation_name(Lang::En, "image.upscale_2x"),
            "Photo upscale ×2"
        );
        assert_eq!(
            recorded_operation_name(Lang::En, &x4.key()),
            "Photo upscale ×4"
        );
        assert_eq!(price_label(Lang::Ru, "3 ₽", true), "3 ₽/мин");
        let translate = Operation::translate_to_english("ru");
        assert_eq!(
            operation_button(Lang::En, &translate, "3 ₽"),
            "Translate to English — 3 ₽"
        );
        assert_eq!(
            operation_button(Lang::Ru, &translate, "3 ₽"),
            "Перевести на английский — 3 ₽"
        );
        assert_eq!(
            recorded_operation_name(Lang::En, &translate.key()),
            "Speech translation to English (voice, audio, video)"
        );
    }

    #[test]
    fn image_results_say_what_they_are() {
        assert_eq!(file_size(Lang::En, 1_940_000), "1.9 MB");
        assert_eq!(file_size(Lang::Ru, 1_940_000), "1,9 МБ");
        assert_eq!(file_size(Lang::En, 2_000_000), "2 MB");
        assert_eq!(file_size(Lang::Ru, 850_400), "850 КБ");
        assert_eq!(
            operation_button(Lang::Ru, &Operation::compress(2000), "3 ₽"),
            "Сжать до 2 МБ — 3 ₽"
        );
        let image = ImageResult {
            mime_type: "image/jpeg".into(),
            width_px: 4608,
            height_px: 1976,
            size_bytes: 990_000,
            input_size_bytes: 2_190_194,
            ..ImageResult::default()
        };
        assert_eq!(
            image_result(Lang::En, &Operation::compress(1000), &image, "27 ₽"),
            "Compressed: 2.2 MB → 990 KB (JPEG, 4608×1976).\nBalance: 27 ₽"
        );
        let gif = ImageResult {
            mime_type: "image/png".into(),
            width_px: 200,
            height_px: 100,
            size_bytes: 20_500,
            first_frame_only: true,
            ..ImageResult::default()
        };
        assert_eq!(
            image_result(Lang::Ru, &Operation::upscale(2), &gif, "25 ₽"),
            "Готово: 200×100, PNG, 20,5 КБ.\nЭто анимация — обработан только первый кадр.\nБаланс: 25 ₽"
        );
    }

    #[test]
    fn conversions_say_from_what_to_what() {
        use mediabot_proto::jobs::v1::ConvertTarget;
        let to_jpeg = Operation::convert(ConvertTarget::Jpeg);
        assert_eq!(operation_button(Lang::Ru, &to_jpeg, "2 ₽"), "→ JPEG — 2 ₽");
        assert_eq!(
            operation_button(
                Lang::En,
                &Operation::convert(ConvertTarget::WebpLossy),
                "2 ₽"
            ),
            "→ WebP — 2 ₽"
        );
        assert_eq!(
            operation_name(Lang::En, &to_jpeg),
            "Format conversion (JPEG, PNG, WebP)"
        );
        let heic = ImageResult {
            mime_type: "image/jpeg".into(),
            width_px: 4032,
            height_px: 3024,
            size_bytes: 1_940_000,
            input_format: "HEIC".into(),
            ..ImageResult::default()
        };
        assert_eq!(
            image_result(Lang::En, &to_jpeg, &heic, "28 ₽"),
            "Converted: HEIC → JPEG, 4032×3024, 1.9 MB.\nBalance: 28 ₽"
        );
        let gif = ImageResult {
            mime_type: "image/webp".into(),
            width_px: 60,
            height_px: 40,
            size_bytes: 900,
            input_format: "GIF".into(),
            first_frame_only: true,
            ..ImageResult::default()
        };
        assert_eq!(
            image_result(
                Lang::Ru,
                &Operation::convert(ConvertTarget::WebpLossless),
                &gif,
                "28 ₽"
            ),
            "Готово: GIF → WebP без потерь, 60×40, 0,9 КБ.\nЭто анимация — обработан только первый кадр.\nБаланс: 28 ₽"
        );
        assert_eq!(
            recorded_operation_name(Lang::Ru, "image.convert target=png"),
            "Смена формата (JPEG, PNG, WebP)"
        );
    }

    #[test]
    fn transcripts_say_their_language() {
        assert_eq!(
            transcript_done(Lang::Ru, "ru", false, "27 ₽"),
            "Язык: русский\nБаланс: 27 ₽"
        );
        assert_eq!(
            transcript_done(Lang::En, "ru", true, "27 ₽"),
            "Translated to English from Russian\nBalance: 27 ₽"
        );
        assert_eq!(language_name(Lang::En, "sw"), "sw");
        assert!(job_failed(Lang::En, FailureReason::NoSpeech).contains("no speech"));
    }

    #[test]
    fn help_says_the_configured_file_limit() {
        let en = help(Lang::En, 50);
        assert!(en.contains("Files up to 50 MB."), "{en}");
        assert!(!en.contains("20 MB"), "{en}");
        assert!(help(Lang::Ru, 8).contains("Файлы до 8 МБ."));
    }

    #[test]
    fn language_from_code() {
        assert_eq!(Lang::from_code(Some("ru")), Lang::Ru);
        assert_eq!(Lang::from_code(Some("ru-RU")), Lang::Ru);
        assert_eq!(Lang::from_code(Some("en-US")), Lang::En);
        assert_eq!(Lang::from_code(Some("uk")), Lang::Ru);
        assert_eq!(Lang::from_code(Some("kk-KZ")), Lang::Ru);
        assert_eq!(Lang::from_code(Some("rup")), Lang::En);
        assert_eq!(Lang::from_code(None), Lang::En);
    }

    #[test]
    fn split_respects_limit_and_keeps_text() {
        let word = "слово ";
        let text = word.repeat(2000);
        let chunks = split_message(&text, 4096);
        assert!(chunks.len() >= 3);
        assert!(chunks.iter().all(|c| c.chars().count() <= 4096));
        assert_eq!(chunks.join(" "), text.trim());
        let unbroken = "x".repeat(5000);
        let chunks = split_message(&unbroken, 4096);
        assert_eq!(
            chunks.iter().map(|c| c.chars().count()).collect::<Vec<_>>(),
            vec![4096, 904]
        );
        assert!(split_message("   ", 4096).is_empty());
    }

    #[test]
    fn russian_plurals() {
        let frames = |n| ru_plural(n, "кадр", "кадра", "кадров");
        for (n, word) in [
            (1, "кадр"),
            (2, "кадра"),
            (4, "кадра"),
            (5, "кадров"),
            (11, "кадров"),
            (12, "кадров"),
            (14, "кадров"),
            (21, "кадр"),
            (22, "кадра"),
            (100, "кадров"),
            (101, "кадр"),
            (111, "кадров"),
            (0, "кадров"),
        ] {
            assert_eq!(frames(n), word, "{n}");
        }
    }

    #[test]
    fn image_facts_in_both_languages() {
        let phone = ImageFacts {
            format: "JPEG".into(),
            width_px: 4608,
            height_px: 1976,
            color_model: ColorModel::Rgb as i32,
            bits_per_channel: 8,
            size_bytes: 2_190_194,
            frames: 1,
            exif_orientation: 1,
            camera_make: "HMD Global".into(),
            camera_model: "Nokia 8.3 5G".into(),
            taken_at: "2022-08-14 14:12:31".into(),
            has_gps: true,
            has_icc_profile: false,
        };
        assert_eq!(
            image_facts(Lang::En, &phone),
            "🖼 JPEG · 4608×1976 · 9.1 MP · RGB, 8-bit · 2.2 MB\n\
             📷 HMD Global Nokia 8.3 5G · taken 2022-08-14 14:12\n\
             📍 It holds a GPS position — results never carry it."
        );
        assert_eq!(
            image_facts(Lang::Ru, &phone),
            "🖼 JPEG · 4608×1976 · 9,1 Мп · RGB, 8 бит · 2,2 МБ\n\
             📷 HMD Global Nokia 8.3 5G · снято 2022-08-14 14:12\n\
             📍 Внутри есть GPS-координаты — в результатах их не будет."
        );
        let gif = ImageFacts {
            format: "GIF".into(),
            width_px: 480,
            height_px: 270,
            color_model: ColorModel::Palette as i32,
            bits_per_channel: 8,
            size_bytes: 912_000,
            frames: 23,
            camera_make: "Canon".into(),
            camera_model: "Canon EOS 40D".into(),
            exif_orientation: 6,
            has_icc_profile: true,
            ..ImageFacts::default()
        };
        assert_eq!(
            image_facts(Lang::Ru, &gif),
            "🖼 GIF · 480×270 · 0,1 Мп · палитра, 8 бит · 912 КБ\n\
             📷 Canon EOS 40D\n\
             🔄 Повёрнуто по EXIF — результаты будут повёрнуты так же, как вы видите.\n\
             🎞 Анимация: 23 кадра — обрабатывается первый.\n\
             🎨 Встроенный цветовой профиль — результаты в sRGB."
        );
        let png16 = ImageFacts {
            format: "PNG".into(),
            width_px: 30,
            height_px: 20,
            color_model: ColorModel::GrayscaleAlpha as i32,
            bits_per_channel: 16,
            size_bytes: 700,
            frames: 1,
            taken_at: "2001-02-03 04:05:06".into(),
            ..ImageFacts::default()
        };
        assert_eq!(
            image_facts(Lang::En, &png16),
            "🖼 PNG · 30×20 · greyscale + alpha, 16-bit · 0.7 KB\n📷 Taken 2001-02-03 04:05"
        );
    }

    #[test]
    fn unsupported_files_say_what_they_are_with_a_safe_name() {
        assert_eq!(safe_file_name("../../etc/passwd"), "passwd");
        assert_eq!(safe_file_name("C:\\Users\\a\\report.zip"), "report.zip");
        assert_eq!(safe_file_name("invoice\u{202e}fdp.exe"), "invoicefdp.exe");
        assert_eq!(safe_file_name(" a\tb\n "), "ab");
        let long = safe_file_name(&"x".repeat(100));
        assert_eq!((long.chars().count(), long.ends_with('…')), (64, true));
        assert_eq!(
            unsupported_file(
                Lang::En,
                Some("backup.zip"),
                Some("application/zip"),
                1_500_000
            ),
            "📄 «backup.zip» · application/zip · 1.5 MB\nI have no operation for this type of file yet. \
             Send an image (JPEG, PNG, WebP, HEIC), audio, a video or a document (PDF, DOCX, ODT, TXT, MD, CSV)."
        );
        assert!(
            unsupported_file(Lang::Ru, None, None, 0)
                .starts_with("Для такого файла у меня пока нет операций.")
        );
    }
}
