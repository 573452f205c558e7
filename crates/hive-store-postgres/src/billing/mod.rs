//! The billing read side on PostgreSQL (feature `billing`): [`PostgresPaymentReadModel`], the
//! payment read model in the `payments` table of the store's schema (migration 2,
//! `0002_payments.sql`).
//!
//! It gives exactly the answers of the reference read model of `hive-billing` (the
//! `hive-testkit` conformance suite checks it): amounts are `NUMERIC` (exact, ADR 0001),
//! instants keep their nanoseconds, texts compare as bytes. Statistics and trends are grouped
//! and summed in SQL; only the averages are divided here, from the exact sums, rounded as
//! `PaymentStatistics::compute` rounds them.
//!
//! A batch of records and a projection checkpoint commit together with
//! [`PostgresPaymentReadModel::upsert_many_with_checkpoint`], or in a transaction of the
//! caller's with [`PostgresPaymentReadModel::upsert_many_in`] and
//! [`PostgresCheckpointStore::save_in`](crate::PostgresCheckpointStore::save_in); a
//! [`hive_application::ProjectionRunner`] gets that with [`PostgresPaymentProjection`]
//! ([`PostgresPaymentReadModel::projection`]).

mod codec;
mod projection;
mod read_model;
mod sql;
mod statistics;
mod transaction;

pub use projection::PostgresPaymentProjection;
pub use read_model::PostgresPaymentReadModel;

use std::sync::Arc;

use crate::migrations::Migration;
use crate::PostgresStore;

/// The migrations of the `billing` feature (joined to the core's by
/// [`migrations::all`](crate::migrations::all)).
pub const MIGRATIONS: &[Migration] = &[Migration {
    version: 2,
    name: "payments",
    sql: include_str!("../../migrations/0002_payments.sql"),
}];

impl PostgresStore {
    /// The payment read model (the `payments` table, created by the migrations at connect),
    /// sharing the store's pool.
    pub fn payment_read_model(&self) -> PostgresPaymentReadModel {
        PostgresPaymentReadModel::new(Arc::clone(self.shared()))
    }
}
