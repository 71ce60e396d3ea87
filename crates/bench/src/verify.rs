//! Before anything is measured: the same requests through every variant (gateway A or B,
//! with or without `Accept-Encoding`) must give the same answer, decoded, as gateway A gives
//! plain, so that a faster variant is not faster for answering something else.

use std::collections::BTreeMap;

use anyhow::Context;

use crate::options::Variant;
use crate::scenarios::{self, Env, Scenario, Target};

/// Requests compared per scenario (sequence numbers 0, 1, ...; the dashboard's 20 customers
/// are picked pseudo-randomly from them, like during the phases).
const SAMPLES: u64 = 40;

/// What the comparison saw, for the report.
#[derive(Clone, Debug, Default)]
pub struct Verified {
    /// Answers compared with gateway A's plain answer to the same request, all identical.
    pub compared: u64,
    /// Per scenario and variant label: answers by `Content-Encoding` (`identity` for none),
    /// and their body bytes summed as received and decoded.
    pub seen: BTreeMap<(String, String), Seen>,
}

#[derive(Clone, Debug, Default)]
pub struct Seen {
    pub codings: BTreeMap<String, u64>,
    pub answers: u64,
    pub wire_bytes: u64,
    pub plain_bytes: u64,
}

/// Asks every variant the same `SAMPLES` requests of every scenario and fails on the first
/// answer that differs from gateway A's plain one or does not pass the phases' own check.
pub async fn variants_agree(
    env: &Env,
    scenarios: &[Scenario],
    variants: &[(Variant, Target)],
) -> anyhow::Result<Verified> {
    let mut verified = Verified::default();
    for &scenario in scenarios {
        for seq in 0..SAMPLES {
            let (body, root) = scenario.request(&env.params, seq);
            let mut reference = None;
            for (variant, target) in variants {
                let answer = scenarios::ask(env, target, &body).await?;
                scenarios::check_answer(scenario, root, &answer)
                    .with_context(|| format!("{scenario} through {}", variant.label()))?;
                let seen = verified
                    .seen
                    .entry((scenario.to_string(), variant.label()))
                    .or_default();
                let coding = answer
                    .content_encoding
                    .clone()
                    .unwrap_or_else(|| "identity".into());
                *seen.codings.entry(coding).or_default() += 1;
                seen.answers += 1;
                seen.wire_bytes += answer.wire_bytes;
                seen.plain_bytes += answer.plain_bytes;
                match &reference {
                    None => reference = Some(answer.body),
                    Some(expected) => {
                        anyhow::ensure!(
                            *expected == answer.body,
                            "{scenario} request {seq}: {} answered differently from A: {} vs {}",
                            variant.label(),
                            answer.body,
                            expected
                        );
                        verified.compared += 1;
                    }
                }
            }
        }
    }
    Ok(verified)
}
