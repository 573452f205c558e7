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

use crate::{BillingResult, BulkFailure, PaymentReadModel, PaymentRecord, PaymentSearchDocument, PaymentSearchIndex};

/// What a synchronisation did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SyncReport {
    /// Payments written to the index.
    pub indexed: Vec<String>,
    /// Payments the index already held at a later position (left as they were).
    pub stale: Vec<String>,
    /// Payments the index refused, with the reason.
    pub failed: Vec<BulkFailure>,
    /// Payments asked for that the read model does not hold.
    pub missing: Vec<String>,
    /// Payments the read model holds that have no event in the event log: not written to the
    /// index (a rebuild of the read model drops them). Empty without an event store.
    #[serde(default)]
    pub not_in_event_log: Vec<String>,
}

/// How a payment differs between the read model and the index.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", tag = "kind")]
pub enum Mismatch {
    /// The read model has it, the index does not.
    MissingFromIndex {
        /// The payment.
        payment_id: String,
    },
    /// The index has it, the read model does not.
    MissingFromReadModel {
        /// The payment.
        payment_id: String,
    },
    /// The read model or the index (or both) has it, the event log has no event of it.
    NotInEventLog {
        /// The payment.
        payment_id: String,
        /// Whether the read model holds it.
        in_read_model: bool,
        /// Whether the index holds it.
        in_index: bool,
    },
    /// Both have it with different values.
    Differs {
        /// The payment.
        payment_id: String,
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
/// by keyset pages of `batch_size` ids and write each page with one bulk call.
#[derive(Clone)]
pub struct SearchIndexSync {
    read_model: Arc<dyn PaymentReadModel>,
    index: Arc<dyn PaymentSearchIndex>,
    events: Option<Arc<dyn EventStore>>,
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
        self.events = Some(events);
        self
    }

    /// Whether the payment has events in the log (`true` without an event store).
    async fn in_event_log(&self, payment_id: &str) -> BillingResult<bool> {
        match &self.events {
            Some(events) => Ok(events.stream_version(payment_id).await? > 0),
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
    pub async fn synchronize_payment(&self, payment_id: &str) -> BillingResult<SyncReport> {
        self.synchronize_ids(vec![payment_id.to_owned()]).await
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
    pub async fn verify_payment(&self, payment_id: &str) -> BillingResult<VerifyReport> {
        let mut report = VerifyReport::default();
        let record = self.read_model.get(payment_id).await?;
        let document = self.index.get(payment_id).await?;
        if (record.is_some() || document.is_some()) && !self.in_event_log(payment_id).await? {
            report.checked += 1;
            report.mismatches.push(Mismatch::NotInEventLog {
                payment_id: payment_id.to_owned(),
                in_read_model: record.is_some(),
                in_index: document.is_some(),
            });
            return Ok(report);
        }
        match (record, document) {
            (None, None) => {}
            (None, Some(_)) => {
                report.checked += 1;
                report.mismatches.push(Mismatch::MissingFromReadModel {
                    payment_id: payment_id.to_owned(),
                });
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
        let mut after: Option<String> = None;
        loop {
            let ids = self
                .read_model
                .list_ids(organization_id, after.as_deref(), self.batch_size)
                .await?;
            let Some(last) = ids.last().cloned() else {
                return Ok(report);
            };
            let full = ids.len() == self.batch_size;
            merge(&mut report, self.synchronize_ids(ids).await?);
            if !full {
                return Ok(report);
            }
            after = Some(last);
        }
    }

    async fn synchronize_ids(&self, ids: Vec<String>) -> BillingResult<SyncReport> {
        let mut report = SyncReport::default();
        let mut documents = Vec::with_capacity(ids.len());
        for id in ids {
            match self.read_model.get(&id).await? {
                Some(_) if !self.in_event_log(&id).await? => report.not_in_event_log.push(id),
                Some(record) => documents.push(PaymentSearchDocument::new(record.payment, record.position)),
                None => report.missing.push(id),
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

    async fn verify_scope(&self, organization_id: Option<&str>) -> BillingResult<VerifyReport> {
        let mut report = VerifyReport::default();
        let mut after: Option<String> = None;
        loop {
            let ids = self
                .read_model
                .list_ids(organization_id, after.as_deref(), self.batch_size)
                .await?;
            let Some(last) = ids.last().cloned() else {
                return Ok(report);
            };
            let full = ids.len() == self.batch_size;
            for id in ids {
                let found = self.verify_payment(&id).await?;
                report.checked += found.checked;
                report.mismatches.extend(found.mismatches);
            }
            if !full {
                return Ok(report);
            }
            after = Some(last);
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
    let payment_id = record.payment.payment_id.clone();
    let Some(document) = document else {
        return Some(Mismatch::MissingFromIndex { payment_id });
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
    (!fields.is_empty()).then_some(Mismatch::Differs { payment_id, fields })
}
