//! Fault injection: what a gateway does wrong, to which calls or connections, and when it is
//! down. A [`FaultPlan`] is set on a running gateway with [`crate::Gateway::set_faults`] and
//! removed with [`crate::Gateway::clear_faults`]; nothing of a plan outlives the next one.
//!
//! The vocabulary is the scenario model's ([`FaultSpec`], [`FaultKind`], [`CallSelect`],
//! [`Window`]): a scenario's `[[fault]]` entries are the gateway's rules as they are.
//!
//! # Levels and counting
//! - **Connection-level** faults ([`FaultKind::Close`] and [`FaultKind::Reset`] with
//!   [`FaultWhen::BeforeInvite`], and [`FaultKind::Tls`]) are chosen when a connection is
//!   accepted, by its 1-based index among the connections accepted since the plan was set.
//! - **Call-level** faults (every other one) are chosen when a new INVITE transaction arrives
//!   (retransmissions do not count), by its 1-based index among the INVITEs this gateway
//!   received since the plan was set.
//!
//! Rules are tried in order and the first one whose fault has the right level and whose
//! [`CallSelect`] matches the index wins. An INVITE that no rule takes is answered normally,
//! unless the plan's `capacity` is reached (503 with `Reason: Q.850;cause=34`).
//!
//! The observation of a faulted request carries the fault's [`FaultKind::label`]; a connection
//! fault is recorded as an observation with an empty method and the label, and every request
//! that arrives on a connection accepted under a fault (a certificate the peer accepted anyway)
//! carries it as `connection_fault`.

use std::sync::Arc;
use std::time::Duration;

pub use scenarios::{CallSelect, FaultKind, FaultSpec, FaultWhen, TlsFaultKind, Window};
use sip::transport::certs::{Authority, CertError, KeyKind, Validity};
use sip::transport::{TlsProfile, TransportError, server_config};

/// Everything a gateway does wrong from the moment the plan is set.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FaultPlan {
    /// Tried in order; the first matching rule wins. A rule's `gateway` is not read: the plan
    /// is the one gateway's.
    pub rules: Vec<FaultSpec>,
    /// At most this many INVITE dialogs at once (accepted and not yet ended by BYE, CANCEL or
    /// the connection closing); one more gets 503 with `Reason: Q.850;cause=34`.
    pub capacity: Option<u32>,
    /// A window, relative to when the plan was set, during which the gateway is down: its
    /// listener is closed (connect is refused), established connections are dropped without a
    /// goodbye, and nothing (OPTIONS included) is answered. At `until` the same port is bound
    /// again.
    pub outage: Option<Window>,
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

    /// The configuration a TLS fault presents (`None` for [`TlsFaultKind::ProtocolError`]).
    pub fn for_fault(&self, f: TlsFaultKind) -> Option<&Arc<rustls::ServerConfig>> {
        match f {
            TlsFaultKind::Untrusted => Some(&self.untrusted),
            TlsFaultKind::Expired => Some(&self.expired),
            TlsFaultKind::WrongName => Some(&self.wrong_name),
            TlsFaultKind::EcdsaCertificate => Some(&self.ecdsa),
            TlsFaultKind::ProtocolError => None,
        }
    }
}

fn validate_fault(f: &FaultKind) -> Result<(), FaultError> {
    match f {
        FaultKind::Respond { status, reason, .. } => {
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

fn validate_select(s: &CallSelect) -> Result<(), FaultError> {
    match s {
        CallSelect::Every(0) => Err(FaultError::ZeroNth),
        CallSelect::Calls(v) if v.contains(&0) => Err(FaultError::ZeroIndex),
        CallSelect::Fraction { p, .. } if !(0.0..=1.0).contains(&p.0) => {
            Err(FaultError::BadFraction(p.0))
        }
        _ => Ok(()),
    }
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
            validate_fault(&rule.kind)?;
            validate_select(&rule.select)?;
        }
        Ok(())
    }

    /// The TLS faults the plan uses.
    pub fn tls_faults(&self) -> impl Iterator<Item = TlsFaultKind> + '_ {
        self.rules.iter().filter_map(|r| match r.kind {
            FaultKind::Tls(t) => Some(t),
            _ => None,
        })
    }

    /// The connection-level fault for the connection with 1-based `index`, if any.
    pub fn connection_fault(&self, index: u64) -> Option<&FaultKind> {
        self.rules
            .iter()
            .find(|r| r.kind.is_connection_level() && r.select.matches(index))
            .map(|r| &r.kind)
    }

    /// The call-level fault for the INVITE with 1-based `index`, if any.
    pub fn call_fault(&self, index: u64) -> Option<&FaultKind> {
        self.rules
            .iter()
            .find(|r| !r.kind.is_connection_level() && r.select.matches(index))
            .map(|r| &r.kind)
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
    pub(crate) fn next_call(&self) -> Option<&FaultKind> {
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
    pub(crate) fn next_connection(&self) -> Option<&FaultKind> {
        if self.plan.rules.is_empty() {
            return None;
        }
        let i = self
            .connections
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
            + 1;
        self.plan.connection_fault(i)
    }

    /// Whether the plan acts when connections are made (a connection-level fault or an
    /// outage): connections established before it would escape it, and connections
    /// established under it must not outlive it.
    pub(crate) fn acts_on_connections(&self) -> bool {
        self.plan.outage.is_some() || self.plan.rules.iter().any(|r| r.kind.is_connection_level())
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
    use scenarios::Fraction;

    fn rule(kind: FaultKind, select: CallSelect) -> FaultSpec {
        FaultSpec {
            gateway: "gw1".into(),
            kind,
            select,
        }
    }

    fn respond(status: u16) -> FaultKind {
        FaultKind::Respond {
            status,
            reason: None,
            q850: Some(34),
            retry_after: Some(30),
        }
    }

    #[test]
    fn validation_names_what_is_wrong() {
        let ok = FaultPlan {
            rules: vec![rule(respond(503), CallSelect::All)],
            capacity: Some(1),
            outage: Some(Window {
                from: Duration::ZERO,
                until: Duration::from_secs(1),
            }),
        };
        assert_eq!(ok.validate(), Ok(()));
        let with = |f: FaultKind, s: CallSelect| FaultPlan {
            rules: vec![rule(f, s)],
            ..FaultPlan::default()
        };
        assert_eq!(
            with(respond(200), CallSelect::All).validate(),
            Err(FaultError::BadStatus(200))
        );
        assert_eq!(
            with(
                respond(503),
                CallSelect::Fraction {
                    p: Fraction(1.5),
                    seed: 1
                }
            )
            .validate(),
            Err(FaultError::BadFraction(1.5))
        );
        assert!(
            with(
                respond(503),
                CallSelect::Fraction {
                    p: Fraction(f64::NAN),
                    seed: 1
                }
            )
            .validate()
            .is_err()
        );
        assert_eq!(
            with(respond(503), CallSelect::Every(0)).validate(),
            Err(FaultError::ZeroNth)
        );
        assert_eq!(
            with(respond(503), CallSelect::Calls(vec![0, 1])).validate(),
            Err(FaultError::ZeroIndex)
        );
        let cap0 = FaultPlan {
            capacity: Some(0),
            ..FaultPlan::default()
        };
        assert_eq!(cap0.validate(), Err(FaultError::ZeroCapacity));
        let backwards = FaultPlan {
            outage: Some(Window {
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
                rule(
                    FaultKind::Tls(TlsFaultKind::Untrusted),
                    CallSelect::Calls(vec![1]),
                ),
                rule(FaultKind::Silence, CallSelect::Every(3)),
                rule(respond(486), CallSelect::All),
            ],
            ..FaultPlan::default()
        };
        assert_eq!(
            plan.connection_fault(1),
            Some(&FaultKind::Tls(TlsFaultKind::Untrusted))
        );
        assert_eq!(plan.connection_fault(2), None);
        assert_eq!(plan.call_fault(1), Some(&respond(486)));
        assert_eq!(plan.call_fault(3), Some(&FaultKind::Silence));
    }

    #[test]
    fn fraction_is_reproducible_and_roughly_right() {
        let s = CallSelect::Fraction {
            p: Fraction(0.25),
            seed: 42,
        };
        let a: Vec<bool> = (1..=10_000).map(|i| s.matches(i)).collect();
        let b: Vec<bool> = (1..=10_000).map(|i| s.matches(i)).collect();
        assert_eq!(a, b);
        let hits = a.iter().filter(|&&x| x).count();
        assert!((2_200..2_800).contains(&hits), "{hits}");
        let other = CallSelect::Fraction {
            p: Fraction(0.25),
            seed: 43,
        };
        assert!((1..=100).any(|i| other.matches(i) != s.matches(i)));
        assert!((1..=1000).all(|i| {
            !CallSelect::Fraction {
                p: Fraction(0.0),
                seed: 1,
            }
            .matches(i)
        }));
        assert!((1..=1000).all(|i| {
            CallSelect::Fraction {
                p: Fraction(1.0),
                seed: 1,
            }
            .matches(i)
        }));
    }

    #[test]
    fn labels_are_short_and_stable() {
        assert_eq!(respond(503).label(), "respond 503 q850=34 retry-after=30");
        assert_eq!(
            FaultKind::Tls(TlsFaultKind::WrongName).label(),
            "tls wrong name"
        );
        assert_eq!(
            FaultKind::Reset(FaultWhen::AfterInvite).label(),
            "reset after invite"
        );
        assert_eq!(
            FaultKind::Delay(Duration::from_millis(1500)).label(),
            "delay 1500ms"
        );
    }
}
