//! `licensedot migrate`: apply pending migrations.

use anyhow::Context;
use clap::{Args, ValueEnum};
use migration::MigratorTrait;

/// Which database a URL points at.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum Target {
    /// The license database (customers, contacts, licenses, hostnames).
    Licenses,
    /// The version database (hosts, usage pings).
    Version,
}

/// Arguments of `licensedot migrate`.
#[derive(Args)]
pub struct MigrateArgs {
    /// The database to migrate: `postgres://...` or `sqlite://path?mode=rwc`.
    #[arg(long, env = "LICENSEDOT_DATABASE_URL")]
    database_url: String,
    /// Which schema to apply.
    #[arg(long, value_enum, default_value = "licenses")]
    target: Target,
}

/// Applies the target's pending migrations.
pub async fn run(args: MigrateArgs) -> anyhow::Result<()> {
    let db = sea_orm::Database::connect(&args.database_url)
        .await
        .with_context(|| {
            format!(
                "cannot connect to {}",
                database::redact_url(&args.database_url)
            )
        })?;
    match args.target {
        Target::Licenses => migration::LicenseMigrator::up(&db, None).await,
        Target::Version => migration::VersionMigrator::up(&db, None).await,
    }
    .context("migration failed")?;
    println!("{:?} database migrated", args.target);
    Ok(())
}
