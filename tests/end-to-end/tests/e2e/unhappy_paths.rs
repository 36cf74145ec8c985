//! What a user sees when something stands in the way: no money, no speech model — in Russian and English —
//! and in every case nothing is charged and nothing is queued.

use std::time::Duration;

use mediabot_proto::billing::v1::GetBalanceRequest;

use crate::harness::{Options, System, fixture, text_of};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_money_or_a_speech_model_the_user_is_told_and_not_charged() {
    // 1 ₽ of welcome credit affords neither operation; speech runs without a model.
    let mut system = System::start(Options {
        speech_model: false,
        welcome_credit_minor: Some(100),
        ..Options::default()
    })
    .await;
    let mut billing = system.billing().await;

    // English: a photo, the button, then "not enough money" with the price and the balance.
    let ann = system.user(8001, "en");
    let photo_id = ann
        .send_and_press(
            &mut system,
            "photo",
            &fixture("images/canon-40d.jpg"),
            "image/jpeg",
        )
        .await;
    let refusal = ann
        .wait_for_bot(
            &mut system,
            photo_id,
            Duration::from_secs(30),
            "saying there is not enough money",
            |m| text_of(m).contains("Not enough money"),
        )
        .await;
    let text = text_of(&refusal);
    assert!(
        text.contains("5 ₽") && text.contains("1 ₽"),
        "price and balance in: {text}"
    );

    // Russian: a voice note while transcription is not set up.
    let boris = system.user(8002, "ru");
    let voice = boris
        .send_file("voice", &fixture("audio/jfk-voice.ogg"), "audio/ogg")
        .await;
    let voice_id = voice["message_id"].as_i64().unwrap();
    let refusal = boris
        .wait_for_bot(
            &mut system,
            voice_id,
            Duration::from_secs(30),
            "saying transcription is not set up",
            |m| text_of(m).contains("не настроена"),
        )
        .await;
    assert!(
        text_of(&refusal).contains("Ничего не списано"),
        "{}",
        text_of(&refusal)
    );

    for account_id in [8001, 8002] {
        let balance = billing
            .get_balance(GetBalanceRequest { account_id })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(
            (balance.balance_minor, balance.held_minor),
            (100, 0),
            "account {account_id}"
        );
    }
}
