//! `report.html`: one self-contained page (styles, the one small script and every plot inline;
//! a Content-Security-Policy that forbids any fetch), readable without JavaScript: everything
//! that expands is a `<details>` element.
//!
//! - certify/run (`run`): verdict and topology on top, the requirements matrix (each row
//!   opens the scenarios behind it), what failed with a link to its call's ladder, then per
//!   scenario its checks (expected/observed), its calls, a SIP ladder per traced call
//!   ([`ladder`]: lanes trunk, sut/target, gw1, gw2; every message expands to its full text)
//!   and the failover timeline of calls that tried more than one gateway.
//! - load (`load`): outcome counts, SLOs, validity and generator lag, the setup-latency
//!   percentile distribution (log scale), latency and achieved rate over time from the interval
//!   log, the metrics table, and the find-max steps; plots are SVG drawn by plotters (`plot`).
//!
//! The script only opens the `<details>` an URL fragment points into (`#call-...`), so links
//! from summary.md and JUnit land on an open ladder.

use std::fmt::Write as _;

use crate::model::{RunReport, Verdict};

mod intervals;
pub mod ladder;
mod load;
mod plot;
pub(crate) mod run;

/// What the page is drawn from besides the report.
#[derive(Debug, Clone, Copy, Default)]
pub struct Inputs<'a> {
    /// The load run's interval log (`setup.hlog`), for the percentile distribution and the
    /// plots over time; without it the load view plots the report's percentiles only.
    pub interval_log: Option<&'a [u8]>,
}

/// The report as one HTML page.
pub fn to_html(report: &RunReport, inputs: &Inputs<'_>) -> String {
    let verdict = report.verdict();
    let command = if report.command.is_empty() {
        "run"
    } else {
        &report.command
    };
    let mut h = String::with_capacity(64 * 1024);
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>e911-harness {}: {}</title><style>{CSS}</style></head><body>\n",
        esc(command),
        verdict.label()
    );
    let _ = write!(
        h,
        "<header id=\"top\"><h1>e911-harness {} <span class=\"verdict {}\">{}</span></h1><dl class=\"facts\">",
        esc(command),
        verdict_class(verdict),
        verdict.label()
    );
    for (k, v) in [
        ("Topology", report.topology.as_str()),
        ("Started", report.started_at.as_str()),
        ("Tool", report.tool.as_str()),
    ] {
        let _ = write!(h, "<dt>{k}</dt><dd>{}</dd>", esc(v));
    }
    let t = &report.totals;
    let _ = write!(
        h,
        "<dt>Duration</dt><dd>{}.{:03} s</dd><dt>Checks</dt><dd>{} scenarios, {} checks: \
         <span class=\"o pass\">{} passed</span> <span class=\"o fail\">{} failed</span> \
         <span class=\"o error\">{} errors</span> <span class=\"o skipped\">{} skipped</span> \
         (exit code {})</dd></dl></header>",
        report.duration_ms / 1000,
        report.duration_ms % 1000,
        t.scenarios,
        t.checks,
        t.passed,
        t.failed,
        t.errors,
        t.skipped,
        verdict.exit_code()
    );
    h.push('\n');
    match &report.load {
        Some(l) => load::render(&mut h, report, l, inputs),
        None => run::render(&mut h, report),
    }
    let _ = writeln!(h, "<script>{SCRIPT}</script></body></html>");
    h
}

/// The anchor of scenario `name`'s section.
pub fn scenario_anchor(name: &str) -> String {
    format!("sc-{}", slug(name))
}

/// The anchor of the `index`-th call (from 0) of scenario `name`: its ladder.
pub fn call_anchor(name: &str, index: usize) -> String {
    format!("call-{}-{}", slug(name), index + 1)
}

/// The anchor of requirement `id`'s row.
pub fn requirement_anchor(id: &str) -> String {
    format!("req-{}", slug(id))
}

fn slug(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.' {
                c
            } else {
                '-'
            }
        })
        .collect()
}

/// Escapes text for HTML content and attribute values.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn verdict_class(v: Verdict) -> &'static str {
    match v {
        Verdict::Passed => "pass",
        Verdict::Failed => "fail",
        Verdict::Error => "error",
    }
}

const SCRIPT: &str = "(function(){function open(){var id=decodeURIComponent(location.hash.slice(1));\
if(!id)return;var e=document.getElementById(id);\
for(var p=e;p;p=p.parentElement){if(p.tagName==='DETAILS')p.open=true;}\
if(e)e.scrollIntoView();}window.addEventListener('hashchange',open);open();})();";

const CSS: &str = r#"
:root{--pass:#1a7f37;--fail:#cf222e;--error:#9a6700;--skipped:#6e7781;--line:#d0d7de;--bg2:#f6f8fa}
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0 auto;max-width:1200px;padding:0 16px 48px;color:#1f2328}
h1{font-size:22px;margin:16px 0 8px}h2{font-size:18px;border-bottom:1px solid var(--line);padding-bottom:4px;margin-top:28px}
h3{font-size:15px;margin:16px 0 6px}
a{color:#0969da}
.verdict{color:#fff;border-radius:6px;padding:2px 10px;font-size:16px;vertical-align:middle}
.verdict.pass{background:var(--pass)}.verdict.fail{background:var(--fail)}.verdict.error{background:var(--error)}
.facts{display:grid;grid-template-columns:max-content 1fr;gap:2px 12px;margin:0}.facts dt{font-weight:600}.facts dd{margin:0}
nav{margin:12px 0;padding:6px 0;border-top:1px solid var(--line);border-bottom:1px solid var(--line)}nav a{margin-right:14px}
table{border-collapse:collapse;width:100%;margin:6px 0 10px;font-size:13px}
th,td{border:1px solid var(--line);padding:3px 6px;text-align:left;vertical-align:top;overflow-wrap:anywhere}
th{background:var(--bg2)}td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
.o{font-weight:600;white-space:nowrap}.o.pass{color:var(--pass)}.o.fail{color:var(--fail)}.o.error{color:var(--error)}.o.skipped{color:var(--skipped)}
td.cell-pass{background:#dafbe1}td.cell-fail{background:#ffebe9}td.cell-error{background:#fff8c5}td.cell-skipped{background:#f6f8fa}
details{margin:4px 0}summary{cursor:pointer}
details.scenario{border:1px solid var(--line);border-radius:6px;padding:4px 10px;margin:6px 0}
details.scenario>summary{font-weight:600}
.muted{color:#59636e}
code,pre{font:12px/1.4 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
pre{background:var(--bg2);padding:8px;overflow-x:auto;white-space:pre-wrap;word-break:break-all;margin:2px 0 8px}
.ladder{border:1px solid var(--line);border-radius:6px;padding:6px 8px;margin:6px 0 12px;background:#fff}
.ladder .row,.ladder summary{display:grid;grid-template-columns:7em repeat(var(--lanes),minmax(7em,1fr));align-items:end;min-height:26px;list-style:none}
.ladder summary::-webkit-details-marker{display:none}
.ladder details{margin:0}
.ladder .life{grid-row:1;border-left:1px dashed #8c959f;height:100%}
.ladder .t{grid-column:1;grid-row:1;font:12px ui-monospace,monospace;color:#59636e}
.ladder .head{font-weight:700;align-items:center}
.ladder .head span{grid-row:1;transform:translateX(-50%);text-align:center;width:max-content;background:#fff;padding:0 4px;border:1px solid var(--line);border-radius:4px}
.ladder .arrow{grid-row:1;position:relative;border-bottom:2px solid #0969da;font:12px ui-monospace,monospace;text-align:center;padding:0 8px 1px;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
.ladder .arrow.resp{border-bottom-color:#1a7f37}.ladder .arrow.fail{border-bottom-color:#cf222e;color:#cf222e}
.ladder .arrow::after{content:"";position:absolute;bottom:-6px;border:5px solid transparent}
.ladder .arrow.right::after{right:-1px;border-left:8px solid currentColor;border-right:0}
.ladder .arrow.left::after{left:-1px;border-right:8px solid currentColor;border-left:0}
.ladder .arrow{color:#0969da}.ladder .arrow.resp{color:#1a7f37}
.ladder .note{grid-row:1;font-size:12px;background:#fff8c5;border:1px solid #d4a72c;border-radius:4px;padding:0 6px;margin:2px 0 2px 6px;align-self:center}
.ladder .note.tls{background:#ddf4ff;border-color:#54aeff}.ladder .note.bad{background:#ffebe9;border-color:#ff8182}
.ladder summary:hover .arrow{background:#f6f8fa}
.timeline{margin:4px 0 12px}.timeline .bar{position:relative;height:22px;border-bottom:1px solid var(--line)}
.timeline .seg{position:absolute;top:3px;height:16px;border-radius:3px;font-size:11px;color:#fff;padding:0 4px;white-space:nowrap;overflow:visible;min-width:2px}
.timeline .seg.answered{background:var(--pass)}.timeline .seg.rejected,.timeline .seg.failed{background:var(--fail)}.timeline .seg.skipped{background:var(--skipped)}
.timeline .lab{display:inline-block;width:5em;font-weight:600}
.plot svg{max-width:100%;height:auto;border:1px solid var(--line);border-radius:6px}
.plots{display:grid;grid-template-columns:repeat(auto-fit,minmax(520px,1fr));gap:12px}
"#;

#[cfg(test)]
mod tests;
