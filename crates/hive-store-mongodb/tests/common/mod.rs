//! A fresh database per test on the server of `HIVE_MONGODB_URI`, dropped when the test ends.

#![allow(dead_code, unreachable_pub)]

use hive_store_mongodb::{MongoOptions, MongoStore};

/// The variable `cargo xtask test` sets.
pub const ENV: &str = "HIVE_MONGODB_URI";

/// The server's URI, or `None` after a skip notice.
pub fn uri() -> Option<String> {
    hive_testkit::backend::url(ENV)
}

/// Whether a server is configured (prints the skip notice when not).
pub fn server() -> bool {
    uri().is_some()
}

/// Drops the test's database when dropped (the guard of a [`hive_testkit::Held`] store).
pub fn drop_database(store: MongoStore) -> hive_testkit::CleanUp {
    hive_testkit::CleanUp::new(async move {
        if let Err(error) = store.drop_database().await {
            eprintln!("could not drop the test database: {error}");
        }
    })
}

/// A store on a database of its own (`hive_test_<uuid>`).
pub async fn fresh(options: MongoOptions) -> MongoStore {
    let uri = std::env::var(ENV).expect("HIVE_MONGODB_URI");
    let database = format!("hive_test_{}", uuid::Uuid::new_v4().simple());
    MongoStore::connect(&uri, options.with_database(database))
        .await
        .unwrap()
}

/// [`fresh`] with the default options.
pub async fn fresh_default() -> MongoStore {
    fresh(MongoOptions::default()).await
}
