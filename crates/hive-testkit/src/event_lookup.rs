//! The [`EventLookup`] conformance cases, for stores that implement both [`EventStore`] and
//! [`EventLookup`] (the cases append events, then look them up).
//!
//! | case | checks |
//! |---|---|
//! | [`event_by_id_finds_stored_events`] | an event by its id, with its position; `None` when unknown |

use std::sync::Arc;

use hive_domain::{EventLookup, EventStore};
use uuid::Uuid;

use crate::event_store::PROBE;
use crate::support::{append_ok, at, now_ms, ok, timed, unique, unpositioned};

/// A store the look-up suite can run on: it stores events and finds them by id.
pub trait LookupStore: EventStore + EventLookup {}

impl<S: EventStore + EventLookup + ?Sized> LookupStore for S {}

/// `event_by_id` finds every stored event with its global position, and `None` for an id
/// never stored.
pub async fn event_by_id_finds_stored_events<S: LookupStore + ?Sized + 'static>(store: Arc<S>) {
    let (a, b) = (unique("by-id-a"), unique("by-id-b"));
    let base = now_ms();
    let ty = unique("ById");
    let stored_a = append_ok(
        &*store,
        &a,
        0,
        vec![
            timed(&a, PROBE, &ty, 1, at(base, 0)),
            timed(&a, PROBE, &ty, 2, at(base, 1)),
        ],
    )
    .await;
    let stored_b = append_ok(&*store, &b, 0, vec![timed(&b, PROBE, &ty, 1, at(base, 2))]).await;
    for sent in stored_a.iter().chain(&stored_b) {
        let found = ok(store.event_by_id(sent.event_id).await, "event_by_id")
            .unwrap_or_else(|| panic!("event_by_id: stored event {} not found", sent.event_id));
        assert_eq!(
            unpositioned(&found),
            unpositioned(sent),
            "event_by_id: the envelope came back altered"
        );
        assert_eq!(
            found.global_position, sent.global_position,
            "event_by_id: the event must come with its global position"
        );
    }
    let unknown = ok(store.event_by_id(Uuid::now_v7()).await, "event_by_id of an unknown id");
    assert!(
        unknown.is_none(),
        "event_by_id: an id never stored must be None, got {unknown:?}"
    );
}
