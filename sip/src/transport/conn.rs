//! Framed connections: whole SIP messages and keep-alives in, whole messages out.
//!
//! A [`Connection`] owns its [`Stream`], a read buffer and a [`StreamDecoder`]; there is no
//! shared lock around the socket. [`Connection::into_split`] gives a reader half (which keeps
//! the buffer and decoder) and a writer half, for a task that reads while another writes.
//!
//! Reads are cancel-safe: dropping a pending [`Connection::read_frame`] (in `select!` or under
//! `timeout`) loses no bytes. A peer that closes without a TLS close_notify is treated like a
//! TCP close, because SIP's Content-Length framing detects a truncated message by itself.

use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use bytes::BytesMut;
use tokio::io::{
    AsyncRead, AsyncReadExt as _, AsyncWrite, AsyncWriteExt as _, ReadHalf, WriteHalf,
};

use super::capture::{Capture, Tap};
use super::{Stream, TlsInfo, TransportError, TransportKind};
use crate::codec::{Frame, Limits, StreamDecoder};

/// Bytes reserved ahead of each socket read.
const READ_CHUNK: usize = 16 * 1024;

/// Read-side state shared by [`Connection`] and [`ConnReader`].
#[derive(Debug)]
struct Inbound {
    buf: BytesMut,
    decoder: StreamDecoder,
    read_timeout: Option<Duration>,
    peer: SocketAddr,
    /// Records every message read, when the connection is captured.
    tap: Option<Arc<Tap>>,
}

impl Inbound {
    async fn read_frame<R: AsyncRead + Unpin>(
        &mut self,
        io: &mut R,
    ) -> Result<Option<Frame>, TransportError> {
        match self.read_timeout {
            None => self.read_loop(io).await,
            Some(after) => tokio::time::timeout(after, self.read_loop(io))
                .await
                .map_err(|_| TransportError::ReadTimeout {
                    peer: self.peer,
                    after,
                })?,
        }
    }

    async fn read_loop<R: AsyncRead + Unpin>(
        &mut self,
        io: &mut R,
    ) -> Result<Option<Frame>, TransportError> {
        let peer = self.peer;
        loop {
            match self.decoder.decode(&mut self.buf) {
                Ok(Some(frame)) => {
                    if let (Some(tap), Frame::Message(m)) = (&self.tap, &frame) {
                        tap.received(m);
                    }
                    return Ok(Some(frame));
                }
                Ok(None) => {}
                Err(source) => return Err(TransportError::Frame { peer, source }),
            }
            self.buf.reserve(READ_CHUNK);
            let n = match io.read_buf(&mut self.buf).await {
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => 0,
                Err(source) => return Err(TransportError::Read { peer, source }),
            };
            if n == 0 {
                if self.decoder.is_idle(&self.buf) {
                    return Ok(None);
                }
                return Err(TransportError::TruncatedMessage {
                    peer,
                    buffered: self.buf.len(),
                });
            }
        }
    }
}

/// Endpoint facts fixed when the connection is made.
#[derive(Debug, Clone)]
struct Endpoints {
    local: SocketAddr,
    peer: SocketAddr,
    kind: TransportKind,
    tls: Option<TlsInfo>,
}

/// A framed stream connection.
#[derive(Debug)]
pub struct Connection {
    stream: Stream,
    inbound: Inbound,
    endpoints: Endpoints,
    /// Records every write, when the connection is captured.
    tap: Option<Arc<Tap>>,
}

impl Connection {
    /// Wraps an established stream. Addresses that cannot be read (the socket already failed)
    /// are reported as `0.0.0.0:0`.
    pub fn new(stream: Stream, limits: Limits) -> Self {
        let unknown = SocketAddr::from((Ipv4Addr::UNSPECIFIED, 0));
        let endpoints = Endpoints {
            local: stream.tcp().local_addr().unwrap_or(unknown),
            peer: stream.tcp().peer_addr().unwrap_or(unknown),
            kind: stream.kind(),
            tls: stream.tls_info(),
        };
        Connection {
            inbound: Inbound {
                buf: BytesMut::with_capacity(READ_CHUNK),
                decoder: StreamDecoder::new(limits),
                read_timeout: None,
                peer: endpoints.peer,
                tap: None,
            },
            stream,
            endpoints,
            tap: None,
        }
    }

    /// Records every message this connection sends and receives from now on into `capture`,
    /// as capture point `point` (`trunk`, `gw1`). Without it nothing is recorded.
    pub fn set_capture(&mut self, capture: &Capture, point: &str) {
        let e = &self.endpoints;
        let tap = Arc::new(capture.tap(point, e.local, e.peer, e.kind));
        self.inbound.tap = Some(tap.clone());
        self.tap = Some(tap);
    }

    pub(super) fn set_sni(&mut self, sni: Option<String>) {
        if let Some(tls) = &mut self.endpoints.tls {
            tls.sni = sni;
        }
    }

    /// Changes the framing limits (from the next message on).
    pub fn set_limits(&mut self, limits: Limits) {
        self.inbound.decoder.set_limits(limits);
    }

    /// Bounds the time [`read_frame`](Self::read_frame) may take to produce one frame
    /// (`None`: wait forever). A slow-drip peer cannot hold a read open past this bound.
    pub fn set_read_timeout(&mut self, timeout: Option<Duration>) {
        self.inbound.read_timeout = timeout;
    }

    /// Reads the next frame. `Ok(None)` is a clean close at a message boundary; a close
    /// part-way through a message is [`TransportError::TruncatedMessage`]. Cancel-safe.
    pub async fn read_frame(&mut self) -> Result<Option<Frame>, TransportError> {
        self.inbound.read_frame(&mut self.stream).await
    }

    /// Writes all of `bytes` and flushes (through TLS, onto the socket).
    pub async fn write_all(&mut self, bytes: &[u8]) -> Result<(), TransportError> {
        if let Some(tap) = &self.tap {
            tap.sent(bytes);
        }
        write_flush(&mut self.stream, bytes, self.endpoints.peer).await
    }

    /// Closes the sending side (a TLS close_notify, then a TCP FIN).
    pub async fn shutdown(&mut self) -> Result<(), TransportError> {
        let peer = self.endpoints.peer;
        self.stream
            .shutdown()
            .await
            .map_err(|source| TransportError::Write { peer, source })
    }

    /// Splits into a reader (keeping buffered bytes and decoder state) and a writer.
    pub fn into_split(self) -> (ConnReader, ConnWriter) {
        let (read, write) = tokio::io::split(self.stream);
        let writer = ConnWriter {
            io: write,
            peer: self.endpoints.peer,
            tap: self.tap,
        };
        let reader = ConnReader {
            io: read,
            inbound: self.inbound,
            endpoints: self.endpoints,
        };
        (reader, writer)
    }

    /// This end's address.
    pub fn local_addr(&self) -> SocketAddr {
        self.endpoints.local
    }

    /// The other end's address.
    pub fn peer_addr(&self) -> SocketAddr {
        self.endpoints.peer
    }

    /// TCP or TLS.
    pub fn kind(&self) -> TransportKind {
        self.endpoints.kind
    }

    /// The negotiated TLS parameters; `None` on plain TCP.
    pub fn tls_info(&self) -> Option<TlsInfo> {
        self.endpoints.tls.clone()
    }

    /// The underlying stream, e.g. to inspect the rustls session.
    pub fn stream(&self) -> &Stream {
        &self.stream
    }
}

/// The reading half of a split [`Connection`].
#[derive(Debug)]
pub struct ConnReader {
    io: ReadHalf<Stream>,
    inbound: Inbound,
    endpoints: Endpoints,
}

impl ConnReader {
    /// As [`Connection::read_frame`].
    pub async fn read_frame(&mut self) -> Result<Option<Frame>, TransportError> {
        self.inbound.read_frame(&mut self.io).await
    }

    /// As [`Connection::set_read_timeout`].
    pub fn set_read_timeout(&mut self, timeout: Option<Duration>) {
        self.inbound.read_timeout = timeout;
    }

    /// As [`Connection::set_limits`].
    pub fn set_limits(&mut self, limits: Limits) {
        self.inbound.decoder.set_limits(limits);
    }

    /// This end's address.
    pub fn local_addr(&self) -> SocketAddr {
        self.endpoints.local
    }

    /// The other end's address.
    pub fn peer_addr(&self) -> SocketAddr {
        self.endpoints.peer
    }

    /// The negotiated TLS parameters; `None` on plain TCP.
    pub fn tls_info(&self) -> Option<TlsInfo> {
        self.endpoints.tls.clone()
    }

    /// Rejoins the halves of one connection.
    ///
    /// # Panics
    /// If `writer` comes from a different connection.
    pub fn unsplit(self, writer: ConnWriter) -> Connection {
        Connection {
            stream: self.io.unsplit(writer.io),
            inbound: self.inbound,
            endpoints: self.endpoints,
            tap: writer.tap,
        }
    }
}

/// The writing half of a split [`Connection`].
#[derive(Debug)]
pub struct ConnWriter {
    io: WriteHalf<Stream>,
    peer: SocketAddr,
    tap: Option<Arc<Tap>>,
}

impl ConnWriter {
    /// As [`Connection::write_all`].
    pub async fn write_all(&mut self, bytes: &[u8]) -> Result<(), TransportError> {
        if let Some(tap) = &self.tap {
            tap.sent(bytes);
        }
        write_flush(&mut self.io, bytes, self.peer).await
    }

    /// As [`Connection::shutdown`].
    pub async fn shutdown(&mut self) -> Result<(), TransportError> {
        let peer = self.peer;
        self.io
            .shutdown()
            .await
            .map_err(|source| TransportError::Write { peer, source })
    }

    /// The other end's address.
    pub fn peer_addr(&self) -> SocketAddr {
        self.peer
    }
}

async fn write_flush<W: AsyncWrite + Unpin>(
    io: &mut W,
    bytes: &[u8],
    peer: SocketAddr,
) -> Result<(), TransportError> {
    let result = async {
        io.write_all(bytes).await?;
        io.flush().await
    };
    result
        .await
        .map_err(|source| TransportError::Write { peer, source })
}
