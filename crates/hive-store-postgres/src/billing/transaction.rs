//! Batches of records written in one transaction, alone, with a projection checkpoint, or in
//! a transaction of the caller's.

use std::sync::Arc;

use hive_billing::{BillingResult, PaymentRecord};
use hive_domain::Checkpoint;
use tokio_postgres::{GenericClient, Statement};

use super::codec::{batches, billing_error, failure, Columns};
use super::read_model::PostgresPaymentReadModel;
use crate::PostgresCheckpointStore;

impl PostgresPaymentReadModel {
    /// Upserts `records` as [`PaymentReadModel::upsert_many`](hive_billing::PaymentReadModel::upsert_many)
    /// does (in order; a record whose stored position is greater is skipped), on `client`: a
    /// transaction of the caller's commits them with whatever else it wrote, e.g. a checkpoint
    /// saved with [`PostgresCheckpointStore::save_in`]. Returns how many were written.
    ///
    /// `client` must be connected to the store's database (the statements name its schema).
    pub async fn upsert_many_in(
        &self,
        client: &impl GenericClient,
        records: Vec<PaymentRecord>,
    ) -> BillingResult<usize> {
        let statement = client
            .prepare(&self.sql.upsert)
            .await
            .map_err(failure("prepare the payment upsert"))?;
        write(client, &statement, &batches(&records)?).await
    }

    /// Upserts `records` and saves `checkpoint` (in the store's `checkpoints`, as
    /// [`PostgresStore::checkpoint_store`](crate::PostgresStore::checkpoint_store) does) in one
    /// transaction: both are committed, or on any error neither. A projection that applies a
    /// page of the log this way never has rows ahead of, or behind, its checkpoint.
    ///
    /// Returns how many records were written (stale ones are skipped, as by `upsert_many`).
    pub async fn upsert_many_with_checkpoint(
        &self,
        records: Vec<PaymentRecord>,
        checkpoint: &Checkpoint,
    ) -> BillingResult<usize> {
        self.upsert_many_with(records, Some(checkpoint)).await
    }

    /// `records` and, when given, `checkpoint` in one transaction on a pooled connection.
    pub(super) async fn upsert_many_with(
        &self,
        records: Vec<PaymentRecord>,
        checkpoint: Option<&Checkpoint>,
    ) -> BillingResult<usize> {
        if records.is_empty() && checkpoint.is_none() {
            return Ok(0);
        }
        let batches = batches(&records)?;
        let mut client = self.shared.client().await.map_err(billing_error)?;
        let statement = client
            .prepare_cached(&self.sql.upsert)
            .await
            .map_err(failure("prepare the payment upsert"))?;
        if checkpoint.is_none() && batches.len() == 1 {
            // One statement is atomic on its own.
            return write(&**client, &statement, &batches).await;
        }
        let tx = client.transaction().await.map_err(failure("begin a payment batch"))?;
        let written = write(&*tx, &statement, &batches).await?;
        if let Some(checkpoint) = checkpoint {
            PostgresCheckpointStore::new(Arc::clone(&self.shared))
                .save_in(&*tx, checkpoint)
                .await?;
        }
        tx.commit().await.map_err(failure("commit a payment batch"))?;
        Ok(written)
    }
}

/// Runs the upsert `statement` once per batch on `client`: how many records were written.
async fn write(client: &impl GenericClient, statement: &Statement, batches: &[Columns]) -> BillingResult<usize> {
    let mut written = 0;
    for batch in batches {
        let changed = client
            .execute(statement, &batch.params())
            .await
            .map_err(failure("upsert payments"))?;
        written += usize::try_from(changed).unwrap_or(usize::MAX);
    }
    Ok(written)
}
