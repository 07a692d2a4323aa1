//! A voice router's chain: it names its speech-to-text, text-to-speech and LLM services, each
//! a configured, enabled service of that type; and the languages along it agree (by primary
//! subtag).

use super::{Check, CheckKind, Severity, enabled, service_type};
use crate::config::service_type::{ROUTER_TARGETS, ServiceType};
use serde_json::Value;
use std::collections::BTreeMap;

pub(super) fn router_checks(
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

pub(super) fn language_checks(
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

/// The language as written, and its primary subtag in lower case.
pub(super) fn language(document: &Value) -> Option<(&str, String)> {
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
