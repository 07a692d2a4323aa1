//! The config service's rules as plain functions over values: what a change does to the stored
//! documents, what the manager sets on a document it stores, when a precondition holds, how
//! the history is bounded, and how two sets of documents that disagree are reconciled (at
//! start-up: `config.json` against its history; on restore: the store against a backup). No
//! tokio, no disk: tested directly.

use super::actor::{Actor, ActorKind, Origin};
use super::change::{Change, ConfigError, Precondition, StoredDocument};
use super::document::last_updated_of;
use super::history::{ChangeSource, HistoryEntry};
use super::prepare::prepare_document;
use super::schema::{FieldError, SettingsSchema, validate_document};
use super::settings_schemas::Schemas;
use crate::clock::now_rfc3339;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::sync::Arc;

/// Each service's retained revisions, oldest first.
pub(super) type Histories = HashMap<String, VecDeque<Arc<HistoryEntry>>>;

/// What the rules read besides the documents themselves.
pub(super) struct Rules<'a> {
    /// The settings schemas each service announced.
    pub schemas: &'a Schemas,
    /// The retained history (rollbacks read old revisions from it).
    pub history: &'a Histories,
}

/// Applies one change to the working set of documents; returns its history entry and whether
/// it created the service. `next_revision` moves on only when the change is accepted.
pub(super) fn apply_change(
    rules: &Rules<'_>,
    working: &mut BTreeMap<String, StoredDocument>,
    next_revision: &mut u64,
    change: Change,
    origin: Origin,
) -> Result<(HistoryEntry, bool), ConfigError> {
    let Origin {
        source,
        actor,
        reason,
        change_id,
        ..
    } = origin;
    let mut mirrored = false;
    let (service, document, precondition) = match change {
        Change::Put {
            service,
            document,
            precondition,
        } => (service, Some(document), precondition),
        Change::Delete {
            service,
            precondition,
        } => (service, None, precondition),
        Change::Rollback { service, revision } => {
            let old = find_revision(rules.history, &service, revision)?;
            (service, Some(Value::clone(&old)), Precondition::None)
        }
        Change::Mirror { service, document } => {
            if working.get(&service).map(|s| &*s.document) == document.as_ref() {
                return Err(ConfigError::Unchanged);
            }
            if let Some(document) = &document {
                let enforced = rules
                    .schemas
                    .get(&service)
                    .and_then(|r| r.enforced.as_ref());
                check_mirrored(&service, document, enforced)?;
            }
            mirrored = true;
            (service, document, Precondition::None)
        }
    };
    let stored = working.get(&service);
    check_precondition(&service, stored, precondition)?;
    let created = stored.is_none();
    let revision = *next_revision;
    let entry = match document {
        Some(document) => {
            let document = if mirrored {
                Arc::new(document)
            } else {
                let schema = rules.schemas.get(&service);
                Arc::new(prepare_document(
                    &service,
                    document,
                    stored.map(|s| &*s.document),
                    schema,
                    time::OffsetDateTime::now_utc(),
                )?)
            };
            working.insert(
                service.clone(),
                StoredDocument {
                    document: Arc::clone(&document),
                    revision,
                },
            );
            HistoryEntry {
                revision,
                last_updated: last_updated_of(&document).map_or_else(now_rfc3339, str::to_owned),
                service,
                source,
                actor: Some(actor),
                reason,
                change_id,
                document: Some(document),
                created,
            }
        }
        None => {
            if working.remove(&service).is_none() {
                return Err(ConfigError::NotFound { service });
            }
            HistoryEntry {
                revision,
                service,
                last_updated: now_rfc3339(),
                source,
                actor: Some(actor),
                reason,
                change_id,
                document: None,
                created: false,
            }
        }
    };
    *next_revision += 1;
    Ok((entry, created))
}

/// A follower stores the authority's document as published, but only a valid one (CONTRACT
/// §6): whatever else arrives on a config topic is no authority's.
fn check_mirrored(
    service: &str,
    document: &Value,
    settings_schema: Option<&SettingsSchema>,
) -> Result<(), ConfigError> {
    let mut details = Vec::new();
    if document.get("service_name").and_then(Value::as_str) != Some(service) {
        details.push(FieldError::new(
            "/service_name",
            format!("must be {service:?}, the service of the topic"),
        ));
    }
    details.extend(validate_document(document, settings_schema));
    if details.is_empty() {
        Ok(())
    } else {
        Err(ConfigError::Invalid { details })
    }
}

/// The document of an old revision, for a rollback.
pub(super) fn find_revision(
    history: &Histories,
    service: &str,
    revision: u64,
) -> Result<Arc<Value>, ConfigError> {
    let entry = history
        .get(service)
        .and_then(|entries| entries.iter().find(|e| e.revision == revision))
        .ok_or_else(|| ConfigError::RevisionNotFound {
            service: service.to_owned(),
            revision,
        })?;
    entry
        .document
        .clone()
        .ok_or_else(|| ConfigError::RevisionIsDeletion {
            service: service.to_owned(),
            revision,
        })
}

/// `Ok` when `precondition` holds for the stored document (if any).
pub(super) fn check_precondition(
    service: &str,
    stored: Option<&StoredDocument>,
    precondition: Precondition,
) -> Result<(), ConfigError> {
    let current = stored.map(|s| s.revision);
    let holds = match precondition {
        Precondition::None => true,
        Precondition::Revision(base) => current == Some(base),
        Precondition::Absent => current.is_none(),
    };
    if holds {
        Ok(())
    } else {
        Err(ConfigError::Conflict {
            service: service.to_owned(),
            current,
            current_last_updated: stored
                .and_then(|s| last_updated_of(&s.document))
                .map(str::to_owned),
        })
    }
}

/// The `import` entries that take the documents from `before` to `after`: one per service
/// whose document differs (a deletion where `after` has none), in service-name order, with
/// revisions from `next_revision` on.
pub(super) fn reconcile(
    before: &BTreeMap<String, Arc<Value>>,
    after: &BTreeMap<String, Arc<Value>>,
    next_revision: &mut u64,
) -> Vec<HistoryEntry> {
    let names: BTreeSet<&String> = before.keys().chain(after.keys()).collect();
    let mut imports = Vec::new();
    for name in names {
        let (old, new) = (before.get(name), after.get(name));
        if old.map(|d| &**d) == new.map(|d| &**d) {
            continue;
        }
        imports.push(HistoryEntry {
            revision: *next_revision,
            service: name.clone(),
            last_updated: new
                .and_then(|d| last_updated_of(d))
                .map_or_else(now_rfc3339, str::to_owned),
            source: ChangeSource::Import,
            actor: Some(Actor::of_kind(ActorKind::Import)),
            reason: None,
            change_id: None,
            document: new.cloned(),
            created: old.is_none(),
        });
        *next_revision += 1;
    }
    imports
}

/// Adds an entry to its service's history, dropping the oldest beyond `limit` — but never the
/// newest, nor the last document before the latest deletion (CONTRACT §10: a deletion stays
/// restorable however many revisions follow it).
pub(super) fn push_bounded(history: &mut Histories, entry: Arc<HistoryEntry>, limit: usize) {
    let entries = history.entry(entry.service.clone()).or_default();
    entries.push_back(entry);
    while entries.len() > limit.max(1) {
        let kept = latest_deletion(entries);
        let oldest = (0..entries.len() - 1).find(|index| {
            kept.is_none_or(|(deletion, before)| *index != deletion && *index != before)
        });
        match oldest {
            Some(index) => {
                entries.remove(index);
            }
            None => break,
        }
    }
}

/// Where the latest deletion and the last document before it sit in `entries` (oldest
/// first): the two entries that say what a deletion removed.
fn latest_deletion(entries: &VecDeque<Arc<HistoryEntry>>) -> Option<(usize, usize)> {
    let deletion = entries.iter().rposition(|entry| entry.document.is_none())?;
    let before = entries
        .iter()
        .take(deletion)
        .rposition(|entry| entry.document.is_some())?;
    Some((deletion, before))
}

/// Every retained entry, oldest first (what the history file holds after a rewrite).
pub(super) fn retained_entries(history: &Histories) -> Vec<HistoryEntry> {
    let mut entries: Vec<HistoryEntry> = history
        .values()
        .flat_map(|entries| entries.iter().map(|e| HistoryEntry::clone(e)))
        .collect();
    entries.sort_by_key(|e| e.revision);
    entries
}

/// True when a history file of `lines` lines should be rewritten with only the retained
/// entries: it holds more than twice their number (plus slack), so it never grows unbounded.
pub(super) fn compaction_due(lines: usize, history: &Histories) -> bool {
    let retained: usize = history.values().map(VecDeque::len).sum();
    lines > retained * 2 + 1000
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::limits::CONFIG_DOCUMENT_LIMIT;
    use serde_json::json;

    fn llm(name: &str, model: &str) -> Value {
        json!({
            "service_name": name, "service_type": "llm", "enabled": true, "version": "1.0.0",
            "config": {"model": model, "endpoints": [{"type": "llm", "ip": "127.0.0.1", "port": 11434}]}
        })
    }

    fn no_rules() -> (Schemas, Histories) {
        (Schemas::new(), Histories::new())
    }

    #[test]
    fn a_put_stamps_validates_and_moves_the_revision_on() {
        let (schemas, history) = no_rules();
        let rules = Rules {
            schemas: &schemas,
            history: &history,
        };
        let mut working = BTreeMap::new();
        let mut next = 7;
        let put = Change::Put {
            service: "llm".into(),
            document: llm("llm", "m1"),
            precondition: Precondition::Absent,
        };
        let (entry, created) = apply_change(
            &rules,
            &mut working,
            &mut next,
            put,
            ChangeSource::Rest.into(),
        )
        .unwrap();
        assert!(created);
        assert_eq!((entry.revision, next), (7, 8));
        assert_eq!(working["llm"].document["status"], "unknown");
        assert!(working["llm"].document.get("last_updated").is_some());

        let stale = Change::Put {
            service: "llm".into(),
            document: llm("llm", "m2"),
            precondition: Precondition::Revision(6),
        };
        let refused = apply_change(
            &rules,
            &mut working,
            &mut next,
            stale,
            ChangeSource::Rest.into(),
        );
        assert_eq!(
            refused.unwrap_err(),
            ConfigError::Conflict {
                service: "llm".into(),
                current: Some(7),
                current_last_updated: working["llm"].document["last_updated"]
                    .as_str()
                    .map(str::to_owned),
            }
        );
        let invalid = Change::Put {
            service: "llm".into(),
            document: json!({"service_name": "other"}),
            precondition: Precondition::None,
        };
        let Err(ConfigError::Invalid { details }) = apply_change(
            &rules,
            &mut working,
            &mut next,
            invalid,
            ChangeSource::Rest.into(),
        ) else {
            panic!("an invalid document is refused");
        };
        assert!(details.iter().any(|d| d.path == "/service_name"));
        assert_eq!(next, 8, "refused changes use no revision");

        let mut huge = llm("llm", "m3");
        huge["config"]["notes"] = json!("x".repeat(CONFIG_DOCUMENT_LIMIT));
        let too_large = Change::Put {
            service: "llm".into(),
            document: huge,
            precondition: Precondition::None,
        };
        let Err(ConfigError::Invalid { details }) = apply_change(
            &rules,
            &mut working,
            &mut next,
            too_large,
            ChangeSource::Rest.into(),
        ) else {
            panic!("a document over 1 MiB is refused");
        };
        assert!(
            details
                .iter()
                .any(|d| d.path.is_empty() && d.message.contains("1 MiB")),
            "{details:?}"
        );
        assert_eq!(working["llm"].document["config"]["model"], "m1");
    }

    #[test]
    fn rollbacks_read_the_history_and_deletions_cannot_be_brought_back() {
        let schemas = Schemas::new();
        let mut history = Histories::new();
        let old = Arc::new(llm("llm", "old"));
        push_bounded(
            &mut history,
            Arc::new(HistoryEntry {
                revision: 1,
                service: "llm".into(),
                last_updated: "2026-01-01T00:00:00.000Z".into(),
                source: ChangeSource::Gui,
                actor: None,
                reason: None,
                change_id: None,
                document: Some(Arc::clone(&old)),
                created: false,
            }),
            10,
        );
        push_bounded(
            &mut history,
            Arc::new(HistoryEntry {
                revision: 2,
                service: "llm".into(),
                last_updated: "2026-01-02T00:00:00.000Z".into(),
                source: ChangeSource::Gui,
                actor: None,
                reason: None,
                change_id: None,
                document: None,
                created: false,
            }),
            10,
        );
        assert_eq!(*find_revision(&history, "llm", 1).unwrap(), *old);
        assert!(matches!(
            find_revision(&history, "llm", 2),
            Err(ConfigError::RevisionIsDeletion { .. })
        ));
        assert!(matches!(
            find_revision(&history, "llm", 3),
            Err(ConfigError::RevisionNotFound { .. })
        ));
        let rules = Rules {
            schemas: &schemas,
            history: &history,
        };
        let mut working = BTreeMap::new();
        let mut next = 3;
        let rollback = Change::Rollback {
            service: "llm".into(),
            revision: 1,
        };
        apply_change(
            &rules,
            &mut working,
            &mut next,
            rollback,
            ChangeSource::Rollback.into(),
        )
        .unwrap();
        assert_eq!(working["llm"].document["config"]["model"], "old");
    }

    #[test]
    fn a_follower_mirrors_only_valid_documents() {
        let (schemas, history) = no_rules();
        let rules = Rules {
            schemas: &schemas,
            history: &history,
        };
        let mut working = BTreeMap::new();
        let mut next = 1;
        let mut valid = llm("llm", "m1");
        valid["last_updated"] = json!("2026-01-01T00:00:00.000Z");
        let mirror = |document| Change::Mirror {
            service: "llm".into(),
            document,
        };
        apply_change(
            &rules,
            &mut working,
            &mut next,
            mirror(Some(valid.clone())),
            ChangeSource::Mqtt.into(),
        )
        .unwrap();
        assert_eq!(*working["llm"].document, valid, "stored as published");
        for bad in [json!({"service_name": "llm"}), llm("other", "m1")] {
            let refused = apply_change(
                &rules,
                &mut working,
                &mut next,
                mirror(Some(bad)),
                ChangeSource::Mqtt.into(),
            );
            assert!(matches!(refused, Err(ConfigError::Invalid { .. })));
        }
        assert_eq!(
            *working["llm"].document, valid,
            "a refused mirror changes nothing"
        );
    }

    #[test]
    fn reconciling_records_each_difference_once_in_name_order() {
        let doc = |model| Arc::new(llm("x", model));
        let before: BTreeMap<String, Arc<Value>> = [
            ("a".to_owned(), doc("same")),
            ("b".to_owned(), doc("old")),
            ("c".to_owned(), doc("gone")),
        ]
        .into();
        let after: BTreeMap<String, Arc<Value>> = [
            ("a".to_owned(), doc("same")),
            ("b".to_owned(), doc("new")),
            ("d".to_owned(), doc("added")),
        ]
        .into();
        let mut next = 10;
        let imports = reconcile(&before, &after, &mut next);
        let summary: Vec<(&str, u64, bool)> = imports
            .iter()
            .map(|e| (e.service.as_str(), e.revision, e.document.is_some()))
            .collect();
        assert_eq!(
            summary,
            [("b", 10, true), ("c", 11, false), ("d", 12, true)]
        );
        assert!(imports.iter().all(|e| e.source == ChangeSource::Import));
        assert_eq!(next, 13);
    }

    #[test]
    fn histories_keep_the_newest_entries_within_the_limit() {
        let mut history = Histories::new();
        for revision in 1..=5 {
            push_bounded(
                &mut history,
                Arc::new(HistoryEntry {
                    revision,
                    service: "s".into(),
                    last_updated: String::new(),
                    source: ChangeSource::Gui,
                    actor: None,
                    reason: None,
                    change_id: None,
                    document: None,
                    created: false,
                }),
                3,
            );
        }
        let kept: Vec<u64> = retained_entries(&history)
            .iter()
            .map(|e| e.revision)
            .collect();
        assert_eq!(kept, [3, 4, 5]);
        assert!(!compaction_due(1006, &history));
        assert!(compaction_due(1007, &history));
    }

    #[test]
    fn the_document_before_a_deletion_outlives_the_limit() {
        let mut history = Histories::new();
        let entry = |revision: u64, deleted: bool| {
            Arc::new(HistoryEntry {
                revision,
                service: "s".into(),
                last_updated: String::new(),
                source: ChangeSource::Gui,
                actor: None,
                reason: None,
                change_id: None,
                document: (!deleted).then(|| Arc::new(serde_json::json!({"r": revision}))),
                created: false,
            })
        };
        push_bounded(&mut history, entry(1, false), 3);
        push_bounded(&mut history, entry(2, false), 3);
        push_bounded(&mut history, entry(3, true), 3);
        for revision in 4..=10 {
            push_bounded(&mut history, entry(revision, false), 3);
        }
        let kept: Vec<u64> = retained_entries(&history)
            .iter()
            .map(|e| e.revision)
            .collect();
        assert_eq!(
            kept,
            [2, 3, 10],
            "revision 2 is what the deletion (3) removed; 10 is the newest"
        );
    }
}
