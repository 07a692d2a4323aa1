//! `/api/config/changes`: change sets (CONTRACT §7) — several services changed as one, and
//! rolled back as one. The name `changes` is reserved for this route; the service routes'
//! answers for a service of that name (a v1 store may hold one) stay reachable here.

use super::ApiState;
use crate::auth::RestActor;
use crate::errors::{ApiError, ErrorBody, JsonBody};
use alicia_core::change_sets::{ChangeSetAnswer, ChangeSetRequest, RequestError};
use alicia_core::config::{ChangeSource, FieldError, Origin};
use alicia_core::limits::{CHANGE_SET_LIMIT, CONFIG_DOCUMENT_LIMIT};
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::Deserialize;
use serde_json::Value;

/// The body of `POST /api/config/changes` (for the OpenAPI document; the route reads it as
/// JSON and checks it field by field).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct ChangeSetBody {
    /// 1–100 whole documents of distinct services, at most 8 MiB of JSON in all.
    #[schema(value_type = Vec<crate::openapi::ServiceConfigDocument>)]
    pub documents: Vec<Value>,
    /// Seconds to watch the set (0 = none, 1–600; default `safe_apply_secs`): a failure of
    /// any member rolls every member back.
    pub watch: Option<u64>,
    /// New warnings of the checks across services do not refuse the set.
    pub allow_warnings: Option<bool>,
}

/// The body of `POST /api/config/changes/{change_id}/rollback`.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
pub struct ChangeSetRollbackBody {
    /// Roll back even the members changed since the set (their later changes are undone).
    pub force: Option<bool>,
}

/// Changes several services as one: every document validated and the checks across services
/// run on the fleet as it would be; all stored in one commit, or none.
#[utoipa::path(post, path = "/api/config/changes", operation_id = "applyChangeSet", tag = "config",
    request_body = ChangeSetBody,
    responses(
        (status = 200, description = "Stored: the set's id and each member's new revision", body = ChangeSetAnswer),
        (status = 400, description = "Refused as a whole: an invalid member, a service twice, 0 or over 100 documents, or a new finding of the checks (details under /documents/<index>)", body = ErrorBody),
        (status = 413, description = "The documents are over 8 MiB together", body = ErrorBody),
        (status = 503, description = "The store is busy or stopping, or could not write (nothing changed); on a follower, no live authority or no answer from it", body = ErrorBody),
        (status = 507, description = "The disk is full: nothing was stored", body = ErrorBody)))]
pub async fn apply(
    State(state): State<ApiState>,
    RestActor(actor): RestActor,
    JsonBody(body): JsonBody<Value>,
) -> Result<Json<ChangeSetAnswer>, ApiError> {
    let request = ChangeSetRequest::read(body).map_err(|error| match error {
        RequestError::TooLarge(_) => ApiError::PayloadTooLarge(CHANGE_SET_LIMIT),
        RequestError::Invalid(details) => ApiError::BadRequest {
            message: RequestError::Invalid(details.clone()).message(),
            details,
        },
    })?;
    let origin = Origin::new(ChangeSource::Rest, actor);
    Ok(Json(state.core.changes.apply(request, origin).await?))
}

/// Rolls a change set back as one new set: each member's document from before the set
/// stored again, a member the set created deleted.
#[utoipa::path(post, path = "/api/config/changes/{change_id}/rollback", operation_id = "rollbackChangeSet", tag = "config",
    params(("change_id" = String, Path, description = "The set's `change_id`")),
    request_body(content = Option<ChangeSetRollbackBody>, description = "Optional; `{\"force\": true}` rolls back members changed since too"),
    responses(
        (status = 200, description = "Rolled back: the new set's id and each member's new revision", body = ChangeSetAnswer),
        (status = 400, description = "`force` is not a boolean, or a document from before the set no longer passes validation", body = ErrorBody),
        (status = 404, description = "No such change set in the retained history", body = ErrorBody),
        (status = 409, description = "Members changed since the set (named); or this manager follows another", body = ErrorBody),
        (status = 412, description = "A member changed while the rollback was stored", body = ErrorBody),
        (status = 503, description = "The store is busy or stopping, or could not write (nothing changed)", body = ErrorBody),
        (status = 507, description = "The disk is full: nothing was stored", body = ErrorBody)))]
pub async fn rollback(
    State(state): State<ApiState>,
    Path(change_id): Path<String>,
    RestActor(actor): RestActor,
    body: Bytes,
) -> Result<Json<ChangeSetAnswer>, ApiError> {
    let body: Option<Value> = if body.iter().all(u8::is_ascii_whitespace) {
        None
    } else {
        Some(
            serde_json::from_slice(&body)
                .map_err(|error| ApiError::MalformedJson(error.to_string()))?,
        )
    };
    let force = match &body {
        None | Some(Value::Null) => false,
        Some(Value::Object(fields)) => match fields.get("force") {
            None | Some(Value::Null) => false,
            Some(Value::Bool(force)) => *force,
            Some(_) => return Err(ApiError::bad_field("/force", "must be true or false")),
        },
        Some(_) => {
            return Err(ApiError::BadRequest {
                message: "the body must be a JSON object (`{\"force\": true}`) or empty".to_owned(),
                details: vec![FieldError::new("", "must be a JSON object")],
            });
        }
    };
    Ok(Json(
        state
            .core
            .changes
            .rollback(&change_id, force, actor)
            .await?,
    ))
}

/// The reserved name as a service (`GET /api/config/changes`): what the service route
/// answers — 404, or a document of that name a v1 store holds.
pub async fn get_reserved(State(state): State<ApiState>) -> Result<Response, ApiError> {
    super::config::get_document(&state, RESERVED)
}

/// `PUT /api/config/changes`: refused by validation (the name is reserved), as on the service
/// route.
pub async fn put_reserved(
    State(state): State<ApiState>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    RestActor(actor): RestActor,
    JsonBody(document): JsonBody<Value, CONFIG_DOCUMENT_LIMIT>,
) -> Result<Response, ApiError> {
    super::config::put_document(
        &state,
        RESERVED,
        query.as_deref(),
        &headers,
        actor,
        document,
    )
    .await
}

/// `DELETE /api/config/changes`: deletes a document of that name a v1 store holds.
pub async fn delete_reserved(
    State(state): State<ApiState>,
    headers: HeaderMap,
    RestActor(actor): RestActor,
) -> Result<StatusCode, ApiError> {
    super::config::delete_document(&state, RESERVED, &headers, actor).await
}

/// The name the change-set route takes from the services.
const RESERVED: &str = "changes";
