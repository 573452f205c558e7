//! `/metrics` shows the query cache's look-ups, invalidations and errors per level (from
//! hive-application's process-wide counters; this test binary is the only user of a cache).

mod common;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use common::{Options, TestApp, TOKEN_A};
use hive_application::cache::{Cache, CacheConfig, CacheError, CachedEntry, QueryCache, Stamp};

/// A level that keeps nothing (every look-up a miss), or fails every call.
struct Keeps {
    nothing_and_fails: bool,
}

impl Keeps {
    fn check(&self) -> Result<(), CacheError> {
        if self.nothing_and_fails {
            return Err(CacheError::Unavailable("down".into()));
        }
        Ok(())
    }
}

#[async_trait]
impl Cache for Keeps {
    async fn stamp(&self, _: &[String]) -> Result<Stamp, CacheError> {
        self.check().map(|()| Stamp::default())
    }
    async fn get(&self, _: &str) -> Result<Option<CachedEntry>, CacheError> {
        self.check().map(|()| None)
    }
    async fn set(&self, _: &str, _: CachedEntry, _: &Stamp, _: Duration) -> Result<(), CacheError> {
        self.check()
    }
    async fn invalidate_tags(&self, _: &[String]) -> Result<(), CacheError> {
        self.check()
    }
    async fn clear(&self) -> Result<(), CacheError> {
        self.check()
    }
}

#[tokio::test]
async fn metrics_show_cache_misses_invalidations_and_errors_per_level() {
    let levels: Vec<Arc<dyn Cache>> = vec![
        Arc::new(Keeps {
            nothing_and_fails: false,
        }),
        Arc::new(Keeps {
            nothing_and_fails: true,
        }),
    ];
    let cache = QueryCache::new(levels, CacheConfig::default());
    let app = TestApp::with(Options {
        cache: Some(cache),
        ..Options::default()
    });
    app.create(TOKEN_A, "c-1", "1", "EUR", "x").await;
    assert_eq!(app.get(TOKEN_A, "/payments/c-1").await.status, 200);
    let text = app.get("", "/metrics").await.text;
    for expected in [
        r#"hive_cache_requests_total{level="l1",result="miss"} 1"#,
        r#"hive_cache_requests_total{level="l2",result="miss"} 1"#,
        // payment:org-a/c-1, org:org-a:payments, org:org-a:events, org:org-a:events:PaymentCreated,
        // platform:events.
        r#"hive_cache_invalidations_total{level="l1"} 5"#,
        r#"hive_cache_errors_total{level="l2"} 3"#,
    ] {
        assert!(text.contains(expected), "missing {expected} in\n{text}");
    }
}
