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
//!
//! Claims age (CONTRACT §6): a report is an authority claim only while it is fresh — its
//! `timestamp` at most 90 s old and at most 60 s ahead of this manager's clock, its
//! `details.since` at most 60 s ahead — and it stops being one when no new report has arrived
//! on the topic within 90 s of the last (a retained one read at (re)connect counts as received
//! then). A follower does not follow a stale claim and an authority does not step down for
//! one. An authority that stepped down for a claim that then ages (or turns invalid) takes the
//! role back; one whose new authority leaves cleanly (its Will) stays a follower, as §5 says.

use super::Role;
use crate::clock::parse_rfc3339;
use std::time::{Duration, Instant};
use time::OffsetDateTime;

/// How long an authority claim holds without a new report (CONTRACT §6).
pub const CLAIM_LIFETIME: Duration = Duration::from_secs(90);
/// How far a claim's times may be ahead of this manager's clock (CONTRACT §6).
pub const CLOCK_TOLERANCE: Duration = Duration::from_secs(60);

/// One moment, on the wall clock (to judge a report's times) and the monotonic one (to age
/// claims).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Moment {
    /// The wall clock.
    pub wall: OffsetDateTime,
    /// The monotonic clock.
    pub mono: Instant,
}

impl Moment {
    /// Now.
    pub fn now() -> Self {
        Self {
            wall: OffsetDateTime::now_utc(),
            mono: Instant::now(),
        }
    }
}

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
    /// When the followed authority's claim was last received (it ages from there).
    pub renewed: Option<Instant>,
    /// This follower was the authority and stepped down for the claim it follows: it takes
    /// the role back if that claim ages.
    pub stepped_down: bool,
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
    /// This manager had stepped down for a claim that aged: it is the authority again.
    Resumed,
}

impl PeerReport<'_> {
    /// True when the report is an authority claim that holds at `now`: healthy, an authority,
    /// its `timestamp` at most [`CLAIM_LIFETIME`] old and at most [`CLOCK_TOLERANCE`] ahead,
    /// its `details.since` (when given) at most [`CLOCK_TOLERANCE`] ahead.
    pub fn is_valid_claim(&self, now: OffsetDateTime) -> bool {
        if !(self.healthy && self.authority) {
            return false;
        }
        let Some(timestamp) = self.timestamp.and_then(parse_rfc3339) else {
            return false;
        };
        let ahead = |at: OffsetDateTime| at - now > CLOCK_TOLERANCE;
        let since_ahead = match self.since {
            Some(since) => parse_rfc3339(since).is_none_or(ahead),
            None => false,
        };
        now - timestamp <= CLAIM_LIFETIME && !ahead(timestamp) && !since_ahead
    }
}

impl RoleState {
    /// An authority since `since`.
    pub fn authority(since: String, provisional: bool) -> Self {
        Self {
            role: Role::Authority,
            since: Some(since),
            provisional,
            authority: None,
            renewed: None,
            stepped_down: false,
            synced: false,
        }
    }

    /// A follower of `authority` (if one is known; its claim counts as received now).
    pub fn follower(authority: Option<KnownAuthority>) -> Self {
        Self {
            role: Role::Follower,
            since: None,
            provisional: false,
            renewed: authority.as_ref().map(|_| Instant::now()),
            authority,
            stepped_down: false,
            synced: false,
        }
    }

    /// The same state but for when the followed claim was last renewed: what is worth
    /// telling watchers about.
    pub fn same_meaning(&self, other: &Self) -> bool {
        Self {
            renewed: None,
            ..self.clone()
        } == Self {
            renewed: None,
            ..other.clone()
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

    /// Another instance's report on the authority topic at `now` (`None`: the topic was
    /// cleared); `own_id` is this manager's instance id.
    pub fn observe(
        &mut self,
        own_id: &str,
        report: Option<PeerReport<'_>>,
        now: Moment,
    ) -> Reaction {
        let claim = report.filter(|r| r.is_valid_claim(now.wall));
        match (self.role, claim) {
            (Role::Follower, Some(peer)) => {
                self.renewed = Some(now.mono);
                self.follow(peer, true)
            }
            (Role::Follower, None) => {
                let withdrawn = match (&self.authority, report) {
                    (Some(known), Some(peer)) => known.instance_id == peer.instance_id,
                    (Some(_), None) => true,
                    (None, _) => false,
                };
                // A report from the followed authority that is no longer a valid claim (its
                // clock is off, say) ages it at once; a Will or a cleared topic ends it.
                let invalid = report.is_some_and(|peer| peer.healthy && peer.authority);
                if withdrawn && invalid && self.stepped_down {
                    return self.resume(now);
                }
                self.authority_gone(withdrawn, report.and_then(|peer| peer.timestamp))
            }
            (Role::Authority, Some(peer)) if self.yields_to(own_id, &peer) => {
                self.role = Role::Follower;
                self.since = None;
                self.provisional = false;
                self.stepped_down = true;
                self.renewed = Some(now.mono);
                self.follow(peer, false);
                Reaction::SteppedDown
            }
            (Role::Authority, _) => Reaction::Reassert,
        }
    }

    /// Ages the followed claim: not renewed within [`CLAIM_LIFETIME`], it is no authority. A
    /// follower that had stepped down for it takes the role back.
    pub fn expire(&mut self, now: Moment) -> Reaction {
        let aged = self.role == Role::Follower
            && self.authority.as_ref().is_some_and(|a| a.alive)
            && self
                .renewed
                .is_some_and(|at| now.mono.saturating_duration_since(at) > CLAIM_LIFETIME);
        if !aged {
            return Reaction::Nothing;
        }
        if self.stepped_down {
            return self.resume(now);
        }
        self.authority_gone(true, None)
    }

    fn authority_gone(&mut self, gone: bool, last_seen: Option<&str>) -> Reaction {
        match &mut self.authority {
            Some(known) if gone && known.alive => {
                known.alive = false;
                if let Some(at) = last_seen {
                    known.last_seen = Some(at.to_owned());
                }
                Reaction::Changed
            }
            _ => Reaction::Nothing,
        }
    }

    fn resume(&mut self, now: Moment) -> Reaction {
        *self = Self {
            synced: self.synced,
            ..Self::authority(crate::clock::format_rfc3339(now.wall), false)
        };
        Reaction::Resumed
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

    /// `rfc3339` on the wall clock, now on the monotonic one.
    fn at(rfc3339: &str) -> Moment {
        Moment {
            wall: parse_rfc3339(rfc3339).unwrap(),
            mono: Instant::now(),
        }
    }

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
        let now = at("2026-01-01T00:00:30Z");
        let mut state = RoleState::follower(None);
        assert!(!state.has_live_authority());
        let report = authority_report("aaaa", "2026-01-01T00:00:00Z");
        assert_eq!(state.observe("ffff", Some(report), now), Reaction::Changed);
        assert!(state.has_live_authority());
        assert_eq!(state.observe("ffff", Some(report), now), Reaction::Nothing);
        let will = PeerReport {
            healthy: false,
            ..report
        };
        assert_eq!(state.observe("ffff", Some(will), now), Reaction::Changed);
        assert!(!state.has_live_authority());
        assert_eq!(state.role, Role::Follower, "never promotes itself");
    }

    #[test]
    fn another_instances_will_does_not_end_the_followed_authority() {
        let now = at("2026-01-02T00:00:30Z");
        let mut state = RoleState::follower(None);
        state.observe(
            "ffff",
            Some(authority_report("bbbb", "2026-01-02T00:00:00Z")),
            now,
        );
        let old_will = PeerReport {
            healthy: false,
            ..authority_report("aaaa", "2026-01-01T00:00:00Z")
        };
        assert_eq!(
            state.observe("ffff", Some(old_will), now),
            Reaction::Nothing
        );
        assert!(state.has_live_authority());
        assert_eq!(
            state.observe("ffff", None, now),
            Reaction::Changed,
            "topic cleared"
        );
        assert!(!state.has_live_authority());
    }

    #[test]
    fn of_two_authorities_the_later_one_wins() {
        let now = at("2026-01-02T00:00:30Z");
        let mut older = RoleState::authority("2026-01-01T00:00:00Z".into(), false);
        let newer = authority_report("bbbb", "2026-01-02T00:00:00Z");
        assert_eq!(
            older.observe("aaaa", Some(newer), now),
            Reaction::SteppedDown
        );
        assert_eq!(older.role, Role::Follower);
        assert_eq!(older.authority.as_ref().unwrap().instance_id, "bbbb");

        let mut newest = RoleState::authority("2026-01-03T00:00:00Z".into(), false);
        assert_eq!(newest.observe("cccc", Some(newer), now), Reaction::Reassert);
        assert_eq!(newest.role, Role::Authority);
    }

    #[test]
    fn equal_times_are_broken_by_instance_id_the_same_way_on_both_sides() {
        let now = at("2026-01-01T00:00:30Z");
        let at = "2026-01-01T00:00:00Z";
        let mut a = RoleState::authority(at.into(), false);
        let mut b = RoleState::authority(at.into(), false);
        let from_b = authority_report("bbbb", at);
        let from_a = authority_report("aaaa", at);
        assert_eq!(a.observe("aaaa", Some(from_b), now), Reaction::SteppedDown);
        assert_eq!(b.observe("bbbb", Some(from_a), now), Reaction::Reassert);
    }

    #[test]
    fn a_provisional_authority_yields_then_firms_up_once_synced() {
        let now = at("2026-01-01T00:00:30Z");
        let mut provisional = RoleState::authority("2026-01-05T00:00:00Z".into(), true);
        let older = authority_report("aaaa", "2026-01-01T00:00:00Z");
        assert_eq!(
            provisional.clone().observe("zzzz", Some(older), now),
            Reaction::SteppedDown
        );
        assert_eq!(
            provisional.synced("2026-01-06T00:00:00Z".into()),
            Reaction::Reassert
        );
        assert!(!provisional.provisional);
        assert_eq!(
            provisional.observe("zzzz", Some(older), now),
            Reaction::Reassert
        );
    }

    #[test]
    fn an_authority_reasserts_when_its_topic_is_overwritten_or_cleared() {
        let now = at("2026-01-01T00:00:30Z");
        let mut state = RoleState::authority("2026-01-01T00:00:00Z".into(), false);
        let will = PeerReport {
            healthy: false,
            ..authority_report("old", "2025-01-01T00:00:00Z")
        };
        assert_eq!(state.observe("me", Some(will), now), Reaction::Reassert);
        assert_eq!(state.observe("me", None, now), Reaction::Reassert);
    }

    #[test]
    fn stale_and_future_claims_are_no_authority() {
        let now = at("2026-06-01T12:00:00Z");
        let fresh = authority_report("bbbb", "2026-06-01T11:59:30Z");
        assert!(fresh.is_valid_claim(now.wall));
        let old = authority_report("bbbb", "2026-06-01T11:58:00Z");
        assert!(!old.is_valid_claim(now.wall), "timestamp 120 s old");
        let ahead = authority_report("bbbb", "2026-06-01T12:02:00Z");
        assert!(!ahead.is_valid_claim(now.wall), "timestamp 120 s ahead");
        let since_ahead = PeerReport {
            since: Some("2099-01-01T00:00:00Z"),
            ..fresh
        };
        assert!(!since_ahead.is_valid_claim(now.wall), "since far ahead");
        let no_time = PeerReport {
            timestamp: None,
            ..fresh
        };
        assert!(!no_time.is_valid_claim(now.wall));

        let mut authority = RoleState::authority("2026-06-01T11:00:00Z".into(), false);
        assert_eq!(
            authority.observe("aaaa", Some(since_ahead), now),
            Reaction::Reassert,
            "an authority never steps down for a claim from the future"
        );
        let mut follower = RoleState::follower(None);
        follower.observe("ffff", Some(old), now);
        assert!(
            !follower.has_live_authority(),
            "nor does a follower follow an old one"
        );
    }

    #[test]
    fn a_claim_not_renewed_ages_and_the_authority_that_stepped_down_takes_the_role_back() {
        let now = at("2026-06-01T12:00:00Z");
        let mut state = RoleState::authority("2026-06-01T11:00:00Z".into(), false);
        let claim = authority_report("bbbb", "2026-06-01T11:59:50Z");
        assert_eq!(
            state.observe("aaaa", Some(claim), now),
            Reaction::SteppedDown
        );
        assert_eq!(state.expire(now), Reaction::Nothing);
        let later = Moment {
            wall: now.wall + CLAIM_LIFETIME,
            mono: now.mono + CLAIM_LIFETIME + Duration::from_secs(1),
        };
        assert_eq!(state.expire(later), Reaction::Resumed);
        assert_eq!(state.role, Role::Authority);
        assert!(state.since.is_some() && state.authority.is_none());

        // A plain follower's authority just ends: it never promotes itself.
        let mut follower = RoleState::follower(None);
        follower.observe("ffff", Some(claim), now);
        assert!(follower.has_live_authority());
        assert_eq!(follower.expire(later), Reaction::Changed);
        assert!(!follower.has_live_authority());
        assert_eq!(follower.role, Role::Follower);

        // Renewed in time, it holds.
        let mut renewed = RoleState::follower(None);
        renewed.observe("ffff", Some(claim), now);
        let half = Moment {
            wall: now.wall + Duration::from_secs(30),
            mono: now.mono + Duration::from_secs(60),
        };
        renewed.observe(
            "ffff",
            Some(authority_report("bbbb", "2026-06-01T12:00:25Z")),
            half,
        );
        assert_eq!(renewed.expire(later), Reaction::Nothing);
        assert!(renewed.has_live_authority());
    }

    #[test]
    fn a_stepped_down_authority_whose_claimer_leaves_cleanly_stays_a_follower() {
        let now = at("2026-06-01T12:00:00Z");
        let mut state = RoleState::authority("2026-06-01T11:00:00Z".into(), false);
        let claim = authority_report("bbbb", "2026-06-01T11:59:50Z");
        state.observe("aaaa", Some(claim), now);
        let will = PeerReport {
            healthy: false,
            ..claim
        };
        assert_eq!(state.observe("aaaa", Some(will), now), Reaction::Changed);
        assert_eq!(state.role, Role::Follower);
        let invalid_again = PeerReport {
            since: Some("2099-01-01T00:00:00Z"),
            ..claim
        };
        let mut other = RoleState::authority("2026-06-01T11:00:00Z".into(), false);
        other.observe("aaaa", Some(claim), now);
        assert_eq!(
            other.observe("aaaa", Some(invalid_again), now),
            Reaction::Resumed,
            "a claim turned invalid is no authority: the role comes back"
        );
    }
}
