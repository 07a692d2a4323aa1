//! A change set as it is asked for (CONTRACT §7), from a REST body or a follower's MQTT
//! request: 1 to 100 documents of distinct services, at most 8 MiB of JSON in all, an
//! optional `watch` (0–600 s) and `allow_warnings`. Reading it checks only its shape; each
//! document is validated by the config service's rules when the set is decided.

use crate::config::FieldError;
use crate::limits::{CHANGE_SET_LIMIT, json_len};
use crate::watch::WatchSecs;
use serde_json::value::RawValue;
use serde_json::{Value, json};
use std::collections::HashMap;

/// The most documents one set may hold.
pub const MAX_MEMBERS: usize = 100;

/// A change set's request, its shape checked.
#[derive(Debug, Clone, PartialEq)]
pub struct ChangeSetRequest {
    /// The documents, in order; each names its service in `service_name`.
    pub documents: Vec<Value>,
    /// How long to watch the set (`None`: the `safe_apply_secs` default).
    pub watch: Option<u64>,
    /// New warnings of the checks across services do not refuse the set.
    pub allow_warnings: bool,
}

/// Why a request cannot even be decided.
#[derive(Debug, Clone, PartialEq)]
pub enum RequestError {
    /// The shape is wrong; each problem by JSON Pointer into the request.
    Invalid(Vec<FieldError>),
    /// The documents are over [`CHANGE_SET_LIMIT`] bytes of JSON together.
    TooLarge(usize),
}

impl RequestError {
    /// A sentence for the admin.
    pub fn message(&self) -> String {
        match self {
            Self::Invalid(details) => match details.first() {
                Some(first) if details.len() == 1 => {
                    format!(
                        "the change set is invalid: {} {}",
                        first.path, first.message
                    )
                }
                Some(first) => format!(
                    "the change set is invalid: {} {} (and {} more)",
                    first.path,
                    first.message,
                    details.len() - 1
                ),
                None => "the change set is invalid".to_owned(),
            },
            Self::TooLarge(size) => format!(
                "the change set's documents are {size} bytes of JSON, over the {} limit",
                crate::limits::human_size(CHANGE_SET_LIMIT)
            ),
        }
    }
}

/// What a follower's change set carries besides the request (CONTRACT §7, §10).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct WireExtras {
    /// Its `request_id`, as sent (checked by whoever answers).
    pub request_id: Option<String>,
    /// Its `actor`, as sent (read with [`crate::config::Actor::from_wire`]).
    pub actor: Option<Value>,
}

impl ChangeSetRequest {
    /// Reads a follower's change set as it arrived on the bus, without ever holding the whole
    /// payload as one JSON tree (CONTRACT §10: an 8 MiB set is processed within a few times
    /// its size): the documents are kept as text slices of the payload until their count and
    /// size are checked, then parsed one by one. `Err` also carries what could be read of the
    /// extras, so that a refusal can still be answered.
    pub fn from_wire(payload: &[u8]) -> Result<(WireExtras, Self), (WireExtras, RequestError)> {
        #[derive(serde::Deserialize)]
        struct Wire<'a> {
            #[serde(default)]
            request_id: Option<Value>,
            #[serde(default)]
            actor: Option<Value>,
            #[serde(default, borrow)]
            documents: Option<&'a RawValue>,
            #[serde(default)]
            watch: Option<Value>,
            #[serde(default)]
            allow_warnings: Option<Value>,
        }
        let wire: Wire<'_> = serde_json::from_slice(payload).map_err(|error| {
            (
                WireExtras::default(),
                invalid(
                    "",
                    &format!("must be a JSON object with `documents` ({error})"),
                ),
            )
        })?;
        let extras = WireExtras {
            request_id: match wire.request_id {
                Some(Value::String(id)) => Some(id),
                _ => None,
            },
            actor: wire.actor,
        };
        let Some(raw) = wire.documents else {
            return Err((
                extras,
                invalid("/documents", "is required (1 to 100 documents)"),
            ));
        };
        let Ok(slices) = serde_json::from_str::<Vec<&RawValue>>(raw.get()) else {
            return Err((
                extras,
                invalid("/documents", "must be an array of documents"),
            ));
        };
        if slices.is_empty() || slices.len() > MAX_MEMBERS {
            return Err((
                extras,
                invalid(
                    "/documents",
                    &format!(
                        "must hold 1 to {MAX_MEMBERS} documents (it holds {})",
                        slices.len()
                    ),
                ),
            ));
        }
        let size: usize = slices.iter().map(|d| d.get().len()).sum();
        if size > CHANGE_SET_LIMIT {
            return Err((extras, RequestError::TooLarge(size)));
        }
        let mut documents = Vec::with_capacity(slices.len());
        for slice in slices {
            match serde_json::from_str::<Value>(slice.get()) {
                Ok(document) => documents.push(document),
                Err(_) => {
                    return Err((
                        extras,
                        invalid("/documents", "must be an array of documents"),
                    ));
                }
            }
        }
        let mut body = serde_json::Map::new();
        body.insert("documents".to_owned(), Value::Array(documents));
        if let Some(watch) = wire.watch {
            body.insert("watch".to_owned(), watch);
        }
        if let Some(allow) = wire.allow_warnings {
            body.insert("allow_warnings".to_owned(), allow);
        }
        match Self::read(Value::Object(body)) {
            Ok(request) => Ok((extras, request)),
            Err(error) => Err((extras, error)),
        }
    }

    /// Reads a request body: `{"documents": [...], "watch"?, "allow_warnings"?}` (other
    /// fields — a follower's `request_id` and `actor` — are read by its caller). The documents
    /// are moved out of the body, never copied.
    pub fn read(mut body: Value) -> Result<Self, RequestError> {
        let Some(fields) = body.as_object_mut() else {
            return Err(invalid("", "must be a JSON object with `documents`"));
        };
        let documents = match fields.remove("documents") {
            Some(Value::Array(documents)) => documents,
            Some(_) => return Err(invalid("/documents", "must be an array of documents")),
            None => return Err(invalid("/documents", "is required (1 to 100 documents)")),
        };
        if documents.is_empty() || documents.len() > MAX_MEMBERS {
            return Err(invalid(
                "/documents",
                &format!(
                    "must hold 1 to {MAX_MEMBERS} documents (it holds {})",
                    documents.len()
                ),
            ));
        }
        let size: usize = documents.iter().map(json_len).sum();
        if size > CHANGE_SET_LIMIT {
            return Err(RequestError::TooLarge(size));
        }
        let mut details = Vec::new();
        let mut seen: HashMap<&str, usize> = HashMap::new();
        for (index, document) in documents.iter().enumerate() {
            let name = document.get("service_name").and_then(Value::as_str);
            match (document.is_object(), name) {
                (false, _) => details.push(FieldError::new(
                    format!("/documents/{index}"),
                    "must be a JSON object (a service document)",
                )),
                (true, None) => details.push(FieldError::new(
                    format!("/documents/{index}/service_name"),
                    "is required (the service the document is for)",
                )),
                (true, Some(name)) => {
                    if let Some(first) = seen.insert(name, index) {
                        details.push(FieldError::new(
                            format!("/documents/{index}/service_name"),
                            format!(
                                "names {name:?}, as /documents/{first} does: a service may appear once in a set"
                            ),
                        ));
                    }
                }
            }
        }
        let watch = match fields.get("watch") {
            None | Some(Value::Null) => None,
            Some(value) => match WatchSecs::from_json(value) {
                Ok(secs) => Some(secs.secs()),
                Err(error) => {
                    details.push(FieldError::new("/watch", error));
                    None
                }
            },
        };
        let allow_warnings = match fields.get("allow_warnings") {
            None | Some(Value::Null) => false,
            Some(Value::Bool(allow)) => *allow,
            Some(_) => {
                details.push(FieldError::new("/allow_warnings", "must be true or false"));
                false
            }
        };
        if !details.is_empty() {
            return Err(RequestError::Invalid(details));
        }
        Ok(Self {
            documents,
            watch,
            allow_warnings,
        })
    }

    /// The services, in the documents' order.
    pub fn services(&self) -> Vec<String> {
        self.documents
            .iter()
            .map(|d| {
                d.get("service_name")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned()
            })
            .collect()
    }

    /// The request as a follower sends it on (without `request_id` and `actor`).
    pub fn to_wire(&self) -> Value {
        let mut wire = json!({ "documents": self.documents });
        if let Some(watch) = self.watch {
            wire["watch"] = json!(watch);
        }
        if self.allow_warnings {
            wire["allow_warnings"] = json!(true);
        }
        wire
    }
}

fn invalid(path: &str, message: &str) -> RequestError {
    RequestError::Invalid(vec![FieldError::new(path, message)])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(name: &str) -> Value {
        json!({"service_name": name, "enabled": true})
    }

    #[test]
    fn a_set_reads_its_documents_and_options() {
        let request = ChangeSetRequest::read(
            json!({"documents": [doc("a"), doc("b")], "watch": 30, "allow_warnings": true}),
        )
        .unwrap();
        assert_eq!(request.services(), ["a", "b"]);
        assert_eq!(request.watch, Some(30));
        assert!(request.allow_warnings);
        assert_eq!(ChangeSetRequest::read(request.to_wire()).unwrap(), request);
    }

    #[test]
    fn empty_oversized_and_repeated_sets_are_refused() {
        let refused = |body: Value| match ChangeSetRequest::read(body) {
            Err(RequestError::Invalid(details)) => details,
            other => panic!("{other:?}"),
        };
        assert_eq!(refused(json!({"documents": []}))[0].path, "/documents");
        assert_eq!(refused(json!({}))[0].path, "/documents");
        assert_eq!(refused(json!([]))[0].path, "");
        let many: Vec<Value> = (0..101).map(|i| doc(&format!("s{i}"))).collect();
        assert_eq!(refused(json!({ "documents": many }))[0].path, "/documents");
        let twice = refused(json!({"documents": [doc("a"), doc("b"), doc("a")]}));
        assert_eq!(twice[0].path, "/documents/2/service_name");
        assert!(twice[0].message.contains("/documents/0"), "{twice:?}");
        let shapes =
            refused(json!({"documents": [3, {"x": 1}], "watch": 601, "allow_warnings": "yes"}));
        let paths: Vec<&str> = shapes.iter().map(|d| d.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "/documents/0",
                "/documents/1/service_name",
                "/watch",
                "/allow_warnings"
            ]
        );
        let big = "x".repeat(CHANGE_SET_LIMIT / 8 + 1);
        let heavy: Vec<Value> = (0..8)
            .map(|i| json!({"service_name": format!("s{i}"), "pad": big}))
            .collect();
        assert!(matches!(
            ChangeSetRequest::read(json!({ "documents": heavy })),
            Err(RequestError::TooLarge(_))
        ));
    }
}
