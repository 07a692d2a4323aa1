//! Live events over socket.io at `/socket.io/` (CONTRACT §3): `config:update` and
//! `devices:update` on connect and after changes (device lists coalesced to 4 a second, each
//! change also sent at once as `device:update`), `mqtt:message` per message, `health:update`,
//! `command:result` when a device command finishes (CONTRACT §9), and `mqtt:dropped` for a
//! client that fell behind. A client that is behind gets no
//! `device:update`s until it catches up: the coalesced list carries the same changes, and its
//! capacity goes to the messages instead.
//!
//! One broadcaster task hears the core's events and serializes each payload once. Each client
//! has its own bounded queue and its own pump task that feeds socketioxide: a slow or stalled
//! client only ever fills its own queue, whose oldest `mqtt:message`s are dropped first (and
//! counted), so it never slows ingest, REST or the other clients. Snapshots (`config:update`,
//! `devices:update`) replace each other in the queue rather than pile up.

use super::auth::Access;
use alicia_core::Core;
use alicia_core::events::CoreEvent;
use alicia_core::messages::LiveData;
use parking_lot::Mutex;
use serde::Serialize;
use serde_json::value::RawValue;
use socketioxide::adapter::Adapter;
use socketioxide::extract::{SocketRef, State};
use socketioxide::handler::{ConnectHandler, FromConnectParts, Value};
use socketioxide::layer::SocketIoLayer;
use socketioxide::socket::DisconnectReason;
use socketioxide::socket::{Sid, Socket};
use socketioxide::{ParserConfig, SendError, SocketError, SocketIo};
use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;
use tokio::sync::Notify;
use tokio::sync::broadcast::error::RecvError;

/// `mqtt:message`s a client may have waiting before the oldest are dropped…
pub const MQTT_QUEUE_LIMIT: usize = 65_536;
/// …and their total size (payloads are shared between clients, so this is an upper bound).
pub const MQTT_QUEUE_BYTES: usize = 16 * 1024 * 1024;
/// Other events a client may have waiting before the oldest are dropped.
const CONTROL_QUEUE_LIMIT: usize = 10_000;
/// A client with more events than this waiting gets no `device:update`s: it is behind, and
/// the coalesced `devices:update` list (at most 4 a second) carries the same changes. The
/// message a change came with may still be waiting (the pump runs beside the broadcaster), so
/// a client that keeps up gets every change. Any larger margin is invisible behind
/// socketioxide's buffer and the socket's: at 64, a client in a 50,000-message burst got a
/// `device:update` beside most messages and took in 15–25 % fewer `mqtt:message`s (issue 21).
const DEVICE_UPDATE_BACKLOG: usize = 2;
/// Packets socketioxide buffers per socket.
const SOCKET_BUFFER: usize = 1024;
/// The largest WebSocket message or frame a client may send (CONTRACT §10): clients send
/// only a CONNECT, pongs and `live:mqtt`.
const MAX_INPUT_BYTES: usize = 64 * 1024;
/// The largest long-polling body a client may send (CONTRACT §10).
const MAX_POLLING_BODY: u64 = 100_000;
/// The longest CONNECT `auth` read (CONTRACT §10).
const MAX_AUTH_BYTES: usize = 4 * 1024;
/// A session that has not joined the namespace this long after its handshake is closed: a
/// refused CONNECT leaves its session open in socketioxide, so this is how it ends (§10).
const CONNECT_DEADLINE: Duration = Duration::from_secs(3);
/// Least time between two `devices:update` lists.
const DEVICES_EVERY: Duration = Duration::from_millis(250);
/// Wait before retrying a socket whose buffer is full.
const FULL_RETRY: Duration = Duration::from_millis(5);

type Payload = Arc<RawValue>;

/// The live hub of one server.
#[derive(Clone)]
pub struct LiveHub {
    inner: Arc<Hub>,
}

struct Hub {
    core: Core,
    access: Access,
    clients: Mutex<HashMap<Sid, Arc<Client>>>,
}

#[derive(Default)]
struct Client {
    queue: Mutex<Queue>,
    wake: Notify,
    /// Set when the client disconnected: its pump ends and lets go of the socket.
    gone: AtomicBool,
}

impl Client {
    fn disconnected(&self) {
        self.gone.store(true, Ordering::Release);
        self.wake.notify_one();
    }
}

#[derive(Default)]
struct Queue {
    config: Option<Payload>,
    devices: Option<Payload>,
    control: VecDeque<(&'static str, Payload)>,
    mqtt: VecDeque<Payload>,
    mqtt_bytes: usize,
    dropped: u64,
}

impl Queue {
    /// Events waiting (snapshots aside).
    fn backlog(&self) -> usize {
        self.control.len() + self.mqtt.len()
    }

    fn next(&mut self) -> Option<(&'static str, Payload)> {
        if let Some(config) = self.config.take() {
            return Some(("config:update", config));
        }
        if let Some(devices) = self.devices.take() {
            return Some(("devices:update", devices));
        }
        if let Some(control) = self.control.pop_front() {
            return Some(control);
        }
        if self.dropped > 0 {
            let count = std::mem::take(&mut self.dropped);
            return Some(("mqtt:dropped", raw(&DroppedNotice { count })));
        }
        let payload = self.mqtt.pop_front()?;
        self.mqtt_bytes -= payload.get().len();
        Some(("mqtt:message", payload))
    }

    /// Queues a message, dropping the oldest ones (and counting them) past the limits;
    /// returns how many it dropped.
    fn push_mqtt(&mut self, payload: Payload) -> u64 {
        let before = self.dropped;
        self.mqtt_bytes += payload.get().len();
        self.mqtt.push_back(payload);
        while self.mqtt.len() > MQTT_QUEUE_LIMIT
            || (self.mqtt_bytes > MQTT_QUEUE_BYTES && self.mqtt.len() > 1)
        {
            let Some(oldest) = self.mqtt.pop_front() else {
                break;
            };
            self.mqtt_bytes -= oldest.get().len();
            self.dropped += 1;
        }
        self.dropped - before
    }

    fn push_front(&mut self, event: &'static str, payload: Payload) {
        match event {
            "config:update" => self.config = self.config.take().or(Some(payload)),
            "devices:update" => self.devices = self.devices.take().or(Some(payload)),
            "mqtt:message" => {
                self.mqtt_bytes += payload.get().len();
                self.mqtt.push_front(payload);
            }
            "mqtt:dropped" => {}
            _ => self.control.push_front((event, payload)),
        }
    }
}

/// `mqtt:dropped`: how many `mqtt:message`s this client missed since the last notice.
#[derive(Serialize)]
struct DroppedNotice {
    count: u64,
}

/// `mqtt:message`.
#[derive(Serialize)]
struct MqttMessage<'a> {
    topic: &'a str,
    data: LiveData<'a>,
    timestamp: &'a str,
}

/// `health:update`.
#[derive(Serialize)]
struct HealthUpdate<'a> {
    service_name: &'a str,
    status: &'a str,
    timestamp: &'a str,
}

/// `config:confirmed` and `config:rolledback` (CONTRACT §7).
#[derive(Serialize)]
struct WatchOutcome<'a> {
    service_name: &'a str,
    revision: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<&'a str>,
}

/// `value` as JSON text for the clients' queues (rendered once, never parsed again).
fn raw<T: Serialize + ?Sized>(value: &T) -> Payload {
    Arc::from(serde_json::value::to_raw_value(value).unwrap_or_else(|_| RawValue::NULL.to_owned()))
}

/// The socket.io layer for the router, serving the live events of `core`.
pub fn layer(core: Core, access: Access) -> (SocketIoLayer, SocketIo) {
    let hub = LiveHub {
        inner: Arc::new(Hub {
            core,
            access,
            clients: Mutex::default(),
        }),
    };
    let (layer, io) = SocketIo::builder()
        .max_buffer_size(SOCKET_BUFFER)
        .ws_max_message_size(MAX_INPUT_BYTES)
        .ws_max_frame_size(MAX_INPUT_BYTES)
        .max_payload(MAX_POLLING_BODY)
        .connect_timeout(CONNECT_DEADLINE)
        .with_parser(ParserConfig::common().max_incoming_binaries(0))
        .with_state(hub.clone())
        .build_layer();
    io.ns("/", on_connect.with(authenticate));
    let events = hub.inner.core.events.subscribe();
    tokio::spawn(run_broadcaster(Arc::downgrade(&hub.inner), events));
    (layer, io)
}

/// Why a handshake was refused (sent to the client as `connect_error`).
#[derive(Debug)]
struct Refused;

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Unauthorized: a valid auth.token is required")
    }
}

impl std::error::Error for Refused {}

/// The CONNECT packet's `auth.token`, read only when the `auth` is small (CONTRACT §10): a
/// larger one is refused before anything in it is parsed.
struct AuthToken(Option<String>);

impl<A: Adapter> FromConnectParts<A> for AuthToken {
    type Error = Refused;

    fn from_connect_parts(_: &Arc<Socket<A>>, auth: &Option<Value>) -> Result<Self, Refused> {
        let Some(raw) = auth.as_ref().and_then(Value::as_str) else {
            return Ok(Self(None));
        };
        if raw.len() > MAX_AUTH_BYTES {
            return Err(Refused);
        }
        #[derive(serde::Deserialize)]
        struct Auth {
            token: Option<serde_json::Value>,
        }
        let token = serde_json::from_str::<Auth>(raw)
            .ok()
            .and_then(|auth| auth.token)
            .and_then(|token| token.as_str().map(str::to_owned));
        Ok(Self(token))
    }
}

async fn authenticate(
    State(hub): State<LiveHub>,
    AuthToken(token): AuthToken,
) -> Result<(), Refused> {
    if hub.inner.access.grant(token.as_deref()).is_some() {
        Ok(())
    } else {
        Err(Refused)
    }
}

async fn on_connect(socket: SocketRef, State(hub): State<LiveHub>) {
    super::live_gate::joined(socket.req_parts());
    let client = Arc::new(Client::default());
    {
        let mut queue = client.queue.lock();
        queue.config = Some(hub.inner.config_snapshot());
        queue.devices = Some(hub.inner.devices_snapshot());
    }
    {
        let mut clients = hub.inner.clients();
        clients.insert(socket.id, Arc::clone(&client));
        hub.inner.core.metrics.set_socketio_clients(clients.len());
    }
    tracing::info!(
        sid = %socket.id,
        address = %peer_of(&socket),
        transport = ?socket.transport_type(),
        "socket.io client connected"
    );
    socket.on_disconnect(
        async |socket: SocketRef, reason: DisconnectReason, State(hub): State<LiveHub>| {
            let gone = {
                let mut clients = hub.inner.clients();
                let gone = clients.remove(&socket.id);
                hub.inner.core.metrics.set_socketio_clients(clients.len());
                gone
            };
            if let Some(client) = gone {
                client.disconnected();
            }
            tracing::info!(
                sid = %socket.id,
                address = %peer_of(&socket),
                %reason,
                "socket.io client disconnected"
            );
        },
    );
    tokio::spawn(pump(socket, client));
}

/// The client's address, as the server accepted its connection.
fn peer_of(socket: &SocketRef) -> String {
    socket
        .req_parts()
        .extensions
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map_or_else(|| "unknown".to_owned(), |info| info.0.to_string())
}

/// Feeds one client from its queue, at the pace it reads.
async fn pump(socket: SocketRef, client: Arc<Client>) {
    loop {
        if client.gone.load(Ordering::Acquire) {
            return;
        }
        let next = client.queue.lock().next();
        let Some((event, payload)) = next else {
            if !socket.connected() {
                return;
            }
            client.wake.notified().await;
            continue;
        };
        match socket.emit(event, &payload) {
            Ok(()) => {}
            Err(SendError::Socket(SocketError::InternalChannelFull)) => {
                client.queue.lock().push_front(event, payload);
                tokio::time::sleep(FULL_RETRY).await;
            }
            Err(_) => return,
        }
    }
}

impl Hub {
    fn clients(&self) -> parking_lot::MutexGuard<'_, HashMap<Sid, Arc<Client>>> {
        self.clients.lock()
    }

    fn has_clients(&self) -> bool {
        !self.clients().is_empty()
    }

    fn config_snapshot(&self) -> Payload {
        let json = String::from_utf8_lossy(&self.core.client_documents_json()).into_owned();
        Arc::from(RawValue::from_string(json).unwrap_or_else(|_| RawValue::NULL.to_owned()))
    }

    fn devices_snapshot(&self) -> Payload {
        raw(&self.core.devices.list())
    }

    fn each_client(&self, mut change: impl FnMut(&mut Queue)) {
        let clients: Vec<Arc<Client>> = self.clients().values().cloned().collect();
        for client in clients {
            change(&mut client.queue.lock());
            client.wake.notify_one();
        }
    }

    fn push_mqtt(&self, payload: &Payload) {
        let mut dropped = 0;
        self.each_client(|queue| dropped += queue.push_mqtt(Arc::clone(payload)));
        if dropped > 0 {
            self.core.metrics.socketio_dropped(dropped);
        }
    }

    fn push_control(&self, event: &'static str, payload: &Payload) {
        self.each_client(|queue| {
            if event == "device:update" && queue.backlog() > DEVICE_UPDATE_BACKLOG {
                return;
            }
            if queue.control.len() >= CONTROL_QUEUE_LIMIT {
                queue.control.pop_front();
            }
            queue.control.push_back((event, Arc::clone(payload)));
        });
    }

    fn push_snapshot(&self, config: Option<&Payload>, devices: Option<&Payload>) {
        self.each_client(|queue| {
            if let Some(config) = config {
                queue.config = Some(Arc::clone(config));
            }
            if let Some(devices) = devices {
                queue.devices = Some(Arc::clone(devices));
            }
        });
    }

    fn count_missed(&self, missed: u64) {
        self.each_client(|queue| queue.dropped += missed);
    }
}

/// Turns core events into client queue entries until the hub is gone.
async fn run_broadcaster(hub: Weak<Hub>, mut events: tokio::sync::broadcast::Receiver<CoreEvent>) {
    let mut ticks = tokio::time::interval(DEVICES_EVERY);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut devices_changed = false;
    loop {
        tokio::select! {
            event = events.recv() => {
                let Some(hub) = hub.upgrade() else { return };
                match event {
                    Ok(event) => devices_changed |= forward(&hub, &event),
                    Err(RecvError::Lagged(missed)) => {
                        hub.count_missed(missed);
                        hub.push_snapshot(Some(&hub.config_snapshot()), None);
                        devices_changed = true;
                    }
                    Err(RecvError::Closed) => return,
                }
            }
            _ = ticks.tick() => {
                let Some(hub) = hub.upgrade() else { return };
                if devices_changed && hub.has_clients() {
                    hub.push_snapshot(None, Some(&hub.devices_snapshot()));
                }
                devices_changed = false;
            }
        }
    }
}

/// Queues what one event means for clients; true when the device list changed.
fn forward(hub: &Hub, event: &CoreEvent) -> bool {
    if !hub.has_clients() {
        return matches!(
            event,
            CoreEvent::DeviceUpdated(_) | CoreEvent::DeviceRemoved { .. }
        );
    }
    match event {
        CoreEvent::Message(record) => {
            let message = MqttMessage {
                topic: &record.topic,
                data: record.live_data(),
                timestamp: &record.timestamp,
            };
            hub.push_mqtt(&raw(&message));
        }
        CoreEvent::ConfigChanged { .. } => hub.push_snapshot(Some(&hub.config_snapshot()), None),
        CoreEvent::ConfigConfirmed { service, revision } => {
            let outcome = WatchOutcome {
                service_name: service,
                revision: *revision,
                reason: None,
            };
            hub.push_control("config:confirmed", &raw(&outcome));
        }
        CoreEvent::ConfigRolledBack {
            service,
            revision,
            reason,
        } => {
            let outcome = WatchOutcome {
                service_name: service,
                revision: *revision,
                reason: Some(reason.as_str()),
            };
            hub.push_control("config:rolledback", &raw(&outcome));
        }
        CoreEvent::DeviceUpdated(device) => {
            hub.push_control("device:update", &raw(&**device));
            return true;
        }
        CoreEvent::DeviceRemoved { .. } => return true,
        CoreEvent::HealthChanged {
            service,
            status,
            timestamp,
            ..
        } => {
            let update = HealthUpdate {
                service_name: service,
                status: status.as_str(),
                timestamp,
            };
            hub.push_control("health:update", &raw(&update));
        }
        CoreEvent::CommandFinished(record) => {
            hub.push_control("command:result", &raw(&**record));
        }
        CoreEvent::ServiceUpdated { .. }
        | CoreEvent::Connection { .. }
        | CoreEvent::FleetChanged => {}
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn payload(n: u64) -> Payload {
        raw(&n)
    }

    #[test]
    fn snapshots_come_first_and_replace_each_other() {
        let mut queue = Queue::default();
        queue.push_mqtt(payload(1));
        queue.config = Some(payload(10));
        queue.config = Some(payload(11));
        queue.control.push_back(("health:update", payload(5)));
        let order: Vec<(&str, String)> = std::iter::from_fn(|| queue.next())
            .map(|(e, p)| (e, p.get().to_owned()))
            .collect();
        assert_eq!(
            order,
            vec![
                ("config:update", "11".into()),
                ("health:update", "5".into()),
                ("mqtt:message", "1".into())
            ]
        );
    }

    #[test]
    fn a_dropped_notice_precedes_the_next_messages() {
        let mut queue = Queue {
            dropped: 3,
            ..Queue::default()
        };
        queue.push_mqtt(payload(1));
        let (event, notice) = queue.next().unwrap();
        assert_eq!((event, notice.get()), ("mqtt:dropped", r#"{"count":3}"#));
        assert_eq!(queue.next().unwrap().0, "mqtt:message");
        assert!(queue.next().is_none());
    }

    #[test]
    fn the_oldest_messages_are_dropped_and_counted() {
        let mut queue = Queue::default();
        for n in 0..(MQTT_QUEUE_LIMIT as u64 + 3) {
            queue.push_mqtt(payload(n));
        }
        assert_eq!(queue.mqtt.len(), MQTT_QUEUE_LIMIT);
        assert_eq!(queue.dropped, 3);
        assert_eq!(queue.next().unwrap().0, "mqtt:dropped");
        assert_eq!(
            queue.next().unwrap().1.get(),
            "3",
            "the oldest kept is the fourth"
        );
        let big = raw(&"x".repeat(MQTT_QUEUE_BYTES / 2));
        let mut queue = Queue::default();
        for _ in 0..3 {
            queue.push_mqtt(Arc::clone(&big));
        }
        assert_eq!(queue.mqtt.len(), 1, "the byte budget holds too");
    }

    #[test]
    fn an_unsent_event_goes_back_to_the_front() {
        let mut queue = Queue::default();
        queue.push_mqtt(payload(2));
        queue.push_front("mqtt:message", payload(1));
        assert_eq!(queue.next().unwrap().1.get(), "1");
        queue.config = Some(payload(9));
        queue.push_front("config:update", payload(8));
        assert_eq!(
            queue.next().unwrap().1.get(),
            "9",
            "a newer snapshot wins over a retried one"
        );
    }
}
