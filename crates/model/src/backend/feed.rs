//! The bounded queue of updates between a backend and its face: the backend pushes from any
//! thread (the core's runtime, a socket's callback) and asks for a frame; the face drains it
//! between frames. When the face falls behind, updates are dropped and counted, and the face
//! asks the backend for the whole state again ([`super::Backend::resync`]).

use super::Update;
use parking_lot::Mutex;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Asks the face to look at its feed within the given time (egui: `request_repaint_after`).
pub type Wake = std::sync::Arc<dyn Fn(Duration) + Send + Sync>;

/// Updates that may wait for the face before newer ones are dropped.
pub const FEED_CAPACITY: usize = 65_536;

/// The queue of updates from a backend to its face.
#[derive(Debug, Default)]
pub struct Feed {
    waiting: Mutex<VecDeque<Update>>,
    missed: AtomicU64,
}

impl Feed {
    /// An empty feed.
    pub fn new() -> Self {
        Self::default()
    }

    /// Queues `update`; false (and counted as missed) when the face is [`FEED_CAPACITY`]
    /// updates behind.
    pub fn push(&self, update: Update) -> bool {
        let mut waiting = self.lock();
        if waiting.len() >= FEED_CAPACITY {
            drop(waiting);
            self.miss(1);
            return false;
        }
        waiting.push_back(update);
        true
    }

    /// Counts `n` updates lost before they reached the feed.
    pub fn miss(&self, n: u64) {
        self.missed.fetch_add(n, Ordering::Relaxed);
    }

    /// Takes up to `most` waiting updates, oldest first.
    pub fn take(&self, most: usize) -> Vec<Update> {
        let mut waiting = self.lock();
        let n = most.min(waiting.len());
        waiting.drain(..n).collect()
    }

    /// True when updates wait.
    pub fn has_more(&self) -> bool {
        !self.lock().is_empty()
    }

    /// How many updates were lost since the last call.
    pub fn take_missed(&self) -> u64 {
        self.missed.swap(0, Ordering::Relaxed)
    }

    fn lock(&self) -> parking_lot::MutexGuard<'_, VecDeque<Update>> {
        self.waiting.lock()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn updates_come_out_in_order_and_overflow_is_counted() {
        let feed = Feed::new();
        for id in 0..3 {
            assert!(feed.push(Update::DeviceRemoved { id: id.to_string() }));
        }
        let first = feed.take(2);
        assert!(
            matches!(&first[..], [Update::DeviceRemoved { id: a }, Update::DeviceRemoved { id: b }] if a == "0" && b == "1")
        );
        assert!(feed.has_more());
        assert_eq!(feed.take(10).len(), 1);
        assert!(!feed.has_more());
        for _ in 0..FEED_CAPACITY {
            feed.push(Update::Traffic {
                messages_received: 0,
            });
        }
        assert!(!feed.push(Update::Traffic {
            messages_received: 1
        }));
        feed.miss(2);
        assert_eq!(feed.take_missed(), 3);
        assert_eq!(feed.take_missed(), 0);
    }
}
