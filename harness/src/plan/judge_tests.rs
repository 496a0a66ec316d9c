//! A step's window judged: the step's own `plan.calls` check on its pass, fail and error
//! sides, the verdict over the calls that arrived, and the calls no step expected.

use std::time::Duration;

use reports::{CheckResult, Observation, Outcome};
use scenarios::plan::{Plan, load_plan_str};
use sip::transport::TransportKind;

use super::{Driven, StepEnd, Stray, Window, judge_step, unexpected_report};
use crate::evidence::Topology;
use crate::plan::calls::sort;
use crate::test_support::{check, has, invite_obs};
use crate::verdict::Setting;

const PLAN: &str = r#"
[plan]
name = "p"
description = "A plan."

[[step]]
name = "shared-phone"
requirements = ["ICD 5.1.7"]
say = "Dial 911 from the shared phone."
dial = "911"
[step.caller]
phone_tied_to_user = false
site_ani = "+13125550100"
trunk_ani = "+13125550130"
[step.expect]
status = 200

[[step]]
name = "dial-9911"
requirements = ["ICD 5.2"]
say = "Dial 9911."
dial = "9911"
"#;

fn plan() -> Plan {
    load_plan_str(PLAN, "p.toml").unwrap_or_else(|e| panic!("{e}"))
}

fn setting() -> Setting {
    Setting {
        topology: Topology::Originator,
        trunk_leg: TransportKind::Tls,
        gateway_leg: Some(TransportKind::Tls),
        sut_attempt_timeout: Duration::ZERO,
    }
}

fn judge(
    step: usize,
    obs: &[Observation],
    ended: StepEnd,
    driven: Option<&Driven>,
) -> super::Judged {
    let p = plan();
    judge_step(
        &p.steps[step],
        &setting(),
        &Window {
            observations: obs,
            ended,
            driven,
            duration_ms: 5,
        },
    )
}

fn request(method: &str, at_us: u64) -> Observation {
    let mut o = invite_obs("gw1", at_us, 200);
    o.method = method.into();
    o
}

fn completed(ani: &str) -> Vec<Observation> {
    let mut v = vec![
        invite_obs("gw1", 100, 200),
        request("ACK", 200),
        request("BYE", 900),
    ];
    for o in &mut v {
        if let Some(a) = o.ani.as_mut() {
            a.number = ani.into();
        }
    }
    v
}

fn failing(checks: &[CheckResult]) -> Vec<&str> {
    checks
        .iter()
        .filter(|c| c.outcome == Outcome::Fail)
        .map(|c| c.id.as_str())
        .collect()
}

#[test]
fn the_call_the_step_asked_for_passes_every_check() {
    let j = judge(0, &completed("+13125550100"), StepEnd::CallsEnded, None);
    let c = &j.report.checks;
    assert!(failing(c).is_empty(), "{c:#?}");
    assert_eq!(check(c, "plan.calls").outcome, Outcome::Pass);
    assert_eq!(
        check(c, "plan.calls").requirement.as_deref(),
        Some("ICD 5.1.7")
    );
    assert_eq!(check(c, "caller.selection").outcome, Outcome::Pass);
    assert_eq!(j.report.calls.len(), 1);
    assert_eq!(j.report.calls[0].answered_by.as_deref(), Some("gw1"));
    assert!(j.unexpected.is_empty());
}

#[test]
fn the_wrong_ani_fails_the_ani_and_names_the_selection_step() {
    let j = judge(0, &completed("+13125550130"), StepEnd::CallsEnded, None);
    let c = &j.report.checks;
    assert_eq!(failing(c), ["caller.selection", "ani.number"], "{c:#?}");
    assert!(
        check(c, "caller.selection")
            .message
            .contains("the trunk's ANI (trunk-ani)")
    );
    // Matched by number: the call is the step's, with its wrong ANI judged.
    assert_eq!(check(c, "plan.calls").outcome, Outcome::Pass);
}

#[test]
fn no_call_fails_the_step_unless_the_drive_itself_failed() {
    let j = judge(0, &[], StepEnd::TimedOut, None);
    let c = check(&j.report.checks, "plan.calls");
    assert_eq!(c.outcome, Outcome::Fail);
    assert!(
        c.message
            .contains("no call to 911 reached either gateway before the step's timeout"),
        "{}",
        c.message
    );
    assert_eq!(
        j.report.checks.len(),
        1,
        "nothing else is judged: {:#?}",
        j.report.checks
    );
    // The originator tried and failed (SIPp cannot fail over when its connection is refused).
    let failed = Driven {
        started: true,
        code: Some(1),
        tail: "sipp: connection refused".into(),
    };
    let j = judge(0, &[], StepEnd::DriveFinished, Some(&failed));
    let c = check(&j.report.checks, "plan.calls");
    assert_eq!(c.outcome, Outcome::Fail);
    assert!(c.message.contains("exit 1"), "{}", c.message);
    assert!(c.message.contains("connection refused"), "{}", c.message);
    // The command never ran the originator: nothing was exercised.
    for broken in [
        Driven {
            started: true,
            code: Some(127),
            tail: "sh: sipp: not found".into(),
        },
        Driven {
            started: false,
            code: None,
            tail: String::new(),
        },
    ] {
        let j = judge(0, &[], StepEnd::DriveFinished, Some(&broken));
        let c = check(&j.report.checks, "plan.calls");
        assert_eq!(c.outcome, Outcome::Error, "{broken:?}");
        assert!(c.message.contains("did not run"), "{}", c.message);
    }
}

#[test]
fn another_number_during_the_step_is_unexpected_and_named() {
    let mut obs = completed("+13125550100");
    let mut other = invite_obs("gw1", 50, 200);
    other.dialed = Some("933".into());
    other.call_id = Some("other".into());
    obs.push(other);
    let j = judge(0, &obs, StepEnd::CallsEnded, None);
    assert_eq!(j.unexpected.len(), 1);
    assert_eq!(j.unexpected[0].dialed(), "933");
    assert_eq!(check(&j.report.checks, "plan.calls").outcome, Outcome::Pass);
    // It stays in the step's observations.
    assert_eq!(j.report.observations.len(), 4);
}

#[test]
fn a_number_plan_step_passes_only_when_the_call_was_placed() {
    let ok = judge(1, &[], StepEnd::Confirmed, None);
    let c = check(&ok.report.checks, "route.not-forwarded");
    assert_eq!(c.outcome, Outcome::Pass, "{c:#?}");
    assert!(!has(&ok.report.checks, "plan.calls"));
    let unconfirmed = judge(1, &[], StepEnd::TimedOut, None);
    let c = check(&unconfirmed.report.checks, "plan.calls");
    assert_eq!(c.outcome, Outcome::Error);
    assert!(c.message.contains("press Enter"), "{}", c.message);
    assert!(!has(&unconfirmed.report.checks, "route.not-forwarded"));
    let driven = Driven {
        started: true,
        code: Some(0),
        tail: String::new(),
    };
    let ok = judge(1, &[], StepEnd::DriveFinished, Some(&driven));
    assert_eq!(
        check(&ok.report.checks, "route.not-forwarded").outcome,
        Outcome::Pass
    );
    // 9911 reached gw1: the number plan fails, whatever the gateway answered.
    let mut leaked = invite_obs("gw1", 100, 404);
    leaked.dialed = Some("9911".into());
    let bad = judge(1, &[leaked], StepEnd::DriveFinished, Some(&driven));
    let c = check(&bad.report.checks, "route.not-forwarded");
    assert_eq!(c.outcome, Outcome::Fail, "{c:#?}");
}

#[test]
fn calls_no_step_asked_for_fail_the_run() {
    assert!(unexpected_report(&[]).is_none());
    let mut nine = invite_obs("gw2", 10, 404);
    nine.dialed = Some("9911".into());
    let strays = [
        Stray {
            when: "during step shared-phone".into(),
            call: sort(&completed("+13125550100")).calls.remove(0),
        },
        Stray {
            when: "before the first step".into(),
            call: sort(&[nine]).calls.remove(0),
        },
    ];
    let r = unexpected_report(&strays).expect("a report");
    assert_eq!(r.checks.len(), 2);
    assert_eq!(r.checks[0].id, "plan.unexpected-call");
    assert_eq!(r.checks[0].outcome, Outcome::Fail);
    assert!(r.checks[0].message.contains("during step shared-phone"));
    assert_eq!(r.checks[1].id, "route.not-forwarded");
    assert_eq!(r.checks[1].requirement.as_deref(), Some("ICD 5.2"));
    assert!(
        r.checks[1]
            .message
            .contains("9911 from +13125550100 at gw2"),
        "{}",
        r.checks[1].message
    );
    assert_eq!(r.calls.len(), 2);
}
