//! The certification suite end to end over real TLS on loopback.

use std::time::{Duration, SystemTime};

use e2e::context;
use harness::run::{self, Embedded};
use reports::{Outcome, Verdict};
use sip::transport::TransportKind;

fn never() -> bool {
    false
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shipped_library_passes_over_tls() {
    let scenarios = scenarios::shipped().expect("shipped library loads");
    assert!(
        scenarios.len() >= 8,
        "the library ships at least the 8 foundation scenarios"
    );
    let embedded = Embedded::start(TransportKind::Tls)
        .await
        .expect("embedded gateways start");
    let ctx = context(&embedded);
    let reports = run::run_scenarios(&scenarios, &ctx, &never, |_| {}).await;
    let report = run::assemble(
        "certify",
        "test",
        SystemTime::now(),
        Duration::ZERO,
        reports,
    );
    embedded.shutdown().await;
    let failures: Vec<String> = report
        .scenarios
        .iter()
        .flat_map(|s| {
            s.checks
                .iter()
                .filter(|c| c.outcome != Outcome::Pass)
                // Scenarios that place many calls with no hold (random-split, health) carry
                // media too short to judge, and a media fault leaves a direction without a
                // packet to judge: skipped with that reason, never passed.
                .filter(|c| {
                    !(c.outcome == Outcome::Skipped
                        && c.id.starts_with("media.")
                        && (c.message.contains("too short to judge its media")
                            || c.message.contains("to judge (see media.flow)")))
                })
                .map(move |c| format!("{}: {}: {}", s.name, c.id, c.message))
        })
        .collect();
    assert!(
        failures.is_empty(),
        "checks that did not pass:\n{}",
        failures.join("\n")
    );
    assert_eq!(report.verdict(), Verdict::Passed);
    for s in &report.scenarios {
        assert!(!s.checks.is_empty(), "{} judged nothing", s.name);
        // One call, or `[run] calls` of them for a routed scenario; a routed call may fail
        // its first attempt's handshake on purpose, so TLS is asked of some attempt.
        assert!(!s.calls.is_empty(), "{} placed a call", s.name);
        // A non-emergency number is refused by the trunk's own number plan: never sent.
        if !scenarios::is_emergency_number(&s.calls[0].dial) {
            for c in &s.calls {
                assert_eq!(
                    c.attempts[0].outcome,
                    Some(reports::AttemptOutcome::NotRouted),
                    "{}: {c:?}",
                    s.name
                );
            }
            assert!(s.observations.is_empty(), "{}: a gateway saw it", s.name);
            continue;
        }
        for c in &s.calls {
            let tls = c
                .attempts
                .iter()
                .find_map(|a| a.tls.as_ref())
                .expect("the call went over TLS");
            assert!(tls.version.starts_with("TLSv1."), "{tls:?}");
        }
        assert!(
            !s.observations.is_empty(),
            "{}: the gateway recorded the call",
            s.name
        );
    }
    // The 933 read-back was really checked, not skipped.
    let rb = report
        .scenarios
        .iter()
        .flat_map(|s| &s.checks)
        .find(|c| c.id == "readback.number")
        .expect("a read-back check ran");
    assert_eq!(rb.outcome, Outcome::Pass);
    // Every requirement a scenario names appears in the matrix.
    assert!(report.requirements.iter().any(|r| r.id == "ICD 5.1.9"));
}

const WRONG: &str = r#"
name = "wrong-expectation"
description = "A call without an org header, wrongly expected to be answered"
requirements = ["ICD 5.1.9"]

[call]
dial = "911"
ani = "+13125550100"
org_headers = []

[expect]
status = 200
org_finding = "ok"
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_expectation_fails_and_says_why() {
    let sc = scenarios::load_str(WRONG, "wrong.toml").expect("valid scenario");
    let reports = e2e::run_embedded(std::slice::from_ref(&sc)).await;
    let checks = &reports[0].checks;
    let status = checks
        .iter()
        .find(|c| c.id == "call.final-status")
        .expect("status checked");
    assert_eq!(status.outcome, Outcome::Fail);
    assert!(status.message.contains("403"), "{}", status.message);
    let org = checks
        .iter()
        .find(|c| c.id == "org-header.finding")
        .expect("org checked");
    assert_eq!(org.outcome, Outcome::Fail);
    assert!(org.message.contains("missing"), "{}", org.message);
    let report = run::assemble("run", "test", SystemTime::now(), Duration::ZERO, reports);
    assert_eq!(report.verdict(), Verdict::Failed);
    assert_eq!(report.verdict().exit_code(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_untrusted_gateway_certificate_is_an_error_not_a_pass() {
    let sc: Vec<_> = scenarios::shipped()
        .expect("shipped library loads")
        .into_iter()
        .filter(|s| s.name == "basic-911")
        .collect();
    assert_eq!(sc.len(), 1, "basic-911 ships");
    let embedded = Embedded::start(TransportKind::Tls)
        .await
        .expect("embedded gateways start");
    // A client that trusts a different CA.
    let other = sip::transport::certs::Authority::generate("some other CA").expect("ca");
    let mut ctx = context(&embedded);
    ctx.uac.tls =
        Some(sip::transport::client_config(other.cert_pem().as_bytes()).expect("client config"));
    ctx.uac.tls_trust = Some(harness::originate::tls::TlsTrust::ca(
        other.cert_pem().as_bytes(),
    ));
    let reports = run::run_scenarios(&sc, &ctx, &never, |_| {}).await;
    embedded.shutdown().await;
    let record = &reports[0].calls[0];
    let err = record.error.as_deref().expect("the call failed");
    assert!(err.to_ascii_lowercase().contains("certificate"), "{err}");
    let report = run::assemble("run", "test", SystemTime::now(), Duration::ZERO, reports);
    assert_ne!(report.verdict(), Verdict::Passed);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_interrupted_run_accounts_for_every_scenario() {
    let scenarios = scenarios::shipped().expect("library");
    let embedded = Embedded::start(TransportKind::Tls)
        .await
        .expect("embedded gateways start");
    let ctx = context(&embedded);
    let stop = || true;
    let reports = run::run_scenarios(&scenarios, &ctx, &stop, |_| {}).await;
    embedded.shutdown().await;
    assert_eq!(reports.len(), scenarios.len());
    for r in &reports {
        assert_eq!(r.checks[0].outcome, Outcome::Error);
        assert!(r.checks[0].message.contains("interrupted"));
    }
}
