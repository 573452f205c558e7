//! Bounded exponential backoff with jitter, for transient transaction errors and a busy lease.

use std::time::Duration;

use rand::Rng;
use tokio::time::Instant;

/// Waits longer after each failed attempt (1 ms doubling up to 64 ms, jittered), until a
/// deadline.
#[derive(Debug)]
pub(crate) struct Backoff {
    attempt: u32,
    deadline: Instant,
}

impl Backoff {
    /// A backoff that gives up `timeout` from now.
    pub(crate) fn new(timeout: Duration) -> Self {
        Self {
            attempt: 0,
            deadline: Instant::now() + timeout,
        }
    }

    /// Sleeps before the next attempt; `false` (without sleeping) once the deadline passed.
    pub(crate) async fn wait(&mut self) -> bool {
        let now = Instant::now();
        if now >= self.deadline {
            return false;
        }
        let cap_micros = 1_000u64 << self.attempt.min(6);
        let micros = rand::thread_rng().gen_range(cap_micros / 2..=cap_micros);
        let pause = Duration::from_micros(micros).min(self.deadline - now);
        self.attempt += 1;
        tokio::time::sleep(pause).await;
        true
    }

    /// How many times it waited.
    pub(crate) fn attempts(&self) -> u32 {
        self.attempt
    }
}
