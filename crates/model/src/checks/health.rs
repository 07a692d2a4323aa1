//! What the services report: an enabled service that is not reporting, a refused or long
//! pending config, another manager's clock off this one's.

use super::{Check, CheckKind, Severity, enabled};
use crate::status::{ConfigState, ServiceSummary};
use serde_json::Value;
use time::OffsetDateTime;

/// Managers must agree on the time within 60 s (CONTRACT §6): authority claims are judged by
/// their timestamps.
pub(super) fn clock_check(summary: &ServiceSummary, checks: &mut Vec<Check>) {
    let Some(skew) = summary
        .clock_skew_secs
        .filter(|s| s.abs() > CLOCK_TOLERANCE_SECS)
    else {
        return;
    };
    let name = &summary.service_name;
    let direction = if skew > 0 { "ahead of" } else { "behind" };
    checks.push(Check {
        id: format!("clock_skew:{name}"),
        kind: CheckKind::ClockSkew,
        severity: Severity::Warning,
        service: name.clone(),
        path: String::new(),
        message: format!(
            "the clock of manager {name} is {} s {direction} this manager's: managers must agree within {CLOCK_TOLERANCE_SECS} s (use NTP), or their authority claims are not believed",
            skew.abs()
        ),
        related: Vec::new(),
    });
}

/// How long a revision may stay `pending` before a check says so, in seconds.
const PENDING_TOLERANCE_SECS: i64 = 120;

/// "2 min", "3 h", "5 d": how long, roughly.
pub(super) fn human_duration(secs: i64) -> String {
    match secs {
        ..120 => format!("{secs} s"),
        120..7_200 => format!("{} min", secs / 60),
        7_200..172_800 => format!("{} h", secs / 3_600),
        _ => format!("{} d", secs / 86_400),
    }
}

/// The clock difference between managers a check tolerates, in seconds.
const CLOCK_TOLERANCE_SECS: i64 = 60;

pub(super) fn health_checks(
    summary: &ServiceSummary,
    document: &Value,
    now: OffsetDateTime,
    checks: &mut Vec<Check>,
) {
    let name = &summary.service_name;
    if enabled(document) && summary.stale {
        let message = match &summary.last_seen {
            Some(at) => format!("{name} is enabled but has not reported since {at}"),
            None => format!("{name} is enabled but has never reported its health"),
        };
        checks.push(Check {
            id: format!("stale:{name}"),
            kind: CheckKind::Stale,
            severity: Severity::Warning,
            service: name.clone(),
            path: "/enabled".to_owned(),
            message,
            related: Vec::new(),
        });
    }
    if let Some(since) = &summary.pending_since
        && let Some(at) = crate::clock::parse_rfc3339(since)
    {
        let waited = (now - at).whole_seconds();
        if waited >= PENDING_TOLERANCE_SECS {
            checks.push(Check {
                id: format!("pending_too_long:{name}"),
                kind: CheckKind::PendingTooLong,
                severity: Severity::Warning,
                service: name.clone(),
                path: String::new(),
                message: format!(
                    "{name} has not confirmed its current config (published {since}, {} ago): is it running, and subscribed to its config topic?",
                    human_duration(waited)
                ),
                related: Vec::new(),
            });
        }
    }
    if summary.config_state == ConfigState::Refused {
        let why = summary
            .config_error
            .as_deref()
            .unwrap_or("it gave no reason");
        checks.push(Check {
            id: format!("config_refused:{name}"),
            kind: CheckKind::ConfigRefused,
            severity: Severity::Error,
            service: name.clone(),
            path: "/config".to_owned(),
            message: format!("{name} refused its current config: {why}"),
            related: Vec::new(),
        });
    }
}
