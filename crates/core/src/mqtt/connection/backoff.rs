//! Reconnecting without hammering the broker: a delay that doubles from 200 ms up to 3 s,
//! with jitter, reset once connected.

use std::time::Duration;

/// Capped exponential backoff with ±20 % jitter.
#[derive(Debug)]
pub struct Backoff {
    next: Duration,
    /// The jitter's source (not a secret: a seeded generator is enough).
    jitter: fastrand::Rng,
}

impl Backoff {
    /// Starts at [`BACKOFF_INITIAL`].
    pub fn new() -> Self {
        Self {
            next: BACKOFF_INITIAL,
            jitter: fastrand::Rng::new(),
        }
    }

    /// The delay to wait now; doubles the next one up to [`BACKOFF_MAX`].
    pub fn next_delay(&mut self) -> Duration {
        let base = self.next;
        self.next = (self.next * 2).min(BACKOFF_MAX);
        base.mul_f64(0.8 + self.jitter.f64() * 0.4)
    }

    /// Back to the first delay (after a successful connection).
    pub fn reset(&mut self) {
        self.next = BACKOFF_INITIAL;
    }
}

impl Default for Backoff {
    fn default() -> Self {
        Self::new()
    }
}

/// First delay before reconnecting.
const BACKOFF_INITIAL: Duration = Duration::from_millis(200);

/// Longest delay before reconnecting: a returning broker is found within ~3.6 s.
const BACKOFF_MAX: Duration = Duration::from_secs(3);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap_with_jitter_and_resets() {
        let mut backoff = Backoff::new();
        let delays: Vec<Duration> = (0..10).map(|_| backoff.next_delay()).collect();
        assert!(delays[0] >= Duration::from_millis(160) && delays[0] <= Duration::from_millis(240));
        assert!(delays[1] >= Duration::from_millis(320));
        for delay in &delays[5..] {
            assert!(*delay >= BACKOFF_MAX.mul_f64(0.8) && *delay <= BACKOFF_MAX.mul_f64(1.2));
        }
        backoff.reset();
        assert!(backoff.next_delay() <= Duration::from_millis(240));
    }
}
