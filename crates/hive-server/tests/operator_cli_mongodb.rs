//! The operator commands as processes on MongoDB, where the payment read model is shared by
//! every instance and outlives them: `search verify` reports what differs from the index and
//! the event log (documents found only in the index too), `projections rebuild` refuses while
//! another instance serves the read model — the projection lease it holds in Redis, or no way
//! to tell without Redis — and rebuilds once every instance is stopped. Skipped without
//! `HIVE_MONGODB_URI` (a failure in CI); the lease test starts a `redis-server` of its own.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
mod operator;

use std::time::{Duration, Instant};

use common::process::Process;
use common::redis::OwnRedis;
use hive_billing::{PaymentKey, PaymentReadModel};
use hive_store_mongodb::mongodb::bson::doc;
use hive_store_mongodb::{MongoOptions, MongoStore};
use operator::{hive_blocking, seeded_events, status_rows, verify_one_out_of_sync, Run, READ_MODEL, SEARCH};

/// A fresh database on the server, dropped at the end (also when an assertion fails).
struct Database {
    uri: String,
    name: String,
    store: MongoStore,
    _drop: hive_testkit::CleanUp,
}

impl Database {
    async fn new() -> Option<Self> {
        let uri = hive_testkit::backend::url(hive_testkit::backend::MONGODB)?;
        let name = format!("hive_test_cli_{}", uuid::Uuid::new_v4().simple());
        let store = MongoStore::connect(&uri, MongoOptions::default().with_database(name.clone()))
            .await
            .unwrap();
        let dropped = store.clone();
        let _drop = hive_testkit::CleanUp::new(async move {
            let _ = tokio::time::timeout(Duration::from_secs(10), dropped.drop_database()).await;
        });
        Some(Self {
            uri,
            name,
            store,
            _drop,
        })
    }

    /// The service's variables for this database.
    fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("HIVE_STORE", "mongodb".to_owned()),
            ("HIVE_MONGODB_URI", self.uri.clone()),
            ("HIVE_MONGODB_DATABASE", self.name.clone()),
        ]
    }
}

/// The refusal of a rebuild while the read model may be served, with what to do.
#[track_caller]
fn assert_refused(run: &Run, because: &str) {
    assert_eq!(run.code, 1, "{run}");
    let start = format!("hive: refusing to rebuild `{READ_MODEL}`: {because}");
    assert!(run.stderr.lines().any(|l| l.starts_with(&start)), "{run}");
    assert!(
        run.stderr.contains(
            "until the replay ends their queries would see it half-filled. Stop every `hive serve` on this store"
        ),
        "{run}"
    );
    assert_eq!(run.stdout, "", "nothing rebuilt: {run}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_reports_what_differs_and_an_offline_rebuild_repairs_the_shared_read_model() {
    let Some(db) = Database::new().await else { return };
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    let env = db.env();
    let seed = hive_blocking(dir, &env, &["demo", "seed", "--payments", "40"]).success();
    let events = seeded_events(&seed.stdout);
    let status = hive_blocking(dir, &env, &["projections", "status"]).success();
    let rows = status_rows(&status.stdout);
    assert!(
        rows.iter().all(|r| (r.position, r.head, r.lag) == (events, events, 0)),
        "{status}"
    );
    let verify = hive_blocking(dir, &env, &["search", "verify"]).success();
    assert_eq!(verify.stdout, "checked 40 payments, 0 mismatches\n");

    // Behind the service's back: one record deleted, one changed, one that no event made.
    let read_model = db.store.payment_read_model().await.unwrap();
    let keys = read_model.list_keys(None, None, 3).await.unwrap();
    let (deleted, changed, copied) = (&keys[0], &keys[1], &keys[2]);
    let records = db
        .store
        .database()
        .collection::<hive_store_mongodb::mongodb::bson::Document>("payment_read_models");
    let gone = records.delete_one(doc! { "_id": deleted.as_str() }).await.unwrap();
    assert_eq!(gone.deleted_count, 1);
    let mut record = read_model.get(changed).await.unwrap().unwrap();
    let currency = record.payment.currency.to_string();
    record.payment.currency = "CHF".parse().unwrap();
    read_model.upsert(record).await.unwrap();
    let mut ghost = read_model.get(copied).await.unwrap().unwrap();
    ghost.payment.payment_id = "pay-ghost".into();
    let ghost_key = PaymentKey::new(copied.organization_id(), "pay-ghost");
    read_model.upsert(ghost).await.unwrap();

    // The index (in memory, rebuilt from the log at every start) still has the deleted one.
    let verify = hive_blocking(dir, &env, &["search", "verify"]).exits(1);
    assert!(
        verify.stdout.starts_with("checked 41 payments, 3 mismatches\n"),
        "{verify}"
    );
    for line in [
        format!("  {deleted}: only in the search index (the read model does not hold it)"),
        format!("  {changed}: differs: currency is `CHF` in the read model, `{currency}` in the index"),
        format!("  {ghost_key}: not in the event log (the read model holds it, the search index does not)"),
    ] {
        assert!(verify.stdout.lines().any(|l| l == line), "no line `{line}`:\n{verify}");
    }
    verify.out_of_sync_by(3);
    let verify = verify_one_out_of_sync(dir, &env, deleted);
    assert_eq!(
        verify.stdout,
        format!("checked 1 payments, 1 mismatches\n  {deleted}: only in the search index (the read model does not hold it)\n")
    );

    // Without Redis nothing tells whether an instance serves the read model: refused, untouched.
    let refused = hive_blocking(dir, &env, &["projections", "rebuild"]);
    assert_refused(&refused, "hive cannot tell whether another instance is serving it (without cache = \"moka+redis\" there is no projection lease to check)");
    assert!(
        refused
            .stderr
            .contains("then run `hive projections rebuild --offline`."),
        "{refused}"
    );
    assert!(
        read_model.get(&ghost_key).await.unwrap().is_some(),
        "the refused rebuild changed nothing"
    );

    // Every instance stopped (there is none), said so: the rebuild repairs the read model.
    let rebuild = hive_blocking(dir, &env, &["projections", "rebuild", READ_MODEL, "--offline"]).success();
    assert_eq!(
        rebuild.stdout,
        format!("{READ_MODEL}: {events} events applied, 0 dead-lettered, checkpoint at {events}\n")
    );
    rebuild.finished(READ_MODEL, &format!("{events}/{events}"), "events");
    assert!(
        read_model.get(deleted).await.unwrap().is_some(),
        "the deleted record is back"
    );
    let record = read_model.get(changed).await.unwrap().unwrap();
    assert_eq!(record.payment.currency.to_string(), currency);
    assert!(
        read_model.get(&ghost_key).await.unwrap().is_none(),
        "the record without events is gone"
    );
    let verify = hive_blocking(dir, &env, &["search", "verify"]).success();
    assert_eq!(verify.stdout, "checked 40 payments, 0 mismatches\n");
    let status = hive_blocking(dir, &env, &["projections", "status"]).success();
    let rows = status_rows(&status.stdout);
    assert!(rows.iter().all(|r| (r.position, r.lag) == (events, 0)), "{status}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rebuild_is_refused_while_an_instance_serves_the_shared_read_model() {
    let Some(db) = Database::new().await else { return };
    let Some(redis) = OwnRedis::start() else { return };
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    let mut env = db.env();
    hive_blocking(dir, &env, &["demo", "seed", "--payments", "20"]).success();
    env.push(("HIVE_CACHE", "moka+redis".to_owned()));
    env.push(("HIVE_REDIS_URL", redis.url()));
    let lease = format!("hive:cache:lease:{READ_MODEL}");

    let server = Process::start(dir, &env).await;
    let give_up = Instant::now() + Duration::from_secs(30);
    while redis.cli(&["EXISTS", &lease]) != "1" {
        assert!(
            Instant::now() < give_up,
            "the instance never took its lease:\n{}",
            server.stderr()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    for args in [
        &["projections", "rebuild"][..],
        &["projections", "rebuild", READ_MODEL, "--offline"],
    ] {
        let refused = hive_blocking(dir, &env, args);
        assert_refused(
            &refused,
            "another instance is serving it (it holds the projection's lease in Redis)",
        );
        assert!(
            refused.stderr.contains("a killed one's expires within 10 s"),
            "{refused}"
        );
    }
    // The search index is in memory, each instance's own: rebuilding it is nobody else's business.
    let own = hive_blocking(dir, &env, &["projections", "rebuild", SEARCH]).success();
    assert!(own.stdout.starts_with(&format!("{SEARCH}: ")), "{own}");

    // The instance still serves the whole read model.
    let read_model = db.store.payment_read_model().await.unwrap();
    let keys = read_model.list_keys(None, None, 100).await.unwrap();
    assert_eq!(keys.len(), 20);
    let mine = keys.iter().filter(|k| k.organization_id() == "org-dev").count();
    let (status, page) = common::call(
        reqwest::Method::GET,
        format!("{}/payments?limit=100", server.base),
        &common::token(dir),
        None,
    )
    .await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(page["items"].as_array().map(Vec::len), Some(mine), "{page}");

    // Killed, the instance leaves its lease behind until it expires: refused, then rebuilt.
    server.kill();
    let refused = hive_blocking(dir, &env, &["projections", "rebuild"]);
    assert_refused(&refused, "another instance is serving it");
    let give_up = Instant::now() + Duration::from_secs(40);
    let rebuilt = loop {
        let run = hive_blocking(dir, &env, &["projections", "rebuild"]);
        if run.code == 0 {
            break run;
        }
        assert_refused(&run, "another instance is serving it");
        assert!(Instant::now() < give_up, "the dead instance's lease never expired");
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    let events = read_model.list_keys(None, None, 100).await.unwrap().len();
    assert_eq!(events, 20);
    assert!(
        rebuilt
            .stdout
            .lines()
            .any(|l| l.starts_with(&format!("{READ_MODEL}: ")) && l.contains(" events applied, 0 dead-lettered")),
        "{rebuilt}"
    );
    rebuilt.progress(READ_MODEL, "events");
    assert_eq!(redis.cli(&["EXISTS", &lease]), "0", "the rebuild gave its lease back");
}
