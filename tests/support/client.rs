//! A real MQTT client owned by the test (rumqttc), with patient expectations.

use super::PATIENCE;
use rumqttc::{AsyncClient, Event, MqttOptions, Packet, Publish, QoS};
use std::time::Duration;
use tokio::sync::mpsc;

/// A connected client; incoming publishes queue up until the test looks at them.
pub struct TestClient {
    pub client: AsyncClient,
    incoming: mpsc::Receiver<Packet>,
    task: tokio::task::JoinHandle<()>,
}

impl TestClient {
    /// Connects to the broker on `port` and waits for the ConnAck.
    pub async fn connect(port: u16) -> Self {
        Self::connect_with(port, None).await
    }

    /// Connects with a login (`user`, `password`) and waits for the ConnAck.
    pub async fn connect_as(port: u16, user: &str, password: &str) -> Self {
        Self::connect_with(port, Some((user, password))).await
    }

    async fn connect_with(port: u16, login: Option<(&str, &str)>) -> Self {
        let id = format!(
            "test-client-{}",
            alicia_config_manager::core::random::unique_id()
        );
        let mut options = MqttOptions::new(id, "127.0.0.1", port);
        options.set_max_packet_size(16 * 1024 * 1024, 16 * 1024 * 1024);
        options.set_keep_alive(Duration::from_secs(30));
        if let Some((user, password)) = login {
            options.set_credentials(user, password);
        }
        let (client, mut eventloop) = AsyncClient::new(options, 1024);
        let (tx, incoming) = mpsc::channel(100_000);
        let task = tokio::spawn(async move {
            loop {
                match eventloop.poll().await {
                    Ok(Event::Incoming(
                        packet @ (Packet::Publish(_) | Packet::SubAck(_) | Packet::ConnAck(_)),
                    )) => {
                        if tx.send(packet).await.is_err() {
                            return;
                        }
                    }
                    Ok(_) => {}
                    Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
                }
            }
        });
        let mut this = Self {
            client,
            incoming,
            task,
        };
        this.next_packet("a ConnAck", |p| matches!(p, Packet::ConnAck(_)))
            .await;
        this
    }

    /// Subscribes and waits for the SubAck.
    pub async fn subscribe(&mut self, filter: &str) {
        self.client
            .subscribe(filter, QoS::AtLeastOnce)
            .await
            .unwrap();
        self.next_packet("a SubAck", |p| matches!(p, Packet::SubAck(_)))
            .await;
    }

    /// Publishes (QoS 1).
    pub async fn publish(&self, topic: &str, payload: impl Into<Vec<u8>>, retain: bool) {
        self.client
            .publish(topic, QoS::AtLeastOnce, retain, payload.into())
            .await
            .unwrap();
    }

    /// Publishes JSON (QoS 1).
    pub async fn publish_json(&self, topic: &str, payload: &serde_json::Value, retain: bool) {
        self.publish(topic, serde_json::to_vec(payload).unwrap(), retain)
            .await;
    }

    /// The next publish that satisfies `accept` (others are skipped); panics after patience.
    pub async fn expect(&mut self, what: &str, accept: impl Fn(&Publish) -> bool) -> Publish {
        match self
            .next_packet(
                what,
                |p| matches!(p, Packet::Publish(publish) if accept(publish)),
            )
            .await
        {
            Packet::Publish(publish) => publish,
            _ => unreachable!(),
        }
    }

    /// The next publish on exactly `topic`.
    pub async fn expect_on(&mut self, topic: &str) -> Publish {
        self.expect(&format!("a message on {topic}"), |p| p.topic == topic)
            .await
    }

    /// The next publish on `topic` whose JSON satisfies `accept`.
    pub async fn expect_json(
        &mut self,
        topic: &str,
        accept: impl Fn(&serde_json::Value) -> bool,
    ) -> serde_json::Value {
        let publish = self
            .expect(&format!("a matching JSON message on {topic}"), |p| {
                p.topic == topic
                    && serde_json::from_slice::<serde_json::Value>(&p.payload)
                        .is_ok_and(|v| accept(&v))
            })
            .await;
        serde_json::from_slice(&publish.payload).unwrap()
    }

    /// Everything received within `window` (for "nothing else happened" checks).
    pub async fn drain_for(&mut self, window: Duration) -> Vec<Publish> {
        let mut out = Vec::new();
        let deadline = tokio::time::Instant::now() + window;
        while let Ok(Some(packet)) = tokio::time::timeout_at(deadline, self.incoming.recv()).await {
            if let Packet::Publish(publish) = packet {
                out.push(publish);
            }
        }
        out
    }

    async fn next_packet(&mut self, what: &str, accept: impl Fn(&Packet) -> bool) -> Packet {
        let deadline = tokio::time::Instant::now() + PATIENCE;
        loop {
            match tokio::time::timeout_at(deadline, self.incoming.recv()).await {
                Ok(Some(packet)) if accept(&packet) => return packet,
                Ok(Some(_)) => {}
                Ok(None) => panic!("the test client stopped while waiting for {what}"),
                Err(_) => panic!("timed out waiting for {what}"),
            }
        }
    }
}

impl Drop for TestClient {
    fn drop(&mut self) {
        self.task.abort();
    }
}
