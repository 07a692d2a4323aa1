//! Secrets wherever a schema puts them never show (CONTRACT §10), as a property (proptest):
//! a settings schema is generated with a secret field behind any nesting of `properties`,
//! array `items`, `additionalProperties`, `patternProperties`, `allOf`/`anyOf` and local
//! `$ref`s, with a document that fills it; the masked document (what REST, socket.io, the
//! message log and backups show) and the masked differences against another one never show
//! the secret, still show what is not secret, and a masked document sent back restores every
//! secret.
//!
//! Cases: `PROPTEST_CASES` (default 256).

use alicia_config_manager::core::config::secret_paths::SecretSchema;
use alicia_config_manager::core::config::{
    SecretPaths, diff, mask_differences, mask_document_with, restore_masked_secrets_with,
};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use serde_json::{Map, Value, json};

const SECRET: &str = "SECRET-must-never-show";
const VISIBLE: &str = "visible-value";

/// Where the secret sits, from the settings object down.
#[derive(Debug, Clone)]
enum Shape {
    Leaf { password_format: bool },
    Property(Box<Shape>),
    Items(Box<Shape>),
    Additional(Box<Shape>),
    Pattern(Box<Shape>),
    AllOf(Box<Shape>),
    AnyOf(Box<Shape>),
    Ref(Box<Shape>),
}

fn shape() -> impl Strategy<Value = Shape> {
    any::<bool>()
        .prop_map(|password_format| Shape::Leaf { password_format })
        .prop_recursive(6, 24, 1, |inner| {
            prop_oneof![
                inner.clone().prop_map(|s| Shape::Property(Box::new(s))),
                inner.clone().prop_map(|s| Shape::Items(Box::new(s))),
                inner.clone().prop_map(|s| Shape::Additional(Box::new(s))),
                inner.clone().prop_map(|s| Shape::Pattern(Box::new(s))),
                inner.clone().prop_map(|s| Shape::AllOf(Box::new(s))),
                inner.clone().prop_map(|s| Shape::AnyOf(Box::new(s))),
                inner.prop_map(|s| Shape::Ref(Box::new(s))),
            ]
        })
}

/// The schema and a value it describes, with the secret where the shape puts it; `defs`
/// collects what `$ref`s point at.
fn build(shape: &Shape, defs: &mut Map<String, Value>) -> (Value, Value) {
    match shape {
        Shape::Leaf { password_format } => {
            let schema = if *password_format {
                json!({"type": "string", "format": "password"})
            } else {
                json!({"type": "string", "writeOnly": true})
            };
            (schema, json!(SECRET))
        }
        Shape::Property(inner) => {
            let (schema, value) = build(inner, defs);
            (
                json!({"type": "object", "properties": {"inner": schema, "plain": {"type": "string"}}}),
                json!({"inner": value, "plain": VISIBLE}),
            )
        }
        Shape::Items(inner) => {
            let (schema, value) = build(inner, defs);
            (
                json!({"type": "array", "items": schema}),
                json!([value.clone(), value]),
            )
        }
        Shape::Additional(inner) => {
            let (schema, value) = build(inner, defs);
            (
                json!({"type": "object", "properties": {"known": {"type": "string"}}, "additionalProperties": schema}),
                json!({"known": VISIBLE, "any-key": value}),
            )
        }
        Shape::Pattern(inner) => {
            let (schema, value) = build(inner, defs);
            (
                json!({"type": "object", "patternProperties": {"^x-": schema}}),
                json!({"x-one": value, "plain": VISIBLE}),
            )
        }
        Shape::AllOf(inner) => {
            let (schema, value) = build(inner, defs);
            (json!({"allOf": [{}, schema]}), value)
        }
        Shape::AnyOf(inner) => {
            let (schema, value) = build(inner, defs);
            (json!({"anyOf": [{"type": "null"}, schema]}), value)
        }
        Shape::Ref(inner) => {
            let (schema, value) = build(inner, defs);
            let name = format!("d{}", defs.len());
            defs.insert(name.clone(), schema);
            (json!({"$ref": format!("#/$defs/{name}")}), value)
        }
    }
}

fn document_with(settings: Value) -> Value {
    json!({
        "service_name": "svc", "service_type": "llm", "enabled": true, "version": "1.0.0",
        "config": {"api_key": "", "endpoints": [{"type": "llm", "ip": "10.0.0.1"}], "settings": settings}
    })
}

#[test]
fn a_secret_anywhere_a_schema_puts_it_never_shows() {
    let mut runner = TestRunner::new(Config {
        failure_persistence: None,
        ..Config::default()
    });
    runner
        .run(&shape(), |shape| {
            let mut defs = Map::new();
            let (inner, value) = build(&shape, &mut defs);
            let mut schema =
                json!({"type": "object", "properties": {"field": inner, "shown": {"type": "string"}}});
            schema["$defs"] = Value::Object(defs);
            let settings = json!({"field": value, "shown": VISIBLE});
            let secrets =
                SecretPaths::of(SecretSchema::new(schema, &["config", "settings"]).unwrap());
            let stored = document_with(settings);

            let masked = mask_document_with(&stored, &secrets);
            let text = masked.to_string();
            prop_assert!(!text.contains(SECRET), "{shape:?}: {text}");
            prop_assert!(text.contains(VISIBLE), "{shape:?}: what is not secret stays: {text}");

            let mut before = document_with(json!({}));
            before["config"]["settings"] = json!({"shown": "other"});
            let mut changes = diff(&before, &stored);
            mask_differences(&mut changes, &secrets);
            let shown = format!("{changes:?}");
            prop_assert!(!shown.contains(SECRET), "{shape:?}: {shown}");

            let mut back = masked.clone();
            restore_masked_secrets_with(&mut back, Some(&stored), &secrets).unwrap();
            prop_assert_eq!(&back, &stored, "{:?}: the masked copy restores", shape);
            Ok(())
        })
        .unwrap();
}
