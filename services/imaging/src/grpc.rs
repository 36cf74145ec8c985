//! The `mediabot.imaging.v1.Imaging` gRPC service: thin handlers that turn protobuf requests into
//! validated domain types, call the [`JobQueue`], and map errors through [`crate::error`].

use mediabot_proto::imaging::v1::SubmitJobRequest;
use mediabot_proto::imaging::v1::imaging_server::{Imaging, ImagingServer};
use mediabot_proto::jobs::v1::{GetJobRequest, JobStatus, SubmitJobResponse};
use tonic::{Request, Response, Status};

use crate::jobs::{JobId, JobQueue, NewImageJob};

/// The gRPC service implementation.
#[derive(Clone)]
pub struct ImagingService {
    queue: JobQueue,
}

/// Builds the tonic server for `mediabot.imaging.v1.Imaging` over `queue`.
pub fn make_server(queue: JobQueue) -> ImagingServer<ImagingService> {
    ImagingServer::new(ImagingService { queue })
}

#[tonic::async_trait]
impl Imaging for ImagingService {
    async fn submit_job(
        &self,
        request: Request<SubmitJobRequest>,
    ) -> Result<Response<SubmitJobResponse>, Status> {
        let r = request.into_inner();
        let job = NewImageJob::parse(
            &r.job_id,
            r.operation,
            r.input_key,
            r.mime_type,
            r.file_name,
            r.context,
        )?;
        let submitted = self.queue.submit(job).await?;
        Ok(Response::new(SubmitJobResponse {
            job_id: submitted.job_id.to_string(),
            queue_position: submitted.queue_position,
        }))
    }

    async fn get_job(
        &self,
        request: Request<GetJobRequest>,
    ) -> Result<Response<JobStatus>, Status> {
        let job_id = JobId::parse(&request.into_inner().job_id)?;
        Ok(Response::new(self.queue.status(job_id).await?))
    }
}
