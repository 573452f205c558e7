//! The `hive-testkit` conformance suites against a live cluster (`HIVE_ELASTICSEARCH_URL`:
//! the OpenSearch node `cargo xtask test` starts, or an Elasticsearch 8 of your own), one macro
//! call per port (with `--all-features`, the billing payment search index and read model too).
//! Every test runs on indices of its own (`hive-test-<uuid>-*`), deleted afterwards.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::live::{delete_indices, fresh, server};
use hive_testkit::Held;

mod event_store {
    use super::*;
    hive_testkit::event_store_conformance!(skip_unless = server(), async {
        let store = fresh().await;
        Held::with_guard(store.event_store(), delete_indices(store))
    });
}

mod event_lookup {
    use super::*;
    hive_testkit::event_lookup_conformance!(skip_unless = server(), async {
        let store = fresh().await;
        Held::with_guard(store.event_store(), delete_indices(store))
    });
}

mod event_search {
    use super::*;
    hive_testkit::event_search_conformance!(skip_unless = server(), async {
        let store = fresh().await;
        Held::with_guard(store.event_store(), delete_indices(store))
    });
}

mod event_analytics {
    use super::*;
    hive_testkit::event_analytics_conformance!(skip_unless = server(), async {
        let store = fresh().await;
        Held::with_guard(store.event_store(), delete_indices(store))
    });
}

mod snapshot_store {
    use super::*;
    hive_testkit::snapshot_store_conformance!(skip_unless = server(), async {
        let store = fresh().await;
        Held::with_guard(store.snapshot_store(), delete_indices(store))
    });
}

mod checkpoint_store {
    use super::*;
    hive_testkit::checkpoint_store_conformance!(skip_unless = server(), async {
        let store = fresh().await;
        Held::with_guard(store.checkpoint_store(), delete_indices(store))
    });
}

#[cfg(feature = "billing")]
mod payment_search_index {
    use super::*;
    hive_testkit::payment_search_index_conformance!(skip_unless = server(), async {
        let store = fresh().await;
        let index = store.payment_search_index();
        index.ensure_index().await.unwrap();
        Held::with_guard(index, delete_indices(store))
    });
}

#[cfg(feature = "billing")]
mod payment_read_model {
    use super::*;
    hive_testkit::payment_read_model_conformance!(skip_unless = server(), async {
        let store = fresh().await;
        let read_model = store.payment_read_model();
        read_model.ensure_index().await.unwrap();
        Held::with_guard(read_model, delete_indices(store))
    });
}
