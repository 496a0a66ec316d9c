//! Pure verdicts for the E911 conformance sections (issue 3): which caller-selection step
//! supplied the ANI (ICD 5.1.7), the ANI policy findings on the identity headers (ICD 5.1.7),
//! the dialled number the gateway read (ICD 5.2), where the location table routed the call
//! (ICD 5.2).

use mock_gateway::{AniObservation, Observation};
use reports::{CheckResult, Outcome};
use scenarios::{AniFinding, Scenario};

use crate::originate::conformance;
use crate::verdict::{Evidence, normalize_number};

const ANI: &str = "ICD 5.1.7";
const NUMBER_PLAN: &str = "ICD 5.2";
const BY_VALUE: &str = "RFC 6442";

pub(crate) fn result(
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

fn skipped(id: &str, requirement: &str, expected: String) -> CheckResult {
    CheckResult {
        id: id.into(),
        requirement: Some(requirement.into()),
        outcome: Outcome::Skipped,
        expected: Some(expected),
        observed: None,
        message: "no gateway observations in this topology".into(),
    }
}

/// What the always-on `ani.consistency` check expects, in words.
const CONSISTENT: &str =
    "From and P-Asserted-Identity agree, at most one P-Asserted-Identity per scheme, E.164 numbers";

/// Finding names, comma-separated, or `none`.
fn names(findings: &[AniFinding]) -> String {
    if findings.is_empty() {
        return "none".into();
    }
    findings
        .iter()
        .map(AniFinding::as_str)
        .collect::<Vec<_>>()
        .join(", ")
}

/// The details of `ani`'s findings, `; `-separated.
fn details(ani: &AniObservation) -> String {
    ani.findings
        .iter()
        .map(|f| format!("{}: {}", f.finding, f.detail))
        .collect::<Vec<_>>()
        .join("; ")
}

/// The ANI policy checks (ICD 5.1.7) and the dialled number (ICD 5.2), from the first INVITE
/// observed:
/// - `ani.findings` with `expect.ani_findings`: the gateway's findings are exactly those named;
/// - `ani.consistency` otherwise, on every answered call whose ANI was recorded: no problem
///   finding (`from-pai-mismatch`, `pai-duplicated`, `not-e164`; `privacy-id` is not one);
/// - `ani.form` with `expect.ani_form`: the URI form that carried the recorded ANI;
/// - `dial.number` with `expect.dialed`: the number the gateway read from the Request-URI.
pub fn judge_ani(scenario: &Scenario, ev: &Evidence<'_>) -> Vec<CheckResult> {
    let e = &scenario.expect;
    let Some(observations) = ev.observations else {
        let mut out = Vec::new();
        if let Some(f) = &e.ani_findings {
            out.push(skipped("ani.findings", ANI, names(f)));
        }
        if let Some(f) = e.ani_form {
            out.push(skipped("ani.form", ANI, f.as_str().into()));
        }
        if let Some(d) = &e.dialed {
            out.push(skipped("dial.number", NUMBER_PLAN, d.clone()));
        }
        return out;
    };
    let invite = observations.iter().find(|o| o.method == "INVITE");
    let ani = invite.and_then(|o| o.ani.as_ref());
    let mut out = Vec::new();
    match &e.ani_findings {
        Some(expected) => out.push(findings_check(expected, ani)),
        None => {
            let answered = ev
                .call
                .record
                .final_status
                .is_some_and(|s| (200..300).contains(&s));
            if let (true, Some(ani)) = (answered, ani) {
                out.push(consistency_check(ani));
            }
        }
    }
    if let Some(form) = e.ani_form {
        let seen = ani.and_then(|a| a.form);
        let observed = match (ani, seen) {
            (Some(a), Some(f)) => format!("{f} ({} in {})", a.number, a.source),
            (Some(a), None) => format!("(unknown form) ({} in {})", a.number, a.source),
            (None, _) => "(no ANI recorded)".into(),
        };
        let pass = seen == Some(form);
        out.push(result(
            "ani.form",
            ANI,
            pass,
            form.as_str().into(),
            observed.clone(),
            if pass {
                format!(
                    "the ANI arrived in a {form} URI ({})",
                    ani.map(|a| format!("{} in {}", a.number, a.source))
                        .unwrap_or_default()
                )
            } else {
                format!("the ANI arrived as {observed}, expected a {form} URI (ICD 5.1.7)")
            },
        ));
    }
    if let Some(want) = &e.dialed {
        out.push(dialed_check(want, invite));
    }
    out
}

fn findings_check(expected: &[AniFinding], ani: Option<&AniObservation>) -> CheckResult {
    let Some(ani) = ani else {
        return result(
            "ani.findings",
            ANI,
            false,
            names(expected),
            "(no ANI recorded)".into(),
            "no ANI was recorded at the gateway, so there are no identity findings to compare (ICD 5.1.7)".into(),
        );
    };
    let seen: Vec<AniFinding> = ani.findings.iter().map(|f| f.finding).collect();
    let missing: Vec<AniFinding> = expected
        .iter()
        .copied()
        .filter(|f| !seen.contains(f))
        .collect();
    let extra: Vec<AniFinding> = seen
        .iter()
        .copied()
        .filter(|f| !expected.contains(f))
        .collect();
    let pass = missing.is_empty() && extra.is_empty();
    let what = if ani.findings.is_empty() {
        format!("no ANI finding (ANI {} from {})", ani.number, ani.source)
    } else {
        details(ani)
    };
    let message = if pass && expected.is_empty() {
        format!("as expected, {what}")
    } else if pass {
        format!("the gateway found exactly {}: {what}", names(expected))
    } else {
        let mut why = Vec::new();
        if !missing.is_empty() {
            why.push(format!("missing {}", names(&missing)));
        }
        if !extra.is_empty() {
            why.push(format!("unexpected {}", names(&extra)));
        }
        format!(
            "the gateway found {}, expected {} ({}); seen: {what} (ICD 5.1.7)",
            names(&seen),
            names(expected),
            why.join(", ")
        )
    };
    result(
        "ani.findings",
        ANI,
        pass,
        names(expected),
        names(&seen),
        message,
    )
}

fn consistency_check(ani: &AniObservation) -> CheckResult {
    let problems: Vec<_> = ani
        .findings
        .iter()
        .filter(|f| f.finding.is_problem())
        .collect();
    let seen: Vec<AniFinding> = problems.iter().map(|f| f.finding).collect();
    let message = if problems.is_empty() {
        let privacy = if ani.findings.is_empty() {
            String::new()
        } else {
            format!(" ({})", details(ani))
        };
        format!(
            "the identity headers agree on ANI {} from {}{privacy}",
            ani.number, ani.source
        )
    } else {
        let what = problems
            .iter()
            .map(|f| format!("{}: {}", f.finding, f.detail))
            .collect::<Vec<_>>()
            .join("; ");
        format!(
            "the identity headers are inconsistent: {what}; declare expect.ani_findings if this is intended (ICD 5.1.7)"
        )
    };
    result(
        "ani.consistency",
        ANI,
        problems.is_empty(),
        CONSISTENT.into(),
        names(&seen),
        message,
    )
}

fn dialed_check(want: &str, invite: Option<&Observation>) -> CheckResult {
    let seen = invite.and_then(|o| o.dialed.clone());
    let uri = invite.map_or("(no INVITE observed)", |o| o.request_uri.as_str());
    let pass = seen.as_deref() == Some(want);
    let shown = seen.clone().unwrap_or_else(|| "(none)".into());
    result(
        "dial.number",
        NUMBER_PLAN,
        pass,
        want.to_owned(),
        format!("{shown} (Request-URI {uri})"),
        if pass {
            format!("the gateway read the dialled number {want} from {uri}")
        } else {
            format!(
                "the gateway read the dialled number {shown} from {uri}, expected {want} (ICD 5.2)"
            )
        },
    )
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
#[path = "conformance_tests.rs"]
mod tests;
