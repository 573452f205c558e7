//! Strings to small integer ids and back, so that a rollup cell holds ids, not strings.

use std::collections::HashMap;
use std::sync::Arc;

use foldhash::fast::FixedState;

/// The id that stands for "no value" (an event without organization or user).
pub(super) const ABSENT: u32 = 0;

/// The strings seen so far, each stored once, with ids from 1 in order of first sight.
#[derive(Debug, Default)]
pub(super) struct Interner {
    ids: HashMap<Arc<str>, u32, FixedState>,
    names: Vec<Arc<str>>,
}

impl Interner {
    /// The id of `name`, a new one the first time; `None` once ids no longer fit in 32 bits.
    pub(super) fn intern(&mut self, name: &str) -> Option<u32> {
        if let Some(&id) = self.ids.get(name) {
            return Some(id);
        }
        let id = u32::try_from(self.names.len() + 1).ok()?;
        let name: Arc<str> = Arc::from(name);
        self.names.push(Arc::clone(&name));
        self.ids.insert(name, id);
        Some(id)
    }

    /// The id of a value that may be absent ([`ABSENT`] then).
    pub(super) fn intern_optional(&mut self, name: Option<&str>) -> Option<u32> {
        name.map_or(Some(ABSENT), |name| self.intern(name))
    }

    /// The id of `name` when it was seen.
    pub(super) fn id(&self, name: &str) -> Option<u32> {
        self.ids.get(name).copied()
    }

    /// The strings seen, in the order of their ids.
    pub(super) fn names(&self) -> impl ExactSizeIterator<Item = &str> + '_ {
        self.names.iter().map(|name| &**name)
    }

    /// How many strings were seen (the highest id).
    pub(super) fn len(&self) -> usize {
        self.names.len()
    }

    /// The string of an id; `None` for [`ABSENT`].
    pub(super) fn name(&self, id: u32) -> Option<&str> {
        let at = usize::try_from(id.checked_sub(1)?).ok()?;
        self.names.get(at).map(|name| &**name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_start_at_one_and_name_their_string() {
        let mut interner = Interner::default();
        assert_eq!(interner.intern("org-a"), Some(1));
        assert_eq!(interner.intern("org-b"), Some(2));
        assert_eq!(interner.intern("org-a"), Some(1), "seen before: same id");
        assert_eq!(interner.intern_optional(None), Some(ABSENT));
        assert_eq!(interner.intern_optional(Some("org-b")), Some(2));
        assert_eq!(interner.id("org-b"), Some(2));
        assert_eq!(interner.id("org-c"), None);
        assert_eq!(interner.name(1), Some("org-a"));
        assert_eq!(interner.name(ABSENT), None);
        assert_eq!(interner.name(3), None);
        assert_eq!(interner.names().collect::<Vec<_>>(), ["org-a", "org-b"]);
        assert_eq!(interner.len(), 2);
    }
}
