//! The [`EventSearch`] conformance cases, for stores that implement both [`EventStore`] and
//! [`EventSearch`] (the cases append events, then look them up). Same rules as the
//! [`event_store`](crate::event_store) cases: random names, only what the case wrote is checked.
//!
//! | case | checks |
//! |---|---|
//! | [`events_by_type_in_time_range`] | type + half-open time range, oldest first |
//! | [`events_by_correlation_across_aggregates`] | correlation across streams, time order |
//! | [`search_by_criteria`] | every criterion, alone and combined, and full text |
//! | [`search_pages_and_totals`] | offset/limit paging and totals |
//! | [`search_returns_envelopes_unchanged`] | every envelope field and the position read back unchanged |
//! | [`lookups_without_match_are_empty`] | empty pages with a zero total |
//! | [`lookups_newest_first`] | `SortOrder::Desc`: the exact reverse order, paged, same total |

mod lookup;
mod newest;
mod search;

use hive_domain::{EventSearch, EventStore};

pub use lookup::{
    events_by_correlation_across_aggregates, events_by_type_in_time_range, lookups_without_match_are_empty,
};
pub use newest::lookups_newest_first;
pub use search::{search_by_criteria, search_pages_and_totals, search_returns_envelopes_unchanged};

/// A store the search suite can run on: it stores events and searches them.
pub trait SearchStore: EventStore + EventSearch {}

impl<S: EventStore + EventSearch + ?Sized> SearchStore for S {}
