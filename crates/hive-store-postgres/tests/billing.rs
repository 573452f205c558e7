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

/// A batch of records and a projection checkpoint: committed together, or neither.
mod one_transaction {
    use std::sync::Arc;

    use chrono::{DateTime, Duration, TimeZone, Utc};
    use hive_application::{Projection, ProjectionRunner};
    use hive_billing::{
        Amount, PaymentCreated, PaymentEvent, PaymentKey, PaymentProcessed, PaymentReadModel, PaymentRecord,
        PaymentStatus, PaymentView,
    };
    use hive_domain::{Checkpoint, CheckpointStore, EventEnvelope, EventStore};
    use hive_store_postgres::PostgresStore;
    use hive_testkit::billing::pending_payment;

    use super::common::{drop_schema, fresh_default, raw_client, server};

    const ORG: &str = "org-tx";

    /// A store on a schema of its own, and the guard dropping it when the test ends.
    async fn fresh() -> (PostgresStore, hive_testkit::CleanUp) {
        let store = fresh_default().await;
        let guard = drop_schema(store.clone());
        (store, guard)
    }

    fn at(minutes: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2024, 12, 19, 10, 0, 0).unwrap() + Duration::minutes(minutes)
    }

    fn record(id: &str, position: u64) -> PaymentRecord {
        PaymentRecord {
            payment: pending_payment(ORG, id, at(0)),
            position,
        }
    }

    fn checkpoint(position: u64) -> Checkpoint {
        Checkpoint::new("billing.payment_read_model", position, None).with_version(2)
    }

    async fn positions(store: &PostgresStore, ids: &[&str]) -> Vec<Option<u64>> {
        let keys: Vec<PaymentKey> = ids.iter().map(|id| PaymentKey::new(ORG, id)).collect();
        let asked: Vec<&PaymentKey> = keys.iter().collect();
        let got = store.payment_read_model().get_many(&asked).await.unwrap();
        got.into_iter().map(|r| r.map(|r| r.position)).collect()
    }

    async fn checkpoint_position(store: &PostgresStore) -> Option<u64> {
        let stored = store
            .checkpoint_store()
            .load("billing.payment_read_model")
            .await
            .unwrap();
        stored.map(|c| c.position)
    }

    /// Makes every write to `table` of the store's schema fail (only the payment `only`'s
    /// when given): a backend failure in the middle of a transaction.
    async fn refuse_writes(store: &PostgresStore, table: &str, only: Option<&str>) {
        let schema = store.schema();
        let when = only.map_or(String::new(), |id| format!("WHEN (NEW.payment_id = '{id}')"));
        raw_client()
            .await
            .batch_execute(&format!(
                "CREATE FUNCTION {schema}.refuse() RETURNS trigger LANGUAGE plpgsql AS \
                 $$ BEGIN RAISE EXCEPTION 'refused by the test'; END $$; \
                 CREATE TRIGGER refuse BEFORE INSERT OR UPDATE ON {schema}.{table} FOR EACH ROW {when} \
                 EXECUTE FUNCTION {schema}.refuse();"
            ))
            .await
            .unwrap();
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_payments_table_is_migration_2_and_reset_empties_it() {
        if !server() {
            return;
        }
        let (store, _schema) = fresh().await;
        let migrations = store.applied_migrations().await.unwrap();
        assert!(migrations.contains(&(2, "payments".to_owned())), "{migrations:?}");
        let model = store.payment_read_model();
        model.upsert_many(vec![record("p1", 1), record("p2", 2)]).await.unwrap();
        model.reset().await.unwrap();
        assert_eq!(positions(&store, &["p1", "p2"]).await, [None, None]);
        assert!(model.list_keys(None, None, 10).await.unwrap().is_empty());
        // Written again from the start after a reset, as a rebuild does.
        assert!(model.upsert(record("p1", 1)).await.unwrap());
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn records_and_their_checkpoint_commit_together() {
        if !server() {
            return;
        }
        let (store, _schema) = fresh().await;
        let model = store.payment_read_model();
        model.upsert(record("p2", 9)).await.unwrap();
        let batch = vec![record("p1", 3), record("p2", 4), record("p3", 5), record("p1", 6)];
        // p2 is stale (9 is stored); p1 is written twice, in order.
        assert_eq!(
            model.upsert_many_with_checkpoint(batch, &checkpoint(6)).await.unwrap(),
            3
        );
        assert_eq!(
            positions(&store, &["p1", "p2", "p3"]).await,
            [Some(6), Some(9), Some(5)]
        );
        assert_eq!(checkpoint_position(&store).await, Some(6));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_failing_checkpoint_rolls_the_records_back() {
        if !server() {
            return;
        }
        let (store, _schema) = fresh().await;
        let model = store.payment_read_model();
        model.upsert(record("p1", 1)).await.unwrap();
        refuse_writes(&store, "checkpoints", None).await;
        let batch = vec![record("p1", 7), record("p2", 8)];
        let error = model
            .upsert_many_with_checkpoint(batch, &checkpoint(8))
            .await
            .unwrap_err();
        assert!(error.to_string().contains("checkpoint"), "{error}");
        assert_eq!(positions(&store, &["p1", "p2"]).await, [Some(1), None]);
        assert_eq!(checkpoint_position(&store).await, None);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_failing_record_leaves_the_checkpoint_where_it_was() {
        if !server() {
            return;
        }
        let (store, _schema) = fresh().await;
        let model = store.payment_read_model();
        model
            .upsert_many_with_checkpoint(vec![record("p1", 2)], &checkpoint(2))
            .await
            .unwrap();
        refuse_writes(&store, "payments", Some("poison")).await;
        // More records than one statement takes: the first statement commits nothing either.
        let mut batch: Vec<PaymentRecord> = (0..1_500).map(|n| record(&format!("q{n:04}"), 10 + n)).collect();
        batch.push(record("poison", 2_000));
        let error = model
            .upsert_many_with_checkpoint(batch, &checkpoint(2_000))
            .await
            .unwrap_err();
        assert!(
            error.to_string().contains("refused by the test"),
            "the server's message: {error}"
        );
        assert_eq!(
            positions(&store, &["p1", "q0000", "q1499", "poison"]).await,
            [Some(2), None, None, None]
        );
        assert_eq!(checkpoint_position(&store).await, Some(2));
        // Without a checkpoint, a batch is one transaction too.
        assert!(model
            .upsert_many(vec![record("p1", 3), record("poison", 4)])
            .await
            .is_err());
        assert_eq!(positions(&store, &["p1"]).await, [Some(2)]);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_callers_transaction_commits_or_rolls_back_both() {
        if !server() {
            return;
        }
        let (store, _schema) = fresh().await;
        let (model, checkpoints) = (store.payment_read_model(), store.checkpoint_store());
        let mut client = raw_client().await;
        let tx = client.transaction().await.unwrap();
        assert_eq!(model.upsert_many_in(&tx, vec![record("p1", 4)]).await.unwrap(), 1);
        checkpoints.save_in(&tx, &checkpoint(4)).await.unwrap();
        assert_eq!(
            positions(&store, &["p1"]).await,
            [None],
            "nothing is visible before the commit"
        );
        tx.rollback().await.unwrap();
        assert_eq!(positions(&store, &["p1"]).await, [None]);
        assert_eq!(checkpoint_position(&store).await, None);

        let tx = client.transaction().await.unwrap();
        assert_eq!(model.upsert_many_in(&tx, vec![record("p1", 5)]).await.unwrap(), 1);
        checkpoints.save_in(&tx, &checkpoint(5)).await.unwrap();
        tx.commit().await.unwrap();
        assert_eq!(positions(&store, &["p1"]).await, [Some(5)]);
        assert_eq!(checkpoint_position(&store).await, Some(5));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn concurrent_batches_over_the_same_payments_neither_deadlock_nor_go_back() {
        if !server() {
            return;
        }
        let (store, _schema) = fresh().await;
        let ids: Vec<String> = (0..400).map(|n| format!("c{n:03}")).collect();
        let writers = (0..8u64).map(|writer| {
            let model = store.payment_read_model();
            let mut batch: Vec<PaymentRecord> = ids.iter().map(|id| record(id, 10 + writer)).collect();
            if writer % 2 == 1 {
                batch.reverse();
            }
            tokio::spawn(async move { model.upsert_many(batch).await })
        });
        for written in futures::future::join_all(writers).await {
            written.unwrap().unwrap();
        }
        let all: Vec<&str> = ids.iter().map(String::as_str).collect();
        assert!(
            positions(&store, &all).await.iter().all(|p| *p == Some(17)),
            "the greatest position wins"
        );
    }

    /// Appends `pay-1` created and processed, and `pay-2` created: the stored envelopes.
    async fn payment_events(store: &PostgresStore) -> Vec<EventEnvelope> {
        let created = |id: &str, minute| PaymentCreated {
            payment_id: id.to_owned(),
            organization_id: ORG.to_owned(),
            user_id: "user-1".to_owned(),
            amount: "12.50".parse::<Amount>().unwrap(),
            currency: "EUR".parse().unwrap(),
            status: PaymentStatus::Pending,
            description: "Cloud hosting".to_owned(),
            tags: vec!["cloud".to_owned()],
            metadata: Default::default(),
            created_at: at(minute),
        };
        let processed = PaymentProcessed {
            amount: "12.50".parse().unwrap(),
            currency: "EUR".parse().unwrap(),
            status: PaymentStatus::Completed,
            processed_at: at(5),
        };
        let envelope = |stream: &str, event: PaymentEvent, version| {
            let mut json = serde_json::to_value(&event).unwrap();
            let (kind, data) = (json["eventType"].as_str().unwrap().to_owned(), json["eventData"].take());
            EventEnvelope::new(stream, "Payment", kind, data, version)
        };
        let events = store.event_store();
        let mut stored = events
            .append(
                "org-tx/pay-1",
                0,
                vec![
                    envelope("org-tx/pay-1", PaymentEvent::PaymentCreated(created("pay-1", 1)), 1),
                    envelope("org-tx/pay-1", PaymentEvent::PaymentProcessed(processed), 2),
                ],
            )
            .await
            .unwrap();
        let second = envelope("org-tx/pay-2", PaymentEvent::PaymentCreated(created("pay-2", 2)), 1);
        stored.extend(events.append("org-tx/pay-2", 0, vec![second]).await.unwrap());
        stored
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_page_of_the_log_commits_with_its_checkpoint() {
        if !server() {
            return;
        }
        let (store, _schema) = fresh().await;
        let events = payment_events(&store).await;
        let projection = store.payment_read_model().projection(Arc::default());
        refuse_writes(&store, "checkpoints", None).await;
        assert!(projection.apply_batch(&events).await.is_err());
        assert_eq!(positions(&store, &["pay-1", "pay-2"]).await, [None, None]);
        raw_client()
            .await
            .batch_execute(&format!("DROP TRIGGER refuse ON {}.checkpoints", store.schema()))
            .await
            .unwrap();
        projection.apply_batch(&events).await.unwrap();
        let head = events.last().and_then(|e| e.global_position);
        assert_eq!(checkpoint_position(&store).await, head);
        let saved = store.checkpoint_store().load(projection.name()).await.unwrap().unwrap();
        assert_eq!(saved.last_event_id, events.last().map(|e| e.event_id));
        assert_eq!(saved.version, projection.version());
        let expected = [events[1].global_position, events[2].global_position];
        assert_eq!(positions(&store, &["pay-1", "pay-2"]).await, expected);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_projection_runner_catches_up_page_by_page() {
        if !server() {
            return;
        }
        let (store, _schema) = fresh().await;
        let events = payment_events(&store).await;
        let model = store.payment_read_model();
        let runner = ProjectionRunner::new(
            Arc::new(store.event_store()),
            Arc::new(store.checkpoint_store()),
            Arc::new(model.projection(Arc::default())),
        )
        .with_batch_size(2);
        let report = runner.catch_up().await.unwrap();
        assert_eq!(report.position, events.last().and_then(|e| e.global_position).unwrap());
        assert_eq!(checkpoint_position(&store).await, Some(report.position));
        let pay1 = model.get(&PaymentKey::new(ORG, "pay-1")).await.unwrap().unwrap();
        let mut expected: Option<PaymentView> = None;
        for envelope in &events[..2] {
            let event: PaymentEvent =
                hive_domain::decode_event(&envelope.event_type, envelope.event_data.clone()).unwrap();
            expected = Some(PaymentView::fold(expected.as_ref(), "org-tx/pay-1", &event, envelope.version).unwrap());
        }
        assert_eq!(Some(&pay1.payment), expected.as_ref());
        assert_eq!(pay1.payment.status, PaymentStatus::Completed);
        let listed = model
            .list_by_organization(ORG, hive_domain::Page::first(10))
            .await
            .unwrap();
        assert_eq!(listed.total, 2);
        let past_the_end = model
            .list_by_organization(ORG, hive_domain::Page::new(5, 10))
            .await
            .unwrap();
        assert_eq!((past_the_end.total, past_the_end.items.len()), (2, 0));
    }
}
