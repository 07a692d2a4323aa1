//! The kiosk's frame around the tabs: the keypad over everything while it is open, the
//! one-line header, the tabs along the bottom, and the overview with where its taps lead.

use super::{AliciaApp, KIOSK_TABS, Tab};
use crate::guard::Leave;
use crate::kiosk::KioskLock;
use crate::kiosk::header::{HeaderFacts, header_ui};
use crate::kiosk::keypad::keypad_ui;
use crate::kiosk::overview::{OverviewAction, OverviewFacts, overview_ui};
use egui::Ui;

impl AliciaApp {
    /// The kiosk's frame: the keypad over everything while it is open, else the one-line
    /// header, the tab shown and the tabs along the bottom.
    pub(super) fn kiosk_frame(&mut self, ui: &mut Ui) {
        let Some(kiosk) = self.kiosk.as_mut() else {
            return;
        };
        if kiosk.keypad_open() {
            egui::CentralPanel::default()
                .show(ui, |ui| keypad_ui(ui, kiosk, self.link.platform.as_ref()));
            return;
        }
        let interacted = ui.input(|i| {
            i.events.iter().any(|event| {
                matches!(
                    event,
                    egui::Event::PointerButton { pressed: true, .. }
                        | egui::Event::Touch { .. }
                        | egui::Event::Key { pressed: true, .. }
                        | egui::Event::Text(_)
                        | egui::Event::MouseWheel { .. }
                )
            })
        });
        if interacted {
            kiosk.touched();
        }
        let connection = (
            self.view.system.mqtt_connected,
            self.view.system.mqtt_reason.clone(),
        );
        let facts = HeaderFacts {
            connection: &connection,
            services: self.view.services.len(),
            devices: self.devices.counts(),
            demo: self.options.demo,
        };
        egui::Panel::top("kiosk-header").show(ui, |ui| {
            header_ui(ui, &facts, kiosk, self.link.platform.as_ref());
        });
        let locked = kiosk.locked();
        if locked && self.tab == Tab::Settings {
            self.tab = Tab::Overview;
        }
        egui::Panel::bottom("kiosk-tabs").show(ui, |ui| {
            let shown: Vec<_> = KIOSK_TABS
                .into_iter()
                .filter(|(tab, _)| !(locked && *tab == Tab::Settings))
                .collect();
            ui.horizontal(|ui| {
                let gap = ui.spacing().item_spacing.x;
                let width =
                    (ui.available_width() - gap * (shown.len() as f32 - 1.0)) / shown.len() as f32;
                for (tab, title) in shown {
                    let selected = self.tab == tab;
                    let button =
                        egui::Button::selectable(selected, title).min_size(egui::vec2(width, 48.0));
                    if ui.add(button).clicked() {
                        self.tab = tab;
                    }
                }
            });
        });
        if self.tab == Tab::Overview {
            self.overview_tab(ui);
        } else {
            self.tab_ui(ui);
        }
    }

    pub(super) fn overview_tab(&mut self, ui: &mut Ui) {
        let facts = OverviewFacts {
            services: &self.view.services,
            checks: &self.view.checks,
            pin_problem: self.kiosk.as_ref().and_then(KioskLock::pin_problem),
        };
        let action = egui::CentralPanel::default()
            .show(ui, |ui| overview_ui(ui, &facts, &mut self.devices))
            .inner;
        match action {
            OverviewAction::None => {}
            OverviewAction::OpenService(service) => {
                self.tab = Tab::Services;
                self.leave_editor(Leave::Open(service));
            }
            OverviewAction::OfflineDevices => self.show_offline_devices(),
            OverviewAction::Checks => self.tab = Tab::Services,
        }
    }
}
