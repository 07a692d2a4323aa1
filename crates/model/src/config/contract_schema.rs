//! The service-config JSON Schema of CONTRACT §1, as shipped, parsed once.

use serde_json::Value;
use std::sync::OnceLock;

/// The schema as shipped in `assets/schema/service-config.schema.json`.
pub const SCHEMA_SOURCE: &str =
    include_str!("../../../../assets/schema/service-config.schema.json");

/// The parsed schema document (served at `GET /api/config/schema`).
pub fn schema_document() -> &'static Value {
    static DOCUMENT: OnceLock<Value> = OnceLock::new();
    DOCUMENT.get_or_init(|| {
        serde_json::from_str(SCHEMA_SOURCE).expect("the bundled schema is valid JSON")
    })
}
