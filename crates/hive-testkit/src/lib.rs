//! # hive-testkit
//!
//! Test support for Hive:
//!
//! * **Conformance suites** for the persistence ports of `hive-domain`. A new adapter proves it
//!   keeps the contract with one macro call per port —
//!   [`event_store_conformance!`] (the core every event store implements),
//!   [`snapshot_store_conformance!`], [`checkpoint_store_conformance!`] — which generate one
//!   `#[tokio::test]` per case of [`event_store`], [`snapshot_store`] and [`checkpoint_store`].
//!   The cases are plain public `async fn`s too, for adapters that need their own set-up around
//!   each one.
//! * **One macro per optional capability** of an event store, for the adapters that have it:
//!   [`event_lookup_conformance!`] ([`EventLookup`](hive_domain::EventLookup), [`event_lookup`]),
//!   [`event_search_conformance!`] ([`EventSearch`](hive_domain::EventSearch), [`event_search`])
//!   and [`event_analytics_conformance!`] ([`EventAnalytics`](hive_domain::EventAnalytics),
//!   against the reference computations of `hive-domain`, [`event_analytics`]).
//! * **[`CoreOnly`]** shows a store through its core port alone, to test an application on a
//!   store without the optional capabilities.
//! * With the `billing` feature, `payment_read_model_conformance!` and
//!   `payment_search_index_conformance!` check the billing read-side adapters against the
//!   reference semantics of `hive-billing` (module `billing`).
//! * **[`cache_conformance!`]** checks a query-cache level (the
//!   [`Cache`](hive_application::cache::Cache) port of `hive-application`): round trips, TTL,
//!   invalidation by tags, clear, and no stale fill ([`cache`]).
//! * With the `billing` feature, `reliability::concurrent_writers` runs many concurrent writers
//!   through the billing command bus and audits the store and the read model (issue #9, R1).
//! * **[`event_sink_conformance!`]** checks a broker adapter (the
//!   [`EventSink`](hive_application::EventSink) port the global log is published to) through a
//!   [`BrokerProbe`](connector::BrokerProbe) reading back what the broker holds ([`connector`]).
//! * **[`backend`]**: the URL of a server a test needs (`HIVE_ELASTICSEARCH_URL`…), which
//!   fails the test instead of skipping it in CI, and is counted in `cargo xtask test`'s table.
//! * **Test doubles** the crates' tests share: [`ReferenceCache`] (a query-cache level in
//!   memory with a failure switch and a feed of remote invalidations), [`Recorder`] (a
//!   projection logging which runner applied which event), [`CapturedLog`] (a writer a test's
//!   tracing subscriber logs into) and, with the `proxy` feature, `proxy::Proxy` (a TCP proxy a
//!   test cuts and restores).
//! * **[`synthetic`]**: histories shaped like the demo's payments, to measure what a store
//!   keeps per event.
//! * **[`StoreAnswers`]**: everything a store answers about what it holds (log, streams,
//!   look-ups by id, searches, analytics), to check that two stores hold the same.
//! * **[`AggregateFixture`]**, a given/when/then fixture for the pure `handle`/`apply` logic of
//!   an [`Aggregate`](hive_domain::Aggregate).
//!
//! ## Running a conformance suite
//!
//! In the adapter crate, add `hive-testkit` and `tokio` (features `macros`, `rt-multi-thread`)
//! as dev-dependencies and write `tests/conformance.rs`:
//!
//! ```ignore
//! use hive_store_memory::{MemoryCheckpointStore, MemoryEventStore, MemorySnapshotStore};
//!
//! mod events {
//!     use super::*;
//!     hive_testkit::event_store_conformance!(async { MemoryEventStore::new() });
//!     // The optional capabilities the store has, one macro each.
//!     hive_testkit::event_lookup_conformance!(async { MemoryEventStore::new() });
//!     hive_testkit::event_search_conformance!(async { MemoryEventStore::new() });
//!     hive_testkit::event_analytics_conformance!(async { MemoryEventStore::new() });
//! }
//! mod snapshots {
//!     use super::*;
//!     hive_testkit::snapshot_store_conformance!(async { MemorySnapshotStore::new() });
//! }
//! mod checkpoints {
//!     use super::*;
//!     hive_testkit::checkpoint_store_conformance!(async { MemoryCheckpointStore::new() });
//! }
//! ```
//!
//! The argument is evaluated afresh for every test. When something must outlive the store (a
//! temporary directory, a container), return a [`Held`]:
//!
//! ```ignore
//! mod durable {
//!     use hive_store_memory::{DurableOptions, MemoryEventStore};
//!     hive_testkit::event_store_conformance!(async {
//!         let dir = tempfile::tempdir().unwrap();
//!         let store = MemoryEventStore::open(dir.path(), DurableOptions::default()).await.unwrap();
//!         hive_testkit::Held::with_guard(store, dir)
//!     });
//! }
//! ```
//!
//! Every case writes under fresh random names (streams, aggregate and event types, correlation
//! and organization ids, projection names) and checks only what it wrote, so a factory may hand
//! out connections to one shared database and the cases still run in parallel.
//!
//! ## Testing an aggregate
//!
//! ```
//! use hive_domain::{Aggregate, DomainEvent};
//! use hive_testkit::AggregateFixture;
//! use serde::{Deserialize, Serialize};
//!
//! #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
//! #[serde(tag = "eventType", content = "eventData")]
//! enum AccountEvent {
//!     Deposited { amount: u64 },
//!     Withdrawn { amount: u64 },
//! }
//!
//! impl DomainEvent for AccountEvent {
//!     fn event_type(&self) -> &'static str {
//!         match self {
//!             AccountEvent::Deposited { .. } => "Deposited",
//!             AccountEvent::Withdrawn { .. } => "Withdrawn",
//!         }
//!     }
//! }
//!
//! enum AccountCommand {
//!     Withdraw { amount: u64 },
//! }
//!
//! #[derive(Debug, thiserror::Error)]
//! #[error("insufficient funds: balance {balance}, asked {asked}")]
//! struct InsufficientFunds {
//!     balance: u64,
//!     asked: u64,
//! }
//!
//! #[derive(Debug, Default, Clone, Serialize, Deserialize)]
//! struct Account {
//!     balance: u64,
//! }
//!
//! impl Aggregate for Account {
//!     const TYPE: &'static str = "Account";
//!     type Command = AccountCommand;
//!     type Event = AccountEvent;
//!     type Error = InsufficientFunds;
//!
//!     fn handle(&self, command: &AccountCommand) -> Result<Vec<AccountEvent>, InsufficientFunds> {
//!         match command {
//!             AccountCommand::Withdraw { amount } if *amount > self.balance => {
//!                 Err(InsufficientFunds { balance: self.balance, asked: *amount })
//!             }
//!             AccountCommand::Withdraw { amount } => Ok(vec![AccountEvent::Withdrawn { amount: *amount }]),
//!         }
//!     }
//!
//!     fn apply(&mut self, event: &AccountEvent) {
//!         match event {
//!             AccountEvent::Deposited { amount } => self.balance += amount,
//!             AccountEvent::Withdrawn { amount } => self.balance -= amount,
//!         }
//!     }
//! }
//!
//! AggregateFixture::<Account>::given(vec![AccountEvent::Deposited { amount: 100 }])
//!     .when(AccountCommand::Withdraw { amount: 30 })
//!     .then_expect_events(vec![AccountEvent::Withdrawn { amount: 30 }])
//!     .then_state(|account| assert_eq!(account.balance, 70));
//!
//! AggregateFixture::<Account>::given_no_previous_events()
//!     .when(AccountCommand::Withdraw { amount: 5 })
//!     .then_expect_error(|e| e.asked == 5)
//!     .then_expect_error_message("insufficient funds: balance 0, asked 5");
//! ```

pub mod answers;
pub mod backend;
#[cfg(feature = "billing")]
pub mod billing;
pub mod cache;
mod captured_log;
pub mod checkpoint_store;
mod cleanup;
pub mod connector;
mod core_only;
pub mod event_analytics;
pub mod event_lookup;
pub mod event_search;
pub mod event_store;
mod fixture;
pub mod guide;
mod held;
mod macros;
#[cfg(feature = "proxy")]
pub mod proxy;
mod recorder;
mod reference_cache;
#[cfg(feature = "billing")]
pub mod reliability;
mod runtime;
pub mod snapshot_store;
mod support;
pub mod synthetic;

#[doc(hidden)]
#[path = "private.rs"]
pub mod __private;

pub use answers::StoreAnswers;
pub use captured_log::CapturedLog;
pub use cleanup::CleanUp;
pub use core_only::CoreOnly;
pub use fixture::{AggregateFixture, FixtureResult};
pub use held::Held;
pub use recorder::{Applied, Recorder};
pub use reference_cache::ReferenceCache;
pub use runtime::runtime;

/// Compiles the examples of `README.md` as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
