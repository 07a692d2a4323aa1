//! MQTT traffic counters: what the connection and the handler count, and `/metrics` and
//! `GET /api/system` serve.

use std::sync::atomic::AtomicU64;

/// MQTT traffic counters.
#[derive(Debug, Default)]
pub struct Counters {
    /// MQTT messages received since start, on every subscribed topic.
    pub received: AtomicU64,
    /// Messages that did not parse or had the wrong shape.
    pub invalid: AtomicU64,
    /// MQTT messages this manager published since start.
    pub published: AtomicU64,
    /// Successful reconnections after the first connection.
    pub reconnects: AtomicU64,
    /// Failed connection attempts and dropped connections.
    pub connection_failures: AtomicU64,
    /// Messages about a new device refused because the registry was full (CONTRACT §6).
    pub devices_refused: AtomicU64,
    /// Messages about a new service refused because the most services were known.
    pub services_refused: AtomicU64,
}
