//! Albums: pictures sent together (one `media_group_id`) get one offer ("4 photos: upscale all — 20 ₽"),
//! and its button starts one job on all of them: one hold for the sum, one batch in imaging, one archive
//! back (`Operation.count`, see the catalog).
//!
//! Telegram delivers an album as one update per picture, possibly to different gateway replicas. Each
//! picture is appended to the album's entry in the [`ALBUMS_BUCKET`] (compare-and-set, so concurrent
//! appends all land); then a task of its own waits [`ALBUM_QUIET`] and offers only if that append is
//! still the entry's latest revision, marking the album offered by another compare-and-set. So exactly
//! one offer goes out, after the last picture, whichever replica handles it. A picture arriving after the
//! offer is offered on its own.

use std::time::Duration;

use async_nats::jetstream::kv;
use bytes::Bytes;
use mediabot_proto::catalog::{ALBUM_MAX_IMAGES, price_of};
use mediabot_proto::jobs::v1::{ConvertTarget, Operation};
use serde::{Deserialize, Serialize};
use teloxide::prelude::*;
use teloxide::types::{InlineKeyboardButton, InlineKeyboardMarkup, MessageId, ReplyParameters};

use crate::i18n::{self, Lang};
use crate::jobs::MediaRef;
use crate::telegram::HandlerError;
use crate::{Error, Gateway, TelegramBot, bot_api};

/// Key-value bucket of albums being collected (key: `<chat_id>.<media_group_id>`, value: an [`Album`]
/// as JSON).
pub const ALBUMS_BUCKET: &str = "gateway-albums";
/// How long an album's pictures are remembered: its offer's button works this long.
pub const ALBUM_TTL: Duration = Duration::from_secs(24 * 60 * 60);
/// How long after a picture no further one must arrive before the album is offered.
pub const ALBUM_QUIET: Duration = Duration::from_millis(1500);

/// The operations offered for an album, in this order (each only where priced).
fn album_operations() -> [Operation; 3] {
    [
        Operation::upscale(2),
        Operation::convert(ConvertTarget::Png),
        Operation::compress(1000),
    ]
}

/// An album's pictures as they arrived, and whether it was offered.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Album {
    /// One per message, in the order their appends landed (sorted by message id when used).
    pub pictures: Vec<AlbumPicture>,
    /// The offer was sent (or is being sent): later pictures are on their own.
    pub offered: bool,
}

/// One picture of an album, from its message's metadata.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlbumPicture {
    /// The user's message holding it.
    pub message_id: i32,
    /// Bot API file id.
    pub file_id: String,
    /// Bytes, as Telegram reports them.
    pub size_bytes: u64,
    /// MIME type, when known.
    pub mime_type: Option<String>,
    /// File name, for a picture sent as a file.
    pub file_name: Option<String>,
}

impl AlbumPicture {
    fn of(message: &Message, media: &MediaRef) -> Self {
        Self {
            message_id: message.id.0,
            file_id: media.file_id.to_string(),
            size_bytes: media.size_bytes,
            mime_type: media.mime_type.clone(),
            file_name: media.file_name.clone(),
        }
    }

    /// As the job's input file.
    pub fn media(&self) -> MediaRef {
        MediaRef {
            file_id: teloxide::types::FileId(self.file_id.clone()),
            size_bytes: self.size_bytes,
            mime_type: self.mime_type.clone(),
            file_name: self.file_name.clone(),
            duration_secs: None,
        }
    }
}

/// The bucket key of the album `media_group_id` in `chat` (the id keeps only characters a key may hold).
pub fn album_key(chat: ChatId, media_group_id: &str) -> String {
    let id: String = media_group_id
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .take(64)
        .collect();
    format!("{}.{id}", chat.0)
}

/// How an album's wait for its last picture ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Completed {
    /// This picture was the last: the album's offer is sent.
    Offered,
    /// A later picture arrived (its wait decides), or another replica offered.
    Later,
    /// The "album" holds this one picture: it is to be offered on its own.
    Alone,
}

/// Adds the picture of `message` (`media`) to its album `media_group_id`: the album's key and the
/// entry's revision after the append, for [`offer_when_complete`]; `None` when the album was offered
/// already (or is full), and the picture is to be offered on its own. Errors: NATS failing.
pub async fn add(
    gateway: &Gateway,
    message: &Message,
    media_group_id: &str,
    media: &MediaRef,
) -> Result<Option<(String, u64)>, HandlerError> {
    let key = album_key(message.chat.id, media_group_id);
    let revision = append(gateway, &key, AlbumPicture::of(message, media)).await?;
    Ok(revision.map(|revision| (key, revision)))
}

/// Waits [`ALBUM_QUIET`]; if the append that made `revision` is still the album's latest, claims the
/// offer and sends it (or answers [`Completed::Alone`] for a single picture). Runs off the update's
/// handler: updates of one chat are handled in turn, so the album's further pictures can arrive
/// meanwhile. Errors: NATS or the Bot API failing.
pub async fn offer_when_complete(
    bot: &TelegramBot,
    gateway: &Gateway,
    chat: ChatId,
    key: &str,
    revision: u64,
    lang: Lang,
) -> Result<Completed, HandlerError> {
    tokio::time::sleep(ALBUM_QUIET).await;
    let Some(entry) = gateway.albums.entry(key).await? else {
        return Ok(Completed::Later);
    };
    if entry.revision != revision {
        return Ok(Completed::Later);
    }
    let mut album: Album = serde_json::from_slice(&entry.value)?;
    album.offered = true;
    match gateway
        .albums
        .update(key, Bytes::from(serde_json::to_vec(&album)?), revision)
        .await
    {
        Ok(_) => {}
        Err(e) if e.kind() == kv::UpdateErrorKind::WrongLastRevision => {
            return Ok(Completed::Later);
        }
        Err(e) => return Err(e.into()),
    }
    if album.pictures.len() < 2 {
        return Ok(Completed::Alone);
    }
    offer(bot, gateway, chat, &album, lang).await?;
    Ok(Completed::Offered)
}

/// Appends `picture` to the album at `key` (creating it); the entry's revision after the append, or
/// `None` when the album was offered already or is full (the picture goes alone). A replayed update's
/// picture is not added twice.
async fn append(
    gateway: &Gateway,
    key: &str,
    picture: AlbumPicture,
) -> Result<Option<u64>, HandlerError> {
    loop {
        let Some(entry) = gateway
            .albums
            .entry(key)
            .await?
            .filter(|e| e.operation == kv::Operation::Put)
        else {
            let album = Album {
                pictures: vec![picture.clone()],
                offered: false,
            };
            match gateway
                .albums
                .create(key, Bytes::from(serde_json::to_vec(&album)?))
                .await
            {
                Ok(revision) => return Ok(Some(revision)),
                Err(e) if e.kind() == kv::CreateErrorKind::AlreadyExists => continue,
                Err(e) => return Err(e.into()),
            }
        };
        let mut album: Album = serde_json::from_slice(&entry.value)?;
        if album.offered || album.pictures.len() >= ALBUM_MAX_IMAGES as usize {
            return Ok(None);
        }
        if album
            .pictures
            .iter()
            .any(|p| p.message_id == picture.message_id)
        {
            return Ok(Some(entry.revision));
        }
        album.pictures.push(picture.clone());
        match gateway
            .albums
            .update(
                key,
                Bytes::from(serde_json::to_vec(&album)?),
                entry.revision,
            )
            .await
        {
            Ok(revision) => return Ok(Some(revision)),
            Err(e) if e.kind() == kv::UpdateErrorKind::WrongLastRevision => continue,
            Err(e) => return Err(e.into()),
        }
    }
}

/// The album's offer, replying to its first picture: one button per priced album operation, at the sum
/// of the pictures' prices.
async fn offer(
    bot: &TelegramBot,
    gateway: &Gateway,
    chat: ChatId,
    album: &Album,
    lang: Lang,
) -> Result<(), HandlerError> {
    let count = album.pictures.len() as u32;
    let first = album
        .pictures
        .iter()
        .map(|p| p.message_id)
        .min()
        .unwrap_or_default();
    let prices = match gateway.backends.prices().await {
        Ok(prices) => prices,
        Err(error) => {
            tracing::warn!(%error, "billing ListPrices failed");
            bot_api::call(bot.send_message(chat, i18n::try_later(lang))).await?;
            return Ok(());
        }
    };
    let rows: Vec<Vec<InlineKeyboardButton>> = album_operations()
        .into_iter()
        .map(|operation| operation.times(count))
        .filter_map(|operation| {
            let (amount, entry) = price_of(&prices, &operation, 0)?;
            let price = i18n::money(lang, amount, &entry.currency);
            Some(vec![InlineKeyboardButton::callback(
                i18n::operation_button(lang, &operation, &price),
                operation.callback_data(),
            )])
        })
        .collect();
    if rows.is_empty() {
        bot_api::call(bot.send_message(chat, i18n::try_later(lang))).await?;
        return Ok(());
    }
    bot_api::call(
        bot.send_message(chat, i18n::album_offer(lang, count))
            .reply_parameters(ReplyParameters::new(MessageId(first)))
            .reply_markup(InlineKeyboardMarkup::new(rows)),
    )
    .await?;
    Ok(())
}

/// The pictures of the album whose first picture is `first` (the message its offer replies to), in the
/// order they were sent, when it holds exactly `count`; `None` when it is gone (expired) or differs.
pub async fn pictures(
    gateway: &Gateway,
    first: &Message,
    count: u32,
) -> Result<Option<Vec<AlbumPicture>>, Error> {
    let Some(media_group_id) = first.media_group_id() else {
        return Ok(None);
    };
    let key = album_key(first.chat.id, &media_group_id.0);
    let Some(bytes) = gateway
        .albums
        .get(key.as_str())
        .await
        .map_err(|e| Error::KeyValue(e.to_string()))?
    else {
        return Ok(None);
    };
    let mut album: Album =
        serde_json::from_slice(&bytes).map_err(|e| Error::KeyValue(e.to_string()))?;
    album.pictures.sort_by_key(|p| p.message_id);
    Ok((album.pictures.len() == count as usize
        && album.pictures.first().map(|p| p.message_id) == Some(first.id.0))
    .then_some(album.pictures))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn album_keys_hold_only_key_characters() {
        assert_eq!(
            album_key(ChatId(-100_123), "13577264985"),
            "-100123.13577264985"
        );
        assert_eq!(album_key(ChatId(42), "a.b*c>d"), "42.abcd");
    }

    #[test]
    fn album_operations_run_on_albums() {
        assert!(album_operations().iter().all(Operation::runs_on_albums));
    }
}
