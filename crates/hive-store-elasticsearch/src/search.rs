//! Reading `_search` answers, shared by every adapter of the crate: the hits, their sources,
//! and walking every match with `search_after`.

use elasticsearch::http::Method;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::http::{Body, EsClient};
use crate::{EsError, EsResult};

/// Elasticsearch's default `index.max_result_window`: `from + size` may not exceed it.
pub(crate) const MAX_RESULT_WINDOW: u64 = 10_000;

/// `hits.hits` of a search answer.
pub(crate) fn hits<'a>(body: &'a Value, what: &str) -> EsResult<&'a Vec<Value>> {
    body.pointer("/hits/hits")
        .and_then(Value::as_array)
        .ok_or_else(|| EsError::decode(what, "no `hits.hits` array"))
}

/// `_source` of a hit or GET answer; an error names the document (`_id`).
pub(crate) fn source<'a>(hit: &'a Value, what: &str) -> EsResult<&'a Value> {
    hit.get("_source").ok_or_else(|| {
        let id = hit.get("_id").and_then(Value::as_str).unwrap_or("?");
        EsError::decode(what, format!("document `{id}`: no `_source`"))
    })
}

/// `_source` of a hit or GET answer, deserialised; an error names the document (`_id`).
pub(crate) fn parse_source<T: DeserializeOwned>(hit: &Value, what: &str) -> EsResult<T> {
    let id = hit.get("_id").and_then(Value::as_str).unwrap_or("?");
    serde_json::from_value(source(hit, what)?.clone())
        .map_err(|e| EsError::decode(what, format!("document `{id}`: {e}")))
}

/// The `_source` of the first hit of `body` (a search with its own `size`, query and sort) on
/// `index`, or `None` when nothing matches.
pub(crate) async fn first_source<T: DeserializeOwned>(
    client: &EsClient,
    index: &str,
    body: Value,
) -> EsResult<Option<T>> {
    let path = format!("/{index}/_search");
    let reply = client
        .send_checked(Method::Post, &path, &[], Some(Body::Json(body)), &[])
        .await?;
    hits(&reply.body, &path)?
        .first()
        .map(|hit| parse_source(hit, &path))
        .transpose()
}

/// Every hit of the search `body` on `index`, `page` hits a request, walked with
/// `search_after`: `body` must hold the query and a `sort` ending on a unique key; `size`,
/// `track_total_hits` and `search_after` are set here.
pub(crate) async fn all_hits(client: &EsClient, index: &str, mut body: Value, page: usize) -> EsResult<Vec<Value>> {
    let path = format!("/{index}/_search");
    body["size"] = page.into();
    body["track_total_hits"] = false.into();
    let mut out = Vec::new();
    loop {
        let reply = client
            .send_checked(Method::Post, &path, &[], Some(Body::Json(body.clone())), &[])
            .await?;
        let found = hits(&reply.body, &path)?;
        let after = found.last().and_then(|hit| hit.get("sort")).cloned();
        let full = found.len() == page;
        out.extend(found.iter().cloned());
        match after {
            Some(after) if full => body["search_after"] = after,
            _ => return Ok(out),
        }
    }
}
