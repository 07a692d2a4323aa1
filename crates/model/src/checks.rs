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

use crate::config::change::Snapshot;
use crate::config::schema::{FieldError, MAX_PATTERNS_IN_ALL, SETTINGS_POINTER, validate_document};
use crate::config::service_type::{ROUTER_TARGETS, ServiceType};
use crate::config::settings_schemas::{PendingReason, SchemaRecord, Schemas, pending_reason};
use crate::limits::{CONFIG_DOCUMENT_LIMIT, human_size, json_len};
use crate::status::{ConfigState, ServiceSummary};
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

/// A settings schema that waits for an admin (CONTRACT §9, §10): one warning per service,
/// saying why it is not enforced.
fn schema_pending(
    name: &str,
    document: &Value,
    record: &SchemaRecord,
    schemas: &Schemas,
    checks: &mut Vec<Check>,
) {
    let Some(reason) = pending_reason(schemas, name, record, document) else {
        return;
    };
    let (path, message) = match reason {
        PendingReason::SettingsFail(failures) => match failures.first() {
            Some(first) => (
                first.path.clone(),
                format!(
                    "{name} announced a settings schema its stored settings do not pass ({} {}{}): it is not enforced until the settings are fixed and an admin accepts it, or the service announces one they pass",
                    first.path,
                    first.message,
                    match failures.len() {
                        1 => String::new(),
                        n => format!(", and {} more", n - 1),
                    }
                ),
            ),
            None => (
                SETTINGS_POINTER.to_owned(),
                format!(
                    "{name} announced a settings schema its stored settings now pass: an admin accepts it to enforce it"
                ),
            ),
        },
        PendingReason::Changed => {
            let failures = record
                .pending
                .as_ref()
                .map(|pending| pending.failures(document))
                .unwrap_or_default();
            let fails = failures.first().map_or_else(String::new, |first| {
                format!(
                    "; the stored settings do not pass it yet ({} {})",
                    first.path, first.message
                )
            });
            (
                failures
                    .first()
                    .map_or_else(|| SETTINGS_POINTER.to_owned(), |f| f.path.clone()),
                format!(
                    "{name} announced a settings schema different from the one enforced: it is not enforced until an admin accepts it (a schema changes only with an admin's consent){fails}"
                ),
            )
        }
        PendingReason::OverPatternBudget => (
            SETTINGS_POINTER.to_owned(),
            format!(
                "{name}'s settings schema is not enforced: the enforced schemas together would hold more than {MAX_PATTERNS_IN_ALL} patterns"
            ),
        ),
    };
    checks.push(Check {
        id: format!("settings_schema_pending:{name}"),
        kind: CheckKind::SettingsSchemaPending,
        severity: Severity::Warning,
        service: name.to_owned(),
        path,
        message,
        related: Vec::new(),
    });
}

/// A stored document that the schema, the enforced settings schema or the size limit refuses
/// now.
fn stored_invalid(
    name: &str,
    document: &Value,
    record: Option<&SchemaRecord>,
    checks: &mut Vec<Check>,
) {
    let enforced = record.and_then(|r| r.enforced.as_ref());
    let mut problems = validate_document(document, enforced);
    let size = json_len(document);
    if size > CONFIG_DOCUMENT_LIMIT {
        problems.push(FieldError::new(
            "",
            format!(
                "is {size} bytes of JSON, over the {} limit",
                human_size(CONFIG_DOCUMENT_LIMIT)
            ),
        ));
    }
    for problem in problems {
        checks.push(Check {
            id: format!("stored_invalid:{name}:{}", problem.path),
            kind: CheckKind::StoredInvalid,
            severity: Severity::Warning,
            service: name.to_owned(),
            path: problem.path.clone(),
            message: format!(
                "{name}'s stored document no longer passes the rules ({} {}): it is served as it is, and must be fixed at its next change",
                if problem.path.is_empty() { "the document" } else { problem.path.as_str() },
                problem.message
            ),
            related: Vec::new(),
        });
    }
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

fn router_checks(
    router: &str,
    document: &Value,
    documents: &BTreeMap<&str, &Value>,
    checks: &mut Vec<Check>,
) {
    let mut chain = Vec::new();
    for (kind, key) in ROUTER_TARGETS {
        let path = format!("/config/settings/{key}");
        let named = document
            .pointer(&path)
            .and_then(Value::as_str)
            .filter(|n| !n.is_empty());
        let problem = match named {
            None => Some((
                Severity::Warning,
                format!("voice router {router} names no {kind} service (settings.{key})"),
                Vec::new(),
            )),
            Some(target) => match documents.get(target) {
                None => Some((
                    Severity::Error,
                    format!(
                        "voice router {router} uses {kind} service {target}, which has no config"
                    ),
                    vec![target.to_owned()],
                )),
                Some(found) if service_type(found) != Some(kind) => Some((
                    Severity::Error,
                    format!(
                        "voice router {router} uses {target} as its {kind} service, but {target} is a {} service",
                        found
                            .get("service_type")
                            .and_then(Value::as_str)
                            .unwrap_or("untyped")
                    ),
                    vec![target.to_owned()],
                )),
                Some(found) if !enabled(found) => Some((
                    Severity::Error,
                    format!(
                        "voice router {router} uses {kind} service {target}, which is disabled"
                    ),
                    vec![target.to_owned()],
                )),
                Some(found) => {
                    chain.push((target, *found));
                    None
                }
            },
        };
        if let Some((severity, message, related)) = problem {
            checks.push(Check {
                id: format!("router_target:{router}:{key}"),
                kind: CheckKind::RouterTarget,
                severity,
                service: router.to_owned(),
                path,
                message,
                related,
            });
        }
    }
    language_checks(router, document, &chain, checks);
}

fn language_checks(
    router: &str,
    document: &Value,
    chain: &[(&str, &Value)],
    checks: &mut Vec<Check>,
) {
    let mut mismatch = |service: &str, message: String, related: Vec<String>| {
        checks.push(Check {
            id: format!("language_mismatch:{service}:{router}"),
            kind: CheckKind::LanguageMismatch,
            severity: Severity::Warning,
            service: service.to_owned(),
            path: "/config/language".to_owned(),
            message,
            related,
        });
    };
    match language(document) {
        Some((router_language, router_tag)) => {
            for (target, target_document) in chain {
                if let Some((language, tag)) = language(target_document)
                    && tag != router_tag
                {
                    mismatch(
                        target,
                        format!(
                            "{target} speaks {language} but voice router {router} speaks {router_language}"
                        ),
                        vec![router.to_owned()],
                    );
                }
            }
        }
        None => {
            let spoken: Vec<(&str, &str, String)> = chain
                .iter()
                .filter(|(_, d)| {
                    matches!(service_type(d), Some(ServiceType::Stt | ServiceType::Tts))
                })
                .filter_map(|(name, d)| language(d).map(|(l, t)| (*name, l, t)))
                .collect();
            if let [(stt, stt_language, a), (tts, tts_language, b)] = spoken.as_slice()
                && a != b
            {
                mismatch(
                    tts,
                    format!(
                        "along voice router {router}, {stt} hears {stt_language} but {tts} speaks {tts_language}"
                    ),
                    vec![router.to_owned(), (*stt).to_owned()],
                );
            }
        }
    }
}

/// How many of the other services a port-clash finding names, at most.
const RELATED_NAMED: usize = 8;

/// A listening address: host (loopback names folded together), port, and UDP or not.
type Address = (String, u16, bool);

fn port_clashes(documents: &BTreeMap<&str, &Value>, checks: &mut Vec<Check>) {
    let mut listeners: BTreeMap<Address, Vec<(&str, usize)>> = BTreeMap::new();
    for (name, document) in documents {
        if !enabled(document) {
            continue;
        }
        let endpoints = document
            .pointer("/config/endpoints")
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or_default();
        for (index, endpoint) in endpoints.iter().enumerate() {
            if let Some(address) = address_of(endpoint) {
                let users = listeners.entry(address).or_default();
                if !users.iter().any(|(user, _)| user == name) {
                    users.push((name, index));
                }
            }
        }
    }
    for ((host, port, udp), users) in listeners {
        if users.len() < 2 {
            continue;
        }
        let transport = if udp { "udp" } else { "tcp" };
        for (position, (name, index)) in users.iter().enumerate() {
            // Each finding names a few of the others, so that a clash among thousands of
            // (announced) services stays linear in size.
            let others: Vec<String> = users
                .iter()
                .enumerate()
                .filter(|(other, _)| *other != position)
                .take(RELATED_NAMED)
                .map(|(_, (other, _))| (*other).to_owned())
                .collect();
            let unnamed = users.len() - 1 - others.len();
            let mut named = others.join(", ");
            if unnamed > 0 {
                named.push_str(&format!(" and {unnamed} more services"));
            }
            checks.push(Check {
                id: format!("port_clash:{name}:{index}"),
                kind: CheckKind::PortClash,
                severity: Severity::Error,
                service: (*name).to_owned(),
                path: format!("/config/endpoints/{index}/port"),
                message: format!(
                    "{name} and {named} {} use {host}:{port}/{transport}",
                    if users.len() == 2 { "both" } else { "all" }
                ),
                related: others,
            });
        }
    }
}

/// Managers must agree on the time within 60 s (CONTRACT §6): authority claims are judged by
/// their timestamps.
fn clock_check(summary: &ServiceSummary, checks: &mut Vec<Check>) {
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
fn human_duration(secs: i64) -> String {
    match secs {
        ..120 => format!("{secs} s"),
        120..7_200 => format!("{} min", secs / 60),
        7_200..172_800 => format!("{} h", secs / 3_600),
        _ => format!("{} d", secs / 86_400),
    }
}

/// The clock difference between managers a check tolerates, in seconds.
const CLOCK_TOLERANCE_SECS: i64 = 60;

fn health_checks(
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

fn enabled(document: &Value) -> bool {
    document.get("enabled").and_then(Value::as_bool) == Some(true)
}

fn service_type(document: &Value) -> Option<ServiceType> {
    document
        .get("service_type")
        .and_then(Value::as_str)
        .and_then(ServiceType::parse)
}

/// The language as written, and its primary subtag in lower case.
fn language(document: &Value) -> Option<(&str, String)> {
    let language = document
        .pointer("/config/language")
        .and_then(Value::as_str)
        .filter(|l| !l.trim().is_empty())?;
    let tag = language
        .split(['-', '_'])
        .next()
        .unwrap_or(language)
        .trim()
        .to_ascii_lowercase();
    Some((language, tag))
}

fn address_of(endpoint: &Value) -> Option<Address> {
    let ip = endpoint.get("ip").and_then(Value::as_str)?;
    let (host, url_port) = split_host(ip);
    let port = endpoint
        .get("port")
        .and_then(Value::as_u64)
        .and_then(|p| u16::try_from(p).ok())
        .or(url_port)?;
    let udp = endpoint.get("protocol").and_then(Value::as_str) == Some("udp");
    Some((host, port, udp))
}

/// The host of an `ip` field (a host, an IP address or a URL), loopback names folded into
/// one, and the port a URL names.
fn split_host(ip: &str) -> (String, Option<u16>) {
    let rest = ip.split_once("://").map_or(ip, |(_, rest)| rest);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or(rest);
    let authority = authority.rsplit_once('@').map_or(authority, |(_, a)| a);
    let (host, port) = if let Some(bracketed) = authority.strip_prefix('[') {
        let (host, after) = bracketed.split_once(']').unwrap_or((bracketed, ""));
        (host, after.strip_prefix(':').and_then(|p| p.parse().ok()))
    } else {
        match authority.rsplit_once(':') {
            Some((host, port)) if !host.contains(':') => (host, port.parse().ok()),
            _ => (authority, None),
        }
    };
    let host = host.to_ascii_lowercase();
    let host = match host.as_str() {
        "localhost" | "127.0.0.1" | "::1" | "0:0:0:0:0:0:0:1" => "localhost".to_owned(),
        _ => host,
    };
    (host, port)
}

#[cfg(test)]
mod tests {
    use super::*;

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
