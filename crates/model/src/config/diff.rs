//! A structural diff of two JSON documents: every difference by JSON Pointer. Shared by the
//! editor's review, the history, import previews and restore previews.

use super::managed::is_managed;
use serde_json::Value;

/// One difference between two documents.
#[derive(Debug, Clone, PartialEq)]
pub struct Difference {
    /// Where, as a JSON Pointer.
    pub pointer: String,
    /// The old value (`None`: added).
    pub before: Option<Value>,
    /// The new value (`None`: removed).
    pub after: Option<Value>,
}

/// Every difference from `before` to `after`, in document order; objects and arrays are
/// compared member by member. The managed fields ([`super::MANAGED_FIELDS`]) are ignored:
/// the manager sets them.
pub fn diff(before: &Value, after: &Value) -> Vec<Difference> {
    let mut out = Vec::new();
    walk("", before, after, &mut out);
    out.retain(|d| !is_managed(&d.pointer));
    out
}

fn walk(pointer: &str, before: &Value, after: &Value, out: &mut Vec<Difference>) {
    match (before, after) {
        (Value::Object(a), Value::Object(b)) => {
            for (key, old) in a {
                let child = format!("{pointer}/{}", escape(key));
                match b.get(key) {
                    Some(new) => walk(&child, old, new, out),
                    None => out.push(Difference {
                        pointer: child,
                        before: Some(old.clone()),
                        after: None,
                    }),
                }
            }
            for (key, new) in b.iter().filter(|(k, _)| !a.contains_key(*k)) {
                out.push(Difference {
                    pointer: format!("{pointer}/{}", escape(key)),
                    before: None,
                    after: Some(new.clone()),
                });
            }
        }
        (Value::Array(a), Value::Array(b)) => {
            for i in 0..a.len().max(b.len()) {
                let child = format!("{pointer}/{i}");
                match (a.get(i), b.get(i)) {
                    (Some(old), Some(new)) => walk(&child, old, new, out),
                    (old, new) => out.push(Difference {
                        pointer: child,
                        before: old.cloned(),
                        after: new.cloned(),
                    }),
                }
            }
        }
        (a, b) if a != b => out.push(Difference {
            pointer: pointer.to_owned(),
            before: Some(a.clone()),
            after: Some(b.clone()),
        }),
        _ => {}
    }
}

fn escape(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn diffs_name_each_change_by_pointer() {
        let a = json!({"enabled": true, "config": {"model": "a", "endpoints": [{"port": 1}], "gone": 1}, "last_updated": "x"});
        let b = json!({"enabled": false, "config": {"model": "a", "endpoints": [{"port": 2}, {"port": 3}], "new": 2}, "last_updated": "y"});
        let pointers: Vec<String> = diff(&a, &b).into_iter().map(|d| d.pointer).collect();
        assert_eq!(
            pointers,
            vec![
                "/enabled",
                "/config/endpoints/0/port",
                "/config/endpoints/1",
                "/config/gone",
                "/config/new"
            ]
        );
        assert!(diff(&a, &a).is_empty());
    }
}
