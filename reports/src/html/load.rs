//! The load view: outcome counts, SLOs, validity and generator lag, the setup-latency
//! distribution and the plots over time, the metrics, and the find-max steps.

use std::fmt::Write as _;

use super::plot::{Series, XAxis, chart, percentile_x};
use super::{Inputs, esc, intervals};
use crate::load::{LoadReport, Percentiles};
use crate::model::RunReport;
use crate::trace::ms3;

pub(super) fn render(h: &mut String, report: &RunReport, l: &LoadReport, inputs: &Inputs<'_>) {
    let intervals = inputs
        .interval_log
        .map(intervals::parse)
        .unwrap_or_default();
    h.push_str("<nav><a href=\"#outcomes\">Outcomes</a><a href=\"#slos\">SLOs</a><a href=\"#latency\">Latency</a>");
    if !intervals.is_empty() {
        h.push_str("<a href=\"#over-time\">Over time</a>");
    }
    h.push_str("<a href=\"#metrics\">Metrics</a>");
    if !l.by_dial.is_empty() || !l.by_step.is_empty() {
        h.push_str("<a href=\"#breakdown\">Breakdown</a>");
    }
    if l.find_max.is_some() {
        h.push_str("<a href=\"#find-max\">Find max</a>");
    }
    h.push_str("</nav>\n");
    let cfg = &l.config;
    let _ = write!(
        h,
        "<p>Profile <b>{}</b> against {} over {} ({}); hold {} ms, timeout {} ms, concurrency cap {}, mix {}{}.</p>",
        esc(&cfg.profile),
        esc(&cfg.target),
        esc(&cfg.transport),
        esc(&cfg.connections),
        cfg.hold_ms,
        cfg.timeout_ms,
        cfg.max_concurrent,
        esc(&cfg.mix),
        if l.interrupted {
            "; <b>interrupted</b>"
        } else {
            ""
        }
    );
    outcomes(h, l);
    slos(h, report, l);
    latency(h, l, &intervals);
    if !intervals.is_empty() {
        over_time(h, &intervals);
    }
    metrics(h, l);
    breakdown(h, l);
    find_max(h, l);
}

fn outcomes(h: &mut String, l: &LoadReport) {
    let c = &l.counts;
    let pct = |n: u64| {
        if c.attempted == 0 {
            0.0
        } else {
            n as f64 * 100.0 / c.attempted as f64
        }
    };
    h.push_str("<h2 id=\"outcomes\">Outcomes</h2><table><tr><th>attempted</th><th>answered</th><th>rejected</th><th>timed out</th><th>errored</th></tr>");
    let _ = write!(
        h,
        "<tr><td class=\"num\">{}</td><td class=\"num cell-pass\">{} ({:.2}%)</td><td class=\"num{}\">{} ({:.2}%)</td><td class=\"num{}\">{} ({:.2}%)</td><td class=\"num{}\">{} ({:.2}%)</td></tr></table>",
        c.attempted,
        c.answered,
        pct(c.answered),
        bad(c.rejected),
        c.rejected,
        pct(c.rejected),
        bad(c.timed_out),
        c.timed_out,
        pct(c.timed_out),
        bad(c.errored),
        c.errored,
        pct(c.errored)
    );
    let causes: Vec<(String, u64)> = l
        .rejected_by_status
        .iter()
        .map(|(s, n)| (format!("rejected {s}"), *n))
        .chain(
            l.errored_by_cause
                .iter()
                .map(|(s, n)| (format!("errored {s}"), *n)),
        )
        .chain(
            l.teardown_failures
                .iter()
                .map(|(s, n)| (format!("teardown {s}"), *n)),
        )
        .collect();
    if !causes.is_empty() {
        h.push_str("<table><tr><th>failure</th><th class=\"num\">calls</th></tr>");
        for (what, n) in causes {
            let _ = write!(
                h,
                "<tr><td>{}</td><td class=\"num\">{n}</td></tr>",
                esc(&what)
            );
        }
        h.push_str("</table>");
    }
    let r = &l.rfc6076;
    let _ = write!(
        h,
        "<p>Offered <b>{:.1}/s</b>, achieved <b>{:.1}/s</b>; max concurrent {}; late starts {}; retransmissions {}; TLS handshakes {} ({} full, {} resumed, {} of pooled connections). RFC 6076: SER {:.3}%, SEER {:.3}%, ISA {:.3}%, SCR {:.3}%.</p>",
        l.offered_cps,
        l.achieved_cps,
        l.max_concurrent,
        l.late_starts,
        l.retransmissions,
        l.tls_handshakes,
        l.tls.full,
        l.tls.resumed,
        l.tls.pooled,
        r.ser_pct,
        r.seer_pct,
        r.isa_pct,
        r.scr_pct
    );
}

fn bad(n: u64) -> &'static str {
    if n > 0 { " cell-fail" } else { "" }
}

fn slos(h: &mut String, report: &RunReport, l: &LoadReport) {
    h.push_str("<h2 id=\"slos\">SLOs and validity</h2>");
    if l.slos.is_empty() {
        h.push_str("<p class=\"muted\">No --slo was given.</p>");
    } else {
        h.push_str("<table><tr><th>SLO</th><th>observed</th><th>result</th></tr>");
        for s in &l.slos {
            let (class, label) = if s.passed {
                ("pass", "PASS")
            } else {
                ("fail", "FAIL")
            };
            let _ = write!(
                h,
                "<tr><td><code>{}</code></td><td>{}</td><td class=\"cell-{class}\"><span class=\"o {class}\">{label}</span></td></tr>",
                esc(&s.slo),
                esc(&s.observed)
            );
        }
        h.push_str("</table>");
    }
    let v = &l.validity;
    let _ = write!(
        h,
        "<p>Run <span class=\"o {}\">{}</span>{}: generator lag (INVITE written - intended start) p50 {} ms, p99 {} ms, max {} ms; bound on p99 {} ms.</p>",
        if v.valid { "pass" } else { "fail" },
        if v.valid { "valid" } else { "INVALID" },
        v.reason
            .as_deref()
            .map(|r| format!(" ({})", esc(r)))
            .unwrap_or_default(),
        ms3(v.lag_p50_us),
        ms3(v.lag_p99_us),
        ms3(v.lag_max_us),
        ms3(v.lag_bound_us)
    );
    let checks: Vec<_> = report.scenarios.iter().flat_map(|s| &s.checks).collect();
    if !checks.is_empty() {
        h.push_str("<details><summary>Checks of the run</summary><table><tr><th>Outcome</th><th>Check</th><th>Expected</th><th>Observed</th><th>Message</th></tr>");
        for c in checks {
            let _ = write!(
                h,
                "<tr><td class=\"cell-{}\"><span class=\"o {}\">{}</span></td><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td></tr>",
                c.outcome,
                c.outcome,
                c.outcome.label(),
                esc(&c.id),
                esc(c.expected.as_deref().unwrap_or("")),
                esc(c.observed.as_deref().unwrap_or("")),
                esc(&c.message)
            );
        }
        h.push_str("</table></details>");
    }
}

/// A summary's percentiles as points on the percentile axis (ms).
fn summary_points(p: &Percentiles) -> Vec<(f64, f64)> {
    let ms = |us: u64| us as f64 / 1000.0;
    let mut v = vec![
        (percentile_x(0.5), ms(p.p50_us)),
        (percentile_x(0.9), ms(p.p90_us)),
        (percentile_x(0.99), ms(p.p99_us)),
        (percentile_x(0.999), ms(p.p999_us)),
    ];
    if p.count > 0 {
        let top = percentile_x(1.0 - 1.0 / p.count.max(2) as f64).max(3.0);
        v.push((top, ms(p.max_us)));
    }
    v
}

fn latency(h: &mut String, l: &LoadReport, intervals: &[intervals::Interval]) {
    h.push_str("<h2 id=\"latency\">Setup latency distribution</h2>");
    let mut series = Vec::new();
    match intervals::merged(intervals) {
        Some(all) if !all.is_empty() => {
            let top = (all.len() as f64).log10().clamp(2.0, 5.0);
            let mut points: Vec<(f64, f64)> = (0..=200)
                .map(|i| {
                    let x = top * f64::from(i) / 200.0;
                    let q = 1.0 - 10f64.powf(-x);
                    (x, all.value_at_quantile(q) as f64 / 1000.0)
                })
                .collect();
            points.push((top, all.max() as f64 / 1000.0));
            series.push(Series {
                name: format!("setup, answered ({} calls, interval log)", all.len()),
                points,
                dots: false,
            });
        }
        _ => {
            if let Some(p) = l.metrics.get("setup") {
                series.push(Series {
                    name: "setup (report percentiles)".into(),
                    points: summary_points(p),
                    dots: true,
                });
            }
        }
    }
    for (name, what) in [
        ("setup_uncorrected", "setup from the INVITE write"),
        ("lag", "generator lag"),
    ] {
        if let Some(p) = l.metrics.get(name).filter(|p| p.count > 0) {
            series.push(Series {
                name: what.into(),
                points: summary_points(p),
                dots: true,
            });
        }
    }
    if series.is_empty() {
        h.push_str("<p class=\"muted\">No latency was recorded (no call was answered).</p>");
        return;
    }
    let _ = write!(
        h,
        "<p class=\"muted\">Setup runs from each call's intended start to its final response (HdrHistogram, 3 significant digits); the percentile axis is logarithmic.</p><div class=\"plot\">{}</div>",
        chart(
            "Setup latency by percentile",
            XAxis::Percentile,
            "ms",
            &series
        )
    );
}

fn over_time(h: &mut String, intervals: &[intervals::Interval]) {
    let q = |p: f64| -> Vec<(f64, f64)> {
        intervals
            .iter()
            .filter(|i| !i.hist.is_empty())
            .map(|i| (i.start_s, i.hist.value_at_quantile(p) as f64 / 1000.0))
            .collect()
    };
    let latency = [("p50", q(0.5)), ("p99", q(0.99)), ("max", q(1.0))]
        .into_iter()
        .map(|(n, points)| Series {
            name: n.into(),
            points,
            dots: false,
        })
        .collect::<Vec<_>>();
    let rate = vec![Series {
        name: "answered per second".into(),
        points: intervals
            .iter()
            .map(|i| (i.start_s, i.hist.len() as f64 / i.length_s.max(1e-3)))
            .collect(),
        dots: false,
    }];
    let _ = write!(
        h,
        "<h2 id=\"over-time\">Over time</h2><p class=\"muted\">From the interval log (one histogram per second of answered calls, by the second each call was answered).</p><div class=\"plots\"><div class=\"plot\">{}</div><div class=\"plot\">{}</div></div>",
        chart(
            "Setup latency per second",
            XAxis::Linear("seconds into the run"),
            "ms",
            &latency
        ),
        chart(
            "Achieved rate",
            XAxis::Linear("seconds into the run"),
            "calls/s",
            &rate
        )
    );
}

fn metrics(h: &mut String, l: &LoadReport) {
    h.push_str("<h2 id=\"metrics\">Metrics</h2><table><tr><th>metric</th><th class=\"num\">count</th><th class=\"num\">p50 ms</th><th class=\"num\">p90 ms</th><th class=\"num\">p99 ms</th><th class=\"num\">p99.9 ms</th><th class=\"num\">max ms</th></tr>");
    let row = |h: &mut String, name: &str, p: &Percentiles| {
        let _ = write!(
            h,
            "<tr><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
            esc(name),
            p.count,
            ms3(p.p50_us),
            ms3(p.p90_us),
            ms3(p.p99_us),
            ms3(p.p999_us),
            ms3(p.max_us)
        );
    };
    for (name, p) in &l.metrics {
        row(h, name, p);
    }
    h.push_str("</table>");
    if !l.breakdown.is_empty() {
        h.push_str("<details><summary>Per metric, outcome and gateway</summary><table><tr><th>metric / outcome / gateway</th><th class=\"num\">count</th><th class=\"num\">p50 ms</th><th class=\"num\">p90 ms</th><th class=\"num\">p99 ms</th><th class=\"num\">p99.9 ms</th><th class=\"num\">max ms</th></tr>");
        for b in &l.breakdown {
            row(
                h,
                &format!("{} / {} / {}", b.metric, b.outcome, b.gateway),
                &b.percentiles,
            );
        }
        h.push_str("</table></details>");
    }
}

/// Per dialed number (`--mix`) and per step (`steps:`), and the gateways' ANI against the
/// `--callers` rows.
fn breakdown(h: &mut String, l: &LoadReport) {
    if l.by_dial.is_empty() && l.by_step.is_empty() && l.ani_check.is_none() {
        return;
    }
    h.push_str("<h2 id=\"breakdown\">Breakdown</h2>");
    slices(h, "dialed number", &l.by_dial);
    slices(h, "step", &l.by_step);
    if let Some(a) = &l.ani_check {
        let _ = write!(
            h,
            "<p>Caller rows: {} INVITEs compared with their row, <span class=\"{}\">{} with another ANI</span>, {} routed elsewhere than the row's location, {} not comparable.</p>",
            a.checked,
            bad(a.mismatched + a.routing_mismatched).trim(),
            a.mismatched,
            a.routing_mismatched,
            a.unchecked
        );
        if !a.examples.is_empty() {
            h.push_str("<ul>");
            for e in &a.examples {
                let _ = write!(h, "<li>{}</li>", esc(e));
            }
            h.push_str("</ul>");
        }
    }
}

fn slices(h: &mut String, what: &str, rows: &[crate::load_detail::SliceRow]) {
    if rows.is_empty() {
        return;
    }
    let _ = write!(
        h,
        "<table><tr><th>{what}</th><th class=\"num\">offered /s</th><th class=\"num\">achieved /s</th><th class=\"num\">attempted</th><th class=\"num\">answered</th><th class=\"num\">failed</th><th class=\"num\">setup p50 ms</th><th class=\"num\">setup p99 ms</th><th class=\"num\">SER %</th><th class=\"num\">ISA %</th></tr>"
    );
    let rate = |r: Option<f64>| r.map_or(String::new(), |r| format!("{r:.1}"));
    for r in rows {
        let c = &r.counts;
        let failed = c.rejected + c.timed_out + c.errored;
        let _ = write!(
            h,
            "<tr><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num{}\">{failed}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{:.3}</td><td class=\"num\">{:.3}</td></tr>",
            esc(&r.label),
            rate(r.offered_cps),
            rate(r.achieved_cps),
            c.attempted,
            c.answered,
            bad(failed),
            r.setup.as_ref().map_or(String::new(), |p| ms3(p.p50_us)),
            r.setup.as_ref().map_or(String::new(), |p| ms3(p.p99_us)),
            r.ser_pct,
            r.isa_pct
        );
    }
    h.push_str("</table>");
}

fn find_max(h: &mut String, l: &LoadReport) {
    let Some(f) = &l.find_max else {
        return;
    };
    let rate = |r: Option<f64>| r.map_or("none".to_owned(), |r| format!("{r:.1}/s"));
    let _ = write!(
        h,
        "<h2 id=\"find-max\">Find max</h2><p>Last passing rate <b>{}</b>, first failing rate <b>{}</b>: {}</p>",
        rate(f.last_pass_cps),
        rate(f.first_fail_cps),
        esc(&f.why)
    );
    let mut steps: Vec<(f64, f64)> = f
        .steps
        .iter()
        .map(|s| (s.rate, s.setup_p99_us as f64 / 1000.0))
        .collect();
    steps.sort_by(|a, b| a.0.total_cmp(&b.0));
    let _ = write!(
        h,
        "<div class=\"plot\">{}</div>",
        chart(
            "Setup p99 by offered rate",
            XAxis::Linear("offered calls/s"),
            "ms",
            &[Series {
                name: "setup p99 per step".into(),
                points: steps,
                dots: true,
            }]
        )
    );
    h.push_str("<table><tr><th>step</th><th class=\"num\">rate /s</th><th>result</th><th class=\"num\">attempted</th><th class=\"num\">answered</th><th class=\"num\">setup p99 ms</th><th>why</th></tr>");
    for (i, s) in f.steps.iter().enumerate() {
        let (class, label) = if s.passed {
            ("pass", "pass")
        } else {
            ("fail", "FAIL")
        };
        let _ = write!(
            h,
            "<tr><td class=\"num\">{}</td><td class=\"num\">{:.1}</td><td class=\"cell-{class}\">{label}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td>{}</td></tr>",
            i + 1,
            s.rate,
            s.attempted,
            s.answered,
            ms3(s.setup_p99_us),
            esc(&s.why)
        );
    }
    h.push_str("</table>");
}
