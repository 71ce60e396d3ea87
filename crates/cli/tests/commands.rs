//! The `licensedot` binary as a user runs it: `seed`, `token`, `serve` with a bad database and
//! `demo` on port 0, each in its own temporary directory.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

fn licensedot() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_licensedot"));
    command
        .env_remove("LICENSEDOT_JWT_SECRET")
        .env_remove("LICENSEDOT_VERSION_SERVICE__SERVICE_TOKEN")
        .env("RUST_LOG", "warn");
    command
}

/// An empty directory for one test: each label is used by one test, the pid separates runs.
fn fresh_dir(label: &str) -> PathBuf {
    let dir = std::env::temp_dir()
        .join("licensedot-cli-tests")
        .join(format!("{label}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn sqlite(dir: &std::path::Path, file: &str) -> String {
    format!("sqlite://{}?mode=rwc", dir.join(file).display())
}

#[test]
fn seed_fills_empty_databases_once() {
    let dir = fresh_dir("seed");
    let args = [
        "seed".to_owned(),
        "--database-url".to_owned(),
        sqlite(&dir, "licenses.sqlite"),
        "--version-database-url".to_owned(),
        sqlite(&dir, "version.sqlite"),
        "--customers".to_owned(),
        "12".to_owned(),
    ];
    let first = licensedot().args(&args).output().unwrap();
    let stdout = String::from_utf8_lossy(&first.stdout);
    assert!(
        first.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&first.stderr)
    );
    assert!(stdout.contains("seeded 12 customers"), "{stdout}");

    let again = licensedot().args(&args).output().unwrap();
    assert!(
        !again.status.success(),
        "seeding twice must refuse, not duplicate"
    );
    let stderr = String::from_utf8_lossy(&again.stderr);
    assert!(stderr.contains("already has data"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn serve_with_a_database_that_does_not_answer_says_so_and_exits() {
    let output = licensedot()
        .args(["serve"])
        .env(
            "LICENSEDOT_JWT_SECRET",
            "cli-test-only-secret-0123456789abcdef",
        )
        .env(
            "LICENSEDOT_GATEWAY__DATABASE_URL",
            "postgres://app:hunter2@127.0.0.1:1/none",
        )
        .env("LICENSEDOT_GATEWAY__LISTEN", "127.0.0.1:0")
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("license database"), "{stderr}");
    assert!(
        !stderr.contains("hunter2"),
        "no password in messages: {stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn token_refuses_unknown_roles() {
    let output = licensedot()
        .args(["token", "--role", "wizard"])
        .env(
            "LICENSEDOT_JWT_SECRET",
            "cli-test-only-secret-0123456789abcdef",
        )
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("wizard"));
}

/// Kills the demo when the test ends, however it ends.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `command` with its stdout piped and reads lines until one contains `marker`;
/// returns the process (killed when dropped) and the lines read. Panics after `secs`.
async fn start_until(
    mut command: Command,
    marker: &'static str,
    secs: u64,
) -> (Running, Vec<String>) {
    let mut child = Running(
        command
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let stdout = child.0.stdout.take().unwrap();
    let lines = tokio::task::spawn_blocking(move || {
        let mut seen = Vec::new();
        for line in BufReader::new(stdout).lines() {
            let line = line.unwrap();
            let done = line.contains(marker);
            seen.push(line);
            if done {
                break;
            }
        }
        seen
    });
    let lines = tokio::time::timeout(Duration::from_secs(secs), lines)
        .await
        .unwrap_or_else(|_| panic!("{marker:?} not printed within {secs} s"))
        .unwrap();
    (child, lines)
}

#[tokio::test]
async fn version_service_refuses_to_start_without_a_service_token() {
    let dir = fresh_dir("version-no-token");
    let mut command = licensedot();
    command
        .arg("version-service")
        .env("LICENSEDOT_VERSION_SERVICE__LISTEN", "127.0.0.1:0")
        .env(
            "LICENSEDOT_VERSION_SERVICE__DATABASE_URL",
            sqlite(&dir, "version.sqlite"),
        )
        .stderr(Stdio::piped())
        .stdout(Stdio::null());
    let child = command.spawn().unwrap();
    // Bounded: a service that started anyway would serve forever.
    let waiting = tokio::task::spawn_blocking(move || child.wait_with_output());
    let output = tokio::time::timeout(Duration::from_secs(60), waiting)
        .await
        .expect("the version service without a token must exit, not serve")
        .unwrap()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("no service token"), "{stderr}");
    assert!(stderr.contains("--insecure-no-token"), "{stderr}");

    // The explicit development flag starts it.
    let mut command = licensedot();
    command
        .args(["version-service", "--insecure-no-token"])
        .env("LICENSEDOT_VERSION_SERVICE__LISTEN", "127.0.0.1:0")
        .env(
            "LICENSEDOT_VERSION_SERVICE__DATABASE_URL",
            sqlite(&dir, "version.sqlite"),
        );
    let (_running, lines) = start_until(command, "licensedot version service:", 60).await;
    assert!(lines.iter().any(|l| l.contains("/graphql")), "{lines:?}");
}

#[tokio::test]
async fn demo_starts_both_services_with_data_and_a_working_token() {
    let dir = fresh_dir("demo");
    let mut demo = Running(
        licensedot()
            .args([
                "demo",
                "--listen",
                "127.0.0.1:0",
                "--version-listen",
                "127.0.0.1:0",
                "--data-dir",
            ])
            .arg(&dir)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    // Read what it prints until it says it is running (bounded by a deadline).
    let stdout = demo.0.stdout.take().unwrap();
    let lines = tokio::task::spawn_blocking(move || {
        let mut seen = Vec::new();
        for line in BufReader::new(stdout).lines() {
            let line = line.unwrap();
            let done = line.contains("press ctrl-c");
            seen.push(line);
            if done {
                break;
            }
        }
        seen
    });
    let lines = tokio::time::timeout(Duration::from_secs(120), lines)
        .await
        .expect("demo started in time")
        .unwrap();
    let url = lines
        .iter()
        .find_map(|l| {
            l.trim()
                .strip_prefix("GraphQL explorer:")
                .map(|u| u.trim().to_owned())
        })
        .unwrap_or_else(|| panic!("no GraphQL URL in {lines:?}"));
    let token = lines
        .iter()
        .find_map(|l| {
            l.trim()
                .strip_prefix("Authorization: Bearer ")
                .map(str::to_owned)
        })
        .unwrap_or_else(|| panic!("no token in {lines:?}"));

    let client = reqwest::Client::new();
    let anonymous = client
        .post(&url)
        .json(&serde_json::json!({"query": "{ __typename }"}))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);
    let response: serde_json::Value = client
        .post(&url)
        .bearer_auth(&token)
        .json(&serde_json::json!({"query": r#"{ customers(search: "Acme Inc") { nodes { name
            licenses { status hostnames { name latestUsagePing { version } } reportingHosts { name attached } } } } }"#}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(response["errors"].is_null(), "{response}");
    let acme = &response["data"]["customers"]["nodes"][0];
    assert_eq!(acme["name"], "Acme Inc");
    let text = acme.to_string();
    assert!(
        text.contains("gitlab.acmeinc.com") && text.contains("acmeinc.ninja"),
        "{text}"
    );
    assert!(
        text.contains("\"version\""),
        "usage came from the version service: {text}"
    );

    // The databases hold customers' data: readable by their owner only.
    #[cfg(unix)]
    for file in ["licenses.sqlite", "version.sqlite", "version.sqlite-wal"] {
        use std::os::unix::fs::PermissionsExt;
        let path = dir.join(file);
        let Ok(metadata) = std::fs::metadata(&path) else {
            assert!(file.ends_with("-wal"), "{} is missing", path.display());
            continue;
        };
        assert_eq!(
            metadata.permissions().mode() & 0o777,
            0o600,
            "{}",
            path.display()
        );
    }
}
