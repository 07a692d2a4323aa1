//! The MQTT message handler over real core parts — a config store in a temp folder (its writer
//! not running: the handler only queues changes) and fresh registries — without a broker. The
//! handler tests, the hostile-input properties and the handler benchmark all start here.

use alicia_config_manager::core::commands::{CommandLog, DEFAULT_COMMAND_TIMEOUT};
use alicia_config_manager::core::config::{ConfigPaths, ConfigService};
use alicia_config_manager::core::devices::DeviceRegistry;
use alicia_config_manager::core::events::{CoreEvent, EventBus};
use alicia_config_manager::core::fleet::Fleet;
use alicia_config_manager::core::fleet::remote::RemoteEdits;
use alicia_config_manager::core::health::HealthRegistry;
use alicia_config_manager::core::messages::MessageLog;
use alicia_config_manager::core::mqtt::MqttHandle;
use alicia_config_manager::core::mqtt::handler::{Counters, FleetLink, MessageHandler};
use alicia_config_manager::core::mqtt::topics::Topics;
use alicia_config_manager::core::settings::Settings;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::broadcast;

/// A handler and the parts it changes.
pub struct HandlerFixture {
    /// The handler under test.
    pub handler: MessageHandler,
    /// Its config store.
    pub config: ConfigService,
    /// Its device registry.
    pub devices: DeviceRegistry,
    /// The commands it finishes.
    pub commands: CommandLog,
    /// Its health registry.
    pub health: HealthRegistry,
    /// Its message ring.
    pub messages: MessageLog,
    /// Its traffic counters.
    pub counters: Arc<Counters>,
    /// Every event it emits, from the start.
    pub events: broadcast::Receiver<CoreEvent>,
    /// The store's folder (removed on drop).
    pub dir: tempfile::TempDir,
}

impl HandlerFixture {
    /// A lone authority's handler: services go stale after `health_ttl`, the ring keeps
    /// `ring` messages, the store keeps `history_limit` revisions a service.
    pub fn new(health_ttl: Duration, ring: usize, history_limit: usize) -> Self {
        let dir = tempfile::tempdir().expect("a temp dir");
        let bus = EventBus::default();
        let events = bus.subscribe();
        let (config, _writer, _) =
            ConfigService::open(ConfigPaths::in_dir(dir.path()), bus.clone(), history_limit)
                .expect("the store opens");
        let devices = DeviceRegistry::default();
        let health = HealthRegistry::new(health_ttl);
        let messages = MessageLog::new(ring);
        let counters = Arc::new(Counters::default());
        let commands = CommandLog::new(DEFAULT_COMMAND_TIMEOUT);
        let handler = MessageHandler::new(
            Topics::default(),
            config.clone(),
            devices.clone(),
            health.clone(),
            messages.clone(),
            bus,
            Arc::clone(&counters),
        )
        .with_commands(commands.clone());
        Self {
            handler,
            config,
            devices,
            commands,
            health,
            messages,
            counters,
            events,
            dir,
        }
    }

    /// Hands the handler one message, as the connection task does.
    pub fn handle(
        &self,
        topic: &str,
        payload: impl AsRef<[u8]>,
        retained: bool,
    ) -> Vec<alicia_config_manager::core::mqtt::handler::Action> {
        self.handler.handle(
            topic,
            bytes::Bytes::copy_from_slice(payload.as_ref()),
            retained,
        )
    }

    /// The events emitted since the last call.
    pub fn events(&mut self) -> Vec<CoreEvent> {
        std::iter::from_fn(|| self.events.try_recv().ok()).collect()
    }

    /// The same handler playing `fleet`'s role (a follower's, say), with a route to the
    /// authority that is never connected.
    pub fn playing(mut self, fleet: Fleet) -> Self {
        let settings = Settings::defaults_in(self.dir.path());
        let (mqtt, _eventloop) =
            MqttHandle::new(&settings, fleet.clone(), Arc::clone(&self.counters))
                .expect("the MQTT options build");
        let remote = RemoteEdits::new(fleet.clone(), mqtt);
        self.handler = self.handler.with_fleet(FleetLink { fleet, remote });
        self
    }
}
