//! One MQTT message as the message log keeps it and every face shows it (CONTRACT §3
//! `GET /api/system/messages`, the `mqtt:message` event, the desktop's monitor).

use crate::limits::RING_DATA_LIMIT;
use bytes::Bytes;
use serde::Serialize;
use serde_json::Value;
use serde_json::value::RawValue;
use std::borrow::Cow;

/// Payload text kept per message.
pub const PAYLOAD_TEXT_LIMIT: usize = 4096;
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
pub const RECORD_OVERHEAD: usize = 256;

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
