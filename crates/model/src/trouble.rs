//! Which service is in trouble (CONTRACT §10), one rule for every face — the GUI's cards,
//! tiles and badges, the REST overview, Home Assistant's problem sensor and the metrics: a
//! service is in trouble when it is enabled and is unhealthy, stale, or has refused its current
//! revision. A document without `enabled` counts as enabled (the schema requires the field;
//! only documents stored by v1 lack it), and so does a service without a document. Its reason
//! is what its last health report says: `details.reason`, else `details.error`, else
//! `details.message`.

use crate::payloads::HealthStatus;
use crate::status::ConfigState;
use serde_json::{Map, Value};

/// The longest reason kept, in characters (a reason is a short line, not a log).
pub const REASON_LIMIT: usize = 200;

/// Whether a service document is enabled: its `enabled`, true when it has none.
pub fn is_enabled(document: Option<&Value>) -> bool {
    document
        .and_then(|d| d.get("enabled"))
        .and_then(Value::as_bool)
        .unwrap_or(true)
}

/// What the rule looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TroubleFacts {
    /// The service is enabled ([`is_enabled`]).
    pub enabled: bool,
    /// Its reported health (`unknown` when stale or never heard from).
    pub status: HealthStatus,
    /// It has not reported within the health TTL (or never has).
    pub stale: bool,
    /// Whether it runs its current revision.
    pub config_state: ConfigState,
}

impl TroubleFacts {
    /// True when the service is in trouble.
    pub fn in_trouble(&self) -> bool {
        self.enabled
            && (self.status == HealthStatus::Unhealthy
                || self.stale
                || self.config_state == ConfigState::Refused)
    }
}

/// Why a service says it is unwell: its report's `details.reason`, else `details.error`,
/// else `details.message` (a non-empty string, cut at [`REASON_LIMIT`] characters).
pub fn reason_of(details: Option<&Map<String, Value>>) -> Option<String> {
    let details = details?;
    ["reason", "error", "message"].iter().find_map(|key| {
        let text = details.get(*key)?.as_str()?.trim();
        if text.is_empty() {
            return None;
        }
        let mut shown: String = text.chars().take(REASON_LIMIT).collect();
        if text.chars().count() > REASON_LIMIT {
            shown.push('…');
        }
        Some(shown)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn facts(enabled: bool, status: HealthStatus, stale: bool, state: ConfigState) -> bool {
        TroubleFacts {
            enabled,
            status,
            stale,
            config_state: state,
        }
        .in_trouble()
    }

    #[test]
    fn trouble_is_unhealthy_stale_or_refused_while_enabled() {
        use ConfigState::{Applied, Refused};
        use HealthStatus::{Healthy, Unhealthy, Unknown};
        assert!(!facts(true, Healthy, false, Applied));
        assert!(facts(true, Unhealthy, false, Applied));
        assert!(facts(true, Unknown, true, Applied));
        assert!(facts(true, Healthy, false, Refused));
        assert!(
            !facts(false, Unhealthy, true, Refused),
            "a switched-off service is never in trouble"
        );
        assert!(is_enabled(Some(&json!({"service_name": "v1-era"}))));
        assert!(!is_enabled(Some(&json!({"enabled": false}))));
        assert!(is_enabled(None));
    }

    #[test]
    fn the_reason_is_reason_else_error_else_message() {
        let details = |v: Value| v.as_object().cloned();
        assert_eq!(
            reason_of(
                details(json!({"reason": "model server not responding", "error": "x"})).as_ref()
            ),
            Some("model server not responding".to_owned())
        );
        assert_eq!(
            reason_of(details(json!({"reason": " ", "error": "GPU out of memory"})).as_ref()),
            Some("GPU out of memory".to_owned())
        );
        assert_eq!(
            reason_of(details(json!({"message": "restarting"})).as_ref()),
            Some("restarting".to_owned())
        );
        assert_eq!(reason_of(details(json!({"reason": 7})).as_ref()), None);
        assert_eq!(reason_of(None), None);
        let long = reason_of(details(json!({"reason": "x".repeat(500)})).as_ref()).unwrap();
        assert_eq!(long.chars().count(), REASON_LIMIT + 1);
    }
}
