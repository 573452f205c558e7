//! The suites catch broken stores: each test breaks one rule of the reference store and checks
//! that the matching case fails with a message naming the problem.

mod reference;

use std::sync::Arc;

use async_trait::async_trait;
use futures::StreamExt;
use hive_domain::{
    validate_append, DeadLetter, EventCriteria, EventEnvelope, EventLookup, EventPage, EventSearch, EventStore,
    EventStoreError, EventStream, Page, Snapshot, SnapshotStore, StoreResult,
};
use hive_testkit::{checkpoint_store, event_search, event_store, snapshot_store};
use reference::{ReferenceCheckpointStore, ReferenceEventStore, ReferenceSnapshotStore};

#[derive(Clone, Copy, PartialEq)]
enum Flaw {
    /// Reports a conflict as a backend error.
    UntypedConflict,
    /// Refuses a re-append of already stored events.
    NoIdempotency,
    /// Writes the valid prefix of an invalid batch.
    PartialBatch,
    /// Stops streaming after 10 000 events.
    TruncatedStream,
    /// Orders look-ups by global position instead of timestamp.
    AppendOrderSearch,
    /// Lets any word of the text match instead of every word.
    AnyWordSearch,
    /// Acknowledges an append that lost a race instead of reporting the conflict.
    SwallowConflict,
}

struct Flawed {
    inner: ReferenceEventStore,
    flaw: Flaw,
}

fn flawed(flaw: Flaw) -> Arc<Flawed> {
    Arc::new(Flawed {
        inner: ReferenceEventStore::new(),
        flaw,
    })
}

#[async_trait]
impl EventStore for Flawed {
    async fn append(&self, id: &str, expected: u64, events: Vec<EventEnvelope>) -> StoreResult<Vec<EventEnvelope>> {
        match self.flaw {
            Flaw::UntypedConflict => self.inner.append(id, expected, events).await.map_err(|e| match e {
                EventStoreError::Conflict { .. } => EventStoreError::Backend(e.to_string()),
                other => other,
            }),
            Flaw::NoIdempotency => {
                let actual = self.inner.stream_version(id).await?;
                if actual != expected {
                    return Err(EventStoreError::Conflict {
                        aggregate_id: id.to_owned(),
                        expected,
                        actual,
                    });
                }
                self.inner.append(id, expected, events).await
            }
            Flaw::PartialBatch => {
                if let Err(error) = validate_append(id, expected, &events) {
                    for (i, event) in events.into_iter().enumerate() {
                        let at = expected + i as u64;
                        if self.inner.append(id, at, vec![event]).await.is_err() {
                            break;
                        }
                    }
                    return Err(error);
                }
                self.inner.append(id, expected, events).await
            }
            Flaw::SwallowConflict => match self.inner.append(id, expected, events.clone()).await {
                Err(EventStoreError::Conflict { .. }) => Ok(events
                    .into_iter()
                    .map(|mut e| {
                        e.global_position = Some(u64::MAX / 2 + e.version);
                        e
                    })
                    .collect()),
                other => other,
            },
            _ => self.inner.append(id, expected, events).await,
        }
    }

    fn read_stream<'a>(&'a self, id: &'a str, from: u64) -> EventStream<'a> {
        let events = self.inner.read_stream(id, from);
        if self.flaw == Flaw::TruncatedStream {
            events.take(10_000).boxed()
        } else {
            events
        }
    }

    async fn stream_version(&self, id: &str) -> StoreResult<u64> {
        self.inner.stream_version(id).await
    }

    async fn read_all(&self, after: u64, limit: usize) -> StoreResult<Vec<EventEnvelope>> {
        self.inner.read_all(after, limit).await
    }

    async fn head_position(&self) -> StoreResult<u64> {
        self.inner.head_position().await
    }
}

#[async_trait]
impl EventLookup for Flawed {
    async fn event_by_id(&self, event_id: uuid::Uuid) -> StoreResult<Option<EventEnvelope>> {
        self.inner.event_by_id(event_id).await
    }
}

#[async_trait]
impl EventSearch for Flawed {
    async fn search(&self, criteria: &EventCriteria, page: Page) -> StoreResult<EventPage> {
        match self.flaw {
            Flaw::AppendOrderSearch => {
                let mut all = self.inner.search(criteria, Page::new(0, Page::MAX_LIMIT)).await?;
                all.items.sort_by_key(|e| e.global_position);
                all.items = all
                    .items
                    .into_iter()
                    .skip(page.offset_usize())
                    .take(page.limit_usize())
                    .collect();
                Ok(all)
            }
            Flaw::AnyWordSearch if criteria.text_terms().len() > 1 => {
                let mut union = Vec::new();
                for term in criteria.text_terms() {
                    let one = EventCriteria {
                        text: Some(term),
                        ..criteria.clone()
                    };
                    union.extend(self.inner.search(&one, Page::new(0, Page::MAX_LIMIT)).await?.items);
                }
                union.sort_by_key(|e| (e.timestamp, e.global_position));
                union.dedup_by_key(|e| e.event_id);
                Ok(EventPage {
                    total: union.len() as u64,
                    items: union,
                })
            }
            _ => self.inner.search(criteria, page).await,
        }
    }
}

#[tokio::test]
#[should_panic(expected = "expected Conflict")]
async fn an_untyped_conflict_fails() {
    event_store::conflict_is_typed(flawed(Flaw::UntypedConflict)).await;
}

#[tokio::test]
#[should_panic(expected = "re-append of the same batch at 0 failed")]
async fn a_refused_reappend_fails() {
    event_store::reappend_is_idempotent(flawed(Flaw::NoIdempotency)).await;
}

#[tokio::test]
#[should_panic(expected = "a rejected batch")]
async fn a_partially_written_batch_fails() {
    event_store::batch_append_is_atomic(flawed(Flaw::PartialBatch)).await;
}

#[tokio::test]
#[should_panic(expected = "yielded 10000 events")]
async fn a_truncated_stream_fails() {
    event_store::large_stream_is_read_whole(flawed(Flaw::TruncatedStream)).await;
}

#[tokio::test]
#[should_panic(expected = "wrong events or order")]
async fn look_ups_in_append_order_fail() {
    event_search::events_by_correlation_across_aggregates(flawed(Flaw::AppendOrderSearch)).await;
}

#[tokio::test]
#[should_panic(expected = "every word must occur")]
async fn any_word_text_search_fails() {
    event_search::search_by_criteria(flawed(Flaw::AnyWordSearch)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[should_panic(expected = "acknowledged")]
async fn swallowed_conflicts_fail() {
    event_store::concurrent_writers_on_one_stream(flawed(Flaw::SwallowConflict)).await;
}

/// Keeps every snapshot it is given, even older ones.
struct LastWriteWins(ReferenceSnapshotStore);

#[async_trait]
impl SnapshotStore for LastWriteWins {
    async fn save(&self, snapshot: Snapshot) -> StoreResult<()> {
        let mut forced = snapshot;
        if let Some(stored) = self.0.load(&forced.aggregate_id).await? {
            forced.version = forced.version.max(stored.version);
        }
        self.0.save(forced).await
    }

    async fn load(&self, aggregate_id: &str) -> StoreResult<Option<Snapshot>> {
        self.0.load(aggregate_id).await
    }
}

#[tokio::test]
#[should_panic(expected = "an older snapshot (v3 after v7) must be ignored")]
async fn an_older_snapshot_replacing_a_newer_fails() {
    snapshot_store::older_does_not_replace_newer(Arc::new(LastWriteWins(ReferenceSnapshotStore::new()))).await;
}

/// Lists dead letters newest first.
struct NewestFirst(ReferenceCheckpointStore);

#[async_trait]
impl hive_domain::CheckpointStore for NewestFirst {
    async fn load(&self, projection: &str) -> StoreResult<Option<hive_domain::Checkpoint>> {
        self.0.load(projection).await
    }
    async fn save(&self, checkpoint: hive_domain::Checkpoint) -> StoreResult<()> {
        self.0.save(checkpoint).await
    }
    async fn list(&self) -> StoreResult<Vec<hive_domain::Checkpoint>> {
        self.0.list().await
    }
    async fn record_dead_letter(&self, dead_letter: DeadLetter) -> StoreResult<()> {
        self.0.record_dead_letter(dead_letter).await
    }
    async fn dead_letters(&self, projection: &str) -> StoreResult<Vec<DeadLetter>> {
        let mut letters = self.0.dead_letters(projection).await?;
        letters.reverse();
        Ok(letters)
    }
    async fn remove_dead_letters(&self, projection: &str, positions: &[u64]) -> StoreResult<u64> {
        self.0.remove_dead_letters(projection, positions).await
    }
}

#[tokio::test]
#[should_panic(expected = "dead letters of a projection, oldest first")]
async fn dead_letters_newest_first_fail() {
    checkpoint_store::dead_letters_per_projection(Arc::new(NewestFirst(ReferenceCheckpointStore::new()))).await;
}

/// How [`FlawedRemoval`] gets `remove_dead_letters` wrong.
#[derive(Clone, Copy)]
enum RemovalFlaw {
    /// Answers how many positions it was given, not how many dead letters it removed.
    CountsPositions,
    /// Removes every dead letter of the projection, whatever the positions.
    IgnoresPositions,
    /// Reads no positions as nothing to remove.
    EmptyRemovesNothing,
}

/// The reference checkpoint store with one [`RemovalFlaw`].
struct FlawedRemoval(ReferenceCheckpointStore, RemovalFlaw);

#[async_trait]
impl hive_domain::CheckpointStore for FlawedRemoval {
    async fn load(&self, projection: &str) -> StoreResult<Option<hive_domain::Checkpoint>> {
        self.0.load(projection).await
    }
    async fn save(&self, checkpoint: hive_domain::Checkpoint) -> StoreResult<()> {
        self.0.save(checkpoint).await
    }
    async fn list(&self) -> StoreResult<Vec<hive_domain::Checkpoint>> {
        self.0.list().await
    }
    async fn record_dead_letter(&self, dead_letter: DeadLetter) -> StoreResult<()> {
        self.0.record_dead_letter(dead_letter).await
    }
    async fn dead_letters(&self, projection: &str) -> StoreResult<Vec<DeadLetter>> {
        self.0.dead_letters(projection).await
    }
    async fn remove_dead_letters(&self, projection: &str, positions: &[u64]) -> StoreResult<u64> {
        match self.1 {
            RemovalFlaw::CountsPositions => {
                self.0.remove_dead_letters(projection, positions).await?;
                Ok(positions.len() as u64)
            }
            RemovalFlaw::IgnoresPositions => self.0.remove_dead_letters(projection, &[]).await,
            RemovalFlaw::EmptyRemovesNothing if positions.is_empty() => Ok(0),
            RemovalFlaw::EmptyRemovesNothing => self.0.remove_dead_letters(projection, positions).await,
        }
    }
}

fn flawed_removal(flaw: RemovalFlaw) -> Arc<FlawedRemoval> {
    Arc::new(FlawedRemoval(ReferenceCheckpointStore::new(), flaw))
}

#[tokio::test]
#[should_panic(expected = "removing dead letters that are already gone must answer 0")]
async fn counting_positions_instead_of_removed_dead_letters_fails() {
    checkpoint_store::removes_dead_letters_by_position(flawed_removal(RemovalFlaw::CountsPositions)).await;
}

#[tokio::test]
#[should_panic(expected = "must answer 3")]
async fn removing_at_every_position_fails() {
    checkpoint_store::removes_dead_letters_by_position(flawed_removal(RemovalFlaw::IgnoresPositions)).await;
}

#[tokio::test]
#[should_panic(expected = "removing all of `a`'s dead letters must answer 3")]
async fn no_positions_removing_nothing_fails() {
    checkpoint_store::removes_all_dead_letters_of_a_projection(flawed_removal(RemovalFlaw::EmptyRemovesNothing)).await;
}
