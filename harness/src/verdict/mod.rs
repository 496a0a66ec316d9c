//! Verdicts: pure functions from (scenario expectations, what the originator saw, what the
//! gateways observed) to check results. No I/O, no clocks: every check here is unit-tested on
//! both its pass and its fail side.
//!
//! Outcomes follow the report model: `Fail` means the system under test broke an expectation,
//! `Error` means the harness or the infrastructure could not produce evidence (for example the
//! TLS connection to an embedded gateway failed), `Skipped` means the topology cannot observe
//! it (no gateway observations when the target is an external system).

use mock_gateway::Observation;
use reports::{CheckResult, Outcome};
use scenarios::Scenario;

use crate::originate::sdp;
use crate::originate::uac::CallOutcome;

pub mod conformance;
pub mod route;
pub mod tls;

/// The requirement id each check family proves.
mod req {
    pub const ORG: &str = "ICD 5.1.9";
    pub const ANI: &str = "ICD 5.1.7";
    pub const GATEWAYS: &str = "ICD 5.1.6";
    pub const NUMBER_PLAN: &str = "ICD 5.2";
    pub const MEDIA: &str = "ICD 4";
}

/// Everything the verdict needs about one call.
#[derive(Debug)]
pub struct Evidence<'a> {
    /// What the originator saw.
    pub call: &'a CallOutcome,
    /// The gateways' observations of this call (matched by Call-ID), or `None` when the topology
    /// has no embedded gateways to observe it.
    pub observations: Option<&'a [Observation]>,
}

fn check(
    id: &str,
    requirement: Option<&str>,
    outcome: Outcome,
    expected: Option<String>,
    observed: Option<String>,
    message: impl Into<String>,
) -> CheckResult {
    CheckResult {
        id: id.to_owned(),
        requirement: requirement.map(str::to_owned),
        outcome,
        expected,
        observed,
        message: message.into(),
    }
}

fn compare(
    id: &str,
    requirement: Option<&str>,
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
    check(
        id,
        requirement,
        if pass { Outcome::Pass } else { Outcome::Fail },
        Some(expected.to_owned()),
        Some(observed.unwrap_or("(none)").to_owned()),
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

/// Judges one scenario's call. The order of the returned checks is stable.
pub fn judge(scenario: &Scenario, ev: &Evidence<'_>) -> Vec<CheckResult> {
    let mut out = Vec::new();
    let record = &ev.call.record;
    let expect = &scenario.expect;

    // 1. Did the call produce a final answer at all?
    if let Some(err) = &record.error
        && record.final_status.is_none()
    {
        let transport_problem = record
            .attempts
            .iter()
            .all(|a| a.status.is_none() && a.error.is_some());
        let timed_out = err.contains("no final response");
        // A gateway that refused the trunk's TLS handshake judged the trunk's offer: the
        // system under test failed, the harness did not.
        let refused_by_gateway = ev
            .observations
            .is_some_and(|obs| obs.iter().any(|o| o.tls_error.is_some()));
        out.push(check(
            "call.final-response",
            None,
            if timed_out || refused_by_gateway || !transport_problem {
                Outcome::Fail
            } else {
                Outcome::Error
            },
            Some("a final response".into()),
            Some("(none)".into()),
            format!("no final response: {err}"),
        ));
    }

    // 2. Final status and who answered.
    if let Some(status) = expect.status {
        let observed = record.final_status.map(|s| match &record.final_reason {
            Some(r) => format!("{s} {r}"),
            None => s.to_string(),
        });
        let pass = record.final_status == Some(status);
        out.push(check(
            "call.final-status",
            None,
            if pass { Outcome::Pass } else { Outcome::Fail },
            Some(status.to_string()),
            Some(observed.clone().unwrap_or_else(|| "(none)".into())),
            if pass {
                format!("final response {status}")
            } else {
                format!(
                    "final response was {}, expected {status}",
                    observed.unwrap_or_else(|| "none".into())
                )
            },
        ));
    }
    if let Some(gw) = &expect.answered_by {
        out.push(compare(
            "route.answered-by",
            Some(req::GATEWAYS),
            gw,
            record.answered_by.as_deref(),
            "the answering gateway",
        ));
    }
    if let Some(needle) = &expect.warning_contains {
        let warning = record
            .attempts
            .iter()
            .rev()
            .find_map(|a| a.warning.as_deref());
        let pass = warning.is_some_and(|w| {
            w.to_ascii_lowercase()
                .contains(&needle.to_ascii_lowercase())
        });
        out.push(check(
            "response.warning",
            None,
            if pass { Outcome::Pass } else { Outcome::Fail },
            Some(format!("Warning containing \"{needle}\"")),
            Some(warning.unwrap_or("(no Warning header)").to_owned()),
            if pass {
                "the Warning says why".to_owned()
            } else {
                format!("the final response's Warning does not mention \"{needle}\"")
            },
        ));
    }

    // 3. 933 read-back, from the originator's side (works through any system under test).
    if let Some(rb) = &expect.readback {
        let header = ev
            .call
            .final_response
            .as_ref()
            .and_then(|r| r.headers.get_str("E911-Readback"));
        let (number, address) = header.map(parse_readback).unwrap_or((None, None));
        if let Some(n) = &rb.number {
            let observed = number.as_deref().map(normalize_number);
            out.push(compare(
                "readback.number",
                Some(req::NUMBER_PLAN),
                &normalize_number(n),
                observed.as_deref(),
                "the 933 read-back number",
            ));
        }
        if let Some(a) = &rb.address {
            out.push(compare(
                "readback.address",
                Some(req::NUMBER_PLAN),
                a,
                address.as_deref(),
                "the 933 read-back address (ICD 5.2: the registered address of the caller)",
            ));
        }
    }

    // 4. Media offer/answer (ICD 4) on answered calls.
    if record.final_status.is_some_and(|s| (200..300).contains(&s)) {
        let problems = &ev.call.answer_problems;
        out.push(check(
            "media.answer",
            Some(req::MEDIA),
            if problems.is_empty() {
                Outcome::Pass
            } else {
                Outcome::Fail
            },
            Some("RTP/SAVP, a=crypto, port 30000-60000, G.711".into()),
            Some(if problems.is_empty() {
                "as expected".into()
            } else {
                problems.join("; ")
            }),
            if problems.is_empty() {
                "the SDP answer fits the interface".to_owned()
            } else {
                "the SDP answer does not fit the interface".to_owned()
            },
        ));
    }

    // 5. TLS (ICD 5.1, 5.1.2): over TLS, and the trunk's TLS profile.
    out.extend(crate::verdict::tls::judge_tls(record, ev.observations));

    // 6. What the gateway saw (org header, ANI), and the media offer as it arrived there.
    judge_gateway_side(scenario, ev, &mut out);
    out.extend(crate::verdict::conformance::judge_caller(scenario, ev));
    out.extend(crate::verdict::conformance::judge_ani(scenario, ev));
    out.extend(crate::verdict::conformance::judge_routing(scenario, ev));
    out.extend(crate::verdict::conformance::judge_location_by_value(
        scenario, ev,
    ));
    judge_offer(ev, &mut out);
    out
}

/// The SDP offer as it reached the gateway (ICD 4): RTP/SAVP with an SDES key, a media port
/// in 30000-60000, G.711. Judged at the gateway, so an SBC that rewrites the offer is caught.
fn judge_offer(ev: &Evidence<'_>, out: &mut Vec<CheckResult>) {
    let Some(media) = ev
        .observations
        .and_then(|obs| {
            obs.iter()
                .find(|o| o.method == "INVITE" && !o.retransmission)
        })
        .and_then(|o| o.media.as_ref())
    else {
        return;
    };
    let mut problems = Vec::new();
    if media.offered_proto != "RTP/SAVP" {
        problems.push(format!(
            "profile {} instead of RTP/SAVP",
            media.offered_proto
        ));
    } else if !media.srtp {
        problems.push("no usable a=crypto (SDES) line".to_owned());
    }
    if !(sdp::MEDIA_PORT_MIN..=sdp::MEDIA_PORT_MAX).contains(&media.offered_port) {
        problems.push(format!(
            "media port {} outside {}-{}",
            media.offered_port,
            sdp::MEDIA_PORT_MIN,
            sdp::MEDIA_PORT_MAX
        ));
    }
    if media.codec.is_empty() {
        problems.push("no G.711 (PCMU/PCMA) offered".to_owned());
    }
    let observed = format!(
        "{} port {}{}{}",
        media.offered_proto,
        media.offered_port,
        if media.srtp { ", SDES" } else { "" },
        if media.codec.is_empty() {
            String::new()
        } else {
            format!(", {}", media.codec)
        }
    );
    out.push(check(
        "media.offer",
        Some(req::MEDIA),
        if problems.is_empty() {
            Outcome::Pass
        } else {
            Outcome::Fail
        },
        Some("RTP/SAVP with a=crypto, port 30000-60000, G.711".into()),
        Some(observed),
        if problems.is_empty() {
            "the offer that reached the gateway fits the interface".to_owned()
        } else {
            format!(
                "the offer that reached the gateway: {}",
                problems.join("; ")
            )
        },
    ));
}

fn judge_gateway_side(scenario: &Scenario, ev: &Evidence<'_>, out: &mut Vec<CheckResult>) {
    let expect = &scenario.expect;
    let wants_gateway = expect.org_id.is_some()
        || expect.org_finding.is_some()
        || expect.ani.is_some()
        || expect.ani_source.is_some();
    if !wants_gateway {
        return;
    }
    let Some(observations) = ev.observations else {
        let msg =
            "no gateway observations in this topology (the target is not an embedded gateway)";
        for (id, r, wanted) in [
            ("org-header.finding", req::ORG, expect.org_finding.is_some()),
            ("org-header.value", req::ORG, expect.org_id.is_some()),
            ("ani.number", req::ANI, expect.ani.is_some()),
            ("ani.source", req::ANI, expect.ani_source.is_some()),
        ] {
            if wanted {
                out.push(check(id, Some(r), Outcome::Skipped, None, None, msg));
            }
        }
        return;
    };
    let invite = observations.iter().find(|o| o.method == "INVITE");
    let Some(invite) = invite else {
        out.push(check(
            "gateway.received-invite",
            Some(req::GATEWAYS),
            if ev.call.record.error.is_some() && ev.call.record.final_status.is_none() {
                Outcome::Error
            } else {
                Outcome::Fail
            },
            Some("the INVITE observed at a gateway".into()),
            Some("no INVITE observed".into()),
            "the INVITE never reached a gateway, so the org header and ANI could not be checked",
        ));
        return;
    };
    if let Some(finding) = &expect.org_finding {
        let observed = invite.org.as_ref();
        let pass = observed.is_some_and(|o| &o.finding == finding);
        let obs_text = observed
            .map(|o| format!("{} ({})", o.finding.as_str(), o.detail))
            .unwrap_or_else(|| "(not checked)".into());
        out.push(check(
            "org-header.finding",
            Some(req::ORG),
            if pass { Outcome::Pass } else { Outcome::Fail },
            Some(finding.as_str().to_owned()),
            Some(obs_text.clone()),
            if pass {
                format!(
                    "the gateway found the E911-Organization-ID {}",
                    finding.as_str()
                )
            } else {
                format!(
                    "the gateway's finding on E911-Organization-ID is {obs_text}, expected {}",
                    finding.as_str()
                )
            },
        ));
    }
    if let Some(org) = &expect.org_id {
        let values = invite
            .org
            .as_ref()
            .map(|o| o.values.clone())
            .unwrap_or_default();
        let pass = values.len() == 1 && values[0].eq_ignore_ascii_case(org);
        let observed = if values.is_empty() {
            "(no header)".to_owned()
        } else {
            values.join(" | ")
        };
        out.push(check(
            "org-header.value",
            Some(req::ORG),
            if pass { Outcome::Pass } else { Outcome::Fail },
            Some(org.clone()),
            Some(observed.clone()),
            if pass {
                "exactly one E911-Organization-ID with the expected org".to_owned()
            } else {
                format!(
                    "E911-Organization-ID at the gateway was {observed}, expected exactly one {org}"
                )
            },
        ));
    }
    if let Some(ani) = &expect.ani {
        let observed = invite.ani.as_ref().map(|a| normalize_number(&a.number));
        out.push(compare(
            "ani.number",
            Some(req::ANI),
            &normalize_number(ani),
            observed.as_deref(),
            "the ANI at the gateway",
        ));
    }
    if let Some(src) = &expect.ani_source {
        let observed = invite.ani.as_ref().map(|a| a.source.as_str());
        out.push(compare(
            "ani.source",
            Some(req::ANI),
            src.header_name(),
            observed,
            "the header that supplied the ANI",
        ));
    }
}

#[cfg(test)]
mod tests;
