//! The whole billing flow over HTTP, and the answers of every query about it: shared by the
//! tests that run it on several backends (or across a restart) and compare what they answer.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, SecondsFormat, Utc};
use reqwest::Method;
use serde_json::{json, Value};

use super::{call, Running};

/// The correlation id of the flow's command chain (two payments, five events).
pub const CHAIN: &str = "flow-chain-1";

/// The event types the flow stores.
pub const EVENT_TYPES: [&str; 4] = ["PaymentCreated", "PaymentProcessed", "PaymentRefunded", "PaymentFailed"];

/// What [`billing_flow`] did: each payment's id and final version, a time range covering it,
/// and how many events it stored.
#[derive(Debug, Clone)]
pub struct Flow {
    /// `(paymentId, version)` of every payment stored.
    pub payments: Vec<(&'static str, u64)>,
    /// Before the first command.
    pub from: DateTime<Utc>,
    /// After the last command.
    pub to: DateTime<Utc>,
    /// Events stored.
    pub events: u64,
}

impl Flow {
    /// `from`/`to` query parameters covering the flow.
    fn range(&self) -> Vec<(&'static str, String)> {
        let at = |t: DateTime<Utc>| t.to_rfc3339_opts(SecondsFormat::Millis, true);
        vec![("from", at(self.from)), ("to", at(self.to))]
    }
}

/// `GET path?params` on `server`: the status and the JSON answer.
pub async fn get(server: &Running, token: &str, path: &str, params: &[(&str, String)]) -> (u16, Value) {
    let url = reqwest::Url::parse_with_params(&format!("{}{path}", server.base), params).unwrap();
    call(Method::GET, url.to_string(), token, None).await
}

/// [`get`] answering `200`: its answer.
pub async fn get_ok(server: &Running, token: &str, path: &str, params: &[(&str, String)]) -> Value {
    let (status, answer) = get(server, token, path, params).await;
    assert_eq!(status, 200, "GET {path} {params:?}: {answer}");
    answer
}

/// `POST path` with `body` under the correlation id `correlation` (checked to be echoed) and an
/// optional `Idempotency-Key`: the status and the JSON answer.
async fn post(
    server: &Running,
    token: &str,
    path: &str,
    body: &Value,
    correlation: &str,
    key: Option<&str>,
) -> (u16, Value) {
    let mut request = reqwest::Client::new()
        .post(format!("{}{path}", server.base))
        .bearer_auth(token)
        .header("X-Correlation-Id", correlation)
        .json(body);
    if let Some(key) = key {
        request = request.header("Idempotency-Key", key);
    }
    let response = request.send().await.unwrap();
    assert_eq!(response.headers()["x-correlation-id"], correlation, "POST {path}");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// The flow's payments: id, amount, currency, description, tag.
const PAYMENTS: [(&str, &str, &str, &str, &str); 7] = [
    ("pay-flow-1", "100.00", "EUR", "Cloud hosting invoice, March", "hosting"),
    ("pay-flow-2", "250.50", "USD", "Cloud hosting invoice, April", "hosting"),
    (
        "pay-flow-3",
        "12.345",
        "KWD",
        "Cloud hosting invoice, Kuwait region",
        "hosting",
    ),
    ("pay-flow-4", "19.99", "USD", "Object storage", "storage"),
    ("pay-flow-5", "42", "EUR", "Managed database backup", "database"),
    ("pay-flow-6", "75.10", "EUR", "Cloud hosting invoice, March", "cloud"),
    ("pay-flow-x", "1.001", "EUR", "Too precise", "none"),
];

/// The commands after the first one: payment id, action (`create`, `process`, `refund <amount>`
/// or `fail <reason>`), the expected status, and the payment's `status` or the problem's `code`.
const STEPS: [(&str, &str, u16, &str); 15] = [
    ("pay-flow-1", "process", 200, "completed"),
    ("pay-flow-6", "create", 201, "pending"),
    ("pay-flow-6", "process", 200, "completed"),
    ("pay-flow-1", "refund 30.00", 200, "partially_refunded"),
    ("pay-flow-1", "refund 80.00", 422, "refund_exceeds_remaining"),
    ("pay-flow-2", "create", 201, "pending"),
    ("pay-flow-2", "process", 200, "completed"),
    ("pay-flow-2", "refund 250.50", 200, "refunded"),
    ("pay-flow-3", "create", 201, "pending"),
    ("pay-flow-3", "process", 200, "completed"),
    ("pay-flow-4", "create", 201, "pending"),
    ("pay-flow-4", "fail card declined", 200, "failed"),
    ("pay-flow-4", "process", 422, "payment_not_pending"),
    ("pay-flow-5", "create", 201, "pending"),
    // Refused by the message's validation (400), before the domain's `amount_too_precise`.
    ("pay-flow-x", "create", 400, "validation_failed"),
];

/// The `POST /payments` body of payment `id` of [`PAYMENTS`].
fn payment(id: &str) -> Value {
    let (_, amount, currency, description, tag) = PAYMENTS.iter().find(|p| p.0 == id).unwrap();
    json!({"paymentId": id, "amount": amount, "currency": currency, "description": description, "tags": [tag]})
}

/// Runs the billing flow on `server` ([`PAYMENTS`], [`STEPS`]): six payments in EUR, USD and
/// KWD (three decimals), four of them "Cloud hosting invoice, …"; processed, refunded in part
/// and in full, failed, one left pending; an idempotent create repeated; refused commands.
/// `pay-flow-1` and `pay-flow-6` are commanded under the correlation id [`CHAIN`], each other
/// payment under `flow-<its id>`.
pub async fn billing_flow(server: &Running, token: &str) -> Flow {
    let from = Utc::now() - chrono::Duration::minutes(1);
    let mut first = payment("pay-flow-1");
    first["metadata"] = json!({"invoice": "INV-FLOW-1"});
    let (status, created) = post(server, token, "/payments", &first, CHAIN, Some("flow-create-1")).await;
    assert_eq!((status, &created["status"]), (201, &json!("pending")), "{created}");
    let (status, again) = post(server, token, "/payments", &first, CHAIN, Some("flow-create-1")).await;
    assert_eq!(
        (status, &again),
        (201, &created),
        "an Idempotency-Key repeated answers the same"
    );

    for (id, action, expected, outcome) in STEPS {
        let correlation = match id {
            "pay-flow-1" | "pay-flow-6" => CHAIN.to_owned(),
            _ => format!("flow-{id}"),
        };
        let (verb, argument) = action.split_once(' ').unwrap_or((action, ""));
        let (path, body) = match verb {
            "create" => ("/payments".to_owned(), payment(id)),
            "refund" => (format!("/payments/{id}/refund"), json!({"amount": argument})),
            "fail" => (format!("/payments/{id}/fail"), json!({"error": argument})),
            _ => (format!("/payments/{id}/{verb}"), json!({})),
        };
        let (status, answer) = post(server, token, &path, &body, &correlation, None).await;
        assert_eq!(status, expected, "POST {path} {body}: {answer}");
        let field = if status < 300 { "status" } else { "code" };
        assert_eq!(answer[field], outcome, "POST {path} {body}: {answer}");
    }
    let amounts = [("pay-flow-3", "amount", "12.345"), ("pay-flow-5", "amount", "42.00")];
    let refunds = [
        ("pay-flow-1", "refundAmount", "30.00"),
        ("pay-flow-2", "refundAmount", "250.50"),
    ];
    for (id, field, amount) in amounts.into_iter().chain(refunds) {
        let payment = get_ok(server, token, &format!("/payments/{id}"), &[]).await;
        assert_eq!(payment[field], amount, "{payment}");
    }
    let (status, missing) = get(server, token, "/payments/pay-flow-x", &[]).await;
    assert_eq!(status, 404, "{missing}");

    let payments = vec![
        ("pay-flow-1", 3),
        ("pay-flow-2", 3),
        ("pay-flow-3", 2),
        ("pay-flow-4", 2),
        ("pay-flow-5", 1),
        ("pay-flow-6", 2),
    ];
    let events = payments.iter().map(|(_, version)| version).sum();
    let to = Utc::now() + chrono::Duration::minutes(1);
    Flow {
        payments,
        from,
        to,
        events,
    }
}

/// The `(paymentId, version)` of the items of a listing or search answer, sorted.
fn versions(answer: &Value) -> Vec<(String, u64)> {
    let mut found = versions_in_order(answer);
    found.sort();
    found
}

/// Polls (bounded: 20 s) until the projections and the indices have caught up with `flow`: the
/// listing (read model) and the match-all search (search index) hold every payment at its
/// final version, and the event search finds every event (Elasticsearch searches are
/// near-real-time, and projections run after the command returns).
pub async fn settle(server: &Running, token: &str, flow: &Flow) {
    let expected: Vec<(String, u64)> = flow.payments.iter().map(|(id, v)| ((*id).to_owned(), *v)).collect();
    let size = vec![("size", "100".to_owned())];
    let mut last = Value::Null;
    for _ in 0..200 {
        let listed = get_ok(server, token, "/payments", &[("limit", "100".to_owned())]).await;
        let searched = get_ok(server, token, "/payments/search", &size).await;
        let range = [flow.range(), size.clone()].concat();
        let events = get_ok(server, token, "/events/search", &range).await;
        if versions(&listed) == expected && versions(&searched) == expected && events["total"] == flow.events {
            return;
        }
        last = json!({"listed": listed, "searched": searched, "eventsTotal": events["total"]});
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!(
        "the projections did not catch up with the flow ({expected:?}, {} events): {last}",
        flow.events
    );
}

/// The answers of every deterministic query about `flow`, keyed by query: each payment, the
/// organization's listing, payment statistics and trends over the flow's range, each
/// payment's history and replays (latest and version 1), the event search by type and by
/// metadata text, the chain's timeline and correlations, event statistics, trends (hour and
/// day) and heatmap. Call [`settle`] first.
pub async fn answers(server: &Running, token: &str, flow: &Flow) -> Value {
    let range = flow.range();
    let with = |extra: &[(&'static str, &str)]| {
        let extra = extra.iter().map(|(k, v)| (*k, (*v).to_owned()));
        range.iter().cloned().chain(extra).collect::<Vec<_>>()
    };
    // (where in the answers, path, parameters)
    let mut queries = vec![
        (
            "list".to_owned(),
            "/payments".to_owned(),
            vec![("limit", "100".to_owned())],
        ),
        ("statistics".into(), "/payments/statistics".into(), with(&[])),
        ("trends".into(), "/payments/trends".into(), with(&[])),
        (
            "events/q=INV-FLOW-1".into(),
            "/events/search".into(),
            with(&[("q", "INV-FLOW-1")]),
        ),
        ("timeline".into(), format!("/events/timeline/{CHAIN}"), vec![]),
        ("correlations".into(), format!("/events/correlations/{CHAIN}"), vec![]),
        ("eventStatistics".into(), "/events/statistics".into(), with(&[])),
        (
            "eventTrends/hour".into(),
            "/events/trends".into(),
            with(&[("interval", "hour")]),
        ),
        (
            "eventTrends/day".into(),
            "/events/trends".into(),
            with(&[("interval", "day")]),
        ),
        ("heatmap".into(), "/events/heatmap".into(), with(&[])),
    ];
    for (id, _) in &flow.payments {
        queries.push((format!("payments/{id}"), format!("/payments/{id}"), vec![]));
        queries.push((format!("histories/{id}"), format!("/payments/{id}/history"), vec![]));
        queries.push((format!("replays/{id}/latest"), format!("/payments/{id}/replay"), vec![]));
        let first = vec![("version", "1".to_owned())];
        queries.push((
            format!("replays/{id}/version1"),
            format!("/payments/{id}/replay"),
            first,
        ));
    }
    for event_type in EVENT_TYPES {
        let params = with(&[("eventType", event_type), ("size", "100")]);
        queries.push((format!("events/{event_type}"), "/events/search".into(), params));
    }
    let mut answers = json!({});
    for (key, path, params) in queries {
        let answer = get_ok(server, token, &path, &params).await;
        // Indexing a `null` by a string makes it an object.
        *key.split('/').fold(&mut answers, |slot, part| &mut slot[part]) = answer;
    }
    answers
}

/// The `(paymentId, version)` of the items of a listing or search answer, in its order.
fn versions_in_order(answer: &Value) -> Vec<(String, u64)> {
    let items = answer["items"].as_array().cloned().unwrap_or_default();
    let id = |i: &Value| i["paymentId"].as_str().unwrap_or("").to_owned();
    items
        .iter()
        .map(|i| (id(i), i["version"].as_u64().unwrap_or(0)))
        .collect()
}

/// The searches [`search_answers`] checks (query string, `pay-flow-<n>` found).
const SEARCHES: [(&str, &str); 6] = [
    ("q=clod hostin", "1 2 3 6"),
    ("status=failed", "4"),
    ("currency=USD", "2 4"),
    ("q=clod hostin&currency=EUR", "1 6"),
    ("minAmount=50&maxAmount=200", "1 6"),
    ("status=refunded,partially_refunded", "1 2"),
];

/// Checks the full-text search and the suggestions on the flow's payments ([`SEARCHES`]: a
/// typo'd query, status, currency and amount filters; completions of `clo`) and returns the
/// ids each search found (sorted when ranked by relevance) and the suggestions. Call [`settle`]
/// first.
pub async fn search_answers(server: &Running, token: &str) -> Value {
    let mut found = BTreeMap::new();
    for (query, expected) in SEARCHES {
        let params: Vec<(&str, String)> = query
            .split('&')
            .filter_map(|pair| pair.split_once('='))
            .map(|(k, v)| (k, v.to_owned()))
            .collect();
        let answer = get_ok(server, token, "/payments/search", &params).await;
        let ids: Vec<String> = versions_in_order(&answer).into_iter().map(|(id, _)| id).collect();
        let mut sorted = ids.clone();
        sorted.sort();
        let expected: Vec<String> = expected.split(' ').map(|n| format!("pay-flow-{n}")).collect();
        assert_eq!(sorted, expected, "search {query}: {answer}");
        assert_eq!(answer["total"], expected.len(), "search {query}: {answer}");
        // Full-text relevance is each engine's own (BM25 on Elasticsearch): only the filters'
        // order (no `q`) is the same everywhere.
        found.insert(query, if query.starts_with("q=") { sorted } else { ids });
    }
    let suggested = get_ok(server, token, "/payments/suggestions", &[("q", "clo".into())]).await;
    let first = &suggested["items"][0]["text"];
    assert_eq!(first, "Cloud hosting invoice, March", "two payments: {suggested}");
    let items = suggested["items"].as_array().cloned().unwrap_or_default();
    let mut texts: Vec<&str> = items.iter().filter_map(|i| i["text"].as_str()).collect();
    texts.sort_unstable();
    let descriptions = ["April", "Kuwait region", "March"].map(|d| format!("Cloud hosting invoice, {d}"));
    assert_eq!(texts, descriptions, "suggestions of `clo`: {suggested}");
    json!({"search": found, "suggestions": suggested})
}
