//! The message log: a bounded ring of the most recent MQTT messages, for the monitor and
//! `GET /api/system/messages`. Secrets are masked before a record is made.

use alicia_model::message_filter::MessageFilter;
pub use alicia_model::messages::{
    KeptPayload, LiveData, MessageRecord, MessageView, PAYLOAD_TEXT_LIMIT, payload_head,
};
use parking_lot::Mutex;
use std::collections::VecDeque;
use std::sync::Arc;

/// Default number of messages kept.
pub const DEFAULT_MESSAGE_LOG_CAPACITY: usize = 10_000;
/// Memory the ring may hold, roughly: a flood of large messages evicts old ones sooner. A
/// household's 10,000 device states (about 450 bytes each as kept) fit with room to spare;
/// a flood of larger messages (the shared bench's echoes of a 1 KiB config: 8,571 fit) sends
/// the oldest out sooner (issue 21).
pub const DEFAULT_MESSAGE_LOG_BYTES: usize = 8 * 1024 * 1024;

/// The ring, bounded by a message count and by memory; cheap to clone.
#[derive(Debug, Clone)]
pub struct MessageLog {
    ring: Arc<Mutex<Ring>>,
    capacity: usize,
    byte_budget: usize,
}

#[derive(Debug, Default)]
struct Ring {
    records: VecDeque<Arc<MessageRecord>>,
    bytes: usize,
}

impl MessageLog {
    /// A ring keeping the last `capacity` messages (within [`DEFAULT_MESSAGE_LOG_BYTES`]).
    pub fn new(capacity: usize) -> Self {
        Self::with_budget(capacity, DEFAULT_MESSAGE_LOG_BYTES)
    }

    /// A ring keeping the last `capacity` messages and about `byte_budget` bytes at most.
    pub fn with_budget(capacity: usize, byte_budget: usize) -> Self {
        let capacity = capacity.max(1);
        let ring = Ring {
            records: VecDeque::with_capacity(capacity.min(65_536)),
            bytes: 0,
        };
        Self {
            ring: Arc::new(Mutex::new(ring)),
            capacity,
            byte_budget,
        }
    }

    /// Adds a message, dropping the oldest ones when full (by count or by memory); the newest
    /// message is always kept.
    pub fn push(&self, record: Arc<MessageRecord>) {
        let mut ring = self.ring.lock();
        ring.bytes += record.approximate_bytes();
        ring.records.push_back(record);
        while ring.records.len() > self.capacity
            || (ring.bytes > self.byte_budget && ring.records.len() > 1)
        {
            if let Some(oldest) = ring.records.pop_front() {
                ring.bytes -= oldest.approximate_bytes();
            }
        }
    }

    /// Up to `limit` most recent messages, newest first, whose topic matches `filter` (MQTT
    /// wildcard syntax).
    pub fn recent(&self, limit: usize, topic: Option<&str>) -> Vec<Arc<MessageRecord>> {
        let filter = topic.map_or(MessageFilter::All, |f| MessageFilter::Topic(f.to_owned()));
        self.matching(limit, &filter)
    }

    /// The newest `limit` messages `filter` shows, newest first.
    pub fn matching(&self, limit: usize, filter: &MessageFilter) -> Vec<Arc<MessageRecord>> {
        let ring = self.ring.lock();
        ring.records
            .iter()
            .rev()
            .filter(|record| filter.matches(record))
            .take(limit)
            .cloned()
            .collect()
    }

    /// Messages held now.
    pub fn len(&self) -> usize {
        self.ring.lock().records.len()
    }

    /// True when no message is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Most messages held.
    pub fn capacity(&self) -> usize {
        self.capacity
    }
}

/// An empty, valid record on `topic`, for the crate's unit tests.
#[cfg(test)]
pub(crate) fn test_record(topic: &str) -> Arc<MessageRecord> {
    Arc::new(MessageRecord::new(
        topic,
        String::new(),
        KeptPayload::Excerpt(bytes::Bytes::new()),
        None,
        false,
        0,
    ))
}

#[cfg(test)]
mod tests {
    use super::test_record as record;
    use super::*;
    use alicia_model::limits::RING_DATA_LIMIT;
    use alicia_model::messages::RECORD_OVERHEAD;
    use bytes::Bytes;
    use serde_json::Value;

    #[test]
    fn keeps_only_the_newest() {
        let log = MessageLog::new(3);
        for i in 0..5 {
            log.push(record(&format!("t/{i}")));
        }
        let topics: Vec<String> = log
            .recent(10, None)
            .iter()
            .map(|r| r.topic.clone())
            .collect();
        assert_eq!(topics, vec!["t/4", "t/3", "t/2"]);
        assert_eq!(log.len(), 3);
    }

    #[test]
    fn memory_is_bounded_too() {
        let log = MessageLog::with_budget(1000, 10_000);
        for i in 0..100 {
            let big = MessageRecord::new(
                &format!("t/{i}"),
                String::new(),
                KeptPayload::Excerpt(Bytes::from("x".repeat(4000))),
                None,
                false,
                4000,
            );
            log.push(Arc::new(big));
        }
        assert!(log.len() <= 3, "{} records kept", log.len());
        assert_eq!(log.recent(1, None)[0].topic, "t/99");
    }

    #[test]
    fn filters_with_wildcards_and_limits() {
        let log = MessageLog::new(10);
        for topic in [
            "alicia/device/a/state",
            "alicia/system/health/x",
            "alicia/device/b/state",
        ] {
            log.push(record(topic));
        }
        assert_eq!(log.recent(10, Some("alicia/device/+/state")).len(), 2);
        assert_eq!(log.recent(1, Some("alicia/#")).len(), 1);
        assert_eq!(
            log.recent(10, Some("alicia/system/#"))[0].topic,
            "alicia/system/health/x"
        );
    }

    #[test]
    fn payload_text_is_cut_on_a_char_boundary() {
        let long = "é".repeat(3000);
        let head = payload_head(long.as_bytes());
        assert!(head.len() <= PAYLOAD_TEXT_LIMIT);
        let mut r = MessageRecord::clone(&record("t"));
        r.kept = KeptPayload::Excerpt(head);
        assert!(r.payload_text().chars().all(|c| c == 'é'));
        r.kept = KeptPayload::Excerpt(Bytes::from_static(&[0xff, b'a']));
        assert_eq!(r.payload_text(), "\u{fffd}a");
        let json = format!("[\"{long}\"]");
        r.kept = KeptPayload::payload(json.as_bytes(), true);
        assert!(r.has_data());
        assert!(r.payload_text().len() <= PAYLOAD_TEXT_LIMIT);
        assert!(r.payload_text().starts_with("[\"é"));
    }

    #[test]
    fn live_data_falls_back_to_text() {
        let mut r = MessageRecord::clone(&record("t"));
        r.kept = KeptPayload::payload(b"online", false);
        assert_eq!(
            serde_json::to_value(r.live_data()).unwrap(),
            Value::String("online".into())
        );
        r.kept = KeptPayload::payload(br#"{"on": true}"#, true);
        assert_eq!(serde_json::to_value(r.live_data()).unwrap()["on"], true);
    }

    #[test]
    fn json_is_kept_as_text_and_parsed_when_asked() {
        let payload = br#"{"name":"Lamp","on":true,"brightness":42,"room":"kitchen"}"#;
        let r = MessageRecord::new(
            "alicia/device/lamp/state",
            "2026-11-29T10:00:00.000Z".to_owned(),
            KeptPayload::payload(payload, true),
            None,
            false,
            payload.len(),
        );
        assert_eq!(r.data()["brightness"], 42);
        assert_eq!(r.payload_text().as_bytes(), payload);
        // The text and a fixed overhead: not the parsed tree's 3–5 times the text.
        assert!(
            r.approximate_bytes() < RECORD_OVERHEAD + 150,
            "{}",
            r.approximate_bytes()
        );
        let shown = serde_json::to_value(&r).unwrap();
        assert_eq!(shown["data"]["name"], "Lamp");
        assert_eq!(shown["payload"], std::str::from_utf8(payload).unwrap());
        assert!(shown.get("error").is_none());
    }

    #[test]
    fn json_over_64_kib_keeps_only_an_excerpt() {
        let payload = serde_json::to_vec(&vec![1u8; 40_000]).unwrap();
        assert!(payload.len() > RING_DATA_LIMIT);
        let kept = KeptPayload::payload(&payload, true);
        assert!(matches!(&kept, KeptPayload::Excerpt(head) if head.len() == PAYLOAD_TEXT_LIMIT));
        let r = MessageRecord::new("t", String::new(), kept, None, false, payload.len());
        assert_eq!(r.data(), Value::Null);
        assert!(r.approximate_bytes() < RECORD_OVERHEAD + PAYLOAD_TEXT_LIMIT + 8);
    }
}
