//! "Test connection": connects to a broker with the given address, credentials and CA, and
//! says whether it accepted us — without disturbing the running connection.

use crate::core::secret::Secret;
use crate::core::settings::{BrokerTarget, BrokerUrl, Settings};
use rumqttc::{AsyncClient, Event, MqttOptions, Packet, TlsConfiguration, Transport};
use std::path::PathBuf;
use std::time::Duration;

/// How long a test may take.
const TEST_TIMEOUT: Duration = Duration::from_secs(5);

/// What to test.
#[derive(Debug, Clone)]
pub struct ProbeTarget {
    /// The broker.
    pub url: BrokerUrl,
    /// User name.
    pub username: Option<String>,
    /// Password.
    pub password: Option<Secret>,
    /// CA file for `mqtts://`.
    pub ca_file: Option<PathBuf>,
}

impl ProbeTarget {
    /// The broker the core itself uses.
    pub fn from_settings(settings: &Settings) -> Option<Self> {
        let BrokerTarget::External(url) = &settings.broker else {
            return None;
        };
        Some(Self {
            url: url.clone(),
            username: settings.mqtt_username.clone(),
            password: settings.mqtt_password.clone(),
            ca_file: settings.mqtt_ca_file.clone(),
        })
    }
}

/// Connects, waits for the broker's answer (at most 5 s), disconnects. `Ok` says what
/// answered; `Err` says why not, in words.
pub async fn test_connection(target: ProbeTarget) -> Result<String, String> {
    let id = format!("alicia-config-manager-test-{:08x}", fastrand::u32(..));
    let mut options = MqttOptions::new(id, target.url.host.clone(), target.url.port);
    options.set_keep_alive(Duration::from_secs(10));
    if let Some(username) = &target.username {
        let password = target
            .password
            .as_ref()
            .map(|p| p.expose().to_owned())
            .unwrap_or_default();
        options.set_credentials(username.clone(), password);
    }
    if target.url.tls {
        let transport = match &target.ca_file {
            Some(path) => {
                let ca = tokio::fs::read(path).await.map_err(|error| {
                    format!("cannot read the CA file {}: {error}", path.display())
                })?;
                Transport::tls_with_config(TlsConfiguration::Simple {
                    ca,
                    alpn: None,
                    client_auth: None,
                })
            }
            None => Transport::tls_with_default_config(),
        };
        options.set_transport(transport);
    }
    let (client, mut eventloop) = AsyncClient::new(options, 10);
    let outcome = tokio::time::timeout(TEST_TIMEOUT, async {
        loop {
            match eventloop.poll().await {
                Ok(Event::Incoming(Packet::ConnAck(_))) => {
                    return Ok(format!("{} accepted the connection", target.url));
                }
                Ok(_) => {}
                Err(rumqttc::ConnectionError::ConnectionRefused(code)) => {
                    return Err(format!("{} refused the connection ({code:?})", target.url));
                }
                Err(error) => return Err(format!("{}: {error}", target.url)),
            }
        }
    })
    .await
    .unwrap_or_else(|_| {
        Err(format!(
            "{} did not answer within {} s",
            target.url,
            TEST_TIMEOUT.as_secs()
        ))
    });
    let _ = client.try_disconnect();
    outcome
}
