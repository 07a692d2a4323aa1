//! The manager's place on the fleet — its role now and at the next start — and Home
//! Assistant discovery.

use super::*;

impl SettingsPanel {
    /// The role on a fleet of several managers: what it is now, and what to ask for at the
    /// next start.
    pub(super) fn fleet_ui(&mut self, ui: &mut Ui, link: &Link, view: &View, read_only: bool) {
        section_heading(ui, "Fleet");
        ui.label(
            RichText::new(format!(
                "Now: {} (this manager's id: {}).",
                view.system.role, view.system.instance_id
            ))
            .weak(),
        );
        if view.local.is_none() {
            // The role is asked for on the manager's own machine.
            return;
        }
        ui.horizontal(|ui| {
            let before = self.role;
            let mut chosen_hint = "";
            ui.label("Role at start");
            ui.add_enabled_ui(!read_only, |ui| {
                for (role, word, hint) in [
                    (
                        RoleSetting::Auto,
                        "Auto",
                        "follow an authority already running, else become it",
                    ),
                    (
                        RoleSetting::Authority,
                        "Authority",
                        "own the configs; take over from a running authority",
                    ),
                    (
                        RoleSetting::Follower,
                        "Follower",
                        "never publish configs; send edits to the authority",
                    ),
                ] {
                    let response = ui.selectable_value(&mut self.role, role, word);
                    a11y::set_name(ui, response.id, format!("Role at start: {word}"));
                    if self.role == role {
                        chosen_hint = hint;
                    }
                }
            });
            // In words, not only on hover: the kiosk has no hover.
            ui.label(RichText::new(chosen_hint).weak());
            if before != self.role {
                let role = self.role;
                self.save(
                    link.platform.as_ref(),
                    Box::new(move |f| f.role = Some(role)),
                );
                self.role_message =
                    Some(Notice::done("Saved. The role applies from the next start."));
            }
        });
        notice_ui(ui, self.role_message.as_ref());
    }

    /// Home Assistant MQTT discovery, on and off while running (and kept for the next start).
    pub(super) fn home_assistant_ui(
        &mut self,
        ui: &mut Ui,
        link: &Link,
        view: &View,
        read_only: bool,
    ) {
        section_heading(ui, "Home Assistant");
        ui.label(
            RichText::new(format!(
                "Each service appears in Home Assistant as a device — a problem sensor, its \
                 config state and an Enabled switch — and the manager with its counts, through \
                 MQTT discovery under \"{}\". Turning this off removes them from Home \
                 Assistant. Only the fleet's authority publishes.",
                view.system.discovery_prefix
            ))
            .weak(),
        );
        let mut on = view.system.home_assistant;
        let toggle = ui.add_enabled(
            !read_only,
            egui::Checkbox::new(&mut on, "Publish to Home Assistant (MQTT discovery)"),
        );
        if toggle.changed() {
            self.saving.start(link.backend.set_home_assistant(on));
        }
    }
}
