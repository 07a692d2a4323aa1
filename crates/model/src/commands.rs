//! A device command and what became of it (CONTRACT §9), as every face reads it.

use serde::Serialize;
use serde_json::{Map, Value};

/// Where a command stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum CommandStatus {
    /// Sent; no answer yet.
    Pending,
    /// The device says it was done.
    Ok,
    /// The device says it failed (`error` says why).
    Failed,
    /// No answer within the timeout.
    Timeout,
}

/// One command (`GET /api/devices/{id}/commands/{request_id}`, socket.io `command:result`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct CommandRecord {
    /// The id that correlates the device's answer.
    pub request_id: String,
    /// The device it was sent to.
    #[serde(skip)]
    pub device_id: String,
    /// The command's name, as sent.
    pub command: String,
    /// Where it stands.
    pub status: CommandStatus,
    /// Why it failed (the device's words) or timed out.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// When it was sent (RFC 3339).
    pub sent_at: String,
    /// When it was answered or timed out (RFC 3339).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<String>,
}

/// A command's `params` as every face takes them (CONTRACT §3): an object, or nothing (none
/// or `null`: no parameters); anything else is refused with this rule's words.
pub fn command_params(params: Option<Value>) -> Result<Map<String, Value>, String> {
    match params {
        None | Some(Value::Null) => Ok(Map::new()),
        Some(Value::Object(params)) => Ok(params),
        Some(_) => Err("must be a JSON object (or nothing)".to_owned()),
    }
}

/// A command's `params` typed as text (the GUI's field): JSON read by [`command_params`];
/// empty text is no parameters.
pub fn command_params_text(text: &str) -> Result<Map<String, Value>, String> {
    if text.trim().is_empty() {
        return Ok(Map::new());
    }
    let value: Value =
        serde_json::from_str(text).map_err(|error| format!("is not JSON ({error})"))?;
    command_params(Some(value))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn params_are_an_object_or_nothing_whichever_face_sends_them() {
        assert_eq!(command_params(None), Ok(Map::new()));
        assert_eq!(command_params(Some(Value::Null)), Ok(Map::new()));
        let object = command_params(Some(json!({"brightness": 40}))).unwrap();
        assert_eq!(object["brightness"], 40);
        assert_eq!(
            command_params(Some(json!([1]))).unwrap_err(),
            "must be a JSON object (or nothing)"
        );
        assert_eq!(command_params_text(" "), Ok(Map::new()));
        assert_eq!(command_params_text("null"), Ok(Map::new()));
        assert!(
            command_params_text("{")
                .unwrap_err()
                .starts_with("is not JSON")
        );
        assert!(command_params_text("3").is_err());
    }
}
