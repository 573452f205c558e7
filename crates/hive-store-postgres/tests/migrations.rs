//! Migrations: applied once, recorded, safe when instances start at once, refused when the
//! schema is newer than the crate.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{drop_schema, fresh_schema, server};
use hive_store_postgres::{migrations, PostgresError, PostgresOptions, PostgresStore};

fn options(schema: &str) -> PostgresOptions {
    PostgresOptions::default().with_schema(schema).with_pool_size(2)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_connects_on_a_fresh_schema_migrate_once() {
    if !server() {
        return;
    }
    let url = common::url().unwrap();
    let schema = fresh_schema();
    let connects: Vec<_> = (0..6)
        .map(|_| {
            let (url, options) = (url.clone(), options(&schema));
            tokio::spawn(async move { PostgresStore::connect(&url, options).await })
        })
        .collect();
    let mut stores = Vec::new();
    for connect in connects {
        stores.push(connect.await.unwrap().expect("every concurrent connect succeeds"));
    }
    let _drop = drop_schema(stores[0].clone());
    let want: Vec<(i32, String)> = migrations::all()
        .iter()
        .map(|m| (m.version, m.name.to_owned()))
        .collect();
    for store in &stores {
        assert_eq!(store.applied_migrations().await.unwrap(), want);
    }
    // A later start finds everything applied and changes nothing.
    let again = PostgresStore::connect(&url, options(&schema)).await.unwrap();
    assert_eq!(again.applied_migrations().await.unwrap(), want);
}

/// A migrated fresh schema whose `hive_migrations` also records `(version, name)`, as another
/// build would have; its URL, schema and store.
async fn migrated_and_recording(version: i32, name: &str) -> (String, String, PostgresStore) {
    let url = common::url().unwrap();
    let schema = fresh_schema();
    let store = PostgresStore::connect(&url, options(&schema)).await.unwrap();
    common::raw_client()
        .await
        .execute(
            &format!("INSERT INTO \"{schema}\".hive_migrations (version, name) VALUES ($1, $2)"),
            &[&version, &name],
        )
        .await
        .unwrap();
    (url, schema, store)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_schema_migrated_by_a_newer_hive_is_refused() {
    if !server() {
        return;
    }
    let (url, schema, store) = migrated_and_recording(9999, "from_the_future").await;
    let _drop = drop_schema(store);
    match PostgresStore::connect(&url, options(&schema)).await {
        Err(PostgresError::UnknownMigration { version, name }) => {
            assert_eq!((version, name.as_str()), (9999, "from_the_future"));
        }
        other => panic!("expected UnknownMigration, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_feature_migration_is_applied_or_tolerated() {
    if !server() {
        return;
    }
    let (version, feature) = migrations::FEATURE_VERSIONS[0];
    let recorded = |migrations: Vec<(i32, String)>| migrations.iter().any(|(v, _)| *v == version);
    if migrations::all().iter().any(|m| m.version == version) {
        // This build has the feature: its migration is applied at connect.
        let store = common::fresh_default().await;
        let _drop = drop_schema(store.clone());
        assert!(recorded(store.applied_migrations().await.unwrap()));
        return;
    }
    // A build with the feature migrated the schema: this one opens it all the same.
    let (url, schema, store) = migrated_and_recording(version, feature).await;
    let _drop = drop_schema(store);
    let again = PostgresStore::connect(&url, options(&schema)).await.unwrap();
    assert!(recorded(again.applied_migrations().await.unwrap()));
}

#[tokio::test]
async fn bad_schema_names_and_urls_are_refused_before_connecting() {
    let bad = PostgresStore::connect("postgres://nobody@127.0.0.1:1/x", options("Robert'); DROP")).await;
    assert!(matches!(bad, Err(PostgresError::InvalidSchema(_))), "{bad:?}");
    let url = PostgresStore::connect("postgres://[not a url", options("hive")).await;
    assert!(matches!(url, Err(PostgresError::InvalidUrl(_))), "{url:?}");
}

#[tokio::test]
async fn an_unreachable_server_is_unavailable() {
    let options = options("hive")
        .with_connect_timeout(std::time::Duration::from_millis(500))
        .with_wait_timeout(std::time::Duration::from_millis(500));
    let error = PostgresStore::connect("postgres://nobody@127.0.0.1:1/x", options)
        .await
        .unwrap_err();
    assert!(error.is_unavailable(), "{error:?}");
    assert!(matches!(
        hive_domain::EventStoreError::from(error),
        hive_domain::EventStoreError::Unavailable(_)
    ));
}

/// A URL to the test server's host and port as `user` with `password`, to `database`; `None`
/// when the test server is reached through a socket.
fn url_as(user: &str, password: &str, database: &str) -> Option<String> {
    use hive_store_postgres::tokio_postgres::config::Host;
    let config: hive_store_postgres::tokio_postgres::Config = common::url()?.parse().ok()?;
    match (config.get_hosts().first(), config.get_ports().first()) {
        (Some(Host::Tcp(host)), Some(port)) => Some(format!("postgres://{user}:{password}@{host}:{port}/{database}")),
        _ => None,
    }
}

/// The test server's user and database.
fn own_user_and_database() -> (String, String) {
    let config: hive_store_postgres::tokio_postgres::Config = common::url().unwrap().parse().unwrap();
    let user = config.get_user().unwrap_or("postgres").to_owned();
    (user.clone(), config.get_dbname().unwrap_or(&user).to_owned())
}

/// A server that answers but refuses (an unknown database) is a backend error, not
/// `Unavailable`: retrying will not help.
#[tokio::test]
async fn a_refusing_server_is_a_backend_error() {
    if !server() {
        return;
    }
    let (user, _) = own_user_and_database();
    let Some(url) = url_as(&user, "", "hive_no_such_database") else {
        return;
    };
    let error = PostgresStore::connect(&url, options("hive")).await.unwrap_err();
    assert!(!error.is_unavailable(), "{error:?}");
    assert!(matches!(
        hive_domain::EventStoreError::from(error),
        hive_domain::EventStoreError::Backend(_)
    ));
}

/// A role that may not create schemas in the database starts on a schema made for it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_role_without_create_on_the_database_uses_its_schema() {
    if !server() {
        return;
    }
    let (_, database) = own_user_and_database();
    let schema = fresh_schema();
    let role = format!("{schema}_role");
    let Some(url) = url_as(&role, "limited", &database) else {
        return;
    };
    let admin = common::raw_client().await;
    admin
        .batch_execute(&format!(
            "CREATE ROLE {role} LOGIN PASSWORD 'limited'; CREATE SCHEMA {schema} AUTHORIZATION {role};"
        ))
        .await
        .unwrap();
    let connected = PostgresStore::connect(&url, options(&schema)).await;
    let cannot_create = admin
        .query_one(
            "SELECT has_database_privilege($1, current_database(), 'CREATE')",
            &[&role],
        )
        .await
        .unwrap()
        .get::<_, bool>(0);
    admin
        .batch_execute(&format!("DROP SCHEMA {schema} CASCADE; DROP ROLE {role};"))
        .await
        .unwrap();
    assert!(!cannot_create, "the role may create schemas: the test proves nothing");
    let store = connected.unwrap();
    assert_eq!(store.schema(), schema);
}
