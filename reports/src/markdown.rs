//! `summary.md`: one page to attach to a change request (GitHub-flavoured Markdown).
//!
//! Order: title with the verdict, run facts and totals, "What failed" (only when something
//! failed or errored: expected/observed and a link to the call's ladder in `report.html`, at
//! most [`FAILURE_LINES`] lines), the requirements matrix with scenario counts per outcome,
//! what this run did not cover, and the scenarios that did not apply to its topology, grouped
//! by reason. Per-scenario checks, calls and ladders are in `report.html` and `report.json`.
//!
//! Report text is escaped so that it shows as written, raw or rendered: `<` becomes `\<` (no
//! HTML, no autolink), `|` `\|`, Markdown punctuation is backslash-escaped, `&` only where it
//! would start an entity, and line breaks become `<br>` inside tables.

use std::fmt::Write as _;

use crate::describe::failure_text;
use crate::html::run::{failures, not_applicable_groups, requirement_counts};
use crate::model::RunReport;
use crate::write::HTML_FILE;

/// The most failure lines the page lists; the rest are counted and left to `report.html`.
pub const FAILURE_LINES: usize = 40;

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
    let _ = writeln!(md, "- **Topology:** {}", esc(&report.topology));
    let _ = writeln!(
        md,
        "- **Started:** {}; **duration** {}; {}",
        esc(&report.started_at),
        seconds(report.duration_ms),
        esc(&report.tool)
    );
    let t = &report.totals;
    let _ = writeln!(
        md,
        "- **Checks:** {} scenarios, {} checks: {} passed, {} failed, {} errors, {} skipped. Verdict **{}** (exit code {}).",
        t.scenarios,
        t.checks,
        t.passed,
        t.failed,
        t.errors,
        t.skipped,
        verdict.label(),
        verdict.exit_code()
    );
    let _ = writeln!(
        md,
        "- **Evidence:** [{HTML_FILE}]({HTML_FILE}) (checks, calls and the SIP ladder of each call), report.json, junit.xml\n"
    );
    what_failed(&mut md, report);
    if let Some(load) = &report.load {
        crate::load::markdown(&mut md, load);
    }
    matrix(&mut md, report);
    not_covered(&mut md, report);
    not_applicable(&mut md, report);
    md
}

fn what_failed(md: &mut String, report: &RunReport) {
    let mut lines = Vec::new();
    for s in report.scenarios.iter().filter(|s| s.checks.is_empty()) {
        lines.push(format!(
            "- **ERROR** {}: the scenario judged no checks",
            esc(&s.name)
        ));
    }
    for (s, c, link) in failures(report) {
        let req = c
            .requirement
            .as_deref()
            .map(|r| format!(" ({})", esc(r)))
            .unwrap_or_default();
        lines.push(format!(
            "- **{}** {} / `{}`{req}: {} ([ladder]({HTML_FILE}#{link}))",
            c.outcome.label(),
            esc(&s.name),
            code(&c.id),
            esc(&failure_text(c))
        ));
    }
    if lines.is_empty() {
        return;
    }
    let _ = writeln!(md, "## What failed\n");
    let total = lines.len();
    for l in lines.into_iter().take(FAILURE_LINES) {
        let _ = writeln!(md, "{l}");
    }
    if total > FAILURE_LINES {
        let _ = writeln!(
            md,
            "- ... and {} more: see [{HTML_FILE}]({HTML_FILE}#failures)",
            total - FAILURE_LINES
        );
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
        "Scenarios per requirement by their outcome for it.\n\n| Requirement | Title | Scenarios | Pass | Fail | Error | Skipped | Outcome |\n|---|---|--:|--:|--:|--:|--:|---|"
    );
    for r in &report.requirements {
        let n = requirement_counts(report, &r.id);
        let _ = writeln!(
            md,
            "| [{}]({HTML_FILE}#{}) | {} | {} | {} | {} | {} | {} | {} |",
            esc(&r.id),
            crate::html::requirement_anchor(&r.id),
            esc(r.title.as_deref().unwrap_or("")),
            n.iter().sum::<usize>(),
            n[0],
            n[1],
            n[2],
            n[3],
            match r.waived {
                0 => r.outcome.label().to_owned(),
                w => format!("{} ({w} waived)", r.outcome.label()),
            }
        );
    }
    md.push('\n');
}

/// The catalogue requirements this run did not prove, and how to establish each instead.
fn not_covered(md: &mut String, report: &RunReport) {
    if report.not_covered.is_empty() {
        return;
    }
    let _ = writeln!(
        md,
        "## Not covered\n\nNo scenario can observe these on the wire, or another tool proves them:\n\n| Requirement | Title | How to establish it |\n|---|---|---|"
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

/// Scenarios that did not apply to this topology, grouped by reason.
fn not_applicable(md: &mut String, report: &RunReport) {
    let groups = not_applicable_groups(report);
    if groups.is_empty() {
        return;
    }
    let _ = writeln!(md, "## Not applicable in this topology\n");
    for (why, names) in groups {
        let _ = writeln!(
            md,
            "- **{} scenario(s):** {} ({})",
            names.len(),
            esc(why),
            names
                .iter()
                .map(|n| format!("`{}`", code(n)))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    md.push('\n');
}

fn seconds(duration_ms: u64) -> String {
    format!("{}.{:03} s", duration_ms / 1000, duration_ms % 1000)
}

/// Escapes text for a Markdown table cell or inline position, so it shows as written.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    let mut first = true;
    while let Some(c) = chars.next() {
        match c {
            '&' if chars
                .peek()
                .is_some_and(|n| n.is_ascii_alphanumeric() || *n == '#') =>
            {
                out.push_str("&amp;");
            }
            '<' | '|' | '\\' | '`' | '*' | '[' | ']' => {
                out.push('\\');
                out.push(c);
            }
            '>' if first => out.push_str("\\>"),
            '\r' => {
                if chars.peek() == Some(&'\n') {
                    chars.next();
                }
                out.push_str("<br>");
            }
            '\n' => out.push_str("<br>"),
            c => out.push(c),
        }
        first = false;
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
    fn escapes_so_text_shows_as_written() {
        assert_eq!(esc("a|b"), "a\\|b");
        assert_eq!(
            esc("line1\nline2\r\nline3\rline4"),
            "line1<br>line2<br>line3<br>line4"
        );
        assert_eq!(esc("harness -> embedded gw1"), "harness -> embedded gw1");
        assert_eq!(
            esc("<sip:911@gw1> & *x* &amp;"),
            "\\<sip:911@gw1> & \\*x\\* &amp;amp;"
        );
        assert_eq!(esc("> quote"), "\\> quote");
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
        assert_eq!(tables, 2, "matrix and not covered; no per-scenario tables");
    }

    #[test]
    fn summary_has_verdict_facts_and_failures_with_ladders() {
        let md = to_markdown(&sample_report());
        assert!(md.starts_with("# e911-harness certify: ERROR\n"), "{md}");
        assert!(
            md.contains("- **Topology:** direct (embedded gw1, gw2 over TLS)"),
            "{md}"
        );
        assert!(md.contains("**duration** 1.234 s"), "{md}");
        assert!(
            md.contains(
                "- **Checks:** 3 scenarios, 6 checks: 3 passed, 1 failed, 1 errors, 1 skipped."
            ),
            "{md}"
        );
        let failed = md.find("## What failed").expect("what failed section");
        assert!(failed < md.find("## Requirements").unwrap());
        assert!(md.contains(
            "- **FAIL** failover-gw2-keeps-org-header / `org-header.present-once` (ICD 5.1.9): expected E911-Organization-ID: 1 \\| exactly once, observed absent on gw2<br>(present on gw1): header lost on the retry to \\<gw2> ([ladder](report.html#sc-failover-gw2-keeps-org-header))"
        ), "{md}");
        assert!(
            md.contains("- **ERROR** tcp-refused / `scenario.run`"),
            "{md}"
        );
        assert!(
            !md.contains("f81d4fae-7dec@harness"),
            "no call tables: {md}"
        );
    }

    #[test]
    fn matrix_counts_scenarios_and_links_the_html() {
        let md = to_markdown(&sample_report());
        assert!(
            md.contains("| [ICD 5.1.9](report.html#req-ICD-5.1.9) | The organization header | 2 | 1 | 1 | 0 | 0 | FAIL |"),
            "{md}"
        );
        assert!(
            md.contains(
                "| [ICD 4](report.html#req-ICD-4) |  | 1 | 0 | 0 | 0 | 1 | SKIP (1 waived) |"
            ),
            "{md}"
        );
        assert!(md.contains("## Not covered"), "{md}");
        assert!(
            md.contains(
                "| ICD 5.1.1 | External trunk type | confirm it in the trunk configuration |"
            ),
            "{md}"
        );
    }

    #[test]
    fn not_applicable_scenarios_are_grouped_by_reason() {
        let mut r = sample_report();
        for (i, s) in r.scenarios.iter_mut().enumerate() {
            s.not_applicable = Some(if i < 2 { "needs gw1/gw2" } else { "other" }.into());
        }
        let md = to_markdown(&r);
        assert!(
            md.contains("- **2 scenario(s):** needs gw1/gw2 (`933-readback`, `failover-gw2-keeps-org-header`)"),
            "{md}"
        );
        assert!(
            md.contains("- **1 scenario(s):** other (`tcp-refused`)"),
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
