//! Every everyday admin task in three clicks or fewer (typing aside), counted from the app as
//! it opens, driven through egui_kittest by accessible names over a real core on the embedded
//! broker; each asserts the outcome too: stored, published, answered by the device, reachable
//! over the network with the token.

#![expect(
    clippy::unwrap_used,
    reason = "in a test, a panic is the failure report"
)]

mod gui_support;
mod support;

use alicia_config_manager::core::settings::SettingsFile;
use alicia_config_manager::gui::GuiOptions;
use alicia_config_manager::gui::app::Tab;
use egui_kittest::kittest::{NodeT, Queryable};
use gui_support::*;
use serde_json::{Value, json};
use support::TestClient;

/// Counts the clicks a task takes.
struct Clicks {
    count: usize,
}

impl Clicks {
    fn new() -> Self {
        Self { count: 0 }
    }

    fn click(&mut self, gui: &mut Gui, label: &str) {
        gui.until(&format!("{label} is there"), |h, _| {
            h.query_by_label(label).is_some()
        });
        self.count += 1;
        gui.click(label);
    }

    fn at_most_three(&self, task: &str) {
        assert!(self.count <= 3, "{task} took {} clicks", self.count);
    }
}

fn desktop() -> Gui {
    gui(GuiOptions::default(), SettingsFile::default())
}

fn stored(gui: &Gui, pointer: &str) -> Value {
    gui.core.config.get("whisper-service").unwrap().document[pointer.trim_start_matches('/')]
        .clone()
}

#[test]
fn edit_a_services_model_in_two_clicks_then_undo() {
    let mut gui = desktop();
    let port = gui.broker.port;
    let mut watcher = gui.runtime.block_on(async move {
        let mut watcher = TestClient::connect(port).await;
        watcher.subscribe("alicia/config/whisper-service").await;
        watcher
    });
    let mut clicks = Clicks::new();
    clicks.click(&mut gui, "whisper-service");
    gui.until("the form", |h, _| {
        h.state()
            .editor()
            .is_some_and(|e| e.service() == "whisper-service")
    });
    text_field(&gui.harness, "Model").set_text_value_accesskit("whisper-large-v3");
    gui.frames(3);
    assert!(
        has_text(&gui.harness, "Changes to save (1)"),
        "the change is listed live"
    );
    clicks.click(&mut gui, "Save");
    gui.until("stored", |_, core| {
        core.config.get("whisper-service").unwrap().document["config"]["model"]
            == "whisper-large-v3"
    });
    clicks.at_most_three("editing the model");
    gui.runtime
        .block_on(watcher.expect_json("alicia/config/whisper-service", |doc| {
            doc["config"]["model"] == "whisper-large-v3"
        }));
    // Undo brings the model back (a rollback), and the form follows.
    gui.harness.get_by_label_contains("Undo the save").click();
    gui.until("undone", |h, core| {
        core.config.get("whisper-service").unwrap().document["config"]["model"] == "whisper-1"
            && h.state()
                .editor()
                .is_some_and(|e| e.draft()["config"]["model"] == "whisper-1")
    });
    assert_eq!(stored(&gui, "/service_name"), "whisper-service");
}

#[test]
fn add_an_endpoint_in_three_clicks_prefilled_from_the_service_type() {
    let mut gui = desktop();
    let mut clicks = Clicks::new();
    clicks.click(&mut gui, "whisper-service");
    clicks.click(&mut gui, "Add endpoint");
    gui.until("the new row", |h, _| {
        h.query_all_by_label("Endpoint 2 · Address")
            .next()
            .is_some()
    });
    let address = text_field(&gui.harness, "Endpoint 2 · Address");
    assert!(
        address.accesskit_node().is_focused(),
        "the cursor is in Address"
    );
    assert!(
        !has_text(&gui.harness, "must not be empty"),
        "no error before the field is left"
    );
    address.set_text_value_accesskit("10.0.0.5");
    gui.frames(3);
    clicks.click(&mut gui, "Save");
    gui.until("stored", |_, core| {
        core.config.get("whisper-service").unwrap().document["config"]["endpoints"]
            .as_array()
            .is_some_and(|e| e.len() == 2)
    });
    clicks.at_most_three("adding an endpoint");
    let endpoints =
        gui.core.config.get("whisper-service").unwrap().document["config"]["endpoints"].clone();
    assert_eq!(
        endpoints[1],
        json!({"type": "stt", "ip": "10.0.0.5", "port": 8001, "protocol": "http"})
    );
}

#[test]
fn find_the_offline_devices_in_one_click_and_command_a_lamp_in_three() {
    let mut gui = desktop();
    let port = gui.broker.port;
    let mut lamp = gui.runtime.block_on(async move {
        let mut lamp = TestClient::connect(port).await;
        lamp.subscribe("alicia/device/+/command").await;
        for (id, name, online) in [("desk-lamp", "Desk lamp", true), ("porch-lamp", "Porch lamp", false)] {
            let state = json!({"name": name, "type": "light", "room": "home", "on": false, "brightness": 20});
            lamp.publish_json(&format!("alicia/device/{id}/state"), &state, true)
                .await;
            let word = if online { "online" } else { "offline" };
            lamp.publish(&format!("alicia/device/{id}/availability"), word, true)
                .await;
        }
        lamp
    });
    let mut clicks = Clicks::new();
    clicks.click(&mut gui, "1 of 2 devices offline");
    gui.until("only the offline one", |h, _| {
        h.query_by_label("Porch lamp (porch-lamp)").is_some()
            && h.query_by_label("Desk lamp (desk-lamp)").is_none()
    });
    clicks.at_most_three("finding the offline devices");

    let mut clicks = Clicks::new();
    gui.harness.state_mut().tab = Tab::Services;
    gui.frames(2);
    clicks.click(&mut gui, "Devices");
    gui.click("Offline only"); // still on from before: not part of the task
    clicks.click(&mut gui, "Desk lamp (desk-lamp)");
    clicks.click(&mut gui, "On");
    let command = gui
        .runtime
        .block_on(lamp.expect_json("alicia/device/desk-lamp/command", |_| true));
    assert_eq!(command["command"], "turn_on");
    let result = json!({"request_id": command["request_id"], "ok": true});
    gui.runtime.block_on(lamp.publish_json(
        "alicia/device/desk-lamp/command/result",
        &result,
        false,
    ));
    gui.until("the result in the row", |h, _| has_text(h, "✔ done"));
    clicks.at_most_three("sending a command");
}

#[test]
fn roll_back_a_bad_change_in_three_clicks() {
    let mut gui = desktop();
    let good = gui.put_model("good-model");
    gui.put_model("bad-model");
    let mut clicks = Clicks::new();
    clicks.click(&mut gui, "whisper-service");
    clicks.click(&mut gui, "History");
    // Each revision shows its own change: the bad one reads "good-model" → "bad-model".
    gui.until("the bad change is visible", |h, _| {
        has_text(h, "\"bad-model\"")
    });
    clicks.click(&mut gui, &format!("Restore revision {good}"));
    gui.until("the good model is back", |_, core| {
        core.config.get("whisper-service").unwrap().document["config"]["model"] == "good-model"
    });
    clicks.at_most_three("rolling back");
}

#[test]
fn open_the_server_to_the_network_in_two_clicks() {
    let api_port = support::free_port();
    let mut gui = gui_with(
        GuiOptions::default(),
        SettingsFile::default(),
        DESKTOP,
        move |s| s.api.port = api_port,
    );
    // The REST server's supervisor, as the app's session runs it.
    gui.runtime
        .spawn(alicia_config_manager::api::server::supervise(
            gui.core.clone(),
        ));
    let mut clicks = Clicks::new();
    clicks.click(&mut gui, "Server");
    clicks.click(&mut gui, "Other devices on my network");
    gui.until("running on every address with a token", |_, core| {
        matches!(
            core.api.status(),
            alicia_config_manager::core::api_switch::ApiStatus::Running { addr, auth_required: true }
                if addr.ip().is_unspecified()
        )
    });
    clicks.at_most_three("opening the server to the network");
    let lan = alicia_config_manager::core::lan::lan_addresses();
    let Some(ip) = lan.first().copied() else {
        panic!("this machine has no network address to test with");
    };
    let url = alicia_config_manager::core::lan::url(ip, api_port, "/api");
    gui.until("the LAN URL is listed", |h, _| {
        h.query_by_label(&url).is_some()
    });
    let token = gui
        .core
        .settings_file
        .load()
        .ok()
        .and_then(|f| f.api_token)
        .map(|t| t.expose().to_owned());
    let token = gui.runtime.block_on(async {
        // The settings are written on the runtime: wait for them.
        for _ in 0..100 {
            if let Some(token) = gui.core.settings_file.load().ok().and_then(|f| f.api_token) {
                return token.expose().to_owned();
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        token.unwrap_or_default()
    });
    assert!(!token.is_empty(), "a token was generated and kept");
    let http = reqwest::Client::new();
    let answer = gui.runtime.block_on(async {
        http.get(format!("{url}/config"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
    });
    assert_eq!(answer.status(), 200, "reachable at {url} with the token");
    let refused = gui
        .runtime
        .block_on(async { http.get(format!("{url}/config")).send().await.unwrap() });
    assert_eq!(refused.status(), 401, "and not without it");
}

#[test]
fn ctrl_k_finds_a_device_by_name() {
    let mut gui = desktop();
    let port = gui.broker.port;
    let _lamp = gui.runtime.block_on(async move {
        let lamp = TestClient::connect(port).await;
        let state = json!({"name": "Kitchen light", "type": "light", "on": true});
        lamp.publish_json("alicia/device/kitchen-light/state", &state, true)
            .await;
        lamp
    });
    gui.until("the device is known", |h, _| {
        h.state().devices().counts().1 == 1
    });
    gui.harness
        .key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::K);
    gui.frames(2);
    text_field(&gui.harness, "Find anything").set_text_value_accesskit("kitchen");
    gui.frames(2);
    gui.click("Go to device Kitchen light (kitchen-light)");
    assert_eq!(gui.harness.state().tab, Tab::Devices);
    gui.until("its details", |h, _| h.query_by_label("Toggle").is_some());
}
