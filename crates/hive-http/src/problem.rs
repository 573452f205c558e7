//! RFC 7807 problem+json errors: every failure the API answers with.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use hive_application::ApplicationError;
use serde::Serialize;
use serde_json::Value;

/// The media type of problem bodies.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// Domain codes answered `409 Conflict` rather than `422`: the request clashes with what exists
/// (a payment id already taken in the caller's organization; another organization's payment
/// with the same id is another payment, never a conflict).
const CONFLICT_CODES: &[&str] = &["payment_already_exists"];

/// An RFC 7807 problem: what went wrong, for the client to read.
///
/// Serialised as `{"type", "title", "status", "detail", "code", ...extensions}` with the media
/// type `application/problem+json`. A `401` also carries `WWW-Authenticate: Bearer`.
///
/// ```
/// use axum::http::StatusCode;
/// use hive_http::Problem;
///
/// let problem = Problem::bad_request("limit", "must be a non-negative integer");
/// assert_eq!(problem.status_code(), StatusCode::BAD_REQUEST);
/// assert_eq!(problem.detail, "limit: must be a non-negative integer");
/// assert_eq!(problem.extensions["errors"][0]["field"], "limit");
/// ```
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Problem {
    /// A URI naming the kind of problem.
    #[serde(rename = "type")]
    pub kind: String,
    /// A short summary of the kind (the status's reason phrase).
    pub title: &'static str,
    /// The HTTP status.
    pub status: u16,
    /// What happened this time.
    pub detail: String,
    /// A stable machine-readable code.
    pub code: String,
    /// Extra members (e.g. `errors` for invalid fields, `expected`/`actual` for conflicts).
    /// Boxed so a `Result<_, Problem>` stays small whatever map type serde_json is built with.
    #[serde(flatten, skip_serializing_if = "no_extensions")]
    pub extensions: Box<serde_json::Map<String, Value>>,
}

fn no_extensions(extensions: &serde_json::Map<String, Value>) -> bool {
    extensions.is_empty()
}

impl Problem {
    /// A problem with `status`, a stable `code` and a `detail`.
    pub fn new(status: StatusCode, code: impl Into<String>, detail: impl Into<String>) -> Self {
        let code = code.into();
        Self {
            kind: format!("https://hive.dev/problems/{code}"),
            title: status.canonical_reason().unwrap_or("Error"),
            status: status.as_u16(),
            detail: detail.into(),
            code,
            extensions: Box::default(),
        }
    }

    /// Adds an extension member.
    #[must_use]
    pub fn with(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.extensions.insert(key.to_owned(), value.into());
        self
    }

    /// Replaces the code (and the `type` URI derived from it).
    #[must_use]
    pub fn with_code(mut self, code: impl Into<String>) -> Self {
        self.code = code.into();
        self.kind = format!("https://hive.dev/problems/{}", self.code);
        self
    }

    /// 400: a malformed request, naming the field (a body field, a query or path parameter, or
    /// a header).
    pub fn bad_request(field: &str, detail: impl Into<String>) -> Self {
        let detail = detail.into();
        Self::new(StatusCode::BAD_REQUEST, "bad_request", format!("{field}: {detail}"))
            .with("errors", serde_json::json!([{ "field": field, "message": detail }]))
    }

    /// 401: no usable bearer token (the response carries `WWW-Authenticate: Bearer`).
    pub fn unauthorized(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthorized", detail)
    }

    /// 403: the caller may not act for another organization or user (a token without the role
    /// a route needs is a `403` too, with code [`crate::INSUFFICIENT_ROLE`]).
    pub fn forbidden(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", detail)
    }

    /// 500: a bug; the detail stays in the logs, not in the answer.
    pub fn internal() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "internal error; see the service logs",
        )
    }

    /// The problem for an error response that something other than a handler produced (the
    /// router, a tower-http layer): `404` unknown route, `405` wrong method, `413` body too
    /// large, `415` not JSON, `408`/`503` timeout (always answered as `503` with code `timeout`),
    /// anything else by its status.
    pub fn for_status(status: StatusCode) -> Self {
        match status {
            StatusCode::NOT_FOUND => Self::new(status, "route_not_found", "no such route; see /openapi.json"),
            StatusCode::METHOD_NOT_ALLOWED => Self::new(
                status,
                "method_not_allowed",
                "this route does not accept that method; see the Allow header",
            ),
            StatusCode::PAYLOAD_TOO_LARGE => Self::new(status, "payload_too_large", "the request body is too large"),
            StatusCode::UNSUPPORTED_MEDIA_TYPE => Self::new(
                status,
                "unsupported_media_type",
                "the request body must be JSON (Content-Type: application/json)",
            ),
            StatusCode::REQUEST_TIMEOUT | StatusCode::SERVICE_UNAVAILABLE => Self::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "timeout",
                "the request did not finish in time; retry later",
            ),
            status if status.is_server_error() => {
                let mut problem = Self::internal();
                problem.status = status.as_u16();
                problem.title = status.canonical_reason().unwrap_or("Error");
                problem
            }
            status => {
                let reason = status.canonical_reason().unwrap_or("error");
                let code = reason.to_ascii_lowercase().replace([' ', '-'], "_");
                Self::new(status, code, reason)
            }
        }
    }

    /// The HTTP status.
    pub fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }
}

impl From<ApplicationError> for Problem {
    fn from(error: ApplicationError) -> Self {
        let detail = error.to_string();
        match error {
            ApplicationError::Validation(fields) => {
                let errors: Vec<Value> = fields
                    .iter()
                    .map(|f| serde_json::json!({ "field": f.field, "message": f.message }))
                    .collect();
                Problem::new(StatusCode::BAD_REQUEST, "validation_failed", detail).with("errors", errors)
            }
            ApplicationError::NotFound { what, .. } => {
                Problem::new(StatusCode::NOT_FOUND, format!("{what}_not_found"), detail)
            }
            ApplicationError::Domain { code, .. } if CONFLICT_CODES.contains(&code) => {
                Problem::new(StatusCode::CONFLICT, code, detail)
            }
            ApplicationError::Domain { code, .. } => Problem::new(StatusCode::UNPROCESSABLE_ENTITY, code, detail),
            ApplicationError::Forbidden(_) => Problem::new(StatusCode::FORBIDDEN, "forbidden", detail),
            ApplicationError::Conflict { expected, actual, .. } => {
                Problem::new(StatusCode::CONFLICT, "concurrency_conflict", detail)
                    .with("expected", expected)
                    .with("actual", actual)
            }
            ApplicationError::Timeout(_) => Problem::new(StatusCode::SERVICE_UNAVAILABLE, "timeout", detail),
            ApplicationError::Unavailable(_) => {
                Problem::new(StatusCode::SERVICE_UNAVAILABLE, "backend_unavailable", detail)
            }
            ApplicationError::Unsupported { capability } => {
                Problem::new(StatusCode::NOT_IMPLEMENTED, "capability_unsupported", detail)
                    .with("capability", capability.name())
            }
            ApplicationError::NotRegistered { .. } | ApplicationError::Internal(_) => {
                tracing::error!(error = %detail, "internal error");
                Problem::internal()
            }
        }
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = self.status_code();
        let body = serde_json::to_vec(&self).unwrap_or_else(|_| b"{}".to_vec());
        let mut response = (status, body).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        if status == StatusCode::UNAUTHORIZED {
            headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

/// Whether `response` already carries a problem body.
pub(crate) fn is_problem(response: &Response) -> bool {
    response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with(PROBLEM_JSON))
}

/// Renames the fields of a validation error from the message's names to the HTTP names
/// (e.g. billing's `refundAmount` is the request body's `amount`).
pub(crate) fn rename_fields(error: ApplicationError, renames: &[(&str, &str)]) -> ApplicationError {
    match error {
        ApplicationError::Validation(mut fields) => {
            for field in &mut fields {
                if let Some((_, to)) = renames.iter().find(|(from, _)| *from == field.field) {
                    field.field = (*to).to_owned();
                }
            }
            ApplicationError::Validation(fields)
        }
        other => other,
    }
}
