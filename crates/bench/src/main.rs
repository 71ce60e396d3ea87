//! The licensedot load benchmark: `bench seed` builds the data set, `bench run` measures the
//! gateway against the floor. See BENCHMARKS.md at the repository root.

mod dataset;
mod encoding;
mod load;
mod options;
mod procfs;
mod prom;
mod report;
mod run;
mod scenarios;
mod services;
mod stats;
mod verify;

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};

use dataset::{Location, SCALE_SIZES, SeedPlan};
use options::RunOptions;
use scenarios::Scenario;

#[derive(Parser)]
#[command(about = "Load benchmark of the licensedot gateway against the floor")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Args)]
struct Databases {
    /// The Postgres server (loopback), without a database name.
    #[arg(long, default_value = "postgres://postgres@127.0.0.1:5432")]
    pg: String,
    /// The license database of the benchmark.
    #[arg(long, default_value = "licensedot_bench_lic")]
    license_db: String,
    /// The version database of the benchmark.
    #[arg(long, default_value = "licensedot_bench_ver")]
    version_db: String,
}

impl Databases {
    fn location(&self) -> anyhow::Result<Location> {
        anyhow::ensure!(
            self.pg.contains("@127.0.0.1")
                || self.pg.contains("@localhost")
                || self.pg.contains("@[::1]"),
            "the benchmark only talks to a loopback Postgres, got {}",
            self.pg
        );
        Ok(Location {
            server: self.pg.clone(),
            license_db: self.license_db.clone(),
            version_db: self.version_db.clone(),
        })
    }
}

#[derive(Subcommand)]
enum Command {
    /// Creates, migrates and seeds the two benchmark databases, and reports the load time.
    Seed {
        #[command(flatten)]
        databases: Databases,
        /// Customers to generate (the demo story's included).
        #[arg(long, default_value_t = 100_000)]
        customers: u64,
        /// Random seed of the data set.
        #[arg(long, default_value_t = 42)]
        seed: u64,
        /// Drop the databases first when they exist.
        #[arg(long)]
        fresh: bool,
    },
    /// Adds the dashboard customers (20 customers of 20 licenses) to a data set seeded
    /// without them; `seed` does this itself.
    Extend {
        #[command(flatten)]
        databases: Databases,
        /// Random seed of the added customers.
        #[arg(long, default_value_t = 42)]
        seed: u64,
    },
    /// Starts the gateway and version service on the benchmark databases and measures.
    Run {
        #[command(flatten)]
        databases: Databases,
        /// The licensedot binary (default: next to this one, i.e. target/release/licensedot).
        #[arg(long)]
        licensedot: Option<PathBuf>,
        /// Scenarios: dashboard, customer-view (the dashboard page's own customer query,
        /// no floor), search, hostname, trials, scale (all four sizes) or scale-N.
        #[arg(
            long,
            value_delimiter = ',',
            default_value = "dashboard,search,hostname,trials,scale"
        )]
        scenarios: Vec<String>,
        /// Concurrency levels.
        #[arg(long, value_delimiter = ',', default_value = "1,8,32,128")]
        concurrency: Vec<usize>,
        /// Warm-up per phase, in milliseconds.
        #[arg(long, default_value_t = 500)]
        warmup_ms: u64,
        /// Measured time per phase, in milliseconds.
        #[arg(long, default_value_t = 2000)]
        duration_ms: u64,
        /// Repetitions of the whole matrix; the report shows medians.
        #[arg(long, default_value_t = 3)]
        repeat: usize,
        /// Also write the markdown report to this file.
        #[arg(long)]
        out: Option<PathBuf>,
        /// Skip the floor.
        #[arg(long)]
        no_floor: bool,
        /// Extra gateway environment, KEY=VALUE (repeatable), e.g.
        /// LICENSEDOT_GATEWAY__VERSION_SERVICE__MAX_KEYS_PER_CALL=5000, or
        /// LICENSEDOT_GATEWAY__VERSION_SERVICE__HTTP2_PRIOR_KNOWLEDGE=true to call the version
        /// service over h2c.
        #[arg(long = "gateway-env")]
        gateway_env: Vec<String>,
        /// Also measure every gateway phase with this Accept-Encoding (e.g. "gzip, br";
        /// repeatable): the bytes received are counted, then decoded and checked like plain
        /// answers.
        #[arg(long = "accept-encoding")]
        accept_encodings: Vec<String>,
        /// Start a second gateway (B) with this extra environment, KEY=VALUE (repeatable), and
        /// measure every gateway phase on A and B, alternated (A B, then B A, ...), e.g.
        /// LICENSEDOT_GATEWAY__VERSION_SERVICE__HTTP2_PRIOR_KNOWLEDGE=true.
        #[arg(long = "compare-env")]
        compare_env: Vec<String>,
    },
}

fn scenarios(names: &[String]) -> anyhow::Result<Vec<Scenario>> {
    let mut out = Vec::new();
    for name in names {
        match name.trim() {
            "dashboard" => out.push(Scenario::Dashboard),
            "customer-view" => out.push(Scenario::CustomerView),
            "search" => out.push(Scenario::Search),
            "hostname" => out.push(Scenario::Hostname),
            "trials" => out.push(Scenario::Trials),
            "scale" => out.extend(SCALE_SIZES.map(Scenario::Scale)),
            other => {
                let n: u32 = other
                    .strip_prefix("scale-")
                    .and_then(|n| n.parse().ok())
                    .filter(|n| SCALE_SIZES.contains(n))
                    .with_context(|| format!("unknown scenario `{other}`"))?;
                out.push(Scenario::Scale(n));
            }
        }
    }
    Ok(out)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    // On ctrl-c or SIGTERM the work is dropped, and the child services with it (kill on drop).
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    tokio::select! {
        result = command(cli.command) => result,
        _ = tokio::signal::ctrl_c() => anyhow::bail!("interrupted"),
        _ = term.recv() => anyhow::bail!("terminated"),
    }
}

async fn command(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Extend { databases, seed } => dataset::extend(&databases.location()?, seed).await,
        Command::Seed {
            databases,
            customers,
            seed,
            fresh,
        } => {
            dataset::seed(
                &databases.location()?,
                &SeedPlan {
                    customers,
                    seed,
                    fresh,
                },
            )
            .await
        }
        Command::Run {
            databases,
            licensedot,
            scenarios: names,
            concurrency,
            warmup_ms,
            duration_ms,
            repeat,
            out,
            no_floor,
            gateway_env,
            accept_encodings,
            compare_env,
        } => {
            anyhow::ensure!(
                concurrency.iter().all(|&c| (1..=1024).contains(&c)),
                "concurrency must be between 1 and 1024"
            );
            let pairs = |flag: &str, values: &[String]| {
                values
                    .iter()
                    .map(|kv| {
                        kv.split_once('=')
                            .map(|(k, v)| (k.to_owned(), v.to_owned()))
                            .with_context(|| format!("--{flag} wants KEY=VALUE, got {kv}"))
                    })
                    .collect::<anyhow::Result<Vec<_>>>()
            };
            let gateway_env = pairs("gateway-env", &gateway_env)?;
            let compare_env = pairs("compare-env", &compare_env)?;
            let options = RunOptions {
                licensedot,
                scenarios: scenarios(&names)?,
                concurrency,
                warmup: Duration::from_millis(warmup_ms),
                duration: Duration::from_millis(duration_ms),
                repeat: repeat.max(1),
                out,
                floor: !no_floor,
                gateway_env,
                accept_encodings: accept_encodings
                    .into_iter()
                    .filter(|a| !a.trim().is_empty())
                    .collect(),
                compare_env,
            };
            run::run(&databases.location()?, &options).await
        }
    }
}
