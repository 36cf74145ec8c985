//! Dialogues that collect an operation's parameters over several messages before its job starts:
//! `image.add_text` (image → "Add text" → the text → wishes or Skip), `image.generate` (/create → a shape
//! button or none → the description), `prompt.write` (/prompt → the idea), `image.edit` (pictures → model
//! and format buttons → the instruction), `image.retouch` (picture → a preset button → an instruction or
//! Start) and `image.face_swap` (the portrait → the target photo); and a main-menu mode waiting for the
//! picture it works on ([`Stage::AwaitImage`]).
//!
//! The state lives in the NATS key-value bucket [`DIALOGUES_BUCKET`], not in the gateway's memory, so the
//! next message of a dialogue may reach another replica, or a restarted gateway, and still continue it.
//! The key is the chat and the user (`<chat_id>.<user_id>`): in a group each member has a dialogue of
//! their own. Entries expire after [`DIALOGUE_TTL`] (the bucket's `max_age`); a new photo, file, voice
//! note or command ends a pending dialogue at once.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use teloxide::types::{ChatId, FileId, InlineKeyboardButton, InlineKeyboardMarkup, MessageId};

use crate::i18n::{self, Lang};
use crate::jobs::MediaRef;
use crate::{Error, Gateway};

/// Callback data of the Cancel button under a dialogue's question.
pub const CANCEL_DIALOGUE: &str = "dlg:cancel";

/// `keyboard` with a last row holding the dialogue's Cancel button.
pub fn with_cancel(keyboard: InlineKeyboardMarkup, lang: Lang) -> InlineKeyboardMarkup {
    keyboard.append_row([InlineKeyboardButton::callback(
        i18n::dialogue_cancel_button(lang),
        CANCEL_DIALOGUE,
    )])
}

/// A keyboard holding only the dialogue's Cancel button.
pub fn cancel_only(lang: Lang) -> InlineKeyboardMarkup {
    with_cancel(InlineKeyboardMarkup::default(), lang)
}

/// Key-value bucket of pending dialogues (key: `<chat_id>.<user_id>`, value: a [`Dialogue`] as JSON).
pub const DIALOGUES_BUCKET: &str = "gateway-dialogues";
/// How long a dialogue waits for the user's next message.
pub const DIALOGUE_TTL: Duration = Duration::from_secs(30 * 60);

/// What the dialogue waits for next.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "stage", rename_all = "snake_case")]
pub enum Stage {
    /// Add text: the text to draw on [`Dialogue::image`].
    Text,
    /// Add text: the wishes (or a press of Skip) for this text.
    Wishes {
        /// The text, already checked.
        text: String,
    },
    /// Create (`image.generate`): the description of the picture, in the chosen shape.
    Describe {
        /// The shape's name (`vertical`, `square`, `horizontal`), changed by the question's buttons.
        shape: String,
    },
    /// Write a prompt (`prompt.write`): the idea to write it from.
    Idea,
    /// Edit (`image.edit`): the instruction for [`Dialogue::image`] and [`Dialogue::more_images`]; more
    /// pictures may come first (up to the catalog's four).
    Instruct {
        /// The model alias chosen with the question's buttons.
        model: String,
        /// The result's format (`png`, `jpeg`, `webp`).
        format: String,
    },
    /// Retouch (`image.retouch`): a preset button for [`Dialogue::image`].
    Preset,
    /// Retouch: an instruction, or a press of Start, for the chosen preset.
    RetouchWishes {
        /// The preset's name (`soft`, `enhance`).
        preset: String,
    },
    /// Face swap (`image.face_swap`): the photo to put the face of [`Dialogue::image`] on.
    SwapTarget,
    /// A main-menu mode waiting for the picture it works on.
    AwaitImage {
        /// The mode ([`crate::menu::Mode`]'s name: `edit`, `retouch`, `add_text`, `face_swap`,
        /// `enhance`).
        mode: String,
    },
}

/// The picture an add-text dialogue is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DialogueImage {
    /// The user's message holding the image (the job's input; the result replies to it).
    pub message_id: i32,
    /// The image, as the message described it.
    pub file_id: String,
    /// Its size, bytes.
    pub size_bytes: u64,
    /// Its MIME type, if known.
    pub mime_type: Option<String>,
    /// Its file name, for documents.
    pub file_name: Option<String>,
}

impl DialogueImage {
    /// The picture of the message `message_id`, described by `media`.
    pub fn new(message_id: MessageId, media: &MediaRef) -> Self {
        DialogueImage {
            message_id: message_id.0,
            file_id: media.file_id.0.clone(),
            size_bytes: media.size_bytes,
            mime_type: media.mime_type.clone(),
            file_name: media.file_name.clone(),
        }
    }

    /// The image as a job input.
    pub fn media(&self) -> MediaRef {
        MediaRef {
            file_id: FileId(self.file_id.clone()),
            size_bytes: self.size_bytes,
            mime_type: self.mime_type.clone(),
            file_name: self.file_name.clone(),
            duration_secs: None,
        }
    }
}

/// A pending dialogue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dialogue {
    /// What comes next.
    #[serde(flatten)]
    pub stage: Stage,
    /// The picture the dialogue is about (add text, edit, retouch; face swap's portrait); none for
    /// Create, Write a prompt and a mode still waiting for a picture.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<DialogueImage>,
    /// Edit's further pictures, in the order sent.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub more_images: Vec<DialogueImage>,
    /// The bot's latest question (its buttons must be this message's).
    pub prompt_message_id: i32,
    /// Reply language code (`ru`, `en`).
    pub lang: String,
}

impl Dialogue {
    /// An add-text dialogue about to ask for the text of the image in `image_message_id`.
    pub fn new(image_message_id: MessageId, media: &MediaRef, lang: Lang) -> Self {
        Self::about_image(Stage::Text, image_message_id, media, lang)
    }

    /// A dialogue at `stage` about the picture of the message `image_message_id`, before its question
    /// is asked.
    pub fn about_image(
        stage: Stage,
        image_message_id: MessageId,
        media: &MediaRef,
        lang: Lang,
    ) -> Self {
        Dialogue {
            stage,
            image: Some(DialogueImage::new(image_message_id, media)),
            more_images: Vec::new(),
            prompt_message_id: 0,
            lang: lang.code().to_string(),
        }
    }

    /// A dialogue that asked, in `question`, for words at `stage` (Create, Write a prompt), or for a
    /// picture (a menu mode).
    pub fn words(stage: Stage, question: MessageId, lang: Lang) -> Self {
        Dialogue {
            stage,
            image: None,
            more_images: Vec::new(),
            prompt_message_id: question.0,
            lang: lang.code().to_string(),
        }
    }

    /// Every picture of the dialogue, in the order sent.
    pub fn images(&self) -> impl Iterator<Item = &DialogueImage> {
        self.image.iter().chain(&self.more_images)
    }

    /// The reply language.
    pub fn lang(&self) -> Lang {
        Lang::from_code(Some(&self.lang))
    }
}

/// What became of a picture added to an Edit dialogue ([`Gateway::add_dialogue_image`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Added {
    /// Stored; the dialogue as it is now.
    Added(Dialogue),
    /// The dialogue holds the most pictures already.
    Full,
    /// There is no Edit dialogue any more (it ended, expired or moved on).
    Ended,
}

/// The bucket key of a chat member's dialogue.
pub fn key(chat: ChatId, user_id: u64) -> String {
    format!("{}.{user_id}", chat.0)
}

impl Gateway {
    /// The pending dialogue of `user_id` in `chat`, if any. Unreadable entries (from a newer or older
    /// gateway) count as none.
    pub async fn dialogue(&self, chat: ChatId, user_id: u64) -> Result<Option<Dialogue>, Error> {
        let entry = self
            .dialogues
            .get(key(chat, user_id))
            .await
            .map_err(|e| Error::KeyValue(e.to_string()))?;
        Ok(
            entry.and_then(|bytes| match serde_json::from_slice(&bytes) {
                Ok(dialogue) => Some(dialogue),
                Err(error) => {
                    tracing::warn!(%error, "unreadable dialogue state; starting afresh");
                    None
                }
            }),
        )
    }

    /// Stores (or replaces) the dialogue of `user_id` in `chat`; it expires after [`DIALOGUE_TTL`].
    pub async fn save_dialogue(
        &self,
        chat: ChatId,
        user_id: u64,
        dialogue: &Dialogue,
    ) -> Result<(), Error> {
        let value = serde_json::to_vec(dialogue).map_err(|e| Error::KeyValue(e.to_string()))?;
        self.dialogues
            .put(key(chat, user_id), value.into())
            .await
            .map_err(|e| Error::KeyValue(e.to_string()))?;
        Ok(())
    }

    /// Adds `image` to the Edit dialogue of `user_id` in `chat` with a compare-and-set on the entry's
    /// revision, so the photos of an album that reach two replicas at once are all kept; retried on a
    /// conflict. Nothing is stored when the dialogue ended meanwhile or is full.
    pub async fn add_dialogue_image(
        &self,
        chat: ChatId,
        user_id: u64,
        image: DialogueImage,
        max_images: usize,
    ) -> Result<Added, Error> {
        let key = key(chat, user_id);
        for _ in 0..8 {
            let entry = self
                .dialogues
                .entry(key.as_str())
                .await
                .map_err(|e| Error::KeyValue(e.to_string()))?;
            let Some(entry) =
                entry.filter(|e| e.operation == async_nats::jetstream::kv::Operation::Put)
            else {
                return Ok(Added::Ended);
            };
            let Ok(mut dialogue) = serde_json::from_slice::<Dialogue>(&entry.value) else {
                return Ok(Added::Ended);
            };
            if !matches!(dialogue.stage, Stage::Instruct { .. }) {
                return Ok(Added::Ended);
            }
            if dialogue.images().count() >= max_images {
                return Ok(Added::Full);
            }
            dialogue.more_images.push(image.clone());
            let value =
                serde_json::to_vec(&dialogue).map_err(|e| Error::KeyValue(e.to_string()))?;
            if self
                .dialogues
                .update(key.as_str(), value.into(), entry.revision)
                .await
                .is_ok()
            {
                return Ok(Added::Added(dialogue));
            }
        }
        Err(Error::KeyValue(
            "the dialogue kept changing while a picture was added".into(),
        ))
    }

    /// Ends the dialogue of `user_id` in `chat`, if there is one; true when there was one (or the state
    /// could not be read). Best effort: a failure is logged, and the entry expires by itself.
    pub async fn end_dialogue(&self, chat: ChatId, user_id: u64) -> bool {
        // A cheap read first, so the common case (no dialogue) writes nothing. A deleted entry reads as
        // none.
        match self.dialogues.get(key(chat, user_id)).await {
            Ok(None) => false,
            Ok(Some(_)) | Err(_) => {
                if let Err(error) = self.dialogues.delete(key(chat, user_id)).await {
                    tracing::warn!(%error, "could not end a dialogue; it expires by itself");
                }
                true
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dialogues_round_trip_as_json() {
        let media = MediaRef {
            file_id: FileId("AgAD-1".into()),
            size_bytes: 1234,
            mime_type: Some("image/jpeg".into()),
            file_name: None,
            duration_secs: None,
        };
        let mut dialogue = Dialogue::new(MessageId(7), &media, Lang::Ru);
        dialogue.stage = Stage::Wishes {
            text: "Привет 👋".into(),
        };
        let json = serde_json::to_string(&dialogue).unwrap();
        assert!(json.contains(r#""stage":"wishes""#), "{json}");
        let back: Dialogue = serde_json::from_str(&json).unwrap();
        assert_eq!(back, dialogue);
        assert_eq!(back.image.as_ref().unwrap().media().file_id, media.file_id);
        assert_eq!(back.lang(), Lang::Ru);
        let create = Dialogue::words(
            Stage::Describe {
                shape: "vertical".into(),
            },
            MessageId(9),
            Lang::En,
        );
        let json = serde_json::to_string(&create).unwrap();
        assert_eq!(
            json,
            r#"{"stage":"describe","shape":"vertical","prompt_message_id":9,"lang":"en"}"#
        );
        assert_eq!(serde_json::from_str::<Dialogue>(&json).unwrap(), create);
        assert_eq!(key(ChatId(-1005), 42), "-1005.42");
    }
}
