//! The kiosk's one-line header: the broker's state and the fleet's counts on the left, the
//! lock on the right (and, in the last 30 s of an unlock, the countdown and a button to stay
//! unlocked).

use super::lock::KioskLock;
use crate::platform::Platform;
use crate::widgets::a11y;
use crate::widgets::badge::{Tone, dot, short_duration};
use egui::{Align, Layout, RichText, Ui};
use std::time::Duration;

/// What the header tells.
pub struct HeaderFacts<'a> {
    /// Connected to the broker, and the last connection error.
    pub connection: &'a (bool, Option<String>),
    /// Services in the overview.
    pub services: usize,
    /// Devices online and in all.
    pub devices: (usize, usize),
    /// The demo fleet plays.
    pub demo: bool,
}

/// Draws the header.
pub fn header_ui(
    ui: &mut Ui,
    facts: &HeaderFacts<'_>,
    lock: &mut KioskLock,
    platform: &dyn Platform,
) {
    ui.horizontal(|ui| {
        ui.set_min_height(48.0);
        ui.with_layout(Layout::right_to_left(Align::Center), |ui| {
            lock_ui(ui, lock, platform);
            ui.with_layout(Layout::left_to_right(Align::Center), |ui| {
                status_ui(ui, facts);
            });
        });
    });
}

fn status_ui(ui: &mut Ui, facts: &HeaderFacts<'_>) {
    let (connected, reason) = facts.connection;
    let tone = Tone::good_if(*connected);
    dot(ui, tone.colour(ui));
    let state = if *connected {
        "Connected".to_owned()
    } else {
        format!(
            "Reconnecting ({})",
            reason.as_deref().unwrap_or("connecting")
        )
    };
    let (online, total) = facts.devices;
    let text = format!(
        "{state} · {} services · {online}/{total} devices online",
        facts.services
    );
    ui.add(
        egui::Label::new(RichText::new(text).color(tone.colour(ui)))
            .truncate()
            .selectable(false),
    );
    if facts.demo {
        ui.label(
            RichText::new("DEMO")
                .strong()
                .color(Tone::Warning.colour(ui)),
        );
    }
}

fn lock_ui(ui: &mut Ui, lock: &mut KioskLock, platform: &dyn Platform) {
    let size = egui::vec2(120.0, 44.0);
    if lock.locked() {
        let response = ui.add(egui::Button::new("Unlock").min_size(size));
        a11y::set_name(ui, response.id, "Unlock");
        if response.clicked() {
            lock.open_keypad(platform);
        }
        return;
    }
    let remaining = lock.remaining().unwrap_or_default();
    let response = ui.add(egui::Button::new("Lock").min_size(size));
    a11y::set_name(ui, response.id, "Lock");
    if response.clicked() {
        lock.lock();
        return;
    }
    if let Some(left) = lock.warning() {
        let stay = ui.add(egui::Button::new("Stay unlocked").min_size(size));
        if stay.clicked() {
            lock.touched();
        }
        ui.label(
            RichText::new(format!("Locking in {}", short_duration(left)))
                .strong()
                .color(Tone::Warning.colour(ui)),
        );
        ui.ctx().request_repaint_after(Duration::from_secs(1));
    } else {
        let minutes = remaining.as_secs().div_ceil(60);
        ui.label(format!("Editing unlocked · {minutes} min"));
        // Repaint when the warning starts (the minutes shown change with it).
        let until_warning = remaining.saturating_sub(super::lock::WARN_BEFORE);
        let until_minute =
            remaining.saturating_sub(Duration::from_secs(minutes.saturating_sub(1) * 60));
        ui.ctx().request_repaint_after(
            until_warning
                .min(until_minute)
                .max(Duration::from_millis(50)),
        );
    }
}
