//! report.html in a real browser: headless Chromium (Debian's `chromium`) loads the pages that
//! `certify`, a failing `run` and `load` write, with no console message at all (no script
//! error, no blocked fetch: the page is self-contained), the key parts in the DOM, and a
//! screenshot kept under `target/evidence/` for CI:
//! - `certify.png`: the shipped library's verdict, topology and requirements matrix;
//! - `ladder.png`: a failed scenario, its failure with expected/observed, its open SIP ladder;
//! - `load.png`: a load run's outcome counts, SLOs, latency distribution and plots over time.
//!
//! And `e911-harness report REPORT.json` renders the same page and summary from the report
//! alone.

use std::path::Path;

use clap::Parser as _;
use e2e::tools::{self, Rendered};
use harness::cli::{Cli, run_command};

async fn e911(args: &[&str]) -> u8 {
    let cli = Cli::try_parse_from(std::iter::once("e911-harness").chain(args.iter().copied()))
        .expect("arguments parse");
    run_command(cli.command).await.expect("command runs")
}

fn quiet(r: &Rendered, page: &str) {
    assert!(
        r.console.is_empty(),
        "{page}: the page must load without any console message:\n{}",
        r.console.join("\n")
    );
    assert!(r.dom.contains("</html>"), "{page}: loaded");
}

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn certify_report_loads_in_chromium_and_re_renders_from_json() {
    let evidence = tools::evidence_dir();
    let out = evidence.join("certify");
    let _ = std::fs::remove_dir_all(&out);
    let dir = out.display().to_string();
    assert_eq!(e911(&["certify", "--out", &dir]).await, 0);
    let page = out.join("report.html");
    let r = tools::render(&page, &evidence.join("certify.png"), 1800);
    quiet(&r, "certify");
    let dom = &r.dom;
    assert!(
        dom.contains("<span class=\"verdict pass\">PASSED</span>"),
        "verdict"
    );
    assert!(
        dom.contains("direct: harness -&gt; embedded gw1, gw2 over tls"),
        "topology"
    );
    assert!(
        dom.contains("<h2 id=\"requirements\">"),
        "requirements matrix"
    );
    for req in ["ICD 5.1.9", "ICD 5.3", "RFC 3261"] {
        let row = format!("id=\"{}\"", reports::html::requirement_anchor(req));
        assert!(dom.contains(&row), "matrix row {req}");
    }
    let basic = reports::html::call_anchor("basic-911", 0);
    assert!(
        dom.contains(&format!("<details id=\"{basic}\">")),
        "a call's ladder"
    );
    assert!(
        dom.matches("class=\"ladder\"").count() >= 40,
        "ladders for the library's calls"
    );
    assert!(
        dom.contains("Failover timeline"),
        "failover calls have timelines"
    );

    // The same page and summary again, from report.json alone.
    let html = read(&page);
    let md = read(&out.join("summary.md"));
    std::fs::remove_file(&page).unwrap();
    std::fs::remove_file(out.join("summary.md")).unwrap();
    let json = out.join("report.json").display().to_string();
    assert_eq!(e911(&["report", &json]).await, 0);
    assert_eq!(read(&page), html, "report.html re-rendered identically");
    assert_eq!(
        read(&out.join("summary.md")),
        md,
        "summary.md re-rendered identically"
    );
    assert!(md.lines().count() <= 150, "summary.md is one page: {md}");
    let other = evidence.join("certify-again");
    let _ = std::fs::remove_dir_all(&other);
    let o = other.display().to_string();
    assert_eq!(e911(&["report", &json, "--markdown", "--out", &o]).await, 0);
    assert!(other.join("summary.md").is_file() && !other.join("report.html").exists());
    let missing = evidence.join("no-such-report.json").display().to_string();
    assert_eq!(
        e911(&["report", &missing]).await,
        2,
        "a missing report is bad input"
    );
}

/// A scenario that expects a rejection from a gateway that answers: its checks fail.
const FAILING: &str = r#"
name = "expects-403-gets-200"
description = "expects gw1 to refuse the call with 403, but gw1 answers it"
requirements = ["RFC 3261"]

[call]
dial = "911"
ani = "+13125550100"
hold = "20ms"

[expect]
status = 403
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_run_shows_its_ladder_open_in_chromium() {
    let evidence = tools::evidence_dir();
    let out = evidence.join("failed-run");
    let _ = std::fs::remove_dir_all(&out);
    std::fs::create_dir_all(&out).unwrap();
    let scenario = out.join("expects-403.toml");
    std::fs::write(&scenario, FAILING).unwrap();
    let (dir, sc) = (out.display().to_string(), scenario.display().to_string());
    assert_eq!(
        e911(&["run", &sc, "--out", &dir]).await,
        1,
        "a check failed"
    );
    let r = tools::render(&out.join("report.html"), &evidence.join("ladder.png"), 2400);
    quiet(&r, "failed run");
    let dom = &r.dom;
    let anchor = reports::html::call_anchor("expects-403-gets-200", 0);
    assert!(dom.contains("<span class=\"verdict fail\">FAILED</span>"));
    assert!(dom.contains("<h2 id=\"failures\">What failed</h2>"));
    assert!(
        dom.contains(&format!("<a href=\"#{anchor}\">ladder</a>")),
        "failure -> ladder"
    );
    assert!(
        dom.contains(&format!("<details id=\"{anchor}\" open=\"\">")),
        "the failed call's ladder is open"
    );
    for label in [
        "INVITE 911",
        "200 OK (INVITE)",
        "ACK",
        "BYE",
        "200 OK (BYE)",
    ] {
        assert!(
            dom.contains(&format!(">{label}</span></summary>")),
            "arrow {label}"
        );
    }
    assert!(
        dom.contains("TLS to gw1: TLSv1.2"),
        "the trunk's TLS session"
    );
    assert!(
        dom.contains("TLS at gw1: TLSv1.2"),
        "the gateway's TLS session"
    );
    let md = read(&out.join("summary.md"));
    assert!(
        md.contains(&format!("([ladder](report.html#{anchor}))")),
        "summary points at the ladder: {md}"
    );
    let junit = read(&out.join("junit.xml"));
    assert!(
        junit.contains("<system-out>ladder of call "),
        "JUnit carries the ladder"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn load_report_plots_load_in_chromium() {
    let evidence = tools::evidence_dir();
    let out = evidence.join("load");
    let _ = std::fs::remove_dir_all(&out);
    let dir = out.display().to_string();
    let code = e911(&[
        "load",
        "--transport",
        "tcp",
        "--rate",
        "100",
        "--duration",
        "3s",
        "--quiet",
        "--max-lag",
        "10s",
        "--slo",
        "p99_setup<10s",
        "--out",
        &dir,
    ])
    .await;
    assert_eq!(code, 0);
    let r = tools::render(&out.join("report.html"), &evidence.join("load.png"), 2000);
    quiet(&r, "load");
    let dom = &r.dom;
    assert!(dom.contains("<h2 id=\"outcomes\">Outcomes</h2>"));
    assert!(dom.contains("<code>p99_setup&lt;10s</code>"), "the SLO");
    assert!(
        dom.contains("Setup latency by percentile"),
        "distribution plot"
    );
    assert!(dom.contains("interval log)"), "drawn from setup.hlog");
    assert!(dom.contains("<h2 id=\"over-time\">"), "plots over time");
    assert_eq!(dom.matches("<svg").count(), 3);
}
