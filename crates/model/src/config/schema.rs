//! The service-config JSON Schema (CONTRACT §1), compiled once, and validation that names
//! every failing field by its JSON Pointer.

pub use super::bounded::PATTERN_SIZE_LIMIT;
use super::bounded::compile_bounded;
pub use super::contract_schema::{SCHEMA_SOURCE, schema_document};
pub use super::field_error::FieldError;
use super::secret_paths::SecretSchema;
use super::secrets::SecretPaths;
use jsonschema::error::ValidationErrorKind;
use jsonschema::{ValidationError, Validator};
use serde_json::Value;
use std::sync::{Arc, OnceLock};

fn document_validator() -> &'static Validator {
    static VALIDATOR: OnceLock<Validator> = OnceLock::new();
    VALIDATOR
        .get_or_init(|| compile_bounded(schema_document()).expect("the bundled schema compiles"))
}

/// A service's own settings schema, announced on discovery, compiled for reuse.
#[derive(Clone)]
pub struct SettingsSchema {
    /// The schema as announced.
    pub source: Arc<Value>,
    validator: Arc<Validator>,
    /// The secret fields it declares (`writeOnly` / `format: password`, wherever a subschema
    /// puts them), as paths into a service document (`/config/settings/…`).
    secret_paths: SecretPaths,
    /// The regular expressions it holds (`pattern`, `patternProperties` keys).
    patterns: usize,
}

impl std::fmt::Debug for SettingsSchema {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SettingsSchema")
            .field("source", &self.source)
            .finish_non_exhaustive()
    }
}

impl SettingsSchema {
    /// Compiles an announced settings schema; a schema that does not compile, holds more than
    /// [`MAX_PATTERNS_PER_SCHEMA`] patterns, marks a non-string secret or refers outside
    /// itself is refused with the reason (CONTRACT §10).
    pub fn compile(source: Value) -> Result<Self, String> {
        let patterns = count_patterns(&source);
        if patterns > MAX_PATTERNS_PER_SCHEMA {
            return Err(format!(
                "the schema holds {patterns} patterns (pattern, patternProperties), over the limit of {MAX_PATTERNS_PER_SCHEMA} per schema"
            ));
        }
        let validator = compile_bounded(&source).map_err(|error| describe_compile_error(&error))?;
        let secrets = SecretSchema::new(source.clone(), &["config", "settings"])?;
        Ok(Self {
            source: Arc::new(source),
            validator: Arc::new(validator),
            secret_paths: SecretPaths::of(secrets),
            patterns,
        })
    }

    /// The secret fields it declares, as paths into a service document.
    pub fn secret_paths(&self) -> &SecretPaths {
        &self.secret_paths
    }

    /// How many patterns it holds (all enforced schemas together hold at most
    /// [`MAX_PATTERNS_IN_ALL`]).
    pub fn patterns(&self) -> usize {
        self.patterns
    }

    /// Where `document`'s `config.settings` fails this schema (empty: it passes, or there
    /// are no settings).
    pub fn failures(&self, document: &Value) -> Vec<FieldError> {
        document
            .pointer(SETTINGS_POINTER)
            .map(|settings| {
                self.validator
                    .iter_errors(settings)
                    .flat_map(|error| field_errors(SETTINGS_POINTER, &error))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// True when both are the same schema.
    pub fn same_as(&self, other: &Self) -> bool {
        self.source == other.source
    }
}

/// Where a service document keeps its settings.
pub const SETTINGS_POINTER: &str = "/config/settings";

/// Why a settings schema did not compile, naming the pattern limit where a pattern failed.
fn describe_compile_error(error: &ValidationError<'_>) -> String {
    match error.kind() {
        ValidationErrorKind::Format { format } if format == "regex" => format!(
            "{}: the pattern is not a regular expression this manager runs (no look-around or back-reference), or it compiles to more than {} (the limit of each pattern)",
            error.schema_path().as_str(),
            crate::limits::human_size(PATTERN_SIZE_LIMIT)
        ),
        _ => error.to_string(),
    }
}

/// Patterns one settings schema may hold (CONTRACT §10).
pub const MAX_PATTERNS_PER_SCHEMA: usize = 64;
/// Patterns all enforced settings schemas together may hold (CONTRACT §10).
pub const MAX_PATTERNS_IN_ALL: usize = 512;

/// The regular expressions a schema holds: `pattern`s and `patternProperties` keys in every
/// subschema (counted where they are written, whether used or not).
pub fn count_patterns(schema: &Value) -> usize {
    match schema {
        Value::Object(fields) => {
            let own = usize::from(fields.get("pattern").is_some_and(Value::is_string))
                + fields
                    .get("patternProperties")
                    .and_then(Value::as_object)
                    .map_or(0, serde_json::Map::len);
            own + fields
                .iter()
                .filter(|(keyword, _)| {
                    !matches!(keyword.as_str(), "const" | "enum" | "default" | "examples")
                })
                .map(|(_, child)| count_patterns(child))
                .sum::<usize>()
        }
        Value::Array(items) => items.iter().map(count_patterns).sum(),
        _ => 0,
    }
}

/// Validates a service document; with `settings_schema`, `config.settings` is also checked
/// against it. Returns every violation (empty when valid), sorted by path.
pub fn validate_document(
    document: &Value,
    settings_schema: Option<&SettingsSchema>,
) -> Vec<FieldError> {
    let mut errors: Vec<FieldError> = document_validator()
        .iter_errors(document)
        .flat_map(|error| field_errors("", &error))
        .collect();
    if let Some(schema) = settings_schema {
        errors.extend(schema.failures(document));
    }
    errors.sort_by(|a, b| a.path.cmp(&b.path).then_with(|| a.message.cmp(&b.message)));
    errors.dedup();
    errors
}

/// Turns one validator error into field errors, moving `required` and `additionalProperties`
/// errors from the parent object to the field they are about.
fn field_errors(prefix: &str, error: &ValidationError<'_>) -> Vec<FieldError> {
    let at = format!("{prefix}{}", error.instance_path().as_str());
    match error.kind() {
        ValidationErrorKind::Required { property } => {
            let name = property
                .as_str()
                .map_or_else(|| property.to_string(), str::to_owned);
            vec![FieldError::new(child_pointer(&at, &name), "is required")]
        }
        ValidationErrorKind::AdditionalProperties { unexpected } => unexpected
            .iter()
            .map(|name| FieldError::new(child_pointer(&at, name), "is not an allowed field"))
            .collect(),
        kind => vec![FieldError::new(at, message_for(kind, error))],
    }
}

fn child_pointer(parent: &str, name: &str) -> String {
    let escaped = name.replace('~', "~0").replace('/', "~1");
    format!("{parent}/{escaped}")
}

fn message_for(kind: &ValidationErrorKind, error: &ValidationError<'_>) -> String {
    match kind {
        ValidationErrorKind::Type { kind } => match kind {
            jsonschema::error::TypeKind::Single(ty) => {
                format!("must be {}", article(&ty.to_string()))
            }
            jsonschema::error::TypeKind::Multiple(types) => {
                let names: Vec<String> = types.iter().map(|t| t.to_string()).collect();
                format!("must be one of the types: {}", names.join(", "))
            }
        },
        ValidationErrorKind::Enum { options } => {
            let names: Vec<String> = options
                .as_array()
                .map(|items| items.iter().map(display_value).collect())
                .unwrap_or_default();
            format!("must be one of: {}", names.join(", "))
        }
        ValidationErrorKind::Maximum { limit } => format!("must be at most {limit}"),
        ValidationErrorKind::Minimum { limit } => format!("must be at least {limit}"),
        ValidationErrorKind::ExclusiveMaximum { limit } => format!("must be less than {limit}"),
        ValidationErrorKind::ExclusiveMinimum { limit } => format!("must be greater than {limit}"),
        ValidationErrorKind::MinLength { limit: 1 } => "must not be empty".to_owned(),
        ValidationErrorKind::MinLength { limit } => {
            format!("must be at least {limit} characters long")
        }
        ValidationErrorKind::MaxLength { limit } => {
            format!("must be at most {limit} characters long")
        }
        ValidationErrorKind::Pattern { pattern } => format!("must match the pattern {pattern}"),
        ValidationErrorKind::Format { format } => format!("must be a valid {format}"),
        ValidationErrorKind::MinItems { limit } => format!("must have at least {limit} items"),
        ValidationErrorKind::MaxItems { limit } => format!("must have at most {limit} items"),
        ValidationErrorKind::Not { schema } => match schema.get("const") {
            // `service_name` `changes` (CONTRACT §7).
            Some(reserved) => format!("{} is reserved", display_value(reserved)),
            None => error.masked_with("the value").to_string(),
        },
        _ => error.masked_with("the value").to_string(),
    }
}

fn article(type_name: &str) -> String {
    match type_name {
        "array" | "integer" | "object" => format!("an {type_name}"),
        "null" => "null".to_owned(),
        _ => format!("a {type_name}"),
    }
}

fn display_value(value: &Value) -> String {
    value
        .as_str()
        .map_or_else(|| value.to_string(), str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn seed_default() -> Value {
        crate::config::document::seed_default_document("2026-11-25T10:00:00.000Z")
    }

    fn paths(errors: &[FieldError]) -> Vec<&str> {
        errors.iter().map(|e| e.path.as_str()).collect()
    }

    #[test]
    #[expect(
        clippy::disallowed_methods,
        reason = "the test measures, natively, how long a pattern takes"
    )]
    fn announced_patterns_cannot_stall_validation() {
        let nested = SettingsSchema::compile(json!({
            "type": "object",
            "properties": {"name": {"type": "string", "pattern": "^(a+)+$"}}
        }))
        .expect("a nested quantifier compiles");
        let started = std::time::Instant::now();
        let document = json!({
            "service_name": "s", "service_type": "stt", "enabled": true, "version": "1",
            "last_updated": "2026-01-01T00:00:00Z",
            "config": {"endpoints": [], "settings": {"name": format!("{}b", "a".repeat(50_000))}}
        });
        let errors = validate_document(&document, Some(&nested));
        assert!(errors.iter().any(|e| e.path == "/config/settings/name"));
        assert!(started.elapsed() < std::time::Duration::from_secs(1));
        assert!(
            SettingsSchema::compile(json!({"type": "string", "pattern": "^(?=a)(a+)+$"})).is_err(),
            "a look-around is refused when announced"
        );
    }

    #[test]
    fn the_seed_default_document_is_valid() {
        assert_eq!(validate_document(&seed_default(), None), vec![]);
    }

    #[test]
    fn status_and_last_updated_may_be_omitted() {
        let mut doc = seed_default();
        doc.as_object_mut().unwrap().remove("status");
        doc.as_object_mut().unwrap().remove("last_updated");
        assert_eq!(validate_document(&doc, None), vec![]);
    }

    #[test]
    fn every_required_field_is_named_by_its_own_pointer() {
        let errors = validate_document(&json!({"config": {}}), None);
        assert_eq!(
            paths(&errors),
            vec![
                "/config/endpoints",
                "/enabled",
                "/service_name",
                "/service_type",
                "/version"
            ]
        );
        assert!(errors.iter().all(|e| e.message == "is required"));
    }

    #[test]
    fn unknown_fields_are_named_by_their_own_pointer() {
        let mut doc = seed_default();
        doc["config"]["foo"] = json!(1);
        doc["extra"] = json!(true);
        doc["config"]["endpoints"][0]["weird/key"] = json!(1);
        let errors = validate_document(&doc, None);
        assert_eq!(
            paths(&errors),
            vec!["/config/endpoints/0/weird~1key", "/config/foo", "/extra"]
        );
    }

    #[test]
    fn each_bad_field_is_reported_at_its_pointer() {
        let cases = [
            ("/service_name", json!("Bad/Name"), "must match the pattern"),
            ("/service_name", json!(""), "must match the pattern"),
            (
                "/service_type",
                json!("tv"),
                "must be one of: stt, tts, llm, device_control, voice_router",
            ),
            ("/status", json!("great"), "must be one of"),
            ("/enabled", json!("yes"), "must be a boolean"),
            ("/version", json!(""), "must not be empty"),
            ("/version", json!(2), "must be a string"),
            (
                "/last_updated",
                json!("last tuesday"),
                "must be a valid date-time",
            ),
            ("/config/api_key", json!(42), "must be a string"),
            ("/config/provider", json!(false), "must be a string"),
            ("/config/endpoints", json!({}), "must be an array"),
            (
                "/config/endpoints/0/port",
                json!(70000),
                "must be at most 65535",
            ),
            ("/config/endpoints/0/port", json!(0), "must be at least 1"),
            (
                "/config/endpoints/0/port",
                json!(80.5),
                "must be an integer",
            ),
            (
                "/config/endpoints/0/protocol",
                json!("ftp"),
                "must be one of: http, https, tcp, udp",
            ),
            ("/config/settings", json!([]), "must be an object"),
        ];
        for (pointer, value, expected) in cases {
            let mut doc = seed_default();
            *doc.pointer_mut(pointer).unwrap() = value.clone();
            let errors = validate_document(&doc, None);
            assert_eq!(paths(&errors), vec![pointer], "{pointer} = {value}");
            assert!(
                errors[0].message.contains(expected),
                "{pointer} = {value}: {:?}",
                errors[0].message
            );
        }
    }

    #[test]
    fn all_violations_are_reported_not_just_the_first() {
        let mut doc = seed_default();
        doc["enabled"] = json!("no");
        doc["config"]["endpoints"][0]["port"] = json!(-1);
        doc["config"]["endpoints"][0]
            .as_object_mut()
            .unwrap()
            .remove("ip");
        let errors = validate_document(&doc, None);
        assert_eq!(
            paths(&errors),
            vec![
                "/config/endpoints/0/ip",
                "/config/endpoints/0/port",
                "/enabled"
            ]
        );
    }

    #[test]
    fn messages_never_echo_the_value() {
        let mut doc = seed_default();
        doc["config"]["api_key"] = json!({"secret": "sk-very-secret"});
        let errors = validate_document(&doc, None);
        assert!(!format!("{errors:?}").contains("sk-very-secret"));
    }

    #[test]
    fn settings_follow_the_announced_schema() {
        let schema = SettingsSchema::compile(json!({
            "type": "object",
            "properties": {"temperature": {"type": "number", "maximum": 1}},
            "required": ["temperature"]
        }))
        .unwrap();
        let mut doc = seed_default();
        assert_eq!(validate_document(&doc, Some(&schema)), vec![]);
        doc["config"]["settings"]["temperature"] = json!(3);
        assert_eq!(
            validate_document(&doc, Some(&schema)),
            vec![FieldError::new(
                "/config/settings/temperature",
                "must be at most 1"
            )]
        );
        doc["config"]["settings"] = json!({});
        assert_eq!(
            paths(&validate_document(&doc, Some(&schema))),
            vec!["/config/settings/temperature"]
        );
    }

    #[test]
    fn a_broken_settings_schema_is_refused() {
        assert!(SettingsSchema::compile(json!({"type": "no-such-type"})).is_err());
    }
}
