//! The simulated Alicia fleet: services and devices that speak CONTRACT §2 over real MQTT
//! connections, built on the core's topic and payload types so the two cannot drift apart.
//! Used by `alicia-config-manager simulate`, by `--demo`, by the tests and by the benchmarks.
//!
//! What plays:
//! - services of every type announce themselves (with a settings schema), answer discovery
//!   requests, report health on a period (a few flap, the last one goes silent and turns
//!   stale), and acknowledge every config revision — refusing, with a readable reason, a
//!   voice, model or language they do not have;
//! - devices (lights, sensors, thermostats, speakers in named rooms) publish retained state
//!   at the requested total rate, go offline and come back (network speakers hold their own
//!   connection, so their `offline` is a real Last Will), and answer commands (a few fail).
//!
//! Everything that varies is drawn from `--seed`: the same seed plays the same fleet.

pub mod catalog;
pub mod device;
pub mod fleet;
pub mod link;
pub mod service;

use crate::core::clock::now_rfc3339;
use crate::core::mqtt::payloads::{
    CommandResult, ConfigAck, DeviceCommand, HealthReport, HealthStatus,
};
use crate::core::mqtt::topics::{TopicKind, Topics};
use fleet::{Fleet, SimDevice};
use link::{Link, LinkOptions};
use rumqttc::{LastWill, Publish, QoS};
use serde_json::{Map, Value, json};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

/// State changes one publishing connection is given per second before another is opened.
const RATE_PER_LINK: f64 = 40_000.0;
/// How often the rate driver publishes a batch.
const DRIVE_TICK: Duration = Duration::from_millis(10);

/// What to simulate, and where.
#[derive(Debug, Clone, PartialEq)]
pub struct SimOptions {
    /// Broker host.
    pub host: String,
    /// Broker port.
    pub port: u16,
    /// Topic prefix.
    pub prefix: String,
    /// Number of services.
    pub services: usize,
    /// Number of devices.
    pub devices: usize,
    /// Device state changes per second, across the fleet.
    pub rate: f64,
    /// Seed of everything that varies.
    pub seed: u64,
    /// Period of health reports.
    pub health_period: Duration,
    /// Period at which a device drops off (and comes back a little later).
    pub flap_period: Duration,
}

impl SimOptions {
    /// The `--demo` fleet: about 8 services and 200 devices at a calm rate.
    pub fn demo(host: &str, port: u16, prefix: &str) -> Self {
        Self {
            host: host.to_owned(),
            port,
            prefix: prefix.to_owned(),
            services: 8,
            devices: 200,
            rate: 20.0,
            seed: 1,
            health_period: Duration::from_secs(5),
            flap_period: Duration::from_secs(20),
        }
    }
}

/// What a run did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SimReport {
    /// Messages published over every connection.
    pub published: u64,
    /// Config revisions acknowledged as applied.
    pub applied: u64,
    /// Config revisions refused.
    pub refused: u64,
    /// Commands answered.
    pub commands: u64,
}

/// Counters shared by the tasks of a run.
#[derive(Debug, Default)]
struct Tally {
    applied: std::sync::atomic::AtomicU64,
    refused: std::sync::atomic::AtomicU64,
    commands: std::sync::atomic::AtomicU64,
}

type States = Arc<Vec<Mutex<Map<String, Value>>>>;

/// A running simulation; stop it with [`Simulation::stop`].
pub struct Simulation {
    control: Link,
    drivers: Vec<(Link, JoinHandle<()>)>,
    own: Arc<Mutex<HashMap<usize, Link>>>,
    tasks: Vec<JoinHandle<()>>,
    stop: watch::Sender<bool>,
    fleet: Arc<Fleet>,
    topics: Topics,
    tally: Arc<Tally>,
}

impl Simulation {
    /// Connects and starts playing the fleet (returns at once; the connections come up in the
    /// background and retry while the broker is away).
    pub fn start(options: &SimOptions) -> Self {
        let fleet = Arc::new(Fleet::generate(
            options.seed,
            options.services,
            options.devices,
        ));
        let topics = Topics::new(&options.prefix);
        let (stop, stopped) = watch::channel(false);
        let mut rng = fastrand::Rng::with_seed(options.seed ^ 0x5eed);
        let states: States = Arc::new(
            fleet
                .devices
                .iter()
                .map(|d| Mutex::new(device::initial_state(d, &mut rng)))
                .collect(),
        );
        let tally = Arc::new(Tally::default());
        let link_options = |suffix: &str| LinkOptions {
            host: options.host.clone(),
            port: options.port,
            client_id: format!("alicia-sim-{}-{suffix}", options.seed),
            will: None,
            subscriptions: Vec::new(),
            on_connect: Vec::new(),
        };

        let (incoming_tx, incoming) = mpsc::channel(10_000);
        let control = Link::open(
            LinkOptions {
                subscriptions: vec![
                    format!("{}/config/+", topics.prefix()),
                    topics.discovery_request(),
                    format!("{}/device/+/command", topics.prefix()),
                ],
                ..link_options("control")
            },
            Some(incoming_tx),
        );
        let own = Arc::new(Mutex::new(HashMap::new()));
        for (index, device) in fleet
            .devices
            .iter()
            .enumerate()
            .filter(|(_, d)| d.own_connection)
        {
            let link = open_device_link(&link_options(&device.id), &topics, device);
            own.lock()
                .unwrap_or_else(PoisonError::into_inner)
                .insert(index, link);
        }

        let tasks = vec![
            tokio::spawn(announce_fleet(
                control.client.clone(),
                Arc::clone(&fleet),
                topics.clone(),
                Arc::clone(&states),
            )),
            tokio::spawn(answer(
                incoming,
                control.client.clone(),
                Arc::clone(&fleet),
                topics.clone(),
                Arc::clone(&states),
                Arc::clone(&tally),
                options.seed,
            )),
            tokio::spawn(report_health(
                control.client.clone(),
                Arc::clone(&fleet),
                topics.clone(),
                options.health_period,
                stopped.clone(),
            )),
            tokio::spawn(flap_devices(
                control.client.clone(),
                Arc::clone(&fleet),
                topics.clone(),
                Arc::clone(&own),
                link_options("flap"),
                options.flap_period,
                options.seed,
                stopped.clone(),
            )),
        ];

        let links = ((options.rate / RATE_PER_LINK).ceil() as usize).clamp(1, 16);
        let drivers = (0..links)
            .map(|n| {
                let link = Link::open(link_options(&format!("drive-{n}")), None);
                let devices: Vec<usize> = (n..fleet.devices.len()).step_by(links).collect();
                let task = tokio::spawn(drive_states(
                    link.client.clone(),
                    Arc::clone(&fleet),
                    topics.clone(),
                    Arc::clone(&states),
                    devices,
                    options.rate / links as f64,
                    options.seed.wrapping_add(n as u64),
                    stopped.clone(),
                ));
                (link, task)
            })
            .collect();
        Self {
            control,
            drivers,
            own,
            tasks,
            stop,
            fleet,
            topics,
            tally,
        }
    }

    /// The fleet being played.
    pub fn fleet(&self) -> &Fleet {
        &self.fleet
    }

    /// Messages published so far, over every connection.
    pub fn published(&self) -> u64 {
        let own: u64 = self
            .own
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .values()
            .map(Link::published)
            .sum();
        self.control.published()
            + self.drivers.iter().map(|(l, _)| l.published()).sum::<u64>()
            + own
    }

    /// Stops cleanly: services report they stopped, devices go offline, every connection
    /// disconnects.
    pub async fn stop(self) -> SimReport {
        let _ = self.stop.send(true);
        for task in &self.tasks {
            task.abort();
        }
        let client = &self.control.client;
        for service in &self.fleet.services {
            let report = health_report(HealthStatus::Unhealthy, Some("simulator stopped"));
            let _ = client
                .publish(
                    self.topics.health(&service.name),
                    QoS::AtLeastOnce,
                    true,
                    report,
                )
                .await;
        }
        for device in self.fleet.devices.iter().filter(|d| !d.own_connection) {
            let _ = client
                .publish(
                    self.topics.device_availability(&device.id),
                    QoS::AtLeastOnce,
                    true,
                    "offline",
                )
                .await;
        }
        let published = self.published();
        for (link, task) in self.drivers {
            task.abort();
            link.close().await;
        }
        let own: Vec<Link> = self
            .own
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .drain()
            .map(|(_, link)| link)
            .collect();
        for link in own {
            link.crash();
        }
        self.control.close().await;
        let load = |counter: &std::sync::atomic::AtomicU64| {
            counter.load(std::sync::atomic::Ordering::Relaxed)
        };
        SimReport {
            published,
            applied: load(&self.tally.applied),
            refused: load(&self.tally.refused),
            commands: load(&self.tally.commands),
        }
    }
}

fn open_device_link(base: &LinkOptions, topics: &Topics, device: &SimDevice) -> Link {
    let availability = topics.device_availability(&device.id);
    Link::open(
        LinkOptions {
            will: Some(LastWill::new(
                availability.clone(),
                "offline",
                QoS::AtLeastOnce,
                true,
            )),
            on_connect: vec![(availability, b"online".to_vec())],
            ..base.clone()
        },
        None,
    )
}

fn health_report(status: HealthStatus, reason: Option<&str>) -> Vec<u8> {
    let report = HealthReport {
        status,
        timestamp: Some(now_rfc3339()),
        details: reason.map(|r| {
            json!({"reason": r})
                .as_object()
                .cloned()
                .unwrap_or_default()
        }),
        instance_id: None,
        role: None,
    };
    serde_json::to_vec(&report).unwrap_or_default()
}

async fn publish_announcements(client: &rumqttc::AsyncClient, fleet: &Fleet, topics: &Topics) {
    for service in &fleet.services {
        let announcement = service::announcement(service, fleet);
        let payload = serde_json::to_vec(&announcement).unwrap_or_default();
        let _ = client
            .publish(
                topics.discovery(&service.name),
                QoS::AtLeastOnce,
                false,
                payload,
            )
            .await;
    }
}

/// Announces every service and publishes every device's first state and availability.
async fn announce_fleet(
    client: rumqttc::AsyncClient,
    fleet: Arc<Fleet>,
    topics: Topics,
    states: States,
) {
    publish_announcements(&client, &fleet, &topics).await;
    for (index, device) in fleet.devices.iter().enumerate() {
        let state =
            serde_json::to_vec(&*states[index].lock().unwrap_or_else(PoisonError::into_inner))
                .unwrap_or_default();
        let _ = client
            .publish(
                topics.device_state(&device.id),
                QoS::AtMostOnce,
                true,
                state,
            )
            .await;
        if !device.own_connection {
            let _ = client
                .publish(
                    topics.device_availability(&device.id),
                    QoS::AtLeastOnce,
                    true,
                    "online",
                )
                .await;
        }
    }
}

/// Answers config revisions, discovery requests and commands.
async fn answer(
    mut incoming: mpsc::Receiver<Publish>,
    client: rumqttc::AsyncClient,
    fleet: Arc<Fleet>,
    topics: Topics,
    states: States,
    tally: Arc<Tally>,
    seed: u64,
) {
    let services: HashMap<&str, usize> = fleet
        .services
        .iter()
        .enumerate()
        .map(|(i, s)| (s.name.as_str(), i))
        .collect();
    let devices: HashMap<&str, usize> = fleet
        .devices
        .iter()
        .enumerate()
        .map(|(i, d)| (d.id.as_str(), i))
        .collect();
    let mut acked: HashMap<usize, String> = HashMap::new();
    let mut rng = fastrand::Rng::with_seed(seed ^ 0xc0ffee);
    while let Some(message) = incoming.recv().await {
        match topics.classify(&message.topic) {
            Some(TopicKind::Config(name)) => {
                let Some(&index) = services.get(name) else {
                    continue;
                };
                let Ok(document) = serde_json::from_slice::<Value>(&message.payload) else {
                    continue;
                };
                let Some(last_updated) = document.get("last_updated").and_then(Value::as_str)
                else {
                    continue;
                };
                if acked.get(&index).is_some_and(|seen| seen == last_updated) {
                    continue;
                }
                acked.insert(index, last_updated.to_owned());
                let verdict = service::review(&fleet.services[index], &document);
                let counter = if verdict.is_ok() {
                    &tally.applied
                } else {
                    &tally.refused
                };
                counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let ack = ConfigAck {
                    last_updated: last_updated.to_owned(),
                    applied: verdict.is_ok(),
                    error: verdict.err(),
                };
                let _ = client
                    .publish(
                        topics.config_ack(name),
                        QoS::AtLeastOnce,
                        false,
                        serde_json::to_vec(&ack).unwrap_or_default(),
                    )
                    .await;
            }
            Some(TopicKind::DiscoveryRequest) => {
                publish_announcements(&client, &fleet, &topics).await
            }
            Some(TopicKind::DeviceCommand(id)) => {
                let Some(&index) = devices.get(id) else {
                    continue;
                };
                let Ok(command) = serde_json::from_slice::<DeviceCommand>(&message.payload) else {
                    continue;
                };
                let device = &fleet.devices[index];
                let (outcome, state) = {
                    let mut state = states[index].lock().unwrap_or_else(PoisonError::into_inner);
                    let outcome = device::apply_command(
                        device.kind,
                        &mut state,
                        &command.command,
                        &command.params,
                        &mut rng,
                    );
                    (outcome, serde_json::to_vec(&*state).unwrap_or_default())
                };
                tally
                    .commands
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if outcome.is_ok() {
                    let _ = client
                        .publish(topics.device_state(id), QoS::AtMostOnce, true, state)
                        .await;
                }
                let result = CommandResult {
                    request_id: command.request_id,
                    ok: outcome.is_ok(),
                    error: outcome.err(),
                };
                let _ = client
                    .publish(
                        topics.device_command_result(id),
                        QoS::AtLeastOnce,
                        false,
                        serde_json::to_vec(&result).unwrap_or_default(),
                    )
                    .await;
            }
            _ => {}
        }
    }
}

/// Reports every service's health on its period.
async fn report_health(
    client: rumqttc::AsyncClient,
    fleet: Arc<Fleet>,
    topics: Topics,
    period: Duration,
    mut stopped: watch::Receiver<bool>,
) {
    let mut ticks = tokio::time::interval(period);
    for tick in 0.. {
        tokio::select! {
            _ = stopped.changed() => return,
            _ = ticks.tick() => {}
        }
        for service in &fleet.services {
            if let Some((status, reason)) = service::health_at(service, tick) {
                let _ = client
                    .publish(
                        topics.health(&service.name),
                        QoS::AtLeastOnce,
                        true,
                        health_report(status, reason),
                    )
                    .await;
            }
        }
    }
}

/// Every period, one device drops off and comes back 5–15 s later.
#[allow(clippy::too_many_arguments)]
async fn flap_devices(
    client: rumqttc::AsyncClient,
    fleet: Arc<Fleet>,
    topics: Topics,
    own: Arc<Mutex<HashMap<usize, Link>>>,
    base: LinkOptions,
    period: Duration,
    seed: u64,
    mut stopped: watch::Receiver<bool>,
) {
    if fleet.devices.is_empty() {
        return;
    }
    let mut rng = fastrand::Rng::with_seed(seed ^ 0xf1a9);
    let mut ticks = tokio::time::interval(period);
    ticks.tick().await;
    loop {
        tokio::select! {
            _ = stopped.changed() => return,
            _ = ticks.tick() => {}
        }
        let index = rng.usize(..fleet.devices.len());
        let away = Duration::from_secs(rng.u64(5..=15));
        let device = fleet.devices[index].clone();
        let crashed = own
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&index);
        match crashed {
            Some(link) => {
                link.crash();
                let own = Arc::clone(&own);
                let base = LinkOptions {
                    client_id: format!("{}-{}", base.client_id, device.id),
                    ..base.clone()
                };
                let topics = topics.clone();
                tokio::spawn(async move {
                    tokio::time::sleep(away).await;
                    let link = open_device_link(&base, &topics, &device);
                    own.lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .insert(index, link);
                });
            }
            None => {
                let topic = topics.device_availability(&device.id);
                let _ = client
                    .publish(topic.clone(), QoS::AtLeastOnce, true, "offline")
                    .await;
                let client = client.clone();
                tokio::spawn(async move {
                    tokio::time::sleep(away).await;
                    let _ = client
                        .publish(topic, QoS::AtLeastOnce, true, "online")
                        .await;
                });
            }
        }
    }
}

/// Publishes state changes of `devices` at `rate` per second.
#[allow(clippy::too_many_arguments)]
async fn drive_states(
    client: rumqttc::AsyncClient,
    fleet: Arc<Fleet>,
    topics: Topics,
    states: States,
    devices: Vec<usize>,
    rate: f64,
    seed: u64,
    mut stopped: watch::Receiver<bool>,
) {
    if devices.is_empty() || rate <= 0.0 {
        return;
    }
    let state_topics: Vec<String> = devices
        .iter()
        .map(|&i| topics.device_state(&fleet.devices[i].id))
        .collect();
    let mut rng = fastrand::Rng::with_seed(seed ^ 0xd21e);
    let mut ticks = tokio::time::interval(DRIVE_TICK);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let started = Instant::now();
    let mut sent: u64 = 0;
    loop {
        tokio::select! {
            _ = stopped.changed() => return,
            _ = ticks.tick() => {}
        }
        let due = (started.elapsed().as_secs_f64() * rate) as u64;
        while sent < due {
            let pick = rng.usize(..devices.len());
            let index = devices[pick];
            let payload = {
                let mut state = states[index].lock().unwrap_or_else(PoisonError::into_inner);
                device::drift(fleet.devices[index].kind, &mut state, &mut rng);
                serde_json::to_vec(&*state).unwrap_or_default()
            };
            if client
                .publish(state_topics[pick].clone(), QoS::AtMostOnce, true, payload)
                .await
                .is_err()
            {
                return;
            }
            sent += 1;
        }
    }
}
