//! Which MQTT messages a view shows — one rule for every face. REST's `?topic=` is an MQTT
//! topic filter (`+` and `#` wildcards; a topic without them matches itself) and so is the
//! `live:mqtt` filter of a remote GUI; the monitor's search box reads text with a wildcard as
//! such a filter and any other text as words to find, in any case, in the topic or the
//! payload.

use crate::messages::MessageRecord;
use crate::topics::{has_wildcard, is_valid_filter, matches_filter};

/// What a bad topic filter is refused with.
pub const BAD_FILTER: &str = "is not a valid MQTT topic filter (# must be last, + a whole level)";

/// A view's choice of messages.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum MessageFilter {
    /// Every message.
    #[default]
    All,
    /// Messages whose topic matches an MQTT topic filter.
    Topic(String),
    /// Messages whose topic or payload holds these words (lower case), in any case.
    Words(String),
}

impl MessageFilter {
    /// An MQTT topic filter (REST's `?topic=`, `live:mqtt`); empty: every message.
    pub fn topic(filter: &str) -> Result<Self, String> {
        let filter = filter.trim();
        if filter.is_empty() {
            Ok(Self::All)
        } else if is_valid_filter(filter) {
            Ok(Self::Topic(filter.to_owned()))
        } else {
            Err(BAD_FILTER.to_owned())
        }
    }

    /// The monitor's search box: text with `+` or `#` is a topic filter, other text words to
    /// find in the topic or the payload; empty: every message.
    pub fn search(text: &str) -> Result<Self, String> {
        let text = text.trim();
        if text.is_empty() {
            Ok(Self::All)
        } else if has_wildcard(text) {
            Self::topic(text)
        } else {
            Ok(Self::Words(text.to_lowercase()))
        }
    }

    /// True when `record` is shown.
    pub fn matches(&self, record: &MessageRecord) -> bool {
        match self {
            Self::All => true,
            Self::Topic(filter) => matches_filter(filter, &record.topic),
            Self::Words(words) => {
                record.topic.to_lowercase().contains(words)
                    || record.payload_text().to_lowercase().contains(words)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::messages::KeptPayload;

    fn message(topic: &str, payload: &str) -> MessageRecord {
        MessageRecord::new(
            topic,
            "2026-12-07T10:00:00.000Z".to_owned(),
            KeptPayload::payload(payload.as_bytes(), true),
            None,
            false,
            payload.len(),
        )
    }

    #[test]
    fn a_topic_filter_is_mqtt_and_a_search_also_finds_words() {
        let lamp = message("alicia/device/lamp/state", r#"{"power":"ON"}"#);
        let health = message("alicia/system/health/tts", r#"{"status":"healthy"}"#);
        let state = MessageFilter::topic("alicia/device/+/state").unwrap();
        assert!(state.matches(&lamp) && !state.matches(&health));
        // Without wildcards: the exact topic for REST, words for the search box.
        let exact = MessageFilter::topic("alicia/device/lamp").unwrap();
        assert!(!exact.matches(&lamp));
        let words = MessageFilter::search("LAMP").unwrap();
        assert!(words.matches(&lamp) && !words.matches(&health));
        assert!(MessageFilter::search("healthy").unwrap().matches(&health));
        assert_eq!(MessageFilter::search("  "), Ok(MessageFilter::All));
        assert_eq!(MessageFilter::topic("alicia/#/x").unwrap_err(), BAD_FILTER);
        assert_eq!(MessageFilter::search("alicia/#/x").unwrap_err(), BAD_FILTER);
    }
}
