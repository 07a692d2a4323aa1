//! The core: configs, devices, health, the message log and MQTT, on a background tokio
//! runtime. It imports neither egui nor axum: the GUI, the REST server and MQTT `/set`
//! requests all call the same [`Core`] methods and hear the same [`events::CoreEvent`]s.

pub mod api_switch;
pub mod backend;
pub mod backup;
pub mod broker;
pub mod change_sets;
pub mod clock;
pub mod commands;
pub mod config;
pub mod devices;
pub mod documents_json;
pub mod events;
pub mod fleet;
pub mod fsutil;
pub mod ha;
pub mod health;
pub mod kiosk_pin;
pub mod lan;
pub mod messages;
pub mod metrics;
pub mod mqtt;
pub mod overview;
pub mod random;
pub mod safe_apply;
pub mod settings;
pub mod system;
pub mod transfer;

mod runtime;
mod start;
mod sweeper;

// The model's pure parts, under the names the core has always used.
pub use alicia_model::{checks, json_footprint, limits, secret, trouble};

use api_switch::{ApiStatus, ApiSwitch};
use broker::{BrokerError, EmbeddedBroker, start_embedded_broker};
use commands::CommandLog;
use config::{ConfigPaths, ConfigService, OpenError, OpenReport};
use devices::DeviceRegistry;
use events::{CoreEvent, EventBus};
use fleet::authority_probe::{Found, find_live_authority};
use fleet::identity::{ClaimError, FolderClaim, claim_folder};
use fleet::remote::RemoteEdits;
use fleet::state::{KnownAuthority, Reaction, RoleState};
use fleet::{Fleet, RoleSetting};
use health::HealthRegistry;
use messages::MessageLog;
use mqtt::connection::ConnectionTask;
use mqtt::handler::{Counters, FleetLink, MessageHandler};
use mqtt::payloads::{DeviceCommand, HealthStatus};
use mqtt::{MqttHandle, PublishError, QoS};
use overview::ServiceOverview;
use serde_json::{Map, Value};
use settings::{BrokerTarget, Settings, SettingsStore};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};
use system::{ApiInfo, HealthFlags, LimitsInfo, MqttInfo, SystemInfo};
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// Handles to every part of the core; cheap to clone.
#[derive(Clone)]
pub struct Core {
    /// The settings resolved at start (flags, environment, settings file, defaults).
    pub settings: Arc<Settings>,
    /// The settings file, for changes made while running (they apply at the next start).
    pub settings_file: SettingsStore,
    /// The service configs: documents, revisions, history and the change API.
    pub config: ConfigService,
    /// The devices reported on the bus.
    pub devices: DeviceRegistry,
    /// Commands sent to devices and their outcomes (CONTRACT §9).
    pub commands: CommandLog,
    /// Service health, announcements and acks.
    pub health: HealthRegistry,
    /// The ring of recent MQTT messages.
    pub messages: MessageLog,
    /// The broker connection.
    pub mqtt: MqttHandle,
    /// The stream of everything that changes, for every face.
    pub events: EventBus,
    /// The embedded REST server's on/off switch.
    pub api: ApiSwitch,
    /// This manager's identity and role on the fleet.
    pub fleet: Fleet,
    /// Changes on watch (CONTRACT §7).
    pub safe_apply: safe_apply::SafeApply,
    /// Several services changed as one (CONTRACT §7).
    pub changes: change_sets::ChangeSets,
    /// Prometheus metrics (CONTRACT §8): this core's own registry.
    pub metrics: Arc<metrics::Metrics>,
    /// Home Assistant MQTT discovery (CONTRACT §8).
    pub ha: ha::HomeAssistant,
    documents_json: documents_json::DocumentsJson,
    started: Instant,
}

/// The core's background tasks; stop them with [`CoreRuntime::shutdown`].
pub struct CoreRuntime {
    shutdown: watch::Sender<bool>,
    writer: JoinHandle<()>,
    connection: JoinHandle<()>,
    helpers: Vec<JoinHandle<()>>,
    broker: Option<EmbeddedBroker>,
    open_report: OpenReport,
    _claim: FolderClaim,
}

/// Why the core could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The config folder is used by another manager.
    #[error(transparent)]
    Claim(#[from] ClaimError),
    /// The config store.
    #[error(transparent)]
    Config(#[from] OpenError),
    /// The embedded broker.
    #[error(transparent)]
    Broker(#[from] BrokerError),
    /// The MQTT client settings.
    #[error("MQTT: {0}")]
    Mqtt(String),
    /// Anything else.
    #[error("{0}")]
    Other(String),
}

/// Why a device command was not sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CommandError {
    /// No such device.
    #[error("no device {0}")]
    UnknownDevice(String),
    /// The command name is empty.
    #[error("`command` must be a non-empty string")]
    MissingCommand,
    /// The broker is down (or the queue full).
    #[error(transparent)]
    Publish(#[from] PublishError),
}

impl Core {
    /// Seconds since start.
    pub fn uptime_secs(&self) -> u64 {
        self.started.elapsed().as_secs()
    }

    /// `GET /api/health`'s flags.
    pub fn health_flags(&self) -> HealthFlags {
        HealthFlags {
            mqtt: self.mqtt.is_connected(),
            config: self.config.is_ready(),
            device: self.mqtt.is_connected(),
        }
    }

    /// `GET /api/system`.
    pub fn system_info(&self) -> SystemInfo {
        let api = match self.api.status() {
            ApiStatus::Running {
                addr,
                auth_required,
            } => ApiInfo {
                bind: addr.to_string(),
                auth_required,
            },
            _ => {
                let settings = &self.settings.api;
                ApiInfo {
                    bind: settings.addr().to_string(),
                    auth_required: settings.auth_required(),
                }
            }
        };
        SystemInfo {
            version: env!("CARGO_PKG_VERSION").to_owned(),
            uptime_secs: self.uptime_secs(),
            instance_id: self.fleet.instance_id().to_owned(),
            role: self.fleet.role(),
            mqtt: MqttInfo {
                url: self.mqtt.url().to_owned(),
                embedded: self.mqtt.embedded(),
                connected: self.mqtt.is_connected(),
                subscriptions_refused: self.mqtt.subscriptions_refused(),
                stats: self.mqtt.stats(),
            },
            api,
            limits: {
                let (devices_refused, services_refused) = self.mqtt.refused();
                LimitsInfo {
                    devices_refused,
                    services_refused,
                    max_devices: self.settings.max_devices,
                    max_services: self.settings.max_services,
                }
            },
        }
    }

    /// Every document as shown to clients (see [`Core::client_document`]), as the JSON
    /// object keyed by service name. Cached: rebuilt only when a document or a shown status
    /// changed, so busy REST and socket.io readers share one serialization.
    pub fn client_documents_json(&self) -> bytes::Bytes {
        let snapshot = self.config.snapshot();
        let statuses: Vec<Option<HealthStatus>> = snapshot
            .documents
            .keys()
            .map(|name| self.shown_status(name))
            .collect();
        let schemas = self.config.schemas_generation();
        self.documents_json
            .get_or_build(&snapshot, statuses, schemas, |snapshot| {
                let documents: Map<String, Value> = snapshot
                    .documents
                    .iter()
                    .map(|(name, stored)| {
                        (name.clone(), self.client_document(name, &stored.document))
                    })
                    .collect();
                serde_json::to_string(&documents).unwrap_or_else(|_| "{}".to_owned())
            })
    }

    /// A document as shown outside the app (REST, socket.io, exports): `api_key` masked, and
    /// `status` the live one from the health topic when the service has been heard from.
    pub fn client_document(&self, service: &str, document: &Value) -> Value {
        let mut shown = self.config.mask(service, document);
        if let Some(status) = self.shown_status(service)
            && let Some(fields) = shown.as_object_mut()
        {
            fields.insert(
                "status".to_owned(),
                Value::String(status.as_str().to_owned()),
            );
        }
        shown
    }

    /// The status a service shows: what it last reported, `unknown` once stale; `None` when
    /// it was never heard from.
    pub fn shown_status(&self, service: &str) -> Option<HealthStatus> {
        let reported = self.health.get(service)?.reported?;
        Some(if self.health.stale(service) {
            HealthStatus::Unknown
        } else {
            reported
        })
    }

    /// One row per service seen or configured (see [`overview`]), sorted by name.
    pub fn service_overview(&self) -> Vec<ServiceOverview> {
        let snapshot = self.config.snapshot();
        let summaries = self.health.summaries(&snapshot);
        let mut rows = overview::service_overview(&self.config, &self.health, &snapshot, summaries);
        self.mark_watches(&mut rows);
        rows
    }

    /// Stores `document` for `service` (as [`ConfigService::put`]) and puts the change on
    /// watch for `origin.watch` seconds, if any (CONTRACT §7): what REST and the editor do.
    pub async fn put_watched(
        &self,
        service: &str,
        document: Value,
        origin: config::Origin,
        precondition: config::Precondition,
    ) -> Result<config::Committed, config::ConfigError> {
        let watch = origin.watch;
        let committed = self
            .config
            .put(service, document, origin, precondition)
            .await?;
        if let Some(secs) = watch {
            self.safe_apply.start(
                service,
                committed.revision,
                secs,
                &self.health,
                &self.config,
            );
        }
        Ok(committed)
    }

    /// Fills in `watch_until` for the services on watch (CONTRACT §7).
    fn mark_watches(&self, rows: &mut [ServiceOverview]) {
        for row in rows {
            row.watch_until = self.safe_apply.watch_until(&row.service_name);
        }
    }

    /// Problems across services, computed now (see [`checks`]).
    pub fn checks(&self) -> Vec<checks::Check> {
        let snapshot = self.config.snapshot();
        self.all_checks(&snapshot, &self.health.summaries(&snapshot))
    }

    fn all_checks(
        &self,
        snapshot: &config::Snapshot,
        summaries: &[health::ServiceSummary],
    ) -> Vec<checks::Check> {
        let mut found = checks::run_checks(
            snapshot,
            summaries,
            &self.config.schemas(),
            time::OffsetDateTime::now_utc(),
        );
        let refused = self.mqtt.subscriptions_refused();
        if !refused.is_empty() {
            found.extend(checks::manager_checks(&refused));
            checks::sort_checks(&mut found);
        }
        found
    }

    /// The services overview and the checks from one reading of the store and the registry
    /// (for a face that shows both).
    pub fn overview_and_checks(&self) -> (Vec<ServiceOverview>, Vec<checks::Check>) {
        let snapshot = self.config.snapshot();
        let summaries = self.health.summaries(&snapshot);
        let checks = self.all_checks(&snapshot, &summaries);
        let mut rows = overview::service_overview(&self.config, &self.health, &snapshot, summaries);
        self.mark_watches(&mut rows);
        (rows, checks)
    }

    /// Sends a command to a device; returns its `request_id`.
    pub fn send_command(
        &self,
        device_id: &str,
        command: &str,
        params: Map<String, Value>,
    ) -> Result<String, CommandError> {
        if command.trim().is_empty() {
            return Err(CommandError::MissingCommand);
        }
        if self.devices.get(device_id).is_none() {
            return Err(CommandError::UnknownDevice(device_id.to_owned()));
        }
        let request_id = format!("{}-{}", self.fleet.instance_id(), random::unique_id());
        let payload = DeviceCommand {
            request_id: request_id.clone(),
            command: command.to_owned(),
            params,
        };
        let topic = self.mqtt.topics().device_command(device_id);
        self.commands.sent(&request_id, device_id, command);
        self.mqtt.publish(
            &topic,
            serde_json::to_vec(&payload).unwrap_or_default(),
            QoS::AtLeastOnce,
            false,
        )?;
        Ok(request_id)
    }

    /// Forgets a device until it reports again (CONTRACT §9) and clears its retained state and
    /// availability on the broker, so that a restart does not bring it back; `false` when no
    /// such device is known.
    pub fn forget_device(&self, id: &str) -> bool {
        if self.devices.forget(id).is_none() {
            return false;
        }
        tracing::info!(device = id, "device forgotten");
        self.clear_device_topics(id);
        self.events
            .emit(CoreEvent::DeviceRemoved { id: id.to_owned() });
        true
    }

    /// Clears a forgotten device's retained topics (best effort: a broker that is down keeps
    /// them, and the device comes back when they are delivered again).
    fn clear_device_topics(&self, id: &str) {
        let topics = self.mqtt.topics();
        for topic in [topics.device_state(id), topics.device_availability(id)] {
            if let Err(error) = self
                .mqtt
                .publish(&topic, Vec::new(), QoS::AtLeastOnce, true)
            {
                tracing::warn!(device = id, topic, %error, "could not clear a forgotten device's retained topic");
            }
        }
    }

    /// How long devices may stay silent, from the settings.
    fn device_silence(&self) -> devices::Silence {
        devices::Silence {
            stale_after: Duration::from_secs(self.settings.device_stale_secs),
            forget_after: Duration::try_from_secs_f64(self.settings.device_expire_days * 86_400.0)
                .unwrap_or(Duration::MAX),
        }
    }

    /// Marks silent devices stale and forgets those silent too long.
    fn sweep_devices(&self) {
        for change in self.devices.sweep(Instant::now(), self.device_silence()) {
            match change {
                devices::DeviceChange::Updated(device) => {
                    tracing::info!(device = device.id, "device went stale (not heard from)");
                    self.events.emit(CoreEvent::DeviceUpdated(device));
                }
                devices::DeviceChange::Removed(id) => {
                    tracing::info!(device = id, "device forgotten after its expiry time");
                    self.clear_device_topics(&id);
                    self.events.emit(CoreEvent::DeviceRemoved { id });
                }
                devices::DeviceChange::Refused(_) => {}
            }
        }
    }

    /// Asks every service to announce itself again.
    pub fn request_discovery(&self) -> Result<(), PublishError> {
        let topic = self.mqtt.topics().discovery_request();
        self.mqtt
            .publish(&topic, b"{}".to_vec(), QoS::AtLeastOnce, false)
    }
}
