//! Bearer-token access: required off loopback (and whenever a token is set), on every route
//! but `/api/health`; compared in constant time. A second, read-only token
//! (`ALICIA_API_READ_TOKEN`, CONTRACT §9) allows every `GET` and socket.io and nothing that
//! changes state (403): for Prometheus, Grafana or Home Assistant reading the API.

use super::errors::ApiError;
use alicia_core::config::Actor;
use alicia_core::secret::Secret;
use axum::extract::{ConnectInfo, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::net::SocketAddr;
use subtle::ConstantTimeEq;

/// Paths that never need a token.
const OPEN_PATHS: [&str; 1] = ["/api/health"];

/// True for a path that never needs a token.
pub fn is_open_path(path: &str) -> bool {
    OPEN_PATHS.contains(&path)
}

/// What a request may do, from the token it presented.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grant {
    /// The admin token.
    Token,
    /// The read-only token: reading only.
    ReadToken,
    /// No token needed (loopback without one set).
    Local,
}

impl Grant {
    /// How the history names this client (`actor.name`, CONTRACT §9).
    pub fn name(self) -> &'static str {
        match self {
            Self::Token => "token",
            Self::ReadToken => "read-token",
            Self::Local => "local",
        }
    }

    /// True when it may change state.
    pub fn may_change(self) -> bool {
        self != Self::ReadToken
    }
}

/// The access rule of one running server.
#[derive(Debug, Clone)]
pub struct Access {
    token: Option<Secret>,
    read_token: Option<Secret>,
    required: bool,
}

impl Access {
    /// `required` with the expected token (a required access with no token refuses all),
    /// and the read-only token if one is set.
    pub fn new(token: Option<Secret>, read_token: Option<Secret>, required: bool) -> Self {
        Self {
            token,
            read_token,
            required,
        }
    }

    /// True when requests must carry a token.
    pub fn required(&self) -> bool {
        self.required
    }

    /// What a presented token grants (`None`: refused). The read-only token grants reading
    /// even where no token is required; any other token counts as none there.
    pub fn grant(&self, presented: Option<&str>) -> Option<Grant> {
        let matches = |expected: &Option<Secret>| {
            expected
                .as_ref()
                .zip(presented)
                .is_some_and(|(expected, presented)| {
                    bool::from(expected.expose().as_bytes().ct_eq(presented.as_bytes()))
                })
        };
        if matches(&self.token) {
            Some(Grant::Token)
        } else if matches(&self.read_token) {
            Some(Grant::ReadToken)
        } else if !self.required {
            Some(Grant::Local)
        } else {
            None
        }
    }
}

/// The token of an `Authorization: Bearer <token>` header.
pub fn bearer_token(request: &Request) -> Option<&str> {
    let value = request
        .headers()
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?;
    let (scheme, token) = value.trim().split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

/// Middleware: 401 without a valid token, except on the open paths and CORS preflights; 403
/// for a read-only token on anything but reading. The grant goes on with the request.
pub async fn require_token(
    State(access): State<Access>,
    mut request: Request,
    next: Next,
) -> Response {
    if request.method() == Method::OPTIONS {
        return next.run(request).await;
    }
    let open = is_open_path(request.uri().path());
    let grant = access.grant(bearer_token(&request));
    let Some(grant) = grant.or(open.then_some(Grant::Local)) else {
        return ApiError::Unauthorized.into_response();
    };
    let reading = matches!(*request.method(), Method::GET | Method::HEAD);
    if !reading && !grant.may_change() {
        return ApiError::Forbidden(
            "the read-only token may read, never change anything".to_owned(),
        )
        .into_response();
    }
    request.extensions_mut().insert(grant);
    next.run(request).await
}

/// Who a REST request comes from, for the history (CONTRACT §9): the client's address and
/// the grant it was let in by (`token`, `read-token` or `local`).
#[derive(Debug, Clone)]
pub struct RestActor(pub Actor);

impl<S: Send + Sync> FromRequestParts<S> for RestActor {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let grant = parts
            .extensions
            .get::<Grant>()
            .copied()
            .unwrap_or(Grant::Local);
        let address = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|info| info.0.ip().to_string());
        Ok(Self(Actor::rest_client(address, grant.name())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_checked_only_when_required() {
        let open = Access::new(None, None, false);
        assert_eq!(open.grant(None), Some(Grant::Local));
        let closed = Access::new(Some(Secret::new("s3cret")), Some(Secret::new("r3ad")), true);
        assert_eq!(closed.grant(Some("s3cret")), Some(Grant::Token));
        assert_eq!(closed.grant(Some("r3ad")), Some(Grant::ReadToken));
        assert_eq!(closed.grant(Some("s3cre")), None);
        assert_eq!(closed.grant(Some("s3cret!")), None);
        assert_eq!(closed.grant(None), None);
        let misconfigured = Access::new(None, None, true);
        assert_eq!(misconfigured.grant(Some("")), None);
        let loopback_reader = Access::new(None, Some(Secret::new("r3ad")), false);
        assert_eq!(loopback_reader.grant(Some("r3ad")), Some(Grant::ReadToken));
        assert_eq!(loopback_reader.grant(Some("other")), Some(Grant::Local));
    }

    #[test]
    fn bearer_tokens_are_read_from_the_header() {
        let request = Request::builder()
            .header("authorization", "Bearer  abc ")
            .body(axum::body::Body::empty())
            .unwrap();
        assert_eq!(bearer_token(&request), Some("abc"));
        let basic = Request::builder()
            .header("authorization", "Basic abc")
            .body(axum::body::Body::empty())
            .unwrap();
        assert_eq!(bearer_token(&basic), None);
    }
}
