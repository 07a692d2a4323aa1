//! A free-form object as JSON text, checked as it is typed; the value changes only when the
//! text parses.

use super::{FormState, error_line};
use egui::{RichText, Ui};
use serde_json::Value;

/// A JSON text editor for a free-form object: parses as the admin types; while the text does
/// not parse, the value keeps its last good state and the parse error shows beside it.
pub fn json_editor(
    ui: &mut Ui,
    caption: &str,
    value: &mut Value,
    pointer: &str,
    state: &mut FormState,
) -> bool {
    let focus = state.wants_focus(pointer);
    if focus {
        state.focus = None;
    }
    let text = state
        .json_text
        .entry(pointer.to_owned())
        .or_insert_with(|| serde_json::to_string_pretty(value).unwrap_or_default());
    if !caption.is_empty() {
        ui.label(RichText::new(caption).weak());
    }
    let label = ui.label(format!(
        "{} (JSON)",
        pointer.rsplit('/').next().unwrap_or("value")
    ));
    let response = ui
        .add_enabled(
            !state.read_only,
            egui::TextEdit::multiline(text)
                .code_editor()
                .desired_rows(4)
                .desired_width(f32::INFINITY)
                .id_salt(pointer),
        )
        .labelled_by(label.id);
    if focus {
        response.request_focus();
        response.scroll_to_me(Some(egui::Align::Center));
    }
    let mut changed = false;
    if response.changed() {
        match serde_json::from_str::<Value>(text) {
            Ok(parsed) if parsed.is_object() => {
                state.json_errors.remove(pointer);
                *value = parsed;
                changed = true;
            }
            Ok(_) => {
                state
                    .json_errors
                    .insert(pointer.to_owned(), "must be a JSON object".to_owned());
            }
            Err(error) => {
                state
                    .json_errors
                    .insert(pointer.to_owned(), error.to_string());
            }
        }
    }
    if let Some(error) = state.json_errors.get(pointer).cloned() {
        error_line(ui, &error);
    }
    changed
}
