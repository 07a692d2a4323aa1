//! Problems first: the Health tab shows the whole fleet in a grid that wraps, worst first,
//! each card opening its service; devices offline are one click away from the top bar, the
//! Health tab and the Devices tab's own toggle; tabs carry their problems' counts. Driven
//! through egui_kittest over a real core on the embedded broker.

mod gui_support;
mod support;

use alicia_config_manager::core::settings::SettingsFile;
use alicia_config_manager::gui::GuiOptions;
use alicia_config_manager::gui::app::Tab;
use egui_kittest::kittest::{NodeT, Queryable};
use gui_support::*;
use serde_json::json;
use support::TestClient;

const SIZE: egui::Vec2 = egui::vec2(1280.0, 800.0);

/// Health for `services` (the first unhealthy), and five devices, two of them offline.
fn play(gui: &Gui, services: Vec<String>) -> TestClient {
    let port = gui.broker.port;
    gui.runtime.block_on(async move {
        let fleet = TestClient::connect(port).await;
        for (i, service) in services.iter().enumerate() {
            let status = if i == 0 { "unhealthy" } else { "healthy" };
            let health = json!({"status": status, "version": "1.0.0"});
            fleet
                .publish_json(&format!("alicia/system/health/{service}"), &health, true)
                .await;
        }
        for (id, online) in [
            ("lamp-10", true),
            ("lamp-2", false),
            ("door", false),
            ("fan", true),
            ("tv", true),
        ] {
            let state = json!({"name": id, "type": "light", "room": "home"});
            fleet
                .publish_json(&format!("alicia/device/{id}/state"), &state, true)
                .await;
            let word = if online { "online" } else { "offline" };
            fleet
                .publish(&format!("alicia/device/{id}/availability"), word, true)
                .await;
        }
        fleet
    })
}

#[test]
fn the_health_grid_shows_twenty_services_at_1280_by_800_worst_first() {
    let mut gui = gui_sized(GuiOptions::default(), SettingsFile::default(), SIZE);
    // whisper-service (configured) is the unhealthy one; with config-manager, 20 in all.
    let mut services = vec!["whisper-service".to_owned()];
    services.extend((1..=18).map(|i| format!("service-{i}")));
    let _fleet = play(&gui, services);
    gui.harness.state_mut().tab = Tab::Health;
    gui.until("twenty cards", |h, _| {
        h.query_all_by_label_contains(", config ").count() == 20
    });
    gui.frames(3);
    let screen = egui::Rect::from_min_size(egui::Pos2::ZERO, SIZE);
    let cards: Vec<(String, egui::Rect)> = gui
        .harness
        .query_all_by_label_contains(", config ")
        .map(|n| (n.accesskit_node().label().unwrap_or_default(), n.rect()))
        .collect();
    for (name, rect) in &cards {
        assert!(
            screen.contains_rect(*rect),
            "{name} is off screen: {rect:?}"
        );
    }
    let devices = gui.harness.get_by_label("Devices: 2 offline of 5").rect();
    let first_service = cards
        .iter()
        .min_by(|a, b| {
            (a.1.top(), a.1.left())
                .partial_cmp(&(b.1.top(), b.1.left()))
                .unwrap()
        })
        .unwrap();
    assert!(
        first_service.0.starts_with("whisper-service: unhealthy"),
        "worst first: {}",
        first_service.0
    );
    assert!(
        devices.left() < first_service.1.left(),
        "the devices card leads"
    );
    // A card opens its service.
    gui.harness
        .get_by_label_contains("whisper-service: unhealthy")
        .click();
    gui.until("the editor of whisper-service", |h, _| {
        h.state().tab == Tab::Services
            && h.state()
                .editor()
                .is_some_and(|e| e.service() == "whisper-service")
    });
    assert!(
        gui.harness.query_by_label("Health: 1 in trouble").is_some(),
        "the Health tab counts its trouble"
    );
}

#[test]
fn devices_offline_are_one_click_from_the_top_bar() {
    let mut gui = gui_sized(GuiOptions::default(), SettingsFile::default(), SIZE);
    let _fleet = play(&gui, vec!["whisper-service".to_owned()]);
    gui.until("the top bar counts them", |h, _| {
        h.query_by_label("2 of 5 devices offline").is_some()
    });
    assert!(gui.harness.query_by_label("Devices: 2 offline").is_some());
    gui.click("2 of 5 devices offline");
    assert_eq!(gui.harness.state().tab, Tab::Devices);
    gui.until("only the offline ones", |h, _| {
        h.query_by_label("lamp-2 (lamp-2)").is_some()
            && h.query_by_label("door (door)").is_some()
            && h.query_by_label("fan (fan)").is_none()
    });
    // Without the toggle, the first click on Status (after another column) puts them first.
    gui.click("Offline only");
    gui.until("all five", |h, _| h.query_by_label("fan (fan)").is_some());
    gui.click("Sort by Id");
    gui.click("Sort by Status");
    gui.frames(3);
    let top = |label: &str| gui.harness.get_by_label(label).rect().top();
    assert!(top("door (door)") < top("fan (fan)"));
    assert!(top("lamp-2 (lamp-2)") < top("lamp-10 (lamp-10)"));
}

#[test]
fn rest_off_and_the_role_lead_to_their_settings() {
    let mut gui = gui_sized(GuiOptions::default(), SettingsFile::default(), SIZE);
    gui.click("REST: off");
    assert_eq!(gui.harness.state().tab, Tab::Server);
    gui.click_contains("role: ");
    assert_eq!(gui.harness.state().tab, Tab::Settings);
}
