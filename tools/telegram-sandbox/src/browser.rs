//! Driving the chat page in a real browser, for tests (feature `browser`): [`Browser::start`] runs Debian's
//! `chromedriver` on a free port with headless Chromium in a throw-away profile, and [`ChatPage`] knows the
//! page's elements, so the sandbox's own tests and the end-to-end suite act on the page as a person would
//! (type, attach, press) and wait for what the person would see — never sleeping a fixed time.
//!
//! Chromium missing is an error that says to run `scripts/install-deps.sh`, not a skipped test.

use std::{
    net::TcpListener,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use fantoccini::{Client, ClientBuilder, Locator, error::CmdError, wd::Capabilities};
use serde_json::{Value, json};

/// A function body that returns the labels of the reply keyboard under the message box, row by row, or
/// `null` when none is shown.
const REPLY_KEYBOARD_ROWS: &str = "const box = document.getElementById('reply-keyboard');
     if (!box || box.hidden) return null;
     return [...box.querySelectorAll('.kb-row')].map(r => [...r.querySelectorAll('button')].map(b => b.textContent));";

/// How often a page condition is checked while waiting for it.
const POLL_EVERY: Duration = Duration::from_millis(100);
/// How long chromedriver may take to answer its status endpoint.
const DRIVER_START: Duration = Duration::from_secs(20);

/// Why the browser could not be started or did not show what was expected.
#[derive(Debug, thiserror::Error)]
pub enum BrowserError {
    /// Chromium or chromedriver is not installed.
    #[error(
        "{what} not found (looked for {looked_for}): the browser tests need Debian's chromium and \
         chromium-driver; run `bash scripts/install-deps.sh` (or set {env} to the binary's path)"
    )]
    Missing {
        /// `chromium` or `chromedriver`.
        what: &'static str,
        /// The names and paths tried.
        looked_for: String,
        /// The environment variable that overrides the path.
        env: &'static str,
    },
    /// chromedriver could not be started.
    #[error("can't start chromedriver {path}: {source}")]
    Driver {
        /// The chromedriver binary.
        path: PathBuf,
        /// Why it failed.
        source: std::io::Error,
    },
    /// chromedriver started but did not become ready.
    #[error("chromedriver did not become ready within {0:?}")]
    DriverNotReady(Duration),
    /// chromedriver could not open a Chromium session.
    #[error("can't open a Chromium session through chromedriver: {0}")]
    Session(#[from] fantoccini::error::NewSessionError),
    /// A WebDriver command failed.
    #[error("WebDriver command failed: {0}")]
    Command(#[from] CmdError),
    /// The page did not show something in time.
    #[error("timed out after {timeout:?} waiting for {what}; the page shows:\n{page}")]
    Timeout {
        /// What was waited for.
        what: String,
        /// How long.
        timeout: Duration,
        /// The page's visible text at the time, to see what it showed instead.
        page: String,
    },
    /// A file (screenshot, upload) could not be written or found.
    #[error("{path}: {source}")]
    File {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

type Result<T, E = BrowserError> = std::result::Result<T, E>;

/// The first of `names` that is an existing file (absolute) or found on `PATH`; `env` overrides.
fn find_binary(env: &'static str, what: &'static str, names: &[&str]) -> Result<PathBuf> {
    if let Some(path) = std::env::var_os(env) {
        let path = PathBuf::from(path);
        if path.is_file() {
            return Ok(path);
        }
        return Err(BrowserError::Missing {
            what,
            looked_for: path.display().to_string(),
            env,
        });
    }
    let dirs: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect())
        .unwrap_or_default();
    for name in names {
        let candidate = Path::new(name);
        if candidate.is_absolute() {
            if candidate.is_file() {
                return Ok(candidate.to_path_buf());
            }
            continue;
        }
        if let Some(found) = dirs.iter().map(|d| d.join(name)).find(|p| p.is_file()) {
            return Ok(found);
        }
    }
    Err(BrowserError::Missing {
        what,
        looked_for: names.join(", "),
        env,
    })
}

fn free_port() -> Result<u16> {
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|source| BrowserError::File {
        path: PathBuf::from("127.0.0.1:0"),
        source,
    })?;
    listener
        .local_addr()
        .map(|a| a.port())
        .map_err(|source| BrowserError::File {
            path: PathBuf::from("127.0.0.1:0"),
            source,
        })
}

/// The directory for test artifacts (screenshots): `<target dir>/e2e-artifacts`, where the target dir is the
/// one the running test binary was built in (so `CARGO_TARGET_DIR` is honoured).
pub fn artifacts_dir() -> PathBuf {
    // A test binary lives in <target>/<profile>/deps/.
    let target = std::env::current_exe()
        .ok()
        .and_then(|exe| Some(exe.parent()?.parent()?.parent()?.to_path_buf()));
    target
        .or_else(|| std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from))
        .unwrap_or_else(|| PathBuf::from("target"))
        .join("e2e-artifacts")
}

/// A headless Chromium driven through chromedriver. Dropping it kills chromedriver; call
/// [`Browser::close`] to end the session cleanly.
pub struct Browser {
    client: Client,
    driver: Child,
    _profile: tempfile::TempDir,
}

impl std::fmt::Debug for Browser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Browser")
            .field("driver_pid", &self.driver.id())
            .finish_non_exhaustive()
    }
}

impl Browser {
    /// Starts chromedriver on a free port and opens a headless Chromium session (window 1000×1100).
    /// Binaries: `$CHROMIUM` or `chromium` on PATH, `$CHROMEDRIVER` or `chromedriver` on PATH.
    ///
    /// Errors: [`BrowserError::Missing`] when either is not installed, or a start-up failure.
    pub async fn start() -> Result<Self> {
        let chromium = find_binary(
            "CHROMIUM",
            "chromium",
            &["chromium", "chromium-browser", "/usr/bin/chromium"],
        )?;
        let chromedriver = find_binary(
            "CHROMEDRIVER",
            "chromedriver",
            &["chromedriver", "/usr/bin/chromedriver"],
        )?;
        let profile = tempfile::tempdir().map_err(|source| BrowserError::File {
            path: std::env::temp_dir(),
            source,
        })?;
        let port = free_port()?;
        let mut command = Command::new(&chromedriver);
        command
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        // Its own process group, which Chromium's processes join: a test that fails before `close` still
        // takes the whole browser down on drop instead of leaving it running.
        #[cfg(unix)]
        std::os::unix::process::CommandExt::process_group(&mut command, 0);
        let mut driver = command.spawn().map_err(|source| BrowserError::Driver {
            path: chromedriver.clone(),
            source,
        })?;
        let url = format!("http://127.0.0.1:{port}");
        if let Err(err) = wait_driver_ready(&url).await {
            kill_group(&mut driver);
            return Err(err);
        }
        let args = [
            "--headless".to_owned(),
            "--no-sandbox".to_owned(),
            "--disable-gpu".to_owned(),
            "--disable-dev-shm-usage".to_owned(),
            // No internet here: background requests to Google would stall the browser on refused connections.
            "--disable-background-networking".to_owned(),
            "--disable-component-update".to_owned(),
            "--disable-sync".to_owned(),
            "--no-first-run".to_owned(),
            "--disable-crash-reporter".to_owned(),
            "--window-size=1000,1100".to_owned(),
            format!("--user-data-dir={}", profile.path().display()),
        ];
        let mut caps = Capabilities::new();
        caps.insert("browserName".to_owned(), json!("chrome"));
        caps.insert(
            "goog:chromeOptions".to_owned(),
            json!({ "binary": chromium.display().to_string(), "args": args }),
        );
        let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(caps)
            .connect(&url)
            .await;
        let client = match client {
            Ok(client) => client,
            Err(err) => {
                kill_group(&mut driver);
                return Err(err.into());
            }
        };
        Ok(Self {
            client,
            driver,
            _profile: profile,
        })
    }

    /// The WebDriver client, for anything [`ChatPage`] does not cover.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Opens the chat page of the sandbox at `base_url` as user `user_id` (a private chat), with the given
    /// first name and language (`en`/`ru`), and waits until it has shown the chat's history.
    pub async fn open_chat(
        &self,
        base_url: &str,
        user_id: i64,
        name: &str,
        language: &str,
    ) -> Result<ChatPage<'_>> {
        let mut url = reqwest::Url::parse(base_url).map_err(|e| BrowserError::File {
            path: PathBuf::from(base_url),
            source: std::io::Error::new(std::io::ErrorKind::InvalidInput, e),
        })?;
        url.query_pairs_mut()
            .append_pair("user", &user_id.to_string())
            .append_pair("name", name)
            .append_pair("lang", language);
        self.client.goto(url.as_str()).await?;
        let page = ChatPage {
            client: &self.client,
        };
        page.wait_ready().await?;
        Ok(page)
    }

    /// Ends the browser session (Chromium quits) and stops chromedriver.
    pub async fn close(self) {
        let _ = self.client.clone().close().await;
        // Drop stops chromedriver.
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        kill_group(&mut self.driver);
    }
}

/// Kills chromedriver and everything in its process group (the Chromium it started), then reaps it.
fn kill_group(driver: &mut Child) {
    #[cfg(unix)]
    {
        // `kill -KILL -- -<pgid>`: std has no process-group kill, and this crate forbids unsafe (libc).
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", driver.id())])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
    let _ = driver.kill();
    let _ = driver.wait();
}

async fn wait_driver_ready(url: &str) -> Result<()> {
    let http = reqwest::Client::new();
    let deadline = Instant::now() + DRIVER_START;
    loop {
        let ready = match http.get(format!("{url}/status")).send().await {
            Ok(response) => response
                .json::<Value>()
                .await
                .is_ok_and(|v| v["value"]["ready"] == true),
            Err(_) => false,
        };
        if ready {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(BrowserError::DriverNotReady(DRIVER_START));
        }
        tokio::time::sleep(POLL_EVERY).await;
    }
}

/// The chat page open in a [`Browser`]: what a person does on it and what they see.
#[derive(Debug)]
pub struct ChatPage<'a> {
    client: &'a Client,
}

impl ChatPage<'_> {
    /// Runs `script` (a function body that returns a value) until it returns something other than `null`,
    /// `undefined` or `false`; returns that value. Fails after `timeout` with the page's visible text.
    pub async fn wait_js(&self, what: &str, script: &str, timeout: Duration) -> Result<Value> {
        let deadline = Instant::now() + timeout;
        loop {
            let value = self.client.execute(script, Vec::new()).await?;
            if !matches!(value, Value::Null | Value::Bool(false)) {
                return Ok(value);
            }
            if Instant::now() > deadline {
                return Err(BrowserError::Timeout {
                    what: what.to_owned(),
                    timeout,
                    page: self.visible_text().await.unwrap_or_default(),
                });
            }
            tokio::time::sleep(POLL_EVERY).await;
        }
    }

    /// The page's visible text (header, banner, messages).
    pub async fn visible_text(&self) -> Result<String> {
        let text = self
            .client
            .execute("return document.body.innerText", Vec::new())
            .await?;
        Ok(text.as_str().unwrap_or_default().to_owned())
    }

    /// Types `text` into the message box and presses the send button.
    pub async fn send_text(&self, text: &str) -> Result<()> {
        let input = self.client.find(Locator::Css("#text")).await?;
        input.send_keys(text).await?;
        self.client
            .find(Locator::Css("#send"))
            .await?
            .click()
            .await?;
        self.wait_js(
            "the message box to be cleared after sending",
            "return document.getElementById('text').value === ''",
            Duration::from_secs(10),
        )
        .await?;
        Ok(())
    }

    /// Attaches the file at `path` as `kind` (`photo`, `document`, `audio`, `voice`, `video` or
    /// `video_note`), types `caption` (may be empty) and sends it.
    pub async fn send_file(&self, kind: &str, path: &Path, caption: &str) -> Result<()> {
        let path = path.canonicalize().map_err(|source| BrowserError::File {
            path: path.to_path_buf(),
            source,
        })?;
        let input = self
            .client
            .find(Locator::Css(&format!("#file-{kind}")))
            .await?;
        input.send_keys(&path.display().to_string()).await?;
        self.wait_js(
            "the attachment to be shown",
            "return !document.getElementById('attachment').hidden",
            Duration::from_secs(10),
        )
        .await?;
        if !caption.is_empty() {
            self.client
                .find(Locator::Css("#text"))
                .await?
                .send_keys(caption)
                .await?;
        }
        self.client
            .find(Locator::Css("#send"))
            .await?
            .click()
            .await?;
        self.wait_js(
            "the attachment to be sent",
            "return document.getElementById('attachment').hidden",
            Duration::from_secs(30),
        )
        .await?;
        Ok(())
    }

    /// Changes who the person is through the page's "who am I" form (user id, first name, language) and
    /// waits until the page has reloaded that user's chat. The page remembers it in localStorage.
    pub async fn set_identity(&self, user_id: i64, name: &str, language: &str) -> Result<()> {
        self.client
            .find(Locator::Css("#who-button"))
            .await?
            .click()
            .await?;
        let id = self.client.find(Locator::Css("#who-id")).await?;
        id.clear().await?;
        id.send_keys(&user_id.to_string()).await?;
        let first_name = self.client.find(Locator::Css("#who-name")).await?;
        first_name.clear().await?;
        first_name.send_keys(name).await?;
        self.client
            .find(Locator::Css(&format!(
                "#who-lang option[value=\"{language}\"]"
            )))
            .await?
            .click()
            .await?;
        self.client
            .find(Locator::Css("#who-save"))
            .await?
            .click()
            .await?;
        self.wait_ready().await
    }

    /// Waits until the page has shown its chat's history (after loading or after a change of user).
    pub async fn wait_ready(&self) -> Result<()> {
        self.wait_js(
            "the chat page to load the history",
            "return document.body.dataset.ready === 'true'",
            Duration::from_secs(30),
        )
        .await?;
        Ok(())
    }

    /// The "who am I" label in the header: `<first name> · <user id> · <language>`.
    pub async fn identity(&self) -> Result<String> {
        Ok(self
            .client
            .find(Locator::Css("#who-label"))
            .await?
            .text()
            .await?)
    }

    /// Opens the bot's command menu (the Menu button) and returns its text once loaded: one line per
    /// command, `/name` then its description, or a note that the bot set no commands.
    pub async fn open_command_menu(&self) -> Result<String> {
        self.client
            .find(Locator::Css("#menu-button"))
            .await?
            .click()
            .await?;
        let text = self
            .wait_js(
                "the command menu",
                "const menu = document.getElementById('commands-menu');
                 return !menu.hidden && menu.innerText.trim() !== '' ? menu.innerText : null;",
                Duration::from_secs(10),
            )
            .await?;
        Ok(text.as_str().unwrap_or_default().to_owned())
    }

    /// Waits for a message of the bot whose text or caption contains `needle`; returns its message id.
    pub async fn wait_bot_text(&self, needle: &str, timeout: Duration) -> Result<i64> {
        let script = format!(
            "const needle = {};
             for (const m of document.querySelectorAll('#messages .msg.bot')) {{
               if (m.innerText.includes(needle)) return Number(m.dataset.messageId);
             }}
             return null;",
            json!(needle)
        );
        let id = self
            .wait_js(
                &format!("a bot message containing {needle:?}"),
                &script,
                timeout,
            )
            .await?;
        Ok(id.as_i64().unwrap_or_default())
    }

    /// Waits for an inline button whose label contains `label` (under any bot message); returns the id of
    /// the message it belongs to and the button's whole label.
    pub async fn wait_button(&self, label: &str, timeout: Duration) -> Result<(i64, String)> {
        let script = format!(
            "const label = {};
             for (const b of document.querySelectorAll('#messages .keyboard button')) {{
               if (b.textContent.includes(label)) {{
                 return [Number(b.closest('.keyboard').dataset.messageId), b.textContent];
               }}
             }}
             return null;",
            json!(label)
        );
        let found = self
            .wait_js(&format!("an inline button {label:?}"), &script, timeout)
            .await?;
        Ok((
            found[0].as_i64().unwrap_or_default(),
            found[1].as_str().unwrap_or_default().to_owned(),
        ))
    }

    /// Presses the last inline button whose label contains `label`.
    pub async fn press_button(&self, label: &str, timeout: Duration) -> Result<()> {
        self.wait_button(label, timeout).await?;
        let buttons = self
            .client
            .find_all(Locator::Css("#messages .keyboard button"))
            .await?;
        for button in buttons.into_iter().rev() {
            if button.text().await?.contains(label) {
                button.click().await?;
                return Ok(());
            }
        }
        Err(BrowserError::Timeout {
            what: format!("an inline button {label:?} to press"),
            timeout,
            page: self.visible_text().await.unwrap_or_default(),
        })
    }

    /// The reply keyboard shown under the message box: its button labels row by row, or `None` when none
    /// is shown (the bot sent none, removed it, or it was a one-time keyboard already used).
    pub async fn reply_keyboard(&self) -> Result<Option<Vec<Vec<String>>>> {
        let rows = self.client.execute(REPLY_KEYBOARD_ROWS, Vec::new()).await?;
        Ok(serde_json::from_value(rows).unwrap_or_default())
    }

    /// Waits until the reply keyboard under the message box shows a button labelled exactly `label`;
    /// returns all its rows.
    pub async fn wait_reply_keyboard(
        &self,
        label: &str,
        timeout: Duration,
    ) -> Result<Vec<Vec<String>>> {
        let script = format!(
            "const rows = (() => {{ {REPLY_KEYBOARD_ROWS} }})();
             return rows && rows.some(row => row.includes({})) ? rows : null;",
            json!(label)
        );
        let rows = self
            .wait_js(
                &format!("a reply keyboard with a button {label:?}"),
                &script,
                timeout,
            )
            .await?;
        Ok(serde_json::from_value(rows).unwrap_or_default())
    }

    /// Waits until no reply keyboard is shown under the message box.
    pub async fn wait_no_reply_keyboard(&self, timeout: Duration) -> Result<()> {
        self.wait_js(
            "the reply keyboard to be hidden",
            &format!("return (() => {{ {REPLY_KEYBOARD_ROWS} }})() === null;"),
            timeout,
        )
        .await?;
        Ok(())
    }

    /// Presses the reply keyboard button labelled exactly `label`: the page sends its text as the
    /// person's message.
    pub async fn press_reply_button(&self, label: &str, timeout: Duration) -> Result<()> {
        self.wait_reply_keyboard(label, timeout).await?;
        for button in self
            .client
            .find_all(Locator::Css("#reply-keyboard button"))
            .await?
        {
            if button.text().await? == label {
                button.click().await?;
                return Ok(());
            }
        }
        Err(BrowserError::Timeout {
            what: format!("a reply keyboard button {label:?} to press"),
            timeout,
            page: self.visible_text().await.unwrap_or_default(),
        })
    }

    /// Presses the keyboard icon in the message box, which shows the bot's reply keyboard again after a
    /// one-time keyboard was used (or hides it).
    pub async fn toggle_reply_keyboard(&self) -> Result<()> {
        self.client
            .find(Locator::Css("#keyboard-button"))
            .await?
            .click()
            .await?;
        Ok(())
    }

    /// Waits for a toast (e.g. a callback answer) containing `needle`.
    pub async fn wait_toast(&self, needle: &str, timeout: Duration) -> Result<()> {
        let script = format!(
            "const needle = {};
             return [...document.querySelectorAll('#toasts .toast')].some(t => t.textContent.includes(needle));",
            json!(needle)
        );
        self.wait_js(&format!("a toast containing {needle:?}"), &script, timeout)
            .await?;
        Ok(())
    }

    /// Waits until the bot has shown an image (a photo, or an image document's preview) after message
    /// `after` that the browser has fully loaded and decoded; returns its natural `(width, height)`.
    pub async fn wait_bot_image(&self, after: i64, timeout: Duration) -> Result<(u64, u64)> {
        let script = format!(
            "for (const m of document.querySelectorAll('#messages .msg.bot')) {{
               if (Number(m.dataset.messageId) <= {after}) continue;
               for (const img of m.querySelectorAll('img.photo, img.preview')) {{
                 if (img.complete && img.naturalWidth > 0) return [img.naturalWidth, img.naturalHeight];
               }}
             }}
             return null;"
        );
        let size = self
            .wait_js(
                &format!("a bot image after message {after}"),
                &script,
                timeout,
            )
            .await?;
        Ok((
            size[0].as_u64().unwrap_or_default(),
            size[1].as_u64().unwrap_or_default(),
        ))
    }

    /// Scrolls the chat to its end and writes a PNG screenshot of the window to `path` (creating its
    /// directory).
    pub async fn screenshot(&self, path: &Path) -> Result<()> {
        self.client
            .execute(
                "const box = document.getElementById('messages'); box.scrollTop = box.scrollHeight; return true;",
                Vec::new(),
            )
            .await?;
        let png = self.client.screenshot().await?;
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|source| BrowserError::File {
                path: dir.to_path_buf(),
                source,
            })?;
        }
        std::fs::write(path, png).map_err(|source| BrowserError::File {
            path: path.to_path_buf(),
            source,
        })
    }
}
