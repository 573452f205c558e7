//! R2 (issue #9): the service on the embedded durable store (`fsync = always`) under write load
//! over HTTP is killed with SIGKILL at a random moment and restarted, round after round: every
//! payment whose creation got a 2xx is served afterwards, a torn tail is cut off with a logged
//! warning, and the service takes writes again. 5 rounds here, 20 under `cargo xtask soak`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use common::process::{random_below, Process};
use common::token;
use serde_json::json;

const WRITERS: usize = 8;

fn rounds() -> usize {
    if std::env::var("HIVE_SOAK").is_ok_and(|v| v == "1") {
        20
    } else {
        5
    }
}

async fn start(dir: &Path) -> Process {
    Process::start(
        dir,
        &[("HIVE_STORE", "memory-durable".into()), ("HIVE_FSYNC", "always".into())],
    )
    .await
}

/// Creates payments from `WRITERS` tasks until `stop`; the ids that got a 2xx.
async fn load(base: String, token: String, round: usize, stop: Arc<AtomicBool>) -> BTreeSet<String> {
    let acked = Arc::new(Mutex::new(BTreeSet::new()));
    let mut tasks = Vec::new();
    for writer in 0..WRITERS {
        let (base, token, stop, acked) = (base.clone(), token.clone(), stop.clone(), acked.clone());
        tasks.push(tokio::spawn(async move {
            let client = reqwest::Client::new();
            for i in 0.. {
                if stop.load(Ordering::Relaxed) {
                    break;
                }
                let id = format!("r2-{round}-{writer}-{i}");
                let body = json!({"paymentId": id, "amount": "12.34", "currency": "EUR", "description": "Crash load"});
                let sent = client
                    .post(format!("{base}/payments"))
                    .bearer_auth(&token)
                    .json(&body)
                    .send()
                    .await;
                match sent {
                    Ok(response) if response.status().is_success() => {
                        acked.lock().unwrap().insert(id);
                    }
                    Ok(response) => {
                        assert!(
                            stop.load(Ordering::Relaxed),
                            "{id}: status {} while the service was up",
                            response.status()
                        );
                    }
                    // The service was killed under this request: not acknowledged.
                    Err(_) => break,
                }
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    Arc::try_unwrap(acked).unwrap().into_inner().unwrap()
}

/// Appends the first half of the last record again: a record whose write was interrupted.
fn tear_the_tail(dir: &Path) {
    let path = dir.join(hive_store_memory::EVENT_LOG_FILE);
    let bytes = std::fs::read(&path).unwrap();
    let mut at = 0;
    let mut last = 0;
    while at < bytes.len() {
        last = at;
        let len = u32::from_le_bytes(bytes[at + 4..at + 8].try_into().unwrap()) as usize;
        at += 12 + len;
    }
    let half = &bytes[last..last + (bytes.len() - last) / 2];
    let mut torn = bytes.clone();
    torn.extend_from_slice(half);
    std::fs::write(&path, torn).unwrap();
}

async fn check_present(base: &str, token: &str, acked: &BTreeSet<String>) {
    let client = reqwest::Client::new();
    for id in acked {
        let response = client
            .get(format!("{base}/payments/{id}"))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        assert_eq!(
            response.status(),
            200,
            "acknowledged payment {id} is missing after the crash"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_writes_survive_sigkill_at_random_moments() {
    let dir = tempfile::tempdir().unwrap();
    let mut acked_total = BTreeSet::new();
    let mut torn_tails = 0;
    let rounds = rounds();
    for round in 0..rounds {
        let service = start(dir.path()).await;
        if round > 0 {
            // Everything acknowledged in the rounds before, the torn round included.
            check_present(&service.base, &token(dir.path()), &acked_total).await;
        }
        let stop = Arc::new(AtomicBool::new(false));
        let writers = tokio::spawn(load(service.base.clone(), token(dir.path()), round, stop.clone()));
        // A random moment: after 20 to 400 ms of load (the load keeps going until the kill).
        tokio::time::sleep(std::time::Duration::from_millis(20 + random_below(380))).await;
        stop.store(true, Ordering::Relaxed);
        service.kill();
        let acked = writers.await.unwrap();
        if round == 0 {
            tear_the_tail(dir.path());
        }
        let service = start(dir.path()).await;
        let stderr = service.stderr();
        if round == 0 {
            assert!(
                stderr.contains("dropped a torn tail"),
                "the torn tail was not reported:\n{stderr}"
            );
        }
        if stderr.contains("dropped a torn tail") {
            torn_tails += 1;
        }
        check_present(&service.base, &token(dir.path()), &acked).await;
        let (status, _) = common::call(
            reqwest::Method::POST,
            format!("{}/payments", service.base),
            &token(dir.path()),
            Some(json!({"paymentId": format!("r2-after-{round}"), "amount": "1.00", "currency": "EUR", "description": "After"})),
        )
        .await;
        assert_eq!(status, 201, "the service takes writes again after round {round}");
        acked_total.extend(acked.iter().cloned());
        acked_total.insert(format!("r2-after-{round}"));
        eprintln!(
            "round {round}: {} acknowledged before the kill, all present",
            acked.len()
        );
        service.kill();
    }
    eprintln!(
        "R2: {rounds} SIGKILLs, {} acknowledged payments, all present, {torn_tails} torn tails cut with a warning",
        acked_total.len()
    );
}
