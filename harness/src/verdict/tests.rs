//! The call checks ([`super::call`]) on their pass, fail and error sides, and the verdict as a
//! whole: what each topology may judge, and that no check reads the text of an error.

use std::time::Duration;

use reports::{CheckResult, Observation, Outcome};
use scenarios::Scenario;
use sip::transport::TransportKind;

use super::{
    CallEvidence, Evidence, NO_GATEWAYS, Setting, judge, normalize_number, parse_readback,
};
use crate::evidence::{AttemptEnd, Call, Failure, Teardown, TlsFailureKind, Topology};
use crate::test_support::{
    answered, attempt_at, call_of, check, connection_event, has, invite_obs, rejected, scenario,
    tls_failure, unanswered,
};

/// Judges one call in `setting` with the gateways' `obs` (`None`: no gateway evidence).
pub(super) fn judge_in(
    setting: Setting,
    sc: &Scenario,
    call: &Call,
    obs: Option<&[Observation]>,
) -> Vec<CheckResult> {
    let calls = [CallEvidence {
        call,
        observations: obs,
    }];
    judge(
        sc,
        &Evidence {
            setting: &setting,
            calls: &calls,
            scenario_observations: obs,
            transitions: &[],
        },
    )
}

/// Judges one call directly (harness -> gateways over TLS).
pub(super) fn direct(sc: &Scenario, call: &Call, obs: Option<&[Observation]>) -> Vec<CheckResult> {
    judge_in(Setting::direct(TransportKind::Tls), sc, call, obs)
}

/// Through a system under test, TLS on both legs, a 1 s failover timer.
pub(super) fn sut() -> Setting {
    Setting {
        topology: Topology::ThroughSut,
        trunk_leg: TransportKind::Tls,
        gateway_leg: Some(TransportKind::Tls),
        sut_attempt_timeout: Duration::from_secs(1),
    }
}

/// An external target over TLS: no gateway evidence.
pub(super) fn external() -> Setting {
    Setting {
        topology: Topology::External,
        trunk_leg: TransportKind::Tls,
        gateway_leg: None,
        sut_attempt_timeout: Duration::ZERO,
    }
}

#[test]
fn final_status_passes_and_fails_and_names_the_scenario_requirement() {
    let sc = scenario("status = 200");
    let obs = [invite_obs("gw1", 100, 200)];
    let ok = direct(&sc, &answered(), Some(&obs));
    let c = check(&ok, "call.final-status");
    assert_eq!(c.outcome, Outcome::Pass);
    assert_eq!(c.requirement.as_deref(), Some("ICD 5.1.9"));
    let bad = direct(&sc, &rejected(403, ""), Some(&obs));
    let c = check(&bad, "call.final-status");
    assert_eq!(c.outcome, Outcome::Fail);
    assert!(c.message.contains("403 Rejected"), "{}", c.message);
    assert!(c.message.contains("expected 200"), "{}", c.message);
}

#[test]
fn no_final_response_fails_when_the_peer_is_to_blame_and_errors_when_the_setup_is() {
    let sc = scenario("status = 200");
    for (failure, want) in [
        (Failure::TimedOut, Outcome::Fail),
        (Failure::Closed, Outcome::Fail),
        (Failure::Reset, Outcome::Fail),
        (tls_failure(TlsFailureKind::Incompatible), Outcome::Fail),
        (Failure::Refused, Outcome::Error),
        (Failure::ConnectTimeout, Outcome::Error),
        (Failure::Setup, Outcome::Error),
        (tls_failure(TlsFailureKind::UnknownIssuer), Outcome::Error),
        (
            tls_failure(TlsFailureKind::CaUsedAsEndEntity),
            Outcome::Error,
        ),
        (tls_failure(TlsFailureKind::BadCertificate), Outcome::Error),
        // Chains to the trusted CA but expired, or for another name: the peer's own fault.
        (tls_failure(TlsFailureKind::Expired), Outcome::Fail),
        (tls_failure(TlsFailureKind::NotValidForName), Outcome::Fail),
    ] {
        let checks = direct(&sc, &unanswered(failure.clone()), Some(&[]));
        let c = check(&checks, "call.final-response");
        assert_eq!(c.outcome, want, "{failure:?}: {c:?}");
        assert!(
            !has(&checks, "call.final-status")
                || check(&checks, "call.final-status").outcome == Outcome::Fail
        );
    }
    // A fault the gateway recorded (it refused or dropped the connection) is evidence against
    // the peer, whatever the transport says.
    let faulted = [connection_event(
        "gw1",
        50,
        Some("tls untrusted"),
        Some("alert"),
    )];
    let c = direct(
        &sc,
        &unanswered(tls_failure(TlsFailureKind::UnknownIssuer)),
        Some(&faulted),
    );
    assert_eq!(check(&c, "call.final-response").outcome, Outcome::Fail);
    // Either record alone is enough: a fault injected without a TLS error (a reset), or a TLS
    // error the gateway saw without an injected fault.
    for (fault, tls_error) in [(Some("reset"), None), (None, Some("alert"))] {
        let seen = [connection_event("gw1", 50, fault, tls_error)];
        let c = direct(&sc, &unanswered(Failure::Refused), Some(&seen));
        let c = check(&c, "call.final-response");
        assert_eq!(c.outcome, Outcome::Fail, "{fault:?} {tls_error:?}: {c:?}");
    }
    // A gateway that only saw the call (no fault, no TLS error) blames nobody.
    let seen = [connection_event("gw1", 50, None, None)];
    let c = direct(&sc, &unanswered(Failure::Refused), Some(&seen));
    assert_eq!(check(&c, "call.final-response").outcome, Outcome::Error);
    // An answered call has no such check.
    let ok = direct(&sc, &answered(), Some(&[invite_obs("gw1", 1, 200)]));
    assert!(!has(&ok, "call.final-response"));
}

#[test]
fn an_unreachable_system_under_test_is_an_error_with_a_hint() {
    let sc = scenario("status = 200");
    let c = judge_in(sut(), &sc, &unanswered(Failure::Refused), Some(&[]));
    let r = check(&c, "call.final-response");
    assert_eq!(r.outcome, Outcome::Error);
    assert!(
        r.message.contains("is the system under test running"),
        "{}",
        r.message
    );
    let c = judge_in(
        sut(),
        &sc,
        &unanswered(tls_failure(TlsFailureKind::UnknownIssuer)),
        Some(&[]),
    );
    let r = check(&c, "call.final-response");
    assert_eq!(r.outcome, Outcome::Error);
    assert!(r.message.contains("--sut-ca"), "{}", r.message);
    for (kind, says) in [
        (TlsFailureKind::Expired, "its certificate has expired"),
        (
            TlsFailureKind::NotValidForName,
            "does not name the host the trunk calls",
        ),
    ] {
        let c = judge_in(sut(), &sc, &unanswered(tls_failure(kind)), Some(&[]));
        let r = check(&c, "call.final-response");
        assert_eq!(r.outcome, Outcome::Fail, "{kind:?}");
        assert!(r.message.contains(says), "{}", r.message);
        assert!(r.message.contains("RFC 5922"), "{}", r.message);
        assert!(!r.message.contains("--sut-ca"), "{}", r.message);
    }
    // A refused profile is no certificate matter: no trust hint.
    let c = judge_in(
        sut(),
        &sc,
        &unanswered(tls_failure(TlsFailureKind::Incompatible)),
        Some(&[]),
    );
    let r = check(&c, "call.final-response");
    assert_eq!(r.outcome, Outcome::Fail);
    assert!(!r.message.contains("--sut-ca"), "{}", r.message);
}

#[test]
fn the_warning_must_say_why() {
    let sc = scenario("status = 403\nwarning_contains = \"missing\"");
    let with = rejected(403, "Warning: 399 gw1 \"E911-Organization-ID missing\"\r\n");
    let ok = direct(&sc, &with, Some(&[invite_obs("gw1", 1, 403)]));
    assert_eq!(check(&ok, "response.warning").outcome, Outcome::Pass);
    let other = scenario("status = 403\nwarning_contains = \"duplicated\"");
    let bad = direct(&other, &with, Some(&[invite_obs("gw1", 1, 403)]));
    assert_eq!(check(&bad, "response.warning").outcome, Outcome::Fail);
    let none = direct(&sc, &rejected(403, ""), Some(&[invite_obs("gw1", 1, 403)]));
    let c = check(&none, "response.warning");
    assert_eq!(c.outcome, Outcome::Fail);
    assert_eq!(c.observed.as_deref(), Some("(no Warning header)"));
}

#[test]
fn the_readback_is_compared_after_normalisation() {
    let mut call = answered();
    call.dial = "933".into();
    call.attempts[0].final_response = Some(crate::test_support::response(
        200,
        "OK",
        "E911-Readback: number=+1-312-555-0100;address=\"1 Main St\"\r\n",
        crate::test_support::GOOD_ANSWER,
    ));
    let obs = [invite_obs("gw1", 1, 200)];
    let ok = direct(
        &scenario(
            "status = 200\nreadback = { number = \"+13125550100\", address = \"1 Main St\" }",
        ),
        &call,
        Some(&obs),
    );
    assert_eq!(check(&ok, "readback.number").outcome, Outcome::Pass);
    assert_eq!(check(&ok, "readback.address").outcome, Outcome::Pass);
    let bad = direct(
        &scenario("status = 200\nreadback = { number = \"+13125550199\", address = \"2 Elm St\" }"),
        &call,
        Some(&obs),
    );
    assert_eq!(check(&bad, "readback.number").outcome, Outcome::Fail);
    assert_eq!(check(&bad, "readback.address").outcome, Outcome::Fail);
    let missing = direct(
        &scenario("status = 200\nreadback = { number = \"+13125550100\" }"),
        &answered(),
        Some(&obs),
    );
    let c = check(&missing, "readback.number");
    assert_eq!(c.outcome, Outcome::Fail);
    assert!(c.message.contains("was not observed"), "{}", c.message);
}

#[test]
fn the_sdp_answer_must_fit_the_interface() {
    let sc = scenario("status = 200");
    let obs = [invite_obs("gw1", 1, 200)];
    let ok = direct(&sc, &answered(), Some(&obs));
    assert_eq!(check(&ok, "media.answer").outcome, Outcome::Pass);
    let mut plain = answered();
    plain.attempts[0].final_response = Some(crate::test_support::response(
        200,
        "OK",
        "",
        &crate::test_support::GOOD_ANSWER.replace("RTP/SAVP", "RTP/AVP"),
    ));
    let c = direct(&sc, &plain, Some(&obs));
    let m = check(&c, "media.answer");
    assert_eq!(m.outcome, Outcome::Fail);
    assert!(m.observed.as_deref().unwrap().contains("RTP/AVP"), "{m:?}");
    let mut empty = answered();
    empty.attempts[0].final_response = Some(crate::test_support::response(200, "OK", "", ""));
    let c = direct(&sc, &empty, Some(&obs));
    assert!(
        check(&c, "media.answer")
            .observed
            .as_deref()
            .unwrap()
            .contains("no SDP answer")
    );
    // No answer, no media check.
    assert!(!has(
        &direct(&sc, &rejected(503, ""), Some(&obs)),
        "media.answer"
    ));
}

#[test]
fn the_dialog_must_end_cleanly() {
    let sc = scenario("status = 200");
    let obs = [invite_obs("gw1", 1, 200)];
    for (t, want) in [
        (Teardown::ByeAnswered, Outcome::Pass),
        (Teardown::PeerHungUp, Outcome::Pass),
        (Teardown::ByeRejected(481), Outcome::Fail),
        (Teardown::ByeUnanswered, Outcome::Fail),
        (Teardown::NoDialog, Outcome::Fail),
        (Teardown::ConnectionLost, Outcome::Fail),
    ] {
        let mut call = answered();
        call.attempts[0].teardown = Some(t);
        let c = direct(&sc, &call, Some(&obs));
        let td = check(&c, "call.teardown");
        assert_eq!(td.outcome, want, "{t:?}");
        assert_eq!(td.requirement.as_deref(), Some("RFC 3261"));
    }
}

#[test]
fn the_offer_is_judged_at_every_gateway_it_reached() {
    let sc = scenario("status = 200");
    let ok = direct(&sc, &answered(), Some(&[invite_obs("gw1", 1, 200)]));
    assert_eq!(check(&ok, "media.offer").outcome, Outcome::Pass);
    let mut rewritten = invite_obs("gw2", 2, 200);
    if let Some(m) = rewritten.media.as_mut() {
        m.offered_proto = "RTP/AVP".into();
        m.srtp = false;
        m.offered_port = 6000;
    }
    let c = judge_in(
        sut(),
        &sc,
        &answered(),
        Some(&[invite_obs("gw1", 1, 503), rewritten]),
    );
    let m = check(&c, "media.offer");
    assert_eq!(m.outcome, Outcome::Fail);
    assert!(m.message.contains("reached gw2"), "{}", m.message);
    assert!(
        m.message.contains("RTP/AVP instead of RTP/SAVP"),
        "{}",
        m.message
    );
    assert!(m.message.contains("6000 outside"), "{}", m.message);
}

#[test]
fn rewording_any_error_text_changes_no_verdict() {
    // Every text an attempt carries is for people; reword all of it and the verdict is the same.
    let sc = scenario("status = 200\nanswered_by = \"gw2\"");
    let mut call = call_of(vec![
        attempt_at("gw1", AttemptEnd::NoAnswer(Failure::TimedOut), 1_000, ""),
        attempt_at("gw2", AttemptEnd::Answered { status: 200 }, 2_000, ""),
    ]);
    call.attempts[0].notes = vec![
        "no final response within 300ms".into(),
        "connection closed by the peer before a final response".into(),
    ];
    let obs = [invite_obs("gw1", 1_000, 0), invite_obs("gw2", 2_000, 200)];
    let before: Vec<(String, Outcome)> = direct(&sc, &call, Some(&obs))
        .into_iter()
        .map(|c| (c.id, c.outcome))
        .collect();
    for a in &mut call.attempts {
        a.notes = vec!["tls handshake failed: timed out; sending INVITE failed: refused".into()];
    }
    let after: Vec<(String, Outcome)> = direct(&sc, &call, Some(&obs))
        .into_iter()
        .map(|c| (c.id, c.outcome))
        .collect();
    assert_eq!(before, after);
    // And for a call that failed, the failure's kind decides, not its words.
    let mut failed = unanswered(Failure::Refused);
    let e1 = check(&direct(&sc, &failed, Some(&[])), "call.final-response").outcome;
    failed.attempts[0].notes = vec!["no final response within 8s (timed out)".into()];
    let e2 = check(&direct(&sc, &failed, Some(&[])), "call.final-response").outcome;
    assert_eq!((e1, e2), (Outcome::Error, Outcome::Error));
}

#[test]
fn without_gateway_evidence_gateway_side_checks_are_skipped_never_passed() {
    let sc = scenario(
        "status = 200\nanswered_by = \"gw1\"\norg_id = \"4f3b1c2e-8d7a-4e59-9b0c-6a1d2e3f4a5b\"\nani = \"+13125550100\"",
    );
    let checks = judge_in(external(), &sc, &answered(), None);
    for id in [
        "route.answered-by",
        "org-header.value",
        "ani.number",
        "ani.source",
        "route.gateway-order",
    ] {
        let c = check(&checks, id);
        assert_eq!(c.outcome, Outcome::Skipped, "{id}: {c:?}");
        assert_eq!(c.message, NO_GATEWAYS, "{id}");
    }
    // The originator's own view is still judged.
    assert_eq!(check(&checks, "call.final-status").outcome, Outcome::Pass);
    assert!(
        checks.iter().all(|c| c.requirement.is_some()),
        "{checks:#?}"
    );
}

#[test]
fn every_check_names_its_requirement() {
    let sc = scenario("status = 200\nanswered_by = \"gw1\"\nwarning_contains = \"x\"");
    let obs = [invite_obs("gw1", 1, 200)];
    for setting in [Setting::direct(TransportKind::Tls), sut(), external()] {
        let checks = judge_in(setting, &sc, &answered(), Some(&obs));
        for c in &checks {
            assert!(c.requirement.is_some(), "{c:?}");
        }
    }
}

#[test]
fn helpers_normalise_numbers_and_read_the_readback() {
    assert_eq!(normalize_number("+1 (312) 555-0100"), "+13125550100");
    // Star codes and the hash of a dial string survive; everything else goes.
    assert_eq!(normalize_number("*67 #911;x"), "*67#911");
    assert_eq!(
        parse_readback("number=+13125550100; address=\"1 Main St\";x=y"),
        (Some("+13125550100".into()), Some("1 Main St".into()))
    );
    assert_eq!(parse_readback("nothing"), (None, None));
}
