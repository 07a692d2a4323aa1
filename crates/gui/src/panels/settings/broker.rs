//! The broker the manager uses now, and the one to use from the next start — address, login,
//! CA file — with a connection test (the manager's own machine only).

use super::*;

impl SettingsPanel {
    /// Fills the broker form and the role from the settings in use.
    pub(super) fn fill(&mut self, local: &LocalSettings) {
        self.broker = match &local.broker {
            BrokerTarget::External(url) => url.to_string(),
            BrokerTarget::Embedded { .. } => String::new(),
        };
        self.username = local.mqtt_username.clone().unwrap_or_default();
        self.password = local
            .mqtt_password
            .as_ref()
            .map(|p| p.expose().to_owned())
            .unwrap_or_default();
        self.ca_file = local.mqtt_ca_file.clone().unwrap_or_default();
        self.role = local.role;
        self.filled = true;
    }

    /// The broker the manager uses, and the one to use from the next start (local only).
    pub(super) fn broker_ui(
        &mut self,
        ui: &mut Ui,
        link: &Link,
        view: &View,
        kiosk: bool,
        read_only: bool,
    ) {
        section_heading(ui, "Broker");
        ui.label(
            RichText::new(format!(
                "In use now: {}{}",
                view.system.broker_url,
                if view.system.embedded_broker {
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
                        self.pick
                            .start(link.platform.pick_path(FileKind::Certificate));
                    }
                });
                ui.end_row();
            });
        ui.horizontal(|ui| {
            if ui
                .add_enabled(!self.test.running(), egui::Button::new("Test connection"))
                .clicked()
            {
                match (self.target(), link.backend.local()) {
                    (Ok(Some(target)), Some(admin)) => self.test.start(admin.test_broker(target)),
                    (Ok(Some(_)), None) => {}
                    (Ok(None), _) => {
                        self.broker_message =
                            Some(Notice::done("Empty: the embedded broker will be used."))
                    }
                    (Err(error), _) => self.broker_message = Some(Notice::failed(error)),
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
                self.save_broker(link.platform.as_ref());
            }
        });
        notice_ui(ui, self.broker_message.as_ref());
    }

    pub(super) fn target(&self) -> Result<Option<ProbeTarget>, String> {
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

    pub(super) fn save_broker(&mut self, platform: &dyn Platform) {
        if let Err(error) = self.target() {
            self.broker_message = Some(Notice::failed(error));
            return;
        }
        let broker = self.broker.trim().to_owned();
        let username = self.username.clone();
        let password = self.password.clone();
        let ca_file = self.ca_file.trim().to_owned();
        self.save(
            platform,
            Box::new(move |f| {
                f.broker = (!broker.is_empty()).then_some(broker);
                f.mqtt_username = (!username.is_empty()).then_some(username);
                f.mqtt_password = (!password.is_empty()).then(|| Secret::new(password));
                f.mqtt_ca_file = (!ca_file.is_empty()).then(|| PathBuf::from(ca_file));
            }),
        );
        self.broker_message = Some(Notice::done(
            "Saved. The new broker is used from the next start.",
        ));
    }
}
