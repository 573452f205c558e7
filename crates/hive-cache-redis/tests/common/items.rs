//! A tiny read side for the query-cache tests: items with a counter value, a cached query, its
//! handler (counting its runs, optionally blocking once after reading) and writes that update
//! the store then invalidate, as an inline projection followed by the invalidator does.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use hive_application::cache::{Cache, CacheConfig, CachePolicy, Cacheable, QueryCache};
use hive_application::{ApplicationError, Handler, Message, MessageContext, MiddlewareConfig, Query, QueryBus};
use hive_domain::Metadata;
use serde::Serialize;
use tokio::sync::Notify;

/// The shared read model: item id → value.
pub type Store = Arc<Mutex<HashMap<String, u64>>>;

/// The value of one item.
#[derive(Debug, Serialize)]
pub struct GetItem {
    pub id: String,
}

pub fn tag(id: &str) -> String {
    format!("item:{id}")
}

impl Message for GetItem {
    type Output = u64;

    fn name() -> &'static str {
        "GetItem"
    }
}

impl Query for GetItem {}

impl Cacheable for GetItem {
    fn cache_policy(&self, _: &MessageContext) -> Option<CachePolicy> {
        Some(CachePolicy::new(self)?.with_tag(tag(&self.id)))
    }
}

/// Stops the handler once, after it read the store: `reached` is notified, then it waits for
/// `release`.
#[derive(Default)]
pub struct Gate {
    armed: AtomicBool,
    pub reached: Notify,
    pub release: Notify,
}

impl Gate {
    pub fn arm(&self) {
        self.armed.store(true, Ordering::SeqCst);
    }
}

#[derive(Clone)]
struct Reader {
    store: Store,
    runs: Arc<AtomicU64>,
    gate: Arc<Gate>,
}

impl Handler<GetItem> for Reader {
    async fn handle(&self, query: &GetItem, _: &MessageContext) -> Result<u64, ApplicationError> {
        self.runs.fetch_add(1, Ordering::SeqCst);
        let value = self.store.lock().unwrap().get(&query.id).copied();
        if self.gate.armed.swap(false, Ordering::SeqCst) {
            self.gate.reached.notify_one();
            self.gate.release.notified().await;
        }
        // Let concurrent callers pile up on the same key.
        tokio::task::yield_now().await;
        value.ok_or_else(|| ApplicationError::not_found("item", query.id.clone()))
    }
}

/// One service instance: its query bus over its cache levels.
pub struct Instance {
    pub bus: QueryBus,
    pub cache: QueryCache,
    pub runs: Arc<AtomicU64>,
    pub gate: Arc<Gate>,
    store: Store,
}

impl Instance {
    pub fn new(store: &Store, levels: Vec<Arc<dyn Cache>>) -> Self {
        let cache = QueryCache::new(levels, CacheConfig::default());
        let reader = Reader {
            store: Arc::clone(store),
            runs: Arc::default(),
            gate: Arc::default(),
        };
        let bus = QueryBus::builder()
            .with_default_middleware(MiddlewareConfig::default())
            .handler::<GetItem, _>(cache.cached(reader.clone()))
            .build();
        Self {
            bus,
            cache,
            runs: reader.runs,
            gate: reader.gate,
            store: Arc::clone(store),
        }
    }

    pub async fn read(&self, id: &str) -> u64 {
        self.bus
            .dispatch(GetItem { id: id.to_owned() }, context())
            .await
            .unwrap()
    }

    /// Updates the read model, then invalidates (what a command's inline handlers do).
    pub async fn write(&self, id: &str, value: u64) {
        self.store.lock().unwrap().insert(id.to_owned(), value);
        self.cache.invalidate(&[tag(id)]).await;
    }

    pub fn runs(&self) -> u64 {
        self.runs.load(Ordering::SeqCst)
    }

    /// Tags invalidated so far in level `index` (0: L1).
    pub fn invalidations(&self, index: usize) -> u64 {
        self.cache.stats()[index].invalidations
    }
}

pub fn context() -> MessageContext {
    MessageContext::new().with_metadata(Metadata::default().with_organization("org-test"))
}
