//! The OpenAPI 3.1 document (utoipa), generated from the handlers and the types they return,
//! so it cannot drift from what the server answers. The service-config document's schema is
//! the very JSON Schema the config service validates with.

use crate::core::config::schema_document;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{RefOr, schema::Schema};
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

/// A service's configuration document (CONTRACT §1), as the JSON Schema defines it.
pub struct ServiceConfigDocument;

impl PartialSchema for ServiceConfigDocument {
    fn schema() -> RefOr<Schema> {
        let mut schema = schema_document().clone();
        if let Some(fields) = schema.as_object_mut() {
            fields.remove("$schema");
            fields.remove("$id");
        }
        serde_json::from_value(schema).expect("the bundled schema is a valid OpenAPI schema")
    }
}

impl ToSchema for ServiceConfigDocument {
    fn name() -> std::borrow::Cow<'static, str> {
        "ServiceConfig".into()
    }
}
