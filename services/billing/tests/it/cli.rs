//! The real `billing` binary's command line: `--help` documents every variable but never shows a
//! secret's value, and a bad price list stops start-up with a message naming the line and entry.

use std::time::Duration;

use tokio::process::Command;

/// Runs the binary with `args` and `env`; returns (success, stdout + stderr).
async fn billing(args: &[&str], env: &[(&str, &str)]) -> (bool, String) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_billing"));
    command
        .args(args)
        .env_remove("DATABASE_URL")
        .env_remove("PRICES_FILE")
        .env("NATS_URL", "nats://127.0.0.1:1")
        .env("METRICS_LISTEN", "127.0.0.1:0")
        .kill_on_drop(true);
    for (name, value) in env {
        command.env(name, value);
    }
    let output = tokio::time::timeout(Duration::from_secs(30), command.output())
        .await
        .expect("billing exits within 30 s")
        .unwrap();
    let mut text = String::from_utf8_lossy(&output.stdout).into_owned();
    text.push_str(&String::from_utf8_lossy(&output.stderr));
    (output.status.success(), text)
}

#[tokio::test]
async fn help_never_shows_the_database_url() {
    let secret = "postgres://billing:s3cr3t-Pa55w0rd@db.internal:5432/billing";
    for args in [&["--help"][..], &["-h"], &["check", "--help"]] {
        let (ok, text) = billing(args, &[("DATABASE_URL", secret)]).await;
        assert!(ok, "{args:?}: {text}");
        assert!(
            text.contains("DATABASE_URL"),
            "{args:?} documents the variable: {text}"
        );
        assert!(
            !text.contains("s3cr3t"),
            "{args:?} shows the secret: {text}"
        );
    }
    let (_, text) = billing(&["--help"], &[]).await;
    assert!(
        text.contains("--prices-file") && text.contains("PRICES_FILE"),
        "{text}"
    );
    assert!(
        !text.contains("--price "),
        "the old --price flag is gone: {text}"
    );
}

#[tokio::test]
async fn a_bad_price_list_stops_start_up() {
    let dir = tempfile::tempdir().unwrap();
    let database_url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("billing.sqlite").display()
    );
    let bad = dir.path().join("prices.toml");
    std::fs::write(
        &bad,
        "prices = [\n  { operation = \"image.upscale\", params = { factor = \"2\" }, amount_minor = 500 },\n  { operation = \"speech.transcribe\", amount_minor = -300 },\n]\n",
    )
    .unwrap();
    let bad = bad.display().to_string();
    let env = [("DATABASE_URL", database_url.as_str())];
    let (ok, text) = billing(&["--listen", "127.0.0.1:0", "--prices-file", &bad], &env).await;
    assert!(!ok, "{text}");
    assert!(
        text.contains(&format!("{bad}, line 3, entry 2 (speech.transcribe)"))
            && text.contains("negative"),
        "{text}"
    );
    // The environment variable points at a file the same way.
    let missing = dir.path().join("missing.toml").display().to_string();
    let env = [
        ("DATABASE_URL", database_url.as_str()),
        ("PRICES_FILE", missing.as_str()),
    ];
    let (ok, text) = billing(&["--listen", "127.0.0.1:0"], &env).await;
    assert!(!ok, "{text}");
    assert!(
        text.contains(&format!("reading the price list {missing}")),
        "{text}"
    );
}
