//! Gateway configuration: where it listens ([`GatewayConfig`]), what it checks ([`Policy`],
//! replaceable per scenario while running) and what it tolerates ([`Limits`]).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use scenarios::{AniHeader, GatewaySpec, UnknownOrgPolicy};
use sip::transport::TransportKind;

use crate::fault::FaultTlsConfigs;

/// Everything [`crate::Gateway::start`] needs.
#[derive(Debug, Clone)]
pub struct GatewayConfig {
    /// Short name used in observations (`gw1`).
    pub name: String,
    /// Host name used in Warning headers and Contact (`gw1.anywhere.e911cloud.com`).
    pub host: String,
    /// Address to listen on (port 0 picks a free port).
    pub listen: SocketAddr,
    /// TCP (debugging) or TLS.
    pub transport: TransportKind,
    /// The TLS server configuration; required for TLS.
    pub tls: Option<Arc<rustls::ServerConfig>>,
    /// What the gateway checks and how it answers.
    pub policy: Policy,
    /// Connection and message limits.
    pub limits: Limits,
    /// The certificates TLS faults present ([`crate::fault::FaultTlsConfigs::issue`]); without
    /// them a plan with a TLS fault is refused.
    pub fault_tls: Option<FaultTlsConfigs>,
    /// How many observations are kept in memory (load runs keep few or none).
    pub retain: Retain,
    /// The run's clock: observations' `at_us` count from it, so several gateways and the
    /// originator of a run share one timeline; `None`: the gateway's start.
    pub epoch: Option<std::time::Instant>,
    /// Records every message each connection sends and receives (plaintext), as capture
    /// point `name`; `None`: nothing is recorded (the default, and what load runs use).
    pub capture: Option<sip::transport::capture::Capture>,
}

impl Default for GatewayConfig {
    /// `gw1` on 127.0.0.1 port 0 over TCP, default policy and limits, no fault certificates,
    /// every observation kept.
    fn default() -> Self {
        GatewayConfig {
            name: "gw1".to_owned(),
            host: "gw1.anywhere.e911cloud.com".to_owned(),
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            transport: TransportKind::Tcp,
            tls: None,
            policy: Policy::default(),
            limits: Limits::default(),
            fault_tls: None,
            retain: Retain::All,
            epoch: None,
            capture: None,
        }
    }
}

/// Most observations a gateway keeps in memory whatever [`Retain`] says (about 2.5 KB each):
/// past it the oldest are dropped and counted ([`crate::Stats::observations_dropped`]).
pub const MAX_RETAINED: usize = 16_384;

/// Which observations a gateway keeps for [`crate::Gateway::observations`]. Subscribers see
/// every observation whatever this says; [`crate::Gateway::stats`] counts them all. The
/// window is never larger than [`MAX_RETAINED`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Retain {
    /// Every one since the last take, up to [`MAX_RETAINED`] (certification runs).
    #[default]
    All,
    /// The latest n.
    Last(usize),
    /// None (load runs): recording costs no lock and no memory.
    None,
}

/// What the gateway checks on each INVITE and how it answers.
#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    /// Organization ids (canonical UUIDs) this gateway serves; compared case-insensitively.
    pub orgs: Vec<String>,
    /// Headers searched for the ANI, in order.
    pub ani_headers: Vec<AniHeader>,
    /// Whether a call from an unknown (well-formed) org is rejected or sent to the fallback centre.
    pub unknown_org: UnknownOrgPolicy,
    /// Time between 180 Ringing and 200 OK; a CANCEL in this window gets 200 and the INVITE 487.
    pub ring_time: Duration,
    /// The location table (ICD 5.2); empty: every answered call goes to "psap".
    pub location: Vec<scenarios::LocationEntry>,
    /// With a location table: what an ANI without a row gets.
    pub unknown_ani: scenarios::UnknownAniPolicy,
    /// Carry media on answered calls (ICD 4): bind the answer's port, send SRTP from the 200
    /// OK to the BYE, record what arrives (the BYE's observation carries it).
    pub media: bool,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            orgs: vec![scenarios::DEFAULT_ORG_ID.to_owned()],
            ani_headers: vec![AniHeader::PAssertedIdentity, AniHeader::From],
            unknown_org: UnknownOrgPolicy::Reject,
            ring_time: Duration::ZERO,
            location: Vec::new(),
            unknown_ani: scenarios::UnknownAniPolicy::Fallback,
            media: false,
        }
    }
}

impl From<&GatewaySpec> for Policy {
    // `clone` works whether or not the scenario types are `Copy`.
    #[allow(clippy::clone_on_copy)]
    fn from(spec: &GatewaySpec) -> Self {
        Policy {
            orgs: spec.orgs.clone(),
            ani_headers: spec.ani_headers.clone(),
            unknown_org: spec.unknown_org.clone(),
            location: spec.location.clone(),
            unknown_ani: spec.unknown_ani.unwrap_or_default(),
            ring_time: spec.ring_time,
            ..Policy::default()
        }
    }
}

/// Limits that keep a misbehaving peer from exhausting the gateway or locking others out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Connections served at once; one more is accepted and closed at once (counted as
    /// `refused_total`), never left waiting in the kernel backlog.
    pub max_connections: usize,
    /// Connections served at once from one source address; one more is closed at once
    /// (counted as `refused_per_source`).
    pub max_connections_per_source: usize,
    /// Largest message (header block and body) accepted; larger ones get 400 and a close.
    pub max_message_bytes: usize,
    /// How long a started message (or a TLS handshake) may take to arrive in full.
    pub read_timeout: Duration,
    /// How long a new connection may go without a complete request before it is closed;
    /// keep-alive CRLFs do not count as one.
    pub first_request_timeout: Duration,
    /// How long a connection may go between requests before it is closed; keep-alive CRLFs
    /// are answered but do not extend it.
    pub idle_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_connections: 1024,
            max_connections_per_source: 256,
            max_message_bytes: 64 * 1024,
            read_timeout: Duration::from_secs(10),
            first_request_timeout: Duration::from_secs(30),
            idle_timeout: Duration::from_secs(300),
        }
    }
}
