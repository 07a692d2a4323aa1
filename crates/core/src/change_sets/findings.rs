//! The checks across services on the fleet as a change set would leave it (CONTRACT §7): a
//! finding is new when its id is not among today's; the "has never reported" warning of a
//! service the set creates does not count. Any new error refuses the set, a new warning too
//! unless the set allows warnings.

use crate::checks::{Check, CheckKind, Severity, run_checks};
use crate::config::{ConfigError, ConfigService, FieldError, SetCheck, Snapshot};
use crate::health::HealthRegistry;
use std::collections::HashSet;

/// The check the writer runs on a set of `members` (service names, in the set's order)
/// before storing it.
pub(super) fn set_check(
    config: ConfigService,
    health: HealthRegistry,
    members: Vec<String>,
    allow_warnings: bool,
) -> SetCheck {
    Box::new(move |before: &Snapshot, after: &Snapshot| {
        let refusing: Vec<Check> = new_findings(&config, &health, before, after)
            .into_iter()
            .filter(|check| check.severity == Severity::Error || !allow_warnings)
            .collect();
        if refusing.is_empty() {
            return Ok(());
        }
        let details = refusing
            .iter()
            .map(|check| detail(check, &members, allow_warnings))
            .collect();
        Err(ConfigError::NewFindings { details })
    })
}

/// The findings of the checks across services on `after` that are not among `before`'s,
/// but for the "never reported" warning of a service the set creates.
pub(super) fn new_findings(
    config: &ConfigService,
    health: &HealthRegistry,
    before: &Snapshot,
    after: &Snapshot,
) -> Vec<Check> {
    let schemas = config.schemas();
    let now = time::OffsetDateTime::now_utc();
    let today: HashSet<String> = run_checks(before, &health.summaries(before), &schemas, now)
        .into_iter()
        .map(|check| check.id)
        .collect();
    run_checks(after, &health.summaries(after), &schemas, now)
        .into_iter()
        .filter(|check| !today.contains(&check.id))
        .filter(|check| !never_reported_and_created(check, before, health))
        .collect()
}

/// A service the set creates has never reported its health: that is expected, not a problem.
fn never_reported_and_created(check: &Check, before: &Snapshot, health: &HealthRegistry) -> bool {
    check.kind == CheckKind::Stale
        && !before.documents.contains_key(&check.service)
        && health
            .get(&check.service)
            .is_none_or(|runtime| runtime.last_seen.is_none())
}

/// The finding as a detail of the set: under the member whose field it names, else under the
/// first member it involves, else the set as a whole.
fn detail(check: &Check, members: &[String], allow_warnings: bool) -> FieldError {
    let index_of = |service: &str| members.iter().position(|m| m == service);
    let path = match index_of(&check.service) {
        Some(index) => format!("/documents/{index}{}", check.path),
        None => check
            .related
            .iter()
            .find_map(|service| index_of(service))
            .map_or_else(|| "/documents".to_owned(), |i| format!("/documents/{i}")),
    };
    let severity = match check.severity {
        Severity::Error => "new error",
        Severity::Warning if allow_warnings => "new warning",
        Severity::Warning => "new warning; send allow_warnings to accept it",
    };
    FieldError::new(
        path,
        format!("{} ({severity}; {})", check.message, check.id),
    )
}
