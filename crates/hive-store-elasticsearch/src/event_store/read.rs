//! Reading a stream whole (commits by `search_after`, the unrefreshed tail by realtime GET)
//! and the global log.

use elasticsearch::http::Method;
use futures::stream::{self, StreamExt};
use hive_domain::{EventEnvelope, EventStream, StoreResult};
use serde_json::json;

use crate::http::Body;
use crate::EsResult;

use super::commit::{commit_id, CommitDoc};
use super::EsEventStore;
use crate::search::{hits, parse_source};

/// Commits fetched per search page.
pub(crate) const COMMIT_PAGE: usize = 100;

/// Where the next page of a stream comes from.
enum Next {
    /// The next search page: after this `fromVersion`, expecting a commit starting there.
    Search {
        after: Option<u64>,
        expect: Option<u64>,
    },
    /// Realtime GET of the commit starting at this version.
    Walk(u64),
    Done,
}

pub(super) fn stream<'a>(store: &'a EsEventStore, aggregate_id: &'a str, from_version: u64) -> EventStream<'a> {
    let start = Next::Search {
        after: None,
        expect: None,
    };
    stream::unfold(start, move |next| async move {
        let (events, next) = match step(store, aggregate_id, from_version, next).await {
            Ok(Some(page)) => page,
            Ok(None) => return None,
            Err(e) => return Some((vec![Err(e.into())], Next::Done)),
        };
        let events: Vec<StoreResult<EventEnvelope>> = events
            .into_iter()
            .filter(|e| e.version >= from_version)
            .map(Ok)
            .collect();
        Some((events, next))
    })
    .flat_map(stream::iter)
    .boxed()
}

async fn step(
    store: &EsEventStore,
    aggregate_id: &str,
    from_version: u64,
    next: Next,
) -> EsResult<Option<(Vec<EventEnvelope>, Next)>> {
    match next {
        Next::Done => Ok(None),
        Next::Walk(at) => match store.get_commit(&commit_id(aggregate_id, at)).await? {
            Some(commit) => Ok(Some((commit.positioned_events(), Next::Walk(commit.to_version)))),
            None => Ok(None),
        },
        Next::Search { after, expect } => {
            let page = store
                .search_commits(aggregate_id, from_version, after, COMMIT_PAGE)
                .await?;
            let full = page.len() == COMMIT_PAGE;
            let mut events = Vec::new();
            let mut expect = expect;
            let mut last_from = after;
            for commit in page {
                let chained = match expect {
                    Some(want) => commit.from_version == want,
                    // The first commit must hold `from_version` (or start the stream).
                    None => commit.from_version == 0 || commit.from_version < from_version,
                };
                if !chained {
                    // A hole in the near-real-time view: finish with realtime GETs.
                    return Ok(Some((events, Next::Walk(expect.unwrap_or(0)))));
                }
                expect = Some(commit.to_version);
                last_from = Some(commit.from_version);
                events.extend(with_position(store, commit).await?);
            }
            let next = if full {
                Next::Search {
                    after: last_from,
                    expect,
                }
            } else {
                Next::Walk(expect.unwrap_or(0))
            };
            Ok(Some((events, next)))
        }
    }
}

/// A commit's events; a commit the search saw before its position was set is re-read.
async fn with_position(store: &EsEventStore, commit: CommitDoc) -> EsResult<Vec<EventEnvelope>> {
    if commit.position.is_some() {
        return Ok(commit.positioned_events());
    }
    let fresh = store.get_commit(&commit.id()).await?.unwrap_or(commit);
    Ok(fresh.positioned_events())
}

impl EsEventStore {
    /// Up to `limit` published events after `after`, in position order, stopping at a hole.
    pub(crate) async fn global_log(&self, after: u64, limit: usize) -> EsResult<Vec<EventEnvelope>> {
        let size = limit.clamp(1, 10_000);
        let body = json!({
            "size": size,
            "track_total_hits": false,
            "query": {"range": {"globalPosition": {"gt": after}}},
            "sort": [{"globalPosition": "asc"}]
        });
        let path = format!("/{}/_search", self.options.events_index);
        let reply = self
            .client
            .send_checked(Method::Post, &path, &[], Some(Body::Json(body)), &[])
            .await?;
        let mut out: Vec<EventEnvelope> = Vec::new();
        for hit in hits(&reply.body, &path)? {
            let event: EventEnvelope = parse_source(hit, &path)?;
            let want = after + out.len() as u64 + 1;
            if event.global_position != Some(want) {
                break;
            }
            out.push(event);
        }
        Ok(out)
    }
}
