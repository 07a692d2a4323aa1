//! Ctrl+K: one box that finds any service, device, topic or setting by name and goes there
//! (Enter or a click; ↑/↓ to choose; Esc to close).

use crate::widgets::a11y;
use egui::{Key, KeyboardShortcut, Modifiers, RichText, Ui};

/// Matches listed at most.
const SHOWN: usize = 12;

/// Where a match leads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Destination {
    /// A service's editor.
    Service(String),
    /// A device's details.
    Device(String),
    /// The monitor, filtered on topics with these words.
    Topic(String),
    /// The Settings tab.
    Settings,
    /// The Server tab.
    Server,
}

/// One thing the palette can find.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    /// What is shown and searched.
    pub title: String,
    /// What kind of thing it is ("service", "device", "setting").
    pub kind: &'static str,
    /// Where it leads.
    pub to: Destination,
}

/// The settings the palette finds, and their tab.
pub fn setting_items() -> Vec<Item> {
    let settings = [
        "Broker URL",
        "Broker user name and password",
        "CA file (mqtts)",
        "Test connection",
        "Role at start (fleet)",
        "Theme",
        "UI scale",
        "Kiosk PIN",
        "Backup and restore",
        "Export configs",
        "Import configs",
    ]
    .map(|title| (title, Destination::Settings));
    let server = [
        "REST server (remote access)",
        "Who may connect",
        "Access token",
        "Port of the REST server",
        "Web page allowed to connect (CORS)",
    ]
    .map(|title| (title, Destination::Server));
    settings
        .into_iter()
        .chain(server)
        .map(|(title, to)| Item {
            title: title.to_owned(),
            kind: "setting",
            to,
        })
        .collect()
}

/// The palette's state.
#[derive(Debug, Default)]
pub struct Palette {
    open: bool,
    query: String,
    chosen: usize,
    focus: bool,
}

impl Palette {
    /// Opens it on Ctrl+K (⌘K).
    pub fn shortcut(&mut self, ui: &Ui) {
        let shortcut = KeyboardShortcut::new(Modifiers::COMMAND, Key::K);
        if ui.input_mut(|i| i.consume_shortcut(&shortcut)) {
            self.open();
        }
    }

    /// Opens it, empty.
    pub fn open(&mut self) {
        self.open = true;
        self.query.clear();
        self.chosen = 0;
        self.focus = true;
    }

    /// True while it is shown.
    pub fn is_open(&self) -> bool {
        self.open
    }

    /// Draws it over the window when open; returns where to go.
    pub fn ui(&mut self, ctx: &egui::Context, items: &[Item]) -> Option<Destination> {
        if !self.open {
            return None;
        }
        let mut found = matches(items, &self.query);
        if !self.query.trim().is_empty() {
            found.push(Item {
                title: format!("Messages on topics with \"{}\"", self.query.trim()),
                kind: "topic",
                to: Destination::Topic(self.query.trim().to_owned()),
            });
        }
        let (down, up, enter, escape) = ctx.input_mut(|i| {
            (
                i.consume_key(Modifiers::NONE, Key::ArrowDown),
                i.consume_key(Modifiers::NONE, Key::ArrowUp),
                i.consume_key(Modifiers::NONE, Key::Enter),
                i.consume_key(Modifiers::NONE, Key::Escape),
            )
        });
        if down {
            self.chosen = (self.chosen + 1).min(found.len().saturating_sub(1));
        }
        if up {
            self.chosen = self.chosen.saturating_sub(1);
        }
        let mut go = enter
            .then(|| found.get(self.chosen).map(|i| i.to.clone()))
            .flatten();
        // A window at the top, over the panels (no backdrop: a click elsewhere closes it).
        let window = egui::Window::new("Find anything")
            .id(egui::Id::NULL.with("find-anything"))
            .title_bar(false)
            .resizable(false)
            .collapsible(false)
            .anchor(egui::Align2::CENTER_TOP, [0.0, 80.0])
            .fixed_size([520.0, 0.0])
            .show(ctx, |ui| {
                let field = ui.add(
                    egui::TextEdit::singleline(&mut self.query)
                        .hint_text("a service, device, topic or setting")
                        .desired_width(f32::INFINITY),
                );
                a11y::set_name(ui, field.id, "Find anything");
                if std::mem::take(&mut self.focus) {
                    field.request_focus();
                }
                if field.changed() {
                    self.chosen = 0;
                }
                ui.separator();
                if found.is_empty() {
                    ui.label(RichText::new("Nothing by that name.").weak());
                }
                for (index, item) in found.iter().enumerate() {
                    let text = format!("{}  ·  {}", item.title, item.kind);
                    let button = ui.add(egui::Button::selectable(index == self.chosen, text));
                    a11y::set_name(ui, button.id, format!("Go to {} {}", item.kind, item.title));
                    if button.clicked() {
                        go = Some(item.to.clone());
                    }
                }
            });
        let clicked_elsewhere = window.is_some_and(|w| {
            w.response.ctx.input(|i| i.pointer.any_click()) && !w.response.contains_pointer()
        });
        if go.is_some() || escape || clicked_elsewhere {
            self.open = false;
        }
        go
    }
}

/// The items whose title holds every word of `query` (case aside), those starting with it
/// first, at most [`SHOWN`].
pub fn matches(items: &[Item], query: &str) -> Vec<Item> {
    let words: Vec<String> = query.split_whitespace().map(str::to_lowercase).collect();
    let mut found: Vec<(bool, &Item)> = items
        .iter()
        .filter_map(|item| {
            let title = item.title.to_lowercase();
            words.iter().all(|w| title.contains(w.as_str())).then(|| {
                (
                    !words.first().is_some_and(|w| title.starts_with(w.as_str())),
                    item,
                )
            })
        })
        .collect();
    found.sort_by_key(|(later, _)| *later);
    found
        .into_iter()
        .take(SHOWN)
        .map(|(_, i)| i.clone())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_word_must_match_and_prefixes_come_first() {
        let mut items = setting_items();
        items.push(Item {
            title: "kitchen-light".to_owned(),
            kind: "device",
            to: Destination::Device("kitchen-light".to_owned()),
        });
        assert_eq!(matches(&items, "kitchen")[0].kind, "device");
        let token = matches(&items, "token");
        assert_eq!(token[0].to, Destination::Server);
        assert!(
            matches(&items, "kiosk pin")
                .iter()
                .any(|i| i.title == "Kiosk PIN")
        );
        assert!(matches(&items, "nothing-like-it").is_empty());
        assert_eq!(matches(&items, "").len(), SHOWN);
    }
}
