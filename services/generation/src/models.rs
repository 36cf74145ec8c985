//! The model list: which Fal endpoint each alias the user and the price list name ("pro", "flash", ...)
//! stands for, how it takes a picture's size, and the default chain of an `image.generate` job without a
//! model; the edit models of `image.edit` ([`EditModels`], their own aliases and default); the retouch
//! model and its presets' prompts ([`RetouchModel`]); the face-swap model ([`FaceSwapModel`]). The shipped
//! list is `models.toml` (compiled in); `--models-file` replaces it. The file's format is described at its
//! top and in the crate README.
//!
//! Each kind of entry builds its Fal request bodies: [`Model::input`] from the job's [`Generate`]
//! parameters (the prompt, the size in the model's own terms — an aspect ratio or pixels —, the negative
//! prompt where the model takes one), [`EditModel::input`], [`RetouchModel::input`] and
//! [`FaceSwapModel::input`] from the instruction and the pictures; all start from the entry's verbatim
//! `params`.

use std::collections::BTreeMap;
use std::path::Path;

use mediabot_proto::catalog::{RETOUCH_PRESETS, is_model_alias, parse_aspect_ratio};
use mediabot_proto::jobs::v1::{Generate, RetouchPreset};
use serde::Deserialize;
use serde_json::{Map, Value, json};

/// The shipped model list (`services/generation/models.toml`).
pub const SHIPPED_MODELS: &str = include_str!("../models.toml");

/// The long side of a picture asked for by aspect ratio from an `image_size` model, pixels.
pub const RATIO_LONG_SIDE_PX: u32 = 2048;
/// `image_size` sides are multiples of this (what diffusion models work in).
pub const SIDE_MULTIPLE_PX: u32 = 16;
/// The shortest side sent, pixels (Fal's and the catalog's lower bound).
pub const MIN_SIDE_PX: u32 = 64;

/// Request fields the service sets itself; an entry's `params` may not set them.
const RESERVED_PARAMS: [&str; 5] = [
    "prompt",
    "negative_prompt",
    "aspect_ratio",
    "resolution",
    "image_size",
];

/// Request fields the service sets itself for an edit.
const RESERVED_EDIT_PARAMS: [&str; 5] = [
    "prompt",
    "image_urls",
    "output_format",
    "resolution",
    "image_size",
];
/// Request fields the service sets itself for a retouch.
const RESERVED_RETOUCH_PARAMS: [&str; 3] = ["prompt", "image_urls", "output_format"];
/// Request fields the service sets itself for a face swap.
const RESERVED_FACE_SWAP_PARAMS: [&str; 2] = ["base_image_url", "swap_image_url"];
/// The sides an edit model's `image_size` may have, pixels (Fal's bounds).
const IMAGE_SIZE_SIDES: std::ops::RangeInclusive<u32> = 64..=4096;

/// How a model takes the picture's size.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SizeStyle {
    /// `aspect_ratio: "w:h"` (and an optional fixed `resolution`): Nano Banana.
    AspectRatio,
    /// `image_size: {width, height}` in pixels: Seedream, FLUX.
    ImageSize,
}

/// One model of the list.
#[derive(Debug, Clone, PartialEq)]
pub struct Model {
    /// What the price list and the user call it (`pro`).
    pub alias: String,
    /// What the user is shown (`Nano Banana Pro`).
    pub name: String,
    /// Fal's endpoint id, subpath included (`fal-ai/nano-banana-pro`).
    pub fal_model: String,
    /// How the size is sent.
    pub size_style: SizeStyle,
    /// `resolution` sent with the aspect ratio (`2K`), if any.
    pub resolution: Option<String>,
    /// The ratios the model takes, as (w, h); empty: any.
    pub aspect_ratios: Vec<(u32, u32)>,
    /// Whether prompts with non-Latin letters are translated to English first.
    pub translate_prompt: bool,
    /// Whether the negative prompt is sent.
    pub negative_prompt: bool,
    /// Sent verbatim with every request.
    pub params: Map<String, Value>,
}

/// Why a model list was refused.
#[derive(Debug, thiserror::Error)]
pub enum ModelsError {
    /// The file could not be read.
    #[error("reading the model list {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// Not TOML of the expected shape (the message names the line and the field).
    #[error("model list: {0}")]
    Toml(#[from] toml::de::Error),
    /// One entry is wrong.
    #[error("model list, model {alias:?}: {reason}")]
    Entry {
        /// The entry's alias.
        alias: String,
        /// What is wrong with it.
        reason: String,
    },
    /// `default_chain` is empty or names a model the list lacks.
    #[error("model list, default_chain: {0}")]
    Chain(String),
    /// One edit model is wrong.
    #[error("model list, edit model {alias:?}: {reason}")]
    Edit {
        /// The entry's alias.
        alias: String,
        /// What is wrong with it.
        reason: String,
    },
    /// `[edit]`'s `default` is not a listed edit model, or there is none.
    #[error("model list, edit: {0}")]
    EditDefault(String),
    /// `[retouch]` is wrong.
    #[error("model list, retouch: {0}")]
    Retouch(String),
    /// `[face_swap]` is wrong.
    #[error("model list, face_swap: {0}")]
    FaceSwap(String),
    /// `[upscale]` is wrong.
    #[error("model list, upscale: {0}")]
    Upscale(String),
}

/// A job named a model the list does not have: the gateway and billing offer aliases this service does
/// not know, a configuration mismatch.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown model alias {0:?}: the price list offers a model generation's model list lacks")]
pub struct UnknownModel(pub String);

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawList {
    default_chain: Vec<String>,
    models: BTreeMap<String, RawModel>,
    edit: RawEdit,
    retouch: RawRetouch,
    face_swap: RawFaceSwap,
    #[serde(default)]
    upscale: Option<RawUpscale>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawUpscale {
    fal_model: String,
    #[serde(default)]
    params: toml::Table,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEdit {
    default: String,
    models: BTreeMap<String, RawEditModel>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEditModel {
    name: String,
    fal_model: String,
    #[serde(default)]
    resolution: Option<String>,
    #[serde(default)]
    image_size: Option<RawSize>,
    #[serde(default)]
    translate_prompt: bool,
    #[serde(default)]
    params: toml::Table,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSize {
    width: u32,
    height: u32,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRetouch {
    fal_model: String,
    presets: RawPresets,
    #[serde(default)]
    params: toml::Table,
}

/// One prompt per [`RetouchPreset`] (named as the catalog names them).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPresets {
    soft: String,
    enhance: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFaceSwap {
    fal_model: String,
    #[serde(default)]
    params: toml::Table,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawModel {
    name: String,
    fal_model: String,
    size_style: SizeStyle,
    #[serde(default)]
    resolution: Option<String>,
    #[serde(default)]
    aspect_ratios: Vec<String>,
    #[serde(default)]
    translate_prompt: bool,
    #[serde(default)]
    negative_prompt: bool,
    #[serde(default)]
    params: toml::Table,
}

/// The models by alias and the default chain, the edit models, the retouch and face-swap models.
/// Validated on construction.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelList {
    models: BTreeMap<String, Model>,
    default_chain: Vec<String>,
    edit: EditModels,
    retouch: RetouchModel,
    face_swap: FaceSwapModel,
    upscale: Option<UpscaleModel>,
}

/// One `image.edit` model.
#[derive(Debug, Clone, PartialEq)]
pub struct EditModel {
    /// What the price list and the user call it (`pro`).
    pub alias: String,
    /// What the user is shown (`Nano Banana Pro`).
    pub name: String,
    /// Fal's endpoint id (`fal-ai/nano-banana-pro/edit`).
    pub fal_model: String,
    /// `resolution` sent with every request (`2K`), if any.
    pub resolution: Option<String>,
    /// `image_size` sent with every request, as (width, height), if any.
    pub image_size: Option<(u32, u32)>,
    /// Whether instructions with non-Latin letters are translated to English first.
    pub translate_prompt: bool,
    /// Sent verbatim with every request.
    pub params: Map<String, Value>,
}

/// The edit models by alias, and the default one.
#[derive(Debug, Clone, PartialEq)]
pub struct EditModels {
    models: BTreeMap<String, EditModel>,
    default: String,
}

/// The model of `image.retouch` and the prompt of each preset.
#[derive(Debug, Clone, PartialEq)]
pub struct RetouchModel {
    /// Fal's endpoint id (`fal-ai/nano-banana/edit`).
    pub fal_model: String,
    /// The prompt of [`RetouchPreset::Soft`] (and UNSPECIFIED).
    pub soft: String,
    /// The prompt of [`RetouchPreset::Enhance`].
    pub enhance: String,
    /// Sent verbatim with every request.
    pub params: Map<String, Value>,
}

/// The model of `image.upscale_remote`.
#[derive(Debug, Clone, PartialEq)]
pub struct UpscaleModel {
    /// Fal's endpoint id (`fal-ai/clarity-upscaler`).
    pub fal_model: String,
    /// Sent verbatim with every request.
    pub params: Map<String, Value>,
}

/// The model of `image.face_swap`.
#[derive(Debug, Clone, PartialEq)]
pub struct FaceSwapModel {
    /// Fal's endpoint id (`fal-ai/face-swap`).
    pub fal_model: String,
    /// Sent verbatim with every request.
    pub params: Map<String, Value>,
}

impl ModelList {
    /// The shipped list.
    pub fn shipped() -> Result<Self, ModelsError> {
        Self::parse(SHIPPED_MODELS)
    }

    /// The list in the file at `path`.
    pub fn load(path: &Path) -> Result<Self, ModelsError> {
        let text = std::fs::read_to_string(path).map_err(|source| ModelsError::Read {
            path: path.display().to_string(),
            source,
        })?;
        Self::parse(&text)
    }

    /// Parses and checks a list: every alias well-formed, every entry complete and consistent, the
    /// default chain non-empty and made of listed models, the default edit model listed.
    pub fn parse(text: &str) -> Result<Self, ModelsError> {
        let raw: RawList = toml::from_str(text)?;
        let mut models = BTreeMap::new();
        for (alias, entry) in raw.models {
            let model = Model::from_raw(&alias, entry).map_err(|reason| ModelsError::Entry {
                alias: alias.clone(),
                reason,
            })?;
            models.insert(alias, model);
        }
        if raw.default_chain.is_empty() {
            return Err(ModelsError::Chain("empty".into()));
        }
        for (i, alias) in raw.default_chain.iter().enumerate() {
            if !models.contains_key(alias) {
                return Err(ModelsError::Chain(format!(
                    "{alias:?} is not a listed model"
                )));
            }
            if raw.default_chain[..i].contains(alias) {
                return Err(ModelsError::Chain(format!("{alias:?} is named twice")));
            }
        }
        Ok(Self {
            models,
            default_chain: raw.default_chain,
            edit: EditModels::from_raw(raw.edit)?,
            retouch: RetouchModel::from_raw(raw.retouch).map_err(ModelsError::Retouch)?,
            face_swap: FaceSwapModel::from_raw(raw.face_swap).map_err(ModelsError::FaceSwap)?,
            upscale: raw
                .upscale
                .map(UpscaleModel::from_raw)
                .transpose()
                .map_err(ModelsError::Upscale)?,
        })
    }

    /// The edit models.
    pub fn edit(&self) -> &EditModels {
        &self.edit
    }

    /// The retouch model.
    pub fn retouch(&self) -> &RetouchModel {
        &self.retouch
    }

    /// The face-swap model.
    pub fn face_swap(&self) -> &FaceSwapModel {
        &self.face_swap
    }

    /// The upscale model, if the list has one (`[upscale]` is optional).
    pub fn upscale(&self) -> Option<&UpscaleModel> {
        self.upscale.as_ref()
    }

    /// The model called `alias`.
    pub fn get(&self, alias: &str) -> Option<&Model> {
        self.models.get(alias)
    }

    /// Every alias, sorted.
    pub fn aliases(&self) -> impl Iterator<Item = &str> {
        self.models.keys().map(String::as_str)
    }

    /// The default chain's aliases, in order.
    pub fn default_chain(&self) -> &[String] {
        &self.default_chain
    }

    /// The models a job runs: the default chain for an empty `alias`, else that model alone.
    pub fn chain_for(&self, alias: &str) -> Result<Vec<&Model>, UnknownModel> {
        if alias.is_empty() {
            Ok(self
                .default_chain
                .iter()
                .filter_map(|alias| self.models.get(alias))
                .collect())
        } else {
            self.models
                .get(alias)
                .map(|model| vec![model])
                .ok_or_else(|| UnknownModel(alias.to_string()))
        }
    }
}

impl Model {
    fn from_raw(alias: &str, raw: RawModel) -> Result<Self, String> {
        if !is_model_alias(alias) {
            return Err("an alias is 1 to 32 of [a-z0-9_-]".into());
        }
        if raw.name.trim().is_empty() {
            return Err("name is empty".into());
        }
        check_fal_model(&raw.fal_model)?;
        if raw.size_style != SizeStyle::AspectRatio
            && (raw.resolution.is_some() || !raw.aspect_ratios.is_empty())
        {
            return Err(
                "resolution and aspect_ratios apply to size_style = \"aspect_ratio\" only".into(),
            );
        }
        if raw
            .resolution
            .as_deref()
            .is_some_and(|r| r.trim().is_empty())
        {
            return Err("resolution is empty".into());
        }
        let aspect_ratios = raw
            .aspect_ratios
            .iter()
            .map(|ratio| {
                parse_aspect_ratio(ratio).ok_or_else(|| {
                    format!("aspect_ratios: {ratio:?} is not w:h with sides 1 to 64")
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let params = check_params(&raw.params, &RESERVED_PARAMS)?;
        Ok(Self {
            alias: alias.to_string(),
            name: raw.name,
            fal_model: raw.fal_model,
            size_style: raw.size_style,
            resolution: raw.resolution,
            aspect_ratios,
            translate_prompt: raw.translate_prompt,
            negative_prompt: raw.negative_prompt,
            params,
        })
    }

    /// The Fal request body for `job` with `prompt` (the user's, or its translation): the entry's
    /// `params`, then the prompt, the size in this model's terms and, where the model takes one, the
    /// negative prompt.
    pub fn input(&self, job: &Generate, prompt: &str) -> Value {
        let mut body = self.params.clone();
        let negative = job.negative_prompt.trim();
        if self.negative_prompt || negative.is_empty() {
            body.insert("prompt".into(), json!(prompt));
        } else {
            // A model without a negative-prompt input is told in words, rather than the wish being dropped.
            body.insert(
                "prompt".into(),
                json!(format!("{prompt}\n\nAvoid: {negative}")),
            );
        }
        match self.size_style {
            SizeStyle::AspectRatio => {
                let (w, h) = self.nearest_ratio(requested_ratio(job));
                body.insert("aspect_ratio".into(), json!(format!("{w}:{h}")));
                if let Some(resolution) = &self.resolution {
                    body.insert("resolution".into(), json!(resolution));
                }
            }
            SizeStyle::ImageSize => {
                let (width, height) = requested_pixels(job);
                body.insert(
                    "image_size".into(),
                    json!({ "width": width, "height": height }),
                );
            }
        }
        if self.negative_prompt && !job.negative_prompt.trim().is_empty() {
            body.insert("negative_prompt".into(), json!(job.negative_prompt));
        }
        Value::Object(body)
    }

    /// `ratio` itself when the model takes any ratio or lists it; else the listed ratio closest to it
    /// (by the difference of their logarithms, so 2:1 is as far from 1:1 as 1:2).
    fn nearest_ratio(&self, ratio: (u32, u32)) -> (u32, u32) {
        let log = |(w, h): (u32, u32)| (f64::from(w) / f64::from(h.max(1))).ln();
        let wanted = log(ratio);
        if self.aspect_ratios.is_empty()
            || self
                .aspect_ratios
                .iter()
                .any(|&r| (log(r) - wanted).abs() < 1e-9)
        {
            return ratio;
        }
        self.aspect_ratios
            .iter()
            .copied()
            .min_by(|&a, &b| (log(a) - wanted).abs().total_cmp(&(log(b) - wanted).abs()))
            .unwrap_or(ratio)
    }
}

impl EditModels {
    fn from_raw(raw: RawEdit) -> Result<Self, ModelsError> {
        let mut models = BTreeMap::new();
        for (alias, entry) in raw.models {
            let model = EditModel::from_raw(&alias, entry).map_err(|reason| ModelsError::Edit {
                alias: alias.clone(),
                reason,
            })?;
            models.insert(alias, model);
        }
        if !models.contains_key(&raw.default) {
            return Err(ModelsError::EditDefault(format!(
                "default {:?} is not a listed edit model",
                raw.default
            )));
        }
        Ok(Self {
            models,
            default: raw.default,
        })
    }

    /// The edit model called `alias`.
    pub fn get(&self, alias: &str) -> Option<&EditModel> {
        self.models.get(alias)
    }

    /// Every alias, sorted.
    pub fn aliases(&self) -> impl Iterator<Item = &str> {
        self.models.keys().map(String::as_str)
    }

    /// The alias of the default edit model.
    pub fn default_alias(&self) -> &str {
        &self.default
    }

    /// The model a job runs: the default for an empty `alias`, else that model.
    pub fn for_job(&self, alias: &str) -> Result<&EditModel, UnknownModel> {
        let alias = if alias.is_empty() {
            &self.default
        } else {
            alias
        };
        self.models
            .get(alias)
            .ok_or_else(|| UnknownModel(alias.to_string()))
    }
}

impl EditModel {
    fn from_raw(alias: &str, raw: RawEditModel) -> Result<Self, String> {
        if !is_model_alias(alias) {
            return Err("an alias is 1 to 32 of [a-z0-9_-]".into());
        }
        if raw.name.trim().is_empty() {
            return Err("name is empty".into());
        }
        check_fal_model(&raw.fal_model)?;
        if raw
            .resolution
            .as_deref()
            .is_some_and(|r| r.trim().is_empty())
        {
            return Err("resolution is empty".into());
        }
        if raw.resolution.is_some() && raw.image_size.is_some() {
            return Err("resolution and image_size exclude each other".into());
        }
        let image_size = match raw.image_size {
            Some(RawSize { width, height })
                if !IMAGE_SIZE_SIDES.contains(&width) || !IMAGE_SIZE_SIDES.contains(&height) =>
            {
                return Err(format!(
                    "image_size {width}x{height}: sides are {} to {} pixels",
                    IMAGE_SIZE_SIDES.start(),
                    IMAGE_SIZE_SIDES.end()
                ));
            }
            Some(RawSize { width, height }) => Some((width, height)),
            None => None,
        };
        Ok(Self {
            alias: alias.to_string(),
            name: raw.name,
            fal_model: raw.fal_model,
            resolution: raw.resolution,
            image_size,
            translate_prompt: raw.translate_prompt,
            params: check_params(&raw.params, &RESERVED_EDIT_PARAMS)?,
        })
    }

    /// The Fal request body: the entry's `params`, then `prompt` (the instruction, or its translation),
    /// `image_urls` (the pictures, in the user's order), `output_format` (`png`, `jpeg`, `webp`) and the
    /// entry's `resolution` or `image_size`.
    pub fn input(&self, prompt: &str, image_urls: &[String], output_format: &str) -> Value {
        let mut body = self.params.clone();
        body.insert("prompt".into(), json!(prompt));
        body.insert("image_urls".into(), json!(image_urls));
        body.insert("output_format".into(), json!(output_format));
        if let Some(resolution) = &self.resolution {
            body.insert("resolution".into(), json!(resolution));
        }
        if let Some((width, height)) = self.image_size {
            body.insert(
                "image_size".into(),
                json!({ "width": width, "height": height }),
            );
        }
        Value::Object(body)
    }
}

impl RetouchModel {
    fn from_raw(raw: RawRetouch) -> Result<Self, String> {
        check_fal_model(&raw.fal_model)?;
        for preset in RETOUCH_PRESETS {
            let prompt = match preset {
                RetouchPreset::Enhance => &raw.presets.enhance,
                _ => &raw.presets.soft,
            };
            if prompt.trim().is_empty() {
                return Err(format!("the prompt of preset {:?} is empty", preset.name()));
            }
        }
        Ok(Self {
            fal_model: raw.fal_model,
            soft: raw.presets.soft,
            enhance: raw.presets.enhance,
            params: check_params(&raw.params, &RESERVED_RETOUCH_PARAMS)?,
        })
    }

    /// The prompt of `preset` (UNSPECIFIED is SOFT), with the user's `instruction` added as
    /// "\n\nAlso: <instruction>" when it is not blank.
    pub fn prompt(&self, preset: RetouchPreset, instruction: &str) -> String {
        let base = match preset {
            RetouchPreset::Enhance => &self.enhance,
            RetouchPreset::Soft | RetouchPreset::Unspecified => &self.soft,
        };
        let instruction = instruction.trim();
        if instruction.is_empty() {
            base.clone()
        } else {
            format!("{base}\n\nAlso: {instruction}")
        }
    }

    /// The Fal request body: the entry's `params`, then `prompt`, `image_urls` = [the picture] and
    /// `output_format`.
    pub fn input(&self, prompt: &str, image_url: &str, output_format: &str) -> Value {
        let mut body = self.params.clone();
        body.insert("prompt".into(), json!(prompt));
        body.insert("image_urls".into(), json!([image_url]));
        body.insert("output_format".into(), json!(output_format));
        Value::Object(body)
    }
}

impl FaceSwapModel {
    fn from_raw(raw: RawFaceSwap) -> Result<Self, String> {
        check_fal_model(&raw.fal_model)?;
        Ok(Self {
            fal_model: raw.fal_model,
            params: check_params(&raw.params, &RESERVED_FACE_SWAP_PARAMS)?,
        })
    }

    /// The Fal request body: the entry's `params`, then `base_image_url` (the target photo, whose person
    /// gets the face) and `swap_image_url` (the portrait whose face is used).
    pub fn input(&self, base_image_url: &str, swap_image_url: &str) -> Value {
        let mut body = self.params.clone();
        body.insert("base_image_url".into(), json!(base_image_url));
        body.insert("swap_image_url".into(), json!(swap_image_url));
        Value::Object(body)
    }
}

impl UpscaleModel {
    fn from_raw(raw: RawUpscale) -> Result<Self, String> {
        check_fal_model(&raw.fal_model)?;
        Ok(Self {
            fal_model: raw.fal_model,
            params: check_params(&raw.params, &["image_url", "upscale_factor"])?,
        })
    }

    /// The Fal request body: the entry's `params`, then `image_url` (the picture) and `upscale_factor`.
    pub fn input(&self, image_url: &str, factor: u32) -> Value {
        let mut body = self.params.clone();
        body.insert("image_url".into(), json!(image_url));
        body.insert("upscale_factor".into(), json!(factor));
        Value::Object(body)
    }
}

/// `fal_model` is an endpoint id: at least two `/`-separated segments, none empty, no spaces or `?`.
fn check_fal_model(fal_model: &str) -> Result<(), String> {
    let segments: Vec<&str> = fal_model.split('/').collect();
    if segments.len() < 2
        || segments
            .iter()
            .any(|s| s.is_empty() || s.chars().any(|c| c.is_whitespace() || c == '?'))
    {
        return Err(format!(
            "fal_model {fal_model:?} is not an endpoint id like \"fal-ai/flux/dev\""
        ));
    }
    Ok(())
}

/// An entry's `params` as JSON, when it sets none of the `reserved` fields.
fn check_params(params: &toml::Table, reserved: &[&str]) -> Result<Map<String, Value>, String> {
    if let Some(key) = reserved.iter().find(|k| params.contains_key(**k)) {
        return Err(format!("params may not set {key:?}: the service sets it"));
    }
    match serde_json::to_value(params) {
        Ok(Value::Object(params)) => Ok(params),
        Ok(_) => Err("params is not a table".into()),
        Err(e) => Err(format!("params: {e}")),
    }
}

/// The aspect ratio a job asks for, as (w, h): an exact size reduced by its greatest common divisor
/// (1920×1080 → 16:9), the user's ratio, or the shape's (3:4, 1:1, 4:3).
pub fn requested_ratio(job: &Generate) -> (u32, u32) {
    if job.width_px != 0 && job.height_px != 0 {
        let divisor = gcd(job.width_px, job.height_px).max(1);
        return (job.width_px / divisor, job.height_px / divisor);
    }
    parse_aspect_ratio(&job.aspect_ratio)
        .or_else(|| parse_aspect_ratio(job.shape_kind().aspect_ratio()))
        .unwrap_or((1, 1))
}

/// The size in pixels a job asks for, as (width, height): the exact size, a ratio with a
/// [`RATIO_LONG_SIDE_PX`] long side and the short side rounded to a multiple of [`SIDE_MULTIPLE_PX`]
/// (at least [`MIN_SIDE_PX`]), or the shape's size (1472×2048, 1792×1792, 2048×1472).
pub fn requested_pixels(job: &Generate) -> (u32, u32) {
    if job.width_px != 0 && job.height_px != 0 {
        return (job.width_px, job.height_px);
    }
    match parse_aspect_ratio(&job.aspect_ratio) {
        Some((w, h)) => {
            let short = |small: u32, large: u32| {
                let exact = f64::from(RATIO_LONG_SIDE_PX) * f64::from(small) / f64::from(large);
                let rounded =
                    (exact / f64::from(SIDE_MULTIPLE_PX)).round() as u32 * SIDE_MULTIPLE_PX;
                rounded.max(MIN_SIDE_PX)
            };
            if w >= h {
                (RATIO_LONG_SIDE_PX, short(h, w))
            } else {
                (short(w, h), RATIO_LONG_SIDE_PX)
            }
        }
        None => job.shape_kind().size_px(),
    }
}

fn gcd(a: u32, b: u32) -> u32 {
    if b == 0 { a } else { gcd(b, a % b) }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

    use mediabot_proto::jobs::v1::ImageShape;

    use super::*;

    /// The parts of a list besides `image.generate`'s, minimal, for lists written in tests.
    const OTHER_PARTS: &str = r#"
        [edit]
        default = "e"
        [edit.models.e]
        name = "E"
        fal_model = "fal-ai/e/edit"
        [retouch]
        fal_model = "fal-ai/e/edit"
        presets = { soft = "Soft.", enhance = "Enhance." }
        [face_swap]
        fal_model = "fal-ai/face-swap"
    "#;

    /// A list with one `image.generate` model "m" and `generate_extra` in its entry, then `parts` (the
    /// edit, retouch and face-swap parts).
    fn list_with(generate_extra: &str, parts: &str) -> String {
        format!(
            "default_chain = [\"m\"]\n[models.m]\nname = \"M\"\nfal_model = \"fal-ai/m\"\n{generate_extra}\n{parts}"
        )
    }

    /// The aliases billing prices `operation` with.
    fn priced(operation: &str) -> Vec<String> {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../billing/prices.toml");
        let prices: toml::Table = toml::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        let mut priced: Vec<String> = prices["prices"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|entry| entry["operation"].as_str() == Some(operation))
            .filter_map(|entry| entry.get("params")?.get("model")?.as_str())
            .filter(|alias| *alias != "auto")
            .map(String::from)
            .collect();
        priced.sort();
        priced.dedup();
        priced
    }

    fn job(shape: ImageShape) -> Generate {
        Generate {
            prompt: "a cat".into(),
            shape: shape as i32,
            ..Generate::default()
        }
    }

    #[test]
    fn the_shipped_list_is_valid() {
        let list = ModelList::shipped().unwrap();
        assert_eq!(list.default_chain(), ["pro", "flash", "seedream"]);
        let aliases: Vec<_> = list.aliases().collect();
        assert_eq!(aliases, ["flash", "flux", "pro", "seedream"]);
        assert_eq!(list.get("pro").unwrap().resolution.as_deref(), Some("2K"));
        assert!(list.get("seedream").unwrap().translate_prompt);
        let flux = list.get("flux").unwrap();
        assert_eq!(flux.params["num_inference_steps"], json!(28));
        assert_eq!(flux.params["guidance_scale"], json!(3.5));
    }

    /// Every model billing prices for `image.generate` (but "auto", the chain) is a model of the shipped
    /// list, and every listed model has a price: the gateway offers only priced aliases, and a job for an
    /// alias this list lacks fails as INTERNAL. The same for `image.edit` and the edit models.
    #[test]
    fn the_priced_aliases_are_the_listed_models() {
        let list = ModelList::shipped().unwrap();
        let listed: Vec<String> = list.aliases().map(String::from).collect();
        assert_eq!(priced("image.generate"), listed);
        let edit: Vec<String> = list.edit().aliases().map(String::from).collect();
        assert_eq!(priced("image.edit"), edit);
        assert!(!edit.is_empty());
    }

    #[test]
    fn the_shipped_edit_retouch_and_face_swap_parts() {
        let list = ModelList::shipped().unwrap();
        let edit = list.edit();
        assert_eq!(
            edit.aliases().collect::<Vec<_>>(),
            ["flash", "pro", "seedream"]
        );
        assert_eq!(edit.default_alias(), "flash");
        assert_eq!(
            edit.for_job("").unwrap().fal_model,
            "fal-ai/nano-banana/edit"
        );
        assert_eq!(
            edit.for_job("dalle").unwrap_err(),
            UnknownModel("dalle".into())
        );
        let pro = edit.get("pro").unwrap();
        assert_eq!(
            (pro.fal_model.as_str(), pro.resolution.as_deref()),
            ("fal-ai/nano-banana-pro/edit", Some("2K"))
        );
        let urls = [
            "data:image/jpeg;base64,AA".to_string(),
            "data:image/png;base64,BB".into(),
        ];
        let body = pro.input("make it night", &urls, "jpeg");
        assert_eq!(body["prompt"], json!("make it night"));
        assert_eq!(body["image_urls"], json!(urls));
        assert_eq!(body["output_format"], json!("jpeg"));
        assert_eq!(body["resolution"], json!("2K"));
        assert!(body.get("image_size").is_none());
        let seedream = edit.get("seedream").unwrap();
        assert_eq!(seedream.fal_model, "fal-ai/bytedance/seedream/v4/edit");
        assert!(seedream.translate_prompt);
        let body = seedream.input("x", &urls[..1], "png");
        assert_eq!(body["image_size"], json!({"width": 1024, "height": 1024}));
        assert!(body.get("resolution").is_none());
        let flash = edit.get("flash").unwrap().input("x", &urls, "webp");
        assert!(flash.get("resolution").is_none() && flash.get("image_size").is_none());

        let retouch = list.retouch();
        assert_eq!(retouch.fal_model, "fal-ai/nano-banana/edit");
        let (soft, enhance) = (
            retouch.prompt(RetouchPreset::Soft, ""),
            retouch.prompt(RetouchPreset::Enhance, "  "),
        );
        assert_ne!(soft, enhance);
        assert_eq!(retouch.prompt(RetouchPreset::Unspecified, ""), soft);
        for prompt in [&soft, &enhance] {
            for must in [
                "Do not change the lips.",
                "Do not change the person's age.",
                "Do not add any objects.",
                "Keep the same person",
                "pose, clothes",
                "background",
            ] {
                assert!(prompt.contains(must), "{must:?} is not in {prompt:?}");
            }
            // TOML's line-ending backslashes leave no line breaks or double spaces inside.
            assert!(
                !prompt.contains('\n') && !prompt.contains("  "),
                "{prompt:?}"
            );
        }
        assert!(soft.contains("skin tone") && enhance.contains("eyebrows"));
        assert_eq!(
            retouch.prompt(RetouchPreset::Soft, "убери блики"),
            format!("{soft}\n\nAlso: убери блики")
        );
        let body = retouch.input("p", "data:image/jpeg;base64,AA", "png");
        assert_eq!(body["image_urls"], json!(["data:image/jpeg;base64,AA"]));
        assert_eq!(body["output_format"], json!("png"));

        let swap = list.face_swap();
        assert_eq!(swap.fal_model, "fal-ai/face-swap");
        let body = swap.input("data:target", "data:portrait");
        assert_eq!(
            body,
            json!({"base_image_url": "data:target", "swap_image_url": "data:portrait"})
        );
    }

    #[test]
    fn bad_edit_retouch_and_face_swap_parts_are_named() {
        let refused = |parts: &str| {
            ModelList::parse(&list_with("size_style = \"image_size\"", parts))
                .unwrap_err()
                .to_string()
        };
        assert!(ModelList::parse(&list_with("size_style = \"image_size\"", OTHER_PARTS)).is_ok());
        let error = refused(&OTHER_PARTS.replace("default = \"e\"", "default = \"x\""));
        assert!(error.contains("edit") && error.contains("\"x\""), "{error}");
        let error = refused(&OTHER_PARTS.replace(
            "fal_model = \"fal-ai/e/edit\"\n        [retouch]",
            "fal_model = \"fal-ai/e/edit\"\n        params = { image_urls = [] }\n        [retouch]",
        ));
        assert!(
            error.contains("edit model \"e\"")
                && error.contains("params may not set \"image_urls\""),
            "{error}"
        );
        let error = refused(&OTHER_PARTS.replace(
            "name = \"E\"",
            "name = \"E\"\n        resolution = \"2K\"\n        image_size = { width = 1024, height = 1024 }",
        ));
        assert!(error.contains("exclude each other"), "{error}");
        let error = refused(&OTHER_PARTS.replace(
            "name = \"E\"",
            "name = \"E\"\n        image_size = { width = 8192, height = 1024 }",
        ));
        assert!(
            error.contains("edit model \"e\"") && error.contains("8192"),
            "{error}"
        );
        let error = refused(&OTHER_PARTS.replace("enhance = \"Enhance.\"", "enhance = \" \""));
        assert!(
            error.contains("retouch") && error.contains("enhance"),
            "{error}"
        );
        // A preset the catalog does not have, or one missing, is a TOML error naming the field.
        let error = refused(&OTHER_PARTS.replace("enhance = \"Enhance.\"", "glam = \"Glam.\""));
        assert!(error.contains("glam"), "{error}");
        let error = refused(&OTHER_PARTS.replace(
            "fal_model = \"fal-ai/face-swap\"",
            "fal_model = \"face-swap\"",
        ));
        assert!(
            error.contains("face_swap") && error.contains("fal_model"),
            "{error}"
        );
        // A list without the new parts (an old --models-file) is refused, naming what is missing.
        let error = ModelList::parse(&list_with("size_style = \"image_size\"", ""))
            .unwrap_err()
            .to_string();
        assert!(error.contains("edit"), "{error}");
    }

    #[test]
    fn shapes_as_ratios_and_pixels() {
        let list = ModelList::shipped().unwrap();
        let (pro, seedream) = (list.get("pro").unwrap(), list.get("seedream").unwrap());
        for (shape, ratio, pixels) in [
            (ImageShape::Vertical, "3:4", (1472, 2048)),
            (ImageShape::Square, "1:1", (1792, 1792)),
            (ImageShape::Unspecified, "1:1", (1792, 1792)),
            (ImageShape::Horizontal, "4:3", (2048, 1472)),
        ] {
            let body = pro.input(&job(shape), "a cat");
            assert_eq!(body["aspect_ratio"], json!(ratio), "{shape:?}");
            assert_eq!(body["resolution"], json!("2K"));
            assert_eq!(body["output_format"], json!("png"));
            assert!(body.get("image_size").is_none());
            let body = seedream.input(&job(shape), "a cat");
            assert_eq!(
                body["image_size"],
                json!({"width": pixels.0, "height": pixels.1})
            );
            assert!(body.get("aspect_ratio").is_none());
        }
    }

    #[test]
    fn exact_sizes_and_ratios() {
        let list = ModelList::shipped().unwrap();
        let (pro, flux) = (list.get("pro").unwrap(), list.get("flux").unwrap());
        let exact = Generate {
            width_px: 1920,
            height_px: 1080,
            ..job(ImageShape::Vertical)
        };
        assert_eq!(pro.input(&exact, "x")["aspect_ratio"], json!("16:9"));
        assert_eq!(
            flux.input(&exact, "x")["image_size"],
            json!({"width": 1920, "height": 1080})
        );
        let ratio = |r: &str| Generate {
            aspect_ratio: r.into(),
            ..job(ImageShape::Square)
        };
        assert_eq!(
            flux.input(&ratio("16:9"), "x")["image_size"],
            json!({"width": 2048, "height": 1152})
        );
        assert_eq!(
            flux.input(&ratio("2:3"), "x")["image_size"],
            json!({"width": 1360, "height": 2048})
        );
        assert_eq!(
            flux.input(&ratio("1:64"), "x")["image_size"],
            json!({"width": 64, "height": 2048})
        );
        // Nano Banana takes a fixed list of ratios: the nearest is sent.
        assert_eq!(
            pro.input(&ratio("9:16"), "x")["aspect_ratio"],
            json!("9:16")
        );
        assert_eq!(pro.input(&ratio("2:1"), "x")["aspect_ratio"], json!("16:9"));
        assert_eq!(pro.input(&ratio("7:5"), "x")["aspect_ratio"], json!("4:3"));
        assert_eq!(pro.input(&ratio("1:3"), "x")["aspect_ratio"], json!("9:16"));
        let odd = Generate {
            width_px: 1000,
            height_px: 999,
            ..job(ImageShape::Square)
        };
        assert_eq!(pro.input(&odd, "x")["aspect_ratio"], json!("1:1"));
    }

    #[test]
    fn negative_prompts_only_where_taken() {
        let list = ModelList::parse(&format!(
            r#"
            default_chain = ["a"]
            [models.a]
            name = "A"
            fal_model = "fal-ai/a"
            size_style = "image_size"
            negative_prompt = true
            [models.b]
            name = "B"
            fal_model = "fal-ai/b"
            size_style = "image_size"
            {OTHER_PARTS}"#,
        ))
        .unwrap();
        let with_negative = Generate {
            negative_prompt: "blur".into(),
            ..job(ImageShape::Square)
        };
        let a = list.get("a").unwrap().input(&with_negative, "x");
        assert_eq!(a["negative_prompt"], json!("blur"));
        assert_eq!(a["prompt"], json!("x"));
        let b = list.get("b").unwrap().input(&with_negative, "x");
        assert!(b.get("negative_prompt").is_none());
        // Told in words instead of dropped.
        assert_eq!(b["prompt"], json!("x\n\nAvoid: blur"));
    }

    #[test]
    fn chains() {
        let list = ModelList::shipped().unwrap();
        let chain: Vec<_> = list
            .chain_for("")
            .unwrap()
            .iter()
            .map(|m| m.alias.as_str())
            .collect();
        assert_eq!(chain, ["pro", "flash", "seedream"]);
        assert_eq!(list.chain_for("flux").unwrap().len(), 1);
        assert_eq!(
            list.chain_for("dalle").unwrap_err(),
            UnknownModel("dalle".into())
        );
    }

    #[test]
    fn bad_lists_name_the_entry() {
        let entry = |extra: &str| list_with(extra, OTHER_PARTS);
        let refused = |text: &str| ModelList::parse(text).unwrap_err().to_string();
        assert!(refused(&entry("size_style = \"pixels\"")).contains("pixels"));
        assert!(
            refused(&entry("size_style = \"image_size\"\nresolution = \"2K\""))
                .contains("model \"m\"")
        );
        assert!(
            refused(&entry(
                "size_style = \"image_size\"\nparams = { prompt = \"x\" }"
            ))
            .contains("params may not set \"prompt\"")
        );
        assert!(refused(&entry("size_style = \"image_size\"\ncolour = 1")).contains("colour"));
        assert!(
            refused(&entry(
                "size_style = \"aspect_ratio\"\naspect_ratios = [\"16x9\"]"
            ))
            .contains("16x9")
        );
        let chain = entry("size_style = \"image_size\"").replace("[\"m\"]", "[\"m\", \"x\"]");
        assert!(refused(&chain).contains("default_chain"));
        let alias = entry("size_style = \"image_size\"").replace("models.m", "models.Big");
        assert!(refused(&alias).contains("\"Big\""));
        let fal = entry("size_style = \"image_size\"").replace("fal-ai/m", "flux");
        assert!(refused(&fal).contains("fal_model"));
    }
}
