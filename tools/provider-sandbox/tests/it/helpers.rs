//! Test helpers: a sandbox on a free port, raw Fal and OpenAI calls (the wire formats under test), polling
//! with a deadline (never a fixed sleep), fixtures and pixel statistics.

use std::time::{Duration, Instant};

use base64::Engine;
use image::{DynamicImage, GenericImageView};
use provider_sandbox::{
    Config, DEFAULT_FAL_KEY, DEFAULT_OPENAI_KEY, Sandbox, client::ProviderSandboxClient, spawn,
};
use reqwest::{StatusCode, header::HeaderMap};
use serde_json::Value;

/// How long any condition may take before a test fails.
pub const DEADLINE: Duration = Duration::from_secs(30);

/// The pause between two polls of a status.
const POLL: Duration = Duration::from_millis(10);

/// A file of the shared real-media fixtures (`../shared/fixtures/` beside the project root).
pub fn fixture(path: &str) -> Vec<u8> {
    let path = format!(
        "{}/../../../shared/fixtures/{path}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&path).unwrap_or_else(|err| panic!("{path}: {err}"))
}

/// `bytes` as a base64 `data:` URI.
pub fn data_uri(bytes: &[u8], mime: &str) -> String {
    format!(
        "data:{mime};base64,{}",
        base64::engine::general_purpose::STANDARD.encode(bytes)
    )
}

/// A fixture as a JPEG `data:` URI.
pub fn jpeg_fixture(path: &str) -> String {
    data_uri(&fixture(path), "image/jpeg")
}

/// The URLs a submit answered with.
#[derive(Debug, Clone)]
pub struct Submitted {
    pub request_id: String,
    pub status_url: String,
    pub response_url: String,
    pub cancel_url: String,
    pub queue_position: u64,
}

/// A result endpoint's answer.
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
}

pub struct TestApp {
    pub sandbox: Sandbox,
    pub http: reqwest::Client,
    pub client: ProviderSandboxClient,
    pub fal_key: String,
}

impl TestApp {
    /// A sandbox with the test timings (20 ms queued, 50 ms of work) and the default keys.
    pub async fn spawn() -> Self {
        Self::spawn_with(Config::for_tests()).await
    }

    pub async fn spawn_with(config: Config) -> Self {
        if std::env::var_os("TEST_LOG").is_some() {
            let _ = tracing_subscriber::fmt()
                .with_env_filter("provider_sandbox=debug")
                .with_test_writer()
                .try_init();
        }
        let fal_key = config.fal_keys[0].clone();
        let sandbox = spawn(config).await.unwrap();
        // The listen address, not `base_url()`: a test may set a public URL that does not resolve.
        let client = ProviderSandboxClient::new(format!("http://{}", sandbox.local_addr()));
        Self {
            sandbox,
            http: reqwest::Client::new(),
            client,
            fal_key,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.client.base_url())
    }

    /// `POST /{model}` with `Authorization: Key <key>`.
    pub async fn submit_as(&self, key: &str, model: &str, body: &Value) -> (StatusCode, Value) {
        let response = self
            .http
            .post(self.url(&format!("/{model}")))
            .header("Authorization", format!("Key {key}"))
            .json(body)
            .send()
            .await
            .unwrap();
        let status = response.status();
        (status, response.json().await.unwrap())
    }

    pub async fn submit(&self, model: &str, body: &Value) -> (StatusCode, Value) {
        self.submit_as(&self.fal_key, model, body).await
    }

    /// A submit that must be accepted.
    pub async fn submit_ok(&self, model: &str, body: &Value) -> Submitted {
        let (status, answer) = self.submit(model, body).await;
        assert_eq!(status, StatusCode::OK, "submit {model}: {answer}");
        let text = |name: &str| answer[name].as_str().unwrap().to_owned();
        Submitted {
            request_id: text("request_id"),
            status_url: text("status_url"),
            response_url: text("response_url"),
            cancel_url: text("cancel_url"),
            queue_position: answer["queue_position"].as_u64().unwrap(),
        }
    }

    /// A GET with the Fal key.
    pub async fn get(&self, url: &str) -> Answer {
        let response = self
            .http
            .get(url)
            .header("Authorization", format!("Key {}", self.fal_key))
            .send()
            .await
            .unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let body = response.json().await.unwrap_or(Value::Null);
        Answer {
            status,
            headers,
            body,
        }
    }

    /// A PUT to a cancel URL with the Fal key.
    pub async fn cancel(&self, url: &str) -> (StatusCode, Value) {
        let response = self
            .http
            .put(url)
            .header("Authorization", format!("Key {}", self.fal_key))
            .send()
            .await
            .unwrap();
        let status = response.status();
        (status, response.json().await.unwrap())
    }

    /// The status, asserted 200.
    pub async fn status(&self, submitted: &Submitted) -> Value {
        let answer = self.get(&submitted.status_url).await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
        answer.body
    }

    /// Polls the status until `COMPLETED`; returns the last status and every status seen on the way.
    pub async fn wait_completed(&self, submitted: &Submitted) -> (Value, Vec<String>) {
        let deadline = Instant::now() + DEADLINE;
        let mut seen: Vec<String> = Vec::new();
        loop {
            let status = self.status(submitted).await;
            let name = status["status"].as_str().unwrap().to_owned();
            if seen.last() != Some(&name) {
                seen.push(name.clone());
            }
            if name == "COMPLETED" {
                return (status, seen);
            }
            assert!(
                Instant::now() < deadline,
                "{} not completed after {DEADLINE:?}: {status}",
                submitted.request_id
            );
            tokio::time::sleep(POLL).await;
        }
    }

    /// Submits, waits and reads the result, which must be 200.
    pub async fn generate(&self, model: &str, body: &Value) -> Value {
        let submitted = self.submit_ok(model, body).await;
        self.wait_completed(&submitted).await;
        let answer = self.get(&submitted.response_url).await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
        answer.body
    }

    /// Submits, waits and reads the result, whatever it is.
    pub async fn outcome(&self, model: &str, body: &Value) -> (Value, Answer) {
        let submitted = self.submit_ok(model, body).await;
        let (status, _) = self.wait_completed(&submitted).await;
        (status, self.get(&submitted.response_url).await)
    }

    /// Downloads an image URL of a result and decodes it; checks its Content-Type.
    pub async fn download(&self, image: &Value) -> DynamicImage {
        let response = self
            .http
            .get(image["url"].as_str().unwrap())
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(
            response.headers()["content-type"].to_str().unwrap(),
            image["content_type"].as_str().unwrap()
        );
        let bytes = response.bytes().await.unwrap();
        assert_eq!(bytes.len() as u64, image["file_size"].as_u64().unwrap());
        image::load_from_memory(&bytes).unwrap()
    }

    /// The first image of a generation, decoded.
    pub async fn generate_image(&self, model: &str, body: &Value) -> DynamicImage {
        let result = self.generate(model, body).await;
        self.download(&result["images"][0]).await
    }

    /// `POST /v1/chat/completions` with `Authorization: Bearer <key>`.
    pub async fn chat_as(&self, key: &str, body: &Value) -> Answer {
        let response = self
            .http
            .post(self.url("/v1/chat/completions"))
            .bearer_auth(key)
            .json(body)
            .send()
            .await
            .unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        Answer {
            status,
            headers,
            body: response.json().await.unwrap(),
        }
    }

    pub async fn chat(&self, body: &Value) -> Answer {
        self.chat_as(DEFAULT_OPENAI_KEY, body).await
    }
}

/// The default Fal key, for tests that build headers by hand.
pub const FAL_KEY: &str = DEFAULT_FAL_KEY;

/// Mean red, green and blue.
pub fn mean_rgb(image: &DynamicImage) -> [f64; 3] {
    let rgb = image.to_rgb8();
    let mut sum = [0.0; 3];
    for pixel in rgb.pixels() {
        for (total, value) in sum.iter_mut().zip(pixel.0) {
            *total += f64::from(value);
        }
    }
    let n = f64::from(rgb.width() * rgb.height());
    sum.map(|s| s / n)
}

/// Mean absolute difference per channel of two images of the same size (0–255).
pub fn mean_abs_diff(a: &DynamicImage, b: &DynamicImage) -> f64 {
    assert_eq!(a.dimensions(), b.dimensions());
    let (a, b) = (a.to_rgb8(), b.to_rgb8());
    let total: f64 = a
        .as_raw()
        .iter()
        .zip(b.as_raw())
        .map(|(x, y)| f64::from(x.abs_diff(*y)))
        .sum();
    total / a.as_raw().len() as f64
}

/// Pixels in the box `(left, top, right, bottom)` that differ from their right-hand neighbour by more than
/// 100 in some channel: lettering leaves many, a smooth gradient none.
pub fn sharp_edges(image: &DynamicImage, area: (u32, u32, u32, u32)) -> usize {
    let rgb = image.to_rgb8();
    let mut edges = 0;
    for y in area.1..area.3 {
        for x in area.0..area.2.saturating_sub(1) {
            let (p, q) = (rgb.get_pixel(x, y).0, rgb.get_pixel(x + 1, y).0);
            if (0..3).any(|c| p[c].abs_diff(q[c]) > 100) {
                edges += 1;
            }
        }
    }
    edges
}
