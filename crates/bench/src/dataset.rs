//! The benchmark data set: two Postgres databases on the local server, seeded at benchmark
//! size, plus the `scale` customers, whose ids are kept in a `bench_dataset` table of the
//! license database so that later runs find them.

use std::collections::BTreeMap;
use std::time::Instant;

use anyhow::Context;
use migration::MigratorTrait;
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend, Statement,
};

/// License counts of the `scale` customers.
pub const SCALE_SIZES: [u32; 4] = [1, 10, 100, 1000];

/// The generated data has no customer between 10 and 100 licenses, so the `dashboard`
/// scenario gets its own: this many customers with [`DASHBOARD_LICENSES`] licenses each.
pub const DASHBOARD_CUSTOMERS: u32 = 20;
pub const DASHBOARD_LICENSES: u32 = 20;

/// Where the data set lives.
#[derive(Clone, Debug)]
pub struct Location {
    /// The server, without a database: `postgres://postgres@127.0.0.1:5432`.
    pub server: String,
    pub license_db: String,
    pub version_db: String,
}

impl Location {
    pub fn url(&self, database: &str) -> String {
        format!("{}/{database}", self.server.trim_end_matches('/'))
    }
    pub fn license_url(&self) -> String {
        self.url(&self.license_db)
    }
    pub fn version_url(&self) -> String {
        self.url(&self.version_db)
    }
}

/// Options of `bench seed`.
#[derive(Clone, Debug)]
pub struct SeedPlan {
    pub customers: u64,
    pub seed: u64,
    pub fresh: bool,
}

async fn connect(url: &str) -> anyhow::Result<DatabaseConnection> {
    let mut options = ConnectOptions::new(url.to_owned());
    options.sqlx_logging(false).max_connections(4);
    Database::connect(options)
        .await
        .with_context(|| format!("cannot connect to {url}"))
}

fn quoted(name: &str) -> anyhow::Result<String> {
    anyhow::ensure!(
        !name.is_empty()
            && name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'),
        "database names are limited to [a-z0-9_], got `{name}`"
    );
    Ok(format!("\"{name}\""))
}

async fn exists(admin: &DatabaseConnection, name: &str) -> anyhow::Result<bool> {
    let row = admin
        .query_one_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT 1 AS one FROM pg_database WHERE datname = $1",
            [name.into()],
        ))
        .await?;
    Ok(row.is_some())
}

/// Creates the two databases (dropping them first with `fresh`), migrates and seeds them, adds
/// the scale customers and records what was loaded. Prints the timings.
pub async fn seed(location: &Location, plan: &SeedPlan) -> anyhow::Result<()> {
    let admin = connect(&location.url("postgres")).await?;
    for name in [&location.license_db, &location.version_db] {
        if plan.fresh {
            admin
                .execute_unprepared(&format!(
                    "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                    quoted(name)?
                ))
                .await?;
        } else {
            anyhow::ensure!(
                !exists(&admin, name).await?,
                "database {name} exists already: pass --fresh to drop and reload it"
            );
        }
        admin
            .execute_unprepared(&format!("CREATE DATABASE {}", quoted(name)?))
            .await?;
    }
    let licenses_db = connect(&location.license_url()).await?;
    let version_db = connect(&location.version_url()).await?;
    migration::LicenseMigrator::up(&licenses_db, None)
        .await
        .context("cannot migrate the license database")?;
    migration::VersionMigrator::up(&version_db, None)
        .await
        .context("cannot migrate the version database")?;

    let today = chrono::Utc::now().date_naive();
    let options = seed::SeedOptions {
        customers: plan.customers,
        seed: plan.seed,
        today,
        include_demo_story: true,
    };
    println!(
        "seeding {} customers (seed {}) into {} and {} ...",
        plan.customers, plan.seed, location.license_db, location.version_db
    );
    let started = Instant::now();
    let report = seed::seed(&licenses_db, Some(&version_db), &options).await?;
    let load_seconds = started.elapsed().as_secs_f64();
    println!("loaded in {load_seconds:.1} s: {report:?}");

    let started = Instant::now();
    let mut scale = BTreeMap::new();
    for size in SCALE_SIZES {
        let name = format!("Scale Bench {size}");
        let id = seed::seed_customer_with_licenses(
            &licenses_db,
            Some(&version_db),
            &name,
            size,
            plan.seed.wrapping_add(u64::from(size)),
            today,
        )
        .await?;
        scale.insert(size, id);
    }
    let scale_seconds = started.elapsed().as_secs_f64();
    println!("scale customers {scale:?} in {scale_seconds:.1} s");

    let started = Instant::now();
    licenses_db.execute_unprepared("VACUUM ANALYZE").await?;
    version_db.execute_unprepared("VACUUM ANALYZE").await?;
    let analyze_seconds = started.elapsed().as_secs_f64();
    println!("vacuum analyze in {analyze_seconds:.1} s");

    let mut meta: Vec<(String, String)> = vec![
        ("customers".into(), report.customers.to_string()),
        ("contacts".into(), report.contacts.to_string()),
        ("licenses".into(), report.licenses.to_string()),
        ("hostnames".into(), report.hostnames.to_string()),
        ("hosts".into(), report.hosts.to_string()),
        ("usage_pings".into(), report.usage_pings.to_string()),
        ("seed".into(), plan.seed.to_string()),
        ("today".into(), today.to_string()),
        ("load_seconds".into(), format!("{load_seconds:.1}")),
        ("scale_seconds".into(), format!("{scale_seconds:.1}")),
        ("analyze_seconds".into(), format!("{analyze_seconds:.1}")),
    ];
    for (size, id) in &scale {
        meta.push((format!("scale_{size}"), id.to_string()));
    }
    licenses_db
        .execute_unprepared(
            "CREATE TABLE bench_dataset (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
        )
        .await?;
    for (key, value) in meta {
        put(&licenses_db, &key, &value).await?;
    }
    extend(location, plan.seed).await
}

async fn put(db: &DatabaseConnection, key: &str, value: &str) -> anyhow::Result<()> {
    db.execute_raw(Statement::from_sql_and_values(
        DbBackend::Postgres,
        "INSERT INTO bench_dataset (key, value) VALUES ($1, $2) \
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        [key.into(), value.into()],
    ))
    .await?;
    Ok(())
}

/// Adds the `dashboard` customers to a seeded data set that lacks them (idempotent).
pub async fn extend(location: &Location, seed: u64) -> anyhow::Result<()> {
    let licenses_db = connect(&location.license_url()).await?;
    let version_db = connect(&location.version_url()).await?;
    let meta = metadata(&licenses_db).await?;
    if meta.contains_key("dashboard_ids") {
        println!("the data set has its dashboard customers already");
        return Ok(());
    }
    let today = match meta.get("today") {
        Some(t) => t.parse()?,
        None => chrono::Utc::now().date_naive(),
    };
    let started = Instant::now();
    let mut ids = Vec::new();
    for i in 0..DASHBOARD_CUSTOMERS {
        let id = seed::seed_customer_with_licenses(
            &licenses_db,
            Some(&version_db),
            &format!("Dashboard Bench {i}"),
            DASHBOARD_LICENSES,
            seed.wrapping_add(10_000 + u64::from(i)),
            today,
        )
        .await?;
        ids.push(id.to_string());
    }
    licenses_db.execute_unprepared("ANALYZE").await?;
    version_db.execute_unprepared("ANALYZE").await?;
    println!(
        "{DASHBOARD_CUSTOMERS} dashboard customers of {DASHBOARD_LICENSES} licenses in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    put(&licenses_db, "dashboard_ids", &ids.join(",")).await
}

/// What the data set holds, as recorded by [`seed`].
pub async fn metadata(db: &DatabaseConnection) -> anyhow::Result<BTreeMap<String, String>> {
    let rows = db
        .query_all_raw(Statement::from_string(
            DbBackend::Postgres,
            "SELECT key, value FROM bench_dataset",
        ))
        .await
        .context("no bench_dataset table: run `bench seed` first")?;
    rows.into_iter()
        .map(|r| Ok((r.try_get("", "key")?, r.try_get("", "value")?)))
        .collect()
}

/// The inputs the scenarios draw from.
#[derive(Clone, Debug)]
pub struct Params {
    /// Customers with about 20 licenses, for `dashboard`.
    pub dashboard_customers: Vec<i64>,
    /// Their license count, for the report.
    pub dashboard_licenses: Vec<i64>,
    /// Lower-case fragments of licensee companies, for `search`.
    pub fragments: Vec<String>,
    /// Known hostnames, for `hostname`.
    pub hostnames: Vec<String>,
    /// License count → customer id, for `scale`.
    pub scale: BTreeMap<u32, i64>,
}

/// A fragment of `company` (4 to 7 characters of one of its words, start chosen by `pick`),
/// lower case; `None` when no word is long enough.
pub fn fragment(company: &str, pick: u64) -> Option<String> {
    let words: Vec<String> = company
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| w.chars().count() >= 4)
        .map(str::to_lowercase)
        .collect();
    if words.is_empty() {
        return None;
    }
    let word: Vec<char> = words[(pick % words.len() as u64) as usize]
        .chars()
        .collect();
    let len = (4 + (pick / 7) % 4).min(word.len() as u64) as usize;
    let start = ((pick / 31) % (word.len() - len + 1) as u64) as usize;
    Some(word[start..start + len].iter().collect())
}

/// Picks the scenario inputs from the data.
pub async fn params(db: &DatabaseConnection) -> anyhow::Result<Params> {
    let meta = metadata(db).await?;
    let mut scale = BTreeMap::new();
    for size in SCALE_SIZES {
        let id: i64 = meta
            .get(&format!("scale_{size}"))
            .with_context(|| format!("bench_dataset has no scale_{size}"))?
            .parse()?;
        scale.insert(size, id);
    }
    let sql = match meta.get("dashboard_ids") {
        Some(ids) => {
            anyhow::ensure!(
                ids.split(',').all(|id| id.parse::<i64>().is_ok()),
                "bad dashboard_ids `{ids}`"
            );
            format!(
                "SELECT customer_id, count(*) AS n FROM licenses WHERE customer_id IN ({ids}) \
                 GROUP BY customer_id"
            )
        }
        None => "SELECT customer_id, count(*) AS n FROM licenses GROUP BY customer_id \
                 ORDER BY abs(count(*) - 20), customer_id LIMIT 50"
            .to_owned(),
    };
    let rows = db
        .query_all_raw(Statement::from_string(DbBackend::Postgres, sql))
        .await?;
    let mut dashboard_customers = Vec::new();
    let mut dashboard_licenses = Vec::new();
    for row in rows {
        dashboard_customers.push(row.try_get::<i64>("", "customer_id")?);
        dashboard_licenses.push(row.try_get::<i64>("", "n")?);
    }
    let rows = db
        .query_all_raw(Statement::from_string(
            DbBackend::Postgres,
            "SELECT licensee_company FROM licenses TABLESAMPLE SYSTEM (1) REPEATABLE (7) \
             WHERE licensee_company IS NOT NULL LIMIT 400",
        ))
        .await?;
    let mut fragments = Vec::new();
    for (i, row) in rows.into_iter().enumerate() {
        let company: String = row.try_get("", "licensee_company")?;
        if let Some(f) = fragment(&company, (i as u64).wrapping_mul(2_654_435_761)) {
            fragments.push(f);
        }
    }
    let rows = db
        .query_all_raw(Statement::from_string(
            DbBackend::Postgres,
            "SELECT name FROM hostnames TABLESAMPLE SYSTEM (1) REPEATABLE (7) LIMIT 400",
        ))
        .await?;
    let hostnames = rows
        .into_iter()
        .map(|r| r.try_get::<String>("", "name"))
        .collect::<Result<Vec<_>, _>>()?;
    anyhow::ensure!(
        !dashboard_customers.is_empty() && !fragments.is_empty() && !hostnames.is_empty(),
        "the data set is too small to draw scenario inputs from"
    );
    Ok(Params {
        dashboard_customers,
        dashboard_licenses,
        fragments,
        hostnames,
        scale,
    })
}

#[cfg(test)]
mod tests {
    use super::fragment;

    #[test]
    fn fragments_are_lower_case_pieces_of_a_long_word() {
        for pick in 0..200 {
            let f = fragment("Acme Inc. Rocketworks", pick).unwrap();
            assert!((4..=7).contains(&f.len()), "{f}");
            assert!("acme rocketworks".contains(&f), "{f}");
        }
        assert_eq!(fragment("A B Co", 3), None);
    }
}
