//! The kiosk as a household uses it, by touch on a small panel: the overview at real panel
//! sizes (a dozen services on 800×480 without scrolling), unlocking by tapping the keypad,
//! wrong PINs made to wait (across restarts), the PIN set with `kiosk-pin`, and nothing
//! revealed, copied or confirmed while locked. Driven through egui_kittest over a real core
//! on the embedded broker; the `kiosk-pin` tests run the real binary.

#![expect(
    clippy::unwrap_used,
    reason = "in a test, a panic is the failure report"
)]

mod gui_support;
mod support;

use alicia_config_manager::core::kiosk_pin::{self, ATTEMPTS_FILE_NAME, Attempts, hash_pin};
use alicia_config_manager::core::settings::{SettingsFile, SettingsFileIo};
use alicia_config_manager::gui::app::Tab;
use alicia_config_manager::gui::{AliciaApp, GuiOptions};
use egui_kittest::SnapshotOptions;
use egui_kittest::kittest::Queryable;
use gui_support::*;
use serde_json::json;
use std::io::Write;
use std::time::Duration;
use support::TestClient;

const KIOSK: GuiOptions = GuiOptions {
    kiosk: true,
    demo: false,
};

/// The common Raspberry Pi panel.
const SMALL: egui::Vec2 = egui::vec2(800.0, 480.0);

/// A settings file holding the hash of `pin`, under today's rule.
fn with_pin(pin: &str) -> SettingsFile {
    SettingsFile {
        kiosk_pin_hash: Some(hash_pin(pin).unwrap()),
        kiosk_pin_rule: Some(kiosk_pin::RULE.to_owned()),
        ..SettingsFile::default()
    }
}

/// Taps the lock button, then `pin` and OK on the keypad.
fn tap_pin(gui: &mut Gui, pin: &str) {
    gui.until("the lock button", |h, _| {
        h.query_by_label("Unlock").is_some()
    });
    gui.click("Unlock");
    gui.until("the keypad", |h, _| {
        h.query_by_label("OK").is_some() && !locked(&h.get_by_label("1"))
    });
    for digit in pin.chars() {
        gui.click(&digit.to_string());
    }
    gui.until("OK can be tapped", |h, _| !locked(&h.get_by_label("OK")));
    gui.click("OK");
}

fn unlock(gui: &mut Gui, pin: &str) {
    tap_pin(gui, pin);
    gui.until("editing is unlocked", |h, _| {
        !h.state().read_only() && h.query_by_label("Lock").is_some()
    });
}

#[test]
fn the_kiosk_refuses_edits_until_the_pin_tapped_on_its_keypad() {
    let mut gui = gui_sized(KIOSK, with_pin("2468"), SMALL);
    gui.until("the overview shows the services", |h, _| {
        h.query_by_label("whisper-service").is_some()
    });
    assert_eq!(gui.harness.state().tab, Tab::Overview);
    assert!(
        gui.harness.query_by_label("Settings").is_none(),
        "no Settings tab while locked"
    );
    gui.open("whisper-service");
    assert!(
        locked(&text_field(&gui.harness, "Endpoint 1 · Address")),
        "read-only while locked"
    );
    assert!(locked(&gui.harness.get_by_label("Delete service…")));
    tap_pin(&mut gui, "1357");
    gui.until("a wrong PIN is refused", |h, _| has_text(h, "Wrong PIN."));
    assert!(gui.harness.state().read_only());
    gui.click("Cancel");
    unlock(&mut gui, "2468");
    assert!(gui.harness.query_by_label("Settings").is_some());
    assert!(!locked(&text_field(&gui.harness, "Endpoint 1 · Address")));
}

#[test]
fn three_wrong_pins_make_the_next_try_wait_even_after_a_restart() {
    let mut gui = gui_sized(KIOSK, with_pin("2468"), SMALL);
    for attempt in 1..=3 {
        if attempt > 1 {
            gui.click("Cancel");
        }
        tap_pin(&mut gui, "1111");
        gui.until("the wrong PIN is refused", |h, _| has_text(h, "Wrong PIN."));
    }
    gui.until("the wait is shown", |h, _| has_text(h, "Try again in"));
    assert!(
        locked(&gui.harness.get_by_label("5")),
        "no key while waiting"
    );
    assert!(locked(&gui.harness.get_by_label("OK")));
    let attempts = Attempts::load(&gui.dir.path().join(ATTEMPTS_FILE_NAME));
    assert_eq!(attempts.failures, 3);

    // A restart (a new window over the same folder) waits too.
    let file = SettingsFile::load(&gui.core.settings.settings_file()).unwrap();
    gui.harness = window_sized(&gui.core, gui.runtime.handle(), KIOSK, file, SMALL);
    gui.until("the lock button", |h, _| {
        h.query_by_label("Unlock").is_some()
    });
    gui.click("Unlock");
    gui.until("the wait is shown after the restart", |h, _| {
        has_text(h, "Try again in")
    });
    assert!(locked(&gui.harness.get_by_label("2")));
    assert!(gui.harness.state().read_only());
}

#[test]
fn a_kiosk_without_a_usable_pin_says_how_to_set_one() {
    let mut gui = gui_sized(KIOSK, SettingsFile::default(), SMALL);
    gui.until("the overview says how to set a PIN", |h, _| {
        has_text(h, "No PIN is set on this kiosk") && has_text(h, "kiosk-pin set")
    });
    let old = SettingsFile {
        kiosk_pin_hash: Some(hash_pin("2468").unwrap()),
        ..SettingsFile::default()
    };
    let mut gui = gui_sized(KIOSK, old, SMALL);
    gui.until("the overview says the old PIN must be set again", |h, _| {
        has_text(h, "must be set again")
    });
    gui.click("Unlock");
    for digit in "2468".chars() {
        gui.click(&digit.to_string());
    }
    assert!(
        locked(&gui.harness.get_by_label("OK")),
        "a PIN of the old rule unlocks nothing"
    );
}

/// The unlock lasts while someone touches the screen; 30 s before it ends the header warns,
/// and a tap keeps it unlocked.
#[test]
fn the_unlock_warns_before_it_ends_and_a_tap_renews_it() {
    let mut gui = gui_sized(KIOSK, with_pin("2468"), SMALL);
    unlock(&mut gui, "2468");
    gui.harness
        .state_mut()
        .kiosk_lock_mut()
        .unwrap()
        .set_unlock_for(Duration::from_secs(20));
    gui.click("Health");
    gui.until("the warning", |h, _| {
        has_text(h, "Locking in") && h.query_by_label("Stay unlocked").is_some()
    });
    gui.harness
        .state_mut()
        .kiosk_lock_mut()
        .unwrap()
        .set_unlock_for(Duration::from_secs(300));
    gui.click("Stay unlocked");
    gui.until("the warning is gone", |h, _| !has_text(h, "Locking in"));
    assert!(!gui.harness.state().read_only());
}

/// The kiosk's controls are named for assistive technology: the overview, the keypad, the
/// header locked and unlocked.
#[test]
fn the_kiosk_is_named_for_assistive_technology() {
    let mut gui = gui_sized(KIOSK, with_pin("2468"), SMALL);
    gui.until("the services are listed", |h, _| {
        h.query_by_label("whisper-service").is_some()
    });
    let mut found: Vec<String> = accessibility_problems(&gui.harness)
        .into_iter()
        .map(|p| format!("overview: {p}"))
        .collect();
    gui.click("Unlock");
    gui.click("4");
    found.extend(
        accessibility_problems(&gui.harness)
            .into_iter()
            .map(|p| format!("keypad: {p}")),
    );
    assert!(gui.harness.query_by_label("1 digit typed").is_some());
    gui.click("Cancel");
    unlock(&mut gui, "2468");
    gui.open("whisper-service");
    found.extend(
        accessibility_problems(&gui.harness)
            .into_iter()
            .map(|p| format!("unlocked: {p}")),
    );
    assert!(found.is_empty(), "{}", found.join("\n"));
}

/// Locked is locked: what was open when the kiosk locked (a delete confirmation, a revealed
/// key, the new-service dialog) is gone or refused, and nothing reveals or copies the token.
#[test]
fn a_locked_kiosk_reveals_copies_and_confirms_nothing() {
    // Tall enough for a device's details, command form included, without scrolling.
    let mut gui = gui_sized(KIOSK, with_pin("2468"), egui::vec2(1320.0, 1200.0));
    let _fleet = play_fleet(&gui);
    unlock(&mut gui, "2468");
    gui.open("whisper-service");
    gui.click("Reveal API key");
    gui.click("Delete service…");
    gui.until("the confirmation", |h, _| {
        h.query_by_label("Delete").is_some()
    });

    gui.click("Lock");
    gui.frames(3);
    assert!(
        gui.harness.query_by_label("Delete").is_none(),
        "the confirmation opened before the lock is gone"
    );
    assert!(
        locked(&gui.harness.get_by_label("Reveal API key")),
        "the key is hidden again and cannot be revealed"
    );
    assert!(locked(&gui.harness.get_by_label("New service…")));
    gui.harness.state_mut().tab = Tab::Server;
    gui.frames(3);
    assert!(locked(&gui.harness.get_by_label("Reveal the access token")));
    assert!(locked(&gui.harness.get_by_label("Copy")));
    // Nothing publishes: no message, no command, no forgetting a device.
    gui.harness.state_mut().tab = Tab::Monitor;
    gui.frames(3);
    assert!(locked(&gui.harness.get_by_label("Publish")));
    gui.harness.state_mut().tab = Tab::Devices;
    gui.until("the devices are listed", |h, _| {
        h.query_by_label("Kitchen light (kitchen-light)").is_some()
    });
    gui.click("Kitchen light (kitchen-light)");
    gui.until("the device's details", |h, _| {
        h.query_by_label("Send command").is_some()
    });
    assert!(locked(&gui.harness.get_by_label("Send command")));
    assert!(locked(&gui.harness.get_by_label("Forget device…")));
    // Touch sizes in every theme, not only the one active at start.
    for theme in [egui::Theme::Dark, egui::Theme::Light] {
        let style = gui.harness.ctx.style_of(theme);
        assert!(style.spacing.interact_size.y >= 44.0, "{theme:?}");
        for (text_style, font) in &style.text_styles {
            assert!(font.size >= 14.0, "{theme:?} {text_style:?}: {}", font.size);
        }
    }
}

/// Services and devices a household's fleet might show: healthy ones, one unhealthy, one
/// never heard from, devices online and two offline. Returns the client (kept connected).
fn play_fleet(gui: &Gui) -> TestClient {
    let port = gui.broker.port;
    gui.runtime.block_on(async move {
        let fleet = TestClient::connect(port).await;
        for (i, service) in [
            "tts-service",
            "llm-service",
            "router-service",
            "device-service",
            "wakeword-service",
            "intent-service",
            "memory-service",
            "timer-service",
            "weather-service",
            "music-service",
        ]
        .into_iter()
        .enumerate()
        {
            let status = if i == 3 { "unhealthy" } else { "healthy" };
            let health = json!({"status": status, "version": "1.2.0"});
            fleet
                .publish_json(&format!("alicia/system/health/{service}"), &health, true)
                .await;
        }
        for (id, name, online) in [
            ("kitchen-light", "Kitchen light", true),
            ("hall-thermostat", "Hall thermostat", true),
            ("office-speaker", "Office speaker", false),
            ("garage-door", "Garage door", false),
            ("bedroom-lamp", "Bedroom lamp", true),
        ] {
            let state = json!({"name": name, "type": "light", "room": "home"});
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

/// Twelve services on the 800×480 panel: every tile whole on the screen, no scrolling.
#[test]
fn twelve_services_fit_an_800_by_480_kiosk_without_scrolling() {
    let mut gui = gui_sized(KIOSK, with_pin("2468"), SMALL);
    let _fleet = play_fleet(&gui);
    gui.until("twelve services and five devices", |h, core| {
        core.devices.counts().1 == 5 && h.state().devices().counts() == (3, 5) && {
            let tiles = h.query_all_by_label_contains("-service: ").count();
            tiles >= 12
        }
    });
    gui.frames(3);
    let screen = egui::Rect::from_min_size(egui::Pos2::ZERO, SMALL);
    let tiles: Vec<_> = gui
        .harness
        .query_all_by_label_contains("-service: ")
        .map(|node| node.rect())
        .collect();
    assert!(tiles.len() >= 12, "{} tiles", tiles.len());
    for tile in &tiles {
        assert!(
            screen.contains_rect(*tile),
            "a tile off the screen: {tile:?}"
        );
        assert!(tile.height() >= 44.0 && tile.width() >= 44.0, "{tile:?}");
    }
    assert!(has_text(
        &gui.harness,
        "Offline: Garage door, Office speaker"
    ));
    gui.click("Show offline devices");
    assert_eq!(gui.harness.state().tab, Tab::Devices);
}

/// The overview at the four panel sizes, dark and light (the README's kiosk pictures are
/// two of them).
#[test]
fn the_kiosk_renders_at_four_panel_sizes() {
    let mut gui = gui_sized(KIOSK, with_pin("2468"), SMALL);
    let _fleet = play_fleet(&gui);
    gui.until("the fleet is shown", |h, _| {
        h.state().devices().counts() == (3, 5)
            && h.query_all_by_label_contains("-service: ").count() >= 12
    });
    let options = SnapshotOptions::new().max_failed_pixels(4000);
    for (width, height) in [
        (800.0, 480.0),
        (1024.0, 600.0),
        (1280.0, 800.0),
        (1920.0, 1080.0),
    ] {
        gui.harness.set_size(egui::vec2(width, height));
        for (theme, suffix) in [
            (egui::ThemePreference::Dark, ""),
            (egui::ThemePreference::Light, "-light"),
        ] {
            gui.harness.ctx.set_theme(theme);
            gui.frames(4);
            gui.harness
                .snapshot_options(format!("kiosk-{width}x{height}{suffix}"), &options);
        }
    }
    // The full views on the small panel: tables reflow to its width.
    gui.harness.set_size(SMALL);
    gui.harness.ctx.set_theme(egui::ThemePreference::Dark);
    for (tab, name) in [
        (Tab::Services, "services"),
        (Tab::Devices, "devices"),
        (Tab::Health, "health"),
        (Tab::Monitor, "monitor"),
    ] {
        gui.harness.state_mut().tab = tab;
        gui.frames(4);
        gui.harness
            .snapshot_options(format!("kiosk-{name}-800x480"), &options);
    }
    // A service opened on the small panel: its editor takes the width.
    gui.harness.state_mut().tab = Tab::Services;
    gui.harness.state_mut().open_editor("whisper-service");
    gui.frames(6);
    gui.harness
        .snapshot_options("kiosk-editor-800x480", &options);
    gui.harness.state_mut().tab = Tab::Overview;
    // The keypad on the small panel, two digits typed.
    gui.harness.set_size(SMALL);
    gui.harness.ctx.set_theme(egui::ThemePreference::Dark);
    gui.frames(3);
    gui.click("Unlock");
    gui.click("2");
    gui.click("4");
    gui.frames(4);
    gui.harness
        .snapshot_options("kiosk-keypad-800x480", &options);
}

/// `kiosk-pin set` (the real binary, the PIN piped in) stores a hash the kiosk accepts, never
/// the PIN, in a private file; a PIN that is not 4–8 digits changes nothing; `clear` removes it.
#[test]
fn the_kiosk_pin_command_sets_a_hash_the_kiosk_accepts() {
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str], input: &str| {
        let mut child = std::process::Command::new(support::app_binary())
            .args(args)
            .env("CONFIG_PATH", dir.path())
            .env_remove("MQTT_BROKER")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
    };
    let settings = dir.path().join("settings.json");
    let refused = run(&["kiosk-pin", "set"], "24a8\n");
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("digits"));
    assert!(!settings.exists(), "nothing written for a refused PIN");
    let differ = run(&["kiosk-pin", "set"], "2468\n1357\n");
    assert!(!differ.status.success());

    let set = run(&["kiosk-pin", "set"], "97531\n");
    assert!(
        set.status.success(),
        "{}",
        String::from_utf8_lossy(&set.stderr)
    );
    let text = std::fs::read_to_string(&settings).unwrap();
    assert!(!text.contains("97531"), "the PIN itself is never written");
    assert!(text.contains("$argon2"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&settings).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "the settings file is private");
    }

    // The kiosk accepts it.
    let file = SettingsFile::load(&settings).unwrap();
    let mut gui = gui_sized(KIOSK, file, SMALL);
    unlock(&mut gui, "97531");

    let cleared = run(&["kiosk-pin", "clear"], "");
    assert!(cleared.status.success());
    let file = SettingsFile::load(&settings).unwrap();
    assert!(file.kiosk_pin_hash.is_none() && file.kiosk_pin_rule.is_none());
}

/// The controls a finger can reach now, whole on `screen`, that are smaller than 44 px
/// either way.
fn small_targets(
    harness: &egui_kittest::Harness<'static, AliciaApp>,
    screen: egui::Rect,
) -> Vec<String> {
    use egui::accesskit::Action;
    use egui_kittest::kittest::{By, NodeT};
    harness
        .query_all(By::new().predicate(|node| {
            let data = node.data();
            data.supports_action(Action::Click) || data.supports_action(Action::Focus)
        }))
        // Scrolling is by swiping the content: the bars only show where the view is.
        .filter(|node| node.accesskit_node().role() != egui::accesskit::Role::ScrollBar)
        .filter_map(|node| {
            let rect = node.rect();
            let small = rect.height() < 43.5 || rect.width() < 43.5;
            // Those partly scrolled out are whole once scrolled to.
            (screen.contains_rect(rect) && small).then(|| {
                let name = node.accesskit_node().label().unwrap_or_default();
                format!(
                    "{name:?} ({:?}) {:.0}×{:.0}",
                    node.accesskit_node().role(),
                    rect.width(),
                    rect.height()
                )
            })
        })
        .collect()
}

/// Every control of the kiosk is a touch target of at least 44 px, in every view on the
/// small panel, locked and unlocked, on the keypad, and beside their lists on a wider one.
#[test]
fn every_control_on_the_kiosk_is_at_least_44_px() {
    let mut gui = gui_sized(KIOSK, with_pin("2468"), SMALL);
    let _fleet = play_fleet(&gui);
    gui.until("the fleet is shown", |h, _| {
        h.state().devices().counts() == (3, 5)
            && h.query_all_by_label_contains("-service: ").count() >= 12
    });
    let screen = egui::Rect::from_min_size(egui::Pos2::ZERO, SMALL);
    let mut found = Vec::new();
    let views = [
        (Tab::Overview, "overview"),
        (Tab::Services, "services"),
        (Tab::Devices, "devices"),
        (Tab::Health, "health"),
        (Tab::Monitor, "monitor"),
        (Tab::Server, "server"),
    ];
    for (tab, name) in views {
        gui.harness.state_mut().tab = tab;
        gui.frames(4);
        found.extend(
            small_targets(&gui.harness, screen)
                .into_iter()
                .map(|t| format!("{name}, locked: {t}")),
        );
    }
    gui.click("Unlock");
    found.extend(
        small_targets(&gui.harness, screen)
            .into_iter()
            .map(|t| format!("keypad: {t}")),
    );
    gui.click("Cancel");
    unlock(&mut gui, "2468");
    for (tab, name) in views.into_iter().chain([(Tab::Settings, "settings")]) {
        gui.harness.state_mut().tab = tab;
        gui.frames(4);
        found.extend(
            small_targets(&gui.harness, screen)
                .into_iter()
                .map(|t| format!("{name}: {t}")),
        );
    }
    gui.harness.state_mut().tab = Tab::Services;
    gui.harness.state_mut().open_editor("whisper-service");
    gui.frames(6);
    found.extend(
        small_targets(&gui.harness, screen)
            .into_iter()
            .map(|t| format!("editor: {t}")),
    );
    gui.harness.state_mut().tab = Tab::Devices;
    gui.frames(3);
    gui.click("Kitchen light (kitchen-light)");
    gui.frames(3);
    found.extend(
        small_targets(&gui.harness, screen)
            .into_iter()
            .map(|t| format!("device: {t}")),
    );
    // The wide layout (1280×800): details beside their list.
    let wide = egui::vec2(1280.0, 800.0);
    gui.harness.set_size(wide);
    let screen = egui::Rect::from_min_size(egui::Pos2::ZERO, wide);
    for (tab, name) in [
        (Tab::Devices, "wide devices"),
        (Tab::Services, "wide editor"),
    ] {
        gui.harness.state_mut().tab = tab;
        gui.frames(4);
        found.extend(
            small_targets(&gui.harness, screen)
                .into_iter()
                .map(|t| format!("{name}: {t}")),
        );
    }
    found.sort();
    found.dedup();
    assert!(found.is_empty(), "{}", found.join("\n"));
}
