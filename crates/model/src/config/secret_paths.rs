//! Where a schema puts its secrets (CONTRACT §10). A value is secret when any subschema that
//! could apply to it marks it `writeOnly: true` or `format: "password"`. Which subschemas could
//! apply is worked out along the document itself, value by value, so recursive schemas
//! (`$ref` cycles) and secrets in array items or map values are found at any depth:
//! - at a value: every branch of `allOf`/`anyOf`/`oneOf`, `if`/`then`/`else`,
//!   `dependentSchemas`, and local `$ref`/`$dynamicRef` targets (`#`, `#/…`, `#name`; a cycle
//!   stops where it closes);
//! - at a property: `properties`, matching `patternProperties`, else `additionalProperties`
//!   and `unevaluatedProperties`;
//! - at an array item: `prefixItems` (or an `items` array), else `items`, `additionalItems`,
//!   `unevaluatedItems`, and `contains`.
//!
//! A schema that marks a non-string value secret, or holds a `$ref`/`$dynamicRef` that is not
//! local (what it reaches cannot be seen), is refused ([`SecretSchema::new`]).

use jsonschema::Validator;
use serde_json::Value;
use std::collections::HashMap;
use std::sync::Arc;

/// True when a schema marks its field secret: `writeOnly: true` or `format: "password"`.
pub fn is_secret_schema(schema: &Value) -> bool {
    schema.get("writeOnly").and_then(Value::as_bool) == Some(true)
        || schema.get("format").and_then(Value::as_str) == Some("password")
}

/// Subschemas that may apply to one value before the finder gives up and calls it secret.
const MAX_APPLICABLE: usize = 512;

/// A schema that may declare secrets, and where in a document it applies; cheap to clone.
#[derive(Clone)]
pub struct SecretSchema {
    root: Arc<Value>,
    /// The keys from the document's root to where the schema applies (`config`, `settings`).
    prefix: Arc<[String]>,
    /// `patternProperties` keys, compiled once.
    patterns: Arc<HashMap<String, KeyPattern>>,
}

impl std::fmt::Debug for SecretSchema {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SecretSchema at /{}", self.prefix.join("/"))
    }
}

/// A `patternProperties` key, compiled with the settings schemas' pattern limits.
struct KeyPattern {
    matcher: Option<Validator>,
}

impl KeyPattern {
    fn new(source: &str) -> Self {
        let schema = serde_json::json!({"type": "string", "pattern": source});
        Self {
            matcher: super::bounded::compile_bounded(&schema).ok(),
        }
    }

    /// Whether a property name matches (a pattern that does not compile matches every name:
    /// a secret is never shown for want of a pattern).
    fn matches(&self, name: &str) -> bool {
        self.matcher
            .as_ref()
            .is_none_or(|matcher| matcher.is_valid(&Value::String(name.to_owned())))
    }
}

/// The subschemas that could apply to one value.
pub struct Applicable<'a> {
    schemas: Vec<&'a Value>,
    /// Too many to follow: the value counts as secret.
    overflow: bool,
}

impl Applicable<'_> {
    /// True when one of them marks the value secret (or there were too many to tell).
    pub fn is_secret(&self) -> bool {
        self.overflow || self.schemas.iter().any(|s| is_secret_schema(s))
    }

    /// True when nothing applies (nothing below can be secret).
    pub fn is_empty(&self) -> bool {
        self.schemas.is_empty() && !self.overflow
    }
}

impl SecretSchema {
    /// `schema`, applying at `prefix` in a document; refused when it marks a non-string value
    /// secret or refers outside itself.
    pub fn new(schema: Value, prefix: &[&str]) -> Result<Self, String> {
        check_schema(&schema, "")?;
        let mut patterns = HashMap::new();
        collect_patterns(&schema, &mut patterns);
        Ok(Self {
            root: Arc::new(schema),
            prefix: prefix.iter().map(|k| (*k).to_owned()).collect(),
            patterns: Arc::new(patterns),
        })
    }

    /// The keys from a document's root to where the schema applies.
    pub fn prefix(&self) -> &[String] {
        &self.prefix
    }

    /// What applies at the schema's own place.
    pub fn at_root(&self) -> Applicable<'_> {
        self.expand(vec![&*self.root])
    }

    /// What applies to the property `name` of a value `parent` applies to.
    pub fn at_key<'a>(&'a self, parent: &Applicable<'a>, name: &str) -> Applicable<'a> {
        if parent.overflow {
            return overflowed();
        }
        let mut seeds = Vec::new();
        for schema in &parent.schemas {
            let mut named = false;
            if let Some(property) = schema.get("properties").and_then(|p| p.get(name)) {
                seeds.push(property);
                named = true;
            }
            if let Some(patterns) = schema.get("patternProperties").and_then(Value::as_object) {
                for (pattern, property) in patterns {
                    if self.patterns.get(pattern).is_none_or(|p| p.matches(name)) {
                        seeds.push(property);
                        named = true;
                    }
                }
            }
            if !named {
                for keyword in ["additionalProperties", "unevaluatedProperties"] {
                    if let Some(others) = schema.get(keyword) {
                        seeds.push(others);
                    }
                }
            }
        }
        self.expand(seeds)
    }

    /// What applies to the item at `index` of an array `parent` applies to.
    pub fn at_index<'a>(&'a self, parent: &Applicable<'a>, index: usize) -> Applicable<'a> {
        if parent.overflow {
            return overflowed();
        }
        let mut seeds = Vec::new();
        for schema in &parent.schemas {
            let positional = schema
                .get("prefixItems")
                .or_else(|| schema.get("items").filter(|items| items.is_array()))
                .and_then(Value::as_array);
            let past_positional = positional.is_none_or(|p| index >= p.len());
            if let Some(item) = positional.and_then(|p| p.get(index)) {
                seeds.push(item);
            }
            if past_positional {
                for keyword in ["items", "additionalItems", "unevaluatedItems"] {
                    if let Some(item) = schema.get(keyword).filter(|item| !item.is_array()) {
                        seeds.push(item);
                    }
                }
            }
            if let Some(item) = schema.get("contains") {
                seeds.push(item);
            }
        }
        self.expand(seeds)
    }

    /// What applies to the member `token` (a property name, or an array index: a pointer does
    /// not say which, so both readings count).
    pub fn at_token<'a>(&'a self, parent: &Applicable<'a>, token: &str) -> Applicable<'a> {
        let by_key = self.at_key(parent, token);
        match token.parse::<usize>() {
            Ok(index) => {
                let by_index = self.at_index(parent, index);
                if by_key.overflow || by_index.overflow {
                    return overflowed();
                }
                let mut seeds = by_key.schemas;
                seeds.extend(by_index.schemas);
                self.expand(seeds)
            }
            Err(_) => by_key,
        }
    }

    /// True when one of the schemas applying to a value names `name` in its `properties` (a
    /// plain field, not a map's key).
    pub fn names_property(&self, parent: &Applicable<'_>, name: &str) -> bool {
        parent
            .schemas
            .iter()
            .any(|schema| schema.get("properties").and_then(|p| p.get(name)).is_some())
    }

    /// The seeds and every subschema that applies with them, each once.
    fn expand<'a>(&'a self, seeds: Vec<&'a Value>) -> Applicable<'a> {
        let mut schemas: Vec<&'a Value> = Vec::new();
        let mut queue = seeds;
        while let Some(schema) = queue.pop() {
            if !schema.is_object() || schemas.iter().any(|seen| std::ptr::eq(*seen, schema)) {
                continue;
            }
            if schemas.len() >= MAX_APPLICABLE {
                return overflowed();
            }
            schemas.push(schema);
            for keyword in ["$ref", "$dynamicRef", "$recursiveRef"] {
                if let Some(target) = schema
                    .get(keyword)
                    .and_then(Value::as_str)
                    .and_then(|reference| resolve_local(&self.root, reference))
                {
                    queue.push(target);
                }
            }
            for keyword in ["allOf", "anyOf", "oneOf"] {
                if let Some(branches) = schema.get(keyword).and_then(Value::as_array) {
                    queue.extend(branches);
                }
            }
            for keyword in ["if", "then", "else"] {
                if let Some(branch) = schema.get(keyword) {
                    queue.push(branch);
                }
            }
            for keyword in ["dependentSchemas", "dependencies"] {
                if let Some(branches) = schema.get(keyword).and_then(Value::as_object) {
                    queue.extend(branches.values());
                }
            }
        }
        Applicable {
            schemas,
            overflow: false,
        }
    }
}

fn overflowed<'a>() -> Applicable<'a> {
    Applicable {
        schemas: Vec::new(),
        overflow: true,
    }
}

/// The subschema a local reference names (`#`, `#/pointer`, `#anchor`).
fn resolve_local<'a>(root: &'a Value, reference: &str) -> Option<&'a Value> {
    let fragment = reference.strip_prefix('#')?;
    if fragment.is_empty() {
        Some(root)
    } else if fragment.starts_with('/') {
        root.pointer(&unescape_uri(fragment))
    } else {
        find_anchor(root, fragment)
    }
}

/// Refuses a schema that marks a non-string value secret or refers outside itself.
fn check_schema(schema: &Value, at: &str) -> Result<(), String> {
    match schema {
        Value::Object(fields) => {
            if is_secret_schema(schema) {
                check_secret_type(schema, at)?;
            }
            for keyword in ["$ref", "$dynamicRef", "$recursiveRef"] {
                if let Some(reference) = fields.get(keyword).and_then(Value::as_str)
                    && !reference.starts_with('#')
                {
                    return Err(format!(
                        "{at}/{keyword} {reference:?} is not local: a settings schema may only \
                         refer within itself (#/$defs/…), so that its secret fields can be found"
                    ));
                }
            }
            for (keyword, child) in fields {
                if !matches!(keyword.as_str(), "const" | "enum" | "default" | "examples") {
                    check_schema(child, &format!("{at}/{keyword}"))?;
                }
            }
            Ok(())
        }
        Value::Array(items) => items
            .iter()
            .enumerate()
            .try_for_each(|(index, item)| check_schema(item, &format!("{at}/{index}"))),
        _ => Ok(()),
    }
}

/// A secret must be a string (or null): anything else cannot be masked as one.
fn check_secret_type(schema: &Value, at: &str) -> Result<(), String> {
    let allowed = |t: &Value| matches!(t.as_str(), Some("string" | "null"));
    let fine = match schema.get("type") {
        None => true,
        Some(Value::Array(types)) => types.iter().all(allowed),
        Some(single) => allowed(single),
    };
    if fine {
        Ok(())
    } else {
        let at = if at.is_empty() { "/" } else { at };
        Err(format!(
            "{at} is marked secret (writeOnly or format: password) but is not a string: only \
             strings can be kept secret"
        ))
    }
}

fn collect_patterns(schema: &Value, out: &mut HashMap<String, KeyPattern>) {
    match schema {
        Value::Object(fields) => {
            if let Some(patterns) = fields.get("patternProperties").and_then(Value::as_object) {
                for pattern in patterns.keys() {
                    out.entry(pattern.clone())
                        .or_insert_with(|| KeyPattern::new(pattern));
                }
            }
            fields
                .values()
                .for_each(|child| collect_patterns(child, out));
        }
        Value::Array(items) => items.iter().for_each(|child| collect_patterns(child, out)),
        _ => {}
    }
}

/// A JSON Pointer written in a URI fragment, with its percent-escapes decoded.
fn unescape_uri(fragment: &str) -> String {
    let bytes = fragment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        if bytes[index] == b'%'
            && let Some(hex) = fragment.get(index + 1..index + 3)
            && let Ok(byte) = u8::from_str_radix(hex, 16)
        {
            out.push(byte);
            index += 3;
            continue;
        }
        out.push(bytes[index]);
        index += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The subschema that declares `$anchor` or `$dynamicAnchor` `name`.
fn find_anchor<'a>(schema: &'a Value, name: &str) -> Option<&'a Value> {
    match schema {
        Value::Object(fields) => {
            let declares = ["$anchor", "$dynamicAnchor"]
                .iter()
                .any(|k| fields.get(*k).and_then(Value::as_str) == Some(name));
            if declares {
                return Some(schema);
            }
            fields.values().find_map(|child| find_anchor(child, name))
        }
        Value::Array(items) => items.iter().find_map(|child| find_anchor(child, name)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn remote_references_and_secret_numbers_are_refused() {
        let remote = json!({"properties": {"a": {"$ref": "https://example.com/s.json"}}});
        let error = SecretSchema::new(remote, &[]).unwrap_err();
        assert!(error.contains("not local"), "{error}");
        let number = json!({"properties": {"pin": {"type": "integer", "writeOnly": true}}});
        let error = SecretSchema::new(number, &[]).unwrap_err();
        assert!(error.contains("/properties/pin"), "{error}");
        let nullable =
            json!({"properties": {"k": {"type": ["string", "null"], "writeOnly": true}}});
        assert!(SecretSchema::new(nullable, &[]).is_ok());
    }

    #[test]
    fn what_applies_follows_references_branches_items_and_maps() {
        let schema = SecretSchema::new(
            json!({
                "$defs": {"Token": {"type": "string", "format": "password"}},
                "properties": {
                    "by_ref": {"$ref": "#/$defs/Token"},
                    "list": {"items": {"$ref": "#/$defs/Token"}},
                    "map": {"additionalProperties": {"allOf": [{"$ref": "#/$defs/Token"}]}},
                    "plain": {"type": "string"},
                },
                "patternProperties": {"^x-": {"writeOnly": true}},
            }),
            &[],
        )
        .unwrap();
        let root = schema.at_root();
        assert!(schema.at_key(&root, "by_ref").is_secret());
        assert!(!schema.at_key(&root, "plain").is_secret());
        assert!(schema.at_key(&root, "x-key").is_secret());
        let list = schema.at_key(&root, "list");
        assert!(schema.at_index(&list, 7).is_secret());
        let map = schema.at_key(&root, "map");
        assert!(schema.at_key(&map, "anything").is_secret());
    }
}
