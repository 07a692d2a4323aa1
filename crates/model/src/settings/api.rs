//! The REST server's settings, and the one rule about them: off loopback, a token.

use crate::secret::Secret;
use std::net::{IpAddr, SocketAddr};

/// The REST server's settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiSettings {
    /// Address to bind (`ALICIA_API_BIND`).
    pub bind: IpAddr,
    /// Port (`PORT`).
    pub port: u16,
    /// Bearer token (`ALICIA_API_TOKEN`).
    pub token: Option<Secret>,
    /// Read-only bearer token (`ALICIA_API_READ_TOKEN`): every `GET` and socket.io, nothing
    /// that changes state.
    pub read_token: Option<Secret>,
    /// CORS origin (`FRONTEND_URL`).
    pub frontend_url: String,
    /// Requests per window per client, 0 = off (`RATE_LIMIT_MAX`).
    pub rate_limit_max: u32,
    /// The window (`RATE_LIMIT_WINDOW_MS`).
    pub rate_limit_window_ms: u64,
    /// HTTP connections open at once, at most (`ALICIA_MAX_CONNECTIONS`, CONTRACT §6).
    pub max_connections: usize,
    /// Host names a reverse proxy may send besides the loopback names and the bind address
    /// (`ALICIA_ALLOWED_HOSTS`, comma-separated).
    pub allowed_hosts: Vec<String>,
}

/// Why the REST server's settings cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApiSettingsError {
    /// Off loopback without a token.
    #[error("refusing to serve on {0} without a token: off loopback every request needs one")]
    TokenRequired(SocketAddr),
    /// A read-only token without an admin token (CONTRACT §10): on loopback it would be
    /// silently ignored, everything staying open.
    #[error(
        "ALICIA_API_READ_TOKEN is set without ALICIA_API_TOKEN: a read-only token limits nothing while the API needs no token; set ALICIA_API_TOKEN too, or remove the read token"
    )]
    ReadTokenWithoutToken,
}

impl ApiSettings {
    /// The address to bind.
    pub fn addr(&self) -> SocketAddr {
        SocketAddr::new(self.bind, self.port)
    }

    /// True when requests must carry the bearer token: off loopback, or whenever the admin has
    /// set one.
    pub fn auth_required(&self) -> bool {
        !self.bind.is_loopback() || self.token.is_some()
    }

    /// True for `FRONTEND_URL=*`: any origin, without credentials, and no Origin check on
    /// socket.io handshakes (CONTRACT §6).
    pub fn any_origin(&self) -> bool {
        self.frontend_url.trim() == "*"
    }

    /// The rules every face applies before serving: off loopback, a token is required, and a
    /// read-only token only beside an admin token.
    pub fn validate(&self) -> Result<(), ApiSettingsError> {
        self.check_tokens()?;
        if !self.bind.is_loopback() && self.token.is_none() {
            return Err(ApiSettingsError::TokenRequired(self.addr()));
        }
        Ok(())
    }

    /// The read-token rule alone (CONTRACT §10), checked wherever API settings are set, even
    /// while the server stays off.
    pub fn check_tokens(&self) -> Result<(), ApiSettingsError> {
        if self.read_token.is_some() && self.token.is_none() {
            return Err(ApiSettingsError::ReadTokenWithoutToken);
        }
        Ok(())
    }
}

/// The URL of `path` on a server at `ip`:`port` (an IPv6 address in brackets).
pub fn http_url(ip: std::net::IpAddr, port: u16, path: &str) -> String {
    match ip {
        std::net::IpAddr::V4(v4) => format!("http://{v4}:{port}{path}"),
        std::net::IpAddr::V6(v6) => format!("http://[{v6}]:{port}{path}"),
    }
}

/// What the server is doing.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum ApiStatus {
    /// Not running.
    #[default]
    Off,
    /// Binding its address.
    Starting,
    /// Serving.
    Running {
        /// The address bound (with the real port when 0 was asked for).
        addr: SocketAddr,
        /// True when a bearer token is required.
        auth_required: bool,
    },
    /// Could not start (the reason says what to change).
    Failed {
        /// Why.
        reason: String,
    },
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    fn settings(bind: IpAddr, token: Option<&str>) -> ApiSettings {
        ApiSettings {
            bind,
            port: 3000,
            token: token.map(Secret::new),
            read_token: None,
            frontend_url: String::new(),
            rate_limit_max: 0,
            rate_limit_window_ms: 1,
            max_connections: 8,
            allowed_hosts: Vec::new(),
        }
    }

    #[test]
    fn a_token_is_required_off_loopback_and_whenever_set() {
        let loopback = IpAddr::V4(Ipv4Addr::LOCALHOST);
        let lan = IpAddr::V4(Ipv4Addr::UNSPECIFIED);
        assert!(settings(loopback, None).validate().is_ok());
        assert!(!settings(loopback, None).auth_required());
        assert!(settings(loopback, Some("t")).auth_required());
        let error = settings(lan, None).validate().unwrap_err();
        assert!(error.to_string().contains("without a token"), "{error}");
        assert!(settings(lan, Some("t")).validate().is_ok());
        assert!(settings(lan, Some("t")).auth_required());
    }

    #[test]
    fn a_read_token_needs_an_admin_token() {
        let loopback = IpAddr::V4(Ipv4Addr::LOCALHOST);
        let mut reader_only = settings(loopback, None);
        reader_only.read_token = Some(Secret::new("r"));
        let error = reader_only.validate().unwrap_err();
        assert_eq!(error, ApiSettingsError::ReadTokenWithoutToken);
        assert!(error.to_string().contains("ALICIA_API_TOKEN"), "{error}");
        let mut both = settings(loopback, Some("t"));
        both.read_token = Some(Secret::new("r"));
        assert!(both.validate().is_ok());
    }
}
