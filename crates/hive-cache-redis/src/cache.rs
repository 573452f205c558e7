//! [`RedisCache`]: the shared level.

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use async_trait::async_trait;
use hive_application::cache::{Cache, CacheError, CachedEntry, RemoteInvalidation, Stamp};
use redis::Script;
use tokio::sync::broadcast;

use crate::connection::Redis;
use crate::entry::{decode, encode};
use crate::feed::{self, FeedTask, Message};
use crate::{scripts, RedisCacheConfig};

/// Invalidations that did not reach Redis, sent again once it answers.
#[derive(Default)]
struct Pending {
    tags: HashSet<String>,
    /// Too many to keep: clear the whole cache instead.
    all: bool,
    /// Tags taken by a flush whose answer has not come yet (still counted as pending).
    sending_tags: usize,
    /// Clears taken by a flush whose answer has not come yet.
    sending_all: usize,
}

/// The invalidations a flush took from [`Pending`], counted as pending until Redis answered;
/// dropped with `taken` still set (an error, or the flush's future dropped), they are pending
/// again.
struct Sending<'a> {
    cache: &'a RedisCache,
    taken: Option<Pending>,
    tags: usize,
    all: bool,
}

impl<'a> Sending<'a> {
    fn take(cache: &'a RedisCache) -> Self {
        let mut pending = cache.pending();
        let taken = Pending {
            tags: std::mem::take(&mut pending.tags),
            all: std::mem::replace(&mut pending.all, false),
            ..Pending::default()
        };
        let (tags, all) = (if taken.all { 0 } else { taken.tags.len() }, taken.all);
        pending.sending_tags += tags;
        pending.sending_all += usize::from(all);
        cache.inner.has_pending.store(false, Ordering::Release);
        Self {
            cache,
            taken: Some(taken),
            tags,
            all,
        }
    }
}

impl Drop for Sending<'_> {
    fn drop(&mut self) {
        let mut pending = self.cache.pending();
        pending.sending_tags -= self.tags;
        pending.sending_all -= usize::from(self.all);
        if let Some(taken) = self.taken.take() {
            self.cache.keep_pending_in(&mut pending, taken.tags, taken.all);
        }
    }
}

struct Inner {
    redis: Redis,
    config: RedisCacheConfig,
    origin: String,
    scripts: Scripts,
    feed: broadcast::Sender<RemoteInvalidation>,
    pending: Mutex<Pending>,
    has_pending: AtomicBool,
    _task: FeedTask,
}

struct Scripts {
    get: Script,
    invalidate: Script,
    clear: Script,
}

/// The shared level (L2) of the query cache, on Redis.
///
/// * Keys: `{prefix}e:{key}` (entries, `SET … PX ttl`), `{prefix}g:{tag}` (tag generations),
///   `{prefix}epoch`, `{prefix}counter`; channel `{prefix}invalidations`.
/// * Values: the stamp, the tags and the bytes (a one-line text header, then raw bytes); a Lua
///   script returns an entry only if its stamp still matches the generations (one round trip),
///   so an answer computed before an invalidation is never served after it, by any process.
/// * Invalidation: one script gives the tags a new generation and publishes them; other
///   processes' [`RemoteInvalidation`] feed (subscribed by the [`QueryCache`] over this level)
///   drops their in-process entries.
/// * Outage: every call is bounded by `op_timeout`; a failure is a [`CacheError::Unavailable`]
///   (the query cache treats it as a miss), opens a short circuit, and is logged at most once
///   per `log_interval`. The connection reconnects by itself; invalidations that could not be
///   sent are sent when Redis is back.
///
/// [`QueryCache`]: hive_application::cache::QueryCache
#[derive(Clone)]
pub struct RedisCache {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for RedisCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisCache")
            .field("prefix", &self.inner.config.prefix)
            .finish_non_exhaustive()
    }
}

impl RedisCache {
    /// A level on `config.url`. Nothing is dialled yet: a Redis that is down now is a
    /// degraded cache, not a failure. Call it inside a Tokio runtime (the invalidation feed is
    /// a task). Fails only on an invalid URL.
    pub fn open(config: RedisCacheConfig) -> Result<Self, CacheError> {
        let redis = Redis::open(&config)?;
        let origin = uuid::Uuid::new_v4().to_string();
        let (feed, _) = broadcast::channel(1024);
        let task = feed::start(
            redis.client.clone(),
            format!("{}invalidations", config.prefix),
            origin.clone(),
            feed.clone(),
            config.op_timeout.max(Duration::from_millis(500)),
        );
        let cache = Self {
            inner: Arc::new(Inner {
                redis,
                config,
                origin,
                scripts: Scripts {
                    get: scripts::get(),
                    invalidate: scripts::invalidate(),
                    clear: scripts::clear(),
                },
                feed,
                pending: Mutex::default(),
                has_pending: AtomicBool::new(false),
                _task: task,
            }),
        };
        cache.flush_when_restored();
        Ok(cache)
    }

    /// Sends the pending invalidations as soon as Redis answers again (the feed is back, or at
    /// the latest every `retry_after`), without waiting for the next query.
    fn flush_when_restored(&self) {
        let mut feed = self.inner.feed.subscribe();
        let retry = self.inner.config.retry_after.max(Duration::from_millis(10));
        let cache = Arc::downgrade(&self.inner);
        tokio::spawn(async move {
            loop {
                let heard = tokio::time::timeout(retry, feed.recv()).await;
                if matches!(heard, Ok(Err(broadcast::error::RecvError::Closed))) {
                    return;
                }
                let Some(inner) = cache.upgrade() else { return };
                if inner.has_pending.load(Ordering::Acquire) {
                    let _ = RedisCache { inner }.flush_pending().await;
                }
            }
        });
    }

    /// The settings.
    pub fn config(&self) -> &RedisCacheConfig {
        &self.inner.config
    }

    /// Whether Redis answers `PING` now (for readiness checks).
    pub async fn ping(&self) -> Result<(), CacheError> {
        self.inner
            .redis
            .call("PING", |mut c| async move {
                redis::cmd("PING").query_async::<String>(&mut c).await
            })
            .await
            .map(drop)
    }

    /// How many invalidated tags wait for Redis to come back (`usize::MAX` when a whole clear
    /// does).
    ///
    /// An invalidation being sent still counts until Redis has answered it: 0 means every
    /// invalidation made so far has reached Redis.
    pub fn pending_invalidations(&self) -> usize {
        let pending = self.pending();
        if pending.all || pending.sending_all > 0 {
            usize::MAX
        } else {
            pending.tags.len() + pending.sending_tags
        }
    }

    /// How many Redis calls failed (or were skipped while it was down) since the start.
    pub fn errors(&self) -> u64 {
        self.inner.redis.errors()
    }

    pub(crate) fn redis(&self) -> &Redis {
        &self.inner.redis
    }

    fn key(&self, name: &str) -> String {
        format!("{}{name}", self.inner.config.prefix)
    }

    fn channel(&self) -> String {
        self.key("invalidations")
    }

    fn gens_ttl_ms(&self) -> u64 {
        u64::try_from((self.inner.config.max_ttl + Duration::from_secs(1)).as_millis()).unwrap_or(u64::MAX)
    }

    fn message(&self, tags: &[String], all: bool) -> Result<String, CacheError> {
        let message = Message {
            origin: self.inner.origin.clone(),
            tags: tags.to_vec(),
            all,
        };
        serde_json::to_string(&message).map_err(|e| CacheError::Backend(e.to_string()))
    }

    /// Sends the invalidations that failed earlier; an error leaves them pending, and so does
    /// a flush dropped before Redis answered (the [`Sending`] guard puts them back).
    async fn flush_pending(&self) -> Result<(), CacheError> {
        if !self.inner.has_pending.load(Ordering::Acquire) {
            return Ok(());
        }
        let mut sending = Sending::take(self);
        let sent = match &sending.taken {
            Some(taken) if taken.all => self.send_clear().await,
            Some(taken) => {
                let tags: Vec<String> = taken.tags.iter().cloned().collect();
                self.send_invalidation(&tags).await
            }
            None => Ok(()),
        };
        if sent.is_ok() {
            if let Some(taken) = sending.taken.take() {
                tracing::info!(
                    tags = taken.tags.len(),
                    all = taken.all,
                    "pending cache invalidations sent"
                );
            }
        }
        sent
    }

    fn pending(&self) -> std::sync::MutexGuard<'_, Pending> {
        self.inner.pending.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn keep_pending(&self, tags: impl IntoIterator<Item = String>, all: bool) {
        let mut pending = self.pending();
        self.keep_pending_in(&mut pending, tags, all);
    }

    /// Adds to `pending` (already locked) what Redis did not get.
    fn keep_pending_in(&self, pending: &mut Pending, tags: impl IntoIterator<Item = String>, all: bool) {
        pending.all |= all;
        if !pending.all {
            pending.tags.extend(tags);
            if pending.tags.len() > self.inner.config.max_pending_tags {
                pending.all = true;
            }
        }
        if pending.all {
            pending.tags.clear();
        }
        self.inner.has_pending.store(true, Ordering::Release);
    }

    async fn send_invalidation(&self, tags: &[String]) -> Result<(), CacheError> {
        let keys: Vec<String> = tags.iter().map(|t| self.key(&format!("g:{t}"))).collect();
        let (counter, ttl, channel, message) = (
            self.key("counter"),
            self.gens_ttl_ms(),
            self.channel(),
            self.message(tags, false)?,
        );
        let script = &self.inner.scripts.invalidate;
        self.inner
            .redis
            .call("invalidate", |mut c| async move {
                script
                    .key(keys)
                    .arg(counter)
                    .arg(ttl)
                    .arg(channel)
                    .arg(message)
                    .arg(scripts::counter_start())
                    .invoke_async::<u64>(&mut c)
                    .await
            })
            .await
            .map(drop)
    }

    async fn send_clear(&self) -> Result<(), CacheError> {
        let (epoch, counter, channel, message) = (
            self.key("epoch"),
            self.key("counter"),
            self.channel(),
            self.message(&[], true)?,
        );
        let script = &self.inner.scripts.clear;
        self.inner
            .redis
            .call("clear", |mut c| async move {
                script
                    .key(epoch)
                    .arg(counter)
                    .arg(channel)
                    .arg(message)
                    .arg(scripts::counter_start())
                    .invoke_async::<u64>(&mut c)
                    .await
            })
            .await
            .map(drop)
    }
}

#[async_trait]
impl Cache for RedisCache {
    async fn stamp(&self, tags: &[String]) -> Result<Stamp, CacheError> {
        self.flush_pending().await?;
        let mut keys = Vec::with_capacity(tags.len() + 1);
        keys.push(self.key("epoch"));
        keys.extend(tags.iter().map(|t| self.key(&format!("g:{t}"))));
        let values = self
            .inner
            .redis
            .call("stamp", |mut c| async move {
                redis::cmd("MGET")
                    .arg(keys)
                    .query_async::<Vec<Option<u64>>>(&mut c)
                    .await
            })
            .await?;
        Ok(Stamp::new(values.into_iter().map(|v| v.unwrap_or(0)).collect()))
    }

    async fn get(&self, key: &str) -> Result<Option<CachedEntry>, CacheError> {
        self.flush_pending().await?;
        let (entry_key, prefix) = (self.key(&format!("e:{key}")), self.inner.config.prefix.clone());
        let script = &self.inner.scripts.get;
        let blob = self
            .inner
            .redis
            .call("get", |mut c| async move {
                script
                    .key(entry_key)
                    .arg(prefix)
                    .invoke_async::<Option<Vec<u8>>>(&mut c)
                    .await
            })
            .await?;
        blob.map(|b| decode(&b)).transpose()
    }

    async fn set(&self, key: &str, entry: CachedEntry, stamp: &Stamp, ttl: Duration) -> Result<(), CacheError> {
        if stamp.generations().len() != entry.tags.len() + 1 {
            return Ok(());
        }
        let blob = encode(stamp.generations(), &entry);
        let ttl = u64::try_from(ttl.min(self.inner.config.max_ttl).as_millis())
            .unwrap_or(u64::MAX)
            .max(1);
        let entry_key = self.key(&format!("e:{key}"));
        self.inner
            .redis
            .call("set", |mut c| async move {
                redis::cmd("SET")
                    .arg(entry_key)
                    .arg(blob)
                    .arg("PX")
                    .arg(ttl)
                    .query_async::<()>(&mut c)
                    .await
            })
            .await
    }

    async fn invalidate_tags(&self, tags: &[String]) -> Result<(), CacheError> {
        if tags.is_empty() {
            return Ok(());
        }
        // Earlier invalidations first: they happened before this one.
        let sent = match self.flush_pending().await {
            Ok(()) => self.send_invalidation(tags).await,
            Err(error) => Err(error),
        };
        if sent.is_err() {
            self.keep_pending(tags.iter().cloned(), false);
        }
        sent
    }

    async fn clear(&self) -> Result<(), CacheError> {
        let sent = self.send_clear().await;
        if sent.is_err() {
            self.keep_pending(Vec::new(), true);
        }
        // On success the invalidations still pending are kept: one that failed while this
        // clear was on its way may be newer than the clear; sending it again is harmless.
        sent
    }

    fn remote_invalidations(&self) -> Option<broadcast::Receiver<RemoteInvalidation>> {
        Some(self.inner.feed.subscribe())
    }
}
