//! A number changed by touch: − and + buttons of touch size around the value, which a tap
//! opens for typing when there is a keyboard. Unlike a drag value, a finger's swipe over it
//! changes nothing (the kiosk scrolls with swipes).

use super::a11y;
use egui::{Response, Ui};
use std::ops::RangeInclusive;

/// How a stepper moves.
#[derive(Debug, Clone)]
pub struct Steps {
    /// The values allowed.
    pub range: RangeInclusive<f64>,
    /// One tap's change.
    pub step: f64,
    /// Decimals shown.
    pub decimals: usize,
}

/// Draws `−  value  +` for `value`, named `name` (the buttons "Decrease …" and "Increase …");
/// returns the value's response, `changed()` when a button or typing changed it.
pub fn stepper(ui: &mut Ui, value: &mut f64, steps: &Steps, name: &str, enabled: bool) -> Response {
    let size = egui::vec2(ui.spacing().interact_size.y, ui.spacing().interact_size.y);
    let (low, high) = (*steps.range.start(), *steps.range.end());
    let mut changed = false;
    let inner = ui.horizontal(|ui| {
        let minus = ui.add_enabled(
            enabled && *value > low,
            egui::Button::new("−").min_size(size),
        );
        a11y::set_name(ui, minus.id, format!("Decrease {name}"));
        if minus.clicked() {
            *value = (*value - steps.step).max(low);
            changed = true;
        }
        let typed = ui.add_enabled(
            enabled,
            egui::DragValue::new(value)
                .range(steps.range.clone())
                .clamp_existing_to_range(false)
                .speed(0.0)
                .max_decimals(steps.decimals)
                .min_decimals(steps.decimals.min(2)),
        );
        let plus = ui.add_enabled(
            enabled && *value < high,
            egui::Button::new("+").min_size(size),
        );
        a11y::set_name(ui, plus.id, format!("Increase {name}"));
        if plus.clicked() {
            *value = (*value + steps.step).min(high);
            changed = true;
        }
        typed
    });
    let mut response = inner.inner;
    if changed {
        response.mark_changed();
    }
    response
}
