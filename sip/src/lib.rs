//! The SIP wire core shared by the mock gateway and the originating generator.
//!
//! It is strict where a certification tool must be (a malformed message is an error that says
//! what was expected, on which line and column) and cheap enough for load generation.
//!
//! # Layout
//! - [`message`]: the owned message model ([`Request`], [`Response`], [`Headers`]), the strict
//!   parser ([`Message::parse`]) and the serializer/builder helpers.
//! - [`uri`]: `sip:`, `sips:`, `tel:` and `urn:` URIs, IPv6 hosts, parameters.
//! - [`codec`]: RFC 3261 §18.3 stream framing by Content-Length, with size caps.
//! - [`transport`]: TCP and TLS connections (tokio-rustls, aws-lc-rs only) and certificate
//!   generation (rcgen).
//! - [`engine`]: RFC 3261 transactions as sans-IO state machines driven by a caller's clock.
//! - [`multipart`], [`location`]: RFC 2046 bodies and RFC 6442 location by value (PIDF-LO).
//! - [`sdp`]: the audio stream of an SDP offer or answer (RFC 4566, RFC 4568 SDES).
//!
//! # Invariants
//! - Nothing in [`message`], [`uri`], [`codec`] or [`engine`] touches a socket or a clock.
//! - Parsing never panics, whatever the input; every error carries a position.
//! - Exactly one crypto provider (aws-lc-rs) is compiled in.

pub mod codec;
pub mod engine;
pub mod location;
pub mod message;
pub mod multipart;
pub mod sdp;
pub mod transport;
pub mod uri;

pub use message::{Header, HeaderName, Headers, Message, Method, ParseError, Request, Response};
pub use uri::Uri;
