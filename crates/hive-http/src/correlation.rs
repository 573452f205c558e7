//! `X-Correlation-Id`: taken from the request (or generated) and echoed on every response.

use axum::extract::Request;
use axum::http::{HeaderMap, HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use uuid::Uuid;

use crate::Problem;

/// The correlation id header, `x-correlation-id`.
pub const CORRELATION_ID_HEADER: HeaderName = HeaderName::from_static("x-correlation-id");

/// Longest accepted correlation id.
pub const MAX_CORRELATION_ID_LEN: usize = 128;

/// The correlation id of the request being served (a request extension).
#[derive(Debug, Clone)]
pub(crate) struct CorrelationId(pub(crate) String);

/// The request's correlation id: `Ok(None)` when absent (or empty), an error when it is longer
/// than 128 characters or holds a character outside printable ASCII.
fn parse(headers: &HeaderMap) -> Result<Option<String>, Problem> {
    let Some(value) = headers.get(CORRELATION_ID_HEADER) else {
        return Ok(None);
    };
    let bytes = value.as_bytes();
    if bytes.len() > MAX_CORRELATION_ID_LEN {
        return Err(Problem::bad_request(
            "X-Correlation-Id",
            format!("must be at most {MAX_CORRELATION_ID_LEN} characters"),
        ));
    }
    if !bytes.iter().all(|b| (0x20..0x7f).contains(b)) {
        return Err(Problem::bad_request(
            "X-Correlation-Id",
            "must only contain printable ASCII characters",
        ));
    }
    let id = String::from_utf8_lossy(bytes).trim().to_owned();
    Ok((!id.is_empty()).then_some(id))
}

/// Middleware: stores the correlation id in the request's extensions (a fresh UUID v7 when the
/// client sent none), answers `400` for an invalid one, and echoes it on the response.
pub(crate) async fn correlate(mut request: Request, next: Next) -> Response {
    let (header, mut response) = match parse(request.headers()) {
        Ok(given) => {
            let id = given.unwrap_or_else(|| Uuid::now_v7().to_string());
            let header = HeaderValue::from_str(&id);
            request.extensions_mut().insert(CorrelationId(id));
            (header, next.run(request).await)
        }
        Err(problem) => (
            HeaderValue::from_str(&Uuid::now_v7().to_string()),
            problem.into_response(),
        ),
    };
    if let Ok(value) = header {
        response.headers_mut().insert(CORRELATION_ID_HEADER, value);
    }
    response
}
