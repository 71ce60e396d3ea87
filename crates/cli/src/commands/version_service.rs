//! `licensedot version-service`: usage-ping ingestion and its subgraph.

use std::path::PathBuf;

use anyhow::Context;

use crate::{settings, shutdown, telemetry};

/// Connects and migrates the version database, and serves until ctrl-c or SIGTERM.
pub async fn run(config_file: Option<PathBuf>) -> anyhow::Result<()> {
    let figment = settings::figment(config_file.as_deref())?;
    let telemetry = telemetry::init(
        &settings::section(&figment, "log")?,
        "licensedot-version-service",
    )?;
    let config: version_service::Config = settings::section(&figment, "version_service")?;
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

/// Connects to and migrates the version database.
pub async fn start(config: version_service::Config) -> anyhow::Result<version_service::AppState> {
    let (db, statements) = version_service::connect(&config.database_url)
        .await
        .context("the version database is not usable")?;
    version_service::migrate(&db)
        .await
        .context("cannot migrate the version database")?;
    Ok(version_service::AppState::new(db, statements, config))
}
