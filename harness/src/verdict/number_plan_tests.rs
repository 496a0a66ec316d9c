//! The number plan and the gateway order on their pass, fail, error and not-applicable sides.

use reports::Outcome;

use crate::evidence::{Attempt, AttemptEnd, Decision, Failure, NotAttempted};
use crate::test_support::{
    answered, attempt_at, call_of, check, connection_event, has, invite_obs, rejected,
    scenario_with, unanswered,
};
use crate::verdict::tests::{direct, external, judge_in, sut};

fn dial(number: &str, expect: &str) -> scenarios::Scenario {
    scenario_with(
        "",
        &format!("dial = \"{number}\"\nani = \"+13125550100\""),
        expect,
    )
}

fn refused_by_trunk() -> crate::evidence::Call {
    call_of(vec![Attempt::not_made(
        "trunk",
        AttemptEnd::NotAttempted(NotAttempted::NumberPlan),
        Decision::Refused,
        1,
    )])
}

#[test]
fn a_non_emergency_number_must_never_reach_a_gateway() {
    let sc = dial("9911", "status = 404");
    // The trunk's own number plan refused it: nothing reached a gateway, the caller got 404.
    let ok = direct(&sc, &refused_by_trunk(), Some(&[]));
    let c = check(&ok, "route.not-forwarded");
    assert_eq!(c.outcome, Outcome::Pass);
    assert_eq!(c.requirement.as_deref(), Some("ICD 5.2"));
    assert!(
        c.message.contains("trunk's number plan refused it: 404"),
        "{}",
        c.message
    );
    assert_eq!(check(&ok, "call.final-status").outcome, Outcome::Pass);
    // An SBC that forwards it: gw1 answers 404 itself, the final status passes, the number plan
    // does not.
    let mut reached = invite_obs("gw1", 5, 404);
    reached.request_uri = "sip:9911@gw1.anywhere.e911cloud.com;user=phone".into();
    reached.dialed = Some("9911".into());
    let bad = judge_in(sut(), &sc, &rejected(404, ""), Some(&[reached]));
    assert_eq!(check(&bad, "call.final-status").outcome, Outcome::Pass);
    let c = check(&bad, "route.not-forwarded");
    assert_eq!(c.outcome, Outcome::Fail);
    assert!(
        c.message.contains("gw1 received its INVITE"),
        "{}",
        c.message
    );
    assert!(c.message.contains("answered 404"), "{}", c.message);
    // Behind a system under test that received and refused it: its number plan passed.
    let sut_refused = judge_in(sut(), &sc, &rejected(404, ""), Some(&[]));
    let c = check(&sut_refused, "route.not-forwarded");
    assert_eq!(c.outcome, Outcome::Pass);
    assert!(
        c.message.contains("the system under test answered 404"),
        "{}",
        c.message
    );
    // One it never received (nothing listening, a handshake that failed) exercised nothing.
    for failure in [Failure::Refused, Failure::Closed] {
        let never = judge_in(sut(), &sc, &unanswered(failure.clone()), Some(&[]));
        let c = check(&never, "route.not-forwarded");
        let sent = !matches!(failure, Failure::Refused);
        assert_eq!(
            c.outcome,
            if sent { Outcome::Pass } else { Outcome::Error },
            "{failure:?}"
        );
        if !sent {
            assert!(
                c.message.contains("never reached the system under test"),
                "{}",
                c.message
            );
        }
    }
    // Without gateways it cannot be judged.
    let c = judge_in(external(), &sc, &rejected(404, ""), None);
    assert_eq!(check(&c, "route.not-forwarded").outcome, Outcome::Skipped);
    // 911 is not judged by it.
    let emergency = dial("911;phone-context=+1", "status = 200");
    assert!(!has(
        &direct(&emergency, &answered(), Some(&[invite_obs("gw1", 1, 200)])),
        "route.not-forwarded"
    ));
}

#[test]
fn emergency_calls_go_to_gw1_first_and_only_while_it_is_healthy() {
    for number in ["911", "933"] {
        let sc = dial(number, "status = 200");
        let ok = judge_in(sut(), &sc, &answered(), Some(&[invite_obs("gw1", 1, 200)]));
        let c = check(&ok, "route.gateway-order");
        assert_eq!(c.outcome, Outcome::Pass, "{number}");
        assert_eq!(c.requirement.as_deref(), Some("ICD 5.1.6"));
        let gw2_first = judge_in(sut(), &sc, &answered(), Some(&[invite_obs("gw2", 1, 200)]));
        let c = check(&gw2_first, "route.gateway-order");
        assert_eq!(c.outcome, Outcome::Fail, "{number}");
        assert!(
            c.message
                .contains(&format!("the {number} call went to gw2 first")),
            "{}",
            c.message
        );
    }
    let sc = dial("911", "status = 403");
    // gw1 said 403 and the call went on to gw2 anyway.
    let both = judge_in(
        sut(),
        &sc,
        &rejected(403, ""),
        Some(&[invite_obs("gw1", 1, 403), invite_obs("gw2", 2, 200)]),
    );
    let c = check(&both, "route.gateway-order");
    assert_eq!(c.outcome, Outcome::Fail);
    assert!(c.message.contains("also went to gw2"), "{}", c.message);
    // Never reached a gateway: the system under test's fault, unless the harness could not
    // reach its first hop.
    let lost = judge_in(
        sut(),
        &dial("911", "status = 200"),
        &rejected(503, ""),
        Some(&[]),
    );
    assert_eq!(check(&lost, "route.gateway-order").outcome, Outcome::Fail);
    let sut_down = judge_in(
        sut(),
        &dial("911", "status = 200"),
        &unanswered(Failure::Refused),
        Some(&[]),
    );
    assert_eq!(
        check(&sut_down, "route.gateway-order").outcome,
        Outcome::Error
    );
    // Directly, the order is the trunk's own: it tried gw1 first even if gw1 refused.
    let refused = direct(
        &dial("911", "status = 200"),
        &unanswered(Failure::Refused),
        Some(&[]),
    );
    assert_eq!(
        check(&refused, "route.gateway-order").outcome,
        Outcome::Pass
    );
}

#[test]
fn the_order_is_not_judged_where_gw1_is_unhealthy_or_the_route_is_random() {
    let faulted = scenario_with(
        "",
        "dial = \"911\"\nani = \"+13125550100\"",
        "status = 200\n[route]\n[[fault]]\ngateway = \"gw1\"\nkind = \"respond\"\nstatus = 503",
    );
    assert!(!has(
        &judge_in(
            sut(),
            &faulted,
            &answered(),
            Some(&[invite_obs("gw2", 1, 200)])
        ),
        "route.gateway-order"
    ));
    let random = scenario_with(
        "",
        "dial = \"911\"\nani = \"+13125550100\"",
        "status = 200\n[route]\ndistribution = \"random\"",
    );
    assert!(!has(
        &direct(&random, &answered(), Some(&[invite_obs("gw2", 1, 200)])),
        "route.gateway-order"
    ));
    let capped = scenario_with(
        "",
        "dial = \"911\"\nani = \"+13125550100\"",
        "status = 200\n[route]\n[gateway.gw1]\ncapacity = 1",
    );
    assert!(!has(
        &direct(&capped, &answered(), Some(&[invite_obs("gw1", 1, 200)])),
        "route.gateway-order"
    ));
    let c = judge_in(external(), &dial("911", "status = 200"), &answered(), None);
    assert_eq!(check(&c, "route.gateway-order").outcome, Outcome::Skipped);
}

#[test]
fn a_call_the_scenario_sends_to_gw2_is_not_judged_for_order() {
    let to_gw2 = scenario_with(
        "",
        "dial = \"911\"\nani = \"+13125550100\"\ngateway = \"gw2\"",
        "status = 200",
    );
    assert!(!has(
        &direct(&to_gw2, &answered(), Some(&[invite_obs("gw2", 1, 200)])),
        "route.gateway-order"
    ));
    let outage = scenario_with(
        "",
        "dial = \"911\"\nani = \"+13125550100\"",
        "status = 200\n[route]\n[gateway.gw1]\noutage = { from = \"0s\", until = \"5s\" }",
    );
    assert!(!has(
        &judge_in(
            sut(),
            &outage,
            &answered(),
            Some(&[invite_obs("gw2", 1, 200)])
        ),
        "route.gateway-order"
    ));
}

#[test]
fn a_gw1_that_released_the_call_is_failover_not_a_broken_order() {
    let sc = dial("911", "status = 200");
    let direct_via = |first: AttemptEnd| {
        let call = call_of(vec![
            attempt_at("gw1", first, 1, ""),
            attempt_at("gw2", AttemptEnd::Answered { status: 200 }, 2, ""),
        ]);
        check(
            &direct(&sc, &call, Some(&[invite_obs("gw2", 2, 200)])),
            "route.gateway-order",
        )
        .clone()
    };
    // Directly, the trunk's own attempts: gw1 refused the connection, or answered a retryable
    // 503, and the trunk moved on.
    for released in [
        AttemptEnd::NoAnswer(Failure::Refused),
        AttemptEnd::NoAnswer(Failure::TimedOut),
        AttemptEnd::Rejected {
            status: 503,
            q850: None,
        },
        AttemptEnd::Rejected {
            status: 486,
            q850: Some(34),
        },
    ] {
        let c = direct_via(released.clone());
        assert_eq!(c.outcome, Outcome::Pass, "{released:?}: {}", c.message);
    }
    // A final answer that is not retryable holds the call at gw1.
    for held in [
        AttemptEnd::Rejected {
            status: 403,
            q850: None,
        },
        AttemptEnd::Rejected {
            status: 486,
            q850: Some(17),
        },
        AttemptEnd::Answered { status: 200 },
    ] {
        let c = direct_via(held.clone());
        assert_eq!(c.outcome, Outcome::Fail, "{held:?}");
        assert!(c.message.contains("also went to gw2"), "{}", c.message);
    }
    // Behind a system under test: gw1 refused the handshake, or answered 503, then gw2.
    for first in [
        connection_event("gw1", 1, None, Some("bad certificate")),
        invite_obs("gw1", 1, 503),
    ] {
        let c = judge_in(
            sut(),
            &sc,
            &answered(),
            Some(&[first, invite_obs("gw2", 2, 200)]),
        );
        assert_eq!(check(&c, "route.gateway-order").outcome, Outcome::Pass);
    }
    // gw1 received the INVITE and had not answered when the call went to gw2 (forked, or
    // abandoned before gw1's answer): the order is broken.
    let mut silent = invite_obs("gw1", 1, 200);
    silent.response = None;
    let c = judge_in(
        sut(),
        &sc,
        &answered(),
        Some(&[silent, invite_obs("gw2", 2, 200)]),
    );
    let c = check(&c, "route.gateway-order");
    assert_eq!(c.outcome, Outcome::Fail);
    assert_eq!(c.observed.as_deref(), Some("gw1 -> gw2 200"));
    // Released once, then held: gw1 503, gw2 200... and gw1 again with 200 before a third
    // contact with gw2 is a retry gw1's answer did not release.
    let c = judge_in(
        sut(),
        &sc,
        &answered(),
        Some(&[
            invite_obs("gw1", 1, 503),
            invite_obs("gw2", 2, 503),
            invite_obs("gw1", 3, 403),
            invite_obs("gw2", 4, 200),
        ]),
    );
    assert_eq!(check(&c, "route.gateway-order").outcome, Outcome::Fail);
}

#[test]
fn a_refused_handshake_before_the_invite_does_not_release_gw1() {
    // gw1 refused one TLS handshake, took the INVITE on the next connection and answered 200;
    // the system under test still sent the call to gw2: gw1's answer had not released it.
    let sc = dial("911", "status = 200");
    let mut refused = connection_event("gw1", 1, None, Some("alert"));
    refused.method.clear();
    let c = judge_in(
        sut(),
        &sc,
        &answered(),
        Some(&[
            refused,
            invite_obs("gw1", 2, 200),
            invite_obs("gw2", 3, 200),
        ]),
    );
    let c = check(&c, "route.gateway-order");
    assert_eq!(c.outcome, Outcome::Fail, "{c:?}");
    assert_eq!(c.observed.as_deref(), Some("gw1 -> gw1 200 -> gw2 200"));
}

#[test]
fn only_a_sequential_route_that_starts_at_gw1_is_judged_for_order() {
    let from_gw2 = scenario_with(
        "",
        "dial = \"911\"\nani = \"+13125550100\"",
        "status = 200\n[route]\ngateways = [\"gw2\", \"gw1\"]",
    );
    assert!(!has(
        &direct(&from_gw2, &answered(), Some(&[invite_obs("gw2", 1, 200)])),
        "route.gateway-order"
    ));
    let from_gw1 = scenario_with(
        "",
        "dial = \"911\"\nani = \"+13125550100\"",
        "status = 200\n[route]\ngateways = [\"gw1\", \"gw2\"]",
    );
    assert!(has(
        &direct(&from_gw1, &answered(), Some(&[invite_obs("gw1", 1, 200)])),
        "route.gateway-order"
    ));
}
