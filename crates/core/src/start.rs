//! Starting the core: the folder claimed, the config store opened, the role chosen, the
//! embedded broker when no broker is named, and every task spawned on the current runtime.

use super::*;
use crate::sweeper::run_health_sweeper;

impl Core {
    /// Starts everything: opens the config store, starts the embedded broker when no broker
    /// is named, and spawns the MQTT connection, the config writer and publisher, the presence
    /// heartbeat and the health sweeper on the current runtime.
    pub async fn start(settings: Settings) -> Result<(Core, CoreRuntime), StartError> {
        let settings = Arc::new(settings);
        let events = EventBus::default();
        let dir = settings.config_dir.clone();
        let claim = tokio::task::spawn_blocking(move || claim_folder(&dir))
            .await
            .map_err(|e| StartError::Other(e.to_string()))??;
        let paths = ConfigPaths::in_dir(&settings.config_dir);
        let history_limit = settings.history_limit;
        let config_events = events.clone();
        let (config, writer, open_report) = tokio::task::spawn_blocking(move || {
            ConfigService::open(paths, config_events, history_limit)
        })
        .await
        .map_err(|e| StartError::Other(e.to_string()))??;

        let broker = match settings.broker {
            BrokerTarget::Embedded { port } => {
                let addr = SocketAddr::from((settings.embedded_broker_bind, port));
                let login = settings
                    .mqtt_username
                    .clone()
                    .zip(settings.mqtt_password.clone());
                let limits = settings.embedded_broker_limits;
                let broker =
                    tokio::task::spawn_blocking(move || start_embedded_broker(addr, login, limits))
                        .await
                        .map_err(|e| StartError::Other(e.to_string()))??;
                Some(broker)
            }
            BrokerTarget::External(_) => None,
        };

        let role = choose_role(&settings, &claim.instance_id).await;
        let fleet = Fleet::new(claim.instance_id.clone(), role);
        tracing::info!(
            instance_id = fleet.instance_id(),
            role = fleet.role().as_str(),
            "{}",
            fleet.describe()
        );
        let counters = Arc::new(Counters::default());
        let (mqtt, eventloop) = MqttHandle::new(&settings, fleet.clone(), Arc::clone(&counters))
            .map_err(StartError::Mqtt)?;
        let remote = RemoteEdits::new(fleet.clone(), mqtt.clone());
        config.set_remote(Arc::new(remote.clone()));
        let devices = DeviceRegistry::with_limits(settings.max_devices, devices::STATE_BUDGET);
        let health = HealthRegistry::new(Duration::from_secs(settings.health_ttl_secs));
        let commands = CommandLog::new(Duration::from_secs(settings.command_timeout_secs));
        let messages =
            MessageLog::with_budget(settings.message_log_capacity, settings.message_log_bytes);
        let settings_dir = settings.config_dir.clone();
        let safe_apply = safe_apply::SafeApply::new(Some(&settings_dir));
        // Watches survive nothing: what the last run was watching is confirmed (and logged).
        safe_apply.forget_previous_run();
        let handler = MessageHandler::new(
            mqtt.topics().clone(),
            config.clone(),
            devices.clone(),
            health.clone(),
            messages.clone(),
            events.clone(),
            counters,
        )
        .with_fleet(FleetLink {
            fleet: fleet.clone(),
            remote: remote.clone(),
        })
        .with_owned(Arc::clone(mqtt.owned()))
        .with_max_services(settings.max_services)
        .with_commands(commands.clone())
        .with_safe_apply(safe_apply.clone());
        let changes = change_sets::ChangeSets::new(
            config.clone(),
            health.clone(),
            safe_apply.clone(),
            settings.safe_apply_secs,
        )
        .with_remote(remote.clone());
        let ha = ha::HomeAssistant::new(
            settings.ha_discovery,
            &settings.ha_prefix,
            &settings.config_dir,
        );
        let core = Core {
            settings_file: SettingsStore::new(settings.settings_file()),
            settings,
            config: config.clone(),
            devices,
            commands,
            health,
            messages,
            mqtt: mqtt.clone(),
            events: events.clone(),
            api: ApiSwitch::default(),
            fleet,
            safe_apply,
            changes,
            metrics: Arc::new(metrics::Metrics::new()),
            ha,
            documents_json: documents_json::DocumentsJson::default(),
            started: Instant::now(),
        };

        let (shutdown, shutdown_rx) = watch::channel(false);
        let connection =
            ConnectionTask::new(eventloop, mqtt.clone(), handler, config.clone(), events)
                .with_remote(remote)
                .with_safe_apply(
                    core.safe_apply.clone(),
                    core.health.clone(),
                    core.settings.safe_apply_secs,
                )
                .with_change_sets(core.changes.clone())
                .with_home_assistant(core.ha.clone());
        let runtime = CoreRuntime {
            writer: tokio::spawn(writer.run()),
            connection: tokio::spawn(connection.run(shutdown_rx.clone())),
            helpers: vec![
                tokio::spawn(mqtt::publisher::run_config_publisher(
                    config,
                    mqtt.clone(),
                    shutdown_rx.clone(),
                )),
                tokio::spawn(mqtt::schema_publisher::run_schema_publisher(
                    core.config.clone(),
                    mqtt.clone(),
                    shutdown_rx.clone(),
                )),
                tokio::spawn(mqtt::publisher::run_presence(mqtt, shutdown_rx.clone())),
                tokio::spawn(safe_apply::run_watches(
                    core.safe_apply.clone(),
                    core.changes.clone(),
                    core.config.clone(),
                    core.health.clone(),
                    core.events.clone(),
                    shutdown_rx.clone(),
                )),
                tokio::spawn(ha::run_publisher(core.clone(), shutdown_rx.clone())),
                tokio::spawn(run_health_sweeper(core.clone(), shutdown_rx)),
            ],
            shutdown,
            broker,
            open_report,
            _claim: claim,
        };
        Ok((core, runtime))
    }
}

/// The role to start in (CONTRACT §5): as asked, or with `auto` a follower when a live
/// authority is already announced on the broker.
async fn choose_role(settings: &Settings, instance_id: &str) -> RoleState {
    let now = clock::now_rfc3339();
    match settings.role {
        RoleSetting::Authority => RoleState::authority(now, false),
        RoleSetting::Follower => RoleState::follower(None),
        RoleSetting::Auto if matches!(settings.broker, BrokerTarget::Embedded { .. }) => {
            RoleState::authority(now, false)
        }
        RoleSetting::Auto => match find_live_authority(settings, instance_id).await {
            Found::Authority {
                instance_id,
                timestamp,
            } => RoleState::follower(Some(KnownAuthority {
                instance_id,
                alive: true,
                last_seen: timestamp,
            })),
            Found::Nobody => RoleState::authority(now, false),
            Found::Unreachable(reason) => {
                tracing::warn!(%reason, "could not look for a running authority; starting as a provisional authority that yields to any other");
                RoleState::authority(now, true)
            }
        },
    }
}
