//! The monitor's topic tree in the desktop app (egui_kittest over a real core and broker):
//! topics appear as a tree with message counts, a search finds a payload, and Clear retained
//! on a branch previews and then clears exactly those retained topics on the broker, while
//! refusing the manager's own.

mod gui_support;
mod support;

use alicia_config_manager::core::settings::SettingsFile;
use alicia_config_manager::gui::GuiOptions;
use alicia_config_manager::gui::app::Tab;
use egui_kittest::kittest::Queryable;
use gui_support::*;
use serde_json::json;
use std::time::Duration;
use support::TestClient;

#[test]
fn topics_show_as_a_tree_are_found_and_cleared_as_previewed() {
    let mut gui = gui(GuiOptions::default(), SettingsFile::default());
    let port = gui.broker.port;
    // Retained device states under alicia/device, and one more message on a lamp.
    let _client = gui.runtime.block_on(async move {
        let client = TestClient::connect(port).await;
        for (id, room) in [
            ("lamp-1", "kitchen"),
            ("lamp-2", "den"),
            ("plug-1", "attic"),
        ] {
            client
                .publish_json(
                    &format!("alicia/device/{id}/state"),
                    &json!({"on": true, "room": room, "watts": 7}),
                    true,
                )
                .await;
        }
        client
            .publish_json(
                "alicia/device/lamp-1/state",
                &json!({"on": false, "room": "kitchen", "watts": 0}),
                true,
            )
            .await;
        client
    });
    gui.harness.state_mut().tab = Tab::Monitor;
    gui.frames(3);
    gui.click("Topics");
    gui.until("the first level is listed", |h, _| {
        h.query_by_label("Topic alicia").is_some()
    });
    gui.click("Expand alicia");
    gui.until("the devices' branch is listed", |h, _| {
        h.query_by_label("Expand alicia/device").is_some()
    });
    gui.click("Expand alicia/device");
    gui.until("the devices' branch counts its messages", |h, _| {
        h.query_by_label("Topic alicia/device/lamp-1").is_some() && has_text(h, "4 msg")
    });

    // Search over payloads.
    text_field(&gui.harness, "Search").set_text_value_accesskit("attic");
    gui.frames(3);
    gui.until("only the attic's plug is shown", |h, _| {
        h.query_by_label("Topic alicia/device/plug-1/state")
            .is_some()
            && h.query_by_label("Topic alicia/device/lamp-2").is_none()
    });
    text_field(&gui.harness, "Search").set_text_value_accesskit("");
    gui.frames(3);

    // A topic: its last value, its history with what changed, a plot of its numbers.
    gui.click("Expand alicia/device/lamp-1");
    gui.click("Topic alicia/device/lamp-1/state");
    gui.until("the lamp's history says what changed", |h, _| {
        has_text(h, "/on: true -> false") && has_text(h, "Plot of watts, from 0 to 7")
    });
    gui.harness.snapshot_options(
        "state-topic-tree",
        &egui_kittest::SnapshotOptions::new().max_failed_pixels(4000),
    );

    // Clear retained on the devices' branch: previewed, then exactly those cleared.
    gui.click("Topic alicia/device");
    gui.click("Clear retained under alicia/device");
    gui.until("the preview names the three topics", |h, _| {
        has_text(h, "This clears 3 retained topic(s)") && has_text(h, "alicia/device/plug-1/state")
    });
    gui.click("Confirm clear retained");
    gui.until("it says so", |h, _| {
        has_text(h, "Cleared 3 retained topic(s).")
    });
    let retained = gui.runtime.block_on(async move {
        let mut late = TestClient::connect(port).await;
        late.subscribe("alicia/#").await;
        late.drain_for(Duration::from_millis(800)).await
    });
    let topics: Vec<&str> = retained.iter().map(|p| p.topic.as_str()).collect();
    assert!(
        !topics.iter().any(|t| t.starts_with("alicia/device/")),
        "the device states are gone from the broker: {topics:?}"
    );
    assert!(
        topics.contains(&"alicia/config/whisper-service"),
        "nothing else was cleared: {topics:?}"
    );

    // The manager's own topics: previewed as refused, never cleared.
    gui.click("Topic alicia/config");
    gui.click("Clear retained under alicia/config");
    gui.until("the preview refuses the manager's own topic", |h, _| {
        has_text(h, "not cleared — the manager's own topic")
    });
    let confirm = gui.harness.get_by_label("Confirm clear retained");
    assert!(locked(&confirm), "nothing of the manager's can be cleared");
}
