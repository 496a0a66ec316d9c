//! The failover part of the model (ICD 5.3): the outbound route the originator follows across
//! the gateways ([`RouteSpec`]), the faults the embedded gateways inject ([`FaultSpec`],
//! [`GatewayState`]), OPTIONS health probing ([`HealthSpec`]), how many calls a scenario places
//! ([`RunSpec`]) and the route expectations ([`RandomSplit`]).
//!
//! Like the rest of the model, every value here has passed validation.

use std::fmt;
use std::time::Duration;

use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};

/// SIP statuses that move a call to the next gateway by default: 408 Request Timeout and 480
/// Temporarily Unavailable (the two 4xx that RFC 3261 §21.4 describes as "try again / elsewhere"
/// rather than a verdict on the request) and the 5xx server failures 500, 502, 503, 504 (§21.5:
/// the server failed, another may not). Every other 4xx (403, 404, 486...) and every 6xx (§21.6:
/// "global failure", do not try elsewhere) is final and ends the call.
pub const DEFAULT_RETRY_STATUS: [u16; 6] = [408, 480, 500, 502, 503, 504];

/// Q.850 causes that make a failure response retryable whatever its status (ITU-T Q.850):
/// 34 no circuit/channel available, 38 network out of order, 41 temporary failure,
/// 42 switching equipment congestion, 47 resource unavailable, unspecified.
pub const DEFAULT_RETRY_Q850: [u16; 5] = [34, 38, 41, 42, 47];

/// Default bound on one attempt (Timer B-like). RFC 3261's Timer B is 64*T1 = 32 s; a trunk
/// that fails over on an emergency call cannot wait that long, and tests must stay quick.
pub const DEFAULT_ATTEMPT_TIMEOUT: Duration = Duration::from_secs(4);

/// The most calls one scenario may place.
pub const MAX_CALLS: u32 = 10_000;

/// How calls are spread over the route's gateways (ICD 5.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Distribution {
    /// Every call tries the first gateway first, then the next, in order.
    #[default]
    Sequential,
    /// Each call picks its first gateway at random, then tries the others in order.
    Random,
}

impl Distribution {
    /// The spelling used in scenario files.
    pub fn as_str(&self) -> &'static str {
        match self {
            Distribution::Sequential => "sequential",
            Distribution::Random => "random",
        }
    }
}

/// The outbound route: which gateways, in which order, and when to move on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RouteSpec {
    /// Gateway names in route order; never empty, none twice.
    pub gateways: Vec<String>,
    /// Sequential or random.
    pub distribution: Distribution,
    /// Seed of the random first choice (random distribution only; `None`: seeded from the clock).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    /// Final statuses that move the call to the next gateway.
    pub retry_on_status: Vec<u16>,
    /// Q.850 causes (from `Reason: Q.850;cause=N`) that make any failure response retryable.
    pub retry_on_q850: Vec<u16>,
    /// How long one attempt may wait for a final response before the next gateway is tried.
    #[serde(with = "humantime_serde")]
    pub attempt_timeout: Duration,
}

impl Default for RouteSpec {
    fn default() -> Self {
        RouteSpec {
            gateways: crate::GATEWAY_NAMES.map(str::to_owned).to_vec(),
            distribution: Distribution::Sequential,
            seed: None,
            retry_on_status: DEFAULT_RETRY_STATUS.to_vec(),
            retry_on_q850: DEFAULT_RETRY_Q850.to_vec(),
            attempt_timeout: DEFAULT_ATTEMPT_TIMEOUT,
        }
    }
}

impl RouteSpec {
    /// Whether a failure response with this status and Q.850 cause moves the call on: its
    /// status is in `retry_on_status`, or its cause is in `retry_on_q850`. 2xx never does.
    pub fn is_retryable(&self, status: u16, q850: Option<u16>) -> bool {
        status >= 300
            && (self.retry_on_status.contains(&status)
                || q850.is_some_and(|c| self.retry_on_q850.contains(&c)))
    }
}

/// OPTIONS probing of the route's gateways.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct HealthSpec {
    /// Time between two probes of one gateway.
    #[serde(with = "humantime_serde")]
    pub interval: Duration,
    /// Consecutive failed probes after which a gateway is marked down.
    pub down_after: u32,
    /// Consecutive answered probes after which a down gateway is marked up again.
    pub up_after: u32,
}

impl Default for HealthSpec {
    fn default() -> Self {
        HealthSpec {
            interval: Duration::from_millis(200),
            down_after: 2,
            up_after: 2,
        }
    }
}

/// How many calls the scenario places.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct RunSpec {
    /// Calls placed, 1..=[`MAX_CALLS`].
    pub calls: u32,
    /// Calls in progress at once (placed in batches of this size), 1..=calls and at most
    /// [`MAX_CONCURRENCY`]; a capacity cap is only met by calls that overlap.
    pub concurrency: u32,
}

impl Default for RunSpec {
    fn default() -> Self {
        RunSpec {
            calls: 1,
            concurrency: 1,
        }
    }
}

/// The most calls a scenario keeps in progress at once.
pub const MAX_CONCURRENCY: u32 = 100;

/// When a connection-level fault strikes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FaultWhen {
    /// As soon as the connection is accepted, before any request.
    BeforeInvite,
    /// When the INVITE has arrived, before any response.
    AfterInvite,
}

impl FaultWhen {
    /// The spelling used in scenario files.
    pub fn as_str(&self) -> &'static str {
        match self {
            FaultWhen::BeforeInvite => "before-invite",
            FaultWhen::AfterInvite => "after-invite",
        }
    }

    /// The words used in fault labels: `before invite`, `after invite`.
    pub fn label(self) -> &'static str {
        match self {
            FaultWhen::BeforeInvite => "before invite",
            FaultWhen::AfterInvite => "after invite",
        }
    }
}

/// A TLS handshake fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum TlsFaultKind {
    /// A certificate from a CA the originator does not trust.
    Untrusted,
    /// An expired certificate.
    Expired,
    /// A certificate for another name (RFC 5922).
    WrongName,
    /// A certificate with an ECDSA key where the trunk's profile wants RSA (ICD 5.1).
    EcdsaCertificate,
    /// Garbage instead of a ServerHello.
    ProtocolError,
}

impl TlsFaultKind {
    /// Every TLS fault.
    pub const ALL: [TlsFaultKind; 5] = [
        TlsFaultKind::Untrusted,
        TlsFaultKind::Expired,
        TlsFaultKind::WrongName,
        TlsFaultKind::EcdsaCertificate,
        TlsFaultKind::ProtocolError,
    ];

    /// The words used in fault labels: `untrusted`, `expired`, `wrong name`,
    /// `ecdsa certificate`, `protocol error`.
    pub fn label(self) -> &'static str {
        match self {
            TlsFaultKind::Untrusted => "untrusted",
            TlsFaultKind::Expired => "expired",
            TlsFaultKind::WrongName => "wrong name",
            TlsFaultKind::EcdsaCertificate => "ecdsa certificate",
            TlsFaultKind::ProtocolError => "protocol error",
        }
    }

    /// Whether the fault presents a certificate the originator must refuse (its identity, RFC
    /// 5922): untrusted, expired, wrong name.
    pub fn is_identity(self) -> bool {
        matches!(
            self,
            TlsFaultKind::Untrusted | TlsFaultKind::Expired | TlsFaultKind::WrongName
        )
    }

    /// The spelling used in scenario files.
    pub fn as_str(&self) -> &'static str {
        match self {
            TlsFaultKind::Untrusted => "untrusted",
            TlsFaultKind::Expired => "expired",
            TlsFaultKind::WrongName => "wrong-name",
            TlsFaultKind::EcdsaCertificate => "ecdsa-certificate",
            TlsFaultKind::ProtocolError => "protocol-error",
        }
    }
}

/// What a faulty gateway does instead of answering normally.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FaultKind {
    /// Answer the INVITE with this final status.
    Respond {
        /// 300..=699.
        status: u16,
        /// Reason phrase (default: the status' usual phrase).
        reason: Option<String>,
        /// `Reason: Q.850;cause=N`.
        q850: Option<u16>,
        /// `Retry-After` seconds.
        retry_after: Option<u32>,
    },
    /// Answer normally, but only after this long.
    Delay(Duration),
    /// Send 100 Trying, then nothing.
    TryingThenSilence,
    /// Read the INVITE and never answer.
    Silence,
    /// Close the connection (TCP FIN).
    Close(FaultWhen),
    /// Reset the connection (TCP RST).
    Reset(FaultWhen),
    /// Fail the TLS handshake.
    Tls(TlsFaultKind),
    /// Answer normally, then get the call's media wrong.
    Media(crate::media::MediaFault),
}

impl FaultKind {
    /// Every `kind` spelling, in documentation order.
    pub const NAMES: [&'static str; 8] = [
        "respond",
        "delay",
        "trying-then-silence",
        "silence",
        "close",
        "reset",
        "tls",
        "media",
    ];

    /// The `kind` spelling.
    pub fn name(&self) -> &'static str {
        match self {
            FaultKind::Respond { .. } => "respond",
            FaultKind::Delay(_) => "delay",
            FaultKind::TryingThenSilence => "trying-then-silence",
            FaultKind::Silence => "silence",
            FaultKind::Close(_) => "close",
            FaultKind::Reset(_) => "reset",
            FaultKind::Tls(_) => "tls",
            FaultKind::Media(_) => "media",
        }
    }
}

impl FaultKind {
    /// Whether the fault is chosen per connection (on accept) rather than per INVITE.
    pub fn is_connection_level(&self) -> bool {
        matches!(
            self,
            FaultKind::Close(FaultWhen::BeforeInvite)
                | FaultKind::Reset(FaultWhen::BeforeInvite)
                | FaultKind::Tls(_)
        )
    }

    /// Whether the fault touches only the call's media (the signalling is answered normally).
    pub fn is_media(&self) -> bool {
        matches!(self, FaultKind::Media(_))
    }

    /// Whether the fault leaves the INVITE without a final response for the originator's
    /// attempt timeout to end (silence, 100 then silence, a delay).
    pub fn is_silent(&self) -> bool {
        matches!(
            self,
            FaultKind::Silence | FaultKind::TryingThenSilence | FaultKind::Delay(_)
        )
    }

    /// A short stable label for observations and reports (`respond 503 q850=34`,
    /// `tls untrusted`, `delay 1500ms`, `close before invite`).
    pub fn label(&self) -> String {
        match self {
            FaultKind::Respond {
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
            FaultKind::Delay(d) => format!("delay {}ms", d.as_millis()),
            FaultKind::TryingThenSilence => "trying then silence".to_owned(),
            FaultKind::Silence => "silence".to_owned(),
            FaultKind::Close(w) => format!("close {}", w.label()),
            FaultKind::Reset(w) => format!("reset {}", w.label()),
            FaultKind::Tls(t) => format!("tls {}", t.label()),
            FaultKind::Media(m) => format!("media {}", m.label()),
        }
    }
}

impl std::fmt::Display for FaultKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.label())
    }
}

impl CallSelect {
    /// Whether the call (or connection) with 1-based `index` is selected. A fraction decides
    /// each index from (seed, index), so the same seed selects the same indexes on every run.
    pub fn matches(&self, index: u64) -> bool {
        match self {
            CallSelect::All => true,
            CallSelect::Calls(v) => v.contains(&index),
            CallSelect::Every(n) => *n > 0 && index.is_multiple_of(*n),
            CallSelect::Fraction { p, seed } => unit(*seed, index) < p.0,
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

/// A probability in 0..=1, compared bit for bit (so the model stays `Eq`).
#[derive(Debug, Clone, Copy)]
pub struct Fraction(pub f64);

impl PartialEq for Fraction {
    fn eq(&self, other: &Self) -> bool {
        self.0.to_bits() == other.0.to_bits()
    }
}

impl Eq for Fraction {}

/// Which calls (numbered from 1, in the order the scenario places them) a fault hits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallSelect {
    /// Every call.
    All,
    /// These calls.
    Calls(Vec<u64>),
    /// Every Nth call (N, 2N, ...).
    Every(u64),
    /// Each call with probability `p`, drawn from a generator seeded with `seed`.
    Fraction {
        /// Probability in 0..=1.
        p: Fraction,
        /// Generator seed.
        seed: u64,
    },
}

/// One `[[fault]]` entry: a gateway misbehaves for the selected calls.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FaultSpec {
    /// The faulty gateway.
    pub gateway: String,
    /// What it does.
    pub kind: FaultKind,
    /// Which calls it hits.
    pub select: CallSelect,
}

impl Serialize for FaultSpec {
    /// Writes the flat table of the scenario format (`gateway`, `kind`, the kind's fields, the
    /// selection).
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("gateway", &self.gateway)?;
        m.serialize_entry("kind", self.kind.name())?;
        match &self.kind {
            FaultKind::Respond {
                status,
                reason,
                q850,
                retry_after,
            } => {
                m.serialize_entry("status", status)?;
                if let Some(r) = reason {
                    m.serialize_entry("reason", r)?;
                }
                if let Some(c) = q850 {
                    m.serialize_entry("q850", c)?;
                }
                if let Some(r) = retry_after {
                    m.serialize_entry("retry_after", r)?;
                }
            }
            FaultKind::Delay(d) => {
                m.serialize_entry("delay", &humantime::format_duration(*d).to_string())?
            }
            FaultKind::TryingThenSilence | FaultKind::Silence => {}
            FaultKind::Close(w) | FaultKind::Reset(w) => m.serialize_entry("when", w.as_str())?,
            FaultKind::Tls(t) => m.serialize_entry("tls", t.as_str())?,
            FaultKind::Media(f) => {
                m.serialize_entry("media", f.as_str())?;
                if let crate::media::MediaFault::Late(d) = f {
                    m.serialize_entry("delay", &humantime::format_duration(*d).to_string())?;
                }
            }
        }
        match &self.select {
            CallSelect::All => m.serialize_entry("calls", "all")?,
            CallSelect::Calls(c) => m.serialize_entry("calls", c)?,
            CallSelect::Every(n) => m.serialize_entry("every", n)?,
            CallSelect::Fraction { p, seed } => {
                m.serialize_entry("fraction", &p.0)?;
                m.serialize_entry("seed", seed)?;
            }
        }
        m.end()
    }
}

/// A window of time, measured from the start of the scenario.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Window {
    /// Start (inclusive).
    #[serde(with = "humantime_serde")]
    pub from: Duration,
    /// End (exclusive); after `from`.
    #[serde(with = "humantime_serde")]
    pub until: Duration,
}

/// Per-gateway state faults: a capacity cap and an outage window (`[gateway.gw1]`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct GatewayState {
    /// Calls the gateway carries at once; an INVITE beyond them gets 503.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub capacity: Option<u32>,
    /// While inside this window the gateway refuses connections (as if down).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outage: Option<Window>,
}

/// `random_split`: the share of calls whose first choice is `gateway` must be within the
/// binomial interval of a fair split at this confidence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RandomSplit {
    /// The gateway counted.
    pub gateway: String,
    /// Two-sided confidence in parts per million (`"99.9%"` is 999000).
    #[serde(rename = "within", serialize_with = "confidence_text")]
    pub within_ppm: u32,
}

impl RandomSplit {
    /// The confidence as a probability (0.999 for `"99.9%"`).
    pub fn confidence(&self) -> f64 {
        f64::from(self.within_ppm) / 1e6
    }
}

/// Serializes parts per million as a percentage ([`Percent`]).
pub(crate) fn confidence_text<S: Serializer>(ppm: &u32, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&Percent(*ppm).to_string())
}

/// Parts per million written as a percentage (`999000` as `99.9%`).
#[derive(Debug, Clone, Copy)]
pub struct Percent(pub u32);

impl fmt::Display for Percent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let whole = self.0 / 10_000;
        let frac = self.0 % 10_000;
        if frac == 0 {
            write!(f, "{whole}%")
        } else {
            let digits = format!("{frac:04}");
            write!(f, "{whole}.{}%", digits.trim_end_matches('0'))
        }
    }
}

/// Parses `"99.9%"` into parts per million; `None` unless strictly between 0% and 100% with at
/// most four decimals.
pub fn parse_percent(s: &str) -> Option<u32> {
    crate::media::parse_share(s).filter(|ppm| *ppm > 0 && *ppm < 1_000_000)
}

/// Serializes a map of per-gateway states, leaving empty ones out.
pub(crate) fn serialize_states<S: Serializer>(
    states: &std::collections::BTreeMap<String, GatewayState>,
    s: S,
) -> Result<S::Ok, S::Error> {
    let mut m = s.serialize_map(None)?;
    for (k, v) in states {
        if *v != GatewayState::default() {
            m.serialize_entry(k, v)?;
        }
    }
    m.end()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_round_trips() {
        for (text, ppm) in [("99.9%", 999_000), ("95%", 950_000), ("99.99%", 999_900)] {
            assert_eq!(parse_percent(text), Some(ppm), "{text}");
            assert_eq!(Percent(ppm).to_string(), text);
        }
        for bad in ["100%", "0%", "99.9", "abc%", "-5%", "99.12345%", "%"] {
            assert_eq!(parse_percent(bad), None, "{bad}");
        }
    }

    #[test]
    fn retry_rule_is_status_or_cause() {
        let r = RouteSpec::default();
        assert!(r.is_retryable(503, None));
        assert!(!r.is_retryable(486, None));
        assert!(r.is_retryable(486, Some(34)));
        assert!(!r.is_retryable(486, Some(16)));
        assert!(!r.is_retryable(200, Some(34)));
        let off = RouteSpec {
            retry_on_status: vec![],
            retry_on_q850: vec![],
            ..RouteSpec::default()
        };
        assert!(!off.is_retryable(503, Some(34)));
    }
}
