//! Errors at this crate's boundary. A peer's malformed message is never one of these: it is
//! answered (400, 403, 404, 488 ...) and recorded in an observation.

use std::net::SocketAddr;

/// Why a gateway could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum GatewayError {
    /// The listening socket could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// The OS error.
        source: std::io::Error,
    },
    /// TLS transport without a server configuration.
    #[error("transport TLS needs a TLS server configuration")]
    MissingTls,
    /// A TLS setting given to a gateway that listens on plain TCP.
    #[error("the gateway listens on TCP: it has no TLS configuration to replace")]
    NotTls,
    /// A limit that cannot work (zero connections or a message cap below a minimal request).
    #[error("invalid limit: {0}")]
    InvalidLimit(&'static str),
}

/// Why an SDP offer cannot be answered (the INVITE gets 488 Not Acceptable Here).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SdpError {
    /// The body does not start with `v=`.
    #[error("the body is not SDP (no v= line first)")]
    NotSdp,
    /// No `m=audio` section.
    #[error("the offer has no audio stream")]
    NoAudio,
    /// An `m=audio` line without a numeric port or a protocol.
    #[error("malformed m=audio line")]
    BadMediaLine,
    /// A transport protocol other than RTP/SAVP or RTP/AVP.
    #[error("unsupported media protocol {0}")]
    UnsupportedProto(String),
    /// Neither PCMU nor PCMA offered.
    #[error("no G.711 (PCMU/PCMA) payload offered")]
    NoG711,
    /// RTP/SAVP without an `a=crypto` line in a supported suite.
    #[error("RTP/SAVP offered without an a=crypto line in a supported suite")]
    NoCrypto,
}
