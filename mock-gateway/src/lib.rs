//! The mock E911 gateway (UAS) that the harness certifies against: it answers 911 and 933
//! INVITEs over TLS (or TCP for debugging) the way the E911 Anywhere gateways do, checks the
//! `E911-Organization-ID` header and the ANI, reads back the caller on 933, and records an
//! [`Observation`] per request for the harness to judge. It runs embedded (in-process, for
//! `certify` and tests) or standalone (`e911-harness gateway`).
//!
//! # Layout
//! - [`config`]: [`GatewayConfig`], the per-scenario [`Policy`], the [`Limits`] and what is
//!   retained ([`Retain`]).
//! - [`fault`]: fault injection ([`FaultPlan`]: the scenario model's [`FaultSpec`] rules,
//!   capacity, outage), set with [`Gateway::set_faults`].
//! - [`stats`]: the gateway's counters ([`Stats`]); `admission`: the total and per-source
//!   connection caps, refused at once.
//! - [`decide`]: the pure per-request decision ([`decide::decide`]): request and policy in,
//!   responses and observation out.
//! - [`org`]: the organization header check ([`check_org`]).
//! - [`ani`]: ANI extraction ([`extract_ani`]) and the dialled number.
//! - [`sdp`]: the SDP answer ([`sdp_answer`]): SRTP/SDES, G.711, media port range.
//! - [`strict`]: what the parser lets through but the gateway still refuses (numeric headers,
//!   the SDP grammar).
//! - `media`: the RTP/SRTP of answered calls (bound before the answer, started with the
//!   200 OK, stopped and recorded at the BYE), media faults applied.
//! - [`observation`]: what is recorded.
//! - `server`, `conn`, `session`, `salvage`, `record`: the listener and accept loop (and the
//!   outage schedule), the per-connection task (framing with `sip::codec`, connection faults),
//!   the request handling over `sip::engine`'s server transactions (call faults, capacity),
//!   answers to what cannot be parsed, the log.
//!
//! # Invariants
//! - Everything that decides an answer is pure and tested without sockets; the connection task
//!   only reads, writes, times and records.
//! - One task per connection owns its socket; nothing shares a socket.
//! - A peer's malformed or hostile input is answered or dropped and recorded, never a panic:
//!   parse errors get 400/505 and the connection stays, framing errors get 400/513 and a close,
//!   stalls past the read timeout are dropped, a connection that sends no request is closed
//!   past a bound whatever keep-alives it sends, connections are capped in total and per source
//!   and one over a cap is closed at once (never left in the kernel backlog).
//! - The gateway records; it never judges (verdicts live in `harness`).

mod admission;
pub mod ani;
pub mod config;
mod conn;
pub mod decide;
pub mod error;
pub mod fault;
pub mod location;
mod media;
pub mod observation;
pub mod org;
mod record;
mod salvage;
pub mod sdp;
mod server;
mod session;
pub mod stats;
pub mod strict;

pub use ani::extract_ani;
pub use config::{GatewayConfig, Limits, MAX_RETAINED, Policy, Retain};
pub use error::{GatewayError, SdpError};
pub use fault::{
    CallSelect, FaultError, FaultKind, FaultPlan, FaultSpec, FaultTlsConfigs, FaultTlsError,
    FaultWhen, TlsFaultKind, Window,
};
pub use observation::{
    AniFindingRecord, AniObservation, Identity, LocationObservation, MediaObservation, Observation,
    OrgObservation, ReadbackObservation,
};
pub use org::check_org;
pub use sdp::sdp_answer;
pub use server::Gateway;
pub use stats::Stats;
