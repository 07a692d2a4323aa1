//! Health at a glance: a card per service (status, staleness, last seen, version, config
//! state) and the message rate over the last minutes.

use crate::gui::views::{RateHistory, ServiceRow};
use crate::gui::widgets::badge::{badge, relative_time};
use egui::{RichText, Ui};
use egui_plot::{Line, Plot, PlotPoints};

/// Width of a service card.
const CARD_WIDTH: f32 = 240.0;
/// Least height of a service card (so a row of cards lines up).
const CARD_HEIGHT: f32 = 120.0;

/// Draws the health panel.
pub fn health_ui(ui: &mut Ui, rows: &[ServiceRow], rate: &RateHistory) {
    ui.label(RichText::new(format!("Messages per second: {:.0}", rate.current())).strong());
    Plot::new("message-rate")
        .height(160.0)
        .include_x(-RateHistory::span_secs())
        .include_x(0.0)
        .include_y(0.0)
        .include_y(10.0)
        .allow_scroll(false)
        .allow_drag(false)
        .allow_zoom(false)
        .allow_boxed_zoom(false)
        .x_axis_label("seconds ago")
        .y_axis_label("msgs/s")
        .show(ui, |plot| {
            plot.line(Line::new("msgs/s", PlotPoints::from(rate.points())));
        });
    ui.separator();
    egui::ScrollArea::vertical()
        .id_salt("health-cards")
        .show(ui, |ui| {
            ui.horizontal_wrapped(|ui| {
                for row in rows {
                    card(ui, row);
                }
            });
        });
}

fn card(ui: &mut Ui, row: &ServiceRow) {
    egui::Frame::group(ui.style()).show(ui, |ui| {
        ui.set_width(CARD_WIDTH);
        ui.set_min_height(CARD_HEIGHT);
        ui.vertical(|ui| card_body(ui, row));
    });
}

fn card_body(ui: &mut Ui, row: &ServiceRow) {
    ui.label(RichText::new(&row.summary.service_name).strong().size(16.0));
    ui.horizontal(|ui| {
        let status = if row.summary.stale && row.summary.last_seen.is_some() {
            "stale"
        } else {
            row.summary.status.as_str()
        };
        badge(ui, status);
        ui.label(RichText::new(row.service_type.as_deref().unwrap_or("")).weak());
    });
    ui.label(format!(
        "last seen {}",
        relative_time(ui.ctx(), row.summary.last_seen.as_deref())
    ));
    ui.label(format!("version {}", row.version.as_deref().unwrap_or("—")));
    let state = serde_json::to_value(row.summary.config_state)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default();
    ui.horizontal(|ui| {
        ui.label("config");
        badge(ui, if row.configured { &state } else { "no config" });
    });
    if let Some(error) = &row.summary.config_error {
        ui.label(
            RichText::new(error)
                .small()
                .color(ui.visuals().error_fg_color),
        );
    }
}
