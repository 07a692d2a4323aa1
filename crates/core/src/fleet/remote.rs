//! A follower's edits: each change goes to the authority as `alicia/config/<service>/set` in
//! the envelope of CONTRACT §9 and §10 (`{"document", "base", "actor", "request_id"}`: the
//! `last_updated` of the mirrored document the edit started from, who made it here, and a
//! fresh 128-bit id), and its answer comes back by that id only (§10):
//! - stored: the authority answers `config/<service>/result/<request_id>` with the revision's
//!   `last_updated`; the edit is answered once that document is mirrored here (it may have
//!   been mirrored already);
//! - refused: `/error` echoing the id;
//! - nothing in time: the caller says "outcome unknown" (504) — it may still land.
//!
//! Results count only from the current authority, only for a request waiting here, and only
//! once. Change sets travel the same way on `system/changes/…` (§7).

use super::Fleet;
use crate::config::last_updated_of;
use crate::config::{Committed, ConfigError, Remote, RemoteChange, RemoteSent};
use crate::mqtt::MqttHandle;
use crate::mqtt::payloads::{CONFLICT_ERROR, SetRefusal, SetResult};
use parking_lot::Mutex;
use rumqttc::QoS;
use serde_json::{Value, json};
use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use tokio::sync::oneshot;

type Answer = Result<Committed, ConfigError>;

/// Mirrored documents remembered per service, for results that arrive after their mirror.
const MIRRORS_REMEMBERED: usize = 16;

struct Waiter {
    service: String,
    reply: oneshot::Sender<Answer>,
    /// Once the authority said it stored the edit: the `last_updated` of that document.
    stored_at: Option<String>,
}

/// Sends a follower's changes to the authority and matches its answers; cheap to clone.
#[derive(Clone)]
pub struct RemoteEdits {
    fleet: Fleet,
    mqtt: MqttHandle,
    /// Edits sent, by `request_id`.
    waiting: Arc<Mutex<HashMap<String, Waiter>>>,
    /// The latest documents mirrored, by service.
    mirrored: Arc<Mutex<HashMap<String, VecDeque<Committed>>>>,
    /// Change sets sent, by `request_id`, waiting for their answer (CONTRACT §7).
    sets: Arc<Mutex<HashMap<String, oneshot::Sender<Value>>>>,
}

impl RemoteEdits {
    /// Edits sent through `mqtt` while `fleet` says this manager follows.
    pub fn new(fleet: Fleet, mqtt: MqttHandle) -> Self {
        Self {
            fleet,
            mqtt,
            waiting: Arc::default(),
            mirrored: Arc::default(),
            sets: Arc::default(),
        }
    }

    /// Sends a change set to the authority as one request on `system/changes/set` (CONTRACT
    /// §7): `request` is the body without `request_id` and `actor`, which are added here. The
    /// receiver yields the authority's answer from `system/changes/result/<request_id>`.
    pub fn send_set(
        &self,
        mut request: Value,
        actor: crate::config::Actor,
    ) -> Result<(String, oneshot::Receiver<Value>), ConfigError> {
        self.live_authority()?;
        let request_id = crate::random::request_id();
        request["request_id"] = json!(request_id);
        request["actor"] = json!(actor.on_instance(self.fleet.instance_id()));
        let payload = serde_json::to_vec(&request).unwrap_or_default();
        let (reply, answer) = oneshot::channel();
        {
            let mut sets = self.sets.lock();
            sets.retain(|_, waiting| !waiting.is_closed());
            sets.insert(request_id.clone(), reply);
        }
        let topic = self.mqtt.topics().changes_set();
        if let Err(error) = self.mqtt.publish(&topic, payload, QoS::AtLeastOnce, false) {
            self.sets.lock().remove(&request_id);
            return Err(ConfigError::NoAuthority(format!(
                "the change set could not be sent to the authority: {error}"
            )));
        }
        Ok((request_id, answer))
    }

    /// The authority answered the change set `request_id`: taken once, and only from the
    /// current authority (an answer nobody waits for — sent by another follower, or after
    /// the wait ended — is ignored).
    pub fn set_answered(&self, request_id: &str, body: &Value) {
        let from = body.get("instance_id").and_then(Value::as_str);
        if !self.is_current_authority(from) {
            tracing::warn!(
                request_id,
                claimed = from,
                "a change-set answer not from the current authority was ignored"
            );
            return;
        }
        if let Some(reply) = self.sets.lock().remove(request_id) {
            // An error only says the request stopped waiting: nobody to tell.
            let _ = reply.send(body.clone());
        }
    }

    /// True when `instance_id` is the authority this manager follows now.
    fn is_current_authority(&self, instance_id: Option<&str>) -> bool {
        let state = self.fleet.state();
        state
            .authority
            .as_ref()
            .is_some_and(|authority| Some(authority.instance_id.as_str()) == instance_id)
    }

    /// `Ok` while a live authority is there to take changes; else why not.
    fn live_authority(&self) -> Result<(), ConfigError> {
        let state = self.fleet.state();
        if state.has_live_authority() {
            return Ok(());
        }
        let reason = match &state.authority {
            Some(gone) => format!(
                "no live authority: {} is gone (last seen {}); edits are refused until an \
                 authority is back, or restart this manager with --role authority",
                gone.instance_id,
                gone.last_seen.as_deref().unwrap_or("never")
            ),
            None => "no authority is running on this fleet; edits are refused until one \
                     is, or restart this manager with --role authority"
                .to_owned(),
        };
        Err(ConfigError::NoAuthority(reason))
    }

    /// The authority's document for `service` was mirrored here: answers the edit the
    /// authority said it stored as this document.
    pub fn answered(&self, committed: &Committed) {
        let Some(last_updated) = committed.document.as_deref().and_then(last_updated_of) else {
            return;
        };
        {
            let mut mirrored = self.mirrored.lock();
            let recent = mirrored.entry(committed.service.clone()).or_default();
            recent.push_back(committed.clone());
            while recent.len() > MIRRORS_REMEMBERED {
                recent.pop_front();
            }
        }
        let mut waiting = self.waiting.lock();
        waiting.retain(|_, w| !w.reply.is_closed());
        let done: Vec<String> = waiting
            .iter()
            .filter(|(_, w)| {
                w.service == committed.service && w.stored_at.as_deref() == Some(last_updated)
            })
            .map(|(id, _)| id.clone())
            .collect();
        for id in done {
            if let Some(waiter) = waiting.remove(&id) {
                // An error only says the edit stopped waiting (it timed out): nobody to tell.
                let _ = waiter.reply.send(Ok(committed.clone()));
            }
        }
    }

    /// The authority stored the edit `result.request_id` (CONTRACT §10): answered now if its
    /// document is mirrored already, else once it is.
    pub fn stored(&self, service: &str, result: SetResult) {
        if !self.is_current_authority(Some(&result.instance_id)) {
            tracing::warn!(
                service,
                claimed = result.instance_id,
                "a /set result not from the current authority was ignored"
            );
            return;
        }
        let mirrored = self.mirrored.lock().get(service).and_then(|recent| {
            recent
                .iter()
                .rev()
                .find(|c| {
                    c.document.as_deref().and_then(last_updated_of)
                        == Some(result.last_updated.as_str())
                })
                .cloned()
        });
        let mut waiting = self.waiting.lock();
        let Some(waiter) = waiting.get_mut(&result.request_id) else {
            return;
        };
        if waiter.service != service {
            return;
        }
        match mirrored {
            Some(committed) => {
                if let Some(waiter) = waiting.remove(&result.request_id) {
                    let _ = waiter.reply.send(Ok(committed));
                }
            }
            None => waiter.stored_at = Some(result.last_updated),
        }
    }

    /// The authority refused a request for `service`: answers the one its `request_id` names
    /// (a refusal without one answers nobody: it is not for an edit of this version).
    pub fn refused(&self, service: &str, refusal: SetRefusal) {
        let Some(request_id) = refusal.request_id.clone() else {
            return;
        };
        let mut waiting = self.waiting.lock();
        if !waiting
            .get(&request_id)
            .is_some_and(|w| w.service == service && w.stored_at.is_none())
        {
            return;
        }
        let Some(waiter) = waiting.remove(&request_id) else {
            return;
        };
        let error = if refusal.error == CONFLICT_ERROR {
            ConfigError::Conflict {
                service: service.to_owned(),
                current: None,
                current_last_updated: refusal.current_last_updated.flatten(),
            }
        } else {
            ConfigError::RefusedByAuthority {
                error: refusal.error,
                details: refusal.details,
            }
        };
        // An error only says the edit stopped waiting (it timed out): nobody to tell.
        let _ = waiter.reply.send(Err(error));
    }
}

impl Remote for RemoteEdits {
    fn active(&self) -> bool {
        self.fleet.role() == super::Role::Follower
    }

    fn send(&self, service: &str, change: RemoteChange) -> Result<RemoteSent, ConfigError> {
        self.live_authority()?;
        let request_id = crate::random::request_id();
        let mut envelope = json!({
            "document": change.document,
            "base": change.base,
            "actor": change.actor.on_instance(self.fleet.instance_id()),
            "request_id": request_id,
        });
        if let Some(watch) = change.watch {
            // The authority watches it (CONTRACT §7).
            envelope["watch"] = json!(watch);
        }
        let payload = serde_json::to_vec(&envelope).unwrap_or_default();
        let (reply, answer) = oneshot::channel();
        {
            let mut waiting = self.waiting.lock();
            waiting.retain(|_, w| !w.reply.is_closed());
            waiting.insert(
                request_id.clone(),
                Waiter {
                    service: service.to_owned(),
                    reply,
                    stored_at: None,
                },
            );
        }
        let topic = self.mqtt.topics().config_set(service);
        if let Err(error) = self.mqtt.publish(&topic, payload, QoS::AtLeastOnce, false) {
            self.waiting.lock().remove(&request_id);
            return Err(ConfigError::NoAuthority(format!(
                "the change could not be sent to the authority: {error}"
            )));
        }
        Ok(RemoteSent { request_id, answer })
    }
}
