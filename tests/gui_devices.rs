//! The devices table in the real window: a device that reports appears, and a command sent
//! from it round-trips through a real device on the broker.

mod gui_support;
mod support;

use alicia_config_manager::core::settings::SettingsFile;
use alicia_config_manager::gui::GuiOptions;
use alicia_config_manager::gui::app::Tab;
use egui_kittest::kittest::Queryable;
use gui_support::*;
use serde_json::json;
use support::TestClient;

#[test]
fn a_device_appears_in_the_table_and_a_command_round_trips() {
    let mut gui = gui(GuiOptions::default(), SettingsFile::default());
    let port = gui.broker.port;
    let mut device = gui.runtime.block_on(async move {
        let mut device = TestClient::connect(port).await;
        device.subscribe("alicia/device/+/command").await;
        device
            .publish_json(
                "alicia/device/desk-lamp/state",
                &json!({"name": "Desk lamp", "type": "light", "room": "office", "on": false}),
                true,
            )
            .await;
        device
            .publish(
                "alicia/device/desk-lamp/availability",
                b"online".to_vec(),
                true,
            )
            .await;
        device
    });
    gui.harness.state_mut().tab = Tab::Devices;
    gui.until("the lamp is in the table", |h, _| {
        h.query_by_label("Desk lamp (desk-lamp)").is_some()
    });
    // ↓ selects the first device (the keyboard's way in).
    gui.harness.key_press(egui::Key::ArrowDown);
    gui.until("its details show", |h, _| h.query_by_label("On").is_some());
    // The lamp reports `on`: its quick control sends turn_on.
    gui.click("On");
    let command = gui
        .runtime
        .block_on(device.expect_json("alicia/device/desk-lamp/command", |_| true));
    assert_eq!(command["command"], "turn_on");
    let result = json!({"request_id": command["request_id"], "ok": true});
    gui.runtime.block_on(device.publish_json(
        "alicia/device/desk-lamp/command/result",
        &result,
        false,
    ));
    gui.until("the result is shown", |h, _| {
        has_text(h, "the device did it")
    });

    // Forgotten from the details, after a confirmation.
    gui.click("Forget device…");
    assert!(
        gui.core.devices.get("desk-lamp").is_some(),
        "not before confirming"
    );
    gui.click("Forget");
    gui.until(
        "the lamp is gone from the registry and the table",
        |h, core| {
            core.devices.get("desk-lamp").is_none()
                && h.query_by_label("Desk lamp (desk-lamp)").is_none()
        },
    );
}
