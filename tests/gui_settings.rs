//! Settings in the real window: the kiosk PIN stored only as a hash, the role asked for at
//! the next start, and an API token from the OS's generator.

mod gui_support;
mod support;

use alicia_config_manager::core::settings::{SettingsFile, SettingsFileIo};
use alicia_config_manager::gui::GuiOptions;
use alicia_config_manager::gui::app::Tab;
use egui_kittest::kittest::Queryable;
use gui_support::*;
use serde_json::Value;

#[test]
fn the_kiosk_pin_set_in_settings_is_stored_hashed() {
    let mut gui = gui(GuiOptions::default(), SettingsFile::default());
    gui.harness.state_mut().tab = Tab::Settings;
    gui.frames(3);
    // Letters are refused: the kiosk's keypad has none.
    gui.harness
        .get_by_label("New PIN")
        .set_text_value_accesskit("abcd");
    gui.harness
        .get_by_label("Again")
        .set_text_value_accesskit("abcd");
    gui.frames(2);
    assert!(locked(&gui.harness.get_by_label("Set PIN")));
    assert!(has_text(&gui.harness, "digits only"));
    gui.harness
        .get_by_label("New PIN")
        .set_text_value_accesskit("97531");
    gui.harness
        .get_by_label("Again")
        .set_text_value_accesskit("97531");
    gui.frames(2);
    gui.click("Set PIN");
    let file = gui.core.settings.settings_file();
    gui.until("the settings file holds the PIN's hash", |_, _| {
        std::fs::read_to_string(&file).is_ok_and(|text| text.contains("kiosk_pin_hash"))
    });
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(!text.contains("97531"), "the PIN itself is never written");
    let stored: Value = serde_json::from_str(&text).unwrap();
    let hash = stored["kiosk_pin_hash"].as_str().unwrap();
    assert!(hash.starts_with("$argon2"), "an Argon2 hash: {hash}");
    assert!(alicia_config_manager::core::kiosk_pin::verify_pin(
        "97531", hash
    ));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "the settings file is private");
    }
}

#[test]
fn the_role_at_start_is_chosen_in_settings() {
    let mut gui = gui(GuiOptions::default(), SettingsFile::default());
    gui.harness.state_mut().tab = Tab::Settings;
    gui.frames(3);
    assert!(has_text(&gui.harness, "Now: authority"));
    gui.click("Role at start: Follower");
    let file = gui.core.settings.settings_file();
    gui.until("the settings file asks for a follower", |_, _| {
        std::fs::read_to_string(&file).is_ok_and(|text| text.contains("\"role\": \"follower\""))
    });
    assert!(has_text(
        &gui.harness,
        "The role applies from the next start."
    ));
    let reread = SettingsFile::load(&file).unwrap();
    assert_eq!(
        reread.role,
        Some(alicia_config_manager::core::fleet::RoleSetting::Follower)
    );
}

/// The token the Server panel generates comes from the OS generator: with fastrand's
/// generator, the same generator state gave the same token (whoever could set or learn it
/// could guess the token).
#[test]
fn the_generated_api_token_does_not_follow_a_seeded_generator() {
    let mut gui = gui(GuiOptions::default(), SettingsFile::default());
    gui.harness.state_mut().tab = Tab::Server;
    gui.frames(3);
    // "Start server" stores the settings (token included) at once; this window's core has no
    // server supervisor, so nothing binds and the button stays.
    let file = gui.core.settings.settings_file();
    let stored_token = move || -> Option<String> {
        let text = std::fs::read_to_string(&file).ok()?;
        let settings: Value = serde_json::from_str(&text).ok()?;
        settings["api_token"].as_str().map(str::to_owned)
    };
    fastrand::seed(7);
    gui.click("Generate");
    gui.click("Start server");
    let probe = stored_token.clone();
    gui.until("the first token is stored", |_, _| probe().is_some());
    let first = stored_token().unwrap();
    assert_eq!(first.len(), 48, "24 random bytes, in hex");

    fastrand::seed(7);
    gui.click("Generate");
    gui.click("Start server");
    let probe = stored_token.clone();
    gui.until("the second token is stored, another one", |_, _| {
        probe().is_some_and(|token| token != first)
    });
}
