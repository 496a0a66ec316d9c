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
//!   [`codec`], TLS profiles, RFC 5922 server identity, the key a certificate carries,
//!   certificate generation (rcgen), the opt-in capture of every message a connection sends
//!   and receives, and a TLS key log.
//! - [`message`], [`sdp`]: `sip-proto`'s modules of the same name, re-exported whole, plus
//!   fresh branches, tags, Call-IDs, RTP ports and SDES keys drawn from this thread's random
//!   generator (`sip-proto` takes the caller's: `new_branch_with(&mut rng)`).
//! - Re-exported from `sip-proto` as they are: [`uri`], [`multipart`], [`location`], [`codec`],
//!   [`engine`], and the common types at the root ([`Message`], [`Request`], [`Response`],
//!   [`Headers`], [`HeaderName`], [`Method`], [`ParseError`], [`Uri`]).
//!
//! # Invariants
//! - The protocol logic lives in `sip-proto`, which has no I/O, clock or global random
//!   generator; this crate adds only sockets, TLS, certificates and the thread's random
//!   generator, and a connection task owns its socket (no shared mutex around it).
//! - Exactly one crypto provider (aws-lc-rs) is compiled in.

pub use sip_proto::*;

pub mod message;
pub mod sdp;
pub mod transport;
