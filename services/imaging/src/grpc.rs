//! The `mediabot.imaging.v1.Imaging` gRPC service: `Describe`, the facts of an image sent inline. A thin
//! handler: it checks the size, reads the facts on a blocking thread ([`crate::facts`]) and maps errors in
//! [`crate::error`]. Image jobs go through `mediabot.jobs.v1.Jobs`, which the job pipeline serves.

use mediabot_proto::imaging::v1::imaging_server::{Imaging, ImagingServer};
use mediabot_proto::imaging::v1::{DescribeRequest, ImageFacts};
use tonic::{Request, Response, Status};
use tracing::instrument;

use crate::facts;

/// Largest image accepted inline by `Describe`, bytes (24 MiB: a Telegram download is at most 20 MB).
pub const MAX_INLINE_IMAGE_BYTES: usize = 24 << 20;
/// Room for protobuf framing on top of the inline image.
const MESSAGE_OVERHEAD_BYTES: usize = 64 << 10;

/// The imaging gRPC service.
#[derive(Debug, Clone, Default)]
pub struct ImagingService;

impl ImagingService {
    /// The tonic server, sized for [`MAX_INLINE_IMAGE_BYTES`] of inline image.
    pub fn into_server(self) -> ImagingServer<Self> {
        ImagingServer::new(self)
            .max_decoding_message_size(MAX_INLINE_IMAGE_BYTES + MESSAGE_OVERHEAD_BYTES)
    }
}

#[tonic::async_trait]
impl Imaging for ImagingService {
    #[instrument(skip_all, fields(bytes = request.get_ref().image.len()))]
    async fn describe(
        &self,
        request: Request<DescribeRequest>,
    ) -> Result<Response<ImageFacts>, Status> {
        let image = request.into_inner().image;
        if image.len() > MAX_INLINE_IMAGE_BYTES {
            return Err(Status::invalid_argument(format!(
                "image is {} bytes; at most {MAX_INLINE_IMAGE_BYTES} are accepted inline",
                image.len()
            )));
        }
        // Headers only, but a TIFF's or a GIF's walk over a 20 MB file is still CPU work.
        let facts = tokio::task::spawn_blocking(move || facts::describe(&image))
            .await
            .map_err(|e| Status::internal(format!("describing the image crashed: {e}")))??;
        Ok(Response::new(facts))
    }
}
