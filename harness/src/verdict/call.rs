//! The call as the caller experiences it: a final answer at all (`call.final-response`), the
//! expected one (`call.final-status`), the Warning that says why (`response.warning`), the 933
//! read-back (`readback.number`, `readback.address`), a clean end of the dialog
//! (`call.teardown`, RFC 3261), and the media of the SDP exchange (`media.answer` from the
//! trunk's side, `media.offer` as the offer reached each gateway; ICD 4).

use reports::{CheckResult, Outcome};
use scenarios::Scenario;
use sip::HeaderName;

use super::media::{check_answer, describe_offer, offer_problems};
use super::{
    CallEvidence, Setting, compare, normalize_number, outcome, parse_readback, primary, req, result,
};
use crate::evidence::{Failure, TlsFailureKind, Topology};

/// The caller's side of one call.
pub fn judge(scenario: &Scenario, setting: &Setting, c: &CallEvidence<'_>) -> Vec<CheckResult> {
    let mut out = Vec::new();
    let call = c.call;
    let expect = &scenario.expect;
    let requirement = primary(scenario);

    // 1. Did the call produce a final answer at all?
    if let Some(failure) = call.no_answer() {
        out.push(no_final_response(requirement, setting, c, failure));
    }

    // 2. The final status.
    if let Some(status) = expect.status {
        // The reason phrase is shown when a response carried the status (a number-plan
        // refusal has none).
        let observed = call.final_status().map(|s| match call.final_response() {
            Some(r) => format!("{s} {}", r.reason),
            None => s.to_string(),
        });
        let pass = call.final_status() == Some(status);
        out.push(result(
            "call.final-status",
            requirement,
            pass,
            status.to_string(),
            observed.clone().unwrap_or_else(|| "(none)".into()),
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
    if let Some(needle) = &expect.warning_contains {
        let warning = call
            .final_response()
            .and_then(|r| r.headers.get(&HeaderName::Warning));
        let pass = warning_says(warning, needle);
        out.push(result(
            "response.warning",
            requirement,
            pass,
            format!("Warning containing \"{needle}\""),
            warning.unwrap_or("(no Warning header)"),
            if pass {
                "the Warning says why".to_owned()
            } else {
                format!("the final response's Warning does not mention \"{needle}\"")
            },
        ));
    }

    // 3. 933 read-back, from the originator's side (works through any system under test).
    if let Some(rb) = &expect.readback {
        let header = call
            .final_response()
            .and_then(|r| r.headers.get_str("E911-Readback"));
        let (number, address) = header.map(parse_readback).unwrap_or((None, None));
        if let Some(n) = &rb.number {
            let observed = number.as_deref().map(normalize_number);
            out.push(compare(
                "readback.number",
                req::NUMBER_PLAN,
                &normalize_number(n),
                observed.as_deref(),
                "the 933 read-back number",
            ));
        }
        if let Some(a) = &rb.address {
            out.push(compare(
                "readback.address",
                req::NUMBER_PLAN,
                a,
                address.as_deref(),
                "the 933 read-back address (ICD 5.2: the registered address of the caller)",
            ));
        }
    }

    // 4. The answered call: its SDP answer (ICD 4) and how its dialog ended (RFC 3261).
    if let Some(answered) = call.attempts.iter().find(|a| a.end.is_answered()) {
        let body = answered
            .final_response
            .as_ref()
            .map(|r| String::from_utf8_lossy(&r.body).into_owned())
            .unwrap_or_default();
        let problems = if body.is_empty() {
            vec!["2xx carries no SDP answer".to_owned()]
        } else {
            check_answer(&body)
        };
        out.push(result(
            "media.answer",
            req::MEDIA,
            problems.is_empty(),
            "RTP/SAVP, a=crypto, port 30000-60000, G.711",
            if problems.is_empty() {
                "as expected".to_owned()
            } else {
                problems.join("; ")
            },
            if problems.is_empty() {
                "the SDP answer fits the interface".to_owned()
            } else {
                "the SDP answer does not fit the interface".to_owned()
            },
        ));
        if let Some(t) = answered.teardown {
            out.push(result(
                "call.teardown",
                req::SIP,
                t.is_clean(),
                "ACK, then BYE answered 2xx (or the far end's BYE)",
                t.describe(),
                if t.is_clean() {
                    format!("the dialog ended cleanly: {}", t.describe())
                } else {
                    format!(
                        "the answered call did not end cleanly: {} (RFC 3261 §15; through a proxy, check that it routes in-dialog requests: Record-Route)",
                        t.describe()
                    )
                },
            ));
        }
    }
    out
}

/// Whether a Warning header's text mentions `needle`, case aside (`response.warning`).
pub(super) fn warning_says(warning: Option<&str>, needle: &str) -> bool {
    warning.is_some_and(|w| {
        w.to_ascii_lowercase()
            .contains(&needle.to_ascii_lowercase())
    })
}

/// `call.final-response`: no final response at all. A failure the system under test caused
/// (silence, a closed or reset connection, a handshake it refused, a gateway that recorded a
/// fault or a refusal) fails; one that says nothing about it (the harness could not even set
/// up, nothing listens at the first hop, a certificate the run does not trust) is an error.
fn no_final_response(
    requirement: &str,
    setting: &Setting,
    c: &CallEvidence<'_>,
    failure: &Failure,
) -> CheckResult {
    let gateway_acted = c.observations.is_some_and(|obs| {
        obs.iter()
            .any(|o| o.tls_error.is_some() || o.fault.is_some())
    });
    let sut_blamed = match failure {
        Failure::TimedOut | Failure::Closed | Failure::Reset => true,
        // A refused profile is the peer's verdict on the trunk's offer; a certificate the run
        // does not trust is the run's setup, but one that chains to the CA the run trusts and
        // has expired or names another host is the peer's own (RFC 5922).
        Failure::Tls(t) => {
            !t.kind.is_certificate()
                || matches!(
                    t.kind,
                    TlsFailureKind::Expired | TlsFailureKind::NotValidForName
                )
        }
        Failure::Refused | Failure::ConnectTimeout | Failure::Setup => false,
    };
    let blame = if gateway_acted || (sut_blamed && !failure.is_setup()) {
        Outcome::Fail
    } else {
        Outcome::Error
    };
    let details = c.call.path();
    let hint = match (failure, setting.topology) {
        (Failure::Refused | Failure::ConnectTimeout, Topology::ThroughSut | Topology::External) => {
            " (is the system under test running at the address given?)"
        }
        (Failure::Tls(t), Topology::ThroughSut | Topology::External)
            if t.kind == TlsFailureKind::Expired =>
        {
            " (its certificate has expired: the trunk refuses it, ICD 5.1, RFC 5922)"
        }
        (Failure::Tls(t), Topology::ThroughSut | Topology::External)
            if t.kind == TlsFailureKind::NotValidForName =>
        {
            " (its certificate does not name the host the trunk calls: the trunk refuses it, ICD 5.1, RFC 5922)"
        }
        (Failure::Tls(t), Topology::ThroughSut | Topology::External) if t.kind.is_certificate() => {
            " (the run does not trust the system under test's certificate: give the CA that issued it, or the certificate itself, with --sut-ca/--ca)"
        }
        _ => "",
    };
    outcome(
        "call.final-response",
        requirement,
        blame,
        Some("a final response".into()),
        Some(failure.describe()),
        format!("no final response: {details}{hint}"),
    )
}

/// `media.offer` (ICD 4): the SDP offer as it reached each gateway: RTP/SAVP with an SDES key,
/// a media port in 30000-60000, G.711. Judged at the gateways, so a system under test that
/// rewrites the offer is caught.
pub fn judge_offer(c: &CallEvidence<'_>) -> Vec<CheckResult> {
    let offers: Vec<_> = c
        .invites()
        .into_iter()
        .filter_map(|o| o.media.as_ref().map(|m| (o.gateway.as_str(), m)))
        .collect();
    let Some((_, first)) = offers.first() else {
        return Vec::new();
    };
    let bad = offers
        .iter()
        .map(|(g, m)| (*g, m, offer_problems(m)))
        .find(|(_, _, p)| !p.is_empty());
    vec![match bad {
        None => result(
            "media.offer",
            req::MEDIA,
            true,
            "RTP/SAVP with a=crypto, port 30000-60000, G.711",
            describe_offer(first),
            "the offer that reached the gateway fits the interface",
        ),
        Some((g, m, problems)) => result(
            "media.offer",
            req::MEDIA,
            false,
            "RTP/SAVP with a=crypto, port 30000-60000, G.711",
            describe_offer(m),
            format!("the offer that reached {g}: {}", problems.join("; ")),
        ),
    }]
}
