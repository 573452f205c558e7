//! An SSE feed of the router read frame by frame, as a client reads it.

use std::time::Duration;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;

use super::TestApp;

/// One SSE event as a client sees it (a `reconnect` event has `id` 0).
#[derive(Debug)]
pub struct Sse {
    pub id: u64,
    pub event: String,
    pub data: Value,
}

/// An open feed, read as the client consumes it.
pub struct Feed {
    body: Body,
    buffer: String,
    /// The `Hive-Consumer` header of the answer.
    pub consumer: Option<String>,
}

impl Feed {
    pub async fn open(app: &TestApp, token: &str, uri: &str, last_event_id: Option<&str>) -> Feed {
        let mut builder = Request::builder()
            .uri(uri)
            .header(header::AUTHORIZATION, format!("Bearer {token}"));
        if let Some(id) = last_event_id {
            builder = builder.header("last-event-id", id);
        }
        let response = app
            .router
            .clone()
            .oneshot(builder.body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{uri}");
        assert_eq!(response.headers()[header::CONTENT_TYPE], "text/event-stream", "{uri}");
        let consumer = response
            .headers()
            .get("hive-consumer")
            .map(|v| v.to_str().unwrap().to_owned());
        Feed {
            body: response.into_body(),
            buffer: String::new(),
            consumer,
        }
    }

    /// The next event (keep-alive comments skipped), `None` when the stream ends or nothing
    /// comes within `wait`.
    pub async fn next_within(&mut self, wait: Duration) -> Option<Sse> {
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                let field = |name: &str| {
                    block
                        .lines()
                        .find_map(|line| line.strip_prefix(&format!("{name}:")))
                        .map(|v| v.trim_start().to_owned())
                };
                let (Some(event), Some(data)) = (field("event"), field("data")) else {
                    continue;
                };
                return Some(Sse {
                    id: field("id").map_or(0, |id| id.parse().unwrap()),
                    event,
                    data: serde_json::from_str(&data).unwrap(),
                });
            }
            let frame = tokio::time::timeout(wait, self.body.frame()).await.ok()??.unwrap();
            if let Ok(bytes) = frame.into_data() {
                self.buffer.push_str(std::str::from_utf8(&bytes).unwrap());
            }
        }
    }

    pub async fn next(&mut self) -> Sse {
        self.next_within(Duration::from_secs(5))
            .await
            .expect("an event within 5 s")
    }

    /// Every event until the stream ends (`live=false`).
    pub async fn all(mut self) -> Vec<Sse> {
        let mut events = Vec::new();
        while let Some(event) = self.next_within(Duration::from_secs(5)).await {
            events.push(event);
        }
        events
    }

    /// Every event that comes within `wait` of the previous one.
    pub async fn until_quiet(&mut self, wait: Duration) -> Vec<Sse> {
        let mut events = Vec::new();
        while let Some(event) = self.next_within(wait).await {
            events.push(event);
        }
        events
    }
}

pub fn ids(events: &[Sse]) -> Vec<u64> {
    events.iter().map(|e| e.id).collect()
}
