//! The typed evidence spine: what the originator saw of each call and what the gateways
//! observed, as values the verdicts judge and the report records.
//!
//! The originators ([`crate::originate::uac`], [`crate::originate::route`]) produce a [`Call`]
//! per emergency call: its [`Attempt`]s, each ending in an [`AttemptEnd`] (answered, rejected
//! with status and Q.850 cause, no answer by [`Failure`] kind, TLS refused by [`TlsFailure`]
//! kind, or not attempted and why). The embedded gateways produce [`reports::Observation`]s;
//! a call the harness did not place (a real originator's, [`Topology::Originator`]) is built
//! from them ([`observed`]).
//! The verdicts ([`crate::verdict`]) read only these types; [`record`] turns a [`Call`] into a
//! [`reports::CallRecord`] once, at the edge. What was on the wire is recorded beside them
//! ([`recording`]: the message capture and the TLS key log, asked for with the options in
//! [`options`]: `--pcap`, `--tls-keylog`) and becomes each call's SIP ladder and the run's
//! pcapng trace ([`trace`]); no verdict reads it.
//!
//! # Invariants
//! - Nothing here is classified by the text of an error: every decision a verdict or the route
//!   takes reads a typed kind. Error texts are for people and are carried alongside.
//! - Times are microseconds since the run's epoch ([`Epoch`]), the clock the gateways'
//!   observations use, so the trunk's INVITE and each gateway's receipt of it line up.

use std::time::Instant;

use reports::TlsInfo;
use sip::message::SipHeaders;
use sip::transport::{TransportError, TransportKind};
use sip::{Request, Response};

pub mod observed;
pub mod options;
pub mod record;
pub mod recording;
pub mod trace;

/// The header the trunk adds to every INVITE, its value unique per attempt: how the gateways'
/// observations are matched to the call across a system under test.
pub const TOKEN_HEADER: &str = "X-E911-Harness-Call";

/// The run's clock: microseconds since one instant, shared by the originator and the embedded
/// gateways of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Epoch(pub Instant);

impl Epoch {
    /// An epoch starting now.
    pub fn now() -> Epoch {
        Epoch(Instant::now())
    }

    /// Microseconds from the epoch to `t` (0 when `t` is earlier).
    pub fn us(&self, t: Instant) -> u64 {
        u64::try_from(t.saturating_duration_since(self.0).as_micros()).unwrap_or(u64::MAX)
    }

    /// Microseconds from the epoch to now.
    pub fn now_us(&self) -> u64 {
        self.us(Instant::now())
    }
}

impl Default for Epoch {
    fn default() -> Self {
        Epoch::now()
    }
}

/// Where the harness stands in a run, which decides who can observe what.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Topology {
    /// The harness is the trunk and calls the embedded gw1/gw2: both ends are observed.
    Direct,
    /// The harness calls a system under test in front of the embedded gateways: the trunk leg
    /// is the harness's, the gateway leg is the system under test's, both are observed.
    ThroughSut,
    /// The harness calls an external target (a gateway or an SBC): only the trunk leg is
    /// observed; no gateway evidence exists.
    External,
    /// A real originator (a trunk, an SBC, a PBX) calls the embedded gateways and the harness
    /// places no call: every call is what the gateways received ([`observed`]), and nothing of
    /// the originator's own side (what its caller heard) is observed.
    Originator,
}

impl Topology {
    /// Whether embedded gateways observe the calls.
    pub fn has_gateways(self) -> bool {
        !matches!(self, Topology::External)
    }

    /// The scenario model's name for it, when scenarios can be restricted to it.
    pub fn scenario_topology(self) -> scenarios::Topology {
        match self {
            Topology::Direct => scenarios::Topology::Direct,
            Topology::ThroughSut | Topology::External | Topology::Originator => {
                scenarios::Topology::Sut
            }
        }
    }
}

/// How one attempt ended: what the next hop (a gateway, or the system under test) did with
/// the INVITE, or why it was not sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttemptEnd {
    /// A 2xx answered the call.
    Answered {
        /// The status.
        status: u16,
    },
    /// A failure response (3xx-6xx).
    Rejected {
        /// The status.
        status: u16,
        /// The `Reason: Q.850;cause=N` of the response, if any.
        q850: Option<u16>,
    },
    /// No final response arrived.
    NoAnswer(Failure),
    /// The attempt was not made.
    NotAttempted(NotAttempted),
}

impl AttemptEnd {
    /// The final status, when a final response arrived.
    pub fn status(&self) -> Option<u16> {
        match self {
            AttemptEnd::Answered { status } | AttemptEnd::Rejected { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// Whether a 2xx answered it.
    pub fn is_answered(&self) -> bool {
        matches!(self, AttemptEnd::Answered { .. })
    }

    /// The report's kind for it.
    pub fn outcome(&self) -> reports::AttemptOutcome {
        use reports::AttemptOutcome as O;
        match self {
            AttemptEnd::Answered { .. } => O::Answered,
            AttemptEnd::Rejected { .. } => O::Rejected,
            AttemptEnd::NoAnswer(f) => match f {
                Failure::Refused => O::Refused,
                Failure::ConnectTimeout => O::ConnectTimeout,
                Failure::Tls(_) => O::TlsFailed,
                Failure::Closed => O::Closed,
                Failure::Reset => O::Reset,
                Failure::TimedOut => O::TimedOut,
                Failure::Setup => O::SetupError,
            },
            AttemptEnd::NotAttempted(n) => match n {
                NotAttempted::SkippedDown => O::SkippedDown,
                NotAttempted::NumberPlan => O::NotRouted,
                NotAttempted::NoTarget => O::NoTarget,
            },
        }
    }

    /// A short phrase: `503, Q.850 cause 34`, `timed out`, `tls refused (UnknownIssuer)`.
    pub fn describe(&self) -> String {
        match self {
            AttemptEnd::Answered { status } => status.to_string(),
            AttemptEnd::Rejected { status, q850 } => match q850 {
                Some(c) => format!("{status}, Q.850 cause {c}"),
                None => status.to_string(),
            },
            AttemptEnd::NoAnswer(f) => f.describe(),
            AttemptEnd::NotAttempted(n) => n.describe().to_owned(),
        }
    }
}

/// Why an attempt got no final response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// The TCP connection was refused or the address unreachable.
    Refused,
    /// No TCP connection or TLS handshake within the connect bound.
    ConnectTimeout,
    /// The TLS handshake failed.
    Tls(TlsFailure),
    /// The peer closed the connection before a final response.
    Closed,
    /// The connection was reset, or reading or writing failed, before a final response.
    Reset,
    /// No final response within the attempt's timeout (Timer B-like).
    TimedOut,
    /// The harness could not try (no TLS configuration, a host that is no TLS server name).
    Setup,
}

impl Failure {
    /// A short phrase for messages.
    pub fn describe(&self) -> String {
        match self {
            Failure::Refused => "connection refused".into(),
            Failure::ConnectTimeout => "connect timed out".into(),
            Failure::Tls(t) => format!("tls handshake failed ({})", t.kind.as_str()),
            Failure::Closed => "connection closed".into(),
            Failure::Reset => "connection reset".into(),
            Failure::TimedOut => "no final response (timed out)".into(),
            Failure::Setup => "harness setup error".into(),
        }
    }

    /// Whether the harness itself, not the peer, is to blame.
    pub fn is_setup(&self) -> bool {
        matches!(self, Failure::Setup)
    }

    /// The kind of a transport error of a connect or handshake.
    pub fn of_connect(e: &TransportError) -> Failure {
        match e {
            TransportError::Connect { .. } => Failure::Refused,
            TransportError::ConnectTimeout { .. } | TransportError::HandshakeTimeout { .. } => {
                Failure::ConnectTimeout
            }
            TransportError::Handshake { source, .. } => Failure::Tls(TlsFailure::of(source)),
            TransportError::HandshakeIo { .. } => Failure::Tls(TlsFailure {
                kind: TlsFailureKind::ConnectionLost,
            }),
            _ => Failure::Setup,
        }
    }
}

/// A failed TLS handshake, by what went wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TlsFailure {
    /// What went wrong.
    pub kind: TlsFailureKind,
}

/// What went wrong in a TLS handshake, as rustls reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsFailureKind {
    /// The certificate chains to no trusted CA.
    UnknownIssuer,
    /// The certificate has expired (or is not yet valid).
    Expired,
    /// The certificate is not valid for the name called (RFC 5922).
    NotValidForName,
    /// A CA certificate was presented as the peer's own (a self-signed CA given as trust
    /// anchor and presented by the server).
    CaUsedAsEndEntity,
    /// Any other problem with the certificate.
    BadCertificate,
    /// No protocol version, cipher suite or group in common.
    Incompatible,
    /// The peer sent an alert.
    Alert,
    /// The peer sent something that is not TLS, or broke the protocol.
    Protocol,
    /// The connection failed during the handshake.
    ConnectionLost,
    /// Anything else.
    Other,
}

impl TlsFailureKind {
    /// A stable short name.
    pub fn as_str(self) -> &'static str {
        match self {
            TlsFailureKind::UnknownIssuer => "UnknownIssuer",
            TlsFailureKind::Expired => "Expired",
            TlsFailureKind::NotValidForName => "NotValidForName",
            TlsFailureKind::CaUsedAsEndEntity => "CaUsedAsEndEntity",
            TlsFailureKind::BadCertificate => "BadCertificate",
            TlsFailureKind::Incompatible => "Incompatible",
            TlsFailureKind::Alert => "Alert",
            TlsFailureKind::Protocol => "Protocol",
            TlsFailureKind::ConnectionLost => "ConnectionLost",
            TlsFailureKind::Other => "Other",
        }
    }

    /// Whether the peer's certificate was refused (the peer's identity, not the profile).
    pub fn is_certificate(self) -> bool {
        matches!(
            self,
            TlsFailureKind::UnknownIssuer
                | TlsFailureKind::Expired
                | TlsFailureKind::NotValidForName
                | TlsFailureKind::CaUsedAsEndEntity
                | TlsFailureKind::BadCertificate
        )
    }
}

impl TlsFailure {
    /// The kind of a rustls error.
    pub fn of(e: &rustls::Error) -> TlsFailure {
        use rustls::CertificateError as C;
        let kind = match e {
            rustls::Error::InvalidCertificate(c) => match c {
                C::UnknownIssuer => TlsFailureKind::UnknownIssuer,
                C::Expired
                | C::ExpiredContext { .. }
                | C::NotValidYet
                | C::NotValidYetContext { .. } => TlsFailureKind::Expired,
                C::NotValidForName | C::NotValidForNameContext { .. } => {
                    TlsFailureKind::NotValidForName
                }
                C::Other(o)
                    if matches!(
                        o.0.downcast_ref::<webpki::Error>(),
                        Some(webpki::Error::CaUsedAsEndEntity)
                    ) =>
                {
                    TlsFailureKind::CaUsedAsEndEntity
                }
                _ => TlsFailureKind::BadCertificate,
            },
            rustls::Error::PeerIncompatible(_) | rustls::Error::NoCertificatesPresented => {
                TlsFailureKind::Incompatible
            }
            rustls::Error::AlertReceived(_) => TlsFailureKind::Alert,
            rustls::Error::InvalidMessage(_)
            | rustls::Error::PeerMisbehaved(_)
            | rustls::Error::InappropriateMessage { .. }
            | rustls::Error::InappropriateHandshakeMessage { .. } => TlsFailureKind::Protocol,
            _ => TlsFailureKind::Other,
        };
        TlsFailure { kind }
    }
}

/// Why an attempt was not made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotAttempted {
    /// Health probing had the gateway down.
    SkippedDown,
    /// The trunk's number plan has no route to the E911 gateways for the number (ICD 5.2).
    NumberPlan,
    /// The route names a gateway this run has no target for.
    NoTarget,
}

impl NotAttempted {
    /// A short phrase.
    pub fn describe(self) -> &'static str {
        match self {
            NotAttempted::SkippedDown => "skipped (down by OPTIONS)",
            NotAttempted::NumberPlan => "not routed (no E911 route for the number)",
            NotAttempted::NoTarget => "no target for this gateway in the run",
        }
    }
}

/// What the route decided after an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// A 2xx: the call is up.
    Answered,
    /// A failure response the route may not retry: the call ends.
    Final,
    /// A failure response with a status in `retry_on_status`: next gateway.
    RetryableStatus,
    /// A failure response retryable for its Q.850 cause: next gateway.
    RetryableCause,
    /// No final response: next gateway.
    NoAnswer,
    /// Not attempted: next gateway.
    Skipped,
    /// The trunk's number plan refused the call: it ends without a gateway.
    Refused,
}

impl Decision {
    /// Whether the route moves on to the next gateway.
    pub fn moves_on(self) -> bool {
        matches!(
            self,
            Decision::RetryableStatus
                | Decision::RetryableCause
                | Decision::NoAnswer
                | Decision::Skipped
        )
    }

    /// A short phrase.
    pub fn describe(self) -> &'static str {
        match self {
            Decision::Answered => "answered",
            Decision::Final => "final rejection",
            Decision::RetryableStatus => "retryable status",
            Decision::RetryableCause => "retryable Q.850 cause",
            Decision::NoAnswer => "no answer",
            Decision::Skipped => "skipped",
            Decision::Refused => "refused by the number plan",
        }
    }
}

/// Timings of one attempt. `*_at_us` are microseconds since the run's [`Epoch`]; the other
/// durations are microseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Timings {
    /// When the attempt started (connecting).
    pub started_at_us: u64,
    /// When its INVITE was written, if it was.
    pub invite_at_us: Option<u64>,
    /// When the originator stopped waiting for it.
    pub ended_at_us: u64,
    /// TCP connect time, when the connection was made.
    pub tcp_connect_us: Option<u64>,
    /// TLS handshake time, when a handshake completed.
    pub tls_handshake_us: Option<u64>,
    /// INVITE to 100 Trying.
    pub to_100_us: Option<u64>,
    /// INVITE to the first 18x.
    pub to_18x_us: Option<u64>,
    /// INVITE to the final response.
    pub to_final_us: Option<u64>,
    /// When the caller hung up before a final response and the INVITE was CANCELled (an
    /// abandoned call, `call.abandon_after`).
    pub abandoned_at_us: Option<u64>,
}

/// One INVITE toward one next hop, and everything the originator saw of it.
#[derive(Debug, Clone)]
pub struct Attempt {
    /// The next hop's name in the run (`gw1`, `gw2`; the system under test's name for the
    /// gateway the scenario addresses).
    pub gateway: String,
    /// `host:port` called.
    pub target: String,
    /// TCP or TLS.
    pub transport: TransportKind,
    /// How it ended.
    pub end: AttemptEnd,
    /// What the route decided after it.
    pub decision: Decision,
    /// The INVITE as sent (as built, when it could not be sent); `None` when none was built.
    pub invite: Option<Request>,
    /// The final response (2xx or failure), when one arrived (the 487 after a CANCEL too).
    pub final_response: Option<Response>,
    /// Status codes of every provisional response, in arrival order.
    pub provisionals: Vec<u16>,
    /// The TLS session the originator negotiated, when one was established.
    pub tls: Option<TlsInfo>,
    /// Its timings.
    pub timings: Timings,
    /// Human details (the transport error's text, what went wrong after the final response:
    /// BYE unanswered, CANCEL answered oddly). Never read by a verdict.
    pub notes: Vec<String>,
    /// How the dialog of an answered attempt ended (`None` when it was not answered).
    pub teardown: Option<Teardown>,
    /// The peer ended the answered call with its own BYE.
    pub hung_up_by_peer: bool,
    /// The trunk's media, when the call was answered and the run carried media.
    pub media: Option<reports::MediaLeg>,
}

/// How the dialog of an answered call ended (RFC 3261 §15).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Teardown {
    /// The trunk's BYE got a 2xx.
    ByeAnswered,
    /// The trunk's BYE got a failure response (481: the peer lost the dialog).
    ByeRejected(u16),
    /// The trunk's BYE got no final response in time.
    ByeUnanswered,
    /// The peer sent BYE first (answered 200).
    PeerHungUp,
    /// The 2xx made no dialog, so no ACK or BYE could be routed.
    NoDialog,
    /// The connection broke during the call, or the ACK or BYE could not be sent.
    ConnectionLost,
}

impl Teardown {
    /// Whether the dialog ended cleanly.
    pub fn is_clean(self) -> bool {
        matches!(self, Teardown::ByeAnswered | Teardown::PeerHungUp)
    }

    /// A short phrase.
    pub fn describe(self) -> String {
        match self {
            Teardown::ByeAnswered => "BYE answered 2xx".into(),
            Teardown::ByeRejected(s) => format!("BYE answered {s}"),
            Teardown::ByeUnanswered => "BYE not answered".into(),
            Teardown::PeerHungUp => "the far end hung up (BYE answered 200)".into(),
            Teardown::NoDialog => "the 2xx made no dialog (no ACK or BYE could be routed)".into(),
            Teardown::ConnectionLost => "the connection broke during the call".into(),
        }
    }
}

impl Attempt {
    /// An attempt that was not made (or not sent), with no INVITE on the wire.
    pub fn not_made(gateway: &str, end: AttemptEnd, decision: Decision, at_us: u64) -> Attempt {
        Attempt {
            gateway: gateway.to_owned(),
            target: String::new(),
            transport: TransportKind::Tls,
            end,
            decision,
            invite: None,
            final_response: None,
            provisionals: Vec::new(),
            tls: None,
            timings: Timings {
                started_at_us: at_us,
                ended_at_us: at_us,
                ..Timings::default()
            },
            notes: Vec::new(),
            teardown: None,
            hung_up_by_peer: false,
            media: None,
        }
    }

    /// The Call-ID of its INVITE (empty when none was built).
    pub fn call_id(&self) -> &str {
        self.invite.as_ref().and_then(|i| i.call_id()).unwrap_or("")
    }

    /// Whether it was made (skipped and refused ones were not).
    pub fn was_tried(&self) -> bool {
        !matches!(self.end, AttemptEnd::NotAttempted(_))
    }

    /// Whether its INVITE went on the wire.
    pub fn invite_sent(&self) -> bool {
        self.timings.invite_at_us.is_some()
    }

    /// `gw1 503 Service Unavailable, Q.850 cause 34 (retryable status)` or `gw1 timed out`.
    pub fn describe(&self) -> String {
        let what = match (&self.end, &self.final_response) {
            (AttemptEnd::Rejected { q850, .. }, Some(r)) => {
                let cause = q850
                    .map(|c| format!(", Q.850 cause {c}"))
                    .unwrap_or_default();
                format!(
                    "{} {}{cause} ({})",
                    r.status,
                    r.reason,
                    self.decision.describe()
                )
            }
            (AttemptEnd::Answered { .. }, Some(r)) => format!("{} {}", r.status, r.reason),
            (end, _) => end.describe(),
        };
        format!("{} {what}", self.gateway)
    }
}

/// One emergency call across every next hop it tried.
#[derive(Debug, Clone)]
pub struct Call {
    /// Dialled number.
    pub dial: String,
    /// The ANI the trunk sent.
    pub ani: String,
    /// Every attempt, in order (skipped gateways included).
    pub attempts: Vec<Attempt>,
    /// The first next hop the route chose (before health skipping).
    pub first_choice: String,
}

impl Call {
    /// Attempts that were made (skipped ones left out).
    pub fn tried(&self) -> impl DoubleEndedIterator<Item = &Attempt> {
        self.attempts.iter().filter(|a| a.was_tried())
    }

    /// The attempt that ended the call: the one answered or finally rejected, else the
    /// number-plan refusal, else `None` (every attempt failed).
    pub fn ender(&self) -> Option<&Attempt> {
        self.attempts.iter().rev().find(|a| {
            matches!(
                a.decision,
                Decision::Answered | Decision::Final | Decision::Refused
            )
        })
    }

    /// The last attempt that produced something (a response, or the last failure).
    pub fn last(&self) -> Option<&Attempt> {
        self.ender()
            .or_else(|| self.tried().last())
            .or_else(|| self.attempts.last())
    }

    /// The final status the caller got: the ender's (404 for a number-plan refusal), else the
    /// last failure response of a route that ran out of gateways.
    pub fn final_status(&self) -> Option<u16> {
        if let Some(a) = self.ender() {
            return match a.end {
                AttemptEnd::NotAttempted(NotAttempted::NumberPlan) => Some(NUMBER_PLAN_STATUS),
                ref end => end.status(),
            };
        }
        self.tried().rev().find_map(|a| a.end.status())
    }

    /// The final response the caller got from the network, when one did.
    pub fn final_response(&self) -> Option<&Response> {
        match self.ender() {
            Some(a) => a.final_response.as_ref(),
            None => self.tried().rev().find_map(|a| a.final_response.as_ref()),
        }
    }

    /// When the caller hung up unanswered and the trunk CANCELled (an abandoned call).
    pub fn abandoned_at_us(&self) -> Option<u64> {
        self.attempts.iter().find_map(|a| a.timings.abandoned_at_us)
    }

    /// Whether the call was answered (a 2xx on some attempt).
    pub fn is_answered(&self) -> bool {
        self.attempts.iter().any(|a| a.end.is_answered())
    }

    /// The next hop whose 2xx answered, as the originator saw it.
    pub fn answered_by(&self) -> Option<&str> {
        self.attempts
            .iter()
            .find(|a| a.end.is_answered())
            .map(|a| a.gateway.as_str())
    }

    /// When no final response arrived at all: the last tried attempt's failure.
    pub fn no_answer(&self) -> Option<&Failure> {
        if self.final_status().is_some() {
            return None;
        }
        self.tried().rev().find_map(|a| match &a.end {
            AttemptEnd::NoAnswer(f) => Some(f),
            _ => None,
        })
    }

    /// The first INVITE to the INVITE on the next next hop, µs (the originator's failover time).
    pub fn failover_us(&self) -> Option<u64> {
        let mut tried = self.tried();
        let (a, b) = (tried.next()?, tried.next()?);
        let start = a.timings.invite_at_us.unwrap_or(a.timings.started_at_us);
        let next = b.timings.invite_at_us.unwrap_or(b.timings.started_at_us);
        Some(next.saturating_sub(start))
    }

    /// When the first INVITE went on the wire, µs since the epoch.
    pub fn first_invite_at_us(&self) -> Option<u64> {
        self.attempts.iter().find_map(|a| a.timings.invite_at_us)
    }

    /// `gw1 503 ... -> gw2 200 OK`.
    pub fn path(&self) -> String {
        if self.attempts.is_empty() {
            return "no attempt".into();
        }
        self.attempts
            .iter()
            .map(Attempt::describe)
            .collect::<Vec<_>>()
            .join(" -> ")
    }
}

/// The status a caller gets when the trunk's number plan has no route for the number.
pub const NUMBER_PLAN_STATUS: u16 = 404;

/// A gateway's health state changed (OPTIONS probing).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transition {
    /// Gateway name.
    pub gateway: String,
    /// The new state.
    pub up: bool,
    /// When it changed, µs since the monitor started.
    pub at_us: u64,
    /// From the first probe of the streak to this change, µs.
    pub detection_us: u64,
}
