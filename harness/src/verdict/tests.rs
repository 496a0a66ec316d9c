//! Every check of [`super::judge`] on its pass side and its fail side, from hand-built
//! evidence: no sockets, no gateways, no clocks.

use mock_gateway::{AniObservation, MediaObservation, Observation, OrgObservation};
use reports::{Attempt, CallRecord, Outcome, TlsInfo};
use scenarios::OrgFinding;
use sip::{Message, Response};

use super::{Evidence, judge, normalize_number, parse_readback};
use crate::originate::uac::CallOutcome;
use crate::test_support::{check, invite, observation as bare_observation};

const ORG: &str = "4f3b1c2e-8d7a-4e59-9b0c-6a1d2e3f4a5b";

/// A scenario with these `[expect]` lines; a read-back expectation makes it a 933 call.
fn scenario(expect: &str) -> scenarios::Scenario {
    let dial = if expect.contains("readback") {
        "933"
    } else {
        "911"
    };
    let text = format!(
        "name = \"t\"\ndescription = \"unit\"\nrequirements = [\"ICD 5.1.9\"]\n\
         [call]\ndial = \"{dial}\"\nani = \"+13125550100\"\n[expect]\n{expect}\n"
    );
    scenarios::load_str(&text, "t.toml").expect("test scenario loads")
}

fn response(status: u16, reason: &str, extra: &str) -> Response {
    let text = format!(
        "SIP/2.0 {status} {reason}\r\n\
         Via: SIP/2.0/TLS 127.0.0.1:5061;branch=z9hG4bKtest1\r\n\
         From: <sip:+13125550100@trunk.invalid>;tag=a1\r\n\
         To: <sip:911@gw1.anywhere.e911cloud.com>;tag=b2\r\n\
         Call-ID: c1@trunk.invalid\r\nCSeq: 1 INVITE\r\n{extra}Content-Length: 0\r\n\r\n"
    );
    match Message::parse(text.as_bytes()).expect("test response parses") {
        Message::Response(r) => r,
        Message::Request(_) => unreachable!("a status line parses as a response"),
    }
}

/// An answered (or rejected) call as the originator saw it.
fn outcome(status: Option<u16>, reason: &str, extra: &str) -> CallOutcome {
    let attempt = Attempt {
        gateway: "gw1".into(),
        target: "127.0.0.1:5061".into(),
        transport: "tls".into(),
        status,
        reason: status.map(|_| reason.to_owned()),
        tls: Some(TlsInfo {
            version: "TLSv1.2".into(),
            cipher: "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384".into(),
            group: Some("secp384r1".into()),
            sni: None,
            certificate: Some("RSA 2048".into()),
        }),
        ..Attempt::default()
    };
    CallOutcome {
        record: CallRecord {
            call_id: "c1@trunk.invalid".into(),
            dial: "911".into(),
            ani: "+13125550100".into(),
            attempts: vec![attempt],
            final_status: status,
            final_reason: status.map(|_| reason.to_owned()),
            answered_by: status
                .filter(|s| (200..300).contains(s))
                .map(|_| "gw1".into()),
            ..CallRecord::default()
        },
        invite: invite(),
        final_response: status.map(|s| response(s, reason, extra)),
        provisionals: vec![100, 180],
        answer_problems: Vec::new(),
        tcp_connect_us: Some(50),
        tls_handshake_us: Some(900),
        hung_up_by_gateway: false,
    }
}

fn observation(org: Option<(OrgFinding, &[&str])>, ani: Option<(&str, &str)>) -> Observation {
    let mut o = bare_observation();
    o.call_id = Some("c1@trunk.invalid".into());
    o.dialed = Some("911".into());
    o.response = Some(200);
    o.org = org.map(|(finding, values)| OrgObservation {
        finding,
        values: values.iter().map(|v| (*v).to_owned()).collect(),
        detail: "unit".into(),
    });
    o.ani = ani.map(|(number, source)| AniObservation {
        number: number.into(),
        source: source.into(),
        ..AniObservation::default()
    });
    o
}

fn run(expect: &str, call: &CallOutcome, obs: Option<&[Observation]>) -> Vec<reports::CheckResult> {
    judge(
        &scenario(expect),
        &Evidence {
            call,
            observations: obs,
        },
    )
}

#[test]
fn final_status_passes_and_fails() {
    let ok = run("status = 200", &outcome(Some(200), "OK", ""), None);
    assert_eq!(check(&ok, "call.final-status").outcome, Outcome::Pass);
    let bad = run("status = 200", &outcome(Some(403), "Forbidden", ""), None);
    let c = check(&bad, "call.final-status");
    assert_eq!(c.outcome, Outcome::Fail);
    assert!(c.message.contains("403 Forbidden"), "{}", c.message);
    assert!(c.message.contains("expected 200"), "{}", c.message);
}

#[test]
fn no_final_response_is_a_fail_on_timeout_and_an_error_on_transport_failure() {
    let mut timeout = outcome(None, "", "");
    timeout.record.error = Some("no final response within 4s".into());
    let c = run("status = 200", &timeout, None);
    assert_eq!(check(&c, "call.final-response").outcome, Outcome::Fail);

    let mut refused = outcome(None, "", "");
    refused.record.error = Some("connect to 127.0.0.1:5061 refused".into());
    refused.record.attempts[0].error = Some("connection refused".into());
    let c = run("status = 200", &refused, None);
    assert_eq!(check(&c, "call.final-response").outcome, Outcome::Error);
}

#[test]
fn answered_by_names_the_gateway_seen() {
    let call = outcome(Some(200), "OK", "");
    let ok = run("status = 200\nanswered_by = \"gw1\"", &call, None);
    assert_eq!(check(&ok, "route.answered-by").outcome, Outcome::Pass);
    let bad = run("status = 200\nanswered_by = \"gw2\"", &call, None);
    let c = check(&bad, "route.answered-by");
    assert_eq!(c.outcome, Outcome::Fail);
    assert_eq!(c.message, "the answering gateway is gw1, expected gw2");
}

#[test]
fn warning_must_mention_the_expected_text() {
    let mut call = outcome(Some(403), "Forbidden", "");
    call.record.attempts[0].warning =
        Some("399 gw1 \"E911-Organization-ID missing: no header\"".into());
    let ok = run("status = 403\nwarning_contains = \"missing\"", &call, None);
    assert_eq!(check(&ok, "response.warning").outcome, Outcome::Pass);
    let bad = run(
        "status = 403\nwarning_contains = \"duplicated\"",
        &call,
        None,
    );
    assert_eq!(check(&bad, "response.warning").outcome, Outcome::Fail);
    call.record.attempts[0].warning = None;
    let none = run("status = 403\nwarning_contains = \"missing\"", &call, None);
    let c = check(&none, "response.warning");
    assert_eq!(c.outcome, Outcome::Fail);
    assert_eq!(c.observed.as_deref(), Some("(no Warning header)"));
}

#[test]
fn readback_number_is_compared_after_normalisation() {
    let call = outcome(
        Some(200),
        "OK",
        "E911-Readback: number=+1-312-555-0100;address=\"1 Main St\"\r\n",
    );
    let ok = run(
        "status = 200\nreadback = { number = \"+13125550100\", address = \"1 Main St\" }",
        &call,
        None,
    );
    assert_eq!(check(&ok, "readback.number").outcome, Outcome::Pass);
    assert_eq!(check(&ok, "readback.address").outcome, Outcome::Pass);
    let bad = run(
        "status = 200\nreadback = { number = \"+13125550199\", address = \"2 Elm St\" }",
        &call,
        None,
    );
    assert_eq!(check(&bad, "readback.number").outcome, Outcome::Fail);
    assert_eq!(check(&bad, "readback.address").outcome, Outcome::Fail);
    let missing = run(
        "status = 200\nreadback = { number = \"+13125550100\" }",
        &outcome(Some(200), "OK", ""),
        None,
    );
    let c = check(&missing, "readback.number");
    assert_eq!(c.outcome, Outcome::Fail);
    assert!(c.message.contains("was not observed"), "{}", c.message);
}

#[test]
fn media_answer_problems_fail_the_media_check() {
    let call = outcome(Some(200), "OK", "");
    let ok = run("status = 200", &call, None);
    assert_eq!(check(&ok, "media.answer").outcome, Outcome::Pass);
    let mut bad_call = call.clone();
    bad_call.answer_problems = vec!["m=audio uses RTP/AVP, not RTP/SAVP".into()];
    let bad = run("status = 200", &bad_call, None);
    let c = check(&bad, "media.answer");
    assert_eq!(c.outcome, Outcome::Fail);
    assert!(
        c.observed.as_deref().is_some_and(|o| o.contains("RTP/AVP")),
        "{c:?}"
    );
    let rejected = run("status = 403", &outcome(Some(403), "Forbidden", ""), None);
    assert!(rejected.iter().all(|c| c.id != "media.answer"));
}

#[test]
fn tls_below_1_2_fails() {
    let call = outcome(Some(200), "OK", "");
    let ok = run("status = 200", &call, None);
    assert_eq!(check(&ok, "transport.tls").outcome, Outcome::Pass);
    let mut old = call.clone();
    if let Some(tls) = old.record.attempts[0].tls.as_mut() {
        tls.version = "TLSv1.1".into();
    }
    let bad = run("status = 200", &old, None);
    assert_eq!(check(&bad, "transport.tls").outcome, Outcome::Fail);
}

#[test]
fn org_finding_and_value_pass_and_fail() {
    let call = outcome(Some(200), "OK", "");
    let expect = format!("status = 200\norg_finding = \"ok\"\norg_id = \"{ORG}\"");
    let good = [observation(Some((OrgFinding::Ok, &[ORG])), None)];
    let ok = run(&expect, &call, Some(&good));
    assert_eq!(check(&ok, "org-header.finding").outcome, Outcome::Pass);
    assert_eq!(check(&ok, "org-header.value").outcome, Outcome::Pass);

    let twice = [observation(
        Some((OrgFinding::Duplicated, &[ORG, ORG])),
        None,
    )];
    let bad = run(&expect, &call, Some(&twice));
    let f = check(&bad, "org-header.finding");
    assert_eq!(f.outcome, Outcome::Fail);
    assert!(f.message.contains("duplicated"), "{}", f.message);
    let v = check(&bad, "org-header.value");
    assert_eq!(v.outcome, Outcome::Fail);
    assert!(v.message.contains("expected exactly one"), "{}", v.message);

    let none = [observation(Some((OrgFinding::Missing, &[])), None)];
    let missing = run(&expect, &call, Some(&none));
    assert_eq!(
        check(&missing, "org-header.value").observed.as_deref(),
        Some("(no header)")
    );
}

#[test]
fn ani_number_and_source_pass_and_fail() {
    let call = outcome(Some(200), "OK", "");
    let expect = "status = 200\nani = \"+13125550100\"\nani_source = \"P-Asserted-Identity\"";
    let good = [observation(
        None,
        Some(("+13125550100", "P-Asserted-Identity")),
    )];
    let ok = run(expect, &call, Some(&good));
    assert_eq!(check(&ok, "ani.number").outcome, Outcome::Pass);
    assert_eq!(check(&ok, "ani.source").outcome, Outcome::Pass);
    let from = [observation(None, Some(("+13125550199", "From")))];
    let bad = run(expect, &call, Some(&from));
    let n = check(&bad, "ani.number");
    assert_eq!(n.outcome, Outcome::Fail);
    assert_eq!(
        n.message,
        "the ANI at the gateway is +13125550199, expected +13125550100"
    );
    assert_eq!(check(&bad, "ani.source").outcome, Outcome::Fail);
}

#[test]
fn gateway_checks_are_skipped_without_observations_and_fail_without_an_invite() {
    let call = outcome(Some(200), "OK", "");
    let expect = "status = 200\nani = \"+13125550100\"";
    let skipped = run(expect, &call, None);
    assert_eq!(check(&skipped, "ani.number").outcome, Outcome::Skipped);
    let none: [Observation; 0] = [];
    let missing = run(expect, &call, Some(&none));
    assert_eq!(
        check(&missing, "gateway.received-invite").outcome,
        Outcome::Fail
    );
}

#[test]
fn helpers_normalise_numbers_and_split_readbacks() {
    assert_eq!(normalize_number("+1 (312) 555-0100"), "+13125550100");
    assert_eq!(
        parse_readback("number=+13125550100; address=\"1 Main St, Floor 2\""),
        (
            Some("+13125550100".to_owned()),
            Some("1 Main St, Floor 2".to_owned())
        )
    );
    assert_eq!(parse_readback("garbage"), (None, None));
}

#[test]
fn the_offer_as_it_reached_the_gateway_is_judged() {
    let call = outcome(Some(200), "OK", "");
    let mut o = observation(None, None);
    o.media = Some(MediaObservation {
        offered_proto: "RTP/SAVP".into(),
        srtp: true,
        offered_port: 31000,
        codec: "PCMU".into(),
        crypto_suite: Some("AES_CM_128_HMAC_SHA1_80".into()),
        answer_port: 40000,
        refused: None,
    });
    let ok = run("status = 200", &call, Some(std::slice::from_ref(&o)));
    assert_eq!(check(&ok, "media.offer").outcome, Outcome::Pass);

    // An SBC that re-offers plain RTP on port 20000 is caught at the gateway.
    if let Some(m) = o.media.as_mut() {
        m.offered_proto = "RTP/AVP".into();
        m.srtp = false;
        m.offered_port = 20000;
    }
    let bad = run("status = 200", &call, Some(std::slice::from_ref(&o)));
    let c = check(&bad, "media.offer");
    assert_eq!(c.outcome, Outcome::Fail);
    assert!(
        c.message.contains("RTP/AVP instead of RTP/SAVP"),
        "{}",
        c.message
    );
    assert!(c.message.contains("port 20000 outside"), "{}", c.message);
}
