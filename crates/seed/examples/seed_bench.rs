//! Times a full seed into two migrated, empty databases.
//!
//! cargo run --release -p seed --example seed_bench -- LICENSES_URL VERSION_URL [CUSTOMERS] [SEED]
//!
//! VERSION_URL `-` seeds the license database only. The databases are migrated first
//! (migrations are not part of the timing).

use std::time::Instant;

use anyhow::Context as _;
use migration::MigratorTrait;
use sea_orm::{ConnectOptions, Database};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,sqlx=warn,sea_orm=warn".into()),
        )
        .init();
    let mut args = std::env::args().skip(1);
    let usage = "usage: seed_bench LICENSES_URL VERSION_URL [CUSTOMERS] [SEED]";
    let licenses_url = args.next().context(usage)?;
    let version_url = args.next().context(usage)?;
    let customers: u64 = args.next().map_or(Ok(100_000), |s| s.parse())?;
    let seed: u64 = args.next().map_or(Ok(42), |s| s.parse())?;

    let connect = |url: String| {
        let mut options = ConnectOptions::new(url);
        options.sqlx_logging(false);
        Database::connect(options)
    };
    let licenses = connect(licenses_url).await?;
    let version = match version_url.as_str() {
        "-" => None,
        url => Some(connect(url.to_string()).await?),
    };
    migration::LicenseMigrator::up(&licenses, None).await?;
    if let Some(version) = &version {
        migration::VersionMigrator::up(version, None).await?;
    }

    let options = seed::SeedOptions {
        customers,
        seed,
        today: chrono::NaiveDate::from_ymd_opt(2026, 11, 27).context("date")?,
        include_demo_story: true,
    };
    let started = Instant::now();
    let report = seed::seed(&licenses, version.as_ref(), &options).await?;
    let elapsed = started.elapsed();
    println!("seeded in {:.1}s: {report:?}", elapsed.as_secs_f64());
    Ok(())
}
