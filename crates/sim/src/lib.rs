//! The simulated Alicia fleet: services and devices that speak CONTRACT §2 over real MQTT
//! connections, built on the core's topic, payload and service-type definitions, so the app
//! and its simulated fleet cannot drift apart. Used by `alicia-config-manager simulate`, by
//! `--demo`, by the tests and by the benchmarks.
//!
//! What plays:
//! - services of every type announce themselves (with a settings schema), answer discovery
//!   requests, report health on a period (a few flap, the last one goes silent and turns
//!   stale), and acknowledge every config revision — refusing, with a readable reason, a
//!   voice, model or language they do not have ([`service`]);
//! - devices (lights, sensors, thermostats, speakers in named rooms) publish retained state
//!   at the requested total rate, go offline and come back (network speakers hold their own
//!   connection, so their `offline` is a real Last Will), and answer commands (a few fail)
//!   ([`device`]).
//!
//! Everything that varies is drawn from `--seed`: the same seed plays the same fleet. The
//! tasks of a run ([`tasks`]) share one [`SimContext`].

pub mod catalog;
pub mod device;
pub mod fleet;
pub mod link;
pub mod service;
mod tasks;

use alicia_core::clock::now_rfc3339;
use alicia_core::mqtt::payloads::{HealthReport, HealthStatus};
use alicia_core::mqtt::topics::Topics;
use fleet::{Fleet, SimDevice};
use link::{Link, LinkOptions};
use parking_lot::Mutex;
use rumqttc::{AsyncClient, LastWill, QoS};
use serde_json::{Map, Value, json};
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::sync::{mpsc, watch};
use tokio::task::{JoinHandle, JoinSet};

/// State changes one publishing connection is given per second before another is opened.
const RATE_PER_LINK: f64 = 40_000.0;

/// What to simulate, and where.
#[derive(Debug, Clone, PartialEq)]
pub struct SimOptions {
    /// The broker's host name or address.
    pub host: String,
    /// The broker's TCP port.
    pub port: u16,
    /// The MQTT topic prefix the fleet speaks under.
    pub prefix: String,
    /// How many services play (every type in turn).
    pub services: usize,
    /// How many devices play.
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
    applied: AtomicU64,
    refused: AtomicU64,
    commands: AtomicU64,
}

/// Each device's current state, by its index in the fleet.
type States = Arc<Vec<Mutex<Map<String, Value>>>>;

/// The devices holding their own connection now, by index (a crashed one is away).
type OwnLinks = Arc<Mutex<HashMap<usize, Link>>>;

/// What every task of a run shares: the control connection, the fleet, its topics, the
/// devices' states, the counters and the stop signal. Cheap to clone.
#[derive(Clone)]
pub(crate) struct SimContext {
    client: AsyncClient,
    fleet: Arc<Fleet>,
    topics: Topics,
    states: States,
    tally: Arc<Tally>,
    /// Services running a config that makes them fail (`settings.fail_after_apply`), by index:
    /// they report `unhealthy` until a config without it.
    failing: Arc<parking_lot::Mutex<std::collections::HashSet<usize>>>,
    stopped: watch::Receiver<bool>,
    /// What the fleet does a little later (a device coming back): cut off before a stop says
    /// the fleet went away, so nothing comes back online after it.
    later: Arc<Mutex<JoinSet<()>>>,
}

impl SimContext {
    /// Publishes through the control connection. Best effort: the simulated fleet, like a
    /// real one, just carries on when its connection is down (the link reconnects).
    async fn publish(&self, topic: String, qos: QoS, retain: bool, payload: impl Into<Vec<u8>>) {
        if let Err(error) = self.client.publish(topic, qos, retain, payload).await {
            tracing::debug!(%error, "simulator: a message was not sent");
        }
    }

    /// Runs `work` in the background, until it ends or the run stops.
    fn later(&self, work: impl Future<Output = ()> + Send + 'static) {
        let mut later = self.later.lock();
        // Reaps what has ended, so a long run keeps only what is still waiting.
        while later.try_join_next().is_some() {}
        later.spawn(work);
    }

    /// A device's state as JSON bytes.
    fn state_bytes(&self, index: usize) -> Vec<u8> {
        serde_json::to_vec(&*self.states[index].lock()).unwrap_or_default()
    }

    fn count(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }
}

/// A running simulation; stop it with [`Simulation::stop`].
pub struct Simulation {
    control: Link,
    drivers: Vec<(Link, JoinHandle<()>)>,
    own: OwnLinks,
    tasks: Vec<JoinHandle<()>>,
    stop: watch::Sender<bool>,
    context: SimContext,
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
        let own: OwnLinks = Arc::default();
        for (index, device) in fleet
            .devices
            .iter()
            .enumerate()
            .filter(|(_, d)| d.own_connection)
        {
            let link = open_device_link(&link_options(&device.id), &topics, device);
            own.lock().insert(index, link);
        }
        let context = SimContext {
            client: control.client.clone(),
            fleet,
            topics,
            states,
            tally: Arc::default(),
            failing: Arc::default(),
            stopped,
            later: Arc::default(),
        };

        let tasks = vec![
            tokio::spawn(tasks::announce_fleet(context.clone())),
            tokio::spawn(tasks::answer(context.clone(), incoming, options.seed)),
            tokio::spawn(tasks::report_health(context.clone(), options.health_period)),
            tokio::spawn(tasks::flap_devices(
                context.clone(),
                Arc::clone(&own),
                link_options("flap"),
                options.flap_period,
                options.seed,
            )),
        ];

        let links = ((options.rate / RATE_PER_LINK).ceil() as usize).clamp(1, 16);
        let drivers = (0..links)
            .map(|n| {
                let link = Link::open(link_options(&format!("drive-{n}")), None);
                let devices: Vec<usize> = (n..context.fleet.devices.len()).step_by(links).collect();
                let task = tokio::spawn(tasks::drive_states(
                    context.clone(),
                    link.client.clone(),
                    devices,
                    options.rate / links as f64,
                    options.seed.wrapping_add(n as u64),
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
            context,
        }
    }

    /// The fleet being played.
    pub fn fleet(&self) -> &Fleet {
        &self.context.fleet
    }

    /// Messages published so far, over every connection.
    pub fn published(&self) -> u64 {
        let own: u64 = self.own.lock().values().map(Link::published).sum();
        self.control.published()
            + self.drivers.iter().map(|(l, _)| l.published()).sum::<u64>()
            + own
    }

    /// Stops cleanly: the fleet's tasks end first (nothing comes back online or changes
    /// after), then services report they stopped, devices go offline, and every connection
    /// disconnects.
    pub async fn stop(mut self) -> SimReport {
        // An error only says every task has stopped already.
        let _ = self.stop.send(true);
        for task in &self.tasks {
            task.abort();
        }
        // Awaited, not just aborted: a task busy on another worker finishes its current step
        // first, and that step must not land after the goodbyes below.
        for task in &mut self.tasks {
            let _ = task.await;
        }
        let mut later = std::mem::take(&mut *self.context.later.lock());
        later.shutdown().await;
        for (_, task) in &mut self.drivers {
            task.abort();
            let _ = task.await;
        }
        let context = &self.context;
        for service in &context.fleet.services {
            let report = health_report(HealthStatus::Unhealthy, Some("simulator stopped"));
            context
                .publish(
                    context.topics.health(&service.name),
                    QoS::AtLeastOnce,
                    true,
                    report,
                )
                .await;
        }
        for device in context.fleet.devices.iter().filter(|d| !d.own_connection) {
            context
                .publish(
                    context.topics.device_availability(&device.id),
                    QoS::AtLeastOnce,
                    true,
                    "offline",
                )
                .await;
        }
        let published = self.published();
        for (link, _) in self.drivers {
            link.close().await;
        }
        let own: Vec<Link> = self.own.lock().drain().map(|(_, link)| link).collect();
        for link in own {
            link.crash();
        }
        self.control.close().await;
        let tally = &self.context.tally;
        let load = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
        SimReport {
            published,
            applied: load(&tally.applied),
            refused: load(&tally.refused),
            commands: load(&tally.commands),
        }
    }
}

/// The connection of a device that holds its own: its Will says `offline`, and every
/// (re)connection says `online`.
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

/// A health report with an optional reason, as JSON bytes.
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
