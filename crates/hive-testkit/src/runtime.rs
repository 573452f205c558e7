//! A runtime for tests that drive async code from a synchronous body (proptest cases).

/// A current-thread tokio runtime with timers and I/O enabled.
///
/// ```
/// let answer = hive_testkit::runtime().block_on(async { 40 + 2 });
/// assert_eq!(answer, 42);
/// ```
///
/// # Panics
///
/// When the runtime cannot be built (no threads or file descriptors left).
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap_or_else(|e| panic!("cannot build a tokio runtime: {e}"))
}
