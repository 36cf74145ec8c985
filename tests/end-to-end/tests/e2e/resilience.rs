//! The guarantees that matter when a process dies: a job whose submit fails releases its hold at once, and
//! a gateway that was down delivers, when it comes back, what completed meanwhile.

use std::time::{Duration, Instant};

use job_pipeline::jetstream::{Pipeline, connect, input_key};
use mediabot_proto::JobId;
use mediabot_proto::billing::v1::{GetBalanceRequest, ReserveRequest};
use mediabot_proto::jobs::v1::jobs_client::JobsClient;
use mediabot_proto::jobs::v1::{GetJobRequest, JobContext, JobRequest, JobState, Operation};

use crate::harness::{Options, System, button_data, fixture, text_of};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn when_imaging_is_down_the_hold_is_released_at_once_and_the_user_is_told() {
    let mut system = System::start(Options::default()).await;
    let mut billing = system.billing().await;
    let user = system.user(9001, "en");

    let photo = user
        .send_file("photo", &fixture("images/canon-40d.jpg"), "image/jpeg")
        .await;
    let photo_id = photo["message_id"].as_i64().unwrap();
    let offer = user
        .wait_for_bot(
            &mut system,
            photo_id,
            Duration::from_secs(60),
            "offering an operation",
            |m| button_data(m).is_some(),
        )
        .await;
    system.kill("imaging");
    user.press(
        offer["message_id"].as_i64().unwrap(),
        &button_data(&offer).unwrap(),
    )
    .await;
    let told = user
        .wait_for_bot(
            &mut system,
            photo_id,
            Duration::from_secs(30),
            "saying the service is unavailable",
            |m| text_of(m).contains("temporarily unavailable"),
        )
        .await;
    assert!(
        text_of(&told).contains("Nothing was charged"),
        "{}",
        text_of(&told)
    );
    // Released by the gateway right away, not by the sweeper 30 minutes later.
    let balance = billing
        .get_balance(GetBalanceRequest { account_id: 9001 })
        .await
        .unwrap()
        .into_inner();
    assert_eq!((balance.balance_minor, balance.held_minor), (3000, 0));

    // Once imaging is back, the same user gets the work done and pays once.
    system.restart_and_wait("imaging").await;
    let photo_id = user
        .send_and_press(
            &mut system,
            "photo",
            &fixture("images/canon-40d.jpg"),
            "image/jpeg",
        )
        .await;
    user.wait_for_bot(
        &mut system,
        photo_id,
        Duration::from_secs(60),
        "with the upscaled image (a file)",
        |m| m.get("document").is_some(),
    )
    .await;
    system.wait_for_balance(9001, 2500).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_gateway_delivers_what_completed_while_it_was_down() {
    let mut system = System::start(Options::default()).await;
    let user = system.user(9101, "en");
    let start = user.send_text("/start").await;
    user.wait_for_bot(
        &mut system,
        start["message_id"].as_i64().unwrap(),
        Duration::from_secs(60),
        "answering /start",
        |m| text_of(m).contains("balance"),
    )
    .await;

    // The gateway dies; a transcription it had started (input stored, money reserved, job submitted — what
    // the gateway does, done here by hand) completes while it is down.
    system.kill("gateway");
    let job_id = JobId::random().to_string();
    let pipeline = Pipeline::setup(connect(&system.nats_url(), "e2e-test").await.unwrap())
        .await
        .unwrap();
    let audio = std::fs::read(fixture("audio/jfk-voice.ogg")).unwrap();
    pipeline
        .media
        .put(input_key(&job_id).as_str(), &mut audio.as_slice())
        .await
        .unwrap();
    let mut billing = system.billing().await;
    billing
        .reserve(ReserveRequest {
            job_id: job_id.clone(),
            account_id: 9101,
            operation: Some(Operation::transcribe("auto")),
            audio_duration_ms: 11_000,
        })
        .await
        .unwrap();
    let mut speech = JobsClient::connect(system.speech_url.clone())
        .await
        .unwrap();
    speech
        .submit_job(JobRequest {
            job_id: job_id.clone(),
            operation: Some(Operation::transcribe("auto")),
            input_key: input_key(&job_id),
            mime_type: "audio/ogg".into(),
            context: Some(JobContext {
                chat_id: 9101,
                user_id: 9101,
                language_code: "en".into(),
                ..Default::default()
            }),
            ..Default::default()
        })
        .await
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let status = speech
            .get_job(GetJobRequest {
                job_id: job_id.clone(),
            })
            .await
            .unwrap()
            .into_inner();
        if status.state == JobState::Completed as i32 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the job did not complete: {status:?}\n{}",
            system.logs()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let before = user.messages().await.len();

    system.restart("gateway");
    let delivered = user
        .wait_for_bot(
            &mut system,
            0,
            Duration::from_secs(60),
            "with the transcript after the restart",
            |m| {
                // The transcript's footer; the /start welcome says "Your balance:" instead.
                text_of(m).contains("Balance:") && !text_of(m).contains("Your balance")
            },
        )
        .await;
    assert!(user.messages().await.len() > before);
    assert!(
        !text_of(&delivered).contains("not charged"),
        "{}",
        text_of(&delivered)
    );
    system.wait_for_balance(9101, 2700).await;
}
