//! The embedded broker beyond loopback (CONTRACT §6 and the "the broker itself"),
//! tried against the real binary: binding it to every address without a login refuses the
//! start and says why; with a login, a client without it is turned away and one with it is
//! let in, the manager included.

#![expect(
    clippy::unwrap_used,
    reason = "in a test, a panic is the failure report"
)]

mod support;

use rumqttc::{AsyncClient, ConnectReturnCode, Event, MqttOptions, Packet};
use std::time::Duration;
use support::headless::Headless;
use support::{PATIENCE, free_port};

/// Connects to the broker on `port` with `login`; the broker's answer.
async fn connect(port: u16, login: Option<(&str, &str)>) -> Result<(), String> {
    let mut options = MqttOptions::new(
        format!("probe-{}", alicia_config_manager::core::random::unique_id()),
        "127.0.0.1",
        port,
    );
    if let Some((user, password)) = login {
        options.set_credentials(user, password);
    }
    let (_client, mut eventloop) = AsyncClient::new(options, 10);
    let answer = tokio::time::timeout(PATIENCE, async {
        loop {
            match eventloop.poll().await {
                Ok(Event::Incoming(Packet::ConnAck(ack))) => {
                    return if ack.code == ConnectReturnCode::Success {
                        Ok(())
                    } else {
                        Err(format!("{:?}", ack.code))
                    };
                }
                Ok(_) => {}
                Err(error) => return Err(error.to_string()),
            }
        }
    })
    .await;
    answer.unwrap_or_else(|_| Err("no answer".to_owned()))
}

#[test]
fn every_address_without_a_login_refuses_the_start_and_says_why() {
    let dir = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(support::app_binary())
        .arg("--headless")
        .env("CONFIG_PATH", dir.path())
        .env("PORT", free_port().to_string())
        .env("MQTT_PORT", free_port().to_string())
        .env("ALICIA_BROKER_BIND", "0.0.0.0")
        .env("ALICIA_LOG_DIR", dir.path().join("logs"))
        .env_remove("MQTT_BROKER")
        .env_remove("MQTT_USERNAME")
        .env_remove("MQTT_PASSWORD")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("0.0.0.0") && stderr.contains("MQTT_USERNAME"),
        "{stderr}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_a_login_only_clients_that_present_it_get_in() {
    let port = free_port();
    let http = reqwest::Client::new();
    let manager = Headless::start_with(None, &[], &http, |command| {
        command
            .env("MQTT_PORT", port.to_string())
            .env("ALICIA_BROKER_BIND", "0.0.0.0")
            .env("MQTT_USERNAME", "alicia")
            .env("MQTT_PASSWORD", "a-broker-password");
    })
    .await;
    let deadline = std::time::Instant::now() + PATIENCE;
    while manager.get(&http, "/api/health").await["services"]["mqtt"] != true {
        assert!(
            std::time::Instant::now() < deadline,
            "the manager logs in to its own broker"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(connect(port, None).await.is_err(), "no login, no entry");
    assert!(
        connect(port, Some(("alicia", "wrong"))).await.is_err(),
        "a wrong password, no entry"
    );
    connect(port, Some(("alicia", "a-broker-password")))
        .await
        .unwrap();
}

/// The Docker image's health check command, as the Dockerfile writes it.
fn docker_health_check() -> String {
    let dockerfile =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/Dockerfile")).unwrap();
    let at = dockerfile.find("HEALTHCHECK").expect("a HEALTHCHECK");
    let rest = &dockerfile[at..];
    let cmd = rest.find("CMD ").expect("its CMD") + "CMD ".len();
    let end = rest[cmd..].find('\n').unwrap() + cmd;
    rest[cmd..end].trim().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_docker_health_check_fails_while_the_broker_is_down() {
    let Some(mut broker) = support::TestBroker::mosquitto() else {
        eprintln!("skipped: Mosquitto is not installed (CI installs it)");
        return;
    };
    let http = reqwest::Client::new();
    let manager = Headless::start(Some(broker.port), &[], &http).await;
    let port = manager.base.rsplit(':').next().unwrap().to_owned();
    let check = docker_health_check();
    let run = || {
        std::process::Command::new("sh")
            .arg("-c")
            .arg(&check)
            .env("PORT", &port)
            .status()
            .unwrap()
            .success()
    };
    let wait_for = |healthy: bool| {
        let deadline = std::time::Instant::now() + PATIENCE;
        while run() != healthy {
            assert!(
                std::time::Instant::now() < deadline,
                "the health check never said {}",
                if healthy { "healthy" } else { "unhealthy" }
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    };
    wait_for(true);
    broker.stop();
    wait_for(false);
    broker.restart();
    wait_for(true);
}

/// The logins of the README's Mosquitto example, with their passwords.
const LOGINS: [(&str, &str); 5] = [
    ("alicia-manager", "manager-password"),
    ("alicia-admin", "admin-password"),
    ("whisper-service", "whisper-password"),
    ("lamp-1", "lamp-password"),
    ("homeassistant", "homeassistant-password"),
];

/// Mosquitto run with `packaging/mosquitto/alicia.conf` and `alicia.acl` as shipped, on a free
/// port and with the example's logins.
fn example_mosquitto() -> Option<support::TestBroker> {
    support::TestBroker::mosquitto_with(|port, dir| {
        let packaging = concat!(env!("CARGO_MANIFEST_DIR"), "/packaging/mosquitto");
        let passwd = dir.join("alicia.passwd");
        for (index, (user, password)) in LOGINS.iter().enumerate() {
            let mut command = std::process::Command::new("mosquitto_passwd");
            if index == 0 {
                command.arg("-c");
            }
            let made = command
                .arg("-b")
                .arg(&passwd)
                .args([user, password])
                .status()
                .unwrap();
            assert!(made.success());
        }
        let acl = dir.join("alicia.acl");
        std::fs::copy(format!("{packaging}/alicia.acl"), &acl).unwrap();
        let shipped = std::fs::read_to_string(format!("{packaging}/alicia.conf")).unwrap();
        let config = shipped
            .replace("listener 1883", &format!("listener {port} 127.0.0.1"))
            .replace("/etc/mosquitto/alicia.passwd", passwd.to_str().unwrap())
            .replace("/etc/mosquitto/alicia.acl", acl.to_str().unwrap());
        assert!(config.contains(&format!("listener {port}")), "{config}");
        format!("user root\npersistence false\n{config}")
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_readme_mosquitto_example_lets_each_login_write_only_its_own_topics() {
    let Some(broker) = example_mosquitto() else {
        return;
    };
    let http = reqwest::Client::new();
    let manager = Headless::start_with(Some(broker.port), &[], &http, |command| {
        command
            .env("MQTT_USERNAME", LOGINS[0].0)
            .env("MQTT_PASSWORD", LOGINS[0].1)
            .env("ALICIA_HA_DISCOVERY", "1");
    })
    .await;
    let wait = |what: &'static str, check: Box<dyn Fn(&serde_json::Value) -> bool>, path| {
        let manager = &manager;
        let http = &http;
        async move {
            let deadline = std::time::Instant::now() + PATIENCE;
            loop {
                let answer = manager.get(http, path).await;
                if check(&answer) {
                    return answer;
                }
                assert!(std::time::Instant::now() < deadline, "{what}: {answer}");
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
    };
    wait(
        "the manager logs in",
        Box::new(|h| h["services"]["mqtt"] == true),
        "/api/health",
    )
    .await;
    let admin = support::TestClient::connect_as(broker.port, LOGINS[1].0, LOGINS[1].1).await;
    let service = support::TestClient::connect_as(broker.port, LOGINS[2].0, LOGINS[2].1).await;
    let lamp = support::TestClient::connect_as(broker.port, LOGINS[3].0, LOGINS[3].1).await;

    // Allowed: a service's own health, a device's own state, an admin's /set.
    service
        .publish_json(
            "alicia/system/health/whisper-service",
            &serde_json::json!({"status": "healthy"}),
            true,
        )
        .await;
    lamp.publish_json(
        "alicia/device/lamp-1/state",
        &serde_json::json!({"on": true}),
        true,
    )
    .await;
    let mut wanted = manager.get(&http, "/api/config/whisper-service").await;
    wanted["config"]["language"] = serde_json::json!("de");
    admin
        .publish_json("alicia/config/whisper-service/set", &wanted, false)
        .await;
    wait(
        "the service's health arrives",
        Box::new(|services| {
            services.as_array().is_some_and(|list| {
                list.iter()
                    .any(|s| s["service_name"] == "whisper-service" && s["status"] == "healthy")
            })
        }),
        "/api/system/services",
    )
    .await;
    wait(
        "the lamp's state arrives",
        Box::new(|devices| devices.to_string().contains("lamp-1")),
        "/api/devices",
    )
    .await;
    wait(
        "the admin's /set is applied",
        Box::new(|document| document["config"]["language"] == "de"),
        "/api/config/whisper-service",
    )
    .await;

    // Refused by the broker: a service writing its config or the manager's presence, a
    // device writing another's state, an admin writing a config topic itself.
    service
        .publish_json(
            "alicia/config/whisper-service",
            &serde_json::json!({"service_name": "whisper-service", "config": {}}),
            true,
        )
        .await;
    service
        .publish_json(
            "alicia/system/health/config-manager",
            &serde_json::json!({"status": "healthy", "instance_id": "intruder", "role": "authority",
                "timestamp": alicia_config_manager::core::clock::now_rfc3339()}),
            true,
        )
        .await;
    lamp.publish_json(
        "alicia/device/lamp-2/state",
        &serde_json::json!({"on": true}),
        true,
    )
    .await;
    admin
        .publish_json(
            "alicia/config/whisper-service",
            &serde_json::json!({}),
            true,
        )
        .await;
    // Markers each login may send, published after its refused ones: once they have arrived,
    // everything before them has been through the broker (one client's messages keep their
    // order).
    service
        .publish_json(
            "alicia/system/health/whisper-service",
            &serde_json::json!({"status": "unhealthy"}),
            true,
        )
        .await;
    lamp.publish_json(
        "alicia/device/lamp-1/state",
        &serde_json::json!({"on": false}),
        true,
    )
    .await;
    wait(
        "the service's marker arrives",
        Box::new(|services| {
            services.as_array().is_some_and(|list| {
                list.iter()
                    .any(|s| s["service_name"] == "whisper-service" && s["status"] == "unhealthy")
            })
        }),
        "/api/system/services",
    )
    .await;
    wait(
        "the lamp's marker arrives",
        Box::new(|device| device["state"]["on"] == false),
        "/api/devices/lamp-1",
    )
    .await;
    wanted["config"]["language"] = serde_json::json!("fr");
    admin
        .publish_json("alicia/config/whisper-service/set", &wanted, false)
        .await;
    wait(
        "the marker is applied",
        Box::new(|document| document["config"]["language"] == "fr"),
        "/api/config/whisper-service",
    )
    .await;
    let system = manager.get(&http, "/api/system").await;
    assert_eq!(system["role"], "authority", "no one took the fleet over");
    assert_eq!(
        system["mqtt"]["messages_invalid"], 0,
        "nothing refused reached the manager: {system}"
    );
    let devices = manager.get(&http, "/api/devices").await;
    assert!(!devices.to_string().contains("lamp-2"), "{devices}");
    let document = manager.get(&http, "/api/config/whisper-service").await;
    assert_eq!(document["config"]["language"], "fr");

    // Home Assistant's login reads the discovery the manager may write, and switches a
    // service off; writing a config topic itself is refused.
    let mut home_assistant =
        support::TestClient::connect_as(broker.port, LOGINS[4].0, LOGINS[4].1).await;
    home_assistant.subscribe("homeassistant/#").await;
    home_assistant
        .expect("the discovery config of whisper-service's switch", |p| {
            p.topic == "homeassistant/switch/alicia_whisper-service/enabled/config"
        })
        .await;
    home_assistant
        .publish_json(
            "alicia/config/whisper-service",
            &serde_json::json!({}),
            true,
        )
        .await;
    home_assistant
        .publish(
            "alicia/ha/whisper-service/enabled/set",
            b"OFF".to_vec(),
            false,
        )
        .await;
    wait(
        "Home Assistant switched the service off",
        Box::new(|document| document["enabled"] == false),
        "/api/config/whisper-service",
    )
    .await;
    let system = manager.get(&http, "/api/system").await;
    assert_eq!(system["mqtt"]["messages_invalid"], 0, "{system}");
}
