//! [`View`]: the tables of one payment view in the views file, and what the adapters do with
//! them (blocking calls, run off the async runtime by [`PaymentViewsFile::run`]).
//!
//! Each view has two tables and one entry of the shared `checkpoints` table:
//!
//! | table | key | value |
//! | --- | --- | --- |
//! | `<view>/payments` | the payment key text (`{organizationId}/{paymentId}`) | position of the last event applied, and the view ([`codec`]) |
//! | `<view>/by-organization` | (organization, payment key text) | nothing |
//! | `checkpoints` | the view's name | the checkpoint of its projection (JSON) |
//!
//! Keys are ordered as their text (byte-wise, as `String`), the order of `list_keys`. Ordinary
//! writes commit without syncing ([`Durability::None`]); [`View::save_checkpoint`] commits
//! durably, which makes every earlier commit durable too.
//!
//! [`PaymentViewsFile::run`]: super::PaymentViewsFile

use std::ops::Bound;

use hive_billing::{PaymentKey, PaymentView};
use hive_domain::Checkpoint;
use redb::{
    Database, Durability, ReadableDatabase, ReadableTable, ReadableTableMetadata, TableDefinition, WriteTransaction,
};

use super::codec;
use super::file::Failure;
use crate::billing::keyed::Upserted;

/// Payments by key text: (position, encoded view).
type Payments = TableDefinition<'static, &'static str, (u64, &'static [u8])>;
/// The keys of each organization: (organization, key text).
type ByOrganization = TableDefinition<'static, (&'static str, &'static str), ()>;

/// Each view's saved projection checkpoint, by view name.
const CHECKPOINTS: TableDefinition<&str, &[u8]> = TableDefinition::new("checkpoints");

/// The tables of one view.
#[derive(Clone, Copy)]
pub(super) struct View {
    name: &'static str,
    payments: Payments,
    by_organization: ByOrganization,
}

/// The payment read model's tables.
pub(super) const READ_MODEL: View = View {
    name: "read-model",
    payments: TableDefinition::new("read-model/payments"),
    by_organization: TableDefinition::new("read-model/by-organization"),
};

/// The payment search index's tables.
pub(super) const SEARCH_INDEX: View = View {
    name: "search-index",
    payments: TableDefinition::new("search-index/payments"),
    by_organization: TableDefinition::new("search-index/by-organization"),
};

/// Creates every table of a new file.
pub(super) fn create(write: &WriteTransaction) -> Result<(), Failure> {
    write.open_table(CHECKPOINTS)?;
    for view in [READ_MODEL, SEARCH_INDEX] {
        write.open_table(view.payments)?;
        write.open_table(view.by_organization)?;
    }
    Ok(())
}

/// A write transaction that commits without syncing.
fn begin_unsynced(db: &Database) -> Result<WriteTransaction, Failure> {
    let mut write = db.begin_write()?;
    write.set_durability(Durability::None)?;
    Ok(write)
}

/// The key stored as `text`: split at its last `/` (payment ids never contain one).
fn key_of(text: &str) -> Result<PaymentKey, Failure> {
    match text.rsplit_once('/') {
        Some((organization, id)) => Ok(PaymentKey::new(organization, id)),
        None => Err(Failure::Undecodable {
            record: text.to_owned(),
            reason: "not a payment key".into(),
        }),
    }
}

fn undecodable(key: &PaymentKey) -> impl FnOnce(String) -> Failure + '_ {
    move |reason| Failure::Undecodable {
        record: key.as_str().to_owned(),
        reason,
    }
}

impl View {
    /// Stores each view with its position unless the stored one of that payment has a greater
    /// position (equal positions overwrite); one transaction. The key of each and what happened.
    pub(super) fn upsert(
        &self,
        db: &Database,
        views: impl IntoIterator<Item = (PaymentView, u64)>,
    ) -> Result<Vec<(PaymentKey, Upserted)>, Failure> {
        let write = begin_unsynced(db)?;
        let mut outcomes = Vec::new();
        {
            let mut payments = write.open_table(self.payments)?;
            let mut by_organization = write.open_table(self.by_organization)?;
            for (view, position) in views {
                let key = view.key();
                let stored = payments.get(key.as_str())?.map(|entry| entry.value().0);
                if stored.is_some_and(|stored| stored > position) {
                    outcomes.push((key, Upserted::Stale));
                    continue;
                }
                payments.insert(key.as_str(), (position, codec::encode(&view).as_slice()))?;
                if stored.is_none() {
                    by_organization.insert((key.organization_id(), key.as_str()), ())?;
                }
                outcomes.push((key, Upserted::Written));
            }
        }
        write.commit()?;
        Ok(outcomes)
    }

    /// The view and position of each key, in order (`None` for an unknown payment).
    pub(super) fn get_many(
        &self,
        db: &Database,
        keys: &[PaymentKey],
    ) -> Result<Vec<Option<(PaymentView, u64)>>, Failure> {
        let read = db.begin_read()?;
        let payments = read.open_table(self.payments)?;
        keys.iter()
            .map(|key| match payments.get(key.as_str())? {
                Some(entry) => {
                    let (position, bytes) = entry.value();
                    Ok(Some((codec::decode(key, bytes).map_err(undecodable(key))?, position)))
                }
                None => Ok(None),
            })
            .collect()
    }

    /// Removes the payment of `key`; whether there was one.
    pub(super) fn remove(&self, db: &Database, key: &PaymentKey) -> Result<bool, Failure> {
        let write = begin_unsynced(db)?;
        let removed = {
            let mut payments = write.open_table(self.payments)?;
            let removed = payments.remove(key.as_str())?.is_some();
            if removed {
                write
                    .open_table(self.by_organization)?
                    .remove((key.organization_id(), key.as_str()))?;
            }
            removed
        };
        write.commit()?;
        Ok(removed)
    }

    /// Up to `limit` keys greater than `after` (exclusive), ascending by key text: of one
    /// organization, or of all when `organization_id` is `None`.
    pub(super) fn keys(
        &self,
        db: &Database,
        organization_id: Option<&str>,
        after: Option<&PaymentKey>,
        limit: usize,
    ) -> Result<Vec<PaymentKey>, Failure> {
        let read = db.begin_read()?;
        let Some(organization) = organization_id else {
            let payments = read.open_table(self.payments)?;
            let from = after.map_or(Bound::Unbounded, |after| Bound::Excluded(after.as_str()));
            return payments
                .range((from, Bound::Unbounded))?
                .take(limit)
                .map(|entry| key_of(entry?.0.value()))
                .collect();
        };
        let by_organization = read.open_table(self.by_organization)?;
        let from = after.map_or(Bound::Included((organization, "")), |after| {
            Bound::Excluded((organization, after.as_str()))
        });
        let mut keys = Vec::new();
        for entry in by_organization.range((from, Bound::Unbounded))? {
            let (key, _) = entry?;
            let (of, text) = key.value();
            if of != organization || keys.len() == limit {
                break;
            }
            keys.push(key_of(text)?);
        }
        Ok(keys)
    }

    /// Every view of one organization with its position, ascending by key.
    pub(super) fn of_organization(
        &self,
        db: &Database,
        organization_id: &str,
    ) -> Result<Vec<(PaymentView, u64)>, Failure> {
        let read = db.begin_read()?;
        let by_organization = read.open_table(self.by_organization)?;
        let payments = read.open_table(self.payments)?;
        let mut views = Vec::new();
        for entry in by_organization.range((Bound::Included((organization_id, "")), Bound::Unbounded))? {
            let (key, _) = entry?;
            let (of, text) = key.value();
            if of != organization_id {
                break;
            }
            let key = key_of(text)?;
            let Some(stored) = payments.get(text)? else {
                return Err(undecodable(&key)("indexed for its organization but not stored".into()));
            };
            let (position, bytes) = stored.value();
            views.push((codec::decode(&key, bytes).map_err(undecodable(&key))?, position));
        }
        Ok(views)
    }

    /// Number of payments held.
    pub(super) fn len(&self, db: &Database) -> Result<u64, Failure> {
        Ok(db.begin_read()?.open_table(self.payments)?.len()?)
    }

    /// Removes every payment and the saved checkpoint, in one transaction: a view emptied for
    /// a rebuild never keeps the checkpoint of what it held.
    pub(super) fn reset(&self, db: &Database) -> Result<(), Failure> {
        let write = begin_unsynced(db)?;
        write.delete_table(self.payments)?;
        write.delete_table(self.by_organization)?;
        write.open_table(self.payments)?;
        write.open_table(self.by_organization)?;
        write.open_table(CHECKPOINTS)?.remove(self.name)?;
        write.commit()?;
        Ok(())
    }

    /// The saved checkpoint of the view's projection.
    pub(super) fn checkpoint(&self, db: &Database) -> Result<Option<Checkpoint>, Failure> {
        let read = db.begin_read()?;
        let checkpoints = read.open_table(CHECKPOINTS)?;
        let Some(saved) = checkpoints.get(self.name)? else {
            return Ok(None);
        };
        serde_json::from_slice(saved.value())
            .map(Some)
            .map_err(|e| Failure::Undecodable {
                record: format!("checkpoint of {}", self.name),
                reason: e.to_string(),
            })
    }

    /// Saves the checkpoint of the view's projection and syncs the file: the view's payments,
    /// and every earlier commit, are durable once this returns, and a crash after it reopens
    /// without a full repair (quick repair).
    pub(super) fn save_checkpoint(&self, db: &Database, checkpoint: &Checkpoint) -> Result<(), Failure> {
        let json = serde_json::to_vec(checkpoint).map_err(|e| Failure::Undecodable {
            record: format!("checkpoint of {}", self.name),
            reason: e.to_string(),
        })?;
        let mut write = db.begin_write()?;
        write.set_durability(Durability::Immediate)?;
        // The allocator state is saved with this commit, so that opening after a crash does not
        // walk the whole file to rebuild it (a durable commit every minute or so: the extra
        // cost is paid rarely).
        write.set_quick_repair(true);
        write.open_table(CHECKPOINTS)?.insert(self.name, json.as_slice())?;
        write.commit()?;
        Ok(())
    }
}
