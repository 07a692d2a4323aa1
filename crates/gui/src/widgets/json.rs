//! JSON for people: values as short lines and a read-only, pretty-printed view (the
//! structural diff they show is `core::config::diff`). Which field is secret is the core's
//! rule ([`is_secret`]).

use alicia_model::config::{MASK, is_secret};
use serde_json::Value;

/// A value of a document's field at `pointer` as one short line; a non-empty secret shows as
/// `********`.
pub fn short(pointer: &str, value: Option<&Value>) -> String {
    match value {
        None => "—".to_owned(),
        Some(Value::String(s)) if s.is_empty() => "\"\"".to_owned(),
        Some(_) if is_secret(pointer) => MASK.to_owned(),
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

/// Shows a value pretty-printed and selectable, in a scroll area; `name` is what assistive
/// technology calls it.
pub fn json_view(ui: &mut egui::Ui, id: &str, name: &str, value: &Value) {
    let mut text = serde_json::to_string_pretty(value).unwrap_or_default();
    egui::ScrollArea::vertical()
        .id_salt(id)
        .max_height(320.0)
        .show(ui, |ui| {
            let response = ui
                .add(
                    egui::TextEdit::multiline(&mut text)
                        .code_editor()
                        .desired_width(f32::INFINITY)
                        .interactive(true)
                        .id_salt(id),
                )
                .on_hover_text("read-only");
            super::a11y::set_name(ui, response.id, name);
        });
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn short_values_hide_secrets() {
        assert_eq!(short("/config/api_key", Some(&json!("sk-1"))), MASK);
        assert_eq!(short("/config/api_key", Some(&json!(""))), "\"\"");
        assert_eq!(short("/config/model", Some(&json!("m"))), "\"m\"");
        assert_eq!(short("/x", None), "—");
    }
}
