//! A billing module over the in-memory adapters, with a manual clock, and helpers.
#![allow(dead_code, unreachable_pub)]

use std::sync::Arc;

use chrono::{DateTime, Duration, TimeZone, Utc};
use hive_application::cache::QueryCache;
use hive_application::{ApplicationError, EventBus, MessageContext, MiddlewareConfig};
use hive_billing::{
    BillingModule, BillingPorts, BillingServices, CreatePayment, FailPayment, ManualClock, PaymentView, ProcessPayment,
    RefundPayment,
};
use hive_domain::Metadata;
use hive_store_memory::billing::{MemoryPaymentReadModel, MemoryPaymentSearchIndex};
use hive_store_memory::{MemoryCheckpointStore, MemoryEventStore, MemorySnapshotStore};

pub struct Harness {
    pub billing: BillingServices,
    pub events: Arc<MemoryEventStore>,
    pub read_model: MemoryPaymentReadModel,
    pub index: MemoryPaymentSearchIndex,
    pub checkpoints: Arc<MemoryCheckpointStore>,
    pub clock: Arc<ManualClock>,
}

/// 2024-12-19T10:00:00Z, a Thursday.
pub fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 12, 19, 10, 0, 0).unwrap()
}

pub fn ts(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

impl Harness {
    pub fn new() -> Self {
        Self::with_inline(true)
    }

    pub fn with_inline(inline: bool) -> Self {
        Self::build(inline, None)
    }

    /// A harness whose billing module answers queries through `cache`.
    pub fn cached(inline: bool, cache: QueryCache) -> Self {
        Self::build(inline, Some(cache))
    }

    fn build(inline: bool, cache: Option<QueryCache>) -> Self {
        let events = Arc::new(MemoryEventStore::new());
        let read_model = MemoryPaymentReadModel::new();
        let index = MemoryPaymentSearchIndex::new();
        let clock = Arc::new(ManualClock::new(t0()));
        let ports = BillingPorts {
            event_store: events.capabilities(),
            snapshot_store: Arc::new(MemorySnapshotStore::new()),
            read_model: Arc::new(read_model.clone()),
            search_index: Arc::new(index.clone()),
        };
        let mut module = BillingModule::new(ports, EventBus::default(), MiddlewareConfig::default())
            .with_clock(clock.clone())
            .with_inline_projections(inline);
        if let Some(cache) = cache {
            module = module.with_query_cache(cache);
        }
        let billing = module.build();
        Self {
            billing,
            events,
            read_model,
            index,
            checkpoints: Arc::new(MemoryCheckpointStore::new()),
            clock,
        }
    }

    /// Another instance over the same stores and clock (its own event bus): with `cache`, as a
    /// second service process; without, an uncached view of what is stored.
    pub fn sharing(&self, cache: Option<QueryCache>) -> Self {
        let ports = BillingPorts {
            event_store: self.events.capabilities(),
            snapshot_store: Arc::new(MemorySnapshotStore::new()),
            read_model: Arc::new(self.read_model.clone()),
            search_index: Arc::new(self.index.clone()),
        };
        let mut module =
            BillingModule::new(ports, EventBus::default(), MiddlewareConfig::default()).with_clock(self.clock.clone());
        if let Some(cache) = cache {
            module = module.with_query_cache(cache);
        }
        Self {
            billing: module.build(),
            events: self.events.clone(),
            read_model: self.read_model.clone(),
            index: self.index.clone(),
            checkpoints: self.checkpoints.clone(),
            clock: self.clock.clone(),
        }
    }

    pub fn advance(&self, minutes: i64) {
        self.clock.advance(Duration::minutes(minutes));
    }

    pub async fn create(&self, org: &str, id: &str, amount: &str, currency: &str, description: &str) -> PaymentView {
        self.try_create(org, id, amount, currency, description, &[])
            .await
            .unwrap()
    }

    pub async fn try_create(
        &self,
        org: &str,
        id: &str,
        amount: &str,
        currency: &str,
        description: &str,
        tags: &[&str],
    ) -> Result<PaymentView, ApplicationError> {
        let command = CreatePayment {
            payment_id: id.into(),
            amount: amount.parse().unwrap(),
            currency: currency.into(),
            description: description.into(),
            tags: tags.iter().map(|t| (*t).to_owned()).collect(),
            metadata: Default::default(),
        };
        self.billing.command_bus.dispatch(command, ctx(org)).await
    }

    pub async fn process(&self, org: &str, id: &str) -> Result<PaymentView, ApplicationError> {
        let command = ProcessPayment { payment_id: id.into() };
        self.billing.command_bus.dispatch(command, ctx(org)).await
    }

    pub async fn fail(&self, org: &str, id: &str, error: &str) -> Result<PaymentView, ApplicationError> {
        let command = FailPayment {
            payment_id: id.into(),
            error: error.into(),
        };
        self.billing.command_bus.dispatch(command, ctx(org)).await
    }

    pub async fn refund(&self, org: &str, id: &str, amount: &str) -> Result<PaymentView, ApplicationError> {
        let command = RefundPayment {
            payment_id: id.into(),
            refund_amount: amount.parse().unwrap(),
        };
        self.billing.command_bus.dispatch(command, ctx(org)).await
    }

    pub async fn query<Q: hive_application::Query>(&self, org: &str, query: Q) -> Result<Q::Output, ApplicationError> {
        self.billing.query_bus.dispatch(query, ctx(org)).await
    }
}

/// A context of `org`, user `user-123`, source `api`, correlation `corr-<org>`.
pub fn ctx(org: &str) -> MessageContext {
    MessageContext::new()
        .with_correlation_id(format!("corr-{org}"))
        .with_metadata(
            Metadata::default()
                .with_organization(org)
                .with_user("user-123")
                .with_source("api"),
        )
}

/// The codes of a validation error's fields.
pub fn invalid_fields(error: &ApplicationError) -> Vec<String> {
    match error {
        ApplicationError::Validation(fields) => fields.iter().map(|f| f.field.clone()).collect(),
        other => panic!("expected a validation error, got {other:?}"),
    }
}

/// The code of a domain error.
pub fn domain_code(error: &ApplicationError) -> &'static str {
    match error {
        ApplicationError::Domain { code, .. } => code,
        other => panic!("expected a domain error, got {other:?}"),
    }
}
