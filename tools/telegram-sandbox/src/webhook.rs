//! Webhook delivery: while a webhook is set, updates are POSTed to its URL one at a time, in order, with the
//! `X-Telegram-Bot-Api-Secret-Token` header; a failed delivery (network error or non-2xx) is retried with a
//! growing delay and recorded for getWebhookInfo, as Telegram does.

use std::{sync::Arc, time::Duration};

use serde_json::Value;
use tokio_util::sync::CancellationToken;

use crate::state::{Shared, now_unix};

/// First retry delay after a failed delivery; doubled per failure up to [`MAX_RETRY_DELAY`].
const FIRST_RETRY_DELAY: Duration = Duration::from_millis(250);
/// Longest retry delay.
const MAX_RETRY_DELAY: Duration = Duration::from_secs(5);

/// Delivers the updates of the bot of `token` until `cancel` fires (webhook replaced or deleted, shutdown).
#[tracing::instrument(level = "debug", skip_all)]
pub async fn deliver(shared: Arc<Shared>, token: String, cancel: CancellationToken) {
    let mut delay = FIRST_RETRY_DELAY;
    loop {
        let far = tokio::time::Instant::now() + Duration::from_secs(3600);
        let next = tokio::select! {
            next = shared.wait_for(far, |state| {
                let bot = state.bots.get(&token)?;
                let webhook = bot.webhook.as_ref()?;
                let update = bot.updates.front()?.clone();
                Some((webhook.url.clone(), webhook.secret_token.clone(), update))
            }) => next,
            () = cancel.cancelled() => return,
        };
        let Some((url, secret, update)) = next else {
            if shared.shutdown.is_cancelled() {
                return;
            }
            continue;
        };
        let update_id = update["update_id"].as_i64();
        let result = tokio::select! {
            result = post(&shared, &url, secret.as_deref(), &update) => result,
            () = cancel.cancelled() => return,
        };
        match result {
            Ok(()) => {
                delay = FIRST_RETRY_DELAY;
                let mut state = shared.lock();
                if let Some(bot) = state.bots.get_mut(&token)
                    && bot.updates.front().and_then(|u| u["update_id"].as_i64()) == update_id
                {
                    bot.updates.pop_front();
                }
            }
            Err(reason) => {
                tracing::debug!(%url, %reason, "webhook delivery failed; will retry");
                {
                    let mut state = shared.lock();
                    if let Some(webhook) = state
                        .bots
                        .get_mut(&token)
                        .and_then(|bot| bot.webhook.as_mut())
                    {
                        webhook.last_error_date = Some(now_unix());
                        webhook.last_error_message = Some(reason);
                    }
                }
                tokio::select! {
                    () = tokio::time::sleep(delay) => {}
                    () = cancel.cancelled() => return,
                }
                delay = (delay * 2).min(MAX_RETRY_DELAY);
            }
        }
    }
}

async fn post(
    shared: &Shared,
    url: &str,
    secret: Option<&str>,
    update: &Value,
) -> Result<(), String> {
    let mut request = shared.http.post(url).json(update);
    if let Some(secret) = secret {
        request = request.header("X-Telegram-Bot-Api-Secret-Token", secret);
    }
    match request.send().await {
        Ok(response) if response.status().is_success() => Ok(()),
        Ok(response) => Err(format!(
            "Wrong response from the webhook: {}",
            response.status()
        )),
        Err(err) if err.is_connect() => Err("Connection refused".to_owned()),
        Err(err) if err.is_timeout() => Err("Read timeout expired".to_owned()),
        Err(err) => Err(format!("Connection error: {err}")),
    }
}
