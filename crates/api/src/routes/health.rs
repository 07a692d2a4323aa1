//! `GET /api/health`: the seed's shape, nothing added.

use super::ApiState;
use alicia_core::clock::now_rfc3339;
use alicia_core::system::HealthFlags;
use axum::Json;
use axum::extract::State;
use serde::Serialize;

/// `GET /api/health`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct HealthAnswer {
    /// `healthy` when every part is up, else `degraded` (still 200).
    #[schema(example = "healthy")]
    pub status: &'static str,
    /// Now (RFC 3339).
    pub timestamp: String,
    /// Each part.
    pub services: HealthFlags,
}

/// Whether the manager is up; no token needed.
#[utoipa::path(get, path = "/api/health", operation_id = "getHealth", tag = "system", security(()),
    responses((status = 200, description = "Up (`degraded` when a part is down)", body = HealthAnswer)))]
pub async fn health(State(state): State<ApiState>) -> Json<HealthAnswer> {
    let services = state.core.health_flags();
    Json(HealthAnswer {
        status: if services.all_up() {
            "healthy"
        } else {
            "degraded"
        },
        timestamp: now_rfc3339(),
        services,
    })
}
