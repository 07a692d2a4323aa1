//! Health at a glance: the message rate over the last minutes, then a card per service in a
//! grid that wraps to the width, worst first (refused or unhealthy, then stale or pending,
//! then unknown, then healthy), with a devices card listing those offline. A card opens its
//! service; the devices card, the devices offline.

use crate::models::natural::natural_cmp;
use crate::models::{DeviceList, RateHistory};
use crate::widgets::a11y;
use crate::widgets::badge::{Tone, badge, relative_time};
use alicia_model::overview::ServiceOverview;
use alicia_model::status::ConfigState;
use egui::{RichText, Sense, Ui, UiBuilder, vec2};
use egui_plot::{Line, Plot, PlotPoints};

/// Least width of a card.
const CARD_WIDTH: f32 = 230.0;
/// Height of a card.
const CARD_HEIGHT: f32 = 104.0;
/// Space between cards.
const GAP: f32 = 8.0;

/// What a click on a card asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HealthAction {
    /// Nothing.
    None,
    /// Open this service.
    Open(String),
    /// Show the devices offline.
    OfflineDevices,
}

/// Draws the health panel.
pub fn health_ui(
    ui: &mut Ui,
    rows: &[ServiceOverview],
    devices: &DeviceList,
    rate: &RateHistory,
) -> HealthAction {
    rate_ui(ui, rate);
    ui.separator();
    let mut action = HealthAction::None;
    let mut sorted: Vec<&ServiceOverview> = rows.iter().collect();
    sorted.sort_by(|a, b| {
        rank(card_tone(a))
            .cmp(&rank(card_tone(b)))
            .then_with(|| natural_cmp(&a.service_name, &b.service_name))
    });
    egui::ScrollArea::vertical()
        .id_salt("health-cards")
        .auto_shrink([false, false])
        .show(ui, |ui| {
            let width = ui.available_width();
            let columns = ((width + GAP) / (CARD_WIDTH + GAP)).floor().max(1.0) as usize;
            let card_width = (width - GAP * (columns as f32 - 1.0)) / columns as f32;
            let size = vec2(card_width, CARD_HEIGHT);
            ui.spacing_mut().item_spacing = vec2(GAP, GAP);
            let (online, total) = devices.counts();
            let mut cards: Vec<Card<'_>> = Vec::with_capacity(sorted.len() + 1);
            if total > online {
                cards.push(Card::Devices(devices));
            }
            cards.extend(sorted.into_iter().map(Card::Service));
            for row in cards.chunks(columns) {
                ui.horizontal(|ui| {
                    for card in row {
                        match card {
                            Card::Devices(devices) => {
                                if devices_card(ui, devices, size) {
                                    action = HealthAction::OfflineDevices;
                                }
                            }
                            Card::Service(service) => {
                                if service_card(ui, service, size) {
                                    action = HealthAction::Open(service.service_name.clone());
                                }
                            }
                        }
                    }
                });
            }
        });
    action
}

enum Card<'a> {
    Devices(&'a DeviceList),
    Service(&'a ServiceOverview),
}

fn rate_ui(ui: &mut Ui, rate: &RateHistory) {
    ui.label(RichText::new(format!("Messages per second: {:.0}", rate.current())).strong());
    let chart = Plot::new("message-rate")
        .height(120.0)
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
    a11y::set_name(
        ui,
        chart.response.id,
        format!(
            "Chart of messages per second over the last ten minutes, now {:.0}",
            rate.current()
        ),
    );
}

/// How bad a service looks: bad when it is in trouble (CONTRACT §10's one rule, decided by
/// the core), neutral when switched off, else its health's tone, made a warning by a pending
/// config.
pub fn card_tone(row: &ServiceOverview) -> Tone {
    if row.in_trouble {
        // CONTRACT §10's one rule decides what is in trouble; the card only draws it.
        return Tone::Bad;
    }
    if row.enabled == Some(false) {
        return Tone::Neutral;
    }
    let health = match Tone::from(row.shown_health()) {
        Tone::Bad => Tone::Warning,
        tone => tone,
    };
    let config = match (row.configured, row.config_state) {
        (true, ConfigState::Pending) => Tone::Warning,
        _ => Tone::Neutral,
    };
    match (health, config) {
        (Tone::Warning, _) | (_, Tone::Warning) => Tone::Warning,
        (health, _) => health,
    }
}

fn rank(tone: Tone) -> u8 {
    match tone {
        Tone::Bad => 0,
        Tone::Warning => 1,
        Tone::Neutral => 2,
        Tone::Good => 3,
    }
}

/// A clickable card of `size` outlined in `tone`; `body` draws inside. True when clicked.
fn card(
    ui: &mut Ui,
    size: egui::Vec2,
    tone: Tone,
    name: String,
    body: impl FnOnce(&mut Ui),
) -> bool {
    let (rect, response) = ui.allocate_exact_size(size, Sense::click());
    let colour = tone.colour(ui);
    let stroke = if tone == Tone::Good || tone == Tone::Neutral {
        ui.visuals().widgets.noninteractive.bg_stroke
    } else {
        egui::Stroke::new(2.0, colour)
    };
    let fill = if response.hovered() {
        ui.visuals().widgets.hovered.weak_bg_fill
    } else {
        ui.visuals().faint_bg_color
    };
    ui.painter()
        .rect(rect, 6.0, fill, stroke, egui::StrokeKind::Inside);
    let mut inner = ui.new_child(
        UiBuilder::new()
            .max_rect(rect.shrink(8.0))
            .layout(egui::Layout::top_down(egui::Align::Min)),
    );
    inner.spacing_mut().item_spacing.y = 2.0;
    inner.spacing_mut().interact_size.y = 0.0;
    body(&mut inner);
    a11y::set_name(ui, response.id, name);
    response.clicked()
}

fn service_card(ui: &mut Ui, row: &ServiceOverview, size: egui::Vec2) -> bool {
    let health = row.shown_health();
    let config = if row.configured {
        row.config_state.as_str()
    } else {
        "no config"
    };
    let name = format!("{}: {}, config {config}", row.service_name, health.as_str());
    card(ui, size, card_tone(row), name, |ui| {
        ui.add(
            egui::Label::new(RichText::new(&row.service_name).strong().size(16.0))
                .truncate()
                .selectable(false),
        );
        ui.horizontal(|ui| {
            badge(ui, health.as_str(), health.into());
            let kind = kind_of(row);
            let version = row.version.as_deref().map(|v| format!("v{v}"));
            let extra: Vec<&str> = [Some(kind).filter(|k| !k.is_empty()), version.as_deref()]
                .into_iter()
                .flatten()
                .collect();
            ui.label(RichText::new(extra.join(" · ")).weak());
        });
        ui.label(format!(
            "last seen {}",
            relative_time(ui.ctx(), row.last_seen.as_deref())
        ));
        ui.horizontal(|ui| {
            ui.label("config");
            if row.configured {
                badge(ui, row.config_state.as_str(), row.config_state.into());
            } else {
                badge(ui, "no config", Tone::Neutral);
            }
        });
        if let Some(error) = &row.config_error {
            ui.add(
                egui::Label::new(RichText::new(error).color(ui.visuals().error_fg_color))
                    .truncate()
                    .selectable(false),
            );
        }
    })
}

fn devices_card(ui: &mut Ui, devices: &DeviceList, size: egui::Vec2) -> bool {
    let (online, total) = devices.counts();
    let offline = total - online;
    let names = devices.offline_names(4);
    let more = offline.saturating_sub(names.len());
    let mut listed = names.join(", ");
    if more > 0 {
        listed.push_str(&format!(" and {more} more"));
    }
    let name = format!("Devices: {offline} offline of {total}");
    card(ui, size, Tone::Bad, name.clone(), |ui| {
        ui.label(RichText::new("Devices").strong().size(16.0));
        badge(ui, &format!("{offline} offline of {total}"), Tone::Bad);
        ui.add(egui::Label::new(listed).wrap().selectable(false));
    })
}

/// The service's type as shown: `manager` for another config manager's presence.
pub fn kind_of(row: &ServiceOverview) -> &'static str {
    match (row.service_type, row.manager) {
        (Some(kind), _) => kind.as_str(),
        (None, true) => "manager",
        (None, false) => "",
    }
}
