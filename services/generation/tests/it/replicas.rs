//! The per-key cap holds across replicas: two services on one NATS never have more than
//! `--fal-max-concurrent` requests at Fal together, and win by waiting for a slot, not by retrying 429s.

use std::time::Duration;

use mediabot_proto::jobs::v1::Generate;
use provider_sandbox::DEFAULT_FAL_KEY;
use provider_sandbox::client::Fault;

use crate::helpers::TestEnv;

const FLUX: &str = "fal-ai/flux/dev";

#[tokio::test]
async fn two_replicas_share_ten_slots() {
    let env = TestEnv::start().await;
    // 8 workers each: the two together take all 11 jobs at once, so one of them must wait for a slot.
    let first = env.spawn(&["--fal-max-concurrent", "10"]).await;
    let second = env.spawn(&["--fal-max-concurrent", "10"]).await;
    // Each request works 1.5 s at the sandbox, so the eleventh arrives while ten are in flight.
    env.sandbox
        .set_fault(&Fault::slow(FLUX, 1_500))
        .await
        .unwrap();
    let mut jobs = Vec::new();
    for i in 0..11 {
        let replica = if i % 2 == 0 { &first } else { &second };
        let params = Generate {
            prompt: format!("replica job {i}"),
            model: "flux".into(),
            width_px: 256,
            height_px: 256,
            ..Generate::default()
        };
        jobs.push(env.generate(replica, params).await);
    }
    for job in &jobs {
        let image = env.outcome(job).await.image();
        assert_eq!((image.width_px, image.height_px), (256, 256));
    }
    let stats = env
        .until_stats(Duration::from_secs(5), |s| s.model(FLUX).completed == 11)
        .await;
    let flux = stats.model(FLUX);
    assert_eq!((flux.submitted, flux.completed), (11, 11));
    assert_eq!(
        flux.rejected_429, 0,
        "a submit went over the sandbox's own cap"
    );
    assert_eq!(
        stats.key(DEFAULT_FAL_KEY).max_in_flight,
        10,
        "the cap was reached but never passed"
    );
}
