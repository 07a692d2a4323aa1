//! Safe apply in the desktop app (CONTRACT §7): Save puts the change on watch, the editor and
//! the service's row count down, and a change the service refuses comes back out by itself
//! with a banner that says why and leads to the history. egui_kittest over a real core on the
//! embedded broker, the test playing the service.

#![expect(
    clippy::unwrap_used,
    reason = "in a test, a panic is the failure report"
)]

mod gui_support;
mod support;

use alicia_config_manager::core::settings::SettingsFile;
use alicia_config_manager::gui::GuiOptions;
use gui_support::*;
use serde_json::{Value, json};
use support::TestClient;

const SERVICE: &str = "whisper-service";

fn ack(gui: &Gui, client: &TestClient, last_updated: Value, applied: bool) {
    let ack = json!({"last_updated": last_updated, "applied": applied, "error": "no such model"});
    gui.runtime
        .block_on(client.publish_json(&format!("alicia/config/{SERVICE}/ack"), &ack, false));
}

fn stamp(gui: &Gui) -> Value {
    gui.core.config.get(SERVICE).unwrap().document["last_updated"].clone()
}

#[test]
fn a_refused_save_is_watched_undone_and_explained() {
    let mut gui = gui(GuiOptions::default(), SettingsFile::default());
    let port = gui.broker.port;
    let service = gui.runtime.block_on(TestClient::connect(port));
    // The service confirms its configs: it acked the stored one and reports healthy.
    ack(&gui, &service, stamp(&gui), true);
    gui.runtime.block_on(service.publish_json(
        &format!("alicia/system/health/{SERVICE}"),
        &json!({"status": "healthy"}),
        false,
    ));
    gui.until("the service confirms its configs", |_, core| {
        core.health
            .get(SERVICE)
            .is_some_and(|r| r.ack.is_some() && r.last_seen.is_some())
    });
    gui.open(SERVICE);
    text_field(&gui.harness, "Model").set_text_value_accesskit("no-such-model");
    gui.frames(3);
    gui.click("Save");
    gui.until("the editor and the row count down", |h, core| {
        core.safe_apply.watching(SERVICE)
            && has_text(h, "Watching:")
            && has_text(h, "the service has not confirmed yet")
            && has_text(h, "⏱ watching")
    });
    ack(&gui, &service, stamp(&gui), false);
    gui.until("the banner says why", |h, _| {
        has_text(h, "was rolled back: the service refused it")
    });
    assert_eq!(
        gui.core.config.get(SERVICE).unwrap().document["config"]["model"],
        "whisper-1",
        "the previous config is back"
    );
    gui.until("the form follows it", |h, _| {
        h.state()
            .editor()
            .is_some_and(|e| e.draft()["config"]["model"] == "whisper-1" && !e.is_dirty())
    });
    gui.click("Show in history");
    let rollback = gui.core.config.get(SERVICE).unwrap().revision;
    gui.until("the rollback in the history", |h, _| {
        has_text(h, &format!("revision {rollback}")) && has_text(h, "current")
    });
}
