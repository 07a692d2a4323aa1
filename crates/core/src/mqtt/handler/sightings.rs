//! When the follower last saw each service's config on the bus (its deletions wait a while
//! for the authority's word).

use super::*;

/// Counts, per service, the configs a follower saw on the authority's topic: a deletion seen
/// at count `n` is still current while the count stays `n`.
#[derive(Debug, Default)]
pub struct ConfigSightings {
    counts: Mutex<std::collections::HashMap<String, u64>>,
}

impl ConfigSightings {
    /// One more config of `service` seen; the new count.
    pub fn saw(&self, service: &str) -> u64 {
        let mut counts = self.counts.lock();
        let count = counts.entry(service.to_owned()).or_default();
        *count += 1;
        *count
    }

    /// How many configs of `service` have been seen.
    pub fn seen(&self, service: &str) -> u64 {
        self.counts.lock().get(service).copied().unwrap_or_default()
    }
}
