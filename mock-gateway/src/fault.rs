//! Fault injection: what a gateway does wrong, to which calls or connections, and when it is
//! down. A [`FaultPlan`] is set on a running gateway with [`crate::Gateway::set_faults`] and
//! removed with [`crate::Gateway::clear_faults`]; nothing of a plan outlives the next one.
//!
//! # Levels and counting
//! - **Connection-level** faults ([`Fault::Close`] and [`Fault::Reset`] with
//!   [`When::BeforeInvite`], and [`Fault::Tls`]) are chosen when a connection is accepted, by
//!   its 1-based index among the connections accepted since the plan was set.
//! - **Call-level** faults (every other one) are chosen when a new INVITE transaction arrives
//!   (retransmissions do not count), by its 1-based index among the INVITEs this gateway
//!   received since the plan was set.
//!
//! Rules are tried in order and the first one whose fault has the right level and whose
//! [`Select`] matches the index wins. An INVITE that no rule takes is answered normally, unless
//! the plan's `capacity` is reached (503 with `Reason: Q.850;cause=34`).
//!
//! The observation of a faulted request carries the fault's [`Fault::label`]; a connection
//! fault is recorded as an observation with an empty method and the label.

use std::sync::Arc;
use std::time::Duration;

use sip::transport::certs::{Authority, CertError, KeyKind, Validity};
use sip::transport::{TlsProfile, TransportError, server_config};

/// What the gateway does wrong.
#[derive(Debug, Clone, PartialEq)]
pub enum Fault {
    /// Answer the INVITE with this final status (300-699) and nothing else: no 100 Trying.
    Respond {
        /// The status code, 300..=699.
        status: u16,
        /// The reason phrase; the standard phrase when `None`.
        reason: Option<String>,
        /// Adds `Reason: Q.850;cause=N`.
        q850: Option<u16>,
        /// Adds `Retry-After: N` (seconds).
        retry_after: Option<u32>,
    },
    /// Hold the INVITE for this long, sending nothing (not even 100 Trying), then answer it
    /// as if no fault applied. A CANCEL meanwhile gets 200 and the INVITE 487.
    Delay(Duration),
    /// Send 100 Trying, then nothing more for this INVITE (a retransmission gets the 100 again,
    /// a CANCEL for it gets nothing).
    TryingThenSilence,
    /// Never answer the INVITE: it, its retransmissions and a CANCEL for it get nothing. Other
    /// requests on the connection are still answered.
    Silence,
    /// Close the connection cleanly (TLS close_notify, then TCP FIN).
    Close(When),
    /// Reset the connection (TCP RST, via `SO_LINGER` 0).
    Reset(When),
    /// Fail the TLS handshake (TLS transport only).
    Tls(TlsFault),
}

/// When a [`Fault::Close`] or [`Fault::Reset`] happens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum When {
    /// On accept, before reading anything (before the TLS handshake): connection-level.
    BeforeInvite,
    /// After reading the INVITE, without a response: call-level.
    AfterInvite,
}

/// How a TLS handshake fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TlsFault {
    /// A certificate chain from a CA the client does not trust (client: `UnknownIssuer`).
    Untrusted,
    /// A certificate from the trusted CA that has expired (client: `Expired`).
    Expired,
    /// A certificate from the trusted CA for other names (client: `NotValidForName`).
    WrongName,
    /// A current certificate from the trusted CA with the right names but an ECDSA P-384 key:
    /// a trunk held to RSA suites (ICD 5.1) finds no cipher suite in common.
    EcdsaCertificate,
    /// Bytes that are not TLS instead of a ServerHello, then a close (client: a protocol error).
    ProtocolError,
}

/// Which calls (or connections) a rule applies to, by 1-based index since the plan was set.
#[derive(Debug, Clone, PartialEq)]
pub enum Select {
    /// Every one.
    All,
    /// These indexes.
    Calls(Vec<u64>),
    /// Every n-th (n, 2n, 3n ...); n >= 1.
    EveryNth(u64),
    /// A share `p` (0..=1), decided per index from `seed`: the same seed selects the same
    /// indexes on every run.
    Fraction {
        /// Probability of selection.
        p: f64,
        /// Seed of the deterministic choice.
        seed: u64,
    },
}

/// One fault and what it applies to.
#[derive(Debug, Clone, PartialEq)]
pub struct FaultRule {
    /// The fault.
    pub fault: Fault,
    /// The calls or connections it applies to.
    pub select: Select,
}

/// Everything a gateway does wrong from the moment the plan is set.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FaultPlan {
    /// Tried in order; the first matching rule wins.
    pub rules: Vec<FaultRule>,
    /// At most this many INVITE dialogs at once (accepted and not yet ended by BYE, CANCEL or
    /// the connection closing); one more gets 503 with `Reason: Q.850;cause=34`.
    pub capacity: Option<u32>,
    /// A window during which the gateway is down.
    pub outage: Option<Outage>,
}

/// A window, relative to when the plan was set, during which the gateway is down: its listener
/// is closed (connect is refused), established connections are dropped without a goodbye, and
/// nothing (OPTIONS included) is answered. At `until` the same port is bound again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Outage {
    /// Start of the window.
    pub from: Duration,
    /// End of the window (exclusive); after `from`.
    pub until: Duration,
}

/// The server configurations TLS faults present. [`FaultTlsConfigs::issue`] makes them from
/// the CA the clients trust.
#[derive(Debug, Clone)]
pub struct FaultTlsConfigs {
    /// A chain from a CA the clients do not trust.
    pub untrusted: Arc<rustls::ServerConfig>,
    /// An expired certificate from the trusted CA.
    pub expired: Arc<rustls::ServerConfig>,
    /// A current certificate from the trusted CA for names no client asks for.
    pub wrong_name: Arc<rustls::ServerConfig>,
    /// A current certificate from the trusted CA for the right names, with an ECDSA key.
    pub ecdsa: Arc<rustls::ServerConfig>,
}

/// Why a [`FaultPlan`] was refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum FaultError {
    /// `capacity` of 0.
    #[error("capacity must be at least 1 (0 would refuse every call; use a Respond rule)")]
    ZeroCapacity,
    /// An outage window that ends before it starts.
    #[error("outage until ({until:?}) must be after from ({from:?})")]
    EmptyOutage {
        /// Start.
        from: Duration,
        /// End.
        until: Duration,
    },
    /// A Respond status outside 300..=699.
    #[error("respond status {0} is not a final non-2xx status (300..=699)")]
    BadStatus(u16),
    /// A Fraction outside 0..=1 (or NaN).
    #[error("fraction p={0} is not within 0..=1")]
    BadFraction(f64),
    /// EveryNth(0).
    #[error("every-nth needs n >= 1")]
    ZeroNth,
    /// Calls with index 0 (indexes start at 1).
    #[error("call indexes start at 1; 0 never matches")]
    ZeroIndex,
    /// A TLS fault on a gateway that cannot present it (TCP transport, or no
    /// `GatewayConfig.fault_tls` for a certificate fault).
    #[error(
        "tls fault {0} needs a TLS gateway (and, for certificate faults, GatewayConfig.fault_tls)"
    )]
    NoFaultTls(&'static str),
    /// A reason phrase that would break the status line.
    #[error("reason phrase must not contain CR or LF")]
    BadReason,
}

/// Why [`FaultTlsConfigs::issue`] failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FaultTlsError {
    /// A certificate could not be made.
    #[error("issuing a fault certificate: {0}")]
    Cert(#[from] CertError),
    /// A server configuration could not be built.
    #[error("building a fault tls configuration: {0}")]
    Tls(#[from] TransportError),
}

/// Names on the wrong-name certificate: none of them is a gateway or loopback name.
pub const WRONG_NAMES: &[&str] = &["not-the-gateway.e911-harness.invalid"];

impl FaultTlsConfigs {
    /// Issues the four fault certificates: `expired` (for `names`), `wrong_name` (for
    /// [`WRONG_NAMES`]) and `ecdsa` (for `names`, an ECDSA P-384 key whatever `key` says) from
    /// `trusted`, and `untrusted` (for `names`) from a fresh CA nobody trusts; each served with
    /// `profile`.
    pub fn issue(
        trusted: &Authority,
        names: &[&str],
        key: KeyKind,
        profile: &TlsProfile,
    ) -> Result<Self, FaultTlsError> {
        let config = |issued: sip::transport::certs::Issued| {
            server_config(
                issued.cert_pem.as_bytes(),
                issued.key_pem.as_bytes(),
                profile,
            )
        };
        let stranger = Authority::generate_with("e911-harness untrusted CA", key)?;
        Ok(FaultTlsConfigs {
            untrusted: config(stranger.issue(names, key, Validity::Current)?)?,
            expired: config(trusted.issue(names, key, Validity::Expired)?)?,
            wrong_name: config(trusted.issue(WRONG_NAMES, key, Validity::Current)?)?,
            ecdsa: config(trusted.issue(names, KeyKind::EcdsaP384, Validity::Current)?)?,
        })
    }

    /// The configuration a TLS fault presents (`None` for [`TlsFault::ProtocolError`]).
    pub fn for_fault(&self, f: TlsFault) -> Option<&Arc<rustls::ServerConfig>> {
        match f {
            TlsFault::Untrusted => Some(&self.untrusted),
            TlsFault::Expired => Some(&self.expired),
            TlsFault::WrongName => Some(&self.wrong_name),
            TlsFault::EcdsaCertificate => Some(&self.ecdsa),
            TlsFault::ProtocolError => None,
        }
    }
}

impl Fault {
    /// Whether the fault is chosen per connection (on accept) rather than per INVITE.
    pub fn is_connection_level(&self) -> bool {
        matches!(
            self,
            Fault::Close(When::BeforeInvite) | Fault::Reset(When::BeforeInvite) | Fault::Tls(_)
        )
    }

    /// A short stable label for observations and reports (`respond 503 q850=34`,
    /// `tls untrusted`, `delay 1500ms`).
    pub fn label(&self) -> String {
        match self {
            Fault::Respond {
                status,
                q850,
                retry_after,
                ..
            } => {
                let mut s = format!("respond {status}");
                if let Some(c) = q850 {
                    s.push_str(&format!(" q850={c}"));
                }
                if let Some(r) = retry_after {
                    s.push_str(&format!(" retry-after={r}"));
                }
                s
            }
            Fault::Delay(d) => format!("delay {}ms", d.as_millis()),
            Fault::TryingThenSilence => "trying then silence".to_owned(),
            Fault::Silence => "silence".to_owned(),
            Fault::Close(w) => format!("close {}", w.label()),
            Fault::Reset(w) => format!("reset {}", w.label()),
            Fault::Tls(t) => format!("tls {}", t.label()),
        }
    }

    fn validate(&self) -> Result<(), FaultError> {
        match self {
            Fault::Respond { status, reason, .. } => {
                if !(300..=699).contains(status) {
                    return Err(FaultError::BadStatus(*status));
                }
                if reason.as_deref().is_some_and(|r| r.contains(['\r', '\n'])) {
                    return Err(FaultError::BadReason);
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }
}

impl std::fmt::Display for Fault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.label())
    }
}

impl When {
    fn label(self) -> &'static str {
        match self {
            When::BeforeInvite => "before invite",
            When::AfterInvite => "after invite",
        }
    }
}

impl TlsFault {
    /// `untrusted`, `expired`, `wrong name`, `ecdsa certificate`, `protocol error`.
    pub fn label(self) -> &'static str {
        match self {
            TlsFault::Untrusted => "untrusted",
            TlsFault::Expired => "expired",
            TlsFault::WrongName => "wrong name",
            TlsFault::EcdsaCertificate => "ecdsa certificate",
            TlsFault::ProtocolError => "protocol error",
        }
    }
}

impl Select {
    /// Whether the call (or connection) with 1-based `index` is selected.
    pub fn matches(&self, index: u64) -> bool {
        match self {
            Select::All => true,
            Select::Calls(v) => v.contains(&index),
            Select::EveryNth(n) => *n > 0 && index.is_multiple_of(*n),
            Select::Fraction { p, seed } => unit(*seed, index) < *p,
        }
    }

    fn validate(&self) -> Result<(), FaultError> {
        match self {
            Select::EveryNth(0) => Err(FaultError::ZeroNth),
            Select::Calls(v) if v.contains(&0) => Err(FaultError::ZeroIndex),
            Select::Fraction { p, .. } if !(0.0..=1.0).contains(p) => {
                Err(FaultError::BadFraction(*p))
            }
            _ => Ok(()),
        }
    }
}

/// A uniform value in [0, 1) from (seed, index): SplitMix64 over the pair.
fn unit(seed: u64, index: u64) -> f64 {
    let mut z = seed ^ index.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    // 53 random bits as a fraction; exact in f64.
    #[allow(clippy::cast_precision_loss)]
    let v = (z >> 11) as f64 / (1u64 << 53) as f64;
    v
}

impl FaultPlan {
    /// Checks the plan on its own: capacity >= 1, outage until > from, Respond status
    /// 300..=699 with a one-line reason, fractions within 0..=1, every-nth n >= 1, call indexes
    /// from 1. ([`crate::Gateway::set_faults`] also checks that the gateway can present the
    /// plan's TLS faults.)
    pub fn validate(&self) -> Result<(), FaultError> {
        if self.capacity == Some(0) {
            return Err(FaultError::ZeroCapacity);
        }
        if let Some(o) = self.outage
            && o.until <= o.from
        {
            return Err(FaultError::EmptyOutage {
                from: o.from,
                until: o.until,
            });
        }
        for rule in &self.rules {
            rule.fault.validate()?;
            rule.select.validate()?;
        }
        Ok(())
    }

    /// The TLS faults the plan uses.
    pub fn tls_faults(&self) -> impl Iterator<Item = TlsFault> + '_ {
        self.rules.iter().filter_map(|r| match r.fault {
            Fault::Tls(t) => Some(t),
            _ => None,
        })
    }

    /// The connection-level fault for the connection with 1-based `index`, if any.
    pub fn connection_fault(&self, index: u64) -> Option<&Fault> {
        self.rules
            .iter()
            .find(|r| r.fault.is_connection_level() && r.select.matches(index))
            .map(|r| &r.fault)
    }

    /// The call-level fault for the INVITE with 1-based `index`, if any.
    pub fn call_fault(&self, index: u64) -> Option<&Fault> {
        self.rules
            .iter()
            .find(|r| !r.fault.is_connection_level() && r.select.matches(index))
            .map(|r| &r.fault)
    }

    /// Whether `elapsed` (since the plan was set) falls in the outage window.
    pub fn is_down(&self, elapsed: Duration) -> bool {
        self.outage
            .is_some_and(|o| o.from <= elapsed && elapsed < o.until)
    }
}

/// The plan in force on a running gateway, with its counters (crate-private).
#[derive(Debug, Default)]
pub(crate) struct Active {
    pub(crate) plan: FaultPlan,
    /// When the plan was set (outage windows count from here).
    pub(crate) set_at: Option<tokio::time::Instant>,
    invites: std::sync::atomic::AtomicU64,
    connections: std::sync::atomic::AtomicU64,
}

impl Active {
    pub(crate) fn new(plan: FaultPlan) -> Self {
        Active {
            plan,
            set_at: Some(tokio::time::Instant::now()),
            ..Active::default()
        }
    }

    /// Counts a new INVITE and returns the call-level fault for it.
    pub(crate) fn next_call(&self) -> Option<&Fault> {
        if self.plan.rules.is_empty() {
            return None;
        }
        let i = self
            .invites
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
            + 1;
        self.plan.call_fault(i)
    }

    /// Counts a new connection and returns the connection-level fault for it.
    pub(crate) fn next_connection(&self) -> Option<&Fault> {
        if self.plan.rules.is_empty() {
            return None;
        }
        let i = self
            .connections
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
            + 1;
        self.plan.connection_fault(i)
    }

    /// Whether the gateway is inside the outage window now.
    pub(crate) fn is_down_now(&self) -> bool {
        match (self.plan.outage, self.set_at) {
            (Some(_), Some(at)) => self.plan.is_down(at.elapsed()),
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn respond(status: u16) -> Fault {
        Fault::Respond {
            status,
            reason: None,
            q850: Some(34),
            retry_after: Some(30),
        }
    }

    #[test]
    fn validation_names_what_is_wrong() {
        let ok = FaultPlan {
            rules: vec![FaultRule {
                fault: respond(503),
                select: Select::All,
            }],
            capacity: Some(1),
            outage: Some(Outage {
                from: Duration::ZERO,
                until: Duration::from_secs(1),
            }),
        };
        assert_eq!(ok.validate(), Ok(()));
        let with = |f: Fault, s: Select| FaultPlan {
            rules: vec![FaultRule {
                fault: f,
                select: s,
            }],
            ..FaultPlan::default()
        };
        assert_eq!(
            with(respond(200), Select::All).validate(),
            Err(FaultError::BadStatus(200))
        );
        assert_eq!(
            with(respond(503), Select::Fraction { p: 1.5, seed: 1 }).validate(),
            Err(FaultError::BadFraction(1.5))
        );
        assert!(
            with(
                respond(503),
                Select::Fraction {
                    p: f64::NAN,
                    seed: 1
                }
            )
            .validate()
            .is_err()
        );
        assert_eq!(
            with(respond(503), Select::EveryNth(0)).validate(),
            Err(FaultError::ZeroNth)
        );
        assert_eq!(
            with(respond(503), Select::Calls(vec![0, 1])).validate(),
            Err(FaultError::ZeroIndex)
        );
        let cap0 = FaultPlan {
            capacity: Some(0),
            ..FaultPlan::default()
        };
        assert_eq!(cap0.validate(), Err(FaultError::ZeroCapacity));
        let backwards = FaultPlan {
            outage: Some(Outage {
                from: Duration::from_secs(2),
                until: Duration::from_secs(2),
            }),
            ..FaultPlan::default()
        };
        assert!(matches!(
            backwards.validate(),
            Err(FaultError::EmptyOutage { .. })
        ));
    }

    #[test]
    fn first_matching_rule_of_the_right_level_wins() {
        let plan = FaultPlan {
            rules: vec![
                FaultRule {
                    fault: Fault::Tls(TlsFault::Untrusted),
                    select: Select::Calls(vec![1]),
                },
                FaultRule {
                    fault: Fault::Silence,
                    select: Select::EveryNth(3),
                },
                FaultRule {
                    fault: respond(486),
                    select: Select::All,
                },
            ],
            ..FaultPlan::default()
        };
        assert_eq!(
            plan.connection_fault(1),
            Some(&Fault::Tls(TlsFault::Untrusted))
        );
        assert_eq!(plan.connection_fault(2), None);
        assert_eq!(plan.call_fault(1), Some(&respond(486)));
        assert_eq!(plan.call_fault(3), Some(&Fault::Silence));
    }

    #[test]
    fn fraction_is_reproducible_and_roughly_right() {
        let s = Select::Fraction { p: 0.25, seed: 42 };
        let a: Vec<bool> = (1..=10_000).map(|i| s.matches(i)).collect();
        let b: Vec<bool> = (1..=10_000).map(|i| s.matches(i)).collect();
        assert_eq!(a, b);
        let hits = a.iter().filter(|&&x| x).count();
        assert!((2_200..2_800).contains(&hits), "{hits}");
        let other = Select::Fraction { p: 0.25, seed: 43 };
        assert!((1..=100).any(|i| other.matches(i) != s.matches(i)));
        assert!((1..=1000).all(|i| !Select::Fraction { p: 0.0, seed: 1 }.matches(i)));
        assert!((1..=1000).all(|i| Select::Fraction { p: 1.0, seed: 1 }.matches(i)));
    }

    #[test]
    fn labels_are_short_and_stable() {
        assert_eq!(respond(503).label(), "respond 503 q850=34 retry-after=30");
        assert_eq!(Fault::Tls(TlsFault::WrongName).label(), "tls wrong name");
        assert_eq!(
            Fault::Reset(When::AfterInvite).label(),
            "reset after invite"
        );
        assert_eq!(
            Fault::Delay(Duration::from_millis(1500)).label(),
            "delay 1500ms"
        );
    }
}
