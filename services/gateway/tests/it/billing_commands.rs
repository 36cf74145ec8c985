//! `/balance`, `/history` and `/add_balance` end to end through the sandbox.

use mediabot_proto::billing::v1::TopUpRequest;

use crate::system::{ADMIN, USER, start};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn add_balance_history_and_balance() {
    let system = start().await;

    // Anyone else is refused and nothing happens.
    let refused = system.ask(USER, "ru", "/add_balance 100").await;
    assert!(refused.contains("только администраторам"), "{refused}");
    let refused = system
        .ask(USER, "en", &format!("/add_balance {USER} 100"))
        .await;
    assert!(refused.contains("administrators only"), "{refused}");
    assert_eq!(system.balance(USER).await, 3000);

    // Bad amounts are explained.
    for (text, needle) in [
        ("/add_balance", "Give an amount"),
        ("/add_balance -1", "above zero"),
        ("/add_balance 0", "above zero"),
        ("/add_balance 1.234", "two decimals"),
        ("/add_balance abc", "number of rubles"),
        ("/add_balance 100001", "At most 100000 ₽"),
    ] {
        let reply = system.ask(ADMIN, "en", text).await;
        assert!(reply.contains(needle), "{text}: {reply}");
    }
    assert_eq!(system.balance(ADMIN).await, 3000);

    // The admin's own account, then another one.
    let own = system.ask(ADMIN, "ru", "/add_balance 100,50").await;
    assert!(own.contains("Начислено 100,50 ₽"), "{own}");
    assert_eq!(system.balance(ADMIN).await, 3000 + 10_050);
    let message = system
        .send(ADMIN, "en", &format!("/add_balance {USER} 20"))
        .await;
    let other = system.reply(ADMIN, message).await;
    assert!(
        other.contains(&format!("Credited 20 ₽ to account {USER}. Balance: 50 ₽")),
        "{other}"
    );
    assert_eq!(system.balance(USER).await, 5000);

    // The same update again (a replay) uses the same idempotency key: billing credits nothing twice.
    let replay = system
        .billing
        .clone()
        .top_up(TopUpRequest {
            account_id: USER,
            amount_minor: 2000,
            idempotency_key: gateway::admin::idempotency_key(ADMIN, message as i32),
            source: gateway::admin::source(ADMIN as u64),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(replay.balance.unwrap().balance_minor, 5000);

    // /balance and /history.
    let balance = system.ask(USER, "en", "/balance").await;
    assert_eq!(balance, "Your balance: 50 ₽");
    // /history lists paid operations only (credits are in the balance): none yet.
    let history = system.ask(USER, "ru", "/history").await;
    assert_eq!(history, "Платных операций пока нет. Баланс — /balance.");
    let history = system.ask(USER, "en", "/history").await;
    assert_eq!(history, "No paid operations yet. Your balance: /balance.");
}

/// `/apikey` gives a key (in the user's language) that billing resolves to the user's account; a second
/// `/apikey` replaces it.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn apikey_gives_a_key_of_the_users_account() {
    use mediabot_proto::billing::v1::ResolveApiKeyRequest;

    let system = start().await;
    let key_of = |reply: &str| {
        reply
            .split_whitespace()
            .find(|w| w.starts_with("mb_") && w.len() == 67)
            .unwrap_or_else(|| panic!("no key in {reply}"))
            .to_string()
    };
    let first = system.ask(USER, "en", "/apikey").await;
    assert!(first.contains("OpenAI-compatible"), "{first}");
    assert!(first.contains("/v1/audio/transcriptions"), "{first}");
    let first = key_of(&first);
    let resolve = |key: String| {
        let mut billing = system.billing.clone();
        async move {
            billing
                .resolve_api_key(ResolveApiKeyRequest { api_key: key })
                .await
                .map(|r| r.into_inner().account_id)
                .map_err(|s| s.code())
        }
    };
    assert_eq!(resolve(first.clone()).await, Ok(USER));
    let second = system.ask(USER, "ru", "/apikey").await;
    assert!(
        second.contains("Прежний ключ больше не действует"),
        "{second}"
    );
    assert_eq!(resolve(key_of(&second)).await, Ok(USER));
    assert_eq!(resolve(first).await, Err(tonic::Code::NotFound));
}
