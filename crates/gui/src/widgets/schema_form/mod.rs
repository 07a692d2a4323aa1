//! A form generated from a JSON Schema, not laid out by hand per field: strings become text
//! fields (secrets a password field with reveal), enums combo boxes, booleans checkboxes,
//! numbers drag values within their range, arrays of objects editable rows with add and
//! remove, nested objects groups, and free-form objects a JSON editor that checks as you type.
//! Every field shows the validator's errors for its JSON Pointer right beside it, and every
//! control carries an accessible name.

mod fields;
mod json_editor;
mod titles;

use super::a11y;
use egui::{Color32, RichText, Ui};
use fields::{FieldSpec, field};
pub use json_editor::json_editor;
use serde_json::{Map, Value, json};
use std::collections::{HashMap, HashSet};
pub use titles::field_title;
use titles::{item_context, item_noun, title};

/// The width of the form's label column at the top level.
const LABEL_WIDTH: f32 = 170.0;

/// What a form needs besides the schema and the value.
#[derive(Debug, Default)]
pub struct FormState {
    /// Errors by JSON Pointer (from the validator).
    pub errors: HashMap<String, Vec<String>>,
    /// Schemas that replace the one at a pointer (a service's announced settings schema).
    pub overrides: HashMap<String, Value>,
    /// Secret fields the admin chose to reveal.
    pub revealed: HashSet<String>,
    /// Text of the JSON editors, kept while it does not parse.
    pub json_text: HashMap<String, String>,
    /// Parse errors of the JSON editors, by pointer.
    pub json_errors: HashMap<String, String>,
    /// No editing (kiosk locked, or a read-only view).
    pub read_only: bool,
    /// A field to bring into view and focus at the next frame (a JSON Pointer: the field,
    /// or the JSON editor or group that holds it).
    pub focus: Option<String>,
    /// What a new row of an array starts as, by the array's pointer (else the items'
    /// required fields, empty).
    pub row_templates: HashMap<String, Value>,
    /// Rows just added: their fields' errors wait until the field is left (or all are
    /// revealed), so a new row does not open in red.
    hidden_rows: HashSet<String>,
    /// Fields of those rows the admin has left.
    left: HashSet<String>,
    /// Where the form's label column starts (the top level's left edge), so that nested
    /// groups line their fields up with it.
    form_left: Option<f32>,
}

impl FormState {
    /// Forgets everything tied to a particular draft (on revert or reload).
    pub fn reset_draft(&mut self) {
        self.json_text.clear();
        self.json_errors.clear();
        self.reveal_errors();
    }

    /// Shows every error, those of rows just added included (Save was tried).
    pub fn reveal_errors(&mut self) {
        self.hidden_rows.clear();
        self.left.clear();
    }

    fn errors_at(&self, pointer: &str) -> Option<&Vec<String>> {
        let waiting = !self.left.contains(pointer)
            && self.hidden_rows.iter().any(|row| {
                pointer == row
                    || pointer
                        .strip_prefix(row.as_str())
                        .is_some_and(|rest| rest.starts_with('/'))
            });
        if waiting {
            return None;
        }
        self.errors.get(pointer)
    }

    /// True when the field at `pointer` is the one to focus: it, a field inside it, or the
    /// editor that holds it.
    fn wants_focus(&self, pointer: &str) -> bool {
        self.focus.as_deref().is_some_and(|wanted| {
            wanted == pointer
                || wanted
                    .strip_prefix(pointer)
                    .is_some_and(|rest| rest.starts_with('/'))
                || pointer
                    .strip_prefix(wanted)
                    .is_some_and(|rest| rest.starts_with('/'))
        })
    }
}

/// Draws the form for `value` (an object) following `schema`; returns true when the admin
/// changed something.
pub fn object_form(
    ui: &mut Ui,
    schema: &Value,
    value: &mut Value,
    pointer: &str,
    state: &mut FormState,
) -> bool {
    if !value.is_object() {
        *value = Value::Object(Map::new());
    }
    let Some(properties) = schema.get("properties").and_then(Value::as_object) else {
        return json_editor(ui, "", value, pointer, state);
    };
    let required: HashSet<&str> = schema
        .get("required")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let mut changed = false;
    let context = item_context(pointer);
    let grid_id = format!("form{pointer}");
    // One label column across nested groups: a group's labels take what its indent left of
    // the top level's width, so every field starts at the same x.
    if pointer.is_empty() {
        // The fields left during the last frame: their errors may show now.
        let left: Vec<String> = ui
            .data_mut(|d| d.remove_temp(left_fields()))
            .unwrap_or_default();
        state.left.extend(left);
    }
    let left = ui.cursor().left();
    let form_left = if pointer.is_empty() {
        *state.form_left.insert(left)
    } else {
        state.form_left.unwrap_or(left)
    };
    let label_width = (LABEL_WIDTH - (left - form_left)).max(80.0);
    let (scalars, groups): (Vec<_>, Vec<_>) = properties.iter().partition(|(key, property)| {
        let child = format!("{pointer}/{key}");
        let property = state.overrides.get(&child).unwrap_or(property);
        !is_group(property)
    });
    egui::Grid::new(grid_id)
        .num_columns(2)
        .spacing([16.0, 8.0])
        .min_col_width(label_width)
        .show(ui, |ui| {
            for (key, property) in scalars {
                let child = format!("{pointer}/{key}");
                let property = schema_at(state, &child, property);
                let label = title(key, &property);
                let name = match &context {
                    Some(context) => format!("{context} · {label}"),
                    None => label.clone(),
                };
                let label = ui.label(if required.contains(key.as_str()) {
                    format!("{label} *")
                } else {
                    label
                });
                ui.vertical(|ui| {
                    let spec = FieldSpec {
                        schema: &property,
                        pointer: &child,
                        required: required.contains(key.as_str()),
                        label: label.id,
                        name: &name,
                        focus: state.wants_focus(&child),
                    };
                    changed |= field(ui, &spec, value, key, state);
                    if spec.focus {
                        state.focus = None;
                    }
                    show_errors(ui, state, &child);
                });
                ui.end_row();
            }
        });
    for (key, property) in groups {
        let child = format!("{pointer}/{key}");
        let property = schema_at(state, &child, property);
        let heading = title(key, &property);
        let section = egui::CollapsingHeader::new(RichText::new(&heading).strong())
            .id_salt(&child)
            .default_open(true)
            .show(ui, |ui| {
                show_errors(ui, state, &child);
                let slot = value
                    .as_object_mut()
                    .map(|o| o.entry(key.clone()).or_insert(Value::Null));
                if let Some(slot) = slot {
                    changed |= group(ui, &property, slot, &child, state);
                }
            });
        // Tabs and sections share words ("Configuration", "Settings"): say which it is.
        a11y::set_name(ui, section.header_response.id, format!("{heading} section"));
    }
    changed
}

/// Names a field's widget for assistive technology, marks it required when it is, and
/// focuses it when asked.
/// Where the fields left during a frame are noted, for the form to take in.
fn left_fields() -> egui::Id {
    egui::Id::NULL.with("schema-form-left-fields")
}

fn name_field(ui: &Ui, response: &egui::Response, spec: &FieldSpec<'_>) {
    if response.lost_focus() {
        let pointer = spec.pointer.to_owned();
        ui.data_mut(|d| {
            d.get_temp_mut_or_default::<Vec<String>>(left_fields())
                .push(pointer)
        });
    }
    a11y::set_name(ui, response.id, spec.name);
    if spec.required {
        a11y::set_required(ui, response.id);
    }
    if spec.focus {
        response.request_focus();
        response.scroll_to_me(Some(egui::Align::Center));
    }
}

fn is_group(schema: &Value) -> bool {
    match schema.get("type").and_then(Value::as_str) {
        Some("object") => true,
        Some("array") => schema.pointer("/items/type").and_then(Value::as_str) == Some("object"),
        _ => false,
    }
}

fn group(
    ui: &mut Ui,
    schema: &Value,
    value: &mut Value,
    pointer: &str,
    state: &mut FormState,
) -> bool {
    match schema.get("type").and_then(Value::as_str) {
        Some("array") => rows(
            ui,
            schema.get("items").unwrap_or(&Value::Null),
            value,
            pointer,
            state,
        ),
        _ if schema.get("properties").is_some() => object_form(ui, schema, value, pointer, state),
        _ => json_editor(ui, "JSON", value, pointer, state),
    }
}

/// Editable rows of an array of objects: each row a sub-form with a remove button, and an add
/// button that appends a row with the required fields.
fn rows(
    ui: &mut Ui,
    items: &Value,
    value: &mut Value,
    pointer: &str,
    state: &mut FormState,
) -> bool {
    if !value.is_array() {
        *value = Value::Array(Vec::new());
    }
    let mut changed = false;
    let mut remove = None;
    let count = value.as_array().map_or(0, Vec::len);
    for index in 0..count {
        let child = format!("{pointer}/{index}");
        egui::Frame::group(ui.style()).show(ui, |ui| {
            ui.horizontal(|ui| {
                ui.label(RichText::new(format!("#{}", index + 1)).strong());
                ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                    let button = super::style::destructive_button(ui, "Remove");
                    let response = ui
                        .add_enabled(!state.read_only, button)
                        .on_hover_text(format!("Remove item {} of {pointer}", index + 1));
                    let noun = item_noun(pointer).to_lowercase();
                    a11y::set_name(ui, response.id, format!("Remove {noun} {}", index + 1));
                    if response.clicked() {
                        remove = Some(index);
                    }
                });
            });
            show_errors(ui, state, &child);
            if let Some(item) = value.as_array_mut().and_then(|a| a.get_mut(index)) {
                changed |= object_form(ui, items, item, &child, state);
            }
        });
    }
    if let Some(index) = remove
        && let Some(array) = value.as_array_mut()
    {
        array.remove(index);
        // Rows moved up: the waiting ones are not where they were.
        state.reveal_errors();
        changed = true;
    }
    let add = ui.add_enabled(!state.read_only, egui::Button::new("Add"));
    a11y::set_name(
        ui,
        add.id,
        format!("Add {}", item_noun(pointer).to_lowercase()),
    );
    if add.clicked()
        && let Some(array) = value.as_array_mut()
    {
        let row = state
            .row_templates
            .get(pointer)
            .cloned()
            .unwrap_or_else(|| template(items));
        let child = format!("{pointer}/{}", array.len());
        // The cursor goes to the first field left empty.
        let empty = row.as_object().and_then(|fields| {
            fields
                .iter()
                .find(|(_, v)| v.as_str() == Some(""))
                .map(|(key, _)| format!("{child}/{key}"))
        });
        state.focus = empty.or_else(|| Some(child.clone()));
        state.hidden_rows.insert(child);
        array.push(row);
        changed = true;
    }
    changed
}

/// A new object with its required fields filled with empty or default values.
pub fn template(schema: &Value) -> Value {
    let mut object = Map::new();
    let properties = schema.get("properties").and_then(Value::as_object);
    for key in schema
        .get("required")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
    {
        let property = properties.and_then(|p| p.get(key)).unwrap_or(&Value::Null);
        object.insert(key.to_owned(), default_for(property));
    }
    Value::Object(object)
}

fn default_for(schema: &Value) -> Value {
    if let Some(default) = schema.get("default") {
        return default.clone();
    }
    if let Some(first) = schema
        .get("enum")
        .and_then(Value::as_array)
        .and_then(|e| e.first())
    {
        return first.clone();
    }
    match schema.get("type").and_then(Value::as_str) {
        Some("boolean") => json!(false),
        Some("integer" | "number") => schema.get("minimum").cloned().unwrap_or(json!(0)),
        Some("array") => json!([]),
        Some("object") => template(schema),
        _ => json!(""),
    }
}

fn show_errors(ui: &mut Ui, state: &FormState, pointer: &str) {
    if let Some(errors) = state.errors_at(pointer) {
        for error in errors {
            error_line(ui, error);
        }
    }
}

fn error_line(ui: &mut Ui, message: &str) {
    let colour = if ui.visuals().dark_mode {
        Color32::from_rgb(255, 120, 110)
    } else {
        Color32::from_rgb(190, 20, 20)
    };
    ui.label(RichText::new(format!("⚠ {message}")).color(colour));
}

/// The schema of the field at `pointer`: an override (a service's announced settings schema)
/// or the property as written. Owned, because drawing the field borrows `state` mutably.
fn schema_at(state: &FormState, pointer: &str, property: &Value) -> Value {
    state.overrides.get(pointer).unwrap_or(property).clone()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_titled_as_the_form_labels_them() {
        let schema = json!({
            "type": "object",
            "properties": {
                "version": {"type": "string"},
                "config": {"type": "object", "properties": {
                    "model": {"type": "string", "title": "Model"},
                    "endpoints": {"type": "array", "items": {"type": "object", "properties": {
                        "model": {"type": "string", "title": "Model"}
                    }}}
                }}
            }
        });
        assert_eq!(field_title(&schema, "/config/model"), "Model");
        assert_eq!(
            field_title(&schema, "/config/endpoints/1/model"),
            "Endpoint 2 · Model"
        );
        assert_eq!(field_title(&schema, "/version"), "Version");
        assert_eq!(
            field_title(&schema, "/config/settings/beam_size"),
            "Settings · beam size"
        );
    }

    #[test]
    fn templates_fill_required_fields() {
        let schema = json!({
            "type": "object",
            "required": ["type", "ip", "port", "protocol"],
            "properties": {
                "type": {"type": "string"},
                "ip": {"type": "string"},
                "port": {"type": "integer", "minimum": 1},
                "protocol": {"type": "string", "enum": ["http", "https"]},
                "model": {"type": "string"}
            }
        });
        assert_eq!(
            template(&schema),
            json!({"type": "", "ip": "", "port": 1, "protocol": "http"})
        );
    }
}
