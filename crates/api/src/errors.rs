//! One error type for every route, answering with the contract's error body
//! `{"error", "message"?, "details"?}`; JSON extraction that answers 400 with the parser's
//! message and 413 past the body limit; the 404 / 405 fallbacks; panics turned into 500s.
//!
//! A 500 never shows its cause to clients unless `NODE_ENV=development`: the cause travels in
//! a response extension ([`InternalCause`]) that [`reveal_internal_causes`] writes into the
//! body in development mode only.

use crate::BODY_LIMIT_BYTES;
use alicia_core::CommandError;
use alicia_core::config::{ConfigError, FieldError};
use alicia_core::limits::human_size;
use alicia_core::mqtt::PublishError;
use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// The contract's error body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// A short title (`Route not found`, `Validation failed`, …).
    pub error: String,
    /// What happened, for a person.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// The failing fields, by JSON Pointer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub details: Option<Vec<FieldError>>,
    /// With 504 "outcome unknown" (a follower got no answer from its authority): the request
    /// it sent, whose change may still land (CONTRACT §10).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

impl ErrorBody {
    /// A body with a title and a message.
    pub fn new(error: impl Into<String>, message: Option<String>) -> Self {
        Self {
            error: error.into(),
            message,
            details: None,
            request_id: None,
        }
    }
}

/// Why a request failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApiError {
    /// 400: the request is wrong; `details` name the fields.
    BadRequest {
        /// What is wrong.
        message: String,
        /// The failing fields.
        details: Vec<FieldError>,
    },
    /// 400: the body is not valid JSON; the parser's message says where.
    MalformedJson(String),
    /// 401: no valid bearer token.
    Unauthorized,
    /// 404: no such thing.
    NotFound {
        /// What was not found (`Configuration not found`, …).
        what: &'static str,
        /// Details.
        message: String,
    },
    /// 409: only the fleet's authority can do that (this manager follows it).
    Conflict(String),
    /// 412: the `If-Match` revision is no longer current.
    PreconditionFailed(String),
    /// 413: the body is over the limit (bytes) of its route.
    PayloadTooLarge(usize),
    /// 415: the body is not JSON.
    UnsupportedMediaType,
    /// 403: not for this client (a topic only the manager writes).
    Forbidden(String),
    /// 507: the disk is full; nothing was stored.
    InsufficientStorage(String),
    /// 503: the broker (or the store) cannot take it now.
    Unavailable(String),
    /// 504: a follower's authority did not answer in time; the change may still land.
    OutcomeUnknown {
        /// What happened.
        message: String,
        /// The request sent to the authority.
        request_id: String,
    },
    /// 500: a fault; the cause is shown in development mode only.
    Internal(String),
}

/// The cause of a 500, kept out of the body unless in development mode.
#[derive(Debug, Clone)]
pub struct InternalCause(pub String);

impl ApiError {
    /// A 400 without field details.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::BadRequest {
            message: message.into(),
            details: Vec::new(),
        }
    }

    /// A 400 naming one field.
    pub fn bad_field(path: &str, message: &str) -> Self {
        Self::BadRequest {
            message: format!("{path} {message}"),
            details: vec![FieldError::new(path, message)],
        }
    }

    fn status(&self) -> StatusCode {
        match self {
            Self::BadRequest { .. } | Self::MalformedJson(_) => StatusCode::BAD_REQUEST,
            Self::Unauthorized => StatusCode::UNAUTHORIZED,
            Self::NotFound { .. } => StatusCode::NOT_FOUND,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::PreconditionFailed(_) => StatusCode::PRECONDITION_FAILED,
            Self::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::InsufficientStorage(_) => StatusCode::INSUFFICIENT_STORAGE,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::OutcomeUnknown { .. } => StatusCode::GATEWAY_TIMEOUT,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn body(&self) -> ErrorBody {
        let (error, message, details) = match self {
            Self::BadRequest { message, details } => (
                "Validation failed",
                Some(message.clone()),
                (!details.is_empty()).then(|| details.clone()),
            ),
            Self::MalformedJson(message) => ("Malformed JSON", Some(message.clone()), None),
            Self::Unauthorized => (
                "Unauthorized",
                Some("a valid bearer token is required (Authorization: Bearer <token>)".to_owned()),
                None,
            ),
            Self::NotFound { what, message } => (*what, Some(message.clone()), None),
            Self::Conflict(message) => ("Conflict", Some(message.clone()), None),
            Self::PreconditionFailed(message) => {
                ("Precondition failed", Some(message.clone()), None)
            }
            Self::PayloadTooLarge(limit) => (
                "Payload too large",
                Some(format!(
                    "the body is over the {} limit ({limit} bytes)",
                    human_size(*limit)
                )),
                None,
            ),
            Self::UnsupportedMediaType => (
                "Unsupported media type",
                Some("send JSON with Content-Type: application/json".to_owned()),
                None,
            ),
            Self::Forbidden(message) => ("Forbidden", Some(message.clone()), None),
            Self::InsufficientStorage(message) => {
                ("Insufficient storage", Some(message.clone()), None)
            }
            Self::Unavailable(message) => ("Service unavailable", Some(message.clone()), None),
            Self::OutcomeUnknown { message, .. } => {
                ("outcome unknown", Some(message.clone()), None)
            }
            Self::Internal(_) => (
                "Internal server error",
                Some("Something went wrong".to_owned()),
                None,
            ),
        };
        ErrorBody {
            error: error.to_owned(),
            message,
            details,
            request_id: match self {
                Self::OutcomeUnknown { request_id, .. } => Some(request_id.clone()),
                _ => None,
            },
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (self.status(), axum::Json(self.body())).into_response();
        match &self {
            Self::Unauthorized => {
                response
                    .headers_mut()
                    .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            }
            Self::Unavailable(_) => {
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            }
            Self::Internal(cause) => {
                tracing::error!(%cause, "internal error answering a request");
                response
                    .extensions_mut()
                    .insert(InternalCause(cause.clone()));
            }
            _ => {}
        }
        response
    }
}

impl From<ConfigError> for ApiError {
    fn from(error: ConfigError) -> Self {
        let message = error.to_string();
        match error {
            ConfigError::Invalid { details } | ConfigError::NewFindings { details } => {
                Self::BadRequest { message, details }
            }
            ConfigError::Conflict { .. } => Self::PreconditionFailed(message),
            ConfigError::NotFound { .. } => Self::NotFound {
                what: "Configuration not found",
                message,
            },
            ConfigError::RevisionNotFound { .. } => Self::NotFound {
                what: "Revision not found",
                message,
            },
            ConfigError::RevisionIsDeletion { .. } => Self::bad_field("/revision", &message),
            ConfigError::RefusedByAuthority { details, .. } => {
                Self::BadRequest { message, details }
            }
            ConfigError::Busy
            | ConfigError::Unavailable
            | ConfigError::NoAuthority(_)
            | ConfigError::Storage(_) => Self::Unavailable(message),
            ConfigError::NoAnswer { request_id, .. } => Self::OutcomeUnknown {
                message,
                request_id: request_id.clone(),
            },
            ConfigError::DiskFull(_) => Self::InsufficientStorage(message),
            ConfigError::OnlyOnAuthority(_) => Self::Conflict(message),
            ConfigError::NoPendingSchema { .. } => Self::NotFound {
                what: "No pending settings schema",
                message,
            },
            ConfigError::ChangeSetNotFound { .. } => Self::NotFound {
                what: "Change set not found",
                message,
            },
            ConfigError::MembersChanged { .. } | ConfigError::BeforeSetForgotten { .. } => {
                Self::Conflict(message)
            }
            ConfigError::Unchanged => Self::Internal(message),
        }
    }
}

impl From<PublishError> for ApiError {
    fn from(error: PublishError) -> Self {
        match error {
            PublishError::NotConnected | PublishError::Busy => Self::Unavailable(error.to_string()),
            PublishError::OutsidePrefix(_) | PublishError::Wildcard => {
                Self::bad_field("/topic", &error.to_string())
            }
            PublishError::Owned(_) => Self::Forbidden(error.to_string()),
        }
    }
}

impl From<CommandError> for ApiError {
    fn from(error: CommandError) -> Self {
        match error {
            CommandError::UnknownDevice(_) => Self::NotFound {
                what: "Device not found",
                message: error.to_string(),
            },
            CommandError::MissingCommand => {
                Self::bad_field("/command", "is required (a non-empty string)")
            }
            CommandError::Publish(publish) => publish.into(),
        }
    }
}

/// JSON body extractor whose rejections are [`ApiError`]s: not JSON → 415, over `LIMIT`
/// bytes → 413 naming the limit, too dense to parse within its memory budget or malformed
/// JSON → 400 with the reason.
pub struct JsonBody<T, const LIMIT: usize = BODY_LIMIT_BYTES>(pub T);

impl<S, T, const LIMIT: usize> FromRequest<S> for JsonBody<T, LIMIT>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        if !is_json(request.headers()) {
            return Err(ApiError::UnsupportedMediaType);
        }
        let bytes = bytes::Bytes::from_request(request, state)
            .await
            .map_err(|rejection| {
                if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    ApiError::PayloadTooLarge(LIMIT.min(BODY_LIMIT_BYTES))
                } else {
                    ApiError::bad_request(rejection.body_text())
                }
            })?;
        if bytes.len() > LIMIT {
            return Err(ApiError::PayloadTooLarge(LIMIT));
        }
        // CONTRACT §10: a large body too dense to parse within its memory budget is refused
        // before it is parsed.
        alicia_core::limits::check_json_density(&bytes).map_err(ApiError::bad_request)?;
        match axum::Json::<T>::from_bytes(&bytes) {
            Ok(axum::Json(value)) => Ok(Self(value)),
            Err(rejection) => Err(json_rejection(&rejection)),
        }
    }
}

/// True for a JSON content type (`application/json`, or any `application/…+json`).
fn is_json(headers: &axum::http::HeaderMap) -> bool {
    let Some(kind) = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let essence = kind
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

fn json_rejection(rejection: &JsonRejection) -> ApiError {
    match rejection {
        JsonRejection::MissingJsonContentType(_) => ApiError::UnsupportedMediaType,
        JsonRejection::JsonSyntaxError(_) => ApiError::MalformedJson(rejection.body_text()),
        other => ApiError::bad_request(other.body_text()),
    }
}

/// Query-string extractor whose rejections are [`ApiError`]s: a value of the wrong kind → 400
/// with the parser's message, as JSON like every other error.
pub struct QueryParams<T>(pub T);

impl<S, T> FromRequestParts<S> for QueryParams<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(value)) => Ok(Self(value)),
            Err(rejection) => Err(ApiError::bad_request(rejection.body_text())),
        }
    }
}

/// The seed's answer for an unknown route.
pub async fn route_not_found() -> Response {
    let body = ErrorBody::new("Route not found", None);
    (StatusCode::NOT_FOUND, axum::Json(body)).into_response()
}

/// The answer for a known route and a wrong method.
pub async fn method_not_allowed() -> Response {
    let body = ErrorBody::new("Method not allowed", None);
    (StatusCode::METHOD_NOT_ALLOWED, axum::Json(body)).into_response()
}

/// Turns a panic in a handler into a 500 (the server keeps serving).
pub fn panic_response(panic: Box<dyn std::any::Any + Send + 'static>) -> Response {
    let cause = panic
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
        .unwrap_or_else(|| "a handler panicked".to_owned());
    ApiError::Internal(format!("panic: {cause}")).into_response()
}

/// In development mode, writes the cause of a 500 into its `message`.
pub async fn reveal_internal_causes(development: bool, response: Response) -> Response {
    let Some(InternalCause(cause)) = response.extensions().get::<InternalCause>().cloned() else {
        return response;
    };
    if !development {
        return response;
    }
    let body = ErrorBody::new("Internal server error".to_owned(), Some(cause));
    (StatusCode::INTERNAL_SERVER_ERROR, axum::Json(body)).into_response()
}
