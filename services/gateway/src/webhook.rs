//! Webhook mode: Telegram posts each update to `--webhook-url` (through an Ingress that terminates TLS)
//! instead of the gateway long-polling getUpdates, so several gateway replicas can share one bot.
//!
//! Every replica calls setWebhook with the same URL and secret at start (idempotent) and serves teloxide's
//! webhook route on `--webhook-listen`; a request without the right `X-Telegram-Bot-Api-Secret-Token` is
//! refused. A replica that stops does not delete the webhook: the others keep receiving, and Telegram
//! retries an update whose request failed.

use std::convert::Infallible;

use teloxide::prelude::*;
use teloxide::update_listeners::{UpdateListener, webhooks};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::{Error, Secret, TelegramBot, bot_api};

/// Registers the webhook (`url`, `secret`) with the Bot API and serves it on `listener` until the
/// dispatcher stops listening or `shutdown` fires. Returns the updates as teloxide's update listener.
///
/// Errors: [`Error::Telegram`] when setWebhook is refused (e.g. a secret with characters Telegram does
/// not allow, or a URL it cannot reach).
pub async fn serve(
    bot: &TelegramBot,
    url: url::Url,
    secret: Secret,
    listener: TcpListener,
    shutdown: CancellationToken,
) -> Result<impl UpdateListener<Err = Infallible>, Error> {
    // teloxide's options want the address; the listener is bound already, so it is only logged.
    let addr = listener
        .local_addr()
        .unwrap_or_else(|_| ([0, 0, 0, 0], 0).into());
    bot_api::call(
        bot.set_webhook(url.clone())
            .secret_token(secret.expose().to_string()),
    )
    .await?;
    let options =
        webhooks::Options::new(addr, url.clone()).secret_token(secret.expose().to_string());
    let (updates, stopped, router) = webhooks::axum_no_setup(options);
    tracing::info!(%addr, path = url.path(), "gateway receiving updates by webhook");
    tokio::spawn(async move {
        let served = axum::serve(listener, router)
            .with_graceful_shutdown(async move {
                tokio::select! {
                    () = stopped => {}
                    () = shutdown.cancelled() => {}
                }
            })
            .await;
        if let Err(error) = served {
            tracing::error!(%error, "the webhook server failed");
        }
    });
    Ok(updates)
}
