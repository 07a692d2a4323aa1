//! Settings: the broker (address, credentials, CA file) with a "Test connection" button, the
//! theme and the UI scale, and the kiosk PIN. Kept in the settings file (0600: it holds the
//! broker password); broker changes apply at the next start.

use crate::platform::{FileKind, Link, Platform, SettingsChange};
mod broker;
mod fleet;

use crate::tasks::Task;
use crate::view::View;
use crate::widgets::a11y;
use crate::widgets::notice::{Notice, notice_ui};
use crate::widgets::stepper::{Steps, stepper};
use crate::widgets::style::section_heading;
use alicia_model::backend::LocalSettings;
use alicia_model::kiosk_pin;
use alicia_model::secret::Secret;
use alicia_model::settings::broker::{BrokerTarget, BrokerUrl, ProbeTarget};
use alicia_model::settings::role::RoleSetting;
use alicia_model::watch::WatchSecs;
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
    pick: Task<Option<String>>,
    /// The broker form was filled from the settings in use.
    filled: bool,
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
    /// The panel with the look in use; the manager's settings fill it once they arrive.
    pub fn new(theme: Theme, scale: f32) -> Self {
        Self {
            broker: String::new(),
            username: String::new(),
            password: String::new(),
            reveal: false,
            ca_file: String::new(),
            role: RoleSetting::Auto,
            filled: false,
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
    pub fn ui(&mut self, ui: &mut Ui, link: &Link, view: &View, kiosk: bool, read_only: bool) {
        self.finish_tasks();
        notice_ui(ui, self.save_error.as_ref());
        if let Some(local) = &view.local
            && !self.filled
        {
            self.fill(local);
        }
        if view.local.is_some() {
            self.broker_ui(ui, link, view, kiosk, read_only);
            ui.separator();
        }
        self.fleet_ui(ui, link, view, read_only);
        ui.separator();
        self.safe_apply_ui(ui, link, read_only);
        ui.separator();
        self.household_language_ui(ui, read_only);
        ui.separator();
        self.home_assistant_ui(ui, link, view, read_only);
        ui.separator();
        self.appearance_ui(ui, link);
        ui.separator();
        self.kiosk_pin_ui(ui, link, read_only);
    }

    /// The theme and the UI scale (this machine's).
    fn appearance_ui(&mut self, ui: &mut Ui, link: &Link) {
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
                self.set_theme(chosen, ui.ctx(), link.platform.as_ref());
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
                self.save(
                    link.platform.as_ref(),
                    Box::new(move |f| f.ui_scale = Some(scale)),
                );
            }
        });
    }

    /// The kiosk PIN of this machine's kiosk.
    fn kiosk_pin_ui(&mut self, ui: &mut Ui, link: &Link, read_only: bool) {
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
            let problem = kiosk_pin::check_new_pin(&self.pin, Some(&self.pin_again)).err();
            let usable = problem.is_none();
            if ui
                .add_enabled(
                    !read_only && usable && !self.hashing.running(),
                    egui::Button::new("Set PIN"),
                )
                .clicked()
            {
                self.set_pin(link.platform.as_ref());
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

    fn safe_apply_ui(&mut self, ui: &mut Ui, link: &Link, read_only: bool) {
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
                    range: 0.0..=WatchSecs::MAX as f64,
                    step: 10.0,
                    decimals: 0,
                };
                stepper(ui, &mut secs, &steps, "Watch each save for", !read_only)
            } else {
                ui.add_enabled(
                    !read_only,
                    egui::DragValue::new(&mut secs)
                        .range(0.0..=WatchSecs::MAX as f64)
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
                self.save(
                    link.platform.as_ref(),
                    Box::new(move |f| f.gui_watch_secs = Some(watch)),
                );
            }
        });
    }

    /// Switches the theme (from here or the top bar) and keeps the choice.
    pub fn set_theme(&mut self, theme: Theme, ctx: &egui::Context, platform: &dyn Platform) {
        self.theme = theme;
        theme.apply(ctx);
        let word = theme.word();
        self.save(platform, Box::new(move |f| f.theme = Some(word.to_owned())));
    }

    /// Changes this machine's settings file (one writer at a time: the platform's).
    fn save(&mut self, platform: &dyn Platform, change: SettingsChange) {
        self.saving.start(platform.update_settings(change));
    }

    /// Hashes the new PIN (Argon2: slow on purpose) and stores the hash, off the UI thread.
    fn set_pin(&mut self, platform: &dyn Platform) {
        let pin = std::mem::take(&mut self.pin);
        self.pin_again.clear();
        self.hashing.start(platform.set_pin(pin));
    }

    fn finish_tasks(&mut self) {
        if let Some(result) = self.test.take() {
            self.broker_message = Some(match result {
                Ok(text) => Notice::done(format!("✔ {text}")),
                Err(text) => Notice::failed(format!("✖ {text}")),
            });
        }
        if let Some(Some(path)) = self.pick.take() {
            self.ca_file = path;
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
