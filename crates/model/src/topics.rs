//! The topic tree of CONTRACT §2 under a configurable prefix, in both directions: building
//! topics and recognising them.

/// Default topic prefix (`ALICIA_TOPIC_PREFIX`).
pub const DEFAULT_PREFIX: &str = "alicia";
/// The service name the manager uses for its own health topic.
pub const MANAGER_SERVICE_NAME: &str = "config-manager";

/// Builds and recognises topics under one prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Topics {
    prefix: String,
}

/// A recognised topic. Names are borrowed from the topic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TopicKind<'a> {
    /// `system/health/<service>`
    Health(&'a str),
    /// `system/health/config-manager/<instance_id>`: a follower manager's presence.
    FollowerPresence(&'a str),
    /// `system/discovery/<service>`
    Discovery(&'a str),
    /// `system/discovery/request`
    DiscoveryRequest,
    /// `config/<service>`
    Config(&'a str),
    /// `config/<service>/set`
    ConfigSet(&'a str),
    /// `config/<service>/error`
    ConfigError(&'a str),
    /// `config/<service>/ack`
    ConfigAck(&'a str),
    /// `config/<service>/schema`: the settings schema the authority enforces (CONTRACT §9).
    ConfigSchema(&'a str),
    /// `config/<service>/result/<request_id>`: the authority stored a `/set` (CONTRACT §10).
    ConfigResult(&'a str, &'a str),
    /// `device/<id>/state`
    DeviceState(&'a str),
    /// `device/<id>/availability`
    DeviceAvailability(&'a str),
    /// `device/<id>/command`
    DeviceCommand(&'a str),
    /// `device/<id>/command/result`
    DeviceCommandResult(&'a str),
    /// `system/changes/set`: a follower's change set for the authority (CONTRACT §7).
    ChangesSet,
    /// `system/changes/result/<request_id>`: the authority's answer to a change set.
    ChangesResult(&'a str),
    /// `ha/<service>/enabled/set`: Home Assistant switches a service (CONTRACT §8).
    HaCommand(&'a str),
    /// `ha/…` otherwise: a state this manager publishes for Home Assistant.
    HaState,
}

impl Topics {
    /// Topics under `prefix` (without a trailing slash).
    pub fn new(prefix: &str) -> Self {
        Self {
            prefix: prefix.trim_end_matches('/').to_owned(),
        }
    }

    /// The topic prefix, without a trailing slash.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// The filters the manager subscribes to: the seed's four, then change sets and their
    /// answers (CONTRACT §7: the authority takes sets, a follower hears their answers, and a
    /// manager can hold either role in turn), then Home Assistant's switch commands (§8;
    /// ignored while discovery is off).
    pub fn subscriptions(&self) -> [String; 7] {
        let p = &self.prefix;
        [
            format!("{p}/system/health/#"),
            format!("{p}/system/discovery/#"),
            format!("{p}/config/#"),
            format!("{p}/device/#"),
            format!("{p}/system/changes/set"),
            format!("{p}/system/changes/result/+"),
            format!("{p}/ha/+/enabled/set"),
        ]
    }

    /// `system/changes/set`.
    pub fn changes_set(&self) -> String {
        format!("{}/system/changes/set", self.prefix)
    }

    /// `system/changes/result/<request_id>`.
    pub fn changes_result(&self, request_id: &str) -> String {
        format!("{}/system/changes/result/{request_id}", self.prefix)
    }

    /// `system/health/<service>`.
    pub fn health(&self, service: &str) -> String {
        format!("{}/system/health/{service}", self.prefix)
    }

    /// The manager's own health topic (also its Last Will).
    pub fn manager_health(&self) -> String {
        self.health(MANAGER_SERVICE_NAME)
    }

    /// `system/discovery/<service>`.
    pub fn discovery(&self, service: &str) -> String {
        format!("{}/system/discovery/{service}", self.prefix)
    }

    /// `system/discovery/request`.
    pub fn discovery_request(&self) -> String {
        format!("{}/system/discovery/request", self.prefix)
    }

    /// `config/<service>`.
    pub fn config(&self, service: &str) -> String {
        format!("{}/config/{service}", self.prefix)
    }

    /// `config/<service>/set`.
    pub fn config_set(&self, service: &str) -> String {
        format!("{}/config/{service}/set", self.prefix)
    }

    /// `config/<service>/error`.
    pub fn config_error(&self, service: &str) -> String {
        format!("{}/config/{service}/error", self.prefix)
    }

    /// `config/<service>/schema`.
    pub fn config_schema(&self, service: &str) -> String {
        format!("{}/config/{service}/schema", self.prefix)
    }

    /// `config/<service>/result/<request_id>`.
    pub fn config_result(&self, service: &str, request_id: &str) -> String {
        format!("{}/config/{service}/result/{request_id}", self.prefix)
    }

    /// `config/<service>/ack`.
    pub fn config_ack(&self, service: &str) -> String {
        format!("{}/config/{service}/ack", self.prefix)
    }

    /// `device/<id>/state`.
    pub fn device_state(&self, id: &str) -> String {
        format!("{}/device/{id}/state", self.prefix)
    }

    /// `device/<id>/availability`.
    pub fn device_availability(&self, id: &str) -> String {
        format!("{}/device/{id}/availability", self.prefix)
    }

    /// `device/<id>/command`.
    pub fn device_command(&self, id: &str) -> String {
        format!("{}/device/{id}/command", self.prefix)
    }

    /// `device/<id>/command/result`.
    pub fn device_command_result(&self, id: &str) -> String {
        format!("{}/device/{id}/command/result", self.prefix)
    }

    /// True for a topic only the manager writes (CONTRACT §6, §10): its presence (and its
    /// followers'), `config/<service>`, `config/<service>/error`, `config/<service>/schema`
    /// and `config/<service>/result/…`,
    /// `system/changes/result/…`, and the states it publishes for Home Assistant under `ha/`
    /// (§8). Anyone may write `config/<service>/set` and `ha/<service>/enabled/set`.
    pub fn is_owned_by_manager(&self, topic: &str) -> bool {
        match self.classify(topic) {
            Some(
                TopicKind::Config(_)
                | TopicKind::ConfigError(_)
                | TopicKind::ConfigSchema(_)
                | TopicKind::ConfigResult(..)
                | TopicKind::FollowerPresence(_)
                | TopicKind::ChangesResult(_)
                | TopicKind::HaState,
            ) => true,
            Some(TopicKind::Health(service)) => service == MANAGER_SERVICE_NAME,
            Some(_) => false,
            None => {
                let Some(rest) = topic
                    .strip_prefix(&self.prefix)
                    .and_then(|rest| rest.strip_prefix('/'))
                else {
                    return false;
                };
                let levels: Vec<&str> = rest.split('/').collect();
                matches!(levels.as_slice(), ["system", "changes", "result", ..])
            }
        }
    }

    /// True when `topic` lies under the prefix (`prefix/…`).
    pub fn is_under_prefix(&self, topic: &str) -> bool {
        topic
            .strip_prefix(&self.prefix)
            .is_some_and(|rest| rest.starts_with('/') && rest.len() > 1)
    }

    /// Recognises a topic of the contract; `None` for anything else.
    pub fn classify<'a>(&self, topic: &'a str) -> Option<TopicKind<'a>> {
        let rest = topic.strip_prefix(&self.prefix)?.strip_prefix('/')?;
        let levels: Vec<&'a str> = rest.split('/').collect();
        let kind = match levels.as_slice() {
            ["system", "health", service] => TopicKind::Health(service),
            ["system", "health", MANAGER_SERVICE_NAME, id] => TopicKind::FollowerPresence(id),
            ["system", "discovery", "request"] => TopicKind::DiscoveryRequest,
            ["system", "changes", "set"] => TopicKind::ChangesSet,
            ["system", "changes", "result", id] => TopicKind::ChangesResult(id),
            ["ha", service, "enabled", "set"] => TopicKind::HaCommand(service),
            ["ha", ..] => TopicKind::HaState,
            ["system", "discovery", service] => TopicKind::Discovery(service),
            ["config", service] => TopicKind::Config(service),
            ["config", service, "set"] => TopicKind::ConfigSet(service),
            ["config", service, "error"] => TopicKind::ConfigError(service),
            ["config", service, "ack"] => TopicKind::ConfigAck(service),
            ["config", service, "schema"] => TopicKind::ConfigSchema(service),
            ["config", service, "result", id] => TopicKind::ConfigResult(service, id),
            ["device", id, "state"] => TopicKind::DeviceState(id),
            ["device", id, "availability"] => TopicKind::DeviceAvailability(id),
            ["device", id, "command"] => TopicKind::DeviceCommand(id),
            ["device", id, "command", "result"] => TopicKind::DeviceCommandResult(id),
            _ => return None,
        };
        Some(kind)
    }
}

impl Default for Topics {
    fn default() -> Self {
        Self::new(DEFAULT_PREFIX)
    }
}

/// The naming rule of a `service_name`, in words (every face says it this way).
pub const SERVICE_NAME_RULE: &str =
    "1 to 64 lowercase letters, digits, - and _, starting with a letter or digit";

/// Why `name` cannot be a `service_name` (it becomes a topic level): [`SERVICE_NAME_RULE`].
pub fn check_service_name(name: &str) -> Result<(), String> {
    if is_valid_service_name(name) {
        Ok(())
    } else {
        Err(format!(
            "{name:?} is not a valid service name ({SERVICE_NAME_RULE})"
        ))
    }
}

/// A valid `service_name`: `^[a-z0-9][a-z0-9_-]{0,63}$`.
pub fn is_valid_service_name(name: &str) -> bool {
    let bytes = name.as_bytes();
    !bytes.is_empty()
        && bytes.len() <= 64
        && (bytes[0].is_ascii_lowercase() || bytes[0].is_ascii_digit())
        && bytes
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'_' || *b == b'-')
}

/// A valid device id: 1–128 of `A-Za-z0-9_-:.`.
pub fn is_valid_device_id(id: &str) -> bool {
    (1..=128).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b':' | b'.'))
}

/// True when `topic` contains an MQTT wildcard (`+` or `#`).
pub fn has_wildcard(topic: &str) -> bool {
    topic.contains(['+', '#'])
}

/// True for a usable MQTT topic filter: not empty, `#` only as the whole last level, `+` only
/// as a whole level (MQTT 3.1.1 §4.7). The one rule every face applies to a filter it is given.
pub fn is_valid_filter(filter: &str) -> bool {
    if filter.is_empty() {
        return false;
    }
    let levels: Vec<&str> = filter.split('/').collect();
    levels.iter().enumerate().all(|(index, level)| {
        let multi = level.contains('#');
        let single = level.contains('+');
        (!multi || (*level == "#" && index == levels.len() - 1)) && (!single || *level == "+")
    })
}

/// MQTT filter matching: `+` is one level, a final `#` is any number of levels (zero too);
/// a topic starting with `$` is matched by no filter that starts with a wildcard (MQTT 3.1.1
/// §4.7.2). The filter is not checked here: see [`is_valid_filter`].
pub fn matches_filter(filter: &str, topic: &str) -> bool {
    if topic.starts_with('$') && filter.starts_with(['+', '#']) {
        return false;
    }
    let mut topic_levels = topic.split('/');
    for level in filter.split('/') {
        if level == "#" {
            return true;
        }
        match topic_levels.next() {
            Some(part) if level == "+" || level == part => {}
            _ => return false,
        }
    }
    topic_levels.next().is_none()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_and_classifies_every_topic() {
        let t = Topics::new("alicia");
        let cases = [
            (t.health("stt"), TopicKind::Health("stt")),
            (t.discovery("stt"), TopicKind::Discovery("stt")),
            (t.discovery_request(), TopicKind::DiscoveryRequest),
            (t.config("stt"), TopicKind::Config("stt")),
            (t.config_set("stt"), TopicKind::ConfigSet("stt")),
            (t.config_error("stt"), TopicKind::ConfigError("stt")),
            (t.config_schema("stt"), TopicKind::ConfigSchema("stt")),
            (t.config_ack("stt"), TopicKind::ConfigAck("stt")),
            (t.device_state("d1"), TopicKind::DeviceState("d1")),
            (
                t.device_availability("d1"),
                TopicKind::DeviceAvailability("d1"),
            ),
            (t.device_command("d1"), TopicKind::DeviceCommand("d1")),
            (
                t.device_command_result("d1"),
                TopicKind::DeviceCommandResult("d1"),
            ),
        ];
        for (topic, kind) in cases {
            assert_eq!(t.classify(&topic), Some(kind), "{topic}");
        }
        assert_eq!(t.classify("alicia/config/a/b/c"), None);
        assert_eq!(t.classify("other/config/a"), None);
        assert_eq!(t.classify("aliciaX/config/a"), None);
    }

    #[test]
    fn a_custom_prefix_is_honoured() {
        let t = Topics::new("home/alicia/");
        assert_eq!(t.config("x"), "home/alicia/config/x");
        assert_eq!(t.subscriptions()[3], "home/alicia/device/#");
        assert!(t.is_under_prefix("home/alicia/anything"));
        assert!(!t.is_under_prefix("home/aliciax/anything"));
        assert!(!t.is_under_prefix("home/alicia/"));
    }

    #[test]
    fn wildcard_matching() {
        assert!(matches_filter("alicia/#", "alicia/device/a/state"));
        assert!(matches_filter("alicia/#", "alicia"));
        assert!(matches_filter(
            "alicia/device/+/state",
            "alicia/device/a/state"
        ));
        assert!(!matches_filter(
            "alicia/device/+/state",
            "alicia/device/a/b/state"
        ));
        assert!(!matches_filter("alicia/device/+", "alicia/device"));
        assert!(matches_filter("#", "anything/at/all"));
        assert!(matches_filter("a/b", "a/b"));
        assert!(!matches_filter("a/b", "a/b/c"));
    }

    #[test]
    fn the_managers_own_topics_are_known() {
        let t = Topics::default();
        for owned in [
            "alicia/config/stt",
            "alicia/config/stt/error",
            "alicia/config/stt/schema",
            "alicia/system/health/config-manager",
            "alicia/system/health/config-manager/f0110we7",
            "alicia/system/changes/result/r-1",
        ] {
            assert!(t.is_owned_by_manager(owned), "{owned}");
        }
        for free in [
            "alicia/config/stt/set",
            "alicia/config/stt/ack",
            "alicia/system/health/stt",
            "alicia/system/changes/set",
            "alicia/device/d1/state",
            "alicia/anything/else",
        ] {
            assert!(!t.is_owned_by_manager(free), "{free}");
        }
    }

    #[test]
    fn filters_are_checked_as_mqtt_says() {
        assert!(is_valid_filter("alicia/#"));
        assert!(is_valid_filter("alicia/+/state"));
        assert!(is_valid_filter("#"));
        assert!(!is_valid_filter("alicia/#/x"));
        assert!(!is_valid_filter("alicia/a+"));
        assert!(!is_valid_filter(""));
    }

    #[test]
    fn names_and_ids() {
        assert!(is_valid_service_name("whisper-service"));
        assert!(is_valid_service_name("0_a"));
        assert!(!is_valid_service_name("Whisper"));
        assert!(!is_valid_service_name("-a"));
        assert!(!is_valid_service_name(&"a".repeat(65)));
        assert_eq!(
            check_service_name("Whisper").unwrap_err(),
            "\"Whisper\" is not a valid service name (1 to 64 lowercase letters, digits, - and _, starting with a letter or digit)"
        );
        assert!(is_valid_device_id("zigbee:0x00158d.1_a-B"));
        assert!(!is_valid_device_id(""));
        assert!(!is_valid_device_id("a b"));
        assert!(!is_valid_device_id(&"a".repeat(129)));
    }

    #[test]
    fn filters_are_checked_and_matched_as_mqtt_does() {
        for good in ["a/b", "a/+/c", "a/#", "#", "+", "+/+", "/a"] {
            assert!(is_valid_filter(good), "{good}");
        }
        for bad in ["", "a/#/c", "a#", "a/b+", "#/a"] {
            assert!(!is_valid_filter(bad), "{bad}");
        }
        assert!(matches_filter("a/+/c", "a/b/c"));
        assert!(!matches_filter("a/+/c", "a/b/d"));
        assert!(matches_filter("a/#", "a"), "# is zero levels too");
        assert!(matches_filter("a/#", "a/b/c"));
        assert!(!matches_filter("a/b", "a/b/c"));
        assert!(!matches_filter("a/b/c", "a/b"));
        assert!(matches_filter("+", ""), "one empty level");
        assert!(!matches_filter("#", "$SYS/uptime"));
        assert!(matches_filter("$SYS/#", "$SYS/uptime"));
        assert!(has_wildcard("a/+") && has_wildcard("#") && !has_wildcard("a/b"));
    }
}
