//! `call.cancel` on its pass, fail and error sides, with the gateways' observations of an
//! abandoned call.

use reports::{Observation, Outcome};

use crate::evidence::{AttemptEnd, Call, Failure, Topology};
use crate::test_support::{answered, attempt_at, call_of, check, has, invite_obs, scenario};
use crate::verdict::tests::{external, judge_in, sut};

/// The caller hung up at 500 ms; the trunk's INVITE (sent at 10 ms) ended with `end`.
fn abandoned(end: AttemptEnd) -> Call {
    let mut a = attempt_at("gw1", end, 10_000, "");
    a.timings.abandoned_at_us = Some(500_000);
    call_of(vec![a])
}

/// A CANCEL observed at `gateway` for the test dialog at `at_us`.
fn cancel_obs(gateway: &str, at_us: u64) -> Observation {
    let mut o = invite_obs(gateway, at_us, 200);
    o.method = "CANCEL".into();
    o
}

fn judged(call: &Call, obs: &[Observation]) -> reports::CheckResult {
    let sc = scenario("status = 487");
    let c = judge_in(sut(), &sc, call, Some(obs));
    check(&c, "call.cancel").clone()
}

#[test]
fn a_cancel_that_reached_the_ringing_gateway_passes() {
    let call = abandoned(AttemptEnd::Rejected {
        status: 487,
        q850: None,
    });
    let c = judged(
        &call,
        &[invite_obs("gw1", 20_000, 487), cancel_obs("gw1", 503_000)],
    );
    assert_eq!(c.outcome, Outcome::Pass, "{c:?}");
    assert_eq!(c.requirement.as_deref(), Some("RFC 3261"));
    assert!(
        c.message
            .contains("the caller hung up 490.0 ms after its INVITE"),
        "{}",
        c.message
    );
    assert!(
        c.message
            .contains("gw1: CANCEL 3.0 ms after the hang-up, INVITE ended 487"),
        "{}",
        c.message
    );
}

#[test]
fn a_swallowed_cancel_fails_whether_the_gateway_answered_or_still_rings() {
    let call = abandoned(AttemptEnd::Answered { status: 200 });
    // Answered 200 with no CANCEL: the PSAP picks up a call nobody is on.
    let c = judged(&call, &[invite_obs("gw1", 20_000, 200)]);
    assert_eq!(c.outcome, Outcome::Fail, "{c:?}");
    assert!(
        c.message.contains("gw1: no CANCEL, answered 200"),
        "{}",
        c.message
    );
    assert!(c.message.contains("a PSAP would pick up"), "{}", c.message);
    // The CANCEL came only after the gateway had answered.
    let c = judged(
        &call,
        &[invite_obs("gw1", 20_000, 200), cancel_obs("gw1", 3_100_000)],
    );
    assert_eq!(c.outcome, Outcome::Fail, "{c:?}");
    assert!(
        c.message
            .contains("answered 200 before its CANCEL arrived 2600.0 ms after the hang-up"),
        "{}",
        c.message
    );
    // Still ringing, no CANCEL.
    let mut ringing = invite_obs("gw1", 20_000, 200);
    ringing.response = None;
    let c = judged(
        &abandoned(AttemptEnd::NoAnswer(Failure::TimedOut)),
        &[ringing],
    );
    assert_eq!(c.outcome, Outcome::Fail, "{c:?}");
    assert!(
        c.message.contains("gw1: no CANCEL, still ringing"),
        "{}",
        c.message
    );
    assert!(c.message.contains("keeps ringing a PSAP"), "{}", c.message);
}

#[test]
fn a_cancel_for_another_dialog_or_gateway_does_not_count() {
    let call = abandoned(AttemptEnd::Rejected {
        status: 487,
        q850: None,
    });
    let mut ringing = invite_obs("gw1", 20_000, 200);
    ringing.response = None;
    let mut other_dialog = cancel_obs("gw1", 503_000);
    other_dialog.call_id = Some("another@trunk.invalid".into());
    let c = judged(&call, &[ringing.clone(), other_dialog]);
    assert_eq!(c.outcome, Outcome::Fail, "{c:?}");
    let c = judged(&call, &[ringing.clone(), cancel_obs("gw2", 503_000)]);
    assert_eq!(c.outcome, Outcome::Fail, "{c:?}");
    // Without a Call-ID nothing ties a CANCEL to the INVITE.
    let (mut a, mut b) = (ringing, cancel_obs("gw1", 503_000));
    a.call_id = None;
    b.call_id = None;
    let c = judged(&call, &[a, b]);
    assert_eq!(c.outcome, Outcome::Fail, "{c:?}");
}

#[test]
fn a_gateway_that_had_already_refused_has_nothing_to_cancel_but_the_next_one_has() {
    let call = abandoned(AttemptEnd::Rejected {
        status: 487,
        q850: None,
    });
    // gw1 refused with 503, the SBC moved on to gw2, which the CANCEL then reached.
    let mut gw2 = invite_obs("gw2", 40_000, 487);
    gw2.call_id = Some("c2@sbc".into());
    let mut gw2_cancel = cancel_obs("gw2", 502_000);
    gw2_cancel.call_id = Some("c2@sbc".into());
    let obs = [invite_obs("gw1", 20_000, 503), gw2.clone(), gw2_cancel];
    let c = judged(&call, &obs);
    assert_eq!(c.outcome, Outcome::Pass, "{c:?}");
    assert!(
        c.message.contains("gw1: had answered 503 on its own"),
        "{}",
        c.message
    );
    // The same without gw2's CANCEL fails naming gw2 only.
    let mut ringing = gw2;
    ringing.response = None;
    let c = judged(&call, &[invite_obs("gw1", 20_000, 503), ringing]);
    assert_eq!(c.outcome, Outcome::Fail, "{c:?}");
    assert!(c.message.contains("but gw2: no CANCEL"), "{}", c.message);
    assert!(!c.message.contains("but gw1"), "{}", c.message);
}

#[test]
fn an_abandon_before_any_gateway_saw_the_invite_is_an_error_never_a_pass() {
    let call = abandoned(AttemptEnd::Rejected {
        status: 487,
        q850: None,
    });
    let c = judged(&call, &[]);
    assert_eq!(c.outcome, Outcome::Error, "{c:?}");
    assert!(c.message.contains("was not exercised"), "{}", c.message);
    // Without gateway evidence: skipped with the reason.
    let sc = scenario("status = 487");
    let c = judge_in(external(), &sc, &call, None);
    assert_eq!(check(&c, "call.cancel").outcome, Outcome::Skipped);
}

#[test]
fn only_abandoned_calls_placed_by_the_harness_are_judged() {
    let sc = scenario("status = 200");
    let c = judge_in(sut(), &sc, &answered(), Some(&[invite_obs("gw1", 1, 200)]));
    assert!(!has(&c, "call.cancel"));
    let originator = crate::verdict::Setting {
        topology: Topology::Originator,
        ..sut()
    };
    let call = abandoned(AttemptEnd::Rejected {
        status: 487,
        q850: None,
    });
    let c = judge_in(originator, &sc, &call, Some(&[invite_obs("gw1", 1, 487)]));
    assert!(!has(&c, "call.cancel"));
}
