//! The scenario model: what a loaded, validated scenario file says.
//!
//! Every value here has passed validation (see [`crate::load_str`]): defaults are filled in,
//! durations are typed, UUIDs are canonical and the cross-field rules hold. Consumers never need
//! to re-check a [`Scenario`].

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::route::{FaultSpec, GatewayState, HealthSpec, RandomSplit, RouteSpec, RunSpec};

/// The E911-Organization-ID sent when a scenario names none, and the one the embedded gateways
/// accept when a scenario does not configure `gateway.orgs`.
pub const DEFAULT_ORG_ID: &str = "4f3b1c2e-8d7a-4e59-9b0c-6a1d2e3f4a5b";

/// The header that carries the customer's HELD Company ID (ICD 5.1.9): what the trunk sends,
/// the gateways check and the verdicts read. Defined here, once, for every crate.
pub const ORG_HEADER: &str = "E911-Organization-ID";

/// The gateway names a scenario may address, in failover order (ICD 5.1.6).
pub const GATEWAY_NAMES: [&str; 2] = ["gw1", "gw2"];

/// The suite a scenario belongs to when its file names none.
pub const DEFAULT_SUITE: &str = "certify";

/// One scripted emergency call and what must be observed about it.
///
/// Serializes to the scenario format with every default spelled out, so a resolved scenario
/// written as TOML loads back to the same value (`source` is not written).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Scenario {
    /// Unique id, `[a-z0-9][a-z0-9-]*`.
    pub name: String,
    /// One human sentence saying what the scenario proves.
    pub description: String,
    /// Requirement ids from [`crate::requirements::ALL`] this scenario gives evidence for.
    pub requirements: Vec<String>,
    /// Suites the scenario runs in (default `["certify"]`).
    pub suites: Vec<String>,
    /// The topologies it runs in (default both) and why it leaves one out.
    #[serde(flatten)]
    pub applicability: crate::topology::Applicability,
    /// What the originator sends.
    pub call: CallSpec,
    /// How the embedded mock gateways are configured for this scenario.
    pub gateway: GatewaySpec,
    /// The outbound route across the gateways (ICD 5.3); `None`: one attempt to `call.gateway`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub route: Option<RouteSpec>,
    /// Faults the embedded gateways inject (`[[fault]]`), in file order.
    #[serde(rename = "fault", skip_serializing_if = "Vec::is_empty")]
    pub faults: Vec<FaultSpec>,
    /// OPTIONS probing of the route's gateways; `None`: no probing.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub health: Option<HealthSpec>,
    /// How many calls the scenario places.
    pub run: RunSpec,
    /// What must be observed; each present field is one check.
    pub expect: Expect,
    /// Who is calling (ICD 5.1.7 `[caller]`): the harness selects the ANI from it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub caller: Option<crate::conformance::CallerSpec>,
    /// Media on answered calls (`[media]`, ICD 4): the quality bounds, and whether the calls
    /// carry media when the run does.
    pub media: crate::media::MediaSpec,
    /// The file the scenario was loaded from, `None` when loaded from a string.
    #[serde(skip)]
    pub source: Option<PathBuf>,
}

/// What the originator (trunk emulation) puts on the wire.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CallSpec {
    /// User part of the Request-URI and To: digits, optionally with a leading `+`, optionally
    /// followed by an RFC 3966 `;phone-context=` parameter (`911;phone-context=+1`); see
    /// [`crate::ani::dialled_number`] for the number alone.
    pub dial: String,
    /// The calling number (ANI). Empty when `[caller]` chooses it and the harness has not yet.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub ani: String,
    /// Headers the ANI is written to, in the order given. Never empty.
    pub ani_in: Vec<AniPlacement>,
    /// A number to put in From instead of the ANI (a From/PAI disagreement).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from_user: Option<String>,
    /// `E911-Organization-ID` header values, one header line each, exactly as written.
    /// Resolved: `org_id = X` gives `[X]`, neither field gives `[DEFAULT_ORG_ID]`, `[]` sends none.
    pub org_headers: Vec<String>,
    /// Further headers appended to the INVITE as written.
    pub extra_headers: Vec<ExtraHeader>,
    /// Time between ACK and BYE on an answered call.
    #[serde(with = "humantime_serde")]
    pub hold: Duration,
    /// Bound on the whole call, from the INVITE to the end of the BYE transaction.
    #[serde(with = "humantime_serde")]
    pub timeout: Duration,
    /// The caller hangs up this long after the INVITE when no final response has come (an
    /// abandoned call): the trunk CANCELs it (RFC 3261 §9.1) and tries no other gateway.
    /// Shorter than `timeout` and the route's `attempt_timeout`.
    #[serde(
        default,
        with = "humantime_serde",
        skip_serializing_if = "Option::is_none"
    )]
    pub abandon_after: Option<Duration>,
    /// The gateway the call is sent to first (one of [`GATEWAY_NAMES`]).
    pub gateway: String,
    /// A civic address conveyed by value (RFC 6442): PIDF-LO beside the SDP offer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<crate::conformance::CallLocation>,
    /// What the trunk offers in its TLS handshakes (`call.tls`); the Genesys BYOC profile
    /// unless the scenario says otherwise.
    #[serde(serialize_with = "crate::tls::serialize_profile")]
    pub tls: crate::tls::TlsProfile,
}

/// A header where the originator writes the ANI.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AniPlacement {
    /// The user part of the From URI.
    From,
    /// A `P-Asserted-Identity` header with a SIP URI (`<sip:ANI@trunk;user=phone>`).
    Pai,
    /// A `P-Asserted-Identity` header with a tel URI (`<tel:ANI>`, RFC 3966).
    #[serde(rename = "pai-tel")]
    PaiTel,
    /// A `Remote-Party-ID` header.
    Rpid,
}

impl AniPlacement {
    /// Every placement, in the spelling scenario files use.
    pub const ALL: [AniPlacement; 4] = [
        AniPlacement::From,
        AniPlacement::Pai,
        AniPlacement::PaiTel,
        AniPlacement::Rpid,
    ];

    /// The spelling used in scenario files: `from`, `pai`, `pai-tel` or `rpid`.
    pub fn as_str(&self) -> &'static str {
        match self {
            AniPlacement::From => "from",
            AniPlacement::Pai => "pai",
            AniPlacement::PaiTel => "pai-tel",
            AniPlacement::Rpid => "rpid",
        }
    }

    /// The SIP header this placement writes.
    pub fn header(&self) -> AniHeader {
        match self {
            AniPlacement::From => AniHeader::From,
            AniPlacement::Pai | AniPlacement::PaiTel => AniHeader::PAssertedIdentity,
            AniPlacement::Rpid => AniHeader::RemotePartyId,
        }
    }
}

/// One extra header line: `name: value`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExtraHeader {
    /// Header name, an RFC 3261 token.
    pub name: String,
    /// Header value, without CR or LF.
    pub value: String,
}

/// How the embedded mock gateways behave in a scenario.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GatewaySpec {
    /// Organization ids (canonical UUIDs) the gateways accept. Never empty.
    pub orgs: Vec<String>,
    /// Headers the gateway takes the ANI from, first match wins. Never empty.
    pub ani_headers: Vec<AniHeader>,
    /// What the gateway does with a well-formed org id it does not serve.
    pub unknown_org: UnknownOrgPolicy,
    /// With a location table: what the gateway does with an ANI it has no row for.
    /// `None`: the default, route to the fallback centre.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unknown_ani: Option<crate::conformance::UnknownAniPolicy>,
    /// The location table (`[[gateway.location]]`, ICD 5.2); empty: no table.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub location: Vec<crate::conformance::LocationEntry>,
    /// The TLS profile the gateways enforce (`gateway.tls`); `any` (accept what the trunk
    /// offers, and record it) unless the scenario says otherwise.
    #[serde(serialize_with = "crate::tls::serialize_profile")]
    pub tls: crate::tls::TlsProfile,
    /// How long the gateways ring (100 Trying, 180 Ringing) before they answer; a CANCEL in
    /// that time ends the INVITE with 487. Zero (the default): they answer at once.
    #[serde(with = "humantime_serde", skip_serializing_if = "Duration::is_zero")]
    pub ring_time: Duration,
    /// Capacity caps and outage windows by gateway name (`[gateway.gw1]`); absent: none.
    #[serde(flatten, serialize_with = "crate::route::serialize_states")]
    pub states: BTreeMap<String, GatewayState>,
}

impl GatewaySpec {
    /// The capacity and outage of `gateway` (none when the scenario sets none).
    pub fn state(&self, gateway: &str) -> GatewayState {
        self.states.get(gateway).copied().unwrap_or_default()
    }
}

impl Default for GatewaySpec {
    fn default() -> Self {
        GatewaySpec {
            orgs: vec![DEFAULT_ORG_ID.to_owned()],
            ani_headers: vec![AniHeader::PAssertedIdentity, AniHeader::From],
            unknown_org: UnknownOrgPolicy::Reject,
            unknown_ani: None,
            location: Vec::new(),
            tls: crate::tls::TlsProfile::any(),
            ring_time: Duration::ZERO,
            states: BTreeMap::new(),
        }
    }
}

/// A header that can carry the calling number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum AniHeader {
    /// `P-Asserted-Identity` (RFC 3325).
    #[serde(rename = "P-Asserted-Identity")]
    PAssertedIdentity,
    /// `Remote-Party-ID` (draft-ietf-sip-privacy).
    #[serde(rename = "Remote-Party-ID")]
    RemotePartyId,
    /// `From` (RFC 3261).
    #[serde(rename = "From")]
    From,
}

impl AniHeader {
    /// Every ANI header.
    pub const ALL: [AniHeader; 3] = [
        AniHeader::PAssertedIdentity,
        AniHeader::RemotePartyId,
        AniHeader::From,
    ];

    /// The header name as written on the wire and in scenario files.
    pub fn header_name(&self) -> &'static str {
        match self {
            AniHeader::PAssertedIdentity => "P-Asserted-Identity",
            AniHeader::RemotePartyId => "Remote-Party-ID",
            AniHeader::From => "From",
        }
    }
}

impl fmt::Display for AniHeader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.header_name())
    }
}

impl FromStr for AniHeader {
    type Err = UnknownName;

    /// Parses a header name as written in scenario files (exact spelling).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        AniHeader::ALL
            .into_iter()
            .find(|h| h.header_name() == s)
            .ok_or_else(|| UnknownName::new("ANI header", s))
    }
}

/// What a gateway does with a call whose (well-formed) organization id it does not serve.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum UnknownOrgPolicy {
    /// Answer 403 Forbidden with a Warning.
    #[default]
    Reject,
    /// Answer the call and route it to the fallback centre.
    Accept,
}

impl UnknownOrgPolicy {
    /// The spelling used in scenario files.
    pub fn as_str(&self) -> &'static str {
        match self {
            UnknownOrgPolicy::Reject => "reject",
            UnknownOrgPolicy::Accept => "accept",
        }
    }
}

/// A gateway's finding on the `E911-Organization-ID` header (ICD 5.1.9).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OrgFinding {
    /// Exactly one header with a canonical UUID the gateway serves.
    Ok,
    /// No header.
    Missing,
    /// More than one value (several lines or a comma list).
    Duplicated,
    /// One value that is not a plain canonical UUID (hex-encoded, parameters, garbage).
    Malformed,
    /// One canonical UUID the gateway does not serve.
    Unknown,
}

impl OrgFinding {
    /// Every finding.
    pub const ALL: [OrgFinding; 5] = [
        OrgFinding::Ok,
        OrgFinding::Missing,
        OrgFinding::Duplicated,
        OrgFinding::Malformed,
        OrgFinding::Unknown,
    ];

    /// The lowercase name used in scenario files and reports.
    pub fn as_str(&self) -> &'static str {
        match self {
            OrgFinding::Ok => "ok",
            OrgFinding::Missing => "missing",
            OrgFinding::Duplicated => "duplicated",
            OrgFinding::Malformed => "malformed",
            OrgFinding::Unknown => "unknown",
        }
    }
}

impl fmt::Display for OrgFinding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for OrgFinding {
    type Err = UnknownName;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        OrgFinding::ALL
            .into_iter()
            .find(|f| f.as_str() == s)
            .ok_or_else(|| UnknownName::new("org finding", s))
    }
}

/// A name that is not one of an enum's spellings.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {what} `{given}`")]
#[non_exhaustive]
pub struct UnknownName {
    /// What kind of name was expected.
    pub what: &'static str,
    /// What was given.
    pub given: String,
}

impl UnknownName {
    pub(crate) fn new(what: &'static str, given: &str) -> Self {
        UnknownName {
            what,
            given: given.to_owned(),
        }
    }
}

/// What must be observed about the call. Every field is optional; each present one is a check.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Expect {
    /// Final SIP status the originator must see.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// The gateway that must have produced the final response.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub answered_by: Option<String>,
    /// The organization id the gateway must have recorded (canonical UUID).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub org_id: Option<String>,
    /// The gateway's finding on the org header.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub org_finding: Option<OrgFinding>,
    /// The ANI the gateway must have recorded.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ani: Option<String>,
    /// The header that must have supplied the ANI.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ani_source: Option<AniHeader>,
    /// The exact set of named ANI findings the gateway must record (ICD 5.1.7), in the order
    /// written; `Some([])`: none at all. `None`: the always-on `ani.consistency` check applies.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ani_findings: Option<Vec<crate::ani::AniFinding>>,
    /// The URI form that carried the ANI the gateway recorded (`tel`, `sip-user-phone`, `sip`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ani_form: Option<crate::ani::AniForm>,
    /// The dialled number the gateway read from the Request-URI (ICD 5.2), parameters such as
    /// `phone-context` dropped: `911` for `sip:911;phone-context=+1@gw;user=phone`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dialed: Option<String>,
    /// What the 933 read-back must contain.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub readback: Option<Readback>,
    /// A substring (case-insensitive) the final response's Warning header must contain.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub warning_contains: Option<String>,
    /// Attempts every call must take (1 = answered or rejected by its first gateway).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attempts: Option<u32>,
    /// Bound on the failover time: first INVITE sent to the INVITE sent to the next gateway.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "humantime_serde"
    )]
    pub failover_within: Option<std::time::Duration>,
    /// `true`: no call may reach a second gateway (the first answer was final).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub no_retry: Option<bool>,
    /// The retried INVITE must carry the same org header, ANI headers and SDP offer as the
    /// first. Resolved to `true` when `attempts` > 1 and the file leaves it out.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub identical_retry: Option<bool>,
    /// The random distribution's share of first choices must be within a binomial bound.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub random_split: Option<RandomSplit>,
    /// At most this many calls may fail (no 2xx) because of the outage windows.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outage_failed_max: Option<u32>,
    /// At most this many calls may take the long path (more than one attempt).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub long_path_max: Option<u32>,
    /// Where the gateway routed the call (ICD 5.2): a PSAP id of its location table, or
    /// `"fallback"` for the fallback centre.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub routing: Option<String>,
    /// The exact set of named media findings the media checks must report (ICD 4), when a
    /// scenario injects a media fault on purpose; `None`: every media check must find nothing.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub media_findings: Option<Vec<crate::media::MediaFinding>>,
}

impl Expect {
    /// Whether no check is asked for.
    pub fn is_empty(&self) -> bool {
        self == &Expect::default()
    }
}

/// Fields a 933 read-back must contain. At least one is present.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Readback {
    /// The number read back.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub number: Option<String>,
    /// The registered address read back.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
}

/// Whether `s` is a canonical UUID: 8-4-4-4-12 hex digits (either case), nothing else.
pub fn is_canonical_uuid(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 36
        && b.iter().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => *c == b'-',
            _ => c.is_ascii_hexdigit(),
        })
}
