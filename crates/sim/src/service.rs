//! How simulated services behave: their announcement, their health over time, whether they
//! accept a config revision (some refuse on purpose, with a reason an admin can read), and
//! their answer to each new revision (an ack).

use super::SimContext;
use super::catalog::settings_schema;
use super::fleet::{Fleet, HealthBehaviour, SimService};
use alicia_core::config::{ROUTER_TARGETS, ServiceType};
use alicia_core::mqtt::payloads::{Announcement, ConfigAck, Endpoint, HealthStatus};
use rumqttc::QoS;
use serde_json::Value;
use std::collections::HashMap;

/// Health reports a silent service sends before it goes quiet.
const REPORTS_BEFORE_SILENCE: u64 = 2;

/// The discovery announcement of a service of `fleet`. A voice router's settings schema
/// defaults its `stt_service`, `tts_service` and `llm_service` to the fleet's first service of
/// each type, so the config built from it names a working chain.
pub fn announcement(service: &SimService, fleet: &Fleet) -> Announcement {
    let mut schema = settings_schema(service.model.service_type);
    if service.model.service_type == ServiceType::VoiceRouter {
        for (kind, key) in ROUTER_TARGETS {
            if let Some(target) = fleet.services_of(kind).next()
                && let Some(property) = schema.pointer_mut(&format!("/properties/{key}"))
            {
                property["default"] = Value::String(target.name.clone());
            }
        }
    }
    Announcement {
        service_name: service.name.clone(),
        service_type: service.model.service_type.as_str().to_owned(),
        version: service.model.version.to_owned(),
        endpoints: Some(vec![Endpoint {
            kind: service.model.service_type.as_str().to_owned(),
            model: service.model.models.first().map(|m| (*m).to_owned()),
            ip: format!("10.0.0.{}", 10 + service.index % 240),
            port: Some(service.model.port),
            protocol: Some(
                if service.model.port == 443 {
                    "https"
                } else {
                    "http"
                }
                .to_owned(),
            ),
        }]),
        settings_schema: Some(schema),
    }
}

/// The last revision (`last_updated`) each service answered, by its index in the fleet: a
/// revision the broker delivers again is not answered twice.
pub type AppliedRevisions = HashMap<usize, String>;

/// Answers a config the manager published for the service at `index`: reviews it and acks
/// the revision (applied, or refused with the reason), once per revision.
pub(super) async fn answer_config(
    ctx: &SimContext,
    index: usize,
    answered: &mut AppliedRevisions,
    payload: &[u8],
) {
    let Ok(document) = serde_json::from_slice::<Value>(payload) else {
        return;
    };
    let Some(last_updated) = document.get("last_updated").and_then(Value::as_str) else {
        return;
    };
    if answered
        .get(&index)
        .is_some_and(|seen| seen == last_updated)
    {
        return;
    }
    answered.insert(index, last_updated.to_owned());
    let sim = &ctx.fleet.services[index];
    let asks = |flag: &str| {
        document
            .pointer(&format!("/config/settings/{flag}"))
            .and_then(Value::as_bool)
            == Some(true)
    };
    if asks("ignore") {
        // Misbehaving on request (CONTRACT §7 demos and tests): no answer at all.
        return;
    }
    let verdict = review(sim, &document);
    let fails = verdict.is_ok() && asks("fail_after_apply");
    if fails {
        ctx.failing.lock().insert(index);
    } else {
        ctx.failing.lock().remove(&index);
    }
    SimContext::count(if verdict.is_ok() {
        &ctx.tally.applied
    } else {
        &ctx.tally.refused
    });
    let ack = ConfigAck {
        last_updated: last_updated.to_owned(),
        applied: verdict.is_ok(),
        error: verdict.err(),
    };
    ctx.publish(
        ctx.topics.config_ack(&sim.name),
        QoS::AtLeastOnce,
        false,
        serde_json::to_vec(&ack).unwrap_or_default(),
    )
    .await;
    if fails {
        // Applied, then broken by it: unhealthy at once, and at each report until fixed.
        ctx.publish(
            ctx.topics.health(&sim.name),
            QoS::AtLeastOnce,
            true,
            super::health_report(
                HealthStatus::Unhealthy,
                Some("failing since the last config"),
            ),
        )
        .await;
    }
}

/// What the service reports at health tick `tick` (0, 1, …); `None` when it stays silent.
pub fn health_at(service: &SimService, tick: u64) -> Option<(HealthStatus, Option<&'static str>)> {
    match service.health {
        HealthBehaviour::Steady => Some((HealthStatus::Healthy, None)),
        HealthBehaviour::Flapping if tick % 2 == 1 => {
            Some((HealthStatus::Unhealthy, Some("model server not responding")))
        }
        HealthBehaviour::Flapping => Some((HealthStatus::Healthy, None)),
        HealthBehaviour::GoesSilent => {
            (tick < REPORTS_BEFORE_SILENCE).then_some((HealthStatus::Healthy, None))
        }
    }
}

/// Whether the service can apply `document`: a voice, model or language it does not have is
/// refused with the list of what it has.
pub fn review(service: &SimService, document: &Value) -> Result<(), String> {
    let config = document.get("config");
    let field = |name: &str| config.and_then(|c| c.get(name)).and_then(Value::as_str);
    let model = service.model;
    if let Some(voice) = field("voice").filter(|v| !v.is_empty())
        && !model.voices.is_empty()
        && !model.voices.contains(&voice)
    {
        return Err(format!(
            "unknown voice {voice:?}; {} has: {}",
            model.provider,
            model.voices.join(", ")
        ));
    }
    if let Some(name) = field("model").filter(|m| !m.is_empty())
        && !model.models.is_empty()
        && !model.models.contains(&name)
    {
        return Err(format!(
            "model {name:?} is not installed; available: {}",
            model.models.join(", ")
        ));
    }
    if let Some(language) = field("language").filter(|l| !l.is_empty())
        && !model.languages.contains(&language)
    {
        return Err(format!(
            "language {language:?} is not supported; supported: {}",
            model.languages.join(", ")
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fleet::Fleet;
    use alicia_core::config::{SettingsSchema, document_from_announcement, validate_document};
    use serde_json::json;

    #[test]
    fn announcements_build_valid_configs() {
        let fleet = Fleet::generate(2, 10, 0);
        for service in &fleet.services {
            let announcement = announcement(service, &fleet);
            let schema =
                SettingsSchema::compile(announcement.settings_schema.clone().unwrap()).unwrap();
            let mut document = document_from_announcement(&announcement);
            document["last_updated"] = json!("2026-01-01T00:00:00.000Z");
            assert_eq!(
                validate_document(&document, Some(&schema)),
                vec![],
                "{}",
                service.name
            );
            assert_eq!(review(service, &document), Ok(()));
            if service.model.service_type == ServiceType::VoiceRouter {
                for (_, key) in ROUTER_TARGETS {
                    let target = document["config"]["settings"][key].as_str().unwrap();
                    assert!(
                        fleet.services.iter().any(|s| s.name == target),
                        "{key}: {target}"
                    );
                }
            }
        }
    }

    #[test]
    fn unknown_voices_models_and_languages_are_refused_readably() {
        let fleet = Fleet::generate(2, 10, 0);
        let tts = fleet.services_of(ServiceType::Tts).next().unwrap();
        let error = review(tts, &json!({"config": {"voice": "robot-9000"}})).unwrap_err();
        assert!(error.contains("unknown voice \"robot-9000\""), "{error}");
        assert!(error.contains(tts.model.voices[0]));
        let ok_voice = json!({"config": {"voice": tts.model.voices[1]}});
        assert_eq!(review(tts, &ok_voice), Ok(()));
        let llm = fleet.services_of(ServiceType::Llm).next().unwrap();
        assert!(
            review(llm, &json!({"config": {"model": "gpt-9"}}))
                .unwrap_err()
                .contains("not installed")
        );
        let stt = fleet.services_of(ServiceType::Stt).next().unwrap();
        assert!(
            review(stt, &json!({"config": {"language": "tlh"}}))
                .unwrap_err()
                .contains("not supported")
        );
    }

    #[test]
    fn health_follows_the_behaviour() {
        let mut fleet = Fleet::generate(2, 5, 0);
        let service = &mut fleet.services[0];
        service.health = HealthBehaviour::Flapping;
        assert_eq!(health_at(service, 0).unwrap().0, HealthStatus::Healthy);
        assert_eq!(health_at(service, 1).unwrap().0, HealthStatus::Unhealthy);
        service.health = HealthBehaviour::GoesSilent;
        assert!(health_at(service, 1).is_some());
        assert!(health_at(service, 2).is_none());
    }
}
