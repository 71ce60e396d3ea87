//! Limits on what one request may ask for.

use serde::Deserialize;

/// `[gateway.limits]`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LimitsConfig {}
