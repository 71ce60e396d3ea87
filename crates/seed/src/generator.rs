//! Drives generation a customer at a time and writes the rows in chunks.
//!
//! Two RNG streams: one for the license database and one for the version database, so the
//! license rows are the same whether or not a version database is seeded alongside.

use std::collections::HashMap;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use sea_orm::{DatabaseConnection, DbBackend};

use crate::insert;
use crate::license_data::{self, HostPlan, Identity, Shape};
use crate::license_file::Ctx;
use crate::names;
use crate::rows::{Ids, LicenseBatch, VersionBatch};
use crate::usage;
use crate::{SeedError, SeedReport};

/// Customers per chunk (one transaction per database each).
const CHUNK_CUSTOMERS: usize = 2_000;
/// A chunk also ends when this many pings are waiting, so large customers cannot balloon it.
const CHUNK_PINGS: usize = 60_000;
/// Share of customers who run a server that reports their license without being attached.
const UNKNOWN_HOST_RATE: f64 = 0.12;
/// Share of large customers (100–400 licenses) and of mid-size ones (10–99).
const LARGE_RATE: f64 = 0.005;
const MID_RATE: f64 = 0.02;
/// Weekly pings kept per server: about 4.5 on average, so a million servers stay a few
/// million pings.
const PINGS_PER_HOST: std::ops::RangeInclusive<u32> = 3..=6;

pub struct Generator {
    pub rng: ChaCha8Rng,
    pub usage_rng: ChaCha8Rng,
    pub ctx: Ctx,
    pub ids: Ids,
    pub with_usage: bool,
    pub batch: LicenseBatch,
    pub versions: VersionBatch,
    pub report: SeedReport,
    /// Domain bases handed out so far, with how often each was wanted (to number repeats).
    bases: HashMap<String, u32>,
    flushes: u64,
}

impl Generator {
    pub fn new(seed: u64, today: chrono::NaiveDate, with_usage: bool, ids: Ids) -> Self {
        Self {
            rng: ChaCha8Rng::seed_from_u64(seed),
            // A fixed, arbitrary offset keeps the usage stream independent of the license one.
            usage_rng: ChaCha8Rng::seed_from_u64(seed ^ 0x005e_ed0f_1e55_u64.rotate_left(17)),
            ctx: Ctx::new(seed, today),
            ids,
            with_usage,
            batch: LicenseBatch::default(),
            versions: VersionBatch::default(),
            report: SeedReport::default(),
            bases: HashMap::new(),
            flushes: 0,
        }
    }

    /// Marks a domain base as taken (the demo's customers).
    pub fn reserve_base(&mut self, base: &str) {
        self.bases.insert(base.to_string(), 1);
    }

    /// A random company with a domain no other customer has.
    pub fn random_identity(&mut self) -> Identity {
        let company = names::company(&mut self.rng);
        let seen = self.bases.entry(company.base.clone()).or_insert(0);
        *seen += 1;
        let base = if *seen == 1 {
            company.base
        } else {
            format!("{}{}", company.base, seen)
        };
        // A numbered base may itself be a plain base of some later company name; reserve it.
        self.bases.entry(base.clone()).or_insert(1);
        Identity {
            domain: format!("{base}.{}", company.tld),
            name: company.name,
            country: Some(company.country),
            base,
        }
    }

    /// A random customer: most have 1–6 licenses (up to 10), 2% are mid-size with 10–99 and
    /// 0.5% are large accounts with 100–400; about 5 licenses per customer on average.
    pub fn random_customer(&mut self) {
        let roll: f64 = self.rng.random();
        let shape = if roll < LARGE_RATE {
            Shape::Large
        } else if roll < LARGE_RATE + MID_RATE {
            Shape::Mid
        } else {
            Shape::Normal
        };
        let who = self.random_identity();
        self.customer(who, shape);
    }

    /// Generates a customer's license rows and, with a version database, its servers' pings.
    pub fn customer(&mut self, who: Identity, shape: Shape) -> i64 {
        let out = license_data::customer(
            &mut self.rng,
            &mut self.ids,
            &self.ctx,
            who,
            shape,
            &mut self.batch,
        );
        if self.with_usage {
            for plan in &out.hosts {
                let count = self.usage_rng.random_range(PINGS_PER_HOST);
                self.pings(plan, count);
            }
            if !out.paid.is_empty() && self.usage_rng.random_bool(UNKNOWN_HOST_RATE) {
                let plan = HostPlan {
                    hostname: usage::unknown_hostname(&mut self.usage_rng, &out.base),
                    hostname_id: None,
                    attached: false,
                    licenses: out.paid.clone(),
                };
                let count = self.usage_rng.random_range(PINGS_PER_HOST);
                self.pings(&plan, count);
            }
        }
        out.customer_id
    }

    /// Appends a server and `count` weekly pings for it.
    pub fn pings(&mut self, plan: &HostPlan, count: u32) {
        usage::host_pings(
            &mut self.usage_rng,
            &mut self.ids,
            &self.ctx,
            plan,
            &self.batch.licenses,
            count,
            &mut self.versions,
        );
    }

    pub fn chunk_full(&self) -> bool {
        self.batch.customers.len() >= CHUNK_CUSTOMERS || self.versions.pings.len() >= CHUNK_PINGS
    }

    /// Writes what was generated since the last flush. On PostgreSQL both databases are written
    /// concurrently (they are independent); SQLite gets one writer at a time, since both may
    /// even be the same file.
    pub async fn flush(
        &mut self,
        licenses_db: &DatabaseConnection,
        version_db: Option<&DatabaseConnection>,
    ) -> Result<(), SeedError> {
        let usage = async {
            match version_db {
                Some(db) if self.with_usage => insert::write_usage(db, &self.versions).await,
                _ => Ok(()),
            }
        };
        if licenses_db.get_database_backend() == DbBackend::Postgres {
            let (a, b) = tokio::join!(insert::write_licenses(licenses_db, &self.batch), usage);
            a?;
            b?;
        } else {
            insert::write_licenses(licenses_db, &self.batch).await?;
            usage.await?;
        }
        let r = &mut self.report;
        r.customers += self.batch.customers.len() as u64;
        r.contacts += self.batch.contacts.len() as u64;
        r.licenses += self.batch.licenses.len() as u64;
        r.hostnames += self.batch.hostnames.len() as u64;
        r.hosts += self.versions.hosts.len() as u64;
        r.usage_pings += self.versions.pings.len() as u64;
        self.batch.clear();
        self.versions.clear();
        self.flushes += 1;
        if self.flushes.is_multiple_of(10) {
            tracing::info!(
                customers = r.customers,
                licenses = r.licenses,
                hostnames = r.hostnames,
                usage_pings = r.usage_pings,
                "seeding"
            );
        }
        Ok(())
    }
}

/// Fills the `add_ons` catalogue; harmless when it is already there.
pub async fn add_ons(db: &DatabaseConnection) -> Result<(), SeedError> {
    use sea_orm::{ConnectionTrait, Statement, Value};
    let backend = db.get_database_backend();
    for (code, name) in crate::license_file::ADD_ONS {
        let sql = match backend {
            DbBackend::Postgres => {
                "INSERT INTO add_ons (code, name) VALUES ($1, $2) ON CONFLICT (code) DO NOTHING"
            }
            _ => "INSERT INTO add_ons (code, name) VALUES (?, ?) ON CONFLICT (code) DO NOTHING",
        };
        db.execute_raw(Statement::from_sql_and_values(
            backend,
            sql,
            [Value::from(*code), Value::from(*name)],
        ))
        .await?;
    }
    Ok(())
}
