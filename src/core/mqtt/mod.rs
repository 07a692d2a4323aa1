//! The MQTT service (CONTRACT §2): topics and payloads, the pure inbound side, the message
//! handler, the connection task, and the config publisher.

pub mod client;
pub mod connection;
pub mod handler;
pub mod inbound;
pub mod payloads;
pub mod probe;
pub mod publisher;
pub mod topics;

pub use client::{MqttHandle, MqttStats, PublishError};
pub use rumqttc::QoS;
