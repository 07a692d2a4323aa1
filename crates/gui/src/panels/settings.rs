//! Settings: the broker (address, credentials, CA file) with a "Test connection" button, the
//! theme and the UI scale, and the kiosk PIN. Kept in the settings file (0600: it holds the
//! broker password); broker changes apply at the next start.

use crate::tasks::Task;
use crate::widgets::a11y;
use crate::widgets::notice::{Notice, notice_ui};
use crate::widgets::stepper::{Steps, stepper};
use crate::widgets::style::section_heading;
use alicia_core::Core;
use alicia_core::fleet::RoleSetting;
use alicia_core::kiosk_pin;
use alicia_core::mqtt::connection_test::{ProbeTarget, test_connection};
use alicia_core::secret::Secret;
use alicia_core::settings::{BrokerUrl, SettingsFile};
use egui::{RichText, Ui};
use std::path::PathBuf;

/// The app's look.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Theme {
    /// Light text on a dark background.
    Dark,
    /// Dark text on a light background.
    Light,
    /// Follow the system.
    System,
}

impl Theme {
    /// From the settings file's word.
    pub fn parse(word: Option<&str>) -> Self {
        match word {
            Some("light") => Self::Light,
            Some("dark") => Self::Dark,
            _ => Self::System,
        }
    }

    fn word(self) -> &'static str {
        match self {
            Self::Dark => "dark",
            Self::Light => "light",
            Self::System => "system",
        }
    }

    /// Applies it to the UI.
    pub fn apply(self, ctx: &egui::Context) {
        ctx.set_theme(match self {
            Self::Dark => egui::ThemePreference::Dark,
            Self::Light => egui::ThemePreference::Light,
            Self::System => egui::ThemePreference::System,
        });
    }
}

/// The settings panel's own state.
pub struct SettingsPanel {
    broker: String,
    username: String,
    password: String,
    reveal: bool,
    ca_file: String,
    role: RoleSetting,
    /// The theme in use.
    pub theme: Theme,
    /// The zoom factor in use.
    pub scale: f32,
    /// Seconds each save from the editor is watched (CONTRACT §7).
    pub watch_secs: u64,
    pin: String,
    pin_again: String,
    test: Task<Result<String, String>>,
    pick: Task<Option<PathBuf>>,
    saving: Task<Result<(), String>>,
    hashing: Task<Result<(), String>>,
    /// Feedback on the broker settings (test, save), shown under their buttons.
    broker_message: Option<Notice>,
    /// Feedback on the role, shown under it.
    role_message: Option<Notice>,
    /// Feedback on the kiosk PIN, shown under it.
    pin_message: Option<Notice>,
    /// A settings file that could not be written, shown at the top.
    save_error: Option<Notice>,
    /// The kiosk PIN was set here: the kiosk lock reads it again.
    pub pin_changed: bool,
    /// The household's language, as typed.
    household_language: String,
    /// The admin asked to change the household's language: the app opens the change-set
    /// editor on every service with a language (CONTRACT §7).
    pub household_request: Option<String>,
}

impl SettingsPanel {
    /// A form holding the current settings.
    pub fn new(core: &Core, theme: Theme, scale: f32) -> Self {
        let settings = &core.settings;
        let broker = match &settings.broker {
            alicia_core::settings::BrokerTarget::External(url) => url.to_string(),
            alicia_core::settings::BrokerTarget::Embedded { .. } => String::new(),
        };
        Self {
            broker,
            username: settings.mqtt_username.clone().unwrap_or_default(),
            password: settings
                .mqtt_password
                .as_ref()
                .map(|p| p.expose().to_owned())
                .unwrap_or_default(),
            reveal: false,
            ca_file: settings
                .mqtt_ca_file
                .as_ref()
                .map(|p| p.display().to_string())
                .unwrap_or_default(),
            role: settings.role,
            theme,
            scale,
            watch_secs: crate::panels::editor::GUI_WATCH_SECS,
            pin: String::new(),
            pin_again: String::new(),
            test: Task::default(),
            pick: Task::default(),
            saving: Task::default(),
            hashing: Task::default(),
            broker_message: None,
            role_message: None,
            pin_message: None,
            save_error: None,
            pin_changed: false,
            household_language: String::new(),
            household_request: None,
        }
    }

    /// Draws the panel.
    pub fn ui(
        &mut self,
        ui: &mut Ui,
        core: &Core,
        runtime: &tokio::runtime::Handle,
        kiosk: bool,
        read_only: bool,
    ) {
        self.finish_tasks();
        notice_ui(ui, self.save_error.as_ref());
        section_heading(ui, "Broker");
        ui.label(
            RichText::new(format!(
                "In use now: {}{}",
                core.mqtt.url(),
                if core.mqtt.embedded() {
                    " (embedded)"
                } else {
                    ""
                }
            ))
            .weak(),
        );
        egui::Grid::new("broker-form")
            .num_columns(2)
            .spacing([16.0, 8.0])
            .show(ui, |ui| {
                let label = ui.label("Broker URL");
                ui.vertical(|ui| {
                    ui.add_enabled(
                        !read_only,
                        egui::TextEdit::singleline(&mut self.broker)
                            .hint_text("empty: the embedded broker")
                            .desired_width(300.0),
                    )
                    .labelled_by(label.id);
                    ui.label(RichText::new("mqtt://host:1883 or mqtts://host:8883").weak());
                });
                ui.end_row();
                let label = ui.label("User name");
                ui.add_enabled(
                    !read_only,
                    egui::TextEdit::singleline(&mut self.username).desired_width(200.0),
                )
                .labelled_by(label.id);
                ui.end_row();
                let label = ui.label("Password");
                ui.horizontal(|ui| {
                    ui.add_enabled(
                        !read_only,
                        egui::TextEdit::singleline(&mut self.password)
                            .password(!self.reveal)
                            .desired_width(200.0),
                    )
                    .labelled_by(label.id);
                    if ui
                        .button(if self.reveal { "Hide" } else { "Reveal" })
                        .clicked()
                    {
                        self.reveal = !self.reveal;
                    }
                });
                ui.end_row();
                let label = ui.label("CA file (mqtts)");
                ui.horizontal(|ui| {
                    ui.add_enabled(
                        !read_only,
                        egui::TextEdit::singleline(&mut self.ca_file)
                            .hint_text("system roots")
                            .desired_width(260.0),
                    )
                    .labelled_by(label.id);
                    if !kiosk
                        && ui
                            .add_enabled(
                                !read_only && !self.pick.running(),
                                egui::Button::new("Choose…"),
                            )
                            .clicked()
                    {
                        self.pick.start(runtime, async {
                            rfd::AsyncFileDialog::new()
                                .add_filter("PEM certificate", &["pem", "crt"])
                                .pick_file()
                                .await
                                .map(|f| f.path().to_path_buf())
                        });
                    }
                });
                ui.end_row();
            });
        ui.horizontal(|ui| {
            if ui
                .add_enabled(!self.test.running(), egui::Button::new("Test connection"))
                .clicked()
            {
                match self.target() {
                    Ok(Some(target)) => self.test.start(runtime, test_connection(target)),
                    Ok(None) => {
                        self.broker_message =
                            Some(Notice::done("Empty: the embedded broker will be used."))
                    }
                    Err(error) => self.broker_message = Some(Notice::failed(error)),
                }
            }
            if self.test.running() {
                ui.spinner();
                ui.label("connecting…");
            }
            if ui
                .add_enabled(!read_only, egui::Button::new("Save broker settings"))
                .clicked()
            {
                self.save_broker(core, runtime);
            }
        });
        notice_ui(ui, self.broker_message.as_ref());
        ui.separator();
        self.fleet_ui(ui, core, runtime, read_only);
        ui.separator();
        self.safe_apply_ui(ui, core, runtime, read_only);
        ui.separator();
        self.household_language_ui(ui, read_only);
        ui.separator();
        self.home_assistant_ui(ui, core, runtime, read_only);
        ui.separator();
        section_heading(ui, "Appearance");
        ui.horizontal(|ui| {
            let mut chosen = self.theme;
            ui.label("Theme");
            for (theme, word) in [
                (Theme::System, "System"),
                (Theme::Light, "Light"),
                (Theme::Dark, "Dark"),
            ] {
                let response = ui.selectable_value(&mut chosen, theme, word);
                a11y::set_name(ui, response.id, format!("Theme: {word}"));
            }
            if chosen != self.theme {
                self.set_theme(chosen, ui.ctx(), core, runtime);
            }
        });
        ui.horizontal(|ui| {
            let label = ui.label("UI scale");
            let touch = crate::widgets::style::touch(ui.ctx());
            let response = if touch {
                let mut scale = f64::from(self.scale);
                let steps = Steps {
                    range: 0.75..=2.5,
                    step: 0.05,
                    decimals: 2,
                };
                let response = stepper(ui, &mut scale, &steps, "UI scale", true);
                self.scale = scale as f32;
                response.labelled_by(label.id)
            } else {
                ui.add(
                    egui::Slider::new(&mut self.scale, 0.75..=2.5)
                        .step_by(0.05)
                        .show_value(false),
                )
                .labelled_by(label.id)
            };
            ui.label(format!("{:.2}×", self.scale));
            if response.drag_stopped() || (response.changed() && !response.dragged()) {
                ui.ctx().set_zoom_factor(self.scale);
                let scale = self.scale;
                self.save(core, runtime, move |f| f.ui_scale = Some(scale));
            }
        });
        ui.separator();
        section_heading(ui, "Kiosk PIN");
        ui.label(RichText::new(format!("The kiosk on the home server's display is read-only until this PIN is typed on its keypad: {}–{} digits. Only its hash is stored, in this account's settings: set it here when this app runs as the kiosk's account, else run alicia-config-manager kiosk-pin set as that account.", kiosk_pin::SHORTEST, kiosk_pin::LONGEST)).weak());
        ui.horizontal(|ui| {
            let label = ui.label("New PIN");
            ui.add_enabled(
                !read_only,
                egui::TextEdit::singleline(&mut self.pin)
                    .password(true)
                    .desired_width(100.0),
            )
            .labelled_by(label.id);
            let label = ui.label("Again");
            ui.add_enabled(
                !read_only,
                egui::TextEdit::singleline(&mut self.pin_again)
                    .password(true)
                    .desired_width(100.0),
            )
            .labelled_by(label.id);
            let problem = kiosk_pin::check_pin(&self.pin).err().or_else(|| {
                (self.pin != self.pin_again).then(|| "type it twice, the same".to_owned())
            });
            let usable = problem.is_none();
            if ui
                .add_enabled(
                    !read_only && usable && !self.hashing.running(),
                    egui::Button::new("Set PIN"),
                )
                .clicked()
            {
                self.set_pin(core, runtime);
            }
            if self.hashing.running() {
                ui.spinner();
            }
            if let Some(problem) = problem.filter(|_| !self.pin.is_empty()) {
                ui.label(RichText::new(problem).weak());
            }
        });
        notice_ui(ui, self.pin_message.as_ref());
    }

    fn target(&self) -> Result<Option<ProbeTarget>, String> {
        if self.broker.trim().is_empty() {
            return Ok(None);
        }
        let (url, login) = BrokerUrl::parse_with_login(&self.broker, None)?;
        let (username, password) = match login {
            Some(login) => (Some(login.username), login.password),
            None => (
                (!self.username.is_empty()).then(|| self.username.clone()),
                (!self.password.is_empty()).then(|| Secret::new(self.password.clone())),
            ),
        };
        Ok(Some(ProbeTarget {
            url,
            username,
            password,
            ca_file: (!self.ca_file.trim().is_empty()).then(|| PathBuf::from(self.ca_file.trim())),
        }))
    }

    /// The role on a fleet of several managers: what it is now, and what to ask for at the
    /// next start.
    fn fleet_ui(
        &mut self,
        ui: &mut Ui,
        core: &Core,
        runtime: &tokio::runtime::Handle,
        read_only: bool,
    ) {
        section_heading(ui, "Fleet");
        ui.label(
            RichText::new(format!(
                "Now: {} (this manager's id: {}).",
                core.fleet.describe(),
                core.fleet.instance_id()
            ))
            .weak(),
        );
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
                self.save(core, runtime, move |f| f.role = Some(role));
                self.role_message =
                    Some(Notice::done("Saved. The role applies from the next start."));
            }
        });
        notice_ui(ui, self.role_message.as_ref());
    }

    /// How long each save from the editor is watched before it counts as good.
    /// One language for the whole household: every service that has a language changes as
    /// one change set, reviewed first in the change-set editor.
    fn household_language_ui(&mut self, ui: &mut Ui, read_only: bool) {
        section_heading(ui, "Household language");
        ui.label(
            RichText::new(
                "Speech-to-text, the LLM, text-to-speech and the voice router must speak the same \
                 language. Change it on all of them at once: you see every change and the \
                 checks before it is applied, as one change set.",
            )
            .weak(),
        );
        ui.horizontal(|ui| {
            let label = ui.label("Language");
            ui.add(
                egui::TextEdit::singleline(&mut self.household_language)
                    .hint_text("e.g. de or en-US")
                    .desired_width(120.0),
            )
            .labelled_by(label.id);
            let ready = !read_only && !self.household_language.trim().is_empty();
            if ui
                .add_enabled(ready, egui::Button::new("Review the change…"))
                .clicked()
            {
                self.household_request = Some(self.household_language.trim().to_owned());
            }
        });
    }

    /// Home Assistant MQTT discovery, on and off while running (and kept for the next start).
    fn home_assistant_ui(
        &mut self,
        ui: &mut Ui,
        core: &Core,
        runtime: &tokio::runtime::Handle,
        read_only: bool,
    ) {
        section_heading(ui, "Home Assistant");
        ui.label(
            RichText::new(format!(
                "Each service appears in Home Assistant as a device — a problem sensor, its \
                 config state and an Enabled switch — and the manager with its counts, through \
                 MQTT discovery under \"{}\". Turning this off removes them from Home \
                 Assistant. Only the fleet's authority publishes.",
                core.ha.discovery_prefix()
            ))
            .weak(),
        );
        let mut on = core.ha.enabled();
        let toggle = ui.add_enabled(
            !read_only,
            egui::Checkbox::new(&mut on, "Publish to Home Assistant (MQTT discovery)"),
        );
        if toggle.changed() {
            core.ha.set_enabled(on);
            self.save(core, runtime, move |f| f.ha_discovery = Some(on));
        }
    }

    fn safe_apply_ui(
        &mut self,
        ui: &mut Ui,
        core: &Core,
        runtime: &tokio::runtime::Handle,
        read_only: bool,
    ) {
        section_heading(ui, "Safe apply");
        ui.label(
            RichText::new(
                "After Save, the change is watched: if the service refuses it, turns unhealthy, \
                 or (one that confirms its configs) never confirms it, the manager puts the \
                 previous config back by itself. 0 turns this off.",
            )
            .weak(),
        );
        ui.horizontal(|ui| {
            let label = ui.label("Watch each save for");
            let mut secs = self.watch_secs as f64;
            let response = if crate::widgets::style::touch(ui.ctx()) {
                let steps = Steps {
                    range: 0.0..=600.0,
                    step: 10.0,
                    decimals: 0,
                };
                stepper(ui, &mut secs, &steps, "Watch each save for", !read_only)
            } else {
                ui.add_enabled(
                    !read_only,
                    egui::DragValue::new(&mut secs)
                        .range(0.0..=600.0)
                        .speed(1.0),
                )
            }
            .labelled_by(label.id);
            ui.label("seconds");
            if response.changed() {
                self.watch_secs = secs.round() as u64;
            }
            if response.drag_stopped() || (response.changed() && !response.dragged()) {
                let watch = self.watch_secs;
                self.save(core, runtime, move |f| f.gui_watch_secs = Some(watch));
            }
        });
    }

    fn save_broker(&mut self, core: &Core, runtime: &tokio::runtime::Handle) {
        if let Err(error) = self.target() {
            self.broker_message = Some(Notice::failed(error));
            return;
        }
        let broker = self.broker.trim().to_owned();
        let username = self.username.clone();
        let password = self.password.clone();
        let ca_file = self.ca_file.trim().to_owned();
        self.save(core, runtime, move |f| {
            f.broker = (!broker.is_empty()).then_some(broker);
            f.mqtt_username = (!username.is_empty()).then_some(username);
            f.mqtt_password = (!password.is_empty()).then(|| Secret::new(password));
            f.mqtt_ca_file = (!ca_file.is_empty()).then(|| PathBuf::from(ca_file));
        });
        self.broker_message = Some(Notice::done(
            "Saved. The new broker is used from the next start.",
        ));
    }

    /// Changes the settings file on the runtime (one writer at a time: the core's store).
    /// Switches the theme (from here or the top bar) and keeps the choice.
    pub fn set_theme(
        &mut self,
        theme: Theme,
        ctx: &egui::Context,
        core: &Core,
        runtime: &tokio::runtime::Handle,
    ) {
        self.theme = theme;
        theme.apply(ctx);
        let word = theme.word();
        self.save(core, runtime, move |f| f.theme = Some(word.to_owned()));
    }

    fn save(
        &mut self,
        core: &Core,
        runtime: &tokio::runtime::Handle,
        change: impl FnOnce(&mut SettingsFile) + Send + 'static,
    ) {
        let store = core.settings_file.clone();
        self.saving.start(runtime, async move {
            store
                .update(change)
                .await
                .map(drop)
                .map_err(|e| e.to_string())
        });
    }

    /// Hashes the new PIN (Argon2: slow on purpose) and stores the hash, on the runtime.
    fn set_pin(&mut self, core: &Core, runtime: &tokio::runtime::Handle) {
        let pin = std::mem::take(&mut self.pin);
        self.pin_again.clear();
        let store = core.settings_file.clone();
        self.hashing.start(runtime, async move {
            tokio::task::spawn_blocking(move || kiosk_pin::set_pin(&store, &pin))
                .await
                .map_err(|e| e.to_string())?
        });
    }

    fn finish_tasks(&mut self) {
        if let Some(result) = self.test.take() {
            self.broker_message = Some(match result {
                Ok(text) => Notice::done(format!("✔ {text}")),
                Err(text) => Notice::failed(format!("✖ {text}")),
            });
        }
        if let Some(Some(path)) = self.pick.take() {
            self.ca_file = path.display().to_string();
        }
        if let Some(Err(error)) = self.saving.take() {
            self.save_error = Some(Notice::failed(format!("Settings not saved: {error}")));
        }
        match self.hashing.take() {
            Some(Ok(())) => {
                self.pin_changed = true;
                self.pin_message = Some(Notice::done("Kiosk PIN set."));
            }
            Some(Err(error)) => {
                self.pin_message = Some(Notice::failed(format!("PIN not set: {error}")));
            }
            None => {}
        }
    }
}
