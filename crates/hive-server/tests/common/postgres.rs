//! A PostgreSQL schema of a test's own: the service's configuration on it, the adapter on it,
//! and its drop at the end.

use std::path::Path;

use hive_server::config::Layer;
use hive_store_postgres::{tokio_postgres, PostgresOptions, PostgresStore};

/// A fresh schema on the server (`hive_it_<uuid>`), dropped when this drops, so a failing
/// assertion cleans up too.
pub struct Schema {
    pub url: String,
    pub name: String,
}

impl Schema {
    pub fn new(url: String) -> Self {
        let name = format!("hive_it_{}", uuid::Uuid::new_v4().simple());
        Self { url, name }
    }

    /// The service on this schema: events, snapshots, checkpoints and the read model (the
    /// search index in memory, rebuilt at start).
    pub fn layer(&self, data_dir: &Path) -> Layer {
        Layer {
            data_dir: Some(data_dir.display().to_string()),
            store: Some("postgres".into()),
            postgres_url: Some(self.url.clone()),
            postgres_schema: Some(self.name.clone()),
            ..Layer::default()
        }
    }

    /// The `HIVE_…` variables of a `hive serve` process on this schema (see
    /// [`super::process::Process`]).
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("HIVE_STORE", "postgres".to_owned()),
            ("HIVE_POSTGRES_URL", self.url.clone()),
            ("HIVE_POSTGRES_SCHEMA", self.name.clone()),
        ]
    }

    /// The adapter's options on this schema.
    pub fn options(&self) -> PostgresOptions {
        PostgresOptions::default().with_schema(&self.name)
    }

    /// The adapter on this schema (created and migrated when missing).
    pub async fn connect(&self) -> PostgresStore {
        PostgresStore::connect(&self.url, self.options()).await.unwrap()
    }
}

impl Drop for Schema {
    fn drop(&mut self) {
        let (url, options) = (self.url.clone(), self.options());
        // On a thread of its own: a runtime cannot be blocked on from within another.
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
            runtime.block_on(async {
                let store = PostgresStore::connect(&url, options)
                    .await
                    .map_err(std::io::Error::other)?;
                store.drop_schema().await.map_err(std::io::Error::other)
            })
        })
        .join();
        if !matches!(dropped, Ok(Ok(()))) {
            eprintln!("could not drop the test schema {}: {dropped:?}", self.name);
        }
    }
}

/// A row of the schema's payment read model held locked (`SELECT … FOR UPDATE` in an open
/// transaction on a connection of its own) until [`RowLock::release`]: a projection page that
/// updates it waits inside its transaction, its rows before it written and uncommitted.
pub struct RowLock {
    holder: tokio_postgres::Client,
    watcher: tokio_postgres::Client,
    holder_pid: i32,
}

async fn session(url: &str) -> tokio_postgres::Client {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls).await.unwrap();
    tokio::spawn(connection);
    client
}

impl RowLock {
    /// Locks the row of `payment_key` (it must exist) in `schema`'s `payments`.
    pub async fn take(schema: &Schema, payment_key: &str) -> Self {
        let holder = session(&schema.url).await;
        holder.batch_execute("BEGIN").await.unwrap();
        let sql = format!(
            "SELECT 1 FROM \"{}\".payments WHERE payment_key = $1 FOR UPDATE",
            schema.name
        );
        let locked = holder.query(&sql, &[&payment_key]).await.unwrap();
        assert_eq!(locked.len(), 1, "no read-model row {payment_key} to lock");
        let holder_pid: i32 = holder.query_one("SELECT pg_backend_pid()", &[]).await.unwrap().get(0);
        // Its own session: a transaction sees the activity view as of its first look at it.
        let watcher = session(&schema.url).await;
        Self {
            holder,
            watcher,
            holder_pid,
        }
    }

    /// The server processes waiting for this lock.
    pub async fn waiting(&self) -> Vec<i32> {
        let sql = "SELECT pid FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))";
        let rows = self.watcher.query(sql, &[&self.holder_pid]).await.unwrap();
        rows.iter().map(|row| row.get(0)).collect()
    }

    /// Rolls the locking transaction back, then waits until the server processes `pids` are
    /// gone (a process whose client was killed ends once it runs again and finds the
    /// connection closed, rolling its transaction back).
    pub async fn release(self, pids: &[i32]) {
        self.holder.batch_execute("ROLLBACK").await.unwrap();
        let sql = "SELECT count(*) FROM pg_stat_activity WHERE pid = ANY($1)";
        for _ in 0..1000 {
            let alive: i64 = self.watcher.query_one(sql, &[&pids]).await.unwrap().get(0);
            if alive == 0 {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        panic!("the server processes {pids:?} of the killed service are still there after 10 s");
    }
}
