//! Taking in the backend's updates between frames: the GUI's view of the manager, the models
//! (devices, messages, topic tree) updated under a time budget, what they retired freed off
//! the UI thread, and the repaints that state asks for. State only; drawing is in the parent
//! module.

use super::{AliciaApp, Tab};
use crate::panels::rollback_banner::RolledBack;
use alicia_model::backend::{Live, Update};
use std::time::Duration;

/// Time the UI spends per frame taking in updates.
const UPDATE_BUDGET: Duration = Duration::from_millis(4);
/// Updates taken from the feed at a time (the budget is looked at between batches).
const BATCH: usize = 64;

impl AliciaApp {
    /// Takes in the backend's updates (under the time budget) and samples the message rate.
    pub fn take_in_events(&mut self, ctx: &egui::Context) {
        self.link.backend.follow(Live {
            messages: self.tab == Tab::Monitor && !self.messages.paused,
            devices: self.tab == Tab::Devices,
        });
        let deadline = crate::clock::instant() + UPDATE_BUDGET;
        let mut rolled_back = None;
        loop {
            let batch = self.feed.take(BATCH);
            if batch.is_empty() {
                break;
            }
            for update in batch {
                if let Some(rolled) = self.take_in(update) {
                    rolled_back = Some(rolled);
                }
            }
            if crate::clock::instant() > deadline {
                break;
            }
        }
        if rolled_back.is_some() {
            self.rolled_back = rolled_back;
        }
        let mut messages_retired = self.messages.take_retired();
        messages_retired.extend(self.topic_tree.take_retired());
        let retired = (messages_retired, self.devices.take_retired());
        if !retired.0.is_empty() || !retired.1.is_empty() {
            // Freed away from the UI thread, not between two frames.
            self.link.platform.release(Box::new(retired));
        }
        if self.feed.take_missed() > 0 {
            // The feed overflowed: the whole state comes again.
            self.link.backend.resync();
        }
        self.rate.sample(self.view.messages_received);
        if self.feed.has_more() {
            ctx.request_repaint();
        }
        self.sync_drafts(ctx);
        if let Some(kiosk) = &mut self.kiosk {
            if std::mem::take(&mut self.settings.pin_changed) {
                kiosk.refresh(self.link.platform.as_ref());
            }
            kiosk.poll(self.link.platform.as_ref());
            if kiosk.busy() {
                ctx.request_repaint_after(Duration::from_millis(50));
            }
        }
        // The msg/s figure and the rate chart move on by themselves while messages flow or the
        // chart still shows some; relative times ask for their own repaints as they are drawn.
        if self.rate.current() > 0.0 || (self.tab == Tab::Health && self.rate.shows_traffic()) {
            ctx.request_repaint_after(Duration::from_secs(1));
        }
    }

    /// Takes in one update; a rollback is handed back for the banner.
    fn take_in(&mut self, update: Update) -> Option<RolledBack> {
        match self.view.apply(update)? {
            Update::RolledBack {
                service,
                revision,
                reason,
            } => {
                return Some(RolledBack {
                    service,
                    revision,
                    reason,
                });
            }
            Update::Message(record) => {
                self.topic_tree.push(&record);
                self.messages.push(record);
            }
            Update::Messages(recent) => {
                if self.topic_tree.total() == 0 {
                    // The tree starts from what the message ring holds, oldest first.
                    for record in recent.iter().rev() {
                        self.topic_tree.push(record);
                    }
                }
                if !self.messages.paused {
                    self.messages
                        .replace(recent, self.view.system.message_capacity);
                }
            }
            Update::Devices(devices) => self.devices.replace(devices),
            Update::DeviceUpdated(device) => self.devices.update(device),
            Update::DeviceRemoved { id } => self.devices.remove(&id),
            Update::CommandFinished(record) => self.devices_panel.on_command_finished(&record),
            // The view took the rest.
            _ => {}
        }
        None
    }
}
