//! The message monitor's copy of recent MQTT messages and the part its topic filter shows.

use alicia_model::message_filter::MessageFilter;
use alicia_model::messages::MessageRecord;
use std::collections::VecDeque;
use std::sync::Arc;

/// The message monitor's ring and its filtered view.
#[derive(Debug)]
pub struct MessageList {
    all: VecDeque<Arc<MessageRecord>>,
    shown: VecDeque<Arc<MessageRecord>>,
    /// The search box's text: an MQTT topic filter, or words to find (empty: everything).
    pub filter: String,
    /// The text last applied, and the filter it reads as.
    applied: (String, MessageFilter),
    /// While paused, new messages are counted but not shown.
    pub paused: bool,
    /// Messages that arrived while paused.
    pub held_back: u64,
    capacity: usize,
    /// Messages that left the ring, to be freed off the UI thread.
    retired: Vec<Arc<MessageRecord>>,
}

impl MessageList {
    /// A monitor keeping `capacity` messages.
    pub fn new(capacity: usize) -> Self {
        Self {
            all: VecDeque::new(),
            shown: VecDeque::new(),
            filter: String::new(),
            applied: (String::new(), MessageFilter::All),
            paused: false,
            held_back: 0,
            capacity: capacity.max(1),
            retired: Vec::new(),
        }
    }

    /// Replaces everything with the messages the manager keeps (newest first), at most
    /// `capacity`.
    pub fn replace(&mut self, mut recent: Vec<Arc<MessageRecord>>, capacity: usize) {
        self.capacity = capacity.max(1);
        recent.truncate(self.capacity);
        recent.reverse();
        self.all = recent.into();
        self.rebuild();
    }

    /// A message arrived.
    pub fn push(&mut self, record: Arc<MessageRecord>) {
        if self.paused {
            self.held_back += 1;
            return;
        }
        if self.all.len() == self.capacity {
            self.retired.extend(self.all.pop_front());
        }
        if self.applied.1.matches(&record) {
            if self.shown.len() == self.capacity {
                self.retired.extend(self.shown.pop_front());
            }
            self.shown.push_back(Arc::clone(&record));
        }
        self.all.push_back(record);
    }

    /// The messages that left the ring since the last call, for the caller to free elsewhere.
    pub fn take_retired(&mut self) -> Vec<Arc<MessageRecord>> {
        std::mem::take(&mut self.retired)
    }

    /// Newest first: the `index`-th message shown.
    pub fn newest(&mut self, index: usize) -> Option<&Arc<MessageRecord>> {
        self.refilter();
        let len = self.shown.len();
        (index < len).then(|| &self.shown[len - 1 - index])
    }

    /// How many messages the filter shows.
    pub fn len(&mut self) -> usize {
        self.refilter();
        self.shown.len()
    }

    /// True when nothing is shown.
    pub fn is_empty(&mut self) -> bool {
        self.len() == 0
    }

    /// Messages held in all.
    pub fn total(&self) -> usize {
        self.all.len()
    }

    /// True when the filter is a valid MQTT filter, words to search for, or empty
    /// (everything).
    pub fn filter_is_valid(&self) -> bool {
        MessageFilter::search(&self.filter).is_ok()
    }

    /// Reads the search box again when it changed (the model's search rule: `+` or `#` make
    /// a topic filter, other text words to find); an invalid filter keeps the last valid one.
    fn refilter(&mut self) {
        if self.applied.0 == self.filter {
            return;
        }
        if let Ok(filter) = MessageFilter::search(&self.filter) {
            self.applied = (self.filter.clone(), filter);
            self.rebuild();
        }
    }

    fn rebuild(&mut self) {
        let filter = &self.applied.1;
        self.shown = self
            .all
            .iter()
            .filter(|r| filter.matches(r))
            .cloned()
            .collect();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alicia_model::messages::KeptPayload;

    /// An empty, valid record on `topic`.
    fn message(topic: &str) -> Arc<MessageRecord> {
        Arc::new(MessageRecord::new(
            topic,
            String::new(),
            KeptPayload::text(""),
            None,
            false,
            0,
        ))
    }

    #[test]
    fn the_monitor_filters_with_wildcards_and_holds_back_while_paused() {
        let mut view = MessageList::new(3);
        for topic in [
            "alicia/device/a/state",
            "alicia/system/health/x",
            "alicia/device/b/state",
        ] {
            view.push(message(topic));
        }
        view.filter = "alicia/device/+/state".to_owned();
        assert_eq!(view.len(), 2);
        assert_eq!(view.newest(0).unwrap().topic, "alicia/device/b/state");
        view.push(message("alicia/device/c/state"));
        assert_eq!(
            (view.len(), view.total()),
            (3, 3),
            "the oldest left the ring"
        );
        let retired = view.take_retired();
        assert_eq!(
            retired[0].topic, "alicia/device/a/state",
            "handed over to be freed"
        );
        assert!(view.take_retired().is_empty());
        view.paused = true;
        view.push(message("alicia/device/d/state"));
        assert_eq!((view.len(), view.held_back), (3, 1));
        view.filter = "alicia/#/x".to_owned();
        assert!(!view.filter_is_valid());
        assert_eq!(view.len(), 3, "an invalid filter keeps the last valid one");
        view.filter = "no such words".to_owned();
        assert!(view.filter_is_valid(), "words are a search");
        view.paused = false;
        assert_eq!(view.len(), 0);
        view.filter = "C/STATE".to_owned();
        assert_eq!(view.len(), 1, "found in the topic, in any case");
    }
}
