//! The NATS connector of `hive serve` (`connector = "nats"`) with real processes: the service
//! killed with SIGKILL under HTTP write load and restarted, round after round; then the
//! nats-server killed with SIGKILL mid-stream and restarted on the same port and store. At the
//! end every event the store committed is in the JetStream stream, in order per stream, each
//! message's `Nats-Msg-Id` its event's id, a second copy only of an event already there
//! (JetStream's duplicate window drops them: none is expected).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::load::{kill_under_load, load};
use common::nats::{connector_env, wait_for_all, OwnNats};
use common::process::Process;
use common::token;
use hive_connector_nats::{NatsOptions, StoredMessage};
use hive_domain::{EventEnvelope, EventStore};
use hive_store_memory::{DurableOptions, MemoryEventStore};

/// The durable store, synced before each answer, with the connector on.
fn service_env(connector: &[(&'static str, String)]) -> Vec<(&'static str, String)> {
    let mut env = vec![
        ("HIVE_STORE", "memory-durable".to_owned()),
        ("HIVE_FSYNC", "always".to_owned()),
    ];
    env.extend_from_slice(connector);
    env
}

/// Takes payments through their life (created, processed, refunded twice: four events in one
/// stream) one request after the other until `stop` or until the service is gone; how many
/// requests were answered 2xx.
async fn lifecycles(base: String, token: String, prefix: String, stop: Arc<AtomicBool>) -> usize {
    let client = reqwest::Client::new();
    let mut answered = 0;
    for i in 0.. {
        let id = format!("{prefix}-life-{i}");
        let steps = [
            (
                "payments".to_owned(),
                Some(serde_json::json!({"paymentId": id, "amount": "10.00", "currency": "EUR", "description": "Life"})),
            ),
            (format!("payments/{id}/process"), None),
            (
                format!("payments/{id}/refund"),
                Some(serde_json::json!({"amount": "1.00"})),
            ),
            (
                format!("payments/{id}/refund"),
                Some(serde_json::json!({"amount": "2.00"})),
            ),
        ];
        for (path, body) in steps {
            if stop.load(Ordering::Relaxed) {
                return answered;
            }
            let mut request = client.post(format!("{base}/{path}")).bearer_auth(&token);
            if let Some(body) = body {
                request = request.json(&body);
            }
            match request.send().await {
                Ok(response) if response.status().is_success() => answered += 1,
                Ok(response) => assert!(stop.load(Ordering::Relaxed), "{path}: {}", response.status()),
                Err(_) => return answered,
            }
        }
    }
    answered
}

/// `/readyz`'s status and its `nats` check, once that check is `expected` or after 10 s (the
/// client notices a lost or a regained server within about a second).
async fn readyz_nats(base: &str, expected: &str) -> (u16, serde_json::Value) {
    let give_up = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let response = reqwest::get(format!("{base}/readyz")).await.unwrap();
        let status = response.status().as_u16();
        let body: serde_json::Value = response.json().await.unwrap();
        let nats = body["checks"]["nats"].clone();
        if nats["status"] == expected || std::time::Instant::now() > give_up {
            return (status, nats);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Every event the durable store in `dir` holds (the service must be stopped).
async fn committed(dir: &Path) -> Vec<EventEnvelope> {
    let store = MemoryEventStore::open(dir, DurableOptions::default()).await.unwrap();
    let mut events = Vec::new();
    loop {
        let page = store.read_all(events.len() as u64, 1000).await.unwrap();
        if page.is_empty() {
            break;
        }
        events.extend(page);
    }
    events
}

/// Restarts the service until the stream holds every committed event, then checks it all.
async fn check_everything_published(dir: &Path, env: &[(&'static str, String)], options: &NatsOptions) {
    let events = committed(dir).await;
    assert!(!events.is_empty());
    let service = Process::start(dir, env).await;
    let messages = wait_for_all(options, events.len(), Duration::from_secs(90)).await;
    service.kill();
    check(&events, &messages);
}

/// Every committed event is in the stream; per stream in version order; each message id is its
/// event's id; a repeated id carries the same event.
fn check(events: &[EventEnvelope], messages: &[StoredMessage]) {
    let mut first: HashMap<&str, &StoredMessage> = HashMap::new();
    let mut duplicates = 0;
    for message in messages {
        let id = message.message_id.as_deref().expect("every message has a Nats-Msg-Id");
        assert_eq!(id, message.event.event_id.to_string(), "the message id is the event id");
        if let Some(earlier) = first.insert(id, message) {
            assert_eq!(earlier.event, message.event, "a duplicate carries the same event");
            duplicates += 1;
        }
    }
    let published: BTreeSet<String> = first.keys().map(|id| (*id).to_owned()).collect();
    let stored: BTreeSet<String> = events.iter().map(|e| e.event_id.to_string()).collect();
    let lost: Vec<_> = stored.difference(&published).collect();
    assert!(
        lost.is_empty(),
        "{} committed events never reached JetStream: {lost:?}",
        lost.len()
    );
    let foreign: Vec<_> = published.difference(&stored).collect();
    assert!(
        foreign.is_empty(),
        "JetStream holds events the store does not: {foreign:?}"
    );
    // Every republication happened within the stream's duplicate window (2 minutes): JetStream
    // dropped them all.
    assert_eq!(
        duplicates, 0,
        "copies JetStream should have dropped within its duplicate window"
    );
    // Per stream, in version order (each event's first copy).
    let mut versions: BTreeMap<&str, u64> = BTreeMap::new();
    let mut seen = BTreeSet::new();
    let mut in_global_order = true;
    let mut last_position = 0;
    for message in messages {
        if !seen.insert(message.event.event_id) {
            continue;
        }
        let last = versions.entry(message.event.aggregate_id.as_str()).or_default();
        assert_eq!(
            message.event.version,
            *last + 1,
            "stream {} out of order",
            message.event.aggregate_id
        );
        *last = message.event.version;
        let position = message.event.global_position.unwrap_or_default();
        in_global_order &= position > last_position;
        last_position = position;
    }
    eprintln!(
        "{} committed events, {} messages in JetStream ({duplicates} duplicates), {} streams in order; global order {}",
        events.len(),
        messages.len(),
        versions.len(),
        if in_global_order { "kept" } else { "NOT kept" }
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_event_reaches_jetstream_across_sigkills_of_the_service() {
    let Some(url) = hive_testkit::backend::url(hive_testkit::backend::NATS) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (connector, options) = connector_env(&url);
    let env = service_env(&connector);
    let mut acked = BTreeSet::new();
    for round in 0..4 {
        let service = Process::start(dir.path(), &env).await;
        let stop = Arc::new(AtomicBool::new(false));
        let life = tokio::spawn(lifecycles(
            service.base.clone(),
            token(dir.path()),
            format!("nats-{round}"),
            stop.clone(),
        ));
        acked.extend(kill_under_load(service, token(dir.path()), format!("nats-{round}")).await);
        stop.store(true, Ordering::Relaxed);
        life.await.unwrap();
        eprintln!("round {round}: SIGKILL; {} payments acknowledged so far", acked.len());
    }
    let events = committed(dir.path()).await;
    let created: BTreeSet<String> = events
        .iter()
        .filter(|e| e.event_type == "PaymentCreated")
        .map(|e| e.aggregate_id.clone())
        .collect();
    // Streams are `{organization}/{paymentId}` (the development token's organization).
    let missing: Vec<_> = acked
        .iter()
        .filter(|id| !created.contains(&format!("org-dev/{id}")))
        .collect();
    assert!(missing.is_empty(), "acknowledged payments not committed: {missing:?}");
    check_everything_published(dir.path(), &env, &options).await;
    common::nats::delete_stream(&options).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_event_reaches_jetstream_across_sigkills_of_the_broker() {
    let broker_dir = tempfile::tempdir().unwrap();
    let Some(mut nats) = OwnNats::start(broker_dir.path()) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (connector, options) = connector_env(&nats.url());
    let env = service_env(&connector);
    let service = Process::start(dir.path(), &env).await;
    let stop = Arc::new(AtomicBool::new(false));
    let writers = tokio::spawn(load(
        service.base.clone(),
        token(dir.path()),
        "broker".into(),
        stop.clone(),
    ));
    let life = tokio::spawn(lifecycles(
        service.base.clone(),
        token(dir.path()),
        "broker".into(),
        stop.clone(),
    ));
    for round in 0..3 {
        tokio::time::sleep(Duration::from_millis(300 + common::process::random_below(400))).await;
        nats.kill();
        eprintln!("round {round}: nats-server SIGKILLed");
        if round == 1 {
            // Still ready (the API takes writes), the connector reported degraded.
            let (status, nats) = readyz_nats(&service.base, "degraded").await;
            assert_eq!(status, 200);
            assert_eq!(nats["status"], "degraded", "{nats}");
            eprintln!("/readyz while the broker is down: {nats}");
        }
        // Round 1 outlasts the publish acknowledgement timeout (10 s): the page fails, and is
        // published again once the broker is back; the others are shorter than it.
        let down = if round == 1 {
            11_000
        } else {
            500 + common::process::random_below(1000)
        };
        tokio::time::sleep(Duration::from_millis(down)).await;
        nats.restart();
        eprintln!("round {round}: nats-server restarted");
        if round == 1 {
            let (_, nats) = readyz_nats(&service.base, "up").await;
            assert_eq!(nats["status"], "up", "{nats}");
            assert!(
                nats["backend"].as_str().is_some_and(|b| b.starts_with("nats-server ")),
                "{nats}"
            );
        }
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    stop.store(true, Ordering::Relaxed);
    let acked = writers.await.unwrap();
    assert!(!acked.is_empty());
    assert!(life.await.unwrap() > 0);
    // Until the service is killed, the connector catches up; then the store is read.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let stderr = service.kill();
    eprintln!(
        "{} payments acknowledged while the broker was killed 3 times; the connector {}",
        acked.len(),
        if stderr.contains("connector failed; retrying") {
            "logged failures and retried"
        } else {
            "saw no failed page"
        }
    );
    check_everything_published(dir.path(), &env, &options).await;
}
