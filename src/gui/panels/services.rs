//! The services table: every service seen or configured, with health, config state and what
//! changed last; only the rows on screen are built. New (from a type template), duplicate,
//! import and export start here.

use crate::core::Core;
use crate::core::mqtt::inbound::SERVICE_TYPES;
use crate::core::mqtt::topics::is_valid_service_name;
use crate::gui::views::ServiceRow;
use crate::gui::widgets::badge::{badge, relative_time};
use egui::{RichText, Ui};
use egui_extras::{Column, TableBuilder};
use serde_json::{Value, json};

/// What the admin asked for.
#[derive(Debug, Clone, PartialEq)]
pub enum ServicesAction {
    /// Nothing.
    None,
    /// Open the editor of a stored service.
    Open(String),
    /// Open the editor on a new, unsaved document.
    Create {
        /// Its name.
        service: String,
        /// The document to start from.
        document: Value,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SortBy {
    Name,
    Type,
    Health,
    ConfigState,
    Updated,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct NewService {
    name: String,
    service_type: String,
    copy_of: Option<String>,
}

/// The services panel's own state.
#[derive(Debug)]
pub struct ServicesPanel {
    filter: String,
    sort: SortBy,
    ascending: bool,
    new_service: Option<NewService>,
}

impl Default for ServicesPanel {
    fn default() -> Self {
        Self {
            filter: String::new(),
            sort: SortBy::Name,
            ascending: true,
            new_service: None,
        }
    }
}

impl ServicesPanel {
    /// Draws the table; `selected` is the service open in the editor.
    pub fn ui(
        &mut self,
        ui: &mut Ui,
        core: &Core,
        rows: &[ServiceRow],
        selected: Option<&str>,
        read_only: bool,
    ) -> ServicesAction {
        let mut action = ServicesAction::None;
        ui.horizontal(|ui| {
            let label = ui.label("Filter");
            ui.add(
                egui::TextEdit::singleline(&mut self.filter)
                    .hint_text("name or type")
                    .desired_width(180.0),
            )
            .labelled_by(label.id);
            ui.separator();
            if ui
                .add_enabled(!read_only, egui::Button::new("New service…"))
                .clicked()
            {
                self.new_service = Some(NewService {
                    name: String::new(),
                    service_type: "stt".to_owned(),
                    copy_of: None,
                });
            }
            if let Some(selected) = selected
                && core.config.get(selected).is_some()
                && ui
                    .add_enabled(!read_only, egui::Button::new("Duplicate…"))
                    .clicked()
            {
                self.new_service = Some(NewService {
                    name: format!("{selected}-copy"),
                    service_type: String::new(),
                    copy_of: Some(selected.to_owned()),
                });
            }
        });
        if let Some(created) = self.new_service_ui(ui, core) {
            action = created;
        }
        let needle = self.filter.to_lowercase();
        let mut shown: Vec<&ServiceRow> = rows
            .iter()
            .filter(|r| {
                needle.is_empty()
                    || r.summary.service_name.contains(&needle)
                    || r.service_type
                        .as_deref()
                        .is_some_and(|t| t.contains(&needle))
            })
            .collect();
        self.sort_rows(&mut shown);
        let row_height = ui.spacing().interact_size.y.max(22.0);
        TableBuilder::new(ui)
            .id_salt("services-table")
            .striped(true)
            .cell_layout(egui::Layout::left_to_right(egui::Align::Center))
            .sense(egui::Sense::click())
            .column(Column::initial(200.0).at_least(120.0).resizable(true))
            .column(Column::initial(110.0).resizable(true))
            .column(Column::initial(70.0))
            .column(Column::initial(120.0))
            .column(Column::initial(90.0))
            .column(Column::initial(200.0).resizable(true))
            .column(Column::remainder())
            .header(24.0, |mut header| {
                for (title, sort) in [
                    ("Service", Some(SortBy::Name)),
                    ("Type", Some(SortBy::Type)),
                    ("Enabled", None),
                    ("Health", Some(SortBy::Health)),
                    ("Version", None),
                    ("Config", Some(SortBy::ConfigState)),
                    ("Last updated", Some(SortBy::Updated)),
                ] {
                    header.col(|ui| {
                        let arrow = match sort {
                            Some(s) if s == self.sort => {
                                if self.ascending {
                                    " ⬆"
                                } else {
                                    " ⬇"
                                }
                            }
                            _ => "",
                        };
                        let response = ui.add(
                            egui::Button::new(RichText::new(format!("{title}{arrow}")).strong())
                                .frame(false),
                        );
                        if let Some(sort) = sort
                            && response.clicked()
                        {
                            if self.sort == sort {
                                self.ascending = !self.ascending;
                            } else {
                                self.sort = sort;
                                self.ascending = true;
                            }
                        }
                    });
                }
            })
            .body(|body| {
                body.rows(row_height, shown.len(), |mut row| {
                    let service = shown[row.index()];
                    let name = &service.summary.service_name;
                    row.set_selected(selected == Some(name.as_str()));
                    row.col(|ui| {
                        if ui
                            .selectable_label(selected == Some(name.as_str()), name)
                            .clicked()
                        {
                            action = ServicesAction::Open(name.clone());
                        }
                    });
                    row.col(|ui| {
                        ui.label(service.service_type.as_deref().unwrap_or("—"));
                    });
                    row.col(|ui| {
                        ui.label(match service.enabled {
                            Some(true) => "yes",
                            Some(false) => "no",
                            None => "—",
                        });
                    });
                    row.col(|ui| {
                        let status = if service.summary.stale && service.summary.last_seen.is_some()
                        {
                            "stale"
                        } else {
                            service.summary.status.as_str()
                        };
                        badge(ui, status).on_hover_ui(|ui| {
                            ui.label(format!(
                                "last seen {}",
                                relative_time(ui.ctx(), service.summary.last_seen.as_deref())
                            ));
                        });
                    });
                    row.col(|ui| {
                        ui.label(service.version.as_deref().unwrap_or("—"));
                    });
                    row.col(|ui| {
                        let state = serde_json::to_value(service.summary.config_state)
                            .ok()
                            .and_then(|v| v.as_str().map(str::to_owned))
                            .unwrap_or_default();
                        let manager = service
                            .service_type
                            .as_deref()
                            .is_some_and(|t| t.starts_with("manager"));
                        if manager {
                            ui.label("—");
                            return;
                        }
                        let response = badge(
                            ui,
                            if service.configured {
                                &state
                            } else {
                                "no config"
                            },
                        );
                        if let Some(error) = &service.summary.config_error {
                            response.on_hover_text(error);
                            ui.label(
                                RichText::new(error)
                                    .small()
                                    .color(ui.visuals().error_fg_color),
                            );
                        }
                    });
                    row.col(|ui| {
                        let by = service
                            .source
                            .map(|s| format!(" by {}", s.as_str()))
                            .unwrap_or_default();
                        ui.label(format!(
                            "{}{by}",
                            relative_time(ui.ctx(), service.last_updated.as_deref())
                        ));
                    });
                    if row.response().clicked() {
                        action = ServicesAction::Open(name.clone());
                    }
                });
            });
        action
    }

    fn sort_rows(&self, rows: &mut [&ServiceRow]) {
        rows.sort_by(|a, b| {
            let key = |r: &ServiceRow| match self.sort {
                SortBy::Name => r.summary.service_name.clone(),
                SortBy::Type => r.service_type.clone().unwrap_or_default(),
                SortBy::Health => r.summary.status.as_str().to_owned(),
                SortBy::ConfigState => format!("{:?}", r.summary.config_state),
                SortBy::Updated => r.last_updated.clone().unwrap_or_default(),
            };
            key(a)
                .cmp(&key(b))
                .then_with(|| a.summary.service_name.cmp(&b.summary.service_name))
        });
        if !self.ascending {
            rows.reverse();
        }
    }

    fn new_service_ui(&mut self, ui: &mut Ui, core: &Core) -> Option<ServicesAction> {
        let mut result = None;
        let mut close = false;
        let new = self.new_service.as_mut()?;
        egui::Frame::group(ui.style()).show(ui, |ui| {
            let heading = match &new.copy_of {
                Some(from) => format!("Duplicate {from}"),
                None => "New service".to_owned(),
            };
            ui.label(RichText::new(heading).strong());
            ui.horizontal(|ui| {
                let label = ui.label("Name");
                ui.add(egui::TextEdit::singleline(&mut new.name).hint_text("e.g. piper-tts"))
                    .labelled_by(label.id);
                if new.copy_of.is_none() {
                    let label = ui.label("Type");
                    egui::ComboBox::from_id_salt("new-service-type")
                        .selected_text(new.service_type.clone())
                        .show_ui(ui, |ui| {
                            for service_type in SERVICE_TYPES {
                                ui.selectable_value(
                                    &mut new.service_type,
                                    service_type.to_owned(),
                                    service_type,
                                );
                            }
                        })
                        .response
                        .labelled_by(label.id);
                }
            });
            let problem = if !is_valid_service_name(&new.name) {
                Some("lower-case letters, digits, - and _, starting with a letter or digit")
            } else if core.config.get(&new.name).is_some() {
                Some("a service with this name exists")
            } else {
                None
            };
            if let Some(problem) = problem {
                ui.label(
                    RichText::new(problem)
                        .small()
                        .color(ui.visuals().warn_fg_color),
                );
            }
            ui.horizontal(|ui| {
                if ui
                    .add_enabled(problem.is_none(), egui::Button::new("Create"))
                    .clicked()
                {
                    let document = match &new.copy_of {
                        Some(from) => core.config.get(from).map(|s| {
                            let mut copy = Value::clone(&s.document);
                            copy["service_name"] = json!(new.name);
                            copy
                        }),
                        None => Some(template_for(&new.name, &new.service_type)),
                    };
                    if let Some(document) = document {
                        result = Some(ServicesAction::Create {
                            service: new.name.clone(),
                            document,
                        });
                    }
                    close = true;
                }
                if ui.button("Cancel").clicked() {
                    close = true;
                }
            });
        });
        if close {
            self.new_service = None;
        }
        result
    }
}

/// The starting document of a new service of a type.
pub fn template_for(name: &str, service_type: &str) -> Value {
    json!({
        "service_name": name,
        "service_type": service_type,
        "enabled": true,
        "version": "1.0.0",
        "config": {
            "endpoints": [{"type": service_type, "ip": "127.0.0.1", "protocol": "http"}],
            "settings": {}
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::config::validate_document;

    #[test]
    fn templates_are_valid_documents() {
        for service_type in SERVICE_TYPES {
            let mut document = template_for("new-service", service_type);
            document["last_updated"] = json!("2026-01-01T00:00:00.000Z");
            assert_eq!(validate_document(&document, None), vec![], "{service_type}");
        }
    }
}
