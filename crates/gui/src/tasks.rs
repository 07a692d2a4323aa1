//! Work started from the UI and finished on the runtime: a [`Task`] wraps a
//! [`poll_promise::Promise`] so panels can show a spinner meanwhile and take the result once.

use poll_promise::Promise;
use std::future::Future;

/// A piece of work running on the tokio runtime.
pub struct Task<T: Send + 'static> {
    promise: Option<Promise<T>>,
}

impl<T: Send + 'static> Default for Task<T> {
    fn default() -> Self {
        Self { promise: None }
    }
}

impl<T: Send + 'static> Task<T> {
    /// Starts `work` on `runtime` (replacing any unfinished one).
    pub fn start(
        &mut self,
        runtime: &tokio::runtime::Handle,
        work: impl Future<Output = T> + Send + 'static,
    ) {
        let _guard = runtime.enter();
        self.promise = Some(Promise::spawn_async(work));
    }

    /// True while it runs.
    pub fn running(&self) -> bool {
        self.promise.as_ref().is_some_and(|p| p.ready().is_none())
    }

    /// The result, once, when it is done.
    pub fn take(&mut self) -> Option<T> {
        match self.promise.take()?.try_take() {
            Ok(result) => Some(result),
            Err(promise) => {
                self.promise = Some(promise);
                None
            }
        }
    }
}
