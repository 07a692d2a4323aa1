//! The services overview, joined from the store and the health registry: one row per
//! service seen or configured (the row's type is the model's
//! [`alicia_model::overview::ServiceOverview`]).

use crate::config::{ConfigService, ServiceType, Snapshot};
use crate::health::{HealthRegistry, ServiceSummary};
use crate::trouble::{TroubleFacts, is_enabled, reason_of};
pub use alicia_model::overview::{ServiceOverview, ShownHealth};
use serde_json::Value;

/// Every row, sorted by name, from one reading of the store and the registry.
pub fn service_overview(
    config: &ConfigService,
    health: &HealthRegistry,
    snapshot: &Snapshot,
    summaries: Vec<ServiceSummary>,
) -> Vec<ServiceOverview> {
    summaries
        .into_iter()
        .map(|summary| {
            let document = snapshot
                .documents
                .get(&summary.service_name)
                .map(|s| &*s.document);
            let text = |key: &str| {
                document
                    .and_then(|d| d.get(key))
                    .and_then(Value::as_str)
                    .map(str::to_owned)
            };
            let runtime = health.get(&summary.service_name);
            let last_change = config.last_change(&summary.service_name);
            let announced = runtime
                .as_ref()
                .and_then(|r| r.announcement.as_ref())
                .map(|a| a.version.clone());
            let in_trouble = TroubleFacts {
                enabled: is_enabled(document),
                status: summary.status,
                stale: summary.stale,
                config_state: summary.config_state,
            }
            .in_trouble();
            let reason = reason_of(runtime.as_ref().and_then(|r| r.details.as_ref()));
            ServiceOverview {
                in_trouble,
                reason,
                service_type: text("service_type").and_then(|t| ServiceType::parse(&t)),
                manager: runtime.as_ref().is_some_and(|r| r.role.is_some()),
                enabled: document
                    .and_then(|d| d.get("enabled"))
                    .and_then(Value::as_bool),
                version: text("version").or(announced),
                last_updated: text("last_updated"),
                last_changed_by: last_change.as_ref().map(|e| e.source),
                last_changed_actor: last_change.as_ref().map(|e| e.actor()),
                configured: document.is_some(),
                watch_until: None,
                service_name: summary.service_name,
                status: summary.status,
                last_seen: summary.last_seen,
                stale: summary.stale,
                config_state: summary.config_state,
                config_error: summary.config_error,
                pending_since: summary.pending_since,
            }
        })
        .collect()
}
