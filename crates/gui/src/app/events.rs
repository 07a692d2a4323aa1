//! Taking in the core's events between frames: the models (devices, messages, topic tree)
//! updated under a time budget, what they retired freed off the UI thread, the services table
//! rebuilt in the background when something changed, and the repaints that state asks for.
//! State only; drawing is in the parent module.

use super::{AliciaApp, Tab};
use crate::panels::rollback_banner::RolledBack;
use alicia_core::events::CoreEvent;
use std::time::{Duration, Instant};

/// Time the UI spends per frame taking in core events.
const EVENT_BUDGET: Duration = Duration::from_millis(4);
/// Least time between two rebuilds of the services table while health keeps changing.
const SERVICES_EVERY: Duration = Duration::from_millis(250);
/// Most time between two rebuilds when nothing changes (checks that depend on time alone,
/// such as a revision pending too long, appear meanwhile).
const SERVICES_AT_LEAST_EVERY: Duration = Duration::from_secs(10);

impl AliciaApp {
    /// Takes in core events (under the time budget) and samples the message rate.
    pub fn take_in_events(&mut self, ctx: &egui::Context) {
        self.pump.watch(
            self.tab == Tab::Monitor && !self.messages.paused,
            self.tab == Tab::Devices,
        );
        let devices = &mut self.devices;
        let messages = &mut self.messages;
        let topic_tree = &mut self.topic_tree;
        let devices_panel = &mut self.devices_panel;
        let mut services_changed = false;
        let mut connection_changed = false;
        let mut rolled_back = None;
        let missed = self.pump.drain(EVENT_BUDGET, |event| match event {
            CoreEvent::ConfigRolledBack {
                service,
                revision,
                reason,
            } => {
                rolled_back = Some(RolledBack {
                    service,
                    revision,
                    reason,
                });
                services_changed = true;
            }
            CoreEvent::Message(record) => {
                topic_tree.push(&record);
                messages.push(record);
            }
            CoreEvent::DeviceUpdated(device) => devices.update(device),
            CoreEvent::DeviceRemoved { id } => devices.remove(&id),
            CoreEvent::ConfigChanged { .. }
            | CoreEvent::ConfigConfirmed { .. }
            | CoreEvent::HealthChanged { .. }
            | CoreEvent::ServiceUpdated { .. } => {
                services_changed = true;
            }
            CoreEvent::CommandFinished(record) => devices_panel.on_command_finished(&record),
            CoreEvent::Connection { .. } | CoreEvent::FleetChanged => connection_changed = true,
        });
        if rolled_back.is_some() {
            self.rolled_back = rolled_back;
        }
        let mut messages_retired = self.messages.take_retired();
        messages_retired.extend(self.topic_tree.take_retired());
        let retired = (messages_retired, self.devices.take_retired());
        if !retired.0.is_empty() || !retired.1.is_empty() {
            // Freed on the runtime's blocking pool, not between two frames.
            self.runtime.spawn_blocking(move || drop(retired));
        }
        if missed > 0 {
            self.devices.resync(&self.core);
            if !self.messages.paused {
                self.messages.resync(&self.core);
            }
            services_changed = true;
        }
        let outdated = self
            .services_built
            .is_some_and(|at| at.elapsed() >= SERVICES_AT_LEAST_EVERY);
        self.services_dirty |= services_changed || outdated;
        ctx.request_repaint_after(SERVICES_AT_LEAST_EVERY);
        if services_changed {
            self.config_generation += 1;
        }
        if connection_changed || missed > 0 {
            self.connection = (self.core.mqtt.is_connected(), self.core.mqtt.last_error());
        }
        let due = self
            .services_built
            .is_none_or(|at| at.elapsed() >= SERVICES_EVERY);
        if let Some(built) = self.services_task.take() {
            if let Some((services, checks)) = built {
                (self.services, self.checks) = (services, checks);
            }
            self.services_built = Some(Instant::now());
        }
        if self.services_task.running() {
            // The work asks for a frame when it is done; it may land just after that frame.
            ctx.request_repaint_after(SERVICES_EVERY / 5);
        } else if self.services_dirty && due {
            let core = self.core.clone();
            let repaint = ctx.clone();
            self.services_task.start(&self.runtime, async move {
                let built = tokio::task::spawn_blocking(move || core.overview_and_checks())
                    .await
                    .ok();
                repaint.request_repaint();
                built
            });
            self.services_dirty = false;
        } else if self.services_dirty {
            ctx.request_repaint_after(SERVICES_EVERY);
        }
        if self.rate.sample(self.core.mqtt.stats().messages_received) {
            self.connection = (self.core.mqtt.is_connected(), self.core.mqtt.last_error());
        }
        if self.pump.has_more() {
            ctx.request_repaint();
        }
        self.sync_drafts(ctx);
        if let Some(kiosk) = &mut self.kiosk {
            if std::mem::take(&mut self.settings.pin_changed) {
                kiosk.refresh(&self.runtime);
            }
            kiosk.poll(&self.runtime);
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
}
