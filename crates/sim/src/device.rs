//! How simulated devices behave: their state, how it drifts, and how they answer commands.

use super::SimContext;
use super::fleet::SimDevice;
use alicia_core::mqtt::payloads::{CommandResult, DeviceCommand};
use rumqttc::QoS;
use serde_json::{Map, Value, json};

/// One in this many commands fails as if the device did not answer.
const FLAKY_ONE_IN: u32 = 20;

/// A device's first state (name, type and room included, as the contract lifts them).
pub fn initial_state(device: &SimDevice, rng: &mut fastrand::Rng) -> Map<String, Value> {
    let mut state = Map::new();
    state.insert("name".into(), json!(device.name));
    state.insert("type".into(), json!(device.kind));
    state.insert("room".into(), json!(device.room));
    match device.kind {
        "light" => {
            state.insert("on".into(), json!(rng.bool()));
            state.insert("brightness".into(), json!(rng.u8(10..=100)));
            state.insert("color_temp".into(), json!(rng.u16(2700..=6500)));
        }
        "sensor" => {
            state.insert("temperature".into(), json!(tenth(rng.u16(180..=250))));
            state.insert("humidity".into(), json!(rng.u8(30..=60)));
            state.insert("motion".into(), json!(false));
            state.insert("battery".into(), json!(rng.u8(20..=100)));
        }
        "thermostat" => {
            state.insert(
                "current_temperature".into(),
                json!(tenth(rng.u16(170..=230))),
            );
            state.insert(
                "target_temperature".into(),
                json!(tenth(rng.u16(190..=220))),
            );
            state.insert(
                "mode".into(),
                json!(["heat", "auto", "off"][rng.usize(..3)]),
            );
        }
        _ => {
            state.insert("playing".into(), json!(false));
            state.insert("volume".into(), json!(rng.u8(10..=60)));
            state.insert("source".into(), json!("radio"));
        }
    }
    state
}

/// A small, plausible change: a sensor reading moves, a light is switched, …
pub fn drift(kind: &str, state: &mut Map<String, Value>, rng: &mut fastrand::Rng) {
    match kind {
        "light" => {
            if rng.u8(..4) == 0 {
                toggle(state, "on");
            } else {
                state.insert("brightness".into(), json!(rng.u8(10..=100)));
            }
        }
        "sensor" => {
            nudge(state, "temperature", rng, 5.0, 35.0);
            state.insert("motion".into(), json!(rng.u8(..5) == 0));
        }
        "thermostat" => nudge(state, "current_temperature", rng, 10.0, 30.0),
        _ => {
            if rng.u8(..3) == 0 {
                toggle(state, "playing");
            } else {
                state.insert("volume".into(), json!(rng.u8(0..=100)));
            }
        }
    }
}

/// Answers a command for the device at `index`: carries it out, publishes the new state when
/// it worked, and the result either way.
pub(super) async fn answer_command(
    ctx: &SimContext,
    index: usize,
    payload: &[u8],
    rng: &mut fastrand::Rng,
) {
    let Ok(command) = serde_json::from_slice::<DeviceCommand>(payload) else {
        return;
    };
    let device = &ctx.fleet.devices[index];
    let (outcome, state) = {
        let mut state = ctx.states[index].lock();
        let outcome = apply_command(
            device.kind,
            &mut state,
            &command.command,
            &command.params,
            rng,
        );
        (outcome, serde_json::to_vec(&*state).unwrap_or_default())
    };
    SimContext::count(&ctx.tally.commands);
    if outcome.is_ok() {
        ctx.publish(
            ctx.topics.device_state(&device.id),
            QoS::AtMostOnce,
            true,
            state,
        )
        .await;
    }
    let result = CommandResult {
        request_id: command.request_id,
        ok: outcome.is_ok(),
        error: outcome.err(),
    };
    ctx.publish(
        ctx.topics.device_command_result(&device.id),
        QoS::AtLeastOnce,
        false,
        serde_json::to_vec(&result).unwrap_or_default(),
    )
    .await;
}

/// Carries out a command: the new state, or why it failed (a few fail on purpose).
pub fn apply_command(
    kind: &str,
    state: &mut Map<String, Value>,
    command: &str,
    params: &Map<String, Value>,
    rng: &mut fastrand::Rng,
) -> Result<(), String> {
    if rng.u32(..FLAKY_ONE_IN) == 0 {
        return Err("the device did not answer in time".to_owned());
    }
    let number = |key: &str| params.get(key).and_then(Value::as_f64);
    match (kind, command) {
        ("light" | "speaker", "turn_on") => set(state, kind, true),
        ("light" | "speaker", "turn_off") => set(state, kind, false),
        ("light", "set_brightness") => {
            let level = number("brightness").ok_or("`brightness` (0-100) is required")?;
            if !(0.0..=100.0).contains(&level) {
                return Err(format!("brightness {level} is outside 0-100"));
            }
            state.insert("brightness".into(), json!(level.round()));
            state.insert("on".into(), json!(level > 0.0));
        }
        ("thermostat", "set_temperature") => {
            let target = number("temperature").ok_or("`temperature` is required")?;
            if !(5.0..=30.0).contains(&target) {
                return Err(format!(
                    "{target} °C is outside the thermostat's range (5-30 °C)"
                ));
            }
            state.insert("target_temperature".into(), json!(target));
        }
        ("thermostat", "set_mode") => {
            let mode = params
                .get("mode")
                .and_then(Value::as_str)
                .unwrap_or_default();
            if !["heat", "auto", "off"].contains(&mode) {
                return Err(format!("unknown mode {mode:?} (heat, auto, off)"));
            }
            state.insert("mode".into(), json!(mode));
        }
        ("speaker", "set_volume") => {
            let volume = number("volume").ok_or("`volume` (0-100) is required")?;
            state.insert("volume".into(), json!(volume.clamp(0.0, 100.0).round()));
        }
        (_, "identify" | "ping") => {}
        _ => return Err(format!("a {kind} does not know the command {command:?}")),
    }
    Ok(())
}

fn set(state: &mut Map<String, Value>, kind: &str, on: bool) {
    let key = if kind == "speaker" { "playing" } else { "on" };
    state.insert(key.into(), json!(on));
}

fn toggle(state: &mut Map<String, Value>, key: &str) {
    let now = state.get(key).and_then(Value::as_bool).unwrap_or(false);
    state.insert(key.into(), json!(!now));
}

fn nudge(state: &mut Map<String, Value>, key: &str, rng: &mut fastrand::Rng, low: f64, high: f64) {
    let now = state
        .get(key)
        .and_then(Value::as_f64)
        .unwrap_or((low + high) / 2.0);
    let step = (f64::from(rng.u8(..=6)) - 3.0) / 10.0;
    state.insert(
        key.into(),
        json!(((now + step).clamp(low, high) * 10.0).round() / 10.0),
    );
}

fn tenth(value: u16) -> f64 {
    f64::from(value) / 10.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fleet::Fleet;

    fn device(kind: &str) -> SimDevice {
        Fleet::generate(5, 0, 400)
            .devices
            .into_iter()
            .find(|d| d.kind == kind)
            .unwrap()
    }

    #[test]
    fn states_carry_name_type_and_room_and_drift_deterministically() {
        for kind in ["light", "sensor", "thermostat", "speaker"] {
            let device = device(kind);
            let run = |seed| {
                let mut rng = fastrand::Rng::with_seed(seed);
                let mut state = initial_state(&device, &mut rng);
                for _ in 0..50 {
                    drift(kind, &mut state, &mut rng);
                }
                state
            };
            let state = run(9);
            assert_eq!(state["type"], kind);
            assert_eq!(state["room"], device.room);
            assert_eq!(
                run(9),
                state,
                "{kind} drifts the same way for the same seed"
            );
        }
    }

    #[test]
    fn commands_change_state_or_say_why_not() {
        let mut rng = fastrand::Rng::with_seed(1);
        let thermostat = device("thermostat");
        let mut state = initial_state(&thermostat, &mut rng);
        let params = |v: Value| v.as_object().unwrap().clone();
        let mut outcomes = Vec::new();
        for _ in 0..200 {
            outcomes.push(apply_command(
                "thermostat",
                &mut state,
                "set_temperature",
                &params(json!({"temperature": 21.5})),
                &mut rng,
            ));
        }
        assert!(outcomes.iter().any(Result::is_ok));
        assert!(
            outcomes
                .iter()
                .any(|o| o.as_ref().is_err_and(|e| e.contains("did not answer"))),
            "a few fail on purpose"
        );
        assert_eq!(state["target_temperature"], 21.5);
        let refused = (0..40)
            .map(|_| {
                apply_command(
                    "thermostat",
                    &mut state,
                    "set_temperature",
                    &params(json!({"temperature": 80})),
                    &mut rng,
                )
            })
            .find(|r| r.as_ref().is_err_and(|e| e.contains("outside")));
        assert!(refused.is_some());
        let unknown = (0..40)
            .map(|_| apply_command("sensor", &mut state, "fly", &Map::new(), &mut rng))
            .find(|r| r.as_ref().is_err_and(|e| e.contains("does not know")));
        assert!(unknown.is_some());
    }
}
