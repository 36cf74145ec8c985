//! Every text of [`super`] for sample arguments, in both languages: every branch of every function (each
//! enum variant, each optional part) and the counts that plural rules tell apart. The tests format them
//! all, so a message that is missing, misspelt or given the wrong arguments fails a test.

use mediabot_proto::Service;
use mediabot_proto::billing::v1::{Hold, HoldState};
use mediabot_proto::imaging::v1::{ColorModel, ImageFacts};
use mediabot_proto::jobs::v1::{
    AddText, ConvertTarget, Edit, ExtractedText, FailureReason, Generate, ImageResult, ImageShape,
    JobState, Operation, RetouchPreset,
};

use super::*;
use crate::admin::AddBalanceError;
use crate::generate::PowerError;
use crate::languages::LanguageChoice;
use crate::menu::{MODES, Mode};
use crate::ping::{Answer, Check, Part};

/// Counts that the Russian and English plural rules tell apart (0, one, few, many, teens, 21, 22, 101).
pub const COUNTS: [u64; 13] = [0, 1, 2, 3, 4, 5, 11, 12, 14, 21, 22, 101, 111];

/// The operations of the catalog, with the parameters their texts depend on.
pub fn operations() -> Vec<Operation> {
    vec![
        Operation::upscale(2),
        Operation::upscale(4),
        Operation::compress(1000),
        Operation::compress(500),
        Operation::convert(ConvertTarget::Jpeg),
        Operation::convert(ConvertTarget::Png),
        Operation::convert(ConvertTarget::WebpLossless),
        Operation::convert(ConvertTarget::WebpLossy),
        Operation::add_text(AddText::with_text("hi")),
        Operation::transcribe("ru"),
        Operation::translate_to_english("ru"),
        Operation::ocr("ru"),
        Operation::document_text("ru"),
        Operation::generate(Generate::with_prompt("a cat")),
        Operation::generate(Generate {
            model: "flux".into(),
            ..Generate::with_prompt("a cat")
        }),
        Operation::write_prompt("a cat", "ru"),
        Operation::upscale_remote(2),
        Operation::edit(Edit::default()),
        Operation::edit(Edit {
            model: "kontext".into(),
            ..Edit::default()
        }),
        Operation::retouch(RetouchPreset::Soft, ""),
        Operation::face_swap(),
        Operation::default(),
    ]
}

/// Every text, labelled with the call that made it, for `lang`.
pub fn every_text(lang: Lang) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    let mut say = |label: String, text: String| out.push((label, text));

    say("money".into(), money(lang, 550, "RUB"));
    for operation in operations() {
        let key = operation.key();
        say(
            format!("operation_name {key}"),
            operation_name(lang, &operation),
        );
        say(
            format!("operation_button {key}"),
            operation_button(lang, &operation, "5 ₽"),
        );
        say(format!("not_set_up {key}"), not_set_up(lang, &operation));
        for image in image_results() {
            say(
                format!("image_result {key} {image:?}"),
                image_result(lang, &operation, &image, "27 ₽"),
            );
        }
    }
    for per_minute in [false, true] {
        say(
            format!("price_label {per_minute}"),
            price_label(lang, "3 ₽", per_minute),
        );
    }
    for key in ["image.upscale_2x", "image.upscale factor=4", "gift"] {
        say(
            format!("recorded_operation_name {key}"),
            recorded_operation_name(lang, key),
        );
    }
    say(
        "welcome".into(),
        welcome(lang, "30 ₽", &["Upscale — 5 ₽".into(), "OCR — 3 ₽".into()]),
    );
    say("help".into(), help(lang, 20));
    for choice_lang in [Lang::Ru, Lang::En] {
        for detect_speech in [false, true] {
            let choice = LanguageChoice {
                lang: choice_lang,
                detect_speech,
            };
            if choice_lang == lang {
                say(
                    format!("language_menu {detect_speech}"),
                    language_menu(choice),
                );
                say(
                    format!("language_saved {detect_speech}"),
                    language_saved(choice),
                );
                say(
                    format!("language_speech_button {detect_speech}"),
                    language_speech_button(choice),
                );
            }
        }
    }
    for ended in [false, true] {
        say(format!("cancelled {ended}"), cancelled(lang, ended));
    }
    let parts = [
        Part::Nats,
        Part::Billing,
        Part::Worker(Service::Imaging),
        Part::Worker(Service::Speech),
        Part::Worker(Service::Documents),
        Part::Worker(Service::Generation),
    ];
    let all_up: Vec<Check> = parts
        .iter()
        .map(|&part| Check {
            part,
            answer: Answer::Up { ms: 3 },
        })
        .collect();
    say("ping up".into(), ping(lang, &all_up));
    let mixed: Vec<Check> = parts
        .iter()
        .zip([
            Answer::Up { ms: 1 },
            Answer::NotSetUp { ms: 12 },
            Answer::Down,
            Answer::NotSetUp { ms: 5 },
            Answer::Down,
            Answer::Up { ms: 250 },
        ])
        .map(|(&part, answer)| Check { part, answer })
        .collect();
    say("ping mixed".into(), ping(lang, &mixed));
    for replaced in [false, true] {
        say(
            format!("api_key {replaced}"),
            api_key(lang, "mb_secret", "https://bot.example/v1", replaced),
        );
    }
    say("api_off".into(), api_off(lang));
    say("api_key_private_only".into(), api_key_private_only(lang));
    say("balance".into(), balance(lang, "30 ₽", None));
    say("balance held".into(), balance(lang, "30 ₽", Some("5 ₽")));
    say(
        "choose_image_operation".into(),
        choose_image_operation(lang),
    );
    for facts in image_facts_samples() {
        say(format!("image_facts {facts:?}"), image_facts(lang, &facts));
        say(
            format!("image_offer {facts:?}"),
            image_offer(lang, Some(&facts)),
        );
    }
    say("image_offer none".into(), image_offer(lang, None));
    say("image_unreadable".into(), image_unreadable(lang));
    say("add_text_ask_text".into(), add_text_ask_text(lang, 200));
    say("add_text_ask_wishes".into(), add_text_ask_wishes(lang));
    say("skip_button".into(), skip_button(lang));
    say("add_text_empty".into(), add_text_empty(lang));
    for n in COUNTS {
        let n = n as usize;
        say(
            format!("add_text_too_long {n}"),
            add_text_too_long(lang, n, 200),
        );
        say(format!("words_too_long {n}"), words_too_long(lang, n, 2000));
        say(
            format!("add_text_ask_text max {n}"),
            add_text_ask_text(lang, n),
        );
        say(format!("edit_too_many {n}"), edit_too_many(lang, n));
        say(
            format!("power_error too long {n}"),
            power_error(lang, &PowerError::TooLong(n), &["flux".into()]),
        );
        say(format!("prompt_ask max {n}"), prompt_ask(lang, "2 ₽", n));
        say(
            format!("retouch_ask_wishes max {n}"),
            retouch_ask_wishes(lang, RetouchPreset::Soft, n),
        );
        say(
            format!("edit_ask {n}"),
            edit_ask(lang, n, 4, "auto", "9 ₽", "png", 2000),
        );
        say(
            format!("edit_ask max {n}"),
            edit_ask(lang, 1, 4, "auto", "9 ₽", "png", n),
        );
    }
    say("add_text_send_text".into(), add_text_send_text(lang));
    for state in [
        None,
        Some(JobState::Queued),
        Some(JobState::Running),
        Some(JobState::Completed),
        Some(JobState::Failed),
    ] {
        say(
            format!("already_started {state:?}"),
            already_started(lang, state),
        );
    }
    say("undeliverable".into(), undeliverable(lang));
    for n in COUNTS {
        say(format!("queued {n}"), queued(lang, n));
    }
    say("receiving".into(), receiving(lang));
    for percent in [0, 1, 40, 100] {
        say(format!("working {percent}"), working(lang, percent));
        for remaining in [0, 1, 12_300, 59_999, 60_000, 83_000, 3_600_000] {
            say(
                format!("working_with_estimate {percent} {remaining}"),
                working_with_estimate(lang, percent, remaining),
            );
        }
    }
    for ms in [1, 5_000, 5_001, 59_999, 60_000, 60_001, 120_000, 1_260_000] {
        say(format!("time_left {ms}"), time_left(lang, ms));
    }
    for truncated in [false, true] {
        say(
            format!("transcript_in_files {truncated}"),
            transcript_in_files(lang, truncated),
        );
        say(
            format!("text_in_file {truncated}"),
            text_in_file(lang, truncated),
        );
    }
    for bytes in [
        0,
        8,
        99,
        100,
        900,
        999,
        1_000,
        20_500,
        99_949,
        99_950,
        850_400,
        999_999,
        1_000_000,
        1_940_000,
        2_000_000,
        2_049_999,
        99_960_000,
        123_456_789,
    ] {
        say(format!("file_size {bytes}"), file_size(lang, bytes));
    }
    for code in [
        "", "ru", "en", "uk", "be", "kk", "de", "fr", "es", "it", "tr", "zh", "sw", "other",
    ] {
        say(format!("language_name {code}"), language_name(lang, code));
    }
    for translated in [false, true] {
        for code in ["ru", "", "sw"] {
            say(
                format!("transcript_done {code} {translated}"),
                transcript_done(lang, code, translated, "27 ₽"),
            );
        }
    }
    for text in extracted_texts() {
        say(
            format!("text_summary {text:?}"),
            text_summary(lang, &text, "27 ₽"),
        );
    }
    say("no_speech".into(), no_speech(lang));
    say(
        "insufficient_funds".into(),
        insufficient_funds(lang, "5 ₽", "2 ₽"),
    );
    say("file_too_big".into(), file_too_big(lang, 20));
    say("audio_too_long".into(), audio_too_long(lang, 30));
    say("try_later".into(), try_later(lang));
    say("send_again".into(), send_again(lang));
    say("unsupported_message".into(), unsupported_message(lang));
    for (name, mime, size) in [
        (Some("backup.zip"), Some("application/zip"), 1_500_000),
        (None, None, 0),
        (Some(""), Some(""), 12),
        (Some("a/b\u{202e}c.exe"), None, 0),
        (None, Some("application/x-thing"), 0),
    ] {
        say(
            format!("unsupported_file {name:?} {mime:?} {size}"),
            unsupported_file(lang, name, mime, size),
        );
    }
    for reason in [
        FailureReason::Unspecified,
        FailureReason::CorruptInput,
        FailureReason::UnsupportedFormat,
        FailureReason::TooLarge,
        FailureReason::InputMissing,
        FailureReason::Internal,
        FailureReason::WorkerLost,
        FailureReason::NoSpeech,
        FailureReason::NoText,
        FailureReason::Encrypted,
        FailureReason::Rejected,
        FailureReason::ProviderFailed,
        FailureReason::Cancelled,
    ] {
        say(format!("job_failed {reason:?}"), job_failed(lang, reason));
    }
    say("cancel_button".into(), cancel_button(lang));
    for not_yours in [false, true] {
        say(
            format!("cancel_refused {not_yours}"),
            cancel_refused(lang, not_yours),
        );
    }
    say("cancelling".into(), cancelling(lang));
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
    let progresses = [
        Progress::Preparing,
        Progress::Queued { ahead: 0 },
        Progress::Queued { ahead: 1 },
        Progress::Queued { ahead: 3 },
        Progress::Queued { ahead: 5 },
        Progress::Queued { ahead: 21 },
        Progress::Running { percent: 40 },
        Progress::Finishing,
    ];
    for state in [
        HoldState::Unspecified,
        HoldState::Pending,
        HoldState::Captured,
        HoldState::Released,
        HoldState::Expired,
    ] {
        let hold = hold(state, 500, 450);
        say(
            format!("hold_state_text {state:?}"),
            hold_state_text(lang, state),
        );
        say(
            format!("history_hold_line {state:?}"),
            history_hold_line(lang, &hold, "c3d4e5f6"),
        );
        say(
            format!("status_one {state:?}"),
            status_one(lang, "c3d4e5f6", &hold, None),
        );
        say(
            format!("status_one {state:?} running"),
            status_one(
                lang,
                "c3d4e5f6",
                &hold,
                Some(Progress::Running { percent: 7 }),
            ),
        );
    }
    for progress in progresses {
        say(
            format!("progress_text {progress:?}"),
            progress_text(lang, progress),
        );
        say(
            format!("status_line {progress:?}"),
            status_line(lang, "c3d4e5f6", "image.upscale factor=2", progress),
        );
    }
    for n in [0, 1, 2, 5, 21] {
        let lines = vec!["#c3d4e5f6 · x".to_string(); n];
        say(format!("status_list {n}"), status_list(lang, &lines));
        for first_page in [true, false] {
            say(
                format!("history_page {n} {first_page}"),
                history_page(lang, &lines, first_page),
            );
        }
    }
    say("more_button".into(), more_button(lang));
    say("status_unknown".into(), status_unknown(lang, "c3d4e5f6"));
    say("status_bad_id".into(), status_bad_id(lang));
    say("group_how_to".into(), group_how_to(lang, "media_bot"));
    for kind in [
        OtherMedia::Animation,
        OtherMedia::AnimatedSticker,
        OtherMedia::VideoSticker,
    ] {
        let full = MediaFacts {
            width: 480,
            height: 270,
            duration_secs: Some(3),
            mime_type: Some("video/mp4"),
            size_bytes: 1_258_291,
            file_name: Some("cat\u{202e}fig.mp4"),
            emoji: Some("😀"),
        };
        say(
            format!("other_media {kind:?} full"),
            other_media(lang, kind, &full),
        );
        say(
            format!("other_media {kind:?} bare"),
            other_media(lang, kind, &MediaFacts::default()),
        );
    }
    for n in COUNTS {
        let n = n as u32;
        say(format!("album_offer {n}"), album_offer(lang, n));
        say(
            format!("archive_result {n}"),
            archive_result(lang, &Operation::upscale(2), n, 5_000_000, "27 ₽"),
        );
        let mut album = Operation::upscale(2);
        album.count = n;
        say(
            format!("operation_name album {n}"),
            operation_name(lang, &album),
        );
    }
    say("not_allowed".into(), not_allowed(lang));
    for error in [
        AddBalanceError::Usage,
        AddBalanceError::BadUserId,
        AddBalanceError::NotANumber,
        AddBalanceError::NotPositive,
        AddBalanceError::TooManyDecimals,
        AddBalanceError::TooLarge,
    ] {
        say(
            format!("add_balance_invalid {error:?}"),
            add_balance_invalid(lang, error),
        );
    }
    say(
        "balance_added".into(),
        balance_added(lang, "100 ₽", 42, "130 ₽"),
    );
    for words in ["", "  \u{7} ", "unsafe content"] {
        say(format!("job_rejected {words:?}"), job_rejected(lang, words));
    }
    say(
        "create_ask".into(),
        create_ask(
            lang,
            &[
                ("auto".into(), "8 ₽".into()),
                ("flux".into(), "10 ₽".into()),
                ("flash".into(), "4 ₽".into()),
            ],
        ),
    );
    say("create_ask empty".into(), create_ask(lang, &[]));
    for shape in [
        ImageShape::Unspecified,
        ImageShape::Vertical,
        ImageShape::Square,
        ImageShape::Horizontal,
    ] {
        for chosen in [false, true] {
            say(
                format!("shape_button {shape:?} {chosen}"),
                shape_button(lang, shape, chosen),
            );
        }
        say(format!("shape_chosen {shape:?}"), shape_chosen(lang, shape));
    }
    say("prompt_ask".into(), prompt_ask(lang, "2 ₽", 2000));
    say("words_needed".into(), words_needed(lang));
    say("old_question".into(), old_question(lang));
    let models: Vec<String> = vec!["flux".into(), "flash".into()];
    for error in [
        PowerError::EmptyPrompt,
        PowerError::UnknownKey("colour".into()),
        PowerError::UnknownModel("dalle".into()),
        PowerError::BadSize("huge".into()),
        PowerError::BadAspectRatio("1:0".into()),
        PowerError::SizeAndAspectRatio,
        PowerError::TooLong(4001),
        PowerError::NegativeTooLong,
    ] {
        say(
            format!("power_error {error:?}"),
            power_error(lang, &error, &models),
        );
    }
    say(
        "written_prompt".into(),
        written_prompt(lang, "A cat in a spacesuit"),
    );
    say(
        "strip_prompt_header".into(),
        strip_prompt_header(&written_prompt(lang, "A cat in a spacesuit")).to_string(),
    );
    say(
        "create_from_prompt_button".into(),
        create_from_prompt_button(lang, "8 ₽"),
    );
    for format in ["png", "jpeg", "webp", ""] {
        say(
            format!("edit_ask {format}"),
            edit_ask(lang, 2, 4, "kontext", "12 ₽", format, 2000),
        );
        for chosen in [false, true] {
            say(
                format!("format_button {format} {chosen}"),
                format_button(format, chosen),
            );
            say(
                format!("model_button {format} {chosen}"),
                model_button("flux", "9 ₽", chosen),
            );
        }
    }
    say(
        "edit_instruction_needed".into(),
        edit_instruction_needed(lang),
    );
    for preset in [
        RetouchPreset::Unspecified,
        RetouchPreset::Soft,
        RetouchPreset::Enhance,
    ] {
        say(
            format!("retouch_preset_name {preset:?}"),
            retouch_preset_name(lang, preset).to_string(),
        );
        for chosen in [false, true] {
            say(
                format!("retouch_preset_button {preset:?} {chosen}"),
                retouch_preset_button(lang, preset, chosen),
            );
        }
        say(
            format!("retouch_ask_wishes {preset:?}"),
            retouch_ask_wishes(lang, preset, 1000),
        );
    }
    say("retouch_ask".into(), retouch_ask(lang, "15 ₽"));
    say(
        "dialogue_cancel_button".into(),
        dialogue_cancel_button(lang),
    );
    say("start_button".into(), start_button(lang, "15 ₽"));
    say("retouch_choose_preset".into(), retouch_choose_preset(lang));
    say("retouch_too_big".into(), retouch_too_big(lang, 10));
    say("face_swap_ask".into(), face_swap_ask(lang, "20 ₽"));
    say("photo_needed".into(), photo_needed(lang));
    for mode in MODES {
        say(
            format!("menu_label {mode:?}"),
            menu_label(lang, mode).to_string(),
        );
        say(
            format!("mode_ask_image {mode:?}"),
            mode_ask_image(lang, mode, "от 8 ₽"),
        );
    }
    say(
        "mode_ask_image create".into(),
        mode_ask_image(lang, Mode::Create, "8 ₽"),
    );
    say("menu_text".into(), menu_text(lang));
    say("price_from".into(), price_from(lang, "8 ₽"));
    out
}

/// Image results: plain, from another format, with a model, after a fallback, an animation's first frame.
fn image_results() -> Vec<ImageResult> {
    vec![
        ImageResult {
            mime_type: "image/jpeg".into(),
            width_px: 4608,
            height_px: 1976,
            size_bytes: 990_000,
            input_size_bytes: 2_190_194,
            ..ImageResult::default()
        },
        ImageResult {
            mime_type: "image/webp".into(),
            width_px: 60,
            height_px: 40,
            size_bytes: 900,
            input_format: "GIF".into(),
            first_frame_only: true,
            model: "flux".into(),
            fallbacks: 1,
            ..ImageResult::default()
        },
        ImageResult {
            mime_type: "image/png".into(),
            width_px: 1024,
            height_px: 1024,
            size_bytes: 1_500_000,
            input_format: "HEIC".into(),
            model: "flash".into(),
            ..ImageResult::default()
        },
        ImageResult {
            mime_type: "image/avif".into(),
            width_px: 1,
            height_px: 1,
            size_bytes: 50,
            fallbacks: 2,
            ..ImageResult::default()
        },
    ]
}

/// Image facts with every optional line, every colour model and counted bits and frames.
fn image_facts_samples() -> Vec<ImageFacts> {
    let mut samples = vec![
        ImageFacts {
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
        },
        ImageFacts {
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
        },
        ImageFacts {
            format: "PNG".into(),
            width_px: 30,
            height_px: 20,
            color_model: ColorModel::GrayscaleAlpha as i32,
            bits_per_channel: 16,
            size_bytes: 700,
            frames: 1,
            taken_at: "2001-02-03 04:05:06".into(),
            ..ImageFacts::default()
        },
    ];
    for (i, color_model) in [
        ColorModel::Unspecified,
        ColorModel::Grayscale,
        ColorModel::GrayscaleAlpha,
        ColorModel::Rgb,
        ColorModel::Rgba,
        ColorModel::Palette,
        ColorModel::Cmyk,
    ]
    .into_iter()
    .enumerate()
    {
        let n = COUNTS[i % COUNTS.len()] as u32;
        samples.push(ImageFacts {
            format: "TIFF".into(),
            width_px: 1000,
            height_px: 1000,
            color_model: color_model as i32,
            bits_per_channel: [1, 2, 4, 5, 8, 16, 32][i],
            size_bytes: 5_000_000,
            frames: n,
            camera_make: if i % 2 == 0 {
                "Sony".into()
            } else {
                String::new()
            },
            camera_model: "ILCE-7".into(),
            taken_at: if i % 3 == 0 {
                "2024-01-02 03:04".into()
            } else {
                String::new()
            },
            ..ImageFacts::default()
        });
    }
    for frames in COUNTS {
        samples.push(ImageFacts {
            format: "GIF".into(),
            width_px: 100,
            height_px: 100,
            color_model: ColorModel::Palette as i32,
            bits_per_channel: frames as u32,
            size_bytes: 10_000,
            frames: frames as u32,
            ..ImageFacts::default()
        });
    }
    samples
}

/// Extracted texts: a photo, a PDF with OCR pages, a plain-text file in another encoding, and counts.
fn extracted_texts() -> Vec<ExtractedText> {
    let mut texts = vec![
        ExtractedText {
            source_format: "image".into(),
            pages: 1,
            characters: 120,
            words: 20,
            language: "ru,en".into(),
            ..ExtractedText::default()
        },
        ExtractedText {
            source_format: "PDF".into(),
            pages: 3,
            ocr_pages: 2,
            characters: 4_567,
            words: 700,
            language: "ru".into(),
            encoding: "utf-8".into(),
            ..ExtractedText::default()
        },
        ExtractedText {
            source_format: "TXT".into(),
            characters: 12,
            words: 2,
            encoding: "windows-1251".into(),
            ..ExtractedText::default()
        },
    ];
    for n in COUNTS {
        texts.push(ExtractedText {
            source_format: "DOCX".into(),
            pages: n as u32,
            ocr_pages: n as u32,
            characters: n,
            words: n,
            language: "de,,sw".into(),
            ..ExtractedText::default()
        });
    }
    texts
}

/// The texts of both languages as one listing, a line per call (newlines shown as `⏎`).
pub fn listing() -> String {
    [Lang::Ru, Lang::En]
        .into_iter()
        .flat_map(|lang| {
            every_text(lang)
                .into_iter()
                .map(move |(label, text)| format!("{lang:?} {label}: {}", text.replace('\n', "⏎")))
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn write_listing() {
    if let Ok(path) = std::env::var("I18N_LISTING") {
        std::fs::write(path, listing() + "\n").unwrap();
    }
}
