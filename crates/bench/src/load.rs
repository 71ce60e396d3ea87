//! The load driver: a fixed number of workers, each sending one request after the other until
//! the deadline, every latency recorded.

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::future::BoxFuture;
use hdrhistogram::Histogram;

use crate::stats;

/// One request of a scenario. The argument is a sequence number the call uses to pick its
/// input (different for every request of a phase).
pub type Call = Arc<dyn Fn(u64) -> BoxFuture<'static, anyhow::Result<()>> + Send + Sync>;

/// What one phase measured.
pub struct Outcome {
    pub histogram: Histogram<u64>,
    pub requests: u64,
    pub errors: u64,
    pub elapsed: Duration,
    pub first_error: Option<String>,
}

impl Outcome {
    pub fn requests_per_second(&self) -> f64 {
        let secs = self.elapsed.as_secs_f64();
        if secs > 0.0 {
            self.requests as f64 / secs
        } else {
            0.0
        }
    }
}

/// Runs `call` from `concurrency` workers for `duration` (requests started before the deadline
/// finish; each is bounded by its own timeout), then returns when all workers are done.
pub async fn drive(call: &Call, concurrency: usize, duration: Duration, salt: u64) -> Outcome {
    let started = Instant::now();
    let deadline = started + duration;
    let workers = (0..concurrency).map(|worker| {
        let call = call.clone();
        tokio::spawn(async move {
            let mut histogram = stats::new_histogram();
            let (mut requests, mut errors, mut first_error) = (0u64, 0u64, None);
            let mut seq = salt
                .wrapping_mul(1_000_003)
                .wrapping_add((worker as u64) << 32);
            while Instant::now() < deadline {
                let sent = Instant::now();
                let result = call(seq).await;
                stats::record(&mut histogram, sent.elapsed());
                requests += 1;
                seq = seq.wrapping_add(1);
                if let Err(error) = result {
                    errors += 1;
                    first_error.get_or_insert_with(|| format!("{error:#}"));
                }
            }
            (histogram, requests, errors, first_error)
        })
    });
    let mut outcome = Outcome {
        histogram: stats::new_histogram(),
        requests: 0,
        errors: 0,
        elapsed: Duration::ZERO,
        first_error: None,
    };
    for worker in futures::future::join_all(workers).await {
        match worker {
            Ok((histogram, requests, errors, first_error)) => {
                let _ = outcome.histogram.add(&histogram);
                outcome.requests += requests;
                outcome.errors += errors;
                if outcome.first_error.is_none() {
                    outcome.first_error = first_error;
                }
            }
            Err(panic) => {
                outcome.errors += 1;
                outcome.first_error = Some(format!("worker panicked: {panic}"));
            }
        }
    }
    outcome.elapsed = started.elapsed();
    outcome
}

/// A well-mixed index into a list of `len` inputs for sequence number `seq` (SplitMix64).
pub fn pick(seq: u64, len: usize) -> usize {
    let mut z = seq.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    (z % len.max(1) as u64) as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn picks_spread_over_the_inputs() {
        let mut seen = [0u32; 10];
        for seq in 0..10_000 {
            seen[pick(seq, 10)] += 1;
        }
        assert!(seen.iter().all(|n| (800..1200).contains(n)), "{seen:?}");
        assert_eq!(pick(5, 0), 0);
    }

    #[tokio::test]
    async fn drive_counts_requests_and_errors() {
        let call: Call = Arc::new(|seq| {
            Box::pin(async move {
                anyhow::ensure!(seq % 2 == 0, "odd {seq}");
                Ok(())
            })
        });
        let outcome = drive(&call, 2, Duration::from_millis(20), 0).await;
        assert!(outcome.requests > 0);
        assert!(outcome.errors > 0 && outcome.errors < outcome.requests);
        assert!(outcome.first_error.unwrap_or_default().starts_with("odd"));
        assert_eq!(outcome.histogram.len(), outcome.requests);
    }
}
