//! The once-a-second sweep: services not heard from turn stale, an authority claim not
//! renewed ages, silent devices turn stale or are forgotten, unanswered commands time out.

use super::*;

fn age_authority_claim(core: &Core) {
    match core.fleet.expire_claims() {
        Reaction::Changed => {
            tracing::warn!(
                "the authority's claim was not renewed within 90 s; edits are refused until an authority announces itself"
            );
            core.events.emit(CoreEvent::FleetChanged);
        }
        Reaction::Resumed => {
            tracing::warn!(
                "the authority claim this manager stepped down for was not renewed; it is the authority again"
            );
            core.mqtt.publish_presence(HealthStatus::Healthy);
            core.events.emit(CoreEvent::FleetChanged);
        }
        _ => {}
    }
}

/// Every second: services not heard from within the TTL turn stale, an authority claim not
/// renewed in time ages (CONTRACT §6), silent devices turn stale or are forgotten and
/// unanswered commands time out (CONTRACT §9).
pub(crate) async fn run_health_sweeper(core: Core, mut shutdown: watch::Receiver<bool>) {
    let mut ticks = tokio::time::interval(Duration::from_secs(1));
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            biased;
            _ = shutdown.changed() => return,
            _ = ticks.tick() => {
                for event in core.health.sweep(time::OffsetDateTime::now_utc()) {
                    if let CoreEvent::HealthChanged { service, .. } = &event {
                        tracing::info!(service, "service went stale (no health report within the TTL)");
                    }
                    core.events.emit(event);
                }
                age_authority_claim(&core);
                core.sweep_devices();
                for record in core.commands.expire(std::time::Instant::now()) {
                    tracing::info!(device = record.device_id, request_id = record.request_id, "command timed out");
                    core.events.emit(CoreEvent::CommandFinished(record));
                }
            }
        }
    }
}
