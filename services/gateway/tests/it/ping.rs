//! `/ping` through the sandbox: in both languages, one line per part of the system with its state, and
//! a part that goes down shown as not answering (billing is killed mid-test). The worker services are
//! not started in these tests: they are the parts that do not answer from the start.

use std::time::{Duration, Instant};

use crate::system::{USER, start};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn ping_says_which_parts_answer_in_russian_and_english() {
    let mut system = start().await;

    let english = system.ask(USER, "en", "/ping").await;
    assert!(english.starts_with("🏓 Pong! The bot is up."), "{english}");
    for line in [
        "✅ Job queue (NATS) — ",
        "✅ Balance and payments — ",
        "❌ Images — not answering",
        "❌ Speech to text — not answering",
        "❌ Text from documents — not answering",
        "will not work for now: the bot will say so and charge nothing",
    ] {
        assert!(english.contains(line), "{line:?} in {english}");
    }

    let russian = system.ask(USER, "ru", "/ping").await;
    assert!(russian.starts_with("🏓 Понг! Бот на связи."), "{russian}");
    for line in [
        "✅ Очередь заданий (NATS) — ",
        "✅ Баланс и оплата — ",
        "❌ Картинки — не отвечает",
        "❌ Расшифровка речи — не отвечает",
        "❌ Текст из документов — не отвечает",
    ] {
        assert!(russian.contains(line), "{line:?} in {russian}");
    }

    // billing goes down: /ping still answers at once, and says so.
    system.billing_process.kill();
    let asked = Instant::now();
    let down = system.ask(USER, "en", "/ping").await;
    assert!(
        down.contains("❌ Balance and payments — not answering"),
        "{down}"
    );
    assert!(down.contains("✅ Job queue (NATS) — "), "{down}");
    assert!(
        asked.elapsed() < Duration::from_secs(10),
        "answered after {:?}",
        asked.elapsed()
    );

    // The command is in the menu in both languages.
    for language in ["en", "ru"] {
        let menu = system.user(USER, language).commands().await.unwrap();
        assert!(
            menu.commands.iter().any(|c| c.command == "ping"),
            "{language}: {menu:?}"
        );
    }
}
