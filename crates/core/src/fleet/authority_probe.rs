//! At start, with `role: auto`: is a live authority already announced on the broker? A short
//! separate connection reads the retained authority presence, then publishes a marker on a
//! topic of its own and waits for it to come back: once it has, every retained message of
//! its earlier subscription has been delivered, so "no report" really means none — no
//! guessing with a fixed wait.

use crate::mqtt::options::base_options;
use crate::mqtt::payloads::HealthReport;
use crate::mqtt::topics::Topics;
use crate::settings::Settings;
use rumqttc::{AsyncClient, Event, Packet, QoS};
use std::time::Duration;
use time::OffsetDateTime;

/// How long the probe may take before the broker counts as unreachable.
pub const PROBE_TIMEOUT: Duration = Duration::from_secs(3);

/// What the probe found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Found {
    /// A live authority with another instance id.
    Authority {
        /// The authority's persistent instance id.
        instance_id: String,
        /// When it last reported.
        timestamp: Option<String>,
    },
    /// None (no report, an unhealthy one, or this instance's own).
    Nobody,
    /// The broker did not answer in time.
    Unreachable(String),
}

/// Looks for a live authority other than `own_id`.
pub async fn find_live_authority(settings: &Settings, own_id: &str) -> Found {
    match tokio::time::timeout(PROBE_TIMEOUT, probe(settings, own_id)).await {
        Ok(Ok(found)) => found,
        Ok(Err(reason)) => Found::Unreachable(reason),
        Err(_) => Found::Unreachable(format!("no answer within {} s", PROBE_TIMEOUT.as_secs())),
    }
}

async fn probe(settings: &Settings, own_id: &str) -> Result<Found, String> {
    let topics = Topics::new(&settings.topic_prefix);
    let authority_topic = topics.manager_health();
    let marker_topic = format!("{}/system/probe/{own_id}", topics.prefix());
    let client_id = format!("alicia-config-manager-probe-{own_id}");
    let (mut options, _) = base_options(settings, client_id)?;
    options
        .set_keep_alive(Duration::from_secs(10))
        .set_clean_session(true);
    let (client, mut eventloop) = AsyncClient::new(options, 16);
    let mut found = Found::Nobody;
    loop {
        match eventloop.poll().await.map_err(|e| e.to_string())? {
            Event::Incoming(Packet::ConnAck(_)) => {
                client
                    .subscribe(&authority_topic, QoS::AtLeastOnce)
                    .await
                    .map_err(|e| e.to_string())?;
                client
                    .subscribe(&marker_topic, QoS::AtLeastOnce)
                    .await
                    .map_err(|e| e.to_string())?;
                client
                    .publish(&marker_topic, QoS::AtLeastOnce, false, b"{}".to_vec())
                    .await
                    .map_err(|e| e.to_string())?;
            }
            Event::Incoming(Packet::Publish(publish)) if publish.topic == authority_topic => {
                found = serde_json::from_slice::<HealthReport>(&publish.payload)
                    .ok()
                    .filter(|r| super::claim_of(r).is_valid_claim(OffsetDateTime::now_utc()))
                    .and_then(|r| {
                        let instance_id = r.instance_id?;
                        (instance_id != own_id).then_some(Found::Authority {
                            instance_id,
                            timestamp: r.timestamp,
                        })
                    })
                    .unwrap_or(Found::Nobody);
            }
            Event::Incoming(Packet::Publish(publish)) if publish.topic == marker_topic => {
                // The probe's connection closes when dropped anyway.
                let _ = client.try_disconnect();
                return Ok(found);
            }
            _ => {}
        }
    }
}
