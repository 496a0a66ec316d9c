//! The compact terminal summary printed at the end of a run.
//!
//! One line per scenario with its outcome and counts, the checks that failed or errored
//! indented under it, and a final line with the totals and the verdict:
//!
//! ```text
//! PASS   933-readback  (3 checks: 2 passed, 1 skipped)
//! FAIL   failover-gw2-keeps-org-header  (2 checks: 1 passed, 1 failed)
//!        FAIL org-header.present-once [ICD 5.1.9]: expected 1, observed 0: header lost on gw2
//! certify: 2 scenarios, 5 checks: 3 passed, 1 failed, 0 errors, 1 skipped -> FAILED
//! ```

use std::fmt::Write as _;

use crate::describe::{failure_text, one_line};
use crate::model::{Outcome, RunReport, Totals, Verdict};

/// Renders the terminal summary (ends with a newline). Multi-line values are folded onto one
/// line so every entry stays one line.
pub fn render_summary_text(report: &RunReport) -> String {
    let mut out = String::new();
    for s in &report.scenarios {
        let t = Totals::of_checks(&s.checks);
        let counts = if t.checks == 0 {
            "no checks".to_owned()
        } else {
            scenario_counts(&t)
        };
        let _ = writeln!(
            out,
            "{:<6} {}  ({counts})",
            s.outcome().label(),
            one_line(&s.name)
        );
        for c in s
            .checks
            .iter()
            .filter(|c| matches!(c.outcome, Outcome::Fail | Outcome::Error))
        {
            let req = c
                .requirement
                .as_deref()
                .map(|r| format!(" [{r}]"))
                .unwrap_or_default();
            let _ = writeln!(
                out,
                "       {} {}{req}: {}",
                c.outcome.label(),
                c.id,
                one_line(&failure_text(c))
            );
        }
    }
    // Counted here, not read from `report.totals`, so the line is right even before `finish`.
    let mut t = Totals::of_checks(report.scenarios.iter().flat_map(|s| &s.checks));
    t.scenarios = report.scenarios.len();
    let verdict: Verdict = report.verdict();
    let command = if report.command.is_empty() {
        "run"
    } else {
        report.command.as_str()
    };
    let _ = writeln!(
        out,
        "{command}: {} scenarios, {} checks: {} passed, {} failed, {} errors, {} skipped -> {}",
        t.scenarios,
        t.checks,
        t.passed,
        t.failed,
        t.errors,
        t.skipped,
        verdict.label()
    );
    out
}

fn scenario_counts(t: &Totals) -> String {
    let parts: Vec<String> = [
        (t.passed, "passed"),
        (t.failed, "failed"),
        (t.errors, "errors"),
        (t.skipped, "skipped"),
    ]
    .into_iter()
    .filter(|(n, _)| *n > 0)
    .map(|(n, what)| format!("{n} {what}"))
    .collect();
    format!("{} checks: {}", t.checks, parts.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sample::sample_report;

    #[test]
    fn one_line_per_scenario_with_failures_indented_and_totals_last() {
        let text = render_summary_text(&sample_report());
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines,
            [
                "PASS   933-readback  (3 checks: 2 passed, 1 skipped)",
                "FAIL   failover-gw2-keeps-org-header  (2 checks: 1 passed, 1 failed)",
                "       FAIL org-header.present-once [ICD 5.1.9]: expected E911-Organization-ID: 1 | exactly once, observed absent on gw2 / (present on gw1): header lost on the retry to <gw2>",
                "ERROR  tcp-refused  (1 checks: 1 errors)",
                "       ERROR scenario.run: scenario sends to gateway 'gw3' but this run has only gw1, gw2",
                "certify: 3 scenarios, 6 checks: 3 passed, 1 failed, 1 errors, 1 skipped -> FAILED",
            ]
        );
    }

    #[test]
    fn final_line_says_passed_when_all_pass_and_error_when_empty() {
        let mut r = sample_report();
        r.scenarios.truncate(1);
        assert!(render_summary_text(&r).ends_with(
            "certify: 1 scenarios, 3 checks: 2 passed, 0 failed, 0 errors, 1 skipped -> PASSED\n"
        ));
        r.scenarios[0].checks.clear();
        let text = render_summary_text(&r);
        assert!(
            text.starts_with("ERROR  933-readback  (no checks)\n"),
            "{text}"
        );
        assert!(text.ends_with("-> ERROR\n"), "{text}");
    }
}
