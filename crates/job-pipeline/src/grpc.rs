//! `mediabot.jobs.v1.Jobs` — SubmitJob and GetJob — implemented once for every worker service: thin
//! handlers over the service's [`JobQueue`], errors mapped in [`crate::error`]. A service mounts it with
//! [`mount`] (or [`make_server`] plus its own health handling).

use mediabot_proto::jobs::v1::jobs_server::{Jobs, JobsServer};
use mediabot_proto::jobs::v1::{GetJobRequest, JobRequest, JobStatus, SubmitJobResponse};
use service_runtime::grpc::GrpcServer;
use tonic::server::NamedService as _;
use tonic::{Request, Response, Status};

use crate::submit::JobQueue;

/// The health-service name a worker reports for job availability: `mediabot.jobs.v1.Jobs`. SERVING
/// once NATS is set up and the service can run its operations; NOT_SERVING while it cannot (speech
/// without a model).
pub const HEALTH_SERVICE: &str = JobsServer::<JobsService>::NAME;

/// The Jobs gRPC service over one [`JobQueue`].
#[derive(Clone)]
pub struct JobsService {
    queue: JobQueue,
}

/// The tonic server for `mediabot.jobs.v1.Jobs` over `queue`.
pub fn make_server(queue: JobQueue) -> JobsServer<JobsService> {
    JobsServer::new(JobsService { queue })
}

/// Adds the Jobs service to `server` and reports [`HEALTH_SERVICE`] SERVING if `queue` is available
/// (NOT_SERVING otherwise). Call it once NATS is set up.
pub async fn mount(server: GrpcServer, queue: JobQueue) -> GrpcServer {
    let available = queue.is_available();
    let server = server.add_service(make_server(queue)).await;
    if available {
        server
            .health()
            .set_serving::<JobsServer<JobsService>>()
            .await;
    }
    server
}

#[tonic::async_trait]
impl Jobs for JobsService {
    async fn submit_job(
        &self,
        request: Request<JobRequest>,
    ) -> Result<Response<SubmitJobResponse>, Status> {
        let submitted = self.queue.submit(request.into_inner()).await?;
        Ok(Response::new(SubmitJobResponse {
            job_id: submitted.job_id.to_string(),
            queue_position: submitted.queue_position,
        }))
    }

    async fn get_job(
        &self,
        request: Request<GetJobRequest>,
    ) -> Result<Response<JobStatus>, Status> {
        let status = self.queue.status(&request.into_inner().job_id).await?;
        Ok(Response::new(status))
    }
}
