//! What a mock gateway saw, one [`Observation`] per request (or per connection event): the raw
//! facts (headers, body, peer, TLS parameters, the connection it came on) and the gateway's
//! findings (org header, ANI, dialled number, read-back, media), with the status it answered.
//! The gateway records; it does not judge (verdicts live in `harness`). The same type goes into
//! [`crate::ScenarioReport::observations`], so `report.json` carries it typed end to end.
//!
//! Times are microseconds since the run's epoch, one clock shared by the gateways and the
//! originator of a run, so what the trunk sent and what each gateway received line up.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// One request as the gateway received and answered it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Observation {
    /// Gateway name (`gw1`).
    pub gateway: String,
    /// Order of arrival at this gateway, from 1.
    pub seq: u64,
    /// Milliseconds since the gateway started.
    pub at_ms: u64,
    /// Microseconds since the run's epoch (shared with the originator and the other gateway).
    #[serde(default)]
    pub at_us: u64,
    /// The connection it arrived on: 1-based, in accept order at this gateway (0: unknown).
    #[serde(default)]
    pub conn: u64,
    /// Peer socket address.
    pub peer: String,
    /// `TCP` or `TLS`.
    pub transport: String,
    /// Negotiated TLS parameters (TLS only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls: Option<crate::TlsInfo>,
    /// Request method (for an unparseable request: the salvaged method, or empty).
    pub method: String,
    /// Request-URI as written (empty when it could not be read).
    pub request_uri: String,
    /// Call-ID.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub call_id: Option<String>,
    /// CSeq value as written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cseq: Option<String>,
    /// Every header line, in order, name as canonical or as written.
    #[serde(default)]
    pub headers: Vec<(String, String)>,
    /// The body as text (invalid UTF-8 replaced), at most [`BODY_KEEP`] bytes of it; `None`
    /// when there was none or the gateway keeps no copies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    /// The dialled number (Request-URI user, `urn:service:sos` counts as `911`), normalised.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dialed: Option<String>,
    /// The `E911-Organization-ID` finding (INVITE only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub org: Option<OrgObservation>,
    /// The ANI and the header that supplied it (INVITE only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ani: Option<AniObservation>,
    /// The 933 read-back placed in the 200 OK.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub readback: Option<ReadbackObservation>,
    /// The final status answered (`None` for ACK and for requests that are not answered).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response: Option<u16>,
    /// The Warning text sent with the answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warning: Option<String>,
    /// Where an answered emergency call went: `psap` or `fallback centre`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub routing: Option<String>,
    /// Why the request could not be parsed (position and reason).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parse_error: Option<String>,
    /// What the SDP offer asked for and what was answered (INVITE with a body).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media: Option<MediaObservation>,
    /// The request repeats one already answered (same transaction) and got the stored answer.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub retransmission: bool,
    /// The injected fault that decided the answer (`scenarios::FaultKind::label`, or
    /// `capacity 503 q850=34`); `None` when the gateway behaved normally.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fault: Option<String>,
    /// Location by value (RFC 6442), when the INVITE carried a Geolocation header.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<LocationObservation>,
    /// Why the gateway's TLS handshake with this peer failed (a connection-level observation:
    /// no request was read, `method` is empty).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls_error: Option<String>,
    /// The connection-level fault the request's connection was accepted under (a TLS
    /// certificate fault the peer accepted anyway): set on every request of that connection.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connection_fault: Option<String>,
    /// On the BYE of an answered call carrying media: the gateway's media for the call (what
    /// it sent, and what it received from the other side).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_flow: Option<crate::MediaLeg>,
}

/// How much of a request body an observation keeps.
pub const BODY_KEEP: usize = 8 * 1024;

impl Observation {
    /// Whether this is a connection event (a fault on accept, a refused handshake), not a
    /// request.
    pub fn is_connection_event(&self) -> bool {
        self.method.is_empty()
    }

    /// Whether this is a new INVITE (not a retransmission).
    pub fn is_new_invite(&self) -> bool {
        self.method == "INVITE" && !self.retransmission
    }

    /// Whether the gateway answered this request with a 2xx.
    pub fn answered_2xx(&self) -> bool {
        self.response.is_some_and(|s| (200..300).contains(&s))
    }

    /// The values of header `name` (case-insensitive), in order.
    pub fn header_values<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.headers
            .iter()
            .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Location conveyed by value (RFC 6442) in an INVITE, as `sip::location::check` read it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct LocationObservation {
    /// The civic address read, on one line (`sip::location::Civic::one_line`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub civic: Option<String>,
    /// The `Geolocation-Routing` value, lower case.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub routing: Option<String>,
    /// Everything wrong or missing; empty when the location is usable.
    #[serde(default)]
    pub findings: Vec<String>,
}

/// The gateway's finding on the `E911-Organization-ID` header.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct OrgObservation {
    /// The finding (`ok`, `missing`, `duplicated`, `malformed`, `unknown`).
    #[schemars(with = "String")]
    pub finding: scenarios::OrgFinding,
    /// Every value received (one per header line, comma lists split), as written.
    pub values: Vec<String>,
    /// A sentence saying what exactly was found (which parameter, how many lines).
    pub detail: String,
}

/// The calling number and the header it came from, with the raw facts about the caller
/// identity headers and the gateway's named findings on them (ICD 5.1.7). Recorded, not
/// judged: the harness decides which findings a scenario may have.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct AniObservation {
    /// The number, visual separators removed (`+13125550100`).
    pub number: String,
    /// The header that supplied it (`P-Asserted-Identity`, `Remote-Party-ID`, `From`).
    pub source: String,
    /// The URI form that carried the number (`tel`, `sip-user-phone`, `sip`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<String>")]
    pub form: Option<scenarios::AniForm>,
    /// The From identity (with or without a number: `sip:anonymous@...` has none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<Identity>,
    /// Every P-Asserted-Identity URI, in order (header lines and comma lists alike).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pai: Vec<Identity>,
    /// The `Privacy` header values as written (RFC 3323), joined with `, `.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub privacy: Option<String>,
    /// The named findings, each with a sentence saying what was seen; empty when none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub findings: Vec<AniFindingRecord>,
}

/// One caller identity URI as it arrived.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Identity {
    /// The URI as written (`tel:+13125550100`, `sip:3125550100@trunk;user=phone`).
    pub uri: String,
    /// Its form, when it is a sip, sips or tel URI.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<String>")]
    pub form: Option<scenarios::AniForm>,
    /// The number it carries, visual separators removed; `None` when it holds no digit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub number: Option<String>,
    /// The number in E.164 form ([`scenarios::e164`]), when it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub e164: Option<String>,
}

/// A named ANI finding and what exactly was seen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct AniFindingRecord {
    /// The finding.
    #[schemars(with = "String")]
    pub finding: scenarios::AniFinding,
    /// What was seen, raw and normalised values included.
    pub detail: String,
}

/// The read-back a 933 test call receives in its 200 OK (`E911-Readback`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ReadbackObservation {
    /// The number read back.
    pub number: String,
    /// The registered address read back, when the gateway knows one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
}

/// The media negotiation of an INVITE's SDP offer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct MediaObservation {
    /// Transport protocol of the offered audio stream (`RTP/SAVP`, `RTP/AVP`).
    pub offered_proto: String,
    /// Whether the offer asked for SRTP with SDES keys (RTP/SAVP and a usable `a=crypto`).
    pub srtp: bool,
    /// Offered media port.
    pub offered_port: u16,
    /// The codec answered (`PCMU` or `PCMA`), empty when the offer was refused.
    pub codec: String,
    /// The SDES crypto suite answered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crypto_suite: Option<String>,
    /// The media port answered (30000-60000).
    pub answer_port: u16,
    /// Why the offer could not be answered, when it could not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refused: Option<String>,
}
