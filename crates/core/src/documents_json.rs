//! The documents as JSON text for readers outside the app (REST answers, socket.io events):
//! rendered once per change, shared by every reader until the next change.

use crate::config::Snapshot;
use crate::mqtt::payloads::HealthStatus;
use bytes::Bytes;
use parking_lot::Mutex;
use std::sync::Arc;

/// The clients' JSON of every document, cached with the snapshot it was rendered from and the
/// statuses it shows.
#[derive(Debug, Clone, Default)]
pub struct DocumentsJson {
    cached: Arc<Mutex<Option<Cached>>>,
}

#[derive(Debug)]
struct Cached {
    snapshot: Arc<Snapshot>,
    statuses: Vec<Option<HealthStatus>>,
    schemas: u64,
    json: Bytes,
}

impl DocumentsJson {
    /// The cached JSON when `snapshot`, `statuses` and the settings schemas' generation
    /// (which fields are masked) are those it was built from; otherwise builds it with `build`
    /// and keeps it.
    pub fn get_or_build(
        &self,
        snapshot: &Arc<Snapshot>,
        statuses: Vec<Option<HealthStatus>>,
        schemas: u64,
        build: impl FnOnce(&Snapshot) -> String,
    ) -> Bytes {
        let mut cached = self.cached.lock();
        if let Some(hit) = cached.as_ref().filter(|c| {
            Arc::ptr_eq(&c.snapshot, snapshot) && c.statuses == statuses && c.schemas == schemas
        }) {
            return hit.json.clone();
        }
        let json = Bytes::from(build(snapshot));
        *cached = Some(Cached {
            snapshot: Arc::clone(snapshot),
            statuses,
            schemas,
            json: json.clone(),
        });
        json
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rebuilds_only_when_the_snapshot_or_a_status_changes() {
        let view = DocumentsJson::default();
        let first = Arc::new(Snapshot::default());
        let mut builds = 0;
        let mut get = |snapshot: &Arc<Snapshot>, status| {
            view.get_or_build(snapshot, vec![status], 0, |_| {
                builds += 1;
                format!("{builds}")
            })
        };
        assert_eq!(&get(&first, None)[..], b"1");
        assert_eq!(&get(&first, None)[..], b"1");
        assert_eq!(&get(&first, Some(HealthStatus::Healthy))[..], b"2");
        let second = Arc::new(Snapshot::default());
        assert_eq!(&get(&second, Some(HealthStatus::Healthy))[..], b"3");
    }
}
