//! The update handler tree: commands, photos and image files (told what they are, [`crate::intake`], and
//! offered the operations of the [`operations`](crate::operations) table by inline keyboard), voice notes,
//! audio, videos and video notes (their sound transcribed at once in the user's language, see
//! [`operations::speech_language`]), documents (PDF, DOCX, ODT, plain text: their text read at once),
//! button presses (under an offer, or under a transcript: Translate to English), and the add-text
//! dialogue (Add text under an offer → the text → wishes or Skip; its state in NATS KV,
//! [`crate::dialogue`]; the wishes parsed by [`crate::text_wishes`]). Endpoints only read the update, pick
//! the language and delegate to [`Gateway`] (jobs, dialogues, intake) or billing (balances, history,
//! admin top-ups).

use mediabot_proto::billing::v1::{GetBalanceRequest, IssueApiKeyRequest, PriceUnit, TopUpRequest};
use mediabot_proto::catalog::{self, ADD_TEXT_MAX_CHARS, price_of};
use mediabot_proto::jobs::v1::{AddText, Operation};
use teloxide::dispatching::UpdateHandler;
use teloxide::prelude::*;
use teloxide::types::{
    BotCommand, BotCommandScope, FileMeta, ForceReply, InlineKeyboardButton, InlineKeyboardMarkup,
    MaybeInaccessibleMessage, Me, MessageEntityKind, MessageId, Recipient, ReplyParameters,
    StickerFormat,
};
use teloxide::utils::command::BotCommands;

use tracing::Instrument as _;

use crate::activity;
use crate::admin::{self, AddBalance};
use crate::albums::{self, AlbumPicture};
use crate::bot_api;
use crate::dialogue::{CANCEL_DIALOGUE, Dialogue, DialogueImage, Stage, with_cancel};
use crate::edits::{self, Opening};
use crate::generate;
use crate::i18n::{self, Lang, MediaFacts, OtherMedia};
use crate::intake::ImageIntake;
use crate::jobs::{self, Cancel, JobStart, MediaRef, Started, StatusMessage};
use crate::languages::LanguageChoice;
use crate::menu;
use crate::operations::{self, Input, Start};
use crate::text_wishes;
use crate::{Gateway, TelegramBot};

/// Callback data of the Skip button of the add-text dialogue (the default look).
pub const SKIP_WISHES: &str = "dlg:skip";

/// Error type of the endpoints; the dispatcher logs it.
pub type HandlerError = Box<dyn std::error::Error + Send + Sync>;
type HandlerResult = Result<(), HandlerError>;

/// The bot's commands.
#[derive(BotCommands, Clone, Debug)]
#[command(rename_rule = "lowercase")]
pub enum Command {
    /// Greeting, balance and prices; opens the account and shows the main menu.
    Start,
    /// The main menu (a keyboard of modes: Create, Write a prompt, Edit, Retouch, ...).
    Menu,
    /// The current balance.
    Balance,
    /// The paid operations, one line each (done and paid / in progress / money returned), newest first,
    /// with a "More" button for older ones.
    History,
    /// The jobs in progress with their queue position or percent; `/status <id>` one job, by the short
    /// id its messages show (`#c3d4e5f6`).
    Status(String),
    /// What the bot does.
    Help,
    /// A key for the HTTP API (OpenAI-compatible transcription), paid from this balance; replaces the
    /// previous key. Private chats only.
    Apikey,
    /// Whether the bot and the services behind it answer, and how fast.
    Ping,
    /// Ends what the bot is asking for (a dialogue: add text, create, write a prompt); any other command
    /// ends it too.
    Cancel,
    /// 🎨 A picture from a description (`image.generate`): asks for the description, with the shape as
    /// buttons.
    Create,
    /// ✍️ A detailed image prompt written from an idea (`prompt.write`), with a "Create" button under it.
    Prompt,
    /// The interface language (Russian, English) and the spoken language of recordings (the same, or
    /// detected).
    Language,
    /// Administrators: `/add_balance [<telegram id>] <amount in ₽>` credits an account (the admin's own
    /// without an id).
    #[command(rename = "add_balance", hide)]
    AddBalance(String),
}

/// The handler tree given to the dispatcher.
pub fn schema() -> UpdateHandler<HandlerError> {
    let messages = Update::filter_message()
        // In a group, only what is meant for the bot; the rest is the members' own conversation.
        .chain(dptree::filter(|m: Message, me: Me| meant_for_bot(&m, &me)))
        .branch(teloxide::filter_command::<Command, _>().endpoint(on_command))
        .branch(dptree::filter(|m: Message| image_of(&m).is_some()).endpoint(on_image))
        .branch(dptree::filter(|m: Message| audio_of(&m).is_some()).endpoint(on_audio))
        .branch(dptree::filter(|m: Message| document_of(&m).is_some()).endpoint(on_document))
        .branch(dptree::endpoint(on_other));
    let callbacks = Update::filter_callback_query().endpoint(on_callback);
    dptree::entry().branch(messages).branch(callbacks)
}

/// Whether `message` is for the bot: everything in a private chat; in a group or supergroup a command
/// at its start that is the bot's (`/help@<bot>`, or `/help` naming no bot: only this one is asked
/// then), a mention of the bot (`@<bot>`, or a mention of its account), or a reply to one of the bot's
/// messages. Telegram delivers a bot in privacy mode (the default) little else; with privacy mode off
/// the bot would see every message of the group, and must still not answer the members' chatter.
pub fn meant_for_bot(message: &Message, me: &Me) -> bool {
    if message.chat.is_private() {
        return true;
    }
    let reply_to_bot = message
        .reply_to_message()
        .and_then(|replied| replied.from.as_ref())
        .is_some_and(|author| author.id == me.id);
    if reply_to_bot {
        return true;
    }
    let entities = message
        .parse_entities()
        .or_else(|| message.parse_caption_entities())
        .unwrap_or_default();
    entities.iter().any(|entity| match entity.kind() {
        MessageEntityKind::BotCommand => {
            entity.start() == 0
                && entity
                    .text()
                    .split_once('@')
                    .is_none_or(|(_, bot)| bot.eq_ignore_ascii_case(me.username()))
        }
        MessageEntityKind::Mention => entity
            .text()
            .trim_start_matches('@')
            .eq_ignore_ascii_case(me.username()),
        MessageEntityKind::TextMention { user } => user.id == me.id,
        _ => false,
    })
}

/// Sets the command menu in English and Russian; administrators' private chats get /add_balance too.
/// Failures are logged, not fatal.
pub async fn register_commands(bot: &TelegramBot, admins: &admin::AdminIds) {
    let menus = [
        (
            None,
            [
                ("start", "Start: balance and prices"),
                ("menu", "Main menu"),
                ("create", "Create a picture from a description"),
                ("prompt", "Write a prompt from an idea"),
                ("balance", "Your balance"),
                ("history", "Paid operations"),
                ("status", "Jobs in progress"),
                ("help", "How it works"),
                ("apikey", "Key for the HTTP API"),
                ("cancel", "Cancel what the bot is asking for"),
                ("ping", "Is the bot working?"),
                ("language", "Language / Язык"),
            ],
        ),
        (
            Some("ru"),
            [
                ("start", "Начало: баланс и цены"),
                ("menu", "Главное меню"),
                ("create", "Создать картинку по описанию"),
                ("prompt", "Написать промпт по идее"),
                ("balance", "Ваш баланс"),
                ("history", "Платные операции"),
                ("status", "Что сейчас выполняется"),
                ("help", "Как это работает"),
                ("apikey", "Ключ для HTTP API"),
                ("cancel", "Отменить то, о чём спрашивает бот"),
                ("ping", "Работает ли бот?"),
                ("language", "Язык / Language"),
            ],
        ),
    ];
    for (language, commands) in menus {
        let commands = commands
            .iter()
            .map(|(c, d)| BotCommand::new(*c, *d))
            .collect::<Vec<_>>();
        let mut request = bot.set_my_commands(commands.clone());
        if let Some(code) = language {
            request = request.language_code(code);
        }
        if let Err(error) = bot_api::call(request).await {
            tracing::warn!(%error, "setMyCommands failed");
        }
        // Administrators see their command too, in their private chat with the bot only.
        let admin_command = match language {
            Some("ru") => BotCommand::new("add_balance", "Пополнить баланс: [id] сумма в ₽"),
            _ => BotCommand::new("add_balance", "Top up a balance: [id] amount in ₽"),
        };
        for admin in admins.iter() {
            let mut with_admin = commands.clone();
            with_admin.push(admin_command.clone());
            let scope = BotCommandScope::Chat {
                chat_id: Recipient::Id(ChatId(admin as i64)),
            };
            let mut request = bot.set_my_commands(with_admin).scope(scope);
            if let Some(code) = language {
                request = request.language_code(code);
            }
            if let Err(error) = bot_api::call(request).await {
                tracing::warn!(%error, admin, "setMyCommands for an administrator failed");
            }
        }
    }
}

/// The languages of `user` (of a message without a sender: the default's).
async fn choice_of(gateway: &Gateway, user: Option<&teloxide::types::User>) -> LanguageChoice {
    match user {
        Some(user) => gateway.language_of(user).await,
        None => LanguageChoice {
            lang: Lang::from_code(None),
            detect_speech: false,
        },
    }
}

/// The reply language of `user`: their /language choice, else their Telegram interface's.
pub(crate) async fn lang_of(gateway: &Gateway, user: Option<&teloxide::types::User>) -> Lang {
    choice_of(gateway, user).await.lang
}

/// The image in a message: the largest photo size, or a document whose MIME type or name says image.
pub fn image_of(message: &Message) -> Option<(Input, MediaRef)> {
    if let Some(largest) = message
        .photo()
        .and_then(|sizes| sizes.iter().max_by_key(|p| p.width * p.height))
    {
        return Some((
            Input::Photo,
            media(&largest.file, Some("image/jpeg".into()), None, None),
        ));
    }
    // An ordinary sticker is a WebP picture (animated and video stickers are not pictures).
    if let Some(sticker) = message
        .sticker()
        .filter(|s| s.format() == StickerFormat::Static)
    {
        return Some((
            Input::ImageDocument,
            media(&sticker.file, Some("image/webp".into()), None, None),
        ));
    }
    let document = message.document()?;
    let mime = document
        .mime_type
        .as_ref()
        .map(|m| m.essence_str().to_string());
    let name = document.file_name.clone();
    let by_mime = mime.as_deref().is_some_and(|m| m.starts_with("image/"));
    let by_name = name.as_deref().is_some_and(|n| {
        let n = n.to_ascii_lowercase();
        [
            ".jpg", ".jpeg", ".png", ".webp", ".gif", ".bmp", ".tif", ".tiff", ".heic", ".heif",
            ".avif",
        ]
        .iter()
        .any(|ext| n.ends_with(ext))
    });
    (by_mime || by_name).then(|| {
        (
            Input::ImageDocument,
            media(&document.file, mime, name, None),
        )
    })
}

/// The picture a button press under `pressed` acts on: the picture `pressed` itself holds (a result,
/// whose next step works on it), else the picture of the message `pressed` replies to (an offer's);
/// with the message holding it.
pub(crate) fn picture_of_press(pressed: &Message) -> Option<(&Message, Input, MediaRef)> {
    let holder = if image_of(pressed).is_some() {
        pressed
    } else {
        pressed.reply_to_message()?
    };
    image_of(holder).map(|(input, media)| (holder, input, media))
}

/// The audio in a message: a voice note, an audio file, a video or video note (see [`video_of`]), or a
/// document whose MIME type says audio.
pub fn audio_of(message: &Message) -> Option<(Input, MediaRef)> {
    if let Some(voice) = message.voice() {
        return Some((
            Input::Voice,
            media(
                &voice.file,
                voice
                    .mime_type
                    .as_ref()
                    .map(|m| m.essence_str().to_string()),
                None,
                Some(voice.duration.seconds()),
            ),
        ));
    }
    if let Some(audio) = message.audio() {
        return Some((
            Input::Audio,
            media(
                &audio.file,
                audio
                    .mime_type
                    .as_ref()
                    .map(|m| m.essence_str().to_string()),
                audio.file_name.clone(),
                Some(audio.duration.seconds()),
            ),
        ));
    }
    if let Some(video) = video_of(message) {
        return Some(video);
    }
    typed_document(message, "audio/", Input::Audio)
}

/// The video in a message, whose sound is to be transcribed: a video note, a video, or a document whose
/// MIME type says video (a phone's "send as file"). The duration comes from the message for videos and
/// video notes (the price and the limit are checked before the download), not for documents.
pub fn video_of(message: &Message) -> Option<(Input, MediaRef)> {
    if let Some(note) = message.video_note() {
        return Some((
            Input::VideoNote,
            media(
                &note.file,
                // The Bot API gives a video note no MIME type; Telegram's are always MP4.
                Some("video/mp4".into()),
                None,
                Some(note.duration.seconds()),
            ),
        ));
    }
    if let Some(video) = message.video() {
        return Some((
            Input::Video,
            media(
                &video.file,
                video
                    .mime_type
                    .as_ref()
                    .map(|m| m.essence_str().to_string()),
                video.file_name.clone(),
                Some(video.duration.seconds()),
            ),
        ));
    }
    typed_document(message, "video/", Input::Video)
}

/// A document whose MIME type starts with `prefix` ("audio/", "video/"), as `input`. Documents carry no
/// duration.
fn typed_document(message: &Message, prefix: &str, input: Input) -> Option<(Input, MediaRef)> {
    let document = message.document()?;
    let mime = document
        .mime_type
        .as_ref()
        .map(|m| m.essence_str().to_string())?;
    mime.starts_with(prefix).then(|| {
        let file = media(&document.file, Some(mime), document.file_name.clone(), None);
        (input, file)
    })
}

/// File name endings of the documents whose text the bot reads (the documents service sniffs the real
/// format from the bytes; this only decides what is sent there).
const DOCUMENT_EXTENSIONS: &[&str] = &[
    ".pdf",
    ".docx",
    ".odt",
    ".txt",
    ".md",
    ".markdown",
    ".csv",
    ".tsv",
    ".log",
    ".text",
];
/// MIME types of those documents (`text/*` is taken as a whole).
const DOCUMENT_MIME_TYPES: &[&str] = &[
    "application/pdf",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.oasis.opendocument.text",
];

/// A document whose text is to be read: a PDF, DOCX, ODT or plain-text file, by MIME type or name.
pub fn document_of(message: &Message) -> Option<(Input, MediaRef)> {
    let document = message.document()?;
    let mime = document
        .mime_type
        .as_ref()
        .map(|m| m.essence_str().to_string());
    let name = document.file_name.clone();
    let by_mime = mime
        .as_deref()
        .is_some_and(|m| m.starts_with("text/") || DOCUMENT_MIME_TYPES.contains(&m));
    let by_name = name.as_deref().is_some_and(|n| {
        let n = n.to_ascii_lowercase();
        DOCUMENT_EXTENSIONS.iter().any(|ext| n.ends_with(ext))
    });
    (by_mime || by_name).then(|| (Input::Document, media(&document.file, mime, name, None)))
}

/// The [`MediaRef`] of one file of a message.
fn media(
    file: &FileMeta,
    mime_type: Option<String>,
    file_name: Option<String>,
    duration_secs: Option<u32>,
) -> MediaRef {
    MediaRef {
        file_id: file.id.clone(),
        size_bytes: u64::from(file.size),
        mime_type,
        file_name,
        duration_secs,
    }
}

async fn on_command(
    bot: TelegramBot,
    gateway: Gateway,
    message: Message,
    command: Command,
    me: Me,
) -> HandlerResult {
    let lang = lang_of(&gateway, message.from.as_ref()).await;
    let Some(user) = message.from.as_ref() else {
        return Ok(());
    };
    // A command ends a pending dialogue.
    let ended = gateway.end_dialogue(message.chat.id, user.id.0).await;
    let account_id = user.id.0 as i64;
    let text = match command {
        Command::Help => i18n::help(lang, gateway.limits.max_file_bytes >> 20),
        Command::Cancel => i18n::cancelled(lang, ended),
        Command::Menu => return menu::show(&bot, &message, lang, me.username()).await,
        Command::Create => return generate::open_create(&bot, &gateway, &message, lang).await,
        Command::Prompt => return generate::open_prompt(&bot, &gateway, &message, lang).await,
        Command::Ping => i18n::ping(lang, &crate::ping::ping(&gateway).await),
        Command::Language => {
            let choice = gateway.language_of(user).await;
            bot_api::call(
                bot.send_message(message.chat.id, i18n::language_menu(choice))
                    .reply_markup(language_keyboard(choice)),
            )
            .await?;
            return Ok(());
        }
        Command::Apikey => api_key(&gateway, lang, &message, account_id).await,
        Command::History => {
            let page = activity::history_page(&gateway, lang, account_id, String::new()).await;
            let (text, keyboard) = page.unwrap_or_else(|status| {
                tracing::warn!(%status, "billing ListHolds failed");
                (i18n::try_later(lang), None)
            });
            let mut send = bot.send_message(message.chat.id, text);
            if let Some(keyboard) = keyboard {
                send = send.reply_markup(keyboard);
            }
            bot_api::call(send).await?;
            return Ok(());
        }
        Command::Status(argument) => activity::status(&gateway, lang, account_id, &argument).await,
        Command::AddBalance(args) => add_balance(&gateway, lang, &message, user, &args).await,
        Command::Balance => balance_text(&gateway, lang, account_id, false).await,
        Command::Start => {
            // The welcome comes with the main menu; in a group, with how to talk to the bot there.
            let text = balance_text(&gateway, lang, account_id, true).await;
            let send = if message.chat.is_private() {
                bot.send_message(message.chat.id, text)
                    .reply_markup(menu::keyboard(lang))
            } else {
                let how_to = i18n::group_how_to(lang, me.username());
                bot.send_message(message.chat.id, format!("{text}\n\n{how_to}"))
            };
            bot_api::call(send).await?;
            return Ok(());
        }
    };
    bot_api::call(bot.send_message(message.chat.id, text)).await?;
    Ok(())
}

/// The balance (/balance, 💰 Balance), or with `welcome` the /start greeting with the balance and the
/// price list; "try later" when billing does not answer.
pub(crate) async fn balance_text(
    gateway: &Gateway,
    lang: Lang,
    account_id: i64,
    welcome: bool,
) -> String {
    let mut billing = gateway.backends.billing.clone();
    match billing.get_balance(GetBalanceRequest { account_id }).await {
        Err(status) => {
            tracing::warn!(%status, "billing GetBalance failed");
            i18n::try_later(lang)
        }
        Ok(balance) => {
            let balance = balance.into_inner();
            let available = i18n::money(lang, balance.available_minor, &balance.currency);
            if welcome {
                let lines = price_lines(gateway, lang).await;
                i18n::welcome(lang, &available, &lines)
            } else {
                let held = (balance.held_minor > 0)
                    .then(|| i18n::money(lang, balance.held_minor, &balance.currency));
                i18n::balance(lang, &available, held.as_deref())
            }
        }
    }
}

/// `/apikey`: a new key for the HTTP API (billing revokes the previous one), in a private chat only, so
/// the key is not shown to a group.
async fn api_key(gateway: &Gateway, lang: Lang, message: &Message, account_id: i64) -> String {
    let Some(base_url) = gateway.api_base_url.as_deref() else {
        return i18n::api_off(lang);
    };
    if !message.chat.is_private() {
        return i18n::api_key_private_only(lang);
    }
    let issued = gateway
        .backends
        .billing
        .clone()
        .issue_api_key(IssueApiKeyRequest { account_id })
        .await;
    match issued {
        Ok(issued) => {
            let issued = issued.into_inner();
            tracing::info!(prefix = %issued.prefix, revoked = issued.revoked, "API key issued");
            i18n::api_key(lang, &issued.api_key, base_url, issued.revoked > 0)
        }
        Err(status) => {
            tracing::warn!(%status, "billing IssueApiKey failed");
            i18n::try_later(lang)
        }
    }
}

/// `/add_balance`: administrators only; the TopUp key comes from the chat and message id, so a replayed
/// update credits once.
#[tracing::instrument(skip_all, fields(admin_id = user.id.0, chat_id = message.chat.id.0, message_id = message.id.0))]
async fn add_balance(
    gateway: &Gateway,
    lang: Lang,
    message: &Message,
    user: &teloxide::types::User,
    args: &str,
) -> String {
    if !gateway.admins.contains(user.id.0) {
        tracing::warn!("/add_balance from a user who is not an administrator");
        return i18n::not_allowed(lang);
    }
    let request = match AddBalance::parse(args) {
        Ok(request) => request,
        Err(error) => return i18n::add_balance_invalid(lang, error),
    };
    let account_id = request.account_id.unwrap_or(user.id.0 as i64);
    let top_up = TopUpRequest {
        account_id,
        amount_minor: request.amount_minor,
        idempotency_key: admin::idempotency_key(message.chat.id.0, message.id.0),
        source: admin::source(user.id.0),
    };
    match gateway.backends.billing.clone().top_up(top_up).await {
        Ok(response) => {
            let balance = response.into_inner().balance.unwrap_or_default();
            tracing::info!(
                account_id,
                amount_minor = request.amount_minor,
                "balance added by an administrator"
            );
            i18n::balance_added(
                lang,
                &i18n::money(lang, request.amount_minor, &balance.currency),
                account_id,
                &i18n::money(lang, balance.available_minor, &balance.currency),
            )
        }
        Err(status) => {
            tracing::warn!(%status, account_id, "billing TopUp failed");
            i18n::try_later(lang)
        }
    }
}

/// One line per operation of the table that has a price: "Photo upscale ×2 — 5 ₽".
async fn price_lines(gateway: &Gateway, lang: Lang) -> Vec<String> {
    let prices = match gateway.backends.prices().await {
        Ok(prices) => prices,
        Err(error) => {
            tracing::warn!(%error, "billing ListPrices failed");
            return Vec::new();
        }
    };
    let mut lines: Vec<String> = Vec::new();
    for operation in operations::all() {
        let operation = operations::with_default_model(operation, &prices);
        let Some((amount, entry)) = price_of(&prices, &operation, 0) else {
            continue;
        };
        let money = i18n::money(lang, amount, &entry.currency);
        let per_minute = entry.unit() == PriceUnit::StartedMinute;
        let line = format!(
            "{} — {}",
            i18n::operation_name(lang, &operation),
            i18n::price_label(lang, &money, per_minute)
        );
        // Variants priced alike (the compression targets) make one line.
        if !lines.contains(&line) {
            lines.push(line);
        }
    }
    lines
}

async fn on_image(bot: TelegramBot, gateway: Gateway, message: Message) -> HandlerResult {
    let choice = choice_of(&gateway, message.from.as_ref()).await;
    let lang = choice.lang;
    let Some((input, media)) = image_of(&message) else {
        return Ok(());
    };
    // A picture a dialogue waits for goes to it (a menu mode's picture, Edit's further pictures, Face
    // swap's target); any other dialogue ends (it was about the previous picture).
    let mut enhance = false;
    if let Some(user) = message.from.as_ref() {
        match gateway.dialogue(message.chat.id, user.id.0).await {
            Ok(Some(dialogue)) => match dialogue.stage.clone() {
                Stage::AwaitImage { mode } => {
                    let lang = dialogue.lang();
                    if menu::image_for_mode(&bot, &gateway, &message, media.clone(), &mode, lang)
                        .await?
                    {
                        return Ok(());
                    }
                    enhance = true;
                }
                Stage::Instruct { .. } => {
                    return edits::more_image(&bot, &gateway, &message, &media, dialogue).await;
                }
                Stage::SwapTarget => {
                    return edits::swap_target(&bot, &gateway, &message, media, dialogue).await;
                }
                _ => {
                    gateway.end_dialogue(message.chat.id, user.id.0).await;
                }
            },
            Ok(None) => {}
            Err(error) => {
                tracing::warn!(%error, "could not read the dialogue state");
                gateway.end_dialogue(message.chat.id, user.id.0).await;
            }
        }
    }
    // Pictures sent together: one offer for all of them, sent by the task of the last one to arrive
    // (or this one alone, see `albums`).
    if let Some(group) = message.media_group_id()
        && let Some((key, revision)) = albums::add(&gateway, &message, &group.0, &media).await?
    {
        let span = tracing::Span::current();
        tokio::spawn(
            async move {
                let chat = message.chat.id;
                let offered =
                    albums::offer_when_complete(&bot, &gateway, chat, &key, revision, lang).await;
                let done = match offered {
                    Ok(albums::Completed::Alone) => {
                        offer_picture(&bot, &gateway, &message, input, media, choice, enhance).await
                    }
                    Ok(_) => Ok(()),
                    Err(error) => Err(error),
                };
                if let Err(error) = done {
                    tracing::warn!(%error, "could not offer an album");
                }
            }
            .instrument(span),
        );
        return Ok(());
    }
    offer_picture(&bot, &gateway, &message, input, media, choice, enhance).await
}

/// The offer under a picture: its facts and the operations for it with their prices (`enhance`: only
/// the Enhance mode's).
async fn offer_picture(
    bot: &TelegramBot,
    gateway: &Gateway,
    message: &Message,
    input: Input,
    media: MediaRef,
    choice: LanguageChoice,
    enhance: bool,
) -> HandlerResult {
    let lang = choice.lang;
    let prices = match gateway.backends.prices().await {
        Ok(prices) => prices,
        Err(error) => {
            tracing::warn!(%error, "billing ListPrices failed");
            bot_api::call(bot.send_message(message.chat.id, i18n::try_later(lang))).await?;
            return Ok(());
        }
    };
    // An operation without a price is not offered (the price list decides what is sold).
    let format = operations::declared_format(
        input,
        media.mime_type.as_deref(),
        media.file_name.as_deref(),
    );
    let facts = match gateway.image_intake(&media).await {
        ImageIntake::Facts(facts) => Some(facts),
        ImageIntake::Unreadable => {
            bot_api::call(
                bot.send_message(message.chat.id, i18n::image_unreadable(lang))
                    .reply_parameters(ReplyParameters::new(message.id)),
            )
            .await?;
            return Ok(());
        }
        ImageIntake::Unknown => None,
    };
    let size = facts.as_ref().map(|f| (f.width_px, f.height_px));
    let language = choice.speech_language();
    let buttons = operations::buttons_for_file(input, media.size_bytes, language)
        .into_iter()
        .filter(|operation| operations::fits_format(operation, format))
        .filter(|operation| size.is_none_or(|size| operations::fits_size(operation, size)))
        .filter(|operation| !enhance || menu::enhance_only(operation))
        .map(|operation| operations::with_default_model(operation, &prices))
        .filter_map(|operation| {
            let (amount, entry) = price_of(&prices, &operation, 0)?;
            let price = i18n::money(lang, amount, &entry.currency);
            let button = InlineKeyboardButton::callback(
                i18n::operation_button(lang, &operation, &price),
                operation.callback_data(),
            );
            Some((operation.id(), button))
        });
    let rows = keyboard_rows(buttons);
    if rows.is_empty() {
        bot_api::call(bot.send_message(message.chat.id, i18n::try_later(lang))).await?;
        return Ok(());
    }
    bot_api::call(
        bot.send_message(message.chat.id, i18n::image_offer(lang, facts.as_ref()))
            .reply_parameters(ReplyParameters::new(message.id))
            .reply_markup(InlineKeyboardMarkup::new(rows)),
    )
    .await?;
    Ok(())
}

/// Buttons in rows: variants of one operation (compression targets) share a row, two at most; every
/// other operation has a row of its own.
fn keyboard_rows(
    buttons: impl Iterator<Item = (Option<&'static str>, InlineKeyboardButton)>,
) -> Vec<Vec<InlineKeyboardButton>> {
    const SHARED: &[&str] = &["image.compress", "image.convert", "image.upscale_remote"];
    let mut rows: Vec<(Option<&'static str>, Vec<InlineKeyboardButton>)> = Vec::new();
    for (id, button) in buttons {
        match rows.last_mut() {
            Some((last, row))
                if *last == id && id.is_some_and(|i| SHARED.contains(&i)) && row.len() < 2 =>
            {
                row.push(button);
            }
            _ => rows.push((id, vec![button])),
        }
    }
    rows.into_iter().map(|(_, row)| row).collect()
}

async fn on_audio(gateway: Gateway, update: Update, message: Message) -> HandlerResult {
    let span = update_span(&update, message.chat.id.0, message.from.as_ref());
    audio_update(gateway, message).instrument(span).await
}

/// The span of one Telegram update that starts work: the root of the update's trace, which the job's
/// gRPC calls, NATS messages and delivery continue (docs/architecture.md, "One job, end to end").
fn update_span(
    update: &Update,
    chat_id: i64,
    user: Option<&teloxide::types::User>,
) -> tracing::Span {
    tracing::info_span!(
        "update",
        update_id = update.id.0,
        chat_id,
        user_id = user.map(|u| u.id.0).unwrap_or_default(),
    )
}

async fn on_document(gateway: Gateway, update: Update, message: Message) -> HandlerResult {
    let span = update_span(&update, message.chat.id.0, message.from.as_ref());
    let file = document_of(&message);
    immediate_update(gateway, message, file)
        .instrument(span)
        .await
}

async fn audio_update(gateway: Gateway, message: Message) -> HandlerResult {
    let file = audio_of(&message);
    immediate_update(gateway, message, file).await
}

/// Starts the operation the table starts at once for `file` (a transcription, a document's text), in
/// the user's language.
async fn immediate_update(
    gateway: Gateway,
    message: Message,
    file: Option<(Input, MediaRef)>,
) -> HandlerResult {
    let (Some((input, media)), Some(user)) = (file, message.from.as_ref()) else {
        return Ok(());
    };
    let choice = gateway.language_of(user).await;
    let (lang, language) = (choice.lang, choice.speech_language());
    gateway.end_dialogue(message.chat.id, user.id.0).await;
    let Some(operation) = operations::immediate_for(input, language) else {
        return Ok(());
    };
    let start = JobStart {
        operation,
        media: Some(media),
        more_media: Vec::new(),
        chat_id: message.chat.id,
        user_id: user.id.0 as i64,
        source_message: message.id,
        status: StatusMessage::Reply,
        lang,
    };
    // A replayed update is the same job: it is not started twice, and there is nothing to tell.
    // Errors were already told to the user and logged.
    let _ = gateway.start_job(start).await;
    Ok(())
}

async fn on_other(
    bot: TelegramBot,
    gateway: Gateway,
    update: Update,
    message: Message,
) -> HandlerResult {
    let lang = lang_of(&gateway, message.from.as_ref()).await;
    if let Some(user) = message.from.as_ref() {
        let chat = message.chat.id;
        let span = update_span(&update, chat.0, Some(user));
        // A main-menu button opens its mode, whatever was pending.
        if let Some(mode) = message.text().and_then(menu::Mode::from_label) {
            return menu::open(&bot, &gateway, &message, mode, lang)
                .instrument(span)
                .await;
        }
        // Power syntax («Изображение …», "Image …") starts a picture at any time, except as the text
        // of a pending add-text dialogue.
        let power = message.text().is_some_and(generate::is_power);
        if message.text().is_some_and(|t| t.starts_with('/')) {
            // An unknown command ends the dialogue too.
            gateway.end_dialogue(chat, user.id.0).await;
        } else {
            match gateway.dialogue(chat, user.id.0).await {
                Ok(Some(dialogue)) => match dialogue.stage {
                    Stage::Text | Stage::Wishes { .. } => {
                        return dialogue_message(bot, gateway, message, dialogue)
                            .instrument(span)
                            .await;
                    }
                    Stage::Describe { .. } | Stage::Idea if !power => {
                        return generate::words_message(bot, gateway, message, dialogue)
                            .instrument(span)
                            .await;
                    }
                    Stage::Describe { .. } | Stage::Idea => {}
                    Stage::Instruct { .. } | Stage::Preset | Stage::RetouchWishes { .. }
                        if !power =>
                    {
                        return edits::words_message(bot, gateway, message, dialogue)
                            .instrument(span)
                            .await;
                    }
                    Stage::SwapTarget | Stage::AwaitImage { .. } if !power => {
                        bot_api::call(
                            bot.send_message(chat, i18n::photo_needed(dialogue.lang()))
                                .reply_parameters(ReplyParameters::new(message.id)),
                        )
                        .await?;
                        return Ok(());
                    }
                    _ => {}
                },
                Ok(None) => {}
                Err(error) => tracing::warn!(%error, "could not read the dialogue state"),
            }
        }
        if power {
            return generate::power_message(bot, gateway, message, lang)
                .instrument(span)
                .await;
        }
    }
    let text = if let Some((kind, facts)) = other_media(&message) {
        i18n::other_media(lang, kind, &facts)
    } else if let Some(document) = message.document() {
        i18n::unsupported_file(
            lang,
            document.file_name.as_deref(),
            document.mime_type.as_ref().map(|m| m.essence_str()),
            u64::from(document.file.size),
        )
    } else {
        i18n::unsupported_message(lang)
    };
    bot_api::call(bot.send_message(message.chat.id, text)).await?;
    Ok(())
}

/// A file the bot has no operation for (an animation, an animated or video sticker), with what its
/// message says of it.
fn other_media(message: &Message) -> Option<(OtherMedia, MediaFacts<'_>)> {
    if let Some(animation) = message.animation() {
        let facts = MediaFacts {
            width: animation.width,
            height: animation.height,
            duration_secs: Some(animation.duration.seconds()),
            mime_type: animation.mime_type.as_ref().map(|m| m.essence_str()),
            size_bytes: u64::from(animation.file.size),
            file_name: animation.file_name.as_deref(),
            emoji: None,
        };
        return Some((OtherMedia::Animation, facts));
    }
    let sticker = message.sticker()?;
    let kind = match sticker.format() {
        StickerFormat::Static => return None,
        StickerFormat::Animated => OtherMedia::AnimatedSticker,
        StickerFormat::Video => OtherMedia::VideoSticker,
    };
    let facts = MediaFacts {
        width: u32::from(sticker.width),
        height: u32::from(sticker.height),
        size_bytes: u64::from(sticker.file.size),
        emoji: sticker.emoji.as_deref(),
        ..MediaFacts::default()
    };
    Some((kind, facts))
}

/// Whether a text has something to draw: a character that is neither white space, a control nor an
/// invisible filler (zero-width spaces and joiners, the Hangul fillers people use for "empty" messages).
pub fn has_visible_text(text: &str) -> bool {
    text.chars().any(|c| {
        !c.is_whitespace()
            && !c.is_control()
            && !matches!(
                c,
                '\u{200b}'..='\u{200f}'
                    | '\u{2060}'..='\u{2064}'
                    | '\u{feff}'
                    | '\u{3164}'
                    | '\u{115f}'
                    | '\u{1160}'
                    | '\u{ffa0}'
            )
    })
}

/// The next message of a pending add-text dialogue: the text (checked, then the wishes are asked for,
/// with a Skip button), or the wishes (parsed; the job starts).
async fn dialogue_message(
    bot: TelegramBot,
    gateway: Gateway,
    message: Message,
    dialogue: Dialogue,
) -> HandlerResult {
    let (chat, lang) = (
        message.chat.id,
        lang_of(&gateway, message.from.as_ref()).await,
    );
    let Some(user) = message.from.as_ref() else {
        return Ok(());
    };
    let reply = |text: String| {
        bot.send_message(chat, text)
            .reply_parameters(ReplyParameters::new(message.id))
    };
    let Some(text) = message.text() else {
        bot_api::call(reply(i18n::add_text_send_text(lang))).await?;
        return Ok(());
    };
    let Some(image) = dialogue.image.clone() else {
        return Ok(());
    };
    match dialogue.stage.clone() {
        Stage::Text => {
            let text = text.trim();
            let chars = text.chars().count();
            if !has_visible_text(text) {
                bot_api::call(reply(i18n::add_text_empty(lang))).await?;
            } else if chars > ADD_TEXT_MAX_CHARS {
                bot_api::call(reply(i18n::add_text_too_long(
                    lang,
                    chars,
                    ADD_TEXT_MAX_CHARS,
                )))
                .await?;
            } else {
                let skip = InlineKeyboardButton::callback(i18n::skip_button(lang), SKIP_WISHES);
                let prompt = bot_api::call(
                    reply(i18n::add_text_ask_wishes(lang))
                        .reply_markup(with_cancel(InlineKeyboardMarkup::new([[skip]]), lang)),
                )
                .await?;
                let next = Dialogue {
                    stage: Stage::Wishes {
                        text: text.to_string(),
                    },
                    prompt_message_id: prompt.id.0,
                    ..dialogue
                };
                gateway.save_dialogue(chat, user.id.0, &next).await?;
            }
        }
        // Other stages are other dialogues' (`generate::words_message`, `edits::words_message`).
        Stage::Describe { .. }
        | Stage::Idea
        | Stage::Instruct { .. }
        | Stage::Preset
        | Stage::RetouchWishes { .. }
        | Stage::SwapTarget
        | Stage::AwaitImage { .. } => {}
        Stage::Wishes { text: words } => {
            let wishes = text_wishes::parse(text);
            tracing::info!(?wishes, "add-text wishes parsed");
            let start = add_text_start(
                chat,
                user.id.0,
                &dialogue,
                &image,
                wishes.apply(&words),
                lang,
            );
            return start_for_words(&bot, &gateway, &message, start, lang).await;
        }
    }
    Ok(())
}

/// Claims `start`, the job the words of `message` end a dialogue with: a new start ends the sender's
/// dialogue and runs; a repeat (a replayed update) is told the job is already running, a failed claim to
/// try later, both in a reply to `message`. Errors of the job itself were told to the user and logged.
pub(crate) async fn start_for_words(
    bot: &TelegramBot,
    gateway: &Gateway,
    message: &Message,
    start: JobStart,
    lang: Lang,
) -> HandlerResult {
    let reply = |text: String| {
        bot.send_message(message.chat.id, text)
            .reply_parameters(ReplyParameters::new(message.id))
    };
    match gateway.claim_start(&start).await {
        Ok(Started::New) => {
            if let Some(user) = message.from.as_ref() {
                gateway.end_dialogue(message.chat.id, user.id.0).await;
            }
            let _ = gateway.start_claimed(start).await;
        }
        Ok(Started::AlreadyStarted { state }) => {
            bot_api::call(reply(i18n::already_started(lang, state))).await?;
        }
        Err(error) => {
            tracing::warn!(%error, "could not claim a job start");
            bot_api::call(reply(i18n::try_later(lang))).await?;
        }
    }
    Ok(())
}

/// Claims `start` for a button press and answers the press at once (the client stops its spinner, and
/// Telegram drops answers that come too late): a repeat is told the job is already running, a failed
/// claim to try later. A new start ends the presser's dialogue when `ends_dialogue`, and runs; its errors
/// were told to the user and logged.
pub(crate) async fn start_for_press(
    bot: &TelegramBot,
    gateway: &Gateway,
    query: &CallbackQuery,
    start: JobStart,
    lang: Lang,
    ends_dialogue: bool,
) {
    match gateway.claim_start(&start).await {
        Ok(Started::New) => {
            answer(bot, query, None).await;
            if ends_dialogue {
                gateway.end_dialogue(start.chat_id, query.from.id.0).await;
            }
            let _ = gateway.start_claimed(start).await;
        }
        Ok(Started::AlreadyStarted { state }) => {
            answer(bot, query, Some(i18n::already_started(lang, state))).await;
        }
        Err(error) => {
            tracing::warn!(%error, "could not claim a job start");
            answer(bot, query, Some(i18n::try_later(lang))).await;
        }
    }
}

/// The job that ends an add-text dialogue: the image of the dialogue with `params`, its status shown in
/// the dialogue's last question (whose Skip button goes away with the first edit).
fn add_text_start(
    chat: ChatId,
    user_id: u64,
    dialogue: &Dialogue,
    image: &DialogueImage,
    params: AddText,
    lang: Lang,
) -> JobStart {
    JobStart {
        operation: Operation::add_text(params),
        media: Some(image.media()),
        more_media: Vec::new(),
        chat_id: chat,
        user_id: user_id as i64,
        source_message: MessageId(image.message_id),
        status: StatusMessage::Edit(MessageId(dialogue.prompt_message_id)),
        lang,
    }
}

/// Starts an add-text dialogue about the picture of `opening` (in the bucket, so any replica continues
/// it) and asks for the text, replying to the picture; a dialogue that cannot be stored is told as "try
/// later" in the chat.
pub(crate) async fn ask_add_text(
    bot: &TelegramBot,
    gateway: &Gateway,
    opening: Opening,
) -> HandlerResult {
    let Opening {
        chat,
        user_id,
        source,
        media,
        lang,
    } = opening;
    let dialogue = Dialogue::new(source, &media, lang);
    if let Err(error) = gateway.save_dialogue(chat, user_id, &dialogue).await {
        tracing::warn!(%error, "could not start a dialogue");
        bot_api::call(
            bot.send_message(chat, i18n::try_later(lang))
                .reply_parameters(ReplyParameters::new(source)),
        )
        .await?;
        return Ok(());
    }
    bot_api::call(
        bot.send_message(chat, i18n::add_text_ask_text(lang, ADD_TEXT_MAX_CHARS))
            .reply_parameters(ReplyParameters::new(source))
            .reply_markup(ForceReply::new().selective()),
    )
    .await?;
    Ok(())
}

/// Skip under the wishes question: the default look. Only the current dialogue's button counts.
async fn skip_wishes(bot: TelegramBot, gateway: Gateway, query: CallbackQuery) -> HandlerResult {
    let lang = lang_of(&gateway, Some(&query.from)).await;
    let Some(MaybeInaccessibleMessage::Regular(prompt)) = query.message.as_ref() else {
        answer(&bot, &query, None).await;
        return Ok(());
    };
    let chat = prompt.chat.id;
    // An old question (the dialogue ended or expired): the picture must be sent again.
    let stale = i18n::send_again(lang);
    let Some(dialogue) = dialogue_of_question(&bot, &gateway, &query, prompt, lang, &stale).await
    else {
        return Ok(());
    };
    let (Stage::Wishes { text }, Some(image)) = (&dialogue.stage, &dialogue.image) else {
        answer(&bot, &query, Some(stale)).await;
        return Ok(());
    };
    let (image, text) = (image.clone(), text.clone());
    let start = add_text_start(
        chat,
        query.from.id.0,
        &dialogue,
        &image,
        AddText::with_text(&text),
        lang,
    );
    start_for_press(&bot, &gateway, &query, start, lang, true).await;
    Ok(())
}

/// Cancel under a dialogue's question: ends the dialogue (only the current question's button counts)
/// and turns the question into "Cancelled".
async fn cancel_dialogue(
    bot: TelegramBot,
    gateway: Gateway,
    query: CallbackQuery,
) -> HandlerResult {
    let lang = lang_of(&gateway, Some(&query.from)).await;
    let Some(MaybeInaccessibleMessage::Regular(question)) = query.message.as_ref() else {
        answer(&bot, &query, None).await;
        return Ok(());
    };
    let stale = i18n::old_question(lang);
    if dialogue_of_question(&bot, &gateway, &query, question, lang, &stale)
        .await
        .is_none()
    {
        return Ok(());
    }
    gateway
        .end_dialogue(question.chat.id, query.from.id.0)
        .await;
    answer(&bot, &query, None).await;
    gateway
        .set_status(question.chat.id, question.id, i18n::cancelled(lang, true))
        .await;
    Ok(())
}

/// The presser's pending dialogue, when `question` (the message the pressed button is under) is its
/// latest question. Otherwise the press is answered and `None` returned: with `stale` when the dialogue
/// ended, expired or asked something since, with "try later" when its state cannot be read.
pub(crate) async fn dialogue_of_question(
    bot: &TelegramBot,
    gateway: &Gateway,
    query: &CallbackQuery,
    question: &Message,
    lang: Lang,
    stale: &str,
) -> Option<Dialogue> {
    match gateway.dialogue(question.chat.id, query.from.id.0).await {
        Ok(Some(dialogue)) if dialogue.prompt_message_id == question.id.0 => Some(dialogue),
        Ok(_) => {
            answer(bot, query, Some(stale.to_string())).await;
            None
        }
        Err(error) => {
            tracing::warn!(%error, "could not read the dialogue state");
            answer(bot, query, Some(i18n::try_later(lang))).await;
            None
        }
    }
}

async fn on_callback(
    bot: TelegramBot,
    gateway: Gateway,
    update: Update,
    query: CallbackQuery,
) -> HandlerResult {
    let chat_id = query
        .message
        .as_ref()
        .map(|m| m.chat().id.0)
        .unwrap_or_default();
    let span = update_span(&update, chat_id, Some(&query.from));
    callback_update(bot, gateway, query).instrument(span).await
}

async fn callback_update(
    bot: TelegramBot,
    gateway: Gateway,
    query: CallbackQuery,
) -> HandlerResult {
    if let Some(choice) = query
        .data
        .as_deref()
        .and_then(|d| d.strip_prefix(LANGUAGE_PREFIX))
    {
        let choice = choice.to_string();
        return language_button(bot, gateway, query, &choice).await;
    }
    let lang = lang_of(&gateway, Some(&query.from)).await;
    match query.data.as_deref() {
        Some(data) if catalog::opens_dialogue(data).is_some() => {
            let id = catalog::opens_dialogue(data).unwrap_or_default();
            return edits::open_from_offer(bot, gateway, query, id).await;
        }
        Some(data) if data.starts_with(jobs::CANCEL_PREFIX) => {
            let job_id = data[jobs::CANCEL_PREFIX.len()..].to_string();
            let text = match gateway.cancel_job(&job_id, query.from.id.0 as i64).await {
                Ok(Cancel::Requested) => i18n::cancelling(lang),
                Ok(Cancel::Finished) => i18n::cancel_refused(lang, false),
                Ok(Cancel::NotYours) => i18n::cancel_refused(lang, true),
                Err(error) => {
                    tracing::warn!(%error, "could not ask for a cancel");
                    i18n::try_later(lang)
                }
            };
            answer(&bot, &query, Some(text)).await;
            return Ok(());
        }
        Some(data) if data.starts_with(activity::MORE_PREFIX) => {
            return activity::more_pressed(bot, gateway, query, lang).await;
        }
        Some(data) if data.starts_with(edits::EDIT_PREFIX) => {
            return edits::edit_button(bot, gateway, query).await;
        }
        Some(data) if data.starts_with(edits::RETOUCH_PREFIX) => {
            return edits::retouch_button(bot, gateway, query).await;
        }
        Some(SKIP_WISHES) => return skip_wishes(bot, gateway, query).await,
        Some(CANCEL_DIALOGUE) => return cancel_dialogue(bot, gateway, query).await,
        Some(data) if generate::is_create_from_prompt(data) => {
            return generate::create_from_prompt(bot, gateway, query).await;
        }
        Some(data) if data.starts_with(generate::SHAPE_PREFIX) => {
            let shape = data[generate::SHAPE_PREFIX.len()..].to_string();
            return generate::shape_button(bot, gateway, query, &shape).await;
        }
        _ => {}
    }
    let operation = query
        .data
        .as_deref()
        .and_then(Operation::from_callback_data);
    let (Some(operation), Some(MaybeInaccessibleMessage::Regular(offer))) =
        (operation, query.message.as_ref())
    else {
        answer(&bot, &query, None).await;
        return Ok(());
    };
    // The picture the press acts on (a result's own, or the one its offer replies to); a transcript
    // with buttons replies to the user's message that holds the recording.
    let source = picture_of_press(offer).or_else(|| {
        let s = offer.reply_to_message()?;
        audio_of(s).map(|(input, media)| (s, input, media))
    });
    let Some((source, input, media)) = source else {
        if operations::is_offer_button(&operation) {
            answer(&bot, &query, None).await;
            bot_api::call(bot.edit_message_text(offer.chat.id, offer.id, i18n::send_again(lang)))
                .await?;
        } else {
            // A result keeps its text; the toast says what happened.
            answer(&bot, &query, Some(i18n::send_again(lang))).await;
        }
        return Ok(());
    };
    let status = match operations::button_start(&operation, input) {
        // Under a picture result: the result stays, and the job gets a status of its own.
        Some(Start::Button) if source.id == offer.id => StatusMessage::Reply,
        // The offer becomes the job's status message; its keyboard goes away with the first edit.
        Some(Start::Button) => StatusMessage::Edit(offer.id),
        // The message with the button is a result: it stays, and the job gets a status of its own.
        Some(_) => StatusMessage::Reply,
        None => {
            tracing::warn!(data = ?query.data, "callback for an operation not offered for this input");
            answer(&bot, &query, None).await;
            return Ok(());
        }
    };
    // An album's job takes every picture of the album its offer replies to.
    let mut more_media = Vec::new();
    if operation.count > 1 {
        match albums::pictures(&gateway, source, operation.count).await {
            Ok(Some(pictures)) => {
                more_media = pictures.iter().skip(1).map(AlbumPicture::media).collect();
            }
            Ok(None) => {
                answer(&bot, &query, Some(i18n::send_again(lang))).await;
                return Ok(());
            }
            Err(error) => {
                tracing::warn!(%error, "could not read the album");
                answer(&bot, &query, Some(i18n::try_later(lang))).await;
                return Ok(());
            }
        }
    }
    let start = JobStart {
        operation,
        media: Some(media),
        more_media,
        chat_id: offer.chat.id,
        user_id: query.from.id.0 as i64,
        source_message: source.id,
        status,
        lang,
    };
    start_for_press(&bot, &gateway, &query, start, lang, false).await;
    Ok(())
}

/// Callback data prefix of the /language buttons: `lang:ru`, `lang:en`, `lang:speech=auto`,
/// `lang:speech=same`.
const LANGUAGE_PREFIX: &str = "lang:";

/// The /language buttons: the two interface languages, and the other setting of the spoken language.
fn language_keyboard(choice: LanguageChoice) -> InlineKeyboardMarkup {
    let speech = if choice.detect_speech {
        "speech=same"
    } else {
        "speech=auto"
    };
    InlineKeyboardMarkup::new([
        vec![
            InlineKeyboardButton::callback("🇷🇺 Русский", format!("{LANGUAGE_PREFIX}ru")),
            InlineKeyboardButton::callback("🇬🇧 English", format!("{LANGUAGE_PREFIX}en")),
        ],
        vec![InlineKeyboardButton::callback(
            i18n::language_speech_button(choice),
            format!("{LANGUAGE_PREFIX}{speech}"),
        )],
    ])
}

/// A /language button: stores the new choice and turns the menu into its confirmation, in the new
/// language, with the buttons kept for a further change.
async fn language_button(
    bot: TelegramBot,
    gateway: Gateway,
    query: CallbackQuery,
    data: &str,
) -> HandlerResult {
    let mut choice = gateway.language_of(&query.from).await;
    match data {
        "ru" => choice.lang = Lang::Ru,
        "en" => choice.lang = Lang::En,
        "speech=auto" => choice.detect_speech = true,
        "speech=same" => choice.detect_speech = false,
        _ => {
            answer(&bot, &query, None).await;
            return Ok(());
        }
    }
    if let Err(error) = gateway.save_language(query.from.id.0, choice).await {
        tracing::warn!(%error, "could not save a language choice");
        answer(&bot, &query, Some(i18n::try_later(choice.lang))).await;
        return Ok(());
    }
    answer(&bot, &query, None).await;
    if let Some(MaybeInaccessibleMessage::Regular(menu)) = query.message.as_ref() {
        bot_api::call(
            bot.edit_message_text(menu.chat.id, menu.id, i18n::language_saved(choice))
                .reply_markup(language_keyboard(choice)),
        )
        .await?;
    }
    Ok(())
}

/// Answers a button press (stopping the client's spinner), with a toast `text` if given. Best effort: a
/// replayed update's query was answered already and Telegram refuses a second answer.
pub(crate) async fn answer(bot: &TelegramBot, query: &CallbackQuery, text: Option<String>) {
    let mut request = bot.answer_callback_query(query.id.clone());
    if let Some(text) = text {
        request = request.text(text);
    }
    if let Err(error) = bot_api::call(request).await {
        tracing::info!(%error, callback_query_id = %query.id, "callback query not answered");
    }
}
