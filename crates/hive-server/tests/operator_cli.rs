//! The operator commands as processes: `hive demo seed`, `projections status|rebuild`,
//! `search sync|verify` (every payment, one organization's, one payment), `events replay`, run
//! one after the other on a real data directory of the embedded durable store — what each
//! printed, its exit status, and what it changed. Their standard error is a pipe: progress
//! comes as plain lines, never as a bar. The same on a search index in Elasticsearch, which
//! outlives the process (`HIVE_ELASTICSEARCH_URL`; skipped with a notice when unset, a failure
//! in CI).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod operator;

use std::path::Path;

use hive_billing::{PaymentKey, PaymentSearchIndex, BILLING_PROJECTION_VERSION};
use hive_testkit::backend;
use operator::{
    hive, hive_blocking, indexed, seeded_events, status_rows, verify_one_out_of_sync, Indices, DEMO_ORGANIZATIONS,
    READ_MODEL, SEARCH,
};
use serde_json::Value;

const PAYMENTS: u64 = 120;

/// The organization that owns demo payment `payment`: `search sync --payment` finds it in
/// exactly one (the others do not hold a payment of that id, exit 1).
fn owner_of(dir: &Path, env: &[(&str, String)], payment: &str) -> String {
    let mut owners = Vec::new();
    for org in DEMO_ORGANIZATIONS {
        let run = hive(
            dir,
            env,
            &["search", "sync", "--organization", org, "--payment", payment],
        );
        if run.code == 0 {
            assert_eq!(indexed(&run), 1, "{run}");
            run.finished(&format!("search sync, payment {org}/{payment}"), "1", "payments");
            owners.push(org.to_owned());
        } else {
            let run = run.exits(1);
            assert!(
                run.stdout
                    .contains(&format!("  {org}/{payment}: not in the read model\n")),
                "{run}"
            );
            assert!(
                run.stderr.contains("hive: the read model does not hold that payment"),
                "{run}"
            );
        }
    }
    assert_eq!(
        owners.len(),
        1,
        "{payment} belongs to exactly one organization: {owners:?}"
    );
    owners.remove(0)
}

#[test]
fn operator_commands_on_the_embedded_durable_store() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    let env = [];

    // Seed: a summary on stdout, progress lines on stderr, ending with the final one.
    let seed = hive(dir, &env, &["demo", "seed", "--payments", &PAYMENTS.to_string()]).success();
    assert!(
        seed.stdout
            .starts_with(&format!("seeded {PAYMENTS} payments over the last 30 days: ")),
        "{seed}"
    );
    // At least one line on the way: at 100 payments, or earlier when a second passed.
    let on_the_way = seed.progress("demo seed", "payments");
    assert!(
        !on_the_way.is_empty()
            && on_the_way
                .iter()
                .all(|(done, total)| *done < PAYMENTS && *total == PAYMENTS),
        "{seed}"
    );
    seed.finished("demo seed", "120/120", "payments");
    let events = seeded_events(&seed.stdout);

    // Status: every event applied, by the current projection code (`--cache none`: see the
    // note in the report: a query cache's invalidating wrapper does not pass the version on).
    let status = hive(dir, &env, &["projections", "status", "--cache", "none"]).success();
    let rows = status_rows(&status.stdout);
    assert_eq!(
        rows.iter().map(|r| r.name.as_str()).collect::<Vec<_>>(),
        [READ_MODEL, SEARCH]
    );
    for row in &rows {
        assert_eq!((row.position, row.head, row.lag), (events, events, 0), "{status}");
        assert_eq!(row.version, BILLING_PROJECTION_VERSION, "{status}");
        let at = chrono::DateTime::parse_from_rfc3339(&row.last_processed_timestamp).unwrap();
        let age = chrono::Utc::now().signed_duration_since(at);
        assert!(
            age < chrono::Duration::days(34) && age > chrono::Duration::zero(),
            "{status}"
        );
    }

    // Rebuild: both projections, then one; each replays the whole log.
    let rebuild = hive(dir, &env, &["projections", "rebuild"]).success();
    for name in [READ_MODEL, SEARCH] {
        let line = format!("{name}: {events} events applied, 0 dead-lettered, checkpoint at {events}");
        assert!(rebuild.stdout.lines().any(|l| l == line), "{rebuild}");
        rebuild.finished(name, &format!("{events}/{events}"), "events");
    }
    let one = hive(dir, &env, &["projections", "rebuild", SEARCH]).success();
    assert_eq!(
        one.stdout,
        format!("{SEARCH}: {events} events applied, 0 dead-lettered, checkpoint at {events}\n")
    );
    let unknown = hive(dir, &env, &["projections", "rebuild", "billing.nope"]).exits(1);
    assert!(
        unknown.stderr.contains(&format!(
            "hive: no projection named `billing.nope`; known: {READ_MODEL}, {SEARCH}"
        )),
        "{unknown}"
    );
    let status = hive(dir, &env, &["projections", "status"]).success();
    assert!(
        status_rows(&status.stdout)
            .iter()
            .all(|r| r.position == events && r.lag == 0),
        "{status}"
    );

    // Sync: every payment, each organization's (they add up), one payment.
    let all = hive(dir, &env, &["search", "sync"]).success();
    assert_eq!(
        all.stdout,
        format!("indexed {PAYMENTS}, 0 already newer in the index (left as they are), 0 missing from the read model, 0 not in the event log, 0 failed\n")
    );
    all.stderr_has_line("search sync, every payment: started").finished(
        "search sync, every payment",
        &PAYMENTS.to_string(),
        "payments",
    );
    let mut per_organization = Vec::new();
    for org in DEMO_ORGANIZATIONS {
        let run = hive(dir, &env, &["search", "sync", "--organization", org]).success();
        run.finished(
            &format!("search sync, organization {org}"),
            &indexed(&run).to_string(),
            "payments",
        );
        per_organization.push(indexed(&run));
    }
    assert!(per_organization.iter().all(|n| *n > 0), "{per_organization:?}");
    assert_eq!(per_organization.iter().sum::<u64>(), PAYMENTS);
    let owner = owner_of(dir, &env, "pay-demo-00000");

    // `--payment` names a payment within an organization: without one it is a usage error.
    let usage = hive(dir, &env, &["search", "sync", "--payment", "pay-demo-00000"]).exits(2);
    assert!(usage.stderr.contains("--organization <ORG>"), "{usage}");
    let usage = hive(dir, &env, &["search", "verify", "--payment", "pay-demo-00000"]).exits(2);
    assert!(usage.stderr.contains("--organization <ORG>"), "{usage}");

    // Verify: in sync everywhere, whatever the scope.
    let verify = hive(dir, &env, &["search", "verify"]).success();
    assert_eq!(verify.stdout, format!("checked {PAYMENTS} payments, 0 mismatches\n"));
    verify.finished("search verify, every payment", &PAYMENTS.to_string(), "payments");
    let index = DEMO_ORGANIZATIONS.iter().position(|o| *o == owner).unwrap();
    let verify = hive(dir, &env, &["search", "verify", "--organization", &owner]).success();
    assert_eq!(
        verify.stdout,
        format!("checked {} payments, 0 mismatches\n", per_organization[index])
    );
    let verify = hive(
        dir,
        &env,
        &[
            "search",
            "verify",
            "--organization",
            &owner,
            "--payment",
            "pay-demo-00000",
        ],
    )
    .success();
    assert_eq!(verify.stdout, "checked 1 payments, 0 mismatches\n");
    let other = DEMO_ORGANIZATIONS.iter().find(|o| **o != owner).unwrap();
    let nowhere = [
        "search",
        "verify",
        "--organization",
        other,
        "--payment",
        "pay-demo-00000",
    ];
    let nowhere = hive(dir, &env, &nowhere).exits(1);
    assert_eq!(nowhere.stdout, "checked 0 payments, 0 mismatches\n");
    assert!(
        nowhere
            .stderr
            .contains("hive: neither the read model nor the search index holds that payment"),
        "{nowhere}"
    );

    // Replay: the payment's state as JSON, at a version; another organization has no such payment.
    let replay = hive(
        dir,
        &env,
        &["events", "replay", "pay-demo-00000", "--organization", &owner],
    )
    .success();
    let latest: Value = serde_json::from_str(&replay.stdout).unwrap();
    assert_eq!(latest["payment"]["paymentId"], "pay-demo-00000", "{replay}");
    assert_eq!(latest["payment"]["organizationId"], owner.as_str(), "{replay}");
    assert_eq!(latest["payment"]["metadata"]["invoice"], "INV-00000", "{replay}");
    assert_eq!(latest["eventsApplied"], latest["latestVersion"], "{replay}");
    let first = hive(
        dir,
        &env,
        &[
            "events",
            "replay",
            "pay-demo-00000",
            "--organization",
            &owner,
            "--version",
            "1",
        ],
    )
    .success();
    let first: Value = serde_json::from_str(&first.stdout).unwrap();
    assert_eq!(
        (first["eventsApplied"].as_u64(), first["payment"]["status"].as_str()),
        (Some(1), Some("pending"))
    );
    let missing = hive(
        dir,
        &env,
        &["events", "replay", "pay-demo-00000", "--organization", other],
    )
    .exits(1);
    assert!(missing.stderr.contains("not found"), "{missing}");
    assert_eq!(missing.stdout, "");
}

/// With `search = "elasticsearch"` the index outlives the process: a document deleted from it,
/// changed in it or found only in it is reported by `verify` (status 1); `sync` of one payment
/// puts the changed one right, a rebuild of the search projection the others.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_and_sync_a_search_index_in_elasticsearch() {
    let Some(url) = backend::url(backend::ELASTICSEARCH) else {
        return;
    };
    let indices = Indices::new(url.clone());
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    // Seeded with the search index in memory (written inline, every document would wait for
    // an Elasticsearch refresh); the first command on Elasticsearch indexes the log in bulk.
    // Few payments: the search projection writes one document at a time, each waiting for
    // a refresh of the index (about a second per event).
    hive_blocking(dir, &[], &["demo", "seed", "--payments", "10"]).success();
    let env = [
        ("HIVE_SEARCH", "elasticsearch".to_owned()),
        ("HIVE_ELASTICSEARCH_URL", url),
        ("HIVE_ELASTICSEARCH_INDEX_PREFIX", indices.prefix.clone()),
    ];
    let verify = hive_blocking(dir, &env, &["search", "verify"]).success();
    assert_eq!(verify.stdout, "checked 10 payments, 0 mismatches\n");

    let store = hive_store_elasticsearch::EsStore::connect(indices.options())
        .await
        .unwrap();
    let index = store.payment_search_index();
    let keys = index.list_keys(None, None, 3).await.unwrap();
    let (deleted, changed, copied) = (&keys[0], &keys[1], &keys[2]);
    assert!(index.delete(deleted).await.unwrap());
    let mut document = index.get(changed).await.unwrap().unwrap();
    let status = document.payment.status;
    document.payment.currency = "CHF".parse().unwrap();
    index.index(vec![document.clone()]).await.unwrap();
    let mut stray = index.get(copied).await.unwrap().unwrap();
    stray.payment.payment_id = "pay-stray".into();
    let stray_key = PaymentKey::new(copied.organization_id(), "pay-stray");
    assert_eq!(stray.payment.key(), stray_key);
    index.index(vec![stray]).await.unwrap();

    let verify = hive_blocking(dir, &env, &["search", "verify"]).exits(1);
    assert!(
        verify.stdout.starts_with("checked 11 payments, 3 mismatches\n"),
        "{verify}"
    );
    assert!(
        verify
            .stdout
            .contains(&format!("\n  {deleted}: missing from the search index\n")),
        "{verify}"
    );
    let currency = hive_blocking(
        dir,
        &[],
        &[
            "events",
            "replay",
            changed.payment_id(),
            "--organization",
            changed.organization_id(),
        ],
    )
    .success();
    let currency: Value = serde_json::from_str(&currency.stdout).unwrap();
    let currency = currency["payment"]["currency"].as_str().unwrap().to_owned();
    assert!(
        verify.stdout.contains(&format!(
            "\n  {changed}: differs: currency is `{currency}` in the read model, `CHF` in the index\n"
        )),
        "{verify}"
    );
    assert!(
        verify.stdout.contains(&format!(
            "\n  {stray_key}: not in the event log (the read model does not, the search index holds it)\n"
        )),
        "a document found only in the index is reported:\n{verify}"
    );
    verify.out_of_sync_by(3);
    let verify = verify_one_out_of_sync(dir, &env, deleted);
    assert_eq!(
        verify.stdout,
        format!("checked 1 payments, 1 mismatches\n  {deleted}: missing from the search index\n")
    );

    // Sync of the changed payment: the read model's view written over it.
    let sync = [
        "search",
        "sync",
        "--organization",
        changed.organization_id(),
        "--payment",
        changed.payment_id(),
    ];
    let sync = hive_blocking(dir, &env, &sync).success();
    assert_eq!(indexed(&sync), 1, "{sync}");
    let restored = index.get(changed).await.unwrap().unwrap();
    assert_eq!(
        (restored.payment.currency.to_string(), restored.payment.status),
        (currency, status)
    );
    let verify = hive_blocking(dir, &env, &["search", "verify"]).exits(1);
    assert!(
        verify.stdout.starts_with("checked 11 payments, 2 mismatches\n"),
        "{verify}"
    );

    // The deleted and the stray documents: a rebuild of the search projection (not shared
    // here: the log is this data directory's) starts the index afresh.
    let rebuild = hive_blocking(dir, &env, &["projections", "rebuild", SEARCH]).success();
    assert!(rebuild.stdout.starts_with(&format!("{SEARCH}: ")), "{rebuild}");
    assert!(
        index.get(&stray_key).await.unwrap().is_none(),
        "the rebuild dropped the stray document"
    );
    assert!(
        index.get(deleted).await.unwrap().is_some(),
        "the rebuild indexed the deleted one again"
    );
    let verify = hive_blocking(dir, &env, &["search", "verify"]).success();
    assert_eq!(verify.stdout, "checked 10 payments, 0 mismatches\n");
}
