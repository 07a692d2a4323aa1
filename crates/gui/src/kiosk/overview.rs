//! The kiosk's overview, for reading the fleet's state from across the room: a tile per
//! service (name, health, config state, and the reason when something is wrong), the devices
//! online and offline with the offline ones named, and the fleet's checks. The tiles share
//! the window's width and height so that a dozen services fit an 800×480 panel without
//! scrolling; a tile, the devices card and the checks card each open the full view on a tap.

use crate::models::DeviceList;
use crate::panels::health::card_tone;
use crate::widgets::a11y;
use crate::widgets::badge::{Tone, dot, relative_time};
use alicia_model::checks::{Check, Severity};
use alicia_model::overview::{ServiceOverview, ShownHealth};
use alicia_model::payloads::HealthStatus;
use alicia_model::status::ConfigState;
use egui::{Rect, RichText, Sense, Ui, UiBuilder, vec2};

/// A tile is at least this tall (three lines of text and its margins).
const TILE_MIN_HEIGHT: f32 = 74.0;
/// A tile is at most this tall.
const TILE_MAX_HEIGHT: f32 = 200.0;
/// A tile is at least this wide.
const TILE_MIN_WIDTH: f32 = 150.0;
/// Tiles start this wide, then grow narrower to fit the height.
const TILE_WIDTH: f32 = 240.0;
/// Space between tiles.
const GAP: f32 = 8.0;
/// Width of the devices and checks column beside the tiles.
const SIDE_MIN: f32 = 220.0;
const SIDE_MAX: f32 = 420.0;

/// What a tap asks for.
#[derive(Debug, Clone, PartialEq)]
pub enum OverviewAction {
    /// Nothing.
    None,
    /// Show this service in the Services view.
    OpenService(String),
    /// Show the devices, offline first.
    OfflineDevices,
    /// Show the checks (the Services view, where each opens its field).
    Checks,
}

/// What the overview shows.
pub struct OverviewFacts<'a> {
    /// The services, sorted by name.
    pub services: &'a [ServiceOverview],
    /// The fleet's checks.
    pub checks: &'a [Check],
    /// Why no PIN unlocks this kiosk, when none does.
    pub pin_problem: Option<String>,
}

/// Draws the overview.
pub fn overview_ui(
    ui: &mut Ui,
    facts: &OverviewFacts<'_>,
    devices: &mut DeviceList,
) -> OverviewAction {
    let mut action = OverviewAction::None;
    let full = ui.available_rect_before_wrap();
    let side_by_side = full.width() >= 640.0;
    if side_by_side {
        let side = (full.width() * 0.3).clamp(SIDE_MIN, SIDE_MAX);
        let tiles = Rect::from_min_max(
            full.min,
            egui::pos2(full.right() - side - GAP, full.bottom()),
        );
        let column = Rect::from_min_max(egui::pos2(tiles.right() + GAP, full.top()), full.max);
        let mut tiles_area = ui.new_child(UiBuilder::new().max_rect(tiles).layout(top_down()));
        tiles_ui(&mut tiles_area, facts.services, facts.checks, &mut action);
        let mut column_ui = ui.new_child(UiBuilder::new().max_rect(column).layout(top_down()));
        side_ui(&mut column_ui, facts, devices, &mut action);
        ui.allocate_rect(full, Sense::hover());
    } else {
        egui::ScrollArea::vertical()
            .id_salt("overview")
            .show(ui, |ui| {
                side_ui(ui, facts, devices, &mut action);
                tiles_ui(ui, facts.services, facts.checks, &mut action);
            });
    }
    action
}

fn top_down() -> egui::Layout {
    egui::Layout::top_down(egui::Align::Min)
}

/// The columns and the tile height for `count` tiles in `area`: as wide as they can be while
/// every tile fits the height; when even the narrowest do not, the least tall (and the area
/// scrolls).
fn grid(count: usize, area: egui::Vec2) -> (usize, f32) {
    if count == 0 {
        return (1, TILE_MIN_HEIGHT);
    }
    let fits = |columns: usize| (area.x - GAP * (columns as f32 - 1.0)) / columns as f32;
    let height = |columns: usize| {
        let rows = count.div_ceil(columns) as f32;
        (area.y - GAP * (rows - 1.0)) / rows
    };
    let mut columns = ((area.x + GAP) / (TILE_WIDTH + GAP)).floor().max(1.0) as usize;
    columns = columns.min(count);
    while height(columns) < TILE_MIN_HEIGHT
        && columns < count
        && fits(columns + 1) >= TILE_MIN_WIDTH
    {
        columns += 1;
    }
    (
        columns,
        height(columns).clamp(TILE_MIN_HEIGHT, TILE_MAX_HEIGHT),
    )
}

fn tiles_ui(
    ui: &mut Ui,
    services: &[ServiceOverview],
    checks: &[Check],
    action: &mut OverviewAction,
) {
    if services.is_empty() {
        ui.label(RichText::new("No service has reported yet.").size(20.0));
        return;
    }
    let area = ui.available_size();
    let (columns, height) = grid(services.len(), area);
    let width = (area.x - GAP * (columns as f32 - 1.0)) / columns as f32;
    egui::ScrollArea::vertical()
        .id_salt("overview-tiles")
        .auto_shrink([false, false])
        .show(ui, |ui| {
            ui.spacing_mut().item_spacing = vec2(GAP, GAP);
            for row in services.chunks(columns) {
                ui.horizontal(|ui| {
                    for service in row {
                        if tile(ui, service, checks, vec2(width, height)) {
                            *action = OverviewAction::OpenService(service.service_name.clone());
                        }
                    }
                });
            }
        });
}

/// What a tile says about a service: its tone, the status line and the reason.
struct TileText {
    tone: Tone,
    status: String,
    reason: Option<String>,
}

fn tile_text(ctx: &egui::Context, service: &ServiceOverview, checks: &[Check]) -> TileText {
    let health = service.shown_health();
    let config = if service.configured {
        format!("config {}", service.config_state.as_str())
    } else {
        "no config".to_owned()
    };
    // No config, or no acknowledgement yet, is not a problem for the household: the health
    // decides then (the same tone as the Health tab's cards).
    let tone = card_tone(service);
    let error_check = checks
        .iter()
        .find(|c| c.service == service.service_name && c.severity == Severity::Error);
    let reason = if let Some(error) = &service.config_error {
        Some(format!("refused: {error}"))
    } else if let Some(check) = error_check {
        Some(check.message.clone())
    } else {
        match (health, service.config_state) {
            (ShownHealth::Stale, _) => Some(format!(
                "silent since {}",
                relative_time(ctx, service.last_seen.as_deref())
            )),
            (ShownHealth::Reported(HealthStatus::Unknown), _) => {
                Some("has not reported its health".to_owned())
            }
            (_, ConfigState::Pending) => Some(format!(
                "applying since {}",
                relative_time(ctx, service.pending_since.as_deref())
            )),
            _ => None,
        }
    };
    TileText {
        tone,
        status: format!("{} · {config}", health.as_str()),
        reason,
    }
}

/// A tile; true when tapped.
fn tile(ui: &mut Ui, service: &ServiceOverview, checks: &[Check], size: egui::Vec2) -> bool {
    let text = tile_text(ui.ctx(), service, checks);
    let colour = text.tone.colour(ui);
    let (rect, response) = ui.allocate_exact_size(size, Sense::click());
    let painter = ui.painter();
    painter.rect(
        rect,
        8.0,
        colour.gamma_multiply(0.12),
        egui::Stroke::new(if text.tone == Tone::Good { 1.0 } else { 3.0 }, colour),
        egui::StrokeKind::Inside,
    );
    // Larger tiles (larger screens, fewer services) get larger type, for reading from afar.
    let title = (size.y * 0.2).clamp(18.0, 30.0);
    let inner = rect.shrink2(vec2(10.0, 6.0));
    let mut body = ui.new_child(UiBuilder::new().max_rect(inner).layout(top_down()));
    let spare = (inner.height() - 3.0 * title * 1.25) / 3.0;
    body.spacing_mut().item_spacing = vec2(6.0, spare.clamp(1.0, 12.0));
    // Rows as tall as their text, not touch targets (the whole tile is the target); the
    // status row's dot centred on its text.
    body.spacing_mut().interact_size.y = title * 0.85 * 1.2;
    body.add(
        egui::Label::new(RichText::new(&service.service_name).strong().size(title))
            .truncate()
            .selectable(false),
    );
    body.horizontal(|ui| {
        dot(ui, colour);
        ui.add(
            egui::Label::new(RichText::new(&text.status).color(colour).size(title * 0.85))
                .truncate()
                .selectable(false),
        );
    });
    if let Some(reason) = &text.reason {
        body.add(
            egui::Label::new(RichText::new(reason).size((title * 0.75).max(14.0)))
                .truncate()
                .selectable(false),
        );
    }
    let mut name = format!("{}: {}", service.service_name, text.status);
    if let Some(reason) = &text.reason {
        name.push_str(&format!(", {reason}"));
    }
    a11y::set_name(ui, response.id, name);
    response.clicked()
}

fn side_ui(
    ui: &mut Ui,
    facts: &OverviewFacts<'_>,
    devices: &mut DeviceList,
    action: &mut OverviewAction,
) {
    ui.spacing_mut().item_spacing.y = 6.0;
    devices_card(ui, devices, action);
    checks_card(ui, facts.checks, action);
    if let Some(problem) = &facts.pin_problem {
        egui::Frame::group(ui.style()).show(ui, |ui| {
            ui.set_width(ui.available_width());
            ui.add(
                egui::Label::new(
                    RichText::new(problem)
                        .size(14.0)
                        .color(Tone::Warning.colour(ui)),
                )
                .wrap(),
            );
        });
    }
}

fn devices_card(ui: &mut Ui, devices: &mut DeviceList, action: &mut OverviewAction) {
    let (online, total) = devices.counts();
    let offline = total - online;
    egui::Frame::group(ui.style()).show(ui, |ui| {
        ui.set_width(ui.available_width());
        ui.label(RichText::new("Devices").strong().size(18.0));
        ui.horizontal_wrapped(|ui| {
            dot(ui, Tone::Good.colour(ui));
            ui.label(RichText::new(format!("{online} online")).color(Tone::Good.colour(ui)));
            let tone = if offline == 0 {
                Tone::Neutral
            } else {
                Tone::Bad
            };
            dot(ui, tone.colour(ui));
            ui.label(RichText::new(format!("{offline} offline")).color(tone.colour(ui)));
        });
        if offline == 0 {
            return;
        }
        let names = devices.offline_names(3);
        let more = offline.saturating_sub(names.len());
        let mut listed = names.join(", ");
        if more > 0 {
            listed.push_str(&format!(" and {more} more"));
        }
        ui.add(egui::Label::new(RichText::new(format!("Offline: {listed}")).size(14.0)).wrap());
        let button =
            egui::Button::new("Show offline devices").min_size(vec2(ui.available_width(), 44.0));
        if ui.add(button).clicked() {
            *action = OverviewAction::OfflineDevices;
        }
    });
}

fn checks_card(ui: &mut Ui, checks: &[Check], action: &mut OverviewAction) {
    let errors = checks
        .iter()
        .filter(|c| c.severity == Severity::Error)
        .count();
    let warnings = checks.len() - errors;
    egui::Frame::group(ui.style()).show(ui, |ui| {
        ui.set_width(ui.available_width());
        let (text, tone) = match (errors, warnings) {
            (0, 0) => ("Checks: all clear".to_owned(), Tone::Good),
            (0, w) => (format!("Checks: {w} warning{}", plural(w)), Tone::Warning),
            (e, w) => (
                format!("Checks: {e} error{}, {w} warning{}", plural(e), plural(w)),
                Tone::Bad,
            ),
        };
        ui.horizontal(|ui| {
            dot(ui, tone.colour(ui));
            ui.label(RichText::new(text).strong().color(tone.colour(ui)));
        });
        if let Some(first) = checks.first() {
            ui.add(
                egui::Label::new(
                    RichText::new(format!("{}: {}", first.service, first.message)).size(14.0),
                )
                .wrap(),
            );
            let button =
                egui::Button::new("Show checks").min_size(vec2(ui.available_width(), 44.0));
            if ui.add(button).clicked() {
                *action = OverviewAction::Checks;
            }
        }
    });
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn twelve_tiles_fit_an_800_by_480_panel() {
        // The tile area left at 800×480 beside the side column, under the header and tabs.
        let (columns, height) = grid(12, vec2(530.0, 340.0));
        let rows = 12usize.div_ceil(columns) as f32;
        assert!(
            rows * height + (rows - 1.0) * GAP <= 340.0,
            "{columns} columns of {height}"
        );
        assert!(height >= TILE_MIN_HEIGHT);
    }

    #[test]
    fn a_wide_screen_gets_wide_and_tall_tiles() {
        let (columns, height) = grid(12, vec2(1400.0, 900.0));
        assert!(
            columns >= 4 && height == TILE_MAX_HEIGHT,
            "{columns} columns of {height}"
        );
        assert_eq!(grid(3, vec2(1400.0, 900.0)).0, 3);
    }
}
