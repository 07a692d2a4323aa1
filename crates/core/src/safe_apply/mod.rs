//! Safe apply (CONTRACT §7, §10): a change put on watch must prove good before the watch
//! ends, or the manager undoes it by itself. It is rolled back when the service acks it with
//! `"applied": false` (`refused`); for `unhealthy` when a report after the change (received
//! after it, not stamped earlier) says so and the service was healthy before, or a `healthy`
//! or `unknown` report after the change came first — a fix of a service that was unhealthy
//! before and says only `unhealthy` since is judged by silence alone; or — only for a service that confirms its configs (it acked an earlier
//! revision and reported health within the TTL before the change) — when no ack for it comes
//! at all (`silent`). The rollback stores the document just before the change again, as a new
//! revision with source `rollback` and its reason (a change that created the service deletes
//! it); a watch that ends well says `config:confirmed`. A newer change ends a watch. Watches
//! live in memory only: a manager restarted during one treats the change as confirmed, and
//! its log says so (the running watches are listed in `watches.json` for that).

mod watcher;

use crate::change_sets::undo::Member;
use crate::config::{ConfigService, last_updated_of};
use crate::fsutil::write_atomic;
use crate::health::HealthRegistry;
use crate::mqtt::payloads::HealthStatus;
pub use alicia_model::watch::{MAX_WATCH_SECS, RollbackReason, check_watch};
use parking_lot::Mutex;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};
pub use watcher::run_watches;

/// The file listing the watches running (so a restart can say which it treated as confirmed).
pub const WATCHES_FILE_NAME: &str = "watches.json";

/// One watched change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Watch {
    /// The watched revision.
    revision: u64,
    /// When the watch ends (RFC 3339, for `watch_until`).
    until: String,
    #[serde(skip, default = "Instant::now")]
    deadline: Instant,
    /// The service confirms its configs: silence is a failure.
    confirms: bool,
    /// When the change was made, for the reports that count as after it (CONTRACT §10).
    #[serde(skip, default = "Instant::now")]
    changed_at: Instant,
    /// The same, on the wall clock (a report's `timestamp` must not be earlier).
    #[serde(skip, default = "time::OffsetDateTime::now_utc")]
    changed_at_wall: time::OffsetDateTime,
    /// Its last report before the change was `healthy` and within the TTL: an `unhealthy`
    /// report after the change undoes it at once.
    #[serde(skip)]
    healthy_before: bool,
    /// A `healthy` or `unknown` report came after the change: a later `unhealthy` one undoes
    /// it (a service unhealthy before a fix and unhealthy since is judged by silence alone).
    #[serde(skip)]
    armed: bool,
    /// The rule above was met: the change is undone for `unhealthy`.
    #[serde(skip)]
    tripped: bool,
    /// It acked the watched revision as applied.
    #[serde(skip)]
    acked: bool,
    /// The change set it belongs to: a failure of any member undoes every member.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    change_id: Option<String>,
    /// Watched by the authority this manager follows: kept here only to count down in
    /// `watch_until`, never judged here.
    #[serde(skip)]
    remote: bool,
}

/// The running watches; cheap to clone.
#[derive(Debug, Clone)]
pub struct SafeApply {
    watches: Arc<Mutex<BTreeMap<String, Watch>>>,
    /// Every member of each change set on watch (those not watched themselves too: a set
    /// is undone as a whole).
    sets: Arc<Mutex<BTreeMap<String, Vec<Member>>>>,
    file: Option<PathBuf>,
    /// The list changed since `watches.json` was last written (the watch task writes it, off
    /// the caller's thread: a REST handler never waits for a disk).
    unsaved: Arc<std::sync::atomic::AtomicBool>,
}

impl SafeApply {
    /// No watch yet; the list is kept in `dir`'s `watches.json` (when given).
    pub fn new(dir: Option<&Path>) -> Self {
        Self {
            watches: Arc::default(),
            sets: Arc::default(),
            file: dir.map(|d| d.join(WATCHES_FILE_NAME)),
            unsaved: Arc::default(),
        }
    }

    /// Reads what a previous run left watching: each is treated as confirmed (logged), and
    /// the list is cleared. Blocking.
    pub fn forget_previous_run(&self) {
        let Some(file) = &self.file else {
            return;
        };
        let Ok(bytes) = std::fs::read(file) else {
            return;
        };
        let previous: BTreeMap<String, Watch> = serde_json::from_slice(&bytes).unwrap_or_default();
        for (service, watch) in previous {
            tracing::info!(
                service,
                revision = watch.revision,
                "a watch was running when the manager stopped: the change is treated as confirmed"
            );
        }
        let _ = std::fs::remove_file(file);
    }

    /// Puts `revision` of `service` on watch for `secs` (0: ends any watch without one).
    /// `health` says whether the service confirms its configs.
    pub fn start(
        &self,
        service: &str,
        revision: u64,
        secs: u64,
        health: &HealthRegistry,
        config: &ConfigService,
    ) {
        self.start_member(service, revision, secs, health, config, None);
        self.mark_unsaved();
    }

    /// Puts every member of the change set `change_id` on watch as one (CONTRACT §7): a
    /// failure of any member undoes them all. A member switched off is not watched, but is
    /// undone with the others.
    pub fn start_set(
        &self,
        change_id: &str,
        members: &[Member],
        secs: u64,
        health: &HealthRegistry,
        config: &ConfigService,
    ) {
        if secs > 0 && !config.forwards() {
            self.sets
                .lock()
                .insert(change_id.to_owned(), members.to_vec());
        }
        for (service, revision) in members {
            self.start_member(
                service,
                *revision,
                secs,
                health,
                config,
                Some(change_id.to_owned()),
            );
        }
        self.mark_unsaved();
    }

    fn start_member(
        &self,
        service: &str,
        revision: u64,
        secs: u64,
        health: &HealthRegistry,
        config: &ConfigService,
        change_id: Option<String>,
    ) {
        // On a follower the authority watches (the change went to it with its `watch`):
        // watching here too would roll it back twice. The watch is kept to count down only.
        let remote = config.forwards();
        let mut watches = self.watches.lock();
        watches.remove(service);
        let switched_off = config
            .get(service)
            .is_some_and(|s| !crate::trouble::is_enabled(Some(&s.document)));
        if secs == 0 || switched_off {
            return;
        }
        let runtime = health.get(service);
        let fresh = !health.stale(service);
        let confirms = runtime.as_ref().is_some_and(|r| r.ack.is_some() && fresh);
        let healthy_before = fresh
            && runtime
                .as_ref()
                .is_some_and(|r| r.reported == Some(HealthStatus::Healthy));
        let now = time::OffsetDateTime::now_utc();
        let until = now + time::Duration::seconds(secs as i64);
        watches.insert(
            service.to_owned(),
            Watch {
                revision,
                until: crate::clock::format_rfc3339(until),
                deadline: Instant::now() + Duration::from_secs(secs),
                confirms,
                changed_at: Instant::now(),
                changed_at_wall: now,
                healthy_before,
                armed: false,
                tripped: false,
                acked: false,
                change_id,
                remote,
            },
        );
    }

    /// A health report of `service` arrived (CONTRACT §10, "Safe apply judges change"): one
    /// received after the watched change, and not stamped earlier than it, counts. `healthy`
    /// or `unknown` arms the rule; `unhealthy` undoes the change when the service was healthy
    /// before it or the rule is armed.
    pub fn observe_report(
        &self,
        service: &str,
        status: HealthStatus,
        timestamp: Option<&str>,
        received: Instant,
    ) {
        let mut watches = self.watches.lock();
        let Some(watch) = watches.get_mut(service).filter(|w| !w.remote) else {
            return;
        };
        let stamped_after = timestamp
            .and_then(crate::clock::parse_rfc3339)
            .is_none_or(|at| at >= watch.changed_at_wall);
        if received < watch.changed_at || !stamped_after {
            return;
        }
        match status {
            HealthStatus::Healthy | HealthStatus::Unknown => watch.armed = true,
            HealthStatus::Unhealthy => {
                if watch.healthy_before || watch.armed {
                    watch.tripped = true;
                }
            }
        }
    }

    fn mark_unsaved(&self) {
        self.unsaved
            .store(true, std::sync::atomic::Ordering::Release);
    }

    /// When the watch on `service` ends, while one runs (RFC 3339).
    pub fn watch_until(&self, service: &str) -> Option<String> {
        self.watches.lock().get(service).map(|w| w.until.clone())
    }

    /// True while `service` is watched here (on a follower the authority watches: its
    /// countdown is only shown, see [`SafeApply::watch_until`]).
    pub fn watching(&self, service: &str) -> bool {
        self.watches.lock().get(service).is_some_and(|w| !w.remote)
    }

    /// Writes `watches.json` when the list changed since the last write. Blocking.
    fn save_if_changed(&self) {
        if !self
            .unsaved
            .swap(false, std::sync::atomic::Ordering::AcqRel)
        {
            return;
        }
        let Some(file) = &self.file else {
            return;
        };
        let mut watches = self.watches.lock().clone();
        // Only the watches judged here: a restart confirms those.
        watches.retain(|_, w| !w.remote);
        let result = if watches.is_empty() {
            match std::fs::remove_file(file) {
                Err(error) if error.kind() != std::io::ErrorKind::NotFound => Err(error),
                _ => Ok(()),
            }
        } else {
            serde_json::to_vec(&watches)
                .map_err(std::io::Error::other)
                .and_then(|bytes| write_atomic(file, &bytes))
        };
        if let Err(error) = result {
            tracing::warn!(file = %file.display(), %error, "the list of watches was not written");
        }
    }

    /// What to do about each watch now.
    fn verdicts(&self, config: &ConfigService, health: &HealthRegistry) -> Vec<(String, Verdict)> {
        let verdicts = self.member_verdicts(config, health);
        self.group_verdicts(verdicts)
    }

    /// A set is undone as one: a member's failure ends its other members' watches (their
    /// own verdicts are dropped) and becomes one [`Verdict::UndoSet`] for the set. A set
    /// none of whose members is watched any more is forgotten.
    fn group_verdicts(
        &self,
        verdicts: Vec<(String, Verdict, Option<String>)>,
    ) -> Vec<(String, Verdict)> {
        let mut sets = self.sets.lock();
        let mut undone: BTreeMap<String, RollbackReason> = BTreeMap::new();
        for (_, verdict, change_id) in &verdicts {
            if let (Verdict::Undo(reason), Some(change_id)) = (verdict, change_id)
                && sets.contains_key(change_id)
            {
                undone.entry(change_id.clone()).or_insert(*reason);
            }
        }
        let mut watches = self.watches.lock();
        watches.retain(|_, w| {
            w.change_id
                .as_ref()
                .is_none_or(|id| !undone.contains_key(id))
        });
        let mut kept: Vec<(String, Verdict)> = verdicts
            .into_iter()
            .filter(|(_, _, change_id)| {
                change_id.as_ref().is_none_or(|id| !undone.contains_key(id))
            })
            .map(|(service, verdict, _)| (service, verdict))
            .collect();
        for (change_id, reason) in undone {
            if let Some(members) = sets.remove(&change_id) {
                kept.push((change_id, Verdict::UndoSet(members, reason)));
            }
        }
        sets.retain(|id, _| watches.values().any(|w| w.change_id.as_deref() == Some(id)));
        kept
    }

    /// What to do about each member's watch now, with the set it belongs to.
    fn member_verdicts(
        &self,
        config: &ConfigService,
        health: &HealthRegistry,
    ) -> Vec<(String, Verdict, Option<String>)> {
        let mut watches = self.watches.lock();
        let mut verdicts = Vec::new();
        for (service, watch) in watches.iter_mut() {
            let current = config.get(service);
            if watch.remote {
                // The authority judges it; here it only counts down until it ends or the
                // document moves (the authority's rollback, or a newer change).
                if current.as_ref().map(|c| c.revision) != Some(watch.revision)
                    || Instant::now() >= watch.deadline
                {
                    verdicts.push((service.clone(), Verdict::Ended, None));
                }
                continue;
            }
            if current.as_ref().map(|c| c.revision) != Some(watch.revision) {
                // A newer change ended it.
                verdicts.push((service.clone(), Verdict::Ended, watch.change_id.clone()));
                continue;
            }
            let runtime = health.get(service);
            let ack = runtime.as_ref().and_then(|r| r.ack.as_ref()).filter(|ack| {
                current.as_ref().and_then(|c| last_updated_of(&c.document))
                    == Some(ack.last_updated.as_str())
            });
            if let Some(ack) = ack {
                if !ack.applied {
                    verdicts.push((
                        service.clone(),
                        Verdict::Undo(RollbackReason::Refused),
                        watch.change_id.clone(),
                    ));
                    continue;
                }
                watch.acked = true;
            }
            if watch.tripped {
                verdicts.push((
                    service.clone(),
                    Verdict::Undo(RollbackReason::Unhealthy),
                    watch.change_id.clone(),
                ));
                continue;
            }
            if Instant::now() >= watch.deadline {
                verdicts.push((
                    service.clone(),
                    if watch.confirms && !watch.acked {
                        Verdict::Undo(RollbackReason::Silent)
                    } else {
                        Verdict::Confirmed(watch.revision)
                    },
                    watch.change_id.clone(),
                ));
            }
        }
        for (service, _, _) in &verdicts {
            watches.remove(service);
        }
        verdicts
    }
}

/// What becomes of a watch.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Verdict {
    Ended,
    Confirmed(u64),
    Undo(RollbackReason),
    /// Every member of a set (the verdict's key is its `change_id`).
    UndoSet(Vec<Member>, RollbackReason),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn watches_are_0_to_600_seconds() {
        assert_eq!(check_watch(0), Ok(0));
        assert_eq!(check_watch(600), Ok(600));
        assert!(check_watch(601).is_err());
        assert_eq!(RollbackReason::Silent.as_str(), "silent");
    }
}
