//! The message rate over the last minutes, for the top bar and the Health tab's chart.

use std::collections::VecDeque;
use std::time::Duration;
use web_time::Instant;

/// Samples of message-rate history kept (one a second: ten minutes).
const RATE_HISTORY: usize = 600;

/// Messages per second over the last minutes, sampled from the core's counters.
#[derive(Debug, Default)]
pub struct RateHistory {
    samples: VecDeque<(f64, f64)>,
    last: Option<(Instant, u64)>,
    started: Option<Instant>,
}

impl RateHistory {
    /// Samples the counter when a second has passed; returns true when it did.
    pub fn sample(&mut self, received: u64) -> bool {
        let now = crate::clock::instant();
        let started = *self.started.get_or_insert(now);
        match self.last {
            Some((at, count)) if now.duration_since(at) >= Duration::from_secs(1) => {
                let rate =
                    received.saturating_sub(count) as f64 / now.duration_since(at).as_secs_f64();
                if self.samples.len() == RATE_HISTORY {
                    self.samples.pop_front();
                }
                self.samples
                    .push_back((now.duration_since(started).as_secs_f64(), rate));
                self.last = Some((now, received));
                true
            }
            Some(_) => false,
            None => {
                self.last = Some((now, received));
                false
            }
        }
    }

    /// The latest rate.
    pub fn current(&self) -> f64 {
        self.samples.back().map_or(0.0, |(_, rate)| *rate)
    }

    /// True while the chart's window still holds a non-zero rate (so it scrolls each second).
    pub fn shows_traffic(&self) -> bool {
        self.samples.iter().any(|(_, rate)| *rate > 0.0)
    }

    /// (seconds before the latest sample, msgs/s) points: the newest is at x = 0, so the
    /// chart's axis stays put while the line scrolls left.
    pub fn points(&self) -> Vec<[f64; 2]> {
        let latest = self.samples.back().map_or(0.0, |(t, _)| *t);
        self.samples.iter().map(|(t, r)| [t - latest, *r]).collect()
    }

    /// The seconds of history the chart spans.
    pub fn span_secs() -> f64 {
        RATE_HISTORY as f64
    }
}
