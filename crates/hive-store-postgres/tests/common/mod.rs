//! A fresh schema per test in the database of `HIVE_POSTGRES_URL`, dropped when the test ends.

#![allow(dead_code, unreachable_pub)]

use hive_store_postgres::{PostgresOptions, PostgresStore};

/// The variable `cargo xtask test` sets.
pub const ENV: &str = hive_testkit::backend::POSTGRES;

/// The server's URL, or `None` after a skip notice (a panic where backends are required).
pub fn url() -> Option<String> {
    hive_testkit::backend::url(ENV)
}

/// Whether a server is configured (prints the skip notice when not).
pub fn server() -> bool {
    url().is_some()
}

/// A schema name no other test uses: `hive_test_<uuid>`.
pub fn fresh_schema() -> String {
    format!("hive_test_{}", uuid::Uuid::new_v4().simple())
}

/// Drops the test's schema when dropped (the guard of a [`hive_testkit::Held`] store).
pub fn drop_schema(store: PostgresStore) -> hive_testkit::CleanUp {
    hive_testkit::CleanUp::new(async move {
        if let Err(error) = store.drop_schema().await {
            eprintln!("could not drop the test schema: {error}");
        }
    })
}

/// A store on a schema of its own, with `options` otherwise.
pub async fn fresh(options: PostgresOptions) -> PostgresStore {
    let url = std::env::var(ENV).expect("HIVE_POSTGRES_URL");
    PostgresStore::connect(&url, options.with_schema(fresh_schema()))
        .await
        .expect("connect to HIVE_POSTGRES_URL")
}

/// [`fresh`] with the default options (a small pool: many tests run at once).
pub async fn fresh_default() -> PostgresStore {
    fresh(PostgresOptions::default().with_pool_size(4)).await
}

/// A plain connection to the test server, outside any store (to tamper with a schema).
pub async fn raw_client() -> hive_store_postgres::tokio_postgres::Client {
    let url = std::env::var(ENV).expect("HIVE_POSTGRES_URL");
    let (client, connection) =
        hive_store_postgres::tokio_postgres::connect(&url, hive_store_postgres::tokio_postgres::NoTls)
            .await
            .expect("connect to HIVE_POSTGRES_URL");
    tokio::spawn(connection);
    client
}
