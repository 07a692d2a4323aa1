//! Safe apply's words (CONTRACT §7): how long a change may be watched, and why a watched
//! change was undone.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The longest watch.
pub const MAX_WATCH_SECS: u64 = WatchSecs::MAX;

/// How long a change is watched after it is stored (CONTRACT §7): 0 (not watched) to 600
/// seconds. The one rule, and the one wording of it, for every face: REST's `?watch=`, a
/// `/set` envelope's and a change set's `watch`, `safe_apply_secs`, the GUI's setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default, Hash)]
pub struct WatchSecs(u64);

impl WatchSecs {
    /// The longest watch, in seconds.
    pub const MAX: u64 = 600;
    /// No watch.
    pub const OFF: Self = Self(0);
    /// The rule in words (a refusal says "must be" this).
    pub const RULE: &str = "a whole number of seconds from 0 (no watch) to 600";

    /// `secs`, when within the rule.
    pub fn new(secs: u64) -> Result<Self, String> {
        if secs > Self::MAX {
            return Err(format!("must be {}, not {secs}", Self::RULE));
        }
        Ok(Self(secs))
    }

    /// A JSON value, when it is a whole number within the rule.
    pub fn from_json(value: &Value) -> Result<Self, String> {
        value
            .as_u64()
            .ok_or_else(|| format!("must be {}, not {value}", Self::RULE))
            .and_then(Self::new)
    }

    /// Text (a query string's value), when it is a whole number within the rule.
    pub fn parse(text: &str) -> Result<Self, String> {
        text.trim()
            .parse::<u64>()
            .map_err(|_| format!("must be {}, not {text:?}", Self::RULE))
            .and_then(Self::new)
    }

    /// `secs`, brought within the rule (a value kept by an older version).
    pub fn clamped(secs: u64) -> Self {
        Self(secs.min(Self::MAX))
    }

    /// The seconds.
    pub fn secs(self) -> u64 {
        self.0
    }
}
/// Why a watched change was undone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RollbackReason {
    /// The service acked it with `"applied": false`.
    Refused,
    /// Its health turned `unhealthy` after the change.
    Unhealthy,
    /// A service that confirms its configs never acked it.
    Silent,
}

impl RollbackReason {
    /// The word on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Refused => "refused",
            Self::Unhealthy => "unhealthy",
            Self::Silent => "silent",
        }
    }
}

/// Checks a `watch` value (seconds) by [`WatchSecs`]'s rule.
pub fn check_watch(secs: u64) -> Result<u64, String> {
    WatchSecs::new(secs).map(WatchSecs::secs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_watch_is_0_to_600_seconds_said_the_same_way_everywhere() {
        assert_eq!(WatchSecs::new(0), Ok(WatchSecs::OFF));
        assert_eq!(WatchSecs::new(600).map(WatchSecs::secs), Ok(600));
        let refused = WatchSecs::new(601).unwrap_err();
        assert_eq!(
            refused,
            "must be a whole number of seconds from 0 (no watch) to 600, not 601"
        );
        assert_eq!(
            WatchSecs::from_json(&json!(30)).map(WatchSecs::secs),
            Ok(30)
        );
        for wrong in [json!(-1), json!(1.5), json!("30"), json!(null)] {
            let error = WatchSecs::from_json(&wrong).unwrap_err();
            assert!(error.starts_with("must be a whole number"), "{error}");
        }
        assert_eq!(WatchSecs::parse(" 45 ").map(WatchSecs::secs), Ok(45));
        assert!(
            WatchSecs::parse("a minute")
                .unwrap_err()
                .ends_with("not \"a minute\"")
        );
        assert_eq!(WatchSecs::clamped(9_999).secs(), 600);
        assert_eq!(check_watch(600), Ok(600));
    }
}
