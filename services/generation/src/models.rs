//! The model list: which Fal endpoint each alias the user and the price list name ("pro", "flash", ...)
//! stands for, how it takes a picture's size, and the default chain of an `image.generate` job without a
//! model. The shipped list is `models.toml` (compiled in); `--models-file` replaces it. The file's format is
//! described at its top and in the crate README.
//!
//! [`Model::input`] builds a Fal request body from the job's [`Generate`] parameters: the prompt, the size
//! in the model's own terms (an aspect ratio or pixels), the negative prompt where the model takes one, and
//! the entry's verbatim `params`.

use std::collections::BTreeMap;
use std::path::Path;

use mediabot_proto::catalog::{is_model_alias, parse_aspect_ratio};
use mediabot_proto::jobs::v1::Generate;
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

/// The models by alias and the default chain. Validated on construction.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelList {
    models: BTreeMap<String, Model>,
    default_chain: Vec<String>,
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
    /// default chain non-empty and made of listed models.
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
        })
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
        let segments: Vec<&str> = raw.fal_model.split('/').collect();
        if segments.len() < 2
            || segments
                .iter()
                .any(|s| s.is_empty() || s.chars().any(|c| c.is_whitespace() || c == '?'))
        {
            return Err(format!(
                "fal_model {:?} is not an endpoint id like \"fal-ai/flux/dev\"",
                raw.fal_model
            ));
        }
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
        if let Some(key) = RESERVED_PARAMS
            .iter()
            .find(|k| raw.params.contains_key(**k))
        {
            return Err(format!("params may not set {key:?}: the service sets it"));
        }
        let params = match serde_json::to_value(&raw.params) {
            Ok(Value::Object(params)) => params,
            Ok(_) => return Err("params is not a table".into()),
            Err(e) => return Err(format!("params: {e}")),
        };
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
    /// alias this list lacks fails as INTERNAL.
    #[test]
    fn the_priced_aliases_are_the_listed_models() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../billing/prices.toml");
        let prices: toml::Table = toml::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        let mut priced: Vec<String> = prices["prices"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|entry| entry["operation"].as_str() == Some("image.generate"))
            .filter_map(|entry| entry.get("params")?.get("model")?.as_str())
            .filter(|alias| *alias != "auto")
            .map(String::from)
            .collect();
        priced.sort();
        priced.dedup();
        let list = ModelList::shipped().unwrap();
        let listed: Vec<String> = list.aliases().map(String::from).collect();
        assert_eq!(priced, listed);
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
        let list = ModelList::parse(
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
            "#,
        )
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
        let entry = |extra: &str| {
            format!(
                "default_chain = [\"m\"]\n[models.m]\nname = \"M\"\nfal_model = \"fal-ai/m\"\n{extra}\n"
            )
        };
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
