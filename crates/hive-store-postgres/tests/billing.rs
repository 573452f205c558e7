//! The payment read model on PostgreSQL (feature `billing`): the hive-testkit conformance
//! suite, one schema per test, and a batch of records committed with its projection
//! checkpoint in one transaction (skipped without `HIVE_POSTGRES_URL`, failed without it
//! where backends are required).

#![cfg(feature = "billing")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{drop_schema, fresh_default, server};
use hive_testkit::Held;

mod read_model {
    use super::*;
    hive_testkit::payment_read_model_conformance!(skip_unless = server(), async {
        let store = fresh_default().await;
        Held::with_guard(store.payment_read_model(), drop_schema(store))
    });
}
