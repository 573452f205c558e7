//! Projections: rebuilding from the log gives the live read models; idempotency; catch-up;
//! the search-index synchronisation service.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;

use common::Harness;
use hive_application::Projection;
use hive_billing::{
    Mismatch, PaymentKey, PaymentReadModel, PaymentReadModelProjection, PaymentRecord, PaymentSearchDocument,
    PaymentSearchIndex, PaymentSearchProjection, PaymentStatus, SearchIndexSync,
};
use hive_domain::{EventStore, UpcasterChain};
use hive_store_memory::billing::{MemoryPaymentReadModel, MemoryPaymentSearchIndex};

/// The key of payment `id` of `busy`'s data (every third payment from `p00` is org-789's;
/// the others, and every other id, org-456's).
fn key(id: &str) -> PaymentKey {
    let third = id
        .strip_prefix('p')
        .and_then(|n| n.parse::<u32>().ok())
        .is_some_and(|n| n % 3 == 0);
    PaymentKey::new(if third { "org-789" } else { "org-456" }, id)
}

async fn busy(h: &Harness) {
    for i in 0..12 {
        let org = if i % 3 == 0 { "org-789" } else { "org-456" };
        let id = format!("p{i:02}");
        h.create(
            org,
            &id,
            &format!("{}.{:02}", 10 + i, i),
            if i % 4 == 0 { "USD" } else { "EUR" },
            "Cloud hosting",
        )
        .await;
        h.advance(7);
        match i % 4 {
            0 => {}
            1 => {
                h.fail(org, &id, "card declined").await.unwrap();
            }
            _ => {
                h.process(org, &id).await.unwrap();
                if i % 4 == 3 {
                    h.refund(org, &id, "1").await.unwrap();
                }
            }
        }
    }
}

#[tokio::test]
async fn rebuilding_every_projection_gives_the_live_read_models() {
    let h = Harness::new();
    busy(&h).await;
    let (live_records, live_documents) = (h.read_model.snapshot(), h.index.snapshot());
    assert_eq!(live_records.len(), 12);
    for runner in h.billing.projection_runners(h.checkpoints.clone()) {
        let report = runner.rebuild().await.unwrap();
        assert_eq!(report.dead_lettered, 0);
        assert_eq!(report.position, h.events.head_position().await.unwrap());
    }
    assert_eq!(
        h.read_model.snapshot(),
        live_records,
        "the rebuilt read model equals the live one"
    );
    assert_eq!(
        h.index.snapshot(),
        live_documents,
        "the rebuilt search index equals the live one"
    );
}

#[tokio::test]
async fn projections_built_apart_from_the_log_equal_the_live_ones() {
    let h = Harness::new();
    busy(&h).await;
    let read_model = MemoryPaymentReadModel::new();
    let index = MemoryPaymentSearchIndex::new();
    let chain = Arc::new(UpcasterChain::new());
    let projection = PaymentReadModelProjection::new(Arc::new(read_model.clone()), chain.clone());
    let search = PaymentSearchProjection::new(Arc::new(index.clone()), chain);
    let log = h.events.read_all(0, 10_000).await.unwrap();
    for event in &log {
        projection.apply(event).await.unwrap();
        search.apply(event).await.unwrap();
    }
    for event in &log {
        // Handed again (a crash between applying and checkpointing): nothing changes.
        projection.apply(event).await.unwrap();
        search.apply(event).await.unwrap();
    }
    assert_eq!(read_model.snapshot(), h.read_model.snapshot());
    assert_eq!(index.snapshot(), h.index.snapshot());
}

#[tokio::test]
async fn without_inline_projections_a_catch_up_brings_the_read_side_up_to_date() {
    let h = Harness::with_inline(false);
    busy(&h).await;
    assert!(
        h.read_model.is_empty() && h.index.is_empty(),
        "nothing projected inline"
    );
    let runners = h.billing.projection_runners(h.checkpoints.clone());
    for runner in &runners {
        runner.catch_up().await.unwrap();
    }
    assert_eq!(h.read_model.len(), 12);
    assert_eq!(h.index.len(), 12);
    for runner in &runners {
        let status = runner.status().await.unwrap();
        assert_eq!(status.lag, 0, "{}", status.name);
        assert_eq!(runner.catch_up().await.unwrap().applied, 0, "nothing left to apply");
    }
}

#[tokio::test]
async fn an_event_out_of_order_is_refused_not_skipped() {
    let h = Harness::new();
    h.create("org-456", "p", "10", "EUR", "x").await;
    h.process("org-456", "p").await.unwrap();
    h.refund("org-456", "p", "1").await.unwrap();
    let log = h.events.read_all(0, 10).await.unwrap();
    let fresh = MemoryPaymentReadModel::new();
    let projection = PaymentReadModelProjection::new(Arc::new(fresh.clone()), Arc::new(UpcasterChain::new()));
    projection.apply(&log[0]).await.unwrap();
    assert!(
        projection.apply(&log[2]).await.is_err(),
        "version 3 does not follow version 1"
    );
    projection.apply(&log[1]).await.unwrap();
    projection.apply(&log[2]).await.unwrap();
    assert_eq!(
        fresh.get(&key("p")).await.unwrap().unwrap().payment.status,
        PaymentStatus::PartiallyRefunded
    );
}

#[tokio::test]
async fn sync_repairs_the_index_from_the_read_model_and_verify_reports_mismatches() {
    let h = Harness::new();
    busy(&h).await;
    assert!(h.billing.sync.verify_all().await.unwrap().is_in_sync());
    // Break the index: lose one document, corrupt another.
    h.index.delete(&key("p01")).await.unwrap();
    let mut corrupt = h.index.get(&key("p02")).await.unwrap().unwrap();
    corrupt.payment.status = PaymentStatus::Failed;
    corrupt.payment.amount = "1.00".parse().unwrap();
    h.index.index(vec![corrupt]).await.unwrap();
    let report = h.billing.sync.verify_organization("org-456").await.unwrap();
    assert_eq!(report.checked, 8);
    assert_eq!(report.mismatches.len(), 2);
    assert!(report
        .mismatches
        .contains(&Mismatch::MissingFromIndex { key: key("p01") }));
    let Some(Mismatch::Differs { fields, .. }) =
        report.mismatches.iter().find(|m| matches!(m, Mismatch::Differs { .. }))
    else {
        panic!("expected a difference: {report:?}");
    };
    assert_eq!(
        fields.iter().map(|f| f.field.as_str()).collect::<Vec<_>>(),
        vec!["status", "amount"]
    );
    let one = h.billing.sync.synchronize_payment(&key("p01")).await.unwrap();
    assert_eq!(one.indexed, vec![key("p01")]);
    let all = h
        .billing
        .sync
        .clone()
        .with_batch_size(5)
        .synchronize_organization("org-456")
        .await
        .unwrap();
    assert_eq!(all.indexed.len(), 8);
    assert!(all.failed.is_empty() && all.missing.is_empty());
    assert!(h.billing.sync.verify_all().await.unwrap().is_in_sync());
    let missing = h.billing.sync.synchronize_payment(&key("ghost")).await.unwrap();
    assert_eq!(missing.missing, vec![key("ghost")]);
    let everything = h.billing.sync.synchronize_all().await.unwrap();
    assert_eq!(everything.indexed.len(), 12);
    let record: PaymentRecord = h.read_model.get(&key("p00")).await.unwrap().unwrap();
    assert_eq!(
        h.index.get(&key("p00")).await.unwrap().unwrap().position,
        record.position
    );
}

/// A payment the read model or the index holds without any event in the log (left from
/// another log, written by hand) is reported by verify and never copied by sync; where the
/// read model and the index agree on it (as when they are one store) only the log tells.
#[tokio::test]
async fn sync_and_verify_find_payments_that_have_no_events_in_the_log() {
    let h = Harness::new();
    busy(&h).await;
    let template = h.read_model.get(&key("p02")).await.unwrap().unwrap();
    let ghost = |id: &str| {
        let mut record = template.clone();
        record.payment.payment_id = id.into();
        record
    };
    let document = |record: &PaymentRecord| PaymentSearchDocument::new(record.payment.clone(), record.position);
    // In both, only in the read model, only in the index.
    let (both, read_model_only, index_only) = (ghost("ghost-1"), ghost("ghost-2"), ghost("ghost-3"));
    h.read_model.upsert(both.clone()).await.unwrap();
    h.index
        .index(vec![document(&both), document(&index_only)])
        .await
        .unwrap();
    h.read_model.upsert(read_model_only).await.unwrap();
    let not_in_log = |id: &str, in_read_model: bool, in_index: bool| Mismatch::NotInEventLog {
        key: key(id),
        in_read_model,
        in_index,
    };

    let report = h.billing.sync.verify_all().await.unwrap();
    assert_eq!(
        report.checked, 15,
        "the 12 payments of the log, the read model's 2 others and the document only the index holds"
    );
    assert_eq!(
        report.mismatches,
        vec![
            not_in_log("ghost-1", true, true),
            not_in_log("ghost-2", true, false),
            not_in_log("ghost-3", false, true)
        ]
    );
    let organization = h.billing.sync.verify_organization("org-456").await.unwrap();
    assert_eq!(organization.mismatches.len(), 3, "{organization:?}");
    let other = h.billing.sync.verify_organization("org-789").await.unwrap();
    assert!(other.is_in_sync(), "{other:?}");
    let one = h.billing.sync.verify_payment(&key("ghost-3")).await.unwrap();
    assert_eq!(one.mismatches, vec![not_in_log("ghost-3", false, true)]);
    assert!(h.billing.sync.verify_payment(&key("p02")).await.unwrap().is_in_sync());

    let synced = h.billing.sync.synchronize_all().await.unwrap();
    assert_eq!(synced.not_in_event_log, vec![key("ghost-1"), key("ghost-2")]);
    assert_eq!(synced.indexed.len(), 12, "only the log's payments are written");
    assert_eq!(
        h.index.get(&key("ghost-2")).await.unwrap(),
        None,
        "never copied into the index"
    );
    let single = h.billing.sync.synchronize_payment(&key("ghost-2")).await.unwrap();
    assert_eq!(
        (single.not_in_event_log, single.indexed.len()),
        (vec![key("ghost-2")], 0)
    );

    // Without the log, a payment both stores hold alike looks fine.
    let blind = SearchIndexSync::new(Arc::new(h.read_model.clone()), Arc::new(h.index.clone()));
    assert!(blind.verify_payment(&key("ghost-1")).await.unwrap().is_in_sync());
}

#[tokio::test]
async fn applying_the_log_page_by_page_gives_the_live_read_model() {
    let h = Harness::new();
    busy(&h).await;
    let live = h.read_model.snapshot();
    let log = h.events.read_all(0, 10_000).await.unwrap();
    for page in [1, 2, 3, 5, 8, log.len()] {
        let read_model = MemoryPaymentReadModel::new();
        let projection = PaymentReadModelProjection::new(Arc::new(read_model.clone()), Arc::new(UpcasterChain::new()));
        for events in log.chunks(page) {
            projection.apply_batch(events).await.unwrap();
        }
        assert_eq!(read_model.snapshot(), live, "pages of {page}");
        for events in log.chunks(page) {
            // Handed again (a crash between applying and checkpointing): nothing changes.
            projection.apply_batch(events).await.unwrap();
        }
        assert_eq!(read_model.snapshot(), live, "pages of {page}, handed twice");
    }
}

#[tokio::test]
async fn a_page_skips_what_the_read_model_already_reflects() {
    let h = Harness::new();
    busy(&h).await;
    let log = h.events.read_all(0, 10_000).await.unwrap();
    let read_model = MemoryPaymentReadModel::new();
    let projection = PaymentReadModelProjection::new(Arc::new(read_model.clone()), Arc::new(UpcasterChain::new()));
    // Every other event first, where it applies (a payment's later events wait for its earlier ones).
    for event in log.iter().step_by(2) {
        let _ = projection.apply(event).await;
    }
    projection.apply_batch(&log).await.unwrap();
    assert_eq!(read_model.snapshot(), h.read_model.snapshot());
}

#[tokio::test]
async fn a_page_with_an_event_out_of_order_fails_as_that_event_alone_and_writes_nothing() {
    let h = Harness::new();
    h.create("org-456", "p", "10", "EUR", "x").await;
    h.process("org-456", "p").await.unwrap();
    h.refund("org-456", "p", "1").await.unwrap();
    h.create("org-456", "q", "20", "EUR", "y").await;
    let log = h.events.read_all(0, 10).await.unwrap();
    let fresh = MemoryPaymentReadModel::new();
    let projection = PaymentReadModelProjection::new(Arc::new(fresh.clone()), Arc::new(UpcasterChain::new()));
    let page = [log[0].clone(), log[3].clone(), log[2].clone()];
    let error = projection.apply_batch(&page).await.unwrap_err();
    assert_eq!(error.applied, 0, "a failed page reports nothing as certainly applied");
    assert!(fresh.is_empty(), "nothing of the page is written");
    projection.apply(&log[0]).await.unwrap();
    let alone = projection.apply(&log[2]).await.unwrap_err();
    assert_eq!(
        error.error.to_string(),
        alone.to_string(),
        "the page fails with the error of the event out of order"
    );
    projection.apply_batch(&log).await.unwrap();
    assert_eq!(fresh.snapshot(), h.read_model.snapshot());
}

#[tokio::test]
async fn the_search_projection_applies_the_log_page_by_page_like_event_by_event() {
    let h = Harness::new();
    busy(&h).await;
    let live = h.index.snapshot();
    let log = h.events.read_all(0, 10_000).await.unwrap();
    for page in [1, 3, 7, log.len()] {
        let index = MemoryPaymentSearchIndex::new();
        let projection = PaymentSearchProjection::new(Arc::new(index.clone()), Arc::new(UpcasterChain::new()));
        for events in log.chunks(page) {
            projection.apply_batch(events).await.unwrap();
        }
        assert_eq!(index.snapshot(), live, "pages of {page}");
        for events in log.chunks(page) {
            projection.apply_batch(events).await.unwrap();
        }
        assert_eq!(index.snapshot(), live, "pages of {page}, handed twice");
    }
    let index = MemoryPaymentSearchIndex::new();
    let projection = PaymentSearchProjection::new(Arc::new(index.clone()), Arc::new(UpcasterChain::new()));
    let mut without_a_creation = log.clone();
    let created = log.iter().position(|e| e.aggregate_id.ends_with("/p01")).unwrap();
    without_a_creation.remove(created);
    assert!(
        projection.apply_batch(&without_a_creation).await.is_err(),
        "a page missing a payment's creation is refused, not skipped"
    );
}
