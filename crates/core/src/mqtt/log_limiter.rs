//! A rate limit for log lines about what arrives on the bus: a hostile or broken client can
//! send thousands of bad messages a second, and the log says so a few times per window and
//! then how many it held back.

use std::time::{Duration, Instant};

/// Lines let through per window before the log goes quiet.
const BURST: u32 = 5;
/// The window of [`BURST`].
const WINDOW: Duration = Duration::from_secs(10);

/// Lets a burst of log lines through per window, then counts what it holds back.
#[derive(Debug, Default)]
pub struct LogLimiter {
    window_start: Option<Instant>,
    admitted: u32,
    suppressed: u64,
}

impl LogLimiter {
    /// `Some(suppressed so far)` when this line may be logged.
    pub fn admit(&mut self, now: Instant) -> Option<u64> {
        let window_over = self
            .window_start
            .is_none_or(|start| now.duration_since(start) >= WINDOW);
        if window_over {
            self.window_start = Some(now);
            self.admitted = 0;
        }
        if self.admitted < BURST {
            self.admitted += 1;
            Some(std::mem::take(&mut self.suppressed))
        } else {
            self.suppressed += 1;
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_limiter_lets_a_burst_through_then_counts() {
        let mut limiter = LogLimiter::default();
        let start = Instant::now();
        for _ in 0..BURST {
            assert_eq!(limiter.admit(start), Some(0));
        }
        assert_eq!(limiter.admit(start), None);
        assert_eq!(limiter.admit(start), None);
        assert_eq!(limiter.admit(start + WINDOW), Some(2));
    }
}
