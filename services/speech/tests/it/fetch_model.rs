//! `speech fetch-model` against a local HTTP server that serves a model file with range requests, as the
//! model repository does: download, resume after an interruption (only the missing bytes are asked for),
//! a bad checksum, offline, and a file already in place.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use bytes::Bytes;
use sha2::{Digest, Sha256};
use speech::fetch_model::{FetchError, OfficialModel, download, official_model};

/// The server's file and what it was asked.
struct Served {
    bytes: Bytes,
    /// The `Range` header of each request (`None` when there was none).
    ranges: Mutex<Vec<Option<String>>>,
    /// Break the connection after this many bytes of the next whole-file answer.
    cut_after: Mutex<Option<usize>>,
}

async fn serve_file(State(served): State<Arc<Served>>, headers: HeaderMap) -> Response {
    let range = headers
        .get(header::RANGE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    served.ranges.lock().unwrap().push(range.clone());
    let len = served.bytes.len();
    if let Some(range) = range {
        let start: usize = range
            .strip_prefix("bytes=")
            .and_then(|r| r.strip_suffix('-'))
            .and_then(|s| s.parse().ok())
            .expect("an open-ended byte range");
        if start >= len {
            return Response::builder()
                .status(StatusCode::RANGE_NOT_SATISFIABLE)
                .header(header::CONTENT_RANGE, format!("bytes */{len}"))
                .body(Body::empty())
                .unwrap();
        }
        return Response::builder()
            .status(StatusCode::PARTIAL_CONTENT)
            .header(header::CONTENT_LENGTH, len - start)
            .header(
                header::CONTENT_RANGE,
                format!("bytes {start}-{}/{len}", len - 1),
            )
            .body(Body::from(served.bytes.slice(start..)))
            .unwrap();
    }
    let body = match served.cut_after.lock().unwrap().take() {
        Some(cut) => {
            let head = served.bytes.slice(..cut);
            let chunks: Vec<Result<Bytes, std::io::Error>> = vec![
                Ok(head),
                Err(std::io::Error::new(
                    std::io::ErrorKind::ConnectionReset,
                    "cut",
                )),
            ];
            Body::from_stream(futures::stream::iter(chunks))
        }
        None => Body::from(served.bytes.clone()),
    };
    Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_LENGTH, len)
        .header(header::ACCEPT_RANGES, "bytes")
        .body(body)
        .unwrap()
}

async fn start_server(bytes: Bytes) -> (SocketAddr, Arc<Served>) {
    let served = Arc::new(Served {
        bytes,
        ranges: Mutex::new(Vec::new()),
        cut_after: Mutex::new(None),
    });
    let app = axum::Router::new()
        .route("/models/{file}", axum::routing::get(serve_file))
        .with_state(served.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (addr, served)
}

/// 3 MiB of deterministic bytes standing in for a model, and a catalogue entry with their checksum.
fn test_model(bytes: &[u8]) -> OfficialModel {
    OfficialModel {
        name: "test",
        size_bytes: bytes.len() as u64,
        sha256: format!("{:x}", Sha256::digest(bytes)).leak(),
    }
}

fn model_bytes() -> Bytes {
    let mut state = 0x9e37_79b9_u32;
    (0..3 << 20)
        .map(|_| {
            state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            (state >> 24) as u8
        })
        .collect::<Vec<u8>>()
        .into()
}

#[tokio::test]
async fn downloads_verifies_and_keeps_a_verified_file() {
    let bytes = model_bytes();
    let model = test_model(&bytes);
    let (addr, served) = start_server(bytes.clone()).await;
    let dir = tempfile::tempdir().unwrap();
    let url = format!("http://{addr}/models");

    let path = download(&model, dir.path(), &url).await.unwrap();
    assert_eq!(path, dir.path().join("ggml-test.bin"));
    assert_eq!(std::fs::read(&path).unwrap(), bytes);
    assert!(!dir.path().join("ggml-test.bin.partial").exists());
    assert_eq!(*served.ranges.lock().unwrap(), vec![None]);

    // A second run finds the verified file and asks the server for nothing.
    download(&model, dir.path(), &url).await.unwrap();
    assert_eq!(served.ranges.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn an_interrupted_download_resumes_with_a_range_request() {
    let bytes = model_bytes();
    let model = test_model(&bytes);
    let (addr, served) = start_server(bytes.clone()).await;
    let dir = tempfile::tempdir().unwrap();
    let url = format!("http://{addr}/models");
    let cut = 1_234_567;
    *served.cut_after.lock().unwrap() = Some(cut);

    let error = download(&model, dir.path(), &url).await.unwrap_err();
    assert!(matches!(error, FetchError::Transfer { .. }), "{error:?}");
    assert!(error.to_string().contains("again to resume"), "{error}");
    let partial = dir.path().join("ggml-test.bin.partial");
    let kept = std::fs::metadata(&partial).unwrap().len() as usize;
    assert!(kept > 0 && kept <= cut, "{kept} bytes kept");
    assert!(!dir.path().join("ggml-test.bin").exists());

    let path = download(&model, dir.path(), &url).await.unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), bytes);
    assert_eq!(
        *served.ranges.lock().unwrap(),
        vec![None, Some(format!("bytes={kept}-"))],
        "only the missing bytes were asked for"
    );

    // A partial file that is already whole (the rename was lost): the server says 416, the file is used.
    std::fs::rename(&path, &partial).unwrap();
    let path = download(&model, dir.path(), &url).await.unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), bytes);
}

#[tokio::test]
async fn a_file_with_the_wrong_checksum_is_deleted_and_refused() {
    let bytes = model_bytes();
    let mut model = test_model(&bytes);
    model.sha256 = "0000000000000000000000000000000000000000000000000000000000000000";
    let (addr, _served) = start_server(bytes).await;
    let dir = tempfile::tempdir().unwrap();
    let error = download(&model, dir.path(), &format!("http://{addr}/models"))
        .await
        .unwrap_err();
    assert!(matches!(error, FetchError::Checksum { .. }), "{error:?}");
    assert!(!dir.path().join("ggml-test.bin").exists());
    assert!(!dir.path().join("ggml-test.bin.partial").exists());
}

#[tokio::test]
async fn offline_it_fails_at_once_saying_where_to_put_the_file() {
    let dir = tempfile::tempdir().unwrap();
    // A port nothing listens on: the connection is refused, as on a machine without a network route.
    let port = nats_test_server::ports::free_port().unwrap();
    let base = official_model("base").unwrap();
    let started = Instant::now();
    let error = download(base, dir.path(), &format!("http://127.0.0.1:{port}/models"))
        .await
        .unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(5));
    assert!(matches!(error, FetchError::Offline { .. }), "{error:?}");
    let message = error.to_string();
    let target = dir.path().join("ggml-base.bin");
    assert!(
        message.contains(&target.display().to_string()) && message.contains(base.sha256),
        "{message}"
    );
}

#[test]
fn official_names_are_known() {
    assert_eq!(official_model("base").unwrap().file_name(), "ggml-base.bin");
    assert_eq!(official_model("ggml-tiny.en.bin").unwrap().name, "tiny.en");
    let error = official_model("huge").unwrap_err();
    assert!(error.to_string().contains("tiny, tiny.en, base"), "{error}");
}
