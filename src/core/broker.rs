//! The embedded MQTT broker (rumqttd), started when no broker is named so that a fresh
//! machine needs nothing else. It listens on loopback unless the admin binds it wider
//! (`ALICIA_BROKER_BIND`, which then requires a login: rumqttd has no per-topic rights), runs
//! on its own named thread (its `start` blocks and spawns runtimes of its own) and lives as
//! long as the process.

use crate::core::limits::EMBEDDED_BROKER_PAYLOAD_LIMIT;
use crate::core::secret::Secret;
use std::collections::HashMap;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::time::{Duration, Instant};

/// How long to wait for the broker to accept connections after starting it.
const READY_TIMEOUT: Duration = Duration::from_secs(10);

/// A running embedded broker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EmbeddedBroker {
    addr: SocketAddr,
}

impl EmbeddedBroker {
    /// Where it listens.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
}

/// Why the embedded broker could not start.
#[derive(Debug, thiserror::Error)]
pub enum BrokerError {
    /// Something already listens there (often another MQTT broker).
    #[error(
        "cannot start the embedded MQTT broker: {addr} is already in use (another MQTT broker \
         is probably running there). Use that broker instead with `--broker mqtt://{addr}` \
         (or MQTT_BROKER={ip} MQTT_PORT={port}), or give the embedded broker another port \
         with MQTT_PORT"
    , ip = addr.ip(), port = addr.port())]
    PortInUse {
        /// The address.
        addr: SocketAddr,
    },
    /// The address cannot be bound for another reason.
    #[error("cannot start the embedded MQTT broker on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The OS error.
        source: std::io::Error,
    },
    /// The broker did not come up.
    #[error("the embedded MQTT broker on {addr} did not start: {reason}")]
    NotStarted {
        /// The address.
        addr: SocketAddr,
        /// What went wrong.
        reason: String,
    },
}

/// Starts the embedded broker on `addr` and waits until it accepts connections; with a
/// `login`, it accepts only clients that present it.
pub fn start_embedded_broker(
    addr: SocketAddr,
    login: Option<(String, Secret)>,
) -> Result<EmbeddedBroker, BrokerError> {
    match TcpListener::bind(addr) {
        Ok(probe) => drop(probe),
        Err(error) if error.kind() == std::io::ErrorKind::AddrInUse => {
            return Err(BrokerError::PortInUse { addr });
        }
        Err(source) => return Err(BrokerError::Bind { addr, source }),
    }
    let config = broker_config(addr, login);
    let thread = std::thread::Builder::new()
        .name("embedded-mqtt-broker".to_owned())
        .spawn(move || {
            let mut broker = rumqttd::Broker::new(config);
            if let Err(error) = broker.start() {
                tracing::error!(%error, "the embedded MQTT broker stopped");
            }
        })
        .map_err(|error| BrokerError::NotStarted {
            addr,
            reason: error.to_string(),
        })?;
    let deadline = Instant::now() + READY_TIMEOUT;
    loop {
        if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
            return Ok(EmbeddedBroker { addr });
        }
        if thread.is_finished() || Instant::now() > deadline {
            return Err(BrokerError::NotStarted {
                addr,
                reason: "it does not accept connections (see the log above)".to_owned(),
            });
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn broker_config(addr: SocketAddr, login: Option<(String, Secret)>) -> rumqttd::Config {
    let connections = rumqttd::ConnectionSettings {
        connection_timeout_ms: 10_000,
        // The guard against larger packets (CONTRACT §6): rumqttd holds whole packets in
        // its logs and connection buffers, in this process.
        max_payload_size: EMBEDDED_BROKER_PAYLOAD_LIMIT,
        max_inflight_count: 100,
        auth: login.map(|(user, password)| HashMap::from([(user, password.expose().to_owned())])),
        external_auth: None,
        dynamic_filters: true,
    };
    let server = rumqttd::ServerSettings {
        name: "embedded-v4".to_owned(),
        listen: addr,
        tls: None,
        next_connection_delay_ms: 1,
        connections,
    };
    rumqttd::Config {
        id: 0,
        router: rumqttd::RouterConfig {
            max_connections: 10_010,
            max_outgoing_packet_count: 200,
            // Each subscription filter keeps its recent messages in memory: 48 MiB, enough
            // for a burst of 20,000 device states, and bounded for a flood (3 segments, each
            // over its size by at most one packet).
            max_segment_size: 16 * 1024 * 1024,
            max_segment_count: 3,
            custom_segment: None,
            initialized_filters: None,
            shared_subscriptions_strategy: Default::default(),
        },
        v4: Some(HashMap::from([("1".to_owned(), server)])),
        ..rumqttd::Config::default()
    }
}
