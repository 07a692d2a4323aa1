//! Browser-facing protections: the security headers the seed's `helmet()` sets, CORS for
//! `FRONTEND_URL`, and the per-client rate limit (tower_governor).

use super::errors::ErrorBody;
use crate::core::settings::ApiSettings;
use axum::Router;
use axum::http::{HeaderName, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use std::sync::Arc;
use std::time::Duration;
use tower_governor::GovernorError;
use tower_governor::governor::GovernorConfigBuilder;
use tower_governor::key_extractor::PeerIpKeyExtractor;
use tower_http::cors::{AllowOrigin, CorsLayer};

/// The headers helmet 7 sets by default, as (name, value).
pub const SECURITY_HEADERS: [(&str, &str); 12] = [
    (
        "content-security-policy",
        "default-src 'self';base-uri 'self';font-src 'self' https: data:;form-action 'self';\
         frame-ancestors 'self';img-src 'self' data:;object-src 'none';script-src 'self';\
         script-src-attr 'none';style-src 'self' https: 'unsafe-inline';upgrade-insecure-requests",
    ),
    ("cross-origin-opener-policy", "same-origin"),
    ("cross-origin-resource-policy", "same-origin"),
    ("origin-agent-cluster", "?1"),
    ("referrer-policy", "no-referrer"),
    (
        "strict-transport-security",
        "max-age=31536000; includeSubDomains",
    ),
    ("x-content-type-options", "nosniff"),
    ("x-dns-prefetch-control", "off"),
    ("x-download-options", "noopen"),
    ("x-frame-options", "SAMEORIGIN"),
    ("x-permitted-cross-domain-policies", "none"),
    ("x-xss-protection", "0"),
];

/// Adds the security headers to every response.
pub async fn add_security_headers(mut response: Response) -> Response {
    let headers = response.headers_mut();
    for (name, value) in SECURITY_HEADERS {
        headers
            .entry(HeaderName::from_static(name))
            .or_insert(HeaderValue::from_static(value));
    }
    response
}

/// CORS for the configured front end (credentials allowed, as the seed); `FRONTEND_URL=*`
/// allows any origin without credentials (CONTRACT §6).
pub fn cors(settings: &ApiSettings) -> CorsLayer {
    let any = settings.any_origin();
    let origin = if any {
        AllowOrigin::any()
    } else {
        HeaderValue::from_str(settings.frontend_url.trim_end_matches('/')).map_or_else(
            |_| AllowOrigin::list([]),
            |origin| AllowOrigin::list([origin]),
        )
    };
    CorsLayer::new()
        .allow_origin(origin)
        .allow_credentials(!any)
        .allow_methods([
            Method::GET,
            Method::POST,
            Method::PUT,
            Method::DELETE,
            Method::OPTIONS,
        ])
        .allow_headers([
            header::CONTENT_TYPE,
            header::AUTHORIZATION,
            header::IF_MATCH,
            header::IF_NONE_MATCH,
        ])
        .expose_headers([header::ETAG, header::RETRY_AFTER])
        .max_age(Duration::from_secs(600))
}

/// Applies the rate limit to `router`: `rate_limit_max` requests per window per client IP, as
/// a token bucket (the burst is the maximum, refilled evenly over the window). Nothing when the
/// maximum is 0 (off). Needs the peer address (`into_make_service_with_connect_info`).
pub fn with_rate_limit<S: Clone + Send + Sync + 'static>(
    router: Router<S>,
    settings: &ApiSettings,
) -> Router<S> {
    if settings.rate_limit_max == 0 {
        return router;
    }
    let replenish_ms = (settings.rate_limit_window_ms / u64::from(settings.rate_limit_max)).max(1);
    let Some(config) = GovernorConfigBuilder::default()
        .per_millisecond(replenish_ms)
        .burst_size(settings.rate_limit_max)
        .key_extractor(PeerIpKeyExtractor)
        .finish()
    else {
        tracing::error!("invalid rate-limit settings; the rate limit is off");
        return router;
    };
    let limiter = Arc::downgrade(config.limiter());
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
    router.layer(tower_governor::GovernorLayer::new(config).error_handler(too_many_requests))
}

fn too_many_requests(error: GovernorError) -> Response {
    match error {
        GovernorError::TooManyRequests { wait_time, headers } => {
            let body = ErrorBody {
                error: "Too many requests from this IP".to_owned(),
                message: Some(format!("try again in {wait_time} s")),
                details: None,
            };
            let mut response = (StatusCode::TOO_MANY_REQUESTS, axum::Json(body)).into_response();
            if let Some(headers) = headers {
                response.headers_mut().extend(headers);
            }
            response
                .headers_mut()
                .entry(header::RETRY_AFTER)
                .or_insert_with(|| HeaderValue::from(wait_time));
            response
        }
        other => {
            let status = match &other {
                GovernorError::Other { code, .. } => *code,
                _ => StatusCode::INTERNAL_SERVER_ERROR,
            };
            let body = ErrorBody {
                error: "Rate limit unavailable".to_owned(),
                message: Some(other.to_string()),
                details: None,
            };
            (status, axum::Json(body)).into_response()
        }
    }
}
