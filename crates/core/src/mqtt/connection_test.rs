//! "Test connection": connects to a broker with the given address, credentials and CA, and
//! says whether it accepted us — without disturbing the running connection.

use super::options::{ca_unreadable, secure};
use rumqttc::{AsyncClient, Event, MqttOptions, Packet};
use std::time::Duration;

/// How long a test may take.
const TEST_TIMEOUT: Duration = Duration::from_secs(5);

pub use alicia_model::settings::broker::ProbeTarget;

/// Client options for a short connection of its own to `target` (a unique id named after
/// `purpose`, its login and CA), for a probe that must not disturb the running connection.
pub(super) async fn probe_options(
    target: &ProbeTarget,
    purpose: &str,
) -> Result<MqttOptions, String> {
    let id = format!(
        "alicia-config-manager-{purpose}-{}",
        crate::random::unique_id()
    );
    let mut options = MqttOptions::new(id, target.url.host.clone(), target.url.port);
    options.set_keep_alive(Duration::from_secs(10));
    let ca = match (&target.ca_file, target.url.tls) {
        (Some(path), true) => Some(
            tokio::fs::read(path)
                .await
                .map_err(|e| ca_unreadable(path, &e))?,
        ),
        _ => None,
    };
    secure(
        &mut options,
        target.username.as_ref(),
        target.password.as_ref(),
        target.url.tls,
        ca,
    );
    Ok(options)
}

/// Connects, waits for the broker's answer (at most 5 s), disconnects. `Ok` says what
/// answered; `Err` says why not, in words.
pub async fn test_connection(target: ProbeTarget) -> Result<String, String> {
    let options = probe_options(&target, "test").await?;
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
    // The test connection closes when dropped anyway.
    let _ = client.try_disconnect();
    outcome
}
