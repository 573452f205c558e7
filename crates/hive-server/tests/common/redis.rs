//! A `redis-server` of a test's own: a free port, nothing on disk, killed on drop. Tests that
//! stop or empty Redis use one, never the shared server.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// A running `redis-server` of this test.
pub struct OwnRedis {
    child: Child,
    port: u16,
}

impl OwnRedis {
    /// Starts one and waits until it accepts connections; `None` (with a printed notice) when
    /// `redis-server` is not installed.
    pub fn start() -> Option<Self> {
        let port = super::process::free_port();
        let child = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn();
        let Ok(child) = child else {
            hive_testkit::backend::program(false, "redis-server");
            return None;
        };
        let redis = Self { child, port };
        for _ in 0..400 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return Some(redis);
            }
            std::thread::sleep(Duration::from_millis(25));
        }
        panic!("redis-server on port {port} did not start");
    }

    /// Its port on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Its `redis://` URL.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Runs `redis-cli` against it; its standard output, trimmed.
    pub fn cli(&self, args: &[&str]) -> String {
        let out = Command::new("redis-cli")
            .args(["-p", &self.port.to_string()])
            .args(args)
            .output()
            .expect("redis-cli runs");
        String::from_utf8(out.stdout)
            .expect("redis-cli prints UTF-8")
            .trim()
            .to_owned()
    }

    /// How many keys it holds (`DBSIZE`).
    pub fn keys(&self) -> u64 {
        self.cli(&["DBSIZE"]).parse().expect("DBSIZE is a number")
    }
}

impl Drop for OwnRedis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
