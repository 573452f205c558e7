//! The hive-testkit conformance suites on MongoDB (skipped without `HIVE_MONGODB_URI`).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{drop_database, fresh, fresh_default, server};
use hive_store_mongodb::{MongoOptions, TransactionMode};
use hive_testkit::Held;

/// The event-store core suite without the look-up indexes: they change no answer, and each one
/// makes SecantusDB's inserts slower (its 100 000-event case would take minutes). The
/// look-up and search suites run with every index in `lookups`.
mod events {
    use super::*;
    hive_testkit::event_store_conformance!(skip_unless = server(), async {
        let store = fresh(MongoOptions::default().with_lookup_indexes(false)).await;
        assert!(store.uses_transactions(), "the test server runs transactions");
        Held::with_guard(store.event_store(), drop_database(store))
    });
}

/// The optional capabilities, with every look-up index (the default options).
mod lookups {
    use super::*;
    hive_testkit::event_lookup_conformance!(skip_unless = server(), async {
        let store = fresh_default().await;
        Held::with_guard(store.event_store(), drop_database(store))
    });
    hive_testkit::event_search_conformance!(skip_unless = server(), async {
        let store = fresh_default().await;
        Held::with_guard(store.event_store(), drop_database(store))
    });
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

/// Every event-store suite again without transactions: the lease-and-watermark fallback.
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

    hive_testkit::event_store_conformance!(skip_unless = server(), store());
    hive_testkit::event_lookup_conformance!(skip_unless = server(), store());
    hive_testkit::event_search_conformance!(skip_unless = server(), store());

    mod analytics {
        use super::*;
        hive_testkit::event_analytics_conformance!(skip_unless = server(), async {
            let store = fresh(MongoOptions::default().with_transactions(TransactionMode::Never)).await;
            Held::with_guard(store.event_store(), drop_database(store))
        });
    }
}
