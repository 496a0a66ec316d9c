//! `e911-harness load` end to end against the embedded gateways over TLS: short, bounded runs
//! that check the accounting identity and that every report is written. No timing asserts: the
//! lag bound is set out of reach so a busy CI machine cannot make these flake.

use std::path::Path;

use clap::Parser;
use harness::cli::{Cli, Command, run_command};
use harness::exit::EXIT_USAGE;
use harness::load::{self, LoadArgs};

fn args(extra: &[&str]) -> LoadArgs {
    let mut v = vec!["e911-harness", "load"];
    v.extend_from_slice(extra);
    match Cli::try_parse_from(v) {
        Ok(Cli {
            command: Command::Load(a),
        }) => a,
        other => panic!("{other:?}"),
    }
}

fn read_report(dir: &Path) -> reports::RunReport {
    let text = std::fs::read_to_string(dir.join("report.json")).unwrap();
    reports::from_json_str(&text).unwrap()
}

fn assert_files(dir: &Path) {
    for f in ["report.json", "junit.xml", "summary.md", "setup.hlog"] {
        let p = dir.join(f);
        assert!(
            p.metadata().map(|m| m.len() > 0).unwrap_or(false),
            "{} missing",
            p.display()
        );
    }
    let hlog = std::fs::read_to_string(dir.join("setup.hlog")).unwrap();
    assert!(hlog.contains("#[StartTime:"), "{hlog}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_calls_over_tls_are_all_accounted_and_reported() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("load");
    let a = args(&[
        "--rate",
        "200",
        "--calls",
        "200",
        "--duration",
        "5s",
        "--connections",
        "2",
        "--max-lag",
        "60s",
        "--slo",
        "p99_setup<60s,isa<=100%",
        "--quiet",
        "--out",
        out.to_str().unwrap(),
    ]);
    let code = load::load_cmd(a).await.unwrap();
    assert_files(&out);
    let r = read_report(&out);
    let l = r.load.as_ref().expect("load section");
    let c = l.counts;
    assert_eq!(c.attempted, 200);
    assert!(c.balanced(), "{c:?}");
    assert_eq!(code, 0, "{:?}", r.scenarios[0].checks);
    assert!(l.metrics.contains_key("setup"));
    assert_eq!(l.slos.len(), 2);
    let ids: Vec<&str> = r.scenarios[0]
        .checks
        .iter()
        .map(|c| c.id.as_str())
        .collect();
    assert_eq!(
        ids,
        [
            "load.accounting",
            "load.valid",
            "load.calls",
            "slo p99_setup<60s",
            "slo isa<=100%"
        ]
    );
    let junit = std::fs::read_to_string(out.join("junit.xml")).unwrap();
    assert!(junit.contains("slo p99_setup&lt;60s"), "{junit}");
    let md = std::fs::read_to_string(out.join("summary.md")).unwrap();
    assert!(md.contains("| setup |"), "{md}");
    // Calls went to both gateways.
    let gws: std::collections::BTreeSet<&str> =
        l.breakdown.iter().map(|b| b.gateway.as_str()).collect();
    assert_eq!(gws.into_iter().collect::<Vec<_>>(), ["gw1", "gw2"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_per_call_records_handshakes_and_a_broken_slo_exits_1() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("percall");
    let a = args(&[
        "--rate",
        "50",
        "--calls",
        "30",
        "--connection-per-call",
        "--max-lag",
        "60s",
        "--slo",
        "p50_setup<1us",
        "--quiet",
        "--out",
        out.to_str().unwrap(),
    ]);
    let code = load::load_cmd(a).await.unwrap();
    assert_files(&out);
    let l = read_report(&out).load.unwrap();
    assert_eq!(l.counts.attempted, 30);
    assert!(l.counts.balanced());
    assert_eq!(
        l.tls_handshakes,
        l.counts.attempted - l.errored_by_cause.values().sum::<u64>()
    );
    assert!(l.metrics.contains_key("tls_handshake"));
    assert_eq!(code, 1, "setup under 1 us cannot hold");
}

#[tokio::test]
async fn bad_input_is_rejected_naming_the_flag() {
    for (flags, _why) in [
        (vec!["--rate", "0"], "--rate"),
        (vec!["--rate", "-3"], "--rate"),
        (vec!["--duration", "0s"], "--duration"),
        (vec!["--max-concurrent", "0"], "--max-concurrent"),
        (vec!["--connections", "0"], "--connections"),
        (vec!["--slo", "p99_setup<<5"], "--slo"),
        (vec!["--mix", "911"], "--mix"),
        (vec!["--profile", "ramp:5"], "--profile"),
    ] {
        let a = args(&flags);
        let err = load::check(&a).unwrap_err();
        assert!(err.contains(_why), "{flags:?}: {err}");
        assert_eq!(
            run_command(Command::Load(a)).await.unwrap(),
            EXIT_USAGE,
            "{flags:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_beyond_the_concurrency_cap_are_refused_and_counted_not_dropped() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("cap");
    // Calls 5 ms apart, each held 300 ms: with a cap of 2 the third due call cannot start.
    let a = args(&[
        "--transport",
        "tcp",
        "--rate",
        "200",
        "--calls",
        "20",
        "--hold",
        "300ms",
        "--max-concurrent",
        "2",
        "--max-lag",
        "60s",
        "--quiet",
        "--out",
        out.to_str().unwrap(),
    ]);
    load::load_cmd(a).await.unwrap();
    let l = read_report(&out).load.unwrap();
    assert_eq!(l.counts.attempted, 20);
    assert!(l.counts.balanced(), "{:?}", l.counts);
    let refused = l
        .errored_by_cause
        .get("refused_max_concurrent")
        .copied()
        .unwrap_or(0);
    assert!(refused >= 1, "{:?}", l.errored_by_cause);
    assert!(l.max_concurrent <= 2);
    assert_eq!(l.counts.answered + refused, 20, "{:?}", l.errored_by_cause);
}
