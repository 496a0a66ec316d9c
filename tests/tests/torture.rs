//! `e911-harness torture` against the harness's own gateway over TLS on loopback: every RFC
//! 4475/5118 message and every INVITE mutation is answered as a correct element answers it,
//! the gateway stays up (OPTIONS and a real 911 call after each batch), and the reports name
//! every case. The same command against Kamailio is in `kamailio.rs`.

use clap::Parser as _;
use harness::cli::{Cli, Command};
use harness::run::Embedded;
use sip::transport::TransportKind;
use tokio_util::sync::CancellationToken;

/// The `torture` arguments `args` parse to.
pub fn torture_args(args: &[&str]) -> harness::torture::TortureArgs {
    let cli = Cli::try_parse_from(["e911-harness", "torture"].iter().chain(args))
        .expect("torture arguments parse");
    match cli.command {
        Command::Torture(a) => a,
        other => panic!("parsed as {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_torture_case_passes_against_the_harness_gateway_and_it_stays_up() {
    let embedded = Embedded::start(TransportKind::Tls).await.expect("gateways");
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, &embedded.ca_pem).unwrap();
    let out = dir.path().join("torture");
    let target = embedded.gateways[0].local_addr().to_string();
    let a = torture_args(&[
        "--target",
        &target,
        "--ca",
        ca.to_str().unwrap(),
        "--case-timeout",
        "500ms",
        "--time-limit",
        "5m",
        "--out",
        out.to_str().unwrap(),
    ]);
    let code = harness::torture::torture_cmd(a, CancellationToken::new())
        .await
        .expect("torture runs");
    let report: reports::RunReport =
        serde_json::from_str(&std::fs::read_to_string(out.join("report.json")).unwrap()).unwrap();
    let failed: Vec<String> = report
        .scenarios
        .iter()
        .flat_map(|s| s.checks.iter().map(move |c| (s, c)))
        .filter(|(_, c)| c.outcome != reports::Outcome::Pass)
        .map(|(s, c)| {
            format!(
                "{} / {}: {:?} expected {:?}, observed {:?}: {}",
                s.name, c.id, c.outcome, c.expected, c.observed, c.message
            )
        })
        .collect();
    assert!(failed.is_empty(), "{}", failed.join("\n"));
    assert_eq!(code, 0);
    let cases: usize = report.scenarios.iter().map(|s| s.checks.len()).sum();
    assert!(cases > 100, "{cases} checks");
    // Liveness after every batch.
    for s in &report.scenarios {
        let ids: Vec<&str> = s.checks.iter().map(|c| c.id.as_str()).collect();
        assert!(
            ids.contains(&"liveness.options") && ids.contains(&"liveness.911-call"),
            "{}: {ids:?}",
            s.name
        );
    }
    let junit = std::fs::read_to_string(out.join("junit.xml")).unwrap();
    assert!(junit.contains("rfc4475/badvers") && junit.contains("sdp/port-negative"));
    embedded.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_interrupted_torture_run_is_reported_as_interrupted_with_every_case_skipped() {
    let embedded = Embedded::start(TransportKind::Tcp).await.expect("gateways");
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("torture");
    let target = embedded.gateways[0].local_addr().to_string();
    let a = torture_args(&[
        "--target",
        &target,
        "--transport",
        "tcp",
        "--only",
        "rfc4475/bad",
        "--out",
        out.to_str().unwrap(),
    ]);
    let cancel = CancellationToken::new();
    cancel.cancel();
    let code = harness::torture::torture_cmd(a, cancel).await.unwrap();
    assert_eq!(code, harness::exit::EXIT_INTERRUPTED);
    let junit = std::fs::read_to_string(out.join("junit.xml")).unwrap();
    assert!(
        junit.contains("run.completed") && junit.contains("INTERRUPTED"),
        "{junit}"
    );
    assert!(junit.contains("rfc4475/badvers"), "{junit}");
    embedded.shutdown().await;
}
