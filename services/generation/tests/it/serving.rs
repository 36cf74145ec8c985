//! Start-up: without a Fal key the service serves but reports NOT_SERVING and refuses jobs; a bad model
//! list stops it, naming the entry.

use clap::Parser;
use generation::{Application, Config};
use mediabot_proto::jobs::v1::{Generate, JobContext, JobRequest, Operation};
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::{HealthCheckRequest, health_client::HealthClient};

use crate::helpers::TestEnv;

async fn jobs_health(channel: tonic::transport::Channel) -> ServingStatus {
    HealthClient::new(channel)
        .check(HealthCheckRequest {
            service: "mediabot.jobs.v1.Jobs".into(),
        })
        .await
        .unwrap()
        .into_inner()
        .status()
}

#[tokio::test]
async fn serving_only_with_both_keys() {
    let env = TestEnv::start().await;
    let app = env.spawn(&[]).await;
    assert_eq!(
        jobs_health(app.channel.clone()).await,
        ServingStatus::Serving
    );

    let keyless = env.spawn(&["--fal-key="]).await;
    assert_eq!(
        jobs_health(keyless.channel.clone()).await,
        ServingStatus::NotServing
    );
    let refused = keyless
        .client
        .clone()
        .submit_job(JobRequest {
            job_id: mediabot_proto::JobId::random().to_string(),
            operation: Some(Operation::generate(Generate::with_prompt("a cat"))),
            context: Some(JobContext {
                chat_id: 7,
                user_id: 7,
                ..Default::default()
            }),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(
        refused.code(),
        tonic::Code::FailedPrecondition,
        "{refused:?}"
    );
    assert!(refused.message().contains("FAL_KEY"), "{refused:?}");
}

#[tokio::test]
async fn a_bad_model_list_stops_start_up() {
    let dir = std::env::temp_dir().join(format!("generation-models-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("models.toml");
    // The shipped list with one bad `image.generate` entry, then with one bad edit entry.
    let shipped = generation::models::SHIPPED_MODELS;
    let bad_generate =
        shipped.replacen("[models.flux]\n", "[models.flux]\nresolution = \"2K\"\n", 1);
    let bad_edit = shipped.replacen(
        "[edit.models.seedream]\n",
        "[edit.models.seedream]\nresolution = \"2K\"\n",
        1,
    );
    for (text, named) in [
        (bad_generate, "model \"flux\""),
        (bad_edit, "edit model \"seedream\""),
    ] {
        assert_ne!(text, shipped);
        std::fs::write(&path, text).unwrap();
        let config = Config::parse_from([
            "generation",
            "--models-file",
            path.to_str().unwrap(),
            "--nats-url",
            "nats://127.0.0.1:1",
        ]);
        let error = Application::build(config).await.err().expect("refused");
        assert!(error.to_string().contains(named), "{error}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
