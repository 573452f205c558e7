//! Support for the macros; not a public API.
//!
//! The macros accept either a store or a `Held<Store>`. A plain `Into<Held<_>>` cannot tell
//! which one it got (`Held<S>` converts into both `Held<S>` and `Held<Held<S>>`), so each port
//! has a marker type and two impls: one for any type implementing the port, one for `Held<S>`
//! (which never implements a port). The explicit `type = Store, …` macro form uses plain
//! `Into<Held<Store>>` instead.

use hive_application::cache::Cache;
use hive_domain::{CheckpointStore, EventStore, SnapshotStore};

use crate::Held;

/// Marker for the [`EventStore`] port.
#[derive(Debug)]
pub enum EventStorePort {}
/// Marker for the [`EventLookup`](hive_domain::EventLookup) capability.
#[derive(Debug)]
pub enum LookupPort {}
/// Marker for the [`EventSearch`](hive_domain::EventSearch) capability.
#[derive(Debug)]
pub enum SearchPort {}
/// Marker for the [`SnapshotStore`] port.
#[derive(Debug)]
pub enum SnapshotStorePort {}
/// Marker for the [`CheckpointStore`] port.
#[derive(Debug)]
pub enum CheckpointStorePort {}
/// Marker for the [`EventSink`](hive_application::EventSink) port, through its probe.
#[derive(Debug)]
pub enum SinkProbePort {}
/// Marker for the [`Cache`] port.
#[derive(Debug)]
pub enum CachePort {}

/// What a conformance factory may produce for the port `P`: the store or a `Held` store.
pub trait IntoHeld<P> {
    /// The store type under test.
    type Store: ?Sized;
    /// Wraps the value into a [`Held`].
    fn into_held(self) -> Held<Self::Store>;
}

macro_rules! into_held_for_port {
    ($port:ty, $trait:path) => {
        impl<S: $trait> IntoHeld<$port> for S {
            type Store = S;
            fn into_held(self) -> Held<S> {
                Held::new(self)
            }
        }

        impl<S: $trait + ?Sized> IntoHeld<$port> for Held<S> {
            type Store = S;
            fn into_held(self) -> Held<S> {
                self
            }
        }
    };
}

into_held_for_port!(EventStorePort, EventStore);
into_held_for_port!(LookupPort, crate::event_lookup::LookupStore);
into_held_for_port!(SearchPort, crate::event_search::SearchStore);
into_held_for_port!(SnapshotStorePort, SnapshotStore);
into_held_for_port!(CheckpointStorePort, CheckpointStore);
into_held_for_port!(CachePort, Cache);
into_held_for_port!(SinkProbePort, crate::connector::BrokerProbe);

/// Converts a factory output for the event-store suite.
pub fn hold_event_store<T: IntoHeld<EventStorePort>>(value: T) -> Held<T::Store> {
    value.into_held()
}

/// Converts a factory output for the event-lookup suite.
pub fn hold_lookup_store<T: IntoHeld<LookupPort>>(value: T) -> Held<T::Store> {
    value.into_held()
}

/// Converts a factory output for the event-search suite.
pub fn hold_search_store<T: IntoHeld<SearchPort>>(value: T) -> Held<T::Store> {
    value.into_held()
}

/// Converts a factory output for the snapshot-store suite.
pub fn hold_snapshot_store<T: IntoHeld<SnapshotStorePort>>(value: T) -> Held<T::Store> {
    value.into_held()
}

/// Converts a factory output for the checkpoint-store suite.
pub fn hold_checkpoint_store<T: IntoHeld<CheckpointStorePort>>(value: T) -> Held<T::Store> {
    value.into_held()
}

/// Converts a factory output to `Held<S>` when the store type is named explicitly.
pub fn hold_as<S: ?Sized, T: Into<Held<S>>>(value: T) -> Held<S> {
    value.into()
}

/// Converts a factory output for the cache suite.
pub fn hold_cache<T: IntoHeld<CachePort>>(value: T) -> Held<T::Store> {
    value.into_held()
}

/// Converts a factory output for the event-sink suite.
pub fn hold_probe<T: IntoHeld<SinkProbePort>>(value: T) -> Held<T::Store> {
    value.into_held()
}
