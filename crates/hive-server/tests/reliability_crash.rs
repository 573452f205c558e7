//! R2 (issues #9 and #19): the service under write load over HTTP is killed with SIGKILL at a
//! random moment and restarted, round after round: every payment whose creation got a 2xx is
//! served afterwards, and the service takes writes again. On the embedded durable store
//! (`fsync = always`) a torn tail is cut off with a logged warning; on PostgreSQL the global
//! log has no gap (skipped without `HIVE_POSTGRES_URL`). 5 rounds here, 20 under
//! `cargo xtask soak`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeSet;
use std::path::Path;

use common::load::{check_present, kill_under_load};
use common::postgres::Schema;
use common::process::{Process, ServiceStore as Store};
use common::token;
use hive_domain::EventStore;
use serde_json::json;

fn rounds() -> usize {
    if std::env::var("HIVE_SOAK").is_ok_and(|v| v == "1") {
        20
    } else {
        5
    }
}

/// What the kill of `round` left, checked (PostgreSQL: the global log has no gap) or made
/// worse (the durable log, its tail torn after the first kill: its last record half written
/// again).
async fn after_kill(store: &Store, round: usize, dir: &Path) {
    match store {
        Store::Durable if round == 0 => tear_the_tail(dir),
        Store::Durable => {}
        Store::Postgres(schema) => {
            let head = assert_no_gap(&schema.connect().await.event_store()).await;
            eprintln!("round {round}: the global log holds 1..={head}, no gap");
        }
    }
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

/// The global log holds positions `1..=head`, each exactly once and in order; the head.
async fn assert_no_gap(events: &dyn EventStore) -> u64 {
    let head = events.head_position().await.unwrap();
    let mut expected = 1;
    loop {
        let page = events.read_all(expected - 1, 1000).await.unwrap();
        if page.is_empty() {
            break;
        }
        for event in &page {
            assert_eq!(event.global_position, Some(expected), "the global log after a kill");
            expected += 1;
        }
    }
    assert_eq!(expected - 1, head, "the global log ends at its head");
    head
}

async fn sigkill_rounds(store: &Store) {
    let dir = tempfile::tempdir().unwrap();
    let env = store.env();
    let start = || Process::start(dir.path(), &env);
    let mut acked_total = BTreeSet::new();
    let mut torn_tails = 0;
    let rounds = rounds();
    for round in 0..rounds {
        let service = start().await;
        if round > 0 {
            // Everything acknowledged in the rounds before, the torn round included.
            check_present(&service.base, &token(dir.path()), &acked_total).await;
        }
        let acked = kill_under_load(service, token(dir.path()), format!("r2-{round}")).await;
        after_kill(store, round, dir.path()).await;
        let service = start().await;
        let stderr = service.stderr();
        if round == 0 && matches!(store, Store::Durable) {
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
    let after = match store {
        Store::Durable => format!("{torn_tails} torn tails cut with a warning"),
        Store::Postgres(_) => "the global log without a gap after each kill".to_owned(),
    };
    eprintln!(
        "R2 on {}: {rounds} SIGKILLs, {} acknowledged payments, all present, {after}",
        store.name(),
        acked_total.len()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_writes_survive_sigkill_at_random_moments() {
    sigkill_rounds(&Store::Durable).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_writes_survive_sigkill_at_random_moments_on_postgres() {
    let Some(url) = hive_testkit::backend::url(hive_testkit::backend::POSTGRES) else {
        return;
    };
    sigkill_rounds(&Store::Postgres(Schema::new(url))).await;
}
