//! Layered configuration: defaults < config file < `LICENSEDOT_*` environment < flags.

use std::path::Path;

use anyhow::Context;
use figment::Figment;
use figment::providers::{Env, Format, Toml};
use serde::Deserialize;

/// Reads the layers: the file (when given), then `LICENSEDOT_<SECTION>__<KEY>` variables, e.g.
/// `LICENSEDOT_GATEWAY__DATABASE_URL`.
pub fn figment(file: Option<&Path>) -> anyhow::Result<Figment> {
    let mut figment = Figment::new();
    if let Some(file) = file {
        anyhow::ensure!(
            file.exists(),
            "config file {} does not exist",
            file.display()
        );
        figment = figment.merge(Toml::file(file));
    }
    Ok(figment.merge(
        Env::prefixed("LICENSEDOT_")
            .split("__")
            .ignore(&["jwt_secret"]),
    ))
}

/// Extracts one section; its type's `#[serde(default)]` fills what the layers leave out.
pub fn section<T: for<'de> Deserialize<'de>>(figment: &Figment, name: &str) -> anyhow::Result<T> {
    figment
        .focus(name)
        .extract()
        .with_context(|| format!("invalid [{name}] configuration"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What `licensedot bench --gateway-env` passes: the gateway's options by environment,
    /// booleans as text.
    #[test]
    #[allow(clippy::result_large_err)] // figment's own Jail signature
    fn the_environment_sets_the_upstream_protocol_and_the_federation_directives() {
        figment::Jail::expect_with(|jail| {
            let config: gateway::Config = section(&figment(None).unwrap(), "gateway").unwrap();
            assert!(!config.version_service.http2_prior_knowledge);
            assert!(config.federation.authorization_directives);
            jail.set_env(
                "LICENSEDOT_GATEWAY__VERSION_SERVICE__HTTP2_PRIOR_KNOWLEDGE",
                "true",
            );
            jail.set_env(
                "LICENSEDOT_GATEWAY__FEDERATION__AUTHORIZATION_DIRECTIVES",
                "false",
            );
            let config: gateway::Config = section(&figment(None).unwrap(), "gateway").unwrap();
            assert!(config.version_service.http2_prior_knowledge);
            assert!(!config.federation.authorization_directives);
            Ok(())
        });
    }
}
