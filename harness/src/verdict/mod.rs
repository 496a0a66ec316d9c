//! Verdicts: pure functions from (scenario expectations, the originator's [`Call`]s, the
//! gateways' [`Observation`]s, the run's [`Setting`]) to check results. No I/O, no clocks, no
//! error text read back: every check here is unit-tested on its pass, fail and error sides.
//!
//! Outcomes follow the report model: `Fail` means the system under test broke an expectation,
//! `Error` means the harness or the infrastructure could not produce evidence, `Skipped` means
//! the topology cannot observe it (no gateway observations when the target is external, a TCP
//! leg where a TLS property is asked for), with the reason in the message. No gateway-side
//! check ever passes without gateway evidence.
//!
//! Every check names the requirement it proves ([`req`]); `call.final-status`,
//! `call.final-response` and `response.warning` prove the scenario's first requirement.
//!
//! # Layout
//! - [`call`]: the final response, the Warning, the 933 read-back, the teardown (RFC 3261).
//! - [`cancel`]: an abandoned call (the caller hangs up unanswered) is CANCELled at every
//!   gateway it reached (RFC 3261).
//! - [`media`]: the SDP answer and the offer as it reached the gateway (ICD 4).
//! - [`media_flow`]: the RTP/SRTP that flowed on answered calls, both directions (ICD 4), and
//!   the 933 read-back heard as audio (ICD 5.2).
//! - [`identity`]: the org header (ICD 5.1.9), the ANI and caller selection (ICD 5.1.7), the
//!   dialled number (ICD 5.2).
//! - [`location`]: location-table routing (ICD 5.2), location by value (RFC 6442, RFC 4119).
//! - [`number_plan`]: non-emergency numbers never reach a gateway (ICD 5.2); 911/933 go to gw1
//!   first whenever it is healthy (ICD 5.1.6).
//! - [`tls`]: TLS on the leg each requirement belongs to (ICD 5.1, 5.1.2, RFC 5922).
//! - [`route`]: failover across gw1/gw2 (ICD 5.3), judged at the trunk when the harness is the
//!   trunk and at the gateways when a system under test fails over ([`path`]); [`fingerprint`]
//!   is what a retry must keep.
//! - [`originator`]: a real originator's call, judged from what the gateways answered it
//!   (final answer, Warning, 933 read-back, teardown) and the caller-selection step its ANI
//!   comes from; [`probing`]: its OPTIONS probing of the gateways (ICD 5.1.3).

use std::time::Duration;

use reports::{CheckResult, Observation, Outcome};
use scenarios::Scenario;
use sip::transport::TransportKind;

use crate::evidence::{Call, Topology, Transition};

pub mod call;
pub mod cancel;
pub mod fingerprint;
pub mod identity;
pub mod location;
pub mod media;
pub mod media_flow;
pub mod number_plan;
pub mod originator;
pub mod path;
pub mod probing;
pub mod route;
pub mod tls;

/// The requirement id each check family proves.
pub mod req {
    /// Signalling and media.
    pub const MEDIA: &str = "ICD 4";
    /// The trunk's TLS profile.
    pub const TLS_PROFILE: &str = "ICD 5.1";
    /// The trunk's protocol is TLS.
    pub const TLS: &str = "ICD 5.1.2";
    /// The trunk is in service (OPTIONS).
    pub const IN_SERVICE: &str = "ICD 5.1.3";
    /// gw1 and gw2, an ordered pair.
    pub const GATEWAYS: &str = "ICD 5.1.6";
    /// The ANI and caller selection.
    pub const ANI: &str = "ICD 5.1.7";
    /// The organization header.
    pub const ORG: &str = "ICD 5.1.9";
    /// The number plan and the 933 read-back.
    pub const NUMBER_PLAN: &str = "ICD 5.2";
    /// Outbound route and failover.
    pub const ROUTE: &str = "ICD 5.3";
    /// SIP itself.
    pub const SIP: &str = "RFC 3261";
    /// TLS server identity.
    pub const IDENTITY: &str = "RFC 5922";
    /// Location conveyance.
    pub const BY_VALUE: &str = "RFC 6442";
    /// The PIDF-LO location object.
    pub const PIDF_LO: &str = "RFC 4119";
}

/// How the run is set up, as far as the verdicts need it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Setting {
    /// Who stands between the harness and the gateways.
    pub topology: Topology,
    /// The trunk's leg: what the harness speaks to its first hop.
    pub trunk_leg: TransportKind,
    /// What the embedded gateways listen on (`None`: no embedded gateways).
    pub gateway_leg: Option<TransportKind>,
    /// Through a system under test: its own per-gateway INVITE timeout, after which it fails
    /// over from a silent gateway (failover-time bounds after silence allow for it).
    pub sut_attempt_timeout: Duration,
}

impl Setting {
    /// The direct topology over `transport`.
    pub fn direct(transport: TransportKind) -> Setting {
        Setting {
            topology: Topology::Direct,
            trunk_leg: transport,
            gateway_leg: Some(transport),
            sut_attempt_timeout: Duration::ZERO,
        }
    }
}

/// One call and what the gateways saw of it.
#[derive(Debug, Clone, Copy)]
pub struct CallEvidence<'a> {
    /// What the originator saw.
    pub call: &'a Call,
    /// The gateways' observations of this call: its INVITEs and in-dialog requests at every
    /// gateway, and, when the scenario placed one call, the connection events during it.
    /// `None` when the topology has no embedded gateways.
    pub observations: Option<&'a [Observation]>,
}

impl CallEvidence<'_> {
    /// The new INVITEs (no retransmissions) the gateways received for this call, in arrival
    /// order; empty without gateway evidence.
    pub fn invites(&self) -> Vec<&Observation> {
        let mut v: Vec<&Observation> = self
            .observations
            .unwrap_or_default()
            .iter()
            .filter(|o| o.is_new_invite())
            .collect();
        v.sort_by_key(|o| o.at_us);
        v
    }

    /// The first INVITE a gateway received.
    pub fn first_invite(&self) -> Option<&Observation> {
        self.invites().into_iter().next()
    }
}

/// Everything the verdict of one scenario looks at.
#[derive(Debug, Clone, Copy)]
pub struct Evidence<'a> {
    /// How the run is set up.
    pub setting: &'a Setting,
    /// The scenario's calls, in order.
    pub calls: &'a [CallEvidence<'a>],
    /// Everything the gateways observed while the scenario ran, whether a call claims it or
    /// not; `None` without embedded gateways.
    pub scenario_observations: Option<&'a [Observation]>,
    /// Health state changes during the scenario (OPTIONS probing by the trunk).
    pub transitions: &'a [Transition],
}

/// Judges one scenario: the per-call checks (merged over the calls), then the checks over
/// all its calls. The order of the returned checks is stable.
pub fn judge(scenario: &Scenario, ev: &Evidence<'_>) -> Vec<CheckResult> {
    let per_call: Vec<Vec<CheckResult>> = ev
        .calls
        .iter()
        .map(|c| judge_call(scenario, ev.setting, c))
        .collect();
    let mut out = route::merge_calls(per_call);
    out.extend(number_plan::not_forwarded(scenario, ev));
    out.extend(tls::judge_identity(scenario, ev));
    out.extend(route::judge(scenario, ev));
    out
}

/// The checks of one call.
pub fn judge_call(
    scenario: &Scenario,
    setting: &Setting,
    c: &CallEvidence<'_>,
) -> Vec<CheckResult> {
    let mut out = Vec::new();
    match setting.topology {
        // The originator's side is not observed: the call as the gateways answered it.
        Topology::Originator => out.extend(originator::judge_call(scenario, c)),
        _ => out.extend(call::judge(scenario, setting, c)),
    }
    out.extend(tls::judge_call(setting, &scenario.call.tls, c));
    out.extend(cancel::judge(setting, c));
    out.extend(identity::judge(scenario, setting, c));
    out.extend(location::judge(scenario, c));
    out.extend(call::judge_offer(c));
    out.extend(media_flow::judge(scenario, setting, c));
    out.extend(media_flow::readback_audio(scenario, c));
    out.extend(number_plan::gateway_order(scenario, setting, c));
    out
}

/// A check that passed or failed.
pub fn result(
    id: &str,
    requirement: &str,
    pass: bool,
    expected: impl Into<String>,
    observed: impl Into<String>,
    message: impl Into<String>,
) -> CheckResult {
    outcome(
        id,
        requirement,
        if pass { Outcome::Pass } else { Outcome::Fail },
        Some(expected.into()),
        Some(observed.into()),
        message,
    )
}

/// A check with the given outcome.
pub fn outcome(
    id: &str,
    requirement: &str,
    outcome: Outcome,
    expected: Option<String>,
    observed: Option<String>,
    message: impl Into<String>,
) -> CheckResult {
    CheckResult {
        id: id.to_owned(),
        requirement: Some(requirement.to_owned()),
        outcome,
        expected,
        observed,
        message: message.into(),
    }
}

/// A check the topology cannot judge, with the reason.
pub fn skipped(id: &str, requirement: &str, expected: Option<String>, why: &str) -> CheckResult {
    outcome(id, requirement, Outcome::Skipped, expected, None, why)
}

/// Why gateway-side checks are skipped in a topology without embedded gateways.
pub const NO_GATEWAYS: &str = "no gateway evidence: the target is external, so what reached the E911 gateways cannot be observed (run with embedded gateways, or `certify --sut` to put them behind the system under test)";

/// The requirement the scenario's own checks (final status, Warning) prove: its first one.
pub fn primary(scenario: &Scenario) -> &str {
    scenario
        .requirements
        .first()
        .map_or(req::SIP, String::as_str)
}

/// `value` as expected-versus-observed text, or a pass/fail with both.
pub fn compare(
    id: &str,
    requirement: &str,
    expected: &str,
    observed: Option<&str>,
    what: &str,
) -> CheckResult {
    let pass = observed == Some(expected);
    let message = if pass {
        format!("{what} is {expected}")
    } else {
        match observed {
            Some(o) => format!("{what} is {o}, expected {expected}"),
            None => format!("{what} was not observed, expected {expected}"),
        }
    };
    result(
        id,
        requirement,
        pass,
        expected,
        observed.unwrap_or("(none)"),
        message,
    )
}

/// Digits and a leading `+` only, so `+1 (312) 555-0100` and `+13125550100` compare equal.
pub fn normalize_number(n: &str) -> String {
    n.chars()
        .filter(|c| c.is_ascii_digit() || *c == '+' || *c == '*' || *c == '#')
        .collect()
}

/// Parses `E911-Readback: number=...;address="..."` into (number, address).
pub fn parse_readback(value: &str) -> (Option<String>, Option<String>) {
    let mut number = None;
    let mut address = None;
    for part in value.split(';') {
        let Some((k, v)) = part.trim().split_once('=') else {
            continue;
        };
        let v = v.trim().trim_matches('"').to_owned();
        match k.trim().to_ascii_lowercase().as_str() {
            "number" => number = Some(v),
            "address" => address = Some(v),
            _ => {}
        }
    }
    (number, address)
}

#[cfg(test)]
mod tests;
