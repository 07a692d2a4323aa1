//! Browser-facing protections: the security headers the seed's `helmet()` sets, and CORS for
//! `FRONTEND_URL`. The rate limit has its own module ([`super::rate_limit`]).

use alicia_core::settings::ApiSettings;
use axum::http::{HeaderName, HeaderValue, Method, header};
use axum::response::Response;
use std::time::Duration;
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
