//! Retry on concurrency conflict, with a jittered exponential backoff.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use rand::Rng;
use tower::retry::Policy;
use tower::Layer;

use super::step::{single, Call, Step};
use crate::bus::{BusRequest, BusResponse, BusService, Outcome};
use crate::ApplicationError;

static RETRIES: AtomicU64 = AtomicU64::new(0);

/// How many retries after a concurrency conflict this process has made (for metrics).
pub fn conflict_retries_total() -> u64 {
    RETRIES.load(Ordering::Relaxed)
}

/// The retry layer with the [`ConflictRetry`] policy.
///
/// Resending a request shares its message and context (no copy); nothing is allocated unless
/// a retry happens.
#[derive(Debug, Clone, Copy)]
pub struct RetryLayer {
    policy: ConflictRetry,
}

impl RetryLayer {
    /// Retries per `policy`.
    pub fn new(policy: ConflictRetry) -> Self {
        Self { policy }
    }
}

impl Layer<BusService> for RetryLayer {
    type Service = BusService;

    fn layer(&self, inner: BusService) -> BusService {
        single(self.policy, inner)
    }
}

/// Re-runs a command that failed with [`ApplicationError::Conflict`] (the handler reloads the
/// aggregate and decides again), at most `max_retries` times, sleeping a random time in
/// `[0, min(max_delay, base_delay × 2^attempt)]` before each retry ("full jitter"). Any other
/// outcome is final.
///
/// It is also a tower retry [`Policy`], for use with tower's own retry layer.
#[derive(Debug, Clone, Copy)]
pub struct ConflictRetry {
    max_retries: u32,
    attempt: u32,
    base_delay: Duration,
    max_delay: Duration,
}

impl ConflictRetry {
    /// A policy allowing `max_retries` retries.
    pub fn new(max_retries: u32, base_delay: Duration, max_delay: Duration) -> Self {
        Self {
            max_retries,
            attempt: 0,
            base_delay,
            max_delay,
        }
    }

    /// The longest sleep before retry number `attempt` (0-based).
    pub fn delay_cap(&self, attempt: u32) -> Duration {
        let factor = 1u32.checked_shl(attempt.min(20)).unwrap_or(u32::MAX);
        self.base_delay.saturating_mul(factor).min(self.max_delay)
    }

    /// The sleep before retry number `attempt` when `outcome` calls for one.
    fn backoff(&self, attempt: u32, outcome: &Outcome) -> Option<Duration> {
        if !matches!(outcome, Err(ApplicationError::Conflict { .. })) || attempt >= self.max_retries {
            return None;
        }
        let nanos = u64::try_from(self.delay_cap(attempt).as_nanos()).unwrap_or(u64::MAX);
        let jittered = Duration::from_nanos(rand::thread_rng().gen_range(0..=nanos));
        RETRIES.fetch_add(1, Ordering::Relaxed);
        tracing::debug!(
            attempt = attempt + 1,
            delay_us = jittered.as_micros() as u64,
            "retrying after conflict"
        );
        Some(jittered)
    }
}

impl Step for ConflictRetry {
    async fn run<N: Call>(&self, request: BusRequest, next: &N) -> Outcome {
        let mut attempt = 0;
        loop {
            let outcome = next.call(request.clone()).await;
            let Some(delay) = self.backoff(attempt, &outcome) else {
                return outcome;
            };
            attempt += 1;
            tokio::time::sleep(delay).await;
        }
    }
}

impl Policy<BusRequest, BusResponse, ApplicationError> for ConflictRetry {
    type Future = tokio::time::Sleep;

    fn retry(
        &mut self,
        _request: &mut BusRequest,
        result: &mut Result<BusResponse, ApplicationError>,
    ) -> Option<Self::Future> {
        let delay = self.backoff(self.attempt, result)?;
        self.attempt += 1;
        Some(tokio::time::sleep(delay))
    }

    fn clone_request(&mut self, request: &BusRequest) -> Option<BusRequest> {
        Some(request.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let policy = ConflictRetry::new(5, Duration::from_millis(1), Duration::from_millis(10));
        assert_eq!(policy.delay_cap(0), Duration::from_millis(1));
        assert_eq!(policy.delay_cap(1), Duration::from_millis(2));
        assert_eq!(policy.delay_cap(3), Duration::from_millis(8));
        assert_eq!(policy.delay_cap(4), Duration::from_millis(10));
        assert_eq!(policy.delay_cap(60), Duration::from_millis(10));
    }
}
