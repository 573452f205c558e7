//! Extractors whose every rejection is a problem naming what is wrong: JSON bodies, query
//! parameters and path segments.

use std::str::FromStr;

use axum::body::Bytes;
use axum::extract::rejection::PathRejection;
use axum::extract::{FromRequest, FromRequestParts, Path, Request};
use axum::http::header::CONTENT_TYPE;
use axum::http::request::Parts;
use axum::http::StatusCode;
use chrono::{DateTime, Duration, Utc};
use hive_application::ApplicationError;
use hive_domain::{inclusive_end, Interval, SortOrder};
use serde::de::DeserializeOwned;

use crate::Problem;

/// How far back time ranges reach when `from` is missing.
pub(crate) const DEFAULT_RANGE_DAYS: i64 = 30;

/// A JSON request body deserialised into `T`.
///
/// `415` unless the content type is `application/json` (or `…+json`); `413` past the body
/// limit; `400` for malformed JSON (including nesting deeper than serde_json's recursion limit)
/// and for a field of the wrong type or missing, naming the field.
#[derive(Debug)]
pub(crate) struct JsonBody<T>(pub(crate) T);

fn is_json(request: &Request) -> bool {
    request
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_ascii_lowercase())
        .is_some_and(|mime| mime == "application/json" || (mime.starts_with("application/") && mime.ends_with("+json")))
}

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for JsonBody<T> {
    type Rejection = Problem;

    async fn from_request(request: Request, state: &S) -> Result<Self, Problem> {
        if !is_json(&request) {
            return Err(Problem::for_status(StatusCode::UNSUPPORTED_MEDIA_TYPE));
        }
        let bytes = read_body(request, state).await?;
        parse_json(&bytes).map(Self)
    }
}

/// The whole body, `413` past the body limit (also when it comes in chunks without a length).
async fn read_body<S: Send + Sync>(request: Request, state: &S) -> Result<Bytes, Problem> {
    Bytes::from_request(request, state).await.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            Problem::for_status(StatusCode::PAYLOAD_TOO_LARGE)
        } else {
            Problem::bad_request("body", "the request body could not be read")
        }
    })
}

/// The body of a route that takes none: it is read all the same, so the body limit applies
/// (`413`), and it must be empty (or whitespace), `{}` or `null`; anything else is a `400`
/// (malformed or too deeply nested JSON included), never silently ignored.
#[derive(Debug)]
pub(crate) struct NoBody;

impl<S: Send + Sync> FromRequest<S> for NoBody {
    type Rejection = Problem;

    async fn from_request(request: Request, state: &S) -> Result<Self, Problem> {
        let bytes = read_body(request, state).await?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(Self);
        }
        let value: serde_json::Value = parse_json(&bytes)?;
        let empty = value.is_null() || value.as_object().is_some_and(serde_json::Map::is_empty);
        if empty {
            Ok(Self)
        } else {
            Err(Problem::bad_request(
                "body",
                "this route takes no body: send none, or `{}`",
            ))
        }
    }
}

/// Deepest accepted nesting of JSON arrays and objects (every request body is shallow; this
/// also covers members a body type ignores, which serde_json skips without its recursion limit).
pub(crate) const MAX_JSON_DEPTH: usize = 32;

/// Whether `bytes` nest arrays and objects deeper than `max` (strings are skipped).
fn too_deep(bytes: &[u8], max: usize) -> bool {
    let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
    for &b in bytes {
        if in_string {
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                if depth > max {
                    return true;
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    false
}

/// `bytes` as a `T`, or a `400` naming the field at fault.
pub(crate) fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, Problem> {
    if too_deep(bytes, MAX_JSON_DEPTH) {
        return Err(Problem::bad_request(
            "body",
            format!("malformed JSON: arrays and objects nest deeper than {MAX_JSON_DEPTH} levels"),
        )
        .with_code("malformed_json"));
    }
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut deserializer).map_err(|error| {
        let path = error.path().to_string();
        let inner = error.into_inner();
        json_problem(&path, &inner)
    })?;
    deserializer.end().map_err(|e| json_problem(".", &e))?;
    Ok(value)
}

fn json_problem(path: &str, error: &serde_json::Error) -> Problem {
    let message = error.to_string();
    if error.is_syntax() || error.is_eof() || error.is_io() {
        return Problem::bad_request("body", format!("malformed JSON: {message}")).with_code("malformed_json");
    }
    // A missing field is reported at its parent; serde names it in backticks.
    let missing = message
        .strip_prefix("missing field `")
        .and_then(|rest| rest.split('`').next());
    let field = match (path, missing) {
        (".", Some(name)) => name.to_owned(),
        (parent, Some(name)) => format!("{parent}.{name}"),
        (".", None) => "body".to_owned(),
        (path, None) => path.to_owned(),
    };
    let message = message.split(" at line ").next().unwrap_or(&message).to_owned();
    Problem::bad_request(&field, message)
}

/// The query string as name/value pairs: names may repeat (`status=a&status=b`). Every
/// error is a `400` problem naming the parameter.
#[derive(Debug, Clone, Default)]
pub struct Params(Vec<(String, String)>);

impl<S: Send + Sync> FromRequestParts<S> for Params {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Problem> {
        Ok(Self::from_query(parts.uri.query()))
    }
}

impl Params {
    /// The pairs of a URI's query string.
    pub(crate) fn from_query(query: Option<&str>) -> Self {
        let query = query.unwrap_or_default();
        Self(form_urlencoded::parse(query.as_bytes()).into_owned().collect())
    }

    /// The first non-empty value of `name`, trimmed.
    pub fn text(&self, name: &str) -> Option<String> {
        self.0
            .iter()
            .filter(|(key, _)| key == name)
            .map(|(_, value)| value.trim())
            .find(|value| !value.is_empty())
            .map(str::to_owned)
    }

    /// Every value of a repeatable parameter, comma-separated lists split, empty items dropped.
    pub fn list(&self, name: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(key, _)| key == name)
            .flat_map(|(_, value)| value.split(','))
            .map(str::trim)
            .filter(|item| !item.is_empty())
            .map(str::to_owned)
            .collect()
    }

    /// `name` parsed with `FromStr`, `400` naming it with `expected` when it does not parse.
    pub fn parsed<T: FromStr>(&self, name: &str, expected: &str) -> Result<Option<T>, Problem> {
        self.text(name)
            .map(|value| value.parse().map_err(|_| Problem::bad_request(name, expected)))
            .transpose()
    }

    /// A non-negative integer; a run of digits too large for `u64` saturates to `u64::MAX` (so
    /// a huge `limit`, `size`, `page` or `offset` is clamped like any other large value, never a
    /// `400`); a sign, a fraction or anything else is a `400`.
    pub fn u64(&self, name: &str) -> Result<Option<u64>, Problem> {
        self.text(name)
            .map(|value| match value.parse::<u64>() {
                Ok(number) => Ok(number),
                Err(_) if value.bytes().all(|b| b.is_ascii_digit()) => Ok(u64::MAX),
                Err(_) => Err(Problem::bad_request(name, "must be a non-negative integer")),
            })
            .transpose()
    }

    /// An RFC 3339 instant (a `+` of the offset that the query string decoded as a space is
    /// taken back as `+`).
    pub fn time(&self, name: &str) -> Result<Option<DateTime<Utc>>, Problem> {
        self.text(name)
            .map(|value| {
                DateTime::parse_from_rfc3339(&value)
                    .or_else(|e| match value.contains(' ') {
                        true => DateTime::parse_from_rfc3339(&value.replace(' ', "+")),
                        false => Err(e),
                    })
                    .map(|t| t.with_timezone(&Utc))
                    .map_err(|_| Problem::bad_request(name, "must be an RFC 3339 date-time, e.g. 2024-12-19T10:00:00Z"))
            })
            .transpose()
    }

    /// The exclusive end of a time range: `to` (exclusive), or `toInclusive` (the seeds'
    /// inclusive `lte`) as the instant just after it ([`inclusive_end`]); both given is a `400`.
    pub fn end(&self) -> Result<Option<DateTime<Utc>>, Problem> {
        match (self.time("to")?, self.time("toInclusive")?) {
            (Some(_), Some(_)) => Err(Problem::from(ApplicationError::invalid(
                "toInclusive",
                "give `to` (exclusive) or `toInclusive`, not both",
            ))),
            (to, None) => Ok(to),
            (None, Some(last)) => Ok(Some(inclusive_end(last))),
        }
    }

    /// `from`/`to` (or `toInclusive`) with the defaults of the analytics routes: `to` the start
    /// of the next whole UTC hour (everything until now counts, and the requests of one hour
    /// share their range, so a repeated query hits the cache), `from` 30 days before `to`.
    pub fn range_or_last_30_days(&self) -> Result<(DateTime<Utc>, DateTime<Utc>), Problem> {
        self.range_or_last_30_days_at(Utc::now())
    }

    /// [`Params::range_or_last_30_days`] as seen at `now`.
    fn range_or_last_30_days_at(&self, now: DateTime<Utc>) -> Result<(DateTime<Utc>, DateTime<Utc>), Problem> {
        let to = match self.end()? {
            Some(to) => to,
            None => next_hour(now),
        };
        let from = self.time("from")?.unwrap_or(to - Duration::days(DEFAULT_RANGE_DAYS));
        Ok((from, to))
    }

    /// `order=asc|desc`, `default` when absent; anything else is a `400`.
    pub fn order(&self, default: SortOrder) -> Result<SortOrder, Problem> {
        match self.text("order").as_deref() {
            None => Ok(default),
            Some("asc") => Ok(SortOrder::Asc),
            Some("desc") => Ok(SortOrder::Desc),
            Some(_) => Err(Problem::bad_request("order", "must be asc or desc")),
        }
    }
}

/// The start of the whole UTC hour after the one holding `now` (`now` itself at the very end
/// of time).
fn next_hour(now: DateTime<Utc>) -> DateTime<Utc> {
    Interval::Hour
        .bucket_start(now)
        .checked_add_signed(Duration::hours(1))
        .unwrap_or(now)
}

/// One path segment (`{id}`, `{correlationId}`), `400` when it cannot be decoded.
#[derive(Debug, Clone)]
pub(crate) struct Segment(pub(crate) String);

impl<S: Send + Sync> FromRequestParts<S> for Segment {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Problem> {
        Path::<String>::from_request_parts(parts, state)
            .await
            .map(|Path(segment)| Self(segment))
            .map_err(|rejection: PathRejection| Problem::bad_request("path", rejection.body_text()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nesting_is_measured_outside_strings() {
        assert!(!too_deep(br#"{"a": [1, {"b": []}]}"#, 4));
        assert!(too_deep(br#"{"a": [1, {"b": []}]}"#, 3));
        assert!(!too_deep(br#"{"a": "[[[[[[\"[[[["}"#, 1));
        assert!(too_deep(&[b'['; 40], 32));
    }

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn the_default_range_ends_at_the_next_whole_hour() {
        let params = Params::default();
        let early = params.range_or_last_30_days_at(at("2026-03-05T13:00:00Z")).unwrap();
        let late = params.range_or_last_30_days_at(at("2026-03-05T13:59:59.999Z")).unwrap();
        assert_eq!(early, late, "two requests within one hour share their range");
        assert_eq!(early, (at("2026-02-03T14:00:00Z"), at("2026-03-05T14:00:00Z")));
        let next = params.range_or_last_30_days_at(at("2026-03-05T14:00:00Z")).unwrap();
        assert_eq!(next.1, at("2026-03-05T15:00:00Z"), "an instant on the hour is included");
        let before = Utc::now();
        let (from, to) = params.range_or_last_30_days().unwrap();
        let after = Utc::now();
        assert!(before < to && to <= after + Duration::hours(1), "{before} .. {to}");
        assert_eq!(to - from, Duration::days(DEFAULT_RANGE_DAYS));
    }

    #[test]
    fn given_bounds_are_kept() {
        let params = Params::from_query(Some("from=2026-01-01T00:30:00Z&to=2026-01-02T00:45:00Z"));
        let range = params.range_or_last_30_days_at(at("2026-03-05T13:20:00Z")).unwrap();
        assert_eq!(range, (at("2026-01-01T00:30:00Z"), at("2026-01-02T00:45:00Z")));
        let only_to = Params::from_query(Some("toInclusive=2026-01-02T00:45:00Z"));
        let (from, to) = only_to.range_or_last_30_days_at(at("2026-03-05T13:20:00Z")).unwrap();
        assert_eq!(to, inclusive_end(at("2026-01-02T00:45:00Z")));
        assert_eq!(to - from, Duration::days(DEFAULT_RANGE_DAYS));
    }
}
