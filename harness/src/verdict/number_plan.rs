//! The number plan and the gateway order, from what the gateways received:
//! - `route.not-forwarded` (ICD 5.2): a call to anything but 911/933 (an access code in front
//!   of 911, a 1 or +1 prefix, an ordinary number) never reaches an E911 gateway, whatever
//!   answer the caller got: a gateway that answers 404 itself is still a number plan that
//!   forwarded it. Judged on every such call, in every topology with gateways.
//! - `route.gateway-order` (ICD 5.1.6): 911 and 933 go to gw1 first, and only to gw1, whenever
//!   gw1 is healthy (no fault, capacity cap or outage on it in the scenario) and the route is
//!   Sequential: judged on every scenario where that holds, so a system under test that sends
//!   933 (or any call) to gw2 first, or spreads calls over both, fails it. A gw1 that released
//!   the call itself (refused it, answered a retryable status) makes gw2 a failover, which the
//!   ICD 5.3 checks judge.

use reports::{CheckResult, Observation, Outcome};
use scenarios::{Distribution, Scenario, is_emergency_number};

use super::{CallEvidence, Evidence, NO_GATEWAYS, Setting, outcome, req, result, skipped};
use crate::evidence::{AttemptEnd, Failure, Topology};

/// The gateway the ordered pair starts with.
const PRIMARY: &str = "gw1";

/// `route.not-forwarded` for a scenario that dials a non-emergency number.
pub fn not_forwarded(scenario: &Scenario, ev: &Evidence<'_>) -> Option<CheckResult> {
    let dial = &scenario.call.dial;
    if is_emergency_number(dial) {
        return None;
    }
    let expected = format!("no E911 gateway receives a call to {dial}");
    let Some(observed) = ev.scenario_observations else {
        return Some(skipped(
            "route.not-forwarded",
            req::NUMBER_PLAN,
            Some(expected),
            NO_GATEWAYS,
        ));
    };
    let reached: Vec<&Observation> = observed.iter().filter(|o| o.is_new_invite()).collect();
    Some(match reached.first() {
        None => result(
            "route.not-forwarded",
            req::NUMBER_PLAN,
            true,
            expected,
            "no gateway received it",
            format!(
                "{dial} is not an emergency number and no E911 gateway received it{}",
                refused_by(ev)
            ),
        ),
        Some(o) => result(
            "route.not-forwarded",
            req::NUMBER_PLAN,
            false,
            expected,
            format!("{} received INVITE {}", o.gateway, o.request_uri),
            format!(
                "{dial} is not an emergency number, yet {} received its INVITE ({}){}: the number plan must keep every number but 911 and 933 away from the E911 gateways (ICD 5.2)",
                o.gateway,
                o.request_uri,
                o.response
                    .map(|s| format!(" and answered {s}"))
                    .unwrap_or_default()
            ),
        ),
    })
}

/// Who refused the call, for the passing message.
fn refused_by(ev: &Evidence<'_>) -> String {
    let Some(c) = ev.calls.first() else {
        return String::new();
    };
    match (ev.setting.topology, c.call.final_status()) {
        (Topology::Direct, Some(s)) => format!(" (the trunk's number plan refused it: {s})"),
        (_, Some(s)) => format!(" (the system under test answered {s})"),
        (_, None) => String::new(),
    }
}

/// Whether `gw1` is healthy throughout `scenario`: no fault, capacity cap or outage on it.
pub fn primary_healthy(scenario: &Scenario) -> bool {
    scenario.faults.iter().all(|f| f.gateway != PRIMARY)
        && scenario.gateway.state(PRIMARY) == Default::default()
}

/// Whether the scenario's calls are meant to go to gw1 first: a Sequential route starting at
/// gw1, or no route and the call addressed to gw1.
fn sequential_from_primary(scenario: &Scenario) -> bool {
    match &scenario.route {
        Some(r) => {
            r.distribution == Distribution::Sequential
                && r.gateways.first().map(String::as_str) == Some(PRIMARY)
        }
        None => scenario.call.gateway == PRIMARY,
    }
}

/// One gateway a call reached (or tried to).
struct Contact<'a> {
    gateway: &'a str,
    status: Option<u16>,
    invite: bool,
    /// Whether this contact released the call to the next gateway (ICD 5.3): no final answer
    /// (transport failure, refused handshake, silence) or a retryable answer. A healthy gw1
    /// does neither, but a gw1 that did is judged by the failover checks, not by the order.
    releases: bool,
}

/// `route.gateway-order` for one call, where it applies.
pub fn gateway_order(
    scenario: &Scenario,
    setting: &Setting,
    c: &CallEvidence<'_>,
) -> Option<CheckResult> {
    if !is_emergency_number(&scenario.call.dial)
        || !primary_healthy(scenario)
        || !sequential_from_primary(scenario)
    {
        return None;
    }
    let dial = scenarios::dialled_number(&scenario.call.dial);
    let route = scenario.route.clone().unwrap_or_default();
    let expected = format!("{dial} to {PRIMARY} first, and only to {PRIMARY}, while it is healthy");
    let Some(observed) = c.observations else {
        return Some(skipped(
            "route.gateway-order",
            req::GATEWAYS,
            Some(expected),
            NO_GATEWAYS,
        ));
    };
    // Every contact with a gateway for this call, in order: directly, the trunk's own attempts
    // (a gateway cannot see a connection it refused); behind a system under test, what the
    // gateways received (INVITEs, and refused handshakes).
    let mut contacts: Vec<Contact<'_>> = match setting.topology {
        Topology::Direct => c
            .call
            .tried()
            .map(|a| Contact {
                gateway: &a.gateway,
                status: a.end.status(),
                invite: true,
                releases: match a.end {
                    AttemptEnd::Rejected { status, q850 } => route.is_retryable(status, q850),
                    AttemptEnd::Answered { .. } => false,
                    AttemptEnd::NoAnswer(_) | AttemptEnd::NotAttempted(_) => true,
                },
            })
            .collect(),
        _ => {
            let mut seen: Vec<&Observation> = observed
                .iter()
                .filter(|o| o.is_new_invite() || o.tls_error.is_some())
                .collect();
            seen.sort_by_key(|o| o.at_us);
            seen.into_iter()
                .map(|o| Contact {
                    gateway: &o.gateway,
                    status: o.response,
                    invite: o.is_new_invite(),
                    // What the gateway answered is on record; silence is not, so a gateway
                    // that received the INVITE and answered nothing did not release it. A
                    // healthy gw1 sends no Reason header, so the status alone decides.
                    releases: o.tls_error.is_some()
                        || o.response.is_some_and(|s| route.is_retryable(s, None)),
                })
                .collect()
        }
    };
    contacts.dedup_by(|a, b| a.gateway == b.gateway && a.invite == b.invite);
    let Some(first) = contacts.first() else {
        // The harness could not reach its first hop: nothing was exercised.
        let harness_side = matches!(
            c.call.no_answer(),
            Some(Failure::Setup | Failure::Refused | Failure::ConnectTimeout)
        );
        return Some(outcome(
            "route.gateway-order",
            req::GATEWAYS,
            if harness_side {
                Outcome::Error
            } else {
                Outcome::Fail
            },
            Some(expected),
            Some("no gateway received it".into()),
            format!(
                "the {dial} call never reached an E911 gateway: {}",
                c.call.path()
            ),
        ));
    };
    // Another gateway reached while gw1 still held the call: the first such contact that no
    // contact with gw1 before it released.
    let others: Vec<&str> = contacts
        .iter()
        .enumerate()
        .filter(|(i, o)| {
            o.gateway != PRIMARY
                && o.invite
                && !contacts[..*i]
                    .iter()
                    .rev()
                    .find(|p| p.gateway == PRIMARY)
                    .is_some_and(|p| p.releases)
        })
        .map(|(_, o)| o.gateway)
        .collect();
    let path = contacts
        .iter()
        .map(|o| match o.status {
            Some(s) => format!("{} {s}", o.gateway),
            None => o.gateway.to_owned(),
        })
        .collect::<Vec<_>>()
        .join(" -> ");
    Some(if first.gateway != PRIMARY {
        result(
            "route.gateway-order",
            req::GATEWAYS,
            false,
            expected,
            path.clone(),
            format!(
                "the {dial} call went to {} first although {PRIMARY} was healthy: {path} (ICD 5.1.6: gw1 and gw2 are tried as an ordered pair)",
                first.gateway
            ),
        )
    } else if let Some(other) = others.first() {
        result(
            "route.gateway-order",
            req::GATEWAYS,
            false,
            expected,
            path.clone(),
            format!(
                "the {dial} call also went to {other} although {PRIMARY} was healthy: {path} (ICD 5.1.6; a retry after a final answer breaks ICD 5.3 too)"
            ),
        )
    } else {
        result(
            "route.gateway-order",
            req::GATEWAYS,
            true,
            expected,
            path.clone(),
            format!("the {dial} call went to {PRIMARY} ({path})"),
        )
    })
}

#[cfg(test)]
#[path = "number_plan_tests.rs"]
mod tests;
