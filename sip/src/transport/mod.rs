//! TCP and TLS transports: connecting, accepting, and framed connections.
//!
//! # Layout
//! - this module: [`TransportKind`], [`TransportError`], [`Stream`] (plain or TLS socket),
//!   [`connect`] (with connect/handshake timings) and [`accept_tls`].
//! - [`conn`]: [`Connection`], a socket with a read buffer and a [`StreamDecoder`]; it reads
//!   whole [`Frame`]s and writes whole messages, and splits into a reader and a writer half.
//! - [`capture`]: an opt-in record of every message a connection sends and receives
//!   (plaintext, timed on the run's clock), for SIP ladders and pcapng traces.
//! - [`tls`]: rustls client and server configurations over aws-lc-rs, and [`TlsProfile`].
//! - [`keylog`]: TLS secrets to a file in the NSS key log format (`--tls-keylog`).
//! - [`identity`]: RFC 5922 server identity (exact names, no wildcards).
//! - [`spki`]: names a certificate's key (`RSA 2048`, `ECDSA P-384`).
//! - [`certs`]: a private CA and leaf certificates for test gateways (rcgen).
//!
//! Errors name the peer and the step that failed, in the words a test engineer uses, e.g.
//! `tls handshake with 127.0.0.1:5061 failed: invalid peer certificate: UnknownIssuer`.

pub mod capture;
pub mod certs;
pub mod conn;
pub mod identity;
pub mod keylog;
pub mod spki;
pub mod tls;

use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::str::FromStr;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio_rustls::{TlsAcceptor, TlsConnector, client, server};

use rustls::pki_types::ServerName;

pub use crate::codec::{Frame, FrameError, Limits, StreamDecoder};
pub use conn::{ConnReader, ConnWriter, Connection};
pub use tls::{
    TlsProfile, TlsVersions, client_config, client_config_with, insecure_client_config,
    insecure_client_config_with, provider, server_config, session_info,
};

/// A stream transport, as written in a Via header's transport token (lowercase here).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TransportKind {
    /// SIP over TCP.
    Tcp,
    /// SIP over TLS (over TCP).
    Tls,
}

impl fmt::Display for TransportKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TransportKind::Tcp => "tcp",
            TransportKind::Tls => "tls",
        })
    }
}

/// A transport name that is neither `tcp` nor `tls`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown transport {0:?}; expected \"tcp\" or \"tls\"")]
pub struct UnknownTransport(pub String);

impl FromStr for TransportKind {
    type Err = UnknownTransport;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.eq_ignore_ascii_case("tcp") {
            Ok(TransportKind::Tcp)
        } else if s.eq_ignore_ascii_case("tls") {
            Ok(TransportKind::Tls)
        } else {
            Err(UnknownTransport(s.to_owned()))
        }
    }
}

/// What a TLS session negotiated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsInfo {
    /// `"TLSv1.3"` or `"TLSv1.2"`.
    pub version: String,
    /// IANA cipher suite name, e.g. `"TLS13_AES_256_GCM_SHA384"`.
    pub cipher: String,
    /// Key-exchange group, e.g. `"X25519"` or `"secp384r1"`.
    pub group: Option<String>,
    /// Server name indication: what the client asked for (server side) or sent (client side).
    pub sni: Option<String>,
    /// The key of the certificate the peer presented ([`spki::describe_key`]: `RSA 2048`,
    /// `ECDSA P-384`); on the client side, the server's. `None` when the peer sent none.
    pub certificate: Option<String>,
}

/// Why a transport operation failed. Every variant says what was being done and with whom.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TransportError {
    /// TCP connect refused, unreachable, ...
    #[error("tcp connect to {addr} failed: {source}")]
    Connect {
        /// The address dialled.
        addr: SocketAddr,
        /// The socket error.
        source: io::Error,
    },
    /// No TCP connection within the timeout.
    #[error("tcp connect to {addr} timed out after {after:?}")]
    ConnectTimeout {
        /// The address dialled.
        addr: SocketAddr,
        /// The bound that passed.
        after: Duration,
    },
    /// The TLS handshake failed on a TLS-level error (certificate, alert, incompatibility).
    #[error("tls handshake with {peer} failed: {}", tls_text(.source))]
    Handshake {
        /// The other end.
        peer: SocketAddr,
        /// What rustls reported, e.g. `invalid peer certificate: UnknownIssuer`.
        source: rustls::Error,
    },
    /// The connection failed during the TLS handshake (reset, closed, ...).
    #[error("tls handshake with {peer} failed: connection error: {source}")]
    HandshakeIo {
        /// The other end.
        peer: SocketAddr,
        /// The socket error.
        source: io::Error,
    },
    /// The TLS handshake did not finish in time.
    #[error("tls handshake with {peer} timed out after {after:?}")]
    HandshakeTimeout {
        /// The other end.
        peer: SocketAddr,
        /// The bound that passed.
        after: Duration,
    },
    /// A TLS configuration could not be built.
    #[error("{context}: {source}")]
    Tls {
        /// What was being built.
        context: &'static str,
        /// What rustls reported.
        source: rustls::Error,
    },
    /// A [`TlsProfile`] names a group or suite aws-lc-rs does not provide.
    #[error("unknown tls {kind} {name:?}; known: {known}")]
    UnknownTlsName {
        /// `"key-exchange group"` or `"cipher suite"`.
        kind: &'static str,
        /// The name given.
        name: String,
        /// The names available.
        known: String,
    },
    /// A PEM input could not be read or held no item of the expected kind.
    #[error("reading {what} pem: {source}")]
    Pem {
        /// What the PEM should have held.
        what: &'static str,
        /// The PEM error.
        source: rustls::pki_types::pem::Error,
    },
    /// Reading from the peer failed.
    #[error("reading from {peer}: {source}")]
    Read {
        /// The other end.
        peer: SocketAddr,
        /// The socket or TLS error.
        source: io::Error,
    },
    /// Writing to the peer failed.
    #[error("writing to {peer}: {source}")]
    Write {
        /// The other end.
        peer: SocketAddr,
        /// The socket or TLS error.
        source: io::Error,
    },
    /// The peer's byte stream cannot be framed; the connection is unusable.
    #[error("framing lost on the connection with {peer}: {source}")]
    Frame {
        /// The other end.
        peer: SocketAddr,
        /// The framing error (answer 400 if possible, then close).
        source: FrameError,
    },
    /// The peer closed the connection part-way through a message.
    #[error("{peer} closed the connection in the middle of a message ({buffered} bytes unread)")]
    TruncatedMessage {
        /// The other end.
        peer: SocketAddr,
        /// Bytes of the incomplete message received.
        buffered: usize,
    },
    /// No complete frame arrived within the connection's read timeout.
    #[error("no complete message from {peer} within {after:?}")]
    ReadTimeout {
        /// The other end.
        peer: SocketAddr,
        /// The bound that passed.
        after: Duration,
    },
    /// Socket setup (options, addresses) failed.
    #[error("socket setup: {0}")]
    Io(#[from] io::Error),
}

impl TransportError {
    /// The framing error, when this is one (the peer deserves a 400 before the close).
    pub fn frame_error(&self) -> Option<&FrameError> {
        match self {
            TransportError::Frame { source, .. } => Some(source),
            _ => None,
        }
    }

    /// True for the timeout variants.
    pub fn is_timeout(&self) -> bool {
        matches!(
            self,
            TransportError::ConnectTimeout { .. }
                | TransportError::HandshakeTimeout { .. }
                | TransportError::ReadTimeout { .. }
        )
    }
}

/// A connected socket: plain TCP or TLS on either side.
#[derive(Debug)]
pub enum Stream {
    /// Plain TCP.
    Tcp(TcpStream),
    /// TLS, this end being the client.
    TlsClient(Box<client::TlsStream<TcpStream>>),
    /// TLS, this end being the server.
    TlsServer(Box<server::TlsStream<TcpStream>>),
}

impl Stream {
    /// The negotiated TLS parameters; `None` for plain TCP. On the client side `sni` is unset
    /// here (rustls does not keep it); [`connect`] fills it in on the [`Connection`].
    pub fn tls_info(&self) -> Option<TlsInfo> {
        match self {
            Stream::Tcp(_) => None,
            Stream::TlsClient(s) => Some(tls::session_info(s.get_ref().1, None)),
            Stream::TlsServer(s) => {
                let conn = s.get_ref().1;
                Some(tls::session_info(
                    conn,
                    conn.server_name().map(str::to_owned),
                ))
            }
        }
    }

    /// The underlying TCP socket.
    pub fn tcp(&self) -> &TcpStream {
        match self {
            Stream::Tcp(s) => s,
            Stream::TlsClient(s) => s.get_ref().0,
            Stream::TlsServer(s) => s.get_ref().0,
        }
    }

    /// The transport this stream speaks.
    pub fn kind(&self) -> TransportKind {
        match self {
            Stream::Tcp(_) => TransportKind::Tcp,
            Stream::TlsClient(_) | Stream::TlsServer(_) => TransportKind::Tls,
        }
    }
}

macro_rules! delegate {
    ($self:ident, $s:ident => $e:expr) => {
        match $self.get_mut() {
            Stream::Tcp($s) => {
                let $s = Pin::new($s);
                $e
            }
            Stream::TlsClient($s) => {
                let $s = Pin::new(&mut **$s);
                $e
            }
            Stream::TlsServer($s) => {
                let $s = Pin::new(&mut **$s);
                $e
            }
        }
    };
}

impl AsyncRead for Stream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        delegate!(self, s => s.poll_read(cx, buf))
    }
}

impl AsyncWrite for Stream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        delegate!(self, s => s.poll_write(cx, buf))
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        delegate!(self, s => s.poll_write_vectored(cx, bufs))
    }

    fn is_write_vectored(&self) -> bool {
        match self {
            Stream::Tcp(s) => s.is_write_vectored(),
            Stream::TlsClient(s) => s.is_write_vectored(),
            Stream::TlsServer(s) => s.is_write_vectored(),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        delegate!(self, s => s.poll_flush(cx))
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        delegate!(self, s => s.poll_shutdown(cx))
    }
}

/// How long connection setup took.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectTimings {
    /// From the connect call to the TCP connection being established.
    pub tcp_connect: Duration,
    /// From the start to the end of the TLS handshake; `None` for plain TCP.
    pub tls_handshake: Option<Duration>,
}

/// Connects to `addr` over TCP (TCP_NODELAY on), then TLS when `tls` is given, with SNI and
/// certificate name check against its server name. `timeout` bounds both steps together.
/// The connection gets [`Limits::default`]; change them with [`Connection::set_limits`].
pub async fn connect(
    addr: SocketAddr,
    tls: Option<(Arc<rustls::ClientConfig>, ServerName<'static>)>,
    timeout: Duration,
) -> Result<(Connection, ConnectTimings), TransportError> {
    let start = Instant::now();
    let tcp = tokio::time::timeout(timeout, TcpStream::connect(addr))
        .await
        .map_err(|_| TransportError::ConnectTimeout {
            addr,
            after: timeout,
        })?
        .map_err(|source| TransportError::Connect { addr, source })?;
    let tcp_connect = start.elapsed();
    tcp.set_nodelay(true)?;
    let Some((config, name)) = tls else {
        let timings = ConnectTimings {
            tcp_connect,
            tls_handshake: None,
        };
        return Ok((
            Connection::new(Stream::Tcp(tcp), Limits::default()),
            timings,
        ));
    };
    let sni = match &name {
        ServerName::DnsName(d) => Some(d.as_ref().to_owned()),
        _ => None,
    };
    let handshake_start = Instant::now();
    let remaining = timeout.saturating_sub(tcp_connect);
    let stream = tokio::time::timeout(remaining, TlsConnector::from(config).connect(name, tcp))
        .await
        .map_err(|_| TransportError::HandshakeTimeout {
            peer: addr,
            after: timeout,
        })?
        .map_err(|e| handshake_error(addr, e))?;
    let timings = ConnectTimings {
        tcp_connect,
        tls_handshake: Some(handshake_start.elapsed()),
    };
    let mut conn = Connection::new(Stream::TlsClient(Box::new(stream)), Limits::default());
    conn.set_sni(sni);
    Ok((conn, timings))
}

/// Runs the server side of a TLS handshake on an accepted socket, within `timeout`.
/// The connection gets [`Limits::default`]; change them with [`Connection::set_limits`].
pub async fn accept_tls(
    tcp: TcpStream,
    acceptor: &TlsAcceptor,
    timeout: Duration,
) -> Result<Connection, TransportError> {
    let peer = tcp.peer_addr()?;
    tcp.set_nodelay(true)?;
    let stream = tokio::time::timeout(timeout, acceptor.accept(tcp))
        .await
        .map_err(|_| TransportError::HandshakeTimeout {
            peer,
            after: timeout,
        })?
        .map_err(|e| handshake_error(peer, e))?;
    Ok(Connection::new(
        Stream::TlsServer(Box::new(stream)),
        Limits::default(),
    ))
}

/// rustls' text for a TLS error, except that a verifier's own reason (such as the RFC 5922
/// wildcard rule) is shown as its sentence rather than as a debug dump.
fn tls_text(e: &rustls::Error) -> String {
    match e {
        rustls::Error::InvalidCertificate(rustls::CertificateError::Other(other)) => {
            format!("invalid peer certificate: {other}")
        }
        other => other.to_string(),
    }
}

/// tokio-rustls reports TLS errors as `io::Error`s wrapping a `rustls::Error`; unwrap them so
/// the message reads "invalid peer certificate: ..." rather than a generic I/O error.
fn handshake_error(peer: SocketAddr, e: io::Error) -> TransportError {
    match e
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>())
    {
        Some(tls) => TransportError::Handshake {
            peer,
            source: tls.clone(),
        },
        None => TransportError::HandshakeIo { peer, source: e },
    }
}
