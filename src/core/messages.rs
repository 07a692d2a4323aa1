//! The message log: a bounded ring of the most recent MQTT messages, for the monitor and
//! `GET /api/system/messages`. Secrets are masked before a record is made.

use crate::core::mqtt::topics::matches_filter;
use bytes::Bytes;
use parking_lot::Mutex;
use serde::Serialize;
use serde_json::Value;
use std::borrow::Cow;
use std::collections::VecDeque;
use std::sync::Arc;

/// Default number of messages kept.
pub const DEFAULT_MESSAGE_LOG_CAPACITY: usize = 10_000;
/// Payload text kept per message.
pub const PAYLOAD_TEXT_LIMIT: usize = 4096;
/// Memory the ring may hold, roughly: a flood of large messages evicts old ones sooner. A
/// household's 10,000 device states (about 1 KiB each with their parsed JSON) fit; 10,000
/// config documents (5 KiB each parsed) would not, and need not (issue 21).
pub const DEFAULT_MESSAGE_LOG_BYTES: usize = 16 * 1024 * 1024;

/// One MQTT message as shown (`GET /api/system/messages` shape).
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct MessageRecord {
    /// The topic it arrived on.
    pub topic: String,
    /// When it arrived (RFC 3339).
    pub timestamp: String,
    /// False when it did not parse or had the wrong shape.
    pub valid: bool,
    /// The parsed JSON, or `null` (shared with the registries, never copied).
    #[schema(value_type = Value)]
    pub data: Arc<Value>,
    /// The payload's first 4 KiB (shared with the MQTT buffer), shown as text (lossy for
    /// binary).
    #[serde(serialize_with = "serialize_as_text")]
    #[schema(value_type = String)]
    pub payload: Bytes,
    /// Why it is invalid.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// True when the broker delivered it as a retained message.
    #[serde(skip)]
    #[schema(ignore)]
    pub retained: bool,
    /// Size of the whole payload in bytes.
    #[serde(skip)]
    #[schema(ignore)]
    pub size: usize,
    /// What it holds in memory, roughly (see [`MessageRecord::approximate_bytes`]).
    #[serde(skip)]
    #[schema(ignore)]
    pub footprint: usize,
}

/// The memory a parsed JSON value takes, roughly: every node, every string and key, and the
/// maps' and arrays' own tables (a number array costs 10–40 times its text).
pub fn json_footprint(value: &Value) -> usize {
    const NODE: usize = std::mem::size_of::<Value>();
    match value {
        Value::String(text) => NODE + text.capacity(),
        // Each item's slot is counted with the item; the spare capacity on its own.
        Value::Array(items) => {
            NODE + (items.capacity() - items.len()) * NODE
                + items.iter().map(json_footprint).sum::<usize>()
        }
        Value::Object(fields) => {
            NODE + fields
                .iter()
                .map(|(key, value)| 48 + key.capacity() + json_footprint(value))
                .sum::<usize>()
        }
        _ => NODE,
    }
}

impl MessageRecord {
    /// A record of a message of `size` bytes, its memory counted once.
    pub fn new(
        topic: &str,
        timestamp: String,
        data: Arc<Value>,
        payload: Bytes,
        error: Option<String>,
        retained: bool,
        size: usize,
    ) -> Self {
        let mut record = Self {
            topic: topic.to_owned(),
            timestamp,
            valid: error.is_none(),
            data,
            payload,
            error,
            retained,
            size,
            footprint: 0,
        };
        record.footprint = 256
            + record.topic.len()
            + record.payload.len()
            + json_footprint(&record.data)
            + record.error.as_ref().map_or(0, String::len);
        record
    }

    /// Approximate memory held by the record, parsed JSON included (counted when made).
    pub fn approximate_bytes(&self) -> usize {
        self.footprint
    }

    /// The payload as text (lossy for binary), at most 4 KiB.
    pub fn payload_text(&self) -> Cow<'_, str> {
        String::from_utf8_lossy(&self.payload)
    }

    /// `data` for live clients: the parsed JSON, or the text of a non-JSON payload.
    pub fn live_data(&self) -> LiveData<'_> {
        let text = self.payload_text();
        if self.data.is_null() && text.trim() != "null" {
            LiveData::Text(text)
        } else {
            LiveData::Json(&self.data)
        }
    }
}

/// What live clients get as a message's `data`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum LiveData<'a> {
    /// The parsed JSON.
    Json(&'a Value),
    /// The payload as text.
    Text(Cow<'a, str>),
}

fn serialize_as_text<S: serde::Serializer>(
    payload: &Bytes,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&String::from_utf8_lossy(payload))
}

/// The first [`PAYLOAD_TEXT_LIMIT`] bytes of a payload, cut before a partial UTF-8 character:
/// shared with the MQTT buffer when the whole payload fits, copied when it is cut (a slice
/// would keep the whole buffer of a large payload alive).
pub fn payload_head(payload: &Bytes) -> Bytes {
    if payload.len() <= PAYLOAD_TEXT_LIMIT {
        return payload.clone();
    }
    let mut cut = PAYLOAD_TEXT_LIMIT;
    while cut > 0 && payload[cut] & 0xC0 == 0x80 {
        cut -= 1;
    }
    Bytes::copy_from_slice(&payload[..cut])
}

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
    pub fn recent(&self, limit: usize, filter: Option<&str>) -> Vec<Arc<MessageRecord>> {
        let ring = self.ring.lock();
        ring.records
            .iter()
            .rev()
            .filter(|record| filter.is_none_or(|f| matches_filter(f, &record.topic)))
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
    Arc::new(MessageRecord {
        topic: topic.to_owned(),
        timestamp: String::new(),
        valid: true,
        data: Arc::new(Value::Null),
        payload: Bytes::new(),
        error: None,
        retained: false,
        size: 0,
        footprint: 256,
    })
}

#[cfg(test)]
mod tests {
    use super::test_record as record;
    use super::*;

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
                Arc::new(Value::Null),
                Bytes::from("x".repeat(4000)),
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
        let long = Bytes::from("é".repeat(3000));
        let head = payload_head(&long);
        assert!(head.len() <= PAYLOAD_TEXT_LIMIT);
        let mut r = MessageRecord::clone(&record("t"));
        r.payload = head;
        assert!(r.payload_text().chars().all(|c| c == 'é'));
        r.payload = Bytes::from_static(&[0xff, b'a']);
        assert_eq!(r.payload_text(), "\u{fffd}a");
    }

    #[test]
    fn live_data_falls_back_to_text() {
        let mut r = MessageRecord::clone(&record("t"));
        r.payload = Bytes::from_static(b"online");
        assert_eq!(
            serde_json::to_value(r.live_data()).unwrap(),
            Value::String("online".into())
        );
        r.data = Arc::new(serde_json::json!({"on": true}));
        assert_eq!(serde_json::to_value(r.live_data()).unwrap()["on"], true);
    }
}
