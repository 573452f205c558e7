//! [`Keyed`]: entries stored under their [`PaymentKey`], with an index by organization, shared
//! by the read model and the search index.

use std::collections::btree_map::Entry;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::ops::Bound;

use hive_billing::{PaymentKey, PaymentRecord, PaymentSearchDocument};

/// What [`Keyed`] stores: an entry of one payment, versioned by a global position.
pub(super) trait Versioned {
    /// The payment's key (`{organizationId}/{paymentId}`).
    fn key(&self) -> PaymentKey;
    /// The global position of the last event applied to it.
    fn position(&self) -> u64;
}

impl Versioned for PaymentRecord {
    fn key(&self) -> PaymentKey {
        self.payment.key()
    }

    fn position(&self) -> u64 {
        self.position
    }
}

impl Versioned for PaymentSearchDocument {
    fn key(&self) -> PaymentKey {
        self.payment.key()
    }

    fn position(&self) -> u64 {
        self.position
    }
}

/// Entries by payment key, ordered as the key text, and the keys of each organization.
///
/// The organization of an entry is the one of its key, so it never changes: two organizations'
/// `pay-1` are two entries.
#[derive(Debug)]
pub(super) struct Keyed<V> {
    entries: BTreeMap<PaymentKey, V>,
    by_organization: HashMap<String, BTreeSet<PaymentKey>>,
}

impl<V> Default for Keyed<V> {
    fn default() -> Self {
        Self {
            entries: BTreeMap::new(),
            by_organization: HashMap::new(),
        }
    }
}

/// Whether [`Keyed::upsert`] wrote the entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Upserted {
    /// Stored (new, or replacing one at the same or a smaller position).
    Written,
    /// Not stored: the stored entry has a greater position.
    Stale,
}

impl<V: Versioned> Keyed<V> {
    /// Stores `value` under its key unless the stored entry has a greater position (equal
    /// positions overwrite). Returns the key and what happened.
    pub(super) fn upsert(&mut self, value: V) -> (PaymentKey, Upserted) {
        let key = value.key();
        match self.entries.entry(key.clone()) {
            Entry::Occupied(stored) if stored.get().position() > value.position() => (key, Upserted::Stale),
            Entry::Occupied(mut stored) => {
                stored.insert(value);
                (key, Upserted::Written)
            }
            Entry::Vacant(slot) => {
                slot.insert(value);
                match self.by_organization.get_mut(key.organization_id()) {
                    Some(keys) => {
                        keys.insert(key.clone());
                    }
                    None => {
                        let organization = key.organization_id().to_owned();
                        self.by_organization.insert(organization, BTreeSet::from([key.clone()]));
                    }
                }
                (key, Upserted::Written)
            }
        }
    }
}

impl<V> Keyed<V> {
    /// The entry of `key`.
    pub(super) fn get(&self, key: &PaymentKey) -> Option<&V> {
        self.entries.get(key)
    }

    /// Removes the entry of `key`, returning it.
    pub(super) fn remove(&mut self, key: &PaymentKey) -> Option<V> {
        let removed = self.entries.remove(key)?;
        if let Some(keys) = self.by_organization.get_mut(key.organization_id()) {
            keys.remove(key);
            if keys.is_empty() {
                self.by_organization.remove(key.organization_id());
            }
        }
        Some(removed)
    }

    /// The entries of one organization, ascending by key.
    pub(super) fn of_organization<'s>(&'s self, organization_id: &str) -> impl Iterator<Item = &'s V> + 's {
        self.by_organization
            .get(organization_id)
            .into_iter()
            .flatten()
            .filter_map(|key| self.entries.get(key))
    }

    /// Every entry, ascending by key.
    pub(super) fn values(&self) -> impl Iterator<Item = &V> {
        self.entries.values()
    }

    /// Up to `limit` keys greater than `after` (exclusive), ascending by key text: of one
    /// organization, or of all when `organization_id` is `None`.
    pub(super) fn keys(
        &self,
        organization_id: Option<&str>,
        after: Option<&PaymentKey>,
        limit: usize,
    ) -> Vec<PaymentKey> {
        let range = (after.map_or(Bound::Unbounded, Bound::Excluded), Bound::Unbounded);
        match organization_id {
            Some(organization) => self
                .by_organization
                .get(organization)
                .map(|keys| keys.range::<PaymentKey, _>(range).take(limit).cloned().collect())
                .unwrap_or_default(),
            None => self
                .entries
                .range::<PaymentKey, _>(range)
                .take(limit)
                .map(|(key, _)| key.clone())
                .collect(),
        }
    }

    /// Number of entries.
    pub(super) fn len(&self) -> usize {
        self.entries.len()
    }

    /// Removes every entry.
    pub(super) fn clear(&mut self) {
        self.entries.clear();
        self.by_organization.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq)]
    struct Item(&'static str, &'static str, u64);

    impl Versioned for Item {
        fn key(&self) -> PaymentKey {
            PaymentKey::new(self.0, self.1)
        }

        fn position(&self) -> u64 {
            self.2
        }
    }

    fn key(org: &str, id: &str) -> PaymentKey {
        PaymentKey::new(org, id)
    }

    fn filled() -> Keyed<Item> {
        let mut keyed = Keyed::default();
        for item in [
            Item("org-b", "pay-1", 1),
            Item("org-a", "pay-2", 2),
            Item("org-a", "pay-1", 3),
            Item("org-a/sub", "pay-0", 4),
            Item("org-a", "pay-3", 5),
        ] {
            assert_eq!(keyed.upsert(item).1, Upserted::Written);
        }
        keyed
    }

    #[test]
    fn keys_page_ascending_per_organization_and_overall() {
        let keyed = filled();
        let all = keyed.keys(None, None, 100);
        let texts: Vec<&str> = all.iter().map(PaymentKey::as_str).collect();
        assert_eq!(
            texts,
            [
                "org-a/pay-1",
                "org-a/pay-2",
                "org-a/pay-3",
                "org-a/sub/pay-0",
                "org-b/pay-1"
            ]
        );
        assert_eq!(keyed.keys(None, Some(&all[1]), 2), all[2..4].to_vec());
        assert_eq!(keyed.keys(None, Some(&all[4]), 2), Vec::<PaymentKey>::new());
        assert_eq!(keyed.keys(None, None, 0), Vec::<PaymentKey>::new());
        // The organization filter is exact: `org-a/sub` is not part of `org-a`.
        assert_eq!(keyed.keys(Some("org-a"), None, 100), all[..3].to_vec());
        assert_eq!(
            keyed.keys(Some("org-a"), Some(&key("org-a", "pay-1")), 1),
            all[1..2].to_vec()
        );
        // `after` need not be a key of the organization, nor a stored one.
        assert_eq!(
            keyed.keys(Some("org-a"), Some(&key("org-0", "z")), 1),
            all[..1].to_vec()
        );
        assert_eq!(keyed.keys(Some("org-a/sub"), None, 100), all[3..4].to_vec());
        assert_eq!(keyed.keys(Some("org-c"), None, 100), Vec::<PaymentKey>::new());
    }

    #[test]
    fn organizations_hold_the_same_payment_id_apart() {
        let mut keyed = filled();
        assert_eq!(keyed.get(&key("org-a", "pay-1")), Some(&Item("org-a", "pay-1", 3)));
        assert_eq!(keyed.get(&key("org-b", "pay-1")), Some(&Item("org-b", "pay-1", 1)));
        assert_eq!(keyed.get(&key("org-c", "pay-1")), None);
        assert_eq!(keyed.remove(&key("org-b", "pay-1")), Some(Item("org-b", "pay-1", 1)));
        assert_eq!(keyed.remove(&key("org-b", "pay-1")), None);
        assert_eq!(keyed.get(&key("org-a", "pay-1")), Some(&Item("org-a", "pay-1", 3)));
        assert_eq!(keyed.of_organization("org-b").count(), 0);
        assert_eq!(keyed.of_organization("org-a").count(), 3);
        assert_eq!(keyed.len(), 4);
    }

    #[test]
    fn a_greater_stored_position_wins() {
        let mut keyed = filled();
        assert_eq!(
            keyed.upsert(Item("org-a", "pay-1", 2)),
            (key("org-a", "pay-1"), Upserted::Stale)
        );
        assert_eq!(keyed.upsert(Item("org-a", "pay-1", 3)).1, Upserted::Written);
        assert_eq!(keyed.upsert(Item("org-a", "pay-1", 9)).1, Upserted::Written);
        assert_eq!(keyed.get(&key("org-a", "pay-1")).map(|i| i.2), Some(9));
        assert_eq!(keyed.keys(Some("org-a"), None, 100).len(), 3);
        keyed.clear();
        assert_eq!(keyed.len(), 0);
        assert_eq!(keyed.values().count(), 0);
        assert_eq!(keyed.keys(Some("org-a"), None, 100), Vec::<PaymentKey>::new());
    }
}
