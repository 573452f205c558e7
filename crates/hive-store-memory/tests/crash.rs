//! Crash test: a child process appends under load and reports every acknowledged event; the
//! parent kills it with SIGKILL at a random-ish moment, reopens the store and checks that every
//! acknowledged event survived, streams and the log are gap-free, and appends work again.

// Helpers outside `#[test]` functions panic on failure too, like the tests.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::HashSet;
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{assert_gap_free, batch, read_everything};
use hive_domain::EventStore;
use hive_store_memory::{DurableOptions, MemoryEventStore};

/// Names the data directory of the child; without it the child test does nothing.
const CHILD_DIR_VAR: &str = "HIVE_STORE_MEMORY_CRASH_DIR";
const CHILD_TEST: &str = "crash_child_appends_until_killed";
const WRITERS: usize = 6;

#[test]
#[ignore = "child process of the crash test; run by it"]
fn crash_child_appends_until_killed() {
    let Some(dir) = std::env::var_os(CHILD_DIR_VAR) else {
        return;
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async move {
        let store = MemoryEventStore::open(&dir, DurableOptions::default()).await.unwrap();
        let mut tasks = Vec::new();
        for writer in 0..WRITERS {
            let store = store.clone();
            tasks.push(tokio::spawn(async move {
                for round in 0u64.. {
                    // Half the writers share one contended stream, the others own theirs.
                    let stream = if writer % 2 == 0 {
                        "shared".to_owned()
                    } else {
                        format!("own-{writer}")
                    };
                    let version = store.stream_version(&stream).await.unwrap();
                    let size = 1 + round % 3;
                    match store.append(&stream, version, batch(&stream, version, size)).await {
                        Ok(stored) => {
                            let mut out = std::io::stdout().lock();
                            for event in stored {
                                writeln!(out, "ACK {}", event.event_id).unwrap();
                            }
                            out.flush().unwrap();
                        }
                        Err(e) if e.is_conflict() => {}
                        Err(e) => panic!("append failed: {e}"),
                    }
                }
            }));
        }
        for task in tasks {
            task.await.unwrap();
        }
    });
}

fn crash_once(round: u32) {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", CHILD_TEST, "--ignored", "--nocapture", "--test-threads", "1"])
        .env(CHILD_DIR_VAR, dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    // Random-ish: kill after 2000 acks plus up to 3000 more, depending on the clock.
    let extra = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos() as usize
        % 3_000;
    let target = 2_000 + extra;
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut acked = HashSet::new();
    while acked.len() < target {
        assert!(
            Instant::now() < deadline,
            "round {round}: child too slow ({} acks)",
            acked.len()
        );
        match lines.next() {
            Some(line) => {
                if let Some(id) = line.unwrap().strip_prefix("ACK ") {
                    acked.insert(id.trim().to_owned());
                }
            }
            None => panic!("round {round}: child exited early: {:?}", child.wait()),
        }
    }
    child.kill().unwrap();
    child.wait().unwrap();
    // Lines already printed were acknowledged before the kill: count them too.
    for line in lines {
        let Ok(line) = line else { break };
        if let Some(id) = line.strip_prefix("ACK ") {
            acked.insert(id.trim().to_owned());
        }
    }

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let store = MemoryEventStore::open(dir.path(), DurableOptions::default())
            .await
            .unwrap();
        let events = read_everything(&store).await;
        let present: HashSet<String> = events.iter().map(|e| e.event_id.to_string()).collect();
        let lost: Vec<_> = acked.difference(&present).collect();
        assert!(
            lost.is_empty(),
            "round {round}: {} acknowledged events lost",
            lost.len()
        );
        assert_gap_free(&events);
        let version = store.stream_version("shared").await.unwrap();
        let stored = store
            .append("shared", version, batch("shared", version, 2))
            .await
            .unwrap();
        assert_eq!(stored[1].global_position, Some(events.len() as u64 + 2));
        eprintln!(
            "crash round {round}: {} acked, {} stored, killed after {target} acks",
            acked.len(),
            events.len()
        );
    });
}

#[test]
fn acknowledged_appends_survive_sigkill() {
    for round in 0..3 {
        crash_once(round);
    }
}
