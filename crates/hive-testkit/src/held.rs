//! [`Held`]: a store under test plus whatever must outlive it.

use std::any::Any;
use std::fmt;
use std::sync::Arc;

/// A store under test, shared behind an [`Arc`], plus an optional guard that must live as long
/// as the store (a temporary directory, a container handle, a server process…).
///
/// The conformance macros accept a future whose output is either the store itself or a
/// `Held<Store>`; the guard is dropped only after the test has finished with the store.
///
/// ```
/// use hive_testkit::Held;
///
/// struct Store;
/// struct TempDir(&'static str);
///
/// let plain: Held<Store> = Store.into();
/// assert!(plain.guard().is_none());
///
/// let guarded = Held::with_guard(Store, TempDir("/tmp/hive-test"));
/// let dir = guarded.guard().and_then(|g| g.downcast_ref::<TempDir>());
/// assert_eq!(dir.map(|d| d.0), Some("/tmp/hive-test"));
/// let _store = guarded.store(); // an Arc<Store> for the test functions
/// ```
pub struct Held<S: ?Sized> {
    // Declared before `guard`: fields drop in order, so the store goes before what it needs.
    store: Arc<S>,
    guard: Option<Box<dyn Any + Send + Sync>>,
}

impl<S> Held<S> {
    /// Holds `store` with no guard.
    pub fn new(store: S) -> Self {
        Self::from_arc(Arc::new(store))
    }

    /// Holds `store` and keeps `guard` alive until after the store is dropped.
    pub fn with_guard<G: Any + Send + Sync>(store: S, guard: G) -> Self {
        Self::from_arc_with_guard(Arc::new(store), guard)
    }
}

impl<S: ?Sized> Held<S> {
    /// Holds an already shared store (also works for `Arc<dyn EventStore>`).
    pub fn from_arc(store: Arc<S>) -> Self {
        Self { store, guard: None }
    }

    /// Holds an already shared store and keeps `guard` alive until after the store is dropped.
    pub fn from_arc_with_guard<G: Any + Send + Sync>(store: Arc<S>, guard: G) -> Self {
        Self {
            store,
            guard: Some(Box::new(guard)),
        }
    }

    /// A new handle on the store, to hand to the conformance functions.
    pub fn store(&self) -> Arc<S> {
        Arc::clone(&self.store)
    }

    /// The guard, if any (downcast it with [`<dyn Any>::downcast_ref`](Any)).
    pub fn guard(&self) -> Option<&(dyn Any + Send + Sync)> {
        self.guard.as_deref()
    }
}

impl<S> From<S> for Held<S> {
    fn from(store: S) -> Self {
        Self::new(store)
    }
}

impl<S: ?Sized> fmt::Debug for Held<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Held")
            .field("store", &std::any::type_name::<S>())
            .field("guarded", &self.guard.is_some())
            .finish()
    }
}
