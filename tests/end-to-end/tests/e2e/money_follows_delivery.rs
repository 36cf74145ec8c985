//! Money follows delivery, through the real binaries: one job and one charge per button however often it is
//! pressed or its update delivered; no charge for a result Telegram refused, for a job that kept killing its
//! worker, and a billing outage longer than the hold timeout settled as it happened.

use std::time::{Duration, Instant};

use job_pipeline::jetstream::{Pipeline, connect};
use mediabot_proto::JobId;
use mediabot_proto::billing::v1::GetBalanceRequest;
use mediabot_proto::jobs::v1::{FailureReason, JobState, Operation};
use telegram_sandbox::client::Fault;

use crate::harness::{Options, System, User, button, fixture};

/// Waits for the bot's result (a photo or a file) replying to `source`.
async fn wait_for_result(system: &mut System, user: &User, source: i64) {
    user.wait_for_result(system, source, Duration::from_secs(60))
        .await;
}

/// The bot's messages carrying a file that reply to `source`.
async fn results_for(user: &User, source: i64) -> usize {
    user.chat()
        .messages()
        .await
        .unwrap()
        .iter()
        .filter(|m| m.is_from_bot() && m.reply_to_message_id() == Some(source))
        .filter(|m| m.file_id().is_some())
        .count()
}

/// Waits for the bot's next answer to a command, so every earlier update of the chat has been handled
/// (the gateway handles one chat's updates in order).
async fn round_trip(system: &mut System, user: &User) {
    let sent = user.send_text("/balance").await;
    let id = sent["message_id"].as_i64().unwrap();
    user.wait_for_bot_message(
        system,
        id,
        Duration::from_secs(30),
        "answering /balance",
        |_| true,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_presses_at_the_same_moment_make_one_job_and_one_charge() {
    let mut system = System::start(Options::default()).await;
    let user = system.user(7101, "en");
    let (photo_id, offer) = user
        .send_for_offer(
            &mut system,
            "document",
            &fixture("images/orientation/landscape_6.jpg"),
            "image/jpeg",
        )
        .await;
    let data = button(&offer, &Operation::upscale(2));

    // Two taps arriving together: two callback queries, two updates.
    let (first, second) = tokio::join!(
        user.chat().press(offer.message_id, &data),
        user.chat().press(offer.message_id, &data)
    );
    let (first, second) = (first.unwrap(), second.unwrap());
    let answers = [
        user.chat()
            .wait_callback_answer(&first.id, Duration::from_secs(15))
            .await
            .unwrap(),
        user.chat()
            .wait_callback_answer(&second.id, Duration::from_secs(15))
            .await
            .unwrap(),
    ];
    let told: Vec<_> = answers.iter().filter_map(|a| a.text.clone()).collect();
    assert_eq!(
        told.len(),
        1,
        "exactly one tap is told it is a repeat: {answers:?}"
    );
    assert!(told[0].contains("already running"), "{told:?}");

    wait_for_result(&mut system, &user, photo_id).await;
    // Charged once: captured after delivery, nothing held.
    system.wait_for_balance(7101, 3000 - 500).await;
    round_trip(&mut system, &user).await;
    assert_eq!(results_for(&user, photo_id).await, 1);
    system.wait_for_balance(7101, 3000 - 500).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_update_delivered_twice_makes_one_job() {
    let mut system = System::start(Options::default()).await;
    let user = system.user(7201, "ru");
    let (photo_id, offer) = user
        .send_for_offer(
            &mut system,
            "document",
            &fixture("images/orientation/landscape_6.jpg"),
            "image/jpeg",
        )
        .await;
    user.press(offer.message_id, &button(&offer, &Operation::upscale(2)))
        .await;
    wait_for_result(&mut system, &user, photo_id).await;
    system.wait_for_balance(7201, 2500).await;

    // Telegram delivers the press again (same update_id), as after a crash before the gateway confirmed it.
    // (Its callback query was answered already, so the answer to the replay is refused, as Telegram does.)
    user.chat().replay_last_update().await.unwrap();
    round_trip(&mut system, &user).await;
    assert_eq!(results_for(&user, photo_id).await, 1);
    system.wait_for_balance(7201, 2500).await;

    // A voice note, transcribed, then its update delivered again: no second transcript, no second charge.
    let voice = user
        .send_file("voice", &fixture("audio/jfk-voice.ogg"), "audio/ogg")
        .await;
    let voice_id = voice["message_id"].as_i64().unwrap();
    user.wait_for_bot_message(
        &mut system,
        voice_id,
        Duration::from_secs(120),
        "with the transcript",
        |m| m.reply_to_message_id() == Some(voice_id) && m.text_or_caption().contains("Баланс"),
    )
    .await;
    system.wait_for_balance(7201, 2500 - 300).await;
    user.chat().replay_last_update().await.unwrap();
    round_trip(&mut system, &user).await;
    let transcripts = user
        .chat()
        .messages()
        .await
        .unwrap()
        .iter()
        .filter(|m| m.is_from_bot() && m.reply_to_message_id() == Some(voice_id))
        .count();
    assert_eq!(transcripts, 1);
    system.wait_for_balance(7201, 2500 - 300).await;
    assert_eq!(results_for(&user, photo_id).await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_result_telegram_refuses_is_not_charged_and_the_user_is_told() {
    let mut system = System::start(Options::default()).await;
    let user = system.user(7301, "en");
    let (photo_id, offer) = user
        .send_for_offer(
            &mut system,
            "document",
            &fixture("images/orientation/landscape_6.jpg"),
            "image/jpeg",
        )
        .await;
    // Every upload of the result is refused for good.
    for method in ["sendPhoto", "sendDocument"] {
        system
            .sandbox()
            .inject_fault(
                &Fault::new(method, 400)
                    .count(100)
                    .description("Bad Request: wrong file identifier/HTTP URL specified"),
            )
            .await
            .unwrap();
    }
    user.press(offer.message_id, &button(&offer, &Operation::upscale(2)))
        .await;
    let told = user
        .wait_for_bot_message(
            &mut system,
            photo_id,
            Duration::from_secs(60),
            "saying the result could not be sent",
            |m| {
                m.text_or_caption()
                    .contains("could not send you the result")
            },
        )
        .await;
    assert!(told.text_or_caption().contains("not charged"));
    // Released, not captured.
    system.wait_for_balance(7301, 3000).await;
    system.sandbox().clear_faults().await.unwrap();
    assert_eq!(results_for(&user, photo_id).await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_that_kills_its_worker_every_time_is_given_up_and_not_charged() {
    let max_deliver = 2;
    let mut system = System::start(Options {
        env: vec![
            ("imaging", "IMAGING_MAX_DELIVER", max_deliver.to_string()),
            ("imaging", "IMAGING_ACK_WAIT_SECS", "1".into()),
            ("imaging", "IMAGING_WORKERS", "1".into()),
        ],
        ..Options::default()
    })
    .await;
    let user = system.user(7401, "en");
    let pipeline = Pipeline::setup(connect(&system.nats_url(), "e2e-test").await.unwrap())
        .await
        .unwrap();
    // The largest photo ×4: seconds of work, so the worker is caught in the middle of it.
    let (photo_id, offer) = user
        .send_for_offer(
            &mut system,
            "document",
            &fixture("images/nokia-8.3-4608x1976.jpg"),
            "image/jpeg",
        )
        .await;
    let operation = Operation::upscale(4);
    let job_id = JobId::derive(7401, photo_id as i32, &operation);
    user.press(offer.message_id, &button(&offer, &operation))
        .await;

    // Each time a worker starts the job, it is SIGKILLed (as the OOM killer would) and restarted.
    let mut seen_at = 0;
    for kill in 1..=max_deliver {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let status = pipeline.get_status(job_id.as_str()).await.unwrap();
            if let Some(status) = status
                && status.state == JobState::Running as i32
                && status.updated_at_unix_ms > seen_at
            {
                seen_at = status.updated_at_unix_ms;
                break;
            }
            assert!(
                Instant::now() < deadline,
                "run {kill} of the job never started\n{}",
                system.logs()
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        system.kill("imaging");
        system.restart("imaging");
    }

    // The next delivery is not run: the job fails as WORKER_LOST, the user is told, nothing is charged.
    let told = user
        .wait_for_bot_message(
            &mut system,
            photo_id,
            Duration::from_secs(60),
            "saying the job was given up",
            |m| m.text_or_caption().contains("crashed the processing"),
        )
        .await;
    assert!(told.text_or_caption().contains("not charged"));
    let status = pipeline.get_status(job_id.as_str()).await.unwrap().unwrap();
    assert_eq!(status.state, JobState::Failed as i32);
    assert_eq!(
        status.failed.unwrap().reason,
        FailureReason::WorkerLost as i32
    );
    system.wait_for_balance(7401, 3000).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn billing_down_past_the_hold_timeout_settles_what_happened_when_it_returns() {
    let hold_timeout = Duration::from_secs(3);
    let mut system = System::start(Options {
        env: vec![
            (
                "billing",
                "HOLD_TIMEOUT_SECS",
                hold_timeout.as_secs().to_string(),
            ),
            ("billing", "HOLD_SWEEP_INTERVAL_MS", "200".into()),
        ],
        ..Options::default()
    })
    .await;
    let user = system.user(7501, "en");
    let mut billing = system.billing().await;
    let (photo_id, offer) = user
        .send_for_offer(
            &mut system,
            "document",
            &fixture("images/orientation/landscape_6.jpg"),
            "image/jpeg",
        )
        .await;
    user.press(offer.message_id, &button(&offer, &Operation::upscale(2)))
        .await;

    // billing dies as soon as the money is held; the job completes and is delivered meanwhile.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let balance = billing
            .get_balance(GetBalanceRequest { account_id: 7501 })
            .await
            .unwrap()
            .into_inner();
        if balance.held_minor == 500 {
            break;
        }
        assert!(Instant::now() < deadline, "no hold: {balance:?}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    system.kill("billing");
    let held_at = Instant::now();
    wait_for_result(&mut system, &user, photo_id).await;
    // The outage outlasts the hold timeout (this is time passing, not a condition to poll for).
    tokio::time::sleep_until((held_at + hold_timeout + Duration::from_secs(1)).into()).await;

    // Back: the delivery that happened meanwhile is captured, not expired by the sweeper.
    system.restart_and_wait("billing").await;
    system.wait_for_balance(7501, 2500).await;
}
