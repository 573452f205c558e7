//! Retry on concurrency conflict, with a jittered exponential backoff: tower's retry layer with
//! the [`ConflictRetry`] policy.

use std::time::Duration;

use rand::Rng;
use tower::retry::Policy;

use crate::bus::{BusMetrics, BusRequest, BusResponse};
use crate::ApplicationError;

/// Tower's retry layer with the [`ConflictRetry`] policy: `RetryLayer::new(policy)`.
///
/// Resending a request shares its message and context (no copy).
pub type RetryLayer = tower::retry::RetryLayer<ConflictRetry>;

/// The service of a [`RetryLayer`].
pub type Retry<S> = tower::retry::Retry<ConflictRetry, S>;

/// Re-runs a command that failed with [`ApplicationError::Conflict`] (the handler reloads the
/// aggregate and decides again), at most `max_retries` times, sleeping a random time in
/// `[0, min(max_delay, base_delay × 2^attempt)]` before each retry ("full jitter"). Any other
/// outcome is final. Each retry is counted in its [`BusMetrics`].
#[derive(Debug, Clone)]
pub struct ConflictRetry {
    max_retries: u32,
    attempt: u32,
    base_delay: Duration,
    max_delay: Duration,
    metrics: BusMetrics,
}

impl ConflictRetry {
    /// A policy allowing `max_retries` retries, counting them in fresh [`BusMetrics`].
    pub fn new(max_retries: u32, base_delay: Duration, max_delay: Duration) -> Self {
        Self {
            max_retries,
            attempt: 0,
            base_delay,
            max_delay,
            metrics: BusMetrics::new(),
        }
    }

    /// Counts the retries in `metrics` (a bus's own, see
    /// [`CommandBusBuilder::metrics`](crate::CommandBusBuilder::metrics)).
    #[must_use]
    pub fn with_metrics(mut self, metrics: BusMetrics) -> Self {
        self.metrics = metrics;
        self
    }

    /// Where the retries are counted.
    pub fn metrics(&self) -> &BusMetrics {
        &self.metrics
    }

    /// The longest sleep before retry number `attempt` (0-based).
    pub fn delay_cap(&self, attempt: u32) -> Duration {
        let factor = 1u32.checked_shl(attempt.min(20)).unwrap_or(u32::MAX);
        self.base_delay.saturating_mul(factor).min(self.max_delay)
    }
}

impl Policy<BusRequest, BusResponse, ApplicationError> for ConflictRetry {
    type Future = tokio::time::Sleep;

    fn retry(
        &mut self,
        _request: &mut BusRequest,
        result: &mut Result<BusResponse, ApplicationError>,
    ) -> Option<Self::Future> {
        if !matches!(result, Err(ApplicationError::Conflict { .. })) || self.attempt >= self.max_retries {
            return None;
        }
        let nanos = u64::try_from(self.delay_cap(self.attempt).as_nanos()).unwrap_or(u64::MAX);
        let jittered = Duration::from_nanos(rand::thread_rng().gen_range(0..=nanos));
        self.attempt += 1;
        self.metrics.record_conflict_retry();
        tracing::debug!(
            attempt = self.attempt,
            delay_us = jittered.as_micros() as u64,
            "retrying after conflict"
        );
        Some(tokio::time::sleep(jittered))
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

    #[test]
    fn only_conflicts_are_retried_at_most_max_retries_times_and_counted() {
        let mut policy = ConflictRetry::new(2, Duration::ZERO, Duration::ZERO);
        let metrics = policy.metrics().clone();
        let mut request = BusRequest {
            message_type: "T",
            context: std::sync::Arc::new(crate::MessageContext::new()),
            message: std::sync::Arc::new(Unit),
        };
        let conflict = || ApplicationError::Conflict {
            aggregate_id: "a".into(),
            expected: 1,
            actual: 2,
        };
        let mut refused = Err(ApplicationError::domain("x", "no"));
        assert!(policy.retry(&mut request, &mut refused).is_none());
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap_or_else(|e| panic!("{e}"));
        let _entered = runtime.enter();
        assert!(policy.retry(&mut request, &mut Err(conflict())).is_some());
        assert!(policy.retry(&mut request, &mut Err(conflict())).is_some());
        assert!(
            policy.retry(&mut request, &mut Err(conflict())).is_none(),
            "two retries at most"
        );
        assert_eq!(metrics.conflict_retries(), 2);
    }

    #[derive(Debug)]
    struct Unit;
    impl crate::Message for Unit {
        type Output = ();
    }
}
