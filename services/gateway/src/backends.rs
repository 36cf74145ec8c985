//! gRPC clients of the backend services: billing, and the `mediabot.jobs.v1.Jobs` queue of each worker
//! service of the catalog ([`Service`]). Channels connect lazily and reconnect by themselves, so a service
//! that is down fails only the calls made to it (with UNAVAILABLE), never the gateway's start-up.
//!
//! The price list is read from billing's `ListPrices` and kept for [`PRICES_TTL`], so offers and /start do
//! not cost a billing call each.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use mediabot_proto::Service;
use mediabot_proto::billing::v1::billing_client::BillingClient;
use mediabot_proto::billing::v1::{Hold, ListPricesRequest, Price, ReserveRequest};
use mediabot_proto::imaging::v1::imaging_client::ImagingClient;
use mediabot_proto::imaging::v1::{DescribeRequest, ImageFacts};
use mediabot_proto::jobs::v1::jobs_client::JobsClient;
use service_runtime::telemetry::{TraceContextInterceptor, TracedChannel};
use tokio::sync::Mutex;
use tonic::transport::{Channel, Endpoint};
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

use crate::Error;

/// The name under which billing reports whether it serves (its settlement consumer is set up).
pub const BILLING_HEALTH_SERVICE: &str = "mediabot.billing.v1.Billing";
/// The name under which a worker service reports whether it takes jobs now (speech: a model is loaded).
pub const JOBS_HEALTH_SERVICE: &str = "mediabot.jobs.v1.Jobs";
/// The most `describe_image` sends: imaging's `Describe` takes at most 24 MiB inline.
pub const MAX_DESCRIBE_BYTES: usize = 24 << 20;
/// How long imaging may take to describe an image (it reads headers: milliseconds).
pub const DESCRIBE_TIMEOUT: Duration = Duration::from_secs(3);
/// How long a fetched price list is used before it is fetched again.
pub const PRICES_TTL: Duration = Duration::from_secs(30);

/// How long to wait before each retry of a billing `Reserve` that failed with UNAVAILABLE.
pub const RESERVE_RETRY_DELAYS: [Duration; 2] =
    [Duration::from_millis(100), Duration::from_millis(400)];

/// The price list and when it was fetched.
type CachedPrices = Option<(Instant, Arc<Vec<Price>>)>;

/// One worker service's clients.
#[derive(Clone)]
struct Worker {
    jobs: JobsClient<TracedChannel>,
    health: HealthClient<Channel>,
}

/// The backends' gRPC clients. Cheap to clone (channels and the price cache are shared).
#[derive(Clone)]
pub struct Backends {
    /// billing: balances, holds, prices.
    pub billing: BillingClient<TracedChannel>,
    billing_health: HealthClient<Channel>,
    workers: BTreeMap<Service, Worker>,
    /// imaging's own service (`Describe`), on the imaging worker's channel; `None` without imaging.
    imaging: Option<ImagingClient<TracedChannel>>,
    prices: Arc<Mutex<CachedPrices>>,
}

/// Whether a worker service takes jobs now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Availability {
    /// SERVING.
    Ready,
    /// Up, but NOT_SERVING for jobs (speech without a model): the operation is not set up here.
    NotSetUp,
}

impl Backends {
    /// Lazily connecting clients: billing at `billing` and each worker service at its URL
    /// (`http://host:port`). Errors: [`Error::BackendUrl`] for a malformed URL.
    pub fn connect(billing: &str, workers: &[(Service, &str)]) -> Result<Self, Error> {
        let mut map = BTreeMap::new();
        let mut imaging = None;
        for (service, url) in workers {
            let channel = channel(url)?;
            if *service == Service::Imaging {
                imaging = Some(
                    ImagingClient::with_interceptor(channel.clone(), TraceContextInterceptor)
                        .max_encoding_message_size(MAX_DESCRIBE_BYTES + (64 << 10)),
                );
            }
            map.insert(
                *service,
                Worker {
                    jobs: JobsClient::with_interceptor(channel.clone(), TraceContextInterceptor),
                    health: HealthClient::new(channel),
                },
            );
        }
        let billing = channel(billing)?;
        Ok(Self {
            billing: BillingClient::with_interceptor(billing.clone(), TraceContextInterceptor),
            billing_health: HealthClient::new(billing),
            workers: map,
            imaging,
            prices: Arc::new(Mutex::new(None)),
        })
    }

    /// The job queue client of `service`. Errors: [`Error::NoBackend`] when no URL was configured for it.
    pub fn jobs(&self, service: Service) -> Result<JobsClient<TracedChannel>, Error> {
        self.workers
            .get(&service)
            .map(|w| w.jobs.clone())
            .ok_or(Error::NoBackend(service))
    }

    /// What an image file is, from imaging's `Describe` (headers and metadata only). Errors:
    /// [`Error::NoBackend`] without imaging; [`Error::Backend`] with imaging's status (INVALID_ARGUMENT:
    /// not an image imaging reads; UNAVAILABLE: imaging is down).
    pub async fn describe_image(&self, image: Vec<u8>) -> Result<ImageFacts, Error> {
        let mut client = self
            .imaging
            .clone()
            .ok_or(Error::NoBackend(Service::Imaging))?;
        let mut request = tonic::Request::new(DescribeRequest { image });
        request.set_timeout(DESCRIBE_TIMEOUT);
        Ok(client
            .describe(request)
            .await
            .map_err(|status| Error::Backend {
                service: Service::Imaging.name(),
                status,
            })?
            .into_inner())
    }

    /// Whether `service` takes jobs now, from its health service; `Err` when it cannot be reached.
    pub async fn availability(&self, service: Service) -> Result<Availability, Error> {
        let worker = self
            .workers
            .get(&service)
            .ok_or(Error::NoBackend(service))?;
        let response = worker
            .health
            .clone()
            .check(HealthCheckRequest {
                service: JOBS_HEALTH_SERVICE.to_string(),
            })
            .await
            .map_err(|status| Error::Backend {
                service: service.name(),
                status,
            })?;
        Ok(
            if response.into_inner().status == ServingStatus::Serving as i32 {
                Availability::Ready
            } else {
                Availability::NotSetUp
            },
        )
    }

    /// `Ok` when billing answers its health check SERVING now. Errors: [`Error::Backend`] when it cannot be
    /// reached or is NOT_SERVING (UNAVAILABLE then).
    pub async fn billing_ready(&self) -> Result<(), Error> {
        let unavailable = |status| Error::Backend {
            service: "billing",
            status,
        };
        let response = self
            .billing_health
            .clone()
            .check(HealthCheckRequest {
                service: BILLING_HEALTH_SERVICE.to_string(),
            })
            .await
            .map_err(unavailable)?;
        if response.into_inner().status == ServingStatus::Serving as i32 {
            Ok(())
        } else {
            Err(unavailable(tonic::Status::unavailable("NOT_SERVING")))
        }
    }

    /// billing's `Reserve`, retried after each of [`RESERVE_RETRY_DELAYS`] while it fails with
    /// UNAVAILABLE: a connection that billing closed (a restarted pod, a reset socket) fails the call made
    /// on it before the channel reconnects, and a retry is safe because billing keeps one hold per job id.
    /// Errors: billing's last status (FAILED_PRECONDITION when the balance does not cover the price).
    pub async fn reserve(&self, request: ReserveRequest) -> Result<Hold, tonic::Status> {
        let mut delays = RESERVE_RETRY_DELAYS.iter();
        loop {
            match self.billing.clone().reserve(request.clone()).await {
                Ok(hold) => return Ok(hold.into_inner()),
                Err(status) if status.code() == tonic::Code::Unavailable => {
                    let Some(delay) = delays.next() else {
                        return Err(status);
                    };
                    tracing::info!(%status, ?delay, "billing Reserve unavailable; retrying");
                    tokio::time::sleep(*delay).await;
                }
                Err(status) => return Err(status),
            }
        }
    }

    /// billing's price list, fetched at most every [`PRICES_TTL`].
    pub async fn prices(&self) -> Result<Arc<Vec<Price>>, Error> {
        let mut cached = self.prices.lock().await;
        if let Some((fetched, prices)) = cached.as_ref()
            && fetched.elapsed() < PRICES_TTL
        {
            return Ok(prices.clone());
        }
        let prices = self
            .billing
            .clone()
            .list_prices(ListPricesRequest {})
            .await
            .map_err(|status| Error::Backend {
                service: "billing",
                status,
            })?
            .into_inner()
            .prices;
        let prices = Arc::new(prices);
        *cached = Some((Instant::now(), prices.clone()));
        Ok(prices)
    }
}

fn channel(url: &str) -> Result<Channel, Error> {
    let endpoint = Endpoint::from_shared(url.to_string())
        .map_err(|source| Error::BackendUrl {
            url: url.to_string(),
            source,
        })?
        .connect_timeout(Duration::from_secs(3))
        .timeout(Duration::from_secs(30));
    Ok(endpoint.connect_lazy())
}
