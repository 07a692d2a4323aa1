//! The MQTT service (CONTRACT §2): topics and payloads, the pure inbound side, the message
//! handler, the connection task, the handle every part publishes through, the config
//! publisher, and "Test connection".

pub mod connection;
pub mod connection_test;
pub mod counters;
pub mod handle;
pub mod handler;
pub mod inbound;
pub mod log_limiter;
pub mod log_view;
pub mod options;
pub mod owned;
pub mod publisher;
pub mod retained_probe;
pub mod schema_publisher;

pub use alicia_model::{payloads, topics};
pub use handle::{MqttHandle, MqttStats, PublishError};
pub use rumqttc::QoS;
