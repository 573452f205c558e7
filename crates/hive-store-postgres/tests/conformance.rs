//! The hive-testkit conformance suites on PostgreSQL, one schema per test (skipped without
//! `HIVE_POSTGRES_URL`, failed without it where backends are required).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{drop_schema, fresh_default, server};
use hive_testkit::Held;

mod events {
    use super::*;
    hive_testkit::event_store_conformance!(skip_unless = server(), async {
        let store = fresh_default().await;
        Held::with_guard(store.event_store(), drop_schema(store))
    });
}

mod lookup {
    use super::*;
    hive_testkit::event_lookup_conformance!(skip_unless = server(), async {
        let store = fresh_default().await;
        Held::with_guard(store.event_store(), drop_schema(store))
    });
}

mod search {
    use super::*;
    hive_testkit::event_search_conformance!(skip_unless = server(), async {
        let store = fresh_default().await;
        Held::with_guard(store.event_store(), drop_schema(store))
    });
}

mod snapshots {
    use super::*;
    hive_testkit::snapshot_store_conformance!(skip_unless = server(), async {
        let store = fresh_default().await;
        Held::with_guard(store.snapshot_store(), drop_schema(store))
    });
}

mod checkpoints {
    use super::*;
    hive_testkit::checkpoint_store_conformance!(skip_unless = server(), async {
        let store = fresh_default().await;
        Held::with_guard(store.checkpoint_store(), drop_schema(store))
    });
}

mod analytics {
    use super::*;
    hive_testkit::event_analytics_conformance!(skip_unless = server(), async {
        let store = fresh_default().await;
        Held::with_guard(store.event_store(), drop_schema(store))
    });
}
