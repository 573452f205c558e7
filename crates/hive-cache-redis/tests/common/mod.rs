//! Redis for the tests: the shared one of `HIVE_REDIS_URL` (each test under its own prefix), or
//! a `redis-server` of a test's own (for the outage tests, which stop it).
#![allow(dead_code, unreachable_pub)]

pub mod items;

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use hive_cache_redis::{RedisCache, RedisCacheConfig};

/// `HIVE_REDIS_URL`, or `None` with a notice (the test is then skipped).
pub fn redis_url() -> Option<String> {
    hive_testkit::backend::url(hive_testkit::backend::REDIS)
}

/// A prefix no other test uses.
pub fn prefix() -> String {
    format!("hive:test:{}:", uuid::Uuid::new_v4().simple())
}

/// A level on the shared Redis under a fresh prefix.
pub fn shared_cache(url: &str) -> RedisCache {
    RedisCache::open(RedisCacheConfig::new(url).with_prefix(prefix())).expect("valid Redis URL")
}

/// A `redis-server` of the test's own on a free port, nothing on disk; stopped on drop.
pub struct OwnRedis {
    pub port: u16,
    child: Option<Child>,
}

impl OwnRedis {
    /// Starts one, or `None` with a notice when `redis-server` is not installed.
    pub async fn start() -> Option<Self> {
        let installed = Command::new("redis-server")
            .arg("--version")
            .stdout(Stdio::null())
            .status()
            .is_ok();
        if !hive_testkit::backend::program(installed, "redis-server") {
            return None;
        }
        let port = TcpListener::bind("127.0.0.1:0").ok()?.local_addr().ok()?.port();
        let mut server = Self { port, child: None };
        server.restart().await;
        Some(server)
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Kills the server (as a crash would).
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts it again on the same port and waits until it answers.
    pub async fn restart(&mut self) {
        self.stop();
        let child = Command::new("redis-server")
            .args([
                "--port",
                &self.port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server starts");
        self.child = Some(child);
        for _ in 0..200 {
            if std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("redis-server on port {} did not come up", self.port);
    }
}

impl Drop for OwnRedis {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Polls `condition` every 10 ms until it holds; fails the test after 10 s (a hang guard, not a
/// timing assertion).
pub async fn eventually(what: &str, mut condition: impl AsyncFnMut() -> bool) {
    for _ in 0..1000 {
        if condition().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("gave up waiting: {what}");
}

/// Deletes every key under a prefix when dropped (the counters of a test's namespace).
pub struct Cleanup {
    pub url: String,
    pub prefix: String,
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        let Ok(client) = redis::Client::open(self.url.as_str()) else {
            return;
        };
        let Ok(mut connection) = client.get_connection() else {
            return;
        };
        let keys: Vec<String> = redis::cmd("KEYS")
            .arg(format!("{}*", self.prefix))
            .query(&mut connection)
            .unwrap_or_default();
        if !keys.is_empty() {
            let _: redis::RedisResult<()> = redis::cmd("DEL").arg(keys).query(&mut connection);
        }
    }
}

/// A level on the shared Redis under a fresh prefix, whose keys are deleted when the guard goes.
pub fn held_cache(url: &str) -> hive_testkit::Held<RedisCache> {
    let prefix = prefix();
    let cache = RedisCache::open(RedisCacheConfig::new(url).with_prefix(prefix.clone())).expect("valid Redis URL");
    hive_testkit::Held::with_guard(
        cache,
        Cleanup {
            url: url.to_owned(),
            prefix,
        },
    )
}
