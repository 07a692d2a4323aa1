//! The OpenAPI 3.1 document (utoipa), generated from the handlers and the types they return,
//! so it cannot drift from what the server answers. The service-config document's schema is
//! the very JSON Schema the config service validates with.

use alicia_core::config::schema_document;
use serde_json::Value;
use utoipa::openapi::path::Operation;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{Ref, RefOr, Response, ResponseBuilder, content::Content, schema::Schema};
use utoipa::{Modify, OpenApi, PartialSchema, ToSchema};

/// The top of the document: title, tags, security.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Alicia Config Manager",
        description = "Configs, devices and health of an Alicia voice assistant. Live events: socket.io at /socket.io/.",
    ),
    tags(
        (name = "config", description = "Service configuration documents"),
        (name = "devices", description = "Devices and commands"),
        (name = "system", description = "The manager, services, messages"),
    ),
    components(schemas(ServiceConfigDocument, super::errors::ErrorBody)),
    modifiers(&BearerToken),
    security(("bearer" = []))
)]
pub struct ApiDoc;

/// Declares the bearer-token scheme (required off loopback).
struct BearerToken;

impl Modify for BearerToken {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// Adds the answers that come from the layers around the handlers, not from the handlers
/// themselves, to every operation of the finished document: 401 without the token (when one
/// is required; not on the open routes), 429 from the rate limit, 503 when no connection slot
/// frees in time, 403 for a foreign `Origin` or the read-only token on changes, 504 for a
/// follower's change whose outcome is unknown, and on routes that take a JSON body, 408 for a
/// stalled body, 413 past the size limit and 415 when the body is not JSON.
pub fn add_layer_answers(openapi: &mut utoipa::openapi::OpenApi) {
    for (path, item) in openapi.paths.paths.iter_mut() {
        let open = crate::auth::is_open_path(path);
        let operations = [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
        ];
        let [get, changing @ ..] = operations;
        if let Some(operation) = get {
            add_shared_answers(operation, open);
        }
        let config_route = path.starts_with("/api/config");
        for operation in changing.into_iter().flatten() {
            add_shared_answers(operation, open);
            operation
                .responses
                .responses
                .entry("403".to_owned())
                .or_insert_with(|| {
                    error_answer(
                        "Forbidden: the read-only token (ALICIA_API_READ_TOKEN) changes nothing, or the request's Origin is neither this server's nor FRONTEND_URL (CONTRACT §10)",
                    )
                });
            if config_route {
                operation
                    .responses
                    .responses
                    .entry("504".to_owned())
                    .or_insert_with(|| {
                        error_answer(
                            "Outcome unknown (on a follower): the authority did not answer in time; the change may still land. The body's request_id names the request sent (CONTRACT §10)",
                        )
                    });
            }
        }
    }
}

fn add_shared_answers(operation: &mut Operation, open: bool) {
    let mut answers = vec![
        ("429", "Too many requests: wait for Retry-After"),
        (
            "421",
            "The Host is not a name of this server (checked while no token is required; see ALICIA_ALLOWED_HOSTS)",
        ),
        (
            "400",
            "Bad request (a request without a Host header, among others)",
        ),
        (
            "503",
            "Server busy: every connection slot stayed taken for 12 s (Retry-After: 5; CONTRACT §10)",
        ),
    ];
    if !open {
        answers.push((
            "401",
            "The bearer token is missing or wrong (required off loopback)",
        ));
    }
    if operation.request_body.is_some() {
        answers.push((
            "413",
            "Body over its limit (a config document: 1 MiB; anything else: 10 MiB)",
        ));
        answers.push((
            "415",
            "The body is not JSON (Content-Type: application/json)",
        ));
        answers.push((
            "408",
            "The request body sent nothing for 10 s (CONTRACT §10)",
        ));
    }
    for (status, description) in answers {
        operation
            .responses
            .responses
            .entry(status.to_owned())
            .or_insert_with(|| error_answer(description));
    }
}

fn error_answer(description: &str) -> RefOr<Response> {
    RefOr::T(
        ResponseBuilder::new()
            .description(description)
            .content(
                "application/json",
                Content::new(Some(Ref::from_schema_name("ErrorBody"))),
            )
            .build(),
    )
}

/// A service's configuration document (CONTRACT §1), as the JSON Schema defines it.
pub struct ServiceConfigDocument;

impl PartialSchema for ServiceConfigDocument {
    fn schema() -> RefOr<Schema> {
        let mut schema = schema_document().clone();
        if let Some(fields) = schema.as_object_mut() {
            fields.remove("$schema");
            fields.remove("$id");
        }
        // The validator's schema marks the key `writeOnly` (the GUI draws it as a password);
        // answers do carry it, masked, so the API's copy says so instead.
        if let Some(Value::Object(api_key)) =
            schema.pointer_mut("/properties/config/properties/api_key")
        {
            api_key.remove("writeOnly");
            api_key.insert(
                "description".to_owned(),
                Value::from("Secret; empty means unset. Answers carry it masked as \"********\"; a PUT that sends \"********\" keeps the stored key."),
            );
        }
        serde_json::from_value(schema).expect("the bundled schema is a valid OpenAPI schema")
    }
}

impl ToSchema for ServiceConfigDocument {
    fn name() -> std::borrow::Cow<'static, str> {
        "ServiceConfig".into()
    }
}
