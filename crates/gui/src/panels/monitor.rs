//! The MQTT monitor: the message ring (only the rows on screen are built), pause and resume,
//! a topic filter with `+` and `#`, invalid messages flagged with their error, the selected
//! message pretty-printed, and a publish form limited to the prefix that confirms a retained
//! publish first.

use crate::clock::{local_time_of_day, local_zone_name};
use crate::models::{MessageList, TopicTree};
use crate::panels::topic_tree::TopicTreePanel;
use crate::platform::Link;
use crate::tasks::Task;
use crate::view::View;
use crate::widgets::a11y;
use crate::widgets::json::json_view;
use crate::widgets::notice::{Notice, notice_ui};
use crate::widgets::reflow;
use crate::widgets::style::{primary_button, section_heading};
use alicia_model::messages::MessageRecord;
use egui::{RichText, Ui};
use egui_extras::{Column, TableBuilder};
use std::sync::Arc;

/// What the monitor shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MonitorView {
    /// The messages, newest first.
    #[default]
    Messages,
    /// Every topic as a tree.
    Topics,
}

/// The monitor's own state.
#[derive(Default)]
pub struct MonitorPanel {
    /// Messages or topics.
    pub view: MonitorView,
    tree: TopicTreePanel,
    selected: Option<Arc<MessageRecord>>,
    topic: String,
    payload: String,
    qos: u8,
    retain: bool,
    confirm_retained: bool,
    message: Option<Notice>,
    /// A publish on its way: its topic and the answer.
    publishing: Option<(String, Task<Result<(), String>>)>,
}

impl MonitorPanel {
    /// Draws the monitor: the messages or the topic tree.
    pub fn ui(
        &mut self,
        ui: &mut Ui,
        link: &Link,
        manager: &View,
        view: &mut MessageList,
        tree: &mut TopicTree,
        read_only: bool,
    ) {
        self.take_published();
        if read_only {
            // Locked: a confirmation opened before the lock is gone.
            self.confirm_retained = false;
        }
        ui.horizontal(|ui| {
            ui.selectable_value(&mut self.view, MonitorView::Messages, "Messages");
            ui.selectable_value(&mut self.view, MonitorView::Topics, "Topics");
        });
        if self.view == MonitorView::Topics {
            egui::Panel::bottom("publish-form")
                .show(ui, |ui| self.publish_ui(ui, link, manager, read_only));
            egui::CentralPanel::default()
                .show(ui, |ui| self.tree.ui(ui, link, manager, tree, read_only));
            return;
        }
        ui.horizontal(|ui| {
            let word = if view.paused { "Resume" } else { "Pause" };
            if ui.button(word).clicked() {
                view.paused = !view.paused;
                if !view.paused {
                    view.held_back = 0;
                    // What arrived meanwhile comes with the whole state.
                    link.backend.resync();
                }
            }
            let label = ui.label("Topic filter");
            let filter = ui
                .add(
                    egui::TextEdit::singleline(&mut view.filter)
                        .hint_text("alicia/device/+/state, or words to find")
                        .desired_width(260.0),
                )
                .labelled_by(label.id);
            a11y::find_shortcut(ui, &filter);
            if !view.filter_is_valid() {
                ui.colored_label(
                    ui.visuals().error_fg_color,
                    "not a valid topic filter (# must be last, + a whole level)",
                );
            }
            ui.label(format!("{} shown of {}", view.len(), view.total()));
            if view.paused && view.held_back > 0 {
                ui.label(RichText::new(format!("{} new while paused", view.held_back)).italics());
            }
        });
        if reflow::is_narrow(ui) {
            // The small panel: publishing folded away, and the list or one message in turn.
            egui::Panel::bottom("publish-form").show(ui, |ui| {
                egui::CollapsingHeader::new("Publish a message")
                    .id_salt("publish-fold")
                    .show(ui, |ui| self.publish_ui(ui, link, manager, read_only));
            });
            egui::CentralPanel::default().show(ui, |ui| {
                if self.selected.is_some() {
                    if reflow::back_button(ui, "All messages") {
                        self.selected = None;
                    }
                    egui::ScrollArea::vertical()
                        .id_salt("message-details-scroll")
                        .show(ui, |ui| self.details_ui(ui));
                } else {
                    self.table_ui(ui, view);
                }
            });
            return;
        }
        egui::Panel::bottom("publish-form")
            .show(ui, |ui| self.publish_ui(ui, link, manager, read_only));
        egui::Panel::right("message-details")
            .resizable(!crate::widgets::style::touch(ui.ctx()))
            .default_size(380.0)
            .show(ui, |ui| self.details_ui(ui));
        egui::CentralPanel::default().show(ui, |ui| self.table_ui(ui, view));
    }

    /// ↑/↓ (when no text field has the keys) select the newer or older message.
    fn move_selection(&mut self, ui: &Ui, view: &mut MessageList) {
        let count = view.len();
        // Scanned only when a key was pressed: the ring may hold 10,000 messages.
        let selected = self.selected.clone();
        let at = || {
            let selected = selected?;
            (0..count).find(|&i| view.newest(i).is_some_and(|r| Arc::ptr_eq(r, &selected)))
        };
        if let Some(next) = a11y::arrow_step(ui, count, at) {
            self.selected = view.newest(next).cloned();
        }
    }

    /// The selected message, whole.
    fn details_ui(&self, ui: &mut Ui) {
        match &self.selected {
            Some(record) => {
                ui.label(RichText::new(&record.topic).monospace().strong());
                ui.label(format!(
                    "{} · {} bytes{}",
                    record.timestamp,
                    record.size,
                    if record.retained { " · retained" } else { "" }
                ));
                if let Some(error) = &record.error {
                    ui.colored_label(ui.visuals().error_fg_color, format!("invalid: {error}"));
                }
                if record.has_data() {
                    json_view(ui, "message-json", "The message (JSON)", &record.data());
                } else {
                    ui.label(RichText::new(record.payload_text()).monospace());
                }
            }
            None => {
                ui.label(RichText::new("Select a message to see it whole.").weak());
            }
        }
    }

    fn table_ui(&mut self, ui: &mut Ui, view: &mut MessageList) {
        self.move_selection(ui, view);
        let count = view.len();
        let row_height = ui.spacing().interact_size.y.max(20.0);
        let mono = egui::TextStyle::Monospace.resolve(ui.style());
        let char_width = ui.fonts_mut(|f| f.glyph_width(&mono, '0')).max(1.0);
        let table_id = a11y::table_state_id(ui, "messages-table");
        let header_height = reflow::header_height(ui);
        let touch = crate::widgets::style::touch(ui.ctx());
        // Rows answer a click, but only the time takes focus (one Tab stop a row).
        TableBuilder::new(ui)
            .id_salt("messages-table")
            .striped(true)
            // As tall as its rows: the column rules end with the last one.
            .auto_shrink([false, true])
            .cell_layout(egui::Layout::left_to_right(egui::Align::Center))
            .sense(egui::Sense::CLICK)
            .column(Column::initial(110.0))
            .column(Column::initial(300.0).resizable(!touch))
            .column(Column::remainder().clip(true))
            .header(header_height, |mut header| {
                let time = format!("Time ({})", local_zone_name());
                for title in [time.as_str(), "Topic", "Payload"] {
                    a11y::column_header(&mut header, |ui| {
                        ui.strong(title);
                    });
                }
            })
            .body(|body| {
                body.rows(row_height, count, |mut row| {
                    let Some(record) = view.newest(row.index()).cloned() else {
                        return;
                    };
                    let invalid = !record.valid;
                    row.set_selected(
                        self.selected
                            .as_ref()
                            .is_some_and(|s| Arc::ptr_eq(s, &record)),
                    );
                    let index = row.index();
                    let selected = self
                        .selected
                        .as_ref()
                        .is_some_and(|s| Arc::ptr_eq(s, &record));
                    let mut picked = false;
                    a11y::cell(&mut row, |ui| {
                        let time = local_time_of_day(&record.timestamp)
                            .unwrap_or_else(|| record.timestamp.clone());
                        let response =
                            ui.selectable_label(selected, RichText::new(&time).monospace());
                        a11y::set_name(
                            ui,
                            response.id,
                            format!("Message {}: {} at {time}", index + 1, record.topic),
                        );
                        picked = response.clicked();
                    });
                    a11y::cell(&mut row, |ui| {
                        let text = RichText::new(&record.topic).monospace();
                        let colour = ui.visuals().error_fg_color;
                        cell(ui, if invalid { text.color(colour) } else { text });
                    });
                    a11y::cell(&mut row, |ui| {
                        // Only what the column can show is laid out: at thousands of
                        // messages a second every visible row is new every frame.
                        let fits = (ui.available_width() / char_width) as usize + 2;
                        let payload = record.payload_text();
                        let shown: String = payload.chars().take(fits.min(400)).collect();
                        if invalid {
                            let error = record.error.as_deref().unwrap_or("invalid");
                            let colour = ui.visuals().error_fg_color;
                            cell(
                                ui,
                                RichText::new(format!("⚠ {error} — {shown}")).color(colour),
                            );
                        } else {
                            cell(ui, RichText::new(shown).monospace());
                        }
                    });
                    if picked || row.response().clicked() {
                        self.selected = Some(record);
                    }
                });
            });
        if !touch {
            a11y::name_resize_handles(ui, table_id, &[(1, "Topic")]);
        }
    }

    fn publish_ui(&mut self, ui: &mut Ui, link: &Link, manager: &View, read_only: bool) {
        section_heading(
            ui,
            format!("Publish under {}/", manager.system.topic_prefix),
        );
        ui.horizontal(|ui| {
            let label = ui.label("Topic");
            ui.add(
                egui::TextEdit::singleline(&mut self.topic)
                    .hint_text("alicia/device/lamp-1/command")
                    .desired_width(280.0),
            )
            .labelled_by(label.id);
            let label = ui.label("QoS");
            egui::ComboBox::from_id_salt("publish-qos")
                .selected_text(self.qos.to_string())
                .show_ui(ui, |ui| {
                    for qos in 0..=2u8 {
                        ui.selectable_value(&mut self.qos, qos, qos.to_string());
                    }
                })
                .response
                .labelled_by(label.id);
            ui.checkbox(&mut self.retain, "Retain");
        });
        let label = ui.label("Payload");
        ui.add(
            egui::TextEdit::multiline(&mut self.payload)
                .code_editor()
                .desired_rows(2)
                .desired_width(f32::INFINITY),
        )
        .labelled_by(label.id);
        ui.horizontal(|ui| {
            if self.confirm_retained {
                ui.label(RichText::new("A retained message stays on the broker for every future subscriber. Publish it?").color(ui.visuals().warn_fg_color));
                if ui.button("Publish retained").clicked() {
                    self.confirm_retained = false;
                    self.publish(link);
                }
                if ui.button("Cancel").clicked() {
                    self.confirm_retained = false;
                }
            } else if ui.add_enabled(!read_only && !self.topic.trim().is_empty(), primary_button(ui, "Publish")).clicked() {
                if self.retain {
                    self.confirm_retained = true;
                } else {
                    self.publish(link);
                }
            }
            notice_ui(ui, self.message.as_ref());
        });
    }

    fn publish(&mut self, link: &Link) {
        let topic = self.topic.trim().to_owned();
        let mut task = Task::default();
        task.start(link.backend.publish(
            &topic,
            self.payload.clone().into_bytes(),
            self.qos,
            self.retain,
        ));
        self.publishing = Some((topic, task));
        self.take_published();
    }

    /// The answer to the last publish, once it is here.
    fn take_published(&mut self) {
        let Some((topic, task)) = self.publishing.as_mut() else {
            return;
        };
        let Some(answer) = task.take() else {
            return;
        };
        self.message = Some(match answer {
            Ok(()) => Notice::done(format!("published to {topic}")),
            Err(error) => Notice::failed(error),
        });
        self.publishing = None;
    }
}

/// A table cell's text: not selectable, so a click selects the row.
fn cell(ui: &mut Ui, text: RichText) {
    ui.add(egui::Label::new(text).selectable(false));
}
