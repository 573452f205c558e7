//! Synchronising the search index from the read model, and verifying they agree.
//!
//! The search index is maintained from the event log by [`crate::PaymentSearchProjection`];
//! this service repairs it from the read model (bulk writes, every per-item failure reported)
//! and reports where the two disagree on status, amount or currency.
//!
//! Given the event log ([`SearchIndexSync::with_event_store`], as [`crate::BillingModule`]
//! does), it also checks each payment against the log: a payment the read model or the index
//! holds without any event in the log (left from another log, written by hand) is reported
//! ([`Mismatch::NotInEventLog`], [`SyncReport::not_in_event_log`]) and never copied into the
//! index. This matters most where the read model and the search index are one store (the
//! Elasticsearch `payments` index): comparing them then finds nothing, the log still does.

use std::sync::Arc;

use hive_domain::EventStore;
use serde::{Deserialize, Serialize};

use crate::{
    BillingResult, BulkFailure, PaymentKey, PaymentReadModel, PaymentRecord, PaymentSearchDocument, PaymentSearchIndex,
    PaymentStreams,
};

/// What a synchronisation did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SyncReport {
    /// Payments written to the index.
    pub indexed: Vec<PaymentKey>,
    /// Payments the index already held at a later position (left as they were).
    pub stale: Vec<PaymentKey>,
    /// Payments the index refused, with the reason.
    pub failed: Vec<BulkFailure>,
    /// Payments asked for that the read model does not hold.
    pub missing: Vec<PaymentKey>,
    /// Payments the read model holds that have no event in the event log: not written to the
    /// index (a rebuild of the read model drops them). Empty without an event store.
    #[serde(default)]
    pub not_in_event_log: Vec<PaymentKey>,
}

/// How a payment differs between the read model and the index.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", tag = "kind")]
pub enum Mismatch {
    /// The read model has it, the index does not.
    MissingFromIndex {
        /// The payment.
        key: PaymentKey,
    },
    /// The index has it, the read model does not.
    MissingFromReadModel {
        /// The payment.
        key: PaymentKey,
    },
    /// The read model or the index (or both) has it, the event log has no event of it.
    NotInEventLog {
        /// The payment.
        key: PaymentKey,
        /// Whether the read model holds it.
        in_read_model: bool,
        /// Whether the index holds it.
        in_index: bool,
    },
    /// Both have it with different values.
    Differs {
        /// The payment.
        key: PaymentKey,
        /// The differing fields: `status`, `amount`, `currency`.
        fields: Vec<FieldDifference>,
    },
}

/// One field that differs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FieldDifference {
    /// The field.
    pub field: String,
    /// Its value in the read model.
    pub read_model: String,
    /// Its value in the index.
    pub index: String,
}

/// What a verification found.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VerifyReport {
    /// Payments checked.
    pub checked: u64,
    /// The disagreements.
    pub mismatches: Vec<Mismatch>,
}

impl VerifyReport {
    /// True when everything checked agrees.
    pub fn is_in_sync(&self) -> bool {
        self.mismatches.is_empty()
    }
}

/// Synchronises and verifies the search index against the read model.
///
/// `synchronize_all`, `synchronize_organization` and their `verify_*` twins walk the read model
/// by keyset pages of `batch_size` keys and write each page with one bulk call; the `verify_*`
/// walks then also walk the index, to report documents that only the index holds.
#[derive(Clone)]
pub struct SearchIndexSync {
    read_model: Arc<dyn PaymentReadModel>,
    index: Arc<dyn PaymentSearchIndex>,
    events: Option<PaymentStreams>,
    batch_size: usize,
}

impl std::fmt::Debug for SearchIndexSync {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SearchIndexSync")
            .field("batch_size", &self.batch_size)
            .field("checks_the_event_log", &self.events.is_some())
            .finish_non_exhaustive()
    }
}

impl SearchIndexSync {
    /// A service over `read_model` and `index`, with batches of 500.
    pub fn new(read_model: Arc<dyn PaymentReadModel>, index: Arc<dyn PaymentSearchIndex>) -> Self {
        Self {
            read_model,
            index,
            events: None,
            batch_size: 500,
        }
    }

    /// Checks every payment against `events` too: one that has no event there is reported
    /// and not written to the index.
    #[must_use]
    pub fn with_event_store(mut self, events: Arc<dyn EventStore>) -> Self {
        self.events = Some(PaymentStreams::new(events));
        self
    }

    /// Whether the payment has events in the log (`true` without an event store).
    async fn in_event_log(&self, key: &PaymentKey) -> BillingResult<bool> {
        match &self.events {
            Some(streams) => Ok(streams.exists(key).await?),
            None => Ok(true),
        }
    }

    /// Sets the batch size (at least 1).
    #[must_use]
    pub fn with_batch_size(mut self, batch_size: usize) -> Self {
        self.batch_size = batch_size.max(1);
        self
    }

    /// Writes one payment's read-model view to the index.
    pub async fn synchronize_payment(&self, key: &PaymentKey) -> BillingResult<SyncReport> {
        self.synchronize_keys(vec![key.clone()]).await
    }

    /// Writes every payment of the read model to the index.
    pub async fn synchronize_all(&self) -> BillingResult<SyncReport> {
        self.synchronize_scope(None).await
    }

    /// Writes one organization's payments to the index.
    pub async fn synchronize_organization(&self, organization_id: &str) -> BillingResult<SyncReport> {
        self.synchronize_scope(Some(organization_id)).await
    }

    /// Compares one payment in the read model and the index.
    pub async fn verify_payment(&self, key: &PaymentKey) -> BillingResult<VerifyReport> {
        let mut report = VerifyReport::default();
        let record = self.read_model.get(key).await?;
        let document = self.index.get(key).await?;
        if (record.is_some() || document.is_some()) && !self.in_event_log(key).await? {
            report.checked += 1;
            report.mismatches.push(Mismatch::NotInEventLog {
                key: key.clone(),
                in_read_model: record.is_some(),
                in_index: document.is_some(),
            });
            return Ok(report);
        }
        match (record, document) {
            (None, None) => {}
            (None, Some(_)) => {
                report.checked += 1;
                report
                    .mismatches
                    .push(Mismatch::MissingFromReadModel { key: key.clone() });
            }
            (Some(record), document) => {
                report.checked += 1;
                report.mismatches.extend(compare(&record, document.as_ref()));
            }
        }
        Ok(report)
    }

    /// Compares every payment of the read model with the index.
    pub async fn verify_all(&self) -> BillingResult<VerifyReport> {
        self.verify_scope(None).await
    }

    /// Compares one organization's payments with the index.
    pub async fn verify_organization(&self, organization_id: &str) -> BillingResult<VerifyReport> {
        self.verify_scope(Some(organization_id)).await
    }

    async fn synchronize_scope(&self, organization_id: Option<&str>) -> BillingResult<SyncReport> {
        let mut report = SyncReport::default();
        let mut after: Option<PaymentKey> = None;
        loop {
            let keys = self
                .read_model
                .list_keys(organization_id, after.as_ref(), self.batch_size)
                .await?;
            let Some(last) = keys.last().cloned() else {
                return Ok(report);
            };
            let full = keys.len() == self.batch_size;
            merge(&mut report, self.synchronize_keys(keys).await?);
            if !full {
                return Ok(report);
            }
            after = Some(last);
        }
    }

    async fn synchronize_keys(&self, keys: Vec<PaymentKey>) -> BillingResult<SyncReport> {
        let mut report = SyncReport::default();
        let mut documents = Vec::with_capacity(keys.len());
        for key in keys {
            match self.read_model.get(&key).await? {
                Some(_) if !self.in_event_log(&key).await? => report.not_in_event_log.push(key),
                Some(record) => documents.push(PaymentSearchDocument::new(record.payment, record.position)),
                None => report.missing.push(key),
            }
        }
        if !documents.is_empty() {
            let bulk = self.index.index(documents).await?;
            report.indexed = bulk.indexed;
            report.stale = bulk.stale;
            report.failed = bulk.failed;
        }
        Ok(report)
    }

    /// Every payment of the read model in the scope, then every document of the index in the
    /// scope that the read model does not hold (documents found only in the index).
    async fn verify_scope(&self, organization_id: Option<&str>) -> BillingResult<VerifyReport> {
        let mut report = VerifyReport::default();
        let mut after: Option<PaymentKey> = None;
        loop {
            let keys = self
                .read_model
                .list_keys(organization_id, after.as_ref(), self.batch_size)
                .await?;
            let full = keys.len() == self.batch_size;
            for key in &keys {
                let found = self.verify_payment(key).await?;
                report.checked += found.checked;
                report.mismatches.extend(found.mismatches);
            }
            match keys.into_iter().last() {
                Some(last) if full => after = Some(last),
                _ => break,
            }
        }
        let mut after: Option<PaymentKey> = None;
        loop {
            let keys = self
                .index
                .list_keys(organization_id, after.as_ref(), self.batch_size)
                .await?;
            let full = keys.len() == self.batch_size;
            let wanted: Vec<&PaymentKey> = keys.iter().collect();
            let records = self.read_model.get_many(&wanted).await?;
            for (key, record) in keys.iter().zip(records) {
                if record.is_none() {
                    let found = self.verify_payment(key).await?;
                    report.checked += found.checked;
                    report.mismatches.extend(found.mismatches);
                }
            }
            match keys.into_iter().last() {
                Some(last) if full => after = Some(last),
                _ => return Ok(report),
            }
        }
    }
}

fn merge(into: &mut SyncReport, from: SyncReport) {
    into.indexed.extend(from.indexed);
    into.stale.extend(from.stale);
    into.failed.extend(from.failed);
    into.missing.extend(from.missing);
    into.not_in_event_log.extend(from.not_in_event_log);
}

fn compare(record: &PaymentRecord, document: Option<&PaymentSearchDocument>) -> Option<Mismatch> {
    let key = record.payment.key();
    let Some(document) = document else {
        return Some(Mismatch::MissingFromIndex { key });
    };
    let (a, b) = (&record.payment, &document.payment);
    let mut fields = Vec::new();
    let mut differ = |field: &str, left: String, right: String| {
        if left != right {
            fields.push(FieldDifference {
                field: field.to_owned(),
                read_model: left,
                index: right,
            });
        }
    };
    differ("status", a.status.to_string(), b.status.to_string());
    differ("amount", a.amount.to_string(), b.amount.to_string());
    differ("currency", a.currency.to_string(), b.currency.to_string());
    (!fields.is_empty()).then_some(Mismatch::Differs { key, fields })
}
