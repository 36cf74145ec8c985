//! What a Fal submit asks for, read from its JSON body and checked at submit time as Fal's FastAPI apps
//! check theirs: every problem becomes one `{"loc":["body",<field>],"msg","type"}` entry of a 422.
//!
//! The job is chosen from the model id and the body:
//! 1. a model id containing `face-swap` → [`Job::FaceSwap`] (`base_image_url`, `swap_image_url`);
//! 2. a model id containing `upscale`, or a body with `upscale_factor`/`scale` and `image_url` →
//!    [`Job::Upscale`];
//! 3. a body with `image_url` or `image_urls` → [`Job::Edit`] (a prompt is required);
//! 4. otherwise [`Job::TextToImage`] (a prompt is required) — except that a model id with an `edit`
//!    segment (`…/edit`, `…-edit`) without input images is a 422 for `image_urls`.
//!
//! Sizes: `image_size` as `{"width","height"}` or one of Fal's names (`square_hd` 1024×1024, `square`
//! 512×512, `portrait_4_3` 768×1024, `portrait_16_9` 576×1024, `landscape_4_3` 1024×768, `landscape_16_9`
//! 1024×576); or `aspect_ratio` `"w:h"` (or `"auto"`) with `resolution` `1K`/`2K`/`4K` (the long side: 1024,
//! 2048, 4096; default 1K). `image_size` wins when both are given. Sides must be 64..=4096.

use serde_json::{Map, Value};

use crate::{error::FieldError, render::OutputFormat};

/// Smallest output side, in pixels.
pub const MIN_SIDE: u32 = 64;
/// Largest output side of a generated or edited image, in pixels.
pub const MAX_SIDE: u32 = 4096;
/// Most input images of an edit.
pub const MAX_INPUTS: usize = 4;
/// Most images per request (`num_images`).
pub const MAX_IMAGES: u32 = 4;
/// Largest `upscale_factor` / `scale`.
pub const MAX_UPSCALE_FACTOR: f64 = 8.0;

/// Fal's named image sizes.
const NAMED_SIZES: [(&str, (u32, u32)); 6] = [
    ("square_hd", (1024, 1024)),
    ("square", (512, 512)),
    ("portrait_4_3", (768, 1024)),
    ("portrait_16_9", (576, 1024)),
    ("landscape_4_3", (1024, 768)),
    ("landscape_16_9", (1024, 576)),
];

/// The output size a request asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SizeSpec {
    /// Nothing given: 1024×1024 for text→image, the first input's size for an edit.
    Default,
    /// Exactly this, in pixels.
    Exact(u32, u32),
    /// `resolution` without `aspect_ratio` (or with `"auto"`): this long side, the input's aspect (square
    /// for text→image).
    LongSide(u32),
}

impl SizeSpec {
    /// The size for an input of `input` pixels (`None`: text→image).
    pub fn resolve(self, input: Option<(u32, u32)>) -> (u32, u32) {
        match (self, input) {
            (Self::Exact(width, height), _) => (width, height),
            (Self::Default, Some(size)) => size,
            (Self::Default, None) => (1024, 1024),
            (Self::LongSide(long), None) => (long, long),
            (Self::LongSide(long), Some((width, height))) => {
                let (width, height) = (f64::from(width.max(1)), f64::from(height.max(1)));
                let scale = f64::from(long) / width.max(height);
                let side = |v: f64| ((v * scale).round() as u32).clamp(MIN_SIDE, MAX_SIDE);
                (side(width), side(height))
            }
        }
    }
}

/// Options every image job shares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Output {
    /// `num_images`, 1..=4.
    pub num_images: u32,
    /// `output_format`.
    pub format: OutputFormat,
    /// `seed`, when given.
    pub seed: Option<u64>,
}

/// What a request asks the model to do.
#[derive(Debug, Clone, PartialEq)]
pub enum Job {
    /// Draw the prompt.
    TextToImage {
        /// The prompt.
        prompt: String,
        /// The output size.
        size: SizeSpec,
        /// Count, format, seed.
        output: Output,
    },
    /// Edit the first input as the prompt says.
    Edit {
        /// The instruction.
        prompt: String,
        /// `data:` or http(s) URLs, 1..=4.
        inputs: Vec<String>,
        /// The field they came in: `image_urls` or `image_url` (for error locations).
        field: &'static str,
        /// The output size.
        size: SizeSpec,
        /// Count, format, seed.
        output: Output,
    },
    /// Paste the face of `swap` onto `base`.
    FaceSwap {
        /// `base_image_url`.
        base: String,
        /// `swap_image_url`.
        swap: String,
        /// Format and seed (one image).
        output: Output,
    },
    /// Enlarge `input` by `factor`.
    Upscale {
        /// `image_url`.
        input: String,
        /// `upscale_factor` or `scale`, 1..=8 (default 2).
        factor: f64,
        /// Format and seed (one image).
        output: Output,
    },
}

impl Job {
    /// A short name for logs: `text-to-image`, `edit`, `face-swap`, `upscale`.
    pub fn name(&self) -> &'static str {
        match self {
            Self::TextToImage { .. } => "text-to-image",
            Self::Edit { .. } => "edit",
            Self::FaceSwap { .. } => "face-swap",
            Self::Upscale { .. } => "upscale",
        }
    }

    /// The options shared by all jobs.
    pub fn output(&self) -> Output {
        match self {
            Self::TextToImage { output, .. }
            | Self::Edit { output, .. }
            | Self::FaceSwap { output, .. }
            | Self::Upscale { output, .. } => *output,
        }
    }
}

/// Reads a submit body for `model` (the model id as submitted). Errors: every field problem found, for a
/// 422.
pub fn parse(model: &str, body: &Value) -> Result<Job, Vec<FieldError>> {
    let Some(body) = body.as_object() else {
        return Err(vec![FieldError::new(
            None,
            "model_attributes_type",
            "Input should be a valid dictionary or object",
        )]);
    };
    let mut fields = Fields {
        body,
        errors: Vec::new(),
    };
    let job = read_job(model, &mut fields);
    if fields.errors.is_empty()
        && let Some(job) = job
    {
        return Ok(job);
    }
    Err(fields.errors)
}

fn read_job(model: &str, fields: &mut Fields<'_>) -> Option<Job> {
    // Accepted so that real request bodies pass, and type-checked; they change nothing in the picture.
    fields.optional_string("negative_prompt");
    fields.optional_number("guidance_scale", 0.0, 100.0);
    fields.optional_integer("num_inference_steps", 1, 1000);
    let output = fields.output();
    let has = |name: &str| fields.body.get(name).is_some_and(|value| !value.is_null());

    if model.contains("face-swap") {
        let base = fields.url("base_image_url");
        let swap = fields.url("swap_image_url");
        return Some(Job::FaceSwap {
            base: base?,
            swap: swap?,
            output: output?,
        });
    }
    let factor_field = ["upscale_factor", "scale"]
        .into_iter()
        .find(|name| has(name));
    if model.contains("upscale") || (factor_field.is_some() && has("image_url")) {
        let input = fields.url("image_url");
        let factor = match factor_field {
            Some(name) => fields
                .optional_number(name, 1.0, MAX_UPSCALE_FACTOR)
                .map(|factor| factor.unwrap_or(2.0)),
            None => Some(2.0),
        };
        return Some(Job::Upscale {
            input: input?,
            factor: factor?,
            output: output?,
        });
    }
    let size = fields.size();
    if has("image_url") || has("image_urls") {
        let prompt = fields.prompt();
        let field = if has("image_urls") {
            "image_urls"
        } else {
            "image_url"
        };
        let inputs = fields.input_urls();
        return Some(Job::Edit {
            prompt: prompt?,
            inputs: inputs?,
            field,
            size: size?,
            output: output?,
        });
    }
    let prompt = fields.prompt();
    if model
        .split('/')
        .any(|segment| segment == "edit" || segment.ends_with("-edit"))
    {
        fields.errors.push(FieldError::missing("image_urls"));
        return None;
    }
    Some(Job::TextToImage {
        prompt: prompt?,
        size: size?,
        output: output?,
    })
}

/// The body's fields and the errors found so far. Each reader returns `None` after recording an error.
struct Fields<'a> {
    body: &'a Map<String, Value>,
    errors: Vec<FieldError>,
}

impl Fields<'_> {
    fn fail<T>(&mut self, field: &str, kind: &str, msg: impl Into<String>) -> Option<T> {
        self.errors.push(FieldError::new(Some(field), kind, msg));
        None
    }

    fn get(&self, name: &str) -> Option<&Value> {
        self.body.get(name).filter(|value| !value.is_null())
    }

    fn prompt(&mut self) -> Option<String> {
        match self.get("prompt") {
            None => self.fail("prompt", "missing", "field required"),
            Some(Value::String(text)) if text.trim().is_empty() => self.fail(
                "prompt",
                "string_too_short",
                "String should have at least 1 character",
            ),
            Some(Value::String(text)) => Some(text.clone()),
            Some(_) => self.fail("prompt", "string_type", "Input should be a valid string"),
        }
    }

    fn optional_string(&mut self, name: &str) -> Option<Option<String>> {
        match self.get(name) {
            None => Some(None),
            Some(Value::String(text)) => Some(Some(text.clone())),
            Some(_) => self.fail(name, "string_type", "Input should be a valid string"),
        }
    }

    fn optional_number(&mut self, name: &str, min: f64, max: f64) -> Option<Option<f64>> {
        match self.get(name) {
            None => Some(None),
            Some(value) => match value.as_f64() {
                Some(number) if (min..=max).contains(&number) => Some(Some(number)),
                Some(_) => self.fail(
                    name,
                    "value_error",
                    format!("Input should be between {min} and {max}"),
                ),
                None => self.fail(name, "float_type", "Input should be a valid number"),
            },
        }
    }

    fn optional_integer(&mut self, name: &str, min: u64, max: u64) -> Option<Option<u64>> {
        match self.get(name) {
            None => Some(None),
            Some(value) => match value.as_u64() {
                Some(number) if (min..=max).contains(&number) => Some(Some(number)),
                Some(_) => self.fail(
                    name,
                    "value_error",
                    format!("Input should be between {min} and {max}"),
                ),
                None => self.fail(name, "int_type", "Input should be a valid integer"),
            },
        }
    }

    fn output(&mut self) -> Option<Output> {
        let num_images = self.optional_integer("num_images", 1, u64::from(MAX_IMAGES));
        let seed = self.optional_integer("seed", 0, u64::MAX);
        let format = match self.get("output_format") {
            None => Some(OutputFormat::Png),
            Some(Value::String(name)) => match OutputFormat::parse(name) {
                Some(format) => Some(format),
                None => self.fail(
                    "output_format",
                    "enum",
                    "Input should be 'jpeg', 'png' or 'webp'",
                ),
            },
            Some(_) => self.fail(
                "output_format",
                "string_type",
                "Input should be a valid string",
            ),
        };
        Some(Output {
            num_images: num_images?.map_or(1, |n| n as u32),
            format: format?,
            seed: seed?,
        })
    }

    fn url(&mut self, name: &str) -> Option<String> {
        match self.get(name) {
            None => self.fail(name, "missing", "field required"),
            Some(Value::String(url)) if is_fetchable(url) => Some(url.clone()),
            Some(Value::String(_)) => self.fail(
                name,
                "url_parsing",
                "Input should be a valid URL: http(s) or a data URI",
            ),
            Some(_) => self.fail(name, "string_type", "Input should be a valid string"),
        }
    }

    fn input_urls(&mut self) -> Option<Vec<String>> {
        if self.get("image_urls").is_none() {
            return self.url("image_url").map(|url| vec![url]);
        }
        let Some(Value::Array(items)) = self.get("image_urls") else {
            return self.fail("image_urls", "list_type", "Input should be a valid list");
        };
        if items.is_empty() || items.len() > MAX_INPUTS {
            let (kind, msg) = if items.is_empty() {
                ("too_short", "List should have at least 1 item")
            } else {
                ("too_long", "List should have at most 4 items")
            };
            return self.fail("image_urls", kind, msg);
        }
        let urls: Vec<Option<String>> = items
            .iter()
            .map(|item| {
                item.as_str()
                    .filter(|url| is_fetchable(url))
                    .map(str::to_owned)
            })
            .collect();
        if urls.iter().any(Option::is_none) {
            return self.fail(
                "image_urls",
                "url_parsing",
                "Every item should be a valid URL: http(s) or a data URI",
            );
        }
        Some(urls.into_iter().flatten().collect())
    }

    fn size(&mut self) -> Option<SizeSpec> {
        if let Some(value) = self.get("image_size") {
            let size = match value {
                Value::String(name) => NAMED_SIZES
                    .iter()
                    .find(|(known, _)| known == name)
                    .map(|(_, size)| *size),
                Value::Object(fields) => fields
                    .get("width")
                    .and_then(Value::as_u64)
                    .zip(fields.get("height").and_then(Value::as_u64))
                    .map(|(w, h)| (clamp_u32(w), clamp_u32(h))),
                _ => None,
            };
            let Some((width, height)) = size else {
                return self.fail(
                    "image_size",
                    "value_error",
                    "Input should be {\"width\": int, \"height\": int} or one of square_hd, square, \
                     portrait_4_3, portrait_16_9, landscape_4_3, landscape_16_9",
                );
            };
            return self.checked("image_size", width, height);
        }
        let long = match self.get("resolution") {
            None => None,
            Some(Value::String(name)) => match name.to_ascii_uppercase().as_str() {
                "1K" => Some(1024),
                "2K" => Some(2048),
                "4K" => Some(4096),
                _ => return self.fail("resolution", "enum", "Input should be '1K', '2K' or '4K'"),
            },
            Some(_) => {
                return self.fail(
                    "resolution",
                    "string_type",
                    "Input should be a valid string",
                );
            }
        };
        let ratio = match self.get("aspect_ratio") {
            None => None,
            Some(Value::String(ratio)) if ratio == "auto" => None,
            Some(Value::String(ratio)) => match parse_ratio(ratio) {
                Some(ratio) => Some(ratio),
                None => {
                    return self.fail(
                        "aspect_ratio",
                        "value_error",
                        "Input should be \"auto\" or \"<width>:<height>\", e.g. \"16:9\"",
                    );
                }
            },
            Some(_) => {
                return self.fail(
                    "aspect_ratio",
                    "string_type",
                    "Input should be a valid string",
                );
            }
        };
        match (ratio, long) {
            (None, None) => Some(SizeSpec::Default),
            (None, Some(long)) => Some(SizeSpec::LongSide(long)),
            (Some((w, h)), long) => {
                let long = f64::from(long.unwrap_or(1024));
                let scale = long / w.max(h);
                let (width, height) = ((w * scale).round(), (h * scale).round());
                self.checked("aspect_ratio", width as u32, height as u32)
            }
        }
    }

    fn checked(&mut self, field: &str, width: u32, height: u32) -> Option<SizeSpec> {
        let range = MIN_SIDE..=MAX_SIDE;
        if range.contains(&width) && range.contains(&height) {
            return Some(SizeSpec::Exact(width, height));
        }
        self.fail(
            field,
            "value_error",
            format!(
                "Image sides must be between {MIN_SIDE} and {MAX_SIDE} pixels, got {width}x{height}"
            ),
        )
    }
}

fn clamp_u32(value: u64) -> u32 {
    u32::try_from(value).unwrap_or(u32::MAX)
}

fn parse_ratio(text: &str) -> Option<(f64, f64)> {
    let (w, h) = text.split_once(':')?;
    let (w, h): (f64, f64) = (w.trim().parse().ok()?, h.trim().parse().ok()?);
    (w.is_finite() && h.is_finite() && w > 0.0 && h > 0.0).then_some((w, h))
}

/// Whether the sandbox can fetch `url`: a `data:` URI or an http(s) URL.
fn is_fetchable(url: &str) -> bool {
    url.starts_with("data:") || url.starts_with("http://") || url.starts_with("https://")
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn size(body: Value) -> Result<SizeSpec, Vec<FieldError>> {
        match parse("fal-ai/flux/dev", &body)? {
            Job::TextToImage { size, .. } => Ok(size),
            other => panic!("not text-to-image: {other:?}"),
        }
    }

    #[test]
    fn sizes_from_every_form() {
        let p = "a fox";
        assert_eq!(size(json!({"prompt": p})), Ok(SizeSpec::Default));
        assert_eq!(
            size(json!({"prompt": p, "image_size": "landscape_16_9"})),
            Ok(SizeSpec::Exact(1024, 576))
        );
        assert_eq!(
            size(json!({"prompt": p, "image_size": {"width": 640, "height": 480}})),
            Ok(SizeSpec::Exact(640, 480))
        );
        assert_eq!(
            size(json!({"prompt": p, "aspect_ratio": "9:16", "resolution": "2K"})),
            Ok(SizeSpec::Exact(1152, 2048))
        );
        assert_eq!(
            size(json!({"prompt": p, "aspect_ratio": "21:9"})),
            Ok(SizeSpec::Exact(1024, 439))
        );
        assert_eq!(
            size(json!({"prompt": p, "resolution": "4k"})),
            Ok(SizeSpec::LongSide(4096))
        );
        assert_eq!(
            SizeSpec::LongSide(2048).resolve(Some((600, 450))),
            (2048, 1536)
        );
        for bad in [
            json!({"prompt": p, "image_size": {"width": 32, "height": 480}}),
            json!({"prompt": p, "image_size": {"width": 5000, "height": 480}}),
            json!({"prompt": p, "image_size": "huge"}),
            json!({"prompt": p, "aspect_ratio": "100:1"}),
            json!({"prompt": p, "aspect_ratio": "wide"}),
            json!({"prompt": p, "resolution": "8K"}),
        ] {
            assert!(size(bad.clone()).is_err(), "{bad}");
        }
    }

    #[test]
    fn jobs_follow_the_model_and_the_body() {
        let url = "data:image/png;base64,AAAA";
        let job = |model: &str, body: Value| parse(model, &body).map(|job| job.name());
        assert_eq!(
            job("fal-ai/nano-banana-pro", json!({"prompt": "x"})),
            Ok("text-to-image")
        );
        assert_eq!(
            job(
                "fal-ai/nano-banana/edit",
                json!({"prompt": "x", "image_urls": [url]})
            ),
            Ok("edit")
        );
        assert_eq!(
            job(
                "fal-ai/face-swap",
                json!({"base_image_url": url, "swap_image_url": url})
            ),
            Ok("face-swap")
        );
        assert_eq!(
            job("fal-ai/esrgan", json!({"image_url": url, "scale": 4})),
            Ok("upscale")
        );
        assert_eq!(
            job("fal-ai/clarity-upscaler", json!({"image_url": url})),
            Ok("upscale")
        );
        let missing = parse("fal-ai/nano-banana/edit", &json!({"prompt": "x"})).unwrap_err();
        assert_eq!(missing, vec![FieldError::missing("image_urls")]);
    }

    #[test]
    fn prompts_are_required_where_the_model_needs_one() {
        let errors = parse("fal-ai/flux/dev", &json!({"num_images": 9})).unwrap_err();
        assert_eq!(errors.len(), 2);
        assert!(errors.contains(&FieldError::missing("prompt")));
        assert!(parse("fal-ai/flux/dev", &json!({"prompt": "  "})).is_err());
        assert!(parse("fal-ai/flux/dev", &json!([1, 2])).is_err());
        let face_swap =
            parse("fal-ai/face-swap", &json!({"base_image_url": "ftp://x"})).unwrap_err();
        assert_eq!(face_swap.len(), 2);
    }
}
