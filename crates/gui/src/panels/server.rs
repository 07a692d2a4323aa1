//! The embedded REST server: on / off, bind address, port, token (generate, copy, shown
//! masked), CORS origin, and the URL remote clients should use. Changes are kept in the
//! settings file so the server comes back on the next start.

use crate::platform::Link;
use crate::tasks::Task;
use crate::view::View;
use crate::widgets::badge::Tone;
use crate::widgets::style::{primary_button, section_heading};
use alicia_model::backend::{LocalAdmin, LocalSettings};
use alicia_model::secret::Secret;
use alicia_model::settings::api::{ApiSettings, ApiStatus, http_url};
use egui::{RichText, Ui};
use std::net::IpAddr;

/// The server panel's own state (the form; the server's state is the manager's).
#[derive(Default)]
pub struct ServerPanel {
    /// The settings the form started from (`None` until they arrive).
    base: Option<ApiSettings>,
    bind: String,
    port: String,
    token: String,
    reveal: bool,
    frontend_url: String,
    problem: Option<String>,
    saving: Task<Result<(), String>>,
    /// A new token on its way; start the server with it when `then_start`.
    generating: Task<Result<String, String>>,
    then_start: bool,
}

impl ServerPanel {
    /// Fills the form from the settings in use, once they arrived.
    fn fill(&mut self, local: &LocalSettings) {
        let settings = &local.api;
        self.bind = settings.bind.to_string();
        self.port = settings.port.to_string();
        self.token = settings
            .token
            .as_ref()
            .map(|t| t.expose().to_owned())
            .unwrap_or_default();
        self.frontend_url = settings.frontend_url.clone();
        self.base = Some(settings.clone());
    }

    /// Draws the panel: API access is set on the manager's own machine only (CONTRACT §11).
    pub fn ui(&mut self, ui: &mut Ui, link: &Link, view: &View, read_only: bool) {
        let (Some(local), Some(admin)) = (view.local.as_ref(), link.backend.local()) else {
            section_heading(ui, "Remote access");
            ui.label("API access is set on the manager's own machine (local only).");
            return;
        };
        if self.base.is_none() {
            self.fill(local);
        }
        if read_only {
            // Locked: the token is neither shown nor copied.
            self.reveal = false;
        }
        if let Some(Err(error)) = self.saving.take() {
            self.problem = Some(error);
        }
        if let Some(generated) = self.generating.take() {
            match generated {
                Ok(token) => {
                    self.token = token;
                    if std::mem::take(&mut self.then_start) {
                        self.start(admin);
                    }
                }
                Err(error) => self.problem = Some(format!("no token generated: {error}")),
            }
        }
        let status = view.system.api.clone();
        ui.horizontal(|ui| {
            section_heading(ui, "Remote access");
            match &status {
                ApiStatus::Running {
                    addr,
                    auth_required,
                } => {
                    ui.label(
                        RichText::new(format!("on — http://{addr}")).color(Tone::Good.colour(ui)),
                    );
                    if *auth_required {
                        ui.label("(token required)");
                    }
                }
                ApiStatus::Starting => {
                    ui.spinner();
                }
                ApiStatus::Off => {
                    ui.label("off");
                }
                ApiStatus::Failed { reason } => {
                    ui.colored_label(ui.visuals().error_fg_color, format!("failed: {reason}"));
                }
            }
        });
        ui.label(
            RichText::new(
                "Lets scripts, Home Assistant and dashboards read and change the configuration \
                 over the network (a REST API and live events).",
            )
            .weak(),
        );
        self.who_may_connect_ui(ui, admin, read_only);
        ui.separator();
        egui::Grid::new("server-form").num_columns(2).spacing([16.0, 8.0]).show(ui, |ui| {
            let label = ui.label("Listen on");
            ui.vertical(|ui| {
                ui.add_enabled(!read_only, egui::TextEdit::singleline(&mut self.bind)).labelled_by(label.id);
                ui.label(RichText::new("127.0.0.1: only this computer. 0.0.0.0: every device on your network — then an access token is required.").weak());
            });
            ui.end_row();
            let label = ui.label("Port");
            ui.add_enabled(!read_only, egui::TextEdit::singleline(&mut self.port).desired_width(80.0)).labelled_by(label.id);
            ui.end_row();
            let label = ui.label("Access token");
            ui.horizontal(|ui| {
                ui.add_enabled(!read_only, egui::TextEdit::singleline(&mut self.token).password(!self.reveal).desired_width(260.0))
                    .labelled_by(label.id);
                let word = if self.reveal { "Hide" } else { "Reveal" };
                let toggle = ui.add_enabled(!read_only, egui::Button::new(word));
                crate::widgets::a11y::set_name(ui, toggle.id, format!("{word} the access token"));
                if toggle.clicked() {
                    self.reveal = !self.reveal;
                }
                if ui.add_enabled(!read_only, egui::Button::new("Generate")).clicked() {
                    self.generating.start(admin.new_token());
                }
                if ui.add_enabled(!read_only && !self.token.is_empty(), egui::Button::new("Copy")).clicked() {
                    ui.ctx().copy_text(self.token.clone());
                }
            });
            ui.end_row();
            let label = ui.label("Web page allowed to connect");
            ui.vertical(|ui| {
                ui.add_enabled(!read_only, egui::TextEdit::singleline(&mut self.frontend_url).desired_width(260.0)).labelled_by(label.id);
                ui.label(RichText::new("The address of a browser dashboard that may use this API (CORS); * allows any.").weak());
            });
            ui.end_row();
        });
        if let Some(problem) = &self.problem {
            ui.colored_label(ui.visuals().error_fg_color, problem);
        }
        ui.horizontal(|ui| {
            let running = matches!(status, ApiStatus::Running { .. } | ApiStatus::Starting);
            if running {
                if ui
                    .add_enabled(!read_only, egui::Button::new("Stop server"))
                    .clicked()
                {
                    self.problem = None;
                    self.saving.start(admin.stop_api());
                }
                if ui
                    .add_enabled(!read_only, egui::Button::new("Apply and restart"))
                    .clicked()
                {
                    self.start(admin);
                }
            } else if ui
                .add_enabled(!read_only, primary_button(ui, "Start server"))
                .clicked()
            {
                self.start(admin);
            }
        });
        if let ApiStatus::Running { addr, .. } = status {
            ui.separator();
            section_heading(ui, "For remote clients");
            // The machine's real addresses when it listens on all of them.
            let hosts = if addr.ip().is_unspecified() {
                view.system.addresses.clone()
            } else {
                vec![addr.ip()]
            };
            if hosts.is_empty() {
                ui.label("This machine has no address on a network now.");
            }
            for ip in hosts {
                let url = http_url(ip, addr.port(), "/api");
                ui.horizontal(|ui| {
                    ui.label(RichText::new(&url).monospace());
                    let copy = ui.add_enabled(!read_only, egui::Button::new("Copy"));
                    crate::widgets::a11y::set_name(ui, copy.id, format!("Copy {url}"));
                    if copy.clicked() {
                        ui.ctx().copy_text(url.clone());
                    }
                });
            }
            ui.label(
                RichText::new(
                    "Live events: socket.io at the same address (/socket.io/); the API's \
                     description at /api/openapi.json. Send the token as \
                     \"Authorization: Bearer <token>\".",
                )
                .weak(),
            );
        }
    }

    /// The one choice most admins make: only this computer, or other devices on the network
    /// too (which binds every address, generates a token when there is none, starts the
    /// server and lists the machine's real addresses).
    fn who_may_connect_ui(&mut self, ui: &mut Ui, admin: &dyn LocalAdmin, read_only: bool) {
        ui.horizontal(|ui| {
            ui.label(RichText::new("Who may connect").strong());
            let local = ui.add_enabled(!read_only, egui::Button::new("Only this computer"));
            if local.clicked() {
                self.bind = "127.0.0.1".to_owned();
                self.start(admin);
            }
            let network = ui.add_enabled(
                !read_only,
                primary_button(ui, "Other devices on my network"),
            );
            if network.clicked() {
                self.bind = "0.0.0.0".to_owned();
                if self.token.trim().is_empty() {
                    // Started once the token is here.
                    self.then_start = true;
                    self.generating.start(admin.new_token());
                } else {
                    self.start(admin);
                }
            }
        });
    }

    fn start(&mut self, admin: &dyn LocalAdmin) {
        let Some(base) = self.base.clone() else {
            return;
        };
        let Ok(bind) = self.bind.trim().parse::<IpAddr>() else {
            self.problem = Some(format!("{:?} is not an IP address", self.bind));
            return;
        };
        let Ok(port) = self.port.trim().parse::<u16>() else {
            self.problem = Some(format!("{:?} is not a port", self.port));
            return;
        };
        let token = (!self.token.trim().is_empty()).then(|| Secret::new(self.token.trim()));
        let settings = ApiSettings {
            bind,
            port,
            token,
            frontend_url: self.frontend_url.trim().to_owned(),
            ..base
        };
        self.problem = None;
        self.saving.start(admin.start_api(settings));
    }
}
