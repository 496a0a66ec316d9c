//! The route checks on their pass and fail sides, over paths read at the trunk (direct) and at
//! the gateways (a system under test failing over).

use std::time::Duration;

use super::*;
use crate::evidence::{AttemptEnd, Decision, Failure, Transition};
use crate::test_support::{
    attempt_at, call_of, check, connection_event, has, invite_obs, scenario_with, with_header,
};
use crate::verdict::tests::{direct, judge_in, sut};

/// A route scenario with these extra sections and `[expect]` lines.
fn routed(sections: &str, expect: &str) -> Scenario {
    scenario_with(
        "",
        "dial = \"911\"\nani = \"+13125550100\"\nhold = \"50ms\"",
        &format!("{expect}\n[route]\nattempt_timeout = \"300ms\"\n{sections}"),
    )
}

fn step(gateway: &str, at_us: u64, org: &str, final_rejection: bool) -> Step {
    Step {
        gateway: gateway.into(),
        at_us: Some(at_us),
        describe: gateway.into(),
        fingerprint: Some(InviteFingerprint {
            dialed: "911".into(),
            org: vec![org.into()],
            ..InviteFingerprint::default()
        }),
        final_rejection,
        skipped: false,
    }
}

fn view(steps: Vec<Step>, answered_by: Option<&str>) -> RouteView {
    let failover_us = match (steps.first(), steps.get(1)) {
        (Some(a), Some(b)) => Some(b.at_us.unwrap_or(0) - a.at_us.unwrap_or(0)),
        _ => None,
    };
    RouteView {
        first_choice: steps.first().map(|s| s.gateway.clone()).unwrap_or_default(),
        steps,
        answered_by: answered_by.map(str::to_owned),
        failover_us,
        failover_from: "the first gateway's first contact",
    }
}

fn failover(us: u64) -> RouteView {
    view(
        vec![step("gw1", 0, "org", false), step("gw2", us, "org", false)],
        Some("gw2"),
    )
}

fn single(gw: &str) -> RouteView {
    view(vec![step(gw, 0, "org", false)], Some(gw))
}

#[test]
fn answered_by_and_attempts_pass_and_fail() {
    let c = answered_by("gw2", &[failover(1_000)], req::ROUTE);
    assert_eq!(c.outcome, Outcome::Pass);
    assert_eq!(c.requirement.as_deref(), Some("ICD 5.3"));
    assert!(c.message.starts_with("answered by gw2: "), "{}", c.message);
    let c = answered_by("gw2", &[failover(1_000), failover(2_000)], req::ROUTE);
    assert_eq!(c.message, "all 2 calls answered by gw2");
    let c = answered_by("gw2", &[failover(1_000), single("gw1")], req::ROUTE);
    assert_eq!(c.outcome, Outcome::Fail);
    assert!(
        c.message.contains("call 2 of 2 was answered by gw1"),
        "{}",
        c.message
    );
    assert_eq!(attempts(2, &[failover(1)]).outcome, Outcome::Pass);
    let c = attempts(2, &[failover(1), single("gw1")]);
    assert_eq!(c.outcome, Outcome::Fail);
    assert_eq!(c.observed.as_deref(), Some("1"));
}

#[test]
fn failover_time_pass_fail_and_missing() {
    let bound = Duration::from_secs(2);
    assert_eq!(
        failover_time(bound, &[failover(1_500_000)]).outcome,
        Outcome::Pass
    );
    let c = failover_time(bound, &[failover(1_500_000), failover(2_500_000)]);
    assert_eq!(c.outcome, Outcome::Fail);
    assert!(
        c.message.contains("slowest failover 2500.0 ms"),
        "{}",
        c.message
    );
    let c = failover_time(bound, &[single("gw1")]);
    assert_eq!(c.outcome, Outcome::Fail);
    assert_eq!(c.observed.as_deref(), Some("no failover"));
    // Over several calls: the slowest and the median.
    let calls = [900, 100, 300, 200].map(failover);
    let c = failover_time(bound, &calls);
    assert_eq!(c.observed.as_deref(), Some("failover_us max=900 p50=300"));
}

#[test]
fn identical_retry_pass_fail_and_not_exercised() {
    assert_eq!(
        identical_retry(&[failover(1)], Topology::Direct).outcome,
        Outcome::Pass
    );
    let changed = view(
        vec![
            step("gw1", 0, "org-a", false),
            step("gw2", 5, "org-b", false),
        ],
        Some("gw2"),
    );
    let c = identical_retry(&[changed], Topology::ThroughSut);
    assert_eq!(c.outcome, Outcome::Fail);
    assert!(
        c.message.contains("E911-Organization-ID: org-a -> org-b"),
        "{}",
        c.message
    );
    // Behind an SBC, a first gateway that failed before the INVITE leaves nothing to compare.
    let mut first = step("gw1", 0, "org", false);
    first.fingerprint = None;
    let one = view(vec![first, step("gw2", 5, "org", false)], Some("gw2"));
    assert_eq!(
        identical_retry(std::slice::from_ref(&one), Topology::ThroughSut).outcome,
        Outcome::Skipped
    );
    // No retry at all is a failure: the scenario expected one, in every topology.
    for topology in [Topology::Direct, Topology::ThroughSut] {
        let c = identical_retry(&[single("gw1")], topology);
        assert_eq!(c.outcome, Outcome::Fail, "{topology:?}");
        assert_eq!(c.observed.as_deref(), Some("no retry"));
    }
    // Every retried INVITE is counted.
    let c = identical_retry(&[failover(1), failover(2)], Topology::Direct);
    assert!(
        c.message
            .starts_with("2 retried INVITE(s) carried the same"),
        "{}",
        c.message
    );
}

#[test]
fn no_retry_after_a_final_response_pass_and_fail() {
    let sc = routed("", "status = 403\nno_retry = true");
    let c = no_retry_check(true, &[single("gw1")], &sc);
    assert_eq!(c.outcome, Outcome::Pass);
    let retried = view(
        vec![step("gw1", 0, "org", true), step("gw2", 5, "org", false)],
        Some("gw2"),
    );
    let c = no_retry_check(true, std::slice::from_ref(&retried), &sc);
    assert_eq!(c.outcome, Outcome::Fail);
    assert!(c.message.contains("was retried after gw1"), "{}", c.message);
    assert_eq!(
        no_retry_check(false, &[retried], &sc).outcome,
        Outcome::Pass
    );
}

#[test]
fn binomial_interval_is_exact_and_symmetric() {
    let (lo, hi) = binomial_interval(200, 0.5, 0.999);
    assert_eq!(lo + hi, 200, "symmetric for p = 0.5");
    assert!((74..=80).contains(&lo), "{lo}");
    assert_eq!(binomial_interval(20, 0.5, 0.95), (6, 14));
    // Each tail holds at most (1 - confidence) / 2: 2.5 % here, not 5 %.
    assert_eq!(binomial_interval(100, 0.5, 0.95), (40, 60));
}

#[test]
fn random_split_pass_and_fail() {
    let fair: Vec<RouteView> = (0..200)
        .map(|i| single(if i % 2 == 0 { "gw1" } else { "gw2" }))
        .collect();
    let c = random_split("gw1", 0.999, 2, &fair);
    assert_eq!(c.outcome, Outcome::Pass, "{}", c.message);
    assert!(c.message.contains("100 of 200 calls"), "{}", c.message);
    let skewed: Vec<RouteView> = (0..200)
        .map(|i| single(if i % 10 == 0 { "gw2" } else { "gw1" }))
        .collect();
    let c = random_split("gw1", 0.999, 2, &skewed);
    assert_eq!(c.outcome, Outcome::Fail);
    assert!(c.message.contains("not random"), "{}", c.message);
    assert_eq!(c.observed.as_deref(), Some("180"), "first choices on gw1");
    assert!(
        c.expected
            .as_deref()
            .is_some_and(|e| e.contains("(99.9% binomial interval, p = 0.500)")),
        "{c:?}"
    );
}

#[test]
fn outage_impact_and_long_path_pass_and_fail() {
    let ok = outage_impact(0, &[failover(1), failover(2), single("gw2")]);
    assert_eq!(ok.outcome, Outcome::Pass);
    assert!(
        ok.message
            .ends_with("2 took the long path, 0 skipped a gateway marked down"),
        "{}",
        ok.message
    );
    let lost = view(
        vec![step("gw1", 0, "org", false), step("gw2", 1, "org", false)],
        None,
    );
    let c = outage_impact(0, &[lost, failover(1), failover(1)]);
    assert_eq!(c.outcome, Outcome::Fail);
    assert!(
        c.message.contains("1 of 3 call(s) unanswered (call 1)"),
        "{}",
        c.message
    );
}

#[test]
fn the_path_behind_a_system_under_test_is_read_at_the_gateways() {
    let sc = routed("", "status = 200");
    // gw1 503 -> gw2 200 with 800 µs between the INVITEs.
    let v = RouteView::of_gateways(
        &sc,
        &[invite_obs("gw1", 1_000, 503), invite_obs("gw2", 1_800, 200)],
        Some(900),
    );
    assert_eq!(v.answered_by.as_deref(), Some("gw2"));
    assert_eq!(v.tried().count(), 2);
    assert_eq!(v.failover_us, Some(800));
    assert!(!v.steps[0].final_rejection, "503 is retryable");
    assert!(v.path().contains("gw1 503 -> gw2 200"), "{}", v.path());
    // A connection fault first, then the INVITE at gw2: timed from the first contact.
    let v = RouteView::of_gateways(
        &sc,
        &[
            connection_event("gw1", 1_000, Some("close before invite"), None),
            invite_obs("gw2", 1_400, 200),
        ],
        Some(900),
    );
    assert_eq!((v.tried().count(), v.failover_us), (2, Some(400)));
    assert!(v.steps[0].fingerprint.is_none());
    // gw1 down for the scenario: counted as tried, timed from the trunk's INVITE.
    let down = routed(
        "[gateway.gw1]\noutage = { from = \"0s\", until = \"60s\" }",
        "status = 200",
    );
    let v = RouteView::of_gateways(&down, &[invite_obs("gw2", 1_500, 200)], Some(1_000));
    assert_eq!(v.tried().count(), 2);
    assert_eq!(v.failover_us, Some(500));
    assert!(
        v.failover_from.contains("trunk's INVITE"),
        "{}",
        v.failover_from
    );
    // A 403 at gw1 is a final rejection.
    let v = RouteView::of_gateways(&sc, &[invite_obs("gw1", 1, 403)], Some(0));
    assert!(v.steps[0].final_rejection);
}

#[test]
fn a_silent_gateway_behind_an_sbc_is_timed_on_the_sbcs_timer() {
    let silent = routed(
        "[[fault]]\ngateway = \"gw1\"\nkind = \"silence\"",
        "status = 200",
    );
    let b = sut_bound(&silent, Duration::from_secs(2), Duration::from_secs(1));
    assert_eq!(b, Duration::from_millis(2_700), "2 s - 300 ms + 1 s");
    let rejecting = routed(
        "[[fault]]\ngateway = \"gw1\"\nkind = \"respond\"\nstatus = 503",
        "status = 200",
    );
    assert_eq!(
        sut_bound(&rejecting, Duration::from_secs(2), Duration::from_secs(1)),
        Duration::from_secs(2)
    );
}

#[test]
fn behind_an_sbc_a_silent_gw1_is_timed_on_the_sbcs_own_timer_in_the_verdict() {
    // gw1 silent, the SBC's timer is 1 s: a failover 2.5 s after gw1's INVITE is within the
    // moved bound (2 s - 300 ms + 1 s), though past the scenario's own 2 s.
    let sc = routed(
        "[[fault]]\ngateway = \"gw1\"\nkind = \"silence\"",
        "status = 200\nfailover_within = \"2s\"",
    );
    let mut silent = invite_obs("gw1", 10_000, 200);
    silent.response = None;
    let c = judge_in(
        sut(),
        &sc,
        &crate::test_support::answered(),
        Some(&[silent, invite_obs("gw2", 2_510_000, 200)]),
    );
    let f = check(&c, "route.failover-time");
    assert_eq!(f.outcome, Outcome::Pass, "{f:?}");
    assert_eq!(f.observed.as_deref(), Some("failover_us=2500000"));
}

#[test]
fn behind_an_sbc_a_gw1_down_is_timed_from_the_trunk_s_invite() {
    let sc = routed(
        "[gateway.gw1]\noutage = { from = \"0s\", until = \"60s\" }",
        "status = 200\nfailover_within = \"2s\"",
    );
    // The trunk's INVITE went out at 10 ms (attempt_at), gw2 received it 500 ms later.
    let c = judge_in(
        sut(),
        &sc,
        &crate::test_support::answered(),
        Some(&[invite_obs("gw2", 510_000, 200)]),
    );
    let f = check(&c, "route.failover-time");
    assert_eq!(f.outcome, Outcome::Pass, "{f:?}");
    assert_eq!(f.observed.as_deref(), Some("failover_us=500000"));
}

#[test]
fn health_detection_only_for_direct_scenarios_with_health() {
    // gw1 is down, but the scenario probes nothing: no detection to judge.
    let sc = routed(
        "[gateway.gw1]\noutage = { from = \"0s\", until = \"60s\" }",
        "status = 200\nanswered_by = \"gw2\"",
    );
    let call = call_of(vec![attempt_at(
        "gw2",
        AttemptEnd::Answered { status: 200 },
        10_000,
        "",
    )]);
    let c = direct(&sc, &call, Some(&[invite_obs("gw2", 10_000, 200)]));
    assert!(has(&c, "route.answered-by"));
    assert!(!has(&c, "health.detection"));
    // With [health], only the harness's own probing is judged (not a system under test's).
    let probed = scenario_with(
        "",
        "dial = \"911\"\nani = \"+13125550100\"",
        "status = 200\n[route]\n[health]\n[gateway.gw1]\noutage = { from = \"0s\", until = \"5s\" }",
    );
    let c = judge_in(
        sut(),
        &probed,
        &call,
        Some(&[invite_obs("gw2", 10_000, 200)]),
    );
    assert!(!has(&c, "health.detection"));
}

#[test]
fn without_gateway_evidence_only_the_route_checks_asked_for_are_skipped() {
    let asked = routed("", "status = 200\nidentical_retry = true");
    let c = judge_in(
        crate::verdict::tests::external(),
        &asked,
        &crate::test_support::answered(),
        None,
    );
    assert_eq!(check(&c, "route.identical-retry").outcome, Outcome::Skipped);
    let not_asked = routed(
        "",
        "status = 200\nanswered_by = \"gw1\"\nidentical_retry = false",
    );
    let c = judge_in(
        crate::verdict::tests::external(),
        &not_asked,
        &crate::test_support::answered(),
        None,
    );
    assert!(!has(&c, "route.identical-retry"));
    assert_eq!(check(&c, "route.answered-by").outcome, Outcome::Skipped);
}

#[test]
fn failover_behind_an_sbc_is_judged_from_the_gateways() {
    let sc = routed(
        "[[fault]]\ngateway = \"gw1\"\nkind = \"respond\"\nstatus = 503",
        "status = 200\nanswered_by = \"gw2\"\nattempts = 2\nfailover_within = \"2s\"\nidentical_retry = true",
    );
    let call = call_of(vec![attempt_at(
        "gw1",
        AttemptEnd::Answered { status: 200 },
        900,
        "",
    )]);
    let good = [invite_obs("gw1", 1_000, 503), invite_obs("gw2", 2_000, 200)];
    let checks = judge_in(sut(), &sc, &call, Some(&good));
    for id in [
        "route.answered-by",
        "route.attempts",
        "route.failover-time",
        "route.identical-retry",
    ] {
        assert_eq!(
            check(&checks, id).outcome,
            Outcome::Pass,
            "{id}: {checks:#?}"
        );
    }
    // No failover: the SBC relayed gw1's 503.
    let stuck = [invite_obs("gw1", 1_000, 503)];
    let checks = judge_in(sut(), &sc, &call, Some(&stuck));
    for id in ["route.answered-by", "route.attempts", "route.failover-time"] {
        assert_eq!(check(&checks, id).outcome, Outcome::Fail, "{id}");
    }
    // The org header lost on the retry.
    let lost = [
        invite_obs("gw1", 1_000, 503),
        with_header(invite_obs("gw2", 2_000, 200), "E911-Organization-ID", &[]),
    ];
    let checks = judge_in(sut(), &sc, &call, Some(&lost));
    let c = check(&checks, "route.identical-retry");
    assert_eq!(c.outcome, Outcome::Fail);
    assert!(c.message.contains("E911-Organization-ID"), "{}", c.message);
}

#[test]
fn direct_paths_come_from_the_trunks_attempts() {
    let sc = routed(
        "[[fault]]\ngateway = \"gw1\"\nkind = \"respond\"\nstatus = 503",
        "status = 200\nanswered_by = \"gw2\"\nattempts = 2\nfailover_within = \"2s\"",
    );
    let mut gw1 = attempt_at(
        "gw1",
        AttemptEnd::Rejected {
            status: 503,
            q850: None,
        },
        1_000,
        "",
    );
    gw1.decision = Decision::RetryableStatus;
    let call = call_of(vec![
        gw1,
        attempt_at("gw2", AttemptEnd::Answered { status: 200 }, 1_300, ""),
    ]);
    let checks = direct(
        &sc,
        &call,
        Some(&[invite_obs("gw1", 1_000, 503), invite_obs("gw2", 1_300, 200)]),
    );
    for id in ["route.answered-by", "route.attempts", "route.failover-time"] {
        assert_eq!(check(&checks, id).outcome, Outcome::Pass, "{id}");
    }
    assert!(check(&checks, "route.failover-time").observed.as_deref() == Some("failover_us=300"));
    // A refused gw1 (no INVITE written) is still an attempt.
    let refused = call_of(vec![
        attempt_at("gw1", AttemptEnd::NoAnswer(Failure::Refused), 1_000, ""),
        attempt_at("gw2", AttemptEnd::Answered { status: 200 }, 1_100, ""),
    ]);
    let v = RouteView::of_trunk(&refused, None);
    assert_eq!(v.tried().count(), 2);
    assert_eq!(v.answered_by.as_deref(), Some("gw2"));
}

#[test]
fn a_direct_step_is_what_its_own_gateway_received_of_that_attempt() {
    let org_of = |v: &RouteView| v.steps[0].fingerprint.as_ref().map(|f| f.org.clone());
    let mut gw1 = attempt_at(
        "gw1",
        AttemptEnd::Rejected {
            status: 403,
            q850: None,
        },
        1_000,
        "",
    );
    gw1.decision = Decision::Final;
    let call = call_of(vec![gw1]);
    let sent = InviteFingerprint::of_request(&crate::test_support::invite()).org;
    let rewritten = with_header(
        invite_obs("gw1", 1_000, 403),
        scenarios::ORG_HEADER,
        &["other"],
    );
    // The gateway's own record of this attempt's INVITE wins over what the trunk wrote.
    let v = RouteView::of_trunk(&call, Some(std::slice::from_ref(&rewritten)));
    assert_eq!(org_of(&v), Some(vec!["other".to_owned()]));
    assert!(v.steps[0].final_rejection, "decision Final");
    // Another gateway's INVITE, another dialog's, or a retransmission is not this attempt's.
    let mut elsewhere = rewritten.clone();
    elsewhere.gateway = "gw2".into();
    let mut other_dialog = rewritten.clone();
    other_dialog.call_id = Some("another@trunk.invalid".into());
    let mut resent = rewritten.clone();
    resent.retransmission = true;
    for o in [elsewhere, other_dialog, resent] {
        let v = RouteView::of_trunk(&call, Some(std::slice::from_ref(&o)));
        assert_eq!(org_of(&v), Some(sent.clone()), "{o:?}");
    }
    // Unobserved, a tried attempt is what the trunk sent; an attempt not made has none.
    let v = RouteView::of_trunk(&call, None);
    assert_eq!(org_of(&v), Some(sent.clone()));
    let mut skipped = attempt_at(
        "gw1",
        AttemptEnd::NotAttempted(crate::evidence::NotAttempted::SkippedDown),
        1_000,
        "",
    );
    skipped.decision = Decision::Skipped;
    let v = RouteView::of_trunk(&call_of(vec![skipped]), None);
    assert_eq!(org_of(&v), None);
    assert!(!v.steps[0].final_rejection);
}

#[test]
fn behind_an_sbc_a_gateway_s_first_invite_is_its_step() {
    let sc = routed("", "status = 200");
    // A connection event first, then the INVITE on the next connection: the INVITE is the step.
    let v = RouteView::of_gateways(
        &sc,
        &[
            connection_event("gw1", 1_000, None, Some("alert")),
            invite_obs("gw1", 1_100, 503),
            invite_obs("gw2", 1_500, 200),
        ],
        Some(900),
    );
    assert_eq!(v.steps.len(), 2);
    assert!(v.steps[0].fingerprint.is_some());
    assert_eq!(v.failover_us, Some(400), "INVITE at gw1 -> INVITE at gw2");
    // A second INVITE at the same gateway does not replace its first.
    let again = with_header(
        invite_obs("gw1", 1_200, 503),
        scenarios::ORG_HEADER,
        &["other"],
    );
    let v = RouteView::of_gateways(
        &sc,
        &[
            invite_obs("gw1", 1_000, 503),
            again,
            invite_obs("gw2", 1_500, 200),
        ],
        Some(900),
    );
    assert_eq!(
        v.steps[0].fingerprint.as_ref().map(|f| f.org.clone()),
        Some(vec![crate::test_support::ORG.to_owned()])
    );
    assert_eq!(v.steps[0].at_us, Some(1_000));
}

#[test]
fn health_probing_must_take_a_down_gateway_out_of_service() {
    let sc = scenario_with(
        "",
        "dial = \"911\"\nani = \"+13125550100\"",
        "status = 200\n[route]\n[health]\n[run]\ncalls = 2\n[gateway.gw1]\noutage = { from = \"0s\", until = \"5s\" }",
    );
    let ev_with = |t: &[Transition]| {
        let setting = super::super::Setting::direct(sip::transport::TransportKind::Tls);
        let call = call_of(vec![attempt_at(
            "gw2",
            AttemptEnd::Answered { status: 200 },
            1,
            "",
        )]);
        let calls = [super::super::CallEvidence {
            call: &call,
            observations: Some(&[]),
        }];
        judge(
            &sc,
            &super::super::Evidence {
                setting: &setting,
                calls: &calls,
                scenario_observations: Some(&[]),
                transitions: t,
            },
        )
    };
    let down = Transition {
        gateway: "gw1".into(),
        up: false,
        at_us: 5,
        detection_us: 40_000,
    };
    let ok = ev_with(std::slice::from_ref(&down));
    let c = check(&ok, "health.detection");
    assert_eq!(c.outcome, Outcome::Pass);
    assert_eq!(c.requirement.as_deref(), Some("ICD 5.1.3"));
    assert!(c.message.contains("40.0 ms"), "{}", c.message);
    assert_eq!(
        check(&ev_with(&[]), "health.detection").outcome,
        Outcome::Fail
    );
    assert!(has(&ok, "health.detection"));
    // gw1 marked up, or another gateway marked down, is not gw1 detected down.
    let up = Transition {
        up: true,
        ..down.clone()
    };
    let other = Transition {
        gateway: "gw2".into(),
        ..down
    };
    let c = ev_with(&[up, other]);
    assert_eq!(check(&c, "health.detection").outcome, Outcome::Fail);
}

#[test]
fn merge_keeps_one_check_per_id() {
    let pass = |id: &str| CheckResult {
        id: id.into(),
        requirement: None,
        outcome: Outcome::Pass,
        expected: None,
        observed: None,
        message: "fine".into(),
    };
    let fail = CheckResult {
        outcome: Outcome::Fail,
        message: "broken".into(),
        ..pass("a")
    };
    let merged = merge_calls(vec![vec![pass("a"), pass("b")], vec![fail, pass("b")]]);
    assert_eq!(merged.len(), 2);
    assert_eq!(
        (merged[0].outcome, merged[0].message.as_str()),
        (Outcome::Fail, "call 2 of 2: broken")
    );
    assert_eq!(merged[1].message, "all 2 calls: fine");
    // A check only one of the calls had is shown as that call's.
    let merged = merge_calls(vec![vec![pass("a"), pass("b")], vec![pass("a")]]);
    assert_eq!(merged[1].message, "fine");
}

#[test]
fn only_a_delay_past_the_attempt_timeout_counts_as_silence() {
    let slow = routed(
        "[[fault]]\ngateway = \"gw1\"\nkind = \"delay\"\ndelay = \"500ms\"",
        "status = 200",
    );
    let quick = routed(
        "[[fault]]\ngateway = \"gw1\"\nkind = \"delay\"\ndelay = \"100ms\"",
        "status = 200",
    );
    let on_gw2 = routed(
        "[[fault]]\ngateway = \"gw2\"\nkind = \"silence\"",
        "status = 200",
    );
    let (bound, timer) = (Duration::from_secs(2), Duration::from_secs(1));
    assert_eq!(sut_bound(&slow, bound, timer), Duration::from_millis(2_700));
    assert_eq!(sut_bound(&quick, bound, timer), bound);
    let at_the_timeout = routed(
        "[[fault]]\ngateway = \"gw1\"\nkind = \"delay\"\ndelay = \"300ms\"",
        "status = 200",
    );
    assert_eq!(
        sut_bound(&at_the_timeout, bound, timer),
        bound,
        "answered at the attempt timeout is not silence past it"
    );
    assert_eq!(
        sut_bound(&on_gw2, bound, timer),
        bound,
        "only the first gateway's silence"
    );
}

#[test]
fn absences_no_call_exercised_do_not_pass() {
    // Nothing reached a gateway (the system under test refused every connection): "no retry"
    // and "no long path" were not exercised.
    let sc = routed("", "status = 403\nno_retry = true\nlong_path_max = 1");
    let c = judge_in(sut(), &sc, &unanswered_call(), Some(&[]));
    for id in ["route.no-retry-after-final", "route.long-path"] {
        let r = check(&c, id);
        assert_eq!(r.outcome, Outcome::Error, "{id}");
        assert!(
            r.message.contains("no call reached an E911 gateway"),
            "{}",
            r.message
        );
    }
    // One that did reach gw1 and got its 403 is judged.
    let c = judge_in(
        sut(),
        &sc,
        &unanswered_call(),
        Some(&[invite_obs("gw1", 1, 403)]),
    );
    for id in ["route.no-retry-after-final", "route.long-path"] {
        assert_eq!(check(&c, id).outcome, Outcome::Pass, "{id}");
    }
}

fn unanswered_call() -> crate::evidence::Call {
    crate::test_support::unanswered(Failure::Refused)
}

#[test]
fn each_route_expectation_alone_is_judged() {
    let call = call_of(vec![attempt_at(
        "gw1",
        AttemptEnd::Answered { status: 200 },
        900,
        "",
    )]);
    let seen = [invite_obs("gw1", 1_000, 503), invite_obs("gw2", 2_000, 200)];
    let fault = "[[fault]]\ngateway = \"gw1\"\nkind = \"respond\"\nstatus = 503";
    let outage = "[gateway.gw1]\noutage = { from = \"0s\", until = \"5s\" }";
    for (sections, line, ids) in [
        (fault, "answered_by = \"gw2\"", &["route.answered-by"][..]),
        // Two attempts imply the retry is compared.
        (
            fault,
            "attempts = 2",
            &["route.attempts", "route.identical-retry"],
        ),
        (fault, "failover_within = \"2s\"", &["route.failover-time"]),
        (fault, "identical_retry = true", &["route.identical-retry"]),
        (fault, "no_retry = false", &["route.no-retry-after-final"]),
        (outage, "outage_failed_max = 0", &["route.outage-impact"]),
        (fault, "long_path_max = 1", &["route.long-path"]),
    ] {
        let sc = routed(sections, &format!("status = 200\n{line}"));
        let checks = judge_in(sut(), &sc, &call, Some(&seen));
        for id in ids {
            assert_eq!(
                check(&checks, id).outcome,
                Outcome::Pass,
                "{line}: {checks:#?}"
            );
        }
        // And nothing else of the route is judged on its behalf.
        let route: Vec<&str> = checks
            .iter()
            .filter(|c| c.id.starts_with("route.") && c.id != "route.gateway-order")
            .map(|c| c.id.as_str())
            .collect();
        assert_eq!(route, ids, "{line}");
    }
    // `identical_retry = false` asks for nothing.
    let sc = routed("", "status = 200\nidentical_retry = false");
    assert!(!has(
        &judge_in(sut(), &sc, &call, Some(&seen)),
        "route.identical-retry"
    ));
}

#[test]
fn long_path_is_judged_at_its_bound() {
    let sc = routed("", "status = 200\nlong_path_max = 1");
    let two = |gw: &str, at: u64| [invite_obs("gw1", at, 503), invite_obs(gw, at + 500, 200)];
    let call = call_of(vec![attempt_at(
        "gw1",
        AttemptEnd::Answered { status: 200 },
        900,
        "",
    )]);
    // Two calls, one long: at the bound, passes.
    let mut one_long = two("gw2", 1_000).to_vec();
    one_long[1].call_id = Some("c2".into());
    let ev_one = [one_long.clone(), vec![invite_obs("gw1", 5_000, 200)]];
    let ev_two = [one_long.clone(), one_long];
    let judge_two = |ev: &[Vec<reports::Observation>]| {
        let calls = [
            CallEvidence {
                call: &call,
                observations: Some(&ev[0]),
            },
            CallEvidence {
                call: &call,
                observations: Some(&ev[1]),
            },
        ];
        judge(
            &sc,
            &Evidence {
                setting: &sut(),
                calls: &calls,
                scenario_observations: None,
                transitions: &[],
            },
        )
    };
    let c = judge_two(&ev_one);
    let r = check(&c, "route.long-path");
    assert_eq!(r.outcome, Outcome::Pass, "{r:?}");
    assert_eq!(r.observed.as_deref(), Some("1"));
    let c = judge_two(&ev_two);
    let r = check(&c, "route.long-path");
    assert_eq!(r.outcome, Outcome::Fail);
    assert!(r.message.contains("2 of 2 call(s)"), "{}", r.message);
}
