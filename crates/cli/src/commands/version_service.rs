//! `licensedot version-service`: usage-ping ingestion and its subgraph.

use std::path::PathBuf;

use anyhow::Context;

use crate::{settings, shutdown, telemetry};

/// Connects and migrates the version database, and serves until ctrl-c or SIGTERM.
///
/// Refuses to start without a service token unless `insecure_no_token` (a development run).
pub async fn run(config_file: Option<PathBuf>, insecure_no_token: bool) -> anyhow::Result<()> {
    let figment = settings::figment(config_file.as_deref())?;
    let telemetry = telemetry::init(
        &settings::section(&figment, "log")?,
        "licensedot-version-service",
    )?;
    let config: version_service::Config = settings::section(&figment, "version_service")?;
    config
        .check_service_token(insecure_no_token)
        .map_err(anyhow::Error::msg)?;
    if config.service_token.is_none() {
        tracing::warn!("no service token (--insecure-no-token): /graphql is open to anyone");
    }
    let state = start(config).await?;
    let listener = tokio::net::TcpListener::bind(state.config.listen)
        .await
        .with_context(|| format!("cannot listen on {}", state.config.listen))?;
    let address = listener.local_addr()?;
    tracing::info!(%address, "version service listening");
    println!("licensedot version service: http://{address}/graphql");
    version_service::serve(listener, state, shutdown::signal()).await?;
    // After the in-flight requests: their spans are the last to export.
    telemetry.shutdown().await;
    Ok(())
}

/// Connects to and migrates the version database, and reaches Redis when `redis_url` is set
/// (a wrong `redis_url` stops the start rather than silently leaving ingestion unlimited).
pub async fn start(config: version_service::Config) -> anyhow::Result<version_service::AppState> {
    let (db, statements) = version_service::connect(&config.database_url)
        .await
        .context("the version database is not usable")?;
    version_service::migrate(&db)
        .await
        .context("cannot migrate the version database")?;
    let state =
        version_service::AppState::new(db, statements, config).context("invalid configuration")?;
    state
        .limits
        .check_backend()
        .await
        .map_err(anyhow::Error::msg)
        .context("the rate-limit store is not usable")?;
    Ok(state)
}
