//! Quick controls drawn from what a device reports: a boolean `on` or `power` gets On, Off and
//! Toggle (`turn_on` / `turn_off`), a numeric `brightness` or `volume` a slider (`set_brightness`
//! / `set_volume`, sent when let go; −/+ in the kiosk). Any other command stays under
//! "Advanced" in the panel.

use crate::widgets::stepper::{Steps, stepper};
use crate::widgets::style;
use egui::{RichText, Ui};
use serde_json::{Map, Value, json};

/// A command a control asks to send.
#[derive(Debug, Clone, PartialEq)]
pub struct QuickCommand {
    /// The command's name.
    pub command: String,
    /// Its parameters.
    pub params: Map<String, Value>,
}

impl QuickCommand {
    fn new(command: &str, params: Value) -> Self {
        Self {
            command: command.to_owned(),
            params: params.as_object().cloned().unwrap_or_default(),
        }
    }
}

/// The switch keys and the levels a device may report.
const SWITCHES: [&str; 2] = ["on", "power"];
const LEVELS: [(&str, &str, &str); 2] = [
    ("brightness", "Brightness", "set_brightness"),
    ("volume", "Volume", "set_volume"),
];

/// True when `state` has something to control here.
pub fn has_controls(state: &Value) -> bool {
    SWITCHES
        .iter()
        .any(|k| state.get(k).is_some_and(Value::is_boolean))
        || LEVELS
            .iter()
            .any(|(k, _, _)| state.get(k).is_some_and(Value::is_number))
}

/// Draws the controls for `state`; `levels` holds the sliders' values while dragged (by
/// key). Returns the command to send.
pub fn controls_ui(
    ui: &mut Ui,
    state: &Value,
    levels: &mut Map<String, Value>,
    enabled: bool,
) -> Option<QuickCommand> {
    let mut send = None;
    if let Some(on) = SWITCHES
        .iter()
        .find_map(|k| state.get(k).and_then(Value::as_bool))
    {
        ui.horizontal(|ui| {
            ui.label(RichText::new(if on { "It is on." } else { "It is off." }).strong());
            if ui.add_enabled(enabled, egui::Button::new("On")).clicked() {
                send = Some(QuickCommand::new("turn_on", json!({})));
            }
            if ui.add_enabled(enabled, egui::Button::new("Off")).clicked() {
                send = Some(QuickCommand::new("turn_off", json!({})));
            }
            if ui
                .add_enabled(enabled, egui::Button::new("Toggle"))
                .clicked()
            {
                let command = if on { "turn_off" } else { "turn_on" };
                send = Some(QuickCommand::new(command, json!({})));
            }
        });
    }
    for (key, title, command) in LEVELS {
        let Some(reported) = state.get(key).and_then(Value::as_f64) else {
            continue;
        };
        let mut level = levels.get(key).and_then(Value::as_f64).unwrap_or(reported);
        ui.horizontal(|ui| {
            let label = ui.label(title);
            let response = if style::touch(ui.ctx()) {
                let steps = Steps {
                    range: 0.0..=100.0,
                    step: 10.0,
                    decimals: 0,
                };
                stepper(ui, &mut level, &steps, title, enabled)
            } else {
                ui.add_enabled(
                    enabled,
                    egui::Slider::new(&mut level, 0.0..=100.0).step_by(1.0),
                )
            }
            .labelled_by(label.id);
            if response.dragged() {
                levels.insert(key.to_owned(), json!(level));
            } else {
                levels.remove(key);
            }
            let let_go = response.drag_stopped() || (response.changed() && !response.dragged());
            if let_go {
                send = Some(QuickCommand::new(command, json!({ key: level.round() })));
            }
        });
    }
    send
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_come_from_what_the_device_reports() {
        assert!(has_controls(&json!({"on": true, "brightness": 40})));
        assert!(has_controls(&json!({"volume": 10})));
        assert!(!has_controls(&json!({"temperature": 20, "on": "yes"})));
        assert_eq!(
            QuickCommand::new("set_volume", json!({"volume": 30.0})).params["volume"],
            30.0
        );
    }
}
