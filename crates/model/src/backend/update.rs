//! What a backend tells its face: the state at connect, then each change. Every update names
//! data only; the face keeps the latest of each as its own view.

use crate::checks::Check;
use crate::commands::CommandRecord;
use crate::config::{HistoryEntry, Schemas, Snapshot};
use crate::devices::Device;
use crate::messages::MessageRecord;
use crate::overview::ServiceOverview;
use crate::secret::Secret;
use crate::settings::api::{ApiSettings, ApiStatus};
use crate::settings::broker::BrokerTarget;
use crate::settings::role::RoleSetting;
use crate::watch::RollbackReason;
use std::collections::HashMap;
use std::sync::Arc;

/// One change the face should know of.
#[derive(Debug, Clone)]
pub enum Update {
    /// The manager as a whole: its broker connection, role, REST server.
    System(Box<SystemView>),
    /// The settings only the manager's own machine may see and change (in-process only).
    Local(Box<LocalSettings>),
    /// Every service's overview row and the checks across services, as computed now.
    Services {
        /// The rows, by service name.
        rows: Arc<Vec<ServiceOverview>>,
        /// The findings of the checks across services.
        checks: Arc<Vec<Check>>,
    },
    /// The stored documents.
    Config(Arc<Snapshot>),
    /// The settings schemas the services announced (enforced and pending).
    Schemas(Arc<Schemas>),
    /// Every device the manager knows (at connect and after missed updates).
    Devices(Vec<Arc<Device>>),
    /// A device was added or changed.
    DeviceUpdated(Arc<Device>),
    /// A device was removed.
    DeviceRemoved {
        /// Its id.
        id: String,
    },
    /// The MQTT messages the manager keeps, newest first (at connect and after missed
    /// updates).
    Messages(Vec<Arc<MessageRecord>>),
    /// An MQTT message arrived (secrets already masked).
    Message(Arc<MessageRecord>),
    /// How many MQTT messages the manager has received since it started.
    Traffic {
        /// The count.
        messages_received: u64,
    },
    /// A device command finished: answered, or timed out.
    CommandFinished(Arc<CommandRecord>),
    /// A watched change was undone by the manager (CONTRACT §7).
    RolledBack {
        /// The service, by name.
        service: String,
        /// The rollback's own new revision.
        revision: u64,
        /// Why.
        reason: RollbackReason,
    },
}

/// The manager as a whole, as a face shows it in its top bar and settings.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SystemView {
    /// True while the manager is connected to its broker.
    pub mqtt_connected: bool,
    /// Why it is not, when it is not.
    pub mqtt_reason: Option<String>,
    /// The broker's address (no credentials).
    pub broker_url: String,
    /// True when the broker is the manager's embedded one.
    pub embedded_broker: bool,
    /// The manager's role and the authority it follows, in words.
    pub role: String,
    /// False on a follower while no authority is alive (edits are refused then).
    pub has_live_authority: bool,
    /// This manager's instance id (CONTRACT §9).
    pub instance_id: String,
    /// The REST server's state.
    pub api: ApiStatus,
    /// The manager machine's addresses on its networks, while the REST server listens on
    /// every address (the URLs remote clients use); empty otherwise.
    pub addresses: Vec<std::net::IpAddr>,
    /// The topic prefix (`alicia` unless configured).
    pub topic_prefix: String,
    /// How many MQTT messages the manager keeps for the monitor.
    pub message_capacity: usize,
    /// True while Home Assistant discovery is published.
    pub home_assistant: bool,
    /// Home Assistant's discovery prefix.
    pub discovery_prefix: String,
}

impl SystemView {
    /// True when `topic` is one the manager itself publishes (under its own prefix, about
    /// itself): its device state, its config records.
    pub fn is_manager_topic(&self, topic: &str, instance_topics: &[String]) -> bool {
        instance_topics.iter().any(|t| t == topic)
    }
}

/// The settings only the manager's own machine may see and change (CONTRACT §11: local only).
#[derive(Debug, Clone, PartialEq)]
pub struct LocalSettings {
    /// The REST server's settings in use.
    pub api: ApiSettings,
    /// The broker the manager was started with.
    pub broker: BrokerTarget,
    /// The MQTT login's user name.
    pub mqtt_username: Option<String>,
    /// The MQTT login's password.
    pub mqtt_password: Option<Secret>,
    /// The CA file trusted for `mqtts://`.
    pub mqtt_ca_file: Option<String>,
    /// The role asked for at start.
    pub role: RoleSetting,
}

/// A service's retained revisions as the history view shows them.
#[derive(Debug, Clone, Default)]
pub struct HistoryPage {
    /// The revisions, newest first.
    pub entries: Vec<Arc<HistoryEntry>>,
    /// For each change set an entry belongs to (by id): its members as (service, revision).
    pub sets: HashMap<String, Vec<(String, u64)>>,
}
