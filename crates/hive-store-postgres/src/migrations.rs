//! Versioned migrations, embedded in the crate and applied at connect.
//!
//! Every migration is a file of `migrations/` (`0001_events.sql`, …) listed in [`MIGRATIONS`].
//! [`crate::PostgresStore::connect`] applies the ones the schema has not recorded, in version
//! order, in **one transaction** that first takes `pg_advisory_xact_lock(MIGRATION_LOCK)`:
//! two instances starting at once queue on the lock, and the second finds everything
//! recorded. Each applied migration is recorded in
//! `<schema>.hive_migrations (version, name, applied_at)`. The files name no schema: they run
//! with `search_path` set to the configured one.
//!
//! A feature's migrations (the `billing` feature's `0002_payments.sql`) are applied by the
//! builds that have the feature; their versions are [`FEATURE_VERSIONS`], so a build without
//! the feature still opens a schema that a build with it migrated.

use deadpool_postgres::Client;

use crate::error::PostgresError;
use crate::options::PostgresOptions;

/// The key of the transaction-level advisory lock held while migrating (any schema of the
/// database: migrations are rare and short, so one key serialises them all).
pub const MIGRATION_LOCK: i64 = 0x6869_7665_5f6d_6967; // "hive_mig"

/// One migration: a version, a name and its SQL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Migration {
    /// Its version (the number its file starts with); applied in increasing order.
    pub version: i32,
    /// Its name (the rest of its file name).
    pub name: &'static str,
    /// Its statements.
    pub sql: &'static str,
}

/// The versions that belong to optional features, with the feature's name: a build without
/// the feature finds them recorded, neither applies nor refuses them.
pub const FEATURE_VERSIONS: &[(i32, &str)] = &[(2, "billing")];

/// Every migration of the core, in version order. The `billing` feature's come from
/// [`all`].
pub const MIGRATIONS: &[Migration] = &[Migration {
    version: 1,
    name: "events",
    sql: include_str!("../migrations/0001_events.sql"),
}];

/// The migrations this build applies: the core's and, with features, theirs, by version.
pub fn all() -> Vec<Migration> {
    #[allow(unused_mut)] // extended by features
    let mut all = MIGRATIONS.to_vec();
    // A feature's migrations join here, e.g. `all.extend_from_slice(crate::billing::MIGRATIONS)`.
    #[cfg(feature = "billing")]
    all.extend_from_slice(crate::billing::MIGRATIONS);
    all.sort_by_key(|m| m.version);
    all
}

/// Creates the schema if needed and applies the migrations it has not recorded, in one
/// transaction under the migration lock. Returns the versions applied now.
pub(crate) async fn migrate(client: &mut Client, options: &PostgresOptions) -> Result<Vec<i32>, PostgresError> {
    let schema = options.quoted_schema();
    let tx = client
        .transaction()
        .await
        .map_err(PostgresError::query("begin the migrations"))?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
        .await
        .map_err(PostgresError::query("take the migration lock"))?;
    // Only a missing schema is created: a role allowed to use a schema made for it, but not to
    // create schemas in the database, must still start.
    let exists = tx
        .query_opt("SELECT 1 FROM pg_namespace WHERE nspname = $1", &[&options.schema])
        .await
        .map_err(PostgresError::query("look the schema up"))?
        .is_some();
    if !exists {
        tx.batch_execute(&format!("CREATE SCHEMA {schema}"))
            .await
            .map_err(PostgresError::query("create the schema"))?;
    }
    tx.batch_execute(&format!(
        "CREATE TABLE IF NOT EXISTS {schema}.hive_migrations (
             version    INTEGER     PRIMARY KEY,
             name       TEXT        NOT NULL,
             applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
         );
         SET LOCAL search_path TO {schema};"
    ))
    .await
    .map_err(PostgresError::query("create the schema"))?;
    let recorded = tx
        .query("SELECT version, name FROM hive_migrations ORDER BY version", &[])
        .await
        .map_err(PostgresError::query("read the applied migrations"))?;
    let known = all();
    let mut applied_before = Vec::with_capacity(recorded.len());
    for row in &recorded {
        let version: i32 = row.get(0);
        let name: String = row.get(1);
        let elsewhere = FEATURE_VERSIONS.iter().any(|(v, _)| *v == version);
        if !elsewhere && !known.iter().any(|m| m.version == version) {
            return Err(PostgresError::UnknownMigration { version, name });
        }
        applied_before.push(version);
    }
    let mut applied = Vec::new();
    for migration in known.iter().filter(|m| !applied_before.contains(&m.version)) {
        let failed = |source| PostgresError::Migration {
            version: migration.version,
            name: migration.name,
            source,
        };
        tx.batch_execute(migration.sql).await.map_err(failed)?;
        tx.execute(
            "INSERT INTO hive_migrations (version, name) VALUES ($1, $2)",
            &[&migration.version, &migration.name],
        )
        .await
        .map_err(failed)?;
        applied.push(migration.version);
    }
    tx.commit()
        .await
        .map_err(PostgresError::query("commit the migrations"))?;
    if !applied.is_empty() {
        tracing::info!(schema = %options.schema, ?applied, "PostgreSQL migrations applied");
    }
    Ok(applied)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_distinct_and_files_name_no_schema() {
        let all = all();
        for pair in all.windows(2) {
            assert!(pair[0].version < pair[1].version, "{pair:?}");
        }
        for migration in &all {
            assert!(!migration.sql.contains("hive."), "{} qualifies a name", migration.name);
        }
        for (version, _) in FEATURE_VERSIONS {
            assert!(
                MIGRATIONS.iter().all(|m| m.version != *version),
                "a core migration takes feature version {version}"
            );
        }
    }
}
