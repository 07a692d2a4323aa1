//! The simulated fleet against the embedded broker with a real core: every service and device
//! shows up, config changes are acked (or refused with a reason), commands get results; and
//! the `simulate` subcommand of the binary.

mod support;

use alicia_config_manager::core::config::{ChangeSource, Precondition};
use alicia_config_manager::core::events::CoreEvent;
use alicia_config_manager::core::health::ConfigState;
use alicia_config_manager::core::mqtt::payloads::HealthStatus;
use alicia_config_manager::sim::fleet::HealthBehaviour;
use alicia_config_manager::sim::{SimOptions, Simulation};
use serde_json::json;
use std::time::Duration;
use support::{TestBroker, start_core, wait_until};

fn options(port: u16) -> SimOptions {
    SimOptions {
        host: "127.0.0.1".into(),
        port,
        prefix: "alicia".into(),
        services: 7,
        devices: 60,
        rate: 50.0,
        seed: 7,
        health_period: Duration::from_millis(500),
        flap_period: Duration::from_secs(3600),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_core_sees_the_whole_fleet_and_it_answers() {
    let broker = TestBroker::embedded();
    let dir = tempfile::tempdir().unwrap();
    let (core, _runtime) = start_core(dir.path(), broker.port, |s| s.health_ttl_secs = 2).await;
    let simulation = Simulation::start(&options(broker.port));
    let fleet = simulation.fleet().clone();

    let probe = core.clone();
    let names: Vec<String> = fleet.services.iter().map(|s| s.name.clone()).collect();
    wait_until(
        "every simulated service has a config it applied",
        move || {
            let rows = probe.service_overview();
            names.iter().all(|name| {
                rows.iter()
                    .any(|r| &r.service_name == name && r.config_state == ConfigState::Applied)
            })
        },
    )
    .await;
    let probe = core.clone();
    wait_until("every device is known", move || {
        probe.devices.list().len() == 60
    })
    .await;
    for service in &fleet.services {
        let history = core.config.history(&service.name);
        assert_eq!(
            history.last().unwrap().source,
            ChangeSource::Discovery,
            "{}",
            service.name
        );
        assert!(
            core.config.settings_schema(&service.name).is_some(),
            "{} announced a settings schema",
            service.name
        );
    }
    let silent = fleet
        .services
        .iter()
        .find(|s| s.health == HealthBehaviour::GoesSilent)
        .unwrap()
        .name
        .clone();
    let probe = core.clone();
    wait_until("the silent service turns stale", move || {
        probe
            .service_overview()
            .iter()
            .any(|r| r.service_name == silent && r.stale)
    })
    .await;
    let flapping = fleet
        .services
        .iter()
        .find(|s| s.health == HealthBehaviour::Flapping)
        .unwrap()
        .name
        .clone();
    let probe = core.clone();
    wait_until("a flapping service shows unhealthy", move || {
        probe
            .service_overview()
            .iter()
            .any(|r| r.service_name == flapping && r.status == HealthStatus::Unhealthy)
    })
    .await;

    let tts = fleet
        .services
        .iter()
        .find(|s| s.model.service_type == alicia_config_manager::core::config::ServiceType::Tts)
        .unwrap()
        .clone();
    let state_of = |core: &alicia_config_manager::core::Core, name: &str| {
        core.service_overview()
            .into_iter()
            .find(|r| r.service_name == name)
            .unwrap()
    };
    let mut document = (*core.config.get(&tts.name).unwrap().document).clone();
    document["config"]["voice"] = json!(tts.model.voices[1]);
    core.config
        .put(
            &tts.name,
            document.clone(),
            ChangeSource::Gui,
            Precondition::None,
        )
        .await
        .unwrap();
    let (probe, name) = (core.clone(), tts.name.clone());
    wait_until("the new voice is applied", move || {
        state_of(&probe, &name).config_state == ConfigState::Applied
    })
    .await;
    document["config"]["voice"] = json!("robot-9000");
    core.config
        .put(&tts.name, document, ChangeSource::Gui, Precondition::None)
        .await
        .unwrap();
    let (probe, name) = (core.clone(), tts.name.clone());
    wait_until("the unknown voice is refused", move || {
        state_of(&probe, &name).config_state == ConfigState::Refused
    })
    .await;
    let reason = state_of(&core, &tts.name).config_error.unwrap();
    assert!(reason.contains("unknown voice \"robot-9000\""), "{reason}");

    let mut events = core.events.subscribe();
    let lamp = fleet
        .devices
        .iter()
        .find(|d| d.kind == "light")
        .unwrap()
        .id
        .clone();
    let request_id = core
        .send_command(&lamp, "turn_on", serde_json::Map::new())
        .unwrap();
    let result = tokio::time::timeout(support::PATIENCE, async {
        loop {
            if let Ok(CoreEvent::CommandFinished(record)) = events.recv().await
                && record.request_id == request_id
            {
                return record;
            }
        }
    })
    .await
    .expect("the device answers the command");
    if result.status == alicia_config_manager::core::commands::CommandStatus::Ok {
        let probe = core.clone();
        wait_until("the lamp reports it is on", move || {
            probe
                .devices
                .get(&lamp)
                .is_some_and(|d| d.state["on"] == true)
        })
        .await;
    } else {
        assert!(result.error.is_some(), "a failure says why");
    }

    let report = simulation.stop().await;
    assert!(
        report.applied >= 8 && report.refused >= 1 && report.commands >= 1,
        "{report:?}"
    );
    let probe = core.clone();
    let own: std::collections::HashSet<String> = fleet
        .devices
        .iter()
        .filter(|d| d.own_connection)
        .map(|d| d.id.clone())
        .collect();
    let deadline = std::time::Instant::now() + support::PATIENCE;
    loop {
        let online: Vec<String> = probe
            .devices
            .list()
            .iter()
            .filter(|d| d.online)
            .map(|d| {
                let holds = if own.contains(&d.id) {
                    "own connection"
                } else {
                    "shared"
                };
                format!("{} ({holds}, availability {:?})", d.id, d.availability)
            })
            .collect();
        if online.is_empty() {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "devices still online after the simulator stopped: {online:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[test]
fn the_simulate_subcommand_plays_and_stops_after_its_duration() {
    let broker_port = support::free_port();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let _broker = runtime.block_on(async { TestBroker::embedded_on(broker_port) });
    let output = std::process::Command::new(support::app_binary())
        .args([
            "simulate",
            "--services",
            "5",
            "--devices",
            "40",
            "--rate",
            "200",
            "--duration",
            "2",
        ])
        .env("MQTT_BROKER", "127.0.0.1")
        .env("MQTT_PORT", broker_port.to_string())
        .env("LOG_LEVEL", "info")
        .output()
        .unwrap();
    // The console log goes to stdout (CONTRACT §9), as the seed's did.
    let log = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{log}");
    assert!(log.contains("simulating an Alicia fleet"), "{log}");
    let published: u64 = log
        .lines()
        .find(|l| l.contains("simulator stopped"))
        .and_then(|l| l.split("published=").nth(1))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.trim_matches(|c: char| !c.is_ascii_digit()).parse().ok())
        .unwrap_or_else(|| panic!("no final report in: {log}"));
    assert!(
        published >= 300,
        "{published} messages in 2 s at 200/s plus the fleet's start"
    );
}

/// The simulated services misbehave on request, and safe apply undoes it: a config with
/// `settings.fail_after_apply` makes the service unhealthy (rolled back `unhealthy`), one with
/// `settings.ignore` gets no answer (rolled back `silent`), a model it lacks is refused
/// (`refused`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn simulated_services_misbehave_on_request_and_safe_apply_undoes_it() {
    let broker = TestBroker::embedded();
    let dir = tempfile::tempdir().unwrap();
    let (core, _runtime) = start_core(dir.path(), broker.port, |s| s.health_ttl_secs = 5).await;
    let simulation = Simulation::start(&options(broker.port));
    let fleet = simulation.fleet().clone();
    // Steady services; the one to refuse a model first (it must have a list of models).
    let mut steady: Vec<&alicia_config_manager::sim::fleet::SimService> = fleet
        .services
        .iter()
        .filter(|s| s.health == HealthBehaviour::Steady)
        .collect();
    steady.sort_by_key(|s| s.model.models.is_empty());
    let steady: Vec<String> = steady.into_iter().map(|s| s.name.clone()).collect();
    assert!(steady.len() >= 3, "three steady services to misbehave");
    let probe = core.clone();
    let wanted = steady.clone();
    wait_until("the steady services applied their configs", move || {
        let rows = probe.service_overview();
        wanted.iter().all(|name| {
            rows.iter().any(|r| {
                &r.service_name == name
                    && r.config_state == ConfigState::Applied
                    && r.status == HealthStatus::Healthy
            })
        })
    })
    .await;
    let cases = [
        (
            &steady[0],
            "/config/settings/fail_after_apply",
            json!(true),
            "unhealthy",
        ),
        (&steady[1], "/config/settings/ignore", json!(true), "silent"),
        (
            &steady[2],
            "/config/model",
            json!("no-such-model"),
            "refused",
        ),
    ];
    for (service, pointer, value, _) in &cases {
        let mut document = (*core.config.get(service).unwrap().document).clone();
        let key = pointer.rsplit('/').next().unwrap();
        if pointer.starts_with("/config/settings/") {
            document["config"]["settings"][key] = value.clone();
        } else {
            document["config"][key] = value.clone();
        }
        let committed = core
            .config
            .put(service, document, ChangeSource::Rest, Precondition::None)
            .await
            .unwrap();
        core.safe_apply
            .start(service, committed.revision, 3, &core.health, &core.config);
    }
    for (service, _, _, reason) in cases {
        let probe = core.clone();
        let (name, wanted) = (service.clone(), reason.to_owned());
        wait_until(&format!("{service} rolled back ({reason})"), move || {
            probe.config.history(&name).first().is_some_and(|e| {
                e.source == ChangeSource::Rollback && e.reason.as_deref() == Some(&wanted)
            })
        })
        .await;
    }
    simulation.stop().await;
}
