//! An external process following Hive's event log: `read_all` after its checkpoint, one event
//! at a time, the checkpoint saved after each page, so that a restart resumes where it stopped.
//!
//! Run with `HIVE_MONGODB_URI` set: `cargo run -p example-follow-log`. The parent process is
//! the follower; it starts a copy of itself as the writer (`example-follow-log write <db>`),
//! the way a Hive service would write to the same database.

use std::process::ExitCode;
use std::time::Duration;

use hive_domain::{Checkpoint, CheckpointStore, EventEnvelope, EventStore};
use hive_store_mongodb::{MongoOptions, MongoStore};
use serde_json::json;

/// The follower's name: its checkpoint is saved under it.
const FOLLOWER: &str = "invoice-mailer";
/// Events the writer appends in each of its two bursts.
const BURST: u64 = 5;

#[tokio::main]
async fn main() -> ExitCode {
    let Ok(uri) = std::env::var("HIVE_MONGODB_URI") else {
        eprintln!("set HIVE_MONGODB_URI to a MongoDB server (`cargo xtask services` starts one)");
        return ExitCode::from(2);
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    let outcome = match args.as_slice() {
        [mode, database] if mode == "write" => write(&uri, database).await,
        [] => follow_a_writer(&uri).await,
        _ => Err("usage: example-follow-log [write <database>]".into()),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}

type Outcome = Result<(), Box<dyn std::error::Error>>;

async fn connect(uri: &str, database: &str) -> Result<MongoStore, hive_domain::EventStoreError> {
    let options = MongoOptions {
        database: database.to_owned(),
        ..MongoOptions::default()
    };
    MongoStore::connect(uri, options).await
}

/// The parent: starts the writer process, follows the log until it has seen both bursts, then
/// shows that a second follower resumes from the checkpoint.
async fn follow_a_writer(uri: &str) -> Outcome {
    let database = format!("hive_example_follow_{}", uuid::Uuid::now_v7().simple());
    let store = connect(uri, &database).await?;
    let mut writer = tokio::process::Command::new(std::env::current_exe()?)
        .args(["write", &database])
        .spawn()?;

    let handled = follow(&store, 2 * BURST).await?;
    println!("follower: handled {handled} events");
    let status = writer.wait().await?;
    if !status.success() {
        return Err(format!("the writer process failed: {status}").into());
    }

    // A restart: a new follower starts from the saved checkpoint and finds nothing to redo.
    let checkpoint = store.checkpoint_store().load(FOLLOWER).await?;
    let resumed_at = checkpoint.map_or(0, |c| c.position);
    let pending = store.event_store().read_all(resumed_at, 100).await?;
    println!(
        "restarted follower: resumes after position {resumed_at}, {} events to redo",
        pending.len()
    );
    let ok = handled == 2 * BURST && resumed_at == 2 * BURST && pending.is_empty();
    store.drop_database().await?;
    if ok {
        Ok(())
    } else {
        Err("the follower missed or repeated events".into())
    }
}

/// Follows the global log from this follower's checkpoint until `until` events were handled.
async fn follow(store: &MongoStore, until: u64) -> Result<u64, Box<dyn std::error::Error>> {
    let events = store.event_store();
    let checkpoints = store.checkpoint_store();
    let mut position = checkpoints.load(FOLLOWER).await?.map_or(0, |c| c.position);
    let mut handled = 0;
    let mut idle = Duration::ZERO;
    while handled < until {
        let page = events.read_all(position, 100).await?;
        let Some(last) = page.last() else {
            // Nothing new: wait a little (a production follower would back off, or be woken).
            if idle > Duration::from_secs(30) {
                return Err("no new events for 30 s".into());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
            idle += Duration::from_millis(50);
            continue;
        };
        idle = Duration::ZERO;
        for event in &page {
            handle(event);
            handled += 1;
        }
        position = last.global_position.unwrap_or(position);
        // Saved after the work: a crash in between redoes the page, it never skips it.
        checkpoints
            .save(Checkpoint::new(FOLLOWER, position, Some(last.event_id)))
            .await?;
    }
    Ok(handled)
}

/// The follower's work for one event.
fn handle(event: &EventEnvelope) {
    println!(
        "follower: #{} {} v{} of {} {}",
        event.global_position.unwrap_or_default(),
        event.event_type,
        event.version,
        event.aggregate_id,
        event.event_data
    );
}

/// The child: appends two bursts of invoice events, the way a Hive service would.
async fn write(uri: &str, database: &str) -> Outcome {
    let events = connect(uri, database).await?.event_store();
    for burst in 0..2 {
        for i in 1..=BURST {
            let n = burst * BURST + i;
            let stream = format!("invoice-{n}");
            let event = EventEnvelope::new(&stream, "Invoice", "InvoiceIssued", json!({ "number": n }), 1);
            events.append(&stream, 0, vec![event]).await?;
        }
        println!("writer: burst {} appended", burst + 1);
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    Ok(())
}
