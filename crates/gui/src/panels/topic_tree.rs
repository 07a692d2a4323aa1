//! The monitor's topic tree (MQTT Explorer–style): every topic seen as a tree with message
//! counts and rates per branch, search over topics and payloads, and for the selected topic
//! its last value (retained marked), its recent history with each message's change against
//! the one before, and a plot of its numbers. **Clear retained** on a topic or a branch asks
//! the broker which topics there hold a retained message, previews exactly those, and on
//! confirmation publishes an empty retained payload to each — refused for the manager's own
//! topics (CONTRACT §6), which the preview names apart.

use crate::clock::local_time_of_day;
use crate::models::topic_tree::{NodeId, TopicTree};
use crate::platform::Link;
use crate::tasks::Task;
use crate::view::View;
use crate::widgets::a11y;
use crate::widgets::json::json_view;
use crate::widgets::notice::{Notice, notice_ui};
use crate::widgets::style::{destructive_button, section_heading};
use alicia_model::config::diff;
use alicia_model::messages::MessageRecord;
use alicia_model::topics::Topics;
use egui::{RichText, Ui};
use serde_json::Value;

/// Most numeric fields plotted for one topic.
const PLOTTED_FIELDS: usize = 4;

/// What a Clear retained would do, shown before it is done.
#[derive(Debug, Clone, PartialEq, Eq)]
struct ClearPreview {
    /// The branch or topic it was asked for.
    topic: String,
    /// Retained topics it clears.
    clears: Vec<String>,
    /// Retained topics it may not clear: the manager's own.
    refused: Vec<String>,
}

/// The broker's answer: the retained topics under a filter, or why not.
type Retained = Result<Vec<String>, String>;

/// The topic tree's own state.
#[derive(Default)]
pub struct TopicTreePanel {
    selected: Option<NodeId>,
    search: String,
    preview: Option<ClearPreview>,
    /// The broker being asked what is retained under a topic: the topic and the answer.
    probe: Option<(String, Task<Retained>)>,
    /// The retained topics being cleared, each with its answer.
    clearing: Vec<(String, Task<Result<(), String>>)>,
    message: Option<Notice>,
}

impl std::fmt::Debug for TopicTreePanel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TopicTreePanel")
            .field("selected", &self.selected)
            .finish_non_exhaustive()
    }
}

impl TopicTreePanel {
    /// Draws the tree and the selected topic.
    pub fn ui(
        &mut self,
        ui: &mut Ui,
        link: &Link,
        manager: &View,
        tree: &mut TopicTree,
        read_only: bool,
    ) {
        if read_only {
            // Locked: a confirmation opened before the lock is gone.
            self.preview = None;
        }
        self.take_probe(ui, manager);
        self.take_cleared(ui);
        tree.tick(crate::clock::instant());
        ui.horizontal(|ui| {
            let label = ui.label("Search");
            let field = ui
                .add(
                    egui::TextEdit::singleline(&mut self.search)
                        .hint_text("topics and payloads")
                        .desired_width(240.0),
                )
                .labelled_by(label.id);
            a11y::find_shortcut(ui, &field);
            tree.set_search(self.search.trim());
            ui.label(format!(
                "{} topics · {} messages",
                tree.topics(),
                tree.total()
            ));
            if tree.dropped_topics > 0 {
                ui.label(
                    RichText::new(format!(
                        "{} new topics not kept (the tree is full)",
                        tree.dropped_topics
                    ))
                    .color(ui.visuals().warn_fg_color),
                );
            }
        });
        let narrow = crate::widgets::reflow::is_narrow(ui);
        if narrow && self.selected.is_some() {
            if crate::widgets::reflow::back_button(ui, "All topics") {
                self.selected = None;
            }
            self.details_ui(ui, link, tree, read_only);
            return;
        }
        if narrow {
            self.tree_ui(ui, tree);
            return;
        }
        ui.columns(2, |columns| {
            self.tree_ui(&mut columns[0], tree);
            egui::ScrollArea::vertical()
                .id_salt("topic-details")
                .auto_shrink([false, false])
                .show(&mut columns[1], |ui| {
                    self.details_ui(ui, link, tree, read_only);
                });
        });
    }

    /// The rows on screen only.
    fn tree_ui(&mut self, ui: &mut Ui, tree: &mut TopicTree) {
        let row_height = ui.spacing().interact_size.y.max(20.0);
        let rows = tree.rows().to_vec();
        let mut toggle = None;
        let mut select = None;
        egui::ScrollArea::vertical()
            .id_salt("topic-tree")
            .auto_shrink([false, false])
            .show_rows(ui, row_height, rows.len(), |ui, range| {
                for row in &rows[range] {
                    let node = tree.node(row.node);
                    ui.horizontal(|ui| {
                        ui.add_space(f32::from(row.depth) * 16.0);
                        if node.children.is_empty() {
                            ui.add_space(ui.spacing().interact_size.y);
                        } else {
                            let open = tree.is_expanded(row.node);
                            let arrow = ui.add(
                                egui::Button::new(if open { "⬇" } else { "➡" })
                                    .frame(false)
                                    .min_size(egui::vec2(ui.spacing().interact_size.y, 0.0)),
                            );
                            let verb = if open { "Collapse" } else { "Expand" };
                            a11y::set_name(ui, arrow.id, format!("{verb} {}", node.topic));
                            if arrow.clicked() {
                                toggle = Some(row.node);
                            }
                        }
                        let picked = ui.selectable_label(
                            self.selected == Some(row.node),
                            RichText::new(&*node.name).monospace(),
                        );
                        a11y::set_name(ui, picked.id, format!("Topic {}", node.topic));
                        if picked.clicked() {
                            select = Some(row.node);
                        }
                        let mut facts = format!("{} msg", node.count);
                        if node.rate >= 0.05 {
                            facts.push_str(&format!(" · {:.1}/s", node.rate));
                        }
                        ui.label(RichText::new(facts).weak());
                        if node.retained {
                            ui.label(RichText::new("retained").italics());
                        }
                        if let Some(last) = node.last()
                            && node.children.is_empty()
                        {
                            let text: String = last.payload_text().chars().take(60).collect();
                            ui.add(
                                egui::Label::new(RichText::new(text).monospace().weak()).truncate(),
                            );
                        }
                    });
                }
            });
        if let Some(id) = toggle {
            tree.toggle(id);
        }
        if let Some(id) = select {
            self.selected = Some(id);
            self.preview = None;
        }
    }

    fn details_ui(&mut self, ui: &mut Ui, link: &Link, tree: &TopicTree, read_only: bool) {
        let Some(id) = self.selected else {
            ui.label(RichText::new("Select a topic to see its messages.").weak());
            notice_ui(ui, self.message.as_ref());
            return;
        };
        let node = tree.node(id);
        section_heading(ui, node.topic.to_string());
        ui.label(format!(
            "{} messages here and below · {:.1}/s{}",
            node.count,
            node.rate,
            if node.retained { " · retained" } else { "" }
        ));
        self.clear_ui(ui, link, tree, id, read_only);
        let Some(last) = node.last() else {
            return;
        };
        // Each kept message's JSON, parsed once for this frame's value, plot and history.
        let history: Vec<(&MessageRecord, Value)> =
            node.history.iter().map(|r| (&**r, r.data())).collect();
        ui.separator();
        ui.label(RichText::new("Last value").strong());
        let last_value = history.last().map_or(&Value::Null, |(_, value)| value);
        value_ui(ui, "topic-last", last, last_value);
        plot_ui(ui, &history);
        ui.separator();
        ui.label(RichText::new("History, newest first").strong());
        for (i, entry) in history.iter().enumerate().rev() {
            let record = entry.0;
            let time =
                local_time_of_day(&record.timestamp).unwrap_or_else(|| record.timestamp.clone());
            let before = i.checked_sub(1).map(|j| &history[j]);
            ui.horizontal_wrapped(|ui| {
                ui.label(RichText::new(time).monospace());
                ui.label(change_text(before, entry));
            });
        }
    }

    /// The broker's list of retained topics arrived: the preview.
    fn take_probe(&mut self, ui: &Ui, manager: &View) {
        let Some((topic, task)) = self.probe.as_mut() else {
            return;
        };
        let Some(result) = task.take() else {
            ui.ctx()
                .request_repaint_after(std::time::Duration::from_millis(100));
            return;
        };
        let topic = std::mem::take(topic);
        self.probe = None;
        match result {
            Ok(retained) => {
                let topics = Topics::new(&manager.system.topic_prefix);
                let owned = |t: &String| topics.is_owned_by_manager(t);
                let (refused, clears): (Vec<String>, Vec<String>) =
                    retained.into_iter().partition(owned);
                self.preview = Some(ClearPreview {
                    topic,
                    clears,
                    refused,
                });
            }
            Err(error) => {
                self.message = Some(Notice::failed(format!(
                    "Could not ask the broker what is retained: {error}"
                )));
            }
        }
    }

    /// Clear retained: ask the broker, preview, confirm.
    fn clear_ui(
        &mut self,
        ui: &mut Ui,
        link: &Link,
        tree: &TopicTree,
        id: NodeId,
        read_only: bool,
    ) {
        let topic = tree.node(id).topic.to_string();
        match &self.preview {
            Some(preview) if preview.topic == topic => {
                let preview = preview.clone();
                egui::Frame::group(ui.style()).show(ui, |ui| {
                    if preview.clears.is_empty() {
                        ui.label("Nothing here can be cleared.");
                    } else {
                        ui.label(format!(
                            "This clears {} retained topic(s) on the broker:",
                            preview.clears.len()
                        ));
                        for topic in &preview.clears {
                            ui.label(RichText::new(topic).monospace());
                        }
                    }
                    for topic in &preview.refused {
                        ui.label(
                            RichText::new(format!(
                                "{topic}: not cleared — the manager's own topic (change it through the manager)"
                            ))
                            .color(ui.visuals().warn_fg_color),
                        );
                    }
                    ui.horizontal(|ui| {
                        let confirm = ui.add_enabled(
                            !read_only && !preview.clears.is_empty(),
                            destructive_button(ui, "Clear them"),
                        );
                        a11y::set_name(ui, confirm.id, "Confirm clear retained");
                        if confirm.clicked() {
                            self.clear(link, &preview);
                        }
                        if ui.button("Cancel").clicked() {
                            self.preview = None;
                        }
                    });
                });
            }
            _ => {
                ui.horizontal(|ui| {
                    let probing = self.probe.is_some();
                    let ask = ui
                        .add_enabled(!read_only && !probing, egui::Button::new("Clear retained…"));
                    a11y::set_name(ui, ask.id, format!("Clear retained under {topic}"));
                    if probing {
                        ui.spinner();
                        ui.label("asking the broker what is retained here…");
                    }
                    if ask.clicked() {
                        let filters = vec![topic.clone(), format!("{topic}/#")];
                        self.message = None;
                        let mut task = Task::default();
                        task.start(link.backend.retained_topics(filters));
                        self.probe = Some((topic.clone(), task));
                    }
                });
            }
        }
        notice_ui(ui, self.message.as_ref());
    }

    /// Publishes an empty retained payload to each previewed topic (through the same check as
    /// the publish form: never one of the manager's own).
    fn clear(&mut self, link: &Link, preview: &ClearPreview) {
        self.clearing = preview
            .clears
            .iter()
            .map(|topic| {
                let mut task = Task::default();
                task.start(link.backend.publish(topic, Vec::new(), 1, true));
                (topic.clone(), task)
            })
            .collect();
        self.preview = None;
    }

    /// Once every clear is answered: what was cleared and what was not.
    fn take_cleared(&mut self, ui: &Ui) {
        if self.clearing.is_empty() {
            return;
        }
        if self.clearing.iter().any(|(_, task)| task.running()) {
            ui.ctx()
                .request_repaint_after(std::time::Duration::from_millis(100));
            return;
        }
        let mut cleared = 0;
        let mut failed = Vec::new();
        for (topic, mut task) in std::mem::take(&mut self.clearing) {
            match task.take() {
                Some(Ok(())) => cleared += 1,
                Some(Err(error)) => failed.push(format!("{topic}: {error}")),
                None => failed.push(format!("{topic}: no answer")),
            }
        }
        self.message = Some(if failed.is_empty() {
            Notice::done(format!("Cleared {cleared} retained topic(s)."))
        } else {
            Notice::failed(format!(
                "Cleared {cleared}; not cleared: {}",
                failed.join("; ")
            ))
        });
    }
}

/// A message's value: JSON pretty, else its text.
fn value_ui(ui: &mut Ui, id: &str, record: &MessageRecord, value: &Value) {
    if record.size == 0 {
        ui.label(RichText::new("(empty: clears a retained message)").italics());
    } else if record.has_data() {
        json_view(ui, id, "The last value (JSON)", value);
    } else {
        ui.label(RichText::new(record.payload_text()).monospace());
    }
}

/// What changed from `before` to `record`, in a line.
fn change_text(
    before: Option<&(&MessageRecord, Value)>,
    (record, now): &(&MessageRecord, Value),
) -> String {
    let Some((before, was)) = before else {
        let text: String = record.payload_text().chars().take(80).collect();
        return text;
    };
    if before.kept == record.kept {
        return "same as before".to_owned();
    }
    if was.is_object() && now.is_object() {
        let changes = diff(was, now);
        let shown: Vec<String> = changes
            .iter()
            .take(4)
            .map(|c| {
                let value = |v: &Option<Value>| {
                    v.as_ref().map_or_else(|| "—".to_owned(), |v| v.to_string())
                };
                format!("{}: {} -> {}", c.pointer, value(&c.before), value(&c.after))
            })
            .collect();
        let more = changes.len().saturating_sub(4);
        return if more > 0 {
            format!("{} (and {more} more)", shown.join(", "))
        } else {
            shown.join(", ")
        };
    }
    let text: String = record.payload_text().chars().take(80).collect();
    format!("now {text}")
}

/// The numbers of a message: itself when it is one, else its numeric fields (one level deep).
fn numbers(value: &Value) -> Vec<(String, f64)> {
    match value {
        Value::Number(n) => n
            .as_f64()
            .map(|v| vec![(String::new(), v)])
            .unwrap_or_default(),
        Value::Object(fields) => fields
            .iter()
            .filter_map(|(k, v)| Some((k.clone(), v.as_f64()?)))
            .take(PLOTTED_FIELDS)
            .collect(),
        _ => Vec::new(),
    }
}

/// A small line per numeric field over the history (nothing when no field is numeric).
fn plot_ui(ui: &mut Ui, history: &[(&MessageRecord, Value)]) {
    let Some((_, last)) = history.last() else {
        return;
    };
    let fields = numbers(last);
    if fields.is_empty() || history.len() < 2 {
        return;
    }
    let values: Vec<Vec<(String, f64)>> = history.iter().map(|(_, v)| numbers(v)).collect();
    ui.label(RichText::new("Over the last messages").strong());
    for (field, _) in fields {
        let points: Vec<f64> = values
            .iter()
            .filter_map(|numbers| numbers.iter().find(|(k, _)| *k == field).map(|(_, v)| *v))
            .collect();
        let (low, high) = points
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
                (lo.min(*v), hi.max(*v))
            });
        ui.horizontal(|ui| {
            let name = if field.is_empty() { "value" } else { &field };
            ui.label(RichText::new(format!("{name}: {low} – {high}")).monospace());
            let (rect, response) =
                ui.allocate_exact_size(egui::vec2(180.0, 36.0), egui::Sense::hover());
            a11y::set_name(
                ui,
                response.id,
                format!("Plot of {name}, from {low} to {high}"),
            );
            let span = (high - low).max(f64::EPSILON);
            let step = rect.width() / (points.len().max(2) - 1) as f32;
            let line: Vec<egui::Pos2> = points
                .iter()
                .enumerate()
                .map(|(i, v)| {
                    let y = ((v - low) / span) as f32;
                    egui::pos2(
                        rect.left() + step * i as f32,
                        rect.bottom() - y * rect.height(),
                    )
                })
                .collect();
            let stroke = egui::Stroke::new(1.5, ui.visuals().selection.stroke.color);
            ui.painter().rect_stroke(
                rect,
                2.0,
                egui::Stroke::new(1.0, ui.visuals().weak_text_color()),
                egui::StrokeKind::Inside,
            );
            ui.painter().add(egui::Shape::line(line, stroke));
        });
    }
}
