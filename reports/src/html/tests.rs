use super::*;
use crate::sample::sample_report;
use crate::trace::TraceMessage;

fn msg(at_us: u64, from: &str, to: &str, text: &str) -> TraceMessage {
    TraceMessage {
        at_us,
        received_at_us: Some(at_us + 40),
        from: from.into(),
        to: to.into(),
        src: "127.0.0.1:40000".into(),
        dst: "127.0.0.1:5061".into(),
        transport: "tls".into(),
        text: text.into(),
    }
}

fn traced() -> RunReport {
    let mut r = sample_report();
    let call = &mut r.scenarios[1].calls[0];
    call.trace = vec![
        msg(
            1_000,
            "trunk",
            "gw1",
            "INVITE sip:911@gw1 SIP/2.0\r\nCall-ID: f81d4fae-7dec@harness\r\nCSeq: 1 INVITE\r\n\r\n<script>alert(1)</script>",
        ),
        msg(
            2_000,
            "gw1",
            "trunk",
            "SIP/2.0 503 Service Unavailable\r\nCall-ID: f81d4fae-7dec@harness\r\nCSeq: 1 INVITE\r\n\r\n",
        ),
        msg(
            4_100,
            "trunk",
            "gw2",
            "INVITE sip:911@gw2 SIP/2.0\r\nCall-ID: f81d4fae-7dec@harness\r\nCSeq: 1 INVITE\r\n\r\n",
        ),
        msg(
            5_000,
            "gw2",
            "trunk",
            "SIP/2.0 200 OK\r\nCall-ID: f81d4fae-7dec@harness\r\nCSeq: 1 INVITE\r\n\r\n",
        ),
    ];
    r
}

#[test]
fn run_page_has_verdict_matrix_failures_and_ladders() {
    let h = to_html(&traced(), &Inputs::default());
    assert!(h.starts_with("<!DOCTYPE html>"));
    assert!(
        h.contains("<span class=\"verdict error\">ERROR</span>"),
        "verdict"
    );
    assert!(h.contains("Content-Security-Policy"), "no fetches allowed");
    assert!(
        !h.contains("http://") && !h.contains("https://"),
        "nothing from the network"
    );
    assert!(h.contains("id=\"req-ICD-5.1.9\""), "matrix row anchor");
    assert!(h.contains("<h2 id=\"failures\">What failed</h2>"));
    let anchor = call_anchor("failover-gw2-keeps-org-header", 0);
    assert!(
        h.contains(&format!("<a href=\"#{anchor}\">ladder</a>")),
        "failure links its ladder"
    );
    assert!(
        h.contains(&format!("<details id=\"{anchor}\" open>")),
        "the failed scenario's ladder is there, open"
    );
    assert!(
        h.contains("<div class=\"ladder\" style=\"--lanes:3\">"),
        "trunk, gw1, gw2"
    );
    assert!(h.contains("INVITE 911</span></summary>"), "arrow label");
    assert!(
        h.contains("503 Service Unavailable (INVITE)"),
        "response arrow"
    );
    assert!(
        h.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "message text escaped"
    );
    assert!(!h.contains("<script>alert"), "never raw");
    assert!(h.contains("Failover timeline"), "two attempts: a timeline");
    assert!(h.contains("+3.100"), "offset of the second INVITE");
}

#[test]
fn a_load_page_plots_from_the_interval_log() {
    let mut r = sample_report();
    let mut l = crate::load::LoadReport::default();
    l.counts.attempted = 300;
    l.counts.answered = 300;
    l.metrics.insert(
        "setup".into(),
        crate::load::Percentiles {
            count: 300,
            p50_us: 5_000,
            p90_us: 9_000,
            p99_us: 10_000,
            p999_us: 10_000,
            max_us: 12_000,
            min_us: 100,
            mean_us: 5_000.0,
        },
    );
    r.load = Some(l);
    let log = intervals::tests::sample_log();
    let with = to_html(
        &r,
        &Inputs {
            interval_log: Some(&log),
        },
    );
    assert!(with.contains("Setup latency by percentile"));
    assert!(with.contains("interval log)"), "the full distribution");
    assert!(with.contains("<h2 id=\"over-time\">"));
    assert_eq!(
        with.matches("<svg").count(),
        3,
        "distribution, latency and rate over time"
    );
    let without = to_html(&r, &Inputs::default());
    assert!(without.contains("setup (report percentiles)"));
    assert!(!without.contains("over-time"));
}

#[test]
fn escaping_and_anchors() {
    assert_eq!(
        esc("<a href=\"x\">'&'</a>"),
        "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
    );
    assert_eq!(call_anchor("org missing/1", 2), "call-org-missing-1-3");
    assert_eq!(requirement_anchor("ICD 5.1.9"), "req-ICD-5.1.9");
}

#[test]
fn a_load_page_breaks_the_run_down_by_number_and_step() {
    use crate::load::LoadCounts;
    use crate::load_detail::{AniCheck, SliceRow};
    let row = |label: &str, answered: u64, timed_out: u64, offered: Option<f64>| SliceRow {
        label: label.into(),
        counts: LoadCounts {
            attempted: answered + timed_out,
            answered,
            rejected: 0,
            timed_out,
            errored: 0,
        },
        offered_cps: offered,
        achieved_cps: offered.map(|o| o - 1.0),
        setup: None,
        ser_pct: 99.5,
        isa_pct: 0.5,
        scr_pct: 99.5,
    };
    let mut r = sample_report();
    r.load = Some(crate::load::LoadReport {
        by_dial: vec![row("911", 90, 0, None), row("933", 10, 2, None)],
        by_step: vec![row("step 1: 100/s", 200, 0, Some(100.0))],
        ani_check: Some(AniCheck {
            checked: 100,
            mismatched: 3,
            examples: vec!["call 7: expected +13125550100, gateway saw <+1312>".into()],
            ..AniCheck::default()
        }),
        ..Default::default()
    });
    let html = to_html(&r, &Inputs::default());
    assert!(html.contains("<a href=\"#breakdown\">"));
    assert!(html.contains("<th>dialed number</th>"));
    assert!(html.contains("<td>933</td>"));
    assert!(
        html.contains("<td class=\"num cell-fail\">2</td>"),
        "933's timeouts"
    );
    assert!(
        html.contains(
            "<td>step 1: 100/s</td><td class=\"num\">100.0</td><td class=\"num\">99.0</td>"
        )
    );
    assert!(html.contains("100 INVITEs compared with their row"));
    assert!(html.contains("3 with another ANI"));
    assert!(
        html.contains("gateway saw &lt;+1312&gt;"),
        "examples are escaped"
    );
    let plain = to_html(
        &{
            let mut r = sample_report();
            r.load = Some(crate::load::LoadReport::default());
            r
        },
        &Inputs::default(),
    );
    assert!(!plain.contains("breakdown"));
}
