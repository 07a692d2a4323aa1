//! The tasks of a simulation run: announcing the fleet, answering what the manager sends
//! (configs, discovery requests, commands: the answers are [`super::service`]'s and
//! [`super::device`]'s), reporting health, dropping devices off and bringing them back, and
//! driving state changes at the requested rate.

use super::fleet::SimDevice;
use super::link::{Link, LinkOptions};
use super::{OwnLinks, SimContext, device, health_report, open_device_link, service};
use alicia_core::mqtt::payloads::HealthStatus;
use alicia_core::mqtt::topics::TopicKind;
use rumqttc::{AsyncClient, Publish, QoS};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

/// How often the rate driver publishes a batch.
const DRIVE_TICK: Duration = Duration::from_millis(10);

/// Announces every service (discovery, with its settings schema).
async fn publish_announcements(ctx: &SimContext) {
    for sim in &ctx.fleet.services {
        let announcement = service::announcement(sim, &ctx.fleet);
        let payload = serde_json::to_vec(&announcement).unwrap_or_default();
        ctx.publish(
            ctx.topics.discovery(&sim.name),
            QoS::AtLeastOnce,
            false,
            payload,
        )
        .await;
    }
}

/// Announces every service and publishes every device's first state and availability.
pub(super) async fn announce_fleet(ctx: SimContext) {
    publish_announcements(&ctx).await;
    for (index, device) in ctx.fleet.devices.iter().enumerate() {
        let state = ctx.state_bytes(index);
        ctx.publish(
            ctx.topics.device_state(&device.id),
            QoS::AtMostOnce,
            true,
            state,
        )
        .await;
        if !device.own_connection {
            ctx.publish(
                ctx.topics.device_availability(&device.id),
                QoS::AtLeastOnce,
                true,
                "online",
            )
            .await;
        }
    }
}

/// Answers config revisions, discovery requests and commands, in the order they arrive.
pub(super) async fn answer(ctx: SimContext, mut incoming: mpsc::Receiver<Publish>, seed: u64) {
    let services: HashMap<&str, usize> = ctx
        .fleet
        .services
        .iter()
        .enumerate()
        .map(|(i, s)| (s.name.as_str(), i))
        .collect();
    let devices: HashMap<&str, usize> = ctx
        .fleet
        .devices
        .iter()
        .enumerate()
        .map(|(i, d)| (d.id.as_str(), i))
        .collect();
    let mut applied = service::AppliedRevisions::default();
    let mut rng = fastrand::Rng::with_seed(seed ^ 0xc0ffee);
    while let Some(message) = incoming.recv().await {
        match ctx.topics.classify(&message.topic) {
            Some(TopicKind::Config(name)) => {
                if let Some(&index) = services.get(name) {
                    service::answer_config(&ctx, index, &mut applied, &message.payload).await;
                }
            }
            Some(TopicKind::DiscoveryRequest) => publish_announcements(&ctx).await,
            Some(TopicKind::DeviceCommand(id)) => {
                if let Some(&index) = devices.get(id) {
                    device::answer_command(&ctx, index, &message.payload, &mut rng).await;
                }
            }
            _ => {}
        }
    }
}

/// Reports every service's health on its period.
pub(super) async fn report_health(ctx: SimContext, period: Duration) {
    let mut stopped = ctx.stopped.clone();
    let mut ticks = tokio::time::interval(period);
    for tick in 0.. {
        tokio::select! {
            _ = stopped.changed() => return,
            _ = ticks.tick() => {}
        }
        for sim in &ctx.fleet.services {
            let failing = ctx.failing.lock().contains(&sim.index);
            let report = if failing {
                Some((
                    HealthStatus::Unhealthy,
                    Some("failing since the last config"),
                ))
            } else {
                service::health_at(sim, tick)
            };
            if let Some((status, reason)) = report {
                ctx.publish(
                    ctx.topics.health(&sim.name),
                    QoS::AtLeastOnce,
                    true,
                    health_report(status, reason),
                )
                .await;
            }
        }
    }
}

/// Every period, one device drops off and comes back 5–15 s later: a device with its own
/// connection loses it (its Will says `offline`), the others are said `offline` and `online`.
pub(super) async fn flap_devices(
    ctx: SimContext,
    own: OwnLinks,
    base: LinkOptions,
    period: Duration,
    seed: u64,
) {
    if ctx.fleet.devices.is_empty() {
        return;
    }
    let mut stopped = ctx.stopped.clone();
    let mut rng = fastrand::Rng::with_seed(seed ^ 0xf1a9);
    let mut ticks = tokio::time::interval(period);
    ticks.tick().await;
    loop {
        tokio::select! {
            _ = stopped.changed() => return,
            _ = ticks.tick() => {}
        }
        let index = rng.usize(..ctx.fleet.devices.len());
        let away = Duration::from_secs(rng.u64(5..=15));
        let device = ctx.fleet.devices[index].clone();
        let crashed = own.lock().remove(&index);
        match crashed {
            Some(link) => {
                link.crash();
                reconnect_later(&ctx, &own, &base, index, device, away);
            }
            None => {
                let topic = ctx.topics.device_availability(&device.id);
                ctx.publish(topic.clone(), QoS::AtLeastOnce, true, "offline")
                    .await;
                let back = ctx.clone();
                ctx.later(async move {
                    tokio::time::sleep(away).await;
                    back.publish(topic, QoS::AtLeastOnce, true, "online").await;
                });
            }
        }
    }
}

/// Opens a crashed device's own connection again after `away`.
fn reconnect_later(
    ctx: &SimContext,
    own: &OwnLinks,
    base: &LinkOptions,
    index: usize,
    device: SimDevice,
    away: Duration,
) {
    let own = Arc::clone(own);
    let base = LinkOptions {
        client_id: format!("{}-{}", base.client_id, device.id),
        ..base.clone()
    };
    let topics = ctx.topics.clone();
    ctx.later(async move {
        tokio::time::sleep(away).await;
        // Opened and kept under one lock, without an await between: a stop that takes the
        // own links after this task was cut off finds the link there and crashes it.
        let link: Link = open_device_link(&base, &topics, &device);
        own.lock().insert(index, link);
    });
}

/// Publishes state changes of `devices` (indexes into the fleet) at `rate` per second through
/// `client`, a connection of its own.
pub(super) async fn drive_states(
    ctx: SimContext,
    client: AsyncClient,
    devices: Vec<usize>,
    rate: f64,
    seed: u64,
) {
    if devices.is_empty() || rate <= 0.0 {
        return;
    }
    let mut stopped = ctx.stopped.clone();
    let state_topics: Vec<String> = devices
        .iter()
        .map(|&i| ctx.topics.device_state(&ctx.fleet.devices[i].id))
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
                let mut state = ctx.states[index].lock();
                device::drift(ctx.fleet.devices[index].kind, &mut state, &mut rng);
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
