//! A private PostgreSQL cluster for one test, on a free port in a temporary directory, that the
//! test may stop and start at will (the shared server on 5432 must never be restarted).
//!
//! Needs the server binaries (`initdb`, `pg_ctl`): under `/usr/lib/postgresql/<version>/bin`
//! (Debian, Ubuntu) or on `PATH`. Missing binaries fail the test with a message, never a skip.
//! `initdb` refuses to run as root, so as root the cluster runs as the `postgres` user.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::{
    os::unix::fs::MetadataExt,
    path::{Path, PathBuf},
    process::Command,
};

/// A running cluster; stopped and deleted when dropped, however the test ends.
pub struct PrivatePostgres {
    root: PathBuf,
    data: PathBuf,
    bin: PathBuf,
    /// `Some` when commands must run as the `postgres` user (we are root).
    run_as: Option<String>,
    /// The port it listens on (127.0.0.1 only).
    pub port: u16,
}

/// The directory holding `initdb` and `pg_ctl`: the newest Debian-style install, else `PATH`.
fn server_binaries() -> PathBuf {
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let version = entry.file_name().to_str()?.parse().ok()?;
            let bin = entry.path().join("bin");
            bin.join("initdb").exists().then_some((version, bin))
        })
        .collect();
    versions.sort();
    if let Some((_, bin)) = versions.pop() {
        return bin;
    }
    std::env::var_os("PATH")
        .into_iter()
        .flat_map(|path| std::env::split_paths(&path).collect::<Vec<_>>())
        .find(|dir| dir.join("initdb").exists() && dir.join("pg_ctl").exists())
        .unwrap_or_else(|| {
            panic!(
                "this test needs the PostgreSQL server binaries (initdb, pg_ctl): none under \
                 /usr/lib/postgresql/*/bin nor on PATH (Debian: apt-get install postgresql)"
            )
        })
}

fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

impl PrivatePostgres {
    /// Creates and starts a fresh cluster with trust authentication for `postgres`.
    pub fn start() -> Self {
        let bin = server_binaries();
        let root =
            std::env::temp_dir().join(format!("licensedot-pg-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&root).unwrap();
        // Whoever created the directory is who we run as.
        let run_as = (std::fs::metadata(&root).unwrap().uid() == 0).then(|| {
            let uid = id("-u");
            let gid = id("-g");
            std::os::unix::fs::chown(&root, Some(uid), Some(gid)).unwrap();
            "postgres".to_owned()
        });
        let cluster = Self {
            data: root.join("data"),
            root,
            bin,
            run_as,
            port: free_port(),
        };
        cluster.run(
            "initdb",
            &[
                "-D",
                path(&cluster.data),
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-sync",
            ],
        );
        cluster.pg_ctl_start();
        cluster
    }

    /// The URL of its `postgres` database.
    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// Stops the server as a crash would (`-m immediate`: no checkpoint, recovery at restart).
    pub fn crash(&self) {
        self.run(
            "pg_ctl",
            &["-D", path(&self.data), "-m", "immediate", "-w", "stop"],
        );
    }

    /// Starts it again on the same port.
    pub fn pg_ctl_start(&self) {
        let options = format!(
            "-p {} -c listen_addresses=127.0.0.1 -k {}",
            self.port,
            path(&self.data)
        );
        let log = self.root.join("server.log");
        self.run(
            "pg_ctl",
            &[
                "-D",
                path(&self.data),
                "-l",
                path(&log),
                "-o",
                &options,
                "-w",
                "-t",
                "60",
                "start",
            ],
        );
    }

    fn command(&self, program: &str) -> Command {
        let program = self.bin.join(program);
        match &self.run_as {
            Some(user) => {
                let mut command = Command::new("runuser");
                command.args(["-u", user, "--"]).arg(program);
                command
            }
            None => Command::new(program),
        }
    }

    fn run(&self, program: &str, args: &[&str]) {
        let output = self
            .command(program)
            .args(args)
            .current_dir(&self.root)
            .output()
            .unwrap_or_else(|err| panic!("cannot run {program}: {err}"));
        assert!(
            output.status.success(),
            "{program} {args:?} failed: {}{}\nserver log: {}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr),
            std::fs::read_to_string(self.root.join("server.log")).unwrap_or_default()
        );
    }
}

impl Drop for PrivatePostgres {
    fn drop(&mut self) {
        let _ = self
            .command("pg_ctl")
            .args(["-D", path(&self.data), "-m", "immediate", "-w", "stop"])
            .output();
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

fn path(path: &Path) -> &str {
    path.to_str().expect("temporary paths are UTF-8")
}

/// The `postgres` user's uid (`-u`) or gid (`-g`).
fn id(flag: &str) -> u32 {
    let output = Command::new("id")
        .args([flag, "postgres"])
        .output()
        .expect("cannot run id");
    assert!(
        output.status.success(),
        "running as root needs a `postgres` user to run the cluster as"
    );
    String::from_utf8_lossy(&output.stdout)
        .trim()
        .parse()
        .expect("id prints a number")
}
