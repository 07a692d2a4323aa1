//! `/api/system`: the manager itself, its services view, the message log, discovery and
//! publishing.

use super::ApiState;
use crate::errors::{ApiError, ErrorBody, JsonBody, QueryParams};
use alicia_core::checks::Check;
use alicia_core::messages::{MessageRecord, MessageView};
use alicia_core::mqtt::QoS;
use alicia_core::overview::ServiceOverview;
use alicia_core::system::SystemInfo;
use alicia_model::message_filter::MessageFilter;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::sync::Arc;

/// Messages returned when no `limit` is given.
const DEFAULT_MESSAGE_LIMIT: usize = 100;

/// Version, uptime, identity, broker connection and counters, and the server's access.
#[utoipa::path(get, path = "/api/system", operation_id = "getSystem", tag = "system",
    responses((status = 200, description = "The manager", body = SystemInfo)))]
pub async fn info(State(state): State<ApiState>) -> Json<SystemInfo> {
    Json(state.core.system_info())
}

/// One row per service seen or configured: health and config state (CONTRACT §3), and what
/// the desktop app's overview shows besides (type, enabled, version, last change and by whom).
#[utoipa::path(get, path = "/api/system/services", operation_id = "listServices", tag = "system",
    responses((status = 200, description = "Services, sorted by name", body = Vec<ServiceOverview>)))]
pub async fn services(State(state): State<ApiState>) -> Json<Vec<ServiceOverview>> {
    Json(state.core.service_overview())
}

/// Problems across services (a voice router's targets, languages along its chain, port
/// clashes, silent services, refused configs), computed from the current state.
#[utoipa::path(get, path = "/api/system/checks", operation_id = "listChecks", tag = "system",
    responses((status = 200, description = "Findings, errors first", body = Vec<Check>)))]
pub async fn checks(State(state): State<ApiState>) -> Json<Vec<Check>> {
    Json(state.core.checks())
}

/// `GET /api/system/messages` query.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MessagesQuery {
    /// Most messages to return (default 100).
    pub limit: Option<usize>,
    /// MQTT topic filter (`+` and `#` wildcards).
    pub topic: Option<String>,
}

/// The most recent MQTT messages, newest first (secrets masked).
#[utoipa::path(get, path = "/api/system/messages", operation_id = "listMessages", tag = "system",
    params(MessagesQuery),
    responses((status = 200, description = "Messages, newest first", body = Vec<MessageView>),
        (status = 400, description = "Bad topic filter", body = ErrorBody)))]
pub async fn messages(
    State(state): State<ApiState>,
    QueryParams(query): QueryParams<MessagesQuery>,
) -> Result<Json<Vec<Arc<MessageRecord>>>, ApiError> {
    let filter = MessageFilter::topic(query.topic.as_deref().unwrap_or_default())
        .map_err(|error| ApiError::bad_field("/topic", &error))?;
    let limit = query.limit.unwrap_or(DEFAULT_MESSAGE_LIMIT);
    Ok(Json(state.core.messages.matching(limit, &filter)))
}

/// `202` answers.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Accepted {
    /// What was done.
    pub status: &'static str,
}

/// Asks every service to announce itself (`alicia/system/discovery/request`).
#[utoipa::path(post, path = "/api/system/discovery", operation_id = "requestDiscovery", tag = "system",
    responses((status = 202, description = "Requested", body = Accepted),
        (status = 503, description = "Broker down", body = ErrorBody)))]
pub async fn discovery(
    State(state): State<ApiState>,
) -> Result<(StatusCode, Json<Accepted>), ApiError> {
    state.core.request_discovery()?;
    Ok((
        StatusCode::ACCEPTED,
        Json(Accepted {
            status: "requested",
        }),
    ))
}

/// `POST /api/system/publish`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct PublishRequest {
    /// Under the prefix, no wildcards.
    #[schema(value_type = String)]
    pub topic: Option<Value>,
    /// A string is sent as is; any other JSON is sent serialized.
    #[schema(value_type = Value)]
    pub payload: Option<Value>,
    /// 0, 1 or 2 (default 0).
    pub qos: Option<u8>,
    /// Retain (default false).
    pub retain: Option<bool>,
}

/// Publishes a message under the prefix.
#[utoipa::path(post, path = "/api/system/publish", operation_id = "publishMessage", tag = "system",
    request_body = PublishRequest,
    responses((status = 202, description = "Queued", body = Accepted),
        (status = 400, description = "Outside the prefix, wildcards, or a bad field", body = ErrorBody),
        (status = 403, description = "A topic only the manager writes", body = ErrorBody),
        (status = 503, description = "Broker down", body = ErrorBody)))]
pub async fn publish(
    State(state): State<ApiState>,
    JsonBody(request): JsonBody<PublishRequest>,
) -> Result<(StatusCode, Json<Accepted>), ApiError> {
    let Some(Value::String(topic)) = request.topic else {
        return Err(ApiError::bad_field("/topic", "is required (a string)"));
    };
    let payload = match request.payload {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::String(text)) => text.into_bytes(),
        Some(other) => serde_json::to_vec(&other).unwrap_or_default(),
    };
    let qos = match request.qos.unwrap_or(0) {
        0 => QoS::AtMostOnce,
        1 => QoS::AtLeastOnce,
        2 => QoS::ExactlyOnce,
        _ => return Err(ApiError::bad_field("/qos", "must be 0, 1 or 2")),
    };
    state
        .core
        .mqtt
        .publish_checked(&topic, payload, qos, request.retain.unwrap_or(false))?;
    Ok((
        StatusCode::ACCEPTED,
        Json(Accepted {
            status: "published",
        }),
    ))
}
