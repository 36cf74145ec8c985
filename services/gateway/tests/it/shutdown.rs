//! A gateway told to stop (SIGTERM) stops. teloxide's dispatcher can miss a stop request: one made
//! before it starts dispatching is refused as "idle" and forgotten, and one whose wake-up comes while it
//! is busy with an update or a listener error is lost (it waits on a fresh `Notify` each turn). Such a
//! gateway ran on for good: seen once, 35 min after run-local was stopped, polling the next run's sandbox
//! and taking its updates. Past `DISPATCHER_STOP_GRACE` the gateway now stops without the dispatcher.

use std::time::{Duration, Instant};

use gateway::DISPATCHER_STOP_GRACE;

use crate::system::{start, start_stopped};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_gateway_stops_when_told_even_with_the_bot_api_down() {
    let mut system = start().await;
    // The bot works; its long poll (getUpdates, 10 s) is in flight when the stop request comes, and the
    // Bot API goes away at the same moment (as when a whole run is stopped): that request fails, and
    // teloxide's polling, which wants one more successful getUpdates to confirm the offset before it
    // stops, retries with a growing backoff (1, 2, 4 … 64 s) for as long as the Bot API is down.
    let reply = system.ask(6301, "en", "/balance").await;
    assert!(reply.starts_with("Your balance"), "{reply}");
    tokio::time::sleep(Duration::from_millis(500)).await;
    let asked = Instant::now();
    system.stop_gateway();
    system.sandbox_stop.cancel();
    let limit = DISPATCHER_STOP_GRACE + Duration::from_secs(10);
    let result = tokio::time::timeout(limit, &mut system.gateway_task).await;
    assert!(
        result.is_ok(),
        "the gateway still runs {limit:?} after the stop request"
    );
    assert!(
        result.unwrap().unwrap().is_ok(),
        "the gateway's run ends without an error"
    );
    eprintln!("stopped {:?} after the request", asked.elapsed());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_stop_requested_during_start_up_is_not_lost() {
    let mut system = start_stopped().await;
    let limit = DISPATCHER_STOP_GRACE + Duration::from_secs(10);
    let result = tokio::time::timeout(limit, &mut system.gateway_task).await;
    assert!(
        result.is_ok(),
        "the gateway still runs {limit:?} after a stop requested before its run began"
    );
    assert!(result.unwrap().unwrap().is_ok());
}
