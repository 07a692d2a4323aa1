//! The real desktop app in egui_kittest over a real core on the embedded broker, and the
//! helpers that drive it: patient steps, clicks by accessible name, opening a service, the
//! accessibility tree's problems.

#![allow(dead_code, reason = "each GUI test file uses a part of the helpers")]
#![allow(
    clippy::unwrap_used,
    reason = "test helpers: a panic is the failure report"
)]

use crate::support::{PATIENCE, TestBroker, start_core};
use alicia_config_manager::core::settings::{SettingsFile, SettingsFileIo};
use alicia_config_manager::core::{Core, CoreRuntime};
use alicia_config_manager::gui::{AliciaApp, GuiOptions};
use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT, Queryable};
use std::time::{Duration, Instant};

/// The window size of the desktop tests.
pub const DESKTOP: egui::Vec2 = egui::vec2(1320.0, 820.0);

pub struct Gui {
    pub harness: Harness<'static, AliciaApp>,
    pub core: Core,
    pub broker: TestBroker,
    pub runtime: tokio::runtime::Runtime,
    pub _core_runtime: CoreRuntime,
    pub dir: tempfile::TempDir,
}

/// The app in a desktop-sized window, over a fresh core and broker.
pub fn gui(options: GuiOptions, file: SettingsFile) -> Gui {
    gui_sized(options, file, DESKTOP)
}

/// The app in a window of `size`; `file` is also written where the core's settings store
/// reads it.
pub fn gui_sized(options: GuiOptions, file: SettingsFile, size: egui::Vec2) -> Gui {
    gui_with(options, file, size, |_| {})
}

/// [`gui_sized`] with the core's settings changed by `tweak` first.
pub fn gui_with(
    options: GuiOptions,
    file: SettingsFile,
    size: egui::Vec2,
    tweak: impl FnOnce(&mut alicia_config_manager::core::settings::Settings),
) -> Gui {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let broker = TestBroker::embedded();
    let dir = tempfile::tempdir().unwrap();
    if file != SettingsFile::default() {
        // Where the core's settings store (and the kiosk's lock) reads it.
        file.save(&dir.path().join("settings.json")).unwrap();
    }
    let (core, core_runtime) = runtime.block_on(start_core(dir.path(), broker.port, tweak));
    let harness = window_sized(&core, runtime.handle(), options, file, size);
    Gui {
        harness,
        core,
        broker,
        runtime,
        _core_runtime: core_runtime,
        dir,
    }
}

/// The app's window over `core`.
pub fn window(
    core: &Core,
    runtime: &tokio::runtime::Handle,
    options: GuiOptions,
    file: SettingsFile,
) -> Harness<'static, AliciaApp> {
    window_sized(core, runtime, options, file, DESKTOP)
}

/// The app's window over `core`, of `size`.
pub fn window_sized(
    core: &Core,
    runtime: &tokio::runtime::Handle,
    options: GuiOptions,
    file: SettingsFile,
    size: egui::Vec2,
) -> Harness<'static, AliciaApp> {
    let link = alicia_config_manager::desktop::in_process(core, runtime);
    Harness::builder()
        .with_size(size)
        .build_eframe(move |cc| AliciaApp::new(&cc.egui_ctx, link, options, &file))
}

impl Gui {
    /// Steps frames until `condition` holds (the core works on other threads meanwhile).
    pub fn until(
        &mut self,
        what: &str,
        condition: impl Fn(&Harness<'static, AliciaApp>, &Core) -> bool,
    ) {
        let core = &self.core;
        step_until(&mut self.harness, what, |h| condition(h, core));
    }

    /// Stores `document` as whisper-service's config, as a REST client would.
    pub fn store_by_rest(
        &self,
        document: serde_json::Value,
    ) -> alicia_config_manager::core::config::Committed {
        use alicia_config_manager::core::config::{ChangeSource, Precondition};
        self.runtime
            .block_on(self.core.config.put(
                "whisper-service",
                document,
                ChangeSource::Rest,
                Precondition::None,
            ))
            .unwrap()
    }

    pub fn frames(&mut self, n: usize) {
        for _ in 0..n {
            self.harness.step();
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    pub fn click(&mut self, label: &str) {
        self.harness.get_by_label(label).click();
        self.frames(3);
    }

    /// Stores `model` as whisper-service's model, as a REST client would; returns the
    /// revision.
    pub fn put_model(&self, model: &str) -> u64 {
        use alicia_config_manager::core::config::{ChangeSource, Precondition};
        let mut document = (*self.core.config.get("whisper-service").unwrap().document).clone();
        document["config"]["model"] = serde_json::json!(model);
        self.runtime
            .block_on(self.core.config.put(
                "whisper-service",
                document,
                ChangeSource::Rest,
                Precondition::None,
            ))
            .unwrap()
            .revision
    }

    /// Clicks the one widget whose label contains `label`.
    pub fn click_contains(&mut self, label: &str) {
        self.harness.get_by_label_contains(label).click();
        self.frames(3);
    }

    pub fn open(&mut self, service: &str) {
        let deadline = Instant::now() + PATIENCE;
        loop {
            self.until("the service is listed", |h, _| {
                h.query_by_label(service).is_some()
            });
            // A click can miss while the table is still being rebuilt (rows arriving): again.
            self.click(service);
            for _ in 0..10 {
                if self
                    .harness
                    .state()
                    .editor()
                    .is_some_and(|e| e.service() == service)
                {
                    // Drawn once more, so its form is in the tree.
                    self.frames(2);
                    return;
                }
                self.frames(1);
            }
            assert!(Instant::now() < deadline, "the editor of {service} opens");
        }
    }
}

/// Whether a widget refuses input (disabled or read-only).
pub fn locked(node: &egui_kittest::Node<'_>) -> bool {
    let node = node.accesskit_node();
    node.is_disabled() || (node.is_read_only_supported() && node.is_read_only())
}

pub fn has_text(harness: &Harness<'static, AliciaApp>, text: &str) -> bool {
    harness.query_all_by_label_contains(text).next().is_some()
}

/// Opens `service`'s editor in a window of its own, clicking again if a click misses while
/// the table is being rebuilt.
pub fn open_in(harness: &mut Harness<'static, AliciaApp>, service: &str) {
    let deadline = Instant::now() + PATIENCE;
    loop {
        step_until(harness, "the service is listed", |h| {
            h.query_by_label(service).is_some()
        });
        harness.get_by_label(service).click();
        for _ in 0..10 {
            harness.step();
            if harness
                .state()
                .editor()
                .is_some_and(|e| e.service() == service)
            {
                // Drawn once more, so its form is in the tree.
                harness.step();
                harness.step();
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        assert!(Instant::now() < deadline, "the editor of {service} opens");
    }
}

/// Steps `harness` until `condition` holds.
pub fn step_until(
    harness: &mut Harness<'static, AliciaApp>,
    what: &str,
    condition: impl Fn(&Harness<'static, AliciaApp>) -> bool,
) {
    let deadline = Instant::now() + PATIENCE;
    loop {
        harness.step();
        if condition(harness) {
            return;
        }
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Every problem the accessibility tree shows now: a control that takes focus without a name,
/// two controls with the same name, a table cell that takes focus.
pub fn accessibility_problems(harness: &Harness<'static, AliciaApp>) -> Vec<String> {
    use egui::accesskit::{Action, Role};
    use egui_kittest::kittest::AccessKitNode;
    fn walk(node: AccessKitNode<'_>, names: &mut Vec<String>, problems: &mut Vec<String>) {
        let focusable = node.data().supports_action(Action::Focus);
        let name = node.label().filter(|l| !l.trim().is_empty());
        if focusable {
            match (&name, node.role()) {
                (None, Role::Cell | Role::GenericContainer) => {
                    problems.push(format!(
                        "a table cell or container takes focus ({:?})",
                        node.role()
                    ));
                }
                (None, role) => problems.push(format!("a {role:?} without a name")),
                (Some(name), _) => names.push(name.clone()),
            }
        }
        for child in node.children() {
            walk(child, names, problems);
        }
    }
    let mut names = Vec::new();
    let mut problems = Vec::new();
    walk(harness.root().accesskit_node(), &mut names, &mut problems);
    names.sort();
    for pair in names.windows(2) {
        if pair[0] == pair[1] {
            problems.push(format!("two controls named {:?}", pair[0]));
        }
    }
    problems.dedup();
    problems
}

/// The text field named `name` (its label is a node of the same name too).
pub fn text_field<'a>(
    harness: &'a Harness<'static, AliciaApp>,
    name: &'a str,
) -> egui_kittest::Node<'a> {
    harness
        .get_all_by_label(name)
        .find(|node| node.accesskit_node().role() == egui::accesskit::Role::TextInput)
        .unwrap_or_else(|| panic!("a text field named {name}"))
}
