//! Media for E911 calls (ICD 4: SRTP on ports 30000-60000, G.711): what the trunk emulation
//! and the mock gateways send and receive once a call is answered, so a certification proves
//! that audio flows both ways, not only that the SDP looked right.
//!
//! # Layout
//! - [`rtp`]: RTP packets (RFC 3550), read without trusting a peer's lengths.
//! - [`srtp`]: SRTP (RFC 3711) `AES_CM_128_HMAC_SHA1_80`/`_32` with SDES keys (RFC 4568), on
//!   aws-lc-rs, rustls' provider (one crypto provider in the tree).
//! - [`stats`]: receiver statistics (RFC 3550 A.1, A.8): loss, jitter, SSRC changes.
//! - [`audio`]: G.711 µ-law, the comfort tone, the 933 read-back as DTMF digits and a listener
//!   that measures audible time and hears digits.
//! - [`session`]: one end's UDP socket (an even port in 30000-60000) and the task that sends
//!   every 20 ms and receives, returning a [`reports::MediaLeg`].
//!
//! # Invariants
//! - Everything but [`session`] is pure and deterministic, tested without sockets.
//! - A peer's datagram, whatever it holds, is counted and never panics or ends a session.
//! - Every session ends: when stopped, or at its time bound.

pub mod audio;
pub mod rtp;
pub mod session;
pub mod srtp;
pub mod stats;

pub use audio::Program;
pub use session::{Keying, Plan, Session, bind};
pub use srtp::{MasterKey, Suite};
