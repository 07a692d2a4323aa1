//! Which topics hold a retained message on the broker, asked of the broker itself: a short
//! connection of its own subscribes to a filter and gathers what the broker delivers as
//! retained (it sends every retained message matching a new subscription at once), then
//! leaves. The monitor's Clear retained previews exactly this list before clearing anything.

use super::connection_test::{ProbeTarget, probe_options};
use crate::settings::{BrokerTarget, BrokerUrl, Settings};
use rumqttc::{AsyncClient, Event, Packet, QoS};
use std::collections::BTreeSet;
use std::time::Duration;

/// How long the broker may stay quiet after the last retained message before the list is
/// taken as whole.
const QUIET: Duration = Duration::from_millis(400);
/// The longest a probe takes.
const PROBE_TIMEOUT: Duration = Duration::from_secs(8);

/// The broker the core uses, the embedded one included (reached on the loopback).
pub fn core_broker(settings: &Settings) -> ProbeTarget {
    let url = match &settings.broker {
        BrokerTarget::External(url) => url.clone(),
        BrokerTarget::Embedded { port } => BrokerUrl {
            tls: false,
            host: "127.0.0.1".to_owned(),
            port: *port,
        },
    };
    ProbeTarget {
        url,
        username: settings.mqtt_username.clone(),
        password: settings.mqtt_password.clone(),
        ca_file: settings.mqtt_ca_file.clone(),
    }
}

/// The topics matching any of `filters` that hold a (non-empty) retained message now, sorted.
pub async fn retained_topics(
    target: ProbeTarget,
    filters: &[String],
) -> Result<Vec<String>, String> {
    let mut options = probe_options(&target, "probe").await?;
    options.set_max_packet_size(
        crate::limits::MQTT_PACKET_LIMIT,
        crate::limits::MQTT_PACKET_LIMIT,
    );
    let (client, mut eventloop) = AsyncClient::new(options, 16);
    let gathered = tokio::time::timeout(PROBE_TIMEOUT, async {
        let mut found = BTreeSet::new();
        let mut subscribed = false;
        loop {
            let event = if subscribed {
                match tokio::time::timeout(QUIET, eventloop.poll()).await {
                    Ok(event) => event,
                    Err(_) => return Ok(found),
                }
            } else {
                eventloop.poll().await
            };
            match event {
                Ok(Event::Incoming(Packet::ConnAck(_))) => {
                    let filters = filters
                        .iter()
                        .map(|f| rumqttc::SubscribeFilter::new(f.clone(), QoS::AtMostOnce));
                    client
                        .subscribe_many(filters)
                        .await
                        .map_err(|e| e.to_string())?;
                }
                Ok(Event::Incoming(Packet::SubAck(_))) => subscribed = true,
                Ok(Event::Incoming(Packet::Publish(publish)))
                    if publish.retain && !publish.payload.is_empty() =>
                {
                    found.insert(publish.topic.clone());
                }
                Ok(_) => {}
                Err(error) => return Err(format!("{}: {error}", target.url)),
            }
        }
    })
    .await
    .unwrap_or_else(|_| {
        Err(format!(
            "{} did not list its retained messages within {} s",
            target.url,
            PROBE_TIMEOUT.as_secs()
        ))
    });
    let _ = client.try_disconnect();
    gathered.map(|found| found.into_iter().collect())
}
