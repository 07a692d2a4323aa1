//! JSON for people: a structural diff (what changed, by JSON Pointer) and a read-only,
//! pretty-printed view.

use crate::core::config::MASK;
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
/// compared member by member. `last_updated` and `status` are ignored (the manager sets them).
pub fn diff(before: &Value, after: &Value) -> Vec<Difference> {
    let mut out = Vec::new();
    walk("", before, after, &mut out);
    out.retain(|d| d.pointer != "/last_updated" && d.pointer != "/status");
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

/// A value as one short line, secrets masked (`api_key` values show as `********`).
pub fn short(pointer: &str, value: Option<&Value>) -> String {
    match value {
        None => "—".to_owned(),
        Some(Value::String(s)) if pointer.ends_with("/api_key") && !s.is_empty() => MASK.to_owned(),
        Some(Value::String(s)) => format!("{s:?}"),
        Some(other) => {
            let text = other.to_string();
            if text.chars().count() > 80 {
                format!("{}…", text.chars().take(80).collect::<String>())
            } else {
                text
            }
        }
    }
}

/// Shows a value pretty-printed and selectable, in a scroll area.
pub fn json_view(ui: &mut egui::Ui, id: &str, value: &Value) {
    let mut text = serde_json::to_string_pretty(value).unwrap_or_default();
    egui::ScrollArea::vertical()
        .id_salt(id)
        .max_height(320.0)
        .show(ui, |ui| {
            ui.add(
                egui::TextEdit::multiline(&mut text)
                    .code_editor()
                    .desired_width(f32::INFINITY)
                    .interactive(true)
                    .id_salt(id),
            )
            .on_hover_text("read-only");
        });
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

    #[test]
    fn short_values_hide_secrets() {
        assert_eq!(short("/config/api_key", Some(&json!("sk-1"))), MASK);
        assert_eq!(short("/config/model", Some(&json!("m"))), "\"m\"");
        assert_eq!(short("/x", None), "—");
    }
}
