//! The [`Cache`] conformance cases (the query-cache port of `hive-application`).
//!
//! Each function takes a fresh handle on the cache under test and panics with a message saying
//! what the cache did wrong. [`cache_conformance!`](crate::cache_conformance) generates one test
//! per function. Every case uses keys and tags of its own, except
//! [`clear_makes_everything_stale`], which clears the whole cache: give each test its own
//! namespace (key prefix) when the factory hands out one shared backend.

use std::sync::Arc;
use std::time::Duration;

use hive_application::cache::{Cache, CacheError, CachedEntry};

use crate::support::unique;

const LONG: Duration = Duration::from_secs(600);

fn ok<T>(result: Result<T, CacheError>, what: impl std::fmt::Display) -> T {
    result.unwrap_or_else(|e| panic!("{what} failed: {e} ({e:?})"))
}

fn tags(names: &[&str]) -> Vec<String> {
    names.iter().map(|t| (*t).to_owned()).collect()
}

/// Stamps `entry`'s tags, then stores it (the normal order: nothing invalidated in between).
async fn put<C: Cache + ?Sized>(cache: &C, key: &str, entry: CachedEntry, ttl: Duration) {
    let stamp = ok(cache.stamp(&entry.tags).await, format_args!("stamp({:?})", entry.tags));
    ok(cache.set(key, entry, &stamp, ttl).await, format_args!("set(`{key}`)"));
}

async fn get<C: Cache + ?Sized>(cache: &C, key: &str) -> Option<CachedEntry> {
    ok(cache.get(key).await, format_args!("get(`{key}`)"))
}

/// A key never set is a miss.
pub async fn unknown_is_none<C: Cache + ?Sized + 'static>(cache: Arc<C>) {
    assert_eq!(
        get(&*cache, &unique("cache-unknown")).await,
        None,
        "get of a key never set"
    );
}

/// What is set comes back unchanged — any bytes (not only UTF-8, empty, large) and the tags in
/// order — and only under its own key.
pub async fn round_trips<C: Cache + ?Sized + 'static>(cache: Arc<C>) {
    let binary: Vec<u8> = (0..=255u8).chain([0, 0xff, 0xc3, 0x28]).collect();
    let large: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
    let (a, b) = (unique("cache-tag-a"), unique("cache-tag-b"));
    let cases = [
        (
            unique("cache-binary"),
            CachedEntry::new(binary, vec![a.clone(), b.clone()]),
        ),
        (unique("cache-empty"), CachedEntry::new(Vec::new(), vec![a])),
        (unique("cache-large"), CachedEntry::new(large, Vec::new())),
        (unique("cache-untagged"), CachedEntry::new(b"plain".to_vec(), vec![b])),
    ];
    for (key, entry) in &cases {
        put(&*cache, key, entry.clone(), LONG).await;
    }
    for (key, entry) in &cases {
        let found = get(&*cache, key).await;
        assert_eq!(found.as_ref(), Some(entry), "get(`{key}`) must return what was set");
    }
}

/// A second set of one key replaces the first.
pub async fn set_overwrites<C: Cache + ?Sized + 'static>(cache: Arc<C>) {
    let key = unique("cache-overwrite");
    let tag = unique("cache-tag");
    put(
        &*cache,
        &key,
        CachedEntry::new(b"first".to_vec(), vec![tag.clone()]),
        LONG,
    )
    .await;
    let second = CachedEntry::new(b"second".to_vec(), vec![tag]);
    put(&*cache, &key, second.clone(), LONG).await;
    assert_eq!(get(&*cache, &key).await, Some(second), "the second set must win");
}

/// Invalidating a tag makes stale the entries carrying it (alone or among others) and leaves
/// the others alone; unknown tags and an empty list are harmless.
pub async fn invalidate_hits_tagged_entries_only<C: Cache + ?Sized + 'static>(cache: Arc<C>) {
    let (a, b) = (unique("cache-tag-a"), unique("cache-tag-b"));
    let keys = [
        unique("cache-a"),
        unique("cache-b"),
        unique("cache-ab"),
        unique("cache-none"),
    ];
    let tag_sets = [vec![a.clone()], vec![b.clone()], vec![b.clone(), a.clone()], Vec::new()];
    for (key, tags) in keys.iter().zip(&tag_sets) {
        put(
            &*cache,
            key,
            CachedEntry::new(key.as_bytes().to_vec(), tags.clone()),
            LONG,
        )
        .await;
    }
    ok(cache.invalidate_tags(&[]).await, "invalidate_tags([])");
    ok(
        cache.invalidate_tags(&[unique("cache-unknown-tag")]).await,
        "invalidate_tags(unknown)",
    );
    ok(
        cache.invalidate_tags(std::slice::from_ref(&a)).await,
        format_args!("invalidate_tags([{a}])"),
    );
    assert_eq!(
        get(&*cache, &keys[0]).await,
        None,
        "an entry tagged `a` survived invalidating `a`"
    );
    assert_eq!(
        get(&*cache, &keys[2]).await,
        None,
        "an entry tagged `b, a` survived invalidating `a`"
    );
    assert!(
        get(&*cache, &keys[1]).await.is_some(),
        "invalidating `a` removed an entry tagged `b` only"
    );
    assert!(
        get(&*cache, &keys[3]).await.is_some(),
        "invalidating `a` removed an untagged entry"
    );
}

/// THE RACE: a value computed before an invalidation (stamp taken before it) and stored after
/// it must never be served.
pub async fn stale_fill_is_refused<C: Cache + ?Sized + 'static>(cache: Arc<C>) {
    let key = unique("cache-race");
    let entry_tags = tags(&[&unique("cache-tag-x"), &unique("cache-tag-y")]);
    let stamp = ok(cache.stamp(&entry_tags).await, "stamp");
    ok(cache.invalidate_tags(&entry_tags[1..]).await, "invalidate_tags");
    let entry = CachedEntry::new(b"computed before the invalidation".to_vec(), entry_tags);
    ok(cache.set(&key, entry, &stamp, LONG).await, "set with the older stamp");
    assert_eq!(
        get(&*cache, &key).await,
        None,
        "a value stamped before an invalidation of one of its tags was served after it (stale fill)"
    );
}

/// A value stamped after an invalidation is stored and served as usual.
pub async fn fresh_fill_after_invalidation_is_kept<C: Cache + ?Sized + 'static>(cache: Arc<C>) {
    let key = unique("cache-fresh");
    let entry_tags = tags(&[&unique("cache-tag")]);
    put(
        &*cache,
        &key,
        CachedEntry::new(b"old".to_vec(), entry_tags.clone()),
        LONG,
    )
    .await;
    ok(cache.invalidate_tags(&entry_tags).await, "invalidate_tags");
    let fresh = CachedEntry::new(b"new".to_vec(), entry_tags);
    put(&*cache, &key, fresh.clone(), LONG).await;
    assert_eq!(
        get(&*cache, &key).await,
        Some(fresh),
        "a value stamped after the invalidation must be served"
    );
}

/// `clear` makes every entry stale, and a value stamped before the clear is not served after it.
pub async fn clear_makes_everything_stale<C: Cache + ?Sized + 'static>(cache: Arc<C>) {
    let (tagged, untagged, late) = (unique("cache-tagged"), unique("cache-untagged"), unique("cache-late"));
    put(
        &*cache,
        &tagged,
        CachedEntry::new(b"t".to_vec(), vec![unique("cache-tag")]),
        LONG,
    )
    .await;
    put(&*cache, &untagged, CachedEntry::new(b"u".to_vec(), Vec::new()), LONG).await;
    let stamp = ok(cache.stamp(&[]).await, "stamp");
    ok(cache.clear().await, "clear");
    ok(
        cache
            .set(&late, CachedEntry::new(b"l".to_vec(), Vec::new()), &stamp, LONG)
            .await,
        "set",
    );
    assert_eq!(get(&*cache, &tagged).await, None, "a tagged entry survived clear");
    assert_eq!(get(&*cache, &untagged).await, None, "an untagged entry survived clear");
    assert_eq!(
        get(&*cache, &late).await,
        None,
        "a value stamped before clear was served after it"
    );
    put(&*cache, &late, CachedEntry::new(b"l".to_vec(), Vec::new()), LONG).await;
    assert!(
        get(&*cache, &late).await.is_some(),
        "after clear the cache must store again"
    );
}

/// An entry is gone once its TTL has passed; a longer-lived one is still there.
pub async fn ttl_expires<C: Cache + ?Sized + 'static>(cache: Arc<C>) {
    let (short, long) = (unique("cache-short"), unique("cache-long"));
    put(
        &*cache,
        &short,
        CachedEntry::new(b"s".to_vec(), Vec::new()),
        Duration::from_millis(300),
    )
    .await;
    put(&*cache, &long, CachedEntry::new(b"l".to_vec(), Vec::new()), LONG).await;
    assert!(get(&*cache, &short).await.is_some(), "an entry was gone before its TTL");
    tokio::time::sleep(Duration::from_millis(1200)).await;
    assert_eq!(
        get(&*cache, &short).await,
        None,
        "an entry outlived its 300 ms TTL by 900 ms"
    );
    assert!(get(&*cache, &long).await.is_some(), "an entry with a long TTL expired");
}

/// 16 tasks write and read 50 keys each, interleaved with invalidations of their own tags: each
/// reads back its own values, and nothing invalidated is served.
pub async fn concurrent_use_keeps_entries_apart<C: Cache + ?Sized + 'static>(cache: Arc<C>) {
    let run = unique("cache-concurrent");
    let tasks: Vec<_> = (0..16)
        .map(|task| {
            let cache = Arc::clone(&cache);
            let run = run.clone();
            tokio::spawn(async move {
                let tag = format!("{run}-tag-{task}");
                for i in 0..50 {
                    let key = format!("{run}-{task}-{i}");
                    let value = format!("{task}/{i}").into_bytes();
                    put(&*cache, &key, CachedEntry::new(value.clone(), vec![tag.clone()]), LONG).await;
                    let found = get(&*cache, &key).await.map(|e| e.bytes.to_vec());
                    assert_eq!(found, Some(value), "task {task} read another value under `{key}`");
                }
                ok(
                    cache.invalidate_tags(std::slice::from_ref(&tag)).await,
                    "invalidate_tags",
                );
                for i in 0..50 {
                    let key = format!("{run}-{task}-{i}");
                    assert_eq!(
                        get(&*cache, &key).await,
                        None,
                        "`{key}` survived the invalidation of its tag"
                    );
                }
            })
        })
        .collect();
    for task in tasks {
        if let Err(error) = task.await {
            std::panic::resume_unwind(error.into_panic());
        }
    }
}

/// Generates the [`Cache`] conformance suite: one
/// `#[tokio::test(flavor = "multi_thread", worker_threads = 4)]` per case of
/// [`cache`](crate::cache), each named `cache_<case>`.
///
/// The argument is an expression evaluating to a future whose output is the cache or a
/// [`Held`](crate::Held) cache; it is evaluated afresh in every test, and each test must get a
/// cache of its own namespace (see [`cache`](crate::cache)). With `type = Cache, factory` the
/// output may be anything that converts `Into<Held<Cache>>`. With
/// `skip_unless = <bool expression>, factory` every test first evaluates the expression and
/// returns early (skipped) when it is false: for a cache that needs a server, let it print why.
///
/// ```ignore
/// mod moka {
///     hive_testkit::cache_conformance!(async { MokaCache::new(MokaCacheConfig::default()) });
/// }
/// mod redis {
///     hive_testkit::cache_conformance!(skip_unless = redis_url().is_some(), async { connect().await });
/// }
/// ```
#[macro_export]
macro_rules! cache_conformance {
    (skip_unless = $guard:expr, $factory:expr $(,)?) => {
        $crate::__hive_cache_cases!($crate::__private::hold_cache, $factory, $guard);
    };
    (type = $cache:ty, $factory:expr $(,)?) => {
        $crate::__hive_cache_cases!($crate::__private::hold_as::<$cache, _>, $factory, true);
    };
    ($factory:expr $(,)?) => {
        $crate::__hive_cache_cases!($crate::__private::hold_cache, $factory, true);
    };
}

/// The cache case list; not a public API.
#[doc(hidden)]
#[macro_export]
macro_rules! __hive_cache_cases {
    ($hold:expr, $factory:expr, $guard:expr) => {
        $crate::__hive_cache_tests!($hold, $factory, $guard, [
            cache_unknown_is_none => unknown_is_none,
            cache_round_trips => round_trips,
            cache_set_overwrites => set_overwrites,
            cache_invalidate_hits_tagged_entries_only => invalidate_hits_tagged_entries_only,
            cache_stale_fill_is_refused => stale_fill_is_refused,
            cache_fresh_fill_after_invalidation_is_kept => fresh_fill_after_invalidation_is_kept,
            cache_clear_makes_everything_stale => clear_makes_everything_stale,
            cache_ttl_expires => ttl_expires,
            cache_concurrent_use_keeps_entries_apart => concurrent_use_keeps_entries_apart,
        ]);
    };
}

/// One `#[tokio::test]` per cache case, skipped when the guard is false; not a public API.
#[doc(hidden)]
#[macro_export]
macro_rules! __hive_cache_tests {
    ($hold:expr, $factory:expr, $guard:expr, [$($test:ident => $case:ident),* $(,)?]) => {
        $(
            #[::tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn $test() {
                if !$guard {
                    return;
                }
                let held = ($hold)($factory.await);
                $crate::cache::$case(held.store()).await;
                drop(held);
            }
        )*
    };
}
