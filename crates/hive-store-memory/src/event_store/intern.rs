//! Interning of the few distinct strings a column holds (event types, organizations…).

use std::collections::HashMap;

use foldhash::fast::FixedState;

/// Gives each distinct string a small id: `1, 2, …` in order of first sight; 0 stands for no
/// string. Once `overflow - 1` strings are interned, every further string gets `overflow`,
/// which says "some string not interned": look-ups confirm such events on their bodies.
#[derive(Debug)]
pub(crate) struct Interner {
    ids: HashMap<Box<str>, u32, FixedState>,
    overflow: u32,
}

/// How a column entry relates to a wanted string.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// It does not hold the string.
    No,
    /// It holds the string.
    Yes,
    /// The column cannot tell: confirm on the body.
    Check,
}

impl Interner {
    /// An interner whose ids stay below `overflow` (the id of every string past the limit).
    pub(crate) fn with_overflow(overflow: u32) -> Self {
        Self {
            ids: HashMap::default(),
            overflow,
        }
    }

    /// The id of `name` (0 for `None`), interning it when new.
    pub(crate) fn intern(&mut self, name: Option<&str>) -> u32 {
        let Some(name) = name else {
            return 0;
        };
        if let Some(&id) = self.ids.get(name) {
            return id;
        }
        let Some(id) = u32::try_from(self.ids.len() + 1).ok().filter(|&id| id < self.overflow) else {
            return self.overflow;
        };
        self.ids.insert(Box::from(name), id);
        id
    }

    /// The interned strings in the order of their ids (`1, 2, …`).
    pub(crate) fn names_by_id(&self) -> Vec<&str> {
        let mut names: Vec<(u32, &str)> = self.ids.iter().map(|(name, &id)| (id, &**name)).collect();
        names.sort_unstable_by_key(|&(id, _)| id);
        names.into_iter().map(|(_, name)| name).collect()
    }

    /// The id of `name`, if interned.
    pub(crate) fn find(&self, name: &str) -> Option<u32> {
        self.ids.get(name).copied()
    }

    /// Whether a column entry `id` holds one of `wanted` (ids found by [`Interner::find`]).
    pub(crate) fn judge(&self, id: u32, wanted: &[u32]) -> Verdict {
        if wanted.contains(&id) {
            Verdict::Yes
        } else if id == self.overflow {
            Verdict::Check
        } else {
            Verdict::No
        }
    }

    /// Bytes allocated for the strings and their table.
    pub(crate) fn heap_bytes(&self) -> usize {
        let strings: usize = self.ids.keys().map(|n| n.len()).sum();
        strings + self.ids.capacity() * (size_of::<(Box<str>, u32)>() + 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_past_the_limit_share_the_overflow_id() {
        let mut interner = Interner::with_overflow(3);
        assert_eq!(interner.intern(None), 0);
        assert_eq!(interner.intern(Some("a")), 1);
        assert_eq!(interner.intern(Some("b")), 2);
        assert_eq!(interner.intern(Some("a")), 1);
        assert_eq!(interner.intern(Some("c")), 3, "past the limit");
        assert_eq!(interner.find("c"), None);
        assert_eq!(interner.judge(2, &[2]), Verdict::Yes);
        assert_eq!(interner.judge(1, &[2]), Verdict::No);
        assert_eq!(interner.judge(3, &[2]), Verdict::Check);
        assert_eq!(interner.judge(0, &[]), Verdict::No);
        assert_eq!(interner.names_by_id(), ["a", "b"]);
    }
}
