//! The role state machine of CONTRACT §5, as pure logic: what a manager does when another
//! manager's report lands on the authority's presence topic.
//!
//! Rules (decided here where the contract is silent):
//! - A follower follows whichever instance last announced itself, healthy, as authority; it
//!   never promotes itself. When that authority's report turns unhealthy or is cleared, the
//!   follower has no live authority and refuses edits.
//! - Two live authorities (an explicit `--role authority` take-over, or two started at once):
//!   the one that became authority *later* wins, ties broken by the larger instance id; the
//!   other steps down and follows it. A *provisional* authority (auto role, broker unreachable
//!   at start) loses to any other.
//! - An authority whose presence topic was overwritten by another instance (a stepped-down
//!   authority's Will, say) publishes its own presence again, so the retained report a
//!   newcomer reads always names the live authority.

use super::Role;
use crate::core::clock::parse_rfc3339;
use time::OffsetDateTime;

/// What a manager knows about the authority it follows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KnownAuthority {
    /// The authority's persistent instance id.
    pub instance_id: String,
    /// True while its last report says healthy.
    pub alive: bool,
    /// When it last reported (RFC 3339).
    pub last_seen: Option<String>,
}

/// A manager's place on the fleet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleState {
    /// Its role now.
    pub role: Role,
    /// An authority: when it became one (RFC 3339).
    pub since: Option<String>,
    /// An authority chosen without seeing the broker (auto role, broker away at start): it
    /// yields to any other authority, and becomes a firm one once it has seen the fleet.
    pub provisional: bool,
    /// A follower: the authority it follows (`None`: none seen yet).
    pub authority: Option<KnownAuthority>,
    /// The retained state of the fleet has been read since the last (re)connection.
    pub synced: bool,
}

/// Another manager's report on the authority presence topic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PeerReport<'a> {
    /// The reporting manager's persistent instance id.
    pub instance_id: &'a str,
    /// Its status is `healthy`.
    pub healthy: bool,
    /// It says it is an authority (a report without a role, from an older manager, counts as
    /// one).
    pub authority: bool,
    /// When it became authority (`details.since`).
    pub since: Option<&'a str>,
    /// When it reported.
    pub timestamp: Option<&'a str>,
}

/// What the manager must do after an observation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reaction {
    /// No change to the role or to the authority followed.
    Nothing,
    /// The followed authority (or its liveness) changed: tell the UI.
    Changed,
    /// Publish this manager's presence again.
    Reassert,
    /// This manager stopped being the authority and now follows another.
    SteppedDown,
}

impl RoleState {
    /// An authority since `since`.
    pub fn authority(since: String, provisional: bool) -> Self {
        Self {
            role: Role::Authority,
            since: Some(since),
            provisional,
            authority: None,
            synced: false,
        }
    }

    /// A follower of `authority` (if one is known).
    pub fn follower(authority: Option<KnownAuthority>) -> Self {
        Self {
            role: Role::Follower,
            since: None,
            provisional: false,
            authority,
            synced: false,
        }
    }

    /// True when this manager may change configs: it is the authority, or it follows a live
    /// one.
    pub fn has_live_authority(&self) -> bool {
        match self.role {
            Role::Authority => true,
            Role::Follower => self.authority.as_ref().is_some_and(|a| a.alive),
        }
    }

    /// Another instance's report on the authority topic (`None`: the topic was cleared);
    /// `own_id` is this manager's instance id.
    pub fn observe(&mut self, own_id: &str, report: Option<PeerReport<'_>>) -> Reaction {
        let live_authority = report.filter(|r| r.healthy && r.authority);
        match (self.role, live_authority) {
            (Role::Follower, Some(peer)) => self.follow(peer, true),
            (Role::Follower, None) => {
                let gone = match (&self.authority, report) {
                    (Some(known), Some(peer)) => known.instance_id == peer.instance_id,
                    (Some(_), None) => true,
                    (None, _) => false,
                };
                match &mut self.authority {
                    Some(known) if gone && known.alive => {
                        known.alive = false;
                        if let Some(peer) = report {
                            known.last_seen = peer.timestamp.map(str::to_owned);
                        }
                        Reaction::Changed
                    }
                    _ => Reaction::Nothing,
                }
            }
            (Role::Authority, Some(peer)) if self.yields_to(own_id, &peer) => {
                self.role = Role::Follower;
                self.since = None;
                self.provisional = false;
                self.follow(peer, false);
                Reaction::SteppedDown
            }
            (Role::Authority, _) => Reaction::Reassert,
        }
    }

    /// This manager read its own presence back after a (re)connection: every retained
    /// message published before it has been delivered.
    pub fn synced(&mut self, now: String) -> Reaction {
        self.synced = true;
        if self.role == Role::Authority && self.provisional {
            self.provisional = false;
            self.since = Some(now);
            return Reaction::Reassert;
        }
        Reaction::Nothing
    }

    /// The connection dropped: the fleet must be read again.
    pub fn disconnected(&mut self) {
        self.synced = false;
    }

    fn follow(&mut self, peer: PeerReport<'_>, report_change: bool) -> Reaction {
        let next = KnownAuthority {
            instance_id: peer.instance_id.to_owned(),
            alive: true,
            last_seen: peer.timestamp.map(str::to_owned),
        };
        let changed = self
            .authority
            .as_ref()
            .is_none_or(|known| known.instance_id != next.instance_id || known.alive != next.alive);
        self.authority = Some(next);
        if changed && report_change {
            Reaction::Changed
        } else {
            Reaction::Nothing
        }
    }

    fn yields_to(&self, own_id: &str, peer: &PeerReport<'_>) -> bool {
        if self.provisional {
            return true;
        }
        let at = |since: Option<&str>| {
            since
                .and_then(parse_rfc3339)
                .unwrap_or(OffsetDateTime::UNIX_EPOCH)
        };
        (at(peer.since), peer.instance_id) > (at(self.since.as_deref()), own_id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn authority_report<'a>(id: &'a str, since: &'a str) -> PeerReport<'a> {
        PeerReport {
            instance_id: id,
            healthy: true,
            authority: true,
            since: Some(since),
            timestamp: Some(since),
        }
    }

    #[test]
    fn a_follower_follows_the_announced_authority_and_notices_it_leave() {
        let mut state = RoleState::follower(None);
        assert!(!state.has_live_authority());
        let report = authority_report("aaaa", "2026-01-01T00:00:00Z");
        assert_eq!(state.observe("ffff", Some(report)), Reaction::Changed);
        assert!(state.has_live_authority());
        assert_eq!(state.observe("ffff", Some(report)), Reaction::Nothing);
        let will = PeerReport {
            healthy: false,
            ..report
        };
        assert_eq!(state.observe("ffff", Some(will)), Reaction::Changed);
        assert!(!state.has_live_authority());
        assert_eq!(state.role, Role::Follower, "never promotes itself");
    }

    #[test]
    fn another_instances_will_does_not_end_the_followed_authority() {
        let mut state = RoleState::follower(None);
        state.observe(
            "ffff",
            Some(authority_report("bbbb", "2026-01-02T00:00:00Z")),
        );
        let old_will = PeerReport {
            healthy: false,
            ..authority_report("aaaa", "2026-01-01T00:00:00Z")
        };
        assert_eq!(state.observe("ffff", Some(old_will)), Reaction::Nothing);
        assert!(state.has_live_authority());
        assert_eq!(
            state.observe("ffff", None),
            Reaction::Changed,
            "topic cleared"
        );
        assert!(!state.has_live_authority());
    }

    #[test]
    fn of_two_authorities_the_later_one_wins() {
        let mut older = RoleState::authority("2026-01-01T00:00:00Z".into(), false);
        let newer = authority_report("bbbb", "2026-01-02T00:00:00Z");
        assert_eq!(older.observe("aaaa", Some(newer)), Reaction::SteppedDown);
        assert_eq!(older.role, Role::Follower);
        assert_eq!(older.authority.as_ref().unwrap().instance_id, "bbbb");

        let mut newest = RoleState::authority("2026-01-03T00:00:00Z".into(), false);
        assert_eq!(newest.observe("cccc", Some(newer)), Reaction::Reassert);
        assert_eq!(newest.role, Role::Authority);
    }

    #[test]
    fn equal_times_are_broken_by_instance_id_the_same_way_on_both_sides() {
        let at = "2026-01-01T00:00:00Z";
        let mut a = RoleState::authority(at.into(), false);
        let mut b = RoleState::authority(at.into(), false);
        let from_b = authority_report("bbbb", at);
        let from_a = authority_report("aaaa", at);
        assert_eq!(a.observe("aaaa", Some(from_b)), Reaction::SteppedDown);
        assert_eq!(b.observe("bbbb", Some(from_a)), Reaction::Reassert);
    }

    #[test]
    fn a_provisional_authority_yields_then_firms_up_once_synced() {
        let mut provisional = RoleState::authority("2026-01-05T00:00:00Z".into(), true);
        let older = authority_report("aaaa", "2026-01-01T00:00:00Z");
        assert_eq!(
            provisional.clone().observe("zzzz", Some(older)),
            Reaction::SteppedDown
        );
        assert_eq!(
            provisional.synced("2026-01-06T00:00:00Z".into()),
            Reaction::Reassert
        );
        assert!(!provisional.provisional);
        assert_eq!(provisional.observe("zzzz", Some(older)), Reaction::Reassert);
    }

    #[test]
    fn an_authority_reasserts_when_its_topic_is_overwritten_or_cleared() {
        let mut state = RoleState::authority("2026-01-01T00:00:00Z".into(), false);
        let will = PeerReport {
            healthy: false,
            ..authority_report("old", "2025-01-01T00:00:00Z")
        };
        assert_eq!(state.observe("me", Some(will)), Reaction::Reassert);
        assert_eq!(state.observe("me", None), Reaction::Reassert);
    }
}
