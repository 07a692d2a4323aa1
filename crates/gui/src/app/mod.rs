//! The desktop app: a top bar (broker, role, REST server, counts), tabs for each panel, and the
//! config editor beside the services table. Core events are drained in `logic` under a time
//! budget into the views; `ui` only draws.

mod events;
mod find;
mod kiosk_frame;
mod leaving;
mod top_bar;

pub use leaving::mark_stopping;

use super::GuiOptions;
use super::drafts::Drafts;
use super::guard::{Guard, Leave};
use super::kiosk::KioskLock;
use super::models::{DeviceList, DeviceSort, MessageList, RateHistory, TopicTree};
use super::palette::{Item, Palette};
use super::panels::change_set::{ChangeSetOutcome, ChangeSetPanel};
use super::panels::checks::checks_ui;
use super::panels::devices::DevicesPanel;
use super::panels::editor::{ConfigEditor, EditorOutcome};
use super::panels::health::{HealthAction, health_ui};
use super::panels::history::HistoryPanel;
use super::panels::monitor::{MonitorPanel, MonitorView};
use super::panels::rollback_banner::{BannerAction, RolledBack, banner_ui};
use super::panels::server::ServerPanel;
use super::panels::services::{ServicesAction, ServicesPanel};
use super::panels::settings::{SettingsPanel, Theme};
use super::panels::transfer::TransferPanel;
use super::platform::Link;
use super::view::View;
use super::widgets::reflow;
use alicia_model::backend::Feed;
use alicia_model::change_sets::household_language_members;
use alicia_model::checks::Check;
use alicia_model::kiosk_pin::PinStatus;
use alicia_model::settings::file::SettingsFile;
use alicia_model::watch::WatchSecs;
use egui::{RichText, Ui};
use std::sync::Arc;

/// The tabs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tab {
    /// The kiosk's overview: service tiles, devices offline, checks.
    Overview,
    /// Services and their configs.
    Services,
    /// The devices table and their commands.
    Devices,
    /// Health cards and the message rate.
    Health,
    /// The MQTT monitor.
    Monitor,
    /// The REST server.
    Server,
    /// Settings, import and export.
    Settings,
}

/// The kiosk's tabs, along the bottom of the screen.
const KIOSK_TABS: [(Tab, &str); 7] = [
    (Tab::Overview, "Overview"),
    (Tab::Services, "Services"),
    (Tab::Devices, "Devices"),
    (Tab::Health, "Health"),
    (Tab::Monitor, "Monitor"),
    (Tab::Server, "Server"),
    (Tab::Settings, "Settings"),
];

/// The desktop's tabs, along the top: the kiosk's but its overview.
const TABS: &[(Tab, &str)] = KIOSK_TABS.split_at(1).1;

/// Which side of the editor is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum EditorView {
    Form,
    History,
}

/// The app.
pub struct AliciaApp {
    /// The manager and this machine.
    link: Link,
    options: GuiOptions,
    /// The backend's updates, waiting for the next frame.
    feed: Arc<Feed>,
    /// What the GUI knows of the manager, kept from the updates.
    view: View,
    /// The tab shown.
    pub tab: Tab,
    devices: DeviceList,
    messages: MessageList,
    /// Every topic the monitor saw, as a tree.
    topic_tree: TopicTree,
    rate: RateHistory,
    services_panel: ServicesPanel,
    /// Several services changed as one (CONTRACT §7).
    change_set: ChangeSetPanel,
    editor: Option<ConfigEditor>,
    editor_view: EditorView,
    /// On a narrow screen, the services list is shown over the open editor.
    list_over_editor: bool,
    history: HistoryPanel,
    devices_panel: DevicesPanel,
    monitor: MonitorPanel,
    server: ServerPanel,
    settings: SettingsPanel,
    transfer: TransferPanel,
    kiosk: Option<KioskLock>,
    /// The guard waiting for Save / Discard / Cancel before an edit is left.
    guard: Option<Guard>,
    /// Unsaved drafts, kept in the config folder.
    drafts: Drafts,
    /// The open editor's (service, draft version) last handed to `drafts`.
    drafts_seen: Option<(String, u64)>,
    /// The admin chose to quit past the guard.
    may_close: bool,
    /// Close the window at the next frame.
    close_now: bool,
    /// The last watched change that undid itself, until dismissed.
    rolled_back: Option<RolledBack>,
    /// Ctrl+K: find anything.
    palette: Palette,
    /// What the palette finds, gathered when it opens.
    palette_items: Vec<Item>,
}

impl AliciaApp {
    /// Builds the app over `link`'s manager (`settings_file`: this machine's, the GUI's part
    /// of it). What the manager holds arrives as updates from the first frames.
    pub fn new(
        ctx: &egui::Context,
        link: Link,
        options: GuiOptions,
        settings_file: &SettingsFile,
    ) -> Self {
        crate::widgets::style::install(ctx);
        let theme = Theme::parse(settings_file.theme.as_deref());
        theme.apply(ctx);
        let scale = settings_file.ui_scale.unwrap_or(1.0);
        ctx.set_zoom_factor(scale);
        if options.kiosk {
            crate::widgets::style::install_touch(ctx);
        }
        let repaint = ctx.clone();
        let feed = link
            .backend
            .connect(Arc::new(move |after| repaint.request_repaint_after(after)));
        let topic_tree = TopicTree::new(
            settings_file
                .topic_tree_limit
                .unwrap_or(crate::models::topic_tree::DEFAULT_TOPIC_LIMIT),
        );
        Self {
            feed,
            view: View::default(),
            rate: RateHistory::default(),
            services_panel: ServicesPanel::selecting(!options.kiosk),
            change_set: ChangeSetPanel::default(),
            editor: None,
            editor_view: EditorView::Form,
            list_over_editor: false,
            history: HistoryPanel::default(),
            devices_panel: DevicesPanel::default(),
            monitor: MonitorPanel::default(),
            server: ServerPanel::default(),
            settings: {
                let mut panel = SettingsPanel::new(theme, scale);
                if let Some(secs) = settings_file.gui_watch_secs {
                    panel.watch_secs = WatchSecs::clamped(secs).secs();
                }
                panel
            },
            transfer: TransferPanel::default(),
            kiosk: options
                .kiosk
                .then(|| KioskLock::new(PinStatus::of(settings_file))),
            guard: None,
            drafts: Drafts::start(link.platform.as_ref()),
            drafts_seen: None,
            may_close: false,
            close_now: false,
            palette: Palette::default(),
            rolled_back: None,
            palette_items: Vec::new(),
            tab: if options.kiosk {
                Tab::Overview
            } else {
                Tab::Services
            },
            devices: DeviceList::default(),
            messages: MessageList::new(1),
            topic_tree,
            link,
            options,
        }
    }

    /// True while editing is not allowed (a locked kiosk).
    pub fn read_only(&self) -> bool {
        self.kiosk.as_ref().is_some_and(KioskLock::locked)
    }

    /// The kiosk's lock (`None` on the desktop).
    pub fn kiosk_lock_mut(&mut self) -> Option<&mut KioskLock> {
        self.kiosk.as_mut()
    }

    /// The open editor, if any.
    pub fn editor(&self) -> Option<&ConfigEditor> {
        self.editor.as_ref()
    }

    /// The open editor, to change it (tests, tools).
    pub fn editor_mut(&mut self) -> Option<&mut ConfigEditor> {
        self.editor.as_mut()
    }

    /// The checks across services as last computed.
    pub fn checks(&self) -> &[Check] {
        &self.view.checks
    }

    /// What the GUI knows of the manager now.
    pub fn view(&self) -> &View {
        &self.view
    }

    /// The devices the UI knows.
    pub fn devices(&self) -> &DeviceList {
        &self.devices
    }

    /// Draws a frame.
    pub fn draw(&mut self, ui: &mut Ui) {
        self.close_request(ui.ctx());
        if !self.palette.is_open() && !self.read_only() {
            self.palette.shortcut(ui);
            if self.palette.is_open() {
                self.palette_items = self.findable();
            }
        }
        self.frame(ui);
        if let Some(destination) = self.palette.ui(ui.ctx(), &self.palette_items) {
            self.go_to(destination);
        }
        self.guard_frame(ui.ctx());
    }

    fn frame(&mut self, ui: &mut Ui) {
        if self.kiosk.is_some() {
            self.kiosk_frame(ui);
        } else {
            egui::Panel::top("top-bar").show(ui, |ui| self.top_bar_ui(ui));
            egui::Panel::top("tabs").show(ui, |ui| {
                ui.horizontal(|ui| {
                    for &(tab, title) in TABS {
                        ui.selectable_value(&mut self.tab, tab, RichText::new(title).size(15.0));
                        self.tab_badge(ui, tab, title);
                    }
                });
            });
            self.tab_ui(ui);
        }
    }

    /// The tab shown, below the bars.
    fn tab_ui(&mut self, ui: &mut Ui) {
        let read_only = self.read_only();
        match self.tab {
            Tab::Overview => self.overview_tab(ui),
            Tab::Services => self.services_tab(ui, read_only),
            Tab::Devices => {
                egui::CentralPanel::default().show(ui, |ui| {
                    self.devices_panel
                        .ui(ui, &self.link, &mut self.devices, read_only)
                });
            }
            Tab::Health => {
                let action = egui::CentralPanel::default()
                    .show(ui, |ui| {
                        health_ui(ui, &self.view.services, &self.devices, &self.rate)
                    })
                    .inner;
                match action {
                    HealthAction::None => {}
                    HealthAction::Open(service) => {
                        self.tab = Tab::Services;
                        self.leave_editor(Leave::Open(service));
                    }
                    HealthAction::OfflineDevices => self.show_offline_devices(),
                }
            }
            Tab::Monitor => {
                egui::CentralPanel::default().show(ui, |ui| {
                    self.monitor.ui(
                        ui,
                        &self.link,
                        &self.view,
                        &mut self.messages,
                        &mut self.topic_tree,
                        read_only,
                    )
                });
            }
            Tab::Server => {
                egui::CentralPanel::default().show(ui, |ui| {
                    self.server.ui(ui, &self.link, &self.view, read_only)
                });
            }
            Tab::Settings => {
                egui::CentralPanel::default().show(ui, |ui| {
                    egui::ScrollArea::vertical().show(ui, |ui| {
                        self.settings
                            .ui(ui, &self.link, &self.view, self.options.kiosk, read_only);
                        if !self.options.kiosk {
                            ui.separator();
                            self.transfer.ui(ui, &self.link, read_only);
                        }
                        if let Some(language) = self.settings.household_request.take() {
                            self.review_household_language(language);
                        }
                    });
                });
            }
        }
    }

    fn services_tab(&mut self, ui: &mut Ui, read_only: bool) {
        let narrow = reflow::is_narrow(ui);
        if self.editor.is_some() && narrow && !self.list_over_editor {
            // The small panel: the editor takes the width; the list is one tap away.
            egui::CentralPanel::default().show(ui, |ui| {
                if self.editor_ui(ui, read_only, true) {
                    self.list_over_editor = true;
                }
            });
            return;
        }
        if self.editor.is_some() && !narrow {
            egui::Panel::right("editor")
                .resizable(!crate::widgets::style::touch(ui.ctx()))
                .default_size(560.0)
                .min_size(420.0)
                .show(ui, |ui| self.editor_ui(ui, read_only, false));
        }
        egui::CentralPanel::default().show(ui, |ui| {
            self.rollback_banner_ui(ui);
            self.offered_drafts_ui(ui);
            if let Some(check) = checks_ui(ui, &self.view.checks) {
                self.leave_editor(Leave::Check(check));
            }
            let outcome = self.change_set.ui(
                ui,
                &self.link,
                &self.view,
                self.settings.watch_secs,
                read_only,
            );
            if outcome == ChangeSetOutcome::Applied {
                self.services_panel.selection.clear();
            }
            let selected = self.editor.as_ref().map(|e| e.service().to_owned());
            let mut unsaved: Vec<String> = self.drafts.offered().keys().cloned().collect();
            unsaved.extend(
                self.editor
                    .as_ref()
                    .filter(|e| e.is_dirty())
                    .map(|e| e.service().to_owned()),
            );
            let action =
                self.services_panel
                    .ui(ui, &self.view, (selected.as_deref(), &unsaved), read_only);
            match action {
                ServicesAction::None => {}
                ServicesAction::Open(service) => self.leave_editor(Leave::Open(service)),
                ServicesAction::ChangeTogether(members) => self.change_set.open(members, None),
                ServicesAction::Create { service, document } => {
                    self.leave_editor(Leave::Create { service, document });
                }
            }
        });
    }

    /// Opens the change-set editor on every service with a language, to speak `language`
    /// (Settings › Household language).
    fn review_household_language(&mut self, language: String) {
        let members = household_language_members(&self.view.config);
        self.services_panel.selection = members.iter().cloned().collect();
        self.change_set.open(members, Some(language));
        self.tab = Tab::Services;
    }

    /// The Monitor's topic tree, with the branches of `expand` (whole topics) opened.
    pub fn show_topic_tree(&mut self, expand: &[&str]) {
        self.tab = Tab::Monitor;
        self.monitor.view = MonitorView::Topics;
        for topic in expand {
            if let Some(node) = self.topic_tree.find(topic)
                && !self.topic_tree.is_expanded(node)
            {
                self.topic_tree.toggle(node);
            }
        }
    }

    /// The Devices tab with only the devices offline.
    pub fn show_offline_devices(&mut self) {
        self.tab = Tab::Devices;
        self.devices.offline_only = true;
        self.devices.sort = DeviceSort::Online;
        self.devices.ascending = true;
    }

    /// The banner of a change that undid itself, with its way to the history.
    fn rollback_banner_ui(&mut self, ui: &mut Ui) {
        let Some(rolled_back) = self.rolled_back.clone() else {
            return;
        };
        match banner_ui(ui, &rolled_back) {
            BannerAction::None => {}
            BannerAction::Dismiss => self.rolled_back = None,
            BannerAction::ShowHistory => {
                self.leave_editor(Leave::Open(rolled_back.service.clone()));
                if self
                    .editor
                    .as_ref()
                    .is_some_and(|e| e.service() == rolled_back.service)
                {
                    self.show_editor_history(Some(rolled_back.revision));
                }
                self.rolled_back = None;
            }
        }
    }

    /// Opens the editor on a stored service (keeping an open editor with unsaved edits for the
    /// same service).
    pub fn open_editor(&mut self, service: &str) {
        self.list_over_editor = false;
        if self.editor.as_ref().is_some_and(|e| e.service() == service) {
            return;
        }
        if let Some(editor) = ConfigEditor::open(&self.view, service) {
            self.show(editor);
        }
    }

    /// Shows the open editor's form.
    pub fn show_editor_form(&mut self) {
        self.editor_view = EditorView::Form;
    }

    /// Shows the open editor's history, with `revision` selected (compared with the current
    /// document).
    pub fn show_editor_history(&mut self, revision: Option<u64>) {
        self.editor_view = EditorView::History;
        self.history.select(revision);
    }

    /// The editor, with a button back to the list first when `back` (the narrow layout);
    /// true when that button was tapped.
    fn editor_ui(&mut self, ui: &mut Ui, read_only: bool, back: bool) -> bool {
        let mut went_back = false;
        let mut close = false;
        ui.horizontal(|ui| {
            if back {
                went_back = reflow::back_button(ui, "All services");
            }
            ui.selectable_value(&mut self.editor_view, EditorView::Form, "Configuration");
            ui.selectable_value(&mut self.editor_view, EditorView::History, "History");
            ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                if ui.button("Close").clicked() {
                    close = true;
                }
            });
        });
        if close {
            self.leave_editor(Leave::Close);
        }
        let Some(editor) = self.editor.as_mut() else {
            return went_back;
        };
        editor.watch_secs = self.settings.watch_secs;
        match self.editor_view {
            EditorView::Form => {
                let outcome = editor.ui(ui, &self.link, &self.view, read_only);
                match outcome {
                    EditorOutcome::Deleted => self.editor = None,
                    EditorOutcome::Close => self.leave_editor(Leave::Close),
                    EditorOutcome::Stay => {}
                }
            }
            EditorView::History => {
                let service = editor.service().to_owned();
                self.history
                    .ui(ui, &self.link, &self.view, &service, read_only);
            }
        }
        went_back
    }
}

impl eframe::App for AliciaApp {
    fn logic(&mut self, ctx: &egui::Context, _frame: &mut eframe::Frame) {
        self.take_in_events(ctx);
    }

    fn ui(&mut self, ui: &mut Ui, _frame: &mut eframe::Frame) {
        self.draw(ui);
    }

    fn on_exit(&mut self) {
        self.keep_drafts();
    }
}
