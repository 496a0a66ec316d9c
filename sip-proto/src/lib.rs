//! The sans-IO SIP core shared by the mock gateway and the originating generator: messages,
//! URIs, SDP, multipart bodies and location by value, stream framing over bytes, and RFC 3261
//! server transactions and dialogs.
//!
//! Like quinn-proto to quinn, this crate is fully deterministic and has no networking code: it
//! parses and builds bytes and moves state machines, and the caller does the I/O. Whatever needs
//! the time takes it as an argument (`now: Instant`); whatever needs randomness (Via branches,
//! tags, Call-IDs, RTP ports, SDES keys) takes the caller's `&mut fastrand::Rng`, so a seeded
//! test gets the same messages every run. The `sip` crate puts it on TCP and TLS and re-exports
//! all of it, so most code names it `sip::...`.
//!
//! It is strict where a certification tool must be (a malformed message is an error that says
//! what was expected, on which line and column) and cheap enough for load generation.
//!
//! # Layout
//! - [`message`]: the owned message model ([`Request`], [`Response`], [`Headers`]), the strict
//!   parser ([`Message::parse`]), the serializer and builder helpers, the UAS pre-checks.
//! - [`uri`]: `sip:`, `sips:`, `tel:` and `urn:` URIs, IPv6 hosts, parameters.
//! - [`sdp`]: the audio stream of an SDP offer or answer (RFC 4566, RFC 4568 SDES).
//! - [`multipart`]: RFC 2046 multipart bodies.
//! - [`tls_profile`]: TLS profiles as data (versions, groups, suites by IANA name).
//! - [`location`]: RFC 6442 location by value (PIDF-LO with a civic address).
//! - [`codec`]: RFC 3261 §18.3 stream framing by Content-Length over a byte buffer, with size
//!   caps.
//! - [`engine`]: RFC 3261 server transactions and dialogs as state machines driven by the
//!   caller's clock.
//!
//! # Invariants
//! - No async runtime, TLS, socket, clock or global random generator: `Cargo.toml` has no
//!   tokio, rustls or socket dependency, and `clippy.toml` forbids `Instant::now()`,
//!   `SystemTime::now()` and fastrand's thread-global functions here (`clippy -D warnings` in
//!   CI turns a use into an error).
//! - Parsing never panics, whatever the input; every error carries a position.

pub mod codec;
pub mod engine;
pub mod location;
pub mod message;
pub mod multipart;
pub mod sdp;
pub mod tls_profile;
pub mod uri;

pub use message::{Header, HeaderName, Headers, Message, Method, ParseError, Request, Response};
pub use tls_profile::{TlsProfile, TlsVersions};
pub use uri::Uri;
