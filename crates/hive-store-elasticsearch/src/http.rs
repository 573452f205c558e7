//! [`EsClient`]: requests through the official client's transport, answers classified into
//! [`EsError`]s.

use std::time::Duration;

use elasticsearch::http::headers::{HeaderMap, HeaderValue, CONTENT_TYPE};
use elasticsearch::http::transport::Transport;
use elasticsearch::http::Method;
use serde_json::Value;

use crate::{EsError, EsResult};

/// A request body.
#[derive(Debug, Clone)]
pub(crate) enum Body {
    /// A JSON document.
    Json(Value),
    /// Newline-delimited JSON (`_bulk`).
    NdJson(String),
}

/// An answer: the HTTP status and its JSON body (`Null` when empty).
#[derive(Debug, Clone)]
pub(crate) struct Reply {
    pub(crate) status: u16,
    pub(crate) body: Value,
}

impl Reply {
    /// The `error.type` of an error body.
    pub(crate) fn error_type(&self) -> &str {
        self.body
            .pointer("/error/type")
            .and_then(Value::as_str)
            .unwrap_or_default()
    }
}

/// A connection to one cluster, cheap to clone.
#[derive(Clone)]
pub struct EsClient {
    transport: Transport,
    /// The cluster URL with its password (if any) masked: the only form ever shown.
    url: String,
    /// `:password@` of the URL, to mask in the transport's error texts.
    secret: Option<String>,
    timeout: Duration,
}

impl std::fmt::Debug for EsClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EsClient").field("url", &self.url).finish()
    }
}

impl EsClient {
    /// A client of the single node at `url` (no request is sent yet).
    pub fn new(url: &str, timeout: Duration) -> EsResult<Self> {
        let shown = masked_url(url);
        let secret = url_password(url).map(|password| format!(":{password}@"));
        let transport = Transport::single_node(url).map_err(|e| {
            let text = format!("bad URL `{shown}`: {e}");
            EsError::Client(mask(&text, secret.as_deref()))
        })?;
        Ok(Self {
            transport,
            url: shown,
            secret,
            timeout,
        })
    }

    /// The cluster URL, its password (`http://user:password@host`) masked as `***`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Sends a request; any status is returned (callers decide which ones are expected).
    pub(crate) async fn send(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<Body>,
    ) -> EsResult<Reply> {
        let mut headers = HeaderMap::new();
        let body = match body {
            None => None,
            Some(Body::Json(value)) => Some(value.to_string()),
            Some(Body::NdJson(text)) => {
                headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/x-ndjson"));
                Some(text)
            }
        };
        let query = (!query.is_empty()).then_some(query);
        let response = self
            .transport
            .send(method, path, headers, query, body, Some(self.timeout))
            .await
            .map_err(|e| self.transport_error(&e))?;
        let status = response.status_code().as_u16();
        let text = response.text().await.map_err(|e| self.transport_error(&e))?;
        let body = if text.trim().is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        Ok(Reply { status, body })
    }

    /// Sends a request and checks the status: every status outside 2xx and `ok` becomes an [`EsError`].
    pub(crate) async fn send_checked(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<Body>,
        ok: &[u16],
    ) -> EsResult<Reply> {
        let method_name = format!("{method:?}").to_uppercase();
        let reply = self.send(method, path, query, body).await?;
        if (200..300).contains(&reply.status) || ok.contains(&reply.status) {
            Ok(reply)
        } else {
            Err(status_error(&method_name, path, &reply))
        }
    }

    fn transport_error(&self, error: &elasticsearch::Error) -> EsError {
        let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
        let mut connect = false;
        while let Some(e) = source {
            if let Some(io) = e.downcast_ref::<std::io::Error>() {
                connect |= matches!(
                    io.kind(),
                    std::io::ErrorKind::ConnectionRefused | std::io::ErrorKind::ConnectionReset
                );
            }
            let text = e.to_string().to_lowercase();
            connect |= text.contains("connection refused") || text.contains("error trying to connect");
            source = e.source();
        }
        if connect || error.status_code().is_none() && !error.is_json() {
            EsError::Connection {
                url: self.url.clone(),
                reason: mask(&error.to_string(), self.secret.as_deref()),
            }
        } else {
            EsError::Client(mask(&error.to_string(), self.secret.as_deref()))
        }
    }
}

/// The non-empty password of `url`'s user info (`http://user:password@host`), if any.
fn url_password(url: &str) -> Option<&str> {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let authority = rest.split('/').next().unwrap_or_default();
    let (userinfo, _) = authority.rsplit_once('@')?;
    let (_, password) = userinfo.split_once(':')?;
    (!password.is_empty()).then_some(password)
}

/// `url` with its password replaced by `***` (`http://user:***@host:9200`).
fn masked_url(url: &str) -> String {
    let secret = url_password(url).map(|password| format!(":{password}@"));
    mask(url, secret.as_deref())
}

/// `text` with every `:password@` replaced by `:***@`.
fn mask(text: &str, secret: Option<&str>) -> String {
    match secret {
        Some(secret) => text.replace(secret, ":***@"),
        None => text.to_owned(),
    }
}

/// The typed error of an error answer.
pub(crate) fn status_error(method: &str, path: &str, reply: &Reply) -> EsError {
    let kind = reply.error_type().to_owned();
    let reason = reply
        .body
        .pointer("/error/reason")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .unwrap_or_else(|| reply.body.to_string());
    let index = reply
        .body
        .pointer("/error/index")
        .and_then(Value::as_str)
        .unwrap_or_else(|| path.trim_start_matches('/').split('/').next().unwrap_or_default())
        .to_owned();
    match reply.status {
        429 => EsError::TooManyRequests { kind, reason },
        503 => EsError::Unavailable { kind, reason },
        400 if is_mapping_error(&kind, &reason) => EsError::MappingConflict { index, kind, reason },
        status => EsError::Status {
            status,
            method: method.to_owned(),
            path: path.to_owned(),
            kind,
            reason,
        },
    }
}

/// Whether an error type/reason is a mapping conflict.
pub(crate) fn is_mapping_error(kind: &str, reason: &str) -> bool {
    matches!(
        kind,
        "mapper_parsing_exception" | "document_parsing_exception" | "strict_dynamic_mapping_exception"
    ) || (kind == "illegal_argument_exception" && reason.contains("mapper"))
}

/// Percent-encodes a document id for a URL path segment.
pub(crate) fn encode_id(id: &str) -> String {
    let mut out = String::with_capacity(id.len());
    for byte in id.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~' | b'@' | b':') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_never_leave_the_client() {
        assert_eq!(
            masked_url("http://elastic:s3cret@es:9200/x"),
            "http://elastic:***@es:9200/x"
        );
        assert_eq!(masked_url("http://elastic@es:9200"), "http://elastic@es:9200");
        assert_eq!(masked_url("http://es:9200"), "http://es:9200");
        let client = EsClient::new("http://elastic:s3cret@127.0.0.1:1", Duration::from_secs(1)).unwrap();
        assert_eq!(client.url(), "http://elastic:***@127.0.0.1:1");
        assert!(!format!("{client:?}").contains("s3cret"));
    }

    #[test]
    fn ids_are_percent_encoded() {
        assert_eq!(encode_id("pay-1@0"), "pay-1@0");
        assert_eq!(encode_id("a/b c"), "a%2Fb%20c");
    }
}
