//! A connection's stream as hyper reads it: the bytes the waiting room read ahead first, then
//! the socket; the connection's slot is held by the stream and goes back when it is dropped,
//! after an upgrade (a WebSocket) too.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::sync::OwnedSemaphorePermit;

/// A served connection's stream with its slot.
pub(crate) struct Held {
    stream: TcpStream,
    read_ahead: Vec<u8>,
    offset: usize,
    _permit: OwnedSemaphorePermit,
}

impl Held {
    /// `stream` holding `permit`, with `read_ahead` to be read before the socket.
    pub(crate) fn new(
        stream: TcpStream,
        permit: OwnedSemaphorePermit,
        read_ahead: Vec<u8>,
    ) -> Self {
        // Small answers go out at once.
        let _ = stream.set_nodelay(true);
        Self {
            stream,
            read_ahead,
            offset: 0,
            _permit: permit,
        }
    }
}

impl AsyncRead for Held {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = &mut *self;
        if this.offset < this.read_ahead.len() {
            let rest = &this.read_ahead[this.offset..];
            let n = rest.len().min(buf.remaining());
            buf.put_slice(&rest[..n]);
            this.offset += n;
            if this.offset == this.read_ahead.len() {
                this.read_ahead = Vec::new();
                this.offset = 0;
            }
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut this.stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for Held {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }
}
