//! `/api/config/{service}/schema`: the settings schemas a service announced (CONTRACT §9) —
//! the one enforced, one pending an admin's acceptance, and where the stored settings fail it.

use super::ApiState;
use crate::errors::{ApiError, ErrorBody};
use alicia_core::config::FieldError;
use alicia_core::config::settings_schemas::pending_failures;
use axum::Json;
use axum::extract::{Path, State};
use serde::Serialize;
use serde_json::Value;

/// A service's settings schemas.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SettingsSchemas {
    /// The service.
    pub service_name: String,
    /// The schema its `config.settings` are checked against (`null`: none).
    #[schema(value_type = Option<Object>)]
    pub enforced: Option<Value>,
    /// A schema it announced that its stored settings fail, awaiting acceptance.
    #[schema(value_type = Option<Object>)]
    pub pending: Option<Value>,
    /// Where the stored settings fail the pending schema.
    pub failures: Vec<FieldError>,
}

fn view(state: &ApiState, service: &str) -> Result<SettingsSchemas, ApiError> {
    let record = state
        .core
        .config
        .schema_record(service)
        .ok_or_else(|| ApiError::NotFound {
            what: "No settings schema",
            message: format!("{service} announced no settings schema"),
        })?;
    let failures = state
        .core
        .config
        .get(service)
        .map(|stored| pending_failures(&record, &stored.document))
        .unwrap_or_default();
    let source = |schema: &Option<alicia_core::config::SettingsSchema>| {
        schema.as_ref().map(|s| Value::clone(&s.source))
    };
    Ok(SettingsSchemas {
        service_name: service.to_owned(),
        enforced: source(&record.enforced),
        pending: source(&record.pending),
        failures,
    })
}

/// The settings schemas a service announced.
#[utoipa::path(get, path = "/api/config/{service}/schema", operation_id = "getSettingsSchemas", tag = "config",
    params(("service" = String, Path, description = "service_name")),
    responses((status = 200, description = "The enforced and pending settings schemas", body = SettingsSchemas),
        (status = 404, description = "The service announced no settings schema", body = ErrorBody)))]
pub async fn get(
    State(state): State<ApiState>,
    Path(service): Path<String>,
) -> Result<Json<SettingsSchemas>, ApiError> {
    view(&state, &service).map(Json)
}

/// Enforces the pending settings schema (after the settings were fixed, or to have them
/// refused until they are).
#[utoipa::path(post, path = "/api/config/{service}/schema/accept", operation_id = "acceptSettingsSchema", tag = "config",
    params(("service" = String, Path, description = "service_name")),
    responses((status = 200, description = "Accepted: the schema is enforced and published to followers", body = SettingsSchemas),
        (status = 404, description = "No settings schema of the service awaits acceptance", body = ErrorBody),
        (status = 409, description = "This manager follows another: accept on the authority", body = ErrorBody),
        (status = 503, description = "The store is busy or could not write (nothing changed)", body = ErrorBody),
        (status = 507, description = "The disk is full: nothing was stored", body = ErrorBody)))]
pub async fn accept(
    State(state): State<ApiState>,
    Path(service): Path<String>,
) -> Result<Json<SettingsSchemas>, ApiError> {
    state.core.config.accept_schema(&service).await?;
    view(&state, &service).map(Json)
}
