//! The task that looks at the watches every 200 ms: confirms a watched change, or rolls it
//! back (a change set as one new set) and says why (CONTRACT §7).

use super::{SafeApply, Verdict};
use crate::change_sets::ChangeSets;
use crate::change_sets::undo::Member;
use crate::config::{
    Actor, ActorKind, ChangeSource, ConfigError, ConfigService, Origin, Precondition,
};
use crate::events::{CoreEvent, EventBus};
use crate::health::HealthRegistry;
use alicia_model::watch::RollbackReason;
use std::time::Duration;
use tokio::sync::watch;

/// Looks at the watches every 200 ms until `shutdown`: confirms or rolls back.
pub async fn run_watches(
    safe: SafeApply,
    change_sets: ChangeSets,
    config: ConfigService,
    health: HealthRegistry,
    events: EventBus,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut tick = tokio::time::interval(TICK);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = shutdown.changed() => return,
        }
        let verdicts = safe.verdicts(&config, &health);
        if !verdicts.is_empty() {
            safe.mark_unsaved();
        }
        if safe.unsaved.load(std::sync::atomic::Ordering::Acquire) {
            // One writer (this task), on the blocking pool.
            let saver = safe.clone();
            let _ = tokio::task::spawn_blocking(move || saver.save_if_changed()).await;
        }
        if verdicts.is_empty() {
            continue;
        }
        for (service, verdict) in verdicts {
            match verdict {
                Verdict::Ended => {}
                Verdict::Confirmed(revision) => {
                    tracing::info!(service, revision, "watched change confirmed");
                    events.emit(CoreEvent::ConfigConfirmed { service, revision });
                }
                Verdict::UndoSet(members, reason) => {
                    undo_set(&change_sets, &events, &service, &members, reason).await;
                }
                Verdict::Undo(reason) => match undo(&config, &service, reason).await {
                    Ok(revision) => {
                        tracing::warn!(
                            service,
                            revision,
                            reason = reason.as_str(),
                            "watched change rolled back"
                        );
                        events.emit(CoreEvent::ConfigRolledBack {
                            service,
                            revision,
                            reason,
                        });
                    }
                    Err(error) => {
                        tracing::error!(service, %error, reason = reason.as_str(), "a watched change could not be rolled back");
                    }
                },
            }
        }
    }
}

/// Undoes every member of the watched set `change_id` as one new set, each with `reason`.
async fn undo_set(
    change_sets: &ChangeSets,
    events: &EventBus,
    change_id: &str,
    members: &[Member],
    reason: RollbackReason,
) {
    match change_sets.undo_watched(members, reason.as_str()).await {
        Ok(committed) => {
            tracing::warn!(
                change_id,
                members = committed.len(),
                reason = reason.as_str(),
                "watched change set rolled back"
            );
            for member in committed {
                events.emit(CoreEvent::ConfigRolledBack {
                    service: member.service,
                    revision: member.revision,
                    reason,
                });
            }
        }
        Err(error) => {
            tracing::error!(change_id, %error, reason = reason.as_str(), "a watched change set could not be rolled back");
        }
    }
}

/// Stores the document just before the current one again (or deletes a service the change
/// created), with source `rollback` and `reason`; returns the new revision.
async fn undo(
    config: &ConfigService,
    service: &str,
    reason: RollbackReason,
) -> Result<u64, ConfigError> {
    let current = config
        .get(service)
        .map(|c| c.revision)
        .ok_or_else(|| ConfigError::NotFound {
            service: service.to_owned(),
        })?;
    let before = config
        .history(service)
        .into_iter()
        .find(|entry| entry.revision < current);
    let origin = Origin::new(ChangeSource::Rollback, Actor::of_kind(ActorKind::System))
        .with_reason(reason.as_str());
    let committed = match before.filter(|entry| entry.document.is_some()) {
        Some(entry) => config.rollback_as(service, entry.revision, origin).await?,
        None => {
            config
                .delete(service, origin, Precondition::Revision(current))
                .await?
        }
    };
    Ok(committed.revision)
}

/// How often the watches are looked at.
const TICK: Duration = Duration::from_millis(200);
