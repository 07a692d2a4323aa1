//! A message the handler decided to take, applied: the registries updated, the config
//! change or reply named, the fleet's presence followed.

use super::*;

impl MessageHandler {
    pub(super) fn apply(
        &self,
        inbound: Inbound,
        retained: bool,
        now: OffsetDateTime,
        stamp: String,
    ) -> Vec<Action> {
        if let Some(service) = introduced_service(&inbound)
            && !self.admits_service(service)
        {
            self.counters
                .services_refused
                .fetch_add(1, Ordering::Relaxed);
            self.refused(&format!(
                "a message about service {service:?} was refused: the bus already introduced the most services this manager keeps ({}, ALICIA_MAX_SERVICES)",
                self.max_services
            ));
            return Vec::new();
        }
        match inbound {
            Inbound::Health { service, report } => {
                let actions = self.manager_presence(&service, report.as_ref(), retained);
                if let (Some(safe_apply), Some(report)) = (&self.safe_apply, &report) {
                    safe_apply.observe_report(
                        &service,
                        report.status,
                        report.timestamp.as_deref(),
                        Instant::now(),
                    );
                }
                self.events
                    .emit(self.health.apply_report(&service, report, retained, now));
                return actions;
            }
            Inbound::Discovery {
                service,
                announcement: Some(announcement),
            } => {
                let schema = announcement.settings_schema.clone().map(Arc::new);
                if !self.health.apply_announcement(announcement.clone()) {
                    self.counters
                        .services_refused
                        .fetch_add(1, Ordering::Relaxed);
                    self.refused(&format!(
                        "the announcement of service {service:?} was refused: the announcements kept already take the most memory allowed"
                    ));
                    return Vec::new();
                }
                // The authority decides which schema is enforced and publishes it; followers
                // take it from the schema topic (CONTRACT §9) and show a different one
                // announced as pending (§10).
                if schema.is_some() {
                    if self.is_follower() {
                        self.config.saw_announced_schema(&service, schema);
                    } else {
                        self.config.announce_schema(&service, schema);
                    }
                }
                self.events.emit(CoreEvent::ServiceUpdated {
                    service: service.clone(),
                });
                if self.config.get(&service).is_none() && !self.is_follower() {
                    return vec![Action::CreateFromAnnouncement(Box::new(announcement))];
                }
            }
            Inbound::Discovery {
                service,
                announcement: None,
            } => {
                self.health.clear_announcement(&service);
                self.events.emit(CoreEvent::ServiceUpdated { service });
            }
            Inbound::Config { service, document } if self.is_follower() => {
                self.mirrored_since_connect.lock().insert(service.clone());
                let seen = self.sightings.saw(&service);
                return vec![match document {
                    Some(document) => Action::Mirror {
                        service,
                        document: Value::clone(&document),
                    },
                    None => Action::MirrorDeletion { service, seen },
                }];
            }
            Inbound::ConfigSet { .. } if self.is_follower() => {}
            Inbound::HaSwitch { .. } if self.is_follower() => {}
            Inbound::HaSwitch { service, on } => {
                return vec![Action::HaSwitch { service, on }];
            }
            Inbound::ChangeSetRequest { .. } => {}
            Inbound::ChangeSetResult { request_id, body } => {
                if let Some(link) = &self.fleet {
                    link.remote.set_answered(&request_id, &body);
                }
            }
            Inbound::ConfigSet { service, request } => {
                return vec![Action::SubmitSet { service, request }];
            }
            Inbound::ConfigError {
                service,
                refusal: Some(refusal),
            } => {
                if let Some(link) = &self.fleet {
                    link.remote.refused(&service, refusal);
                }
            }
            Inbound::ConfigResult { service, result } => {
                if let Some(link) = &self.fleet
                    && self.is_follower()
                {
                    link.remote.stored(&service, result);
                }
            }
            Inbound::ConfigSchema { service, schema } if self.is_follower() => {
                self.config.mirror_schema(&service, schema);
            }
            Inbound::ConfigSchema { service, schema } => {
                let enforced = self.config.settings_schema(&service);
                let same = match (&enforced, &schema) {
                    (Some(ours), Some(theirs)) => *ours.source == **theirs,
                    (None, None) => true,
                    _ => false,
                };
                if !same {
                    return self.foreign_schema(service);
                }
            }
            Inbound::ConfigAck { service, ack } => {
                self.health.apply_ack(&service, ack);
                self.events.emit(CoreEvent::ServiceUpdated { service });
            }
            Inbound::DeviceState { id, state } => {
                let change = self.devices.apply_state(&id, state, &stamp);
                self.emit_device(change);
            }
            Inbound::DeviceAvailability { id, online } => {
                let change = self.devices.apply_availability(&id, online, &stamp);
                self.emit_device(change);
            }
            Inbound::CommandResult { id, result } => {
                let finished = self.commands.as_ref().and_then(|commands| {
                    commands.answered(&result.request_id, &id, result.ok, result.error)
                });
                tracing::debug!(
                    device = id,
                    request_id = result.request_id,
                    ok = result.ok,
                    ours = finished.is_some(),
                    "command result"
                );
                if let Some(record) = finished {
                    self.events.emit(CoreEvent::CommandFinished(record));
                }
            }
            Inbound::Config { .. }
            | Inbound::HaState
            | Inbound::ConfigError { .. }
            | Inbound::DeviceCommand { .. }
            | Inbound::DiscoveryRequest => {}
        }
        Vec::new()
    }

    /// A manager's presence: the authority topic drives this manager's role; its own report
    /// read back live after connecting means the fleet's retained state has all arrived.
    pub(super) fn manager_presence(
        &self,
        service: &str,
        report: Option<&HealthReport>,
        retained: bool,
    ) -> Vec<Action> {
        let Some(link) = &self.fleet else {
            return Vec::new();
        };
        let own = report
            .and_then(|r| r.instance_id.as_deref())
            .is_some_and(|id| id == link.fleet.instance_id());
        if own && self.on_own_topic(service, link) {
            let healthy = report.is_some_and(|r| r.status == HealthStatus::Healthy);
            return match (healthy, retained) {
                // The Will of this manager's previous run (killed) landed after its
                // presence: say again that it is alive.
                (false, _) => vec![Action::PublishPresence],
                (true, false) => self.synced(link),
                (true, true) => Vec::new(),
            };
        }
        if service != MANAGER_SERVICE_NAME {
            return Vec::new();
        }
        match link.fleet.observe_authority_topic(report) {
            Reaction::Nothing => Vec::new(),
            Reaction::Changed => {
                self.events.emit(CoreEvent::FleetChanged);
                Vec::new()
            }
            Reaction::Reassert => vec![Action::PublishPresence],
            Reaction::SteppedDown => vec![Action::SteppedDown],
            Reaction::Resumed => vec![Action::Resumed],
        }
    }

    pub(super) fn on_own_topic(&self, service: &str, link: &FleetLink) -> bool {
        let topic = link.fleet.presence_topic(&self.topics);
        topic.strip_prefix(&self.topics.health("")) == Some(service)
    }

    /// Every retained message has arrived: a provisional authority becomes a firm one; a
    /// follower, once after start, forgets mirrored services the authority deleted while it
    /// was away. Only with a live authority announced: a broker that lost its retained store
    /// (restarted without persistence) holds no configs until the authority publishes them
    /// again, and pruning then would empty the mirror for nothing. Deletions missed during a
    /// later outage are caught at the next start.
    pub(super) fn synced(&self, link: &FleetLink) -> Vec<Action> {
        let mut actions = Vec::new();
        if link.fleet.mark_synced() == Reaction::Reassert {
            actions.push(Action::PublishPresence);
        }
        let state = link.fleet.state();
        // A manager that was the authority never prunes: its store was the fleet's, and the
        // claim it stepped down for may be anyone's.
        if state.role == Role::Follower
            && !state.stepped_down
            && state.has_live_authority()
            && !self.pruned_once.swap(true, Ordering::Relaxed)
        {
            let seen = self.mirrored_since_connect.lock();
            actions.extend(
                self.config
                    .snapshot()
                    .documents
                    .keys()
                    .filter(|service| !seen.contains(*service))
                    .map(|service| Action::MirrorDeletion {
                        service: service.clone(),
                        seen: self.sightings.seen(service),
                    }),
            );
        }
        self.events.emit(CoreEvent::FleetChanged);
        actions
    }
}
