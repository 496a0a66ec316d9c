//! The media checks on their pass, fail, skipped and error sides, with gateway evidence.

use reports::{MediaLeg, Observation, Outcome};

use super::*;
use crate::evidence::{Call, Topology};
use crate::test_support::{answered, check, invite_obs, observation, rejected, scenario};
use sip::transport::TransportKind;

const TRUNK: &str = "127.0.0.1:30000";
const GW: &str = "127.0.0.1:40000";

/// A leg at `local` that sent 100 packets to `remote` and received 100 from it, SRTP, clean.
fn leg(local: &str, remote: &str) -> MediaLeg {
    MediaLeg {
        local: local.into(),
        sdp_remote: remote.into(),
        sent_to: remote.into(),
        send_suite: Some("AES_CM_128_HMAC_SHA1_80".into()),
        receive_suite: Some("AES_CM_128_HMAC_SHA1_80".into()),
        sent: 100,
        first_sent_us: Some(100),
        datagrams: 100,
        rtp: 100,
        authenticated: 100,
        expected: 100,
        jitter_us: 300,
        jitter_max_us: 900,
        first_packet_us: Some(20_000),
        sources: vec![remote.into()],
        played: "comfort tone".into(),
        ..MediaLeg::default()
    }
}

fn trunk() -> MediaLeg {
    leg(TRUNK, GW)
}

fn gw() -> MediaLeg {
    leg(GW, TRUNK)
}

fn call_with(t: Option<MediaLeg>) -> Call {
    let mut c = answered();
    c.attempts[0].media = t;
    c
}

fn bye(g: Option<MediaLeg>) -> Observation {
    let mut o = observation();
    o.method = "BYE".into();
    o.at_us = 50_000;
    o.response = Some(200);
    o.media_flow = g;
    o
}

/// The four media checks for `t` and `g` under `expect`.
fn run(expect: &str, t: MediaLeg, g: Option<MediaLeg>) -> Vec<CheckResult> {
    let sc = scenario(&format!("status = 200\n{expect}"));
    let call = call_with(Some(t));
    let obs = vec![invite_obs("gw1", 10_000, 200), bye(g)];
    judge(
        &sc,
        &Setting::direct(TransportKind::Tls),
        &CallEvidence {
            call: &call,
            observations: Some(&obs),
        },
    )
}

fn outcome_of(checks: &[CheckResult], id: &str) -> Outcome {
    check(checks, id).outcome
}

#[test]
fn clean_two_way_srtp_passes_every_check() {
    let cs = run("", trunk(), Some(gw()));
    assert_eq!(cs.len(), 4);
    for id in CHECKS {
        let c = check(&cs, id);
        assert_eq!(c.outcome, Outcome::Pass, "{c:?}");
        assert_eq!(c.requirement.as_deref(), Some("ICD 4"));
    }
    assert!(
        check(&cs, "media.flow")
            .message
            .contains("trunk -> gateway: 100 packets")
    );
}

#[test]
fn one_way_fails_flow_naming_the_direction_and_where_packets_went() {
    let mut t = trunk();
    (t.rtp, t.authenticated, t.expected, t.first_packet_us) = (0, 0, 0, None);
    t.sources.clear();
    let mut g = gw();
    g.sent = 0;
    let cs = run("", t.clone(), Some(g));
    let flow = check(&cs, "media.flow");
    assert_eq!(flow.outcome, Outcome::Fail);
    assert!(
        flow.message
            .contains("gateway -> trunk: no RTP arrived at the trunk's 127.0.0.1:30000"),
        "{}",
        flow.message
    );
    assert!(
        flow.message
            .contains("the gateway sent 0 packets from 127.0.0.1:40000 to 127.0.0.1:30000"),
        "{}",
        flow.message
    );
    assert_eq!(flow.observed.as_deref(), Some("silent-to-trunk"));
    // Nothing to judge in that direction: SRTP and quality are skipped, never passed.
    assert_eq!(outcome_of(&cs, "media.srtp"), Outcome::Skipped);
    assert_eq!(outcome_of(&cs, "media.quality"), Outcome::Skipped);
    assert_eq!(outcome_of(&cs, "media.ports"), Outcome::Pass);
    // Declared, it is what the scenario proves.
    let cs = run("media_findings = [\"silent-to-trunk\"]", t, Some(gw()));
    assert_eq!(outcome_of(&cs, "media.flow"), Outcome::Pass);
    // Declared but absent: the expectation fails.
    let cs = run(
        "media_findings = [\"silent-to-trunk\"]",
        trunk(),
        Some(gw()),
    );
    let flow = check(&cs, "media.flow");
    assert_eq!(flow.outcome, Outcome::Fail);
    assert!(
        flow.message
            .contains("expected media findings silent-to-trunk but found none")
    );
}

#[test]
fn nothing_at_the_gateway_fails_flow_towards_the_gateway() {
    let mut g = gw();
    (g.rtp, g.authenticated) = (0, 0);
    let flow = run("", trunk(), Some(g)).remove(0);
    assert_eq!(flow.outcome, Outcome::Fail);
    assert!(
        flow.message
            .starts_with("silent-to-gateway: trunk -> gateway"),
        "{}",
        flow.message
    );
}

#[test]
fn asymmetric_rtp_is_told_but_does_not_fail() {
    let mut g = gw();
    g.sources = vec!["127.0.0.1:30100".into()];
    let flow = run("", trunk(), Some(g)).remove(0);
    assert_eq!(flow.outcome, Outcome::Pass);
    assert!(flow.message.contains("packets reached the gateway from 127.0.0.1:30100 while its peer's SDP said 127.0.0.1:30000 (asymmetric RTP)"), "{}", flow.message);
    assert!(
        !run("", trunk(), Some(gw()))[0]
            .message
            .contains("asymmetric")
    );
}

#[test]
fn a_wrong_destination_is_named_with_both_addresses() {
    let mut g = gw();
    g.sent_to = "127.0.0.1:30002".into();
    let mut t = trunk();
    (t.rtp, t.authenticated) = (0, 0);
    let cs = run("", t.clone(), Some(g.clone()));
    let flow = check(&cs, "media.flow");
    assert_eq!(
        flow.observed.as_deref(),
        Some("silent-to-trunk, wrong-destination")
    );
    assert!(
        flow.message
            .contains("to 127.0.0.1:30002 (the SDP it received said 127.0.0.1:30000)"),
        "{}",
        flow.message
    );
    let cs = run(
        "media_findings = [\"silent-to-trunk\", \"wrong-destination\"]",
        t,
        Some(g),
    );
    assert_eq!(outcome_of(&cs, "media.flow"), Outcome::Pass);
    // Sent where the SDP said: no finding even if nothing was sent.
    let mut quiet = trunk();
    quiet.sent = 0;
    quiet.sent_to = "127.0.0.1:30002".into();
    assert_eq!(
        outcome_of(&run("", quiet, Some(gw())), "media.flow"),
        Outcome::Pass
    );
}

#[test]
fn failed_authentication_and_clear_rtp_fail_srtp_by_direction() {
    let mut t = trunk();
    (t.authenticated, t.auth_failures, t.expected) = (0, 100, 0);
    let cs = run("", t.clone(), Some(gw()));
    let srtp = check(&cs, "media.srtp");
    assert_eq!(srtp.outcome, Outcome::Fail);
    assert_eq!(srtp.observed.as_deref(), Some("unauthenticated-to-trunk"));
    assert!(
        srtp.message.contains(
            "gateway -> trunk: 100 of 100 packets failed AES_CM_128_HMAC_SHA1_80 authentication"
        ),
        "{}",
        srtp.message
    );
    assert_eq!(
        outcome_of(&cs, "media.flow"),
        Outcome::Pass,
        "packets did arrive"
    );
    // Packets that failed authentication are not audio: their loss and timing are not judged.
    let mut lossy = t.clone();
    (lossy.lost, lossy.expected, lossy.first_packet_us) = (50, 100, Some(900_000));
    let q = check(&run("", lossy, Some(gw())), "media.quality").clone();
    assert_ne!(q.outcome, Outcome::Fail, "{q:?}");
    assert!(
        q.message
            .contains("no authenticated packet gateway -> trunk to judge"),
        "{}",
        q.message
    );
    t.clear = 100;
    let srtp = run("", t.clone(), Some(gw())).remove(1);
    assert_eq!(srtp.observed.as_deref(), Some("clear-to-trunk"));
    assert!(
        srtp.message
            .contains("100 of 100 packets arrived in the clear")
    );
    assert_eq!(
        run("media_findings = [\"clear-to-trunk\"]", t, Some(gw()))[1].outcome,
        Outcome::Pass
    );
    // One packet is enough.
    let mut g = gw();
    (g.authenticated, g.auth_failures) = (99, 1);
    let srtp = run("", trunk(), Some(g)).remove(1);
    assert_eq!(srtp.observed.as_deref(), Some("unauthenticated-to-gateway"));
    // Plain RTP negotiated towards the gateway (an SBC that stripped the crypto).
    let mut g = gw();
    g.receive_suite = None;
    let srtp = run("", trunk(), Some(g)).remove(1);
    assert_eq!(srtp.outcome, Outcome::Fail);
    assert!(
        srtp.message
            .contains("trunk -> gateway: the SDP the receiver got negotiated plain RTP")
    );
}

#[test]
fn ports_outside_the_range_are_named_on_either_leg() {
    let mut t = trunk();
    t.sdp_remote = "127.0.0.1:20000".into();
    let ports = run("", t, Some(gw())).remove(2);
    assert_eq!(ports.outcome, Outcome::Fail);
    assert!(
        ports
            .message
            .contains("the answer's address as the trunk received it 127.0.0.1:20000"),
        "{}",
        ports.message
    );
    for (field, value) in [
        ("local", "127.0.0.1:60001"),
        ("sdp_remote", "127.0.0.1:29999"),
    ] {
        let mut g = gw();
        match field {
            "local" => g.local = value.into(),
            _ => g.sdp_remote = value.into(),
        }
        let ports = run("", trunk(), Some(g)).remove(2);
        assert_eq!(ports.outcome, Outcome::Fail, "{field}");
        assert!(ports.message.contains(value));
    }
    let mut g = gw();
    g.sources.push("127.0.0.1:5004".into());
    assert_eq!(run("", trunk(), Some(g)).remove(2).outcome, Outcome::Fail);
    // The edges are in range.
    let edges = run(
        "",
        leg("127.0.0.1:30000", "127.0.0.1:60000"),
        Some(leg("127.0.0.1:60000", "127.0.0.1:30000")),
    );
    assert_eq!(outcome_of(&edges, "media.ports"), Outcome::Pass);
}

#[test]
fn loss_jitter_and_late_media_fail_quality_against_the_scenario_bounds() {
    let mut t = trunk();
    (t.lost, t.expected) = (2, 100);
    let q = run("", t.clone(), Some(gw())).remove(3);
    assert_eq!(q.outcome, Outcome::Fail, "2% over the default 1%");
    assert!(
        q.message
            .contains("gateway -> trunk: 2 of 100 packets lost (2%), bound 1%"),
        "{}",
        q.message
    );
    (t.lost, t.expected) = (1, 100);
    assert_eq!(
        run("", t, Some(gw())).remove(3).outcome,
        Outcome::Pass,
        "1% is within 1%"
    );

    let mut g = gw();
    g.jitter_max_us = 40_001;
    let q = run("", trunk(), Some(g.clone())).remove(3);
    assert_eq!(q.observed.as_deref(), Some("jitter"));
    assert!(
        q.message
            .contains("trunk -> gateway: jitter reached 40.0 ms, bound 40 ms"),
        "{}",
        q.message
    );
    g.jitter_max_us = 40_000;
    assert_eq!(run("", trunk(), Some(g)).remove(3).outcome, Outcome::Pass);

    let mut t = trunk();
    t.first_packet_us = Some(500_001);
    let q = run("", t.clone(), Some(gw())).remove(3);
    assert_eq!(q.observed.as_deref(), Some("late-to-trunk"));
    assert!(
        !q.message.contains("own timers"),
        "no lateness of ours: {}",
        q.message
    );
    t.first_packet_us = Some(500_000);
    assert_eq!(run("", t, Some(gw())).remove(3).outcome, Outcome::Pass);
    let mut g = gw();
    g.first_packet_us = Some(900_000);
    assert_eq!(
        run("media_findings = [\"late-to-gateway\"]", trunk(), Some(g))
            .remove(3)
            .outcome,
        Outcome::Pass
    );
}

#[test]
fn the_harness_own_timer_lateness_is_allowed_for_never_more() {
    // The gateway's timer fired 100 ms late at worst: jitter and first-packet delay up to the
    // bound plus that are the harness's own, not the path's.
    let mut g = gw();
    g.timer_lag_max_us = 100_000;
    let mut t = trunk();
    (t.jitter_max_us, t.first_packet_us) = (140_000, Some(600_000));
    assert_eq!(
        run("", t.clone(), Some(g.clone())).remove(3).outcome,
        Outcome::Pass
    );
    t.jitter_max_us = 140_001;
    let q = run("", t.clone(), Some(g.clone())).remove(3);
    assert_eq!(q.observed.as_deref(), Some("jitter"));
    assert!(
        q.message
            .contains("bound 40 ms (+100.0 ms: the harness's own timers ran that late)"),
        "{}",
        q.message
    );
    t.jitter_max_us = 140_000;
    t.first_packet_us = Some(600_001);
    assert_eq!(
        run("", t.clone(), Some(g.clone()))
            .remove(3)
            .observed
            .as_deref(),
        Some("late-to-trunk")
    );
    // An end's own lateness counts for both directions it takes part in.
    let mut t = trunk();
    (t.timer_lag_max_us, t.jitter_max_us) = (100_000, 140_000);
    assert_eq!(run("", t, Some(gw())).remove(3).outcome, Outcome::Pass);
    let mut g = gw();
    g.jitter_max_us = 140_000;
    let mut t = trunk();
    t.timer_lag_max_us = 50_000;
    assert_eq!(
        run("", t, Some(g)).remove(3).observed.as_deref(),
        Some("jitter")
    );
}

#[test]
fn without_media_or_gateway_evidence_nothing_passes() {
    // The run carried no media: skipped with the reason.
    let sc = scenario("status = 200");
    let call = call_with(None);
    let obs = vec![invite_obs("gw1", 10_000, 200)];
    let ev = CallEvidence {
        call: &call,
        observations: Some(&obs),
    };
    let cs = judge(&sc, &Setting::direct(TransportKind::Tls), &ev);
    assert_eq!(cs.len(), 4);
    assert!(
        cs.iter()
            .all(|c| c.outcome == Outcome::Skipped && c.message == NO_MEDIA)
    );
    assert_eq!(cs[0].id, "media.flow");
    // Media, but no gateway recorded any: an error (the BYE never arrived).
    let call = call_with(Some(trunk()));
    let ev = CallEvidence {
        call: &call,
        observations: Some(&obs),
    };
    let cs = judge(&sc, &Setting::direct(TransportKind::Tls), &ev);
    assert!(cs.iter().all(|c| c.outcome == Outcome::Error), "{cs:?}");
    // An external target: only the trunk's side, so a clean trunk side is skipped...
    let external = Setting {
        topology: Topology::External,
        gateway_leg: None,
        ..Setting::direct(TransportKind::Tls)
    };
    let ev = CallEvidence {
        call: &call,
        observations: None,
    };
    let cs = judge(&sc, &external, &ev);
    assert!(cs.iter().all(|c| c.outcome == Outcome::Skipped), "{cs:?}");
    // ...but silence towards the trunk is a failure it can see.
    let mut t = trunk();
    (t.rtp, t.authenticated) = (0, 0);
    let silent = call_with(Some(t));
    let ev = CallEvidence {
        call: &silent,
        observations: None,
    };
    let flow = judge(&sc, &external, &ev).remove(0);
    assert_eq!(flow.outcome, Outcome::Fail);
    assert!(flow.message.contains("not observable"));
    // A call nobody answered has no media checks.
    let r = rejected(403, "");
    let ev = CallEvidence {
        call: &r,
        observations: Some(&obs),
    };
    assert!(judge(&sc, &Setting::direct(TransportKind::Tls), &ev).is_empty());
}

#[test]
fn through_a_system_under_test_the_gateway_record_is_found_on_any_gateway() {
    let sc = scenario("status = 200");
    let mut call = call_with(Some(trunk()));
    call.attempts[0].gateway = "sut".into();
    let mut b = bye(Some(gw()));
    b.gateway = "gw2".into();
    let obs = vec![b];
    let setting = Setting {
        topology: Topology::ThroughSut,
        ..Setting::direct(TransportKind::Tls)
    };
    let cs = judge(
        &sc,
        &setting,
        &CallEvidence {
            call: &call,
            observations: Some(&obs),
        },
    );
    assert!(cs.iter().all(|c| c.outcome == Outcome::Pass), "{cs:?}");
    // Directly, only the answering gateway's record counts.
    let cs = judge(
        &sc,
        &Setting::direct(TransportKind::Tls),
        &CallEvidence {
            call: &call_with(Some(trunk())),
            observations: Some(&obs),
        },
    );
    assert!(cs.iter().all(|c| c.outcome == Outcome::Error), "{cs:?}");
}

#[test]
fn a_hold_too_short_for_media_is_skipped_not_passed() {
    let sc = crate::test_support::scenario_with(
        "",
        "dial = \"911\"\nani = \"+13125550100\"\nhold = \"199ms\"",
        "status = 200",
    );
    let call = call_with(Some(trunk()));
    let obs = vec![bye(Some(gw()))];
    let cs = judge(
        &sc,
        &Setting::direct(TransportKind::Tls),
        &CallEvidence {
            call: &call,
            observations: Some(&obs),
        },
    );
    assert!(
        cs.iter()
            .all(|c| c.outcome == Outcome::Skipped && c.message.contains("held 199ms, too short")),
        "{cs:?}"
    );
}

#[test]
fn an_answer_after_the_caller_hung_up_carries_no_media_to_judge() {
    let sc = crate::test_support::scenario("status = 487");
    let mut call = call_with(Some(trunk()));
    call.attempts[0].timings.abandoned_at_us = Some(500_000);
    let obs = vec![bye(Some(gw()))];
    let cs = judge(
        &sc,
        &Setting::direct(TransportKind::Tls),
        &CallEvidence {
            call: &call,
            observations: Some(&obs),
        },
    );
    assert_eq!(cs.len(), 4);
    assert!(
        cs.iter()
            .all(|c| c.outcome == Outcome::Skipped && c.message.contains("see call.cancel")),
        "{cs:?}"
    );
}

#[test]
fn the_readback_must_be_heard_as_audio() {
    let short = scenario("status = 200\nreadback = { number = \"+13125550100\" }");
    let sc = crate::test_support::scenario_with(
        "",
        "dial = \"933\"\nani = \"+13125550100\"\nhold = \"1400ms\"",
        "status = 200\nreadback = { number = \"+13125550100\" }",
    );
    let mut call = call_with(Some(MediaLeg {
        digits: "13125550100".into(),
        audible_ms: 660,
        ..trunk()
    }));
    let ev = |c: &Call| {
        readback_audio(
            &sc,
            &CallEvidence {
                call: c,
                observations: None,
            },
        )
        .unwrap()
    };
    let c = ev(&call);
    assert_eq!(
        (c.outcome, c.requirement.as_deref()),
        (Outcome::Pass, Some("ICD 5.2"))
    );
    call.attempts[0].media.as_mut().unwrap().digits = "1312555010".into();
    let c = ev(&call);
    assert_eq!(c.outcome, Outcome::Fail);
    assert!(
        c.message.contains("heard digits \"1312555010\""),
        "{}",
        c.message
    );
    call.attempts[0].media.as_mut().unwrap().audible_ms = 0;
    assert!(ev(&call).message.contains("no read-back audio"));
    call.attempts[0].media = None;
    assert_eq!(ev(&call).outcome, Outcome::Skipped);
    // Held shorter than the read-back (the default 200 ms): skipped with the reason.
    let c = readback_audio(
        &short,
        &CallEvidence {
            call: &call_with(Some(trunk())),
            observations: None,
        },
    )
    .unwrap();
    assert_eq!(c.outcome, Outcome::Skipped);
    assert!(
        c.message
            .contains("shorter than the read-back of 11 digits (1s 400ms)"),
        "{}",
        c.message
    );
    // Only with an expected read-back.
    let plain = scenario("status = 200");
    assert!(
        readback_audio(
            &plain,
            &CallEvidence {
                call: &call,
                observations: None
            }
        )
        .is_none()
    );
}
