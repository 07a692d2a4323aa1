//! What changes, as every face hears it: the core's event stream in-process, and what a
//! remote face rebuilds from the live events (CONTRACT §3, §11). An event names data, never a
//! feature's type.

use crate::commands::CommandRecord;
use crate::config::source::ChangeSource;
use crate::devices::Device;
use crate::messages::MessageRecord;
use crate::payloads::HealthStatus;
use crate::watch::RollbackReason;
use std::sync::Arc;

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
        reason: RollbackReason,
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
