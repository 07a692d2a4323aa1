//! Prometheus metrics (CONTRACT §8): one explicit registry per core (several cores in one
//! process — the tests — never share a counter), rendered in the Prometheus text format by the
//! `prometheus` crate, whose `process` feature reads `/proc/self` for the standard
//! `process_*` metrics.
//!
//! What the core already counts (MQTT messages, stored changes) stays counted where it
//! happens: at each scrape the registry's counters are brought up to those counts, and the
//! gauges (services, devices, checks) are set from the same readings `/api/system…` answers
//! with. Only what nothing else counts — HTTP requests and their durations, socket.io
//! clients and dropped messages — is counted here directly.

use crate::Core;
use crate::checks::Severity;
use crate::health::ConfigState;
use crate::mqtt::payloads::HealthStatus;
use parking_lot::Mutex;
use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, IntGaugeVec, Opts,
    Registry, TextEncoder,
};

/// The content type of [`Metrics::render`]'s text.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Request durations' buckets, in seconds: from a cached answer to a slow disk.
const DURATION_BUCKETS: [f64; 12] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
];

/// A core's metrics; shared by its faces (`Core.metrics`).
pub struct Metrics {
    registry: Registry,
    /// One scrape at a time brings the counters up to date.
    scrape: Mutex<()>,
    mqtt_connected: IntGauge,
    mqtt_received: IntCounter,
    mqtt_invalid: IntCounter,
    mqtt_published: IntCounter,
    mqtt_reconnects: IntCounter,
    service_up: IntGaugeVec,
    service_trouble: IntGaugeVec,
    service_config_state: IntGaugeVec,
    devices: IntGaugeVec,
    config_changes: IntCounterVec,
    checks: IntGaugeVec,
    http_requests: IntCounterVec,
    http_duration: HistogramVec,
    socketio_clients: IntGauge,
    socketio_dropped: IntCounter,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Metrics {
    /// A fresh registry with every metric of CONTRACT §8 (and the process collector).
    pub fn new() -> Self {
        let registry = Registry::new();
        let counter = |name: &str, help: &str| {
            let metric = IntCounter::new(name, help).expect("a valid counter name");
            registry
                .register(Box::new(metric.clone()))
                .expect("registered once");
            metric
        };
        let gauge = |name: &str, help: &str| {
            let metric = IntGauge::new(name, help).expect("a valid gauge name");
            registry
                .register(Box::new(metric.clone()))
                .expect("registered once");
            metric
        };
        let gauges = |name: &str, help: &str, labels: &[&str]| {
            let metric =
                IntGaugeVec::new(Opts::new(name, help), labels).expect("a valid gauge name");
            registry
                .register(Box::new(metric.clone()))
                .expect("registered once");
            metric
        };
        let counters = |name: &str, help: &str, labels: &[&str]| {
            let metric =
                IntCounterVec::new(Opts::new(name, help), labels).expect("a valid counter name");
            registry
                .register(Box::new(metric.clone()))
                .expect("registered once");
            metric
        };
        let http_duration = HistogramVec::new(
            HistogramOpts::new(
                "alicia_http_request_duration_seconds",
                "Time to answer an HTTP request, by method and route pattern.",
            )
            .buckets(DURATION_BUCKETS.to_vec()),
            &["method", "route"],
        )
        .expect("a valid histogram");
        registry
            .register(Box::new(http_duration.clone()))
            .expect("registered once");
        #[cfg(target_os = "linux")]
        if let Err(error) = registry.register(Box::new(
            prometheus::process_collector::ProcessCollector::for_self(),
        )) {
            tracing::warn!(%error, "the process metrics are not available");
        }
        Self {
            mqtt_connected: gauge(
                "alicia_mqtt_connected",
                "1 while the manager is connected to its MQTT broker.",
            ),
            mqtt_received: counter(
                "alicia_mqtt_messages_received_total",
                "MQTT messages received since start, on every subscribed topic.",
            ),
            mqtt_invalid: counter(
                "alicia_mqtt_messages_invalid_total",
                "MQTT messages that did not parse, had the wrong shape or were over their limit.",
            ),
            mqtt_published: counter(
                "alicia_mqtt_messages_published_total",
                "MQTT messages this manager published since start.",
            ),
            mqtt_reconnects: counter(
                "alicia_mqtt_reconnects_total",
                "Reconnections to the MQTT broker after the first connection.",
            ),
            service_up: gauges(
                "alicia_service_up",
                "1 when the service reports healthy within its TTL, else 0.",
                &["service", "type"],
            ),
            service_trouble: gauges(
                "alicia_service_in_trouble",
                "1 when the service is in trouble (enabled, and unhealthy, stale or refusing its config: CONTRACT §10), else 0.",
                &["service", "type"],
            ),
            service_config_state: gauges(
                "alicia_service_config_state",
                "1 for the service's current config state, 0 for the others.",
                &["service", "state"],
            ),
            devices: gauges(
                "alicia_devices",
                "Devices in the registry, online and offline.",
                &["state"],
            ),
            config_changes: counters(
                "alicia_config_changes_total",
                "Config changes stored since start, by the channel they came by.",
                &["source"],
            ),
            checks: gauges(
                "alicia_checks",
                "Findings of the checks across services, by severity.",
                &["severity"],
            ),
            http_requests: counters(
                "alicia_http_requests_total",
                "HTTP requests answered, by method, route pattern and status.",
                &["method", "route", "status"],
            ),
            http_duration,
            socketio_clients: gauge(
                "alicia_socketio_clients",
                "socket.io clients connected now.",
            ),
            socketio_dropped: counter(
                "alicia_socketio_dropped_total",
                "mqtt:message events dropped from slow socket.io clients' queues.",
            ),
            registry,
            scrape: Mutex::new(()),
        }
    }

    /// An HTTP request answered: `route` is the route's pattern (never the raw path).
    pub fn http_request(&self, method: &str, route: &str, status: u16, seconds: f64) {
        self.http_requests
            .with_label_values(&[method, route, &status.to_string()])
            .inc();
        self.http_duration
            .with_label_values(&[method, route])
            .observe(seconds);
    }

    /// How many socket.io clients are connected now.
    pub fn set_socketio_clients(&self, clients: usize) {
        self.socketio_clients.set(clients as i64);
    }

    /// `count` messages were dropped from slow socket.io clients' queues.
    pub fn socketio_dropped(&self, count: u64) {
        self.socketio_dropped.inc_by(count);
    }

    /// Every metric now, in the Prometheus text format.
    pub fn render(&self, core: &Core) -> String {
        let _one_scrape = self.scrape.lock();
        self.read_core(core);
        let mut text = Vec::new();
        if let Err(error) = TextEncoder::new().encode(&self.registry.gather(), &mut text) {
            tracing::warn!(%error, "the metrics could not be encoded");
        }
        String::from_utf8(text).unwrap_or_default()
    }

    /// Brings the counters up to what the core counted, and sets the gauges from the same
    /// readings its REST answers use.
    fn read_core(&self, core: &Core) {
        self.mqtt_connected.set(i64::from(core.mqtt.is_connected()));
        let stats = core.mqtt.stats();
        catch_up(&self.mqtt_received, stats.messages_received);
        catch_up(&self.mqtt_invalid, stats.messages_invalid);
        catch_up(&self.mqtt_published, stats.messages_published);
        catch_up(&self.mqtt_reconnects, stats.reconnects);
        for (source, stored) in core.config.stored_by_source() {
            catch_up(
                &self.config_changes.with_label_values(&[source.as_str()]),
                stored,
            );
        }
        let (rows, checks) = core.overview_and_checks();
        self.service_up.reset();
        self.service_trouble.reset();
        self.service_config_state.reset();
        for row in &rows {
            let kind = match (row.service_type, row.manager) {
                (Some(service_type), _) => service_type.as_str(),
                (None, true) => "manager",
                (None, false) => "unknown",
            };
            let up = row.status == HealthStatus::Healthy && !row.stale;
            self.service_up
                .with_label_values(&[row.service_name.as_str(), kind])
                .set(i64::from(up));
            self.service_trouble
                .with_label_values(&[row.service_name.as_str(), kind])
                .set(i64::from(row.in_trouble));
            for state in [
                ConfigState::Applied,
                ConfigState::Pending,
                ConfigState::Refused,
                ConfigState::Unknown,
            ] {
                self.service_config_state
                    .with_label_values(&[row.service_name.as_str(), state.as_str()])
                    .set(i64::from(row.config_state == state));
            }
        }
        let (online, total) = core.devices.counts();
        self.devices
            .with_label_values(&["online"])
            .set(online as i64);
        self.devices
            .with_label_values(&["offline"])
            .set((total - online) as i64);
        for (severity, name) in [(Severity::Error, "error"), (Severity::Warning, "warning")] {
            let found = checks.iter().filter(|c| c.severity == severity).count();
            self.checks.with_label_values(&[name]).set(found as i64);
        }
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

/// Moves `counter` up to `total` (counts only grow; a smaller total leaves it as it is).
fn catch_up(counter: &IntCounter, total: u64) {
    let behind = total.saturating_sub(counter.get());
    if behind > 0 {
        counter.inc_by(behind);
    }
}
