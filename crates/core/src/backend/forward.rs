//! The core's events as the GUI's updates. A task forwards each event into the GUI's
//! [`Feed`] and asks for a frame — at once for what the face shows, within a second for the
//! rest (its counts); rebuilds the services overview and the checks across services on the
//! blocking pool when something they show changed (at most every 250 ms, at least every
//! 10 s, for checks that depend on time alone); and sends the message count once a second
//! while it moves, and the manager's state when the REST server's status moves. The whole
//! state goes out at connect and whenever the face asks again.

use crate::Core;
use crate::events::CoreEvent;
use alicia_model::backend::{Feed, Live, LocalSettings, SystemView, Update, Wake};
use alicia_model::settings::api::ApiStatus;
use parking_lot::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};
use tokio::sync::Notify;
use tokio::sync::broadcast::error::RecvError;

/// Ask for a frame this soon after an update the face shows: a burst becomes one frame.
const REPAINT_AFTER: Duration = Duration::from_millis(10);
/// Ask for a frame this soon after one it does not show (the top bar's counts).
const NUDGE_AFTER: Duration = Duration::from_secs(1);
/// Least time between two rebuilds of the services overview while health keeps changing.
const SERVICES_EVERY: Duration = Duration::from_millis(250);
/// Most time between two rebuilds when nothing changes.
const SERVICES_AT_LEAST_EVERY: Duration = Duration::from_secs(10);
/// How often the message count is looked at.
const TRAFFIC_EVERY: Duration = Duration::from_secs(1);

/// Forwards one core's events to the face that connected.
pub(super) struct Forwarder {
    core: Core,
    runtime: tokio::runtime::Handle,
    shared: Arc<Shared>,
}

/// What the forwarding tasks and the backend's calls share.
#[derive(Default)]
struct Shared {
    /// The face's feed (the face holds it: when it lets go, forwarding stops).
    feed: Mutex<Option<(Weak<Feed>, Wake)>>,
    watching_messages: AtomicBool,
    watching_devices: AtomicBool,
    /// Something the services overview shows changed.
    services_changed: Notify,
}

impl Forwarder {
    pub(super) fn new(core: Core, runtime: tokio::runtime::Handle) -> Self {
        Self {
            core,
            runtime,
            shared: Arc::default(),
        }
    }

    /// Connects a face: a new feed holding the whole state, then every change.
    pub(super) fn start(&self, wake: Wake) -> Arc<Feed> {
        let feed = Arc::new(Feed::new());
        *self.shared.feed.lock() = Some((Arc::downgrade(&feed), Arc::clone(&wake)));
        // Subscribed before the state is read: nothing falls between the two.
        let events = self.core.events.subscribe();
        self.send_state();
        let (core, shared, weak) = (
            self.core.clone(),
            Arc::clone(&self.shared),
            Arc::downgrade(&feed),
        );
        self.runtime.spawn(forward_events(
            core.clone(),
            Arc::clone(&shared),
            events,
            weak.clone(),
            Arc::clone(&wake),
        ));
        self.runtime.spawn(rebuild_services(
            core.clone(),
            shared,
            weak.clone(),
            Arc::clone(&wake),
        ));
        self.runtime
            .spawn(follow_api(core.clone(), weak.clone(), Arc::clone(&wake)));
        self.runtime.spawn(count_traffic(core, weak, wake));
        feed
    }

    /// Says which live tables the face shows.
    pub(super) fn follow(&self, live: Live) {
        self.shared
            .watching_messages
            .store(live.messages, Ordering::Relaxed);
        self.shared
            .watching_devices
            .store(live.devices, Ordering::Relaxed);
    }

    /// Sends the whole state (at connect, and when the face missed updates).
    pub(super) fn send_state(&self) {
        let Some((feed, wake)) = self.connected() else {
            return;
        };
        let core = &self.core;
        feed.push(Update::System(Box::new(system_view(core))));
        feed.push(Update::Local(Box::new(local_settings(core))));
        feed.push(Update::Config(core.config.snapshot()));
        feed.push(Update::Schemas(Arc::new(core.config.schemas())));
        let (rows, checks) = core.overview_and_checks();
        feed.push(Update::Services {
            rows: Arc::new(rows),
            checks: Arc::new(checks),
        });
        feed.push(Update::Devices(core.devices.list()));
        feed.push(Update::Messages(
            core.messages.recent(core.messages.capacity(), None),
        ));
        feed.push(Update::Traffic {
            messages_received: core.mqtt.stats().messages_received,
        });
        wake(Duration::ZERO);
    }

    /// Sends the manager's state as a whole (after the REST server or discovery changed).
    pub(super) fn send_system(&self) {
        if let Some((feed, wake)) = self.connected() {
            feed.push(Update::System(Box::new(system_view(&self.core))));
            wake(Duration::ZERO);
        }
    }

    /// The connected face's wake-up (answers ask for a frame when they land).
    pub(super) fn wake(&self) -> Option<Wake> {
        self.shared
            .feed
            .lock()
            .as_ref()
            .map(|(_, wake)| Arc::clone(wake))
    }

    fn connected(&self) -> Option<(Arc<Feed>, Wake)> {
        let slot = self.shared.feed.lock();
        let (feed, wake) = slot.as_ref()?;
        Some((feed.upgrade()?, Arc::clone(wake)))
    }
}

/// The manager as a whole, now.
fn system_view(core: &Core) -> SystemView {
    let api = core.api.status();
    // The machine's addresses matter (and are read) only while the server listens on all.
    let addresses = match &api {
        ApiStatus::Running { addr, .. } if addr.ip().is_unspecified() => {
            crate::lan::lan_addresses()
        }
        _ => Vec::new(),
    };
    SystemView {
        mqtt_connected: core.mqtt.is_connected(),
        mqtt_reason: core.mqtt.last_error(),
        broker_url: core.mqtt.url().to_owned(),
        embedded_broker: core.mqtt.embedded(),
        role: core.fleet.describe(),
        has_live_authority: core.fleet.state().has_live_authority(),
        instance_id: core.fleet.instance_id().to_owned(),
        api,
        addresses,
        topic_prefix: core.mqtt.topics().prefix().to_owned(),
        message_capacity: core.messages.capacity(),
        home_assistant: core.ha.enabled(),
        discovery_prefix: core.ha.discovery_prefix().to_owned(),
    }
}

/// The settings only this machine sees.
fn local_settings(core: &Core) -> LocalSettings {
    let settings = &core.settings;
    LocalSettings {
        api: settings.api.clone(),
        broker: settings.broker.clone(),
        mqtt_username: settings.mqtt_username.clone(),
        mqtt_password: settings.mqtt_password.clone(),
        mqtt_ca_file: settings
            .mqtt_ca_file
            .as_ref()
            .map(|path| path.display().to_string()),
        role: settings.role,
    }
}

/// Forwards the core's events until the face's feed is replaced or the core stops.
async fn forward_events(
    core: Core,
    shared: Arc<Shared>,
    mut events: tokio::sync::broadcast::Receiver<CoreEvent>,
    feed: Weak<Feed>,
    wake: Wake,
) {
    let mut nudged: Option<Instant> = None;
    // The schemas go out again only when they changed (not at every ack or announcement).
    let mut schemas_sent = core.config.schemas_generation();
    loop {
        let received = events.recv().await;
        let Some(feed) = feed.upgrade() else {
            // The face let go of its feed: nobody reads it any more.
            return;
        };
        let event = match received {
            Ok(event) => event,
            Err(RecvError::Lagged(n)) => {
                feed.miss(n);
                wake(REPAINT_AFTER);
                continue;
            }
            Err(RecvError::Closed) => return,
        };
        let shown = match &event {
            CoreEvent::Message(_) => shared.watching_messages.load(Ordering::Relaxed),
            CoreEvent::DeviceUpdated(_) | CoreEvent::DeviceRemoved { .. } => {
                shared.watching_devices.load(Ordering::Relaxed)
            }
            _ => true,
        };
        let update = match event {
            CoreEvent::Message(record) => Some(Update::Message(record)),
            CoreEvent::DeviceUpdated(device) => Some(Update::DeviceUpdated(device)),
            CoreEvent::DeviceRemoved { id } => Some(Update::DeviceRemoved { id }),
            CoreEvent::CommandFinished(record) => Some(Update::CommandFinished(record)),
            CoreEvent::ConfigRolledBack {
                service,
                revision,
                reason,
            } => {
                shared.services_changed.notify_one();
                feed.push(Update::Config(core.config.snapshot()));
                Some(Update::RolledBack {
                    service,
                    revision,
                    reason,
                })
            }
            CoreEvent::ConfigChanged { .. } => {
                shared.services_changed.notify_one();
                Some(Update::Config(core.config.snapshot()))
            }
            CoreEvent::ServiceUpdated { .. } => {
                shared.services_changed.notify_one();
                // An announcement may have brought a settings schema, an admin accepted one.
                let generation = core.config.schemas_generation();
                (generation != schemas_sent).then(|| {
                    schemas_sent = generation;
                    Update::Schemas(Arc::new(core.config.schemas()))
                })
            }
            CoreEvent::ConfigConfirmed { .. } | CoreEvent::HealthChanged { .. } => {
                shared.services_changed.notify_one();
                None
            }
            CoreEvent::Connection { .. } | CoreEvent::FleetChanged => {
                Some(Update::System(Box::new(system_view(&core))))
            }
        };
        let Some(update) = update else {
            continue;
        };
        feed.push(update);
        if shown {
            wake(REPAINT_AFTER);
        } else if nudged.is_none_or(|at| at.elapsed() >= NUDGE_AFTER) {
            // At most one request a second, not one per message.
            wake(NUDGE_AFTER);
            nudged = Some(Instant::now());
        }
    }
}

/// Rebuilds the services overview and the checks when something they show changed (at most
/// every [`SERVICES_EVERY`]), and every [`SERVICES_AT_LEAST_EVERY`] regardless.
async fn rebuild_services(core: Core, shared: Arc<Shared>, feed: Weak<Feed>, wake: Wake) {
    loop {
        let _ =
            tokio::time::timeout(SERVICES_AT_LEAST_EVERY, shared.services_changed.notified()).await;
        if feed.strong_count() == 0 {
            return;
        }
        let built = {
            let core = core.clone();
            tokio::task::spawn_blocking(move || core.overview_and_checks()).await
        };
        let (Ok((rows, checks)), Some(feed)) = (built, feed.upgrade()) else {
            return;
        };
        feed.push(Update::Services {
            rows: Arc::new(rows),
            checks: Arc::new(checks),
        });
        wake(REPAINT_AFTER);
        tokio::time::sleep(SERVICES_EVERY).await;
    }
}

/// Sends the manager's state whenever the REST server's status changes (it starts and stops
/// on its own task, after the switch was flipped).
async fn follow_api(core: Core, feed: Weak<Feed>, wake: Wake) {
    let mut status = core.api.watch_status();
    while status.changed().await.is_ok() {
        let Some(feed) = feed.upgrade() else {
            return;
        };
        feed.push(Update::System(Box::new(system_view(&core))));
        wake(REPAINT_AFTER);
    }
}

/// Sends the message count once a second while it moves.
async fn count_traffic(core: Core, feed: Weak<Feed>, wake: Wake) {
    let mut last = core.mqtt.stats().messages_received;
    loop {
        tokio::time::sleep(TRAFFIC_EVERY).await;
        let Some(feed) = feed.upgrade() else {
            return;
        };
        let now = core.mqtt.stats().messages_received;
        if now != last {
            last = now;
            feed.push(Update::Traffic {
                messages_received: now,
            });
            wake(NUDGE_AFTER);
        }
    }
}
