//! `licensedot serve`: the gateway.

use std::path::PathBuf;

use anyhow::Context;

use crate::{settings, shutdown, telemetry};

/// Loads the configuration, starts the gateway and serves until ctrl-c or SIGTERM.
pub async fn run(config_file: Option<PathBuf>) -> anyhow::Result<()> {
    let figment = settings::figment(config_file.as_deref())?;
    let telemetry = telemetry::init(&settings::section(&figment, "log")?, "licensedot-gateway")?;
    let mut config: gateway::Config = settings::section(&figment, "gateway")?;
    // LICENSEDOT_JWT_SECRET beats the config file (figment ignores that variable).
    config.auth = config.auth.with_env_secret();
    let state = gateway::AppState::start(config.clone()).await?;
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("cannot listen on {}", config.listen))?;
    let address = listener.local_addr()?;
    tracing::info!(%address, "gateway listening");
    println!("licensedot gateway: http://{address}/graphql");
    gateway::serve(listener, state, shutdown::signal()).await?;
    // After the in-flight requests: their spans are the last to export.
    telemetry.shutdown().await;
    Ok(())
}
