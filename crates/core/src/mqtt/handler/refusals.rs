//! Messages the handler refuses before applying them — too large, too dense, unparsable, a
//! config topic it does not own — each logged and answered where an answer is due.

use super::*;

impl MessageHandler {
    /// A change set larger than the ring keeps as data (CONTRACT §10): never parsed here —
    /// the message log shows that it came (its text may hold secrets, and masking it would
    /// mean parsing it), and the authority reads it off the connection task.
    pub(super) fn large_change_set(
        &self,
        topic: &str,
        payload: Bytes,
        retained: bool,
        stamp: String,
    ) -> Vec<Action> {
        let record = Arc::new(MessageRecord::new(
            topic,
            stamp,
            KeptPayload::text(HIDDEN_CHANGE_SET_TEXT),
            None,
            retained,
            payload.len(),
        ));
        self.messages.push(Arc::clone(&record));
        self.events.emit(CoreEvent::Message(record));
        if self.is_follower() {
            return Vec::new();
        }
        vec![Action::SubmitChangeSet { payload }]
    }

    /// A payload over its topic's limit (CONTRACT §6), or too dense to parse within its memory
    /// budget (§10): counted, logged, kept in the ring as a 4 KiB excerpt without parsed data,
    /// never parsed; a `/set` is refused on `/error`, a config on the authority's topic is
    /// published back.
    pub(super) fn refused_unparsed(
        &self,
        topic: &str,
        payload: &Bytes,
        retained: bool,
        stamp: String,
        (status, error): (u16, String),
    ) -> Vec<Action> {
        let kept = self.log_view().kept_of_oversized(topic, payload);
        let record = Arc::new(MessageRecord::new(
            topic,
            stamp,
            kept,
            Some(error.clone()),
            retained,
            payload.len(),
        ));
        self.messages.push(Arc::clone(&record));
        self.events.emit(CoreEvent::Message(record));
        self.invalid_as(topic, payload, error, status)
    }

    /// A config on a topic only the authority writes: its own echo, or the same document as
    /// stored, is fine; anything else is a foreign write, never stored, and the stored document
    /// (or nothing) is published again.
    pub(super) fn guard_config(
        &self,
        service: &str,
        document: Option<&Value>,
        payload: &[u8],
        retained: bool,
    ) -> Vec<Action> {
        if self
            .owned
            .as_ref()
            .is_some_and(|owned| owned.is_own_echo(service, payload))
        {
            return Vec::new();
        }
        let stored = self.config.get(service);
        if stored.as_ref().map(|s| &*s.document) == document {
            return Vec::new();
        }
        if retained {
            tracing::info!(
                service,
                "the broker held another config for this service; publishing the stored one"
            );
        } else if let Some(suppressed) = self.invalid_log.lock().admit(Instant::now()) {
            tracing::warn!(
                service,
                suppressed_since_last = suppressed,
                "foreign write on the service's config topic (only this manager publishes there); publishing the stored document again"
            );
        }
        vec![Action::RestoreConfig {
            service: service.to_owned(),
        }]
    }

    /// Something other than the enforced settings schema on the authority's schema topic: it
    /// publishes its own again (or clears the topic).
    pub(super) fn foreign_schema(&self, service: String) -> Vec<Action> {
        if let Some(suppressed) = self.invalid_log.lock().admit(Instant::now()) {
            tracing::warn!(
                service,
                suppressed_since_last = suppressed,
                "another settings schema on the service's schema topic (only this manager publishes there); publishing the enforced one again"
            );
        }
        vec![Action::RestoreSchema { service }]
    }

    pub(super) fn invalid(&self, topic: &str, payload: &[u8], error: String) -> Vec<Action> {
        self.invalid_as(topic, payload, error, 400)
    }

    /// An invalid message; a follower's change set among them is answered with `status`
    /// (400, or 413 over its limit) when its `request_id` can be read.
    pub(super) fn invalid_as(
        &self,
        topic: &str,
        payload: &[u8],
        error: String,
        status: u16,
    ) -> Vec<Action> {
        let size = payload.len();
        self.counters.invalid.fetch_add(1, Ordering::Relaxed);
        if let Some((manager, skew)) = presence_clock_skew(&self.topics, topic, payload) {
            self.health.note_clock_skew(&manager, skew);
        }
        let suppressed = self.invalid_log.lock().admit(Instant::now());
        if let Some(suppressed) = suppressed {
            tracing::warn!(topic, size, %error, suppressed_since_last = suppressed, "invalid MQTT message ignored");
        }
        if topic == self.topics.manager_health() && self.fleet.is_some() && !self.is_follower() {
            // The authority's own presence topic: whatever else lands there (a claim from the
            // future, something unreadable) is overwritten with its presence.
            return vec![Action::PublishPresence];
        }
        match self.topics.classify(topic) {
            Some(TopicKind::Config(service))
                if crate::mqtt::topics::is_valid_service_name(service) && !self.is_follower() =>
            {
                // Whatever it is, it is not what the authority published there.
                vec![Action::RestoreConfig {
                    service: service.to_owned(),
                }]
            }
            Some(TopicKind::ConfigSchema(service))
                if crate::mqtt::topics::is_valid_service_name(service) && !self.is_follower() =>
            {
                self.foreign_schema(service.to_owned())
            }
            Some(TopicKind::ChangesSet) if !self.is_follower() => request_id_of(payload)
                .map(|request_id| Action::RefuseChangeSet {
                    request_id,
                    error: format!("the change set could not be read: {error}"),
                    status,
                })
                .into_iter()
                .collect(),
            Some(TopicKind::ConfigSet(service))
                if crate::mqtt::topics::is_valid_service_name(service) =>
            {
                vec![Action::RefuseSet {
                    service: service.to_owned(),
                    refusal: SetRefusal {
                        error: format!("the request could not be read: {error}"),
                        details: Vec::new(),
                        current_last_updated: None,
                        request_id: request_id_of(payload),
                    },
                }]
            }
            _ => Vec::new(),
        }
    }
}
