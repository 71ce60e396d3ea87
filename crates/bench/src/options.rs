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
    /// Every gateway phase is also measured with each of these `Accept-Encoding` headers
    /// (compressed answers), besides without one.
    pub accept_encodings: Vec<String>,
    /// When not empty, a second gateway ("B") runs with this environment on top of
    /// `gateway_env`, and every gateway phase is measured on both, A and B alternated.
    pub compare_env: Vec<(String, String)>,
}

/// One way of asking: which gateway, and whether the answers come compressed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Variant {
    /// Gateway B (with `compare_env`) rather than A.
    pub gateway_b: bool,
    /// The `Accept-Encoding` header sent, if any.
    pub accept_encoding: Option<String>,
}

impl Variant {
    /// A short name for tables: `A`, `B`, or with the header sent, `A [gzip, br]`.
    pub fn label(&self) -> String {
        let gateway = if self.gateway_b { "B" } else { "A" };
        match &self.accept_encoding {
            Some(encoding) => format!("{gateway} [{encoding}]"),
            None => gateway.to_owned(),
        }
    }
}

impl RunOptions {
    /// The variants of every gateway phase; the first (gateway A, no `Accept-Encoding`) is the
    /// one compared with the floor and the one the other variants are compared with.
    pub fn variants(&self) -> Vec<Variant> {
        let gateways: &[bool] = if self.compare_env.is_empty() {
            &[false]
        } else {
            &[false, true]
        };
        let encodings: Vec<Option<String>> = std::iter::once(None)
            .chain(self.accept_encodings.iter().cloned().map(Some))
            .collect();
        gateways
            .iter()
            .flat_map(|&gateway_b| {
                encodings.iter().map(move |accept_encoding| Variant {
                    gateway_b,
                    accept_encoding: accept_encoding.clone(),
                })
            })
            .collect()
    }
}

/// The order the variants are measured in during `round` (from 1): as listed in odd rounds,
/// reversed in even ones, so that neither side always runs first on a machine whose load
/// drifts (A B, B A, A B, ...).
pub fn variant_order(round: usize, variants: usize) -> Vec<usize> {
    let mut order: Vec<usize> = (0..variants).collect();
    if round.is_multiple_of(2) {
        order.reverse();
    }
    order
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(accept_encodings: &[&str], compare: bool) -> RunOptions {
        RunOptions {
            licensedot: None,
            scenarios: Vec::new(),
            concurrency: vec![1],
            warmup: Duration::ZERO,
            duration: Duration::ZERO,
            repeat: 1,
            out: None,
            floor: false,
            gateway_env: Vec::new(),
            accept_encodings: accept_encodings.iter().map(|&e| e.to_owned()).collect(),
            compare_env: if compare {
                vec![("K".into(), "V".into())]
            } else {
                Vec::new()
            },
        }
    }

    #[test]
    fn variants_cross_gateways_and_encodings() {
        let labels = |o: &RunOptions| o.variants().iter().map(Variant::label).collect::<Vec<_>>();
        assert_eq!(labels(&options(&[], false)), ["A"]);
        assert_eq!(
            labels(&options(&["gzip, br", "gzip"], false)),
            ["A", "A [gzip, br]", "A [gzip]"]
        );
        assert_eq!(labels(&options(&[], true)), ["A", "B"]);
        assert_eq!(
            labels(&options(&["br"], true)),
            ["A", "A [br]", "B", "B [br]"]
        );
    }

    #[test]
    fn rounds_alternate_the_order() {
        assert_eq!(variant_order(1, 2), [0, 1]);
        assert_eq!(variant_order(2, 2), [1, 0]);
        assert_eq!(variant_order(3, 2), [0, 1]);
        assert_eq!(variant_order(4, 1), [0]);
    }
}
