//! Compiling a JSON Schema with bounded patterns (CONTRACT §10): the `regex` engine, linear
//! time, each pattern within a size limit.

use jsonschema::{ValidationError, Validator};
use serde_json::Value;

/// The compiled size and the DFA cache one pattern may take (bytes, CONTRACT §10).
pub const PATTERN_SIZE_LIMIT: usize = 64 * 1024;

/// Compiles a schema. Patterns run on the `regex` engine (linear time: no backtracking, so an
/// announced pattern can never stall the config writer; look-arounds and back-references are
/// refused at compile time), each within [`PATTERN_SIZE_LIMIT`] of compiled program and of
/// DFA cache (CONTRACT §10).
pub(super) fn compile_bounded(schema: &Value) -> Result<Validator, ValidationError<'static>> {
    jsonschema::options()
        .should_validate_formats(true)
        .with_pattern_options(
            jsonschema::PatternOptions::regex()
                .size_limit(PATTERN_SIZE_LIMIT)
                .dfa_size_limit(PATTERN_SIZE_LIMIT),
        )
        .build(schema)
}
