//! Checks across services: problems no single document's schema can see. Computed from the
//! stored documents and the live service summaries each time they are asked for (a few
//! microseconds for a household's fleet), so they are always current: `GET
//! /api/system/checks` and the GUI's checks list show the same list.
//!
//! What is checked (decided here; the contract is silent):
//! - an enabled voice router names its `stt_service`, `tts_service` and `llm_service` in
//!   `config.settings`, and each names a configured, enabled service of that type;
//! - languages agree along that chain: the router's `config.language` and its targets' (by
//!   primary subtag, so `en` and `en-US` agree); without a router language, STT and TTS
//!   must agree with each other;
//! - no two enabled services listen on the same host and port (`localhost`, `127.0.0.1`
//!   and `::1` are one host; UDP and TCP ports are apart);
//! - an enabled service that has not reported within the health TTL (or never has);
//! - a service that refused its current config (its `/ack` says so);
//! - another manager whose clock is more than 60 s off this one's (CONTRACT §6);
//! - a subscription of this manager's that the broker refused (CONTRACT §9);
//! - a stored document the rules refuse now (an empty `provider`, the name `changes`, over
//!   1 MiB: stored by v1), which is served as it is until changed (CONTRACT §9).

mod chain;
mod documents;
mod health;
mod ports;

use crate::config::change::Snapshot;
use crate::config::service_type::ServiceType;
use crate::config::settings_schemas::Schemas;
use crate::status::ServiceSummary;
use chain::router_checks;
use documents::{schema_pending, stored_invalid};
use health::{clock_check, health_checks};
use ports::port_clashes;
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;
use time::OffsetDateTime;

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Something is broken now.
    Error,
    /// Something looks wrong or will break.
    Warning,
}

/// What kind of problem.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CheckKind {
    /// A voice router names no service, or one that is missing, disabled or of another type.
    RouterTarget,
    /// Two services along a voice router's chain speak different languages.
    LanguageMismatch,
    /// Two services on the same host and port.
    PortClash,
    /// An enabled service that is not reporting.
    Stale,
    /// A service refused its current config.
    ConfigRefused,
    /// Another manager's clock disagrees with this one's by more than 60 s.
    ClockSkew,
    /// The broker refused one of this manager's subscriptions (CONTRACT §9).
    SubscriptionRefused,
    /// A service has not confirmed its current revision for 120 s (CONTRACT §9).
    PendingTooLong,
    /// A settings schema waits for an admin (CONTRACT §9, §10): the stored settings fail it,
    /// it differs from the one enforced, or it would take the patterns over their limit.
    SettingsSchemaPending,
    /// A stored document that this version's rules refuse (stored before them): served as it
    /// is, refused only when changed (CONTRACT §9).
    StoredInvalid,
}

/// One finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Check {
    /// Stable while the problem lasts (kind, service and field).
    pub id: String,
    /// What kind of problem.
    pub kind: CheckKind,
    /// How bad.
    pub severity: Severity,
    /// The service whose document holds the field to fix.
    pub service: String,
    /// JSON Pointer of that field in the document (`""`: the whole document).
    pub path: String,
    /// A sentence for the admin.
    pub message: String,
    /// The other services involved.
    pub related: Vec<String>,
}

/// Every finding at `now`, errors first, then by service and field.
pub fn run_checks(
    snapshot: &Snapshot,
    services: &[ServiceSummary],
    schemas: &Schemas,
    now: OffsetDateTime,
) -> Vec<Check> {
    let documents: BTreeMap<&str, &Value> = snapshot
        .documents
        .iter()
        .map(|(name, stored)| (name.as_str(), &*stored.document))
        .collect();
    let mut checks = Vec::new();
    for (name, document) in &documents {
        if enabled(document) && service_type(document) == Some(ServiceType::VoiceRouter) {
            router_checks(name, document, &documents, &mut checks);
        }
    }
    port_clashes(&documents, &mut checks);
    for (name, document) in &documents {
        let record = schemas.get(*name);
        stored_invalid(name, document, record, &mut checks);
        if let Some(record) = record {
            schema_pending(name, document, record, schemas, &mut checks);
        }
    }
    for summary in services {
        clock_check(summary, &mut checks);
        let Some(document) = documents.get(summary.service_name.as_str()) else {
            continue;
        };
        health_checks(summary, document, now, &mut checks);
    }
    sort_checks(&mut checks);
    checks
}

/// Errors first, then by service and field.
pub fn sort_checks(checks: &mut [Check]) {
    checks.sort_by(|a, b| {
        (a.severity, &a.service, &a.path, a.kind).cmp(&(b.severity, &b.service, &b.path, b.kind))
    });
}

/// Findings about this manager itself: each subscription the broker refused (its topics
/// never arrive).
pub fn manager_checks(subscriptions_refused: &[String]) -> Vec<Check> {
    subscriptions_refused
        .iter()
        .map(|filter| Check {
            id: format!("subscription_refused:{filter}"),
            kind: CheckKind::SubscriptionRefused,
            severity: Severity::Error,
            service: crate::topics::MANAGER_SERVICE_NAME.to_owned(),
            path: String::new(),
            message: format!(
                "the MQTT broker refused this manager's subscription to {filter}: nothing on those topics arrives (give its login the right to read them)"
            ),
            related: Vec::new(),
        })
        .collect()
}

/// Whether a document is enabled, by CONTRACT §10's one reading
/// ([`crate::trouble::is_enabled`]: a document without `enabled` is enabled).
fn enabled(document: &Value) -> bool {
    crate::trouble::is_enabled(Some(document))
}

fn service_type(document: &Value) -> Option<ServiceType> {
    document
        .get("service_type")
        .and_then(Value::as_str)
        .and_then(ServiceType::parse)
}

#[cfg(test)]
mod tests {
    use super::ports::split_host;

    #[test]
    fn hosts_are_read_from_urls_and_loopback_is_one_host() {
        assert_eq!(
            split_host("http://LocalHost:8080/x"),
            ("localhost".into(), Some(8080))
        );
        assert_eq!(split_host("127.0.0.1"), ("localhost".into(), None));
        assert_eq!(split_host("[::1]:9000"), ("localhost".into(), Some(9000)));
        assert_eq!(split_host("fe80::1"), ("fe80::1".into(), None));
        assert_eq!(
            split_host("ws://user@gpu.lan:11434"),
            ("gpu.lan".into(), Some(11434))
        );
    }
}
