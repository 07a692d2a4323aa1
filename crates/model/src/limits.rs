//! The sizes and counts the manager accepts (CONTRACT §6), in one place: per-topic payload
//! limits (a payload over its limit is refused unparsed), how much of a message the ring keeps,
//! the MQTT packet size, and the registries' counts.

use crate::topics::TopicKind;

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

/// Payloads larger than this are checked for density before they are parsed
/// ([`check_json_density`]).
pub const DENSITY_CHECKED_FROM: usize = RING_DATA_LIMIT;
/// The fewest bytes of JSON text per value a large payload may average: a parsed value takes
/// 72 bytes (an object's entry ~110), so text denser than this would take more than ~16 times
/// its size once parsed (CONTRACT §10's memory bound); real documents average 15 bytes or more.
pub const MIN_BYTES_PER_VALUE: usize = 6;

/// How many JSON values (and object entries) `text` holds, counted in one pass without
/// parsing: separators and openings outside strings.
pub fn json_value_count(text: &[u8]) -> usize {
    let mut count = 1;
    let mut in_string = false;
    let mut escaped = false;
    for &byte in text {
        if in_string {
            match (escaped, byte) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match byte {
            b'"' => in_string = true,
            b',' | b':' | b'[' | b'{' => count += 1,
            _ => {}
        }
    }
    count
}

/// Refuses a large payload whose JSON is too dense to be parsed within its memory budget
/// (CONTRACT §10): over [`DENSITY_CHECKED_FROM`] bytes and fewer than
/// [`MIN_BYTES_PER_VALUE`] bytes per value. The error says so.
pub fn check_json_density(text: &[u8]) -> Result<(), String> {
    if text.len() <= DENSITY_CHECKED_FROM {
        return Ok(());
    }
    let values = json_value_count(text);
    if values.saturating_mul(MIN_BYTES_PER_VALUE) > text.len() {
        return Err(format!(
            "the payload holds {values} JSON values in {} bytes: a payload over {} may average at least {MIN_BYTES_PER_VALUE} bytes per value (it would take too much memory to read)",
            text.len(),
            human_size(DENSITY_CHECKED_FROM)
        ));
    }
    Ok(())
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
    use crate::topics::Topics;

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

    #[test]
    fn dense_json_is_counted_and_refused_when_large() {
        assert_eq!(json_value_count(br#"{"a": [1, 2, {"b": "x,[:{"}]}"#), 8);
        assert_eq!(json_value_count(br#""\"a,b\"""#), 1);
        let dense = format!("[{}0]", "0,".repeat(100_000));
        let error = check_json_density(dense.as_bytes()).unwrap_err();
        assert!(error.contains("bytes per value"), "{error}");
        let words: Vec<String> = (0..20_000).map(|i| format!("word number {i}")).collect();
        let document =
            serde_json::to_vec(&serde_json::json!({"settings": {"words": words}})).unwrap();
        assert!(document.len() > DENSITY_CHECKED_FROM);
        assert!(check_json_density(&document).is_ok());
        assert!(
            check_json_density(b"[0,0,0,0]").is_ok(),
            "small payloads are not checked"
        );
    }
}
