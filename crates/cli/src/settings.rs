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
