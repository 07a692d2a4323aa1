//! The message log: a bounded ring of the most recent MQTT messages, for the monitor and
//! `GET /api/system/messages`. Secrets are masked before a record is made.

use crate::limits::RING_DATA_LIMIT;
use crate::mqtt::topics::matches_filter;
use bytes::Bytes;
use parking_lot::Mutex;
use serde::Serialize;
use serde_json::Value;
use serde_json::value::RawValue;
use std::borrow::Cow;
use std::collections::VecDeque;
use std::sync::Arc;

/// Default number of messages kept.
pub const DEFAULT_MESSAGE_LOG_CAPACITY: usize = 10_000;
/// Payload text kept per message.
pub const PAYLOAD_TEXT_LIMIT: usize = 4096;
/// Memory the ring may hold, roughly: a flood of large messages evicts old ones sooner. A
/// household's 10,000 device states (about 450 bytes each as kept) fit with room to spare;
/// a flood of larger messages (the shared bench's echoes of a 1 KiB config: 8,571 fit) sends
/// the oldest out sooner (issue 21).
pub const DEFAULT_MESSAGE_LOG_BYTES: usize = 8 * 1024 * 1024;

/// What a record keeps of its payload, compactly: JSON as its text (parsed again when `data`
/// is asked for), anything else as an excerpt. A parsed `serde_json::Value` takes 3–5 times
/// its text, and the ring, the desktop app's monitor and its topic tree hold tens of thousands
/// of records under a flood.
#[derive(Debug, Clone)]
pub enum KeptPayload {
    /// The whole JSON text of a payload of at most 64 KiB that parses (CONTRACT §6: such a
    /// message keeps its `data`), secrets already masked.
    Json(Box<RawValue>),
    /// The first [`PAYLOAD_TEXT_LIMIT`] bytes of anything else (no `data`).
    Excerpt(Bytes),
}

impl KeptPayload {
    /// What to keep of `payload`: its JSON text when `is_json` (it parsed) and it is at most
    /// [`RING_DATA_LIMIT`] bytes, else its excerpt. The text is copied, so the record never
    /// holds on to the MQTT client's read buffer.
    pub fn payload(payload: &[u8], is_json: bool) -> Self {
        if is_json
            && payload.len() <= RING_DATA_LIMIT
            && let Ok(raw) = serde_json::from_slice::<Box<RawValue>>(payload)
        {
            return Self::Json(raw);
        }
        Self::Excerpt(payload_head(payload))
    }

    /// A parsed value as kept (a masked document, rendered again).
    pub fn value(value: &Value) -> Self {
        match serde_json::value::to_raw_value(value) {
            Ok(raw) if raw.get().len() <= RING_DATA_LIMIT => Self::Json(raw),
            Ok(raw) => Self::Excerpt(payload_head(raw.get().as_bytes())),
            Err(_) => Self::Excerpt(Bytes::new()),
        }
    }

    /// A fixed text kept instead of the payload (it must not be shown).
    pub fn text(text: &'static str) -> Self {
        Self::Excerpt(Bytes::from_static(text.as_bytes()))
    }

    fn len(&self) -> usize {
        match self {
            Self::Json(raw) => raw.get().len(),
            Self::Excerpt(bytes) => bytes.len(),
        }
    }
}

impl PartialEq for KeptPayload {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Self::Json(a), Self::Json(b)) => a.get() == b.get(),
            (Self::Excerpt(a), Self::Excerpt(b)) => a == b,
            _ => false,
        }
    }
}

/// One MQTT message as kept in the ring.
#[derive(Debug, Clone, PartialEq)]
pub struct MessageRecord {
    /// The topic it arrived on.
    pub topic: String,
    /// When it arrived (RFC 3339).
    pub timestamp: String,
    /// False when it did not parse or had the wrong shape.
    pub valid: bool,
    /// What is kept of its payload.
    pub kept: KeptPayload,
    /// Why it is invalid.
    pub error: Option<String>,
    /// True when the broker delivered it as a retained message.
    pub retained: bool,
    /// Size of the whole payload in bytes.
    pub size: usize,
    /// What it holds in memory, roughly (see [`MessageRecord::approximate_bytes`]).
    pub footprint: usize,
}

/// A record as `GET /api/system/messages` answers it.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = MessageRecord)]
pub struct MessageView<'a> {
    /// The topic it arrived on.
    pub topic: &'a str,
    /// When it arrived (RFC 3339).
    pub timestamp: &'a str,
    /// False when it did not parse or had the wrong shape.
    pub valid: bool,
    /// The parsed JSON (payloads up to 64 KiB), or `null`.
    #[schema(value_type = Value)]
    pub data: Value,
    /// The payload's first 4 KiB as text (lossy for binary; secrets masked).
    #[schema(value_type = String)]
    pub payload: Cow<'a, str>,
    /// Why it is invalid.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<&'a str>,
}

impl Serialize for MessageRecord {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        MessageView {
            topic: &self.topic,
            timestamp: &self.timestamp,
            valid: self.valid,
            data: self.data(),
            payload: self.payload_text(),
            error: self.error.as_deref(),
        }
        .serialize(serializer)
    }
}

impl MessageRecord {
    /// A record of a message of `size` bytes, its memory counted once.
    pub fn new(
        topic: &str,
        timestamp: String,
        kept: KeptPayload,
        error: Option<String>,
        retained: bool,
        size: usize,
    ) -> Self {
        let footprint = RECORD_OVERHEAD
            + topic.len()
            + timestamp.len()
            + kept.len()
            + error.as_ref().map_or(0, String::len);
        Self {
            topic: topic.to_owned(),
            timestamp,
            valid: error.is_none(),
            kept,
            error,
            retained,
            size,
            footprint,
        }
    }

    /// Approximate memory held by the record (counted when made).
    pub fn approximate_bytes(&self) -> usize {
        self.footprint
    }

    /// The parsed JSON of a payload of at most 64 KiB, or `null` (parsed on each call: keep
    /// the result when it is needed more than once).
    pub fn data(&self) -> Value {
        match &self.kept {
            KeptPayload::Json(raw) => serde_json::from_str(raw.get()).unwrap_or(Value::Null),
            KeptPayload::Excerpt(_) => Value::Null,
        }
    }

    /// True when the payload was JSON kept whole (its `data` is not `null`, unless it was
    /// the JSON `null`).
    pub fn has_data(&self) -> bool {
        matches!(self.kept, KeptPayload::Json(_))
    }

    /// The payload as text (lossy for binary), at most 4 KiB.
    pub fn payload_text(&self) -> Cow<'_, str> {
        match &self.kept {
            KeptPayload::Json(raw) => Cow::Borrowed(text_head(raw.get())),
            KeptPayload::Excerpt(bytes) => String::from_utf8_lossy(bytes),
        }
    }

    /// `data` for live clients: the JSON text as it is kept, or the text of anything else.
    pub fn live_data(&self) -> LiveData<'_> {
        match &self.kept {
            KeptPayload::Json(raw) => LiveData::Json(raw),
            KeptPayload::Excerpt(bytes) => LiveData::Text(String::from_utf8_lossy(bytes)),
        }
    }
}

/// What a record costs besides its texts: the record and its `Arc`, the allocations of its
/// strings and the ring's slot, with the allocator's rounding.
const RECORD_OVERHEAD: usize = 256;

/// What live clients get as a message's `data`.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum LiveData<'a> {
    /// The JSON, as kept.
    Json(&'a RawValue),
    /// The payload as text.
    Text(Cow<'a, str>),
}

/// The first [`PAYLOAD_TEXT_LIMIT`] bytes of a text, cut before a partial UTF-8 character.
fn text_head(text: &str) -> &str {
    if text.len() <= PAYLOAD_TEXT_LIMIT {
        return text;
    }
    let mut cut = PAYLOAD_TEXT_LIMIT;
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    &text[..cut]
}

/// The first [`PAYLOAD_TEXT_LIMIT`] bytes of a payload, cut before a partial UTF-8 character,
/// copied (a slice would keep the MQTT client's whole read buffer alive).
pub fn payload_head(payload: &[u8]) -> Bytes {
    let mut cut = payload.len().min(PAYLOAD_TEXT_LIMIT);
    while cut > 0 && cut < payload.len() && payload[cut] & 0xC0 == 0x80 {
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
    Arc::new(MessageRecord::new(
        topic,
        String::new(),
        KeptPayload::Excerpt(Bytes::new()),
        None,
        false,
        0,
    ))
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
