//! A real originator's calls judged from the gateways alone ([`Topology::Originator`]): the
//! call checks, caller selection, the TLS leg and the route checks, on their pass, fail and
//! skipped sides.

use std::time::Duration;

use reports::observation::ReadbackObservation;
use reports::{CheckResult, Observation, Outcome, TlsInfo};
use scenarios::Scenario;
use sip::transport::TransportKind;

use crate::evidence::Topology;
use crate::evidence::observed::call_at_gateways;
use crate::test_support::{ANI, check, connection_event, has, invite_obs, scenario, scenario_with};
use crate::verdict::{CallEvidence, Evidence, Setting, judge};

fn originator(leg: TransportKind) -> Setting {
    Setting {
        topology: Topology::Originator,
        trunk_leg: leg,
        gateway_leg: Some(leg),
        sut_attempt_timeout: Duration::ZERO,
    }
}

/// Judges the one call whose requests at the gateways are `obs`, as `certify --originator`
/// does (a `[caller]` has its ANI selected first).
fn judge_obs(setting: Setting, sc: &Scenario, obs: &[Observation]) -> Vec<CheckResult> {
    let resolved = scenarios::caller::with_selected_ani(sc);
    let sc = resolved.as_ref().unwrap_or(sc);
    let call = call_at_gateways(&sc.call.dial, obs);
    let calls = [CallEvidence {
        call: &call,
        observations: Some(obs),
    }];
    judge(
        sc,
        &Evidence {
            setting: &setting,
            calls: &calls,
            scenario_observations: Some(obs),
            transitions: &[],
        },
    )
}

fn tls_judge(sc: &Scenario, obs: &[Observation]) -> Vec<CheckResult> {
    judge_obs(originator(TransportKind::Tls), sc, obs)
}

fn request(method: &str, gateway: &str, at_us: u64, status: Option<u16>) -> Observation {
    let mut o = invite_obs(gateway, at_us, 200);
    o.method = method.into();
    o.response = status;
    o
}

/// An answered call at gw1 that the originator ACKed and hung up.
fn completed() -> Vec<Observation> {
    vec![
        invite_obs("gw1", 100, 200),
        request("ACK", "gw1", 200, None),
        request("BYE", "gw1", 900, Some(200)),
    ]
}

#[test]
fn an_answered_and_hung_up_call_passes_from_the_gateways_evidence_alone() {
    let sc = scenario("status = 200");
    let c = tls_judge(&sc, &completed());
    for id in [
        "call.final-status",
        "call.teardown",
        "org-header.value",
        "ani.number",
        "ani.source",
        "media.offer",
        "transport.tls",
        "transport.tls-profile",
        "route.gateway-order",
    ] {
        assert_eq!(check(&c, id).outcome, Outcome::Pass, "{id}: {c:#?}");
    }
    // The SDP answer is the mock gateway's own: nothing of the originator to judge.
    assert!(!has(&c, "media.answer"), "{c:#?}");
    assert!(!has(&c, "call.final-response"), "{c:#?}");
    assert!(
        check(&c, "call.final-status")
            .message
            .contains("200 from gw1")
    );
}

#[test]
fn the_final_status_is_the_gateways_last_answer() {
    let sc = scenario("status = 200");
    let c = tls_judge(&sc, &[invite_obs("gw1", 100, 403)]);
    let f = check(&c, "call.final-status");
    assert_eq!(f.outcome, Outcome::Fail);
    assert!(f.message.contains("403 from gw1"), "{}", f.message);
    assert!(f.message.contains("expected 200"), "{}", f.message);
}

#[test]
fn a_call_left_on_a_silent_gateway_fails_the_final_response() {
    let sc = scenario("status = 200");
    let mut silent = invite_obs("gw1", 100, 200);
    silent.response = None;
    silent.fault = Some("silence".into());
    let c = tls_judge(&sc, &[silent]);
    let f = check(&c, "call.final-response");
    assert_eq!(f.outcome, Outcome::Fail);
    assert!(
        f.message.contains("gw1 no answer (silence)"),
        "{}",
        f.message
    );
    assert_eq!(check(&c, "call.final-status").outcome, Outcome::Fail);
}

#[test]
fn the_teardown_is_judged_only_once_the_call_ended() {
    let sc = scenario("status = 200");
    let up = tls_judge(
        &sc,
        &[
            invite_obs("gw1", 100, 200),
            request("ACK", "gw1", 200, None),
        ],
    );
    let t = check(&up, "call.teardown");
    assert_eq!(t.outcome, Outcome::Skipped);
    assert!(t.message.contains("still up"), "{}", t.message);
    let no_ack = tls_judge(
        &sc,
        &[
            invite_obs("gw1", 100, 200),
            request("BYE", "gw1", 900, Some(200)),
        ],
    );
    assert_eq!(check(&no_ack, "call.teardown").outcome, Outcome::Fail);
    let mut lost = completed();
    lost[2].response = Some(481);
    let t = check(&tls_judge(&sc, &lost), "call.teardown").clone();
    assert_eq!(t.outcome, Outcome::Fail);
    assert!(t.message.contains("BYE answered 481"), "{}", t.message);
}

#[test]
fn the_readback_is_what_the_gateway_read_back() {
    let sc = scenario("status = 200\nreadback = { number = \"+13125550100\" }");
    let mut obs = completed();
    obs[0].readback = Some(ReadbackObservation {
        number: ANI.into(),
        address: None,
    });
    assert_eq!(
        check(&tls_judge(&sc, &obs), "readback.number").outcome,
        Outcome::Pass
    );
    obs[0].readback = Some(ReadbackObservation {
        number: "+13125550199".into(),
        address: None,
    });
    assert_eq!(
        check(&tls_judge(&sc, &obs), "readback.number").outcome,
        Outcome::Fail
    );
}

fn shared_phone() -> Scenario {
    scenario_with(
        "[caller]\nphone_tied_to_user = false\nuser_extension = \"4122\"\nsite_ani = \"+13125550100\"\ntrunk_ani = \"+13125550130\"",
        "dial = \"911\"",
        "status = 200",
    )
}

#[test]
fn caller_selection_names_the_step_the_arrived_ani_came_from() {
    let sc = shared_phone();
    let ok = tls_judge(&sc, &completed());
    let c = check(&ok, "caller.selection");
    assert_eq!(c.outcome, Outcome::Pass, "{c:#?}");
    assert!(
        c.message.contains("site-ani (+13125550100)"),
        "{}",
        c.message
    );
    // The originator sent the trunk's ANI: both the ANI and the selection fail, and the
    // selection says where the number came from.
    let wrong: Vec<Observation> = completed()
        .into_iter()
        .map(|mut o| {
            if let Some(a) = o.ani.as_mut() {
                a.number = "+13125550130".into();
            }
            o
        })
        .collect();
    let bad = tls_judge(&sc, &wrong);
    let c = check(&bad, "caller.selection");
    assert_eq!(c.outcome, Outcome::Fail);
    assert!(
        c.message.contains("the trunk's ANI (trunk-ani)"),
        "{}",
        c.message
    );
    // Only the source that holds the number is named, not every source configured.
    assert_eq!(
        c.observed.as_deref(),
        Some("+13125550130 (the trunk's ANI (trunk-ani))")
    );
    assert!(
        c.message.contains("site-ani (+13125550100)"),
        "{}",
        c.message
    );
    assert_eq!(check(&bad, "ani.number").outcome, Outcome::Fail);
    // No ANI at all.
    let mut none = completed();
    none[0].ani = None;
    let c = check(&tls_judge(&sc, &none), "caller.selection").clone();
    assert_eq!(c.outcome, Outcome::Fail);
    assert!(c.message.contains("no ANI reached gw1"), "{}", c.message);
}

#[test]
fn the_tls_leg_is_judged_as_the_gateways_saw_it() {
    let sc = scenario("status = 200");
    let mut obs = completed();
    obs[0].tls = Some(TlsInfo {
        version: "TLSv1.3".into(),
        cipher: "TLS13_AES_256_GCM_SHA384".into(),
        group: Some("X25519".into()),
        sni: None,
        certificate: None,
    });
    let c = tls_judge(&sc, &obs);
    assert_eq!(check(&c, "transport.tls").outcome, Outcome::Pass);
    let p = check(&c, "transport.tls-profile");
    assert_eq!(p.outcome, Outcome::Fail);
    assert!(
        p.message.contains("TLSv1.3 instead of TLSv1.2"),
        "{}",
        p.message
    );
    obs[0].tls = None;
    assert_eq!(
        check(&tls_judge(&sc, &obs), "transport.tls").outcome,
        Outcome::Fail
    );
    // Over TCP nothing of TLS was exercised.
    let tcp = judge_obs(originator(TransportKind::Tcp), &sc, &completed());
    assert_eq!(check(&tcp, "transport.tls").outcome, Outcome::Skipped);
    assert_eq!(
        check(&tcp, "transport.tls-profile").outcome,
        Outcome::Skipped
    );
}

fn failover_scenario(extra_top: &str, expect: &str) -> Scenario {
    scenario_with(
        &format!("[route]\n{extra_top}"),
        &format!("dial = \"911\"\nani = \"{ANI}\""),
        expect,
    )
}

#[test]
fn a_failover_is_read_at_the_gateways() {
    let sc = failover_scenario(
        "[[fault]]\ngateway = \"gw1\"\nkind = \"respond\"\nstatus = 503\nq850 = 34",
        "status = 200\nanswered_by = \"gw2\"\nattempts = 2\nfailover_within = \"1s\"",
    );
    let obs = vec![
        invite_obs("gw1", 1_000, 503),
        invite_obs("gw2", 301_000, 200),
        request("ACK", "gw2", 302_000, None),
        request("BYE", "gw2", 400_000, Some(200)),
    ];
    let c = tls_judge(&sc, &obs);
    for id in [
        "route.answered-by",
        "route.attempts",
        "route.failover-time",
        "route.identical-retry",
        "call.final-status",
    ] {
        assert_eq!(check(&c, id).outcome, Outcome::Pass, "{id}: {c:#?}");
    }
    // gw1 was faulted: the gateway order is not judged.
    assert!(!has(&c, "route.gateway-order"), "{c:#?}");
    // The retry lost its P-Asserted-Identity.
    let mut changed = obs.clone();
    changed[1]
        .headers
        .retain(|(n, _)| n != "P-Asserted-Identity");
    let c = tls_judge(&sc, &changed);
    assert_eq!(check(&c, "route.identical-retry").outcome, Outcome::Fail);
    // Too slow.
    let mut slow = obs;
    slow[1].at_us = 3_000_000;
    assert_eq!(
        check(&tls_judge(&sc, &slow), "route.failover-time").outcome,
        Outcome::Fail
    );
}

#[test]
fn a_refused_handshake_and_a_down_gateway_count_as_attempts_without_a_pair_to_compare() {
    let sc = failover_scenario(
        "[[fault]]\ngateway = \"gw1\"\nkind = \"tls\"\ntls = \"protocol-error\"",
        "status = 200\nanswered_by = \"gw2\"\nattempts = 2",
    );
    let obs = vec![
        connection_event("gw1", 1_000, Some("tls protocol error"), None),
        invite_obs("gw2", 50_000, 200),
    ];
    let c = tls_judge(&sc, &obs);
    assert_eq!(check(&c, "route.attempts").outcome, Outcome::Pass, "{c:#?}");
    assert_eq!(check(&c, "route.answered-by").outcome, Outcome::Pass);
    assert_eq!(
        check(&c, "route.identical-retry").outcome,
        Outcome::Skipped,
        "{c:#?}"
    );
    let down = failover_scenario(
        "[gateway.gw1]\noutage = { from = \"0s\", until = \"60s\" }",
        "status = 200\nanswered_by = \"gw2\"\nattempts = 2",
    );
    let c = tls_judge(&down, &[invite_obs("gw2", 50_000, 200)]);
    assert_eq!(check(&c, "route.attempts").outcome, Outcome::Pass, "{c:#?}");
    // An originator that never reached gw2 at all is judged by the step, not here.
    let c = tls_judge(&down, &[invite_obs("gw1", 50_000, 200)]);
    assert_eq!(check(&c, "route.answered-by").outcome, Outcome::Fail);
}
