//! [`CleanUp`]: asynchronous clean-up run when a test's guard is dropped.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;

/// The clean-up future of a [`CleanUp`].
type Task = Pin<Box<dyn Future<Output = ()> + Send>>;

/// Runs a future to completion when dropped: the guard of a [`Held`](crate::Held) store on a
/// server (drop the test's database, delete its indices), so the clean-up also happens when
/// an assertion fails.
///
/// The drop blocks the current thread on the future (`block_in_place`), so it needs a
/// multi-threaded Tokio runtime, as the conformance macros' tests have; outside a runtime the
/// clean-up is skipped.
///
/// ```
/// # #[tokio::main(flavor = "multi_thread", worker_threads = 2)]
/// # async fn main() {
/// use std::sync::atomic::{AtomicBool, Ordering};
/// use std::sync::Arc;
///
/// let done = Arc::new(AtomicBool::new(false));
/// let flag = done.clone();
/// let guard = hive_testkit::CleanUp::new(async move { flag.store(true, Ordering::SeqCst) });
/// drop(guard);
/// assert!(done.load(Ordering::SeqCst));
/// # }
/// ```
pub struct CleanUp(Mutex<Option<Task>>);

impl CleanUp {
    /// A guard that runs `task` when dropped.
    pub fn new(task: impl Future<Output = ()> + Send + 'static) -> Self {
        Self(Mutex::new(Some(Box::pin(task))))
    }
}

impl fmt::Debug for CleanUp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CleanUp")
    }
}

impl Drop for CleanUp {
    fn drop(&mut self) {
        let task = self.0.get_mut().ok().and_then(Option::take);
        if let (Some(task), Ok(handle)) = (task, tokio::runtime::Handle::try_current()) {
            tokio::task::block_in_place(|| handle.block_on(task));
        }
    }
}
