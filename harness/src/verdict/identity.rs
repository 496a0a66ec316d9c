//! Who is calling, for which customer, to which number, as the gateways received it:
//! - `org-header.value` (ICD 5.1.9): every INVITE that reached a gateway carries exactly one
//!   `E911-Organization-ID`, the org the trunk sent (or `expect.org_id`); on every call where
//!   the trunk sent one canonical UUID, so a system under test that strips, duplicates,
//!   replaces or re-encodes it, on the first attempt or only on the retry, fails it.
//!   `org-header.finding` with `expect.org_finding`: the gateway's finding on it.
//! - `ani.number` (ICD 5.1.7): every INVITE that reached a gateway delivers the ANI the trunk
//!   sent (or `expect.ani`, or the caller selection's), compared in E.164 form.
//!   `ani.source`: the header that supplied it is the first of the gateway's ANI headers the
//!   trunk wrote the ANI into (or `expect.ani_source`), so a stripped P-Asserted-Identity is
//!   named even when From carries the same number.
//! - `ani.consistency` on every answered call (From and PAI agree, one PAI per scheme, E.164),
//!   or `ani.findings` when the scenario declares them; `ani.form` with `expect.ani_form`.
//! - `caller.selection` with `[caller]`: which step of the prioritized caller selection supplied
//!   the ANI (the harness's own when it is the trunk; for a real originator, the step the ANI
//!   that arrived comes from, [`super::originator::caller_selection`]).
//! - `dial.number` (ICD 5.2): with `expect.dialed`, the number the gateway read from the first
//!   INVITE; otherwise on every 911 and 933 call, every INVITE that reached a gateway carries
//!   the number the trunk dialled, so a system under test that turns 911 into 933 (the test
//!   line), prefixes it or translates it on the retry fails it.

use reports::observation::AniObservation;
use reports::{CheckResult, Observation, Outcome};
use scenarios::{AniFinding, AniHeader, AniPlacement, Scenario, is_emergency_number};

use super::{CallEvidence, NO_GATEWAYS, Setting, normalize_number, outcome, req, result, skipped};
use crate::evidence::Topology;
use scenarios::ORG_HEADER;
use scenarios::caller as conformance;

/// The identity checks of one call.
pub fn judge(scenario: &Scenario, setting: &Setting, c: &CallEvidence<'_>) -> Vec<CheckResult> {
    let mut out = Vec::new();
    // The step that supplied the ANI: the harness's own selection when it is the trunk, what
    // arrived at the gateways when a real originator chose it. In front of a system under test
    // (or an external target) the selection is the harness's own and proves nothing about it:
    // what it delivered is `ani.number`, against that selection.
    out.extend(match setting.topology {
        Topology::Originator => super::originator::caller_selection(scenario, c),
        Topology::Direct => caller_selection(scenario),
        Topology::ThroughSut | Topology::External => None,
    });
    let e = &scenario.expect;
    let org = expected_org(scenario);
    let ani = expected_ani(scenario);
    let source = expected_source(scenario);
    let dialled = e.dialed.clone().or_else(|| {
        is_emergency_number(&scenario.call.dial)
            .then(|| scenarios::dialled_number(&scenario.call.dial).to_owned())
    });
    let Some(_) = c.observations else {
        let wanted = [
            (
                "org-header.finding",
                req::ORG,
                e.org_finding.map(|f| f.as_str().to_owned()),
            ),
            ("org-header.value", req::ORG, org),
            ("ani.number", req::ANI, ani),
            (
                "ani.source",
                req::ANI,
                source.map(|h| h.header_name().to_owned()),
            ),
            (
                "ani.findings",
                req::ANI,
                e.ani_findings.as_ref().map(|f| names(f)),
            ),
            (
                "ani.form",
                req::ANI,
                e.ani_form.map(|f| f.as_str().to_owned()),
            ),
            ("dial.number", req::NUMBER_PLAN, dialled),
        ];
        for (id, r, expected) in wanted {
            if expected.is_some() {
                out.push(skipped(id, r, expected, NO_GATEWAYS));
            }
        }
        return out;
    };
    let invites = c.invites();
    let Some(first) = invites.first().copied() else {
        let explicit = e.org_id.is_some()
            || e.org_finding.is_some()
            || e.ani.is_some()
            || e.ani_source.is_some()
            || e.ani_findings.is_some()
            || e.ani_form.is_some()
            || e.dialed.is_some();
        // An answered call no gateway received: someone answered in the gateways' place, and
        // every identity check would otherwise vanish with the INVITEs.
        let answered = c
            .call
            .final_status()
            .is_some_and(|s| (200..300).contains(&s));
        if explicit || answered {
            let harness_side = c.call.no_answer().is_some_and(|f| {
                matches!(
                    f,
                    crate::evidence::Failure::Setup
                        | crate::evidence::Failure::Refused
                        | crate::evidence::Failure::ConnectTimeout
                )
            });
            out.push(outcome(
                "gateway.received-invite",
                req::GATEWAYS,
                if harness_side { Outcome::Error } else { Outcome::Fail },
                Some("the INVITE observed at a gateway".into()),
                Some("no INVITE observed".into()),
                format!(
                    "the INVITE never reached a gateway{}, so the org header and ANI could not be checked: {}",
                    if answered {
                        " although the call was answered"
                    } else {
                        ""
                    },
                    c.call.path()
                ),
            ));
        }
        return out;
    };
    if let Some(finding) = e.org_finding {
        let observed = first.org.as_ref();
        let pass = observed.is_some_and(|o| o.finding == finding);
        let obs_text = observed
            .map(|o| format!("{} ({})", o.finding.as_str(), o.detail))
            .unwrap_or_else(|| "(not checked)".into());
        out.push(result(
            "org-header.finding",
            req::ORG,
            pass,
            finding.as_str(),
            obs_text.clone(),
            if pass {
                format!("the gateway found the E911-Organization-ID {finding}")
            } else {
                format!(
                    "the gateway's finding on E911-Organization-ID is {obs_text}, expected {finding}"
                )
            },
        ));
    }
    if let Some(org) = org {
        out.push(org_value(&org, &invites));
    }
    if let Some(ani) = ani {
        // Where the expected ANI comes from: what the harness's trunk sent, or the plan.
        let source = match setting.topology {
            Topology::Originator => "the step expects",
            _ => "the trunk sent",
        };
        out.push(ani_number(&ani, &invites, source));
    }
    if let Some(h) = source {
        out.push(ani_source(scenario, h, &invites));
    }
    match &e.ani_findings {
        Some(expected) => out.push(findings_check(expected, first.ani.as_ref())),
        None if c.call.is_answered() => {
            if let Some(check) = consistency(&invites) {
                out.push(check);
            }
        }
        None => {}
    }
    if let Some(form) = e.ani_form {
        out.push(form_check(form, first.ani.as_ref()));
    }
    if let Some(want) = &e.dialed {
        out.push(dialed_check(want, first));
    } else if let Some(want) = &dialled {
        out.push(dialled_everywhere(want, &invites));
    }
    out
}

/// The org every INVITE must carry: `expect.org_id`, else the one canonical UUID the trunk
/// sent, unless the scenario expects the gateway to find something wrong with it.
fn expected_org(scenario: &Scenario) -> Option<String> {
    if let Some(org) = &scenario.expect.org_id {
        return Some(org.clone());
    }
    let finding_ok = scenario
        .expect
        .org_finding
        .is_none_or(|f| f == scenarios::OrgFinding::Ok);
    match scenario.call.org_headers.as_slice() {
        [one] if finding_ok && scenarios::is_canonical_uuid(one) => Some(one.clone()),
        _ => None,
    }
}

/// The ANI every INVITE must deliver: `expect.ani`, else the caller selection's, else the one
/// the trunk sent.
fn expected_ani(scenario: &Scenario) -> Option<String> {
    if let Some(a) = &scenario.expect.ani {
        return Some(a.clone());
    }
    if let Some(selected) = conformance::selection(scenario).and_then(|s| s.ani) {
        return Some(selected);
    }
    (!scenario.call.ani.is_empty()).then(|| scenario.call.ani.clone())
}

/// The header that must supply the ANI: `expect.ani_source`, else the first of the gateway's
/// ANI headers the trunk wrote the ANI into.
fn expected_source(scenario: &Scenario) -> Option<AniHeader> {
    if let Some(h) = scenario.expect.ani_source {
        return Some(h);
    }
    if scenario.call.ani.is_empty() {
        return None;
    }
    let written: Vec<AniHeader> = scenario
        .call
        .ani_in
        .iter()
        .filter(|p| **p != AniPlacement::From || scenario.call.from_user.is_none())
        .map(AniPlacement::header)
        .collect();
    scenario
        .gateway
        .ani_headers
        .iter()
        .copied()
        .find(|h| written.contains(h))
}

/// The org header values an INVITE carried, one per header line and comma-list item.
fn org_values(o: &Observation) -> Vec<String> {
    o.header_values(ORG_HEADER)
        .flat_map(|v| v.split(','))
        .map(|v| v.trim().to_owned())
        .collect()
}

fn show(values: &[String]) -> String {
    if values.is_empty() {
        "(no header)".into()
    } else {
        values.join(" | ")
    }
}

fn org_value(org: &str, invites: &[&Observation]) -> CheckResult {
    let bad = invites.iter().find_map(|o| {
        let values = org_values(o);
        let ok = matches!(values.as_slice(), [v] if v.eq_ignore_ascii_case(org));
        (!ok).then_some((o.gateway.as_str(), values))
    });
    match bad {
        None => result(
            "org-header.value",
            req::ORG,
            true,
            org,
            org,
            format!(
                "exactly one E911-Organization-ID with the expected org at {}",
                gateways(invites)
            ),
        ),
        Some((gw, values)) => result(
            "org-header.value",
            req::ORG,
            false,
            org,
            format!("{gw}: {}", show(&values)),
            format!(
                "E911-Organization-ID at {gw} was {}, expected exactly one {org}{}",
                show(&values),
                if invites.len() > 1 {
                    format!(" (INVITEs reached {})", gateways(invites))
                } else {
                    String::new()
                }
            ),
        ),
    }
}

/// `gw1 then gw2`.
fn gateways(invites: &[&Observation]) -> String {
    invites
        .iter()
        .map(|o| o.gateway.as_str())
        .collect::<Vec<_>>()
        .join(" then ")
}

/// Whether two numbers are the same caller: equal digits, or equal in E.164 form.
pub(crate) fn same_number(a: &str, b: &str) -> bool {
    normalize_number(a) == normalize_number(b)
        || scenarios::e164(a).is_some_and(|x| scenarios::e164(b).is_some_and(|y| x == y))
}

fn ani_number(ani: &str, invites: &[&Observation], source: &str) -> CheckResult {
    let expected = normalize_number(ani);
    let bad = invites.iter().find_map(|o| {
        let seen = o.ani.as_ref().map(|a| normalize_number(&a.number));
        let ok = seen.as_deref().is_some_and(|s| same_number(s, ani));
        (!ok).then_some((o, seen))
    });
    match bad {
        None => result(
            "ani.number",
            req::ANI,
            true,
            expected.clone(),
            expected.clone(),
            format!("the ANI at {} is {expected}", gateways(invites)),
        ),
        Some((o, seen)) => {
            let detail = o
                .ani
                .as_ref()
                .map(|a| format!(" (from {})", a.source))
                .unwrap_or_default();
            result(
                "ani.number",
                req::ANI,
                false,
                expected.clone(),
                format!(
                    "{}: {}",
                    o.gateway,
                    seen.clone().unwrap_or_else(|| "(none)".into())
                ),
                match seen {
                    Some(s) => format!(
                        "the ANI at {} is {s}{detail}, but {source} {expected}: responders would be sent to the wrong caller's address (ICD 5.1.7)",
                        o.gateway
                    ),
                    None => format!(
                        "no ANI reached {}; {source} {expected} (ICD 5.1.7)",
                        o.gateway
                    ),
                },
            )
        }
    }
}

fn ani_source(scenario: &Scenario, want: AniHeader, invites: &[&Observation]) -> CheckResult {
    let bad = invites.iter().find_map(|o| {
        let seen = o.ani.as_ref().map(|a| a.source.as_str());
        (seen != Some(want.header_name())).then_some((o, seen))
    });
    match bad {
        None => result(
            "ani.source",
            req::ANI,
            true,
            want.header_name(),
            want.header_name(),
            format!("the ANI came from {want} at {}", gateways(invites)),
        ),
        Some((o, seen)) => {
            let missing = o.header_values(want.header_name()).next().is_none();
            let sent = scenario.expect.ani_source.is_none();
            result(
                "ani.source",
                req::ANI,
                false,
                want.header_name(),
                format!("{}: {}", o.gateway, seen.unwrap_or("(none)")),
                if missing && sent {
                    format!(
                        "the trunk sent the ANI in {want}, but no {want} reached {}: the ANI came from {} instead (ICD 5.1.7: the asserted identity was lost on the way)",
                        o.gateway,
                        seen.unwrap_or("no header")
                    )
                } else {
                    format!(
                        "the header that supplied the ANI at {} is {}, expected {want} (ICD 5.1.7)",
                        o.gateway,
                        seen.unwrap_or("(none)")
                    )
                },
            )
        }
    }
}

/// `caller.selection` (the step that supplied the ANI, and that the trunk sent it).
fn caller_selection(scenario: &Scenario) -> Option<CheckResult> {
    let sel = conformance::selection(scenario)?;
    let sent = &scenario.call.ani;
    let (pass, message) = match conformance::caller_problem(scenario) {
        None => (true, sel.explain()),
        Some(p) => (false, p),
    };
    Some(result(
        "caller.selection",
        req::ANI,
        pass,
        sel.ani.clone().unwrap_or_else(|| "(no number)".into()),
        if sent.is_empty() {
            "(no ANI sent)".to_owned()
        } else {
            sent.clone()
        },
        message,
    ))
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

fn findings_check(expected: &[AniFinding], ani: Option<&AniObservation>) -> CheckResult {
    let Some(ani) = ani else {
        return result(
            "ani.findings",
            req::ANI,
            false,
            names(expected),
            "(no ANI recorded)",
            "no ANI was recorded at the gateway, so there are no identity findings to compare (ICD 5.1.7)",
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
        req::ANI,
        pass,
        names(expected),
        names(&seen),
        message,
    )
}

/// `ani.consistency` over every INVITE that recorded an ANI: the first with a problem
/// finding fails it.
fn consistency(invites: &[&Observation]) -> Option<CheckResult> {
    let recorded: Vec<(&str, &AniObservation)> = invites
        .iter()
        .filter_map(|o| o.ani.as_ref().map(|a| (o.gateway.as_str(), a)))
        .collect();
    let (_, first) = recorded.first()?;
    let bad = recorded
        .iter()
        .find(|(_, a)| a.findings.iter().any(|f| f.finding.is_problem()));
    Some(match bad {
        None => {
            let privacy = if first.findings.is_empty() {
                String::new()
            } else {
                format!(" ({})", details(first))
            };
            result(
                "ani.consistency",
                req::ANI,
                true,
                CONSISTENT,
                "none",
                format!(
                    "the identity headers agree on ANI {} from {}{privacy}",
                    first.number, first.source
                ),
            )
        }
        Some((gw, ani)) => {
            let problems: Vec<_> = ani
                .findings
                .iter()
                .filter(|f| f.finding.is_problem())
                .collect();
            let seen: Vec<AniFinding> = problems.iter().map(|f| f.finding).collect();
            let what = problems
                .iter()
                .map(|f| format!("{}: {}", f.finding, f.detail))
                .collect::<Vec<_>>()
                .join("; ");
            result(
                "ani.consistency",
                req::ANI,
                false,
                CONSISTENT,
                names(&seen),
                format!(
                    "the identity headers at {gw} are inconsistent: {what}; declare expect.ani_findings if this is intended (ICD 5.1.7)"
                ),
            )
        }
    })
}

fn form_check(form: scenarios::AniForm, ani: Option<&AniObservation>) -> CheckResult {
    let seen = ani.and_then(|a| a.form);
    let observed = match (ani, seen) {
        (Some(a), Some(f)) => format!("{f} ({} in {})", a.number, a.source),
        (Some(a), None) => format!("(unknown form) ({} in {})", a.number, a.source),
        (None, _) => "(no ANI recorded)".into(),
    };
    let pass = seen == Some(form);
    result(
        "ani.form",
        req::ANI,
        pass,
        form.as_str(),
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
    )
}

/// `dial.number` on every INVITE of an emergency call: the number arrives as dialled.
fn dialled_everywhere(want: &str, invites: &[&Observation]) -> CheckResult {
    let wrong = invites.iter().find(|o| o.dialed.as_deref() != Some(want));
    let gateways = invites
        .iter()
        .map(|o| o.gateway.as_str())
        .collect::<Vec<_>>()
        .join(", ");
    match wrong {
        None => result(
            "dial.number",
            req::NUMBER_PLAN,
            true,
            want,
            want,
            format!("{want} reached the gateways as {want} ({gateways})"),
        ),
        Some(o) => {
            let seen = o.dialed.as_deref().unwrap_or("(none)");
            result(
                "dial.number",
                req::NUMBER_PLAN,
                false,
                want,
                format!("{seen} at {} (Request-URI {})", o.gateway, o.request_uri),
                format!(
                    "the caller dialled {want} but {} received {seen} (Request-URI {}): 911 and 933 must reach the E911 gateways as dialled (ICD 5.2)",
                    o.gateway, o.request_uri
                ),
            )
        }
    }
}

fn dialed_check(want: &str, invite: &Observation) -> CheckResult {
    let seen = invite.dialed.clone();
    let uri = invite.request_uri.as_str();
    let pass = seen.as_deref() == Some(want);
    let shown = seen.unwrap_or_else(|| "(none)".into());
    result(
        "dial.number",
        req::NUMBER_PLAN,
        pass,
        want,
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

#[cfg(test)]
#[path = "identity_tests.rs"]
mod tests;
