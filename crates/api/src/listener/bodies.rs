//! Bodies that report on themselves: a response body that marks its connection busy until it
//! is sent whole (so the idle rule never cuts an answer short), and a request body that gives
//! up with an error, and says so, when its client sends nothing for
//! [`BODY_STALL_TIMEOUT`](super::BODY_STALL_TIMEOUT).

use super::activity::Activity;
use axum::body::Body;
use bytes::Bytes;
use hyper::body::{Body as HttpBody, Frame, Incoming, SizeHint};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::time::Sleep;

/// A request on its connection: counted busy from its head until its answer's body is gone.
pub(crate) struct Busy(Arc<Activity>);

impl Busy {
    /// Marks `activity` busy until the guard is dropped.
    pub(crate) fn begin(activity: &Arc<Activity>) -> Self {
        activity.begin();
        Self(Arc::clone(activity))
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        self.0.end();
    }
}

/// A response body holding its request's [`Busy`] guard.
pub(crate) struct Tracked {
    body: Body,
    _busy: Busy,
}

impl Tracked {
    /// `body`, keeping `busy` until it is sent or dropped.
    pub(crate) fn new(body: Body, busy: Busy) -> Self {
        Self { body, _busy: busy }
    }
}

impl HttpBody for Tracked {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        Pin::new(&mut self.body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

/// Why a request body ended early: its client stopped sending.
#[derive(Debug, thiserror::Error)]
#[error("the request body stalled: nothing arrived for {0:?}")]
pub(crate) struct Stalled(Duration);

/// A request body that fails once nothing arrives for its timeout, and raises its flag.
pub(crate) struct Stalling {
    body: Incoming,
    timeout: Duration,
    deadline: Pin<Box<Sleep>>,
    stalled: Arc<AtomicBool>,
}

impl Stalling {
    /// `body`, failing after `timeout` without a frame; `stalled` turns true when it does.
    pub(crate) fn new(body: Incoming, timeout: Duration, stalled: Arc<AtomicBool>) -> Self {
        Self {
            body,
            timeout,
            deadline: Box::pin(tokio::time::sleep(timeout)),
            stalled,
        }
    }
}

impl HttpBody for Stalling {
    type Data = Bytes;
    type Error = Box<dyn std::error::Error + Send + Sync>;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let this = &mut *self;
        match Pin::new(&mut this.body).poll_frame(cx) {
            Poll::Ready(frame) => {
                let next = tokio::time::Instant::now() + this.timeout;
                this.deadline.as_mut().reset(next);
                Poll::Ready(frame.map(|frame| frame.map_err(Into::into)))
            }
            Poll::Pending => match this.deadline.as_mut().poll(cx) {
                Poll::Ready(()) => {
                    this.stalled.store(true, Ordering::Release);
                    Poll::Ready(Some(Err(Box::new(Stalled(this.timeout)))))
                }
                Poll::Pending => Poll::Pending,
            },
        }
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}
