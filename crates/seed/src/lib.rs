//! Deterministic, realistic data sets for licensedot's license database and version database:
//! the demo story, test fixtures and benchmark-sized data (100,000 customers in minutes).
//!
//! Rows are generated a chunk of customers at a time from a ChaCha8 stream seeded with
//! `SeedOptions::seed`, with ids assigned here and dates relative to `SeedOptions::today`, so
//! the same options always give the same rows, and written with multi-row INSERTs.
//!
//! Shape: licenses per customer are 1–6 for most customers (up to 10), 10–99 for 2% (mid-size,
//! several subscriptions) and 100–400 for 0.5% (large), about 5.1 on average. A subscription runs
//! on ~5.6 servers (production, staging, Geo, DR, test); renewals keep most of them but now and
//! then one is rebuilt under a new name or added, so customers accumulate about 11 hostnames.
//!
//! Scale, measured on local PostgreSQL 15 (2 shared cores, `bench seed`): 100,000 customers in
//! about 5.5 minutes: 0.51 million licenses, 2.6 million license/hostname links, 1.13 million
//! hostnames, 1.15 million servers and 5.2 million usage pings, 3–6 per server (license
//! database ~1 GB, version ~8 GB).

#![forbid(unsafe_code)]

pub mod demo;
mod generator;
mod insert;
mod license_data;
mod license_file;
mod names;
mod rows;
mod usage;

use chrono::NaiveDate;
use sea_orm::{DatabaseConnection, DbErr};

use generator::Generator;
use license_data::{Identity, Shape};
use rows::Ids;

/// What to generate.
#[derive(Clone, Debug)]
pub struct SeedOptions {
    /// Total number of customers, the demo story's included.
    pub customers: u64,
    /// Seed of the random streams: same seed, same rows.
    pub seed: u64,
    /// The day the data set is "as of": licenses are active, expired or not started relative to it.
    pub today: NaiveDate,
    /// Start with the demo story (Acme Inc and friends) at customer id 1.
    pub include_demo_story: bool,
}

/// Rows written per table.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SeedReport {
    pub customers: u64,
    pub contacts: u64,
    pub licenses: u64,
    pub hostnames: u64,
    pub hosts: u64,
    pub usage_pings: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum SeedError {
    #[error("database error while seeding: {0}")]
    Database(#[from] DbErr),
    #[error("the {0} database already has data; seed needs an empty, migrated database")]
    NotEmpty(&'static str),
}

const LICENSE_TABLES: [&str; 4] = ["customers", "contacts", "licenses", "hostnames"];
const VERSION_TABLES: [&str; 2] = ["hosts", "usage_pings"];

/// Fills an empty, migrated license database (and, when given, an empty migrated version
/// database).
pub async fn seed(
    licenses_db: &DatabaseConnection,
    version_db: Option<&DatabaseConnection>,
    options: &SeedOptions,
) -> Result<SeedReport, SeedError> {
    // Explicit ids would collide with existing rows: refuse with a clear message instead.
    if insert::max_id(licenses_db, "customers").await? > 0 {
        return Err(SeedError::NotEmpty("license"));
    }
    if let Some(db) = version_db
        && insert::max_id(db, "hosts").await? > 0
    {
        return Err(SeedError::NotEmpty("version"));
    }
    let started = std::time::Instant::now();
    let mut g = Generator::new(
        options.seed,
        options.today,
        version_db.is_some(),
        Ids::default(),
    );
    generator::add_ons(licenses_db).await?;
    let mut generated = 0;
    if options.include_demo_story {
        demo::add(&mut g);
        generated += demo::CUSTOMERS;
    }
    while generated < options.customers {
        g.random_customer();
        generated += 1;
        if g.chunk_full() {
            g.flush(licenses_db, version_db).await?;
        }
    }
    g.flush(licenses_db, version_db).await?;
    insert::reset_sequences(licenses_db, &LICENSE_TABLES).await?;
    if let Some(db) = version_db {
        insert::reset_sequences(db, &VERSION_TABLES).await?;
    }
    tracing::info!(report = ?g.report, elapsed = ?started.elapsed(), "seeded");
    Ok(g.report)
}

/// Inserts exactly one customer with `licenses` licenses (each with 1–3 hostnames and, when
/// version_db is given, weekly pings for those hosts), for tests and the `scale` benchmark.
/// Returns the customer id.
///
/// Works on a database that already has data: ids continue after the largest existing ones and
/// the customer's domain contains its id, so its hostnames are new. Concurrent callers on the
/// same database would pick the same ids; call it from one task at a time.
pub async fn seed_customer_with_licenses(
    licenses_db: &DatabaseConnection,
    version_db: Option<&DatabaseConnection>,
    name: &str,
    licenses: u32,
    seed: u64,
    today: NaiveDate,
) -> Result<i64, SeedError> {
    let mut ids = Ids {
        customer: insert::max_id(licenses_db, "customers").await? + 1,
        contact: insert::max_id(licenses_db, "contacts").await? + 1,
        license: insert::max_id(licenses_db, "licenses").await? + 1,
        hostname: insert::max_id(licenses_db, "hostnames").await? + 1,
        ..Ids::default()
    };
    if let Some(db) = version_db {
        ids.host = insert::max_id(db, "hosts").await? + 1;
        ids.ping = insert::max_id(db, "usage_pings").await? + 1;
    }
    let mut slug = names::slug(name);
    if slug.is_empty() {
        slug = "customer".into();
    }
    let base = format!("{slug}-c{}", ids.customer);
    let who = Identity {
        name: name.to_string(),
        country: Some("US"),
        domain: format!("{base}.example"),
        base,
    };
    let mut g = Generator::new(seed, today, version_db.is_some(), ids);
    generator::add_ons(licenses_db).await?;
    let customer_id = g.customer(who, Shape::Exact(licenses));
    g.flush(licenses_db, version_db).await?;
    insert::reset_sequences(licenses_db, &LICENSE_TABLES).await?;
    if let Some(db) = version_db {
        insert::reset_sequences(db, &VERSION_TABLES).await?;
    }
    Ok(customer_id)
}
