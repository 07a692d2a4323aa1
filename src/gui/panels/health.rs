//! Health at a glance: a card per service (status, staleness, last seen, version, config
//! state) and the message rate over the last minutes.

use crate::core::overview::ServiceOverview;
use crate::gui::models::RateHistory;
use crate::gui::widgets::badge::{Tone, badge, relative_time};
use egui::{RichText, Ui};
use egui_plot::{Line, Plot, PlotPoints};

/// Width of a service card.
const CARD_WIDTH: f32 = 240.0;
/// Least height of a service card (so a row of cards lines up).
const CARD_HEIGHT: f32 = 120.0;

/// Draws the health panel.
pub fn health_ui(ui: &mut Ui, rows: &[ServiceOverview], rate: &RateHistory) {
    ui.label(RichText::new(format!("Messages per second: {:.0}", rate.current())).strong());
    let chart = Plot::new("message-rate")
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
    crate::gui::widgets::a11y::set_name(
        ui,
        chart.response.id,
        format!(
            "Chart of messages per second over the last ten minutes, now {:.0}",
            rate.current()
        ),
    );
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

fn card(ui: &mut Ui, row: &ServiceOverview) {
    egui::Frame::group(ui.style()).show(ui, |ui| {
        ui.set_width(CARD_WIDTH);
        ui.set_min_height(CARD_HEIGHT);
        ui.vertical(|ui| card_body(ui, row));
    });
}

fn card_body(ui: &mut Ui, row: &ServiceOverview) {
    ui.label(RichText::new(&row.service_name).strong().size(16.0));
    ui.horizontal(|ui| {
        let health = row.shown_health();
        badge(ui, health.as_str(), health.into());
        ui.label(RichText::new(kind_of(row)).weak());
    });
    ui.label(format!(
        "last seen {}",
        relative_time(ui.ctx(), row.last_seen.as_deref())
    ));
    ui.label(format!("version {}", row.version.as_deref().unwrap_or("—")));
    ui.horizontal(|ui| {
        ui.label("config");
        if row.configured {
            badge(ui, row.config_state.as_str(), row.config_state.into());
        } else {
            badge(ui, "no config", Tone::Neutral);
        }
    });
    if let Some(error) = &row.config_error {
        ui.label(RichText::new(error).color(ui.visuals().error_fg_color));
    }
}

/// The service's type as shown: `manager` for another config manager's presence.
pub fn kind_of(row: &ServiceOverview) -> &'static str {
    match (row.service_type, row.manager) {
        (Some(kind), _) => kind.as_str(),
        (None, true) => "manager",
        (None, false) => "",
    }
}
