//! Each route check on its pass and its fail side.

use super::*;
use crate::originate::health::Transition;
use crate::originate::route::TransportFailure;
use reports::Outcome;
use scenarios::Scenario;

fn scenario(sections: &str, expect: &str) -> Scenario {
    let text = format!(
        "name = \"t\"\ndescription = \"t.\"\nrequirements = [\"ICD 5.3\"]\n\n[call]\ndial = \"911\"\nani = \"+13125550100\"\n\n{sections}\n\n[expect]\n{expect}\n"
    );
    scenarios::load_str(&text, "t.toml").unwrap_or_else(|e| panic!("{e}\n{text}"))
}

fn fp(org: &str) -> InviteFingerprint {
    InviteFingerprint {
        dialed: "911".into(),
        from: "<sip:+13125550100@trunk>".into(),
        pai: vec!["<sip:+13125550100@trunk;user=phone>".into()],
        org: vec![org.into()],
        sdp: "m=audio * RTP/SAVP 0 8 101\n".into(),
        ..InviteFingerprint::default()
    }
}

fn attempt(gw: &str, class: AttemptClass, status: Option<u16>) -> AttemptSummary {
    AttemptSummary {
        gateway: gw.into(),
        class,
        status,
        reason: status.map(|s| {
            if s == 200 {
                "OK".into()
            } else {
                "Service Unavailable".into()
            }
        }),
        q850: None,
        error: None,
        call_id: format!("{gw}-call"),
        fingerprint: Some(fp("org-a")),
    }
}

/// gw1 503 -> gw2 200, failover after `us`.
fn failover(us: u64) -> CallSummary {
    CallSummary {
        attempts: vec![
            attempt("gw1", AttemptClass::RetryableStatus, Some(503)),
            attempt("gw2", AttemptClass::Answered, Some(200)),
        ],
        answered_by: Some("gw2".into()),
        failover_us: Some(us),
        first_choice: "gw1".into(),
    }
}

/// gw1 answers at once.
fn direct(gw: &str) -> CallSummary {
    CallSummary {
        attempts: vec![attempt(gw, AttemptClass::Answered, Some(200))],
        answered_by: Some(gw.into()),
        failover_us: None,
        first_choice: gw.into(),
    }
}

fn judge(sc: &Scenario, calls: &[CallSummary]) -> Vec<CheckResult> {
    let route = sc.route.clone().expect("route");
    judge_route(
        sc,
        &RouteEvidence {
            calls,
            route: &route,
            observations: None,
            transitions: &[],
        },
    )
}

fn only<'a>(checks: &'a [CheckResult], id: &str) -> &'a CheckResult {
    let c = checks
        .iter()
        .find(|c| c.id == id)
        .unwrap_or_else(|| panic!("{id} in {checks:#?}"));
    assert_eq!(c.requirement.as_deref(), Some("ICD 5.3"));
    c
}

#[test]
fn answered_by_pass_and_fail() {
    let sc = scenario("[route]", "answered_by = \"gw2\"");
    let ok = judge(&sc, &[failover(1000)]);
    assert_eq!(only(&ok, "route.answered-by").outcome, Outcome::Pass);
    let bad = judge(&sc, &[direct("gw1")]);
    let c = only(&bad, "route.answered-by");
    assert_eq!(c.outcome, Outcome::Fail);
    assert!(
        c.message.contains("answered by gw1, expected gw2"),
        "{}",
        c.message
    );
}

#[test]
fn attempts_pass_and_fail() {
    let sc = scenario("[route]", "attempts = 2");
    assert_eq!(
        only(&judge(&sc, &[failover(1)]), "route.attempts").outcome,
        Outcome::Pass
    );
    let c = judge(&sc, &[direct("gw1")]);
    let c = only(&c, "route.attempts");
    assert_eq!(c.outcome, Outcome::Fail);
    assert!(
        c.message
            .contains("took 1 attempt(s), expected 2: gw1 200 OK"),
        "{}",
        c.message
    );
}

#[test]
fn failover_time_pass_fail_and_missing() {
    let sc = scenario("[route]", "failover_within = \"500ms\"");
    let ok = judge(&sc, &[failover(312_400)]);
    let c = only(&ok, "route.failover-time");
    assert_eq!(c.outcome, Outcome::Pass);
    assert!(
        c.message.contains("failover in 312.4 ms, within 500ms"),
        "{}",
        c.message
    );
    assert_eq!(c.observed.as_deref(), Some("failover_us=312400"));
    let slow = judge(&sc, &[failover(900_000)]);
    let c = only(&slow, "route.failover-time");
    assert_eq!(c.outcome, Outcome::Fail);
    assert!(c.message.contains("over the 500ms bound"), "{}", c.message);
    let none = judge(&sc, &[direct("gw1")]);
    assert!(
        only(&none, "route.failover-time")
            .message
            .contains("never reached a second gateway")
    );
}

#[test]
fn identical_retry_pass_and_fail() {
    let sc = scenario("[route]", "identical_retry = true");
    assert_eq!(
        only(&judge(&sc, &[failover(1)]), "route.identical-retry").outcome,
        Outcome::Pass
    );
    let mut lost = failover(1);
    lost.attempts[1].fingerprint = Some(InviteFingerprint {
        org: vec![],
        ..fp("x")
    });
    let c = judge(&sc, &[lost]);
    let c = only(&c, "route.identical-retry");
    assert_eq!(c.outcome, Outcome::Fail);
    assert!(
        c.message.contains("E911-Organization-ID: org-a -> (none)"),
        "{}",
        c.message
    );
    let c = judge(&sc, &[direct("gw1")]);
    assert_eq!(
        only(&c, "route.identical-retry").outcome,
        Outcome::Fail,
        "nothing to compare"
    );
}

#[test]
fn no_retry_pass_and_fail() {
    let sc = scenario("[route]", "no_retry = true");
    let mut busy = direct("gw1");
    busy.attempts[0].class = AttemptClass::Final;
    busy.attempts[0].status = Some(486);
    busy.answered_by = None;
    assert_eq!(
        only(&judge(&sc, &[busy]), "route.no-retry-after-final").outcome,
        Outcome::Pass
    );
    let c = judge(&sc, &[failover(1)]);
    let c = only(&c, "route.no-retry-after-final");
    assert_eq!(c.outcome, Outcome::Fail);
    assert!(
        c.message.contains("was retried after gw1 503"),
        "{}",
        c.message
    );
    let want_retry = scenario("[route]", "no_retry = false");
    assert_eq!(
        only(
            &judge(&want_retry, &[failover(1)]),
            "route.no-retry-after-final"
        )
        .outcome,
        Outcome::Pass
    );
}

#[test]
fn binomial_interval_is_exact_and_symmetric() {
    let (lo, hi) = binomial_interval(200, 0.5, 0.999);
    assert_eq!(lo + hi, 200, "symmetric for p = 0.5");
    assert!((74..=80).contains(&lo), "{lo}");
    let (lo, hi) = binomial_interval(20, 0.5, 0.95);
    assert_eq!((lo, hi), (6, 14));
}

#[test]
fn random_split_pass_and_fail() {
    let sc = scenario(
        "[route]\ndistribution = \"random\"\nseed = 1\n[run]\ncalls = 200",
        "random_split = { gateway = \"gw1\", within = \"99.9%\" }",
    );
    let fair: Vec<CallSummary> = (0..200)
        .map(|i| direct(if i % 2 == 0 { "gw1" } else { "gw2" }))
        .collect();
    let c = judge(&sc, &fair);
    let c = only(&c, "route.random-split");
    assert_eq!(c.outcome, Outcome::Pass, "{}", c.message);
    assert!(c.message.contains("100 of 200 calls"), "{}", c.message);
    let skewed: Vec<CallSummary> = (0..200)
        .map(|i| direct(if i % 10 == 0 { "gw2" } else { "gw1" }))
        .collect();
    let c = judge(&sc, &skewed);
    let c = only(&c, "route.random-split");
    assert_eq!(c.outcome, Outcome::Fail);
    assert!(c.message.contains("not random"), "{}", c.message);
}

#[test]
fn outage_impact_and_long_path_pass_and_fail() {
    let sc = scenario(
        "[route]\n[run]\ncalls = 3\n\n[gateway.gw1]\noutage = { from = \"0s\", until = \"1s\" }",
        "outage_failed_max = 0\nlong_path_max = 1",
    );
    let mut down = direct("gw1");
    down.attempts = vec![
        attempt(
            "gw1",
            AttemptClass::Transport(TransportFailure::Refused),
            None,
        ),
        attempt(
            "gw2",
            AttemptClass::Transport(TransportFailure::Refused),
            None,
        ),
    ];
    down.answered_by = None;
    let t = [Transition {
        gateway: "gw1".into(),
        up: false,
        at_us: 5,
        detection_us: 40_000,
    }];
    let route = sc.route.clone().unwrap();
    let run = |calls: &[CallSummary]| {
        judge_route(
            &sc,
            &RouteEvidence {
                calls,
                route: &route,
                observations: None,
                transitions: &t,
            },
        )
    };
    let ok = run(&[failover(1), direct("gw2"), direct("gw2")]);
    let c = only(&ok, "route.outage-impact");
    assert_eq!(c.outcome, Outcome::Pass);
    assert!(
        c.message.contains("marked gw1 down 40.0 ms"),
        "{}",
        c.message
    );
    assert_eq!(only(&ok, "route.long-path").outcome, Outcome::Pass);
    let bad = run(&[down, failover(1), failover(1)]);
    let c = only(&bad, "route.outage-impact");
    assert_eq!(c.outcome, Outcome::Fail);
    assert!(
        c.message.contains("1 of 3 call(s) unanswered (call 1)"),
        "{}",
        c.message
    );
    assert_eq!(only(&bad, "route.long-path").outcome, Outcome::Fail);
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
}
