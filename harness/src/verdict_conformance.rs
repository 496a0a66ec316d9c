//! Pure verdicts for the E911 conformance sections (issue 3): which caller-selection step
//! supplied the ANI (ICD 5.1.7), where the location table routed the call (ICD 5.2).

use reports::{CheckResult, Outcome};
use scenarios::Scenario;

use crate::conformance;
use crate::verdict::{Evidence, normalize_number};

const ANI: &str = "ICD 5.1.7";
const NUMBER_PLAN: &str = "ICD 5.2";
const BY_VALUE: &str = "RFC 6442";

fn result(
    id: &str,
    requirement: &str,
    pass: bool,
    expected: String,
    observed: String,
    message: String,
) -> CheckResult {
    CheckResult {
        id: id.to_owned(),
        requirement: Some(requirement.to_owned()),
        outcome: if pass { Outcome::Pass } else { Outcome::Fail },
        expected: Some(expected),
        observed: Some(observed),
        message,
    }
}

/// `caller.selection` (the step that supplied the ANI, and that the trunk sent it), and, when
/// `expect.ani` is not given, `ani.number` against the selected ANI at the gateway.
pub fn judge_caller(scenario: &Scenario, ev: &Evidence<'_>) -> Vec<CheckResult> {
    let Some(sel) = conformance::selection(scenario) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let sent = &scenario.call.ani;
    let (pass, message) = match conformance::caller_problem(scenario) {
        None => (true, sel.explain()),
        Some(p) => (false, p),
    };
    out.push(result(
        "caller.selection",
        ANI,
        pass,
        sel.ani.clone().unwrap_or_else(|| "(no number)".into()),
        if sent.is_empty() {
            "(no ANI sent)".into()
        } else {
            sent.clone()
        },
        message,
    ));
    if let (None, Some(selected)) = (&scenario.expect.ani, &sel.ani) {
        let Some(observations) = ev.observations else {
            out.push(CheckResult {
                id: "ani.number".into(),
                requirement: Some(ANI.into()),
                outcome: Outcome::Skipped,
                expected: Some(selected.clone()),
                observed: None,
                message: "no gateway observations in this topology".into(),
            });
            return out;
        };
        let observed = observations
            .iter()
            .find(|o| o.method == "INVITE")
            .and_then(|o| o.ani.as_ref())
            .map(|a| normalize_number(&a.number));
        let expected = normalize_number(selected);
        let pass = observed.as_deref() == Some(expected.as_str());
        out.push(result(
            "ani.number",
            ANI,
            pass,
            expected.clone(),
            observed.clone().unwrap_or_else(|| "(none)".into()),
            match (&observed, pass) {
                (_, true) => format!("the ANI at the gateway is the selected {expected}"),
                (Some(o), false) => format!(
                    "the ANI at the gateway is {o}, but caller selection chose {expected} (ICD 5.1.7)"
                ),
                (None, false) => format!(
                    "no ANI was observed at the gateway; caller selection chose {expected} (ICD 5.1.7)"
                ),
            },
        ));
    }
    out
}

/// `location.routing` (ICD 5.2): where the gateway routed the call, by its location table: a
/// PSAP id, or `"fallback"` for the fallback centre.
pub fn judge_routing(scenario: &Scenario, ev: &Evidence<'_>) -> Vec<CheckResult> {
    let Some(expected) = &scenario.expect.routing else {
        return Vec::new();
    };
    let Some(observations) = ev.observations else {
        return vec![CheckResult {
            id: "location.routing".into(),
            requirement: Some(NUMBER_PLAN.into()),
            outcome: Outcome::Skipped,
            expected: Some(expected.clone()),
            observed: None,
            message: "no gateway observations in this topology".into(),
        }];
    };
    let observed = observations
        .iter()
        .find(|o| o.method == "INVITE" && o.routing.is_some())
        .and_then(|o| o.routing.clone());
    let pass = observed
        .as_deref()
        .is_some_and(|o| o == expected || (expected == "fallback" && o == "fallback centre"));
    let shown = observed.unwrap_or_else(|| "(not routed)".into());
    vec![result(
        "location.routing",
        NUMBER_PLAN,
        pass,
        expected.clone(),
        shown.clone(),
        if pass {
            format!("the gateway routed the call to {shown}")
        } else {
            format!("the gateway routed the call to {shown}, expected {expected} (ICD 5.2)")
        },
    )]
}

/// `location.by-value` (RFC 6442): with `call.location`, the gateway found the location by
/// value usable (no findings) and read the address that was sent.
pub fn judge_location_by_value(scenario: &Scenario, ev: &Evidence<'_>) -> Vec<CheckResult> {
    let Some(sent) = &scenario.call.location else {
        return Vec::new();
    };
    let expected = conformance::civic_of(sent).one_line();
    let Some(observations) = ev.observations else {
        return vec![CheckResult {
            id: "location.by-value".into(),
            requirement: Some(BY_VALUE.into()),
            outcome: Outcome::Skipped,
            expected: Some(expected),
            observed: None,
            message: "no gateway observations in this topology".into(),
        }];
    };
    let seen = observations
        .iter()
        .find(|o| o.method == "INVITE")
        .and_then(|o| o.location.as_ref());
    let (pass, observed, message) = match seen {
        None => (
            false,
            "(no location observed)".to_owned(),
            "no Geolocation reached the gateway (RFC 6442)".to_owned(),
        ),
        Some(l) => {
            let civic = l.civic.clone().unwrap_or_else(|| "(none)".into());
            if !l.findings.is_empty() {
                (
                    false,
                    civic,
                    format!("location by value is not usable: {}", l.findings.join("; ")),
                )
            } else if civic != expected {
                (
                    false,
                    civic.clone(),
                    format!("the gateway read the address {civic}, but the trunk sent {expected}"),
                )
            } else {
                (
                    true,
                    civic,
                    format!("the gateway read the address sent by value: {expected}"),
                )
            }
        }
    };
    vec![result(
        "location.by-value",
        BY_VALUE,
        pass,
        expected,
        observed,
        message,
    )]
}

#[cfg(test)]
#[path = "verdict_conformance_tests.rs"]
mod tests;
