//! HTTP write load on a `hive serve` process that is about to be killed, and the check that
//! what it acknowledged is served afterwards. Used by the crash tests.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use serde_json::json;

use super::process::{random_below, Process};

/// Concurrent writers of [`load`].
pub const WRITERS: usize = 8;

/// Creates payments (`{prefix}-{writer}-{i}`) from [`WRITERS`] tasks until `stop`; the ids that
/// got a 2xx. A refusal while the service is up fails the test; a request the kill cut off is
/// not acknowledged and ends its writer.
pub async fn load(base: String, token: String, prefix: String, stop: Arc<AtomicBool>) -> BTreeSet<String> {
    let acked = Arc::new(Mutex::new(BTreeSet::new()));
    let mut tasks = Vec::new();
    for writer in 0..WRITERS {
        let (base, token, prefix, stop, acked) =
            (base.clone(), token.clone(), prefix.clone(), stop.clone(), acked.clone());
        tasks.push(tokio::spawn(async move {
            let client = reqwest::Client::new();
            for i in 0.. {
                if stop.load(Ordering::Relaxed) {
                    break;
                }
                let id = format!("{prefix}-{writer}-{i}");
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

/// Every payment of `acked` answers `200` on `GET /payments/{id}`.
pub async fn check_present(base: &str, token: &str, acked: &BTreeSet<String>) {
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

/// Puts `service` under [`load`] and kills it with SIGKILL at a random moment, after 20 to
/// 400 ms of load (the load keeps going until the kill); the ids acknowledged before.
pub async fn kill_under_load(service: Process, token: String, prefix: String) -> BTreeSet<String> {
    let stop = Arc::new(AtomicBool::new(false));
    let writers = tokio::spawn(load(service.base.clone(), token, prefix, stop.clone()));
    tokio::time::sleep(std::time::Duration::from_millis(20 + random_below(380))).await;
    stop.store(true, Ordering::Relaxed);
    service.kill();
    writers.await.unwrap()
}
