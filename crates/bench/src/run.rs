//! `bench run`: starts the services, then measures every scenario at every concurrency, the
//! gateway and the floor one after the other, `repeat` times.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use anyhow::Context;

use crate::dataset::{self, Location};
use crate::load::{self, Call};
use crate::options::{self, RunOptions, Variant};
use crate::procfs;
use crate::prom::Counters;
use crate::report::{self, Cell, Measure, Side};
use crate::scenarios::{self, Env, Scenario, Target};
use crate::services::{self, Service};
use crate::verify;

const GATEWAY_SQL: &str = "licensedot_db_statements_total";
const GATEWAY_UPSTREAM: &str = "licensedot_upstream_calls_total";
const VERSION_CALLS: &str = "version_service_entities_calls_total";
const VERSION_SQL: &str = "version_service_sql_statements_total";

async fn scrape(http: &reqwest::Client, url: &str) -> anyhow::Result<Counters> {
    let text = http
        .get(url)
        .send()
        .await
        .and_then(reqwest::Response::error_for_status)
        .with_context(|| format!("GET {url}"))?
        .text()
        .await?;
    Counters::parse(&text)
}

/// A random-enough secret for this run's tokens (not a credential anyone else holds).
fn run_secret(prefix: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!("{prefix}-{nanos:032x}-{}", std::process::id())
}

struct Services {
    gateway: Service,
    /// The second gateway, with `--compare-env`, when asked for.
    gateway_b: Option<Service>,
    version: Service,
}

impl Services {
    fn gateway(&self, variant: &Variant) -> &Service {
        match (&self.gateway_b, variant.gateway_b) {
            (Some(b), true) => b,
            _ => &self.gateway,
        }
    }
}

async fn start(
    http: &reqwest::Client,
    location: &Location,
    options: &RunOptions,
    jwt_secret: &str,
    service_token: &str,
) -> anyhow::Result<Services> {
    let binary = services::locate_binary(options.licensedot.as_deref())?;
    let modified = std::fs::metadata(&binary)
        .and_then(|m| m.modified())
        .map(chrono::DateTime::<chrono::Utc>::from)
        .map(|t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string())
        .unwrap_or_default();
    eprintln!("licensedot binary: {} (built {modified})", binary.display());
    let logs = std::env::temp_dir().join("licensedot-bench");
    std::fs::create_dir_all(&logs)?;
    let common = |k: &str, v: &str| (k.to_owned(), v.to_owned());
    let version_env = vec![
        common("LICENSEDOT_LOG__LEVEL", "warn"),
        common(
            "LICENSEDOT_VERSION_SERVICE__DATABASE_URL",
            &location.version_url(),
        ),
        common("LICENSEDOT_VERSION_SERVICE__LISTEN", "127.0.0.1:0"),
        common("LICENSEDOT_VERSION_SERVICE__SERVICE_TOKEN", service_token),
    ];
    let version = services::spawn(
        "version service",
        &binary,
        "version-service",
        &version_env,
        &logs.join("version-service.log"),
    )
    .await?;
    services::wait_ready(http, &version.url("/ready")).await?;
    let mut gateway_env = vec![
        common("LICENSEDOT_LOG__LEVEL", "warn"),
        common("LICENSEDOT_JWT_SECRET", jwt_secret),
        common("LICENSEDOT_GATEWAY__DATABASE_URL", &location.license_url()),
        common("LICENSEDOT_GATEWAY__LISTEN", "127.0.0.1:0"),
        common(
            "LICENSEDOT_GATEWAY__VERSION_SERVICE__URL",
            &version.url("/graphql"),
        ),
        common(
            "LICENSEDOT_GATEWAY__VERSION_SERVICE__SERVICE_TOKEN",
            service_token,
        ),
    ];
    gateway_env.extend(options.gateway_env.iter().cloned());
    let gateway = services::spawn(
        "gateway",
        &binary,
        "serve",
        &gateway_env,
        &logs.join("gateway.log"),
    )
    .await?;
    services::wait_ready(http, &gateway.url("/ready")).await?;
    eprintln!(
        "version service pid {} on {}, gateway pid {} on {} (logs in {})",
        version.pid,
        version.address,
        gateway.pid,
        gateway.address,
        logs.display()
    );
    let gateway_b = if options.compare_env.is_empty() {
        None
    } else {
        // Started after A has migrated the license database, so that it finds nothing to do.
        gateway_env.extend(options.compare_env.iter().cloned());
        let b = services::spawn(
            "gateway B",
            &binary,
            "serve",
            &gateway_env,
            &logs.join("gateway-b.log"),
        )
        .await?;
        services::wait_ready(http, &b.url("/ready")).await?;
        eprintln!("gateway B pid {} on {}", b.pid, b.address);
        Some(b)
    };
    Ok(Services {
        gateway,
        gateway_b,
        version,
    })
}

/// The PostgreSQL backends serving the license database, whose CPU the phase is charged
/// with; none when the database is not on this machine (its processes are not in /proc).
async fn license_db_backends(db: &sea_orm::DatabaseConnection) -> Vec<u32> {
    use sea_orm::{ConnectionTrait, DbBackend, Statement};
    if db.get_database_backend() != DbBackend::Postgres {
        return Vec::new();
    }
    let statement = Statement::from_string(
        DbBackend::Postgres,
        "SELECT pid FROM pg_stat_activity WHERE datname = current_database()",
    );
    let rows = db.query_all_raw(statement).await.unwrap_or_default();
    let pids: Vec<u32> = rows
        .iter()
        .filter_map(|row| row.try_get::<i32>("", "pid").ok())
        .filter_map(|pid| u32::try_from(pid).ok())
        .collect();
    // A remote server's pids mean nothing here.
    if pids.iter().all(|pid| procfs::cpu_seconds(*pid).is_none()) {
        return Vec::new();
    }
    pids
}

/// License-database CPU between two readings: the backends alive at the end, less what those
/// of them alive at the start had used by then (a backend opened during the phase counts in
/// full; one closed during it is lost, which pools with long-lived connections make rare).
struct DbCpu {
    start: std::collections::HashMap<u32, f64>,
}

impl DbCpu {
    async fn start(db: &sea_orm::DatabaseConnection) -> Self {
        let start = license_db_backends(db)
            .await
            .into_iter()
            .filter_map(|pid| Some((pid, procfs::cpu_seconds(pid)?)))
            .collect();
        Self { start }
    }

    async fn ms_per_request(&self, db: &sea_orm::DatabaseConnection, n: u64) -> Option<f64> {
        let end = license_db_backends(db).await;
        if end.is_empty() || n == 0 {
            return None;
        }
        let used: f64 = end
            .iter()
            .filter_map(|pid| {
                let now = procfs::cpu_seconds(*pid)?;
                Some(now - self.start.get(pid).copied().unwrap_or(0.0))
            })
            .sum();
        Some(used * 1000.0 / n as f64)
    }
}

/// CPU milliseconds per request between two readings.
fn cpu_ms_per_request(before: Option<f64>, after: Option<f64>, n: u64) -> Option<f64> {
    match (before, after) {
        (Some(a), Some(b)) if n > 0 => Some((b - a) * 1000.0 / n as f64),
        _ => None,
    }
}

/// Measures one gateway: warm-up, then the timed phase between two metric scrapes.
async fn measure_gateway(
    env: &Env,
    gateway: &Service,
    version: &Service,
    call: &Call,
    concurrency: usize,
    options: &RunOptions,
    salt: u64,
) -> anyhow::Result<Measure> {
    let gw_metrics = gateway.url("/metrics");
    let vs_metrics = version.url("/metrics");
    let pid = gateway.pid;
    load::drive(call, concurrency, options.warmup, salt ^ 0xABCD).await;
    let (gw0, vs0) = (
        scrape(&env.http, &gw_metrics).await?,
        scrape(&env.http, &vs_metrics).await?,
    );
    let cpu0 = procfs::cpu_seconds(pid);
    let version_cpu0 = procfs::cpu_seconds(version.pid);
    let bytes0 = (
        env.body_bytes.load(Ordering::Relaxed),
        env.header_bytes.load(Ordering::Relaxed),
    );
    let db_cpu = DbCpu::start(&env.db).await;
    let peak_reset = procfs::reset_peak(pid);
    let outcome = load::drive(call, concurrency, options.duration, salt).await;
    let cpu1 = procfs::cpu_seconds(pid);
    let version_cpu1 = procfs::cpu_seconds(version.pid);
    let bytes1 = (
        env.body_bytes.load(Ordering::Relaxed),
        env.header_bytes.load(Ordering::Relaxed),
    );
    let peak = procfs::peak_rss_mib(pid);
    let (gw1, vs1) = (
        scrape(&env.http, &gw_metrics).await?,
        scrape(&env.http, &vs_metrics).await?,
    );
    let n = outcome.requests;
    let upstream = Counters::per_request(&gw0, &gw1, GATEWAY_UPSTREAM, n)
        .or_else(|| Counters::per_request(&vs0, &vs1, VERSION_CALLS, n));
    let per_request =
        |before: u64, after: u64| (n > 0).then(|| after.saturating_sub(before) as f64 / n as f64);
    Ok(Measure {
        requests_per_second: outcome.requests_per_second(),
        latency: crate::stats::latency(&outcome.histogram),
        requests: n,
        errors: outcome.errors,
        first_error: outcome.first_error,
        sql_per_request: Counters::per_request(&gw0, &gw1, GATEWAY_SQL, n),
        upstream_per_request: upstream,
        version_sql_per_request: Counters::per_request(&vs0, &vs1, VERSION_SQL, n),
        cpu_ms_per_request: cpu_ms_per_request(cpu0, cpu1, n),
        version_cpu_ms_per_request: cpu_ms_per_request(version_cpu0, version_cpu1, n),
        db_cpu_ms_per_request: db_cpu.ms_per_request(&env.db, n).await,
        peak_mib: if peak_reset { peak } else { None },
        body_bytes_per_request: per_request(bytes0.0, bytes1.0),
        header_bytes_per_request: per_request(bytes0.1, bytes1.1),
    })
}

/// Measures the floor, counting its statements on its own connection.
async fn measure_floor(
    env: &Env,
    statements: &licenses::StatementCounter,
    services: &Services,
    call: &Call,
    concurrency: usize,
    options: &RunOptions,
    salt: u64,
) -> anyhow::Result<Measure> {
    let vs_metrics = services.version.url("/metrics");
    load::drive(call, concurrency, options.warmup, salt ^ 0xABCD).await;
    let vs0 = scrape(&env.http, &vs_metrics).await?;
    let sql0 = statements.get();
    let db_cpu = DbCpu::start(&env.db).await;
    let outcome = load::drive(call, concurrency, options.duration, salt).await;
    let sql1 = statements.get();
    let vs1 = scrape(&env.http, &vs_metrics).await?;
    let n = outcome.requests;
    Ok(Measure {
        requests_per_second: outcome.requests_per_second(),
        latency: crate::stats::latency(&outcome.histogram),
        requests: n,
        errors: outcome.errors,
        first_error: outcome.first_error,
        sql_per_request: (n > 0).then(|| (sql1 - sql0) as f64 / n as f64),
        upstream_per_request: Counters::per_request(&vs0, &vs1, VERSION_CALLS, n),
        version_sql_per_request: Counters::per_request(&vs0, &vs1, VERSION_SQL, n),
        db_cpu_ms_per_request: db_cpu.ms_per_request(&env.db, n).await,
        ..Measure::default()
    })
}

/// Runs the whole matrix and prints (and writes) the report.
pub async fn run(location: &Location, options: &RunOptions) -> anyhow::Result<()> {
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .pool_max_idle_per_host(256)
        .build()?;
    let (db, statements) = licenses::connect(&location.license_url()).await?;
    let metadata = dataset::metadata(&db).await?;
    let params = dataset::params(&db).await?;
    eprintln!(
        "dashboard customers: {} with {:?} licenses; {} search fragments (e.g. {:?}); {} hostnames; scale customers {:?}",
        params.dashboard_customers.len(),
        params
            .dashboard_licenses
            .iter()
            .min()
            .zip(params.dashboard_licenses.iter().max()),
        params.fragments.len(),
        &params.fragments[..params.fragments.len().min(5)],
        params.hostnames.len(),
        params.scale
    );

    let jwt_secret = run_secret("licensedot-bench-jwt");
    let service_token = run_secret("licensedot-bench-service");
    let services = start(&http, location, options, &jwt_secret, &service_token).await?;
    let token = auth::mint_hs256(
        &jwt_secret,
        &auth::MintClaims {
            sub: "bench".into(),
            email: Some("bench@licensedot.invalid".into()),
            roles: vec!["admin".into()],
            customer_ids: Vec::new(),
            ttl: Duration::from_secs(24 * 3600),
            issuer: None,
            audience: None,
        },
    )?;
    let env = Arc::new(Env {
        http: http.clone(),
        token,
        version_url: services.version.url("/graphql"),
        service_token,
        db,
        params,
        body_bytes: AtomicU64::new(0),
        header_bytes: AtomicU64::new(0),
    });
    let targets: Vec<(Variant, Target)> = options
        .variants()
        .into_iter()
        .map(|variant| {
            let target = Target {
                url: services.gateway(&variant).url("/graphql"),
                accept_encoding: variant.accept_encoding.clone(),
            };
            (variant, target)
        })
        .collect();

    let result = async {
        let verified = if targets.len() > 1 {
            let verified = verify::variants_agree(&env, &options.scenarios, &targets).await?;
            eprintln!(
                "{} answers through the other variants identical to gateway A's plain ones",
                verified.compared
            );
            Some(verified)
        } else {
            None
        };
        let cells = matrix(&env, &statements, &services, &targets, options).await?;
        Ok::<_, anyhow::Error>((cells, verified))
    }
    .await;
    let idle_rss = procfs::peak_rss_mib(services.gateway.pid);
    services.gateway.stop().await;
    if let Some(b) = services.gateway_b {
        b.stop().await;
    }
    services.version.stop().await;
    let (cells, verified) = result?;

    let context = report::Context {
        metadata,
        options: options.clone(),
        dashboard_licenses: env.params.dashboard_licenses.clone(),
        final_peak_mib: idle_rss,
        variants: targets.into_iter().map(|(v, _)| v).collect(),
        verified,
    };
    let text = report::render(&context, &cells);
    println!("{text}");
    if let Some(out) = &options.out {
        std::fs::write(out, &text).with_context(|| format!("cannot write {}", out.display()))?;
        eprintln!("report written to {}", out.display());
    }
    Ok(())
}

async fn matrix(
    env: &Arc<Env>,
    statements: &licenses::StatementCounter,
    services: &Services,
    targets: &[(Variant, Target)],
    options: &RunOptions,
) -> anyhow::Result<BTreeMap<(Scenario, usize), Cell>> {
    let mut cells: BTreeMap<(Scenario, usize), Cell> = BTreeMap::new();
    let mut salt = 1u64;
    for round in 1..=options.repeat {
        for &scenario in &options.scenarios {
            let calls: Vec<Call> = targets
                .iter()
                .map(|(_, target)| scenarios::gateway_call(env, scenario, target))
                .collect();
            let floor = scenarios::floor_call(env, scenario);
            for &concurrency in &options.concurrency {
                // The same salt for every variant: they get the same inputs in the same order.
                salt += 1;
                let cell = cells.entry((scenario, concurrency)).or_default();
                for i in options::variant_order(round, targets.len()) {
                    let variant = &targets[i].0;
                    let g = measure_gateway(
                        env,
                        services.gateway(variant),
                        &services.version,
                        &calls[i],
                        concurrency,
                        options,
                        salt,
                    )
                    .await?;
                    let side = Side::Gateway(variant.label());
                    eprintln!(
                        "{}",
                        report::progress(round, scenario, concurrency, &side, &g)
                    );
                    cell.variant_mut(i).push(g);
                }
                if options.floor && scenario.has_floor() {
                    let f = measure_floor(
                        env,
                        statements,
                        services,
                        &floor,
                        concurrency,
                        options,
                        salt,
                    )
                    .await?;
                    eprintln!(
                        "{}",
                        report::progress(round, scenario, concurrency, &Side::Floor, &f)
                    );
                    cell.floor.push(f);
                }
            }
        }
    }
    Ok(cells)
}
