//! A follower's edits: each change goes to the authority as `alicia/config/<service>/set` in
//! the envelope of CONTRACT §9 (`{"document", "base", "actor"}`: the `last_updated` of the
//! mirrored document the edit started from, and who made it here), and its answer comes back as the authority's next retained document for that service
//! (mirrored here, then handed to the waiting editor) or as `/error`.
//!
//! The contract's `/set` carries no request id, so answers are matched by content: a
//! document the authority published answers the request that sent the same document (up to
//! the `last_updated` and `status` the authority stamps); an `/error` answers the oldest
//! request still waiting for that service. Two admins editing one service at the same moment
//! from two followers could see each other's refusal — written down in the README.

use super::Fleet;
use crate::core::config::{Committed, ConfigError, Remote, RemoteChange};
use crate::core::mqtt::MqttHandle;
use crate::core::mqtt::payloads::{CONFLICT_ERROR, SetRefusal};
use parking_lot::Mutex;
use rumqttc::QoS;
use serde_json::{Value, json};
use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use tokio::sync::oneshot;

type Answer = Result<Committed, ConfigError>;

struct Waiter {
    sent: Value,
    reply: oneshot::Sender<Answer>,
}

/// Sends a follower's changes to the authority and matches its answers; cheap to clone.
#[derive(Clone)]
pub struct RemoteEdits {
    fleet: Fleet,
    mqtt: MqttHandle,
    waiting: Arc<Mutex<HashMap<String, VecDeque<Waiter>>>>,
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
            sets: Arc::default(),
        }
    }

    /// Sends a change set to the authority as one request on `system/changes/set` (CONTRACT
    /// §7): `request` is the body without `request_id` and `actor`, which are added here. The
    /// receiver yields the authority's answer from `system/changes/result/<request_id>`.
    pub fn send_set(
        &self,
        mut request: Value,
        actor: crate::core::config::Actor,
    ) -> Result<oneshot::Receiver<Value>, ConfigError> {
        self.live_authority()?;
        let request_id = crate::core::random::unique_id();
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
        Ok(answer)
    }

    /// The authority answered the change set `request_id` (an answer nobody waits for — sent
    /// by another follower, or after the wait ended — is ignored).
    pub fn set_answered(&self, request_id: &str, body: &Value) {
        if let Some(reply) = self.sets.lock().remove(request_id) {
            // An error only says the request stopped waiting: nobody to tell.
            let _ = reply.send(body.clone());
        }
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

    /// The authority's document for `service` was mirrored here: answers the request that
    /// sent it.
    pub fn answered(&self, committed: &Committed) {
        let Some(document) = committed.document.as_deref() else {
            return;
        };
        let published = comparable(document);
        let mut waiting = self.waiting.lock();
        let Some(queue) = waiting.get_mut(&committed.service) else {
            return;
        };
        queue.retain(|w| !w.reply.is_closed());
        if let Some(position) = queue.iter().position(|w| w.sent == published)
            && let Some(waiter) = queue.remove(position)
        {
            // An error only says the edit stopped waiting (it timed out): nobody to tell.
            let _ = waiter.reply.send(Ok(committed.clone()));
        }
    }

    /// The authority refused a request for `service`: answers the oldest one waiting.
    pub fn refused(&self, service: &str, refusal: SetRefusal) {
        let mut waiting = self.waiting.lock();
        let Some(queue) = waiting.get_mut(service) else {
            return;
        };
        queue.retain(|w| !w.reply.is_closed());
        if let Some(waiter) = queue.pop_front() {
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
}

impl Remote for RemoteEdits {
    fn active(&self) -> bool {
        self.fleet.role() == super::Role::Follower
    }

    fn send(
        &self,
        service: &str,
        change: RemoteChange,
    ) -> Result<oneshot::Receiver<Answer>, ConfigError> {
        self.live_authority()?;
        let mut envelope = json!({
            "document": change.document,
            "base": change.base,
            "actor": change.actor.on_instance(self.fleet.instance_id()),
        });
        if let Some(watch) = change.watch {
            // The authority watches it (CONTRACT §7).
            envelope["watch"] = json!(watch);
        }
        let payload = serde_json::to_vec(&envelope).unwrap_or_default();
        let (reply, answer) = oneshot::channel();
        {
            let mut waiting = self.waiting.lock();
            let queue = waiting.entry(service.to_owned()).or_default();
            queue.retain(|w| !w.reply.is_closed());
            queue.push_back(Waiter {
                sent: comparable(&envelope["document"]),
                reply,
            });
        }
        let topic = self.mqtt.topics().config_set(service);
        if let Err(error) = self.mqtt.publish(&topic, payload, QoS::AtLeastOnce, false) {
            return Err(ConfigError::NoAuthority(format!(
                "the change could not be sent to the authority: {error}"
            )));
        }
        Ok(answer)
    }
}

/// A document without the fields the authority stamps.
fn comparable(document: &Value) -> Value {
    let mut document = document.clone();
    if let Some(fields) = document.as_object_mut() {
        fields.remove("last_updated");
        fields.remove("status");
    }
    document
}
