//! A subscription group's whole life over real HTTP, run on every store: two consumers share
//! the streams, acknowledge, an event refused until parked is listed, replayed and acked, and
//! the group's checkpoint and parked list are where the store keeps them (the same after a
//! restart).

use std::collections::BTreeSet;
use std::time::Duration;

use hive_server::cli::take_sse_events;
use serde_json::{json, Value};

use super::{call, Running};

/// An open SSE connection of the service, read as a client reads it.
pub struct SseClient {
    response: reqwest::Response,
    buffer: String,
}

impl SseClient {
    /// `GET {base}{path}` as a feed (asserting `200 text/event-stream`).
    pub async fn open(base: &str, token: &str, path: &str) -> Self {
        let response = reqwest::Client::new()
            .get(format!("{base}{path}"))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{path}");
        assert_eq!(response.headers()["content-type"], "text/event-stream", "{path}");
        Self {
            response,
            buffer: String::new(),
        }
    }

    /// The `(id, event, data)` of the next event within `wait` (`None`: nothing came, or the
    /// feed ended).
    pub async fn next_within(&mut self, wait: Duration) -> Option<(u64, String, Value)> {
        loop {
            if let Some(event) = take_sse_events(&mut self.buffer).into_iter().next() {
                let id = event.id.map_or(0, |id| id.parse().unwrap());
                let data = serde_json::from_str(&event.data).unwrap_or(Value::Null);
                return Some((id, event.event.unwrap_or_default(), data));
            }
            let chunk = tokio::time::timeout(wait, self.response.chunk()).await.ok()?.ok()??;
            self.buffer.push_str(std::str::from_utf8(&chunk).unwrap());
        }
    }

    /// Whether the feed ends (the body closes, or breaks) within `wait`, nothing more sent.
    pub async fn ends_within(&mut self, wait: Duration) -> bool {
        matches!(
            tokio::time::timeout(wait, self.response.chunk()).await,
            Ok(Ok(None) | Err(_))
        )
    }

    /// The next event, within 10 s.
    pub async fn next(&mut self) -> (u64, String, Value) {
        self.next_within(Duration::from_secs(10))
            .await
            .expect("an event within 10 s")
    }

    /// Every event until none comes for `wait`.
    pub async fn until_quiet(&mut self, wait: Duration) -> Vec<(u64, String, Value)> {
        let mut events = Vec::new();
        while let Some(event) = self.next_within(wait).await {
            events.push(event);
        }
        events
    }
}

fn streams(events: &[(u64, String, Value)]) -> BTreeSet<String> {
    events
        .iter()
        .map(|(_, _, data)| data["aggregateId"].as_str().unwrap().to_owned())
        .collect()
}

/// Runs group `group`'s life on the service; answers the group as `GET /subscriptions/{group}`
/// shows it at the end (checkpoint at the head, one event parked then replayed: none parked).
pub async fn group_flow(server: &Running, token: &str, group: &str) -> Value {
    let base = &server.base;
    let post = |path: String, body: Value| call(reqwest::Method::POST, format!("{base}{path}"), token, Some(body));
    let events = format!("/subscriptions/{group}/events");
    let mut one = SseClient::open(base, token, &format!("{events}?consumer=one")).await;
    let mut two = SseClient::open(base, token, &format!("{events}?consumer=two")).await;
    let (_, before) = call(
        reqwest::Method::GET,
        format!("{base}/subscriptions/{group}"),
        token,
        None,
    )
    .await;
    let start = before["position"].as_u64().unwrap();
    for n in 0..8 {
        let id = format!("{group}-{n}");
        let body = json!({"paymentId": id, "amount": "10.00", "currency": "EUR", "description": "Grouped"});
        assert_eq!(post("/payments".into(), body).await.0, 201);
        assert_eq!(post(format!("/payments/{id}/process"), Value::Null).await.0, 200);
    }
    let quiet = Duration::from_millis(1500);
    let (got_one, got_two) = (one.until_quiet(quiet).await, two.until_quiet(quiet).await);
    assert_eq!(got_one.len() + got_two.len(), 16, "every event once");
    assert!(
        streams(&got_one).is_disjoint(&streams(&got_two)),
        "a stream goes to one consumer"
    );
    let last = |events: &[(u64, String, Value)]| events.iter().map(|(id, _, _)| *id).max().unwrap_or(0);
    for (consumer, got) in [("one", &got_one), ("two", &got_two)] {
        let (status, body) = post(
            format!("/subscriptions/{group}/ack"),
            json!({"position": last(got), "consumer": consumer}),
        )
        .await;
        assert_eq!(status, 200, "{body}");
    }
    let (_, acked) = call(
        reqwest::Method::GET,
        format!("{base}/subscriptions/{group}"),
        token,
        None,
    )
    .await;
    assert_eq!(acked["position"], start + 16, "{acked}");
    assert_eq!(acked["consumers"], json!(["one", "two"]));
    let mut both = [one, two];
    let (owner, parked_at) = refuse_until_parked(server, token, group, &mut both, "poison").await;
    let (_, list) = call(
        reqwest::Method::GET,
        format!("{base}/subscriptions/{group}/parked"),
        token,
        None,
    )
    .await;
    assert_eq!(list.as_array().map(Vec::len), Some(1), "{list}");
    assert_eq!(list[0]["position"], parked_at);
    let (_, replayed) = post(format!("/subscriptions/{group}/parked/replay"), json!({})).await;
    assert_eq!(replayed["count"], 1);
    let again = both[owner].next().await.0;
    assert_eq!(again, parked_at, "the replayed event is sent again");
    let (status, _) = post(format!("/subscriptions/{group}/ack"), json!({"position": parked_at})).await;
    assert_eq!(status, 200);
    let (_, end) = call(
        reqwest::Method::GET,
        format!("{base}/subscriptions/{group}"),
        token,
        None,
    )
    .await;
    assert_eq!(
        (end["parked"].clone(), end["position"].clone()),
        (json!(0), json!(parked_at)),
        "{end}"
    );
    // Another one parked, and left so.
    let (_, parked_at) = refuse_until_parked(server, token, group, &mut both, "poison-2").await;
    let (_, end) = call(
        reqwest::Method::GET,
        format!("{base}/subscriptions/{group}"),
        token,
        None,
    )
    .await;
    assert_eq!(
        (end["parked"].clone(), end["position"].clone()),
        (json!(1), json!(parked_at)),
        "{end}"
    );
    end
}

/// Creates payment `{group}-{name}` and refuses its event until it is parked (the default:
/// delivered 5 times); answers which client got it and its position.
async fn refuse_until_parked(
    server: &Running,
    token: &str,
    group: &str,
    clients: &mut [SseClient],
    name: &str,
) -> (usize, u64) {
    let base = &server.base;
    let post = |path: String, body: Value| call(reqwest::Method::POST, format!("{base}{path}"), token, Some(body));
    let body =
        json!({"paymentId": format!("{group}-{name}"), "amount": "1.00", "currency": "EUR", "description": "Poison"});
    assert_eq!(post("/payments".into(), body).await.0, 201);
    // The stream ranks first for one of them: it gets every delivery.
    let mut owner = None;
    let mut parked = None;
    for _ in 0..5 {
        let mut received = None;
        for (index, client) in clients.iter_mut().enumerate() {
            if owner.is_some_and(|owner| owner != index) {
                continue;
            }
            if let Some(event) = client.next_within(Duration::from_millis(1500)).await {
                received = Some(event);
                owner = Some(index);
                break;
            }
        }
        let (position, _, _) = received.expect("the refused event comes again");
        let (status, refusal) = post(
            format!("/subscriptions/{group}/nack"),
            json!({"position": position, "reason": name}),
        )
        .await;
        assert_eq!(status, 200, "{refusal}");
        parked = (refusal["parked"] == json!(true)).then_some(position);
    }
    (owner.unwrap(), parked.expect("parked after 5 deliveries"))
}

/// Runs [`group_flow`] on a service started with `layer` (its data directory `dir`), restarts
/// the service, and asserts that the group's checkpoint and parked event were kept.
pub async fn group_survives_a_restart(layer: hive_server::config::Layer, dir: &std::path::Path) {
    let server = super::start(layer.clone()).await;
    let token = super::token(dir);
    let before = group_flow(&server, &token, "ledger").await;
    server.stop().await;
    let server = super::start(layer).await;
    let (_, after) = call(
        reqwest::Method::GET,
        format!("{}/subscriptions/ledger", server.base),
        &token,
        None,
    )
    .await;
    assert_eq!(
        (&after["position"], &after["parked"]),
        (&before["position"], &before["parked"]),
        "{after}"
    );
    let (_, list) = call(
        reqwest::Method::GET,
        format!("{}/subscriptions/ledger/parked", server.base),
        &token,
        None,
    )
    .await;
    assert_eq!(list[0]["position"], before["position"], "{list}");
    server.stop().await;
}
