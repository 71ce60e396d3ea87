//! `licensedot seed`: a deterministic data set of any size.

use std::time::Instant;

use anyhow::Context;
use clap::Args;
use migration::MigratorTrait;
use sea_orm::DatabaseConnection;

/// Arguments of `licensedot seed`.
#[derive(Args)]
pub struct SeedArgs {
    /// The license database (migrated first if needed); it must hold no data yet.
    #[arg(long)]
    database_url: String,
    /// The version database, filled with hosts and usage pings consistent with the licenses.
    #[arg(long)]
    version_database_url: Option<String>,
    /// How many customers, the demo story's included.
    #[arg(long, default_value_t = 100)]
    customers: u64,
    /// The random seed: the same seed gives the same data.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// The date the data is "as of" (YYYY-MM-DD); default today.
    #[arg(long)]
    today: Option<chrono::NaiveDate>,
}

async fn open(url: &str) -> anyhow::Result<DatabaseConnection> {
    sea_orm::Database::connect(url)
        .await
        .with_context(|| format!("cannot connect to {}", database::redact_url(url)))
}

/// Migrates the databases and fills them.
pub async fn run(args: SeedArgs) -> anyhow::Result<()> {
    let started = Instant::now();
    let licenses_db = open(&args.database_url).await?;
    migration::LicenseMigrator::up(&licenses_db, None)
        .await
        .context("cannot migrate the license database")?;
    let version_db = match &args.version_database_url {
        Some(url) => {
            let db = open(url).await?;
            migration::VersionMigrator::up(&db, None)
                .await
                .context("cannot migrate the version database")?;
            Some(db)
        }
        None => None,
    };
    let options = seed::SeedOptions {
        customers: args.customers,
        seed: args.seed,
        today: args
            .today
            .unwrap_or_else(|| chrono::Utc::now().date_naive()),
        include_demo_story: true,
    };
    let report = seed::seed(&licenses_db, version_db.as_ref(), &options).await?;
    println!(
        "seeded {} customers, {} contacts, {} licenses, {} hostnames, {} hosts, {} usage pings in {:.1} s",
        report.customers,
        report.contacts,
        report.licenses,
        report.hostnames,
        report.hosts,
        report.usage_pings,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
