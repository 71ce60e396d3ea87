//! When a failed delivery is tried again: exponential backoff with jitter. The wait before
//! attempt `n + 1` is `initial × 2^(n-1)`, at most `max`, then drawn at random from its upper
//! half, so that deliveries that failed together (a receiver that was down) do not all come
//! back at the same instant.

use std::time::Duration;

use rand::Rng;

/// The wait after the `attempts`-th failed attempt.
pub fn delay(attempts: i32, initial: Duration, max: Duration, rng: &mut impl Rng) -> Duration {
    let doublings = u32::try_from(attempts.saturating_sub(1))
        .unwrap_or(0)
        .min(32);
    let ceiling = initial
        .saturating_mul(2u32.saturating_pow(doublings))
        .min(max);
    let half = ceiling / 2;
    let jitter = rng.random_range(0..=ceiling.saturating_sub(half).as_millis() as u64);
    half + Duration::from_millis(jitter)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn doubles_up_to_the_maximum_with_jitter_in_the_upper_half() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(1);
        let (initial, max) = (Duration::from_secs(10), Duration::from_secs(3600));
        for (attempts, ceiling) in [
            (1, 10),
            (2, 20),
            (3, 40),
            (8, 1280),
            (9, 2560),
            (10, 3600),
            (40, 3600),
        ] {
            let ceiling = Duration::from_secs(ceiling);
            let waits: Vec<Duration> = (0..200)
                .map(|_| delay(attempts, initial, max, &mut rng))
                .collect();
            assert!(
                waits.iter().all(|w| *w >= ceiling / 2 && *w <= ceiling),
                "{attempts}"
            );
            let distinct: std::collections::HashSet<_> = waits.iter().collect();
            assert!(distinct.len() > 100, "jittered: {attempts}");
        }
    }
}
