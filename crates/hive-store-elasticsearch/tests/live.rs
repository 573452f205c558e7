//! The `hive-testkit` event-store conformance cases against a real cluster, when
//! `HIVE_ELASTICSEARCH_URL` is set (each test prints a skip notice and passes otherwise).
//! Every test runs on indices of its own (`hive-test-<uuid>-*`), deleted afterwards.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use hive_store_elasticsearch::{EsOptions, EsStore, Refresh};

/// The variable `cargo xtask test` passes through.
const ENV: &str = "HIVE_ELASTICSEARCH_URL";

/// A store on fresh indices, or `None` after a skip notice.
async fn fresh() -> Option<EsStore> {
    let url = match std::env::var(ENV) {
        Ok(url) if !url.trim().is_empty() => url,
        _ => {
            eprintln!("skipped: {ENV} is not set (e.g. HIVE_ELASTICSEARCH_URL=http://localhost:9200 after `docker compose -f docker/compose.yml up -d elasticsearch`)");
            return None;
        }
    };
    let prefix = format!("hive-test-{}", uuid::Uuid::new_v4().simple());
    let options = EsOptions::new(url)
        .with_prefix(&prefix)
        .with_refresh(Refresh::Immediate);
    Some(EsStore::connect(options).await.unwrap())
}

macro_rules! live_event_store {
    ($($case:ident),+ $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn $case() {
                let Some(store) = fresh().await else { return };
                hive_testkit::event_store::$case(std::sync::Arc::new(store.event_store())).await;
                store.delete_indices().await.unwrap();
            }
        )+
    };
}

live_event_store!(
    conflict_is_typed,
    batch_append_is_atomic,
    versions_are_gap_free_from_one,
    envelopes_round_trip,
    invalid_batches_are_rejected,
    reappend_is_idempotent,
    stream_version_and_head_position,
    read_stream_from_version,
    large_stream_is_read_whole,
    global_log_is_ordered_and_gap_free,
    events_by_type_in_time_range,
    events_by_correlation_across_aggregates,
    search_by_criteria,
    search_pages_and_totals,
    lookups_without_match_are_empty,
    concurrent_writers_on_one_stream,
    concurrent_writers_on_many_streams,
);

#[cfg(feature = "billing")]
macro_rules! live_payment_search_index {
    ($($case:ident),+ $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn $case() {
                let Some(store) = fresh().await else { return };
                let index = store.payment_search_index();
                index.ensure_index().await.unwrap();
                hive_testkit::billing::search_index::$case(std::sync::Arc::new(index)).await;
                store.delete_indices().await.unwrap();
            }
        )+
    };
}

#[cfg(feature = "billing")]
mod payment_search_index {
    use super::fresh;

    live_payment_search_index!(
        documents_round_trip,
        bulk_reports_every_item,
        filters_match_the_reference,
        fuzzy_text_matches_like_fuzziness_auto,
        suggestions_complete_prefixes,
    );
}

macro_rules! live_event_analytics {
    ($($case:ident),+ $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn $case() {
                let Some(store) = fresh().await else { return };
                hive_testkit::event_analytics::$case(std::sync::Arc::new(store.event_store())).await;
                store.delete_indices().await.unwrap();
            }
        )+
    };
}

mod event_analytics {
    use super::fresh;

    live_event_analytics!(
        statistics_match_the_reference,
        trends_match_the_reference,
        heatmap_matches_the_reference,
        filters_and_empty_ranges,
    );
}

macro_rules! live_side_store {
    ($store:ident, $module:ident, [$($case:ident),+ $(,)?]) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn $case() {
                let Some(store) = fresh().await else { return };
                hive_testkit::$module::$case(std::sync::Arc::new(store.$store())).await;
                store.delete_indices().await.unwrap();
            }
        )+
    };
}

mod snapshot_store {
    use super::fresh;

    live_side_store!(
        snapshot_store,
        snapshot_store,
        [
            unknown_is_none,
            round_trips,
            newer_replaces_older,
            older_does_not_replace_newer,
        ]
    );
}

mod checkpoint_store {
    use super::fresh;

    live_side_store!(
        checkpoint_store,
        checkpoint_store,
        [
            unknown_is_none,
            round_trips,
            save_overwrites,
            list_contains_saved,
            dead_letters_per_projection,
        ]
    );
}
