//! One field of the form, by its schema: a combo box for an enum, a drag value (or a stepper
//! on touch) within a number's range, a text field (a password field with reveal for a
//! secret), a checkbox; each with its errors beside it and an accessible name.

use super::titles::display;
use super::{FormState, default_for, name_field};
use crate::widgets::a11y;
use crate::widgets::stepper::{Steps, stepper};
use alicia_model::config::is_secret_schema;
use egui::{RichText, Ui};
use serde_json::{Value, json};

/// What a scalar field is: its schema, where it is, and how it is labelled.
pub(super) struct FieldSpec<'a> {
    pub(super) schema: &'a Value,
    pub(super) pointer: &'a str,
    pub(super) required: bool,
    pub(super) label: egui::Id,
    /// What assistive technology calls it: the label, with its row ("Endpoint 2 · Model").
    pub(super) name: &'a str,
    /// Bring it into view and focus it (a check or a failed save points at it).
    pub(super) focus: bool,
}

/// One scalar field of an object.
pub(super) fn field(
    ui: &mut Ui,
    spec: &FieldSpec<'_>,
    parent: &mut Value,
    key: &str,
    state: &mut FormState,
) -> bool {
    let FieldSpec { schema, label, .. } = *spec;
    let Some(object) = parent.as_object_mut() else {
        return false;
    };
    let current = object.get(key).cloned();
    let enabled = !state.read_only;
    let new_value: Option<Option<Value>> = match (
        schema.get("type").and_then(Value::as_str),
        schema.get("enum"),
    ) {
        (_, Some(Value::Array(options))) => {
            enum_field(ui, options, current.as_ref(), spec, enabled)
        }
        (Some("boolean"), _) => {
            let mut on = current.as_ref().and_then(Value::as_bool).unwrap_or(false);
            let response = ui
                .add_enabled(enabled, egui::Checkbox::without_text(&mut on))
                .labelled_by(label);
            name_field(ui, &response, spec);
            response.changed().then_some(Some(json!(on)))
        }
        (Some(kind @ ("integer" | "number")), _) => {
            number_field(ui, current.as_ref(), kind == "integer", spec, enabled)
        }
        _ => text_field(ui, current.as_ref(), spec, state),
    };
    match new_value {
        Some(Some(value)) => {
            object.insert(key.to_owned(), value);
            true
        }
        Some(None) => {
            object.remove(key);
            true
        }
        None => false,
    }
}

pub(super) fn enum_field(
    ui: &mut Ui,
    options: &[Value],
    current: Option<&Value>,
    spec: &FieldSpec<'_>,
    enabled: bool,
) -> Option<Option<Value>> {
    let FieldSpec {
        required,
        pointer,
        label,
        ..
    } = *spec;
    let shown = current.map_or_else(|| "(not set)".to_owned(), display);
    let mut chosen = None;
    ui.add_enabled_ui(enabled, |ui| {
        let combo = egui::ComboBox::from_id_salt(pointer)
            .selected_text(shown)
            .show_ui(ui, |ui| {
                if !required
                    && ui
                        .selectable_label(current.is_none(), "(not set)")
                        .clicked()
                {
                    chosen = Some(None);
                }
                for option in options {
                    if ui
                        .selectable_label(current == Some(option), display(option))
                        .clicked()
                    {
                        chosen = Some(Some(option.clone()));
                    }
                }
            })
            .response
            .labelled_by(label);
        name_field(ui, &combo, spec);
    });
    chosen.filter(|c| c.as_ref() != current)
}

pub(super) fn number_field(
    ui: &mut Ui,
    current: Option<&Value>,
    integer: bool,
    spec: &FieldSpec<'_>,
    enabled: bool,
) -> Option<Option<Value>> {
    let FieldSpec {
        schema,
        required,
        label,
        name,
        ..
    } = *spec;
    let Some(current) = current.and_then(Value::as_f64) else {
        let set = ui
            .add_enabled(enabled, egui::Button::new("Set"))
            .on_hover_text("This field is not set")
            .labelled_by(label);
        a11y::set_name(ui, set.id, format!("Set {name}"));
        return set.clicked().then(|| Some(default_for(schema)));
    };
    let mut number = current;
    let low = schema
        .get("minimum")
        .and_then(Value::as_f64)
        .unwrap_or(f64::MIN);
    let high = schema
        .get("maximum")
        .and_then(Value::as_f64)
        .unwrap_or(f64::MAX);
    let mut result = None;
    ui.horizontal(|ui| {
        let response = if crate::widgets::style::touch(ui.ctx()) {
            let steps = Steps {
                range: low..=high,
                step: if integer { 1.0 } else { 0.1 },
                decimals: if integer { 0 } else { 3 },
            };
            stepper(ui, &mut number, &steps, name, enabled).labelled_by(label)
        } else {
            // A value out of range stays as it is, with its error beside it: clamping it
            // silently would change the document behind the admin's back.
            let drag = egui::DragValue::new(&mut number)
                .range(low..=high)
                .clamp_existing_to_range(false)
                .speed(if integer { 1.0 } else { 0.05 })
                .max_decimals(if integer { 0 } else { 3 });
            ui.add_enabled(enabled, drag).labelled_by(label)
        };
        name_field(ui, &response, spec);
        if response.changed() {
            result = Some(Some(if integer {
                json!(number.round() as i64)
            } else {
                json!(number)
            }));
        }
        if low > f64::MIN || high < f64::MAX {
            let range = match (low > f64::MIN, high < f64::MAX) {
                (true, true) => format!("{low} – {high}"),
                (true, false) => format!("≥ {low}"),
                _ => format!("≤ {high}"),
            };
            ui.label(RichText::new(range).weak());
        }
        if !required {
            let clear = if crate::widgets::style::touch(ui.ctx()) {
                egui::Button::new("Clear")
            } else {
                egui::Button::new("Clear").small()
            };
            let clear = ui.add_enabled(enabled, clear);
            a11y::set_name(ui, clear.id, format!("Clear {name}"));
            if clear.clicked() {
                result = Some(None);
            }
        }
    });
    result
}

pub(super) fn text_field(
    ui: &mut Ui,
    current: Option<&Value>,
    spec: &FieldSpec<'_>,
    state: &mut FormState,
) -> Option<Option<Value>> {
    let FieldSpec {
        schema,
        pointer,
        required,
        label,
        name,
        ..
    } = *spec;
    let mut text = current.map_or_else(String::new, |v| {
        v.as_str().map_or_else(|| v.to_string(), str::to_owned)
    });
    let secret = is_secret_schema(schema);
    let revealed = state.revealed.contains(pointer);
    let mut result = None;
    ui.horizontal(|ui| {
        let edit = egui::TextEdit::singleline(&mut text)
            .id_salt(pointer)
            .password(secret && !revealed)
            .desired_width(260.0)
            .hint_text(if required { "required" } else { "not set" });
        let response = ui.add_enabled(!state.read_only, edit).labelled_by(label);
        name_field(ui, &response, spec);
        if response.changed() {
            result = Some(
                if text.is_empty() && !required && current.is_none_or(Value::is_string) {
                    None
                } else {
                    Some(Value::String(text.clone()))
                },
            );
        }
        if secret {
            let word = if revealed { "Hide" } else { "Reveal" };
            let toggle = ui
                .add_enabled(!state.read_only, egui::Button::new(word))
                .on_hover_text("Show or hide the secret");
            a11y::set_name(ui, toggle.id, format!("{word} {name}"));
            if toggle.clicked() {
                if revealed {
                    state.revealed.remove(pointer);
                } else {
                    state.revealed.insert(pointer.to_owned());
                }
            }
        }
    });
    if let Some(description) = schema.get("description").and_then(Value::as_str) {
        ui.label(RichText::new(description).weak());
    }
    result
}
