//! Everything the bot says to users, in Russian and English. The words are in Fluent message files,
//! `services/gateway/locales/<language>/*.ftl`, compiled into the binary; each function here picks a
//! message (by the enum or option it is given) and formats it with its arguments, plural forms included.
//! The language is the user's /language choice ([`crate::languages`]), else their Telegram `language_code`
//! ([`Lang::from_code`]).

use std::collections::HashMap;

use fluent_templates::LanguageIdentifier;
use fluent_templates::fluent_bundle::FluentValue;
use mediabot_proto::Service;
use mediabot_proto::billing::v1::{Hold, HoldState};
use mediabot_proto::imaging::v1::{ColorModel, ImageFacts};
use mediabot_proto::jobs::v1::{
    ExtractedText, FailureReason, ImageResult, ImageShape, JobState, Operation, RetouchPreset,
};
use time::macros::{format_description, offset};

use crate::admin::{AddBalanceError, MAX_TOP_UP_MINOR};

#[cfg(test)]
mod samples;

fluent_templates::static_loader! {
    // The message files of every language (a folder per language under `locales/`), parsed on first use.
    // No Unicode isolation marks around arguments: Telegram shows them as they are.
    static LOCALES = {
        locales: "./locales",
        fallback_language: "en",
        customise: |bundle| bundle.set_use_isolating(false),
    };
}

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

    /// The language's folder of message files, `locales/<code>`.
    fn id(self) -> LanguageIdentifier {
        self.code().parse().unwrap_or_default()
    }
}

/// An argument of a message: its name (`$name` in the message) and value. A number selects plural forms
/// (`{ $count -> [one] … *[other] … }`); text, money and sizes are passed already formatted.
type Arg<'a> = (&'static str, FluentValue<'a>);

/// The argument `$name` = `value`.
fn arg<'a>(name: &'static str, value: impl Into<FluentValue<'a>>) -> Arg<'a> {
    (name, value.into())
}

/// The message `id` in `lang` formatted with `args`, or why not: no such message, or the errors of
/// formatting it (an argument it names is missing, a message it refers to is not there, …).
fn lookup(lang: Lang, id: &str, args: &[Arg<'_>]) -> Result<String, String> {
    let args: HashMap<&str, FluentValue<'_>> = args.iter().cloned().collect();
    LOCALES
        .lookup_single_language(&lang.id(), id, Some(&args))
        .map_err(|error| error.to_string())
}

/// The message `id` in `lang` with `args`. One that is missing or does not format is logged and shows as
/// its id, never a panic; the tests fail on any (and check that every message formats).
fn tr(lang: Lang, id: &str, args: &[Arg<'_>]) -> String {
    let text = lookup(lang, id, args);
    #[cfg(test)]
    tests::looked_up(lang, id, &text);
    text.unwrap_or_else(|error| {
        tracing::warn!(
            lang = lang.code(),
            id,
            %error,
            "a text of the bot is missing or does not format; its id is shown instead"
        );
        id.to_string()
    })
}

/// The message `id` in `lang`, which takes no arguments.
fn msg(lang: Lang, id: &str) -> String {
    tr(lang, id, &[])
}

/// A decimal number written with `.` as `lang` writes it: "1.9" in English, "1,9" in Russian.
fn decimal(lang: Lang, number: String) -> String {
    match lang {
        Lang::Ru => number.replace('.', ","),
        Lang::En => number,
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
    match operation.count {
        0 | 1 => name,
        count => tr(
            lang,
            "operation-name-album",
            &[arg("name", name), arg("count", count)],
        ),
    }
}

/// [`operation_name`] of one picture's (or a picture-less) operation.
fn one_picture_operation_name(lang: Lang, operation: &Operation) -> String {
    let factor = param(operation, "factor");
    let model = param(operation, "model");
    let translate = param(operation, "translate") == "true";
    let named_model = !matches!(model.as_str(), "" | "auto");
    match operation.id() {
        Some("image.upscale") => tr(
            lang,
            "operation-name-upscale",
            &[arg("factor", factor.as_str())],
        ),
        Some("image.compress") => msg(lang, "operation-name-compress"),
        Some("image.convert") => msg(lang, "operation-name-convert"),
        Some("image.add_text") => msg(lang, "operation-name-add-text"),
        Some("speech.transcribe") if translate => msg(lang, "operation-name-translate"),
        Some("speech.transcribe") => msg(lang, "operation-name-transcribe"),
        Some("image.ocr") => msg(lang, "operation-name-ocr"),
        Some("document.text") => msg(lang, "operation-name-document-text"),
        Some("image.generate") if named_model => tr(
            lang,
            "operation-name-generate-model",
            &[arg("model", model.as_str())],
        ),
        Some("image.generate") => msg(lang, "operation-name-generate"),
        Some("prompt.write") => msg(lang, "operation-name-write-prompt"),
        Some("image.upscale_remote") => tr(
            lang,
            "operation-name-upscale-remote",
            &[arg("factor", factor.as_str())],
        ),
        Some("image.edit") if named_model => tr(
            lang,
            "operation-name-edit-model",
            &[arg("model", model.as_str())],
        ),
        Some("image.edit") => msg(lang, "operation-name-edit"),
        Some("image.retouch") => msg(lang, "operation-name-retouch"),
        Some("image.face_swap") => msg(lang, "operation-name-face-swap"),
        _ => msg(lang, "operation-name-other"),
    }
}

/// The label of a button that starts `operation` for `price` (already formatted).
pub fn operation_button(lang: Lang, operation: &Operation, price: &str) -> String {
    let factor = param(operation, "factor");
    let with_price = |id: &str| tr(lang, id, &[arg("price", price)]);
    match operation.id() {
        Some("image.upscale") => tr(
            lang,
            "operation-button-upscale",
            &[arg("factor", factor.as_str()), arg("price", price)],
        ),
        Some("image.compress") => {
            let target = param(operation, "target_kb").parse().unwrap_or(0u64) * 1000;
            tr(
                lang,
                "operation-button-compress",
                &[arg("size", file_size(lang, target)), arg("price", price)],
            )
        }
        Some("image.convert") => {
            let target = match param(operation, "target").as_str() {
                "jpeg" => "JPEG",
                "png" => "PNG",
                _ => "WebP",
            };
            tr(
                lang,
                "operation-button-convert",
                &[arg("format", target), arg("price", price)],
            )
        }
        Some("image.add_text") => with_price("operation-button-add-text"),
        Some("speech.transcribe") if param(operation, "translate") == "true" => {
            with_price("operation-button-translate")
        }
        Some("image.ocr") => with_price("operation-button-ocr"),
        Some("image.upscale_remote") => tr(
            lang,
            "operation-button-upscale-remote",
            &[arg("factor", factor.as_str()), arg("price", price)],
        ),
        Some("image.edit") => with_price("operation-button-edit"),
        Some("image.retouch") => with_price("operation-button-retouch"),
        Some("image.face_swap") => with_price("operation-button-face-swap"),
        _ => tr(
            lang,
            "operation-button-other",
            &[
                arg("name", operation_name(lang, operation)),
                arg("price", price),
            ],
        ),
    }
}

/// A price-list line's price: "5 ₽", or "3 ₽/min" for a price per started minute of audio.
pub fn price_label(lang: Lang, amount: &str, per_minute: bool) -> String {
    if per_minute {
        tr(lang, "price-label-per-minute", &[arg("amount", amount)])
    } else {
        amount.to_string()
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
        .map(|p| tr(lang, "welcome-price", &[arg("price", p.as_str())]))
        .collect::<Vec<_>>()
        .join("\n");
    tr(
        lang,
        "welcome",
        &[arg("prices", list), arg("balance", balance)],
    )
}

/// Reply to /help; `limit_mb` is the gateway's file size limit (`--max-file-bytes`) in MB (2^20 bytes, as
/// [`file_too_big`] counts them).
pub fn help(lang: Lang, limit_mb: u64) -> String {
    tr(lang, "help", &[arg("limit_mb", limit_mb)])
}

/// The /language menu, in the current interface language: what is set, and what the buttons do.
pub fn language_menu(choice: crate::languages::LanguageChoice) -> String {
    match choice.detect_speech {
        false => msg(choice.lang, "language-menu"),
        true => msg(choice.lang, "language-menu-detect-speech"),
    }
}

/// The /language confirmation after a press, in the language just chosen.
pub fn language_saved(choice: crate::languages::LanguageChoice) -> String {
    match choice.detect_speech {
        false => msg(choice.lang, "language-saved"),
        true => msg(choice.lang, "language-saved-detect-speech"),
    }
}

/// The /language button that switches the spoken-language setting.
pub fn language_speech_button(choice: crate::languages::LanguageChoice) -> String {
    match choice.detect_speech {
        false => msg(choice.lang, "language-speech-button"),
        true => msg(choice.lang, "language-speech-button-detect-speech"),
    }
}

/// Reply to /cancel: what was pending is cancelled, or there was nothing to cancel.
pub fn cancelled(lang: Lang, ended: bool) -> String {
    match ended {
        true => msg(lang, "cancelled"),
        false => msg(lang, "cancelled-nothing"),
    }
}

/// Reply to /ping: one line per part of the system (working, not set up, or not answering, with the
/// round-trip time), and what a part that does not answer means for the user.
pub fn ping(lang: Lang, checks: &[crate::ping::Check]) -> String {
    use crate::ping::{Answer, Part};
    let mut lines = vec![msg(lang, "ping")];
    for check in checks {
        let name = msg(
            lang,
            match check.part {
                Part::Nats => "ping-part-nats",
                Part::Billing => "ping-part-billing",
                Part::Worker(Service::Imaging) => "ping-part-imaging",
                Part::Worker(Service::Speech) => "ping-part-speech",
                Part::Worker(Service::Documents) => "ping-part-documents",
                Part::Worker(Service::Generation) => "ping-part-generation",
            },
        );
        lines.push(match check.answer {
            Answer::Up { ms } => tr(lang, "ping-up", &[arg("name", name), arg("ms", ms)]),
            Answer::NotSetUp { ms } => {
                tr(lang, "ping-not-set-up", &[arg("name", name), arg("ms", ms)])
            }
            Answer::Down => tr(lang, "ping-down", &[arg("name", name)]),
        });
    }
    if checks.iter().any(|c| !c.answer.is_up()) {
        lines.push(msg(lang, "ping-some-down"));
    }
    lines.join("\n")
}

/// Reply to /apikey: the key, how to call the API with it, and that it replaced an older one.
pub fn api_key(lang: Lang, key: &str, base_url: &str, replaced: bool) -> String {
    let mut text = tr(
        lang,
        "api-key",
        &[arg("key", key), arg("base_url", base_url)],
    );
    if replaced {
        text.push_str("\n\n");
        text.push_str(&msg(lang, "api-key-replaced"));
    }
    text
}

/// /apikey where the HTTP API is not enabled.
pub fn api_off(lang: Lang) -> String {
    msg(lang, "api-off")
}

/// /apikey in a group: keys are given in a private chat only.
pub fn api_key_private_only(lang: Lang) -> String {
    msg(lang, "api-key-private-only")
}

/// Reply to /balance.
pub fn balance(lang: Lang, available: &str, held: Option<&str>) -> String {
    match held {
        None => tr(lang, "balance", &[arg("available", available)]),
        Some(held) => tr(
            lang,
            "balance-held",
            &[arg("available", available), arg("held", held)],
        ),
    }
}

/// Text above the operation buttons for a received image.
pub fn choose_image_operation(lang: Lang) -> String {
    msg(lang, "choose-image-operation")
}

/// What an image file is, above the operation buttons (from imaging's `Describe`): one line of format,
/// size as shown, megapixels, colour model and depth, file size; then, where they apply, the camera and
/// when the picture was taken, the EXIF turn, a GPS position (never passed on), an animation's frames
/// and an embedded colour profile.
pub fn image_facts(lang: Lang, facts: &ImageFacts) -> String {
    let (w, h) = (facts.width_px, facts.height_px);
    // Megapixels to one decimal; none for an icon-sized picture, which would read "0.0 MP".
    let megapixels = f64::from(w) * f64::from(h) / 1e6;
    let megapixels = if megapixels >= 0.05 {
        tr(
            lang,
            "image-facts-megapixels",
            &[arg("value", decimal(lang, format!("{megapixels:.1}")))],
        )
    } else {
        String::new()
    };
    let color = msg(
        lang,
        match ColorModel::try_from(facts.color_model) {
            Ok(ColorModel::Grayscale) => "image-facts-color-grayscale",
            Ok(ColorModel::GrayscaleAlpha) => "image-facts-color-grayscale-alpha",
            Ok(ColorModel::Rgba) => "image-facts-color-rgba",
            Ok(ColorModel::Palette) => "image-facts-color-palette",
            Ok(ColorModel::Cmyk) => "image-facts-color-cmyk",
            _ => "image-facts-color-rgb",
        },
    );
    let bits = tr(
        lang,
        "image-facts-bits",
        &[arg("bits", facts.bits_per_channel)],
    );
    let mut lines = vec![tr(
        lang,
        "image-facts",
        &[
            arg("format", facts.format.as_str()),
            arg("width", w),
            arg("height", h),
            arg("megapixels", megapixels),
            arg("color", color),
            arg("bits", bits),
            arg("size", file_size(lang, facts.size_bytes)),
        ],
    )];
    let (make, model) = (facts.camera_make.trim(), facts.camera_model.trim());
    // "Canon" + "Canon EOS 40D" is said once.
    let camera = if model.to_lowercase().starts_with(&make.to_lowercase()) {
        model.to_string()
    } else {
        format!("{make} {model}").trim().to_string()
    };
    let taken = facts.taken_at.get(..16).unwrap_or(&facts.taken_at);
    match (camera.is_empty(), taken.is_empty()) {
        (true, true) => {}
        (false, true) => lines.push(tr(lang, "image-facts-camera", &[arg("camera", camera)])),
        (true, false) => lines.push(tr(lang, "image-facts-taken", &[arg("taken", taken)])),
        (false, false) => lines.push(tr(
            lang,
            "image-facts-camera-taken",
            &[arg("camera", camera), arg("taken", taken)],
        )),
    }
    if facts.exif_orientation > 1 {
        lines.push(msg(lang, "image-facts-exif-turned"));
    }
    if facts.has_gps {
        lines.push(msg(lang, "image-facts-gps"));
    }
    if facts.frames > 1 {
        lines.push(tr(
            lang,
            "image-facts-animation",
            &[arg("frames", facts.frames)],
        ));
    }
    if facts.has_icc_profile {
        lines.push(msg(lang, "image-facts-color-profile"));
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
    msg(lang, "image-unreadable")
}

/// Asks for the text to put on the picture (the first step of the add-text dialogue).
pub fn add_text_ask_text(lang: Lang, max_chars: usize) -> String {
    tr(lang, "add-text-ask-text", &[arg("max_chars", max_chars)])
}

/// Asks how the text should look, with examples of what the wishes parser understands.
pub fn add_text_ask_wishes(lang: Lang) -> String {
    msg(lang, "add-text-ask-wishes")
}

/// The label of the button that takes the default look.
pub fn skip_button(lang: Lang) -> String {
    msg(lang, "skip-button")
}

/// The text sent for the picture has nothing to draw (only spaces or invisible characters).
pub fn add_text_empty(lang: Lang) -> String {
    msg(lang, "add-text-empty")
}

/// The text sent for the picture is longer than allowed.
pub fn add_text_too_long(lang: Lang, chars: usize, max_chars: usize) -> String {
    tr(
        lang,
        "add-text-too-long",
        &[arg("chars", chars), arg("max_chars", max_chars)],
    )
}

/// Something other than text arrived while the add-text dialogue waits for the text.
pub fn add_text_send_text(lang: Lang) -> String {
    msg(lang, "add-text-send-text")
}

/// The answer to a second press of a button whose job is already under way (or done).
pub fn already_started(lang: Lang, state: Option<JobState>) -> String {
    match state {
        Some(JobState::Completed | JobState::Failed) => msg(lang, "already-started-done"),
        _ => msg(lang, "already-started"),
    }
}

/// The result was ready but the Bot API would not take it (refused file, chat trouble).
pub fn undeliverable(lang: Lang) -> String {
    msg(lang, "undeliverable")
}

/// Status message while a job waits in the queue (`position`: jobs ahead of it).
pub fn queued(lang: Lang, position: u64) -> String {
    match position {
        0 => msg(lang, "queued-next"),
        n => tr(lang, "queued", &[arg("position", n)]),
    }
}

/// Status message while a file is being received, before the job is queued.
pub fn receiving(lang: Lang) -> String {
    msg(lang, "receiving")
}

/// Status message while a worker runs the job.
pub fn working(lang: Lang, percent: u32) -> String {
    match percent {
        0 => msg(lang, "working"),
        p => tr(lang, "working-percent", &[arg("percent", p)]),
    }
}

/// Status message while a worker runs the job, with the worker's estimate of the time left
/// (`JobProgress.remaining_ms`; 0 = no estimate, then it reads as [`working`]).
pub fn working_with_estimate(lang: Lang, percent: u32, remaining_ms: u64) -> String {
    if remaining_ms == 0 || percent == 0 {
        return working(lang, percent);
    }
    tr(
        lang,
        "working-with-estimate",
        &[
            arg("percent", percent),
            arg("left", time_left(lang, remaining_ms)),
        ],
    )
}

/// An estimate of time left for people, never precise-looking: "about 40 s" under a minute (rounded up
/// to 5 s), "about 3 min" beyond (minutes rounded up).
pub fn time_left(lang: Lang, ms: u64) -> String {
    if ms < 60_000 {
        let seconds = ms.div_ceil(5_000).max(1) * 5;
        tr(lang, "time-left-seconds", &[arg("seconds", seconds)])
    } else {
        let minutes = ms.div_ceil(60_000);
        tr(lang, "time-left-minutes", &[arg("minutes", minutes)])
    }
}

/// The line under the start of a long transcript in the chat: the rest is in the files sent with it.
/// `truncated`: the chat shows only the start of the text.
pub fn transcript_in_files(lang: Lang, truncated: bool) -> String {
    match truncated {
        true => msg(lang, "transcript-in-files-truncated"),
        false => msg(lang, "transcript-in-files"),
    }
}

/// A file size for people: "8 B" (under 100 bytes), "850 KB", "1.9 MB" ("1,9 МБ" in Russian); decimal
/// units (1 MB = 1000 KB), as the compression targets are.
pub fn file_size(lang: Lang, bytes: u64) -> String {
    // A few bytes would read "0.0 KB".
    if bytes < 100 {
        return tr(lang, "file-size-bytes", &[arg("value", bytes.to_string())]);
    }
    let (value, id) = if bytes >= 1_000_000 {
        (bytes as f64 / 1e6, "file-size-megabytes")
    } else {
        (bytes as f64 / 1e3, "file-size-kilobytes")
    };
    let text = if value >= 100.0 || (value.fract() < 0.05 && bytes >= 1_000_000) {
        format!("{value:.0}")
    } else {
        format!("{value:.1}")
    };
    tr(lang, id, &[arg("value", decimal(lang, text))])
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
    let format = match image.mime_type.as_str() {
        "image/png" => "PNG",
        "image/webp" => "WebP",
        "image/jpeg" => "JPEG",
        other => other,
    };
    let converted = operation.id() == Some("image.convert");
    let format = match param(operation, "target").as_str() {
        "webp_lossless" if converted => msg(lang, "image-result-format-webp-lossless"),
        "webp_lossy" if converted => msg(lang, "image-result-format-webp-lossy"),
        _ => format.to_string(),
    };
    let from = if image.input_format.is_empty() {
        "?"
    } else {
        image.input_format.as_str()
    };
    let id = match operation.id() {
        Some("image.convert") => "image-result-convert",
        Some("image.compress") => "image-result-compress",
        Some("image.generate") => "image-result-generate",
        Some("image.edit") => "image-result-edit",
        Some("image.retouch") => "image-result-retouch",
        Some("image.face_swap") => "image-result-face-swap",
        _ => "image-result",
    };
    // Each message takes the arguments it names.
    let mut lines = vec![tr(
        lang,
        id,
        &[
            arg("width", image.width_px),
            arg("height", image.height_px),
            arg("format", format),
            arg("size", file_size(lang, image.size_bytes)),
            arg("input_size", file_size(lang, image.input_size_bytes)),
            arg("from", from),
            arg("model", image.model.as_str()),
        ],
    )];
    if image.fallbacks > 0 {
        lines.push(msg(lang, "image-result-fallback"));
    }
    if image.first_frame_only {
        lines.push(msg(lang, "image-result-first-frame"));
    }
    lines.push(tr(lang, "image-result-balance", &[arg("balance", balance)]));
    lines.join("\n")
}

/// A spoken language's name, from its ISO 639-1 code (the languages the bot's users speak most; the code
/// itself for the others, and "unknown" for none).
pub fn language_name(lang: Lang, code: &str) -> String {
    if code.is_empty() {
        msg(lang, "language-name-unknown")
    } else {
        tr(lang, "language-name", &[arg("code", code)])
    }
}

/// The lines after a transcript: the spoken language (and that the text is an English translation, when
/// it is) and the balance.
pub fn transcript_done(lang: Lang, language: &str, translated: bool, balance: &str) -> String {
    let id = match translated {
        false => "transcript-done",
        true => "transcript-done-translated",
    };
    tr(
        lang,
        id,
        &[
            arg("language", language_name(lang, language)),
            arg("balance", balance),
        ],
    )
}

/// The summary under extracted text: what was read (pages, of them by OCR), characters, words, the
/// languages, the encoding of a plain-text file, and the balance. `language`: comma-separated ISO 639-1
/// codes ("ru,en").
pub fn text_summary(lang: Lang, text: &ExtractedText, balance: &str) -> String {
    let mut parts = Vec::new();
    if text.source_format == "image" {
        parts.push(msg(lang, "text-summary-photo"));
    } else {
        parts.push(text.source_format.clone());
    }
    if text.pages > 0 && text.source_format != "image" {
        parts.push(tr(lang, "text-summary-pages", &[arg("pages", text.pages)]));
    }
    if text.ocr_pages > 0 {
        parts.push(tr(
            lang,
            "text-summary-ocr-pages",
            &[arg("pages", text.ocr_pages)],
        ));
    }
    parts.push(tr(
        lang,
        "text-summary-size",
        &[arg("characters", text.characters), arg("words", text.words)],
    ));
    if !text.encoding.is_empty() && !text.encoding.eq_ignore_ascii_case("utf-8") {
        parts.push(tr(
            lang,
            "text-summary-encoding",
            &[arg("encoding", text.encoding.as_str())],
        ));
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
    tr(
        lang,
        "text-summary",
        &[
            arg("parts", parts.join(", ")),
            arg("languages", languages),
            arg("balance", balance),
        ],
    )
}

/// The line after the beginning of an extracted text: the whole text is in the `.txt` sent with it.
/// `truncated`: the chat shows only the beginning.
pub fn text_in_file(lang: Lang, truncated: bool) -> String {
    match truncated {
        true => msg(lang, "text-in-file-truncated"),
        false => msg(lang, "text-in-file"),
    }
}

/// When the recording holds no recognisable speech.
pub fn no_speech(lang: Lang) -> String {
    msg(lang, "no-speech")
}

/// Not enough money for an operation.
pub fn insufficient_funds(lang: Lang, price: &str, balance: &str) -> String {
    tr(
        lang,
        "insufficient-funds",
        &[arg("price", price), arg("balance", balance)],
    )
}

/// A file over the size limit.
pub fn file_too_big(lang: Lang, limit_mb: u64) -> String {
    tr(lang, "file-too-big", &[arg("limit_mb", limit_mb)])
}

/// Audio over the duration limit.
pub fn audio_too_long(lang: Lang, limit_min: u32) -> String {
    tr(lang, "audio-too-long", &[arg("limit_min", limit_min)])
}

/// The operation is not available on this installation (speech has no model, ...).
pub fn not_set_up(lang: Lang, operation: &Operation) -> String {
    match operation.id() {
        Some("speech.transcribe") => msg(lang, "not-set-up-transcribe"),
        _ => tr(
            lang,
            "not-set-up",
            &[arg("operation", operation_name(lang, operation))],
        ),
    }
}

/// A backend is down or a call failed before the job was queued.
pub fn try_later(lang: Lang) -> String {
    msg(lang, "try-later")
}

/// The button's source message is gone (too old, deleted).
pub fn send_again(lang: Lang) -> String {
    msg(lang, "send-again")
}

/// Anything else a user sends.
pub fn unsupported_message(lang: Lang) -> String {
    msg(lang, "unsupported-message")
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
        facts.push(tr(lang, "unsupported-file-name", &[arg("name", name)]));
    }
    if let Some(mime) = mime_type.filter(|m| !m.is_empty()) {
        facts.push(mime.chars().filter(|c| !c.is_control()).take(80).collect());
    }
    if size_bytes > 0 {
        facts.push(file_size(lang, size_bytes));
    }
    let text = msg(lang, "unsupported-file");
    if facts.is_empty() {
        text
    } else {
        let facts = tr(
            lang,
            "unsupported-file-facts",
            &[arg("facts", facts.join(" · "))],
        );
        format!("{facts}\n{text}")
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
    let reason = match reason {
        FailureReason::Cancelled => return msg(lang, "job-failed-cancelled"),
        FailureReason::CorruptInput => "job-failed-reason-corrupt-input",
        FailureReason::UnsupportedFormat => "job-failed-reason-unsupported-format",
        FailureReason::TooLarge => "job-failed-reason-too-large",
        FailureReason::InputMissing => "job-failed-reason-input-missing",
        FailureReason::NoSpeech => "job-failed-reason-no-speech",
        FailureReason::NoText => "job-failed-reason-no-text",
        FailureReason::Encrypted => "job-failed-reason-encrypted",
        FailureReason::Rejected => "job-failed-reason-rejected",
        FailureReason::ProviderFailed => "job-failed-reason-provider-failed",
        FailureReason::WorkerLost => "job-failed-reason-worker-lost",
        _ => "job-failed-reason-other",
    };
    tr(lang, "job-failed", &[arg("reason", msg(lang, reason))])
}

/// The button under the status of a job that can be cancelled while it waits or runs.
pub fn cancel_button(lang: Lang) -> String {
    msg(lang, "cancel-button")
}

/// The answer to a press of Cancel that cancels nothing: the job is someone else's (`not_yours`, in a
/// group), or it has finished.
pub fn cancel_refused(lang: Lang, not_yours: bool) -> String {
    match not_yours {
        true => msg(lang, "cancel-refused-not-yours"),
        false => msg(lang, "cancel-refused"),
    }
}

/// The answer to a press of Cancel under a job's status: the cancel is asked for; the status then says
/// how it ended.
pub fn cancelling(lang: Lang) -> String {
    msg(lang, "cancelling")
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
    msg(lang, "not-allowed")
}

/// /add_balance with arguments that do not parse.
pub fn add_balance_invalid(lang: Lang, error: AddBalanceError) -> String {
    let why = match error {
        AddBalanceError::Usage => msg(lang, "add-balance-invalid-usage"),
        AddBalanceError::BadUserId => msg(lang, "add-balance-invalid-bad-user-id"),
        AddBalanceError::NotANumber => msg(lang, "add-balance-invalid-not-a-number"),
        AddBalanceError::NotPositive => msg(lang, "add-balance-invalid-not-positive"),
        AddBalanceError::TooManyDecimals => msg(lang, "add-balance-invalid-too-many-decimals"),
        AddBalanceError::TooLarge => tr(
            lang,
            "add-balance-invalid-too-large",
            &[arg("limit", money(lang, MAX_TOP_UP_MINOR, "RUB"))],
        ),
    };
    tr(lang, "add-balance-invalid", &[arg("why", why)])
}

/// /add_balance done: `amount` credited to `account_id`, whose balance is now `balance`.
pub fn balance_added(lang: Lang, amount: &str, account_id: i64, balance: &str) -> String {
    tr(
        lang,
        "balance-added",
        &[
            arg("amount", amount),
            arg("account_id", account_id.to_string()),
            arg("balance", balance),
        ],
    )
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
    match words.trim() {
        "" => msg(lang, "job-rejected"),
        words => tr(lang, "job-rejected-quoted", &[arg("message", words)]),
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
        .map(|(m, p)| {
            tr(
                lang,
                "create-ask-model",
                &[arg("model", m.as_str()), arg("price", p.as_str())],
            )
        })
        .collect::<Vec<_>>()
        .join(", ");
    tr(
        lang,
        "create-ask",
        &[arg("auto", auto), arg("models", named)],
    )
}

/// A shape button under the /create question, marked when chosen.
pub fn shape_button(lang: Lang, shape: ImageShape, chosen: bool) -> String {
    let name = msg(
        lang,
        match shape {
            ImageShape::Vertical => "shape-button-vertical",
            ImageShape::Horizontal => "shape-button-horizontal",
            _ => "shape-button-square",
        },
    );
    if chosen { format!("✅ {name}") } else { name }
}

/// The toast after a shape button: which shape and size the picture will have.
pub fn shape_chosen(lang: Lang, shape: ImageShape) -> String {
    let (w, h) = shape.size_px();
    tr(lang, "shape-chosen", &[arg("width", w), arg("height", h)])
}

/// The /prompt question.
pub fn prompt_ask(lang: Lang, price: &str, max_chars: usize) -> String {
    tr(
        lang,
        "prompt-ask",
        &[arg("price", price), arg("max_chars", max_chars)],
    )
}

/// A Create or Write-a-prompt dialogue got something other than words.
pub fn words_needed(lang: Lang) -> String {
    msg(lang, "words-needed")
}

/// The description or idea is longer than the operation takes.
pub fn words_too_long(lang: Lang, chars: usize, max_chars: usize) -> String {
    tr(
        lang,
        "words-too-long",
        &[arg("chars", chars), arg("max_chars", max_chars)],
    )
}

/// A button under a question that is no longer asked (the dialogue ended or expired).
pub fn old_question(lang: Lang) -> String {
    msg(lang, "old-question")
}

/// What is wrong with a power-syntax message, and what is valid (`models`: the aliases on sale).
pub fn power_error(lang: Lang, error: &crate::generate::PowerError, models: &[String]) -> String {
    use crate::generate::{POWER_KEYS, PowerError};
    use mediabot_proto::catalog::{GENERATE_MAX_NEGATIVE_CHARS, GENERATE_MAX_PROMPT_CHARS};
    let models = models.join(", ");
    let keys = POWER_KEYS.join(", ");
    let what = match error {
        PowerError::EmptyPrompt => msg(lang, "power-error-empty-prompt"),
        PowerError::UnknownKey(key) => tr(
            lang,
            "power-error-unknown-key",
            &[arg("key", key.as_str()), arg("keys", keys)],
        ),
        PowerError::UnknownModel(model) => tr(
            lang,
            "power-error-unknown-model",
            &[arg("model", model.as_str()), arg("models", models)],
        ),
        PowerError::BadSize(size) => {
            tr(lang, "power-error-bad-size", &[arg("size", size.as_str())])
        }
        PowerError::BadAspectRatio(ratio) => tr(
            lang,
            "power-error-bad-aspect-ratio",
            &[arg("ratio", ratio.as_str())],
        ),
        PowerError::SizeAndAspectRatio => msg(lang, "power-error-size-and-aspect-ratio"),
        PowerError::TooLong(chars) => tr(
            lang,
            "power-error-too-long",
            &[
                arg("chars", *chars),
                arg("max_chars", GENERATE_MAX_PROMPT_CHARS),
            ],
        ),
        PowerError::NegativeTooLong => tr(
            lang,
            "power-error-negative-too-long",
            &[arg("max_chars", GENERATE_MAX_NEGATIVE_CHARS)],
        ),
    };
    tr(lang, "power-error", &[arg("error", what)])
}

/// A written prompt as the bot sends it: a header line, then the prompt itself (the text "Create from this
/// prompt" takes back with [`strip_prompt_header`]).
pub fn written_prompt(lang: Lang, prompt: &str) -> String {
    format!("{}\n\n{prompt}", msg(lang, "written-prompt-header"))
}

/// The prompt in a message made by [`written_prompt`] (in either language): the text less its header.
pub fn strip_prompt_header(text: &str) -> &str {
    [Lang::Ru, Lang::En]
        .into_iter()
        .find_map(|lang| text.strip_prefix(msg(lang, "written-prompt-header").as_str()))
        .unwrap_or(text)
        .trim()
}

/// The button under a written prompt.
pub fn create_from_prompt_button(lang: Lang, price: &str) -> String {
    tr(lang, "create-from-prompt-button", &[arg("price", price)])
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
    tr(
        lang,
        "edit-ask",
        &[
            arg("images", images),
            arg("max_images", max_images),
            arg("model", model),
            arg("price", price),
            arg("format", format_name(format)),
            arg("max_chars", max_chars),
        ],
    )
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
    tr(lang, "edit-too-many", &[arg("max_images", max_images)])
}

/// Something other than words arrived while Edit waits for the instruction.
pub fn edit_instruction_needed(lang: Lang) -> String {
    msg(lang, "edit-instruction-needed")
}

/// What a retouch preset is called.
pub fn retouch_preset_name(lang: Lang, preset: RetouchPreset) -> String {
    match preset {
        RetouchPreset::Enhance => msg(lang, "retouch-preset-name-enhance"),
        _ => msg(lang, "retouch-preset-name-soft"),
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
    tr(lang, "retouch-ask", &[arg("price", price)])
}

/// After a preset button: an optional instruction, or Start.
pub fn retouch_ask_wishes(lang: Lang, preset: RetouchPreset, max_chars: usize) -> String {
    tr(
        lang,
        "retouch-ask-wishes",
        &[
            arg("name", retouch_preset_name(lang, preset)),
            arg("max_chars", max_chars),
        ],
    )
}

/// The Cancel button under a dialogue's question (it ends the dialogue, as /cancel does).
pub fn dialogue_cancel_button(lang: Lang) -> String {
    msg(lang, "dialogue-cancel-button")
}

/// The button that starts a job with the choices made so far, with its price.
pub fn start_button(lang: Lang, price: &str) -> String {
    tr(lang, "start-button", &[arg("price", price)])
}

/// Words arrived before a retouch preset was chosen.
pub fn retouch_choose_preset(lang: Lang) -> String {
    msg(lang, "retouch-choose-preset")
}

/// A picture over the largest retouch takes (`limit_mb` in MB of 10^6 bytes).
pub fn retouch_too_big(lang: Lang, limit_mb: u64) -> String {
    tr(lang, "retouch-too-big", &[arg("limit_mb", limit_mb)])
}

/// The Face swap question, under the portrait: now the photo to put the face on.
pub fn face_swap_ask(lang: Lang, price: &str) -> String {
    tr(lang, "face-swap-ask", &[arg("price", price)])
}

/// Something other than a picture arrived while the bot waits for one.
pub fn photo_needed(lang: Lang) -> String {
    msg(lang, "photo-needed")
}

/// The label of a main-menu button (the reply keyboard); either language's label opens the mode.
pub fn menu_label(lang: Lang, mode: crate::menu::Mode) -> String {
    use crate::menu::Mode;
    msg(
        lang,
        match mode {
            Mode::Create => "menu-label-create",
            Mode::Write => "menu-label-write",
            Mode::Edit => "menu-label-edit",
            Mode::Retouch => "menu-label-retouch",
            Mode::AddText => "menu-label-add-text",
            Mode::FaceSwap => "menu-label-face-swap",
            Mode::Enhance => "menu-label-enhance",
            Mode::Balance => "menu-label-balance",
            Mode::Info => "menu-label-info",
        },
    )
}

/// Reply to /menu: the main menu is the keyboard below.
pub fn menu_text(lang: Lang) -> String {
    msg(lang, "menu-text")
}

/// A menu mode asks for the picture it works on (`price`: the mode's price, "from" the cheapest where
/// there are several).
pub fn mode_ask_image(lang: Lang, mode: crate::menu::Mode, price: &str) -> String {
    use crate::menu::Mode;
    let ask = msg(
        lang,
        match mode {
            Mode::Edit => "mode-ask-image-edit",
            Mode::Retouch => "mode-ask-image-retouch",
            Mode::AddText => "mode-ask-image-add-text",
            Mode::FaceSwap => "mode-ask-image-face-swap",
            _ => "mode-ask-image-enhance",
        },
    );
    tr(
        lang,
        "mode-ask-image",
        &[arg("ask", ask), arg("price", price)],
    )
}

/// "from 8 ₽": the lowest of several prices.
pub fn price_from(lang: Lang, price: &str) -> String {
    tr(lang, "price-from", &[arg("price", price)])
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
    match progress {
        Progress::Preparing => msg(lang, "progress-text-preparing"),
        Progress::Queued { ahead: 0 } => msg(lang, "progress-text-queued-next"),
        Progress::Queued { ahead } => tr(lang, "progress-text-queued", &[arg("ahead", ahead)]),
        Progress::Running { percent } => {
            tr(lang, "progress-text-running", &[arg("percent", percent)])
        }
        Progress::Finishing => msg(lang, "progress-text-finishing"),
    }
}

/// One job in progress, a /status line: `#c3d4e5f6 · Photo upscale ×2 · ⚙️ running, 40%`.
pub fn status_line(lang: Lang, short_id: &str, operation: &str, progress: Progress) -> String {
    tr(
        lang,
        "status-line",
        &[
            arg("short_id", short_id),
            arg("operation", recorded_operation_name(lang, operation)),
            arg("progress", progress_text(lang, progress)),
        ],
    )
}

/// Reply to /status: the user's jobs in progress (`lines` from [`status_line`]), or that there are none.
pub fn status_list(lang: Lang, lines: &[String]) -> String {
    if lines.is_empty() {
        return msg(lang, "status-list-empty");
    }
    let mut text = tr(lang, "status-list", &[arg("count", lines.len())]);
    for line in lines {
        text.push('\n');
        text.push_str(line);
    }
    text.push_str("\n\n");
    text.push_str(&msg(lang, "status-list-one-job"));
    text
}

/// A paid operation's state as /history and `/status <id>` tell it.
pub fn hold_state_text(lang: Lang, state: HoldState) -> String {
    msg(
        lang,
        match state {
            HoldState::Pending => "hold-state-text-pending",
            HoldState::Captured => "hold-state-text-captured",
            HoldState::Released | HoldState::Expired => "hold-state-text-returned",
            HoldState::Unspecified => "hold-state-text-unknown",
        },
    )
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
    parts.push(hold_state_text(lang, hold.state()));
    parts.push(format!("#{short_id}"));
    parts.join(" · ")
}

/// Reply to /history and its "More" pages: one line per paid operation (`lines`, newest first).
pub fn history_page(lang: Lang, lines: &[String], first_page: bool) -> String {
    if lines.is_empty() {
        return match first_page {
            true => msg(lang, "history-page-empty"),
            false => msg(lang, "history-page-no-more"),
        };
    }
    let mut text = match first_page {
        true => msg(lang, "history-page"),
        false => msg(lang, "history-page-earlier"),
    };
    for line in lines {
        text.push('\n');
        text.push_str(line);
    }
    text
}

/// The button under a /history page that shows the older operations.
pub fn more_button(lang: Lang) -> String {
    msg(lang, "more-button")
}

/// `/status <id>` of one job: its operation, money, state and, while in progress, how far it is.
pub fn status_one(lang: Lang, short_id: &str, hold: &Hold, progress: Option<Progress>) -> String {
    let state = match progress {
        Some(progress) if hold.state() == HoldState::Pending => progress_text(lang, progress),
        _ => hold_state_text(lang, hold.state()),
    };
    let mut args = vec![
        arg("short_id", short_id),
        arg("name", recorded_operation_name(lang, &hold.operation)),
        arg("when", moscow_time(hold.created_at_unix_ms)),
        arg("state", state),
    ];
    match hold_money(lang, hold) {
        Some(amount) => {
            args.push(arg("amount", amount));
            tr(lang, "status-one-amount", &args)
        }
        None => tr(lang, "status-one", &args),
    }
}

/// `/status <id>` with an id that is none of the user's jobs.
pub fn status_unknown(lang: Lang, short_id: &str) -> String {
    tr(lang, "status-unknown", &[arg("short_id", short_id)])
}

/// `/status <id>` with something that cannot be a job number.
pub fn status_bad_id(lang: Lang) -> String {
    msg(lang, "status-bad-id")
}

/// How to use the bot in a group (its /menu and /start there; `bot_username` without the @): the menu's
/// buttons are for private chats, where every message reaches the bot.
pub fn group_how_to(lang: Lang, bot_username: &str) -> String {
    tr(lang, "group-how-to", &[arg("bot_username", bot_username)])
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
    let what = msg(
        lang,
        match kind {
            OtherMedia::Animation => "other-media-animation",
            OtherMedia::AnimatedSticker => "other-media-animated-sticker",
            OtherMedia::VideoSticker => "other-media-video-sticker",
        },
    );
    let mut parts = vec![match facts.emoji.filter(|e| !e.is_empty()) {
        Some(emoji) => format!("{what} {emoji}"),
        None => what,
    }];
    if let Some(name) = facts
        .file_name
        .map(safe_file_name)
        .filter(|n| !n.is_empty())
    {
        parts.push(tr(lang, "other-media-name", &[arg("name", name)]));
    }
    if facts.width > 0 && facts.height > 0 {
        parts.push(format!("{}×{}", facts.width, facts.height));
    }
    if let Some(seconds) = facts.duration_secs.filter(|s| *s > 0) {
        parts.push(tr(lang, "other-media-seconds", &[arg("seconds", seconds)]));
    }
    if let Some(mime) = facts.mime_type.filter(|m| !m.is_empty()) {
        parts.push(mime.chars().filter(|c| !c.is_control()).take(80).collect());
    }
    if facts.size_bytes > 0 {
        parts.push(file_size(lang, facts.size_bytes));
    }
    let verdict = msg(
        lang,
        match kind {
            OtherMedia::Animation => "other-media-no-operation-animation",
            _ => "other-media-no-operation-sticker",
        },
    );
    format!("{}\n{verdict}", parts.join(" · "))
}

/// The offer under an album of `count` pictures (sent together): every button works on all of them.
pub fn album_offer(lang: Lang, count: u32) -> String {
    tr(lang, "album-offer", &[arg("count", count)])
}

/// The caption of an album's archive: how many pictures, its size, then the balance.
pub fn archive_result(
    lang: Lang,
    operation: &Operation,
    images: u32,
    size_bytes: u64,
    balance: &str,
) -> String {
    tr(
        lang,
        "archive-result",
        &[
            arg("operation", one_picture_operation_name(lang, operation)),
            arg("images", images),
            arg("size", file_size(lang, size_bytes)),
            arg("balance", balance),
        ],
    )
}

#[cfg(test)]
mod tests {
    use std::cell::{Cell, RefCell};
    use std::collections::BTreeSet;
    use std::path::Path;

    use fluent_syntax::ast::Entry;

    use super::*;

    thread_local! {
        /// The messages this test's thread looked up: language code and id.
        static LOOKED_UP: RefCell<BTreeSet<(&'static str, String)>> = RefCell::default();
        /// Set by the test of what users see when a message fails; any other failure fails its test.
        static FAILURE_EXPECTED: Cell<bool> = const { Cell::new(false) };
    }

    /// Called by [`tr`] on every lookup: notes the message, and fails the test when it is missing or does
    /// not format with the arguments given.
    pub(super) fn looked_up(lang: Lang, id: &str, text: &Result<String, String>) {
        LOOKED_UP.with_borrow_mut(|ids| ids.insert((lang.code(), id.to_string())));
        if let Err(error) = text
            && !FAILURE_EXPECTED.get()
        {
            panic!("the message {id} of {}: {error}", lang.code());
        }
    }

    /// The ids of the messages (and `-terms`) in `lang`'s files; a file that does not parse, or an id
    /// defined twice, fails the test.
    fn ids_in_files(lang: Lang) -> BTreeSet<String> {
        let folder = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("locales")
            .join(lang.code());
        let mut files = std::fs::read_dir(&folder)
            .unwrap()
            .map(|entry| entry.unwrap().path())
            .collect::<Vec<_>>();
        files.sort();
        assert!(!files.is_empty(), "no files in {}", folder.display());
        let mut ids = BTreeSet::new();
        for path in files {
            assert_eq!(
                path.extension().and_then(|e| e.to_str()),
                Some("ftl"),
                "{}",
                path.display()
            );
            let source = std::fs::read_to_string(&path).unwrap();
            let resource = fluent_syntax::parser::parse(source.as_str())
                .unwrap_or_else(|(_, errors)| panic!("{}: {errors:?}", path.display()));
            for entry in resource.body {
                let id = match entry {
                    Entry::Message(message) => message.id.name.to_string(),
                    Entry::Term(term) => format!("-{}", term.id.name),
                    _ => continue,
                };
                assert!(
                    ids.insert(id.clone()),
                    "{id} is defined twice in {}",
                    folder.display()
                );
            }
        }
        ids
    }

    #[test]
    fn both_languages_have_the_same_messages() {
        let (ru, en) = (ids_in_files(Lang::Ru), ids_in_files(Lang::En));
        let only_ru = ru.difference(&en).collect::<Vec<_>>();
        let only_en = en.difference(&ru).collect::<Vec<_>>();
        assert!(
            only_ru.is_empty() && only_en.is_empty(),
            "only in ru: {only_ru:?}; only in en: {only_en:?}"
        );
        assert!(ru.contains("welcome") && ru.contains("insufficient-funds"));
    }

    #[test]
    fn every_message_formats_and_is_used() {
        for lang in [Lang::Ru, Lang::En] {
            LOOKED_UP.with_borrow_mut(|ids| ids.clear());
            // Every function, every branch: a message that is missing or does not format with the
            // arguments its function gives fails here (see `looked_up`).
            for (call, text) in samples::every_text(lang) {
                assert!(!text.is_empty(), "{call}");
                assert!(
                    !text.contains(['\u{2068}', '\u{2069}']),
                    "{call}: isolation marks in {text:?}"
                );
            }
            let used = LOOKED_UP.with_borrow(|ids| {
                ids.iter()
                    .filter(|(code, _)| *code == lang.code())
                    .map(|(_, id)| id.clone())
                    .collect::<BTreeSet<_>>()
            });
            let in_files = ids_in_files(lang);
            let unused = in_files.difference(&used).collect::<Vec<_>>();
            assert!(
                unused.is_empty(),
                "messages of {} that no function looks up (or that samples.rs does not reach): {unused:?}",
                lang.code()
            );
        }
    }

    #[test]
    fn a_message_that_fails_shows_its_id() {
        assert!(lookup(Lang::En, "no-such-message", &[]).is_err());
        // `queued` names $position.
        assert!(lookup(Lang::Ru, "queued", &[]).is_err());
        assert_eq!(
            lookup(Lang::Ru, "queued", &[arg("position", 3)]).as_deref(),
            Ok("⏳ В очереди, перед вами 3 задания…")
        );
        FAILURE_EXPECTED.set(true);
        assert_eq!(msg(Lang::Ru, "no-such-message"), "no-such-message");
        assert_eq!(msg(Lang::En, "queued"), "queued");
        FAILURE_EXPECTED.set(false);
    }

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
    fn counts_take_their_plural_forms() {
        // Russian: one (1, 21, 101), few (2-4, 22-24), many (0, 5-20, 11-14, 111, …).
        for (n, jobs) in [
            (1, "1 задание"),
            (2, "2 задания"),
            (4, "4 задания"),
            (5, "5 заданий"),
            (11, "11 заданий"),
            (12, "12 заданий"),
            (14, "14 заданий"),
            (21, "21 задание"),
            (22, "22 задания"),
            (25, "25 заданий"),
            (101, "101 задание"),
            (111, "111 заданий"),
        ] {
            assert_eq!(
                queued(Lang::Ru, n),
                format!("⏳ В очереди, перед вами {jobs}…")
            );
        }
        assert_eq!(queued(Lang::Ru, 0), "⏳ В очереди, вы следующий…");
        assert_eq!(queued(Lang::En, 1), "⏳ Queued, 1 job ahead of you…");
        assert_eq!(queued(Lang::En, 2), "⏳ Queued, 2 jobs ahead of you…");
        assert_eq!(queued(Lang::En, 21), "⏳ Queued, 21 jobs ahead of you…");

        let animation = |lang, frames| {
            let facts = ImageFacts {
                format: "GIF".into(),
                width_px: 10,
                height_px: 10,
                bits_per_channel: frames,
                frames,
                ..ImageFacts::default()
            };
            image_facts(lang, &facts)
        };
        for (n, frames, bits) in [
            (2, "2 кадра", "2 бита"),
            (5, "5 кадров", "5 бит"),
            (11, "11 кадров", "11 бит"),
            (21, "21 кадр", "21 бит"),
            (22, "22 кадра", "22 бита"),
            (111, "111 кадров", "111 бит"),
        ] {
            let text = animation(Lang::Ru, n);
            assert!(text.contains(&format!(", {bits} · ")), "{text}");
            assert!(
                text.contains(&format!("🎞 Анимация: {frames} — обрабатывается первый.")),
                "{text}"
            );
        }
        assert!(animation(Lang::En, 2).contains("🎞 An animation of 2 frames — "));
        assert!(animation(Lang::Ru, 1).contains(", 1 бит · "));

        for (n, chars) in [
            (201, "201 символ"),
            (202, "202 символа"),
            (205, "205 символов"),
            (211, "211 символов"),
            (1001, "1001 символ"),
        ] {
            assert_eq!(
                add_text_too_long(Lang::Ru, n, 200),
                format!("Слишком длинный текст: {chars}, можно до 200. Пришлите покороче.")
            );
        }
        assert_eq!(
            words_too_long(Lang::En, 2001, 2000),
            "That is too long: 2001 characters, and at most 2000 fit. Please shorten it."
        );
        // "до" and "больше" take the genitive: до 1 символа, до 21 символа, до 200 символов.
        assert!(add_text_ask_text(Lang::Ru, 21).contains("(до 21 символа)"));
        assert!(add_text_ask_text(Lang::Ru, 200).contains("(до 200 символов)"));
        assert!(add_text_ask_text(Lang::En, 1).contains("(up to 1 character)"));
        assert!(edit_too_many(Lang::Ru, 1).starts_with("Больше 1 картинки за раз"));
        assert!(edit_too_many(Lang::Ru, 4).starts_with("Больше 4 картинок за раз"));
        assert!(edit_too_many(Lang::En, 1).starts_with("At most 1 picture at a time."));
        assert!(edit_too_many(Lang::En, 4).starts_with("At most 4 pictures at a time."));

        let text = |pages, count| ExtractedText {
            source_format: "PDF".into(),
            pages,
            characters: count,
            words: count,
            language: "en".into(),
            ..ExtractedText::default()
        };
        assert_eq!(
            text_summary(Lang::En, &text(1, 1), "5 ₽"),
            "📄 PDF, 1 page, 1 character, 1 word\nLanguage: English\nBalance: 5 ₽"
        );
        assert_eq!(
            text_summary(Lang::En, &text(2, 2), "5 ₽"),
            "📄 PDF, 2 pages, 2 characters, 2 words\nLanguage: English\nBalance: 5 ₽"
        );
        assert_eq!(
            text_summary(Lang::Ru, &text(21, 21), "5 ₽"),
            "📄 PDF, страниц: 21, символов: 21, слов: 21\nЯзык: английский\nБаланс: 5 ₽"
        );
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
