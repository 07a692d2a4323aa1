//! The services table: every service seen or configured, with health, config state and what
//! changed last; only the rows on screen are built. New (from a type template), duplicate,
//! import and export start here.

use crate::panels::health::kind_of;
use crate::view::View;
use crate::widgets::a11y;
use crate::widgets::badge::{Tone, badge, relative_time};
use crate::widgets::reflow::{self, Fit, TableColumn, fitting};
use alicia_model::clock::{format_rfc3339, parse_rfc3339};
use alicia_model::config::{ServiceType, new_service_document};
use alicia_model::overview::ServiceOverview;
use alicia_model::topics::{SERVICE_NAME_RULE, is_valid_service_name};
use egui::{RichText, Ui};
use egui_extras::Column;
use serde_json::{Value, json};

/// What the admin asked for.
#[derive(Debug, Clone, PartialEq)]
pub enum ServicesAction {
    /// Nothing.
    None,
    /// Open the editor of a stored service.
    Open(String),
    /// Open the change-set editor on these services (CONTRACT §7).
    ChangeTogether(Vec<String>),
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
    service_type: ServiceType,
    copy_of: Option<String>,
}

/// The services panel's own state.
#[derive(Debug)]
pub struct ServicesPanel {
    filter: String,
    sort: SortBy,
    ascending: bool,
    new_service: Option<NewService>,
    /// The row ↑/↓ moved to (its name takes focus; Enter opens it).
    cursor: Option<String>,
    /// Focus the cursor's row at the next frame.
    focus_cursor: bool,
    /// Services ticked for a change set.
    pub selection: std::collections::BTreeSet<String>,
    /// Rows can be ticked for a change set (the desktop; not the kiosk).
    pub selectable: bool,
}

impl Default for ServicesPanel {
    fn default() -> Self {
        Self {
            filter: String::new(),
            sort: SortBy::Name,
            ascending: true,
            new_service: None,
            cursor: None,
            focus_cursor: false,
            selection: std::collections::BTreeSet::new(),
            selectable: true,
        }
    }
}

impl ServicesPanel {
    /// The panel, its rows tickable for a change set when `selectable`.
    pub fn selecting(selectable: bool) -> Self {
        Self {
            selectable,
            ..Self::default()
        }
    }

    /// Draws the table; `marks` are the service open in the editor and those with unsaved
    /// changes (marked in their row).
    pub fn ui(
        &mut self,
        ui: &mut Ui,
        view: &View,
        marks: (Option<&str>, &[String]),
        read_only: bool,
    ) -> ServicesAction {
        let rows: &[ServiceOverview] = &view.services;
        let (selected, unsaved) = marks;
        let mut action = ServicesAction::None;
        if read_only {
            // Locked: a dialog opened before the lock is gone.
            self.new_service = None;
        }
        ui.horizontal(|ui| {
            let label = ui.label("Filter");
            let filter = ui
                .add(
                    egui::TextEdit::singleline(&mut self.filter)
                        .hint_text("name or type")
                        .desired_width(180.0),
                )
                .labelled_by(label.id);
            a11y::find_shortcut(ui, &filter);
            ui.separator();
            if ui
                .add_enabled(!read_only, egui::Button::new("New service…"))
                .clicked()
            {
                self.new_service = Some(NewService {
                    name: String::new(),
                    service_type: ServiceType::Stt,
                    copy_of: None,
                });
            }
            if let Some(selected) = selected
                && view.document(selected).is_some()
                && ui
                    .add_enabled(!read_only, egui::Button::new("Duplicate…"))
                    .clicked()
            {
                self.new_service = Some(NewService {
                    name: format!("{selected}-copy"),
                    service_type: ServiceType::Stt,
                    copy_of: Some(selected.to_owned()),
                });
            }
        });
        if self.selectable && !read_only {
            self.selection_bar_ui(ui, rows, &mut action);
        } else {
            self.selection.clear();
        }
        if let Some(created) = self.new_service_ui(ui, view) {
            action = created;
        }
        let needle = self.filter.to_lowercase();
        let mut shown: Vec<&ServiceOverview> = rows
            .iter()
            .filter(|r| {
                needle.is_empty()
                    || r.service_name.contains(&needle)
                    || kind_of(r).contains(&needle)
            })
            .collect();
        self.sort_rows(&mut shown);
        let row_height = ui.spacing().interact_size.y.max(22.0);
        // As tall as its rows (at most the panel): the column rules end with the last one.
        let spacing = ui.spacing().item_spacing.y;
        let height = (reflow::header_height(ui)
            + (row_height + spacing) * (shown.len() as f32 + 1.0))
            .min(ui.available_height());
        let size = egui::vec2(ui.available_width(), height);
        ui.allocate_ui(size, |ui| {
            self.table_ui(ui, &shown, (selected, unsaved), row_height, &mut action)
        });
        action
    }

    /// The ticked services and what to do with them: change them together, or clear.
    fn selection_bar_ui(
        &mut self,
        ui: &mut Ui,
        rows: &[ServiceOverview],
        action: &mut ServicesAction,
    ) {
        // A service deleted meanwhile is no longer ticked.
        self.selection
            .retain(|name| rows.iter().any(|r| &r.service_name == name && r.configured));
        if self.selection.is_empty() {
            return;
        }
        ui.horizontal(|ui| {
            ui.label(format!("{} selected", self.selection.len()));
            if ui.button("Change together…").clicked() {
                *action = ServicesAction::ChangeTogether(self.selection.iter().cloned().collect());
            }
            if ui.button("Clear selection").clicked() {
                self.selection.clear();
            }
        });
    }

    fn table_ui(
        &mut self,
        ui: &mut Ui,
        shown: &[&ServiceOverview],
        marks: (Option<&str>, &[String]),
        row_height: f32,
        action: &mut ServicesAction,
    ) {
        let (selected, unsaved) = marks;
        self.move_cursor(ui, shown, selected);
        let table_id = a11y::table_state_id(ui, "services-table");
        let columns = fitting(ui.available_width(), &COLUMNS);
        let header_height = reflow::header_height(ui);
        let table = reflow::table(ui, "services-table", &columns);
        // Rows answer a click, but only the service's name takes focus (one Tab stop a row).
        table
            .header(header_height, |mut header| {
                for column in &columns {
                    a11y::column_header(&mut header, |ui| self.header_cell_ui(ui, *column));
                }
            })
            .body(|body| {
                body.rows(row_height, shown.len(), |mut row| {
                    let service = shown[row.index()];
                    let name = &service.service_name;
                    row.set_selected(selected == Some(name.as_str()));
                    for column in &columns {
                        a11y::cell(&mut row, |ui| {
                            let unsaved = unsaved.contains(name);
                            self.cell_ui(ui, *column, service, (selected, unsaved), action);
                        });
                    }
                    if row.response().clicked() {
                        *action = ServicesAction::Open(name.clone());
                    }
                });
            });
        reflow::name_resize_handles(ui, table_id, &columns);
    }

    fn header_cell_ui(&mut self, ui: &mut Ui, column: ServiceColumn) {
        let title = column.title();
        let Some(sort) = column.sort() else {
            ui.strong(title);
            return;
        };
        let arrow = match (sort == self.sort, self.ascending) {
            (true, true) => " ⬆",
            (true, false) => " ⬇",
            _ => "",
        };
        let response = ui.add(
            egui::Button::new(RichText::new(format!("{title}{arrow}")).strong())
                .frame(false)
                .min_size(egui::vec2(44.0, ui.spacing().interact_size.y)),
        );
        a11y::set_name(ui, response.id, format!("Sort by {title}"));
        if response.clicked() {
            if self.sort == sort {
                self.ascending = !self.ascending;
            } else {
                self.sort = sort;
                self.ascending = true;
            }
        }
    }

    fn cell_ui(
        &mut self,
        ui: &mut Ui,
        column: ServiceColumn,
        service: &ServiceOverview,
        marks: (Option<&str>, bool),
        action: &mut ServicesAction,
    ) {
        let (selected, unsaved) = marks;
        let name = &service.service_name;
        match column {
            ServiceColumn::Service => {
                if self.selectable && service.configured {
                    let mut ticked = self.selection.contains(name);
                    let tick = ui
                        .push_id(("tick", name), |ui| ui.checkbox(&mut ticked, ""))
                        .inner;
                    a11y::set_name(ui, tick.id, format!("Select {name} for a change set"));
                    if tick.changed() {
                        if ticked {
                            self.selection.insert(name.clone());
                        } else {
                            self.selection.remove(name);
                        }
                    }
                }
                // Keyed by the name, not the row: the same widget (and accessibility node)
                // while rows are added or sorted around it.
                let response = ui
                    .push_id(name, |ui| {
                        ui.selectable_label(selected == Some(name.as_str()), name)
                    })
                    .inner;
                if self.focus_cursor && self.cursor.as_ref() == Some(name) {
                    response.request_focus();
                    response.scroll_to_me(None);
                    self.focus_cursor = false;
                }
                if response.clicked() {
                    *action = ServicesAction::Open(name.clone());
                }
                if unsaved {
                    ui.label(RichText::new("unsaved").color(ui.visuals().warn_fg_color));
                }
            }
            ServiceColumn::Type => {
                let kind = kind_of(service);
                ui.label(if kind.is_empty() { "—" } else { kind });
            }
            ServiceColumn::Enabled => {
                ui.label(match service.enabled {
                    Some(true) => "yes",
                    Some(false) => "no",
                    None => "—",
                });
            }
            ServiceColumn::Health => {
                let health = service.shown_health();
                badge(ui, health.as_str(), health.into()).on_hover_ui(|ui| {
                    ui.label(format!(
                        "last seen {}",
                        relative_time(ui.ctx(), service.last_seen.as_deref())
                    ));
                });
            }
            ServiceColumn::Version => {
                ui.label(service.version.as_deref().unwrap_or("—"));
            }
            ServiceColumn::Config => config_cell_ui(ui, service),
            ServiceColumn::Updated => {
                let by = service
                    .last_changed_actor
                    .as_ref()
                    .map(|actor| format!(" by {}", actor.describe()))
                    .unwrap_or_default();
                ui.label(format!(
                    "{}{by}",
                    relative_time(ui.ctx(), service.last_updated.as_deref())
                ));
            }
        }
    }

    /// ↑/↓ (when no text field has the keys) move the cursor to the row above or below the
    /// cursor (or the open service) and focus its name, which Enter opens.
    fn move_cursor(&mut self, ui: &Ui, shown: &[&ServiceOverview], selected: Option<&str>) {
        let at = || {
            self.cursor
                .as_deref()
                .or(selected)
                .and_then(|name| shown.iter().position(|s| s.service_name == name))
        };
        if let Some(next) = a11y::arrow_step(ui, shown.len(), at) {
            self.cursor = Some(shown[next].service_name.clone());
            self.focus_cursor = true;
        }
    }

    fn sort_rows(&self, rows: &mut [&ServiceOverview]) {
        rows.sort_by(|a, b| {
            let key = |r: &ServiceOverview| match self.sort {
                SortBy::Name => r.service_name.clone(),
                SortBy::Type => kind_of(r).to_owned(),
                SortBy::Health => r.status.as_str().to_owned(),
                SortBy::ConfigState => format!("{:?}", r.config_state),
                // A time the manager cannot read sorts as unknown (CONTRACT §6).
                SortBy::Updated => r
                    .last_updated
                    .as_deref()
                    .and_then(parse_rfc3339)
                    .map(format_rfc3339)
                    .unwrap_or_default(),
            };
            key(a)
                .cmp(&key(b))
                .then_with(|| a.service_name.cmp(&b.service_name))
        });
        if !self.ascending {
            rows.reverse();
        }
    }

    fn new_service_ui(&mut self, ui: &mut Ui, view: &View) -> Option<ServicesAction> {
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
                        .selected_text(new.service_type.as_str())
                        .show_ui(ui, |ui| {
                            for service_type in ServiceType::ALL {
                                ui.selectable_value(
                                    &mut new.service_type,
                                    service_type,
                                    service_type.as_str(),
                                )
                                .on_hover_text(service_type.description());
                            }
                        })
                        .response
                        .labelled_by(label.id);
                }
            });
            let problem = if !is_valid_service_name(&new.name) {
                Some(SERVICE_NAME_RULE)
            } else if view.document(&new.name).is_some() {
                Some("a service with this name exists")
            } else {
                None
            };
            if let Some(problem) = problem {
                ui.label(RichText::new(problem).color(ui.visuals().warn_fg_color));
            }
            ui.horizontal(|ui| {
                if ui
                    .add_enabled(problem.is_none(), egui::Button::new("Create"))
                    .clicked()
                {
                    let document = match &new.copy_of {
                        Some(from) => view.document(from).map(|s| {
                            let mut copy = Value::clone(&s.document);
                            copy["service_name"] = json!(new.name);
                            copy
                        }),
                        None => Some(new_service_document(&new.name, new.service_type)),
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

/// The config state, with why the service refused it and since when it is pending in words
/// (not only on hover: the kiosk has none).
fn config_cell_ui(ui: &mut Ui, service: &ServiceOverview) {
    if service.manager && !service.configured {
        ui.label("—");
        return;
    }
    if service.configured {
        let state = service.config_state;
        badge(ui, state.as_str(), state.into());
    } else {
        badge(ui, "no config", Tone::Neutral);
    }
    if let Some(until) = &service.watch_until {
        // A change on watch (CONTRACT §7): the seconds left.
        let left = crate::clock::seconds_until(until);
        ui.label(RichText::new(format!("⏱ watching {left} s")).color(ui.visuals().warn_fg_color));
        ui.ctx()
            .request_repaint_after(std::time::Duration::from_millis(500));
    }
    if let Some(since) = &service.pending_since {
        ui.label(RichText::new(format!("since {}", relative_time(ui.ctx(), Some(since)))).weak());
    }
    if let Some(error) = &service.config_error {
        ui.label(RichText::new(error).color(ui.visuals().error_fg_color));
    }
}

/// The services table's columns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ServiceColumn {
    Service,
    Type,
    Enabled,
    Health,
    Version,
    Config,
    Updated,
}

/// The columns in their order, with the width each needs and how long it is kept as the
/// table narrows.
const COLUMNS: [Fit<ServiceColumn>; 7] = [
    Fit {
        column: ServiceColumn::Service,
        width: 200.0,
        priority: 0,
    },
    Fit {
        column: ServiceColumn::Type,
        width: 110.0,
        priority: 3,
    },
    Fit {
        column: ServiceColumn::Enabled,
        width: 70.0,
        priority: 5,
    },
    Fit {
        column: ServiceColumn::Health,
        width: 120.0,
        priority: 0,
    },
    Fit {
        column: ServiceColumn::Version,
        width: 90.0,
        priority: 4,
    },
    Fit {
        column: ServiceColumn::Config,
        width: 200.0,
        priority: 1,
    },
    Fit {
        column: ServiceColumn::Updated,
        width: 180.0,
        priority: 2,
    },
];

impl ServiceColumn {
    fn sort(self) -> Option<SortBy> {
        match self {
            Self::Service => Some(SortBy::Name),
            Self::Type => Some(SortBy::Type),
            Self::Health => Some(SortBy::Health),
            Self::Config => Some(SortBy::ConfigState),
            Self::Updated => Some(SortBy::Updated),
            Self::Enabled | Self::Version => None,
        }
    }
}

impl TableColumn for ServiceColumn {
    fn title(self) -> &'static str {
        match self {
            Self::Service => "Service",
            Self::Type => "Type",
            Self::Enabled => "Enabled",
            Self::Health => "Health",
            Self::Version => "Version",
            Self::Config => "Config",
            Self::Updated => "Last updated",
        }
    }

    /// Resizable on the desktop; a finger cannot grab a column's edge.
    fn resizable(self, touch: bool) -> bool {
        !touch && matches!(self, Self::Service | Self::Type | Self::Config)
    }

    fn spec(self, touch: bool) -> Column {
        let width = COLUMNS
            .iter()
            .find(|fit| fit.column == self)
            .map_or(100.0, |fit| fit.width);
        let column = Column::initial(width);
        match self {
            Self::Service => column.at_least(120.0).resizable(!touch),
            _ => column.resizable(self.resizable(touch)),
        }
    }
}
