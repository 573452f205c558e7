//! The Redis level passes the cache conformance suite (against `HIVE_REDIS_URL`, each test under
//! its own prefix, deleted afterwards; skipped when it is not set).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

hive_testkit::cache_conformance!(skip_unless = common::redis_url().is_some(), async {
    common::held_cache(&common::redis_url().unwrap())
});
