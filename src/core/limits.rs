//! The sizes and counts the manager accepts (CONTRACT §6), in one place: per-topic payload
//! limits (a payload over its limit is refused unparsed), how much of a message the ring keeps,
//! the MQTT packet size, and the registries' counts.

use crate::core::mqtt::topics::TopicKind;

const KIB: usize = 1024;
const MIB: usize = 1024 * KIB;

/// Device state, availability, command results, service health and config acks.
pub const SMALL_PAYLOAD_LIMIT: usize = 64 * KIB;
/// A discovery announcement, with its settings schema.
pub const ANNOUNCEMENT_LIMIT: usize = 256 * KIB;
/// A config document: `PUT`, `/set`, a mirrored config (its JSON text).
pub const CONFIG_DOCUMENT_LIMIT: usize = MIB;
/// A change set, all documents together (CONTRACT §7).
pub const CHANGE_SET_LIMIT: usize = 8 * MIB;
/// The message ring keeps a payload's parsed JSON only up to this size (`null` beyond).
pub const RING_DATA_LIMIT: usize = 64 * KIB;
/// The largest packet the manager's MQTT client takes without dropping the connection; the
/// embedded broker refuses anything larger.
pub const MQTT_PACKET_LIMIT: usize = 16 * MIB;
/// The largest payload the embedded broker takes: a config document in a `/set` envelope, or a
/// follower's change set of up to 2 MiB. Larger packets are refused at the broker (the
/// publisher is disconnected), so that a flood cannot fill the broker's buffers, which live in
/// the manager's process; fleets whose followers send larger change sets use an outside broker.
pub const EMBEDDED_BROKER_PAYLOAD_LIMIT: usize = 2 * MIB;
/// Devices the registry holds at most, unless `ALICIA_MAX_DEVICES` says otherwise.
pub const DEFAULT_MAX_DEVICES: usize = 10_000;
/// Services discovery creates at most, unless `ALICIA_MAX_SERVICES` says otherwise (services
/// an admin creates are not counted against it).
pub const DEFAULT_MAX_SERVICES: usize = 1_000;

/// The payload limit of a topic (`None`: not a topic of the contract, held to the smallest).
pub fn payload_limit(kind: Option<TopicKind<'_>>) -> usize {
    match kind {
        Some(TopicKind::Discovery(_)) => ANNOUNCEMENT_LIMIT,
        Some(TopicKind::Config(_) | TopicKind::ConfigSet(_) | TopicKind::ChangesResult(_)) => {
            CONFIG_DOCUMENT_LIMIT
        }
        // The documents, and room for the envelope around them.
        Some(TopicKind::ChangesSet) => CHANGE_SET_LIMIT + SMALL_PAYLOAD_LIMIT,
        _ => SMALL_PAYLOAD_LIMIT,
    }
}

/// The length of `value` as compact JSON text, counted without building the text.
pub fn json_len(value: &serde_json::Value) -> usize {
    struct Counter(usize);
    impl std::io::Write for Counter {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0 += bytes.len();
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut counter = Counter(0);
    // Writing a `Value` to a writer that never fails cannot fail.
    let _ = serde_json::to_writer(&mut counter, value);
    counter.0
}

/// `64 KiB`, `1 MiB`, or bytes: a limit as people read it.
pub fn human_size(bytes: usize) -> String {
    if bytes.is_multiple_of(MIB) {
        format!("{} MiB", bytes / MIB)
    } else if bytes.is_multiple_of(KIB) {
        format!("{} KiB", bytes / KIB)
    } else {
        format!("{bytes} bytes")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::mqtt::topics::Topics;

    #[test]
    fn each_topic_has_its_limit() {
        let t = Topics::default();
        let limit = |topic: &str| payload_limit(t.classify(topic));
        assert_eq!(limit("alicia/device/d/state"), 64 * 1024);
        assert_eq!(limit("alicia/system/health/stt"), 64 * 1024);
        assert_eq!(limit("alicia/config/stt/ack"), 64 * 1024);
        assert_eq!(limit("alicia/system/discovery/stt"), 256 * 1024);
        assert_eq!(limit("alicia/config/stt"), 1024 * 1024);
        assert_eq!(limit("alicia/config/stt/set"), 1024 * 1024);
        assert_eq!(limit("alicia/elsewhere"), 64 * 1024);
        assert_eq!(human_size(CONFIG_DOCUMENT_LIMIT), "1 MiB");
        assert_eq!(human_size(SMALL_PAYLOAD_LIMIT), "64 KiB");
        let value = serde_json::json!({"a": [1, 2, {"b": "ü"}]});
        assert_eq!(json_len(&value), serde_json::to_vec(&value).unwrap().len());
    }
}
