//! SIP on the wire for the mock gateway and the originating generator: TCP and TLS connections
//! (tokio, rustls with aws-lc-rs only) and the certificates they use, on top of the sans-IO core
//! in [`sip_proto`].
//!
//! Every public module and item of `sip-proto` is re-exported here unchanged (as quinn does with
//! quinn-proto), so `sip::message::Request`, `sip::engine::ServerTransactions` and
//! `sip::transport::connect` are all reached through this crate.
//!
//! # Layout
//! - [`transport`]: TCP and TLS connections (tokio-rustls, aws-lc-rs only) framed by
//!   [`codec`], TLS profiles, RFC 5922 server identity, the key a certificate carries, and
//!   certificate generation (rcgen).
//! - Re-exported from `sip-proto`: [`message`], [`uri`], [`sdp`], [`multipart`], [`location`],
//!   [`codec`], [`engine`], and the common types at the root ([`Message`], [`Request`],
//!   [`Response`], [`Headers`], [`HeaderName`], [`Method`], [`ParseError`], [`Uri`]).
//!
//! # Invariants
//! - The protocol logic lives in `sip-proto`, which has no I/O; this crate adds only sockets,
//!   TLS and certificates, and a connection task owns its socket (no shared mutex around it).
//! - Exactly one crypto provider (aws-lc-rs) is compiled in.

pub use sip_proto::*;

pub mod transport;
