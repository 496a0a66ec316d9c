//! The certify/run view: requirements matrix, failures, scenarios with their checks, calls,
//! ladders and timelines, what was not covered and what did not apply.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::{call_anchor, esc, ladder, requirement_anchor, scenario_anchor};
use crate::describe::{call_status, call_tls, gateways_tried, tls_text};
use crate::matrix::aggregate;
use crate::model::{Outcome, RunReport, ScenarioReport};
use crate::trace::ms3;

pub(super) fn render(h: &mut String, report: &RunReport) {
    let failures = failures(report);
    let applicable: Vec<&ScenarioReport> = report
        .scenarios
        .iter()
        .filter(|s| s.not_applicable.is_none())
        .collect();
    let not_applicable = not_applicable_groups(report);
    h.push_str("<nav><a href=\"#requirements\">Requirements</a>");
    if !failures.is_empty() {
        let _ = write!(
            h,
            "<a href=\"#failures\">What failed ({})</a>",
            failures.len()
        );
    }
    let _ = write!(
        h,
        "<a href=\"#scenarios\">Scenarios ({})</a>",
        applicable.len()
    );
    if !report.not_covered.is_empty() {
        h.push_str("<a href=\"#not-covered\">Not covered</a>");
    }
    if !not_applicable.is_empty() {
        h.push_str("<a href=\"#not-applicable\">Not applicable</a>");
    }
    h.push_str("</nav>\n");
    matrix(h, report);
    if !failures.is_empty() {
        h.push_str("<h2 id=\"failures\">What failed</h2><table><tr><th>Outcome</th><th>Scenario / check</th><th>Requirement</th><th>Expected</th><th>Observed</th><th>Message</th><th>Evidence</th></tr>");
        for (s, c, link) in &failures {
            let _ = write!(
                h,
                "<tr><td class=\"cell-{}\"><span class=\"o {}\">{}</span></td><td><a href=\"#{}\">{}</a> / <code>{}</code></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td><a href=\"#{link}\">ladder</a></td></tr>",
                c.outcome,
                c.outcome,
                c.outcome.label(),
                scenario_anchor(&s.name),
                esc(&s.name),
                esc(&c.id),
                esc(c.requirement.as_deref().unwrap_or("")),
                esc(c.expected.as_deref().unwrap_or("")),
                esc(c.observed.as_deref().unwrap_or("")),
                esc(&c.message)
            );
        }
        h.push_str("</table>\n");
    }
    let _ = write!(h, "<h2 id=\"scenarios\">Scenarios</h2>");
    for s in applicable {
        scenario(h, s);
    }
    if !report.not_covered.is_empty() {
        h.push_str("<h2 id=\"not-covered\">Not covered by this run</h2><table><tr><th>Requirement</th><th>Title</th><th>How to establish it</th></tr>");
        for r in &report.not_covered {
            let _ = write!(
                h,
                "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(&r.id),
                esc(&r.title),
                esc(r.note.as_deref().unwrap_or("no shipped scenario covers it"))
            );
        }
        h.push_str("</table>\n");
    }
    if !not_applicable.is_empty() {
        h.push_str("<h2 id=\"not-applicable\">Not applicable in this topology</h2>");
        for (why, names) in &not_applicable {
            let _ = write!(
                h,
                "<details><summary>{} scenario(s): {}</summary><p>{}</p></details>",
                names.len(),
                esc(why),
                names
                    .iter()
                    .map(|n| format!("<code>{}</code>", esc(n)))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
    }
}

/// Failed and errored checks, each with the anchor of the evidence to look at first: the
/// scenario's first traced call's ladder, else the scenario.
pub(crate) fn failures(
    report: &RunReport,
) -> Vec<(&ScenarioReport, &crate::model::CheckResult, String)> {
    let mut out = Vec::new();
    for s in &report.scenarios {
        let link = evidence_anchor(s);
        for c in s
            .checks
            .iter()
            .filter(|c| matches!(c.outcome, Outcome::Fail | Outcome::Error))
        {
            out.push((s, c, link.clone()));
        }
    }
    out
}

/// The anchor of the ladder to look at for `s`: its first traced call's, else the scenario's.
pub(crate) fn evidence_anchor(s: &ScenarioReport) -> String {
    s.calls
        .iter()
        .position(|c| !c.trace.is_empty())
        .map_or_else(|| scenario_anchor(&s.name), |i| call_anchor(&s.name, i))
}

/// Not-applicable scenarios by reason.
pub(crate) fn not_applicable_groups(report: &RunReport) -> BTreeMap<&str, Vec<&str>> {
    let mut groups: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for s in &report.scenarios {
        if let Some(why) = &s.not_applicable {
            groups.entry(why).or_default().push(&s.name);
        }
    }
    groups
}

/// Per requirement: how many scenarios judged it, and their outcomes for it.
pub(crate) fn requirement_counts(report: &RunReport, id: &str) -> [usize; 4] {
    let mut n = [0; 4];
    for s in &report.scenarios {
        let outcomes: Vec<Outcome> = s
            .checks
            .iter()
            .filter(|c| c.requirement.as_deref().map(str::trim) == Some(id))
            .map(|c| c.outcome)
            .collect();
        if outcomes.is_empty() {
            continue;
        }
        n[match aggregate(outcomes) {
            Outcome::Pass => 0,
            Outcome::Fail => 1,
            Outcome::Error => 2,
            Outcome::Skipped => 3,
        }] += 1;
    }
    n
}

fn matrix(h: &mut String, report: &RunReport) {
    h.push_str("<h2 id=\"requirements\">Requirements</h2>");
    if report.requirements.is_empty() {
        h.push_str("<p>No scenario or check named a requirement.</p>");
        return;
    }
    h.push_str("<p class=\"muted\">Scenarios per requirement by their outcome for it; open a requirement for its scenarios.</p><table><tr><th>Requirement</th><th>Title</th><th class=\"num\">pass</th><th class=\"num\">fail</th><th class=\"num\">error</th><th class=\"num\">skipped</th><th>Outcome</th></tr>");
    for r in &report.requirements {
        let n = requirement_counts(report, &r.id);
        let waived = if r.waived > 0 {
            format!(" ({} waived)", r.waived)
        } else {
            String::new()
        };
        let scenarios: String = r
            .scenarios
            .iter()
            .filter_map(|name| report.scenarios.iter().find(|s| &s.name == name))
            .map(|s| {
                let o = aggregate(
                    s.checks
                        .iter()
                        .filter(|c| c.requirement.as_deref() == Some(r.id.as_str()))
                        .map(|c| c.outcome),
                );
                format!(
                    "<li><span class=\"o {o}\">{}</span> <a href=\"#{}\">{}</a></li>",
                    o.label(),
                    scenario_anchor(&s.name),
                    esc(&s.name)
                )
            })
            .collect();
        let _ = write!(
            h,
            "<tr id=\"{}\"><td><details><summary>{}</summary><ul>{scenarios}</ul></details></td><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"cell-{}\"><span class=\"o {}\">{}{waived}</span></td></tr>",
            requirement_anchor(&r.id),
            esc(&r.id),
            esc(r.title.as_deref().unwrap_or("")),
            n[0],
            n[1],
            n[2],
            n[3],
            r.outcome,
            r.outcome,
            r.outcome.label()
        );
    }
    h.push_str("</table>\n");
}

fn scenario(h: &mut String, s: &ScenarioReport) {
    let outcome = s.outcome();
    let open = if matches!(outcome, Outcome::Fail | Outcome::Error) {
        " open"
    } else {
        ""
    };
    let t = crate::model::Totals::of_checks(&s.checks);
    let _ = write!(
        h,
        "<details class=\"scenario\" id=\"{}\"{open}><summary><span class=\"o {outcome}\">{}</span> {} <span class=\"muted\">({} checks, {} calls)</span></summary>",
        scenario_anchor(&s.name),
        outcome.label(),
        esc(&s.name),
        t.checks,
        s.calls.len()
    );
    let mut facts = Vec::new();
    if !s.description.is_empty() {
        facts.push(esc(&s.description));
    }
    if let Some(f) = &s.file {
        facts.push(format!("file <code>{}</code>", esc(f)));
    }
    if !s.requirements.is_empty() {
        facts.push(format!("requirements {}", esc(&s.requirements.join(", "))));
    }
    facts.push(format!(
        "duration {}.{:03} s",
        s.duration_ms / 1000,
        s.duration_ms % 1000
    ));
    let _ = write!(h, "<p class=\"muted\">{}</p>", facts.join("; "));
    h.push_str("<table><tr><th>Outcome</th><th>Check</th><th>Requirement</th><th>Expected</th><th>Observed</th><th>Message</th></tr>");
    if s.checks.is_empty() {
        h.push_str("<tr><td class=\"cell-error\"><span class=\"o error\">ERROR</span></td><td colspan=\"5\">the scenario judged no checks</td></tr>");
    }
    for c in &s.checks {
        let _ = write!(
            h,
            "<tr><td class=\"cell-{}\"><span class=\"o {}\">{}</span></td><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            c.outcome,
            c.outcome,
            c.outcome.label(),
            esc(&c.id),
            esc(c.requirement.as_deref().unwrap_or("")),
            esc(c.expected.as_deref().unwrap_or("")),
            esc(c.observed.as_deref().unwrap_or("")),
            esc(&c.message)
        );
    }
    h.push_str("</table>");
    if !s.calls.is_empty() {
        calls(h, s);
    }
    h.push_str("</details>\n");
}

fn calls(h: &mut String, s: &ScenarioReport) {
    h.push_str("<table><tr><th>#</th><th>Call-ID</th><th>Dial</th><th>ANI sent</th><th>ANI at gateway</th><th>Gateways tried</th><th>Status</th><th class=\"num\">Setup ms</th><th>TLS</th></tr>");
    for (i, c) in s.calls.iter().enumerate() {
        let num = if c.trace.is_empty() {
            (i + 1).to_string()
        } else {
            format!("<a href=\"#{}\">{}</a>", call_anchor(&s.name, i), i + 1)
        };
        let _ = write!(
            h,
            "<tr><td>{num}</td><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"num\">{}</td><td>{}</td></tr>",
            esc(&c.call_id),
            esc(&c.dial),
            esc(&c.ani),
            esc(c.ani_observed.as_deref().unwrap_or("")),
            esc(&gateways_tried(c)),
            esc(&call_status(c)),
            c.setup_us.map(ms3).unwrap_or_default(),
            esc(&call_tls(c).map(tls_text).unwrap_or_default())
        );
    }
    h.push_str("</table>");
    let traced = s.calls.iter().filter(|c| !c.trace.is_empty()).count();
    if traced < s.calls.len() {
        let _ = write!(
            h,
            "<p class=\"muted\">Ladders of {traced} of {} calls: the first calls, and every call that ended differently from the first (report.json and the pcapng trace hold the rest).</p>",
            s.calls.len()
        );
    }
    // A failed scenario opens the ladder its failures point to.
    let failed = matches!(s.outcome(), Outcome::Fail | Outcome::Error);
    let evidence = evidence_anchor(s);
    for (i, c) in s.calls.iter().enumerate() {
        if c.trace.is_empty() && c.attempts.len() < 2 {
            continue;
        }
        let anchor = call_anchor(&s.name, i);
        let open = if failed && anchor == evidence {
            " open"
        } else {
            ""
        };
        let _ = write!(
            h,
            "<details id=\"{anchor}\"{open}><summary>Call {}: {} from {}, {} ({} messages)</summary>",
            i + 1,
            esc(&c.dial),
            esc(&c.ani),
            esc(&call_status(c)),
            c.trace.len()
        );
        ladder::timeline(h, c);
        ladder::render(h, s, c);
        h.push_str("</details>");
    }
}
