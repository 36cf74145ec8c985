//! Everything the bot says to users, in Russian and English. The language comes from the Telegram user's
//! `language_code`: Russian for `ru*`, English for anything else or nothing.

use mediabot_proto::billing::v1::{EntryKind, Operation as LedgerEntry};
use mediabot_proto::jobs::v1::{FailureReason, ImageResult, JobState, Operation};
use time::macros::{format_description, offset};

use crate::admin::{AddBalanceError, MAX_TOP_UP_MINOR};

/// Reply language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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

/// What an operation is called (price list, history, buttons), keyed by its catalog id.
pub fn operation_name(lang: Lang, operation: &Operation) -> String {
    match (lang, operation.id()) {
        (Lang::Ru, Some("image.upscale")) => {
            format!("Увеличение фото ×{}", param(operation, "factor"))
        }
        (Lang::En, Some("image.upscale")) => {
            format!("Photo upscale ×{}", param(operation, "factor"))
        }
        (Lang::Ru, Some("image.compress")) => "Сжатие до размера (1, 2, 4, 8 МБ)".into(),
        (Lang::En, Some("image.compress")) => "Compression to a size (1, 2, 4, 8 MB)".into(),
        (Lang::Ru, Some("speech.transcribe")) if param(operation, "translate") == "true" => {
            "Перевод голосового или аудио на английский".into()
        }
        (Lang::En, Some("speech.transcribe")) if param(operation, "translate") == "true" => {
            "Voice/audio translation to English".into()
        }
        (Lang::Ru, Some("speech.transcribe")) => "Расшифровка голосового или аудио".into(),
        (Lang::En, Some("speech.transcribe")) => "Voice/audio transcription".into(),
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
        (Lang::Ru, Some("speech.transcribe")) if param(operation, "translate") == "true" => {
            format!("Перевести на английский — {price}")
        }
        (Lang::En, Some("speech.transcribe")) if param(operation, "translate") == "true" => {
            format!("Translate to English — {price}")
        }
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
             • фото или файл изображения — увеличу в 2 или 4 раза или сожму до нужного размера;\n\
             • голосовое или аудио — превращу в текст.\n\n\
             Цены:\n{list}\n\nВаш баланс: {balance}\nДеньги списываются только за выполненную работу.\n/help — помощь, /balance — баланс."
        ),
        Lang::En => format!(
            "Hi! I process what you send me:\n\
             • a photo or an image file — I upscale it 2× or 4×, or compress it to a size;\n\
             • a voice note or audio — I turn it into text.\n\n\
             Prices:\n{list}\n\nYour balance: {balance}\nYou only pay for work that is done.\n/help for help, /balance for your balance."
        ),
    }
}

/// Reply to /help.
pub fn help(lang: Lang) -> String {
    match lang {
        Lang::Ru => "Пришлите фото или картинку файлом — я предложу увеличить её в 2 или 4 раза или сжать \
                     до 1, 2, 4 или 8 МБ; результат придёт файлом в полном разрешении.\n\
                     Пришлите голосовое сообщение или аудиофайл — я пришлю расшифровку на языке вашего \
                     Telegram (русский или английский), а под ней кнопку перевода на английский.\n\
                     Файлы до 20 МБ. Если что-то не получится, деньги не списываются.\n\n\
                     /start — начало, /balance — баланс, /history — операции, /help — эта справка."
            .into(),
        Lang::En => "Send a photo or an image file and I will offer to upscale it 2× or 4×, or to compress it to \
                     1, 2, 4 or 8 MB; the result comes as a file at full resolution.\n\
                     Send a voice note or an audio file and I will send back the transcript (in the language of \
                     your Telegram: English or Russian), with a button to translate it to English.\n\
                     Files up to 20 MB. If something fails, you are not charged.\n\n\
                     /start to begin, /balance for your balance, /history for your operations, /help for this text."
            .into(),
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

/// A file size for people: "850 KB", "1.9 MB" ("1,9 МБ" in Russian); decimal units (1 MB = 1000 KB),
/// as the compression targets are.
pub fn file_size(lang: Lang, bytes: u64) -> String {
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
    let mut text = match (lang, operation.id()) {
        (Lang::Ru, Some("image.compress")) => format!(
            "Сжато: {} → {size} ({format}, {w}×{h}).",
            file_size(lang, image.input_size_bytes)
        ),
        (Lang::En, Some("image.compress")) => format!(
            "Compressed: {} → {size} ({format}, {w}×{h}).",
            file_size(lang, image.input_size_bytes)
        ),
        (Lang::Ru, _) => format!("Готово: {w}×{h}, {format}, {size}."),
        (Lang::En, _) => format!("Done: {w}×{h}, {format}, {size}."),
    };
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
        Lang::Ru => "Я понимаю фото, картинки файлом, голосовые и аудио. /help — подробнее.".into(),
        Lang::En => "I understand photos, image files, voice notes and audio. See /help.".into(),
    }
}

/// A document of a type the bot does not process.
pub fn unsupported_file(lang: Lang) -> String {
    match lang {
        Lang::Ru => {
            "Этот тип файла я не обрабатываю. Пришлите изображение (JPEG, PNG, WebP) или аудио."
                .into()
        }
        Lang::En => {
            "I can't process this type of file. Send an image (JPEG, PNG, WebP) or audio.".into()
        }
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
        (Lang::Ru, FailureReason::NoSpeech) => "В записи не нашлось речи — только тишина или шум.",
        (Lang::En, FailureReason::NoSpeech) => {
            "I found no speech in this recording, only silence or noise."
        }
        (Lang::Ru, FailureReason::WorkerLost) => {
            "Этот файл несколько раз обрушил обработку, я его отложил."
        }
        (Lang::En, FailureReason::WorkerLost) => {
            "This file crashed the processing several times, so I gave up on it."
        }
        (Lang::Ru, _) => "Что-то пошло не так при обработке.",
        (Lang::En, _) => "Something went wrong while processing it.",
    };
    match lang {
        Lang::Ru => format!("❌ {what} Деньги не списаны."),
        Lang::En => format!("❌ {what} You were not charged."),
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

/// Reply to /history: the operations (newest first) one per line, in Moscow time.
pub fn history(lang: Lang, operations: &[LedgerEntry]) -> String {
    if operations.is_empty() {
        return match lang {
            Lang::Ru => "Операций пока нет.".into(),
            Lang::En => "No operations yet.".into(),
        };
    }
    let mut text = match lang {
        Lang::Ru => "Последние операции (время московское):".to_string(),
        Lang::En => "Latest operations (Moscow time):".to_string(),
    };
    for operation in operations {
        text.push('\n');
        text.push_str(&history_line(lang, operation));
    }
    text
}

/// One /history line: `21.11.2026 09:33 · Charge: Photo upscale ×2 · -5 ₽`.
pub fn history_line(lang: Lang, operation: &LedgerEntry) -> String {
    let what = recorded_operation_name(lang, &operation.description);
    let kind = EntryKind::try_from(operation.kind).unwrap_or(EntryKind::Unspecified);
    let label = match (lang, kind) {
        (Lang::Ru, EntryKind::WelcomeCredit) => "Приветственный бонус".to_string(),
        (Lang::En, EntryKind::WelcomeCredit) => "Welcome credit".to_string(),
        (Lang::Ru, EntryKind::TopUp) => "Пополнение".to_string(),
        (Lang::En, EntryKind::TopUp) => "Top-up".to_string(),
        (Lang::Ru, EntryKind::Capture) => format!("Списание: {what}"),
        (Lang::En, EntryKind::Capture) => format!("Charge: {what}"),
        (Lang::Ru, EntryKind::Hold) => format!("Резерв: {what}"),
        (Lang::En, EntryKind::Hold) => format!("Reserved: {what}"),
        (Lang::Ru, EntryKind::Release) => format!("Резерв снят: {what}"),
        (Lang::En, EntryKind::Release) => format!("Reservation returned: {what}"),
        (Lang::Ru, EntryKind::Expiry) => format!("Резерв истёк и снят: {what}"),
        (Lang::En, EntryKind::Expiry) => format!("Reservation expired and returned: {what}"),
        (Lang::Ru, EntryKind::Refund) => "Возврат".to_string(),
        (Lang::En, EntryKind::Refund) => "Refund".to_string(),
        (Lang::Ru, EntryKind::Adjustment) => "Корректировка".to_string(),
        (Lang::En, EntryKind::Adjustment) => "Adjustment".to_string(),
        (Lang::Ru, EntryKind::Unspecified) => "Операция".to_string(),
        (Lang::En, EntryKind::Unspecified) => "Operation".to_string(),
    };
    let time = moscow_time(operation.created_at_unix_ms);
    match operation.amount_minor {
        0 => format!("{time} · {label}"),
        amount => {
            let sign = if amount > 0 { "+" } else { "" };
            let money = money(lang, amount, &operation.currency);
            format!("{time} · {label} · {sign}{money}")
        }
    }
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

#[cfg(test)]
mod tests {
    use super::*;

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
    fn history_lines() {
        let op = |kind: EntryKind, amount_minor, description: &str| LedgerEntry {
            entry_id: "1".into(),
            kind: kind as i32,
            amount_minor,
            currency: "RUB".into(),
            reference: "job".into(),
            description: description.into(),
            created_at_unix_ms: 1_795_242_780_000,
        };
        assert_eq!(
            history_line(
                Lang::Ru,
                &op(EntryKind::Capture, -500, "image.upscale factor=2")
            ),
            "21.11.2026 09:33 · Списание: Увеличение фото ×2 · -5 ₽"
        );
        assert_eq!(
            history_line(Lang::En, &op(EntryKind::TopUp, 10_050, "admin:1")),
            "21.11.2026 09:33 · Top-up · +100.50 ₽"
        );
        assert_eq!(
            history_line(
                Lang::En,
                &op(EntryKind::Expiry, 0, "speech.transcribe language=auto")
            ),
            "21.11.2026 09:33 · Reservation expired and returned: Voice/audio transcription"
        );
        let text = history(
            Lang::Ru,
            &[op(EntryKind::WelcomeCredit, 3000, "welcome credit")],
        );
        assert_eq!(
            text,
            "Последние операции (время московское):\n21.11.2026 09:33 · Приветственный бонус · +30 ₽"
        );
        assert_eq!(history(Lang::En, &[]), "No operations yet.");
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
            "Voice/audio translation to English"
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
}
