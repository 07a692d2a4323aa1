//! The embedded REST + socket.io server (CONTRACT §3): the seed's API over the core, with
//! ETags, history, access control, rate limiting and live events. Handlers are a few lines
//! each over the same core methods the desktop app calls.
//!
//! [`router`] builds the whole app (testable with `tower::ServiceExt::oneshot`; it needs the
//! peer address when the rate limit is on: serve it with
//! `into_make_service_with_connect_info::<SocketAddr>()` or add `MockConnectInfo`);
//! [`server`] runs it on a socket and follows the core's on/off switch.

pub mod auth;
pub mod errors;
pub mod hosts;
pub mod listener;
pub mod live;
pub mod live_gate;
pub mod metrics;
pub mod openapi;
pub mod rate_limit;
pub mod routes;
pub mod security;
pub mod server;

use alicia_core::Core;
use alicia_core::settings::ApiSettings;
use auth::Access;
use axum::Json;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::middleware::{from_fn_with_state, map_response};
use routes::ApiState;
use serde_json::Value;
use std::sync::OnceLock;
use tower_http::catch_panic::CatchPanicLayer;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The seed's body limit (express.json `10mb`).
pub const BODY_LIMIT_BYTES: usize = 10 * 1024 * 1024;

/// Every route with its OpenAPI description.
fn api_routes() -> OpenApiRouter<ApiState> {
    OpenApiRouter::with_openapi(openapi::ApiDoc::openapi())
        .routes(routes!(routes::health::health))
        .routes(routes!(routes::config::list))
        .routes(routes!(routes::config::schema))
        .routes(routes!(
            routes::config::get,
            routes::config::put,
            routes::config::delete
        ))
        .routes(routes!(routes::config::history))
        .routes(routes!(routes::config::rollback))
        .routes(routes!(routes::changes::apply))
        .routes(routes!(routes::changes::rollback))
        .routes(routes!(routes::settings_schema::get))
        .routes(routes!(routes::settings_schema::accept))
        .routes(routes!(routes::devices::list))
        .routes(routes!(routes::devices::get, routes::devices::forget))
        .routes(routes!(routes::devices::command))
        .routes(routes!(routes::devices::command_outcome))
        .routes(routes!(routes::system::info))
        .routes(routes!(routes::system::services))
        .routes(routes!(routes::system::checks))
        .routes(routes!(routes::system::messages))
        .routes(routes!(routes::system::discovery))
        .routes(routes!(routes::system::publish))
        .routes(routes!(openapi_json))
}

/// The OpenAPI document as JSON, built once.
pub fn openapi_document() -> &'static Value {
    static DOCUMENT: OnceLock<Value> = OnceLock::new();
    DOCUMENT.get_or_init(|| {
        let (_, mut openapi) = api_routes().split_for_parts();
        openapi::add_layer_answers(&mut openapi);
        let mut document = serde_json::to_value(&openapi).unwrap_or_default();
        document["info"]["version"] = Value::String(env!("CARGO_PKG_VERSION").to_owned());
        document
    })
}

/// This document.
#[utoipa::path(get, path = "/api/openapi.json", operation_id = "getOpenApi", tag = "system",
    responses((status = 200, description = "OpenAPI 3.1 document", body = Object)))]
async fn openapi_json() -> Json<&'static Value> {
    Json(openapi_document())
}

/// The whole app for `core` with these settings: routes, socket.io, and every protection.
pub fn router(core: Core, settings: &ApiSettings) -> Router {
    let access = access_of(settings);
    let development = core.settings.development;
    let (live_layer, _io) = live::layer(core.clone(), access.clone());
    let state = ApiState {
        core,
        access: access.clone(),
    };
    let (api, _) = api_routes().with_state(state.clone()).split_for_parts();
    // The service routes' methods for the reserved name `changes` (CONTRACT §7), whose path
    // the change-set route now holds.
    let api = api.merge(
        Router::new()
            .route(
                "/api/config/changes",
                axum::routing::get(routes::changes::get_reserved)
                    .put(routes::changes::put_reserved)
                    .delete(routes::changes::delete_reserved),
            )
            // Prometheus text, not JSON: outside the OpenAPI document (CONTRACT §8).
            .route("/metrics", axum::routing::get(metrics::metrics))
            .with_state(state.clone()),
    );
    let rate_limit = std::sync::Arc::new(rate_limit::RateLimit::new(settings, access));
    let guarded = guard_routes(api, settings)
        .layer(live_layer)
        .layer(from_fn_with_state(
            live_gate::LiveGate::new(),
            live_gate::admit_handshakes,
        ))
        .layer(from_fn_with_state(rate_limit, rate_limit::limit));
    wrap(guarded, settings, development).layer(from_fn_with_state(state.core, metrics::record))
}

/// The access rule these settings ask for.
fn access_of(settings: &ApiSettings) -> Access {
    Access::new(
        settings.token.clone(),
        settings.read_token.clone(),
        settings.auth_required(),
    )
}

/// The protections in front of the routes (socket.io, which checks its own handshake token,
/// sits outside them): the 404 / 405 JSON fallbacks and the token check. The rate limit sits
/// in front of both ([`router`]).
pub fn guard_routes(routes: Router, settings: &ApiSettings) -> Router {
    let access = access_of(settings);
    routes
        .fallback(errors::route_not_found)
        .method_not_allowed_fallback(errors::method_not_allowed)
        .layer(from_fn_with_state(access, auth::require_token))
}

/// The protections around everything: the body limit, panics as 500s (with their cause in
/// development mode only), CORS, the `Host` and `Origin` checks and the security headers.
pub fn wrap(app: Router, settings: &ApiSettings, development: bool) -> Router {
    app.layer(DefaultBodyLimit::max(BODY_LIMIT_BYTES))
        .layer(CatchPanicLayer::custom(errors::panic_response))
        .layer(map_response(move |response| {
            errors::reveal_internal_causes(development, response)
        }))
        .layer(security::cors(settings))
        .layer(from_fn_with_state(
            std::sync::Arc::new(hosts::HostPolicy::new(settings)),
            hosts::check_request,
        ))
        .layer(map_response(security::add_security_headers))
}
