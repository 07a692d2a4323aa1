//! The options of every MQTT client of the manager's broker (the manager's own connection,
//! the authority probe, "Test connection"): address, credentials and TLS, built one way.

use crate::secret::Secret;
use crate::settings::{BrokerTarget, Settings};
use rumqttc::{MqttOptions, TlsConfiguration, Transport};

/// Where a client connects, as shown to admins.
pub(crate) struct Endpoint {
    /// `mqtt://host:port` or `mqtts://host:port`.
    pub(crate) url: String,
    /// The embedded broker.
    pub(crate) embedded: bool,
}

/// Options for a client of the configured broker: address, credentials and TLS.
pub(crate) fn base_options(
    settings: &Settings,
    client_id: String,
) -> Result<(MqttOptions, Endpoint), String> {
    let (host, port, tls, embedded) = match &settings.broker {
        BrokerTarget::Embedded { port } => {
            // Bound to every address: reach it on loopback; else on the address it binds.
            let host = match settings.embedded_broker_bind {
                bind if bind.is_unspecified() && bind.is_ipv6() => "::1".to_owned(),
                bind if bind.is_unspecified() => "127.0.0.1".to_owned(),
                bind => bind.to_string(),
            };
            (host, *port, false, true)
        }
        BrokerTarget::External(url) => (url.host.clone(), url.port, url.tls, false),
    };
    let mut options = MqttOptions::new(client_id, host.clone(), port);
    let ca = match (&settings.mqtt_ca_file, tls) {
        (Some(path), true) => Some(std::fs::read(path).map_err(|e| ca_unreadable(path, &e))?),
        _ => None,
    };
    secure(
        &mut options,
        settings.mqtt_username.as_ref(),
        settings.mqtt_password.as_ref(),
        tls,
        ca,
    );
    let scheme = if tls { "mqtts" } else { "mqtt" };
    let endpoint = Endpoint {
        url: format!("{scheme}://{host}:{port}"),
        embedded,
    };
    Ok((options, endpoint))
}

/// Sets the credentials (when a user is named) and, for `mqtts://`, the TLS transport
/// trusting `ca` (PEM) or else the system's roots.
pub(crate) fn secure(
    options: &mut MqttOptions,
    username: Option<&String>,
    password: Option<&Secret>,
    tls: bool,
    ca: Option<Vec<u8>>,
) {
    if let Some(username) = username {
        let password = password.map(|p| p.expose().to_owned()).unwrap_or_default();
        options.set_credentials(username.clone(), password);
    }
    if tls {
        options.set_transport(match ca {
            Some(ca) => Transport::tls_with_config(TlsConfiguration::Simple {
                ca,
                alpn: None,
                client_auth: None,
            }),
            None => Transport::tls_with_default_config(),
        });
    }
}

/// Why the CA file could not be used, in words.
pub(crate) fn ca_unreadable(path: &std::path::Path, error: &std::io::Error) -> String {
    format!("cannot read the CA file {}: {error}", path.display())
}
