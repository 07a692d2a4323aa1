//! The monitor's topic tree, MQTT Explorer–style: every topic the monitor has seen, as a tree
//! of levels with a message count and a rate per branch, and per leaf its last message (marked
//! when the broker delivered it retained) and a short history. Bounded: at most `limit` topics
//! (further new topics are counted, not kept) and [`HISTORY`] messages per leaf, shared with
//! the message ring (the records are reference-counted, never copied).
//!
//! Nodes live in one arena; a level is found among its parent's children (kept sorted by name)
//! by a binary search, without allocating, so a message costs a search per level of its topic.
//! Messages that leave a topic's history are handed back to the caller to be freed off the UI
//! thread. The rows on screen are a flat list of the expanded nodes, rebuilt only when the
//! tree's shape, what is expanded, or the search changes.

use alicia_model::messages::MessageRecord;
use std::collections::{HashSet, VecDeque};
use std::sync::Arc;
use web_time::Instant;

/// Messages kept per topic.
pub const HISTORY: usize = 16;
/// Topics kept at most unless the settings say otherwise.
pub const DEFAULT_TOPIC_LIMIT: usize = 50_000;
/// How often a search over payloads is done again while the tree changes.
const SEARCH_REFRESH: std::time::Duration = std::time::Duration::from_millis(500);

/// A node's index in the arena.
pub type NodeId = u32;

/// The root (no level).
pub const ROOT: NodeId = 0;

/// One level of a topic.
#[derive(Debug)]
pub struct Node {
    /// The level's name.
    pub name: Box<str>,
    /// The whole topic up to and including this level.
    pub topic: Box<str>,
    /// Its parent (the root is its own).
    pub parent: NodeId,
    /// Its children, by name.
    pub children: Vec<NodeId>,
    /// Messages on this topic and every topic below it.
    pub count: u64,
    /// Those messages per second, over the last second.
    pub rate: f32,
    count_at_tick: u64,
    /// The messages on this exact topic, oldest first (empty for a pure branch).
    pub history: VecDeque<Arc<MessageRecord>>,
    /// The broker holds a retained message here (it delivered one retained, and no empty
    /// payload has cleared it since).
    pub retained: bool,
}

impl Node {
    /// The last message on this exact topic.
    pub fn last(&self) -> Option<&Arc<MessageRecord>> {
        self.history.back()
    }

    /// True when messages arrived on this exact topic.
    pub fn is_topic(&self) -> bool {
        !self.history.is_empty()
    }
}

/// A row on screen: a node and its depth.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Row {
    /// The node.
    pub node: NodeId,
    /// 0 for a first level.
    pub depth: u16,
}

/// The tree.
#[derive(Debug)]
pub struct TopicTree {
    nodes: Vec<Node>,
    topics: usize,
    limit: usize,
    /// New topics not kept because the tree was full.
    pub dropped_topics: u64,
    expanded: HashSet<NodeId>,
    search: String,
    rows: Vec<Row>,
    rows_dirty: bool,
    searched_at: Option<Instant>,
    ticked_at: Instant,
    /// Messages that left a history, to be freed off the UI thread.
    retired: Vec<Arc<MessageRecord>>,
}

impl TopicTree {
    /// An empty tree keeping at most `limit` topics.
    pub fn new(limit: usize) -> Self {
        let root = Node {
            name: "".into(),
            topic: "".into(),
            parent: ROOT,
            children: Vec::new(),
            count: 0,
            rate: 0.0,
            count_at_tick: 0,
            history: VecDeque::new(),
            retained: false,
        };
        Self {
            nodes: vec![root],
            topics: 0,
            limit: limit.max(1),
            dropped_topics: 0,
            expanded: HashSet::new(),
            search: String::new(),
            rows: Vec::new(),
            rows_dirty: true,
            searched_at: None,
            ticked_at: crate::clock::instant(),
            retired: Vec::new(),
        }
    }

    /// A node.
    pub fn node(&self, id: NodeId) -> &Node {
        &self.nodes[id as usize]
    }

    /// Topics kept.
    pub fn topics(&self) -> usize {
        self.topics
    }

    /// Messages seen in all.
    pub fn total(&self) -> u64 {
        self.nodes[0].count
    }

    /// Takes a message in.
    pub fn push(&mut self, record: &Arc<MessageRecord>) {
        let Some(leaf) = self.leaf_for(&record.topic) else {
            self.dropped_topics += 1;
            return;
        };
        let mut at = leaf;
        loop {
            self.nodes[at as usize].count += 1;
            if at == ROOT {
                break;
            }
            at = self.nodes[at as usize].parent;
        }
        let node = &mut self.nodes[leaf as usize];
        if node.history.is_empty() {
            self.topics += 1;
        }
        if record.size == 0 {
            // An empty payload clears a retained message.
            node.retained = false;
        } else if record.retained {
            node.retained = true;
        }
        node.history.push_back(Arc::clone(record));
        if node.history.len() > HISTORY {
            self.retired.extend(node.history.pop_front());
        }
    }

    /// The messages that left a topic's history since the last call, for the caller to free
    /// elsewhere.
    pub fn take_retired(&mut self) -> Vec<Arc<MessageRecord>> {
        std::mem::take(&mut self.retired)
    }

    /// The child of `parent` named `name`, or where it would go.
    fn child(&self, parent: NodeId, name: &str) -> Result<NodeId, usize> {
        let children = &self.nodes[parent as usize].children;
        children
            .binary_search_by(|&c| (*self.nodes[c as usize].name).cmp(name))
            .map(|at| children[at])
    }

    /// The node of `topic`, made (with its missing levels) when the tree has room for one more
    /// topic; `None` when it is full.
    fn leaf_for(&mut self, topic: &str) -> Option<NodeId> {
        let mut at = ROOT;
        let mut levels = topic.split('/').peekable();
        let mut walked = 0;
        while let Some(level) = levels.next() {
            walked += level.len() + usize::from(walked > 0);
            at = match self.child(at, level) {
                Ok(child) => child,
                Err(position) => {
                    if self.topics >= self.limit {
                        return None;
                    }
                    self.add_child(at, position, level, &topic[..walked])
                }
            };
            if levels.peek().is_none() {
                return Some(at);
            }
        }
        Some(at)
    }

    fn add_child(&mut self, parent: NodeId, position: usize, name: &str, topic: &str) -> NodeId {
        let id = self.nodes.len() as NodeId;
        self.nodes.push(Node {
            name: name.into(),
            topic: topic.into(),
            parent,
            children: Vec::new(),
            count: 0,
            rate: 0.0,
            count_at_tick: 0,
            history: VecDeque::new(),
            retained: false,
        });
        self.nodes[parent as usize].children.insert(position, id);
        self.rows_dirty = true;
        id
    }

    /// Works the rates out again when a second has passed.
    pub fn tick(&mut self, now: Instant) {
        let elapsed = now.duration_since(self.ticked_at).as_secs_f32();
        if elapsed < 1.0 {
            return;
        }
        for node in &mut self.nodes {
            node.rate = (node.count - node.count_at_tick) as f32 / elapsed;
            node.count_at_tick = node.count;
        }
        self.ticked_at = now;
    }

    /// True when `id`'s children are shown.
    pub fn is_expanded(&self, id: NodeId) -> bool {
        self.expanded.contains(&id) || !self.search.is_empty()
    }

    /// Shows or hides `id`'s children.
    pub fn toggle(&mut self, id: NodeId) {
        if !self.expanded.remove(&id) {
            self.expanded.insert(id);
        }
        self.rows_dirty = true;
    }

    /// Expands every level above `id` (to show it).
    pub fn reveal(&mut self, id: NodeId) {
        let mut at = self.nodes[id as usize].parent;
        while at != ROOT {
            self.expanded.insert(at);
            at = self.nodes[at as usize].parent;
        }
        self.rows_dirty = true;
    }

    /// The search: a substring of topics and payloads (empty: none).
    pub fn search(&self) -> &str {
        &self.search
    }

    /// Searches for `text` in topics and last payloads (case-insensitive).
    pub fn set_search(&mut self, text: &str) {
        if self.search != text {
            self.search = text.to_owned();
            self.rows_dirty = true;
        }
    }

    /// The rows on screen, rebuilt when needed.
    pub fn rows(&mut self) -> &[Row] {
        let searching = !self.search.is_empty();
        let stale_search = searching
            && self
                .searched_at
                .is_none_or(|at| at.elapsed() >= SEARCH_REFRESH);
        if self.rows_dirty || stale_search {
            self.rows = if searching {
                self.searched_at = Some(crate::clock::instant());
                self.search_rows()
            } else {
                self.expanded_rows()
            };
            self.rows_dirty = false;
        }
        &self.rows
    }

    fn expanded_rows(&self) -> Vec<Row> {
        let mut rows = Vec::new();
        let mut stack: Vec<(NodeId, u16)> = self.nodes[0]
            .children
            .iter()
            .rev()
            .map(|&c| (c, 0))
            .collect();
        while let Some((id, depth)) = stack.pop() {
            rows.push(Row { node: id, depth });
            if self.expanded.contains(&id) {
                stack.extend(
                    self.nodes[id as usize]
                        .children
                        .iter()
                        .rev()
                        .map(|&c| (c, depth + 1)),
                );
            }
        }
        rows
    }

    /// Every topic whose name or last payload holds the search, with the levels above it.
    fn search_rows(&self) -> Vec<Row> {
        let needle = self.search.to_lowercase();
        let mut keep = vec![false; self.nodes.len()];
        for (id, node) in self.nodes.iter().enumerate().skip(1) {
            let hit = node.topic.to_lowercase().contains(&needle)
                || node
                    .last()
                    .is_some_and(|last| last.payload_text().to_lowercase().contains(&needle));
            if hit {
                let mut at = id as NodeId;
                while at != ROOT && !keep[at as usize] {
                    keep[at as usize] = true;
                    at = self.nodes[at as usize].parent;
                }
            }
        }
        let mut rows = Vec::new();
        let mut stack: Vec<(NodeId, u16)> = self.nodes[0]
            .children
            .iter()
            .rev()
            .filter(|&&c| keep[c as usize])
            .map(|&c| (c, 0))
            .collect();
        while let Some((id, depth)) = stack.pop() {
            rows.push(Row { node: id, depth });
            stack.extend(
                self.nodes[id as usize]
                    .children
                    .iter()
                    .rev()
                    .filter(|&&c| keep[c as usize])
                    .map(|&c| (c, depth + 1)),
            );
        }
        rows
    }

    /// The node of exactly `topic`, if seen.
    pub fn find(&self, topic: &str) -> Option<NodeId> {
        let mut at = ROOT;
        for level in topic.split('/') {
            at = self.child(at, level).ok()?;
        }
        Some(at)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alicia_model::messages::KeptPayload;

    fn record(topic: &str, payload: &str, retained: bool) -> Arc<MessageRecord> {
        let is_json = serde_json::from_str::<serde_json::Value>(payload).is_ok();
        Arc::new(MessageRecord::new(
            topic,
            "2026-11-29T10:00:00.000Z".to_owned(),
            KeptPayload::payload(payload.as_bytes(), is_json),
            None,
            retained,
            payload.len(),
        ))
    }

    #[test]
    fn topics_become_a_tree_with_counts_per_branch() {
        let mut tree = TopicTree::new(100);
        tree.push(&record(
            "alicia/device/lamp-1/state",
            r#"{"on":true}"#,
            true,
        ));
        tree.push(&record(
            "alicia/device/lamp-1/state",
            r#"{"on":false}"#,
            false,
        ));
        tree.push(&record("alicia/device/plug/state", "{}", false));
        tree.push(&record(
            "alicia/system/health/stt",
            r#"{"status":"healthy"}"#,
            false,
        ));
        assert_eq!(tree.total(), 4);
        assert_eq!(tree.topics(), 3);
        let device = tree.find("alicia/device").unwrap();
        assert_eq!(tree.node(device).count, 3);
        let lamp = tree.find("alicia/device/lamp-1/state").unwrap();
        assert_eq!(tree.node(lamp).history.len(), 2);
        assert!(tree.node(lamp).retained, "delivered retained once");
        let names: Vec<&str> = tree
            .node(tree.find("alicia").unwrap())
            .children
            .iter()
            .map(|&c| &*tree.node(c).name)
            .collect();
        assert_eq!(names, ["device", "system"], "sorted by name");
        assert_eq!(tree.rows().len(), 1, "only the first level, collapsed");
        tree.toggle(tree.find("alicia").unwrap());
        assert_eq!(tree.rows().len(), 3);
        tree.push(&record("alicia/device/lamp-1/state", "", false));
        assert!(!tree.node(lamp).retained, "an empty payload cleared it");
    }

    #[test]
    fn search_finds_payloads_and_the_tree_stays_bounded() {
        let mut tree = TopicTree::new(2);
        tree.push(&record("a/b", r#"{"room":"kitchen"}"#, false));
        tree.push(&record("a/c", r#"{"room":"den"}"#, false));
        tree.push(&record("a/d", "{}", false));
        assert_eq!(tree.topics(), 2);
        assert_eq!(tree.dropped_topics, 1);
        tree.set_search("KITCHEN");
        let rows: Vec<&str> = tree
            .rows()
            .to_vec()
            .iter()
            .map(|r| &*tree.node(r.node).topic)
            .collect();
        assert_eq!(rows, ["a", "a/b"]);
        let mut long = TopicTree::new(10);
        for i in 0..100 {
            long.push(&record("x", &i.to_string(), false));
        }
        assert_eq!(long.node(long.find("x").unwrap()).history.len(), HISTORY);
        assert_eq!(long.node(long.find("x").unwrap()).count, 100);
    }
}
