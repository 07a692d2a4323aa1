//! The devices table (only the rows on screen are built; sortable; filter box), and the
//! selected device's details: raw state, and a command dialog that shows the device's answer.

use crate::models::{DeviceList, DeviceSort};
use crate::panels::device_controls::{controls_ui, has_controls};
use crate::platform::Link;
use crate::tasks::Task;
use crate::widgets::a11y;
use crate::widgets::badge::{Tone, badge, relative_time};
use crate::widgets::json::json_view;
use crate::widgets::reflow::{self, Fit, TableColumn, fitting};
use crate::widgets::style::{destructive_button, primary_button, section_heading};
use alicia_model::commands::{CommandRecord, CommandStatus, command_params_text};
use egui::{RichText, Ui};
use egui_extras::Column;
use serde_json::{Map, Value};
use std::sync::Arc;
use web_time::Instant;

/// A command sent, waiting for (or showing) its outcome.
#[derive(Debug, Clone)]
struct SentCommand {
    device: String,
    request_id: String,
    sent: Instant,
    finished: Option<Arc<CommandRecord>>,
}

/// The devices panel's own state.
pub struct DevicesPanel {
    selected: Option<String>,
    command: String,
    params: String,
    /// A command on its way to the bus: its device and the backend's answer (its request id).
    sending: Option<(String, Task<Result<String, String>>)>,
    sent: Option<SentCommand>,
    error: Option<String>,
    /// The device whose "Forget" awaits confirmation.
    confirm_forget: Option<String>,
    /// A quick control's level while it is dragged.
    levels: Map<String, Value>,
}

impl Default for DevicesPanel {
    fn default() -> Self {
        Self {
            selected: None,
            command: "turn_on".to_owned(),
            params: "{}".to_owned(),
            sending: None,
            sent: None,
            error: None,
            confirm_forget: None,
            levels: Map::new(),
        }
    }
}

impl DevicesPanel {
    /// A device answered a command.
    pub fn on_command_finished(&mut self, record: &Arc<CommandRecord>) {
        if let Some(sent) = &mut self.sent
            && sent.device == record.device_id
            && sent.request_id == record.request_id
        {
            sent.finished = Some(Arc::clone(record));
        }
    }

    /// Shows `id`'s details.
    pub fn select(&mut self, id: &str) {
        self.selected = Some(id.to_owned());
    }

    /// The device shown in the details.
    pub fn selected(&self) -> Option<&str> {
        self.selected.as_deref()
    }

    /// Draws the table and the details.
    pub fn ui(&mut self, ui: &mut Ui, link: &Link, view: &mut DeviceList, read_only: bool) {
        self.take_sent();
        if read_only {
            // Locked: a confirmation opened before the lock is gone.
            self.confirm_forget = None;
        }
        ui.horizontal(|ui| {
            let label = ui.label("Filter");
            let filter = ui
                .add(
                    egui::TextEdit::singleline(&mut view.filter)
                        .hint_text("id, name, room, type or status")
                        .desired_width(220.0),
                )
                .labelled_by(label.id);
            a11y::find_shortcut(ui, &filter);
            ui.checkbox(&mut view.offline_only, "Offline only");
            let (online, total) = view.counts();
            ui.label(format!("{online} online of {total}"));
        });
        if reflow::is_narrow(ui) {
            // One at a time: the list, or the selected device's details.
            egui::CentralPanel::default().show(ui, |ui| {
                if self.selected.is_some() {
                    if reflow::back_button(ui, "All devices") {
                        self.selected = None;
                    }
                    egui::ScrollArea::vertical()
                        .id_salt("device-details-scroll")
                        .show(ui, |ui| self.details_ui(ui, link, view, read_only));
                } else {
                    self.table_ui(ui, view);
                }
            });
            return;
        }
        egui::Panel::right("device-details")
            .resizable(!crate::widgets::style::touch(ui.ctx()))
            .default_size(360.0)
            .show(ui, |ui| {
                egui::ScrollArea::vertical()
                    .id_salt("device-details-scroll")
                    .show(ui, |ui| self.details_ui(ui, link, view, read_only));
            });
        egui::CentralPanel::default().show(ui, |ui| self.table_ui(ui, view));
    }

    fn table_ui(&mut self, ui: &mut Ui, view: &mut DeviceList) {
        let rows = view.rows();
        if rows.is_empty() {
            let hint = if view.counts().1 == 0 {
                "No devices yet. They appear here as soon as one publishes on \
                 alicia/device/<id>/state or …/availability."
            } else {
                "No device matches the filter."
            };
            ui.add_space(24.0);
            ui.vertical_centered(|ui| ui.label(RichText::new(hint).weak()));
            return;
        }
        self.move_selection(ui, &rows);
        let row_height = ui.spacing().interact_size.y.max(22.0);
        let mut sort_clicked = None;
        // As tall as its rows (at most the panel): the column rules end with the last one.
        let spacing = ui.spacing().item_spacing.y;
        let height = (reflow::header_height(ui)
            + (row_height + spacing) * (rows.len() as f32 + 1.0))
            .min(ui.available_height());
        let size = egui::vec2(ui.available_width(), height);
        ui.allocate_ui(size, |ui| {
            let table_id = a11y::table_state_id(ui, "devices-table");
            // Rows answer a click, but only the device's name takes focus (one Tab stop a row).
            let columns = fitting(ui.available_width(), &COLUMNS);
            let header_height = reflow::header_height(ui);
            let table = reflow::table(ui, "devices-table", &columns);
            // Rows answer a click, but only the device's name takes focus (one Tab stop a row).
            table
                .header(header_height, |mut header| {
                    for column in &columns {
                        let (title, sort) = (column.title(), column.sort());
                        a11y::column_header(&mut header, |ui| {
                            let arrow = if view.sort == sort {
                                if view.ascending { " ⬆" } else { " ⬇" }
                            } else {
                                ""
                            };
                            let response = ui.add(
                                egui::Button::new(
                                    RichText::new(format!("{title}{arrow}")).strong(),
                                )
                                .frame(false)
                                .min_size(egui::vec2(44.0, ui.spacing().interact_size.y)),
                            );
                            a11y::set_name(ui, response.id, format!("Sort by {title}"));
                            if response.clicked() {
                                sort_clicked = Some(sort);
                            }
                        });
                    }
                })
                .body(|body| {
                    body.rows(row_height, rows.len(), |mut row| {
                        let id = &rows[row.index()];
                        let Some(device) = view.get(id).cloned() else {
                            return;
                        };
                        let selected = self.selected.as_deref() == Some(id.as_str());
                        let mut picked = false;
                        for column in &columns {
                            a11y::cell(&mut row, |ui| match column {
                                DeviceColumn::Status => {
                                    device_status_badge(ui, &device);
                                    // The last command's outcome, in its row.
                                    if let Some((word, tone)) = self.row_result(&device.id) {
                                        ui.label(RichText::new(word).color(tone.colour(ui)));
                                    }
                                }
                                DeviceColumn::Name => {
                                    let name = device.name.as_deref().unwrap_or("—");
                                    // Keyed by the id, not the row (see the services table).
                                    let response = ui
                                        .push_id(&device.id, |ui| {
                                            ui.selectable_label(selected, name)
                                        })
                                        .inner;
                                    // Names repeat (two "Desk lamp"s); ids do not.
                                    a11y::set_name(
                                        ui,
                                        response.id,
                                        format!("{name} ({})", device.id),
                                    );
                                    picked = response.clicked();
                                }
                                DeviceColumn::Id => {
                                    ui.label(RichText::new(&device.id).monospace());
                                }
                                DeviceColumn::Room => {
                                    ui.label(device.room.as_deref().unwrap_or("—"));
                                }
                                DeviceColumn::Kind => {
                                    ui.label(device.kind.as_deref().unwrap_or("—"));
                                }
                                DeviceColumn::LastSeen => {
                                    ui.label(relative_time(ui.ctx(), device.last_seen.as_deref()));
                                }
                            });
                        }
                        row.set_selected(selected);
                        if picked || row.response().clicked() {
                            self.selected = Some(id.clone());
                        }
                    });
                });
            reflow::name_resize_handles(ui, table_id, &columns);
        });
        if let Some(sort) = sort_clicked {
            if view.sort == sort {
                view.ascending = !view.ascending;
            } else {
                view.sort = sort;
                view.ascending = true;
            }
        }
    }

    /// ↑/↓ (when no text field has the keys) select the device above or below.
    fn move_selection(&mut self, ui: &Ui, rows: &[String]) {
        let at = || {
            self.selected
                .as_ref()
                .and_then(|id| rows.iter().position(|row| row == id))
        };
        if let Some(next) = a11y::arrow_step(ui, rows.len(), at) {
            self.selected = rows.get(next).cloned();
        }
    }

    fn details_ui(&mut self, ui: &mut Ui, link: &Link, view: &DeviceList, read_only: bool) {
        let Some(device) = self
            .selected
            .as_deref()
            .and_then(|id| view.get(id))
            .cloned()
        else {
            ui.label(
                RichText::new("Select a device to see its state and send it commands.").weak(),
            );
            return;
        };
        ui.heading(device.name.as_deref().unwrap_or(&device.id));
        egui::Grid::new("device-facts")
            .num_columns(2)
            .show(ui, |ui| {
                for (label, value) in [
                    ("Id", device.id.clone()),
                    ("Room", device.room.clone().unwrap_or_default()),
                    ("Type", device.kind.clone().unwrap_or_default()),
                    (
                        "Last seen",
                        relative_time(ui.ctx(), device.last_seen.as_deref()),
                    ),
                ] {
                    ui.label(label);
                    ui.label(value);
                    ui.end_row();
                }
                ui.label("Status");
                device_status_badge(ui, &device);
                ui.end_row();
            });
        if has_controls(&device.state) {
            section_heading(ui, "Controls");
            if let Some(quick) = controls_ui(ui, &device.state, &mut self.levels, !read_only) {
                self.send_command(link, &device.id, &quick.command, quick.params);
            }
        }
        self.command_result_ui(ui, &device.id);
        section_heading(ui, "Reported state");
        json_view(ui, "device-state", "Reported state (JSON)", &device.state);
        ui.separator();
        egui::CollapsingHeader::new("Advanced: send any command")
            .id_salt("device-advanced")
            .default_open(!has_controls(&device.state))
            .show(ui, |ui| {
                ui.horizontal(|ui| {
                    let label = ui.label("Command");
                    ui.add(egui::TextEdit::singleline(&mut self.command).desired_width(140.0))
                        .labelled_by(label.id);
                });
                let label = ui.label("Parameters (JSON object)");
                ui.add(
                    egui::TextEdit::multiline(&mut self.params)
                        .code_editor()
                        .desired_rows(2),
                )
                .labelled_by(label.id);
                if ui
                    .add_enabled(!read_only, primary_button(ui, "Send command"))
                    .clicked()
                {
                    self.send(link, &device.id);
                }
            });
        ui.separator();
        self.forget_ui(ui, link, &device.id, read_only);
    }

    /// The last command's fate: waiting, done, refused (and why) or unanswered.
    fn command_result_ui(&self, ui: &mut Ui, device: &str) {
        if let Some(error) = &self.error {
            ui.colored_label(ui.visuals().error_fg_color, error);
        }
        if let Some(sent) = self.sent.as_ref().filter(|s| s.device == device) {
            match sent.finished.as_deref() {
                None => {
                    ui.horizontal(|ui| {
                        ui.spinner();
                        ui.label(format!(
                            "waiting for the device ({:.0} s)",
                            sent.sent.elapsed().as_secs_f32()
                        ));
                    });
                    ui.ctx()
                        .request_repaint_after(std::time::Duration::from_millis(250));
                }
                Some(record) => match record.status {
                    CommandStatus::Ok | CommandStatus::Pending => {
                        ui.label(
                            RichText::new(format!("✔ the device did it ({})", record.command))
                                .color(Tone::Good.colour(ui)),
                        );
                    }
                    CommandStatus::Failed => {
                        let reason = record.error.as_deref().unwrap_or("no reason given");
                        ui.colored_label(
                            ui.visuals().error_fg_color,
                            format!("✖ the device refused: {reason}"),
                        );
                    }
                    CommandStatus::Timeout => {
                        ui.colored_label(
                            ui.visuals().warn_fg_color,
                            "⏱ no answer from the device in time",
                        );
                    }
                },
            }
        }
    }

    /// The last command's outcome in a word, for its device's row.
    fn row_result(&self, device: &str) -> Option<(&'static str, Tone)> {
        let sent = self.sent.as_ref().filter(|s| s.device == device)?;
        Some(match sent.finished.as_deref().map(|r| r.status) {
            None => ("sent…", Tone::Neutral),
            Some(CommandStatus::Ok | CommandStatus::Pending) => ("✔ done", Tone::Good),
            Some(CommandStatus::Failed) => ("✖ refused", Tone::Bad),
            Some(CommandStatus::Timeout) => ("⏱ no answer", Tone::Warning),
        })
    }

    /// "Forget device…", confirmed in place: the device leaves the registry (and its retained
    /// topics are cleared) until it reports again.
    fn forget_ui(&mut self, ui: &mut Ui, link: &Link, id: &str, read_only: bool) {
        if self.confirm_forget.as_deref() != Some(id) {
            if ui
                .add_enabled(!read_only, destructive_button(ui, "Forget device…"))
                .on_hover_text("Remove it from the list until it reports again")
                .clicked()
            {
                self.confirm_forget = Some(id.to_owned());
            }
            return;
        }
        ui.label(format!(
            "Forget {id}? Its retained state is cleared; it comes back if it reports again."
        ));
        ui.horizontal(|ui| {
            if ui.add(destructive_button(ui, "Forget")).clicked() {
                // The device leaves the table when the backend says it was removed.
                drop(link.backend.forget_device(id));
                self.confirm_forget = None;
                self.selected = None;
            }
            if ui.button("Cancel").clicked() {
                self.confirm_forget = None;
            }
        });
    }

    fn send(&mut self, link: &Link, device: &str) {
        self.error = None;
        let command = self.command.clone();
        let params = match command_params_text(&self.params) {
            Ok(params) => params,
            Err(error) => {
                self.error = Some(format!("parameters {error}"));
                return;
            }
        };
        self.send_command(link, device, &command, params);
    }

    fn send_command(
        &mut self,
        link: &Link,
        device: &str,
        command: &str,
        params: Map<String, Value>,
    ) {
        self.error = None;
        let mut task = Task::default();
        task.start(link.backend.send_command(device, command, params));
        self.sending = Some((device.to_owned(), task));
        self.take_sent();
    }

    /// The backend's answer to the last command sent, once it is here.
    fn take_sent(&mut self) {
        let Some((device, task)) = self.sending.as_mut() else {
            return;
        };
        let Some(answer) = task.take() else {
            return;
        };
        let device = std::mem::take(device);
        self.sending = None;
        match answer {
            Ok(request_id) => {
                self.sent = Some(SentCommand {
                    device,
                    request_id,
                    sent: crate::clock::instant(),
                    finished: None,
                });
            }
            Err(error) => self.error = Some(error),
        }
    }
}

/// Online, offline, or stale (not heard from for a while: its last word may be old news).
fn device_status_badge(ui: &mut Ui, device: &alicia_model::devices::Device) {
    let last_word = if device.online { "online" } else { "offline" };
    if device.stale {
        badge(ui, "stale", Tone::Warning).on_hover_text(format!(
            "Not heard from for a while (state or availability); it last said it was {last_word}."
        ));
    } else {
        badge(ui, last_word, Tone::good_if(device.online));
    }
}

/// The devices table's columns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DeviceColumn {
    Status,
    Name,
    Id,
    Room,
    Kind,
    LastSeen,
}

/// The columns in their order, with the width each needs and how long it is kept as the
/// table narrows.
const COLUMNS: [Fit<DeviceColumn>; 6] = [
    Fit {
        column: DeviceColumn::Status,
        width: 100.0,
        priority: 0,
    },
    Fit {
        column: DeviceColumn::Name,
        width: 200.0,
        priority: 0,
    },
    Fit {
        column: DeviceColumn::Id,
        width: 200.0,
        priority: 3,
    },
    Fit {
        column: DeviceColumn::Room,
        width: 110.0,
        priority: 2,
    },
    Fit {
        column: DeviceColumn::Kind,
        width: 90.0,
        priority: 4,
    },
    Fit {
        column: DeviceColumn::LastSeen,
        width: 120.0,
        priority: 1,
    },
];

impl DeviceColumn {
    fn sort(self) -> DeviceSort {
        match self {
            Self::Status => DeviceSort::Online,
            Self::Name => DeviceSort::Name,
            Self::Id => DeviceSort::Id,
            Self::Room => DeviceSort::Room,
            Self::Kind => DeviceSort::Kind,
            Self::LastSeen => DeviceSort::LastSeen,
        }
    }
}

impl TableColumn for DeviceColumn {
    fn title(self) -> &'static str {
        match self {
            Self::Status => "Status",
            Self::Name => "Name",
            Self::Id => "Id",
            Self::Room => "Room",
            Self::Kind => "Type",
            Self::LastSeen => "Last seen",
        }
    }

    /// Resizable on the desktop; a finger cannot grab a column's edge.
    fn resizable(self, touch: bool) -> bool {
        !touch && matches!(self, Self::Name | Self::Id | Self::Room)
    }

    fn spec(self, touch: bool) -> Column {
        let width = COLUMNS
            .iter()
            .find(|fit| fit.column == self)
            .map_or(100.0, |fit| fit.width);
        Column::initial(width).resizable(self.resizable(touch))
    }
}
