//! Fuzzes the durable log reader: any bytes as `events.log` either open (a torn tail cut off)
//! or fail with `EventStoreError::Corrupt` naming `events.log@<offset>`; never a panic. When the
//! file opens, an append works and a reopen gives the same events.

#![no_main]

use hive_domain::{EventEnvelope, EventStore, EventStoreError};
use hive_store_memory::{DurableOptions, MemoryEventStore, EVENT_LOG_FILE};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let dir = tempfile::tempdir().expect("temporary directory");
    std::fs::write(dir.path().join(EVENT_LOG_FILE), data).expect("write the log");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        match MemoryEventStore::open(dir.path(), DurableOptions::default()).await {
            Ok(store) => {
                let head = store.head_position().await.expect("head");
                let event = EventEnvelope::new("fuzz", "Fuzz", "Fuzzed", serde_json::json!({}), 1);
                let version = store.stream_version("fuzz").await.expect("version");
                let mut event = event;
                event.version = version + 1;
                store.append("fuzz", version, vec![event]).await.expect("append after open");
                store.close().await.expect("close");
                drop(store);
                let reopened = MemoryEventStore::open(dir.path(), DurableOptions::default())
                    .await
                    .expect("reopen after a clean close");
                assert_eq!(reopened.head_position().await.expect("head"), head + 1);
            }
            Err(EventStoreError::Corrupt { record, .. }) => {
                assert!(record.starts_with("events.log@"), "corruption names the record: {record}");
            }
            Err(other) => panic!("unexpected error: {other:?}"),
        }
    });
});
