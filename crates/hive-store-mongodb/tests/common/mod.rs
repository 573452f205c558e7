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

/// Drops the test's database when dropped.
pub struct DropDatabase(pub MongoStore);

impl Drop for DropDatabase {
    fn drop(&mut self) {
        let store = self.0.clone();
        if let Ok(handle) = tokio::runtime::Handle::try_current() {
            tokio::task::block_in_place(|| {
                if let Err(error) = handle.block_on(store.drop_database()) {
                    eprintln!("could not drop the test database: {error}");
                }
            });
        }
    }
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
