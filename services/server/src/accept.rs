//! The accept loop: HTTP/1.1 by hyper, with graceful shut-down.
//!
//! `axum::serve` offers no setting for hyper's parser, whose default answers a request holding
//! a malformed header line (a control character in a bearer token, say) with an empty `400`
//! before any of our code runs. Here the parser skips such a line instead: the request reaches
//! the API without it, and the API answers as it answers any request lacking that header, with
//! a JSON body and a stable code (`UNAUTHENTICATED` for a token that never arrived).
//!
//! The parser skips a line holding any control character but NUL, which it refuses outright;
//! [`HeadGuard`] turns a NUL inside a request head into DEL, another control character, so
//! that a NUL is skipped like the others. Bodies pass untouched.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use axum::http::Request;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tower::ServiceExt as _;

/// How long a client may take to send a request's head (slow-header clients are cut off).
const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(30);

/// Serves `router` on `listener` until `shutdown` completes, then stops accepting, lets every
/// open connection finish the request in flight, and returns once all have closed.
/// Handlers see the peer's address as `ConnectInfo<SocketAddr>`.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) {
    let mut builder = http1::Builder::new();
    builder
        .ignore_invalid_headers(true)
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_READ_TIMEOUT);
    // Every connection holds a receiver: the sender says "stop", and `closed()` completes
    // when the last connection has dropped its receiver.
    let (stop_tx, stop_rx) = watch::channel(false);
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    accept_failed(&e).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        if let Err(e) = stream.set_nodelay(true) {
            tracing::debug!(error = %e, %peer, "cannot set TCP_NODELAY");
        }
        let service = router
            .clone()
            .map_request(move |mut request: Request<Incoming>| {
                request.extensions_mut().insert(ConnectInfo(peer));
                request
            });
        let connection = builder
            .serve_connection(
                TokioIo::new(HeadGuard::new(stream)),
                TowerToHyperService::new(service),
            )
            .with_upgrades();
        let mut stop = stop_rx.clone();
        tokio::spawn(async move {
            tokio::pin!(connection);
            let ended = tokio::select! {
                ended = connection.as_mut() => ended,
                // The only change ever sent is "stop" (or the sender is gone).
                _ = stop.changed() => {
                    connection.as_mut().graceful_shutdown();
                    connection.await
                }
            };
            if let Err(e) = ended {
                tracing::debug!(error = %e, %peer, "connection ended with an error");
            }
            drop(stop);
        });
    }
    drop(listener);
    drop(stop_rx);
    let _ = stop_tx.send(true);
    stop_tx.closed().await;
}

/// Errors of one connection (reset before it was accepted) are not the listener's; others
/// (out of file descriptors) are logged and retried after a pause rather than spinning.
async fn accept_failed(e: &std::io::Error) {
    use std::io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
    if matches!(
        e.kind(),
        ConnectionAborted | ConnectionRefused | ConnectionReset
    ) {
        return;
    }
    tracing::error!(error = %e, "accepting a connection failed; retrying in a second");
    tokio::time::sleep(Duration::from_secs(1)).await;
}

/// A connection whose request heads have their NUL bytes turned into DEL (see the module's
/// documentation). A head runs from the connection's start, or from the first byte read after
/// a final response (status 200 and above) began, to its blank line; what follows is the body,
/// untouched. Interim responses change nothing: the body after `100 Continue` and the
/// WebSocket frames after `101 Switching Protocols` pass as they are. A request pipelined
/// behind another's body in the same read is not inspected, and hyper refuses a NUL in it as
/// before, with a bare `400`.
struct HeadGuard<S> {
    inner: S,
    /// Reading a head (true) or a body (false).
    in_head: bool,
    /// The head's last bytes, to find its end across reads.
    tail: [u8; 3],
}

impl<S> HeadGuard<S> {
    fn new(inner: S) -> Self {
        Self {
            inner,
            in_head: true,
            tail: [0; 3],
        }
    }

    /// A final response going out means the request was read: the next bytes read start the
    /// next request's head.
    fn seen_written(&mut self, data: &[u8]) {
        let final_status = data.len() > 9
            && data.starts_with(b"HTTP/1.")
            && data[8] == b' '
            && (b'2'..=b'5').contains(&data[9]);
        if final_status {
            self.in_head = true;
            self.tail = [0; 3];
        }
    }

    /// Rewrites the head's part of `bytes` and finds where the head ends: after the first
    /// `\r\n\r\n`, which may have begun in an earlier read. Only line feeds are looked at
    /// closely, and the NUL bytes replaced in one pass over the head's part.
    fn guard(&mut self, bytes: &mut [u8]) {
        if !self.in_head {
            return;
        }
        let end = (0..bytes.len()).find(|&i| bytes[i] == b'\n' && self.ends_at(bytes, i));
        let head_len = end.map_or(bytes.len(), |i| i + 1);
        let head = &mut bytes[..head_len];
        for b in head.iter_mut() {
            if *b == 0 {
                *b = 0x7f;
            }
        }
        let t = self.tail;
        self.tail = match *head {
            [] => t,
            [a] => [t[1], t[2], a],
            [a, b] => [t[2], a, b],
            [.., a, b, c] => [a, b, c],
        };
        if end.is_some() {
            self.in_head = false;
        }
    }

    /// Whether the line feed at `i` of `bytes` ends the head: the three bytes before it, in
    /// `bytes` or, for those read before, in `tail`, are `\r\n\r`.
    fn ends_at(&self, bytes: &[u8], i: usize) -> bool {
        let before = |k: usize| {
            if i >= k {
                bytes[i - k]
            } else {
                self.tail[3 - (k - i)]
            }
        };
        before(3) == b'\r' && before(2) == b'\n' && before(1) == b'\r'
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for HeadGuard<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        if polled.is_ready() && self.in_head {
            let read = &mut buf.filled_mut()[before..];
            self.guard(read);
        }
        polled
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for HeadGuard<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        self.seen_written(data);
        Pin::new(&mut self.inner).poll_write(cx, data)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        if let Some(first) = data.iter().find(|d| !d.is_empty()) {
            self.seen_written(first);
        }
        Pin::new(&mut self.inner).poll_write_vectored(cx, data)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::HeadGuard;

    fn guarded(chunks: &[&[u8]]) -> Vec<u8> {
        let mut g = HeadGuard::new(());
        let mut out = Vec::new();
        for c in chunks {
            let mut c = c.to_vec();
            g.guard(&mut c);
            out.extend(c);
        }
        out
    }

    #[test]
    fn bodies_after_an_interim_response_pass_and_a_final_response_starts_a_new_head() {
        let mut g = HeadGuard::new(());
        let mut head = b"POST / HTTP/1.1\r\nExpect: 100-continue\r\n\r\n".to_vec();
        g.guard(&mut head);
        g.seen_written(b"HTTP/1.1 100 Continue\r\n\r\n");
        let mut body = b"\0\0xlsx\0".to_vec();
        g.guard(&mut body);
        assert_eq!(body, b"\0\0xlsx\0");
        g.seen_written(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}");
        let mut next = b"GET / HTTP/1.1\r\nA: \0\r\n\r\n\0".to_vec();
        g.guard(&mut next);
        assert_eq!(next, b"GET / HTTP/1.1\r\nA: \x7f\r\n\r\n\0");
        // After the switch to WebSocket, frames are never touched, whatever is written.
        g.seen_written(b"HTTP/1.1 101 Switching Protocols\r\n\r\n");
        g.seen_written(b"\x81\x02{}");
        let mut frame = b"\x81\x82\0\0\0\0{}".to_vec();
        g.guard(&mut frame);
        assert_eq!(frame, b"\x81\x82\0\0\0\0{}");
    }

    /// The guard as first written, a byte at a time: the model the faster one must match.
    fn model(in_head: &mut bool, tail: &mut [u8; 3], bytes: &mut [u8]) {
        for b in bytes.iter_mut() {
            if !*in_head {
                return;
            }
            if *b == 0 {
                *b = 0x7f;
            }
            if *tail == *b"\r\n\r" && *b == b'\n' {
                *in_head = false;
            }
            *tail = [tail[1], tail[2], *b];
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2_000))]

        /// Any bytes (mostly `\r`, `\n`, NUL), read in any pieces, come out as the byte-at-a-time
        /// guard leaves them, and the head ends where it ends.
        #[test]
        fn the_guard_rewrites_and_ends_heads_as_the_byte_at_a_time_model(
            pieces in proptest::collection::vec(
                proptest::collection::vec(
                    proptest::prop_oneof![
                        3 => proptest::strategy::Just(b'\r'),
                        3 => proptest::strategy::Just(b'\n'),
                        1 => proptest::strategy::Just(0u8),
                        1 => proptest::strategy::Just(b'a'),
                    ],
                    0..12,
                ),
                0..8,
            )
        ) {
            let mut g = HeadGuard::new(());
            let (mut in_head, mut tail) = (true, [0u8; 3]);
            for piece in &pieces {
                let (mut fast, mut slow) = (piece.clone(), piece.clone());
                g.guard(&mut fast);
                model(&mut in_head, &mut tail, &mut slow);
                proptest::prop_assert_eq!(&fast, &slow);
                proptest::prop_assert_eq!(g.in_head, in_head);
                proptest::prop_assert_eq!(g.tail, tail);
            }
        }
    }

    #[test]
    fn nul_bytes_are_rewritten_in_the_head_only_even_across_reads() {
        let got = guarded(&[b"POST / HTTP/1.1\r\nA: x\0y\r\n\r", b"\n\0body\0"]);
        assert_eq!(got, b"POST / HTTP/1.1\r\nA: x\x7fy\r\n\r\n\0body\0");
    }
}
