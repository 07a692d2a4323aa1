//! The packaging stays true to the code: the man page is the one the CLI renders today, the
//! example settings file holds only keys the app knows, and every file the `.deb` ships
//! exists (the binary excepted: `cargo deb` builds it). `scripts/check-packaging` runs the
//! external validators (desktop-file-validate, systemd-analyze, YAML).
//!
//! After changing a flag: `ALICIA_UPDATE_MANPAGE=1 cargo test --test packaging`.

use alicia_config_manager::cli::Cli;
use alicia_config_manager::core::settings::SettingsFile;
use clap::CommandFactory;
use serde_json::Value;
use std::path::Path;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

#[test]
fn the_man_page_is_what_the_cli_renders() {
    let mut rendered = Vec::new();
    clap_mangen::Man::new(Cli::command())
        .render(&mut rendered)
        .unwrap();
    let path = Path::new(ROOT).join("packaging/alicia-config-manager.1");
    if std::env::var("ALICIA_UPDATE_MANPAGE").as_deref() == Ok("1") {
        std::fs::write(&path, &rendered).unwrap();
    }
    let committed = std::fs::read(&path).unwrap_or_default();
    assert!(
        committed == rendered,
        "packaging/alicia-config-manager.1 is out of date: run \
         ALICIA_UPDATE_MANPAGE=1 cargo test --test packaging"
    );
    let text = String::from_utf8(rendered).unwrap();
    assert!(text.contains("MQTT_BROKER") && text.contains("headless"));
}

#[test]
fn the_example_settings_file_holds_only_known_keys() {
    let text =
        std::fs::read_to_string(Path::new(ROOT).join("packaging/settings.example.json")).unwrap();
    let file: SettingsFile = serde_json::from_str(&text).unwrap();
    assert!(
        file.other.is_empty(),
        "keys the app does not know: {:?}",
        file.other.keys().collect::<Vec<_>>()
    );
    assert!(file.broker.is_some() && file.api_port.is_some());
}

#[test]
fn every_file_the_deb_ships_exists() {
    let output = std::process::Command::new(env!("CARGO"))
        .args([
            "metadata",
            "--no-deps",
            "--format-version",
            "1",
            "--offline",
        ])
        .current_dir(ROOT)
        .output()
        .unwrap();
    assert!(output.status.success(), "cargo metadata runs");
    let metadata: Value = serde_json::from_slice(&output.stdout).unwrap();
    let deb = &metadata["packages"][0]["metadata"]["deb"];
    let assets = deb["assets"].as_array().expect("deb assets are listed");
    assert!(assets.len() >= 10);
    for asset in assets {
        let source = asset[0].as_str().unwrap();
        let mode = asset[2].as_str().unwrap();
        assert!(
            mode.len() == 3 && mode.chars().all(|c| ('0'..='7').contains(&c)),
            "{source}: mode {mode}"
        );
        if source.starts_with("target/") {
            continue;
        }
        assert!(
            Path::new(ROOT).join(source).is_file(),
            "the .deb ships {source}, which is missing"
        );
    }
    let units = deb["systemd-units"]["unit-scripts"].as_str().unwrap();
    let name = deb["systemd-units"]["unit-name"].as_str().unwrap();
    assert!(
        Path::new(ROOT)
            .join(units)
            .join(format!("{name}.service"))
            .is_file()
    );
    let scripts = deb["maintainer-scripts"].as_str().unwrap();
    let postinst = std::fs::read_to_string(Path::new(ROOT).join(scripts).join("postinst")).unwrap();
    assert!(postinst.contains("#DEBHELPER#"), "cargo-deb fills it in");
}
