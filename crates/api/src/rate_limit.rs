//! The seed's per-client rate limit (`RATE_LIMIT_MAX` requests per `RATE_LIMIT_WINDOW_MS`,
//! express-rate-limit under `/api/`), as a token bucket per client address: the burst is the
//! maximum, refilled evenly over the window. CONTRACT §10 decides who is outside it:
//! - `/metrics` is never limited (a Prometheus scraping during a REST burst must not see 429);
//! - a request carrying a valid admin or read token is trusted, and so, while no token is
//!   configured, is one from a loopback peer (the admin's own scripts);
//! - socket.io counts only its handshakes (no `sid`): a connected client's polls are its
//!   session, not new requests.

use super::auth::{Access, Grant, bearer_token};
use super::errors::ErrorBody;
use alicia_core::settings::ApiSettings;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};
use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

/// The rate limit of one running server.
pub struct RateLimit {
    limiter: Option<Arc<DefaultKeyedRateLimiter<IpAddr>>>,
    access: Access,
    /// True when no admin token is configured: loopback peers are then trusted.
    no_token: bool,
}

impl RateLimit {
    /// The limit these settings ask for (none at `RATE_LIMIT_MAX=0`); a task forgets idle
    /// clients every minute while the limit lives.
    pub fn new(settings: &ApiSettings, access: Access) -> Self {
        let limiter = NonZeroU32::new(settings.rate_limit_max).and_then(|max| {
            let replenish_ms = (settings.rate_limit_window_ms / u64::from(max.get())).max(1);
            let quota = Quota::with_period(Duration::from_millis(replenish_ms))?.allow_burst(max);
            Some(Arc::new(DefaultKeyedRateLimiter::keyed(quota)))
        });
        if let Some(limiter) = &limiter {
            let limiter = Arc::downgrade(limiter);
            tokio::spawn(async move {
                let mut ticks = tokio::time::interval(Duration::from_secs(60));
                loop {
                    ticks.tick().await;
                    let Some(limiter) = limiter.upgrade() else {
                        return;
                    };
                    limiter.retain_recent();
                }
            });
        }
        Self {
            limiter,
            access,
            no_token: settings.token.is_none(),
        }
    }

    /// Whether `request` from `peer` counts against the limit.
    fn counts(&self, request: &Request, peer: Option<IpAddr>) -> bool {
        if !is_limited_path(request) {
            return false;
        }
        if matches!(
            self.access.grant(bearer_token(request)),
            Some(Grant::Token | Grant::ReadToken)
        ) {
            return false;
        }
        !(self.no_token && peer.is_some_and(|ip| ip.is_loopback()))
    }
}

/// The seed's `/api/` routes (but `/metrics`, which is outside them anyway) and socket.io
/// handshakes.
fn is_limited_path(request: &Request) -> bool {
    let path = request.uri().path();
    if path == "/socket.io" || path.starts_with("/socket.io/") {
        let query = request.uri().query().unwrap_or("");
        return !query.split('&').any(|pair| pair.starts_with("sid="));
    }
    path == "/api" || path.starts_with("/api/")
}

/// Middleware: 429 with `Retry-After` once a client has used its requests.
pub async fn limit(State(limit): State<Arc<RateLimit>>, request: Request, next: Next) -> Response {
    let Some(limiter) = &limit.limiter else {
        return next.run(request).await;
    };
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|info| info.0.ip());
    if !limit.counts(&request, peer) {
        return next.run(request).await;
    }
    let Some(peer) = peer else {
        // Without the peer's address (a test calling the router directly) nothing is limited.
        return next.run(request).await;
    };
    match limiter.check_key(&peer) {
        Ok(()) => next.run(request).await,
        Err(not_until) => {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            too_many_requests(wait.as_secs().max(1))
        }
    }
}

fn too_many_requests(wait_secs: u64) -> Response {
    let body = ErrorBody::new(
        "Too many requests from this IP".to_owned(),
        Some(format!("try again in {wait_secs} s")),
    );
    let mut response = (StatusCode::TOO_MANY_REQUESTS, axum::Json(body)).into_response();
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(wait_secs));
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use alicia_core::secret::Secret;

    fn request(path: &str, token: Option<&str>) -> Request {
        let mut builder = Request::builder().uri(path);
        if let Some(token) = token {
            builder = builder.header("authorization", format!("Bearer {token}"));
        }
        builder.body(axum::body::Body::empty()).unwrap()
    }

    #[test]
    fn tokens_loopback_metrics_and_live_sessions_are_outside_the_limit() {
        let loopback = Some(IpAddr::from([127, 0, 0, 1]));
        let lan = Some(IpAddr::from([192, 168, 1, 9]));
        let open = RateLimit {
            limiter: None,
            access: Access::new(None, None, false),
            no_token: true,
        };
        assert!(!open.counts(&request("/api/config", None), loopback));
        assert!(open.counts(&request("/api/config", None), lan));
        assert!(!open.counts(&request("/metrics", None), lan));
        assert!(open.counts(&request("/socket.io/?EIO=4&transport=polling", None), lan));
        assert!(!open.counts(
            &request("/socket.io/?EIO=4&transport=polling&sid=abc", None),
            lan
        ));
        let closed = RateLimit {
            limiter: None,
            access: Access::new(
                Some(Secret::new("admin")),
                Some(Secret::new("reader")),
                true,
            ),
            no_token: false,
        };
        assert!(closed.counts(&request("/api/config", None), loopback));
        assert!(!closed.counts(&request("/api/config", Some("admin")), lan));
        assert!(!closed.counts(&request("/api/config", Some("reader")), lan));
        assert!(closed.counts(&request("/api/config", Some("wrong")), lan));
    }
}
