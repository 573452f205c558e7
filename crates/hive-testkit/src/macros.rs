//! The conformance macros: one call generates one `#[tokio::test]` per case.

/// Generates one `#[tokio::test]` per case listed; not a public API.
#[doc(hidden)]
#[macro_export]
macro_rules! __hive_conformance_tests {
    ($hold:expr, $factory:expr, $module:ident, [$($test:ident => $case:ident),* $(,)?]) => {
        $crate::__hive_conformance_tests!($hold, $factory, true, $module, [$($test => $case),*]);
    };
    ($hold:expr, $factory:expr, $guard:expr, $module:ident, [$($test:ident => $case:ident),* $(,)?]) => {
        $(
            #[::tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn $test() {
                if !$guard {
                    return;
                }
                let held = ($hold)($factory.await);
                $crate::$module::$case(held.store()).await;
                drop(held);
            }
        )*
    };
}

/// Generates the [`EventStore`](hive_domain::EventStore) conformance suite, the core every
/// adapter passes: one `#[tokio::test(flavor = "multi_thread", worker_threads = 4)]` per case of
/// [`event_store`](crate::event_store), each named `event_store_<case>`. The optional
/// capabilities have macros of their own: [`event_lookup_conformance!`](crate::event_lookup_conformance),
/// [`event_search_conformance!`](crate::event_search_conformance),
/// [`event_analytics_conformance!`](crate::event_analytics_conformance).
///
/// The argument is an expression evaluating to a future; it is evaluated afresh in every test.
/// Its output is the store, or a [`Held`](crate::Held) store when something (a temporary
/// directory…) must outlive it. With `type = Store, factory` the output may be anything that
/// converts `Into<Held<Store>>`.
///
/// The calling crate must depend on `tokio` (features `macros`, `rt-multi-thread`). Invoke the
/// macro inside a `mod` to run the suite several times (memory mode, durable mode…).
///
/// For an adapter that needs a server, `skip_unless = <bool expression>, factory` evaluates the
/// expression first in every test and returns early (the test passes, skipped) when it is
/// false; let the expression print why, e.g. "HIVE_MONGODB_URI is not set".
///
/// ```ignore
/// use hive_store_memory::{DurableOptions, MemoryEventStore};
///
/// mod memory {
///     use super::*;
///     hive_testkit::event_store_conformance!(async { MemoryEventStore::new() });
/// }
/// mod durable {
///     use super::*;
///     use hive_testkit::Held;
///     hive_testkit::event_store_conformance!(async {
///         let dir = tempfile::tempdir().unwrap();
///         let store = MemoryEventStore::open(dir.path(), DurableOptions::default()).await.unwrap();
///         Held::with_guard(store, dir)
///     });
/// }
/// ```
#[macro_export]
macro_rules! event_store_conformance {
    (skip_unless = $guard:expr, $factory:expr $(,)?) => {
        $crate::__hive_event_store_cases!($crate::__private::hold_event_store, $factory, $guard);
    };
    (type = $store:ty, $factory:expr $(,)?) => {
        $crate::__hive_event_store_cases!($crate::__private::hold_as::<$store, _>, $factory);
    };
    ($factory:expr $(,)?) => {
        $crate::__hive_event_store_cases!($crate::__private::hold_event_store, $factory);
    };
}

/// The event-store case list; not a public API.
#[doc(hidden)]
#[macro_export]
macro_rules! __hive_event_store_cases {
    ($hold:expr, $factory:expr) => {
        $crate::__hive_event_store_cases!($hold, $factory, true);
    };
    ($hold:expr, $factory:expr, $guard:expr) => {
        $crate::__hive_conformance_tests!($hold, $factory, $guard, event_store, [
            event_store_conflict_is_typed => conflict_is_typed,
            event_store_batch_append_is_atomic => batch_append_is_atomic,
            event_store_versions_are_gap_free_from_one => versions_are_gap_free_from_one,
            event_store_envelopes_round_trip => envelopes_round_trip,
            event_store_invalid_batches_are_rejected => invalid_batches_are_rejected,
            event_store_reappend_is_idempotent => reappend_is_idempotent,
            event_store_stream_version_and_head_position => stream_version_and_head_position,
            event_store_read_stream_from_version => read_stream_from_version,
            event_store_large_stream_is_read_whole => large_stream_is_read_whole,
            event_store_global_log_is_ordered_and_gap_free => global_log_is_ordered_and_gap_free,
            event_store_concurrent_writers_on_one_stream => concurrent_writers_on_one_stream,
            event_store_concurrent_writers_on_many_streams => concurrent_writers_on_many_streams,
        ]);
    };
}

/// Generates the [`EventLookup`](hive_domain::EventLookup) conformance suite: one
/// `#[tokio::test]` per case of [`event_lookup`](crate::event_lookup), each named
/// `event_lookup_<case>`. The store must implement both `EventStore` and `EventLookup`; same
/// argument forms and requirements as [`event_store_conformance!`](crate::event_store_conformance).
///
/// ```ignore
/// hive_testkit::event_lookup_conformance!(async { MemoryEventStore::new() });
/// ```
#[macro_export]
macro_rules! event_lookup_conformance {
    (skip_unless = $guard:expr, $factory:expr $(,)?) => {
        $crate::__hive_event_lookup_cases!($crate::__private::hold_lookup_store, $factory, $guard);
    };
    (type = $store:ty, $factory:expr $(,)?) => {
        $crate::__hive_event_lookup_cases!($crate::__private::hold_as::<$store, _>, $factory, true);
    };
    ($factory:expr $(,)?) => {
        $crate::__hive_event_lookup_cases!($crate::__private::hold_lookup_store, $factory, true);
    };
}

/// The event-lookup case list; not a public API.
#[doc(hidden)]
#[macro_export]
macro_rules! __hive_event_lookup_cases {
    ($hold:expr, $factory:expr, $guard:expr) => {
        $crate::__hive_conformance_tests!($hold, $factory, $guard, event_lookup, [
            event_lookup_event_by_id_finds_stored_events => event_by_id_finds_stored_events,
        ]);
    };
}

/// Generates the [`EventSearch`](hive_domain::EventSearch) conformance suite: one
/// `#[tokio::test]` per case of [`event_search`](crate::event_search), each named
/// `event_search_<case>`. The store must implement both `EventStore` and `EventSearch`; same
/// argument forms and requirements as [`event_store_conformance!`](crate::event_store_conformance).
///
/// ```ignore
/// hive_testkit::event_search_conformance!(async { MemoryEventStore::new() });
/// ```
#[macro_export]
macro_rules! event_search_conformance {
    (skip_unless = $guard:expr, $factory:expr $(,)?) => {
        $crate::__hive_event_search_cases!($crate::__private::hold_search_store, $factory, $guard);
    };
    (type = $store:ty, $factory:expr $(,)?) => {
        $crate::__hive_event_search_cases!($crate::__private::hold_as::<$store, _>, $factory, true);
    };
    ($factory:expr $(,)?) => {
        $crate::__hive_event_search_cases!($crate::__private::hold_search_store, $factory, true);
    };
}

/// The event-search case list; not a public API.
#[doc(hidden)]
#[macro_export]
macro_rules! __hive_event_search_cases {
    ($hold:expr, $factory:expr, $guard:expr) => {
        $crate::__hive_conformance_tests!($hold, $factory, $guard, event_search, [
            event_search_events_by_type_in_time_range => events_by_type_in_time_range,
            event_search_events_by_correlation_across_aggregates => events_by_correlation_across_aggregates,
            event_search_search_by_criteria => search_by_criteria,
            event_search_search_pages_and_totals => search_pages_and_totals,
            event_search_search_returns_envelopes_unchanged => search_returns_envelopes_unchanged,
            event_search_lookups_without_match_are_empty => lookups_without_match_are_empty,
            event_search_lookups_newest_first => lookups_newest_first,
        ]);
    };
}

/// Generates the [`SnapshotStore`](hive_domain::SnapshotStore) conformance suite: one
/// `#[tokio::test]` per case of [`snapshot_store`](crate::snapshot_store), each named
/// `snapshot_store_<case>`. Same argument forms and requirements as
/// [`event_store_conformance!`](crate::event_store_conformance).
///
/// ```ignore
/// mod snapshots {
///     hive_testkit::snapshot_store_conformance!(async { MemorySnapshotStore::new() });
/// }
/// ```
#[macro_export]
macro_rules! snapshot_store_conformance {
    (skip_unless = $guard:expr, $factory:expr $(,)?) => {
        $crate::__hive_snapshot_store_cases!($crate::__private::hold_snapshot_store, $factory, $guard);
    };
    (type = $store:ty, $factory:expr $(,)?) => {
        $crate::__hive_snapshot_store_cases!($crate::__private::hold_as::<$store, _>, $factory);
    };
    ($factory:expr $(,)?) => {
        $crate::__hive_snapshot_store_cases!($crate::__private::hold_snapshot_store, $factory);
    };
}

/// The snapshot-store case list; not a public API.
#[doc(hidden)]
#[macro_export]
macro_rules! __hive_snapshot_store_cases {
    ($hold:expr, $factory:expr) => {
        $crate::__hive_snapshot_store_cases!($hold, $factory, true);
    };
    ($hold:expr, $factory:expr, $guard:expr) => {
        $crate::__hive_conformance_tests!($hold, $factory, $guard, snapshot_store, [
            snapshot_store_unknown_is_none => unknown_is_none,
            snapshot_store_round_trips => round_trips,
            snapshot_store_newer_replaces_older => newer_replaces_older,
            snapshot_store_older_does_not_replace_newer => older_does_not_replace_newer,
        ]);
    };
}

/// Generates the [`CheckpointStore`](hive_domain::CheckpointStore) conformance suite: one
/// `#[tokio::test]` per case of [`checkpoint_store`](crate::checkpoint_store), each named
/// `checkpoint_store_<case>`. Same argument forms and requirements as
/// [`event_store_conformance!`](crate::event_store_conformance).
///
/// ```ignore
/// mod checkpoints {
///     hive_testkit::checkpoint_store_conformance!(async { MemoryCheckpointStore::new() });
/// }
/// ```
#[macro_export]
macro_rules! checkpoint_store_conformance {
    (skip_unless = $guard:expr, $factory:expr $(,)?) => {
        $crate::__hive_checkpoint_store_cases!($crate::__private::hold_checkpoint_store, $factory, $guard);
    };
    (type = $store:ty, $factory:expr $(,)?) => {
        $crate::__hive_checkpoint_store_cases!($crate::__private::hold_as::<$store, _>, $factory);
    };
    ($factory:expr $(,)?) => {
        $crate::__hive_checkpoint_store_cases!($crate::__private::hold_checkpoint_store, $factory);
    };
}

/// The checkpoint-store case list; not a public API.
#[doc(hidden)]
#[macro_export]
macro_rules! __hive_checkpoint_store_cases {
    ($hold:expr, $factory:expr) => {
        $crate::__hive_checkpoint_store_cases!($hold, $factory, true);
    };
    ($hold:expr, $factory:expr, $guard:expr) => {
        $crate::__hive_conformance_tests!($hold, $factory, $guard, checkpoint_store, [
            checkpoint_store_unknown_is_none => unknown_is_none,
            checkpoint_store_round_trips => round_trips,
            checkpoint_store_save_overwrites => save_overwrites,
            checkpoint_store_list_contains_saved => list_contains_saved,
            checkpoint_store_dead_letters_per_projection => dead_letters_per_projection,
            checkpoint_store_removes_dead_letters_by_position => removes_dead_letters_by_position,
            checkpoint_store_removes_all_dead_letters_of_a_projection => removes_all_dead_letters_of_a_projection,
        ]);
    };
}

/// Generates the [`EventSink`](hive_application::EventSink) conformance suite (a message
/// broker the global log is published to): one `#[tokio::test]` per case of
/// [`connector`](crate::connector), each named `event_sink_<case>`. The factory's output is a
/// [`BrokerProbe`](crate::connector::BrokerProbe) (or a [`Held`](crate::Held) one): the sink
/// under test and a reader of what the broker holds for it, on a destination of its own.
///
/// ```ignore
/// hive_testkit::event_sink_conformance!(skip_unless = server(), async { NatsProbe::fresh().await });
/// ```
#[macro_export]
macro_rules! event_sink_conformance {
    (skip_unless = $guard:expr, $factory:expr $(,)?) => {
        $crate::__hive_event_sink_cases!($crate::__private::hold_probe, $factory, $guard);
    };
    (type = $probe:ty, $factory:expr $(,)?) => {
        $crate::__hive_event_sink_cases!($crate::__private::hold_as::<$probe, _>, $factory, true);
    };
    ($factory:expr $(,)?) => {
        $crate::__hive_event_sink_cases!($crate::__private::hold_probe, $factory, true);
    };
}

/// The event-sink case list; not a public API.
#[doc(hidden)]
#[macro_export]
macro_rules! __hive_event_sink_cases {
    ($hold:expr, $factory:expr, $guard:expr) => {
        $crate::__hive_conformance_tests!($hold, $factory, $guard, connector, [
            event_sink_publishes_in_order => publishes_in_order,
            event_sink_subject_is_per_organization_and_event_type => subject_is_per_organization_and_event_type,
            event_sink_message_id_is_the_event_id => message_id_is_the_event_id,
            event_sink_republishing_gives_no_second_message => republishing_gives_no_second_message,
            event_sink_connector_resumes_from_its_checkpoint => connector_resumes_from_its_checkpoint,
            event_sink_per_stream_order_is_kept => per_stream_order_is_kept,
        ]);
    };
}
