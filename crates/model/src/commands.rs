//! A device command and what became of it (CONTRACT §9), as every face reads it.

use serde::Serialize;

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
