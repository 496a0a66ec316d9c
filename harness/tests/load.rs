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
    assert_eq!(l.tls.full + l.tls.resumed, l.tls_handshakes);
    assert!(
        l.tls.resumed > 0,
        "resumption is on by default: {:?}",
        l.tls
    );
    assert!(l.metrics.contains_key("tls_handshake"));
    assert_eq!(code, 1, "setup under 1 us cannot hold");
}

#[tokio::test]
async fn bad_input_is_refused_by_clap_naming_the_flag() {
    for (flags, why) in [
        (vec!["--rate", "0"], "--rate"),
        (vec!["--rate", "-3"], "--rate"),
        (vec!["--max-concurrent", "0"], "--max-concurrent"),
        (vec!["--connections", "0"], "--connections"),
        (vec!["--slo", "p99_setup<<5"], "--slo"),
        (vec!["--mix", "911"], "--mix"),
        (vec!["--profile", "ramp:5"], "--profile"),
        (vec!["--tls-profile", "tls13"], "--tls-profile"),
        (vec!["--tls-resumption", "maybe"], "--tls-resumption"),
        (vec!["--arrivals", "bursty"], "--arrivals"),
        (vec!["--shard", "2/2"], "--shard"),
        (vec!["--start-at", "soon"], "--start-at"),
        (vec!["--find-max-steps", "0"], "--find-max-steps"),
    ] {
        let mut v = vec!["e911-harness", "load"];
        v.extend_from_slice(&flags);
        let err = Cli::try_parse_from(v).unwrap_err().to_string();
        assert!(err.contains(why), "{flags:?}: {err}");
    }
}

#[tokio::test]
async fn bad_combinations_and_files_are_rejected_naming_the_flag() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("callers.csv");
    std::fs::write(&csv, "ani,org\n+13125550100,not-a-uuid\n").unwrap();
    let csv = csv.to_str().unwrap().to_owned();
    for (flags, why) in [
        (vec!["--duration", "0s"], "--duration"),
        (vec!["--find-max", "--shard", "0/2"], "--find-max"),
        (vec!["--callers", csv.as_str()], "callers.csv:2: org:"),
        (vec!["--start-at", "2999-01-01T00:00:00Z"], "--start-at"),
        (vec!["--media", "--hold", "100ms"], "--media needs --hold"),
    ] {
        let a = args(&flags);
        let err = load::check(&a).unwrap_err();
        assert!(err.contains(why), "{flags:?}: {err}");
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn full_handshakes_with_resumption_off_and_pooled_handshakes_are_counted() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("full");
    let a = args(&[
        "--rate",
        "40",
        "--calls",
        "12",
        "--connection-per-call",
        "--tls-resumption",
        "off",
        "--max-lag",
        "60s",
        "--quiet",
        "--out",
        out.to_str().unwrap(),
    ]);
    load::load_cmd(a).await.unwrap();
    let l = read_report(&out).load.unwrap();
    assert_eq!(l.counts.answered, 12, "{:?}", l.errored_by_cause);
    assert_eq!((l.tls.full, l.tls.resumed, l.tls.pooled), (12, 0, 0));
    assert_eq!(l.config.tls_resumption.as_deref(), Some("off"));

    // A pooled run: 2 connections to each of gw1 and gw2, each one handshake, no call its own.
    let out = dir.path().join("pooled");
    let a = args(&[
        "--rate",
        "100",
        "--calls",
        "20",
        "--connections",
        "2",
        "--max-lag",
        "60s",
        "--quiet",
        "--out",
        out.to_str().unwrap(),
    ]);
    load::load_cmd(a).await.unwrap();
    let l = read_report(&out).load.unwrap();
    assert_eq!(l.tls_handshakes, 4, "{:?}", l.tls);
    assert_eq!(l.tls.pooled, 4);
    assert_eq!(l.tls.full + l.tls.resumed, 4);
    let md = std::fs::read_to_string(out.join("summary.md")).unwrap();
    assert!(md.contains("TLS handshakes:** 4"), "{md}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn steps_and_the_mix_are_broken_down_and_poisson_arrivals_are_recorded() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("steps");
    let a = args(&[
        "--transport",
        "tcp",
        "--profile",
        "steps:20,40@1s",
        "--duration",
        "2s",
        "--mix",
        "911=50,933=50",
        "--arrivals",
        "poisson",
        "--seed",
        "42",
        "--max-lag",
        "60s",
        "--quiet",
        "--out",
        out.to_str().unwrap(),
    ]);
    load::load_cmd(a).await.unwrap();
    let l = read_report(&out).load.unwrap();
    assert_eq!((l.config.arrivals.as_str(), l.config.seed), ("poisson", 42));
    assert_eq!(l.by_step.len(), 2, "{:?}", l.by_step);
    assert_eq!(l.by_step[0].label, "step 1: 20/s");
    let steps: u64 = l.by_step.iter().map(|s| s.counts.attempted).sum();
    let dials: u64 = l.by_dial.iter().map(|s| s.counts.attempted).sum();
    assert_eq!((steps, dials), (l.counts.attempted, l.counts.attempted));
    assert_eq!(
        l.by_dial
            .iter()
            .map(|d| d.label.as_str())
            .collect::<Vec<_>>(),
        ["911", "933"]
    );
    // Poisson keeps the mean: 20 + 40 expected; bounds are many standard deviations wide.
    assert!(
        (25..=100).contains(&l.counts.attempted),
        "{}",
        l.counts.attempted
    );
    let md = std::fs::read_to_string(out.join("summary.md")).unwrap();
    assert!(
        md.contains("**Per step:**") && md.contains("**Per dialed number:**"),
        "{md}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn callers_drive_the_ani_and_org_the_gateways_see() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("callers.csv");
    std::fs::write(
        &csv,
        "ani,did,extension,org,location\n\
         +13125550100,,,,psap\n\
         +13125550101,+18005550199,,0d6c3a8e-1b2f-4c5d-9e7f-a1b2c3d4e5f6,\n\
         +13125550102,,4102,,\n",
    )
    .unwrap();
    let out = dir.path().join("callers");
    let a = args(&[
        "--rate",
        "60",
        "--calls",
        "30",
        "--callers",
        csv.to_str().unwrap(),
        "--caller-order",
        "random",
        "--max-lag",
        "60s",
        "--quiet",
        "--out",
        out.to_str().unwrap(),
    ]);
    let code = load::load_cmd(a).await.unwrap();
    let r = read_report(&out);
    let l = r.load.as_ref().unwrap();
    assert_eq!(
        l.counts.answered, 30,
        "every row's org is served: {:?}",
        l.rejected_by_status
    );
    let ani = l
        .ani_check
        .as_ref()
        .expect("checked against the embedded gateways");
    assert_eq!(
        (ani.checked, ani.mismatched, ani.routing_mismatched),
        (30, 0, 0),
        "{ani:?}"
    );
    assert!(
        l.config
            .callers
            .as_deref()
            .unwrap()
            .contains("3 rows, random")
    );
    assert_eq!(code, 0, "{:?}", r.scenarios[0].checks);
    assert!(
        r.scenarios[0]
            .checks
            .iter()
            .any(|c| c.id == "load.caller-ani")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn media_flows_on_every_call_and_is_reported_both_ways() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("load");
    let a = args(&[
        "--media",
        "--rate",
        "20",
        "--calls",
        "10",
        "--duration",
        "5s",
        "--hold",
        "500ms",
        "--max-lag",
        "60s",
        "--quiet",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(run_command(Command::Load(a)).await.unwrap(), 0);
    let report = read_report(&out);
    let l = report.load.expect("load section");
    let m = l.media.expect("media section");
    assert_eq!(m.calls, 10, "{m:?}");
    assert_eq!(
        (m.silent_calls, m.trunk_auth_failures, m.bind_failures),
        (0, 0, 0),
        "{m:?}"
    );
    assert!(
        m.trunk_sent >= 10 * 20 && m.trunk_received >= 10 * 20,
        "{m:?}"
    );
    let g = m.gateway.expect("the embedded gateways' side");
    assert_eq!(g.sessions, 10);
    assert!(g.received >= 10 * 20 && g.auth_failures == 0, "{g:?}");
    assert_eq!(m.jitter.count, 10);
    assert!(m.packets_per_second > 0.0);
    let md = std::fs::read_to_string(out.join("summary.md")).unwrap();
    assert!(md.contains("**Media (SRTP"), "{md}");
}
