//! The dashboard's page, script and stylesheet, embedded in the binary and served with a
//! strict content security policy (no inline script or style, nothing from another origin).

use axum::http::header;
use axum::response::{IntoResponse, Response};

/// The page (public: it holds no data; its script asks for a token and calls the API).
const PAGE: &str = include_str!("../assets/dashboard/index.html");
/// The page's script.
const SCRIPT: &str = include_str!("../assets/dashboard/dashboard.js");
/// The page's stylesheet.
const STYLE: &str = include_str!("../assets/dashboard/dashboard.css");

/// The content security policy of the page: scripts, styles and requests to this origin only.
pub(crate) const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; \
     connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// `GET /dashboard`.
pub(crate) async fn page() -> Response {
    asset("text/html; charset=utf-8", PAGE)
}

/// `GET /dashboard/dashboard.js`.
pub(crate) async fn script() -> Response {
    asset("text/javascript; charset=utf-8", SCRIPT)
}

/// `GET /dashboard/dashboard.css`.
pub(crate) async fn style() -> Response {
    asset("text/css; charset=utf-8", STYLE)
}

fn asset(content_type: &'static str, body: &'static str) -> Response {
    let headers = [
        (header::CONTENT_TYPE, content_type),
        (header::CONTENT_SECURITY_POLICY, CSP),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "no-referrer"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::CACHE_CONTROL, "no-cache"),
    ];
    (headers, body).into_response()
}
