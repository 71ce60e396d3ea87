//! Headless Chromium under chromedriver (WebDriver, through fantoccini), for the tests that
//! drive the pages as a person would (`tests/e2e/browser.rs`, `tests/e2e/sso.rs`).
//!
//! Needs `chromium` and `chromedriver` (Debian: `apt-get install chromium chromium-driver`;
//! `.ci/run` installs them). Without them the tests FAIL; set `LICENSEDOT_SKIP_BROWSER_TESTS=1`
//! to skip them locally (refused when `CI` is set). `CHROMIUM` and `CHROMEDRIVER` override the
//! binaries' paths.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};

/// How long a page may take to show what a test waits for.
pub const WAIT: Duration = Duration::from_secs(20);

/// A binary from `env` or the usual places; `None` when absent.
fn find_binary(env: &str, names: &[&str]) -> Option<PathBuf> {
    if let Ok(path) = std::env::var(env) {
        return Some(PathBuf::from(path));
    }
    let dirs: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect())
        .unwrap_or_default();
    names
        .iter()
        .flat_map(|name| dirs.iter().map(move |dir| dir.join(name)))
        .find(|candidate| candidate.is_file())
}

/// Every host name but 127.0.0.1 fails to resolve: the pages must work with no network beyond
/// this machine (the explorer's files are the gateway's own, nothing comes from a CDN).
const OFFLINE_RESOLVER_RULES: &str = "MAP * ~NOTFOUND, EXCLUDE 127.0.0.1";

/// Headless Chromium under its own chromedriver and a fresh profile; both end with the value.
pub struct Browser {
    pub client: Client,
    _driver: tokio::process::Child,
    /// Chromium's profile directory, deleted when the browser is dropped.
    _profile: tempfile::TempDir,
}

impl Browser {
    /// Starts the browser, or returns `None` (after saying why) when the binaries are missing
    /// and skipping was asked for outside CI. Otherwise a missing browser fails the test.
    pub async fn start() -> Option<Browser> {
        let chromium = find_binary(
            "CHROMIUM",
            &["chromium", "chromium-browser", "google-chrome"],
        );
        let chromedriver = find_binary("CHROMEDRIVER", &["chromedriver"]);
        let (Some(chromium), Some(chromedriver)) = (chromium, chromedriver) else {
            let why = "chromium and chromedriver are needed for the browser tests \
                       (Debian: apt-get install -y chromium chromium-driver)";
            let in_ci = std::env::var_os("CI").is_some();
            if !in_ci && std::env::var("LICENSEDOT_SKIP_BROWSER_TESTS").is_ok_and(|v| v == "1") {
                eprintln!("SKIPPED: {why}; LICENSEDOT_SKIP_BROWSER_TESTS=1");
                return None;
            }
            panic!("{why}");
        };

        let port = free_port();
        let driver = tokio::process::Command::new(&chromedriver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", chromedriver.display()));
        let webdriver = format!("http://127.0.0.1:{port}");
        wait_until_ready(&webdriver).await;

        let profile = test_support::scratch_dir("chromium");
        let capabilities = json!({
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": chromium,
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic",
                    "--no-first-run", "--no-default-browser-check",
                    "--disable-background-networking", "--disable-component-update",
                    "--disable-sync", "--disable-extensions", "--disable-dev-shm-usage",
                    "--window-size=1280,1000", "--hide-scrollbars",
                    format!("--host-resolver-rules={OFFLINE_RESOLVER_RULES}"),
                    format!("--user-data-dir={}", profile.path().display()),
                ],
            },
        });
        let Value::Object(capabilities) = capabilities else {
            unreachable!()
        };
        let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(capabilities)
            .connect(&webdriver)
            .await
            .unwrap_or_else(|e| panic!("chromedriver could not start {}: {e}", chromium.display()));
        Some(Browser {
            client,
            _driver: driver,
            _profile: profile,
        })
    }

    pub async fn close(self) {
        let _ = self.client.clone().close().await;
    }
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

async fn wait_until_ready(webdriver: &str) {
    let client = reqwest::Client::new();
    for _ in 0..100 {
        if let Ok(response) = client.get(format!("{webdriver}/status")).send().await
            && let Ok(status) = response.json::<Value>().await
            && status["value"]["ready"] == true
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("chromedriver did not become ready at {webdriver}");
}

/// Saves a screenshot as `dir/browser/NAME.png` (tests pass `$CARGO_TARGET_TMPDIR`).
pub async fn save_screenshot(client: &Client, dir: &Path, name: &str) -> PathBuf {
    let dir = dir.join("browser");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("{name}.png"));
    std::fs::write(&path, client.screenshot().await.unwrap()).unwrap();
    eprintln!("screenshot: {}", path.display());
    path
}

/// The element `css` selects, waiting up to [`WAIT`] for it to appear.
pub async fn find(client: &Client, css: &str) -> Element {
    client
        .wait()
        .at_most(WAIT)
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("no `{css}` on the page: {e}"))
}
