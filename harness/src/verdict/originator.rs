//! A real originator's call ([`crate::evidence::Topology::Originator`]), judged from what the
//! gateways received and answered: the harness placed nothing, so what the originator's caller
//! heard is not observed, and every check here reads the gateways' observations.
//!
//! | check | requirement | passes when |
//! |---|---|---|
//! | `call.final-response` | the step's first | some gateway gave the call a final answer (a call left on a silent gateway fails: the originator never moved on) |
//! | `call.final-status` | the step's first | with `expect.status`: the gateways' last answer to the call is that status |
//! | `response.warning` | the step's first | with `expect.warning_contains`: the Warning the gateway sent with it says so |
//! | `readback.number`, `readback.address` | ICD 5.2 | with `expect.readback`: the 933 read-back the gateway sent carries them |
//! | `call.teardown` | RFC 3261 | on an answered call: the originator ACKed the 2xx and its BYE was answered 2xx (skipped when the call was still up when the step ended) |
//! | `caller.selection` | ICD 5.1.7 | with `[caller]`: the ANI that arrived is the one the caller selection supplies; otherwise the step it came from is named |
//!
//! `media.answer` is not judged: the SDP answer is the mock gateway's own. The offer the
//! originator sent is (`media.offer`, [`super::call::judge_offer`]).

use reports::{CheckResult, Observation};
use scenarios::Scenario;
use scenarios::caller::selection;

use super::identity::same_number;
use super::{CallEvidence, compare, normalize_number, outcome, primary, req, result, skipped};
use crate::evidence::Teardown;

/// The call checks of one originator call.
pub fn judge_call(scenario: &Scenario, c: &CallEvidence<'_>) -> Vec<CheckResult> {
    let mut out = Vec::new();
    let invites = c.invites();
    let Some(last) = invites.last().copied() else {
        return out;
    };
    let call = c.call;
    let requirement = primary(scenario);
    let path = path(&invites);
    if call.final_status().is_none() {
        out.push(result(
            "call.final-response",
            requirement,
            false,
            "a final answer from a gateway",
            "none",
            format!(
                "no gateway gave the call a final answer, and the originator did not move on: {path}"
            ),
        ));
    }
    let e = &scenario.expect;
    if let Some(status) = e.status {
        let got = call.final_status();
        let shown = got.map_or_else(
            || "(none)".to_owned(),
            |s| format!("{s} from {}", last.gateway),
        );
        let pass = got == Some(status);
        out.push(result(
            "call.final-status",
            requirement,
            pass,
            status.to_string(),
            shown.clone(),
            if pass {
                format!("the gateways' final answer was {shown}: {path}")
            } else {
                format!("the gateways' final answer was {shown}, expected {status}: {path}")
            },
        ));
    }
    if let Some(needle) = &e.warning_contains {
        let warning = last.warning.as_deref();
        let pass = super::call::warning_says(warning, needle);
        out.push(result(
            "response.warning",
            requirement,
            pass,
            format!("Warning containing \"{needle}\""),
            warning.unwrap_or("(no Warning sent)"),
            if pass {
                format!("{} said why in its Warning", last.gateway)
            } else {
                format!(
                    "the Warning {} sent does not mention \"{needle}\"",
                    last.gateway
                )
            },
        ));
    }
    let answered = invites.iter().find(|o| o.answered_2xx()).copied();
    if let Some(rb) = &e.readback {
        let sent = answered.and_then(|o| o.readback.as_ref());
        if let Some(n) = &rb.number {
            let observed = sent.map(|r| normalize_number(&r.number));
            out.push(compare(
                "readback.number",
                req::NUMBER_PLAN,
                &normalize_number(n),
                observed.as_deref(),
                "the number the 933 call was read back",
            ));
        }
        if let Some(a) = &rb.address {
            out.push(compare(
                "readback.address",
                req::NUMBER_PLAN,
                a,
                sent.and_then(|r| r.address.as_deref()),
                "the address the 933 call was read back (ICD 5.2: the caller's registered address)",
            ));
        }
    }
    if let Some(o) = answered {
        out.push(teardown(o, c));
    }
    out
}

/// `gw1 503 -> gw2 200`, from the INVITEs the gateways received.
fn path(invites: &[&Observation]) -> String {
    invites
        .iter()
        .map(|o| match (o.response, &o.fault) {
            (Some(s), Some(f)) => format!("{} {s} ({f})", o.gateway),
            (Some(s), None) => format!("{} {s}", o.gateway),
            (None, Some(f)) => format!("{} no answer ({f})", o.gateway),
            (None, None) => format!("{} no answer", o.gateway),
        })
        .collect::<Vec<_>>()
        .join(" -> ")
}

const TEARDOWN: &str = "ACK, then BYE answered 2xx";

/// `call.teardown` of the INVITE `o` a gateway answered: the originator's ACK and BYE as the
/// gateway received them.
fn teardown(o: &Observation, c: &CallEvidence<'_>) -> CheckResult {
    let in_dialog = |method: &str| {
        c.observations.unwrap_or_default().iter().find(|r| {
            r.method == method
                && r.gateway == o.gateway
                && r.call_id.is_some()
                && r.call_id == o.call_id
        })
    };
    let ack = in_dialog("ACK");
    let bye = in_dialog("BYE");
    let state = c
        .call
        .attempts
        .iter()
        .find(|a| a.end.is_answered())
        .and_then(|a| a.teardown);
    match (ack, bye, state) {
        (_, None, _) => skipped(
            "call.teardown",
            req::SIP,
            Some(TEARDOWN.into()),
            &format!(
                "the call answered by {} was still up when the step ended (no BYE arrived), so its teardown was not exercised",
                o.gateway
            ),
        ),
        (None, Some(_), _) => result(
            "call.teardown",
            req::SIP,
            false,
            TEARDOWN,
            "BYE without ACK",
            format!(
                "{} answered 200 but no ACK arrived before the BYE (RFC 3261 §13.2.2.4: the originator must ACK the 2xx)",
                o.gateway
            ),
        ),
        (Some(_), Some(_), Some(t)) => result(
            "call.teardown",
            req::SIP,
            t.is_clean(),
            TEARDOWN,
            t.describe(),
            if t.is_clean() {
                format!(
                    "the originator ACKed {}'s 200 and hung up: {}",
                    o.gateway,
                    t.describe()
                )
            } else {
                format!(
                    "the call did not end cleanly at {}: {} (RFC 3261 §15)",
                    o.gateway,
                    t.describe()
                )
            },
        ),
        (Some(_), Some(_), None) => result(
            "call.teardown",
            req::SIP,
            false,
            TEARDOWN,
            Teardown::ByeUnanswered.describe(),
            format!("the originator's BYE at {} got no answer", o.gateway),
        ),
    }
}

/// The caller-selection sources of `scenario`'s `[caller]` that hold `number`, by name.
fn sources_holding(scenario: &Scenario, number: &str) -> Vec<&'static str> {
    let Some(c) = &scenario.caller else {
        return Vec::new();
    };
    [
        (
            &c.call_source_did,
            "the queue or campaign DID (call-source)",
        ),
        (&c.user_did, "the user's DID (call-source)"),
        (&c.user_extension, "the user's extension (user-extension)"),
        (&c.site_ani, "the site ANI (site-ani)"),
        (&c.trunk_ani, "the trunk's ANI (trunk-ani)"),
    ]
    .into_iter()
    .filter(|(n, _)| {
        n.as_deref()
            .is_some_and(|n| !n.is_empty() && same_number(n, number))
    })
    .map(|(_, what)| what)
    .collect()
}

/// `caller.selection` (ICD 5.1.7) for a real originator: whether the ANI that reached the
/// gateways is the number the prioritized caller selection supplies for the step's caller,
/// and if not, which configured source it is.
pub fn caller_selection(scenario: &Scenario, c: &CallEvidence<'_>) -> Option<CheckResult> {
    let sel = selection(scenario)?;
    let first = c.first_invite()?;
    let wanted = sel.ani.clone().unwrap_or_default();
    let Some(arrived) = first.ani.as_ref().map(|a| a.number.clone()) else {
        return Some(result(
            "caller.selection",
            req::ANI,
            false,
            wanted,
            "(no ANI)",
            format!(
                "no ANI reached {}; the caller selection supplies {} (ICD 5.1.7)",
                first.gateway,
                sel.explain()
            ),
        ));
    };
    if same_number(&arrived, &wanted) {
        return Some(result(
            "caller.selection",
            req::ANI,
            true,
            wanted,
            arrived.clone(),
            format!("the originator sent {arrived}: {}", sel.explain()),
        ));
    }
    let from = sources_holding(scenario, &arrived);
    let which = if from.is_empty() {
        "a number the step's caller configuration does not name".to_owned()
    } else {
        from.join(" and ")
    };
    Some(outcome(
        "caller.selection",
        req::ANI,
        reports::Outcome::Fail,
        Some(wanted),
        Some(format!("{arrived} ({which})")),
        format!(
            "the originator sent {arrived}, {which}, but the caller selection supplies {}: check the caller ID settings of the trunk, the site and the user or phone (ICD 5.1.7)",
            sel.explain()
        ),
    ))
}

#[cfg(test)]
#[path = "originator_tests.rs"]
mod tests;
