//! `/api/config`: the documents, their ETags (revisions), history and rollback.

use super::ApiState;
use crate::auth::RestActor;
use crate::errors::{ApiError, ErrorBody, JsonBody};
use crate::openapi::ServiceConfigDocument;
use alicia_core::config::{
    Actor, ChangeSource, Committed, FieldError, HistoryEntry, Origin, Precondition, SecretPaths,
    mask_document_with, schema_document,
};
use alicia_core::limits::CONFIG_DOCUMENT_LIMIT;
use axum::Json;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Every document, keyed by `service_name` (`api_key` masked).
#[utoipa::path(get, path = "/api/config", operation_id = "listConfigs", tag = "config",
    responses((status = 200, description = "Every service's document", body = std::collections::HashMap<String, ServiceConfigDocument>)))]
pub async fn list(State(state): State<ApiState>) -> Response {
    let json = state.core.client_documents_json();
    ([(header::CONTENT_TYPE, "application/json")], json).into_response()
}

/// The JSON Schema of a document.
#[utoipa::path(get, path = "/api/config/schema", operation_id = "getConfigSchema", tag = "config",
    responses((status = 200, description = "JSON Schema (draft 2020-12)", body = Object)))]
pub async fn schema() -> Json<&'static Value> {
    Json(schema_document())
}

/// One document, with its revision as `ETag`.
#[utoipa::path(get, path = "/api/config/{service}", operation_id = "getConfig", tag = "config",
    params(("service" = String, Path, description = "service_name")),
    responses(
        (status = 200, description = "The document", body = ServiceConfigDocument,
            headers(("ETag" = String, description = "The revision, for If-Match"))),
        (status = 404, description = "No such service", body = ErrorBody)))]
pub async fn get(
    State(state): State<ApiState>,
    Path(service): Path<String>,
) -> Result<Response, ApiError> {
    get_document(&state, &service)
}

/// `GET` of one document, for any route that names it.
pub(super) fn get_document(state: &ApiState, service: &str) -> Result<Response, ApiError> {
    let stored = state
        .core
        .config
        .get(service)
        .ok_or_else(|| not_found(service))?;
    let document = state.core.client_document(service, &stored.document);
    Ok(([(header::ETAG, etag(stored.revision))], Json(document)).into_response())
}

/// Creates (201) or replaces (200) a document. `If-Match: "<revision>"` refuses a stale edit
/// with 412; `If-None-Match: *` creates only.
#[utoipa::path(put, path = "/api/config/{service}", operation_id = "putConfig", tag = "config",
    params(("service" = String, Path, description = "service_name"),
        ("If-Match" = Option<String>, Header, description = "ETag the edit is based on"),
        ("If-None-Match" = Option<String>, Header, description = "`*`: only create"),
        ("watch" = Option<u64>, Query, description = "Seconds to watch the change (0 = none, 1–600; default `safe_apply_secs`): rolled back by itself if the service refuses it, turns unhealthy, or (one that confirms its configs) never acks it")),
    request_body(content = ServiceConfigDocument, description = "The whole document; `\"********\"` as api_key keeps the stored key"),
    responses(
        (status = 200, description = "Replaced", body = ServiceConfigDocument, headers(("ETag" = String))),
        (status = 201, description = "Created", body = ServiceConfigDocument, headers(("ETag" = String))),
        (status = 400, description = "Invalid: every failing field by JSON Pointer (on a follower: as the authority answered)", body = ErrorBody),
        (status = 412, description = "The revision moved underneath (another admin)", body = ErrorBody),
        (status = 503, description = "The store is busy or stopping, or could not write (nothing changed); on a follower, no live authority or no answer from it", body = ErrorBody),
        (status = 507, description = "The disk is full: nothing was stored", body = ErrorBody)))]
pub async fn put(
    State(state): State<ApiState>,
    Path(service): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    RestActor(actor): RestActor,
    JsonBody(document): JsonBody<Value, CONFIG_DOCUMENT_LIMIT>,
) -> Result<Response, ApiError> {
    put_document(
        &state,
        &service,
        query.as_deref(),
        &headers,
        actor,
        document,
    )
    .await
}

/// `PUT` of one document, for any route that names it.
pub(super) async fn put_document(
    state: &ApiState,
    service: &str,
    query: Option<&str>,
    headers: &HeaderMap,
    actor: Actor,
    document: Value,
) -> Result<Response, ApiError> {
    let precondition = precondition(headers)?;
    let watch = watch_param(query)?.unwrap_or(state.core.settings.safe_apply_secs);
    let origin = Origin::new(ChangeSource::Rest, actor).with_watch(watch);
    let committed = state
        .core
        .put_watched(service, document, origin, precondition)
        .await?;
    let status = if committed.created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, committed_answer(state, &committed)).into_response())
}

/// Deletes a document (its retained MQTT config is cleared).
#[utoipa::path(delete, path = "/api/config/{service}", operation_id = "deleteConfig", tag = "config",
    params(("service" = String, Path, description = "service_name"),
        ("If-Match" = Option<String>, Header, description = "ETag the deletion is based on")),
    responses((status = 204, description = "Deleted"),
        (status = 404, description = "No such service", body = ErrorBody),
        (status = 409, description = "This manager follows another: delete on the authority", body = ErrorBody),
        (status = 412, description = "The revision moved underneath", body = ErrorBody),
        (status = 503, description = "The store is busy or stopping, or could not write (nothing changed)", body = ErrorBody),
        (status = 507, description = "The disk is full: nothing was stored", body = ErrorBody)))]
pub async fn delete(
    State(state): State<ApiState>,
    Path(service): Path<String>,
    headers: HeaderMap,
    RestActor(actor): RestActor,
) -> Result<StatusCode, ApiError> {
    delete_document(&state, &service, &headers, actor).await
}

/// `DELETE` of one document, for any route that names it.
pub(super) async fn delete_document(
    state: &ApiState,
    service: &str,
    headers: &HeaderMap,
    actor: Actor,
) -> Result<StatusCode, ApiError> {
    let precondition = precondition(headers)?;
    let origin = Origin::new(ChangeSource::Rest, actor);
    state
        .core
        .config
        .delete(service, origin, precondition)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// One accepted revision (`api_key` masked).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Revision {
    /// Revision number (the ETag).
    pub revision: u64,
    /// When it was accepted.
    pub last_updated: String,
    /// The channel it came by.
    pub source: ChangeSource,
    /// Who made it (CONTRACT §9).
    pub actor: Actor,
    /// Why the manager rolled a watched change back: `refused`, `unhealthy`, `silent` (§7).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The change set it was stored with (§7): shared by every member's entry.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub change_id: Option<String>,
    /// The document, `null` for a deletion.
    #[schema(value_type = Option<ServiceConfigDocument>)]
    pub document: Option<Value>,
}

/// The accepted revisions, newest first.
#[utoipa::path(get, path = "/api/config/{service}/history", operation_id = "getConfigHistory", tag = "config",
    params(("service" = String, Path, description = "service_name")),
    responses((status = 200, description = "Revisions, newest first", body = Vec<Revision>),
        (status = 404, description = "Never configured", body = ErrorBody)))]
pub async fn history(
    State(state): State<ApiState>,
    Path(service): Path<String>,
) -> Result<Json<Vec<Revision>>, ApiError> {
    let entries = state.core.config.history(&service);
    if entries.is_empty() {
        return Err(not_found(&service));
    }
    let secrets = state.core.config.secret_paths(&service);
    Ok(Json(
        entries.iter().map(|e| revision_view(e, &secrets)).collect(),
    ))
}

/// `POST /api/config/{service}/rollback`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct RollbackRequest {
    /// The revision to bring back.
    pub revision: Option<Value>,
}

/// Makes an old revision current again, as a new change (source `rollback`).
#[utoipa::path(post, path = "/api/config/{service}/rollback", operation_id = "rollbackConfig", tag = "config",
    params(("service" = String, Path, description = "service_name")),
    request_body = RollbackRequest,
    responses((status = 200, description = "The new current document", body = ServiceConfigDocument, headers(("ETag" = String))),
        (status = 400, description = "No revision given, or it was a deletion (on a follower: the authority refused it)", body = ErrorBody),
        (status = 404, description = "No such revision", body = ErrorBody),
        (status = 503, description = "The store is busy or could not write (nothing changed); on a follower, no live authority or no answer from it", body = ErrorBody),
        (status = 507, description = "The disk is full: nothing was stored", body = ErrorBody)))]
pub async fn rollback(
    State(state): State<ApiState>,
    Path(service): Path<String>,
    RestActor(actor): RestActor,
    JsonBody(request): JsonBody<RollbackRequest>,
) -> Result<Response, ApiError> {
    let revision = request
        .revision
        .as_ref()
        .and_then(Value::as_u64)
        .ok_or_else(|| ApiError::BadRequest {
            message: "`revision` must be a revision number".to_owned(),
            details: vec![FieldError::new(
                "/revision",
                "is required (a non-negative integer)",
            )],
        })?;
    let committed = state
        .core
        .config
        .rollback(&service, revision, actor)
        .await?;
    Ok(committed_answer(&state, &committed).into_response())
}

fn committed_answer(state: &ApiState, committed: &Committed) -> impl IntoResponse + use<> {
    let document = committed
        .document
        .as_deref()
        .map(|d| state.core.client_document(&committed.service, d))
        .unwrap_or(Value::Null);
    ([(header::ETAG, etag(committed.revision))], Json(document))
}

fn revision_view(entry: &HistoryEntry, secrets: &SecretPaths) -> Revision {
    Revision {
        revision: entry.revision,
        last_updated: entry.last_updated.clone(),
        source: entry.source,
        actor: entry.actor(),
        reason: entry.reason.clone(),
        change_id: entry.change_id.clone(),
        document: entry
            .document
            .as_deref()
            .map(|d| mask_document_with(d, secrets)),
    }
}

fn etag(revision: u64) -> HeaderValue {
    HeaderValue::from_str(&format!("\"{revision}\"")).unwrap_or(HeaderValue::from_static("\"0\""))
}

/// Reads `If-Match` (a revision ETag, weak or strong) and `If-None-Match: *`.
/// `?watch=<seconds>`: 0 to 600 (CONTRACT §7); anything else is a 400.
fn watch_param(query: Option<&str>) -> Result<Option<u64>, ApiError> {
    let Some(value) = query
        .unwrap_or_default()
        .split('&')
        .find_map(|pair| pair.strip_prefix("watch="))
    else {
        return Ok(None);
    };
    alicia_model::watch::WatchSecs::parse(value)
        .map(|secs| Some(secs.secs()))
        .map_err(|error| ApiError::bad_field("watch", &error))
}

fn precondition(headers: &HeaderMap) -> Result<Precondition, ApiError> {
    if headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim() == "*")
    {
        return Ok(Precondition::Absent);
    }
    let Some(value) = headers.get(header::IF_MATCH) else {
        return Ok(Precondition::None);
    };
    let text = value.to_str().unwrap_or_default().trim();
    let tag = text.trim_start_matches("W/").trim_matches('"');
    tag.parse().map(Precondition::Revision).map_err(|_| {
        ApiError::PreconditionFailed(format!(
            "If-Match {text:?} is not a revision of this service"
        ))
    })
}

fn not_found(service: &str) -> ApiError {
    ApiError::NotFound {
        what: "Configuration not found",
        message: format!("no configuration for {service}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn if_match_accepts_strong_and_weak_revision_tags() {
        let mut headers = HeaderMap::new();
        assert_eq!(precondition(&headers).unwrap(), Precondition::None);
        headers.insert(header::IF_MATCH, HeaderValue::from_static("\"12\""));
        assert_eq!(precondition(&headers).unwrap(), Precondition::Revision(12));
        headers.insert(header::IF_MATCH, HeaderValue::from_static("W/\"7\""));
        assert_eq!(precondition(&headers).unwrap(), Precondition::Revision(7));
        headers.insert(header::IF_MATCH, HeaderValue::from_static("\"abc\""));
        assert!(matches!(
            precondition(&headers),
            Err(ApiError::PreconditionFailed(_))
        ));
        headers.insert(header::IF_NONE_MATCH, HeaderValue::from_static("*"));
        assert_eq!(precondition(&headers).unwrap(), Precondition::Absent);
    }
}
