//! One stream of everything that changes in the core. Every face (GUI, REST/socket.io, logs)
//! subscribes to the same bounded broadcast; a subscriber that falls behind is told how many
//! events it missed (`RecvError::Lagged`) and re-reads the state it needs from the core.

use crate::commands::CommandRecord;
use crate::config::ChangeSource;
use crate::devices::Device;
use crate::messages::MessageRecord;
use crate::mqtt::payloads::HealthStatus;
use std::sync::Arc;
use tokio::sync::broadcast;

/// How many events a subscriber may fall behind before it starts missing some: 3.3 s of a
/// 10,000 msg/s flood. Every slot is written when the bus is made (80 bytes each), so this is
/// resident from the start: the 65,536 slots it had cost 5 MiB of an idle manager's memory
/// (issue 21). The subscribers only move events into their own bounded queues; at 16,384 a
/// 20,000-message burst outran the socket.io broadcaster of a debug build on 2 busy cores.
pub const EVENT_CAPACITY: usize = 32_768;

/// Something changed in the core.
#[derive(Debug, Clone)]
pub enum CoreEvent {
    /// A config change was accepted and stored.
    ConfigChanged {
        /// The service it is about, by name.
        service: String,
        /// Its new revision.
        revision: u64,
        /// Who made the change.
        source: ChangeSource,
    },
    /// A watched change proved good: the watch ended without a reason to undo it.
    ConfigConfirmed {
        /// The service it is about, by name.
        service: String,
        /// The watched revision.
        revision: u64,
    },
    /// A watched change was undone by the manager (CONTRACT §7).
    ConfigRolledBack {
        /// The service it is about, by name.
        service: String,
        /// The rollback's own new revision.
        revision: u64,
        /// Why.
        reason: crate::safe_apply::RollbackReason,
    },
    /// A device was added or changed.
    DeviceUpdated(Arc<Device>),
    /// A device was removed: its retained state was cleared, or it was forgotten (by an admin,
    /// or silent for `ALICIA_DEVICE_EXPIRE_DAYS`).
    DeviceRemoved {
        /// The device's id.
        id: String,
    },
    /// A service's health changed (a report, or it went stale).
    HealthChanged {
        /// The service it is about, by name.
        service: String,
        /// Its status as shown (`unknown` when stale).
        status: HealthStatus,
        /// True when not heard from within the health TTL.
        stale: bool,
        /// When this was observed (RFC 3339).
        timestamp: String,
    },
    /// Something else about a running service changed: its ack, its announcement.
    ServiceUpdated {
        /// The service it is about, by name.
        service: String,
    },
    /// An MQTT message arrived (secrets already masked in the record).
    Message(Arc<MessageRecord>),
    /// A command finished: its device answered, or it timed out.
    CommandFinished(Arc<CommandRecord>),
    /// The broker connection went up or down.
    Connection {
        /// True while connected to the broker.
        connected: bool,
        /// Why it is down, when it is.
        reason: Option<String>,
    },
    /// This manager's role, the authority it follows, or its sync with the fleet changed.
    FleetChanged,
}

/// The broadcast every face subscribes to.
#[derive(Debug, Clone)]
pub struct EventBus {
    sender: broadcast::Sender<CoreEvent>,
}

impl EventBus {
    /// A bus holding up to `capacity` undelivered events per subscriber.
    pub fn new(capacity: usize) -> Self {
        let (sender, _) = broadcast::channel(capacity.max(1));
        Self { sender }
    }

    /// Sends an event to every current subscriber (none is fine).
    pub fn emit(&self, event: CoreEvent) {
        // An error only says nobody listens now, which is fine.
        let _ = self.sender.send(event);
    }

    /// A new subscriber, seeing events from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<CoreEvent> {
        self.sender.subscribe()
    }
}

impl Default for EventBus {
    fn default() -> Self {
        Self::new(EVENT_CAPACITY)
    }
}
