//! One Telegram update is one trace: an in-process OTLP/gRPC receiver (the collector's `TraceService`,
//! generated in `opentelemetry-proto`) takes the spans the real binaries export, and the press of
//! "Upscale ×2" under a photo must show up as one trace id across the gateway (the update, the job start,
//! the delivery), billing (Reserve, and the capture settled from `jobs.delivered`) and imaging (Submit and
//! the job run), with the job id as a span attribute.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use mediabot_proto::JobId;
use mediabot_proto::jobs::v1::Operation;
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::{
    TraceService, TraceServiceServer,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};

use crate::harness::{Options, System, button, fixture};

/// A span as received: who sent it and what it says.
#[derive(Debug, Clone)]
struct ReceivedSpan {
    service: String,
    name: String,
    trace_id: Vec<u8>,
    attributes: BTreeMap<String, String>,
}

/// The spans every export brought, in arrival order.
#[derive(Clone, Default)]
struct Receiver {
    spans: Arc<Mutex<Vec<ReceivedSpan>>>,
}

fn text(value: Option<&AnyValue>) -> String {
    match value.and_then(|v| v.value.as_ref()) {
        Some(any_value::Value::StringValue(s)) => s.clone(),
        Some(any_value::Value::IntValue(i)) => i.to_string(),
        Some(any_value::Value::BoolValue(b)) => b.to_string(),
        Some(any_value::Value::DoubleValue(d)) => d.to_string(),
        _ => String::new(),
    }
}

fn attributes(list: &[KeyValue]) -> BTreeMap<String, String> {
    list.iter()
        .map(|kv| (kv.key.clone(), text(kv.value.as_ref())))
        .collect()
}

#[tonic::async_trait]
impl TraceService for Receiver {
    async fn export(
        &self,
        request: tonic::Request<ExportTraceServiceRequest>,
    ) -> Result<tonic::Response<ExportTraceServiceResponse>, tonic::Status> {
        let mut received = Vec::new();
        for resource_spans in request.into_inner().resource_spans {
            let service = resource_spans
                .resource
                .as_ref()
                .map(|r| attributes(&r.attributes))
                .and_then(|a| a.get("service.name").cloned())
                .unwrap_or_default();
            for scope in resource_spans.scope_spans {
                for span in scope.spans {
                    received.push(ReceivedSpan {
                        service: service.clone(),
                        name: span.name.clone(),
                        trace_id: span.trace_id.clone(),
                        attributes: attributes(&span.attributes),
                    });
                }
            }
        }
        self.spans.lock().unwrap().extend(received);
        Ok(tonic::Response::new(ExportTraceServiceResponse {
            partial_success: None,
        }))
    }
}

impl Receiver {
    /// Serves OTLP/gRPC on a free local port; returns the endpoint URL.
    async fn serve(&self) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let service = TraceServiceServer::new(self.clone());
        tokio::spawn(
            tonic::transport::Server::builder()
                .add_service(service)
                .serve_with_incoming(tokio_stream::wrappers::TcpListenerStream::new(listener)),
        );
        format!("http://{addr}")
    }

    fn spans(&self) -> Vec<ReceivedSpan> {
        self.spans.lock().unwrap().clone()
    }
}

/// The spans of the trace that holds a span named `name` from `service` with `job_id` among its
/// attributes, if it has arrived.
fn trace_of_job(
    spans: &[ReceivedSpan],
    service: &str,
    name: &str,
    job_id: &str,
) -> Vec<ReceivedSpan> {
    let Some(anchor) = spans.iter().find(|s| {
        s.service == service
            && s.name == name
            && s.attributes.get("job_id").map(String::as_str) == Some(job_id)
    }) else {
        return Vec::new();
    };
    spans
        .iter()
        .filter(|s| s.trace_id == anchor.trace_id)
        .cloned()
        .collect()
}

fn has(trace: &[ReceivedSpan], service: &str, name: &str) -> bool {
    trace.iter().any(|s| s.service == service && s.name == name)
}

/// What one trace must hold for a pressed "Upscale ×2" that was delivered and charged.
fn complete(trace: &[ReceivedSpan]) -> bool {
    has(trace, "gateway", "update")
        && has(trace, "gateway", "start_job")
        && has(trace, "billing", "grpc")
        && has(trace, "imaging", "grpc")
        && has(trace, "imaging", "job")
        && has(trace, "gateway", "deliver")
        && has(trace, "billing", "settle")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_update_is_one_trace_across_the_services() {
    let receiver = Receiver::default();
    let endpoint = receiver.serve().await;
    // Export every 200 ms instead of every 5 s, so the spans arrive while the test waits.
    let env = ["gateway", "billing", "imaging", "speech"]
        .into_iter()
        .map(|process| (process, "OTEL_BSP_SCHEDULE_DELAY", "200".to_string()))
        .collect();
    let mut system = System::start(Options {
        otlp_endpoint: Some(endpoint),
        env,
        ..Options::default()
    })
    .await;
    let user = system.user(7601, "en");
    let (photo_id, offer) = user
        .send_for_offer(
            &mut system,
            "document",
            &fixture("images/orientation/landscape_6.jpg"),
            "image/jpeg",
        )
        .await;
    let operation = Operation::upscale(2);
    let data = button(&offer, &operation);
    user.press(offer.message_id, &data).await;
    user.wait_for_bot_message(
        &mut system,
        photo_id,
        Duration::from_secs(90),
        "with the upscaled file",
        |m| m.reply_to_message_id() == Some(photo_id) && m.file_id().is_some(),
    )
    .await;
    // Money follows delivery: once billing captured, every span of the job has been made.
    system.wait_for_balance(7601, 3000 - 500).await;

    let job_id = JobId::derive(7601, photo_id as i32, &operation).to_string();
    let deadline = Instant::now() + Duration::from_secs(30);
    let trace = loop {
        let spans = receiver.spans();
        let trace = trace_of_job(&spans, "imaging", "job", &job_id);
        if complete(&trace) {
            break trace;
        }
        if Instant::now() > deadline {
            // The batch exporters flush on a graceful stop: give them that chance before failing.
            for process in ["gateway", "billing", "imaging"] {
                system.terminate(process);
            }
            let spans = receiver.spans();
            let trace = trace_of_job(&spans, "imaging", "job", &job_id);
            let names: BTreeSet<(String, String)> = trace
                .iter()
                .map(|s| (s.service.clone(), s.name.clone()))
                .collect();
            let everything: BTreeSet<(String, String)> = spans
                .iter()
                .map(|s| (s.service.clone(), s.name.clone()))
                .collect();
            panic!(
                "job {job_id}'s trace is not one trace across the services; in it: {names:?}\nall spans: {everything:?}\n{}",
                system.logs()
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    // The job id is an attribute of the spans that handle the job in each service.
    for (service, name) in [
        ("gateway", "start_job"),
        ("gateway", "deliver"),
        ("billing", "settle"),
        ("imaging", "job"),
    ] {
        assert!(
            trace.iter().any(|s| s.service == service
                && s.name == name
                && s.attributes.get("job_id") == Some(&job_id)),
            "no {service} {name} span with job_id {job_id} in {trace:#?}"
        );
    }
    // The update's span is the trace's root: one update, one trace, and only one.
    let updates: Vec<&ReceivedSpan> = trace
        .iter()
        .filter(|s| s.service == "gateway" && s.name == "update")
        .collect();
    assert_eq!(updates.len(), 1, "{updates:#?}");
    // billing's gRPC spans in the trace are the Reserve (and nothing of another update).
    assert!(
        trace.iter().any(|s| s.service == "billing"
            && s.name == "grpc"
            && s.attributes.get("rpc.method").map(String::as_str)
                == Some("/mediabot.billing.v1.Billing/Reserve")),
        "no Reserve in {trace:#?}"
    );
}
