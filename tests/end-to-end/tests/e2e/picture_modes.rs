//! The main menu and the picture modes that run at a provider, as users get them: the real gateway,
//! billing, imaging and generation against the Telegram sandbox (flood control on) and the provider
//! sandbox, in Russian and English.
//!
//! - /menu shows the original bot's nine modes as a keyboard, in the user's language;
//! - ✏️ Edit from the menu: a photo, a second photo, the pro model and JPEG chosen with the buttons, the
//!   instruction → one JPEG made by the pro edit model from both photos, charged once at the pro price;
//! - ✨ Retouch from an image file's offer: a preset, then an instruction → a PNG, charged once;
//! - 🔄 Face swap from the menu: the portrait, then the target photo → a PNG of the target's shape;
//! - /cancel mid-dialogue ends it (the next words start nothing);
//! - an edit whose model fails at the provider → "try later", the hold released; then the same photo's
//!   AI upscale ×2 → twice its size, charged once (a 4608 px photo is offered none), and Upscale ×2
//!   under that result → four times the photo's size;
//! - a slow generation cancelled with the Cancel button under its status → cancelled at the provider,
//!   "cancelled", nothing charged.

use std::time::Duration;

use image::GenericImageView as _;
use mediabot_proto::catalog::price_of;
use mediabot_proto::jobs::v1::{Edit, Operation, RetouchPreset};
use provider_sandbox::client::{Fault, FaultKind, ProviderSandboxClient};
use telegram_sandbox::client::Message;

use crate::harness::{Options, System, User, fixture};

const WELCOME: i64 = 3000;

fn text_of(message: &Message) -> String {
    message.text_or_caption().to_string()
}

/// The price of `operation` from billing's list.
async fn price(system: &System, operation: &Operation) -> i64 {
    let prices = system.prices().await;
    price_of(&prices, operation, 0)
        .unwrap_or_else(|| panic!("a price for {}", operation.key()))
        .0
}

fn edit_with(model: &str) -> Operation {
    Operation::edit(Edit {
        model: model.into(),
        ..Edit::default()
    })
}

/// Sends the fixture at `relative` as a photo; returns its message id.
async fn send_photo(user: &User, relative: &str) -> i64 {
    let sent = user
        .send_file("photo", &fixture(relative), "image/jpeg")
        .await;
    sent["message_id"].as_i64().unwrap()
}

/// Waits for the bot's reply to `source` whose text contains `contains`.
async fn reply(system: &mut System, user: &User, source: i64, contains: &str) -> Message {
    user.wait_for_bot_message(
        system,
        source,
        Duration::from_secs(60),
        &format!("replying {contains:?}"),
        |m| m.reply_to_message_id() == Some(source) && text_of(m).contains(contains),
    )
    .await
}

/// Waits for the picture replying to `source`; returns its bytes and caption.
async fn picture(system: &mut System, user: &User, source: i64) -> (Vec<u8>, String) {
    let message = user
        .wait_for_result(system, source, Duration::from_secs(120))
        .await;
    let json = serde_json::to_value(&message).unwrap();
    assert!(json.get("document").is_some(), "a document: {json}");
    (
        user.file(message.file_id().unwrap()).await,
        text_of(&message),
    )
}

fn callback_data(message: &Message) -> Vec<String> {
    message
        .buttons()
        .filter_map(|b| b.callback_data.clone())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn users_edit_retouch_and_swap_faces_from_the_menu_and_offers_and_pay_once() {
    let mut system = System::start(Options::default()).await;
    let provider = ProviderSandboxClient::new(system.provider_url.clone());
    let pro_edit = price(&system, &edit_with("pro")).await;
    let flash_edit = price(&system, &edit_with("flash")).await;
    assert_eq!(
        pro_edit,
        3 * flash_edit,
        "the pro model at three times the price"
    );
    let retouch = price(&system, &Operation::retouch(RetouchPreset::Soft, "")).await;
    let face_swap = price(&system, &Operation::face_swap()).await;

    // Russian: the menu, ✏️ Изменить, two photos, pro and JPEG, the instruction.
    let olga = system.user(7601, "ru");
    let sent = olga.send_text("/menu").await;
    let menu = olga
        .wait_for_bot_message(
            &mut system,
            sent["message_id"].as_i64().unwrap(),
            Duration::from_secs(60),
            "with the menu",
            |m| text_of(m).contains("кнопками внизу"),
        )
        .await;
    assert!(text_of(&menu).contains("кнопками внизу"));
    // The keyboard a Telegram client shows under the input field, set by that message.
    let keyboard = olga
        .chat()
        .reply_keyboard()
        .await
        .unwrap()
        .expect("a reply keyboard");
    assert_eq!(keyboard.message_id, menu.message_id);
    assert!(keyboard.shown && keyboard.resize_keyboard && keyboard.is_persistent);
    assert_eq!(
        keyboard.rows,
        [
            ["🎨 Создать", "✍️ Написать", "✏️ Изменить"],
            ["✨ Ретушь", "📝 Добавить текст", "🔄 Заменить лицо"],
            ["⬆️ Улучшить", "💰 Баланс", "ℹ️ Инфо"],
        ]
    );
    let ask = olga
        .say(
            &mut system,
            "✏️ Изменить",
            "asking for a photo",
            |m| text_of(m).contains("Пришлите фото"),
        )
        .await;
    assert!(text_of(&ask).contains("от 8 ₽"), "{}", text_of(&ask));
    let first = send_photo(&olga, "images/iphone6-3264x2448.jpg").await;
    let question = reply(&mut system, &olga, first, "Напишите, что изменить").await;
    assert!(
        text_of(&question).contains("Картинок: 1 из 4"),
        "{}",
        text_of(&question)
    );
    assert_eq!(
        callback_data(&question),
        [
            "ed:model=flash",
            "ed:model=pro",
            "ed:model=seedream",
            "ed:format=png",
            "ed:format=jpeg",
            "ed:format=webp",
            "dlg:cancel"
        ]
    );
    send_photo(&olga, "images/orientation/landscape_6.jpg").await;
    for data in ["ed:model=pro", "ed:format=jpeg"] {
        olga.press(question.message_id, data).await;
    }
    // The question shows both pictures and both choices before the instruction goes.
    olga.wait_for_bot_message(
        &mut system,
        first,
        Duration::from_secs(30),
        "showing two pictures, pro and JPEG",
        |m| {
            let text = text_of(m);
            m.message_id == question.message_id
                && text.contains("Картинок: 2 из 4")
                && text.contains("pro — 24 ₽")
                && text.contains("JPEG")
        },
    )
    .await;
    let instruction = olga.send_text("сделай ночь и добавь снег").await;
    let instruction = instruction["message_id"].as_i64().unwrap();
    let (bytes, caption) = picture(&mut system, &olga, instruction).await;
    assert_eq!(
        image::guess_format(&bytes).ok(),
        Some(image::ImageFormat::Jpeg),
        "{caption}"
    );
    assert!(caption.contains("Модель: pro"), "{caption}");
    system.wait_for_balance(7601, WELCOME - pro_edit).await;
    let stats = provider.stats().await.unwrap();
    assert_eq!(stats.model("fal-ai/nano-banana-pro/edit").completed, 1);

    // English: a photo's offer → ✨ Retouch → Enhance features → an instruction.
    let ann = system.user(7602, "en");
    let (photo, offer) = ann
        .send_for_offer(
            &mut system,
            "document",
            &fixture("images/nokia-8.3-4608x1976.jpg"),
            "image/jpeg",
        )
        .await;
    let offered = callback_data(&offer);
    for data in ["op:image.edit:", "op:image.retouch:", "op:image.face_swap:"] {
        assert!(offered.iter().any(|d| d == data), "{data} in {offered:?}");
    }
    // A file 4608 px wide (a photo would be cut to 1280): an AI upscale would pass 8192 px, so none is
    // offered.
    assert!(
        !offered
            .iter()
            .any(|d| d.starts_with("op:image.upscale_remote")),
        "{offered:?}"
    );
    ann.press(offer.message_id, "op:image.retouch:").await;
    let question = reply(&mut system, &ann, photo, "Portrait retouch").await;
    assert_eq!(
        callback_data(&question),
        ["rt:preset=soft", "rt:preset=enhance", "dlg:cancel"]
    );
    ann.press(question.message_id, "rt:preset=enhance").await;
    ann.wait_for_bot_message(
        &mut system,
        photo,
        Duration::from_secs(30),
        "asking for wishes with Start",
        |m| m.message_id == question.message_id && callback_data(m).contains(&"rt:start".into()),
    )
    .await;
    ann.send_text("remove the shine on the forehead").await;
    let (bytes, caption) = picture(&mut system, &ann, photo).await;
    assert_eq!(
        image::guess_format(&bytes).ok(),
        Some(image::ImageFormat::Png),
        "{caption}"
    );
    system.wait_for_balance(7602, WELCOME - retouch).await;

    // Russian: 🔄 Заменить лицо from the menu: the portrait, then the target.
    let ivan = system.user(7603, "ru");
    ivan.say(
        &mut system,
        "🔄 Заменить лицо",
        "asking for the portrait",
        |m| text_of(m).contains("Пришлите портрет"),
    )
    .await;
    let portrait = send_photo(&ivan, "images/canon-40d.jpg").await;
    reply(&mut system, &ivan, portrait, "Теперь пришлите фото").await;
    let target = send_photo(&ivan, "images/orientation/landscape_1.jpg").await;
    let (bytes, _) = picture(&mut system, &ivan, target).await;
    let swapped = image::load_from_memory(&bytes).unwrap();
    let (w, h) = swapped.dimensions();
    assert!(w > h, "the target's landscape shape: {w}×{h}");
    system.wait_for_balance(7603, WELCOME - face_swap).await;

    // /cancel mid-dialogue, and the Cancel button under a question (the English label works for a
    // Russian user too): the words after them start nothing.
    ivan.say(&mut system, "✏️ Edit", "asking for a photo", |m| {
        text_of(m).contains("Пришлите фото")
    })
    .await;
    let photo = send_photo(&ivan, "images/canon-40d.jpg").await;
    reply(&mut system, &ivan, photo, "Напишите, что изменить").await;
    let cancel = ivan.send_text("/cancel").await;
    let cancel = cancel["message_id"].as_i64().unwrap();
    ivan.wait_for_bot_message(
        &mut system,
        cancel,
        Duration::from_secs(30),
        "cancelled",
        |m| text_of(m).starts_with("Отменено"),
    )
    .await;
    let ask = ivan
        .say(
            &mut system,
            "✨ Ретушь",
            "asking for a portrait",
            |m| text_of(m).contains("Пришлите портрет"),
        )
        .await;
    ivan.press(ask.message_id, "dlg:cancel").await;
    ivan.wait_for_bot_message(
        &mut system,
        ask.message_id - 1,
        Duration::from_secs(30),
        "the question turned into Cancelled",
        |m| m.message_id == ask.message_id && text_of(m).starts_with("Отменено"),
    )
    .await;
    let words = ivan.send_text("сделай ночь").await;
    let words = words["message_id"].as_i64().unwrap();
    ivan.wait_for_bot_message(
        &mut system,
        words,
        Duration::from_secs(30),
        "not taking the words as an instruction",
        |m| text_of(m).starts_with("Я понимаю фото"),
    )
    .await;
    system.wait_for_balance(7603, WELCOME - face_swap).await;
    assert_eq!(
        provider
            .stats()
            .await
            .unwrap()
            .model("fal-ai/nano-banana/edit")
            .submitted,
        1,
        "only the retouch reached the flash edit model"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_edit_whose_model_fails_costs_nothing() {
    let mut system = System::start(Options::default()).await;
    let provider = ProviderSandboxClient::new(system.provider_url.clone());
    provider
        .set_fault(&Fault::new("fal-ai/nano-banana/edit", FaultKind::Failed))
        .await
        .unwrap();
    let user = system.user(7611, "en");
    let (photo, offer) = user
        .send_for_offer(
            &mut system,
            "photo",
            &fixture("images/canon-40d.jpg"),
            "image/jpeg",
        )
        .await;
    user.press(offer.message_id, "op:image.edit:").await;
    let question = reply(&mut system, &user, photo, "Write what to change").await;
    user.send_text("make it black and white").await;
    // The question becomes the job's status, and then its outcome.
    let told = user
        .wait_for_bot_message(
            &mut system,
            question.message_id - 1,
            Duration::from_secs(120),
            "telling the failure",
            |m| m.message_id == question.message_id && text_of(m).contains("not charged"),
        )
        .await;
    assert!(!text_of(&told).contains("Done"), "{}", text_of(&told));
    system.wait_for_balance(7611, WELCOME).await;
    provider.clear_faults().await.unwrap();

    // The same offer's AI upscale ×2 (a provider's model): twice the picture's size, charged once.
    let offered = callback_data(&offer);
    assert!(
        offered.contains(&"op:image.upscale_remote:factor=4".to_string()),
        "{offered:?}"
    );
    let original =
        image::load_from_memory(&std::fs::read(fixture("images/canon-40d.jpg")).unwrap())
            .unwrap()
            .dimensions();
    user.press(offer.message_id, "op:image.upscale_remote:factor=2")
        .await;
    let result = user
        .wait_for_result(&mut system, photo, Duration::from_secs(120))
        .await;
    let bytes = user.file(result.file_id().unwrap()).await;
    let upscaled = image::load_from_memory(&bytes).unwrap().dimensions();
    assert_eq!(upscaled, (original.0 * 2, original.1 * 2));
    let upscale = price(&system, &Operation::upscale_remote(2)).await;
    system.wait_for_balance(7611, WELCOME - upscale).await;

    // Under the result, the next steps; Upscale ×2 there works on the result itself.
    let next = callback_data(&result);
    assert_eq!(
        next,
        [
            "op:image.upscale:factor=2",
            "op:image.add_text:",
            "op:image.edit:"
        ]
    );
    user.press(result.message_id, "op:image.upscale:factor=2")
        .await;
    let (bytes, _) = picture(&mut system, &user, result.message_id).await;
    let again = image::load_from_memory(&bytes).unwrap().dimensions();
    assert_eq!(again, (original.0 * 4, original.1 * 4));
    let local = price(&system, &Operation::upscale(2)).await;
    system
        .wait_for_balance(7611, WELCOME - upscale - local)
        .await;
}

/// Sends the command `text` and waits for the bot's answer, the first later message starting with
/// `starts`.
async fn command(system: &mut System, user: &User, text: &str, starts: &str) -> Message {
    let sent = user.send_text(text).await;
    let id = sent["message_id"].as_i64().unwrap();
    user.wait_for_bot_message(system, id, Duration::from_secs(30), text, |m| {
        text_of(m).starts_with(starts)
    })
    .await
}

/// A slow provider: the user presses Cancel under the status; the request is cancelled at the provider,
/// the status says so, and nothing is charged.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_cancels_a_slow_generation_and_pays_nothing() {
    let mut system = System::start(Options::default()).await;
    let provider = ProviderSandboxClient::new(system.provider_url.clone());
    provider
        .set_fault(&Fault {
            delay_ms: Some(60_000),
            ..Fault::new(provider_sandbox::client::ALL_FAL_MODELS, FaultKind::Slow)
        })
        .await
        .unwrap();
    let user = system.user(7621, "ru");
    let sent = user
        .send_text("Изображение маяк в шторм | model=flux")
        .await;
    let source = sent["message_id"].as_i64().unwrap();
    let status = user
        .wait_for_bot_message(
            &mut system,
            source,
            Duration::from_secs(60),
            "a status with Cancel",
            |m| {
                m.reply_to_message_id() == Some(source)
                    && callback_data(m)
                        .iter()
                        .any(|d| d.starts_with("job:cancel:"))
            },
        )
        .await;
    let cancel = callback_data(&status)
        .into_iter()
        .find(|d| d.starts_with("job:cancel:"))
        .unwrap();
    // Pressed once the request is at the provider (a press while the job is queued fails it before it
    // runs, which the job pipeline's tests cover).
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while provider
        .stats()
        .await
        .unwrap()
        .model("fal-ai/flux/dev")
        .submitted
        == 0
    {
        assert!(
            std::time::Instant::now() < deadline,
            "the request never reached the provider"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // The status shows the job's short id; /status lists the job as running, /status <id> shows it.
    let short = &cancel[cancel.len() - 8..];
    assert!(
        text_of(&status).ends_with(&format!("\n#{short}")),
        "{}",
        text_of(&status)
    );
    let listed = command(&mut system, &user, "/status", "Выполняется").await;
    assert!(
        text_of(&listed).starts_with("Выполняется 1 задание:")
            && text_of(&listed).contains(&format!("#{short} · "))
            && text_of(&listed).contains("⚙️ выполняется"),
        "{}",
        text_of(&listed)
    );
    let one = command(&mut system, &user, &format!("/status {short}"), "Задание #").await;
    assert!(
        text_of(&one).starts_with(&format!("Задание #{short}: "))
            && text_of(&one).contains("Состояние: ⚙️ выполняется"),
        "{}",
        text_of(&one)
    );
    let toast = user.press_for_answer(status.message_id, &cancel).await;
    assert_eq!(toast.as_deref(), Some("Отменяю…"));
    user.wait_for_bot_message(
        &mut system,
        source,
        Duration::from_secs(60),
        "the status saying it is cancelled",
        |m| m.message_id == status.message_id && text_of(m).contains("Отменено, как вы просили"),
    )
    .await;
    system.wait_for_balance(7621, WELCOME).await;
    // Settled: nothing in progress, and /history says the money came back.
    let listed = command(&mut system, &user, "/status", "Сейчас ничего").await;
    assert!(
        text_of(&listed).starts_with("Сейчас ничего не выполняется"),
        "{}",
        text_of(&listed)
    );
    let history = command(&mut system, &user, "/history", "Ваши операции").await;
    assert!(
        text_of(&history).contains(&format!("↩️ не выполнено, деньги возвращены · #{short}")),
        "{}",
        text_of(&history)
    );
    let stats = provider.stats().await.unwrap();
    assert_eq!(
        stats.model("fal-ai/flux/dev").cancelled,
        1,
        "the request was cancelled at the provider: {stats:?}\n{}",
        system.logs()
    );
    // A second press: nothing left to cancel.
    let press = user.chat().press(status.message_id, &cancel).await;
    if let Ok(press) = press {
        let toast = user.answer_to(&press.id).await;
        assert!(
            toast
                .as_deref()
                .unwrap_or_default()
                .contains("отменять нечего"),
            "{toast:?}"
        );
    }
    provider.clear_faults().await.unwrap();
}
