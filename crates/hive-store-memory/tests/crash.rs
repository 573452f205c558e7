//! Crash test: a child process appends under load and reports every acknowledged event; the
//! parent kills it with SIGKILL at a random-ish moment, reopens the store and checks that every
//! acknowledged event survived, streams and the log are gap-free, the store answers as a full
//! replay of its log does, and appends work again. In a second test the child writes index
//! checkpoints all the time, so that kills land while one is being written.

// Helpers outside `#[test]` functions panic on failure too, like the tests.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::HashSet;
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{assert_answers_as_a_full_replay, assert_gap_free, batch, read_everything};
use hive_domain::EventStore;
use hive_store_memory::{DurableOptions, FsyncPolicy, MemoryEventStore, INDEX_CHECKPOINT_FILE};

/// Names the data directory of the child; without it the child test does nothing.
const CHILD_DIR_VAR: &str = "HIVE_STORE_MEMORY_CRASH_DIR";
/// How many events make an index checkpoint in the child (its default when unset).
const CHILD_CHECKPOINT_VAR: &str = "HIVE_STORE_MEMORY_CRASH_CHECKPOINT_EVERY";
/// The child's fsync policy: `always` (when unset), `every-5ms` or `never`.
const CHILD_FSYNC_VAR: &str = "HIVE_STORE_MEMORY_CRASH_FSYNC";
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
    let mut options = DurableOptions::default().with_fsync(match std::env::var(CHILD_FSYNC_VAR).as_deref() {
        Ok("every-5ms") => FsyncPolicy::EveryMillis(5),
        Ok("never") => FsyncPolicy::Never,
        _ => FsyncPolicy::Always,
    });
    if let Some(every) = std::env::var(CHILD_CHECKPOINT_VAR).ok().and_then(|v| v.parse().ok()) {
        options = options.with_index_checkpoint_every(every);
    }
    runtime.block_on(async move {
        let store = MemoryEventStore::open(&dir, options).await.unwrap();
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

/// What a kill left beside the log.
struct Left {
    /// A checkpoint.
    checkpoint: bool,
    /// A checkpoint write cut short (its temporary file).
    cut_short: bool,
}

/// Runs the child with `env` set, kills it, reopens its store and checks it.
fn crash_once(round: u32, env: &[(&str, &str)]) -> Left {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", CHILD_TEST, "--ignored", "--nocapture", "--test-threads", "1"])
        .env(CHILD_DIR_VAR, dir.path())
        .envs(env.iter().copied())
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

    let checkpoint = dir.path().join(INDEX_CHECKPOINT_FILE);
    let mut temporary = checkpoint.clone().into_os_string();
    temporary.push(".tmp");
    let left = Left {
        checkpoint: checkpoint.exists(),
        cut_short: std::path::Path::new(&temporary).exists(),
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let store = MemoryEventStore::open(dir.path(), DurableOptions::default())
            .await
            .unwrap();
        assert!(
            !std::path::Path::new(&temporary).exists(),
            "what a cut write left is gone"
        );
        assert_answers_as_a_full_replay(&store, dir.path()).await;
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
            "crash round {round} {env:?}: {} acked, {} stored, killed after {target} acks{}",
            acked.len(),
            events.len(),
            if left.cut_short {
                ", during a checkpoint write"
            } else {
                ""
            }
        );
    });
    left
}

#[test]
fn acknowledged_appends_survive_sigkill() {
    for round in 0..3 {
        crash_once(round, &[]);
    }
}

#[test]
fn acknowledged_appends_survive_sigkill_while_checkpoints_are_written() {
    let mut cut_short = 0;
    let policies = ["always", "every-5ms", "never"];
    for (round, fsync) in (0..).zip(policies.iter().cycle().take(6)) {
        let env = [(CHILD_CHECKPOINT_VAR, "64"), (CHILD_FSYNC_VAR, *fsync)];
        let left = crash_once(round, &env);
        assert!(left.checkpoint, "round {round}: checkpoints were written");
        cut_short += u32::from(left.cut_short);
    }
    eprintln!("{cut_short} of 6 kills cut a checkpoint write short");
}
