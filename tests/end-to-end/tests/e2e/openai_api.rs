//! The gateway's OpenAI-compatible HTTP API with the real binaries and the real tiny.en whisper model:
//! curl with every `response_format`, a translation, an asynchronous job, and each refusal in OpenAI's
//! error shape (no key, a bad key, a missing field, a file over the limit, a corrupt file, no money),
//! with billing's balance checked after each: a success captures one started minute, a refusal or a
//! failure leaves the balance as it was. Then the official `openai` Python package (in a venv under
//! ~/.cache, made by tests/end-to-end/python/venv.sh) calls `client.audio.transcriptions.create(...)` with
//! its base URL pointed at the gateway.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use mediabot_proto::billing::v1::{
    EntryKind, GetBalanceRequest, IssueApiKeyRequest, ListOperationsRequest, TopUpRequest,
};
use serde_json::Value;

use crate::harness::{Options, System, fixture, free_port};

/// What one started minute of transcription costs (services/billing/prices.toml).
const PER_MINUTE: i64 = 300;
/// Every new account's welcome credit here: less than a minute, so a fresh account cannot pay.
const WELCOME: i64 = 100;
/// The gateway's file limit in this test (jfk.wav is 352 kB).
const MAX_FILE_BYTES: usize = 2_000_000;

/// A curl answer: status, headers, body, seconds taken.
struct Answer {
    status: u16,
    headers: String,
    body: String,
    seconds: f64,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }

    /// A header's value (names are lower case in HTTP/1.1 as axum writes them).
    fn header(&self, name: &str) -> Option<String> {
        self.headers.lines().find_map(|line| {
            let (n, v) = line.split_once(':')?;
            n.eq_ignore_ascii_case(name).then(|| v.trim().to_string())
        })
    }

    fn error_code(&self) -> String {
        self.json()["error"]["code"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    /// Asserts an OpenAI-shaped error: this HTTP status and `error.code`.
    fn assert_error(&self, status: u16, code: &str) {
        assert_eq!(
            (self.status, self.error_code().as_str()),
            (status, code),
            "{}",
            self.body
        );
    }
}

/// Posts the multipart form OpenAI's clients send: `file` (a curl `-F` value such as `file=@path`),
/// `model=whisper-1` and the other `fields` (`name=value`).
fn form(url: &str, key: Option<&str>, file: &str, fields: &[&str]) -> Answer {
    let mut args = vec!["-F", file, "-F", "model=whisper-1"];
    for field in fields {
        args.extend(["-F", field]);
    }
    curl(url, key, &args)
}

/// Runs curl with `args` (after the URL) and returns the status and body.
fn curl(url: &str, key: Option<&str>, args: &[&str]) -> Answer {
    let headers = tempfile::NamedTempFile::new().unwrap();
    let mut command = Command::new("curl");
    command.args(["-sS", "--max-time", "300", "-w", "\n%{http_code}", url]);
    command.arg("-D").arg(headers.path());
    if let Some(key) = key {
        command.args(["-H", &format!("Authorization: Bearer {key}")]);
    }
    let started = Instant::now();
    let output = command.args(args).output().expect("curl runs");
    let seconds = started.elapsed().as_secs_f64();
    assert!(output.status.success(), "curl failed: {output:?}");
    let text = String::from_utf8(output.stdout).unwrap();
    let (body, status) = text.rsplit_once('\n').unwrap();
    Answer {
        status: status.trim().parse().unwrap(),
        headers: std::fs::read_to_string(headers.path()).unwrap(),
        body: body.to_string(),
        seconds,
    }
}

fn file_arg(path: &Path) -> String {
    format!("file=@{}", path.display())
}

async fn start() -> (System, String) {
    let port = free_port();
    let system = System::start(Options {
        real_speech_model: Some("MEDIABOT_WHISPER_TINY_EN"),
        welcome_credit_minor: Some(WELCOME),
        env: vec![
            ("gateway", "API_LISTEN", format!("127.0.0.1:{port}")),
            ("gateway", "MAX_FILE_BYTES", MAX_FILE_BYTES.to_string()),
        ],
        ..Options::default()
    })
    .await;
    let base = format!("http://127.0.0.1:{port}/v1");
    // The API is up once it answers (401: no key).
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let probe = Command::new("curl")
            .args(["-s", "-o", "/dev/null", "-w", "%{http_code}"])
            .arg(format!("{base}/jobs/x"))
            .output()
            .unwrap();
        if probe.stdout == b"401" {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the API did not come up:\n{}",
            system.logs()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    (system, base)
}

/// A key for `account`, with `top_up` kopecks credited on top of the welcome credit.
async fn key_for(system: &System, account: i64, top_up: i64) -> String {
    let mut billing = system.billing().await;
    let key = billing
        .issue_api_key(IssueApiKeyRequest {
            account_id: account,
        })
        .await
        .unwrap()
        .into_inner()
        .api_key;
    if top_up > 0 {
        billing
            .top_up(TopUpRequest {
                account_id: account,
                amount_minor: top_up,
                idempotency_key: format!("openai-api-test-{account}"),
                source: "test".into(),
            })
            .await
            .unwrap();
    }
    key
}

async fn balance(system: &System, account: i64) -> (i64, i64) {
    let balance = system
        .billing()
        .await
        .get_balance(GetBalanceRequest {
            account_id: account,
        })
        .await
        .unwrap()
        .into_inner();
    (balance.balance_minor, balance.held_minor)
}

async fn captures(system: &System, account: i64) -> Vec<i64> {
    system
        .billing()
        .await
        .list_operations(ListOperationsRequest {
            account_id: account,
            page_size: 100,
            page_token: String::new(),
        })
        .await
        .unwrap()
        .into_inner()
        .operations
        .into_iter()
        .filter(|e| e.kind == EntryKind::Capture as i32)
        .map(|e| e.amount_minor)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn curl_gets_every_format_and_the_standard_errors_and_pays_per_minute() {
    let (mut system, base) = start().await;
    let transcriptions = format!("{base}/audio/transcriptions");
    let jfk = fixture("audio/jfk.wav");
    let file = file_arg(&jfk);
    // 20,000 + 100: more than the longest audio's hold (60 min × 300), so the whole maximum is held.
    let rich = key_for(&system, 8101, 20_000).await;
    let mut expected = 20_000 + WELCOME;

    // No key, a bad key: 401 invalid_api_key.
    let none = form(&transcriptions, None, &file, &[]);
    none.assert_error(401, "invalid_api_key");
    let bad_key = format!("mb_{}", "0".repeat(64));
    let bad = form(&transcriptions, Some(&bad_key), &file, &[]);
    bad.assert_error(401, "invalid_api_key");
    assert_eq!(bad.json()["error"]["type"], "invalid_request_error");

    // Missing model, an unknown format, a bad language: 400 naming the parameter.
    let no_model = curl(&transcriptions, Some(&rich), &["-F", &file]);
    assert_eq!(no_model.status, 400, "{}", no_model.body);
    assert_eq!(no_model.json()["error"]["param"], "model");
    let xml = form(
        &transcriptions,
        Some(&rich),
        &file,
        &["response_format=xml"],
    );
    assert_eq!(
        (xml.status, xml.json()["error"]["param"].clone()),
        (400, "response_format".into())
    );
    let language = form(&transcriptions, Some(&rich), &file, &["language=english"]);
    assert_eq!(
        (language.status, language.json()["error"]["param"].clone()),
        (400, "language".into())
    );

    // Over the file limit: 413.
    let dir = tempfile::tempdir().unwrap();
    let big = dir.path().join("big.wav");
    std::fs::write(&big, vec![0u8; MAX_FILE_BYTES + 1000]).unwrap();
    let too_big = form(&transcriptions, Some(&rich), &file_arg(&big), &[]);
    assert_eq!(too_big.status, 413, "{}", too_big.body);
    assert_eq!(
        balance(&system, 8101).await,
        (expected, 0),
        "refusals cost nothing"
    );

    // json, the default.
    let json = form(&transcriptions, Some(&rich), &file, &[]);
    assert_eq!(json.status, 200, "{}", json.body);
    let text = json.json()["text"].as_str().unwrap().to_lowercase();
    assert!(text.contains("fellow americans"), "{text}");
    let processing_ms = json.header("openai-processing-ms").unwrap();
    assert!(json.header("x-job-id").is_some(), "{}", json.headers);
    eprintln!(
        "jfk.wav through the API (json): {:.3} s by curl, processing_ms {processing_ms}",
        json.seconds
    );
    expected -= PER_MINUTE;
    system.wait_for_balance(8101, expected).await;
    assert_eq!(captures(&system, 8101).await, vec![-PER_MINUTE]);

    // text, srt, vtt, verbose_json.
    let plain = form(
        &transcriptions,
        Some(&rich),
        &file,
        &["response_format=text"],
    );
    assert_eq!(plain.status, 200);
    assert!(
        plain
            .body
            .to_lowercase()
            .contains("ask not what your country"),
        "{}",
        plain.body
    );
    let srt = form(
        &transcriptions,
        Some(&rich),
        &file,
        &["response_format=srt"],
    );
    assert_eq!(srt.status, 200);
    let cues = subtp::srt::SubRip::parse(&srt.body).unwrap();
    assert!(!cues.subtitles.is_empty(), "{}", srt.body);
    let vtt = form(
        &transcriptions,
        Some(&rich),
        &file,
        &["response_format=vtt"],
    );
    assert_eq!(vtt.status, 200);
    assert!(vtt.body.starts_with("WEBVTT\n\n"), "{}", vtt.body);
    assert!(subtp::vtt::WebVtt::parse(&vtt.body).is_ok(), "{}", vtt.body);
    let verbose = form(
        &transcriptions,
        Some(&rich),
        &file,
        &[
            "response_format=verbose_json",
            "language=en",
            "temperature=0.2",
            "prompt=John F. Kennedy, inaugural address.",
        ],
    );
    assert_eq!(verbose.status, 200, "{}", verbose.body);
    let verbose = verbose.json();
    assert_eq!(verbose["task"], "transcribe");
    assert_eq!(verbose["language"], "english");
    let duration = verbose["duration"].as_f64().unwrap();
    assert!((10.5..11.5).contains(&duration), "{verbose}");
    let segments = verbose["segments"].as_array().unwrap();
    assert!(!segments.is_empty());
    assert_eq!(segments[0]["id"], 0);
    assert!(
        segments
            .iter()
            .all(|s| s["end"].as_f64() >= s["start"].as_f64())
    );

    // A translation.
    let translation = form(
        &format!("{base}/audio/translations"),
        Some(&rich),
        &file,
        &["response_format=verbose_json"],
    );
    assert_eq!(translation.status, 200, "{}", translation.body);
    assert_eq!(translation.json()["task"], "translate");
    expected -= 5 * PER_MINUTE;
    system.wait_for_balance(8101, expected).await;

    // A corrupt file: 400, and the hold released.
    let corrupt_path = dir.path().join("corrupt.mp3");
    std::fs::write(&corrupt_path, b"ID3 this is not an mp3 at all".repeat(200)).unwrap();
    let corrupt = form(&transcriptions, Some(&rich), &file_arg(&corrupt_path), &[]);
    assert_eq!(corrupt.status, 400, "{}", corrupt.body);
    assert!(
        ["corrupt_audio", "unsupported_format"].contains(&corrupt.error_code().as_str()),
        "{}",
        corrupt.body
    );
    system.wait_for_balance(8101, expected).await;

    // An asynchronous job: 202 with an id, then its status until the result.
    let created = form(
        &format!("{base}/jobs"),
        Some(&rich),
        &file,
        &["response_format=verbose_json"],
    );
    assert_eq!(created.status, 202, "{}", created.body);
    let id = created.json()["id"].as_str().unwrap().to_string();
    let job_url = format!("{base}/jobs/{id}");
    let deadline = Instant::now() + Duration::from_secs(120);
    let job = loop {
        let job = curl(&job_url, Some(&rich), &[]);
        assert_eq!(job.status, 200, "{}", job.body);
        let job = job.json();
        match job["status"].as_str().unwrap() {
            "completed" => break job,
            "queued" | "in_progress" => {}
            other => panic!("job {other}: {job}"),
        }
        assert!(Instant::now() < deadline, "{job}\n{}", system.logs());
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(job["result"]["language"], "english");
    assert!(
        job["result"]["text"]
            .as_str()
            .unwrap()
            .contains("Americans"),
        "{job}"
    );
    expected -= PER_MINUTE;
    system.wait_for_balance(8101, expected).await;
    // Another account's key does not see it.
    let other = key_for(&system, 8102, 0).await;
    let foreign = curl(&job_url, Some(&other), &[]);
    foreign.assert_error(404, "job_not_found");

    // No money (100 kopecks, a minute costs 300): 429 insufficient_quota, balance untouched.
    let poor = form(&transcriptions, Some(&other), &file, &[]);
    poor.assert_error(429, "insufficient_quota");
    assert_eq!(poor.json()["error"]["type"], "insufficient_quota");
    assert_eq!(balance(&system, 8102).await, (WELCOME, 0));

    // A new key replaces the old one.
    let renewed = key_for(&system, 8101, 0).await;
    let old = curl(&job_url, Some(&rich), &[]);
    assert_eq!(old.status, 401);
    assert_eq!(curl(&job_url, Some(&renewed), &[]).status, 200);

    assert_eq!(captures(&system, 8101).await, vec![-PER_MINUTE; 7]);
    system.assert_alive();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_official_openai_python_client_works_with_the_base_url_changed() {
    let (mut system, base) = start().await;
    // 3,000 + 100 covers 10 minutes, not the 60 of the longest audio: the hold is what the balance covers.
    let key = key_for(&system, 8201, 3_000).await;
    let poor = key_for(&system, 8202, 0).await;
    let here = Path::new(env!("CARGO_MANIFEST_DIR")).join("python");
    let venv = Command::new("bash")
        .arg(here.join("venv.sh"))
        .output()
        .unwrap();
    assert!(
        venv.status.success(),
        "venv.sh: {}",
        String::from_utf8_lossy(&venv.stderr)
    );
    let python = String::from_utf8(venv.stdout).unwrap().trim().to_string();
    let run = Command::new(&python)
        .arg(here.join("openai_client.py"))
        .env("API_BASE_URL", &base)
        .env("API_KEY", &key)
        .env("POOR_API_KEY", &poor)
        .env("FIXTURES", fixture(""))
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "openai_client.py failed:\n{}\n{}\n{}",
        String::from_utf8_lossy(&run.stdout),
        String::from_utf8_lossy(&run.stderr),
        system.logs()
    );
    eprintln!(
        "openai client: {}",
        String::from_utf8_lossy(&run.stdout).trim()
    );
    // Seven transcriptions of one started minute each; the poor account and the corrupt file paid nothing.
    system
        .wait_for_balance(8201, 3_000 + WELCOME - 7 * PER_MINUTE)
        .await;
    system.wait_for_balance(8202, WELCOME).await;
    assert_eq!(captures(&system, 8201).await, vec![-PER_MINUTE; 7]);
}
