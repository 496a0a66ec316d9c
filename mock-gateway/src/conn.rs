//! One connection task: it owns its socket (TCP or TLS), applies a connection-level fault if the
//! plan picks this connection, frames messages with [`sip::codec::StreamDecoder`] and hands each
//! one to its [`Session`] (the request handling over `sip::engine`), writing what the session
//! queued once per batch of input.
//!
//! A parse failure is answered (400/505 from the salvaged headers) and the connection stays up;
//! a framing failure (no or bad Content-Length, over the size cap) is answered when the header
//! block allows it, then the connection is closed because the stream cannot be resynchronised.
//! A message that stalls half-way is dropped after `read_timeout`; a connection without a
//! complete message for `first_request_timeout` (a new one) or `idle_timeout` (since its last
//! message) is closed, whatever keep-alive CRLFs it sends. When an outage starts the connection is dropped without a goodbye.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use bytes::BytesMut;
use sip::codec::{self, Frame, FrameError, StreamDecoder};
use sip::transport::TransportKind;
use sip::transport::capture::Tap;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::{Instant, sleep_until, timeout};
use tokio_util::sync::CancellationToken;

use crate::fault::{FaultKind, FaultWhen, TlsFaultKind};
use crate::observation::Observation;
use crate::salvage::{blank_observation, frame_error_head};
use crate::server::Shared;
use crate::session::Session;
use crate::stats::bump;

/// Facts about the connection that go into every observation.
pub(crate) struct Meta {
    /// The connection's number at this gateway, from 1 in accept order.
    pub(crate) conn: u64,
    /// The connection-level fault it was accepted under, when the peer went on anyway.
    pub(crate) fault: Option<String>,
    pub(crate) peer: String,
    pub(crate) local: SocketAddr,
    pub(crate) transport: &'static str,
    pub(crate) tls: Option<reports::TlsInfo>,
    /// Records the messages of the connection, when the gateway is captured.
    pub(crate) tap: Option<Tap>,
}

/// A byte stream over one TCP socket (plain or TLS), so a fault can reset the socket.
pub(crate) trait Socket: AsyncRead + AsyncWrite + Unpin {
    fn tcp(&self) -> &TcpStream;
}

impl Socket for TcpStream {
    fn tcp(&self) -> &TcpStream {
        self
    }
}

impl Socket for tokio_rustls::server::TlsStream<TcpStream> {
    fn tcp(&self) -> &TcpStream {
        self.get_ref().0
    }
}

/// Why the connection loop stopped.
#[derive(Debug, thiserror::Error)]
pub(crate) enum Ended {
    #[error("peer closed")]
    Closed,
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
    #[error("framing: {0}")]
    Frame(String),
    #[error("message stalled mid-way past the read timeout")]
    Stalled,
    #[error("idle past the idle timeout")]
    Idle,
    #[error("gateway shutting down")]
    Shutdown,
    #[error("outage: connection dropped")]
    Outage,
    #[error("fault: {0}")]
    Fault(String),
}

/// Serves one accepted TCP connection until it closes, fails, the gateway shuts down or an
/// outage drops it.
pub(crate) async fn serve(
    tcp: TcpStream,
    peer: SocketAddr,
    shared: Arc<Shared>,
    up: CancellationToken,
) {
    bump(&shared.counters.connections);
    let _open = OpenGuard::new(&shared.open);
    let _ = tcp.set_nodelay(true);
    let Ok(local) = tcp.local_addr() else {
        return;
    };
    let mut meta = Meta {
        conn: shared.connections.fetch_add(1, Ordering::Relaxed) + 1,
        fault: None,
        peer: peer.to_string(),
        local,
        transport: "TCP",
        tls: None,
        tap: None,
    };
    let active = shared.faults();
    if up.is_cancelled() || active.is_down_now() {
        return;
    }
    let tls = shared.transport == TransportKind::Tls;
    let mut acceptor = shared.tls_acceptor();
    if let Some(fault) = active.next_connection() {
        bump(&shared.counters.faults_applied);
        let mut obs = connection_observation(&shared, &meta, if tls { "TLS" } else { "TCP" });
        obs.fault = Some(fault.label());
        meta.fault = Some(fault.label());
        shared.recorder.record(obs);
        match fault {
            FaultKind::Close(FaultWhen::BeforeInvite) => {
                return close_gracefully(tcp, shared.limits.read_timeout, &shared.cancel).await;
            }
            FaultKind::Reset(FaultWhen::BeforeInvite) => return reset(&tcp),
            FaultKind::Tls(TlsFaultKind::ProtocolError) => {
                return not_tls(tcp, shared.limits.read_timeout, &shared.cancel).await;
            }
            FaultKind::Tls(t) => {
                acceptor = shared.fault_tls.as_ref().and_then(|f| f.get(*t)).cloned();
            }
            _ => {}
        }
    }
    let result = match (tls, acceptor) {
        (true, Some(acceptor)) => {
            let handshake = tokio::select! {
                () = shared.cancel.cancelled() => return,
                () = up.cancelled() => return,
                r = timeout(shared.limits.read_timeout, acceptor.accept(tcp)) => r,
            };
            match handshake {
                Ok(Ok(stream)) => {
                    shared.counters.handshake(stream.get_ref().1);
                    meta.transport = "TLS";
                    meta.tls = Some(tls_info(stream.get_ref().1));
                    meta.tap = tap(&shared, peer, local, TransportKind::Tls);
                    run(stream, &meta, &shared, &up).await
                }
                Ok(Err(e)) => {
                    tracing::info!(%peer, error = %e, "TLS handshake failed");
                    // A refused handshake is evidence too (a trunk outside the TLS profile).
                    let mut obs = connection_observation(&shared, &meta, "TLS");
                    obs.fault.clone_from(&meta.fault);
                    obs.tls_error = Some(e.to_string());
                    shared.recorder.record(obs);
                    return;
                }
                Err(_) => {
                    tracing::info!(%peer, "TLS handshake timed out");
                    return;
                }
            }
        }
        _ => {
            meta.tap = tap(&shared, peer, local, TransportKind::Tcp);
            run(tcp, &meta, &shared, &up).await
        }
    };
    if let Err(e) = result {
        tracing::debug!(%peer, error = %e, "connection ended");
    }
}

/// The connection's tap, when the gateway is captured.
fn tap(shared: &Shared, peer: SocketAddr, local: SocketAddr, kind: TransportKind) -> Option<Tap> {
    let name = shared.recorder.name();
    shared
        .capture
        .as_ref()
        .map(|c| c.tap(name, local, peer, kind))
}

/// Counts a connection as open while it lives.
struct OpenGuard<'a>(&'a std::sync::atomic::AtomicU64);

impl<'a> OpenGuard<'a> {
    fn new(open: &'a std::sync::atomic::AtomicU64) -> Self {
        open.fetch_add(1, Ordering::AcqRel);
        OpenGuard(open)
    }
}

impl Drop for OpenGuard<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// An observation of a connection that carried no request (a fault on accept, a refused
/// handshake): who, over what, and when.
fn connection_observation(shared: &Shared, meta: &Meta, transport: &str) -> Observation {
    let mut obs = blank_observation();
    obs.peer.clone_from(&meta.peer);
    obs.conn = meta.conn;
    obs.transport = transport.to_owned();
    shared.recorder.stamp().apply(&mut obs);
    obs
}

/// Resets the connection: `SO_LINGER` 0, then close, so the kernel sends RST.
pub(crate) fn reset(tcp: &TcpStream) {
    if let Err(e) = tcp.set_zero_linger() {
        tracing::warn!(error = %e, "cannot set SO_LINGER 0; the close will be a FIN");
    }
}

/// Closes the write side at once (FIN) and reads until the peer closes (bounded), so unread
/// input does not turn the close into a reset.
async fn close_gracefully(mut tcp: TcpStream, bound: Duration, cancel: &CancellationToken) {
    let _ = tcp.shutdown().await;
    drain(&mut tcp, bound, cancel).await;
}

/// Reads and discards until EOF, an error, `bound` or the gateway's shutdown.
pub(crate) async fn drain<S: AsyncRead + Unpin>(
    io: &mut S,
    bound: Duration,
    cancel: &CancellationToken,
) {
    let mut sink = [0u8; 4096];
    let reading = async {
        while let Ok(n) = io.read(&mut sink).await {
            if n == 0 {
                break;
            }
        }
    };
    tokio::select! {
        () = cancel.cancelled() => {}
        _ = timeout(bound, reading) => {}
    }
}

/// What a TLS client gets instead of a ServerHello: a plain-text SIP line, then a close.
const NOT_TLS: &[u8] = b"SIP/2.0 400 This Port Speaks Plain Text\r\nContent-Length: 0\r\n\r\n";

async fn not_tls(mut tcp: TcpStream, bound: Duration, cancel: &CancellationToken) {
    // Wait for the ClientHello (or anything) so the answer is read as a reply to it.
    let mut first = [0u8; 512];
    let _ = timeout(bound, tcp.read(&mut first)).await;
    let _ = tcp.write_all(NOT_TLS).await;
    close_gracefully(tcp, bound, cancel).await;
}

/// The negotiated TLS parameters of a server connection, with the SNI the client sent.
fn tls_info(conn: &rustls::ServerConnection) -> reports::TlsInfo {
    let t = sip::transport::session_info(conn, conn.server_name().map(str::to_owned));
    reports::TlsInfo {
        version: t.version,
        cipher: t.cipher,
        group: t.group,
        sni: t.sni,
        certificate: t.certificate,
    }
}

/// The codec limits for a gateway cap: the header block and the body may each use it all;
/// the total is checked per message ([`Session::on_frame`]).
fn codec_limits(max_message_bytes: usize) -> codec::Limits {
    codec::Limits {
        max_header_bytes: max_message_bytes,
        max_body_bytes: max_message_bytes,
    }
}

async fn run<S: Socket>(
    io: S,
    meta: &Meta,
    shared: &Shared,
    up: &CancellationToken,
) -> Result<(), Ended> {
    let limits = shared.limits;
    let mut s = Session::new(io, meta, shared);
    let mut decoder = StreamDecoder::new(codec_limits(limits.max_message_bytes));
    let mut buf = BytesMut::with_capacity(8 * 1024);
    let mut partial_since: Option<Instant> = None;
    let accepted = Instant::now();
    // Only a complete message counts as activity: keep-alive CRLFs are answered but never
    // keep a connection that sends no request open past the bound.
    let mut last_message: Option<Instant> = None;
    let result = loop {
        let step = async {
            loop {
                match decoder.decode(&mut buf) {
                    Ok(Some(Frame::Message(m))) => {
                        if let Some(tap) = &meta.tap {
                            tap.received(&m);
                        }
                        last_message = Some(Instant::now());
                        s.on_frame(m).await?;
                    }
                    Ok(Some(Frame::KeepAlive)) => s.queue_raw(b"\r\n"),
                    Ok(None) => break,
                    Err(e) => {
                        let head = frame_error_head(&buf, &e, limits.max_message_bytes);
                        let too_large = matches!(
                            e,
                            FrameError::HeaderTooLarge { .. } | FrameError::BodyTooLarge { .. }
                        );
                        let why = if too_large {
                            format!("message exceeds {} bytes ({e})", limits.max_message_bytes)
                        } else {
                            e.to_string()
                        };
                        s.on_frame_error(&why, too_large, &head).await;
                        return Err(Ended::Frame(why));
                    }
                }
            }
            s.flush().await
        };
        if let Err(e) = step.await {
            break Err(e);
        }
        let now = Instant::now();
        if decoder.is_idle(&buf) {
            partial_since = None;
        } else if partial_since.is_none() {
            partial_since = Some(now);
        }
        let read_deadline = match partial_since {
            Some(t) => t + limits.read_timeout,
            None => match last_message {
                Some(t) => t + limits.idle_timeout,
                None => accepted + limits.first_request_timeout,
            },
        };
        let due = s.next_due();
        tokio::select! {
            () = shared.cancel.cancelled() => break Err(Ended::Shutdown),
            () = up.cancelled() => break Err(Ended::Outage),
            () = sleep_until(due.unwrap_or(read_deadline)), if due.is_some() => {
                if let Err(e) = s.on_due().await {
                    break Err(e);
                }
            }
            () = sleep_until(read_deadline) => {
                if partial_since.is_some() {
                    break Err(Ended::Stalled);
                }
                bump(&shared.counters.closed_idle);
                break Err(Ended::Idle);
            }
            n = s.io().read_buf(&mut buf) => match n {
                Ok(0) => break Err(Ended::Closed),
                Ok(_) => {}
                Err(e) => break Err(Ended::Io(e)),
            },
        }
    };
    s.end();
    result
}
