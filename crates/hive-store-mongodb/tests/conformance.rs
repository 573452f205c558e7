//! The hive-testkit conformance suites on MongoDB (skipped without `HIVE_MONGODB_URI`).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{drop_database, fresh, fresh_default, server};
use hive_store_mongodb::{MongoOptions, TransactionMode};
use hive_testkit::Held;

/// The event-store suite without the look-up indexes: they change no answer, and each one
/// makes SecantusDB's inserts slower (its 100 000-event case would take minutes). The search
/// cases run with every index in `lookups`.
mod events {
    use super::*;
    hive_testkit::event_store_conformance!(skip_unless = server(), async {
        let store = fresh(MongoOptions::default().with_lookup_indexes(false)).await;
        assert!(store.uses_transactions(), "the test server runs transactions");
        Held::with_guard(store.event_store(), drop_database(store))
    });
}

/// The look-up cases again with every index (the default options).
mod lookups {
    use super::*;

    macro_rules! cases {
        ($($case:ident),* $(,)?) => {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $case() {
                    if !server() {
                        return;
                    }
                    let store = fresh_default().await;
                    let held = Held::with_guard(store.event_store(), drop_database(store));
                    hive_testkit::event_store::$case(held.store()).await;
                }
            )*
        };
    }

    cases!(
        envelopes_round_trip,
        events_by_type_in_time_range,
        events_by_correlation_across_aggregates,
        search_by_criteria,
        search_pages_and_totals,
        lookups_without_match_are_empty,
        lookups_newest_first,
        event_by_id_finds_stored_events,
        concurrent_writers_on_many_streams,
    );
}

mod snapshots {
    use super::*;
    hive_testkit::snapshot_store_conformance!(skip_unless = server(), async {
        let store = fresh_default().await;
        Held::with_guard(store.snapshot_store(), drop_database(store))
    });
}

mod checkpoints {
    use super::*;
    hive_testkit::checkpoint_store_conformance!(skip_unless = server(), async {
        let store = fresh_default().await;
        Held::with_guard(store.checkpoint_store(), drop_database(store))
    });
}

mod analytics {
    use super::*;
    hive_testkit::event_analytics_conformance!(skip_unless = server(), async {
        let store = fresh_default().await;
        Held::with_guard(store.event_store(), drop_database(store))
    });
}

/// The event-store suite again without transactions: the lease-and-watermark fallback. Every
/// case but the 100 000-event one, whose cursor reading is the same code in both modes (and
/// which takes SecantusDB minutes).
mod fallback {
    use super::*;
    use hive_store_mongodb::MongoEventStore;

    async fn store() -> Held<MongoEventStore> {
        let options = MongoOptions::default()
            .with_transactions(TransactionMode::Never)
            .with_lookup_indexes(false);
        let store = fresh(options).await;
        assert!(!store.uses_transactions());
        Held::with_guard(store.event_store(), drop_database(store))
    }

    macro_rules! cases {
        ($($case:ident),* $(,)?) => {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $case() {
                    if !server() {
                        return;
                    }
                    let held = store().await;
                    hive_testkit::event_store::$case(held.store()).await;
                }
            )*
        };
    }

    cases!(
        conflict_is_typed,
        batch_append_is_atomic,
        versions_are_gap_free_from_one,
        envelopes_round_trip,
        invalid_batches_are_rejected,
        reappend_is_idempotent,
        stream_version_and_head_position,
        read_stream_from_version,
        global_log_is_ordered_and_gap_free,
        events_by_type_in_time_range,
        events_by_correlation_across_aggregates,
        search_by_criteria,
        search_pages_and_totals,
        lookups_without_match_are_empty,
        lookups_newest_first,
        event_by_id_finds_stored_events,
        concurrent_writers_on_one_stream,
        concurrent_writers_on_many_streams,
    );

    mod analytics {
        use super::*;
        hive_testkit::event_analytics_conformance!(skip_unless = server(), async {
            let store = fresh(MongoOptions::default().with_transactions(TransactionMode::Never)).await;
            Held::with_guard(store.event_store(), drop_database(store))
        });
    }
}
