//! What a file a user sent is, told in the intake reply before any paid work: for images, imaging's
//! `Describe` (format, size as shown, colour model and depth, frames, EXIF camera, date, orientation, GPS;
//! see `i18n::image_facts`). Facts are free: the file is downloaded and described without a hold, and
//! only images within the download limit are described. A file imaging cannot read is refused at once,
//! before a button is pressed; when imaging is slow or down the offer goes without the facts.

use std::time::Duration;

use mediabot_proto::imaging::v1::ImageFacts;
use tracing::instrument;

use crate::backends::MAX_DESCRIBE_BYTES;
use crate::jobs::MediaRef;
use crate::{Error, Gateway};

/// The most the download and the description of an image together may delay the offer.
pub const FACTS_DEADLINE: Duration = Duration::from_secs(5);

/// What is known about an image before it is offered.
#[derive(Debug, Clone, PartialEq)]
pub enum ImageIntake {
    /// imaging described it.
    Facts(ImageFacts),
    /// imaging refused it (INVALID_ARGUMENT, its reason logged): damaged, or not an image it reads.
    /// Nothing is offered.
    Unreadable,
    /// Not described: too large to download, imaging down or slow, a download failure. Offered as before.
    Unknown,
}

impl Gateway {
    /// Downloads the image `media` and asks imaging what it is, within [`FACTS_DEADLINE`].
    #[instrument(skip_all, fields(size_bytes = media.size_bytes))]
    pub async fn image_intake(&self, media: &MediaRef) -> ImageIntake {
        if media.size_bytes > self.limits.max_file_bytes
            || media.size_bytes > MAX_DESCRIBE_BYTES as u64
        {
            return ImageIntake::Unknown;
        }
        let described = tokio::time::timeout(FACTS_DEADLINE, async {
            let bytes = self.download(&media.file_id).await?;
            self.backends.describe_image(bytes).await
        })
        .await;
        match described {
            Ok(Ok(facts)) => ImageIntake::Facts(facts),
            Ok(Err(Error::Backend { status, .. }))
                if status.code() == tonic::Code::InvalidArgument =>
            {
                tracing::info!(reason = status.message(), "imaging cannot read the image");
                ImageIntake::Unreadable
            }
            Ok(Err(error)) => {
                tracing::warn!(%error, "the image was not described; offered without its facts");
                ImageIntake::Unknown
            }
            Err(_) => {
                tracing::warn!(
                    deadline = ?FACTS_DEADLINE,
                    "describing the image took too long; offered without its facts"
                );
                ImageIntake::Unknown
            }
        }
    }
}
