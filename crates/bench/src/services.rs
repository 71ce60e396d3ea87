//! The real `licensedot` binary's version service and gateway as child processes on loopback
//! ports the OS picks, with their logs in files.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::Context;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// How long a service may take to print its address and become ready.
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// A running child service.
pub struct Service {
    pub address: SocketAddr,
    pub pid: u32,
    child: Child,
}

impl Service {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.address)
    }

    /// Stops the child (SIGKILL through tokio; it holds no state worth a graceful stop) and
    /// reaps it.
    pub async fn stop(mut self) {
        let _ = self.child.kill().await;
    }
}

/// The `licensedot` binary: `explicit`, else the one next to this executable
/// (`target/release/licensedot` when run with `cargo run --release -p bench`).
pub fn locate_binary(explicit: Option<&Path>) -> anyhow::Result<PathBuf> {
    let path = match explicit {
        Some(p) => p.to_path_buf(),
        None => std::env::current_exe()?
            .parent()
            .context("this executable has no directory")?
            .join("licensedot"),
    };
    anyhow::ensure!(
        path.is_file(),
        "{} not found: build it first with `cargo build --release -p licensedot`, \
         or pass --licensedot PATH",
        path.display()
    );
    Ok(path)
}

/// The address a service prints on stdout once it listens (`... http://ADDR/graphql`).
pub fn printed_address(line: &str) -> Option<SocketAddr> {
    let rest = &line[line.find("http://")? + "http://".len()..];
    rest.split('/').next()?.parse().ok()
}

/// Starts `binary command` with `env`, its stderr in `log`, and waits until it prints the
/// address it listens on.
pub async fn spawn(
    name: &'static str,
    binary: &Path,
    command: &str,
    env: &[(String, String)],
    log: &Path,
) -> anyhow::Result<Service> {
    let log_file = std::fs::File::create(log)
        .with_context(|| format!("cannot create the log file {}", log.display()))?;
    let mut child = Command::new(binary)
        .arg(command)
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::from(log_file))
        .kill_on_drop(true)
        .spawn()
        .with_context(|| format!("cannot start {} {command}", binary.display()))?;
    let pid = child.id().context("the child exited at once")?;
    let stdout = child.stdout.take().context("no stdout")?;
    let mut lines = BufReader::new(stdout).lines();
    let address = tokio::time::timeout(START_TIMEOUT, async {
        while let Some(line) = lines.next_line().await? {
            if let Some(address) = printed_address(&line) {
                return Ok(address);
            }
        }
        anyhow::bail!("{name} exited before listening; see {}", log.display())
    })
    .await
    .with_context(|| format!("{name} did not start in time; see {}", log.display()))??;
    // Keep draining stdout so that the child never blocks on a full pipe.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    Ok(Service {
        address,
        pid,
        child,
    })
}

/// Polls `GET url` until it answers 200.
pub async fn wait_ready(http: &reqwest::Client, url: &str) -> anyhow::Result<()> {
    let deadline = Instant::now() + START_TIMEOUT;
    loop {
        match http.get(url).send().await {
            Ok(r) if r.status().is_success() => return Ok(()),
            Ok(r) if Instant::now() >= deadline => anyhow::bail!("{url}: {}", r.status()),
            Err(e) if Instant::now() >= deadline => return Err(e.into()),
            _ => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::printed_address;

    #[test]
    fn reads_the_printed_address() {
        assert_eq!(
            printed_address("licensedot gateway: http://127.0.0.1:40123/graphql"),
            Some("127.0.0.1:40123".parse().unwrap())
        );
        assert_eq!(printed_address("starting"), None);
    }
}
