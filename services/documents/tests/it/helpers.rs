//! Fixtures, files built for tests, the character error rate, and `spawn_app()`: the service started
//! through `Application::build` on port 0 against its own nats-server.

use std::io::{Cursor, Write as _};
use std::time::{Duration, Instant};

use async_nats::jetstream::consumer::{self, DeliverPolicy};
use clap::Parser;
use documents::{Application, Config};
use futures::StreamExt;
use job_pipeline::jetstream::{self, EVENTS_STREAM, Pipeline, subjects};
use mediabot_proto::jobs::v1::jobs_client::JobsClient;
use mediabot_proto::jobs::v1::{JobCompleted, JobContext, JobFailed, JobRequest, Operation};
use nats_test_server::NatsServer;
use pdf_extract::{Dictionary, Object, Stream, dictionary};
use prost::Message as _;
use tokio::io::AsyncReadExt as _;
use tokio_util::sync::CancellationToken;
use tonic::transport::Channel;

const FIXTURES: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/fixtures/docs/"
);

/// The bytes of `fixtures/docs/<name>`.
pub fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{FIXTURES}{name}");
    std::fs::read(&path).unwrap_or_else(|e| panic!("reading {path}: {e}"))
}

/// The true lines of the fixtures (README-texts.txt): Russian first, then English.
pub fn true_lines() -> Vec<String> {
    String::from_utf8(fixture("README-texts.txt"))
        .unwrap()
        .lines()
        .skip(1)
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(String::from)
        .collect()
}

/// The lines printed on page-photo-ru-en.jpg, in reading order.
pub const PHOTO_LINES: &[&str] = &[
    "Отчёт о работе отдела за третий квартал.",
    "Выручка выросла на 12 процентов по сравнению с прошлым годом.",
    "Главная задача следующего квартала — запуск нового сервиса.",
    "Quarterly report of the engineering team.",
    "Revenue grew by 12 percent compared to last year.",
];

/// Character error rate: Levenshtein distance over characters (whitespace runs collapsed) divided by
/// the reference's length.
pub fn cer(text: &str, reference: &str) -> f64 {
    let normal = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
    let (text, reference) = (normal(text), normal(reference));
    strsim::levenshtein(&text, &reference) as f64 / reference.chars().count().max(1) as f64
}

/// A one-page PDF whose page is only the JPEG `jpeg` of `width`×`height` (a scan: no text layer).
pub fn scanned_pdf(jpeg: &[u8], width: i64, height: i64) -> Vec<u8> {
    let mut doc = pdf_extract::Document::with_version("1.5");
    let pages_id = doc.new_object_id();
    let image = Stream::new(
        dictionary! {
            "Type" => "XObject",
            "Subtype" => "Image",
            "Width" => width,
            "Height" => height,
            "ColorSpace" => "DeviceRGB",
            "BitsPerComponent" => 8,
            "Filter" => "DCTDecode",
        },
        jpeg.to_vec(),
    );
    let image_id = doc.add_object(image);
    let content = format!("q {width} 0 0 {height} 0 0 cm /Im0 Do Q");
    let content_id = doc.add_object(Stream::new(Dictionary::new(), content.into_bytes()));
    let page_id = doc.add_object(dictionary! {
        "Type" => "Page",
        "Parent" => pages_id,
        "MediaBox" => vec![0.into(), 0.into(), width.into(), height.into()],
        "Contents" => content_id,
        "Resources" => dictionary! { "XObject" => dictionary! { "Im0" => image_id } },
    });
    doc.objects.insert(
        pages_id,
        Object::Dictionary(dictionary! {
            "Type" => "Pages",
            "Kids" => vec![page_id.into()],
            "Count" => 1,
        }),
    );
    let catalog_id = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages_id });
    doc.trailer.set("Root", catalog_id);
    let mut bytes = Vec::new();
    doc.save_to(&mut bytes).unwrap();
    bytes
}

/// The fixture PDF with a standard security handler (RC4, revision 2) whose user password is not empty:
/// it opens only with a password.
pub fn encrypted_pdf() -> Vec<u8> {
    let mut doc = pdf_extract::Document::load_mem(&fixture("report-ru-en.pdf")).unwrap();
    let encrypt_id = doc.add_object(dictionary! {
        "Filter" => "Standard",
        "V" => 1,
        "R" => 2,
        "O" => Object::string_literal(vec![0x11u8; 32]),
        "U" => Object::string_literal(vec![0x22u8; 32]),
        "P" => -44,
    });
    doc.trailer.set("Encrypt", encrypt_id);
    doc.trailer.set(
        "ID",
        vec![
            Object::string_literal(vec![1u8; 16]),
            Object::string_literal(vec![1u8; 16]),
        ],
    );
    let mut bytes = Vec::new();
    doc.save_to(&mut bytes).unwrap();
    bytes
}

/// A DOCX whose `word/document.xml` inflates to `inflated` bytes of spaces: a zip bomb (a few hundred
/// kilobytes for 100 MB), written in chunks so the test itself never holds it.
pub fn zip_bomb_docx(inflated: usize) -> Vec<u8> {
    let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    zip.start_file("[Content_Types].xml", options).unwrap();
    zip.write_all(b"<Types/>").unwrap();
    zip.start_file("word/document.xml", options).unwrap();
    zip.write_all(b"<w:document xmlns:w=\"w\"><w:body><w:p><w:r><w:t>")
        .unwrap();
    let chunk = vec![b' '; 1 << 20];
    let mut written = 0;
    while written < inflated {
        zip.write_all(&chunk).unwrap();
        written += chunk.len();
    }
    zip.write_all(b"</w:t></w:r></w:p></w:body></w:document>")
        .unwrap();
    zip.finish().unwrap().into_inner()
}

/// A white JPEG picture with nothing on it.
pub fn blank_jpeg() -> Vec<u8> {
    let white = image::RgbImage::from_pixel(800, 600, image::Rgb([255, 255, 255]));
    let mut bytes = Vec::new();
    image::DynamicImage::from(white)
        .write_to(&mut Cursor::new(&mut bytes), image::ImageFormat::Jpeg)
        .unwrap();
    bytes
}

/// A running service and what a test needs to talk to it.
pub struct TestApp {
    pub client: JobsClient<Channel>,
    pub channel: Channel,
    pub pipeline: Pipeline,
    shutdown: CancellationToken,
    _nats: NatsServer,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

/// What the worker published for a job.
#[derive(Debug)]
pub enum Outcome {
    Completed(JobCompleted),
    Failed(JobFailed),
}

pub async fn spawn_app() -> TestApp {
    service_runtime::telemetry::init_for_tests();
    let nats = NatsServer::start().expect("nats-server starts");
    let url = nats.url();
    let config = Config::parse_from([
        "documents",
        "--listen",
        "127.0.0.1:0",
        "--metrics-listen",
        "127.0.0.1:0",
        "--nats-url",
        &url,
        "--workers",
        "2",
    ]);
    let app = Application::build(config)
        .await
        .expect("the service builds");
    let addr = app.grpc_addr();
    let shutdown = CancellationToken::new();
    tokio::spawn(app.run(shutdown.clone()));
    let channel = Channel::from_shared(format!("http://{addr}"))
        .unwrap()
        .connect()
        .await
        .expect("connects");
    let pipeline = Pipeline::setup(jetstream::connect(&url, "documents-tests").await.unwrap())
        .await
        .unwrap();
    TestApp {
        client: JobsClient::new(channel.clone()),
        channel,
        pipeline,
        shutdown,
        _nats: nats,
    }
}

impl TestApp {
    /// Stores `bytes` as `in/<new id>` and submits `operation` on it as the file `file_name`; returns
    /// the job id.
    pub async fn submit(&self, bytes: &[u8], operation: Operation, file_name: &str) -> String {
        let job_id = mediabot_proto::JobId::random().to_string();
        self.pipeline
            .media
            .put(jetstream::input_key(&job_id).as_str(), &mut &bytes[..])
            .await
            .unwrap();
        let request = JobRequest {
            job_id: job_id.clone(),
            operation: Some(operation),
            input_key: jetstream::input_key(&job_id),
            mime_type: String::new(),
            file_name: file_name.into(),
            context: Some(JobContext {
                chat_id: 5,
                user_id: 5,
                status_message_id: 0,
                reply_to_message_id: 0,
                language_code: "ru".into(),
                ..Default::default()
            }),
            submitted_at_unix_ms: 0,
        };
        self.client.clone().submit_job(request).await.unwrap();
        job_id
    }

    /// The job's outcome event, read from the start of the events stream.
    pub async fn wait_outcome(&self, job_id: &str, deadline: Duration) -> Outcome {
        let stream = self
            .pipeline
            .jetstream
            .get_stream(EVENTS_STREAM)
            .await
            .unwrap();
        let consumer = stream
            .create_consumer(consumer::pull::Config {
                deliver_policy: DeliverPolicy::All,
                ack_policy: consumer::AckPolicy::Explicit,
                ..Default::default()
            })
            .await
            .unwrap();
        let mut messages = consumer.messages().await.unwrap();
        let end = Instant::now() + deadline;
        loop {
            let left = end.saturating_duration_since(Instant::now());
            let message = tokio::time::timeout(left, messages.next())
                .await
                .unwrap_or_else(|_| panic!("no outcome for job {job_id} within {deadline:?}"))
                .expect("stream open")
                .expect("message");
            message.ack().await.unwrap();
            let payload = message.payload.clone();
            match message.subject.as_str() {
                subjects::COMPLETED => {
                    let event = JobCompleted::decode(payload).unwrap();
                    if event.job_id == job_id {
                        return Outcome::Completed(event);
                    }
                }
                subjects::FAILED => {
                    let event = JobFailed::decode(payload).unwrap();
                    if event.job_id == job_id {
                        return Outcome::Failed(event);
                    }
                }
                _ => {}
            }
        }
    }

    /// The result object at `key`, as text.
    pub async fn object_text(&self, key: &str) -> String {
        let mut object = self.pipeline.media.get(key).await.unwrap();
        let mut bytes = Vec::new();
        object.read_to_end(&mut bytes).await.unwrap();
        String::from_utf8(bytes).unwrap()
    }
}
