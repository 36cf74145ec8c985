//! The operation catalog: every paid operation is defined once, as a case of the `Operation` oneof in
//! `mediabot.jobs.v1` (proto/mediabot/jobs/v1/jobs.proto), and everything else derives from it here:
//!
//! | derived            | `image.upscale` ×4                 | from                               |
//! |--------------------|------------------------------------|------------------------------------|
//! | stable id          | `image.upscale`                    | [`Operation::id`]                  |
//! | price key          | `image.upscale factor=4`           | [`Operation::key`], [`price_of`]   |
//! | worker service     | imaging                            | [`Operation::service`]             |
//! | work queue subject | `jobs.imaging.requested`           | [`Service::requested_subject`]     |
//! | metric label       | `image.upscale`                    | [`Operation::id`]                  |
//! | callback data      | `op:image.upscale:factor=4`        | [`Operation::callback_data`]       |
//! | text keys          | `image.upscale` + its parameters   | [`Operation::id`], [`Operation::params`] |
//! | job id             | UUIDv5 of chat, message, key       | [`JobId::derive`]                  |
//!
//! Adding an operation: a oneof case and its parameter message in jobs.proto, one arm in each `match`
//! below (the compiler lists them), a worker module in its service, a row in the gateway's operations table,
//! its texts and a price line.

use std::fmt;

use crate::billing::v1::{Price, PriceUnit};
use crate::jobs::v1::{
    AddText, Compress, Convert, ConvertTarget, DocumentText, Edit, FaceSwap, Generate, ImageShape,
    Ocr, Operation, Retouch, RetouchPreset, TextPlate, TextPosition, TextSize, Transcribe, Upscale,
    UpscaleRemote, WritePrompt, operation::Params,
};

/// A worker service that runs jobs from its own JetStream work queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Service {
    /// Image operations (`services/imaging`).
    Imaging,
    /// Speech operations (`services/speech`).
    Speech,
    /// Text extraction and OCR (`services/documents`).
    Documents,
    /// Pictures and prompts through hosted providers (`services/generation`).
    Generation,
}

impl Service {
    /// Every worker service.
    pub const ALL: [Service; 4] = [
        Service::Imaging,
        Service::Speech,
        Service::Documents,
        Service::Generation,
    ];

    /// The service's name: `imaging`, `speech`, `documents`.
    pub fn name(self) -> &'static str {
        match self {
            Service::Imaging => "imaging",
            Service::Speech => "speech",
            Service::Documents => "documents",
            Service::Generation => "generation",
        }
    }

    /// Subject of its work queue: `jobs.<name>.requested`.
    pub fn requested_subject(self) -> &'static str {
        match self {
            Service::Imaging => "jobs.imaging.requested",
            Service::Speech => "jobs.speech.requested",
            Service::Documents => "jobs.documents.requested",
            Service::Generation => "jobs.generation.requested",
        }
    }

    /// Name of its work-queue stream: `JOBS_<NAME>`.
    pub fn stream(self) -> &'static str {
        match self {
            Service::Imaging => "JOBS_IMAGING",
            Service::Speech => "JOBS_SPEECH",
            Service::Documents => "JOBS_DOCUMENTS",
            Service::Generation => "JOBS_GENERATION",
        }
    }

    /// Name of the durable consumer its workers share: `<name>-workers`.
    pub fn consumer(self) -> &'static str {
        match self {
            Service::Imaging => "imaging-workers",
            Service::Speech => "speech-workers",
            Service::Documents => "documents-workers",
            Service::Generation => "generation-workers",
        }
    }
}

impl fmt::Display for Service {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Scale factors `image.upscale` accepts.
pub const UPSCALE_FACTORS: [u32; 2] = [2, 4];

/// Targets `image.compress` accepts, in kilobytes of 1000 bytes (1, 2, 4 and 8 MB).
pub const COMPRESS_TARGETS_KB: [u32; 4] = [1000, 2000, 4000, 8000];

/// The targets `image.convert` accepts, in the order the gateway offers them.
pub const CONVERT_TARGETS: [ConvertTarget; 4] = [
    ConvertTarget::Jpeg,
    ConvertTarget::Png,
    ConvertTarget::WebpLossless,
    ConvertTarget::WebpLossy,
];

/// The longest text `image.add_text` draws, in characters (Unicode scalar values).
pub const ADD_TEXT_MAX_CHARS: usize = 200;
/// The font sizes `image.add_text` accepts in pixels (`AddText.size_px`; 0 means "use the preset").
pub const ADD_TEXT_SIZE_PX: std::ops::RangeInclusive<u32> = 8..=1000;
/// The text block's default distance from the top or bottom edge, percent of the image height.
pub const ADD_TEXT_DEFAULT_OFFSET_PCT: u32 = 10;
/// The largest offset, percent of the height (beyond it a top text would start below the middle).
pub const ADD_TEXT_MAX_OFFSET_PCT: u32 = 45;
/// The plate's default opacity, percent.
pub const ADD_TEXT_DEFAULT_OPACITY_PCT: u32 = 50;
/// The plate's default blur radius, pixels.
pub const ADD_TEXT_DEFAULT_BLUR_PX: u32 = 5;
/// The largest blur radius, pixels.
pub const ADD_TEXT_MAX_BLUR_PX: u32 = 50;

impl TextSize {
    /// The parameter value: `small`, `medium`, `normal`, `large`, `huge` (UNSPECIFIED is `normal`).
    pub fn name(self) -> &'static str {
        match self {
            TextSize::Small => "small",
            TextSize::Medium => "medium",
            TextSize::Unspecified | TextSize::Normal => "normal",
            TextSize::Large => "large",
            TextSize::Huge => "huge",
        }
    }

    /// The font size as a share of the image's shorter side.
    pub fn share_of_short_side(self) -> f32 {
        match self {
            TextSize::Small => 0.04,
            TextSize::Medium => 0.055,
            TextSize::Unspecified | TextSize::Normal => 0.07,
            TextSize::Large => 0.095,
            TextSize::Huge => 0.13,
        }
    }
}

impl TextPosition {
    /// The parameter value: `top`, `center`, `bottom` (UNSPECIFIED is `bottom`).
    pub fn name(self) -> &'static str {
        match self {
            TextPosition::Top => "top",
            TextPosition::Center => "center",
            TextPosition::Unspecified | TextPosition::Bottom => "bottom",
        }
    }
}

impl TextPlate {
    /// The parameter value: `none`, `black`, `white` (UNSPECIFIED is `none`).
    pub fn name(self) -> &'static str {
        match self {
            TextPlate::Unspecified | TextPlate::None => "none",
            TextPlate::Black => "black",
            TextPlate::White => "white",
        }
    }
}

impl AddText {
    /// The text with every option at its default: normal size, automatic colour, at the bottom 10 % above
    /// the edge, no plate.
    pub fn with_text(text: &str) -> Self {
        AddText {
            text: text.to_string(),
            ..AddText::default()
        }
    }

    /// The font size preset (UNSPECIFIED read as NORMAL).
    pub fn size_preset(&self) -> TextSize {
        match TextSize::try_from(self.size) {
            Ok(TextSize::Unspecified) | Err(_) => TextSize::Normal,
            Ok(size) => size,
        }
    }

    /// Where the block goes (UNSPECIFIED read as BOTTOM).
    pub fn placement(&self) -> TextPosition {
        match TextPosition::try_from(self.position) {
            Ok(TextPosition::Unspecified) | Err(_) => TextPosition::Bottom,
            Ok(position) => position,
        }
    }

    /// The plate (UNSPECIFIED read as NONE).
    pub fn plate_kind(&self) -> TextPlate {
        match TextPlate::try_from(self.plate) {
            Ok(TextPlate::Unspecified) | Err(_) => TextPlate::None,
            Ok(plate) => plate,
        }
    }

    /// The offset from the edge, percent of the height ([`ADD_TEXT_DEFAULT_OFFSET_PCT`] when absent).
    pub fn offset(&self) -> u32 {
        self.offset_pct.unwrap_or(ADD_TEXT_DEFAULT_OFFSET_PCT)
    }

    /// The plate's opacity, percent ([`ADD_TEXT_DEFAULT_OPACITY_PCT`] when absent).
    pub fn opacity(&self) -> u32 {
        self.plate_opacity_pct
            .unwrap_or(ADD_TEXT_DEFAULT_OPACITY_PCT)
    }

    /// The plate's blur radius, pixels ([`ADD_TEXT_DEFAULT_BLUR_PX`] when absent).
    pub fn blur(&self) -> u32 {
        self.plate_blur_px.unwrap_or(ADD_TEXT_DEFAULT_BLUR_PX)
    }

    /// A short fingerprint of the text ([`text_digest`]): what keys carry instead of the text itself.
    pub fn text_digest(&self) -> String {
        text_digest(&self.text)
    }
}

/// A short fingerprint of a user's text (8 hex digits of a UUIDv5 of it): what keys carry instead of the
/// text itself, which may be long, hold spaces and is the user's own words.
pub fn text_digest(text: &str) -> String {
    let id = uuid::Uuid::new_v5(&ADD_TEXT_NAMESPACE, text.as_bytes());
    id.simple().to_string()[..8].to_string()
}

/// Namespace of [`text_digest`] (named for its first user; changing it would change every key).
const ADD_TEXT_NAMESPACE: uuid::Uuid = uuid::uuid!("0d8f4a56-3c1e-4b7a-9e62-5a7c9d1f2e38");

/// The longest `image.generate` prompt, characters (Unicode scalar values).
pub const GENERATE_MAX_PROMPT_CHARS: usize = 4000;
/// The longest `image.generate` negative prompt, characters.
pub const GENERATE_MAX_NEGATIVE_CHARS: usize = 1000;
/// The sides an exact `image.generate` size may have, pixels.
pub const GENERATE_SIDE_PX: std::ops::RangeInclusive<u32> = 64..=4096;
/// The longest `prompt.write` idea, characters.
pub const WRITE_PROMPT_MAX_IDEA_CHARS: usize = 2000;
/// The longest model alias, bytes (`[a-z0-9_-]`).
pub const MODEL_ALIAS_MAX_BYTES: usize = 32;
/// The longest `image.edit` instruction, characters.
pub const EDIT_MAX_INSTRUCTION_CHARS: usize = 2000;
/// The most pictures one `image.edit` takes (Fal's edit models take up to four).
pub const EDIT_MAX_IMAGES: usize = 4;
/// The formats an `image.edit` result may have, the default first.
pub const EDIT_FORMATS: [&str; 3] = ["png", "jpeg", "webp"];
/// The longest `image.retouch` instruction, characters.
pub const RETOUCH_MAX_INSTRUCTION_CHARS: usize = 1000;
/// The largest picture `image.retouch` takes, bytes (10 MB, as the original bot).
pub const RETOUCH_MAX_INPUT_BYTES: u64 = 10_000_000;
/// The retouch presets, in the order of their buttons.
pub const RETOUCH_PRESETS: [RetouchPreset; 2] = [RetouchPreset::Soft, RetouchPreset::Enhance];

impl RetouchPreset {
    /// The parameter value: `soft`, `enhance` (UNSPECIFIED is `soft`).
    pub fn name(self) -> &'static str {
        match self {
            RetouchPreset::Unspecified | RetouchPreset::Soft => "soft",
            RetouchPreset::Enhance => "enhance",
        }
    }

    /// The preset a [`name`](Self::name) names.
    pub fn from_name(name: &str) -> Option<Self> {
        RETOUCH_PRESETS.into_iter().find(|p| p.name() == name)
    }
}

impl Edit {
    /// The model alias, `auto` for generation's default edit model.
    pub fn model_param(&self) -> &str {
        if self.model.is_empty() {
            "auto"
        } else {
            &self.model
        }
    }

    /// The result's format, `png` when empty.
    pub fn format_param(&self) -> &str {
        if self.format.is_empty() {
            EDIT_FORMATS[0]
        } else {
            &self.format
        }
    }
}

impl Retouch {
    /// The preset (UNSPECIFIED read as SOFT).
    pub fn preset_kind(&self) -> RetouchPreset {
        match RetouchPreset::try_from(self.preset) {
            Ok(RetouchPreset::Unspecified) | Err(_) => RetouchPreset::Soft,
            Ok(preset) => preset,
        }
    }
}

/// The shapes `image.generate` offers, in the order of its buttons.
pub const IMAGE_SHAPES: [ImageShape; 3] = [
    ImageShape::Vertical,
    ImageShape::Square,
    ImageShape::Horizontal,
];

impl ImageShape {
    /// The parameter value: `vertical`, `square`, `horizontal` (UNSPECIFIED is `square`).
    pub fn name(self) -> &'static str {
        match self {
            ImageShape::Vertical => "vertical",
            ImageShape::Unspecified | ImageShape::Square => "square",
            ImageShape::Horizontal => "horizontal",
        }
    }

    /// The shape a [`name`](Self::name) names.
    pub fn from_name(name: &str) -> Option<Self> {
        IMAGE_SHAPES.into_iter().find(|s| s.name() == name)
    }

    /// The size the original bot asks for, pixels (width, height): 1472×2048, 1792×1792, 2048×1472.
    pub fn size_px(self) -> (u32, u32) {
        match self {
            ImageShape::Vertical => (1472, 2048),
            ImageShape::Unspecified | ImageShape::Square => (1792, 1792),
            ImageShape::Horizontal => (2048, 1472),
        }
    }

    /// The aspect ratio for models that take one: `3:4`, `1:1`, `4:3`.
    pub fn aspect_ratio(self) -> &'static str {
        match self {
            ImageShape::Vertical => "3:4",
            ImageShape::Unspecified | ImageShape::Square => "1:1",
            ImageShape::Horizontal => "4:3",
        }
    }
}

impl Generate {
    /// `prompt` in the default shape (square) with the default model chain.
    pub fn with_prompt(prompt: &str) -> Self {
        Generate {
            prompt: prompt.to_string(),
            ..Generate::default()
        }
    }

    /// The shape (UNSPECIFIED read as SQUARE).
    pub fn shape_kind(&self) -> ImageShape {
        match ImageShape::try_from(self.shape) {
            Ok(ImageShape::Unspecified) | Err(_) => ImageShape::Square,
            Ok(shape) => shape,
        }
    }

    /// The `size` parameter of the key: `WxH` for an exact size, `w:h` for an aspect ratio, else the
    /// shape's name.
    pub fn size_param(&self) -> String {
        if self.width_px != 0 || self.height_px != 0 {
            format!("{}x{}", self.width_px, self.height_px)
        } else if !self.aspect_ratio.is_empty() {
            self.aspect_ratio.clone()
        } else {
            self.shape_kind().name().to_string()
        }
    }

    /// The model alias, `auto` for the default chain.
    pub fn model_param(&self) -> &str {
        if self.model.is_empty() {
            "auto"
        } else {
            &self.model
        }
    }
}

/// An aspect ratio `w:h` with both sides 1..=64, as (w, h).
pub fn parse_aspect_ratio(ratio: &str) -> Option<(u32, u32)> {
    let (w, h) = ratio.split_once(':')?;
    let side = |s: &str| {
        s.parse::<u32>()
            .ok()
            .filter(|n| (1..=64).contains(n) && s.bytes().all(|b| b.is_ascii_digit()))
    };
    Some((side(w)?, side(h)?))
}

/// Whether `alias` is a well-formed model alias: 1 to [`MODEL_ALIAS_MAX_BYTES`] of `[a-z0-9_-]`.
pub fn is_model_alias(alias: &str) -> bool {
    !alias.is_empty()
        && alias.len() <= MODEL_ALIAS_MAX_BYTES
        && alias
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
}

impl ConvertTarget {
    /// The parameter value in keys and callback data: `jpeg`, `png`, `webp_lossless`, `webp_lossy`
    /// (`unspecified` for the invalid default).
    pub fn name(self) -> &'static str {
        match self {
            ConvertTarget::Unspecified => "unspecified",
            ConvertTarget::Jpeg => "jpeg",
            ConvertTarget::Png => "png",
            ConvertTarget::WebpLossless => "webp_lossless",
            ConvertTarget::WebpLossy => "webp_lossy",
        }
    }

    /// The target a [`name`](Self::name) names; `None` for anything else (and for `unspecified`).
    pub fn from_name(name: &str) -> Option<Self> {
        CONVERT_TARGETS.into_iter().find(|t| t.name() == name)
    }
}

/// Longest `speech.transcribe` prompt (whisper's initial prompt), bytes. whisper uses at most the last
/// 224 tokens of it; this only keeps job messages small.
pub const MAX_PROMPT_BYTES: usize = 4096;

/// Why an [`Operation`] is not valid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidOperation {
    /// The oneof is empty (or a case this build does not know).
    #[error("operation: no operation set")]
    Missing,
    /// A parameter is out of range.
    #[error("operation.{operation}.{param}: {reason}")]
    Param {
        /// Operation id.
        operation: &'static str,
        /// Parameter name.
        param: &'static str,
        /// What is wrong, in English.
        reason: String,
    },
}

/// Most pictures one album job takes (Telegram's album limit).
pub const ALBUM_MAX_IMAGES: u32 = 10;

impl From<Params> for Operation {
    /// One picture's operation with these parameters.
    fn from(params: Params) -> Self {
        Operation {
            params: Some(params),
            count: 0,
        }
    }
}

impl Operation {
    /// This operation on each of `count` pictures in one job (an album; see [`Operation::count`]).
    pub fn times(mut self, count: u32) -> Self {
        self.count = count;
        self
    }

    /// Pictures the job processes: [`Operation::count`], at least 1.
    pub fn pictures(&self) -> u32 {
        self.count.max(1)
    }

    /// Whether this operation can run on an album ([`Operation::times`]): imaging's one-picture
    /// operations that take no words (upscale, compress, convert).
    pub fn runs_on_albums(&self) -> bool {
        matches!(
            self.params,
            Some(Params::Upscale(_) | Params::Compress(_) | Params::Convert(_))
        )
    }

    /// `image.upscale` by `factor` (2 or 4).
    pub fn upscale(factor: u32) -> Self {
        Operation::from(Params::Upscale(Upscale { factor }))
    }

    /// `speech.transcribe` in `language` ("auto" or an ISO 639-1 code).
    pub fn transcribe(language: &str) -> Self {
        Operation::from(Params::Transcribe(Transcribe {
            language: language.to_string(),
            translate: false,
            ..Default::default()
        }))
    }

    /// `speech.transcribe` of speech in `language` ("auto" or an ISO 639-1 code), translated to English
    /// (whisper's translate task); its key and callback data carry `translate=true`.
    pub fn translate_to_english(language: &str) -> Self {
        Operation::from(Params::Transcribe(Transcribe {
            language: language.to_string(),
            translate: true,
            ..Default::default()
        }))
    }

    /// `image.compress` to at most `target_kb` kilobytes (1000 bytes each; one of
    /// [`COMPRESS_TARGETS_KB`]).
    pub fn compress(target_kb: u32) -> Self {
        Operation::from(Params::Compress(Compress { target_kb }))
    }

    /// `image.convert` to `target` (any of [`CONVERT_TARGETS`]).
    pub fn convert(target: ConvertTarget) -> Self {
        Operation::from(Params::Convert(Convert {
            target: target as i32,
        }))
    }

    /// `image.add_text` with these parameters.
    pub fn add_text(params: AddText) -> Self {
        Operation::from(Params::AddText(params))
    }

    /// `document.text`: the text of a document, OCR (for pages without a text layer) in the languages of
    /// `language` ("ru", "en" or "auto"; see [`ocr_languages`]).
    pub fn document_text(language: &str) -> Self {
        Operation::from(Params::DocumentText(DocumentText {
            language: language.to_string(),
        }))
    }

    /// `image.ocr`: the text in an image, recognised in the languages of `language` ("ru", "en" or
    /// "auto"; see [`ocr_languages`]).
    pub fn ocr(language: &str) -> Self {
        Operation::from(Params::Ocr(Ocr {
            language: language.to_string(),
        }))
    }

    /// `image.generate` with these parameters.
    pub fn generate(params: Generate) -> Self {
        Operation::from(Params::Generate(params))
    }

    /// `prompt.write`: an image prompt from `idea`, written in `language` ("ru", "en", "auto").
    pub fn write_prompt(idea: &str, language: &str) -> Self {
        Operation::from(Params::WritePrompt(WritePrompt {
            idea: idea.to_string(),
            language: language.to_string(),
        }))
    }

    /// `image.edit` of the pictures the input holds, as `params` say.
    pub fn edit(params: Edit) -> Self {
        Operation::from(Params::Edit(params))
    }

    /// `image.retouch` in `preset`, with the user's `instruction` (may be empty).
    pub fn retouch(preset: RetouchPreset, instruction: &str) -> Self {
        Operation::from(Params::Retouch(Retouch {
            preset: preset as i32,
            instruction: instruction.to_string(),
        }))
    }

    /// `image.upscale_remote` by `factor` (2 or 4), at a provider.
    pub fn upscale_remote(factor: u32) -> Self {
        Operation::from(Params::UpscaleRemote(UpscaleRemote { factor }))
    }

    /// `image.face_swap`.
    pub fn face_swap() -> Self {
        Operation::from(Params::FaceSwap(FaceSwap {}))
    }

    /// Whether the job's input object is an `InputParts` holding several pictures (`image.edit`,
    /// `image.face_swap`) rather than one file's bytes.
    pub fn takes_parts(&self) -> bool {
        self.count > 1 || matches!(self.params, Some(Params::Edit(_) | Params::FaceSwap(_)))
    }

    /// Whether the job reads an input object (`in/<job_id>`): every operation on a file does;
    /// `image.generate` and `prompt.write` carry all they need in their parameters, and their jobs have
    /// an empty `input_key`.
    pub fn takes_input(&self) -> bool {
        !matches!(
            self.params,
            Some(Params::Generate(_) | Params::WritePrompt(_))
        )
    }

    /// The stable operation id (`image.upscale`), or `None` when no case is set.
    pub fn id(&self) -> Option<&'static str> {
        Some(match self.params.as_ref()? {
            Params::Upscale(_) => "image.upscale",
            Params::Compress(_) => "image.compress",
            Params::Convert(_) => "image.convert",
            Params::AddText(_) => "image.add_text",
            Params::Transcribe(_) => "speech.transcribe",
            Params::DocumentText(_) => "document.text",
            Params::Ocr(_) => "image.ocr",
            Params::Generate(_) => GENERATE_ID,
            Params::WritePrompt(_) => WRITE_PROMPT_ID,
            Params::Edit(_) => EDIT_ID,
            Params::Retouch(_) => RETOUCH_ID,
            Params::FaceSwap(_) => FACE_SWAP_ID,
            Params::UpscaleRemote(_) => UPSCALE_REMOTE_ID,
        })
    }

    /// The worker service that runs it, or `None` when no case is set.
    pub fn service(&self) -> Option<Service> {
        Some(match self.params.as_ref()? {
            Params::Upscale(_) | Params::Compress(_) | Params::Convert(_) | Params::AddText(_) => {
                Service::Imaging
            }
            Params::Transcribe(_) => Service::Speech,
            Params::DocumentText(_) | Params::Ocr(_) => Service::Documents,
            Params::Generate(_)
            | Params::WritePrompt(_)
            | Params::Edit(_)
            | Params::Retouch(_)
            | Params::FaceSwap(_)
            | Params::UpscaleRemote(_) => Service::Generation,
        })
    }

    /// Its parameters as (name, value) text pairs, in a fixed order: what prices match on, and part of the
    /// [`key`](Self::key) and the [`callback_data`](Self::callback_data). An album's `count` comes last,
    /// only above 1 (so one picture's keys, job ids and buttons are as they were).
    pub fn params(&self) -> Vec<(&'static str, String)> {
        let mut params = self.case_params();
        if self.count > 1 {
            params.push(("count", self.count.to_string()));
        }
        params
    }

    /// The parameters of the `params` case alone.
    fn case_params(&self) -> Vec<(&'static str, String)> {
        match self.params.as_ref() {
            Some(Params::Upscale(p)) => vec![("factor", p.factor.to_string())],
            Some(Params::UpscaleRemote(p)) => vec![("factor", p.factor.to_string())],
            Some(Params::Compress(p)) => vec![("target_kb", p.target_kb.to_string())],
            Some(Params::Convert(p)) => vec![("target", convert_target_name(p.target))],
            // The text as a digest (see `AddText::text_digest`); every option with its default resolved,
            // so spelling a default out names the same job.
            Some(Params::AddText(p)) => vec![
                ("text", p.text_digest()),
                (
                    "size",
                    if p.size_px == 0 {
                        p.size_preset().name().to_string()
                    } else {
                        format!("{}px", p.size_px)
                    },
                ),
                (
                    "color",
                    p.color_rgb
                        .map_or_else(|| "auto".to_string(), |c| format!("{c:06x}")),
                ),
                ("position", p.placement().name().to_string()),
                ("offset", p.offset().to_string()),
                ("plate", p.plate_kind().name().to_string()),
                ("opacity", p.opacity().to_string()),
                ("blur", p.blur().to_string()),
            ],
            // `translate` only when set, so the keys (and job ids) of plain transcriptions stay as they were.
            Some(Params::Transcribe(p)) if p.translate => vec![
                ("language", language_or_auto(&p.language)),
                ("translate", "true".to_string()),
            ],
            Some(Params::Transcribe(p)) => vec![("language", language_or_auto(&p.language))],
            Some(Params::DocumentText(p)) => vec![("language", language_or_auto(&p.language))],
            Some(Params::Ocr(p)) => vec![("language", language_or_auto(&p.language))],
            // The words as digests (see `text_digest`); `negative` only when set.
            Some(Params::Generate(p)) => {
                let mut params = vec![
                    ("prompt", text_digest(&p.prompt)),
                    ("model", p.model_param().to_string()),
                    ("size", p.size_param()),
                ];
                if !p.negative_prompt.is_empty() {
                    params.push(("negative", text_digest(&p.negative_prompt)));
                }
                params
            }
            Some(Params::WritePrompt(p)) => vec![
                ("idea", text_digest(&p.idea)),
                ("language", language_or_auto(&p.language)),
            ],
            Some(Params::Edit(p)) => vec![
                ("instruction", text_digest(&p.instruction)),
                ("model", p.model_param().to_string()),
                ("format", p.format_param().to_string()),
            ],
            // `wishes` only when the user added an instruction.
            Some(Params::Retouch(p)) => {
                let mut params = vec![("preset", p.preset_kind().name().to_string())];
                if !p.instruction.is_empty() {
                    params.push(("wishes", text_digest(&p.instruction)));
                }
                params
            }
            Some(Params::FaceSwap(_)) | None => Vec::new(),
        }
    }

    /// Checks every parameter. Errors: [`InvalidOperation`] naming the first bad one.
    pub fn validate(&self) -> Result<(), InvalidOperation> {
        if self.count > 1 && (!self.runs_on_albums() || self.count > ALBUM_MAX_IMAGES) {
            return Err(InvalidOperation::Param {
                operation: self.id().unwrap_or("operation"),
                param: "count",
                reason: format!(
                    "above 1 only for image.upscale, image.compress and image.convert, at most \
                     {ALBUM_MAX_IMAGES}; got {}",
                    self.count
                ),
            });
        }
        match self.params.as_ref() {
            None => Err(InvalidOperation::Missing),
            Some(Params::Compress(p)) if !COMPRESS_TARGETS_KB.contains(&p.target_kb) => {
                Err(InvalidOperation::Param {
                    operation: "image.compress",
                    param: "target_kb",
                    reason: format!(
                        "must be one of {COMPRESS_TARGETS_KB:?}, got {}",
                        p.target_kb
                    ),
                })
            }
            Some(Params::Upscale(p)) if !UPSCALE_FACTORS.contains(&p.factor) => {
                Err(InvalidOperation::Param {
                    operation: "image.upscale",
                    param: "factor",
                    reason: format!("must be 2 or 4, got {}", p.factor),
                })
            }
            Some(Params::UpscaleRemote(p)) if !UPSCALE_FACTORS.contains(&p.factor) => {
                Err(InvalidOperation::Param {
                    operation: UPSCALE_REMOTE_ID,
                    param: "factor",
                    reason: format!("must be 2 or 4, got {}", p.factor),
                })
            }
            Some(Params::Convert(p))
                if ConvertTarget::from_name(&convert_target_name(p.target)).is_none() =>
            {
                Err(InvalidOperation::Param {
                    operation: "image.convert",
                    param: "target",
                    reason: format!(
                        "must be one of jpeg, png, webp_lossless, webp_lossy, got {}",
                        convert_target_name(p.target)
                    ),
                })
            }
            Some(Params::AddText(p)) => validate_add_text(p, true),
            Some(Params::Transcribe(p)) => {
                let param = |param: &'static str, reason: String| InvalidOperation::Param {
                    operation: "speech.transcribe",
                    param,
                    reason,
                };
                if p.prompt.len() > MAX_PROMPT_BYTES || p.prompt.contains('\0') {
                    Err(param(
                        "prompt",
                        format!("at most {MAX_PROMPT_BYTES} bytes, no NUL characters"),
                    ))
                } else if !(0.0..=1.0).contains(&p.temperature) {
                    Err(param(
                        "temperature",
                        format!("must be between 0 and 1, got {}", p.temperature),
                    ))
                } else {
                    check_language("speech.transcribe", &p.language)
                }
            }
            Some(Params::DocumentText(p)) => check_language("document.text", &p.language),
            Some(Params::Ocr(p)) => check_language("image.ocr", &p.language),
            Some(Params::Generate(p)) => validate_generate(p, true),
            Some(Params::WritePrompt(p)) => {
                let chars = p.idea.chars().count();
                if p.idea.trim().is_empty() || chars > WRITE_PROMPT_MAX_IDEA_CHARS {
                    Err(InvalidOperation::Param {
                        operation: WRITE_PROMPT_ID,
                        param: "idea",
                        reason: format!(
                            "1 to {WRITE_PROMPT_MAX_IDEA_CHARS} characters, got {chars}"
                        ),
                    })
                } else {
                    check_language(WRITE_PROMPT_ID, &p.language)
                }
            }
            Some(Params::Edit(p)) => validate_edit(p, true),
            Some(Params::Retouch(p)) => validate_retouch(p),
            Some(_) => Ok(()),
        }
    }

    /// The id with its parameters, `image.upscale factor=4`: the text a hold records and the job id is
    /// derived from. Empty when no case is set.
    pub fn key(&self) -> String {
        let Some(id) = self.id() else {
            return String::new();
        };
        let mut key = id.to_string();
        for (name, value) in self.params() {
            key.push(' ');
            key.push_str(name);
            key.push('=');
            key.push_str(&value);
        }
        key
    }

    /// Telegram callback data of a button that starts this operation: `op:image.upscale:factor=4`
    /// (at most 64 bytes, Telegram's limit). Parse it back with [`from_callback_data`](Self::from_callback_data).
    ///
    /// `image.add_text` takes its parameters from a dialogue (the user's text, then their wishes), not from
    /// a button: its button is `op:image.add_text:`, which opens the dialogue ([`opens_dialogue`]) and
    /// parses back to no operation.
    ///
    /// `image.generate`'s button (under a written prompt) is `op:image.generate:`: it takes its prompt
    /// from the text of the message it is under, and parses back to no operation either. So do the
    /// buttons of `image.edit`, `image.retouch` and `image.face_swap`, which open dialogues.
    pub fn callback_data(&self) -> String {
        let dialogue = match self.params {
            Some(Params::AddText(_)) => Some(ADD_TEXT_ID),
            Some(Params::Generate(_)) => Some(GENERATE_ID),
            Some(Params::Edit(_)) => Some(EDIT_ID),
            Some(Params::Retouch(_)) => Some(RETOUCH_ID),
            Some(Params::FaceSwap(_)) => Some(FACE_SWAP_ID),
            _ => None,
        };
        if let Some(id) = dialogue {
            return format!("op:{id}:");
        }
        let params = self
            .params()
            .into_iter()
            .map(|(name, value)| format!("{name}={value}"))
            .collect::<Vec<_>>()
            .join(",");
        format!("op:{}:{params}", self.id().unwrap_or_default())
    }

    /// The operation a button's callback data names; `None` for anything else (or invalid parameters).
    pub fn from_callback_data(data: &str) -> Option<Self> {
        // A dialogue's button, or one that takes its text from its message, names no complete operation.
        if opens_dialogue(data).is_some() || data == format!("op:{GENERATE_ID}:") {
            return None;
        }
        let rest = data.strip_prefix("op:")?;
        let (id, params) = rest.split_once(':').unwrap_or((rest, ""));
        Self::from_parts(id, params)
    }

    /// The operation a [`key`](Self::key) names (`image.upscale factor=4`, as a hold records it);
    /// `None` for anything else. An `image.add_text` key carries only a digest of the text, so its
    /// operation comes back with its options and an empty text: enough for its name and metric label.
    pub fn from_key(key: &str) -> Option<Self> {
        let (id, params) = key.split_once(' ').unwrap_or((key, ""));
        Self::from_parts(id, &params.replace(' ', ","))
    }

    /// From an id and `name=value` parameters separated by commas.
    fn from_parts(id: &str, params: &str) -> Option<Self> {
        let param = |name: &str| {
            params
                .split(',')
                .filter_map(|p| p.split_once('='))
                .find(|(n, _)| *n == name)
                .map(|(_, v)| v.to_string())
        };
        let operation = match id {
            "image.upscale" => Operation::upscale(param("factor")?.parse().ok()?),
            UPSCALE_REMOTE_ID => Operation::upscale_remote(param("factor")?.parse().ok()?),
            "image.compress" => Operation::compress(param("target_kb")?.parse().ok()?),
            "image.convert" => Operation::convert(ConvertTarget::from_name(&param("target")?)?),
            ADD_TEXT_ID => {
                let number = |name: &str| param(name).and_then(|v| v.parse::<u32>().ok());
                let (size, size_px) = match param("size").as_deref() {
                    None => (TextSize::Normal, 0),
                    Some(v) => match v.strip_suffix("px") {
                        Some(px) => (TextSize::Normal, px.parse().ok()?),
                        None => (
                            [
                                TextSize::Small,
                                TextSize::Medium,
                                TextSize::Normal,
                                TextSize::Large,
                                TextSize::Huge,
                            ]
                            .into_iter()
                            .find(|s| s.name() == v)?,
                            0,
                        ),
                    },
                };
                let color_rgb = match param("color").as_deref() {
                    None | Some("auto") => None,
                    Some(hex) => Some(u32::from_str_radix(hex, 16).ok()?),
                };
                let position = match param("position").as_deref() {
                    None | Some("bottom") => TextPosition::Bottom,
                    Some("top") => TextPosition::Top,
                    Some("center") => TextPosition::Center,
                    Some(_) => return None,
                };
                let plate = match param("plate").as_deref() {
                    None | Some("none") => TextPlate::None,
                    Some("black") => TextPlate::Black,
                    Some("white") => TextPlate::White,
                    Some(_) => return None,
                };
                let params = AddText {
                    text: String::new(),
                    size: size as i32,
                    size_px,
                    color_rgb,
                    position: position as i32,
                    offset_pct: number("offset"),
                    plate: plate as i32,
                    plate_opacity_pct: number("opacity"),
                    plate_blur_px: number("blur"),
                };
                // The text is not in the key: check the options only.
                validate_add_text(&params, false).ok()?;
                return Some(Operation::add_text(params));
            }
            "document.text" => {
                Operation::document_text(&param("language").unwrap_or_else(|| "auto".into()))
            }
            "image.ocr" => Operation::ocr(&param("language").unwrap_or_else(|| "auto".into())),
            GENERATE_ID => {
                let mut params = Generate {
                    model: match param("model") {
                        Some(m) if m != "auto" => m,
                        _ => String::new(),
                    },
                    ..Generate::default()
                };
                match param("size") {
                    None => {}
                    Some(size) => {
                        if let Some(shape) = ImageShape::from_name(&size) {
                            params.shape = shape as i32;
                        } else if let Some((w, h)) = size.split_once('x') {
                            params.width_px = w.parse().ok()?;
                            params.height_px = h.parse().ok()?;
                        } else {
                            params.aspect_ratio = size;
                        }
                    }
                }
                // The prompt is not in the key: check the options only.
                validate_generate(&params, false).ok()?;
                return Some(Operation::generate(params));
            }
            EDIT_ID => {
                let params = Edit {
                    instruction: String::new(),
                    model: match param("model") {
                        Some(m) if m != "auto" => m,
                        _ => String::new(),
                    },
                    format: param("format").unwrap_or_default(),
                };
                // The instruction is not in the key: check the options only.
                validate_edit(&params, false).ok()?;
                return Some(Operation::edit(params));
            }
            RETOUCH_ID => {
                // The instruction is not in the key: the preset only.
                let preset = match param("preset") {
                    None => RetouchPreset::Soft,
                    Some(name) => RetouchPreset::from_name(&name)?,
                };
                return Some(Operation::retouch(preset, ""));
            }
            FACE_SWAP_ID => Operation::face_swap(),
            WRITE_PROMPT_ID => {
                // The idea is not in the key: an operation with the language only.
                let language = param("language").unwrap_or_else(|| "auto".into());
                check_language(WRITE_PROMPT_ID, &language).ok()?;
                return Some(Operation::write_prompt("", &language));
            }
            "speech.transcribe" => {
                let language = param("language").unwrap_or_else(|| "auto".into());
                match param("translate").as_deref() {
                    None | Some("false") => Operation::transcribe(&language),
                    Some("true") => Operation::translate_to_english(&language),
                    Some(_) => return None,
                }
            }
            _ => return None,
        };
        let operation = match param("count") {
            Some(count) => operation.times(count.parse().ok()?),
            None => operation,
        };
        operation.validate().ok().map(|()| operation)
    }
}

/// The id of `image.add_text`.
pub const ADD_TEXT_ID: &str = "image.add_text";
/// The id of `image.generate`.
pub const GENERATE_ID: &str = "image.generate";
/// The id of `prompt.write`.
pub const WRITE_PROMPT_ID: &str = "prompt.write";
/// The id of `image.edit`.
pub const EDIT_ID: &str = "image.edit";
/// The id of `image.retouch`.
pub const RETOUCH_ID: &str = "image.retouch";
/// The id of `image.face_swap`.
pub const FACE_SWAP_ID: &str = "image.face_swap";
/// The id of `image.upscale_remote`.
pub const UPSCALE_REMOTE_ID: &str = "image.upscale_remote";
/// The longest side an `image.upscale_remote` result may have, pixels.
pub const UPSCALE_REMOTE_MAX_SIDE_PX: u32 = 8192;

/// Checks `image.edit`'s parameters; the instruction only when `instruction` is set (a key does not carry
/// it).
fn validate_edit(p: &Edit, instruction: bool) -> Result<(), InvalidOperation> {
    let invalid = |param: &'static str, reason: String| {
        Err(InvalidOperation::Param {
            operation: EDIT_ID,
            param,
            reason,
        })
    };
    let chars = p.instruction.chars().count();
    if instruction && (p.instruction.trim().is_empty() || chars > EDIT_MAX_INSTRUCTION_CHARS) {
        return invalid(
            "instruction",
            format!("1 to {EDIT_MAX_INSTRUCTION_CHARS} characters, got {chars}"),
        );
    }
    if p.instruction.contains('\0') {
        return invalid("instruction", "no NUL characters".into());
    }
    if !p.model.is_empty() && !is_model_alias(&p.model) {
        return invalid(
            "model",
            format!("an alias of [a-z0-9_-], at most {MODEL_ALIAS_MAX_BYTES} bytes"),
        );
    }
    if !p.format.is_empty() && !EDIT_FORMATS.contains(&p.format.as_str()) {
        return invalid(
            "format",
            format!("one of {EDIT_FORMATS:?}, got {:?}", p.format),
        );
    }
    Ok(())
}

/// Checks `image.retouch`'s parameters.
fn validate_retouch(p: &Retouch) -> Result<(), InvalidOperation> {
    let invalid = |param: &'static str, reason: String| {
        Err(InvalidOperation::Param {
            operation: RETOUCH_ID,
            param,
            reason,
        })
    };
    if RetouchPreset::try_from(p.preset).is_err() {
        return invalid("preset", format!("unknown preset {}", p.preset));
    }
    let chars = p.instruction.chars().count();
    if chars > RETOUCH_MAX_INSTRUCTION_CHARS || p.instruction.contains('\0') {
        return invalid(
            "instruction",
            format!(
                "at most {RETOUCH_MAX_INSTRUCTION_CHARS} characters, no NUL characters, got {chars}"
            ),
        );
    }
    Ok(())
}

/// Checks `image.generate`'s parameters; the prompt only when `prompt` is set (a key does not carry it).
fn validate_generate(p: &Generate, prompt: bool) -> Result<(), InvalidOperation> {
    let invalid = |param: &'static str, reason: String| {
        Err(InvalidOperation::Param {
            operation: GENERATE_ID,
            param,
            reason,
        })
    };
    let chars = p.prompt.chars().count();
    if prompt && (p.prompt.trim().is_empty() || chars > GENERATE_MAX_PROMPT_CHARS) {
        return invalid(
            "prompt",
            format!("1 to {GENERATE_MAX_PROMPT_CHARS} characters, got {chars}"),
        );
    }
    if p.prompt.contains('\0') || p.negative_prompt.contains('\0') {
        return invalid("prompt", "no NUL characters".into());
    }
    if !p.model.is_empty() && !is_model_alias(&p.model) {
        return invalid(
            "model",
            format!("an alias of [a-z0-9_-], at most {MODEL_ALIAS_MAX_BYTES} bytes"),
        );
    }
    if ImageShape::try_from(p.shape).is_err() {
        return invalid("shape", format!("unknown shape {}", p.shape));
    }
    let exact = (p.width_px, p.height_px) != (0, 0);
    if exact && !(GENERATE_SIDE_PX.contains(&p.width_px) && GENERATE_SIDE_PX.contains(&p.height_px))
    {
        return invalid(
            "width_px",
            format!(
                "both sides {}..={} pixels, got {}x{}",
                GENERATE_SIDE_PX.start(),
                GENERATE_SIDE_PX.end(),
                p.width_px,
                p.height_px
            ),
        );
    }
    if !p.aspect_ratio.is_empty() {
        if exact {
            return invalid(
                "aspect_ratio",
                "give either a size or an aspect ratio, not both".into(),
            );
        }
        if parse_aspect_ratio(&p.aspect_ratio).is_none() {
            return invalid(
                "aspect_ratio",
                format!("w:h with sides 1..=64, got {:?}", p.aspect_ratio),
            );
        }
    }
    if p.negative_prompt.chars().count() > GENERATE_MAX_NEGATIVE_CHARS {
        return invalid(
            "negative_prompt",
            format!("at most {GENERATE_MAX_NEGATIVE_CHARS} characters"),
        );
    }
    Ok(())
}

/// Whether a button's callback data opens a dialogue rather than starting a job: the operation id whose
/// parameters the dialogue collects (`op:image.add_text:` → `image.add_text`), else `None`.
pub fn opens_dialogue(data: &str) -> Option<&'static str> {
    let id = data.strip_prefix("op:")?.strip_suffix(':')?;
    [ADD_TEXT_ID, EDIT_ID, RETOUCH_ID, FACE_SWAP_ID]
        .into_iter()
        .find(|dialogue| *dialogue == id)
}

/// Checks `image.add_text`'s parameters; the text only when `text` is set (a key does not carry it).
fn validate_add_text(p: &AddText, text: bool) -> Result<(), InvalidOperation> {
    let invalid = |param: &'static str, reason: String| {
        Err(InvalidOperation::Param {
            operation: ADD_TEXT_ID,
            param,
            reason,
        })
    };
    let chars = p.text.chars().count();
    if text && p.text.trim().is_empty() {
        return invalid("text", "must not be empty".into());
    }
    if chars > ADD_TEXT_MAX_CHARS {
        return invalid(
            "text",
            format!("at most {ADD_TEXT_MAX_CHARS} characters, got {chars}"),
        );
    }
    if p.size_px != 0 && !ADD_TEXT_SIZE_PX.contains(&p.size_px) {
        return invalid(
            "size_px",
            format!(
                "must be 0 (use the preset) or {}..={}, got {}",
                ADD_TEXT_SIZE_PX.start(),
                ADD_TEXT_SIZE_PX.end(),
                p.size_px
            ),
        );
    }
    if TextSize::try_from(p.size).is_err() {
        return invalid("size", format!("unknown size {}", p.size));
    }
    if TextPosition::try_from(p.position).is_err() {
        return invalid("position", format!("unknown position {}", p.position));
    }
    if TextPlate::try_from(p.plate).is_err() {
        return invalid("plate", format!("unknown plate {}", p.plate));
    }
    if p.color_rgb.is_some_and(|c| c > 0xff_ff_ff) {
        return invalid("color_rgb", "must be 0xRRGGBB".into());
    }
    if p.offset() > ADD_TEXT_MAX_OFFSET_PCT {
        return invalid(
            "offset_pct",
            format!("at most {ADD_TEXT_MAX_OFFSET_PCT}, got {}", p.offset()),
        );
    }
    if p.opacity() > 100 {
        return invalid(
            "plate_opacity_pct",
            format!("at most 100, got {}", p.opacity()),
        );
    }
    if p.blur() > ADD_TEXT_MAX_BLUR_PX {
        return invalid(
            "plate_blur_px",
            format!("at most {ADD_TEXT_MAX_BLUR_PX}, got {}", p.blur()),
        );
    }
    Ok(())
}

/// A `Convert.target` as its parameter value; a number this build does not know stays a number, so a
/// key never hides what was asked.
fn convert_target_name(target: i32) -> String {
    match ConvertTarget::try_from(target) {
        Ok(target) => target.name().to_string(),
        Err(_) => target.to_string(),
    }
}

/// A `language` parameter: "auto" (or empty) or an ISO 639-1 code such as "ru".
fn check_language(operation: &'static str, language: &str) -> Result<(), InvalidOperation> {
    let normalised = language_or_auto(language);
    let ok = normalised == "auto"
        || (normalised.len() == 2 && normalised.bytes().all(|b| b.is_ascii_lowercase()));
    if ok {
        Ok(())
    } else {
        Err(InvalidOperation::Param {
            operation,
            param: "language",
            reason: format!(
                "must be \"auto\" or an ISO 639-1 code such as \"ru\", got {language:?}"
            ),
        })
    }
}

/// The Tesseract languages (traineddata names, `+`-joined, the most likely first) that OCR uses for a
/// user whose language is `language` (a `language` parameter of `document.text` or `image.ocr`):
/// `rus+eng` for "ru", `eng+rus` for anything else. Russian users' documents mix in English often
/// enough, and the reverse, that both are always loaded; the order breaks ties between look-alike
/// letters (Cyrillic "а", "о", "р" and Latin "a", "o", "p").
pub fn ocr_languages(language: &str) -> &'static str {
    if language_or_auto(language) == "ru" {
        "rus+eng"
    } else {
        "eng+rus"
    }
}

fn language_or_auto(language: &str) -> String {
    let language = language.trim().to_ascii_lowercase();
    if language.is_empty() {
        "auto".into()
    } else {
        language
    }
}

/// The price of `operation` from a price list (billing's `ListPrices`), in minor units, with the entry
/// that set it; `None` when no entry matches.
///
/// An entry matches when its operation id is the operation's and each of its `params` equals the
/// operation's parameter of that name; among matches, the entry naming the most parameters wins. A
/// [`PriceUnit::StartedMinute`] price is multiplied by the started minutes of `audio_duration_ms` (at least
/// one: 0 ms, unknown, counts as one minute; 60 001 ms as two).
pub fn price_of<'a>(
    prices: &'a [Price],
    operation: &Operation,
    audio_duration_ms: u64,
) -> Option<(i64, &'a Price)> {
    let id = operation.id()?;
    let params = operation.params();
    let entry = prices
        .iter()
        .filter(|p| p.operation == id)
        .filter(|p| {
            p.params.iter().all(|(name, value)| {
                params
                    .iter()
                    .any(|(n, v)| n == name && v.eq_ignore_ascii_case(value))
            })
        })
        .max_by_key(|p| p.params.len())?;
    let amount = match entry.unit() {
        PriceUnit::StartedMinute => {
            let minutes = audio_duration_ms.div_ceil(60_000).max(1);
            entry
                .amount_minor
                .checked_mul(i64::try_from(minutes).ok()?)?
        }
        PriceUnit::Job | PriceUnit::Unspecified => entry.amount_minor,
    };
    // An album job costs its operation's price per picture.
    let amount = amount.checked_mul(i64::from(operation.pictures()))?;
    Some((amount, entry))
}

/// A job id: a UUID in its canonical hyphenated lower-case form. It is the billing hold's idempotency key,
/// part of the object keys (`in/<job_id>`) and of every event's `Nats-Msg-Id`, so it is parsed once, here.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct JobId(String);

/// A job id that is not a UUID.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("job_id: {0:?} is not a UUID such as 67e55044-10b1-426f-9247-bb680e5fe0c8")]
pub struct InvalidJobId(pub String);

/// Namespace of [`JobId::derive`] (a fixed random UUID; changing it changes every derived id).
const JOB_ID_NAMESPACE: uuid::Uuid = uuid::uuid!("5b0f9b8e-5f7c-4c1e-9a35-2f1d0c6e7a41");

impl JobId {
    /// Parses any UUID spelling (upper case, braces, no hyphens) and keeps the canonical form.
    /// Errors: [`InvalidJobId`].
    pub fn parse(raw: &str) -> Result<Self, InvalidJobId> {
        uuid::Uuid::parse_str(raw.trim())
            .map(|id| JobId(id.hyphenated().to_string()))
            .map_err(|_| InvalidJobId(raw.to_string()))
    }

    /// The id of the job that applies `operation` to the message `message_id` in chat `chat_id`: a UUIDv5,
    /// so a double tap, a replayed update or a restarted gateway names the same job (and the same hold).
    pub fn derive(chat_id: i64, message_id: i32, operation: &Operation) -> Self {
        let name = format!("{chat_id}/{message_id}/{}", operation.key());
        JobId(
            uuid::Uuid::new_v5(&JOB_ID_NAMESPACE, name.as_bytes())
                .hyphenated()
                .to_string(),
        )
    }

    /// A new random id (UUIDv4), for jobs that are not tied to a Telegram message (tools, benchmarks).
    pub fn random() -> Self {
        JobId(uuid::Uuid::new_v4().hyphenated().to_string())
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for JobId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn price(operation: &str, params: &[(&str, &str)], amount: i64, unit: PriceUnit) -> Price {
        Price {
            operation: operation.into(),
            amount_minor: amount,
            currency: "RUB".into(),
            params: params
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect::<HashMap<_, _>>(),
            unit: unit as i32,
        }
    }

    #[test]
    fn ids_keys_and_services() {
        let x4 = Operation::upscale(4);
        assert_eq!(x4.id(), Some("image.upscale"));
        assert_eq!(x4.key(), "image.upscale factor=4");
        assert_eq!(x4.service(), Some(Service::Imaging));
        assert_eq!(
            Service::Imaging.requested_subject(),
            "jobs.imaging.requested"
        );
        let t = Operation::transcribe("");
        assert_eq!(t.key(), "speech.transcribe language=auto");
        assert_eq!(t.service().map(Service::stream), Some("JOBS_SPEECH"));
        assert_eq!(Operation::default().id(), None);
        assert_eq!(
            Operation::default().validate(),
            Err(InvalidOperation::Missing)
        );
        let remote = Operation::upscale_remote(2);
        assert_eq!(remote.key(), "image.upscale_remote factor=2");
        assert_eq!(remote.service(), Some(Service::Generation));
        assert_eq!(remote.callback_data(), "op:image.upscale_remote:factor=2");
        assert_eq!(
            Operation::from_callback_data("op:image.upscale_remote:factor=4"),
            Some(Operation::upscale_remote(4))
        );
        assert_eq!(Operation::from_key("image.upscale_remote factor=3"), None);
    }

    #[test]
    fn validation() {
        assert!(Operation::upscale(2).validate().is_ok());
        assert!(Operation::upscale(4).validate().is_ok());
        assert!(Operation::upscale(3).validate().is_err());
        assert!(Operation::compress(2000).validate().is_ok());
        assert!(Operation::compress(1500).validate().is_err());
        assert_eq!(
            Operation::compress(8000).key(),
            "image.compress target_kb=8000"
        );
        assert_eq!(Operation::compress(1000).service(), Some(Service::Imaging));
        assert!(Operation::transcribe("ru").validate().is_ok());
        assert!(Operation::transcribe("auto").validate().is_ok());
        // The HTTP API's whisper options: checked, and not part of the key (the price does not change).
        let with = |prompt: &str, temperature: f32| {
            Operation::from(Params::Transcribe(Transcribe {
                language: "en".into(),
                prompt: prompt.into(),
                temperature,
                max_audio_ms: 60_000,
                ..Default::default()
            }))
        };
        assert!(with("Kennedy", 0.4).validate().is_ok());
        assert_eq!(
            with("Kennedy", 0.4).key(),
            Operation::transcribe("en").key()
        );
        assert!(with("", 1.5).validate().is_err());
        assert!(with("", f32::NAN).validate().is_err());
        assert!(
            with(&"x".repeat(MAX_PROMPT_BYTES + 1), 0.0)
                .validate()
                .is_err()
        );
        assert!(with("a\0b", 0.0).validate().is_err());
        assert!(Operation::transcribe("russian").validate().is_err());
        for target in CONVERT_TARGETS {
            assert!(Operation::convert(target).validate().is_ok(), "{target:?}");
        }
        assert!(
            Operation::convert(ConvertTarget::Unspecified)
                .validate()
                .is_err()
        );
        let unknown = Operation::from(Params::Convert(Convert { target: 99 }));
        assert!(unknown.validate().is_err());
        assert_eq!(unknown.key(), "image.convert target=99");
        assert_eq!(
            Operation::convert(ConvertTarget::WebpLossy).key(),
            "image.convert target=webp_lossy"
        );
        assert_eq!(
            Operation::convert(ConvertTarget::Png).service(),
            Some(Service::Imaging)
        );
    }

    #[test]
    fn callback_data_round_trips_and_fits_telegram() {
        for op in [
            Operation::upscale(2),
            Operation::upscale(4),
            Operation::transcribe("ru"),
            Operation::translate_to_english("ru"),
            Operation::translate_to_english("auto"),
            Operation::compress(1000),
            Operation::compress(8000),
            Operation::convert(ConvertTarget::Jpeg),
            Operation::convert(ConvertTarget::Png),
            Operation::convert(ConvertTarget::WebpLossless),
            Operation::convert(ConvertTarget::WebpLossy),
            Operation::document_text("ru"),
            Operation::document_text("auto"),
            Operation::ocr("en"),
        ] {
            let data = op.callback_data();
            assert!(data.len() <= 64, "{data}");
            assert_eq!(Operation::from_callback_data(&data), Some(op));
        }
        assert_eq!(
            Operation::upscale(4).callback_data(),
            "op:image.upscale:factor=4"
        );
        assert_eq!(
            Operation::from_callback_data("op:image.upscale:factor=3"),
            None
        );
        assert_eq!(Operation::from_callback_data("upscale_2x"), None);
        assert_eq!(Operation::from_callback_data("op:image.nope:"), None);
        for op in [
            Operation::upscale(4),
            Operation::transcribe("ru"),
            Operation::translate_to_english("uk"),
        ] {
            assert_eq!(Operation::from_key(&op.key()), Some(op));
        }
        assert_eq!(
            Operation::translate_to_english("ru").key(),
            "speech.transcribe language=ru translate=true"
        );
        assert_eq!(
            Operation::from_callback_data("op:speech.transcribe:language=ru,translate=maybe"),
            None
        );
        assert_eq!(Operation::from_key("image.upscale_2x"), None);
        assert_eq!(
            Operation::convert(ConvertTarget::WebpLossless).callback_data(),
            "op:image.convert:target=webp_lossless"
        );
        assert_eq!(
            Operation::from_key("image.convert target=png"),
            Some(Operation::convert(ConvertTarget::Png))
        );
        assert_eq!(
            Operation::from_callback_data("op:image.convert:target=gif"),
            None
        );
        assert_eq!(
            Operation::from_callback_data("op:image.convert:target=unspecified"),
            None
        );
    }

    #[test]
    fn generation_keys_carry_digests_and_options_and_take_no_input() {
        let op = Operation::generate(Generate::with_prompt("Кот в космосе"));
        assert_eq!(op.validate(), Ok(()));
        assert_eq!(op.service(), Some(Service::Generation));
        assert!(!op.takes_input());
        assert!(Operation::upscale(2).takes_input());
        let digest = text_digest("Кот в космосе");
        assert_eq!(
            op.key(),
            format!("image.generate prompt={digest} model=auto size=square")
        );
        // The key names the options; the prompt comes back empty, its options intact.
        let back = Operation::from_key(&op.key()).unwrap();
        assert_eq!(back.key().replace(&text_digest(""), &digest), op.key());
        let exact = Generate {
            model: "seedream".into(),
            width_px: 1920,
            height_px: 1080,
            negative_prompt: "text, watermark".into(),
            ..Generate::with_prompt("a lighthouse")
        };
        let key = Operation::generate(exact.clone()).key();
        assert!(
            key.contains(" model=seedream size=1920x1080 negative="),
            "{key}"
        );
        let ratio = Generate {
            aspect_ratio: "16:9".into(),
            ..Generate::with_prompt("a lighthouse")
        };
        assert!(
            Operation::generate(ratio.clone())
                .key()
                .ends_with("size=16:9")
        );
        let back = Operation::from_key(&Operation::generate(ratio).key()).unwrap();
        assert!(matches!(back.params, Some(Params::Generate(ref g)) if g.aspect_ratio == "16:9"));
        let vertical = Generate {
            shape: ImageShape::Vertical as i32,
            ..Generate::with_prompt("x")
        };
        assert!(
            Operation::generate(vertical)
                .key()
                .ends_with("size=vertical")
        );
        // Bad parameters, each named.
        for (bad, param) in [
            (Generate::with_prompt("  "), "prompt"),
            (
                Generate::with_prompt(&"я".repeat(GENERATE_MAX_PROMPT_CHARS + 1)),
                "prompt",
            ),
            (
                Generate {
                    model: "Pro!".into(),
                    ..Generate::with_prompt("x")
                },
                "model",
            ),
            (
                Generate {
                    width_px: 32,
                    height_px: 100,
                    ..Generate::with_prompt("x")
                },
                "width_px",
            ),
            (
                Generate {
                    width_px: 1024,
                    ..Generate::with_prompt("x")
                },
                "width_px",
            ),
            (
                Generate {
                    aspect_ratio: "16/9".into(),
                    ..Generate::with_prompt("x")
                },
                "aspect_ratio",
            ),
            (
                Generate {
                    aspect_ratio: "0:1".into(),
                    ..Generate::with_prompt("x")
                },
                "aspect_ratio",
            ),
            (
                Generate {
                    aspect_ratio: "1:1".into(),
                    width_px: 512,
                    height_px: 512,
                    ..Generate::with_prompt("x")
                },
                "aspect_ratio",
            ),
        ] {
            match Operation::generate(bad.clone()).validate() {
                Err(InvalidOperation::Param { param: p, .. }) => assert_eq!(p, param, "{bad:?}"),
                other => panic!("{bad:?}: {other:?}"),
            }
        }
        // The button under a written prompt takes its text from its message.
        let data = op.callback_data();
        assert_eq!(data, "op:image.generate:");
        assert_eq!(Operation::from_callback_data(&data), None);

        let write = Operation::write_prompt("кот-астронавт", "ru");
        assert_eq!(write.validate(), Ok(()));
        assert!(!write.takes_input());
        assert_eq!(write.service(), Some(Service::Generation));
        assert_eq!(
            write.key(),
            format!(
                "prompt.write idea={} language=ru",
                text_digest("кот-астронавт")
            )
        );
        assert!(Operation::write_prompt("", "ru").validate().is_err());
        assert_eq!(
            Operation::from_key(&write.key()),
            Some(Operation::write_prompt("", "ru"))
        );
        assert_eq!(parse_aspect_ratio("21:9"), Some((21, 9)));
        assert_eq!(parse_aspect_ratio("+1:2"), None);
        assert!(is_model_alias("nano-banana_2") && !is_model_alias("") && !is_model_alias("A"));
    }

    #[test]
    fn add_text_keys_carry_options_and_a_text_digest() {
        let mut p = AddText::with_text("Привет 👋");
        let op = Operation::add_text(p.clone());
        assert_eq!(op.validate(), Ok(()));
        assert_eq!(op.service(), Some(Service::Imaging));
        let key = op.key();
        assert!(
            key.starts_with("image.add_text text=")
                && key.ends_with(
                    "size=normal color=auto position=bottom offset=10 plate=none opacity=50 blur=5"
                ),
            "{key}"
        );
        // Spelling a default out is the same job.
        p.offset_pct = Some(10);
        p.position = TextPosition::Bottom as i32;
        assert_eq!(Operation::add_text(p.clone()).key(), key);
        p.text = "Привет".into();
        assert_ne!(Operation::add_text(p.clone()).key(), key);
        let styled = AddText {
            text: "big".into(),
            size: TextSize::Large as i32,
            size_px: 0,
            color_rgb: Some(0xffd700),
            position: TextPosition::Top as i32,
            offset_pct: Some(5),
            plate: TextPlate::Black as i32,
            plate_opacity_pct: Some(30),
            plate_blur_px: Some(0),
        };
        let back = Operation::from_key(&Operation::add_text(styled.clone()).key()).unwrap();
        assert_eq!(
            back,
            Operation::add_text(AddText {
                text: String::new(),
                ..styled
            })
        );
        assert_eq!(
            Operation::from_key("image.add_text size=96px").map(|o| o.id()),
            Some(Some("image.add_text"))
        );
        assert_eq!(Operation::from_key("image.add_text size=2000px"), None);
        // Not a button: the dialogue's.
        assert_eq!(op.callback_data(), "op:image.add_text:");
        assert_eq!(Operation::from_callback_data("op:image.add_text:"), None);
        assert_eq!(opens_dialogue("op:image.add_text:"), Some("image.add_text"));
        assert_eq!(opens_dialogue("op:image.upscale:factor=2"), None);
        for bad in [
            AddText::with_text(" "),
            AddText::with_text(&"я".repeat(201)),
            AddText {
                size_px: 4,
                ..AddText::with_text("a")
            },
            AddText {
                offset_pct: Some(50),
                ..AddText::with_text("a")
            },
            AddText {
                color_rgb: Some(0x1_000_000),
                ..AddText::with_text("a")
            },
            AddText {
                plate_opacity_pct: Some(101),
                ..AddText::with_text("a")
            },
        ] {
            assert!(
                Operation::add_text(bad.clone()).validate().is_err(),
                "{bad:?}"
            );
        }
        assert!(
            Operation::add_text(AddText::with_text(&"я".repeat(200)))
                .validate()
                .is_ok()
        );
    }

    #[test]
    fn prices_match_the_most_specific_entry() {
        let prices = [
            price("image.upscale", &[], 500, PriceUnit::Job),
            price("image.upscale", &[("factor", "4")], 900, PriceUnit::Job),
            price("speech.transcribe", &[], 300, PriceUnit::StartedMinute),
            price(
                "speech.transcribe",
                &[("translate", "true")],
                400,
                PriceUnit::StartedMinute,
            ),
        ];
        let amount = |op: &Operation, ms| price_of(&prices, op, ms).map(|(a, _)| a);
        assert_eq!(amount(&Operation::upscale(2), 0), Some(500));
        assert_eq!(amount(&Operation::upscale(4), 0), Some(900));
        let t = Operation::transcribe("auto");
        assert_eq!(amount(&t, 0), Some(300));
        assert_eq!(amount(&t, 11_000), Some(300));
        assert_eq!(amount(&t, 60_000), Some(300));
        assert_eq!(amount(&t, 60_001), Some(600));
        assert_eq!(
            amount(&Operation::translate_to_english("ru"), 61_000),
            Some(800)
        );
        assert_eq!(amount(&Operation::default(), 0), None);
        assert_eq!(price_of(&prices[..1], &t, 0).map(|(a, _)| a), None);
    }

    #[test]
    fn document_operations() {
        let ocr = Operation::ocr("ru");
        assert_eq!(ocr.id(), Some("image.ocr"));
        assert_eq!(ocr.key(), "image.ocr language=ru");
        assert_eq!(ocr.service(), Some(Service::Documents));
        assert_eq!(
            Service::Documents.requested_subject(),
            "jobs.documents.requested"
        );
        assert_eq!(Service::Documents.stream(), "JOBS_DOCUMENTS");
        assert_eq!(
            Operation::document_text("").key(),
            "document.text language=auto"
        );
        assert!(Operation::ocr("russian").validate().is_err());
        assert!(Operation::document_text("en").validate().is_ok());
        assert_eq!(
            Operation::from_key("image.ocr language=en"),
            Some(Operation::ocr("en"))
        );
        assert_eq!(ocr_languages("ru"), "rus+eng");
        assert_eq!(ocr_languages("en"), "eng+rus");
        assert_eq!(ocr_languages("auto"), "eng+rus");
    }

    #[test]
    fn job_ids() {
        let a = JobId::derive(1001, 7, &Operation::upscale(2));
        assert_eq!(a, JobId::derive(1001, 7, &Operation::upscale(2)));
        assert_ne!(a, JobId::derive(1001, 7, &Operation::upscale(4)));
        assert_ne!(a, JobId::derive(1001, 8, &Operation::upscale(2)));
        assert_ne!(a, JobId::derive(1002, 7, &Operation::upscale(2)));
        assert_eq!(JobId::parse(a.as_str()), Ok(a.clone()));
        assert_eq!(
            JobId::parse("6F9619FF-8B86-D011-B42D-00C04FC964FF").map(|j| j.to_string()),
            Ok("6f9619ff-8b86-d011-b42d-00c04fc964ff".to_string())
        );
        assert!(JobId::parse("nope").is_err());
    }

    #[test]
    fn edits_retouches_and_face_swaps_open_dialogues_and_carry_digests() {
        let edit = Operation::edit(Edit {
            instruction: "Сделай ночь".into(),
            model: "pro".into(),
            format: "jpeg".into(),
        });
        assert_eq!(edit.id(), Some(EDIT_ID));
        assert_eq!(edit.service(), Some(Service::Generation));
        assert!(edit.takes_input() && edit.takes_parts());
        assert_eq!(
            edit.key(),
            format!(
                "image.edit instruction={} model=pro format=jpeg",
                text_digest("Сделай ночь")
            )
        );
        assert_eq!(edit.validate(), Ok(()));
        // Defaults spelled out or left empty name the same job.
        let plain = Operation::edit(Edit {
            instruction: "x".into(),
            ..Edit::default()
        });
        assert!(
            plain.key().ends_with("model=auto format=png"),
            "{}",
            plain.key()
        );
        let back = Operation::from_key(&edit.key()).unwrap();
        assert!(
            matches!(back.params, Some(Params::Edit(ref e)) if e.model == "pro" && e.format == "jpeg")
        );
        // Their buttons open dialogues and name no complete operation.
        for op in [
            &edit,
            &Operation::retouch(RetouchPreset::Enhance, ""),
            &Operation::face_swap(),
        ] {
            let data = op.callback_data();
            assert_eq!(opens_dialogue(&data), op.id(), "{data}");
            assert_eq!(Operation::from_callback_data(&data), None);
        }
        let retouch = Operation::retouch(RetouchPreset::Enhance, "");
        assert_eq!(retouch.key(), "image.retouch preset=enhance");
        assert!(!retouch.takes_parts() && retouch.takes_input());
        let wishes = Operation::retouch(RetouchPreset::Soft, "убери блики");
        assert_eq!(
            wishes.key(),
            format!(
                "image.retouch preset=soft wishes={}",
                text_digest("убери блики")
            )
        );
        assert_eq!(
            Operation::from_key("image.retouch preset=enhance"),
            Some(retouch)
        );
        assert_eq!(Operation::face_swap().key(), "image.face_swap");
        assert_eq!(
            Operation::from_key("image.face_swap"),
            Some(Operation::face_swap())
        );
        assert!(Operation::face_swap().takes_parts());
        // Bad parameters, each named.
        let param_of = |op: Operation| match op.validate() {
            Err(InvalidOperation::Param { param, .. }) => param,
            other => panic!("{other:?}"),
        };
        assert_eq!(param_of(Operation::edit(Edit::default())), "instruction");
        assert_eq!(
            param_of(Operation::edit(Edit {
                instruction: "x".into(),
                format: "gif".into(),
                ..Edit::default()
            })),
            "format"
        );
        assert_eq!(
            param_of(Operation::edit(Edit {
                instruction: "x".into(),
                model: "Pro Max".into(),
                ..Edit::default()
            })),
            "model"
        );
        assert_eq!(
            param_of(Operation::retouch(
                RetouchPreset::Soft,
                &"я".repeat(RETOUCH_MAX_INSTRUCTION_CHARS + 1)
            )),
            "instruction"
        );
        assert_eq!(Operation::from_key("image.edit model=pro format=gif"), None);
        assert_eq!(Operation::from_key("image.retouch preset=hard"), None);
    }
    #[test]
    fn an_album_job_is_its_operation_on_each_picture_at_the_sum_of_their_prices() {
        let album = Operation::upscale(2).times(4);
        assert_eq!(album.key(), "image.upscale factor=2 count=4");
        assert_eq!(album.callback_data(), "op:image.upscale:factor=2,count=4");
        assert_eq!(
            Operation::from_callback_data(&album.callback_data()),
            Some(album.clone())
        );
        assert_eq!(Operation::from_key(&album.key()), Some(album.clone()));
        assert!(album.takes_parts() && album.validate().is_ok());
        // One picture's key, job ids and buttons are as they were.
        assert_eq!(
            Operation::upscale(2).times(1).key(),
            "image.upscale factor=2"
        );
        assert!(Operation::upscale(2).times(11).validate().is_err());
        assert!(
            Operation::transcribe("ru").times(2).validate().is_err(),
            "only imaging's one-picture operations"
        );
        let prices = [Price {
            operation: "image.upscale".into(),
            amount_minor: 500,
            currency: "RUB".into(),
            params: [("factor".to_string(), "2".to_string())].into(),
            unit: PriceUnit::Job as i32,
        }];
        assert_eq!(price_of(&prices, &album, 0).map(|p| p.0), Some(2000));
        assert_eq!(
            price_of(&prices, &Operation::upscale(2), 0).map(|p| p.0),
            Some(500)
        );
    }
}
