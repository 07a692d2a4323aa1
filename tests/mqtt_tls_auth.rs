//! A named broker with TLS (`mqtts://`, a private CA) and a user name and password: the core
//! connects, round-trips its own messages, and explains a wrong password or an untrusted
//! certificate instead of failing silently. Runs against Mosquitto.

#![expect(
    clippy::unwrap_used,
    reason = "in a test, a panic is the failure report"
)]

mod support;

use alicia_config_manager::core::Core;
use alicia_config_manager::core::mqtt::payloads::HealthStatus;
use alicia_config_manager::core::secret::Secret;
use alicia_config_manager::core::settings::{BrokerTarget, BrokerUrl, Settings};
use std::path::Path;
use std::process::Command;
use support::{TestBroker, wait_until};

fn run(command: &mut Command) {
    let output = command.output().expect("the tool runs");
    assert!(
        output.status.success(),
        "{command:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// A CA and a server certificate for `localhost` / 127.0.0.1, made with the openssl CLI.
fn make_certificates(dir: &Path) {
    let at = |name: &str| dir.join(name);
    run(Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=alicia-test-ca",
        ])
        .arg("-keyout")
        .arg(at("ca.key"))
        .arg("-out")
        .arg(at("ca.pem")));
    run(Command::new("openssl")
        .args([
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-subj",
            "/CN=localhost",
        ])
        .arg("-keyout")
        .arg(at("server.key"))
        .arg("-out")
        .arg(at("server.csr")));
    std::fs::write(at("san.ext"), "subjectAltName=DNS:localhost,IP:127.0.0.1\n").unwrap();
    run(Command::new("openssl")
        .args(["x509", "-req", "-days", "2", "-CAcreateserial"])
        .arg("-in")
        .arg(at("server.csr"))
        .arg("-CA")
        .arg(at("ca.pem"))
        .arg("-CAkey")
        .arg(at("ca.key"))
        .arg("-out")
        .arg(at("server.pem"))
        .arg("-extfile")
        .arg(at("san.ext")));
}

/// Mosquitto with TLS and a password file, and the folder holding its CA (`ca.pem`).
fn secure_broker() -> Option<(TestBroker, tempfile::TempDir)> {
    let folder = tempfile::tempdir().unwrap();
    let certificates = folder.path().to_path_buf();
    make_certificates(&certificates);
    let broker = TestBroker::mosquitto_with(|port, dir| {
        let passwords = dir.join("passwd");
        run(Command::new("mosquitto_passwd")
            .arg("-c")
            .arg("-b")
            .arg(&passwords)
            .args(["alicia", "s3cret-pass"]));
        format!(
            "user root\nlistener {port} 127.0.0.1\ncafile {ca}\ncertfile {cert}\nkeyfile {key}\n\
             allow_anonymous false\npassword_file {passwords}\npersistence false\n",
            ca = certificates.join("ca.pem").display(),
            cert = certificates.join("server.pem").display(),
            key = certificates.join("server.key").display(),
            passwords = passwords.display(),
        )
    })?;
    Some((broker, folder))
}

fn settings(dir: &Path, port: u16, ca: Option<&Path>, password: &str) -> Settings {
    let mut settings = Settings::defaults_in(dir);
    settings.broker = BrokerTarget::External(BrokerUrl {
        tls: true,
        host: "localhost".into(),
        port,
    });
    settings.mqtt_ca_file = ca.map(Path::to_path_buf);
    settings.mqtt_username = Some("alicia".into());
    settings.mqtt_password = Some(Secret::new(password));
    settings
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_with_a_private_ca_and_credentials() {
    let Some((broker, certificates)) = secure_broker() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (core, runtime) = Core::start(settings(
        dir.path(),
        broker.port,
        Some(&certificates.path().join("ca.pem")),
        "s3cret-pass",
    ))
    .await
    .unwrap();
    assert_eq!(
        core.mqtt.url(),
        format!("mqtts://localhost:{}", broker.port)
    );
    let probe = core.clone();
    wait_until(
        "the core connects over TLS with its credentials",
        move || probe.mqtt.is_connected(),
    )
    .await;
    let probe = core.clone();
    wait_until("its own retained health comes back over TLS", move || {
        probe
            .health
            .get("config-manager")
            .is_some_and(|r| r.reported == Some(HealthStatus::Healthy))
    })
    .await;
    runtime.shutdown(&core).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_password_is_explained() {
    let Some((broker, certificates)) = secure_broker() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (core, _runtime) = Core::start(settings(
        dir.path(),
        broker.port,
        Some(&certificates.path().join("ca.pem")),
        "not-the-pass-xyz",
    ))
    .await
    .unwrap();
    let probe = core.clone();
    wait_until("the refusal is recorded", move || {
        probe.mqtt.last_error().is_some()
    })
    .await;
    let reason = core.mqtt.last_error().unwrap();
    assert!(reason.contains("refused"), "{reason}");
    assert!(
        !reason.contains("not-the-pass-xyz"),
        "the password is not echoed: {reason}"
    );
    assert!(!core.mqtt.is_connected());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_untrusted_certificate_is_explained() {
    let Some((broker, _certificates)) = secure_broker() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (core, _runtime) = Core::start(settings(dir.path(), broker.port, None, "s3cret-pass"))
        .await
        .unwrap();
    let probe = core.clone();
    wait_until("the TLS failure is recorded", move || {
        probe.mqtt.last_error().is_some()
    })
    .await;
    let reason = core.mqtt.last_error().unwrap().to_lowercase();
    assert!(
        reason.contains("certificate") || reason.contains("issuer"),
        "{reason}"
    );
    assert!(!core.mqtt.is_connected());
}
