//! The embedded MQTT broker (rumqttd), started when no broker is named so that a fresh
//! machine needs nothing else. It listens on loopback unless the admin binds it wider
//! (`ALICIA_BROKER_BIND`, which then requires a login: rumqttd has no per-topic rights), runs
//! on its own named thread (its `start` blocks and spawns runtimes of its own) and lives as
//! long as the process.

use crate::limits::EMBEDDED_BROKER_PAYLOAD_LIMIT;
use crate::secret::Secret;
use std::collections::HashMap;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::time::{Duration, Instant};

/// How long to wait for the broker to accept connections after starting it.
const READY_TIMEOUT: Duration = Duration::from_secs(10);

/// What the embedded broker may hold, sized for a household (settings file keys
/// `embedded_broker_log_bytes` and `embedded_broker_max_connections`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BrokerLimits {
    /// Memory each subscription filter's log of recent messages may take, in bytes (counted
    /// as rumqttd counts it: topic and payload). The log is [`LOG_SEGMENTS`] segments, each
    /// over its share by at most one packet; when the last is full the oldest is dropped, so
    /// the log holds between 7/8 of this and all of it, and a subscriber more than 7/8 of it
    /// behind skips what it missed. 32 MiB holds 28 MiB of backlog — more than the 24 MiB
    /// the 48 MiB two-segment log of earlier builds did — enough for a burst of 20,000
    /// messages of 2 KiB and the ingest bench's 100,000 msgs/s flood on two shared cores;
    /// 16 MiB saves 16 MiB more for every busy filter where such floods never come
    /// (BENCHMARKS.md "Footprint").
    pub log_bytes: usize,
    /// Clients connected at once (the router reserves its tables for this many; reserved,
    /// not resident, until used).
    pub max_connections: usize,
}

/// The default memory of each filter's log.
pub const DEFAULT_BROKER_LOG_BYTES: usize = 32 * 1024 * 1024;
/// How many segments each filter's log is cut into: the log drops its oldest segment at a
/// time, so more segments keep more of the budget as backlog (7/8 with eight) where two
/// kept only half.
pub const LOG_SEGMENTS: usize = 8;
/// The least memory of each filter's log the settings may ask for.
pub const MIN_BROKER_LOG_BYTES: usize = 1024 * 1024;
/// The default number of clients connected at once.
pub const DEFAULT_BROKER_MAX_CONNECTIONS: usize = 10_010;

impl Default for BrokerLimits {
    fn default() -> Self {
        Self {
            log_bytes: DEFAULT_BROKER_LOG_BYTES,
            max_connections: DEFAULT_BROKER_MAX_CONNECTIONS,
        }
    }
}

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

/// Starts the embedded broker on `addr` within `limits` and waits until it accepts
/// connections; with a `login`, it accepts only clients that present it.
pub fn start_embedded_broker(
    addr: SocketAddr,
    login: Option<(String, Secret)>,
    limits: BrokerLimits,
) -> Result<EmbeddedBroker, BrokerError> {
    match TcpListener::bind(addr) {
        Ok(probe) => drop(probe),
        Err(error) if error.kind() == std::io::ErrorKind::AddrInUse => {
            return Err(BrokerError::PortInUse { addr });
        }
        Err(source) => return Err(BrokerError::Bind { addr, source }),
    }
    let config = broker_config(addr, login, limits);
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

fn broker_config(
    addr: SocketAddr,
    login: Option<(String, Secret)>,
    limits: BrokerLimits,
) -> rumqttd::Config {
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
            max_connections: limits.max_connections.max(1),
            max_outgoing_packet_count: 200,
            // Each subscription filter keeps its recent messages in memory, bounded for a
            // flood (LOG_SEGMENTS segments, each over its size by at most one packet).
            max_segment_size: limits.log_bytes.max(MIN_BROKER_LOG_BYTES) / LOG_SEGMENTS,
            max_segment_count: LOG_SEGMENTS,
            custom_segment: None,
            initialized_filters: None,
            shared_subscriptions_strategy: Default::default(),
        },
        v4: Some(HashMap::from([("1".to_owned(), server)])),
        ..rumqttd::Config::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_router_is_sized_by_the_limits() {
        let addr = SocketAddr::from(([127, 0, 0, 1], 0));
        let limits = BrokerLimits {
            log_bytes: 8 << 20,
            max_connections: 40,
        };
        let router = broker_config(addr, None, limits).router;
        assert_eq!(router.max_segment_size * router.max_segment_count, 8 << 20);
        assert_eq!(router.max_segment_count, LOG_SEGMENTS);
        assert_eq!(router.max_connections, 40);
        let floor = BrokerLimits {
            log_bytes: 0,
            max_connections: 0,
        };
        let router = broker_config(addr, None, floor).router;
        assert_eq!(
            router.max_segment_size * router.max_segment_count,
            MIN_BROKER_LOG_BYTES
        );
        assert_eq!(router.max_connections, 1);
    }
}
