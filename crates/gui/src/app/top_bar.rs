//! The desktop's top bar — the broker, the role, the REST server and the fleet's counts, each
//! a way to where it is handled — the theme switch, and the problem counts after the tabs.

use super::{AliciaApp, Tab};
use crate::panels::health::card_tone;
use crate::panels::settings::Theme;
use crate::widgets::a11y;
use crate::widgets::badge::{Tone, dot};
use alicia_model::settings::api::ApiStatus;
use egui::{RichText, Ui};

impl AliciaApp {
    pub(super) fn top_bar_ui(&mut self, ui: &mut Ui) {
        ui.horizontal_wrapped(|ui| {
            ui.label(RichText::new("Alicia Config Manager").strong().size(17.0));
            if self.options.demo {
                ui.label(
                    RichText::new("DEMO")
                        .strong()
                        .color(Tone::Warning.colour(ui)),
                );
            }
            ui.separator();
            let system = &self.view.system;
            let (connected, reason) = (&system.mqtt_connected, &system.mqtt_reason);
            let broker = format!(
                "broker {}{}",
                system.broker_url,
                if system.embedded_broker {
                    " (embedded)"
                } else {
                    ""
                }
            );
            let colour = Tone::good_if(*connected).colour(ui);
            dot(ui, colour);
            if *connected {
                ui.label(RichText::new(broker).color(colour));
            } else {
                let why = reason.clone().unwrap_or_else(|| "connecting".to_owned());
                ui.label(RichText::new(format!("{broker}: reconnecting ({why})")).color(colour));
            }
            ui.separator();
            self.role_label(ui);
            ui.separator();
            // Each count is a way to where it is handled.
            let rest = match &self.view.system.api {
                ApiStatus::Running { addr, .. } => ui.link(format!("REST: http://{addr}")),
                ApiStatus::Failed { .. } => {
                    ui.link(RichText::new("REST: failed").color(ui.visuals().error_fg_color))
                }
                _ => ui.link("REST: off"),
            };
            if rest.clicked() {
                self.tab = Tab::Server;
            }
            ui.separator();
            let (online, total) = self.devices.counts();
            ui.label(format!("{} services ·", self.view.services.len()));
            if online < total {
                let offline = ui.link(
                    RichText::new(format!("{} of {total} devices offline", total - online))
                        .color(Tone::Bad.colour(ui)),
                );
                if offline.clicked() {
                    self.show_offline_devices();
                }
            } else {
                ui.label(format!("{online}/{total} devices online"));
            }
            ui.label(format!("· {:.0} msg/s", self.rate.current()));
            ui.separator();
            self.theme_switch(ui);
        });
    }

    /// The problems a tab holds, as a count in the error colour after its title: errors among
    /// the checks (Services), devices offline (Devices), services unhealthy or refusing their
    /// config (Health), a REST server that failed (Server).
    pub(super) fn tab_badge(&mut self, ui: &mut Ui, tab: Tab, title: &str) {
        let (count, what) = match tab {
            Tab::Services => (
                self.view
                    .checks
                    .iter()
                    .filter(|c| c.severity == alicia_model::checks::Severity::Error)
                    .count(),
                "errors",
            ),
            Tab::Devices => {
                let (online, total) = self.devices.counts();
                (total - online, "offline")
            }
            Tab::Health => (
                self.view
                    .services
                    .iter()
                    .filter(|s| card_tone(s) == Tone::Bad)
                    .count(),
                "in trouble",
            ),
            Tab::Server => (
                usize::from(matches!(self.view.system.api, ApiStatus::Failed { .. })),
                "failed",
            ),
            _ => (0, ""),
        };
        if count == 0 {
            return;
        }
        let text = RichText::new(count.to_string())
            .strong()
            .color(Tone::Bad.colour(ui));
        let badge = ui.add(egui::Button::new(text).frame(false));
        a11y::set_name(ui, badge.id, format!("{title}: {count} {what}"));
        if badge.clicked() {
            self.tab = tab;
        }
    }

    /// Light or dark at a click, kept like the choice in Settings.
    fn theme_switch(&mut self, ui: &mut Ui) {
        let dark = ui.visuals().dark_mode;
        let (symbol, name, next) = if dark {
            ("☀", "Switch to the light theme", Theme::Light)
        } else {
            ("🌙", "Switch to the dark theme", Theme::Dark)
        };
        let response = ui.button(symbol).on_hover_text(name);
        a11y::set_name(ui, response.id, name);
        if response.clicked() {
            let ctx = ui.ctx().clone();
            self.settings
                .set_theme(next, &ctx, self.link.platform.as_ref());
        }
    }

    /// The role on the fleet; on a follower, which authority it follows (in the error colour
    /// while there is none alive: edits are refused then).
    fn role_label(&mut self, ui: &mut Ui) {
        let system = &self.view.system;
        let text = format!("role: {}", system.role);
        let link = if system.has_live_authority {
            ui.link(text)
        } else {
            ui.link(RichText::new(text).color(ui.visuals().error_fg_color))
        };
        // The fleet's settings (and this manager's instance id) are in Settings.
        if link.clicked() {
            self.tab = Tab::Settings;
        }
    }
}
