//! gRPC clients of the three backend services. Channels connect lazily and reconnect by themselves, so a
//! service that is down fails only the calls made to it (with UNAVAILABLE), never the gateway's start-up.

use mediabot_proto::billing::v1::billing_client::BillingClient;
use mediabot_proto::imaging::v1::imaging_client::ImagingClient;
use mediabot_proto::speech::v1::speech_client::SpeechClient;
use service_runtime::telemetry::{TraceContextInterceptor, TracedChannel};
use tonic::transport::{Channel, Endpoint};
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

use crate::Error;

/// Name under which speech reports whether it can transcribe (a model is loaded).
const SPEECH_SERVICE: &str = "mediabot.speech.v1.Speech";

/// The backends' gRPC clients. Cheap to clone (channels are shared).
#[derive(Clone)]
pub struct Backends {
    /// billing: balances and holds.
    pub billing: BillingClient<TracedChannel>,
    /// imaging: image jobs.
    pub imaging: ImagingClient<TracedChannel>,
    /// speech: transcription jobs.
    pub speech: SpeechClient<TracedChannel>,
    speech_health: HealthClient<Channel>,
}

impl Backends {
    /// Builds lazily connecting clients for the three endpoints (`http://host:port`).
    pub fn connect(billing: &str, imaging: &str, speech: &str) -> Result<Self, Error> {
        let speech_channel = channel(speech)?;
        Ok(Self {
            billing: BillingClient::with_interceptor(channel(billing)?, TraceContextInterceptor),
            imaging: ImagingClient::with_interceptor(channel(imaging)?, TraceContextInterceptor),
            speech: SpeechClient::with_interceptor(speech_channel.clone(), TraceContextInterceptor),
            speech_health: HealthClient::new(speech_channel),
        })
    }

    /// Whether speech can take transcriptions now: `Ok(true)` SERVING, `Ok(false)` up but NOT_SERVING (no
    /// model configured), `Err` when speech cannot be reached.
    pub async fn speech_ready(&self) -> Result<bool, tonic::Status> {
        let response = self
            .speech_health
            .clone()
            .check(HealthCheckRequest {
                service: SPEECH_SERVICE.to_string(),
            })
            .await?;
        Ok(response.into_inner().status == ServingStatus::Serving as i32)
    }
}

fn channel(url: &str) -> Result<Channel, Error> {
    let endpoint = Endpoint::from_shared(url.to_string())
        .map_err(|source| Error::BackendUrl {
            url: url.to_string(),
            source,
        })?
        .connect_timeout(std::time::Duration::from_secs(3))
        .timeout(std::time::Duration::from_secs(30));
    Ok(endpoint.connect_lazy())
}
