//! `summary.md`: a GitHub-flavoured Markdown summary to attach to a change request.
//!
//! Order: title with the verdict, run facts, totals, "What failed" (only when something failed
//! or errored), the requirements matrix, then one section per scenario with its checks and
//! calls. All report text is escaped: `&`, `<`, `>` as entities, `|` as `\|` and line breaks as
//! `<br>`, so no value can break a table or inject markup.

use std::fmt::Write as _;

use crate::describe::{call_status, call_tls, failure_text, gateways_tried, ms, tls_text};
use crate::model::{Outcome, RunReport, ScenarioReport};

/// The report as a Markdown document.
pub fn to_markdown(report: &RunReport) -> String {
    let mut md = String::new();
    let verdict = report.verdict();
    let title = if report.command.is_empty() {
        "run"
    } else {
        report.command.as_str()
    };
    let _ = writeln!(md, "# e911-harness {}: {}\n", esc(title), verdict.label());
    for (k, v) in [
        ("Tool", report.tool.as_str()),
        ("Command", report.command.as_str()),
        ("Started", report.started_at.as_str()),
        ("Topology", report.topology.as_str()),
    ] {
        let _ = writeln!(md, "- **{k}:** {}", esc(v));
    }
    let _ = writeln!(md, "- **Duration:** {}", seconds(report.duration_ms));
    let t = &report.totals;
    let _ = writeln!(
        md,
        "\n**Totals:** {} scenarios, {} checks: {} passed, {} failed, {} errors, {} skipped. Verdict **{}** (exit code {}).\n",
        t.scenarios,
        t.checks,
        t.passed,
        t.failed,
        t.errors,
        t.skipped,
        verdict.label(),
        verdict.exit_code()
    );
    what_failed(&mut md, report);
    if let Some(load) = &report.load {
        crate::load::markdown(&mut md, load);
    }
    matrix(&mut md, report);
    for s in &report.scenarios {
        scenario(&mut md, s);
    }
    md
}

fn what_failed(md: &mut String, report: &RunReport) {
    let mut lines = Vec::new();
    for s in &report.scenarios {
        if s.checks.is_empty() {
            lines.push(format!(
                "- **ERROR** {}: the scenario judged no checks",
                esc(&s.name)
            ));
        }
        for c in s
            .checks
            .iter()
            .filter(|c| matches!(c.outcome, Outcome::Fail | Outcome::Error))
        {
            let req = c
                .requirement
                .as_deref()
                .map(|r| format!(" ({})", esc(r)))
                .unwrap_or_default();
            lines.push(format!(
                "- **{}** {} / `{}`{req}: {}",
                c.outcome.label(),
                esc(&s.name),
                code(&c.id),
                esc(&failure_text(c))
            ));
        }
    }
    if lines.is_empty() {
        return;
    }
    let _ = writeln!(md, "## What failed\n");
    for l in lines {
        let _ = writeln!(md, "{l}");
    }
    md.push('\n');
}

fn matrix(md: &mut String, report: &RunReport) {
    let _ = writeln!(md, "## Requirements\n");
    if report.requirements.is_empty() {
        let _ = writeln!(md, "No scenario or check named a requirement.\n");
        return;
    }
    let _ = writeln!(
        md,
        "| Requirement | Title | Scenarios | Outcome |\n|---|---|---|---|"
    );
    for r in &report.requirements {
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} |",
            esc(&r.id),
            esc(r.title.as_deref().unwrap_or("")),
            esc(&r.scenarios.join(", ")),
            match r.waived {
                0 => r.outcome.label().to_owned(),
                n => format!("{} ({n} waived)", r.outcome.label()),
            }
        );
    }
    md.push('\n');
    not_covered(md, report);
}

/// The catalogue requirements this run did not prove, and how to establish each instead.
fn not_covered(md: &mut String, report: &RunReport) {
    if report.not_covered.is_empty() {
        return;
    }
    let _ = writeln!(
        md,
        "Not covered by this run (no scenario can observe them on the wire, or another tool proves them):\n"
    );
    let _ = writeln!(
        md,
        "| Requirement | Title | How to establish it |\n|---|---|---|"
    );
    for r in &report.not_covered {
        let _ = writeln!(
            md,
            "| {} | {} | {} |",
            esc(&r.id),
            esc(&r.title),
            esc(r.note.as_deref().unwrap_or("no shipped scenario covers it"))
        );
    }
    md.push('\n');
}

fn scenario(md: &mut String, s: &ScenarioReport) {
    let _ = writeln!(md, "## {} {}\n", s.outcome().label(), esc(&s.name));
    if !s.description.is_empty() {
        let _ = writeln!(md, "{}\n", esc(&s.description));
    }
    let mut facts = Vec::new();
    if let Some(f) = &s.file {
        facts.push(format!("file `{}`", code(f)));
    }
    if !s.requirements.is_empty() {
        facts.push(format!("requirements {}", esc(&s.requirements.join(", "))));
    }
    facts.push(format!("duration {}", seconds(s.duration_ms)));
    let _ = writeln!(md, "{}\n", facts.join("; "));

    if s.checks.is_empty() {
        let _ = writeln!(md, "No checks were judged.\n");
    } else {
        let _ = writeln!(
            md,
            "| Outcome | Check | Requirement | Expected | Observed | Message |\n|---|---|---|---|---|---|"
        );
        for c in &s.checks {
            let _ = writeln!(
                md,
                "| {} | {} | {} | {} | {} | {} |",
                c.outcome.label(),
                esc(&c.id),
                esc(c.requirement.as_deref().unwrap_or("")),
                esc(c.expected.as_deref().unwrap_or("")),
                esc(c.observed.as_deref().unwrap_or("")),
                esc(&c.message)
            );
        }
        md.push('\n');
    }

    if !s.calls.is_empty() {
        let _ = writeln!(
            md,
            "| Call-ID | Dial | ANI | Gateways tried | Status | Setup ms | TLS |\n|---|---|---|---|---|---|---|"
        );
        for call in &s.calls {
            let _ = writeln!(
                md,
                "| {} | {} | {} | {} | {} | {} | {} |",
                esc(&call.call_id),
                esc(&call.dial),
                esc(&call.ani),
                esc(&gateways_tried(call)),
                esc(&call_status(call)),
                call.setup_us.map(ms).unwrap_or_default(),
                esc(&call_tls(call).map(tls_text).unwrap_or_default())
            );
        }
        md.push('\n');
    }
}

fn seconds(duration_ms: u64) -> String {
    format!("{}.{:03} s", duration_ms / 1000, duration_ms % 1000)
}

/// Escapes text for a Markdown table cell or inline position.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '|' => out.push_str("\\|"),
            '\\' | '`' | '*' | '[' | ']' => {
                out.push('\\');
                out.push(c);
            }
            '\r' => {
                if chars.peek() == Some(&'\n') {
                    chars.next();
                }
                out.push_str("<br>");
            }
            '\n' => out.push_str("<br>"),
            c => out.push(c),
        }
    }
    out
}

/// Text inside a backtick code span: backticks cannot be escaped there, so they are replaced.
fn code(s: &str) -> String {
    s.replace('`', "'").replace(['\r', '\n'], " ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sample::sample_report;

    #[test]
    fn escapes_pipes_newlines_and_markup() {
        assert_eq!(esc("a|b"), "a\\|b");
        assert_eq!(
            esc("line1\nline2\r\nline3\rline4"),
            "line1<br>line2<br>line3<br>line4"
        );
        assert_eq!(
            esc("<sip:911@gw1> & *x*"),
            "&lt;sip:911@gw1&gt; &amp; \\*x\\*"
        );
        assert_eq!(esc("org_id [v] \\ `c`"), "org_id \\[v\\] \\\\ \\`c\\`");
        assert_eq!(code("a`b\nc"), "a'b c");
    }

    /// Cells in a table row: unescaped pipes minus one.
    fn cells(row: &str) -> usize {
        row.replace("\\\\", "")
            .replace("\\|", "")
            .matches('|')
            .count()
            - 1
    }

    #[test]
    fn table_rows_keep_their_column_count() {
        let md = to_markdown(&sample_report());
        let mut tables = 0;
        let mut lines = md.lines().peekable();
        while let Some(header) = lines.next() {
            if !header.starts_with('|') {
                continue;
            }
            tables += 1;
            let width = cells(header);
            while let Some(row) = lines.next_if(|l| l.starts_with('|')) {
                assert_eq!(cells(row), width, "row breaks its table:\n{header}\n{row}");
            }
        }
        assert_eq!(
            tables,
            1 + 1 + 3 + 3,
            "matrix, not covered, three checks tables, three call tables"
        );
    }

    #[test]
    fn summary_has_verdict_facts_and_failures_first() {
        let md = to_markdown(&sample_report());
        assert!(md.starts_with("# e911-harness certify: ERROR\n"), "{md}");
        assert!(
            md.contains("- **Topology:** direct (embedded gw1, gw2 over TLS)"),
            "{md}"
        );
        assert!(md.contains("- **Duration:** 1.234 s"), "{md}");
        assert!(
            md.contains(
                "**Totals:** 3 scenarios, 6 checks: 3 passed, 1 failed, 1 errors, 1 skipped."
            ),
            "{md}"
        );
        let failed = md.find("## What failed").expect("what failed section");
        assert!(failed < md.find("## Requirements").unwrap());
        assert!(md.contains(
            "- **FAIL** failover-gw2-keeps-org-header / `org-header.present-once` (ICD 5.1.9): expected E911-Organization-ID: 1 \\| exactly once, observed absent on gw2<br>(present on gw1): header lost on the retry to &lt;gw2&gt;"
        ), "{md}");
        assert!(
            md.contains("- **ERROR** tcp-refused / `scenario.run`"),
            "{md}"
        );
    }

    #[test]
    fn matrix_and_scenario_tables() {
        let md = to_markdown(&sample_report());
        assert!(md.contains("| ICD 5.1.9 | The organization header | 933-readback, failover-gw2-keeps-org-header | FAIL |"), "{md}");
        assert!(
            md.contains("| ICD 4 |  | 933-readback | SKIP (1 waived) |"),
            "{md}"
        );
        assert!(md.contains("## FAIL failover-gw2-keeps-org-header"), "{md}");
        assert!(
            md.contains(
                "| SKIP | tls.profile | ICD 4 |  |  | waived: lab SBC offers TLS 1.3 only |"
            ),
            "{md}"
        );
        assert!(md.contains(
            "| f81d4fae-7dec@harness | 911 | +13175550101 | gw1 503 -&gt; gw2 200 | 200 OK | 3.1 | TLSv1.2 TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384 (secp384r1, RSA 2048) |"
        ), "{md}");
        assert!(md.contains("| c0ffee@harness | 911 | +13175550102 | gw3 failed | error: all gateways failed |  |  |"), "{md}");
        assert!(md.contains("Not covered by this run"), "{md}");
        assert!(
            md.contains(
                "| ICD 5.1.1 | External trunk type | confirm it in the trunk configuration |"
            ),
            "{md}"
        );
    }

    #[test]
    fn passing_run_has_no_what_failed_section() {
        let mut r = sample_report();
        r.scenarios.truncate(1);
        r.finish(&|_| None);
        let md = to_markdown(&r);
        assert!(md.starts_with("# e911-harness certify: PASSED\n"), "{md}");
        assert!(!md.contains("What failed"), "{md}");
    }
}
