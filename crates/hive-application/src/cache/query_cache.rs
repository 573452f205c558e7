//! `QueryCache`: the cache levels a query bus reads through, with their invalidation.

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::Serialize;
use tokio::sync::{broadcast, OnceCell};

use super::stats::{Event, LevelCounters, LevelStats};
use super::{Cache, CacheConfig, CachePolicy, CachedEntry, RemoteInvalidation};
use crate::ApplicationError;

struct Level {
    cache: Arc<dyn Cache>,
    counters: LevelCounters,
    /// This level's feed of remote invalidations is lost: the levels above keep short TTLs.
    feed_lost: AtomicBool,
}

struct Inner {
    levels: Vec<Level>,
    config: CacheConfig,
    /// The runs in progress of every cached handler, told about each invalidation.
    flights: Mutex<Vec<Weak<dyn ForgetFlights>>>,
}

type Slot<O> = Arc<OnceCell<Result<O, ApplicationError>>>;

struct Flight<O> {
    tags: Vec<String>,
    slot: Slot<O>,
}

/// The runs in progress of one cached handler, by key, with their tags: a caller joins one only
/// if no tag of it was invalidated since it started (else it could get an answer older than its
/// own write).
pub(crate) struct Flights<O> {
    runs: Arc<Mutex<HashMap<String, Flight<O>>>>,
}

impl<O> Default for Flights<O> {
    fn default() -> Self {
        Self { runs: Arc::default() }
    }
}

/// Runs in progress that an invalidation must stop new callers from joining.
trait ForgetFlights: Send + Sync {
    /// Forgets the runs depending on one of `tags` (all runs for `None`).
    fn forget(&self, tags: Option<&[String]>);
}

impl<O: Send + Sync> ForgetFlights for Mutex<HashMap<String, Flight<O>>> {
    fn forget(&self, tags: Option<&[String]>) {
        let mut runs = self.lock().unwrap_or_else(PoisonError::into_inner);
        match tags {
            Some(tags) => runs.retain(|_, flight| !flight.tags.iter().any(|t| tags.contains(t))),
            None => runs.clear(),
        }
    }
}

/// The query cache: levels looked up in order (usually moka in process, then Redis), filled on
/// the way back, invalidated by tags — lowest level first, so that an upper level can never be
/// refilled from a lower one that is not invalidated yet.
///
/// Freshness rests on the levels' [`Stamp`](super::Stamp)s: each level's stamp is taken
/// before the level below it (or the handler) is read, so an answer computed from data older
/// than an invalidation is never served after it. Concurrent misses of one key run the lower
/// levels and the handler once. Invalidations another process makes on a shared level are
/// applied to the levels above it as they arrive (see [`RemoteInvalidation`]).
///
/// Cheap to clone. Put it in front of a query's handler with [`QueryCache::cached`]; invalidate it from events
/// with [`CacheInvalidator`](super::CacheInvalidator).
#[derive(Clone)]
pub struct QueryCache {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for QueryCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("QueryCache")
            .field("levels", &self.inner.levels.len())
            .field("config", &self.inner.config)
            .finish_non_exhaustive()
    }
}

impl QueryCache {
    /// A cache over `levels`, first looked up first. Call it inside a Tokio runtime when a level
    /// has [`Cache::remote_invalidations`]: a task applies them to the levels above.
    pub fn new(levels: Vec<Arc<dyn Cache>>, config: CacheConfig) -> Self {
        let levels = levels
            .into_iter()
            .enumerate()
            .map(|(index, cache)| Level {
                cache,
                counters: LevelCounters::new(index),
                feed_lost: AtomicBool::new(false),
            })
            .collect();
        let cache = Self {
            inner: Arc::new(Inner {
                levels,
                config,
                flights: Mutex::default(),
            }),
        };
        for (index, level) in cache.inner.levels.iter().enumerate() {
            if let Some(feed) = level.cache.remote_invalidations() {
                cache.listen(index, feed);
            }
        }
        cache
    }

    /// The settings.
    pub fn config(&self) -> &CacheConfig {
        &self.inner.config
    }

    /// This cache's counters, one entry per level.
    pub fn stats(&self) -> Vec<LevelStats> {
        self.inner.levels.iter().map(|l| l.counters.read()).collect()
    }

    /// Makes stale every answer tagged with one of `tags`, in every level (lowest first).
    /// Failures are counted and logged by the level; the other levels are invalidated anyway.
    pub async fn invalidate(&self, tags: &[String]) {
        if tags.is_empty() {
            return;
        }
        for level in self.inner.levels.iter().rev() {
            match level.cache.invalidate_tags(tags).await {
                Ok(()) => level.counters.record(Event::Invalidated(tags.len() as u64)),
                Err(error) => {
                    level.counters.record(Event::Error);
                    tracing::debug!(%error, "cache invalidation failed");
                }
            }
        }
        self.forget_flights(Some(tags));
    }

    /// Tells this cache's invalidations to the runs of a cached handler.
    pub(crate) fn follow<O: Send + Sync + 'static>(&self, flights: &Flights<O>) {
        let runs: Arc<dyn ForgetFlights> = flights.runs.clone();
        let mut followed = self.inner.flights.lock().unwrap_or_else(PoisonError::into_inner);
        followed.retain(|f| f.strong_count() > 0);
        followed.push(Arc::downgrade(&runs));
    }

    /// Stops new callers from joining runs that depend on `tags` (all runs for `None`).
    fn forget_flights(&self, tags: Option<&[String]>) {
        let followed: Vec<_> = {
            let followed = self.inner.flights.lock().unwrap_or_else(PoisonError::into_inner);
            followed.iter().filter_map(Weak::upgrade).collect()
        };
        for runs in followed {
            runs.forget(tags);
        }
    }

    /// Makes every answer stale, in every level (lowest first).
    pub async fn clear(&self) {
        for level in self.inner.levels.iter().rev() {
            if let Err(error) = level.cache.clear().await {
                level.counters.record(Event::Error);
                tracing::debug!(%error, "cache clear failed");
            }
        }
        self.forget_flights(None);
    }

    /// The answer under `key`: from the first level that has it (filling the levels above),
    /// else from `compute` (stored in every level). Concurrent calls for one key share one run.
    pub(crate) async fn fetch<O>(
        &self,
        flights: &Flights<O>,
        key: String,
        policy: &CachePolicy,
        ttl: Duration,
        compute: impl Future<Output = Result<O, ApplicationError>>,
    ) -> Result<O, ApplicationError>
    where
        O: Serialize + DeserializeOwned + Clone + Send + Sync,
    {
        let slot = {
            let mut runs = flights.runs.lock().unwrap_or_else(PoisonError::into_inner);
            let flight = runs.entry(key.clone()).or_insert_with(|| Flight {
                tags: policy.tags().to_vec(),
                slot: Slot::default(),
            });
            Arc::clone(&flight.slot)
        };
        let outcome = slot
            .get_or_init(|| self.look_up_or_compute(&key, policy, ttl, compute))
            .await
            .clone();
        let mut runs = flights.runs.lock().unwrap_or_else(PoisonError::into_inner);
        if runs.get(&key).is_some_and(|f| Arc::ptr_eq(&f.slot, &slot)) {
            runs.remove(&key);
        }
        outcome
    }

    async fn look_up_or_compute<O>(
        &self,
        key: &str,
        policy: &CachePolicy,
        ttl: Duration,
        compute: impl Future<Output = Result<O, ApplicationError>>,
    ) -> Result<O, ApplicationError>
    where
        O: Serialize + DeserializeOwned,
    {
        let levels = &self.inner.levels;
        // The stamp of each level that missed, taken before anything below it was read.
        let mut stamps = Vec::with_capacity(levels.len());
        for (index, level) in levels.iter().enumerate() {
            let found = match level.cache.get(key).await {
                Ok(found) => found,
                Err(error) => {
                    level.counters.record(Event::Error);
                    tracing::debug!(%error, "cache read failed");
                    None
                }
            };
            let decoded = found.and_then(|entry| Some((rmp_serde::from_slice::<O>(&entry.bytes).ok()?, entry)));
            if let Some((answer, entry)) = decoded {
                level.counters.record(Event::Hit);
                self.store(&levels[..index], &stamps, key, entry, ttl).await;
                return Ok(answer);
            }
            level.counters.record(Event::Miss);
            stamps.push(match level.cache.stamp(policy.tags()).await {
                Ok(stamp) => Some(stamp),
                Err(error) => {
                    level.counters.record(Event::Error);
                    tracing::debug!(%error, "cache stamp failed");
                    None
                }
            });
        }
        let answer = compute.await?;
        if let Ok(bytes) = rmp_serde::to_vec_named(&answer) {
            let entry = CachedEntry::new(bytes, policy.tags().to_vec());
            self.store(levels, &stamps, key, entry, ttl).await;
        }
        Ok(answer)
    }

    /// Stores `entry` in `levels` (each with its stamp; a level without one is skipped).
    async fn store(
        &self,
        levels: &[Level],
        stamps: &[Option<super::Stamp>],
        key: &str,
        entry: CachedEntry,
        ttl: Duration,
    ) {
        for (index, (level, stamp)) in levels.iter().zip(stamps).enumerate() {
            let Some(stamp) = stamp else { continue };
            let degraded = self.inner.levels[index + 1..]
                .iter()
                .any(|below| below.feed_lost.load(Ordering::Relaxed));
            let ttl = if degraded {
                ttl.min(self.inner.config.degraded_ttl)
            } else {
                ttl
            };
            if let Err(error) = level.cache.set(key, entry.clone(), stamp, ttl).await {
                level.counters.record(Event::Error);
                tracing::debug!(%error, "cache write failed");
            }
        }
    }

    /// Applies the remote invalidations heard by level `index` to the levels above it.
    fn listen(&self, index: usize, mut feed: broadcast::Receiver<RemoteInvalidation>) {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            tracing::warn!(
                "no Tokio runtime: remote cache invalidations will not reach the levels above level {}",
                index + 1
            );
            return;
        };
        let cache: Weak<Inner> = Arc::downgrade(&self.inner);
        runtime.spawn(async move {
            loop {
                let heard = feed.recv().await;
                let Some(inner) = cache.upgrade() else { return };
                let above = &inner.levels[..index];
                let clear = match heard {
                    Ok(RemoteInvalidation::Tags(tags)) => {
                        for level in above.iter().rev() {
                            match level.cache.invalidate_tags(&tags).await {
                                Ok(()) => level.counters.record(Event::Invalidated(tags.len() as u64)),
                                Err(_) => level.counters.record(Event::Error),
                            }
                        }
                        QueryCache {
                            inner: Arc::clone(&inner),
                        }
                        .forget_flights(Some(&tags));
                        false
                    }
                    Ok(RemoteInvalidation::All) => true,
                    Ok(RemoteInvalidation::FeedLost) => {
                        inner.levels[index].feed_lost.store(true, Ordering::Relaxed);
                        true
                    }
                    Ok(RemoteInvalidation::FeedRestored) => {
                        inner.levels[index].feed_lost.store(false, Ordering::Relaxed);
                        true
                    }
                    // Missed some: whatever they said, dropping everything above is safe.
                    Err(broadcast::error::RecvError::Lagged(_)) => true,
                    Err(broadcast::error::RecvError::Closed) => return,
                };
                if clear {
                    for level in above.iter().rev() {
                        if level.cache.clear().await.is_err() {
                            level.counters.record(Event::Error);
                        }
                    }
                    QueryCache {
                        inner: Arc::clone(&inner),
                    }
                    .forget_flights(None);
                }
            }
        });
    }
}
