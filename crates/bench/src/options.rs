//! What `bench run` is asked to measure, shared by the run and its report.

use std::path::PathBuf;
use std::time::Duration;

use crate::scenarios::Scenario;

/// Options of `bench run`.
#[derive(Clone, Debug)]
pub struct RunOptions {
    pub licensedot: Option<PathBuf>,
    pub scenarios: Vec<Scenario>,
    pub concurrency: Vec<usize>,
    pub warmup: Duration,
    pub duration: Duration,
    pub repeat: usize,
    pub out: Option<PathBuf>,
    pub floor: bool,
    /// Extra `KEY=VALUE` environment for the gateway (e.g. to try a configuration).
    pub gateway_env: Vec<(String, String)>,
}
