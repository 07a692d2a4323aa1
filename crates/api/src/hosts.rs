//! Who may address the server (CONTRACT §6). While no token is required (the default, on
//! loopback), a web page could reach the server through DNS rebinding — its own name resolved
//! to 127.0.0.1 — so a request must name the server by a loopback name, its bind address or a
//! host the admin allows (`ALICIA_ALLOWED_HOSTS`, for a reverse proxy), else 421; a request
//! without `Host` is 400. A socket.io or WebSocket handshake from a browser page must come from
//! `FRONTEND_URL` or the server's own origin, token or not (`FRONTEND_URL=*` turns this off),
//! else 403: a cross-site page must not read the live feed. The same holds for every request
//! that changes state (CONTRACT §10): a page elsewhere must not write through an admin's
//! browser.

use super::errors::ErrorBody;
use alicia_core::settings::ApiSettings;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::net::IpAddr;
use std::sync::Arc;

/// Where socket.io lives.
const LIVE_PATH: &str = "/socket.io";

/// The server's rules for `Host` and `Origin`.
#[derive(Debug, Clone)]
pub struct HostPolicy {
    /// False when a token is required: the token is then the guard.
    check_host: bool,
    bind: IpAddr,
    allowed: Vec<String>,
    /// `None`: any origin (`FRONTEND_URL=*`).
    frontend: Option<String>,
}

impl HostPolicy {
    /// The policy these settings ask for.
    pub fn new(settings: &ApiSettings) -> Self {
        Self {
            check_host: !settings.auth_required(),
            bind: settings.bind,
            allowed: settings
                .allowed_hosts
                .iter()
                .map(|host| normalize_name(host))
                .collect(),
            frontend: (!settings.any_origin())
                .then(|| normalize_origin(&settings.frontend_url))
                .filter(|origin| !origin.is_empty()),
        }
    }

    /// Whether `host` (a `Host` header's value) names this server.
    pub fn allows_host(&self, host: &str) -> bool {
        if !self.check_host {
            return true;
        }
        let name = normalize_name(host_name(host));
        let loopback = matches!(name.as_str(), "localhost" | "127.0.0.1" | "[::1]" | "::1");
        loopback
            || name
                .trim_start_matches('[')
                .trim_end_matches(']')
                .parse::<IpAddr>()
                .is_ok_and(|ip| ip == self.bind)
            || self
                .allowed
                .iter()
                .any(|allowed| *allowed == name || *allowed == normalize_name(host))
    }

    /// Whether a live handshake with `origin`, addressed to `host`, may proceed.
    pub fn allows_origin(&self, origin: &str, host: Option<&str>) -> bool {
        let Some(frontend) = &self.frontend else {
            return true;
        };
        let origin = normalize_origin(origin);
        if origin == *frontend {
            return true;
        }
        host.is_some_and(|host| {
            let host = host.trim().to_ascii_lowercase();
            origin == format!("http://{host}") || origin == format!("https://{host}")
        })
    }
}

/// The name part of a `Host` value: without its port (`[::1]:3000` → `[::1]`).
fn host_name(host: &str) -> &str {
    let host = host.trim();
    if host.starts_with('[') {
        return host.find(']').map_or(host, |end| &host[..=end]);
    }
    match host.rsplit_once(':') {
        Some((name, port)) if !name.contains(':') && port.bytes().all(|b| b.is_ascii_digit()) => {
            name
        }
        _ => host,
    }
}

/// A host name compared without case or a trailing dot.
fn normalize_name(name: &str) -> String {
    name.trim().trim_end_matches('.').to_ascii_lowercase()
}

/// An origin compared without case or a trailing slash.
fn normalize_origin(origin: &str) -> String {
    origin.trim().trim_end_matches('/').to_ascii_lowercase()
}

fn host_of(headers: &HeaderMap) -> Option<Result<&str, ()>> {
    headers
        .get(header::HOST)
        .map(|value| value.to_str().map_err(|_| ()))
}

/// The middleware: `Host` checked on every request, `Origin` on live handshakes.
pub async fn check_request(
    State(policy): State<Arc<HostPolicy>>,
    request: Request,
    next: Next,
) -> Response {
    let host = match host_of(request.headers()) {
        None => {
            return refusal(
                StatusCode::BAD_REQUEST,
                "Bad request",
                "the request has no Host header",
            );
        }
        Some(Err(())) => {
            return refusal(
                StatusCode::BAD_REQUEST,
                "Bad request",
                "the Host header is not readable text",
            );
        }
        Some(Ok(host)) => host,
    };
    if !policy.allows_host(host) {
        return refusal(
            StatusCode::MISDIRECTED_REQUEST,
            "Misdirected request",
            "this server answers to localhost and its own address only (set ALICIA_ALLOWED_HOSTS for a reverse proxy)",
        );
    }
    let live = request.uri().path().starts_with(LIVE_PATH);
    let changes_state = !matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    );
    if (live || changes_state)
        && let Some(origin) = request.headers().get(header::ORIGIN)
    {
        let allowed = origin
            .to_str()
            .is_ok_and(|origin| policy.allows_origin(origin, Some(host)));
        if !allowed {
            let message = if live {
                "live connections are open to FRONTEND_URL and this server's own pages only"
            } else {
                "changes are accepted from FRONTEND_URL and this server's own pages only"
            };
            return refusal(StatusCode::FORBIDDEN, "Forbidden", message);
        }
    }
    next.run(request).await
}

fn refusal(status: StatusCode, error: &str, message: &str) -> Response {
    (
        status,
        axum::Json(ErrorBody::new(error.to_owned(), Some(message.to_owned()))),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use alicia_core::secret::Secret;
    use std::net::Ipv4Addr;

    fn settings(bind: IpAddr, token: Option<&str>, frontend: &str) -> ApiSettings {
        ApiSettings {
            bind,
            port: 3000,
            token: token.map(Secret::new),
            read_token: None,
            frontend_url: frontend.to_owned(),
            rate_limit_max: 0,
            rate_limit_window_ms: 1,
            max_connections: 8,
            allowed_hosts: vec!["Alicia.Example.".to_owned()],
        }
    }

    #[test]
    fn loopback_names_the_bind_address_and_allowed_hosts_pass() {
        let loopback = IpAddr::V4(Ipv4Addr::LOCALHOST);
        let policy = HostPolicy::new(&settings(loopback, None, "http://localhost:3002"));
        for host in [
            "localhost",
            "LOCALHOST:3000",
            "localhost.:8080",
            "127.0.0.1",
            "127.0.0.1:1",
            "[::1]",
            "[::1]:3000",
            "alicia.example",
            "ALICIA.EXAMPLE.:443",
        ] {
            assert!(policy.allows_host(host), "{host}");
        }
        for host in [
            "evil.example",
            "evil.example:3000",
            "localhost.evil.example",
            "127.0.0.2",
            "",
            "[::2]:3000",
        ] {
            assert!(!policy.allows_host(host), "{host}");
        }
        let bound = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 5));
        let policy = HostPolicy::new(&settings(bound, None, ""));
        assert!(policy.allows_host("127.0.0.5:3000"));
    }

    #[test]
    fn with_a_token_any_host_passes() {
        let lan = IpAddr::V4(Ipv4Addr::UNSPECIFIED);
        let policy = HostPolicy::new(&settings(lan, Some("t"), ""));
        assert!(policy.allows_host("evil.example"));
    }

    #[test]
    fn live_origins_are_the_front_end_and_the_server_itself_unless_any() {
        let loopback = IpAddr::V4(Ipv4Addr::LOCALHOST);
        let policy = HostPolicy::new(&settings(loopback, None, "http://localhost:3002/"));
        assert!(policy.allows_origin("http://LOCALHOST:3002", Some("localhost:3000")));
        assert!(policy.allows_origin("http://localhost:3000", Some("localhost:3000")));
        assert!(!policy.allows_origin("http://evil.example", Some("localhost:3000")));
        assert!(!policy.allows_origin("null", Some("localhost:3000")));
        let any = HostPolicy::new(&settings(loopback, None, "*"));
        assert!(any.allows_origin("http://evil.example", Some("localhost:3000")));
    }
}
