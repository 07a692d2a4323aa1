//! The full-screen keypad that unlocks the kiosk by touch: dots for the digits typed, keys of
//! at least 64 px (1–9, Delete, 0, OK), the reason when a try is refused, and Cancel. A
//! keyboard, when there is one, works too (digits, Backspace, Enter, Esc).

use super::lock::KioskLock;
use crate::platform::Platform;
use crate::widgets::{a11y, style};
use egui::{Align, Layout, RichText, Ui, vec2};

/// The size of a key.
pub const KEY: egui::Vec2 = vec2(96.0, 64.0);
/// The space between keys.
const GAP: f32 = 10.0;
/// The keys, row by row: digits, then delete, 0, OK.
const ROWS: [[Key; 3]; 4] = [
    [Key::Digit('1'), Key::Digit('2'), Key::Digit('3')],
    [Key::Digit('4'), Key::Digit('5'), Key::Digit('6')],
    [Key::Digit('7'), Key::Digit('8'), Key::Digit('9')],
    [Key::Delete, Key::Digit('0'), Key::Ok],
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Key {
    Digit(char),
    Delete,
    Ok,
}

/// Draws the keypad over the whole window.
pub fn keypad_ui(ui: &mut Ui, lock: &mut KioskLock, platform: &dyn Platform) {
    keyboard(ui, lock, platform);
    if !lock.keypad_open() {
        return;
    }
    let side_by_side = ui.available_width() >= 3.0 * KEY.x + 2.0 * GAP + 280.0;
    let pad_height = 4.0 * KEY.y + 3.0 * GAP;
    let top = ((ui.available_height() - pad_height) / 2.0).max(0.0);
    if side_by_side {
        ui.add_space(top.min(80.0));
        ui.columns(2, |columns| {
            columns[0].with_layout(Layout::top_down(Align::Center), |ui| {
                prompt_ui(ui, lock);
            });
            columns[1].with_layout(Layout::top_down(Align::Center), |ui| {
                keys_ui(ui, lock, platform);
            });
        });
    } else {
        ui.with_layout(Layout::top_down(Align::Center), |ui| {
            prompt_ui(ui, lock);
            keys_ui(ui, lock, platform);
        });
    }
}

fn prompt_ui(ui: &mut Ui, lock: &mut KioskLock) {
    ui.label(RichText::new("Unlock editing").size(26.0).strong());
    ui.label("Type the kiosk's PIN.");
    ui.add_space(8.0);
    dots(ui, lock.typed());
    ui.add_space(8.0);
    if lock.checking() {
        ui.horizontal(|ui| {
            ui.spinner();
            ui.label("Checking…");
        });
    } else if let Some(message) = lock.message() {
        let colour = style::palette(ui).bad;
        ui.add(egui::Label::new(RichText::new(message).color(colour)).wrap());
    }
    if let Some(left) = lock.wait_left() {
        // The countdown moves on by itself.
        ui.ctx()
            .request_repaint_after(left.min(std::time::Duration::from_secs(1)));
    }
    ui.add_space(12.0);
    if ui
        .add(egui::Button::new("Cancel").min_size(vec2(KEY.x * 1.5, 48.0)))
        .clicked()
    {
        lock.close_keypad();
    }
}

/// One dot per digit typed, and empty ones up to the shortest PIN.
fn dots(ui: &mut Ui, typed: usize) {
    let shown = typed.max(alicia_model::kiosk_pin::SHORTEST);
    let size = 18.0;
    let spacing = 14.0;
    let width = shown as f32 * size + (shown - 1) as f32 * spacing;
    let (rect, response) = ui.allocate_exact_size(vec2(width, size + 8.0), egui::Sense::hover());
    let colour = ui.visuals().strong_text_color();
    for i in 0..shown {
        let centre = egui::pos2(
            rect.left() + size / 2.0 + i as f32 * (size + spacing),
            rect.center().y,
        );
        if i < typed {
            ui.painter().circle_filled(centre, size / 2.0, colour);
        } else {
            ui.painter()
                .circle_stroke(centre, size / 2.0 - 1.0, egui::Stroke::new(2.0, colour));
        }
    }
    let name = match typed {
        0 => "No digit typed".to_owned(),
        1 => "1 digit typed".to_owned(),
        n => format!("{n} digits typed"),
    };
    a11y::set_name(ui, response.id, name);
}

fn keys_ui(ui: &mut Ui, lock: &mut KioskLock, platform: &dyn Platform) {
    let waiting = lock.wait_left().is_some() || lock.checking();
    ui.spacing_mut().item_spacing = vec2(GAP, GAP);
    for row in ROWS {
        ui.horizontal(|ui| {
            let width = 3.0 * KEY.x + 2.0 * GAP;
            ui.add_space(((ui.available_width() - width) / 2.0).max(0.0));
            for key in row {
                let (text, name, enabled) = match key {
                    Key::Digit(d) => (d.to_string(), d.to_string(), !waiting),
                    Key::Delete => ("Delete".to_owned(), "Delete".to_owned(), lock.typed() > 0),
                    Key::Ok => ("OK".to_owned(), "OK".to_owned(), lock.can_submit()),
                };
                let button = match key {
                    Key::Ok => style::primary_button(ui, &text),
                    Key::Delete => egui::Button::new(RichText::new(text).size(20.0)),
                    Key::Digit(_) => egui::Button::new(RichText::new(text).size(28.0)),
                };
                let response = ui.add_enabled(enabled, button.min_size(KEY));
                a11y::set_name(ui, response.id, name);
                if response.clicked() {
                    match key {
                        Key::Digit(d) => lock.press(d),
                        Key::Delete => lock.delete(),
                        Key::Ok => lock.submit(platform),
                    }
                }
            }
        });
    }
}

/// Digits, Backspace, Enter and Esc from a keyboard, when the kiosk has one.
fn keyboard(ui: &Ui, lock: &mut KioskLock, platform: &dyn Platform) {
    let events = ui.input(|i| i.events.clone());
    for event in events {
        match event {
            egui::Event::Text(text) => text.chars().for_each(|c| lock.press(c)),
            egui::Event::Key {
                key, pressed: true, ..
            } => match key {
                egui::Key::Backspace => lock.delete(),
                egui::Key::Enter => lock.submit(platform),
                egui::Key::Escape => lock.close_keypad(),
                _ => {}
            },
            _ => {}
        }
    }
}
