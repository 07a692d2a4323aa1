//! Every panel and state of the real window as rendered (compared with the snapshots in
//! `tests/snapshots`), and every panel named for assistive technology.

mod gui_support;
mod support;

use alicia_config_manager::core::mqtt::payloads::HealthStatus;
use alicia_config_manager::core::settings::SettingsFile;
use alicia_config_manager::gui::GuiOptions;
use alicia_config_manager::gui::app::Tab;
use egui_kittest::SnapshotOptions;
use egui_kittest::kittest::{NodeT, Queryable};
use gui_support::*;
use serde_json::json;
use support::TestClient;

#[test]
fn every_panel_renders_as_in_its_snapshot() {
    let mut gui = gui(GuiOptions::default(), SettingsFile::default());
    let port = gui.broker.port;
    // The client stays connected until the end: dropping it could lose queued publishes.
    let _fleet = gui.runtime.block_on(async move {
        let fleet = TestClient::connect(port).await;
        for (id, name, kind, room) in [
            ("kitchen-light", "Kitchen light", "light", "kitchen"),
            ("hall-thermostat", "Hall thermostat", "thermostat", "hall"),
            ("office-speaker", "Office speaker", "speaker", "office"),
        ] {
            let state = json!({"name": name, "type": kind, "room": room, "on": true});
            fleet
                .publish_json(&format!("alicia/device/{id}/state"), &state, true)
                .await;
            fleet
                .publish(
                    &format!("alicia/device/{id}/availability"),
                    b"online".to_vec(),
                    true,
                )
                .await;
        }
        let health = json!({"status": "healthy", "version": "1.0.0"});
        fleet
            .publish_json("alicia/system/health/whisper-service", &health, false)
            .await;
        fleet
    });
    gui.until("the fleet is seen", |_, core| {
        core.devices.counts() == (3, 3)
            && core.shown_status("whisper-service") == Some(HealthStatus::Healthy)
    });
    gui.until("the services are listed", |h, _| {
        h.query_by_label("whisper-service").is_some()
    });
    // Live text (times, the random broker port) differs between runs: a few hundred pixels.
    let options = SnapshotOptions::new().max_failed_pixels(4000);
    for (theme, suffix) in [
        (egui::ThemePreference::Dark, ""),
        (egui::ThemePreference::Light, "-light"),
    ] {
        gui.harness.ctx.set_theme(theme);
        for (tab, name) in [
            (Tab::Services, "services"),
            (Tab::Devices, "devices"),
            (Tab::Health, "health"),
            (Tab::Monitor, "monitor"),
            (Tab::Server, "server"),
            (Tab::Settings, "settings"),
        ] {
            gui.harness.state_mut().tab = tab;
            gui.frames(4);
            if tab == Tab::Monitor && suffix.is_empty() {
                // The manager's own echoes (presence, config) may arrive twice from rumqttd
                // (live and retained when the subscription races them): show the fleet's
                // only.
                let filter = gui.harness.get_by_label("Topic filter");
                filter.focus();
                filter.type_text("alicia/device/#");
                gui.frames(4);
            }
            gui.harness
                .snapshot_options(format!("{name}{suffix}"), &options);
        }
        gui.harness.state_mut().tab = Tab::Services;
        if suffix.is_empty() {
            gui.open("whisper-service");
        }
        gui.frames(4);
        gui.harness
            .snapshot_options(format!("editor{suffix}"), &options);
    }
}

/// The states a panel passes through, rendered (README's pictures come from this run too):
/// an invalid field, the pending changes, a conflict, the delete confirmation, the new-service dialog,
/// a device with its command's result, the history and a running server.
#[test]
fn every_state_renders_as_in_its_snapshot() {
    let mut gui = gui(GuiOptions::default(), SettingsFile::default());
    gui.runtime
        .spawn(alicia_config_manager::api::server::supervise(
            gui.core.clone(),
        ));
    let port = gui.broker.port;
    let mut lamp = gui.runtime.block_on(async move {
        let mut lamp = TestClient::connect(port).await;
        lamp.subscribe("alicia/device/+/command").await;
        let state = json!({"name": "Desk lamp", "type": "light", "room": "office", "on": false});
        lamp.publish_json("alicia/device/desk-lamp/state", &state, true)
            .await;
        lamp.publish(
            "alicia/device/desk-lamp/availability",
            b"online".to_vec(),
            true,
        )
        .await;
        lamp
    });
    let options = SnapshotOptions::new().max_failed_pixels(4000);

    gui.open("whisper-service");
    text_field(&gui.harness, "Endpoint 1 · Address").set_text_value_accesskit("");
    gui.until("the error shows", |h, _| has_text(h, "problem(s) to fix"));
    gui.harness
        .snapshot_options("state-invalid-field", &options);

    text_field(&gui.harness, "Endpoint 1 · Address").set_text_value_accesskit("10.0.0.42");
    gui.frames(3);
    gui.until("the pending change is listed", |h, _| {
        has_text(h, "Changes to save (1)")
    });
    gui.harness.snapshot_options("state-pending", &options);

    let mut theirs = (*gui.core.config.get("whisper-service").unwrap().document).clone();
    theirs["config"]["model"] = json!("large-v3");
    gui.store_by_rest(theirs);
    gui.until("changed meanwhile", |h, _| has_text(h, "Changed meanwhile"));
    gui.click("Save");
    gui.until("the conflict", |h, _| {
        has_text(h, "Someone else saved this service while you were editing.")
    });
    gui.harness.snapshot_options("state-conflict", &options);
    gui.click("Take theirs (discard mine)");
    gui.frames(3);
    gui.click("Delete service…");
    gui.until("the confirmation", |h, _| {
        h.query_by_label("Delete").is_some()
    });
    gui.harness.snapshot_options("state-delete", &options);
    gui.harness.key_press(egui::Key::Escape);
    gui.frames(3);
    gui.click("History");
    gui.frames(4);
    gui.harness.snapshot_options("history", &options);
    gui.click("Close");
    gui.frames(3);

    gui.click("New service…");
    gui.frames(4);
    gui.harness.snapshot_options("state-new-service", &options);
    gui.click("Cancel");
    gui.frames(3);

    gui.harness.state_mut().tab = Tab::Devices;
    gui.until("the lamp is listed", |h, _| {
        h.query_by_label("Desk lamp (desk-lamp)").is_some()
    });
    gui.click("Desk lamp (desk-lamp)");
    gui.until("its details", |h, _| h.query_by_label("On").is_some());
    // The lamp reports `on`: its quick control sends turn_on.
    gui.click("On");
    let command = gui
        .runtime
        .block_on(lamp.expect_json("alicia/device/desk-lamp/command", |_| true));
    let result = json!({"request_id": command["request_id"], "ok": true});
    gui.runtime.block_on(lamp.publish_json(
        "alicia/device/desk-lamp/command/result",
        &result,
        false,
    ));
    gui.until("the result", |h, _| has_text(h, "the device did it"));
    gui.harness
        .snapshot_options("state-device-result", &options);

    // At twice the size (a UI scale of 2.0): the layout reflows, nothing is cut off.
    gui.harness.state_mut().tab = Tab::Services;
    gui.harness.ctx.set_zoom_factor(2.0);
    gui.open("whisper-service");
    gui.frames(4);
    gui.harness.snapshot_options("state-ui-scale-2", &options);
    gui.click("Close");
    gui.harness.ctx.set_zoom_factor(1.0);
    gui.frames(3);

    gui.harness.state_mut().tab = Tab::Server;
    gui.frames(3);
    text_field(&gui.harness, "Port").set_text_value_accesskit(&support::free_port().to_string());
    gui.frames(2);
    gui.click("Start server");
    gui.until("the server runs", |_, core| {
        matches!(
            core.api.status(),
            alicia_config_manager::core::api_switch::ApiStatus::Running { .. }
        )
    });
    gui.frames(4);
    gui.harness
        .snapshot_options("state-server-running", &options);
}

#[test]
fn every_panel_is_named_for_assistive_technology() {
    let mut gui = gui(GuiOptions::default(), SettingsFile::default());
    let port = gui.broker.port;
    let _device = gui.runtime.block_on(async move {
        let device = TestClient::connect(port).await;
        device
            .publish_json(
                "alicia/device/desk-lamp/state",
                &json!({"name": "Desk lamp", "on": true}),
                true,
            )
            .await;
        device
    });
    gui.until("the lamp is known", |_, core| {
        core.devices.get("desk-lamp").is_some()
    });
    gui.until("the services are listed", |h, _| {
        h.query_by_label("whisper-service").is_some()
    });
    let mut found = Vec::new();
    let panels = [
        (Tab::Services, "services"),
        (Tab::Devices, "devices"),
        (Tab::Health, "health"),
        (Tab::Monitor, "monitor"),
        (Tab::Server, "server"),
        (Tab::Settings, "settings"),
    ];
    for (theme, (tab, name)) in [egui::ThemePreference::Dark, egui::ThemePreference::Light]
        .into_iter()
        .flat_map(|theme| panels.into_iter().map(move |panel| (theme, panel)))
    {
        gui.harness.ctx.set_theme(theme);
        gui.harness.state_mut().tab = tab;
        gui.frames(4);
        if tab == Tab::Devices && gui.harness.query_by_label("Toggle").is_none() {
            gui.click("Desk lamp (desk-lamp)");
        }
        if matches!(tab, Tab::Services | Tab::Devices | Tab::Monitor) {
            let roles: Vec<egui::accesskit::Role> = gui
                .harness
                .root()
                .query_all(egui_kittest::kittest::By::new())
                .map(|node| node.accesskit_node().role())
                .collect();
            assert!(
                roles.contains(&egui::accesskit::Role::ColumnHeader)
                    && roles.contains(&egui::accesskit::Role::Cell),
                "{name}: the table tells its headers and cells"
            );
        }
        for problem in accessibility_problems(&gui.harness) {
            found.push(format!("{name}: {problem}"));
        }
    }
    gui.harness.state_mut().tab = Tab::Services;
    gui.open("whisper-service");
    gui.frames(4);
    for problem in accessibility_problems(&gui.harness) {
        found.push(format!("editor: {problem}"));
    }
    gui.click("History");
    gui.frames(4);
    for problem in accessibility_problems(&gui.harness) {
        found.push(format!("history: {problem}"));
    }
    found.sort();
    found.dedup();
    assert!(found.is_empty(), "{}", found.join("\n"));
}
