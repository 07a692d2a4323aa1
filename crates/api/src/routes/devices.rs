//! `/api/devices`: the live registry and commands.

use super::ApiState;
use crate::errors::{ApiError, ErrorBody, JsonBody};
use alicia_core::commands::CommandRecord;
use alicia_core::devices::Device;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::sync::Arc;

/// Every device, sorted by id.
#[utoipa::path(get, path = "/api/devices", operation_id = "listDevices", tag = "devices",
    responses((status = 200, description = "Devices, sorted by id", body = Vec<Device>)))]
pub async fn list(State(state): State<ApiState>) -> Json<Vec<Arc<Device>>> {
    Json(state.core.devices.list())
}

/// One device.
#[utoipa::path(get, path = "/api/devices/{id}", operation_id = "getDevice", tag = "devices",
    params(("id" = String, Path, description = "Device id")),
    responses((status = 200, description = "The device", body = Device),
        (status = 404, description = "No such device", body = ErrorBody)))]
pub async fn get(
    State(state): State<ApiState>,
    Path(id): Path<String>,
) -> Result<Json<Arc<Device>>, ApiError> {
    state
        .core
        .devices
        .get(&id)
        .map(Json)
        .ok_or_else(|| ApiError::NotFound {
            what: "Device not found",
            message: format!("no device {id}"),
        })
}

/// Forgets a device until it reports again (CONTRACT §9); its retained state and
/// availability are cleared on the broker.
#[utoipa::path(delete, path = "/api/devices/{id}", operation_id = "forgetDevice", tag = "devices",
    params(("id" = String, Path, description = "Device id")),
    responses((status = 204, description = "Forgotten (it comes back when it reports again)"),
        (status = 404, description = "No such device", body = ErrorBody)))]
pub async fn forget(
    State(state): State<ApiState>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    if state.core.forget_device(&id) {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::NotFound {
            what: "Device not found",
            message: format!("no device {id}"),
        })
    }
}

/// What became of a command (`pending` until its device answers or it times out).
#[utoipa::path(get, path = "/api/devices/{id}/commands/{request_id}", operation_id = "getDeviceCommand", tag = "devices",
    params(("id" = String, Path, description = "Device id"),
        ("request_id" = String, Path, description = "The `request_id` the command was sent with")),
    responses((status = 200, description = "The command and its outcome", body = CommandRecord),
        (status = 404, description = "No such command for this device (the last 1,000 are kept)", body = ErrorBody)))]
pub async fn command_outcome(
    State(state): State<ApiState>,
    Path((id, request_id)): Path<(String, String)>,
) -> Result<Json<Arc<CommandRecord>>, ApiError> {
    state
        .core
        .commands
        .get(&request_id)
        .filter(|record| record.device_id == id)
        .map(Json)
        .ok_or_else(|| ApiError::NotFound {
            what: "Command not found",
            message: format!("no command {request_id} for device {id} (the last 1,000 are kept)"),
        })
}

/// `POST /api/devices/{id}/command`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct CommandRequest {
    /// The command (`turn_on`, `set_temperature`, …).
    #[schema(value_type = String)]
    pub command: Option<Value>,
    /// Its parameters.
    #[schema(value_type = Option<Object>)]
    pub params: Option<Value>,
}

/// `202` answer: the id to match the device's result (`alicia/device/<id>/command/result`).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CommandAccepted {
    /// Correlates the result.
    pub request_id: String,
}

/// Sends a command to a device (QoS 1 on `alicia/device/<id>/command`).
#[utoipa::path(post, path = "/api/devices/{id}/command", operation_id = "sendDeviceCommand", tag = "devices",
    params(("id" = String, Path, description = "Device id")),
    request_body = CommandRequest,
    responses((status = 202, description = "Sent", body = CommandAccepted),
        (status = 400, description = "No `command`, or `params` not an object", body = ErrorBody),
        (status = 404, description = "No such device", body = ErrorBody),
        (status = 503, description = "Broker down", body = ErrorBody)))]
pub async fn command(
    State(state): State<ApiState>,
    Path(id): Path<String>,
    JsonBody(request): JsonBody<CommandRequest>,
) -> Result<(StatusCode, Json<CommandAccepted>), ApiError> {
    let Some(Value::String(command)) = request.command else {
        return Err(ApiError::bad_field(
            "/command",
            "is required (a non-empty string)",
        ));
    };
    let params = alicia_model::commands::command_params(request.params)
        .map_err(|error| ApiError::bad_field("/params", &error))?;
    let request_id = state.core.send_command(&id, &command, params)?;
    Ok((StatusCode::ACCEPTED, Json(CommandAccepted { request_id })))
}
