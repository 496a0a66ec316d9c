//! A broken route must fail: with retry disabled, gw1's 503 ends the call, and the verdict says
//! which requirement broke and what was seen. Afterwards the gateways' faults are gone (a fault
//! never leaks into the next scenario).

use std::time::Duration;

use harness::originate::trunk::TRUNK_HOST;
use harness::originate::uac::UacConfig;
use harness::run::{Embedded, RunContext, run_scenarios};
use reports::Outcome;
use sip::transport::TransportKind;

const BROKEN: &str = r#"name = "broken-route-no-retry"
description = "A route that retries nothing: gw1's 503 must not be the end of the call, so this fails."
requirements = ["ICD 5.3"]

[call]
dial = "911"
ani = "+13125550140"
hold = "10ms"

[route]
retry_on_status = []
retry_on_q850 = []
attempt_timeout = "500ms"

[[fault]]
gateway = "gw1"
kind = "respond"
status = 503
q850 = 34

[expect]
status = 200
answered_by = "gw2"
attempts = 2
failover_within = "5s"
"#;

const AFTER: &str = r#"name = "plain-call-after"
description = "A plain call after the broken one is answered by gw1: the 503 fault is gone."
requirements = ["ICD 5.3"]

[call]
dial = "911"
ani = "+13125550141"
hold = "10ms"

[route]

[expect]
status = 200
answered_by = "gw1"
attempts = 1
"#;

#[tokio::test]
async fn a_route_without_retry_fails_naming_icd_5_3_and_what_was_seen() {
    let e = Embedded::start(TransportKind::Tls).await.expect("gateways");
    let scenarios = vec![
        scenarios::load_str(BROKEN, "broken.toml").expect("valid"),
        scenarios::load_str(AFTER, "after.toml").expect("valid"),
    ];
    let ctx = RunContext {
        targets: e.targets(),
        uac: UacConfig {
            tls: Some(e.client_tls.clone()),
            tls_trust: Some(harness::originate::tls::TlsTrust::ca(e.ca_pem.as_bytes())),
            local_host: TRUNK_HOST.to_owned(),
            connect_timeout: Duration::from_secs(3),
            epoch: e.epoch,
            recording: Default::default(),
            media: false,
        },
        gateways: Some(&e.gateways),
        gateway_identities: Some(&e.identities),
        topology: "test".into(),
        setting: harness::verdict::Setting::direct(TransportKind::Tls),
    };
    let reports = run_scenarios(&scenarios, &ctx, &|| false, |_| {}).await;
    let broken = &reports[0];
    let failed: Vec<_> = broken
        .checks
        .iter()
        .filter(|c| c.outcome == Outcome::Fail)
        .collect();
    let by_id = |id: &str| {
        failed
            .iter()
            .find(|c| c.id == id)
            .unwrap_or_else(|| panic!("{id} failed in {:#?}", broken.checks))
    };
    let answered = by_id("route.answered-by");
    assert_eq!(answered.requirement.as_deref(), Some("ICD 5.3"));
    assert!(
        answered
            .message
            .contains("answered by (none), expected gw2")
            && answered.message.contains("gw1 503")
            && answered.message.contains("Q.850 cause 34")
            && answered.message.contains("final rejection"),
        "{}",
        answered.message
    );
    let attempts = by_id("route.attempts");
    assert!(
        attempts.message.contains("took 1 attempt(s), expected 2"),
        "{}",
        attempts.message
    );
    let failover = by_id("route.failover-time");
    assert!(
        failover.message.contains("never reached a second gateway"),
        "{}",
        failover.message
    );
    assert!(
        by_id("call.final-status").message.contains("503"),
        "{:#?}",
        broken.checks
    );
    // Only gw1 saw the call.
    assert_eq!(broken.calls[0].attempts.len(), 1);
    assert_eq!(broken.calls[0].attempts[0].gateway, "gw1");

    let after = &reports[1];
    // This run carries no media: the media checks say so (skipped), every other one passes.
    for c in after.checks.iter().filter(|c| !no_media(c)) {
        assert_eq!(c.outcome, Outcome::Pass, "fault leaked: {c:#?}");
    }
    e.shutdown().await;
}

/// A media check skipped because the run carried no media.
fn no_media(c: &reports::CheckResult) -> bool {
    c.outcome == Outcome::Skipped && c.message.contains(harness::verdict::media_flow::NO_MEDIA)
}
