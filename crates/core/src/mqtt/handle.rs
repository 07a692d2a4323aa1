//! The manager's MQTT connection as the rest of the core sees it: a handle to publish through
//! (with its Last Will and keep-alive set from the settings), the connection's state and its
//! traffic counters. The connection task ([`super::connection`]) drives it.

use super::counters::Counters;
use super::options::base_options;
use super::owned::OwnedConfigs;
use super::payloads::HealthStatus;
use super::topics::{Topics, has_wildcard};
use crate::fleet::Fleet;
use crate::limits::MQTT_PACKET_LIMIT;
use crate::settings::Settings;
use parking_lot::Mutex;
use rumqttc::{AsyncClient, EventLoop, LastWill, NetworkOptions, QoS};
use serde::Serialize;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tokio::sync::watch;

/// Requests that may wait for the connection task before `try_publish` fails.
const REQUEST_CAPACITY: usize = 4096;
/// MQTT keep-alive.
const KEEP_ALIVE: Duration = Duration::from_secs(30);

/// Counters as served by `GET /api/system`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default, utoipa::ToSchema)]
pub struct MqttStats {
    /// MQTT messages received since start, on every subscribed topic.
    pub messages_received: u64,
    /// Messages that did not parse or had the wrong shape.
    pub messages_invalid: u64,
    /// MQTT messages this manager published since start.
    pub messages_published: u64,
    /// Reconnections after the first connection.
    pub reconnects: u64,
    /// Failed connection attempts and lost connections.
    #[serde(skip)]
    #[schema(ignore)]
    pub connection_failures: u64,
}

/// Why a publish was not queued.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PublishError {
    /// Not connected to the broker.
    #[error("not connected to the MQTT broker")]
    NotConnected,
    /// Too many publishes are waiting.
    #[error("too many messages are waiting to be sent; try again")]
    Busy,
    /// The topic lies outside the prefix.
    #[error("topic must lie under {0}/")]
    OutsidePrefix(String),
    /// The topic has a wildcard.
    #[error("topic must not contain + or #")]
    Wildcard,
    /// Only the manager writes this topic.
    #[error(
        "{0} belongs to the manager (its presence, the configs it publishes and their errors); change configs with PUT /api/config/<service> or MQTT /set"
    )]
    Owned(String),
}

pub(crate) struct Shared {
    pub(crate) url: String,
    pub(crate) embedded: bool,
    pub(crate) topics: Topics,
    pub(crate) fleet: Fleet,
    pub(crate) connected: AtomicBool,
    pub(crate) last_error: Mutex<Option<String>>,
    pub(crate) counters: Arc<Counters>,
    pub(crate) generation: watch::Sender<u64>,
    pub(crate) owned: Arc<OwnedConfigs>,
    /// The filters the broker refused at the last subscription (a SubAck failure code).
    pub(crate) subscriptions_refused: Mutex<Vec<String>>,
}

/// Handle to the MQTT connection; cheap to clone.
#[derive(Clone)]
pub struct MqttHandle {
    client: AsyncClient,
    pub(crate) shared: Arc<Shared>,
}

impl MqttHandle {
    /// Builds the client and its event loop (not yet polled: the connection task does that).
    pub fn new(
        settings: &Settings,
        fleet: Fleet,
        counters: Arc<Counters>,
    ) -> Result<(Self, EventLoop), String> {
        let topics = Topics::new(&settings.topic_prefix);
        let client_id = format!("alicia-config-manager-{}", fleet.instance_id());
        let (mut options, endpoint) = base_options(settings, client_id)?;
        options
            .set_keep_alive(KEEP_ALIVE)
            .set_clean_session(true)
            .set_max_packet_size(MQTT_PACKET_LIMIT, MQTT_PACKET_LIMIT)
            .set_last_will(LastWill::new(
                fleet.presence_topic(&topics),
                fleet.presence_payload(HealthStatus::Unhealthy),
                QoS::AtLeastOnce,
                true,
            ));
        let (client, mut eventloop) = AsyncClient::new(options, REQUEST_CAPACITY);
        // Small replies (configs, `/error`s, commands, acks) go out at once instead of waiting
        // on Nagle's algorithm for the peer's delayed ACK: ~40 ms a hop otherwise.
        let mut network = NetworkOptions::new();
        network.set_tcp_nodelay(true);
        eventloop.set_network_options(network);
        let shared = Shared {
            url: endpoint.url,
            embedded: endpoint.embedded,
            topics,
            fleet,
            connected: AtomicBool::new(false),
            last_error: Mutex::new(None),
            counters,
            generation: watch::channel(0).0,
            owned: Arc::default(),
            subscriptions_refused: Mutex::default(),
        };
        Ok((
            Self {
                client,
                shared: Arc::new(shared),
            },
            eventloop,
        ))
    }

    /// The broker's URL (no credentials).
    pub fn url(&self) -> &str {
        &self.shared.url
    }

    /// True when the broker is the embedded one.
    pub fn embedded(&self) -> bool {
        self.shared.embedded
    }

    /// The topic tree in use.
    pub fn topics(&self) -> &Topics {
        &self.shared.topics
    }

    /// The config topics this manager owns: its publications in flight, restores asked for.
    pub fn owned(&self) -> &Arc<OwnedConfigs> {
        &self.shared.owned
    }

    /// This manager's identity and role.
    pub fn fleet(&self) -> &Fleet {
        &self.shared.fleet
    }

    /// Publishes this manager's presence (retained) on the topic its role uses.
    pub fn publish_presence(&self, status: HealthStatus) {
        let fleet = self.fleet();
        let published = self.client.try_publish(
            fleet.presence_topic(self.topics()),
            QoS::AtLeastOnce,
            true,
            fleet.presence_payload(status),
        );
        if let Err(error) = published {
            tracing::warn!(%error, ?status, "could not queue this manager's presence");
        }
    }

    /// Connected to the broker now.
    pub fn is_connected(&self) -> bool {
        self.shared.connected.load(Ordering::Relaxed)
    }

    /// Why the last connection attempt failed or the connection dropped.
    pub fn last_error(&self) -> Option<String> {
        self.shared.last_error.lock().clone()
    }

    /// The traffic counters.
    pub fn stats(&self) -> MqttStats {
        let c = &self.shared.counters;
        MqttStats {
            messages_received: c.received.load(Ordering::Relaxed),
            messages_invalid: c.invalid.load(Ordering::Relaxed),
            messages_published: c.published.load(Ordering::Relaxed),
            reconnects: c.reconnects.load(Ordering::Relaxed),
            connection_failures: c.connection_failures.load(Ordering::Relaxed),
        }
    }

    /// Messages refused by the registries' limits: `(devices, services)`.
    pub fn refused(&self) -> (u64, u64) {
        let c = &self.shared.counters;
        (
            c.devices_refused.load(Ordering::Relaxed),
            c.services_refused.load(Ordering::Relaxed),
        )
    }

    /// The filters the broker refused at the last subscription (CONTRACT §9).
    pub fn subscriptions_refused(&self) -> Vec<String> {
        self.shared.subscriptions_refused.lock().clone()
    }

    /// Wakes on every (re)connection: the number of ConnAcks so far.
    pub fn connections(&self) -> watch::Receiver<u64> {
        self.shared.generation.subscribe()
    }

    /// Queues a publish without waiting; refused while disconnected or when the queue is full.
    pub fn publish(
        &self,
        topic: &str,
        payload: Vec<u8>,
        qos: QoS,
        retain: bool,
    ) -> Result<(), PublishError> {
        if !self.is_connected() {
            return Err(PublishError::NotConnected);
        }
        self.client
            .try_publish(topic, qos, retain, payload)
            .map_err(|_| PublishError::Busy)
    }

    /// Queues a publish, waiting for room in the queue (never call it from the connection
    /// task). Sent once connected.
    pub async fn publish_queued(
        &self,
        topic: &str,
        payload: Vec<u8>,
        qos: QoS,
        retain: bool,
    ) -> Result<(), PublishError> {
        self.client
            .publish(topic, qos, retain, payload)
            .await
            .map_err(|_| PublishError::NotConnected)
    }

    /// Publishes on any topic under the prefix (no wildcards) that is not one of the
    /// manager's own (CONTRACT §6), for admins and tools.
    pub fn publish_checked(
        &self,
        topic: &str,
        payload: Vec<u8>,
        qos: QoS,
        retain: bool,
    ) -> Result<(), PublishError> {
        if has_wildcard(topic) {
            return Err(PublishError::Wildcard);
        }
        if !self.topics().is_under_prefix(topic) {
            return Err(PublishError::OutsidePrefix(
                self.topics().prefix().to_owned(),
            ));
        }
        if self.topics().is_owned_by_manager(topic) {
            return Err(PublishError::Owned(topic.to_owned()));
        }
        self.publish(topic, payload, qos, retain)
    }

    pub(crate) fn client(&self) -> &AsyncClient {
        &self.client
    }
}
