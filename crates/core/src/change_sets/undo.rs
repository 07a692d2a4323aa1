//! Undoing a change set (CONTRACT §7): every member's document from just before the set
//! stored again, and a member the set created deleted — by an admin
//! (`POST /api/config/changes/{id}/rollback`) or by safe apply when a watched member fails.

use crate::config::{Change, ConfigError, ConfigService, Precondition};
use std::collections::HashSet;

/// A member of a stored set: its service and the revision the set gave it.
pub type Member = (String, u64);

/// The members of the set `change_id` in the retained history, in service-name order.
pub fn members_of(config: &ConfigService, change_id: &str) -> Vec<Member> {
    config
        .change_set_members(&HashSet::from([change_id]))
        .remove(change_id)
        .unwrap_or_default()
}

/// The members changed since the set (another revision now, or deleted).
pub fn changed_since(config: &ConfigService, members: &[Member]) -> Vec<String> {
    members
        .iter()
        .filter(|(service, revision)| config.get(service).map(|s| s.revision) != Some(*revision))
        .map(|(service, _)| service.clone())
        .collect()
}

/// The changes that undo `members`: each one's document before the set, or its deletion when
/// the set created it (as its history entry records: CONTRACT §10). A member still as the set
/// left it is changed only if it still is then (a precondition); one changed since is undone
/// over that change (the caller decided to). A member the set created that is gone already
/// needs nothing. A member the set only changed whose document before it is no longer in the
/// history cannot be undone: the whole undo is refused, naming it.
pub fn undo_changes(
    config: &ConfigService,
    members: &[Member],
) -> Result<Vec<Change>, ConfigError> {
    let mut changes = Vec::new();
    let mut forgotten = Vec::new();
    for (service, revision) in members {
        let current = config.get(service).map(|s| s.revision);
        let precondition = if current == Some(*revision) {
            Precondition::Revision(*revision)
        } else {
            Precondition::None
        };
        let history = config.history(service);
        let created = history
            .iter()
            .find(|entry| entry.revision == *revision)
            .is_some_and(|entry| entry.created);
        let before = history
            .iter()
            .find(|entry| entry.revision < *revision)
            .and_then(|entry| entry.document.clone());
        match (before, created) {
            (_, true) if current.is_some() => changes.push(Change::Delete {
                service: service.clone(),
                precondition,
            }),
            (_, true) => {}
            (Some(document), false) => changes.push(Change::Put {
                service: service.clone(),
                document: serde_json::Value::clone(&document),
                precondition,
            }),
            (None, false) => forgotten.push(service.clone()),
        }
    }
    if forgotten.is_empty() {
        Ok(changes)
    } else {
        Err(ConfigError::BeforeSetForgotten {
            services: forgotten,
        })
    }
}

/// Refuses to undo a set whose members changed since, unless `force`.
pub fn check_unchanged(
    config: &ConfigService,
    change_id: &str,
    members: &[Member],
    force: bool,
) -> Result<(), ConfigError> {
    let changed = changed_since(config, members);
    if changed.is_empty() || force {
        Ok(())
    } else {
        Err(ConfigError::MembersChanged {
            change_id: change_id.to_owned(),
            services: changed,
        })
    }
}
