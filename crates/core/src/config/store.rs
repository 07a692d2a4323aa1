//! `config.json`, the seed's store format: one pretty-printed JSON object mapping each
//! `service_name` to its document. Loading reports exactly where a broken file fails;
//! saving goes through [`crate::fsutil::write_atomic`].

use crate::mqtt::topics::check_service_name;
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Why `config.json` could not be loaded. The file is never overwritten in these cases.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The file exists but could not be read.
    #[error("cannot read {path}: {source}")]
    Unreadable {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: io::Error,
    },
    /// The file is not valid JSON.
    #[error(
        "{path} is not valid JSON: {message} at line {line}, column {column}. \
         The file was left untouched: fix it (or move it away to start from the default) and start again"
    )]
    Parse {
        /// The file.
        path: PathBuf,
        /// 1-based line of the failure.
        line: usize,
        /// 1-based column of the failure.
        column: usize,
        /// The parser's reason.
        message: String,
    },
    /// The JSON is valid but not the expected shape.
    #[error("{path}: {problem}. The file was left untouched: fix it and start again")]
    Shape {
        /// The file.
        path: PathBuf,
        /// What is wrong, with a JSON Pointer.
        problem: String,
    },
}

/// Reads `path`: `Ok(None)` when it does not exist, the documents when it parses.
pub fn load(path: &Path) -> Result<Option<Map<String, Value>>, LoadError> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            return Err(LoadError::Unreadable {
                path: path.to_path_buf(),
                source,
            });
        }
    };
    let value: Value = serde_json::from_str(&text).map_err(|error| LoadError::Parse {
        path: path.to_path_buf(),
        line: error.line(),
        column: error.column(),
        message: parse_reason(&error),
    })?;
    let Value::Object(documents) = value else {
        return Err(LoadError::Shape {
            path: path.to_path_buf(),
            problem: "the top level must be an object mapping service names to documents".into(),
        });
    };
    // Names become MQTT topic levels: `a/b` or `#` would reach other topics.
    if let Some(problem) = documents
        .keys()
        .find_map(|name| check_service_name(name).err())
    {
        return Err(LoadError::Shape {
            path: path.to_path_buf(),
            problem,
        });
    }
    if let Some((name, _)) = documents.iter().find(|(_, doc)| !doc.is_object()) {
        return Err(LoadError::Shape {
            path: path.to_path_buf(),
            problem: format!("/{name} must be an object (a service document)"),
        });
    }
    Ok(Some(documents))
}

/// The file's bytes for a set of documents: pretty-printed (2 spaces) with a final newline.
pub fn render(documents: &BTreeMap<String, Arc<Value>>) -> Vec<u8> {
    let map: Map<String, Value> = documents
        .iter()
        .map(|(name, doc)| (name.clone(), Value::clone(doc)))
        .collect();
    let mut bytes = serde_json::to_vec_pretty(&Value::Object(map)).unwrap_or_default();
    bytes.push(b'\n');
    bytes
}

fn parse_reason(error: &serde_json::Error) -> String {
    // serde_json appends " at line X column Y"; we report those separately.
    let text = error.to_string();
    match text.rfind(" at line ") {
        Some(cut) => text[..cut].to_owned(),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_file_is_none() {
        let dir = tempfile::tempdir().unwrap();
        assert!(load(&dir.path().join("config.json")).unwrap().is_none());
    }

    #[test]
    fn a_broken_file_names_line_and_column() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.json");
        std::fs::write(&path, "{\n  \"a\": {\n    \"x\": 1,\n  }\n}\n").unwrap();
        let error = load(&path).unwrap_err();
        let LoadError::Parse { line, column, .. } = &error else {
            panic!("{error}")
        };
        assert_eq!((*line, *column), (4, 3));
        let text = error.to_string();
        assert!(text.contains("config.json"), "{text}");
        assert!(text.contains("line 4, column 3"), "{text}");
    }

    #[test]
    fn wrong_shapes_are_refused_with_a_pointer() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.json");
        std::fs::write(&path, "[1, 2]").unwrap();
        assert!(matches!(load(&path), Err(LoadError::Shape { .. })));
        std::fs::write(&path, "{\"svc\": 3}").unwrap();
        let error = load(&path).unwrap_err().to_string();
        assert!(error.contains("/svc must be an object"), "{error}");
    }

    #[test]
    fn render_round_trips() {
        let mut docs = BTreeMap::new();
        docs.insert("b".to_owned(), Arc::new(serde_json::json!({"x": 1})));
        docs.insert("a".to_owned(), Arc::new(serde_json::json!({"y": [1, 2]})));
        let bytes = render(&docs);
        assert!(bytes.ends_with(b"}\n"));
        let back: Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(back["a"]["y"][1], 2);
        assert!(String::from_utf8(bytes).unwrap().contains("\n  \"a\": {"));
    }
}
