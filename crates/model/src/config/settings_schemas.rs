//! Settings schemas by trust on first use (CONTRACT §9, §10): what a service's record holds —
//! the schema enforced and, at most one, a schema pending — and the rules that move them
//! ([`apply_schema_op`]), as plain functions over the records. Storing them is the core's.

use super::change::ConfigError;
use super::schema::{FieldError, MAX_PATTERNS_IN_ALL, SettingsSchema};
use super::secrets::SecretPaths;
use serde_json::{Map, Value};
use std::collections::{BTreeMap, HashMap};

/// What this manager holds for one service.
#[derive(Debug, Clone, Default)]
pub struct SchemaRecord {
    /// The schema enforced.
    pub enforced: Option<SettingsSchema>,
    /// A schema announced that the stored settings do not pass, awaiting an admin.
    pub pending: Option<SettingsSchema>,
}

impl SchemaRecord {
    /// The secret fields either schema declares (both are masked: a field one of them calls
    /// secret is never shown).
    pub fn secret_paths(&self) -> SecretPaths {
        [&self.enforced, &self.pending]
            .into_iter()
            .flatten()
            .fold(SecretPaths::default(), |all, schema| {
                all.merged(schema.secret_paths())
            })
    }

    /// True when it holds neither schema.
    pub fn is_empty(&self) -> bool {
        self.enforced.is_none() && self.pending.is_none()
    }
}

/// Every service's record, by service name.
pub type Schemas = HashMap<String, SchemaRecord>;

/// Something that happens to a service's schemas.
#[derive(Debug, Clone)]
pub enum SchemaOp {
    /// The service announced this schema (`None`: an announcement without one, which changes
    /// nothing: a schema once recorded stays until the service is deleted).
    Announced(Option<SettingsSchema>),
    /// An admin accepts the pending schema.
    Accept,
    /// A follower copies the authority's enforced schema (`None`: it has none).
    Mirror(Option<SettingsSchema>),
    /// A follower saw the service announce this schema: pending here when it is not the
    /// authority's (a follower shows it, and says to accept it on the authority).
    SeenByFollower(Option<SettingsSchema>),
    /// The service was deleted: its schemas go with it, and the next one announced is a
    /// first again.
    Forget,
}

/// Why a schema is pending rather than enforced (CONTRACT §9, §10).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PendingReason {
    /// The first schema recorded for the service, and the stored settings fail it.
    SettingsFail(Vec<FieldError>),
    /// A schema different from the one enforced: schemas change by trust on first use, so an
    /// admin decides.
    Changed,
    /// Enforcing it would take all enforced schemas over [`MAX_PATTERNS_IN_ALL`] patterns.
    OverPatternBudget,
}

/// Patterns the enforced schemas of every service but `except` hold together.
fn patterns_enforced_elsewhere(schemas: &Schemas, except: &str) -> usize {
    schemas
        .iter()
        .filter(|(service, _)| service.as_str() != except)
        .filter_map(|(_, record)| record.enforced.as_ref())
        .map(SettingsSchema::patterns)
        .sum()
}

/// True when `schema` fits beside the other services' enforced schemas.
fn fits_pattern_budget(schemas: &Schemas, service: &str, schema: &SettingsSchema) -> bool {
    patterns_enforced_elsewhere(schemas, service) + schema.patterns() <= MAX_PATTERNS_IN_ALL
}

/// Applies `op` to `service`'s record, given its stored document; true when the record
/// changed. Schemas change by trust on first use (CONTRACT §10): the first schema recorded is
/// enforced when the stored settings pass it (and it fits the pattern budget), else pending
/// until an admin accepts it or the service announces one the settings pass; once one is
/// enforced, any different one waits for an admin, whatever the settings. The latest
/// announcement replaces an earlier pending one. [`SchemaOp::Accept`] without a pending
/// schema, or over the pattern budget, is refused.
pub fn apply_schema_op(
    schemas: &mut Schemas,
    service: &str,
    op: SchemaOp,
    document: Option<&Value>,
) -> Result<bool, ConfigError> {
    let fits =
        |schemas: &Schemas, schema: &SettingsSchema| fits_pattern_budget(schemas, service, schema);
    let changed = match op {
        SchemaOp::Announced(None) | SchemaOp::SeenByFollower(None) => false,
        SchemaOp::Forget | SchemaOp::Mirror(None) => schemas.remove(service).is_some(),
        SchemaOp::Announced(Some(schema)) => {
            let passes = document.is_none_or(|d| schema.failures(d).is_empty());
            let fits = fits(schemas, &schema);
            let record = schemas.entry(service.to_owned()).or_default();
            if record.enforced.as_ref().is_some_and(|e| e.same_as(&schema)) {
                record.pending.take().is_some()
            } else if record.enforced.is_none() && passes && fits {
                record.enforced = Some(schema);
                record.pending = None;
                true
            } else if record.pending.as_ref().is_some_and(|p| p.same_as(&schema)) {
                false
            } else {
                record.pending = Some(schema);
                true
            }
        }
        SchemaOp::SeenByFollower(Some(schema)) => {
            let record = schemas.entry(service.to_owned()).or_default();
            if record.enforced.as_ref().is_some_and(|e| e.same_as(&schema)) {
                record.pending.take().is_some()
            } else if record.pending.as_ref().is_some_and(|p| p.same_as(&schema)) {
                false
            } else {
                record.pending = Some(schema);
                true
            }
        }
        SchemaOp::Accept => {
            let Some(pending) = schemas.get(service).and_then(|r| r.pending.clone()) else {
                return Err(ConfigError::NoPendingSchema {
                    service: service.to_owned(),
                });
            };
            if !fits(schemas, &pending) {
                return Err(ConfigError::Invalid {
                    details: vec![FieldError::new(
                        "",
                        format!(
                            "the schema holds {} patterns, and the enforced schemas of the other services {}: together over the limit of {MAX_PATTERNS_IN_ALL}",
                            pending.patterns(),
                            patterns_enforced_elsewhere(schemas, service)
                        ),
                    )],
                });
            }
            let record = schemas.entry(service.to_owned()).or_default();
            record.enforced = record.pending.take();
            true
        }
        SchemaOp::Mirror(Some(schema)) => {
            let record = schemas.entry(service.to_owned()).or_default();
            let same = record.enforced.as_ref().is_some_and(|e| e.same_as(&schema))
                && record.pending.is_none();
            record.enforced = Some(schema);
            record.pending = None;
            !same
        }
    };
    if schemas.get(service).is_some_and(SchemaRecord::is_empty) {
        schemas.remove(service);
    }
    Ok(changed)
}

/// Why `record`'s pending schema waits, given the stored `document` (`None`: nothing pends).
pub fn pending_reason(
    schemas: &Schemas,
    service: &str,
    record: &SchemaRecord,
    document: &Value,
) -> Option<PendingReason> {
    let pending = record.pending.as_ref()?;
    if record.enforced.is_some() {
        return Some(PendingReason::Changed);
    }
    let failures = pending.failures(document);
    if !failures.is_empty() {
        return Some(PendingReason::SettingsFail(failures));
    }
    if !fits_pattern_budget(schemas, service, pending) {
        return Some(PendingReason::OverPatternBudget);
    }
    // A first schema the settings pass now (they were fixed): the admin accepts it.
    Some(PendingReason::SettingsFail(Vec::new()))
}

/// At start: enforced schemas are admitted in service-name order while their patterns fit
/// [`MAX_PATTERNS_IN_ALL`] together; the rest become pending (named by a check). Returns the
/// services demoted.
pub fn admit_in_order(schemas: &mut Schemas) -> Vec<String> {
    let mut names: Vec<String> = schemas.keys().cloned().collect();
    names.sort();
    let mut total = 0;
    let mut demoted = Vec::new();
    for name in names {
        let Some(record) = schemas.get_mut(&name) else {
            continue;
        };
        let Some(enforced) = &record.enforced else {
            continue;
        };
        if total + enforced.patterns() <= MAX_PATTERNS_IN_ALL {
            total += enforced.patterns();
        } else {
            let enforced = record.enforced.take();
            if record.pending.is_none() {
                record.pending = enforced;
            }
            demoted.push(name);
        }
    }
    demoted
}

/// Where the stored settings fail the pending schema (for the check).
pub fn pending_failures(record: &SchemaRecord, document: &Value) -> Vec<FieldError> {
    record
        .pending
        .as_ref()
        .map(|pending| pending.failures(document))
        .unwrap_or_default()
}

/// The file's contents: `{"<service>": {"enforced": schema | null, "pending": schema | null}}`,
/// sorted by service.
pub fn render(schemas: &Schemas) -> Vec<u8> {
    let sorted: BTreeMap<&String, Value> = schemas
        .iter()
        .map(|(service, record)| {
            let source = |schema: &Option<SettingsSchema>| {
                schema
                    .as_ref()
                    .map_or(Value::Null, |s| Value::clone(&s.source))
            };
            let mut fields = Map::new();
            fields.insert("enforced".to_owned(), source(&record.enforced));
            fields.insert("pending".to_owned(), source(&record.pending));
            (service, Value::Object(fields))
        })
        .collect();
    let mut bytes = serde_json::to_vec_pretty(&sorted).unwrap_or_else(|_| b"{}".to_vec());
    bytes.push(b'\n');
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn schema(maximum: u64) -> SettingsSchema {
        SettingsSchema::compile(json!({
            "type": "object",
            "properties": {
                "beam_size": {"type": "integer", "maximum": maximum},
                "password": {"type": "string", "writeOnly": true}
            }
        }))
        .unwrap()
    }

    fn document(beam_size: u64) -> Value {
        json!({"config": {"settings": {"beam_size": beam_size}}})
    }

    #[test]
    fn a_schema_the_settings_pass_is_enforced_one_they_fail_waits() {
        let mut schemas = Schemas::new();
        let stored = document(8);
        let op = SchemaOp::Announced(Some(schema(10)));
        assert!(apply_schema_op(&mut schemas, "stt", op.clone(), Some(&stored)).unwrap());
        assert!(!apply_schema_op(&mut schemas, "stt", op, Some(&stored)).unwrap());
        assert!(schemas["stt"].enforced.is_some() && schemas["stt"].pending.is_none());

        let stricter = SchemaOp::Announced(Some(schema(5)));
        assert!(apply_schema_op(&mut schemas, "stt", stricter, Some(&stored)).unwrap());
        let record = &schemas["stt"];
        assert!(
            record.enforced.as_ref().unwrap().same_as(&schema(10)),
            "the old one stays"
        );
        let failures = pending_failures(record, &stored);
        assert_eq!(failures[0].path, "/config/settings/beam_size");

        // The service goes back to a schema the settings pass: nothing is pending any more.
        let relaxed = SchemaOp::Announced(Some(schema(10)));
        assert!(apply_schema_op(&mut schemas, "stt", relaxed, Some(&stored)).unwrap());
        assert!(schemas["stt"].pending.is_none());
    }

    fn enforced_is(schemas: &Schemas, maximum: u64) -> bool {
        schemas["stt"]
            .enforced
            .as_ref()
            .is_some_and(|e| e.same_as(&schema(maximum)))
    }

    fn pending_is(schemas: &Schemas, maximum: u64) -> bool {
        schemas["stt"]
            .pending
            .as_ref()
            .is_some_and(|p| p.same_as(&schema(maximum)))
    }

    fn with_patterns(n: usize) -> SettingsSchema {
        let properties: Map<String, Value> = (0..n)
            .map(|i| {
                (
                    format!("p{i}"),
                    json!({"type": "string", "pattern": "^a+$"}),
                )
            })
            .collect();
        SettingsSchema::compile(json!({"type": "object", "properties": properties})).unwrap()
    }

    #[test]
    fn schemas_change_by_trust_on_first_use() {
        let mut schemas = Schemas::new();
        let announce = |schemas: &mut Schemas, schema: SettingsSchema| {
            apply_schema_op(
                schemas,
                "stt",
                SchemaOp::Announced(Some(schema)),
                Some(&document(8)),
            )
            .unwrap()
        };
        // The first is enforced (the settings pass it).
        assert!(announce(&mut schemas, schema(10)));
        assert!(enforced_is(&schemas, 10));
        // A later, different one waits for an admin although the settings pass it.
        assert!(announce(&mut schemas, schema(20)));
        assert!(enforced_is(&schemas, 10));
        assert!(pending_is(&schemas, 20));
        let reason = pending_reason(&schemas, "stt", &schemas["stt"], &document(8));
        assert_eq!(reason, Some(PendingReason::Changed));
        // The latest replaces an earlier pending one; no schema changes nothing.
        assert!(announce(&mut schemas, schema(30)));
        assert!(pending_is(&schemas, 30));
        let none = apply_schema_op(&mut schemas, "stt", SchemaOp::Announced(None), None);
        assert_eq!(none, Ok(false));
        assert!(schemas["stt"].enforced.is_some());
        // The enforced one again clears the pending one.
        assert!(announce(&mut schemas, schema(10)));
        assert!(schemas["stt"].pending.is_none());
        // Deleted with its service, the next one is a first again.
        assert_eq!(
            apply_schema_op(&mut schemas, "stt", SchemaOp::Forget, None),
            Ok(true)
        );
        assert!(announce(&mut schemas, schema(40)));
        assert!(enforced_is(&schemas, 40));
    }

    #[test]
    fn key_order_does_not_make_a_schema_different() {
        let a = SettingsSchema::compile(json!({"type": "object", "maxProperties": 3})).unwrap();
        let b = SettingsSchema::compile(json!({"maxProperties": 3, "type": "object"})).unwrap();
        assert!(a.same_as(&b));
    }

    #[test]
    fn enforced_schemas_hold_at_most_512_patterns_in_service_order() {
        let mut schemas = Schemas::new();
        for name in ["a", "b", "c", "d", "e", "f", "g", "h", "i"] {
            apply_schema_op(
                &mut schemas,
                name,
                SchemaOp::Announced(Some(with_patterns(60))),
                None,
            )
            .unwrap();
        }
        // 8 × 60 = 480 fit; the ninth would take them to 540.
        assert!(schemas["h"].enforced.is_some());
        assert!(schemas["i"].enforced.is_none() && schemas["i"].pending.is_some());
        let reason = pending_reason(&schemas, "i", &schemas["i"], &json!({}));
        assert_eq!(reason, Some(PendingReason::OverPatternBudget));
        assert!(matches!(
            apply_schema_op(&mut schemas, "i", SchemaOp::Accept, None),
            Err(ConfigError::Invalid { .. })
        ));
        // At start, the enforced ones are admitted in name order.
        let mut loaded = Schemas::new();
        for name in ["z", "y", "x", "w", "v", "u", "t", "s", "r"] {
            loaded.insert(
                name.to_owned(),
                SchemaRecord {
                    enforced: Some(with_patterns(60)),
                    pending: None,
                },
            );
        }
        assert_eq!(admit_in_order(&mut loaded), ["z"]);
        assert!(loaded["z"].pending.is_some() && loaded["r"].enforced.is_some());
    }

    #[test]
    fn an_admin_accepts_a_pending_schema() {
        let mut schemas = Schemas::new();
        assert!(matches!(
            apply_schema_op(&mut schemas, "stt", SchemaOp::Accept, None),
            Err(ConfigError::NoPendingSchema { .. })
        ));
        apply_schema_op(
            &mut schemas,
            "stt",
            SchemaOp::Announced(Some(schema(5))),
            Some(&document(8)),
        )
        .unwrap();
        assert!(schemas["stt"].enforced.is_none());
        apply_schema_op(&mut schemas, "stt", SchemaOp::Accept, Some(&document(8))).unwrap();
        assert!(
            schemas["stt"]
                .enforced
                .as_ref()
                .unwrap()
                .same_as(&schema(5))
        );
        let secrets = schemas["stt"].secret_paths();
        assert!(secrets.covers("/config/settings/password"));
        assert!(!secrets.covers("/config/settings/language"));
    }
}
