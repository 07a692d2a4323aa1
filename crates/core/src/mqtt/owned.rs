//! The retained config topics only the authority writes (CONTRACT §6). It remembers what it
//! published there until the broker echoes it back, so that anything else arriving on
//! `alicia/config/<service>` — a payload that differs from the stored document and is not one
//! of its own publications in flight — is known as a foreign write; and it carries the
//! requests to publish the stored document again (or clear a service it does not hold) to the
//! config publisher.

use parking_lot::Mutex;
use std::collections::{BTreeSet, HashMap, VecDeque};
use std::hash::{DefaultHasher, Hash, Hasher};
use tokio::sync::Notify;

/// Publications per service remembered until their echo (more are not in flight at once).
const IN_FLIGHT_LIMIT: usize = 16;

/// The authority's own config publications and the restores asked for; shared by the
/// publisher (which notes and restores) and the message handler (which recognises echoes
/// and foreign writes).
#[derive(Debug, Default)]
pub struct OwnedConfigs {
    in_flight: Mutex<HashMap<String, VecDeque<u64>>>,
    to_restore: Mutex<BTreeSet<String>>,
    wake: Notify,
}

fn fingerprint(payload: &[u8]) -> u64 {
    let mut hasher = DefaultHasher::new();
    payload.hash(&mut hasher);
    hasher.finish()
}

impl OwnedConfigs {
    /// The publisher is about to publish `payload` on `service`'s config topic.
    pub fn publishing(&self, service: &str, payload: &[u8]) {
        let mut in_flight = self.in_flight.lock();
        let sent = in_flight.entry(service.to_owned()).or_default();
        sent.push_back(fingerprint(payload));
        while sent.len() > IN_FLIGHT_LIMIT {
            sent.pop_front();
        }
    }

    /// True when `payload` on `service`'s config topic is the echo of one of this manager's
    /// publications (it and the older ones are then no longer in flight: the broker keeps a
    /// topic's order).
    pub fn is_own_echo(&self, service: &str, payload: &[u8]) -> bool {
        let mut in_flight = self.in_flight.lock();
        let Some(sent) = in_flight.get_mut(service) else {
            return false;
        };
        let print = fingerprint(payload);
        let Some(position) = sent.iter().position(|p| *p == print) else {
            return false;
        };
        sent.drain(..=position);
        if sent.is_empty() {
            in_flight.remove(service);
        }
        true
    }

    /// Asks the publisher to publish `service`'s stored document again (an empty retained
    /// payload when there is none).
    pub fn restore(&self, service: &str) {
        self.to_restore.lock().insert(service.to_owned());
        self.wake.notify_one();
    }

    /// The services to publish again, emptied.
    pub fn take_restores(&self) -> BTreeSet<String> {
        std::mem::take(&mut *self.to_restore.lock())
    }

    /// Resolves when a restore has been asked for (at once if one is waiting).
    pub async fn restore_asked(&self) {
        self.wake.notified().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn echoes_are_recognised_in_order_and_others_are_not() {
        let owned = OwnedConfigs::default();
        owned.publishing("stt", b"one");
        owned.publishing("stt", b"two");
        assert!(!owned.is_own_echo("stt", b"foreign"));
        assert!(!owned.is_own_echo("tts", b"one"));
        assert!(owned.is_own_echo("stt", b"two"), "the later one");
        assert!(
            !owned.is_own_echo("stt", b"one"),
            "older publications are no longer in flight"
        );
        owned.restore("stt");
        owned.restore("stt");
        assert_eq!(owned.take_restores().len(), 1);
        assert!(owned.take_restores().is_empty());
    }
}
