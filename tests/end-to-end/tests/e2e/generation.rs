//! Generation as users get it: the real gateway, billing and generation against the Telegram sandbox
//! (flood control on) and the provider sandbox (Fal's queue API and OpenAI chat completions), in Russian
//! and English.
//!
//! - /create → a shape button → the description → a picture of that shape as a document, charged once;
//! - /prompt → the idea → a written prompt (≥ 1000 characters) with "Create from this prompt" → a
//!   picture; a second press is told it is already running and costs nothing;
//! - power syntax with good parameters (the model and size asked for reach the provider) and bad ones
//!   (the valid ones are listed, nothing is charged);
//! - the first model of the chain failing → the next one makes the picture, one charge;
//! - a prompt the provider rejects → its words quoted, the hold released.

use std::time::Duration;

use image::GenericImageView as _;
use mediabot_proto::catalog::price_of;
use mediabot_proto::jobs::v1::{Generate, Operation};
use provider_sandbox::client::{Fault, FaultKind, ProviderSandboxClient};
use telegram_sandbox::client::Message;

use crate::harness::{Options, System, User};

const WELCOME: i64 = 3000;

fn text_of(message: &Message) -> String {
    message.text_or_caption().to_string()
}

/// The price of `image.generate` with `model` ("" for the default chain) and of `prompt.write`.
async fn prices(system: &System, model: &str) -> (i64, i64) {
    let prices = system.prices().await;
    let generate = Operation::generate(Generate {
        model: model.into(),
        ..Generate::with_prompt("x")
    });
    let picture = price_of(&prices, &generate, 0)
        .expect("a price for image.generate")
        .0;
    let prompt = price_of(&prices, &Operation::write_prompt("x", "en"), 0)
        .expect("a price for prompt.write")
        .0;
    (picture, prompt)
}

/// Waits for the picture replying to `source`; returns it decoded, with its caption.
async fn picture(system: &mut System, user: &User, source: i64) -> (image::DynamicImage, String) {
    let message = user
        .wait_for_result(system, source, Duration::from_secs(90))
        .await;
    let json = serde_json::to_value(&message).unwrap();
    assert!(json.get("document").is_some(), "a document: {json}");
    let bytes = user.file(message.file_id().unwrap()).await;
    (image::load_from_memory(&bytes).unwrap(), text_of(&message))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn users_create_pictures_and_prompts_in_russian_and_english_and_pay_once() {
    let mut system = System::start(Options::default()).await;
    let (picture_price, prompt_price) = prices(&system, "").await;
    assert!(picture_price > 0 && prompt_price > 0);

    // Russian: /create, the vertical shape, a description in Russian.
    let olga = system.user(7501, "ru");
    let question = olga
        .say(&mut system, "/create", "asking for a description", |m| {
            text_of(m).contains("Опишите картинку")
        })
        .await;
    let shapes: Vec<String> = question
        .buttons()
        .filter_map(|b| b.callback_data.clone())
        .collect();
    assert_eq!(
        shapes,
        [
            "gen:shape=vertical",
            "gen:shape=square",
            "gen:shape=horizontal",
            "dlg:cancel"
        ]
    );
    let toast = olga
        .press_for_answer(question.message_id, "gen:shape=vertical")
        .await;
    assert!(
        toast.as_deref().unwrap_or_default().contains("1472×2048"),
        "{toast:?}"
    );
    let sent = olga.send_text("кот-астронавт на Луне, акварель").await;
    let source = sent["message_id"].as_i64().unwrap();
    let (image, caption) = picture(&mut system, &olga, source).await;
    let (w, h) = image.dimensions();
    assert!(h > w, "a vertical picture: {w}×{h}");
    assert!(
        caption.contains("Готово") && caption.contains("Модель: pro"),
        "{caption}"
    );
    system.wait_for_balance(7501, WELCOME - picture_price).await;

    // English: /prompt → the written prompt → "Create from this prompt", pressed twice.
    let ann = system.user(7502, "en");
    ann.say(&mut system, "/prompt", "asking for an idea", |m| {
        text_of(m).contains("Describe the idea")
    })
    .await;
    let written = ann
        .say(
            &mut system,
            "a lighthouse in a storm",
            "with the written prompt",
            |m| text_of(m).starts_with("✍️ Prompt:"),
        )
        .await;
    let prompt = text_of(&written);
    assert!(prompt.chars().count() >= 1000, "{prompt}");
    assert!(prompt.contains("lighthouse"), "{prompt}");
    system.wait_for_balance(7502, WELCOME - prompt_price).await;
    let create = written
        .buttons()
        .find_map(|b| b.callback_data.clone())
        .expect("a Create button under the prompt");
    assert_eq!(create, "op:image.generate:");
    let told = ann.press_twice_at_once(written.message_id, &create).await;
    assert_eq!(told.len(), 1, "one press is told it is a repeat: {told:?}");
    let (image, caption) = picture(&mut system, &ann, written.message_id).await;
    assert_eq!(image.width(), image.height(), "square by default");
    assert!(caption.contains("Done"), "{caption}");
    system
        .wait_for_balance(7502, WELCOME - prompt_price - picture_price)
        .await;

    // Power syntax: a bad model is answered with the valid ones and costs nothing; a good request gets the
    // model and the size asked for.
    let refusal = ann
        .say(
            &mut system,
            "Image a red fox | model=dalle3",
            "refusing the model",
            |m| text_of(m).contains("There is no model"),
        )
        .await;
    assert!(text_of(&refusal).contains("flash"), "{}", text_of(&refusal));
    let refusal = olga
        .say(
            &mut system,
            "Изображение лиса | стиль=аниме",
            "refusing the key",
            |m| text_of(m).contains("Не знаю параметр"),
        )
        .await;
    assert!(
        text_of(&refusal).contains("negative"),
        "{}",
        text_of(&refusal)
    );
    let (flash_price, _) = prices(&system, "flash").await;
    let sent = ann
        .send_text("Image a red fox in the snow | model=flash | size=1024x768")
        .await;
    let source = sent["message_id"].as_i64().unwrap();
    let (image, caption) = picture(&mut system, &ann, source).await;
    assert_eq!(image.dimensions(), (1024, 768), "{caption}");
    assert!(caption.contains("Model: flash"), "{caption}");
    system
        .wait_for_balance(7502, WELCOME - prompt_price - picture_price - flash_price)
        .await;
    system.wait_for_balance(7501, WELCOME - picture_price).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_model_falls_back_and_a_rejected_prompt_costs_nothing() {
    let mut system = System::start(Options::default()).await;
    let provider = ProviderSandboxClient::new(system.provider_url.clone());
    let (picture_price, _) = prices(&system, "").await;

    // The first model of the chain fails once: the second makes the picture, for one charge.
    provider
        .set_fault(&Fault::once("fal-ai/nano-banana-pro", FaultKind::Failed))
        .await
        .unwrap();
    let user = system.user(7511, "en");
    let sent = user.send_text("Image a castle on a hill at dawn").await;
    let source = sent["message_id"].as_i64().unwrap();
    let (_, caption) = picture(&mut system, &user, source).await;
    assert!(
        caption.contains("Model: flash") && caption.contains("the next one made it"),
        "{caption}"
    );
    system.wait_for_balance(7511, WELCOME - picture_price).await;
    let stats = provider.stats().await.unwrap();
    assert_eq!(stats.model("fal-ai/nano-banana-pro").submitted, 1);
    assert_eq!(stats.model("fal-ai/nano-banana").completed, 1);

    // Every model rejects the prompt: the user reads the provider's words; nothing is charged.
    provider
        .set_fault(&Fault::new(
            provider_sandbox::client::ALL_FAL_MODELS,
            FaultKind::Rejected,
        ))
        .await
        .unwrap();
    let told = user
        .say(
            &mut system,
            "Image something the safety checker refuses",
            "with the refusal",
            |m| text_of(m).contains("refused the request"),
        )
        .await;
    assert!(text_of(&told).contains("not charged"), "{}", text_of(&told));
    provider.clear_faults().await.unwrap();
    system.wait_for_balance(7511, WELCOME - picture_price).await;
}
