//! One MQTT connection of the simulated fleet: reconnects with the core's backoff, subscribes
//! and announces itself again on every ConnAck, counts what it publishes, and hands incoming
//! messages to its owner. Aborting it drops the connection without a DISCONNECT, so the broker
//! publishes its Last Will, as when a real device loses power.

use alicia_core::mqtt::connection::Backoff;
use rumqttc::{AsyncClient, Event, LastWill, MqttOptions, Outgoing, Packet, Publish, QoS};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

/// Publishes that may wait in a link before `publish` waits for room.
const REQUEST_CAPACITY: usize = 10_000;

/// What a link is.
#[derive(Debug, Clone)]
pub struct LinkOptions {
    /// The broker's host name or address.
    pub host: String,
    /// The broker's TCP port.
    pub port: u16,
    /// MQTT client id.
    pub client_id: String,
    /// Its Last Will, if any.
    pub will: Option<LastWill>,
    /// Filters to subscribe to on every connection.
    pub subscriptions: Vec<String>,
    /// Retained messages to publish on every connection (e.g. `online`).
    pub on_connect: Vec<(String, Vec<u8>)>,
}

/// A running link.
pub struct Link {
    /// Publishes through it.
    pub client: AsyncClient,
    published: Arc<AtomicU64>,
    task: JoinHandle<()>,
}

impl Link {
    /// Connects (in the background); incoming messages go to `incoming` when given.
    pub fn open(options: LinkOptions, mut incoming: Option<mpsc::Sender<Publish>>) -> Self {
        let mut mqtt = MqttOptions::new(
            options.client_id.clone(),
            options.host.clone(),
            options.port,
        );
        mqtt.set_keep_alive(Duration::from_secs(30))
            .set_clean_session(true)
            .set_max_packet_size(1024 * 1024, 1024 * 1024);
        if let Some(will) = options.will.clone() {
            mqtt.set_last_will(will);
        }
        let (client, mut eventloop) = AsyncClient::new(mqtt, REQUEST_CAPACITY);
        let published = Arc::new(AtomicU64::new(0));
        let counter = Arc::clone(&published);
        let handle = client.clone();
        let task = tokio::spawn(async move {
            let mut backoff = Backoff::new();
            let mut disconnecting = false;
            loop {
                match eventloop.poll().await {
                    Ok(Event::Incoming(Packet::ConnAck(_))) => {
                        backoff.reset();
                        for filter in &options.subscriptions {
                            if let Err(error) =
                                handle.try_subscribe(filter.clone(), QoS::AtLeastOnce)
                            {
                                tracing::warn!(filter, %error, "simulator: could not subscribe");
                            }
                        }
                        for (topic, payload) in &options.on_connect {
                            if let Err(error) = handle.try_publish(
                                topic.clone(),
                                QoS::AtLeastOnce,
                                true,
                                payload.clone(),
                            ) {
                                tracing::warn!(topic, %error, "simulator: could not publish");
                            }
                        }
                    }
                    Ok(Event::Incoming(Packet::Publish(publish))) => {
                        // Once its reader is gone (the run is stopping), what arrives is
                        // ignored: the link goes on sending what is queued until it is closed.
                        if let Some(sender) = &incoming
                            && sender.send(publish).await.is_err()
                        {
                            incoming = None;
                        }
                    }
                    Ok(Event::Outgoing(Outgoing::Publish(_))) => {
                        counter.fetch_add(1, Ordering::Relaxed);
                    }
                    // After its DISCONNECT the link reads on until the broker closes the
                    // connection: a socket closed with unread data in it is reset, and a
                    // reset can take the last messages sent with it.
                    Ok(Event::Outgoing(Outgoing::Disconnect)) => disconnecting = true,
                    Ok(_) => {}
                    Err(_) if disconnecting => return,
                    Err(error) => {
                        tracing::debug!(client = options.client_id, %error, "simulator link down; retrying");
                        tokio::time::sleep(backoff.next_delay()).await;
                    }
                }
            }
        });
        Self {
            client,
            published,
            task,
        }
    }

    /// Messages published so far.
    pub fn published(&self) -> u64 {
        self.published.load(Ordering::Relaxed)
    }

    /// Drops the connection at once, without a DISCONNECT: the broker publishes the Will.
    pub fn crash(self) {
        self.task.abort();
    }

    /// Sends what is queued, disconnects cleanly, and waits until the broker has closed the
    /// connection (a few seconds at most).
    pub async fn close(self) {
        // An error only says the connection is gone already.
        let _ = self.client.disconnect().await;
        let mut task = self.task;
        if tokio::time::timeout(Duration::from_secs(5), &mut task)
            .await
            .is_err()
        {
            task.abort();
        }
    }
}
