//! [`StoreCapabilities`]: an event store's core port plus the optional capabilities it has.

use std::fmt;
use std::sync::Arc;

use crate::{EventAnalytics, EventLookup, EventSearch, EventStore};

/// An optional capability of an event store, beyond the core [`EventStore`] port.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Capability {
    /// [`EventLookup`]: an event by its id.
    Lookup,
    /// [`EventSearch`]: events by criteria, type and time, correlation.
    Search,
    /// [`EventAnalytics`]: counts by time, organization and user.
    Analytics,
}

impl Capability {
    /// Every optional capability.
    pub const ALL: [Capability; 3] = [Capability::Lookup, Capability::Search, Capability::Analytics];

    /// The stable name of the capability: `event_lookup`, `event_search`, `event_analytics`.
    pub fn name(self) -> &'static str {
        match self {
            Capability::Lookup => "event_lookup",
            Capability::Search => "event_search",
            Capability::Analytics => "event_analytics",
        }
    }
}

impl fmt::Display for Capability {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One event store as the application sees it: the core port every adapter implements, and
/// each optional capability when the adapter has it.
///
/// An adapter with every capability gives [`StoreCapabilities::full`]; one that starts with the
/// core gives [`StoreCapabilities::core`] and adds what it grows with the `with_*` methods.
///
/// ```
/// # use std::sync::Arc;
/// # use hive_domain::{Capability, EventStore, StoreCapabilities};
/// # fn demo(store: Arc<dyn EventStore>) {
/// let capabilities = StoreCapabilities::core(store);
/// assert_eq!(capabilities.missing(), Capability::ALL.to_vec());
/// # }
/// ```
#[derive(Clone)]
pub struct StoreCapabilities {
    /// The core port: append, read a stream, read the global log.
    pub events: Arc<dyn EventStore>,
    /// An event by its id, when the store has it.
    pub lookup: Option<Arc<dyn EventLookup>>,
    /// Events by criteria, when the store has it.
    pub search: Option<Arc<dyn EventSearch>>,
    /// Event analytics, when the store has it.
    pub analytics: Option<Arc<dyn EventAnalytics>>,
}

impl StoreCapabilities {
    /// A store with the core port only.
    pub fn core(events: Arc<dyn EventStore>) -> Self {
        Self {
            events,
            lookup: None,
            search: None,
            analytics: None,
        }
    }

    /// A store with every capability (one value implementing every port).
    pub fn full<S>(store: Arc<S>) -> Self
    where
        S: EventStore + EventLookup + EventSearch + EventAnalytics + 'static,
    {
        Self {
            events: store.clone(),
            lookup: Some(store.clone()),
            search: Some(store.clone()),
            analytics: Some(store),
        }
    }

    /// Adds the [`EventLookup`] capability.
    #[must_use]
    pub fn with_lookup(mut self, lookup: Arc<dyn EventLookup>) -> Self {
        self.lookup = Some(lookup);
        self
    }

    /// Adds the [`EventSearch`] capability.
    #[must_use]
    pub fn with_search(mut self, search: Arc<dyn EventSearch>) -> Self {
        self.search = Some(search);
        self
    }

    /// Adds the [`EventAnalytics`] capability.
    #[must_use]
    pub fn with_analytics(mut self, analytics: Arc<dyn EventAnalytics>) -> Self {
        self.analytics = Some(analytics);
        self
    }

    /// Whether the store has `capability`.
    pub fn has(&self, capability: Capability) -> bool {
        match capability {
            Capability::Lookup => self.lookup.is_some(),
            Capability::Search => self.search.is_some(),
            Capability::Analytics => self.analytics.is_some(),
        }
    }

    /// The capabilities the store lacks, in [`Capability::ALL`] order.
    pub fn missing(&self) -> Vec<Capability> {
        Capability::ALL.into_iter().filter(|c| !self.has(*c)).collect()
    }
}

impl fmt::Debug for StoreCapabilities {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let has: Vec<Capability> = Capability::ALL.into_iter().filter(|c| self.has(*c)).collect();
        f.debug_struct("StoreCapabilities")
            .field("capabilities", &has)
            .finish_non_exhaustive()
    }
}
