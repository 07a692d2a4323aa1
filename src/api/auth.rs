//! Bearer-token access: required off loopback (and whenever a token is set), on every route
//! but `/api/health`; compared in constant time.

use super::errors::ApiError;
use crate::core::secret::Secret;
use axum::extract::{Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use subtle::ConstantTimeEq;

/// Paths that never need a token.
const OPEN_PATHS: [&str; 1] = ["/api/health"];

/// True for a path that never needs a token.
pub fn is_open_path(path: &str) -> bool {
    OPEN_PATHS.contains(&path)
}

/// The access rule of one running server.
#[derive(Debug, Clone)]
pub struct Access {
    token: Option<Secret>,
    required: bool,
}

impl Access {
    /// `required` with the expected token (a required access with no token refuses all).
    pub fn new(token: Option<Secret>, required: bool) -> Self {
        Self { token, required }
    }

    /// True when requests must carry the token.
    pub fn required(&self) -> bool {
        self.required
    }

    /// Checks a presented token in constant time (for equal lengths).
    pub fn accepts(&self, presented: Option<&str>) -> bool {
        if !self.required {
            return true;
        }
        match (&self.token, presented) {
            (Some(expected), Some(presented)) => {
                bool::from(expected.expose().as_bytes().ct_eq(presented.as_bytes()))
            }
            _ => false,
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

/// Middleware: 401 without a valid token, except on the open paths and CORS preflights.
pub async fn require_token(State(access): State<Access>, request: Request, next: Next) -> Response {
    let open =
        is_open_path(request.uri().path()) || request.method() == axum::http::Method::OPTIONS;
    if open || access.accepts(bearer_token(&request)) {
        next.run(request).await
    } else {
        ApiError::Unauthorized.into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_checked_only_when_required() {
        let open = Access::new(None, false);
        assert!(open.accepts(None));
        let closed = Access::new(Some(Secret::new("s3cret")), true);
        assert!(closed.accepts(Some("s3cret")));
        assert!(!closed.accepts(Some("s3cre")));
        assert!(!closed.accepts(Some("s3cret!")));
        assert!(!closed.accepts(None));
        let misconfigured = Access::new(None, true);
        assert!(!misconfigured.accepts(Some("")));
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
