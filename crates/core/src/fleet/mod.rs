//! Several managers on one fleet (CONTRACT §5): who this manager is (its persistent
//! instance id), which role it holds now (authority or follower), how it chose it at start,
//! and how a follower sends its edits to the authority.
//!
//! Presence topics: the authority holds the contract's retained
//! `<prefix>/system/health/config-manager` (and its Will). A follower must not overwrite it, so
//! it reports the same payload on `<prefix>/system/health/config-manager/<instance_id>`
//! (retained, with its own Will): a level below, where no service name can collide, and still
//! inside the seed's `system/health/#` subscription.

pub mod authority_probe;
pub mod identity;
pub mod remote;
pub mod state;

use crate::clock::now_rfc3339;
use crate::mqtt::payloads::{HealthReport, HealthStatus};
use crate::mqtt::topics::Topics;
use serde_json::{Map, Value};
use state::{Moment, PeerReport, Reaction, RoleState};
use std::sync::Arc;
use tokio::sync::watch;

pub use alicia_model::settings::role::{Role, RoleSetting};

/// This manager's identity and role; cheap to clone.
#[derive(Debug, Clone)]
pub struct Fleet {
    shared: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    instance_id: String,
    state: watch::Sender<RoleState>,
}

impl Fleet {
    /// A manager with this id, starting in `state`.
    pub fn new(instance_id: String, state: RoleState) -> Self {
        Self {
            shared: Arc::new(Shared {
                instance_id,
                state: watch::channel(state).0,
            }),
        }
    }

    /// An authority with a random id (tests and tools that need no persistence).
    pub fn ephemeral_authority() -> Self {
        Self::new(
            identity::random_instance_id(),
            RoleState::authority(now_rfc3339(), false),
        )
    }

    /// The instance id (stable across restarts of one config folder).
    pub fn instance_id(&self) -> &str {
        &self.shared.instance_id
    }

    /// The role now.
    pub fn role(&self) -> Role {
        self.shared.state.borrow().role
    }

    /// The whole state now.
    pub fn state(&self) -> RoleState {
        self.shared.state.borrow().clone()
    }

    /// Wakes on every change of role, followed authority or sync.
    pub fn watch(&self) -> watch::Receiver<RoleState> {
        self.shared.state.subscribe()
    }

    /// The topic this manager reports its presence on (it depends on the role).
    pub fn presence_topic(&self, topics: &Topics) -> String {
        presence_topic(topics, self.role(), self.instance_id())
    }

    /// This manager's health payload: status, time, instance id, role, and for an authority
    /// `details.since`.
    pub fn presence_payload(&self, status: HealthStatus) -> Vec<u8> {
        let state = self.shared.state.borrow();
        let details = state.since.as_ref().map(|since| {
            let mut details = Map::new();
            details.insert("since".to_owned(), Value::String(since.clone()));
            details
        });
        let report = HealthReport {
            status,
            timestamp: Some(now_rfc3339()),
            details,
            instance_id: Some(self.shared.instance_id.clone()),
            role: Some(state.role.as_str().to_owned()),
        };
        serde_json::to_vec(&report).unwrap_or_default()
    }

    /// A report on the authority topic. Reports from this instance itself are ignored.
    pub fn observe_authority_topic(&self, report: Option<&HealthReport>) -> Reaction {
        let peer = report.map(claim_of);
        if peer.is_some_and(|p| p.instance_id == self.instance_id()) {
            return Reaction::Nothing;
        }
        let mut reaction = Reaction::Nothing;
        self.shared.state.send_if_modified(|state| {
            let before = state.clone();
            reaction = state.observe(&self.shared.instance_id, peer, Moment::now());
            !state.same_meaning(&before)
        });
        reaction
    }

    /// Ages the followed authority's claim (call it every second or so): `Changed` when it
    /// ended, `Resumed` when this manager had stepped down for it and is the authority again.
    pub fn expire_claims(&self) -> Reaction {
        let mut reaction = Reaction::Nothing;
        self.shared.state.send_if_modified(|state| {
            reaction = state.expire(Moment::now());
            reaction != Reaction::Nothing
        });
        reaction
    }

    /// This manager read its own presence back after connecting.
    pub fn mark_synced(&self) -> Reaction {
        let mut reaction = Reaction::Nothing;
        self.shared.state.send_if_modified(|state| {
            let before = state.clone();
            reaction = state.synced(now_rfc3339());
            *state != before
        });
        reaction
    }

    /// The connection dropped.
    pub fn mark_disconnected(&self) {
        self.shared.state.send_if_modified(|state| {
            let was = state.synced;
            state.disconnected();
            was
        });
    }

    /// A sentence for the UI: the role, and on a follower which authority it follows.
    pub fn describe(&self) -> String {
        let state = self.state();
        match (state.role, &state.authority) {
            (Role::Authority, _) if state.provisional => {
                "authority (provisional: the broker was away at start)".to_owned()
            }
            (Role::Authority, _) => "authority".to_owned(),
            (Role::Follower, Some(a)) if a.alive => format!("follower of {}", a.instance_id),
            (Role::Follower, Some(a)) => {
                format!(
                    "follower — authority {} is gone; edits refused",
                    a.instance_id
                )
            }
            (Role::Follower, None) => "follower — no authority seen; edits refused".to_owned(),
        }
    }
}

/// A report as a manager's claim on the authority topic (see
/// [`PeerReport::is_valid_claim`]).
pub fn claim_of(report: &HealthReport) -> PeerReport<'_> {
    PeerReport {
        instance_id: report.instance_id.as_deref().unwrap_or(""),
        healthy: report.status == HealthStatus::Healthy,
        authority: report.role.as_deref().is_none_or(|r| r == "authority"),
        since: report
            .details
            .as_ref()
            .and_then(|d| d.get("since"))
            .and_then(Value::as_str),
        timestamp: report.timestamp.as_deref(),
    }
}

/// The presence topic of a manager with this role and id.
pub fn presence_topic(topics: &Topics, role: Role, instance_id: &str) -> String {
    match role {
        Role::Authority => topics.manager_health(),
        Role::Follower => format!("{}/{instance_id}", topics.manager_health()),
    }
}
