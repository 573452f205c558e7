//! The query cache through a real query bus: hits, invalidation by events, tenants, uncached
//! types, the stale-fill race, joining runs, filling upper levels, remote invalidations and
//! failing levels.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use hive_application::cache::{
    Cache, CacheConfig, CacheInvalidator, CachePolicy, Cacheable, QueryCache, RemoteInvalidation,
};
use hive_application::{
    ApplicationError, BatchError, EventBus, Handler, Message, MessageContext, MiddlewareConfig, Projection, Query,
    QueryBus,
};
use hive_domain::{EventEnvelope, Metadata};
use hive_testkit::ReferenceCache;
use serde::Serialize;
use serde_json::json;
use tokio::sync::Notify;

type Store = Arc<Mutex<HashMap<String, u64>>>;
/// Notified when the held run has read; notify it to let the run finish.
type Hold = (Arc<Notify>, Arc<Notify>);

#[derive(Debug, Serialize)]
struct Balance {
    account: String,
}

impl Message for Balance {
    type Output = u64;
    fn name() -> &'static str {
        "Balance"
    }
}
impl Query for Balance {}
impl Cacheable for Balance {
    fn cache_policy(&self, context: &MessageContext) -> Option<CachePolicy> {
        let org = context.metadata.organization_id.as_deref()?;
        Some(CachePolicy::new(self)?.with_tag(format!("account:{org}:{}", self.account)))
    }
}

/// Cacheable, but left uncached by the tests' [`CacheConfig`].
#[derive(Debug, Serialize)]
struct Plain;
impl Message for Plain {
    type Output = u64;
    fn name() -> &'static str {
        "Plain"
    }
}
impl Query for Plain {}
impl Cacheable for Plain {
    fn cache_policy(&self, _: &MessageContext) -> Option<CachePolicy> {
        CachePolicy::new(self)
    }
}

#[derive(Clone, Default)]
struct Reader {
    store: Store,
    runs: Arc<AtomicU64>,
    hold: Arc<Mutex<Option<Hold>>>,
}

impl Reader {
    /// The next run stops after reading: `reached` is notified, then it waits for `release`.
    fn hold_next(&self) -> Hold {
        let pair = (Arc::new(Notify::new()), Arc::new(Notify::new()));
        *self.hold.lock().unwrap() = Some(pair.clone());
        pair
    }
}

impl Handler<Balance> for Reader {
    async fn handle(&self, query: &Balance, context: &MessageContext) -> Result<u64, ApplicationError> {
        self.runs.fetch_add(1, Ordering::SeqCst);
        let key = format!("{}:{}", context.organization()?, query.account);
        let value = self.store.lock().unwrap().get(&key).copied();
        let hold = self.hold.lock().unwrap().take();
        if let Some((reached, release)) = hold {
            reached.notify_one();
            release.notified().await;
        }
        value.ok_or_else(|| ApplicationError::not_found("account", query.account.clone()))
    }
}

impl Handler<Plain> for Reader {
    async fn handle(&self, _: &Plain, _: &MessageContext) -> Result<u64, ApplicationError> {
        Ok(self.runs.fetch_add(1, Ordering::SeqCst))
    }
}

struct Setup {
    bus: QueryBus,
    cache: QueryCache,
    reader: Reader,
    events: EventBus,
}

fn setup(levels: Vec<Arc<dyn Cache>>, config: CacheConfig) -> Setup {
    let cache = QueryCache::new(levels, config);
    let reader = Reader::default();
    let bus = QueryBus::builder()
        .with_default_middleware(MiddlewareConfig::default())
        .handler::<Balance, _>(cache.cached(reader.clone()))
        .handler::<Plain, _>(cache.cached(reader.clone()))
        .build();
    let events = EventBus::default();
    let tags = Arc::new(|event: &EventEnvelope| {
        let org = event.metadata.organization_id.clone().unwrap_or_default();
        vec![format!("account:{org}:{}", event.aggregate_id)]
    });
    events.register(Arc::new(CacheInvalidator::new(cache.clone(), tags)));
    Setup {
        bus,
        cache,
        reader,
        events,
    }
}

fn org(id: &str) -> MessageContext {
    MessageContext::new().with_metadata(Metadata::default().with_organization(id))
}

impl Setup {
    async fn read(&self, org_id: &str, account: &str) -> Result<u64, ApplicationError> {
        self.bus
            .dispatch(
                Balance {
                    account: account.into(),
                },
                org(org_id),
            )
            .await
    }

    /// Updates the read model, then publishes the event (the invalidator runs inline).
    async fn write(&self, org_id: &str, account: &str, value: u64) {
        self.reader
            .store
            .lock()
            .unwrap()
            .insert(format!("{org_id}:{account}"), value);
        let event = EventEnvelope::new(account, "Account", "Deposited", json!({}), 1)
            .with_metadata(Metadata::default().with_organization(org_id));
        assert!(self.events.publish(&[event]).await.is_empty());
    }

    fn runs(&self) -> u64 {
        self.reader.runs.load(Ordering::SeqCst)
    }
}

#[tokio::test]
async fn answers_are_cached_until_an_event_invalidates_them() {
    let s = setup(vec![Arc::new(ReferenceCache::local())], CacheConfig::default());
    s.write("o1", "a", 10).await;
    assert_eq!(s.read("o1", "a").await.unwrap(), 10);
    assert_eq!(s.read("o1", "a").await.unwrap(), 10);
    assert_eq!(s.runs(), 1, "the second read is a hit");
    s.write("o1", "a", 11).await;
    assert_eq!(s.read("o1", "a").await.unwrap(), 11, "read-your-writes");
    assert_eq!(s.runs(), 2);
    let stats = s.cache.stats();
    assert_eq!((stats[0].hits, stats[0].misses, stats[0].invalidations), (1, 2, 2));
}

#[tokio::test]
async fn tenants_uncached_types_and_errors_are_kept_apart() {
    let config = CacheConfig::default().uncached("Plain");
    let s = setup(vec![Arc::new(ReferenceCache::local())], config);
    s.write("o1", "a", 1).await;
    s.write("o2", "a", 2).await;
    assert_eq!(s.read("o1", "a").await.unwrap(), 1);
    assert_eq!(
        s.read("o2", "a").await.unwrap(),
        2,
        "another tenant never gets o1's answer"
    );
    assert_eq!(s.runs(), 2);
    assert!(s.read("o1", "missing").await.is_err());
    assert!(s.read("o1", "missing").await.is_err());
    assert_eq!(s.runs(), 4, "errors are not cached");
    let before = s.runs();
    s.bus.dispatch(Plain, org("o1")).await.unwrap();
    s.bus.dispatch(Plain, org("o1")).await.unwrap();
    assert_eq!(
        s.runs(),
        before + 2,
        "a type the config leaves uncached is never cached"
    );
    s.write("o2", "a", 3).await;
    assert_eq!(
        s.read("o1", "a").await.unwrap(),
        1,
        "o2's event leaves o1's answer cached"
    );
    assert_eq!(s.read("o2", "a").await.unwrap(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_answer_read_before_a_write_is_never_served_after_it() {
    let (l1, l2) = (Arc::new(ReferenceCache::local()), Arc::new(ReferenceCache::local()));
    let s = Arc::new(setup(vec![l1.clone(), l2.clone()], CacheConfig::default()));
    s.write("o", "r", 1).await;
    let (reached, release) = s.reader.hold_next();
    let slow = tokio::spawn({
        let s = Arc::clone(&s);
        async move { s.read("o", "r").await }
    });
    reached.notified().await; // it has read 1
    s.write("o", "r", 2).await; // read model, then invalidation: the command returns
    release.notify_one(); // the slow query now stores its answer
    assert_eq!(slow.await.unwrap().unwrap(), 1);
    assert_eq!((l1.live(), l2.live()), (0, 0), "its stale answer is live in no level");
    assert_eq!(s.read("o", "r").await.unwrap(), 2);
    assert_eq!(s.read("o", "r").await.unwrap(), 2);
    assert_eq!(s.runs(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_after_a_write_does_not_join_a_run_that_started_before_it() {
    let s = Arc::new(setup(vec![Arc::new(ReferenceCache::local())], CacheConfig::default()));
    s.write("o", "j", 1).await;
    let (reached, release) = s.reader.hold_next();
    let slow = tokio::spawn({
        let s = Arc::clone(&s);
        async move { s.read("o", "j").await }
    });
    reached.notified().await;
    s.write("o", "j", 2).await;
    assert_eq!(s.read("o", "j").await.unwrap(), 2, "a new run, not the one holding 1");
    release.notify_one();
    assert_eq!(slow.await.unwrap().unwrap(), 1);
}

#[tokio::test]
async fn a_lower_level_hit_fills_the_levels_above() {
    let (l1, l2) = (Arc::new(ReferenceCache::local()), Arc::new(ReferenceCache::local()));
    // Another process filled the shared level.
    let other = setup(vec![l2.clone()], CacheConfig::default());
    other.write("o", "f", 5).await;
    assert_eq!(other.read("o", "f").await.unwrap(), 5);
    let s = setup(vec![l1.clone(), l2.clone()], CacheConfig::default());
    s.reader.store.lock().unwrap().insert("o:f".into(), 5);
    assert_eq!(s.read("o", "f").await.unwrap(), 5);
    assert_eq!(s.read("o", "f").await.unwrap(), 5);
    assert_eq!(s.runs(), 0, "answered by L2, then by L1");
    let stats = s.cache.stats();
    assert_eq!((stats[0].hits, stats[1].hits), (1, 1));
}

#[tokio::test]
async fn remote_invalidations_and_a_lost_feed_reach_the_upper_levels() {
    let (l1, l2) = (Arc::new(ReferenceCache::local()), Arc::new(ReferenceCache::shared()));
    let config = CacheConfig::default().with_default_ttl(Duration::from_secs(300));
    let s = setup(vec![l1.clone(), l2.clone()], config.clone());
    let feed = l2.feed().cloned().unwrap();
    s.write("o", "x", 1).await;
    s.read("o", "x").await.unwrap();
    assert_eq!(l1.live(), 1);
    feed.send(RemoteInvalidation::Tags(vec!["account:o:x".into()])).unwrap();
    wait_until(|| l1.live() == 0).await;

    s.read("o", "x").await.unwrap();
    assert_eq!(l1.live(), 1);
    feed.send(RemoteInvalidation::FeedLost).unwrap();
    wait_until(|| l1.live() == 0).await;
    l2.set_failing(true);
    s.read("o", "x").await.unwrap();
    assert_eq!(
        l1.ttl_of("x"),
        Some(config.degraded_ttl),
        "short TTLs while the feed is lost"
    );
    assert!(s.cache.stats()[1].errors > 0, "the failing level is counted");

    l2.set_failing(false);
    feed.send(RemoteInvalidation::FeedRestored).unwrap();
    wait_until(|| l1.live() == 0).await;
    s.read("o", "x").await.unwrap();
    assert_eq!(l1.ttl_of("x"), Some(Duration::from_secs(300)));
}

#[tokio::test]
async fn a_failing_level_is_a_miss_not_an_error() {
    let l1 = Arc::new(ReferenceCache::local());
    l1.set_failing(true);
    let s = setup(vec![l1.clone()], CacheConfig::default());
    s.write("o", "e", 3).await; // the invalidation fails quietly
    assert_eq!(s.read("o", "e").await.unwrap(), 3);
    assert_eq!(s.read("o", "e").await.unwrap(), 3);
    assert_eq!(s.runs(), 2);
    let stats = s.cache.stats()[0];
    assert!(
        stats.errors >= 5,
        "get, stamp (twice each) and the invalidation failed: {stats:?}"
    );
}

/// Yields until `condition` holds (the listener task applies remote invalidations).
async fn wait_until(condition: impl Fn() -> bool) {
    for _ in 0..10_000 {
        if condition() {
            return;
        }
        tokio::task::yield_now().await;
    }
    panic!("condition never held");
}

/// A projection of balances into the reader's store, counting the batches it is handed.
struct Balances {
    store: Store,
    batches: AtomicU64,
}

#[async_trait]
impl Projection for Balances {
    fn name(&self) -> &str {
        "balances"
    }

    fn version(&self) -> u32 {
        3
    }

    async fn apply(&self, event: &EventEnvelope) -> Result<(), ApplicationError> {
        let org = event.metadata.organization_id.clone().unwrap_or_default();
        let balance = event.event_data["balance"].as_u64().unwrap_or_default();
        self.store
            .lock()
            .unwrap()
            .insert(format!("{org}:{}", event.aggregate_id), balance);
        Ok(())
    }

    async fn reset(&self) -> Result<(), ApplicationError> {
        self.store.lock().unwrap().clear();
        Ok(())
    }

    async fn apply_batch(&self, events: &[EventEnvelope]) -> Result<(), BatchError> {
        self.batches.fetch_add(1, Ordering::SeqCst);
        for event in events {
            self.apply(event).await?;
        }
        Ok(())
    }
}

#[tokio::test]
async fn a_wrapped_projection_gets_whole_batches_and_invalidates_what_they_touched() {
    let s = setup(vec![Arc::new(ReferenceCache::local())], CacheConfig::default());
    s.write("o1", "a", 1).await;
    s.write("o1", "b", 2).await;
    s.write("o1", "c", 3).await;
    for account in ["a", "b", "c"] {
        s.read("o1", account).await.unwrap();
    }
    let runs = s.runs();
    let balances = Arc::new(Balances {
        store: s.reader.store.clone(),
        batches: AtomicU64::new(0),
    });
    let tags = Arc::new(|event: &EventEnvelope| {
        let org = event.metadata.organization_id.clone().unwrap_or_default();
        vec![format!("account:{org}:{}", event.aggregate_id)]
    });
    let wrapped = CacheInvalidator::new(s.cache.clone(), tags).wrap(balances.clone());
    assert_eq!(
        wrapped.version(),
        3,
        "the wrapper keeps the projection's version (its rebuild rule)"
    );
    let event = |account: &str, balance: u64| {
        EventEnvelope::new(account, "Account", "Deposited", json!({ "balance": balance }), 2)
            .with_metadata(Metadata::default().with_organization("o1"))
    };
    wrapped
        .apply_batch(&[event("a", 10), event("b", 20), event("a", 11)])
        .await
        .unwrap();
    assert_eq!(
        balances.batches.load(Ordering::SeqCst),
        1,
        "the batch reached the projection whole"
    );
    assert_eq!(s.read("o1", "a").await.unwrap(), 11, "a was invalidated");
    assert_eq!(s.read("o1", "b").await.unwrap(), 20, "b was invalidated");
    assert_eq!(s.read("o1", "c").await.unwrap(), 3);
    assert_eq!(s.runs(), runs + 2, "c, untouched by the batch, is still a hit");
}
