//! The gateway's operations table: which paid operations the bot offers for which kind of input, and how
//! each one starts (a button under an offer, at once, or a button under the result of another job).
//! Everything else about an operation — its id, price key, queue, callback data, job id — comes from the
//! catalog in `mediabot_proto::catalog`; its texts are in [`i18n`](crate::i18n) (`operation_name`,
//! `operation_button`), keyed by the operation id. An operation the price list has no price for is not
//! offered.
//!
//! Adding an operation to the bot is one row here plus its texts (and, outside the gateway, the catalog
//! case, the worker's module and a price line).

use mediabot_proto::billing::v1::Price;
use mediabot_proto::catalog::{EDIT_ID, RETOUCH_MAX_INPUT_BYTES, UPSCALE_REMOTE_MAX_SIDE_PX};
use mediabot_proto::jobs::v1::operation::Params;
use mediabot_proto::jobs::v1::{AddText, ConvertTarget, Edit, Generate, Operation, RetouchPreset};

use crate::i18n::Lang;

/// What a user sent, as far as operations care.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Input {
    /// A photo (Telegram re-encoded it as JPEG).
    Photo,
    /// An image sent as a file (any format, uncompressed).
    ImageDocument,
    /// A voice note (OGG/Opus).
    Voice,
    /// An audio file, or a document with an `audio/*` type.
    Audio,
    /// A video note (the round video message; MP4, H.264 + AAC): its sound is transcribed.
    VideoNote,
    /// A video, or a document with a `video/*` type (MP4, MOV, MKV, WebM): its sound is transcribed.
    Video,
    /// A document to read text from: PDF, DOCX, ODT, or plain text (TXT, MD, CSV, ...).
    Document,
    /// Words the user typed: a description of a picture, or an idea for a prompt.
    Words,
}

/// How an operation starts once its input arrives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Start {
    /// An inline button under an offer message; pressing it starts the job (the offer becomes its status).
    Button,
    /// At once, with no question (voice notes are sent to be transcribed; so are audio files and videos,
    /// whose transcription is the only thing the bot does with them, so a question would only add a tap).
    /// The price is per started minute of the duration Telegram reports, and over-long recordings are
    /// refused before anything is reserved or downloaded.
    Immediately,
    /// An inline button under the result of the input's immediate operation (Translate to English under a
    /// transcript); pressing it starts the job with a new status message, the result staying as it is.
    UnderResult,
    /// An inline button under an offer that opens a dialogue collecting the parameters (Add text: the
    /// text, then the wishes or Skip; [`crate::dialogue`]); the job starts when the dialogue ends.
    Dialogue,
    /// A command opens a dialogue that asks for the words (/create, /prompt; [`crate::generate`]); power
    /// syntax («Изображение …») starts `image.generate` at once.
    Command,
}

/// One row of the table.
#[derive(Debug, Clone, Copy)]
pub struct Offer {
    /// The operation and its parameters, given the user's language ("ru", "en", or "auto"; see
    /// [`speech_language`]): the spoken language of speech operations, the OCR languages of text
    /// extraction.
    pub operation: fn(&str) -> Operation,
    /// Inputs it is offered for.
    pub inputs: &'static [Input],
    /// How it starts.
    pub start: Start,
}

const IMAGES: &[Input] = &[Input::Photo, Input::ImageDocument];
/// Everything with a sound track: a video's or a video note's sound is transcribed like a voice note.
const AUDIO: &[Input] = &[Input::Voice, Input::Audio, Input::VideoNote, Input::Video];

/// Every operation the bot offers, in the order its buttons appear.
pub const OFFERS: &[Offer] = &[
    Offer {
        operation: |_| Operation::upscale(2),
        inputs: IMAGES,
        start: Start::Button,
    },
    Offer {
        operation: |_| Operation::upscale(4),
        inputs: IMAGES,
        start: Start::Button,
    },
    // The same at a provider (a model that adds detail), where the price list sells it.
    Offer {
        operation: |_| Operation::upscale_remote(2),
        inputs: IMAGES,
        start: Start::Button,
    },
    Offer {
        operation: |_| Operation::upscale_remote(4),
        inputs: IMAGES,
        start: Start::Button,
    },
    // Compress to a size: only the targets below the file's size are offered (see `fits_input`).
    Offer {
        operation: |_| Operation::compress(1000),
        inputs: IMAGES,
        start: Start::Button,
    },
    Offer {
        operation: |_| Operation::compress(2000),
        inputs: IMAGES,
        start: Start::Button,
    },
    Offer {
        operation: |_| Operation::compress(4000),
        inputs: IMAGES,
        start: Start::Button,
    },
    Offer {
        operation: |_| Operation::compress(8000),
        inputs: IMAGES,
        start: Start::Button,
    },
    // Convert to another format: never to the format the file is in already, and to WebP lossy for
    // photo formats, lossless for the others (see `fits_format`).
    Offer {
        operation: |_| Operation::convert(ConvertTarget::Jpeg),
        inputs: IMAGES,
        start: Start::Button,
    },
    Offer {
        operation: |_| Operation::convert(ConvertTarget::Png),
        inputs: IMAGES,
        start: Start::Button,
    },
    Offer {
        operation: |_| Operation::convert(ConvertTarget::WebpLossless),
        inputs: IMAGES,
        start: Start::Button,
    },
    Offer {
        operation: |_| Operation::convert(ConvertTarget::WebpLossy),
        inputs: IMAGES,
        start: Start::Button,
    },
    // Text on the picture: the text and the wishes come from a dialogue; the row's text is a placeholder.
    Offer {
        operation: |_| Operation::add_text(AddText::default()),
        inputs: IMAGES,
        start: Start::Dialogue,
    },
    // Through a provider (generation): Edit, Retouch and Face swap open dialogues that collect the rest
    // (the instruction and the model, the preset, the second photo). Edit's row names no model: the
    // first model the price list prices for edits is offered (`with_default_model`).
    Offer {
        operation: |_| Operation::edit(Edit::default()),
        inputs: IMAGES,
        start: Start::Dialogue,
    },
    Offer {
        operation: |_| Operation::retouch(RetouchPreset::Soft, ""),
        inputs: IMAGES,
        start: Start::Dialogue,
    },
    Offer {
        operation: |_| Operation::face_swap(),
        inputs: IMAGES,
        start: Start::Dialogue,
    },
    // Text from a photo: the user's language picks the OCR languages (ru: Russian then English).
    Offer {
        operation: Operation::ocr,
        inputs: IMAGES,
        start: Start::Button,
    },
    // A document is sent to have its text read: that is all the bot does with one, so it starts at once.
    Offer {
        operation: Operation::document_text,
        inputs: &[Input::Document],
        start: Start::Immediately,
    },
    Offer {
        operation: Operation::transcribe,
        inputs: AUDIO,
        start: Start::Immediately,
    },
    Offer {
        operation: Operation::translate_to_english,
        inputs: AUDIO,
        start: Start::UnderResult,
    },
    // A picture from a description, through a provider (/create, power syntax; the words and the model
    // come from the user, so the row's operation is the default chain with a placeholder).
    Offer {
        operation: |_| Operation::generate(Generate::default()),
        inputs: &[Input::Words],
        start: Start::Command,
    },
    // A detailed prompt written by an LLM from an idea (/prompt), with "Create" under the result.
    Offer {
        operation: |language| Operation::write_prompt("", language),
        inputs: &[Input::Words],
        start: Start::Command,
    },
];

/// The spoken language a user's recordings are transcribed in, from their Telegram `language_code` (an
/// IETF tag such as "ru" or "uk-UA"): the user's interface language ([`Lang::from_code`]: "ru" for Russian,
/// Ukrainian, Belarusian and Kazakh interfaces, "en" for anything else or nothing). Naming the language beats
/// whisper's detection, which takes short Russian notes for other languages.
pub fn speech_language(language_code: Option<&str>) -> &'static str {
    Lang::from_code(language_code).code()
}

/// The operations started by `start` for `input`, in table order, for a user speaking `language`.
fn started_by(start: Start, input: Input, language: &str) -> Vec<Operation> {
    OFFERS
        .iter()
        .filter(|o| o.start == start && o.inputs.contains(&input))
        .map(|o| (o.operation)(language))
        .collect()
}

/// The operations offered as buttons under an offer for `input` (those that start a job and those that
/// open a dialogue), in table order, for a user whose language is `language` ([`speech_language`]).
pub fn buttons_for(input: Input, language: &str) -> Vec<Operation> {
    OFFERS
        .iter()
        .filter(|o| matches!(o.start, Start::Button | Start::Dialogue) && o.inputs.contains(&input))
        .map(|o| (o.operation)(language))
        .collect()
}

/// The buttons for a file of `size_bytes` (as Telegram reports it): [`buttons_for`] less those that make
/// no sense for that file ([`fits_input`]).
pub fn buttons_for_file(input: Input, size_bytes: u64, language: &str) -> Vec<Operation> {
    buttons_for(input, language)
        .into_iter()
        .filter(|operation| fits_input(operation, size_bytes))
        .collect()
}

/// Whether `operation` makes sense for a file of `size_bytes`: a compression only to a target smaller
/// than the file (an unknown size, 0, offers none); a retouch only of a picture up to the catalog's
/// 10 MB; everything else always.
pub fn fits_input(operation: &Operation, size_bytes: u64) -> bool {
    match operation.params.as_ref() {
        Some(Params::Compress(c)) => u64::from(c.target_kb) * 1000 < size_bytes,
        Some(Params::Retouch(_)) => size_bytes <= RETOUCH_MAX_INPUT_BYTES,
        _ => true,
    }
}

/// Whether `operation` makes sense for a picture of `size` (width, height as shown, pixels): an upscale
/// at a provider only when its result stays within the catalog's 8192 px a side; everything else always.
pub fn fits_size(operation: &Operation, (width, height): (u32, u32)) -> bool {
    match operation.params.as_ref() {
        Some(Params::UpscaleRemote(p)) => {
            u64::from(width.max(height)) * u64::from(p.factor)
                <= u64::from(UPSCALE_REMOTE_MAX_SIDE_PX)
        }
        _ => true,
    }
}

/// The model aliases the price list prices for the operation `operation_id` (`image.generate`,
/// `image.edit`), in the list's order, without `auto` (the default chain): the models a user may choose.
pub fn priced_models(prices: &[Price], operation_id: &str) -> Vec<String> {
    let mut models: Vec<String> = Vec::new();
    for price in prices.iter().filter(|p| p.operation == operation_id) {
        if let Some(model) = price.params.get("model")
            && model != "auto"
            && !models.contains(model)
        {
            models.push(model.clone());
        }
    }
    models
}

/// `operation` as the bot sells it when the user has not chosen a model: an `image.edit` without one
/// gets the first model the price list prices for edits (unchanged when there is none, so it stays
/// unpriced and is not offered); every other operation is itself.
pub fn with_default_model(mut operation: Operation, prices: &[Price]) -> Operation {
    if let Some(Params::Edit(edit)) = operation.params.as_mut()
        && edit.model.is_empty()
        && let Some(model) = priced_models(prices, EDIT_ID).into_iter().next()
    {
        edit.model = model;
    }
    operation
}

/// An image's format as Telegram declares it (the MIME type, else the file name's extension); imaging
/// sniffs the real one from the bytes, this only picks which conversions to offer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeclaredFormat {
    /// JPEG, and every Telegram photo.
    Jpeg,
    /// PNG.
    Png,
    /// WebP.
    WebP,
    /// HEIF/HEIC or AVIF: phone photos.
    Heif,
    /// GIF, BMP, TIFF or anything else: lossless sources.
    Other,
}

/// The declared format of an image `input` with this MIME type and file name.
pub fn declared_format(
    input: Input,
    mime_type: Option<&str>,
    file_name: Option<&str>,
) -> DeclaredFormat {
    if input == Input::Photo {
        return DeclaredFormat::Jpeg;
    }
    let mime = mime_type.unwrap_or_default().to_ascii_lowercase();
    let extension = file_name
        .and_then(|n| n.rsplit_once('.'))
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    match (mime.as_str(), extension.as_str()) {
        ("image/jpeg" | "image/jpg" | "image/pjpeg", _) | (_, "jpg" | "jpeg" | "jfif") => {
            DeclaredFormat::Jpeg
        }
        ("image/png", _) | (_, "png") => DeclaredFormat::Png,
        ("image/webp", _) | (_, "webp") => DeclaredFormat::WebP,
        ("image/heic" | "image/heif" | "image/heic-sequence" | "image/heif-sequence", _)
        | ("image/avif", _)
        | (_, "heic" | "heif" | "hif" | "avif") => DeclaredFormat::Heif,
        _ => DeclaredFormat::Other,
    }
}

/// Whether `operation` makes sense for an image declared as `format`: a conversion not to the format it
/// is in already (no WebP of any kind for a WebP), to lossy WebP only from photo formats (JPEG,
/// HEIF/AVIF) and to lossless WebP only from the others; everything else always.
pub fn fits_format(operation: &Operation, format: DeclaredFormat) -> bool {
    let Some(Params::Convert(convert)) = operation.params.as_ref() else {
        return true;
    };
    let photo = matches!(format, DeclaredFormat::Jpeg | DeclaredFormat::Heif);
    match ConvertTarget::try_from(convert.target) {
        Ok(ConvertTarget::Jpeg) => format != DeclaredFormat::Jpeg,
        Ok(ConvertTarget::Png) => format != DeclaredFormat::Png,
        Ok(ConvertTarget::WebpLossy) => photo,
        Ok(ConvertTarget::WebpLossless) => !photo && format != DeclaredFormat::WebP,
        _ => false,
    }
}

/// The operations offered as buttons under the result of `input`'s immediate operation, for speech in
/// `language` (the language the result reports).
pub fn under_result_for(input: Input, language: &str) -> Vec<Operation> {
    started_by(Start::UnderResult, input, language)
}

/// The operation started at once for `input`, if any, for a user whose recordings are in `language`.
pub fn immediate_for(input: Input, language: &str) -> Option<Operation> {
    started_by(Start::Immediately, input, language)
        .into_iter()
        .next()
}

/// How a button's operation (parsed from its callback data) starts, if this table offers it as a button
/// for `input` at all, so crafted callback data cannot start anything else.
pub fn button_start(operation: &Operation, input: Input) -> Option<Start> {
    // An album's button is its operation's, on every picture.
    let single = operation.clone().times(0);
    let operation = &single;
    let language = operation
        .params()
        .into_iter()
        .find(|(name, _)| *name == "language")
        .map(|(_, value)| value)
        .unwrap_or_else(|| "auto".into());
    OFFERS
        .iter()
        .filter(|o| matches!(o.start, Start::Button | Start::UnderResult))
        .find(|o| o.inputs.contains(&input) && (o.operation)(&language) == *operation)
        .map(|o| o.start)
}

/// Whether `operation` is offered as a button under an offer (for any input), so the message holding the
/// button is an offer and not a result.
pub fn is_offer_button(operation: &Operation) -> bool {
    [
        Input::Photo,
        Input::ImageDocument,
        Input::Voice,
        Input::Audio,
        Input::VideoNote,
        Input::Video,
        Input::Document,
    ]
    .into_iter()
    .any(|input| button_start(operation, input) == Some(Start::Button))
}

/// The next steps offered as buttons under a picture result, in this order: upscale ×2, add text, edit
/// again. Each works on the result's picture (the same buttons as an offer's: a press on a message that
/// holds a picture takes that picture).
pub fn under_image_result() -> Vec<Operation> {
    vec![
        Operation::upscale(2),
        Operation::add_text(AddText::default()),
        Operation::edit(Edit::default()),
    ]
}

/// Every operation in the table (for the price list shown by /start), with the language left to detect.
pub fn all() -> Vec<Operation> {
    OFFERS.iter().map(|o| (o.operation)("auto")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn images_get_both_upscales_and_audio_is_transcribed_in_the_users_language() {
        assert_eq!(
            buttons_for(Input::Photo, "en")[..2],
            [Operation::upscale(2), Operation::upscale(4)]
        );
        assert_eq!(
            buttons_for(Input::ImageDocument, "en"),
            buttons_for(Input::Photo, "en")
        );
        assert!(buttons_for(Input::Voice, "ru").is_empty());
        assert!(
            buttons_for(Input::Photo, "en")
                .iter()
                .any(|o| o.id() == Some("image.add_text"))
        );
        assert_eq!(
            immediate_for(Input::Voice, "ru"),
            Some(Operation::transcribe("ru"))
        );
        assert_eq!(immediate_for(Input::Photo, "ru"), None);
        // A video note is heard like a voice note, a video like an audio file.
        assert_eq!(
            immediate_for(Input::VideoNote, "ru"),
            Some(Operation::transcribe("ru"))
        );
        assert_eq!(
            immediate_for(Input::Video, "en"),
            Some(Operation::transcribe("en"))
        );
        assert!(buttons_for(Input::Video, "ru").is_empty());
        assert_eq!(
            under_result_for(Input::VideoNote, "ru"),
            vec![Operation::translate_to_english("ru")]
        );
        assert_eq!(
            under_result_for(Input::Audio, "ru"),
            vec![Operation::translate_to_english("ru")]
        );
        assert!(under_result_for(Input::Photo, "ru").is_empty());
        assert_eq!(
            button_start(&Operation::upscale(4), Input::Photo),
            Some(Start::Button)
        );
        assert_eq!(
            button_start(&Operation::translate_to_english("de"), Input::Voice),
            Some(Start::UnderResult)
        );
        // Not offered as buttons: a transcription (it starts by itself) or a translation of a photo.
        assert_eq!(
            button_start(&Operation::transcribe("ru"), Input::Voice),
            None
        );
        assert_eq!(
            button_start(&Operation::translate_to_english("ru"), Input::Photo),
            None
        );
        assert_eq!(button_start(&Operation::upscale(2), Input::Voice), None);
    }

    #[test]
    fn compression_targets_below_the_file_size_only() {
        let compress = |size| {
            buttons_for_file(Input::ImageDocument, size, "en")
                .into_iter()
                .filter(|o| o.id() == Some("image.compress"))
                .collect::<Vec<_>>()
        };
        assert_eq!(compress(900_000), vec![]);
        assert_eq!(
            compress(2_500_000),
            vec![Operation::compress(1000), Operation::compress(2000)]
        );
        assert_eq!(compress(20_000_000).len(), 4);
        assert_eq!(compress(0), vec![]);
        assert_eq!(
            button_start(&Operation::compress(4000), Input::Photo),
            Some(Start::Button)
        );
        assert_eq!(button_start(&Operation::compress(4000), Input::Voice), None);
    }

    #[test]
    fn conversions_to_other_formats_only_and_webp_by_kind() {
        let targets = |format| {
            buttons_for(Input::ImageDocument, "en")
                .into_iter()
                .filter(|o| o.id() == Some("image.convert") && fits_format(o, format))
                .map(|o| o.params()[0].1.clone())
                .collect::<Vec<_>>()
        };
        assert_eq!(targets(DeclaredFormat::Jpeg), ["png", "webp_lossy"]);
        assert_eq!(targets(DeclaredFormat::Heif), ["jpeg", "png", "webp_lossy"]);
        assert_eq!(targets(DeclaredFormat::Png), ["jpeg", "webp_lossless"]);
        assert_eq!(targets(DeclaredFormat::WebP), ["jpeg", "png"]);
        assert_eq!(
            targets(DeclaredFormat::Other),
            ["jpeg", "png", "webp_lossless"]
        );
        assert_eq!(
            declared_format(Input::Photo, None, None),
            DeclaredFormat::Jpeg
        );
        assert_eq!(
            declared_format(Input::ImageDocument, Some("image/heic"), Some("IMG_1.HEIC")),
            DeclaredFormat::Heif
        );
        assert_eq!(
            declared_format(Input::ImageDocument, None, Some("scan.PNG")),
            DeclaredFormat::Png
        );
        assert_eq!(
            declared_format(Input::ImageDocument, Some("image/gif"), Some("a.gif")),
            DeclaredFormat::Other
        );
        assert!(fits_format(&Operation::upscale(2), DeclaredFormat::Jpeg));
        assert_eq!(
            button_start(&Operation::convert(ConvertTarget::Png), Input::Photo),
            Some(Start::Button)
        );
        assert_eq!(
            button_start(&Operation::convert(ConvertTarget::Png), Input::Voice),
            None
        );
    }

    #[test]
    fn text_from_photos_and_documents_in_the_users_language() {
        assert!(buttons_for(Input::Photo, "ru").contains(&Operation::ocr("ru")));
        assert!(buttons_for(Input::ImageDocument, "en").contains(&Operation::ocr("en")));
        assert_eq!(
            button_start(&Operation::ocr("ru"), Input::Photo),
            Some(Start::Button)
        );
        assert_eq!(button_start(&Operation::ocr("ru"), Input::Voice), None);
        assert_eq!(
            immediate_for(Input::Document, "ru"),
            Some(Operation::document_text("ru"))
        );
        assert!(buttons_for(Input::Document, "ru").is_empty());
        assert!(is_offer_button(&Operation::ocr("en")));
    }

    #[test]
    fn the_speech_language_follows_the_telegram_language() {
        for code in ["ru", "ru-RU", "uk", "be", "kk", "KK"] {
            assert_eq!(speech_language(Some(code)), "ru", "{code}");
        }
        for code in ["en", "en-US", "de", "pt-br", ""] {
            assert_eq!(speech_language(Some(code)), "en", "{code}");
        }
        assert_eq!(speech_language(None), "en");
    }

    #[test]
    fn every_row_is_valid_and_fits_telegram_callback_data() {
        for language in ["auto", "ru", "en"] {
            for offer in OFFERS {
                let operation = (offer.operation)(language);
                // A dialogue's or a command's row has no words yet: its parameters come later.
                if !matches!(offer.start, Start::Dialogue | Start::Command) {
                    assert_eq!(operation.validate(), Ok(()));
                }
                assert!(operation.callback_data().len() <= 64);
                assert!(operation.service().is_some());
            }
        }
    }

    #[test]
    fn provider_modes_open_dialogues_and_edits_get_the_first_priced_model() {
        let buttons = buttons_for(Input::Photo, "ru");
        for id in ["image.edit", "image.retouch", "image.face_swap"] {
            assert!(buttons.iter().any(|o| o.id() == Some(id)), "{id}");
        }
        assert_eq!(button_start(&Operation::face_swap(), Input::Photo), None);
        // Retouch takes pictures up to 10 MB.
        let retouch = Operation::retouch(RetouchPreset::Soft, "");
        assert!(fits_input(&retouch, 10_000_000));
        assert!(!fits_input(&retouch, 10_000_001));
        let price = |model: &str, amount_minor| Price {
            operation: EDIT_ID.into(),
            params: [("model".to_string(), model.to_string())].into(),
            amount_minor,
            ..Price::default()
        };
        let prices = [price("flash", 800), price("pro", 2400)];
        assert_eq!(priced_models(&prices, EDIT_ID), ["flash", "pro"]);
        let edit = with_default_model(Operation::edit(Edit::default()), &prices);
        assert!(matches!(edit.params, Some(Params::Edit(ref e)) if e.model == "flash"));
        // A chosen model stays; nothing priced leaves it unpriced.
        let pro = Operation::edit(Edit {
            model: "pro".into(),
            ..Edit::default()
        });
        assert_eq!(with_default_model(pro.clone(), &prices), pro);
        assert_eq!(
            with_default_model(Operation::edit(Edit::default()), &[]),
            Operation::edit(Edit::default())
        );
        assert_eq!(
            with_default_model(Operation::upscale(2), &prices),
            Operation::upscale(2)
        );
    }
}
