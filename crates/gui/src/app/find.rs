//! Ctrl+K from the app's side: what the palette finds (services, devices, settings), gathered
//! when it opens, and going where the chosen one leads.

use super::{AliciaApp, Tab};
use crate::guard::Leave;
use crate::palette::{Destination, Item, setting_items};

impl AliciaApp {
    /// Opens the find-anything box (Ctrl+K).
    pub fn open_palette(&mut self) {
        self.palette.open();
        self.palette_items = self.findable();
    }

    /// Everything Ctrl+K finds: services, devices (by name and id), settings.
    pub(super) fn findable(&self) -> Vec<Item> {
        let services = self.view.services.iter().map(|s| Item {
            title: s.service_name.clone(),
            kind: "service",
            to: Destination::Service(s.service_name.clone()),
        });
        let devices = self.devices.names().map(|(id, name)| Item {
            title: match name {
                Some(name) => format!("{name} ({id})"),
                None => id.to_owned(),
            },
            kind: "device",
            to: Destination::Device(id.to_owned()),
        });
        services.chain(devices).chain(setting_items()).collect()
    }

    pub(super) fn go_to(&mut self, destination: Destination) {
        match destination {
            Destination::Service(service) => {
                self.tab = Tab::Services;
                self.leave_editor(Leave::Open(service));
            }
            Destination::Device(id) => {
                self.tab = Tab::Devices;
                self.devices.offline_only = false;
                self.devices_panel.select(&id);
            }
            Destination::Topic(words) => {
                self.tab = Tab::Monitor;
                self.messages.filter = words;
            }
            Destination::Settings => self.tab = Tab::Settings,
            Destination::Server => self.tab = Tab::Server,
        }
    }
}
