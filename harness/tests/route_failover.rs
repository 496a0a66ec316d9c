//! The outbound route end to end against the embedded gateways over TLS on loopback: failover
//! on a refused connection, OPTIONS health marking a dead gateway down, and (with the gateways'
//! fault injection) a broken route that does not retry a 503 failing with a clear message.
//! Waits are bounded; timing bounds are generous.

use std::net::{SocketAddr, TcpListener};
use std::time::Duration;

use harness::evidence::record::call_record;
use harness::evidence::{AttemptEnd, Decision, Failure, NotAttempted};
use harness::originate::health::HealthMonitor;
use harness::originate::route::{RouteCallConfig, Router, place_routed_call};
use harness::originate::trunk::TRUNK_HOST;
use harness::originate::uac::{Target, UacConfig};
use harness::run::{Embedded, RunContext, run_scenarios};
use harness::verdict::fingerprint::InviteFingerprint;
use reports::Outcome;
use scenarios::{HealthSpec, RouteSpec};
use sip::transport::TransportKind;

/// A loopback address nothing listens on (bound, then released).
fn dead_addr() -> SocketAddr {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind");
    let a = l.local_addr().expect("addr");
    drop(l);
    a
}

fn uac(e: &Embedded) -> UacConfig {
    UacConfig {
        tls: Some(e.client_tls.clone()),
        tls_trust: Some(harness::originate::tls::TlsTrust::ca(e.ca_pem.as_bytes())),
        local_host: TRUNK_HOST.to_owned(),
        connect_timeout: Duration::from_secs(3),
        epoch: e.epoch,
        recording: Default::default(),
        media: false,
    }
}

fn call() -> scenarios::CallSpec {
    let text = "name = \"t\"\ndescription = \"t.\"\nrequirements = [\"ICD 5.3\"]\n[call]\ndial = \"911\"\nani = \"+13125550130\"\nhold = \"10ms\"\n[expect]\nstatus = 200\n";
    scenarios::load_str(text, "t.toml").expect("valid").call
}

/// gw1 pointed at a port nothing listens on.
fn targets_with_dead_gw1(e: &Embedded) -> Vec<Target> {
    let mut t = e.targets();
    t[0].addr = dead_addr();
    t
}

#[tokio::test]
async fn a_refused_first_gateway_fails_over_to_the_second() {
    let e = Embedded::start(TransportKind::Tls).await.expect("gateways");
    let targets = targets_with_dead_gw1(&e);
    let route = RouteSpec::default();
    let order = Router::new(&route).next_order(&route);
    let uac = uac(&e);
    let cfg = RouteCallConfig {
        uac: &uac,
        order: &order,
        health: None,
    };
    let out = place_routed_call(&call(), &route, &targets, &cfg).await;
    assert_eq!(out.answered_by(), Some("gw2"), "{out:#?}");
    assert_eq!(out.attempts.len(), 2);
    assert_eq!(out.attempts[0].end, AttemptEnd::NoAnswer(Failure::Refused));
    assert_eq!(out.attempts[0].decision, Decision::NoAnswer);
    assert!(!out.attempts[0].invite_sent());
    assert!(out.attempts[1].invite_sent());
    let failover = out.failover_us().expect("timed");
    assert!(failover < 5_000_000, "{failover} µs");
    // The retried INVITE is a new transaction with the same call content.
    assert_ne!(out.attempts[0].call_id(), out.attempts[1].call_id());
    let print =
        |i: usize| InviteFingerprint::of_request(out.attempts[i].invite.as_ref().expect("built"));
    assert_eq!(print(0).differences(&print(1)), Vec::<String>::new());
    let rec = call_record(&out);
    assert_eq!(rec.attempts.len(), 2);
    assert_eq!(rec.final_status, Some(200));
    e.shutdown().await;
}

#[tokio::test]
async fn an_abandoned_call_is_cancelled_where_it_rings_and_tried_nowhere_else() {
    let e = Embedded::start(TransportKind::Tls).await.expect("gateways");
    for gw in &e.gateways {
        gw.set_policy(mock_gateway::Policy {
            ring_time: Duration::from_secs(3),
            ..mock_gateway::Policy::default()
        });
    }
    let route = RouteSpec {
        attempt_timeout: Duration::from_secs(2),
        ..RouteSpec::default()
    };
    let order = Router::new(&route).next_order(&route);
    let uac = uac(&e);
    let cfg = RouteCallConfig {
        uac: &uac,
        order: &order,
        health: None,
    };
    let mut call = call();
    call.abandon_after = Some(Duration::from_millis(300));
    let out = place_routed_call(&call, &route, &e.targets(), &cfg).await;
    assert_eq!(out.attempts.len(), 1, "no other gateway is tried: {out:#?}");
    let a = &out.attempts[0];
    assert_eq!(
        a.end,
        AttemptEnd::Rejected {
            status: 487,
            q850: None
        },
        "{a:#?}"
    );
    let (sent, hung_up) = (
        a.timings.invite_at_us.expect("sent"),
        a.timings.abandoned_at_us.expect("abandoned"),
    );
    assert!(hung_up >= sent + 300_000, "{sent} {hung_up}");
    assert!(hung_up < sent + 2_000_000, "before the attempt timeout");
    assert_eq!(call_record(&out).attempts[0].abandoned_at_us, Some(hung_up));
    // gw1 got the CANCEL and ended its INVITE with 487; gw2 saw nothing.
    let obs = e.gateways[0].take_observations();
    assert!(obs.iter().any(|o| o.method == "CANCEL"), "{obs:#?}");
    assert!(
        obs.iter()
            .any(|o| o.method == "INVITE" && o.response == Some(487)),
        "{obs:#?}"
    );
    assert!(e.gateways[1].take_observations().is_empty());
    e.shutdown().await;
}

#[tokio::test]
async fn options_probing_marks_a_dead_gateway_down_and_routes_around_it() {
    let e = Embedded::start(TransportKind::Tls).await.expect("gateways");
    let targets = targets_with_dead_gw1(&e);
    let uac = uac(&e);
    let spec = HealthSpec {
        interval: Duration::from_millis(20),
        down_after: 2,
        up_after: 2,
    };
    let health = HealthMonitor::start(spec, &targets, &uac);
    assert!(
        health.wait_for("gw1", false, Duration::from_secs(10)).await,
        "gw1 marked down"
    );
    // gw2 answers its probes and stays up.
    let until = std::time::Instant::now() + Duration::from_secs(10);
    while health.probes("gw2") < 3 && std::time::Instant::now() < until {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(health.is_up("gw2"));
    let down = health
        .transitions()
        .into_iter()
        .find(|t| t.gateway == "gw1" && !t.up)
        .expect("transition");
    assert!(down.detection_us < 5_000_000, "{down:?}");

    let route = RouteSpec::default();
    let order = Router::new(&route).next_order(&route);
    let cfg = RouteCallConfig {
        uac: &uac,
        order: &order,
        health: Some(&health),
    };
    let out = place_routed_call(&call(), &route, &targets, &cfg).await;
    assert_eq!(
        out.attempts[0].end,
        AttemptEnd::NotAttempted(NotAttempted::SkippedDown)
    );
    assert_eq!(out.answered_by(), Some("gw2"));
    assert_eq!(out.tried().count(), 1, "the down gateway is not tried");
    health.stop().await;
    e.shutdown().await;
}

#[tokio::test]
async fn the_route_scenario_runner_accounts_for_every_call() {
    let e = Embedded::start(TransportKind::Tls).await.expect("gateways");
    let text = "name = \"dead-gw1\"\ndescription = \"t.\"\nrequirements = [\"ICD 5.3\"]\n[call]\ndial = \"911\"\nani = \"+13125550131\"\nhold = \"0s\"\n[route]\nattempt_timeout = \"500ms\"\n[run]\ncalls = 3\n[expect]\nstatus = 200\nanswered_by = \"gw2\"\nattempts = 2\nfailover_within = \"5s\"\n";
    let sc = scenarios::load_str(text, "dead-gw1.toml").expect("valid");
    let ctx = RunContext {
        targets: targets_with_dead_gw1(&e),
        uac: uac(&e),
        gateways: Some(&e.gateways),
        gateway_identities: Some(&e.identities),
        topology: "test".into(),
        setting: harness::verdict::Setting::direct(TransportKind::Tls),
    };
    let reports = run_scenarios(&[sc], &ctx, &|| false, |_| {}).await;
    let r = &reports[0];
    assert_eq!(r.calls.len(), 3);
    // This run carries no media: the media checks say so (skipped), every other one passes.
    for c in r.checks.iter().filter(|c| {
        !(c.outcome == Outcome::Skipped
            && c.message.contains(harness::verdict::media_flow::NO_MEDIA))
    }) {
        assert_eq!(c.outcome, Outcome::Pass, "{c:#?}");
    }
    let ft = r
        .checks
        .iter()
        .find(|c| c.id == "route.failover-time")
        .expect("failover check");
    assert!(
        ft.message.contains("all 3 calls") || ft.message.contains("over 3 calls"),
        "{}",
        ft.message
    );
    assert!(
        ft.observed
            .as_deref()
            .unwrap_or("")
            .starts_with("failover_us max=")
    );
    e.shutdown().await;
}

#[tokio::test]
async fn options_probing_follows_an_outage_fault_down_and_back_up() {
    use mock_gateway::fault::{FaultPlan, Window};
    let e = Embedded::start(TransportKind::Tls).await.expect("gateways");
    let uac = uac(&e);
    e.gateways[0]
        .set_faults(FaultPlan {
            outage: Some(Window {
                from: Duration::ZERO,
                until: Duration::from_secs(60),
            }),
            ..FaultPlan::default()
        })
        .expect("outage accepted");
    let spec = HealthSpec {
        interval: Duration::from_millis(20),
        down_after: 2,
        up_after: 2,
    };
    let health = HealthMonitor::start(spec, &e.targets(), &uac);
    assert!(
        health.wait_for("gw1", false, Duration::from_secs(10)).await,
        "the outage is detected"
    );
    assert!(health.is_up("gw2"));
    e.gateways[0].clear_faults();
    assert!(
        health.wait_for("gw1", true, Duration::from_secs(10)).await,
        "gw1 comes back once the outage is cleared"
    );
    let t = health.transitions();
    let gw1: Vec<bool> = t
        .iter()
        .filter(|t| t.gateway == "gw1")
        .map(|t| t.up)
        .collect();
    assert_eq!(gw1, [false, true], "{t:?}");
    assert!(t.iter().all(|t| t.detection_us < 5_000_000), "{t:?}");
    health.stop().await;
    e.shutdown().await;
}
