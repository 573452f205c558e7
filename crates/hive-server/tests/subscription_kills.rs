//! Consumers of a subscription group as real processes (`hive events follow`), killed with
//! SIGKILL mid-stream in turn with the service itself, while payments are written over HTTP:
//! at the end every committed event was printed by some consumer, each stream's events in
//! order, and an event printed twice is the same event (same position, same id, same body).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use common::postgres::Schema;
use common::process::{free_port, Follower, Process, ServiceStore as Store};
use common::{call, token};
use hive_server::cli::take_sse_events;
use serde_json::{json, Value};

/// Creates and processes payment `id` (two events), retrying while the service is down (a
/// request cut by a kill may have been done: then the retry is refused as done already).
async fn write(base: &str, token: &str, id: &str) {
    let create = json!({"paymentId": id, "amount": "10.00", "currency": "EUR", "description": "Followed"});
    for (path, body) in [
        ("/payments".to_owned(), Some(create)),
        (format!("/payments/{id}/process"), None),
    ] {
        let give_up = Instant::now() + Duration::from_secs(60);
        let mut attempt = 0;
        loop {
            let mut request = reqwest::Client::new().post(format!("{base}{path}")).bearer_auth(token);
            if let Some(body) = &body {
                request = request.json(body);
            }
            // A refused connection: the service is down for a moment.
            let status = request.send().await.map_or(0, |r| r.status().as_u16());
            if (200..300).contains(&status) || (attempt > 0 && (status == 409 || status == 422)) {
                break;
            }
            assert!(Instant::now() < give_up, "{path}: {status}");
            attempt += 1;
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// Every event of the organization in the log, by position: a catch-up reading to the head.
async fn the_log(base: &str, token: &str) -> BTreeMap<u64, Value> {
    let url = format!("{base}/subscriptions/truth/events?mode=catchup&live=false&from=0");
    let body = reqwest::Client::new()
        .get(url)
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let mut text = body;
    take_sse_events(&mut text)
        .into_iter()
        .map(|event| {
            (
                event.id.unwrap().parse().unwrap(),
                serde_json::from_str(&event.data).unwrap(),
            )
        })
        .collect()
}

/// Checks the consumers' outputs (one per process run) against the log: each event printed
/// at least once, a duplicate identical to the first, each stream's new events in order.
fn check(outputs: &[Vec<String>], log: &BTreeMap<u64, Value>) -> usize {
    let mut printed: BTreeMap<u64, Value> = BTreeMap::new();
    let mut duplicates = 0;
    for output in outputs {
        let mut seen_here = BTreeSet::new();
        let mut last_version: BTreeMap<String, u64> = BTreeMap::new();
        for line in output {
            let event: Value = serde_json::from_str(line).unwrap();
            let position = event["globalPosition"].as_u64().unwrap();
            assert_eq!(Some(&event), log.get(&position), "printed as the log holds it");
            if let Some(first) = printed.get(&position) {
                assert_eq!(
                    first["eventId"], event["eventId"],
                    "a duplicate carries the same event id"
                );
                duplicates += 1;
            }
            printed.insert(position, event.clone());
            if !seen_here.insert(position) {
                continue;
            }
            let stream = event["aggregateId"].as_str().unwrap().to_owned();
            let version = event["version"].as_u64().unwrap();
            let last = last_version.insert(stream.clone(), version).unwrap_or(0);
            assert!(
                version > last,
                "{stream}: version {version} after {last} in one consumer's output"
            );
        }
    }
    let missing: Vec<u64> = log.keys().filter(|p| !printed.contains_key(p)).copied().collect();
    assert!(missing.is_empty(), "never printed: {missing:?}");
    duplicates
}

async fn consumers_and_service_killed_in_turn(store: Store) {
    let dir = tempfile::tempdir().unwrap();
    let env = store.env();
    let port = free_port();
    let mut service = Process::start_on(port, dir.path(), &env).await;
    let token = token(dir.path());
    let base = service.base.clone();
    let mut outputs = Vec::new();
    let mut one = Follower::spawn(&base, &token, "billing", "one");
    let mut two = Follower::spawn(&base, &token, "billing", "two");
    // Three writers, 50 payments each, while consumers and the service are killed in turn.
    let writers: Vec<_> = (0..3)
        .map(|w| {
            let (base, token) = (base.clone(), token.clone());
            tokio::spawn(async move {
                for n in 0..50 {
                    write(&base, &token, &format!("p-{w}-{n}")).await;
                    tokio::time::sleep(Duration::from_millis(8)).await;
                }
            })
        })
        .collect();
    let pause = || tokio::time::sleep(Duration::from_millis(150));
    pause().await;
    outputs.push(one.kill());
    one = Follower::spawn(&base, &token, "billing", "one");
    pause().await;
    service.kill();
    service = Process::start_on(port, dir.path(), &env).await;
    pause().await;
    outputs.push(two.kill());
    two = Follower::spawn(&base, &token, "billing", "two");
    assert!(
        !writers.iter().all(tokio::task::JoinHandle::is_finished),
        "the kills came while events were written"
    );
    for writer in writers {
        writer.await.unwrap();
    }
    let log = the_log(&base, &token).await;
    assert_eq!(log.len(), 300, "150 payments, two events each");
    let give_up = Instant::now() + Duration::from_secs(60);
    loop {
        let printed: BTreeSet<u64> = outputs
            .iter()
            .flatten()
            .chain(one.printed().iter())
            .chain(two.printed().iter())
            .map(|line| {
                serde_json::from_str::<Value>(line).unwrap()["globalPosition"]
                    .as_u64()
                    .unwrap()
            })
            .collect();
        if log.keys().all(|p| printed.contains(p)) || Instant::now() > give_up {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    outputs.push(one.kill());
    outputs.push(two.kill());
    let duplicates = check(&outputs, &log);
    let (status, group) = call(
        reqwest::Method::GET,
        format!("{base}/subscriptions/billing"),
        &token,
        None,
    )
    .await;
    assert_eq!(status, 200);
    eprintln!(
        "{} events, {duplicates} printed twice (sent again after a kill), group: {group}",
        log.len()
    );
    service.kill();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn consumers_and_the_service_killed_in_turn_lose_nothing() {
    consumers_and_service_killed_in_turn(Store::Durable).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn consumers_and_the_service_killed_in_turn_lose_nothing_on_postgres() {
    let Some(url) = hive_testkit::backend::url(hive_testkit::backend::POSTGRES) else {
        return;
    };
    consumers_and_service_killed_in_turn(Store::Postgres(Schema::new(url))).await;
}
