//! Issue 5 in a real browser: the whole system plus Debian's headless Chromium on the sandbox's chat page.
//! The person sends `/start` and sees the welcome and the main menu's nine modes under the message box
//! (`browser-menu.png`), presses ℹ️ Info and gets the help, finds the commands in the menu, uploads the nokia photo,
//! sees the "Upscale ×2" button, presses it and sees the result image (a photo, or an image document for a
//! result over Telegram's photo limits). A screenshot goes to `<target>/e2e-artifacts/browser-chat.png`.
//!
//! Needs `chromium` and `chromium-driver` (`scripts/install-deps.sh`); without them the test fails saying so.

use std::time::{Duration, Instant};

use telegram_sandbox::browser::{Browser, BrowserError, artifacts_dir};

use crate::harness::{Options, System, fixture};

const USER: i64 = 7501;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_person_upscales_a_photo_in_the_browser_chat() {
    let mut system = System::start(Options::default()).await;
    let started = Instant::now();
    let browser = Browser::start().await.unwrap_or_else(|e| panic!("{e}"));
    let page = browser
        .open_chat(&system.sandbox_url, USER, "Browser User", "en")
        .await
        .unwrap();

    page.send_text("/start").await.unwrap();
    let welcome = page
        .wait_bot_text("Your balance", Duration::from_secs(60))
        .await;
    check(&mut system, welcome);

    // The main menu under the message box (the reply keyboard /start sends): the original bot's nine
    // modes; ℹ️ Info answers with the help.
    let rows = page
        .wait_reply_keyboard("🎨 Create", Duration::from_secs(30))
        .await;
    let rows = check(&mut system, rows);
    assert_eq!(
        rows,
        [
            ["🎨 Create", "✍️ Write a prompt", "✏️ Edit"],
            ["✨ Retouch", "📝 Add text", "🔄 Face swap"],
            ["⬆️ Enhance", "💰 Balance", "ℹ️ Info"],
        ]
    );
    let menu_shot = artifacts_dir().join("browser-menu.png");
    page.screenshot(&menu_shot).await.unwrap();
    page.press_reply_button("ℹ️ Info", Duration::from_secs(10))
        .await
        .unwrap();
    let help = page
        .wait_bot_text("Every mode is in /menu", Duration::from_secs(30))
        .await;
    check(&mut system, help);

    // The gateway's English command menu, from setMyCommands.
    let menu = page.open_command_menu().await;
    let menu = check(&mut system, menu);
    assert!(
        ["/start", "/balance", "/help"]
            .iter()
            .all(|c| menu.contains(c)),
        "menu: {menu}"
    );

    page.send_file("photo", &fixture("images/nokia-8.3-4608x1976.jpg"), "")
        .await
        .unwrap();
    let button = page
        .wait_button("Upscale ×2", Duration::from_secs(60))
        .await;
    let (offer, label) = check(&mut system, button);
    assert!(label.contains('₽'), "the button shows the price: {label}");
    let pressed = Instant::now();
    page.press_button("Upscale ×2", Duration::from_secs(10))
        .await
        .unwrap();
    // The result is a new bot message after the offer: a photo, or an image document with a preview.
    let image = page.wait_bot_image(offer, Duration::from_secs(120)).await;
    let (width, height) = check(&mut system, image);
    let latency = pressed.elapsed();
    let done = page.wait_bot_text("Done:", Duration::from_secs(30)).await;
    check(&mut system, done);
    assert!(
        width >= 1280 && height >= 549,
        "the result image is shown: {width}×{height}"
    );
    system.assert_alive();

    let shot = artifacts_dir().join("browser-chat.png");
    page.screenshot(&shot).await.unwrap();
    println!(
        "browser e2e: whole flow {} ms (from the system being up); press → result image shown {} ms; screenshot: {}",
        started.elapsed().as_millis(),
        latency.as_millis(),
        shot.display()
    );
    browser.close().await;
}

/// The value, or a panic with the page's error and the system's logs (a dead process is named first).
fn check<T>(system: &mut System, result: Result<T, BrowserError>) -> T {
    match result {
        Ok(value) => value,
        Err(err) => {
            system.assert_alive();
            panic!("{err}\n{}", system.logs())
        }
    }
}
