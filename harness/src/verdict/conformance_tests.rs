//! The conformance checks on their pass and fail sides, from hand-built evidence.

use mock_gateway::{AniObservation, Observation};
use reports::{CallRecord, Outcome};

use super::judge_caller;
use crate::originate::conformance::with_selected_ani;
use crate::originate::uac::CallOutcome;
use crate::test_support::{check, invite, observation as bare_observation};
use crate::verdict::Evidence;

fn scenario(call: &str, caller: &str, expect: &str) -> scenarios::Scenario {
    let text = format!(
        "name = \"t\"\ndescription = \"unit.\"\nrequirements = [\"ICD 5.1.7\"]\n\
         [call]\ndial = \"911\"\n{call}\n[caller]\n{caller}\n[expect]\nstatus = 200\n{expect}\n"
    );
    let sc = scenarios::load_str(&text, "t.toml").unwrap_or_else(|e| panic!("{e}\n{text}"));
    with_selected_ani(&sc).unwrap_or(sc)
}

fn outcome() -> CallOutcome {
    CallOutcome {
        record: CallRecord::default(),
        invite: invite(),
        final_response: None,
        provisionals: Vec::new(),
        answer_problems: Vec::new(),
        tcp_connect_us: None,
        tls_handshake_us: None,
        hung_up_by_gateway: false,
    }
}

fn observed(ani: &str) -> Observation {
    let mut o = bare_observation();
    o.ani = Some(AniObservation {
        number: ani.into(),
        source: "P-Asserted-Identity".into(),
        ..AniObservation::default()
    });
    o
}

fn judge(sc: &scenarios::Scenario, obs: Option<&[Observation]>) -> Vec<reports::CheckResult> {
    let call = outcome();
    judge_caller(
        sc,
        &Evidence {
            call: &call,
            observations: obs,
        },
    )
}

const SHARED_PHONE: &str = "user_extension = \"4102\"\nphone_tied_to_user = false\n\
                            site_ani = \"+13125550199\"\ntrunk_ani = \"+13125550000\"";

#[test]
fn selection_names_the_step_and_the_gateway_ani_matches() {
    let sc = scenario("", SHARED_PHONE, "");
    let checks = judge(&sc, Some(&[observed("+1 312 555 0199")]));
    let sel = check(&checks, "caller.selection");
    assert_eq!(sel.outcome, Outcome::Pass, "{sel:?}");
    assert_eq!(
        sel.message,
        "site-ani (+13125550199) after call-source: no queue or campaign DID, and the phone is \
         not tied to a user; user-extension: the phone is not tied to a user"
    );
    assert_eq!(check(&checks, "ani.number").outcome, Outcome::Pass);
}

#[test]
fn a_gateway_ani_other_than_the_selected_one_fails() {
    let sc = scenario("", SHARED_PHONE, "");
    let checks = judge(&sc, Some(&[observed("4102")]));
    let ani = check(&checks, "ani.number");
    assert_eq!(ani.outcome, Outcome::Fail);
    assert!(
        ani.message.contains("caller selection chose +13125550199"),
        "{}",
        ani.message
    );
    let none = judge(&sc, Some(&[]));
    assert_eq!(check(&none, "ani.number").outcome, Outcome::Fail);
    let skipped = judge(&sc, None);
    assert_eq!(check(&skipped, "ani.number").outcome, Outcome::Skipped);
}

#[test]
fn a_call_ani_that_disagrees_with_the_selection_fails() {
    let sc = scenario("ani = \"+13125550100\"", SHARED_PHONE, "");
    let checks = judge(&sc, Some(&[observed("+13125550100")]));
    let sel = check(&checks, "caller.selection");
    assert_eq!(sel.outcome, Outcome::Fail);
    assert!(
        sel.message.contains("disagrees with the caller selection"),
        "{}",
        sel.message
    );
}

#[test]
fn an_explicit_expect_ani_replaces_the_selected_one() {
    // An SBC that rewrites the ANI: the scenario states what must arrive; verdict.rs checks it.
    let sc = scenario("", SHARED_PHONE, "ani = \"+13125550150\"");
    let checks = judge(&sc, Some(&[observed("+13125550150")]));
    assert!(checks.iter().all(|c| c.id != "ani.number"), "{checks:#?}");
    assert_eq!(check(&checks, "caller.selection").outcome, Outcome::Pass);
}

#[test]
fn no_caller_no_checks() {
    let text = "name = \"t\"\ndescription = \"u.\"\nrequirements = [\"ICD 5.1.7\"]\n\
                [call]\ndial = \"911\"\nani = \"+13125550100\"\n[expect]\nstatus = 200\n";
    let sc = scenarios::load_str(text, "t.toml").expect("loads");
    assert!(judge(&sc, None).is_empty());
}

fn routed(routing: Option<&str>) -> Observation {
    let mut o = observed("+13125550140");
    o.routing = routing.map(str::to_owned);
    o
}

fn routing_scenario(expected: &str) -> scenarios::Scenario {
    let text = format!(
        "name = \"t\"\ndescription = \"u.\"\nrequirements = [\"ICD 5.2\"]\n\
         [call]\ndial = \"911\"\nani = \"+13125550140\"\n[expect]\nrouting = \"{expected}\"\n"
    );
    scenarios::load_str(&text, "t.toml").expect("loads")
}

fn judge_routing(sc: &scenarios::Scenario, obs: Option<&[Observation]>) -> reports::CheckResult {
    let call = outcome();
    let mut checks = super::judge_routing(
        sc,
        &Evidence {
            call: &call,
            observations: obs,
        },
    );
    assert_eq!(checks.len(), 1);
    checks.remove(0)
}

#[test]
fn routing_passes_on_the_psap_and_on_the_fallback_centre() {
    let c = judge_routing(
        &routing_scenario("chicago-oemc"),
        Some(&[routed(Some("chicago-oemc"))]),
    );
    assert_eq!(c.outcome, Outcome::Pass, "{c:?}");
    let c = judge_routing(
        &routing_scenario("fallback"),
        Some(&[routed(Some("fallback centre"))]),
    );
    assert_eq!(c.outcome, Outcome::Pass, "{c:?}");
}

#[test]
fn routing_fails_elsewhere_and_names_icd_5_2() {
    let c = judge_routing(
        &routing_scenario("chicago-oemc"),
        Some(&[routed(Some("fallback centre"))]),
    );
    assert_eq!(c.outcome, Outcome::Fail);
    assert!(c.message.contains("ICD 5.2"), "{}", c.message);
    let c = judge_routing(&routing_scenario("fallback"), Some(&[routed(None)]));
    assert_eq!(c.outcome, Outcome::Fail);
    assert_eq!(
        judge_routing(&routing_scenario("x"), None).outcome,
        Outcome::Skipped
    );
}

fn by_value_scenario() -> scenarios::Scenario {
    let text = "name = \"t\"\ndescription = \"u.\"\nrequirements = [\"RFC 6442\"]\n\
                [call]\ndial = \"911\"\nani = \"+13125550140\"\n\
                location = { country = \"US\", a1 = \"IL\", a3 = \"Chicago\", rd = \"Wacker\", hno = \"233\" }\n\
                [expect]\nstatus = 200\n";
    scenarios::load_str(text, "t.toml").expect("loads")
}

fn with_location(civic: Option<&str>, findings: &[&str]) -> Observation {
    let mut o = observed("+13125550140");
    o.location = Some(mock_gateway::LocationObservation {
        civic: civic.map(str::to_owned),
        routing: Some("yes".into()),
        findings: findings.iter().map(|f| (*f).to_owned()).collect(),
    });
    o
}

fn judge_by_value(obs: Option<&[Observation]>) -> reports::CheckResult {
    let call = outcome();
    let mut c = super::judge_location_by_value(
        &by_value_scenario(),
        &Evidence {
            call: &call,
            observations: obs,
        },
    );
    assert_eq!(c.len(), 1);
    c.remove(0)
}

#[test]
fn location_by_value_passes_when_read_as_sent() {
    let c = judge_by_value(Some(&[with_location(
        Some("233 Wacker, Chicago, IL, US"),
        &[],
    )]));
    assert_eq!(c.outcome, Outcome::Pass, "{c:?}");
}

#[test]
fn location_by_value_fails_on_findings_another_address_or_nothing() {
    let c = judge_by_value(Some(&[with_location(
        None,
        &["no Geolocation-Routing header"],
    )]));
    assert_eq!(c.outcome, Outcome::Fail);
    assert!(c.message.contains("not usable"), "{}", c.message);
    let c = judge_by_value(Some(&[with_location(
        Some("1 Other St, Chicago, IL, US"),
        &[],
    )]));
    assert_eq!(c.outcome, Outcome::Fail);
    let c = judge_by_value(Some(&[observed("+13125550140")]));
    assert_eq!(c.outcome, Outcome::Fail);
    assert_eq!(judge_by_value(None).outcome, Outcome::Skipped);
}

/// An INVITE observation whose ANI facts the gateway's own extractor recorded from `identity`
/// header lines (From, P-Asserted-Identity, Privacy).
fn identity_observation(identity: &str) -> Observation {
    let text = format!(
        "INVITE sip:911;phone-context=+1@gw1;user=phone SIP/2.0\r\n\
         Via: SIP/2.0/TLS h;branch=z9hG4bK1\r\nTo: <sip:911@gw1>\r\nCall-ID: c\r\n\
         CSeq: 1 INVITE\r\nMax-Forwards: 70\r\n{identity}Content-Length: 0\r\n\r\n"
    );
    let Ok(sip::Message::Request(req)) = sip::Message::parse(text.as_bytes()) else {
        panic!("test INVITE parses: {text}");
    };
    let mut o = bare_observation();
    o.request_uri = req.uri.to_string();
    o.dialed = Some("911".into());
    o.ani = mock_gateway::extract_ani(
        &req,
        &[
            scenarios::AniHeader::PAssertedIdentity,
            scenarios::AniHeader::From,
        ],
    );
    o
}

fn ani_scenario(expect: &str) -> scenarios::Scenario {
    let text = format!(
        "name = \"t\"\ndescription = \"u.\"\nrequirements = [\"ICD 5.1.7\"]\n\
         [call]\ndial = \"911\"\nani = \"+13125550100\"\n[expect]\nstatus = 200\n{expect}\n"
    );
    scenarios::load_str(&text, "t.toml").unwrap_or_else(|e| panic!("{e}\n{text}"))
}

fn judge_ani(sc: &scenarios::Scenario, obs: Option<&[Observation]>) -> Vec<reports::CheckResult> {
    let mut call = outcome();
    call.record.final_status = Some(200);
    super::judge_ani(
        sc,
        &Evidence {
            call: &call,
            observations: obs,
        },
    )
}

const AGREEING: &str = "From: <sip:+13125550100@t>;tag=1\r\n\
                        P-Asserted-Identity: <sip:+13125550100@t;user=phone>\r\n";
const MISMATCH: &str = "From: <sip:+13125550199@t>;tag=1\r\n\
                        P-Asserted-Identity: <sip:+13125550100@t;user=phone>\r\n";

#[test]
fn consistency_passes_when_from_and_pai_agree_in_e164() {
    let checks = judge_ani(&ani_scenario(""), Some(&[identity_observation(AGREEING)]));
    let c = check(&checks, "ani.consistency");
    assert_eq!(c.outcome, Outcome::Pass, "{c:#?}");
    assert_eq!(c.observed.as_deref(), Some("none"));
    assert!(c.message.contains("+13125550100"), "{}", c.message);
}

#[test]
fn consistency_fails_on_a_from_pai_mismatch_naming_both_numbers() {
    let checks = judge_ani(&ani_scenario(""), Some(&[identity_observation(MISMATCH)]));
    let c = check(&checks, "ani.consistency");
    assert_eq!(c.outcome, Outcome::Fail, "{c:#?}");
    assert_eq!(c.requirement.as_deref(), Some("ICD 5.1.7"));
    assert_eq!(c.observed.as_deref(), Some("from-pai-mismatch"));
    for needle in ["+13125550199", "+13125550100", "ICD 5.1.7"] {
        assert!(c.message.contains(needle), "{needle}: {}", c.message);
    }
}

#[test]
fn consistency_is_only_judged_on_answered_calls_with_an_ani() {
    let sc = ani_scenario("");
    let mut call = outcome();
    call.record.final_status = Some(403);
    let obs = [identity_observation(MISMATCH)];
    let ev = Evidence {
        call: &call,
        observations: Some(&obs),
    };
    assert!(super::judge_ani(&sc, &ev).is_empty());
    assert!(
        judge_ani(&sc, None).is_empty(),
        "nothing to skip by default"
    );
}

#[test]
fn declared_findings_pass_when_exactly_those_are_found() {
    let sc = ani_scenario("ani_findings = [\"from-pai-mismatch\"]");
    let checks = judge_ani(&sc, Some(&[identity_observation(MISMATCH)]));
    let c = check(&checks, "ani.findings");
    assert_eq!(c.outcome, Outcome::Pass, "{c:#?}");
    assert!(checks.iter().all(|c| c.id != "ani.consistency"));
    let privacy = format!("{AGREEING}Privacy: id\r\n");
    let sc = ani_scenario("ani_findings = [\"privacy-id\"]");
    let checks = judge_ani(&sc, Some(&[identity_observation(&privacy)]));
    let c = check(&checks, "ani.findings");
    assert_eq!(c.outcome, Outcome::Pass, "{c:#?}");
    assert!(c.message.contains("asserted identity"), "{}", c.message);
}

#[test]
fn declared_findings_fail_naming_what_is_missing_and_what_was_seen() {
    let sc = ani_scenario("ani_findings = [\"not-e164\"]");
    let checks = judge_ani(&sc, Some(&[identity_observation(MISMATCH)]));
    let c = check(&checks, "ani.findings");
    assert_eq!(c.outcome, Outcome::Fail, "{c:#?}");
    assert_eq!(c.expected.as_deref(), Some("not-e164"));
    assert_eq!(c.observed.as_deref(), Some("from-pai-mismatch"));
    for needle in [
        "missing not-e164",
        "unexpected from-pai-mismatch",
        "+13125550199",
        "ICD 5.1.7",
    ] {
        assert!(c.message.contains(needle), "{needle}: {}", c.message);
    }
    let none = judge_ani(
        &ani_scenario("ani_findings = []"),
        Some(&[bare_observation()]),
    );
    assert_eq!(check(&none, "ani.findings").outcome, Outcome::Fail);
    let skipped = judge_ani(&sc, None);
    assert_eq!(check(&skipped, "ani.findings").outcome, Outcome::Skipped);
}

#[test]
fn ani_form_names_the_uri_that_carried_the_ani() {
    let tel = "From: <sip:anonymous@anonymous.invalid>;tag=1\r\n\
               P-Asserted-Identity: <tel:+13125550100>\r\n";
    let obs = [identity_observation(tel)];
    let pass = judge_ani(&ani_scenario("ani_form = \"tel\""), Some(&obs));
    let c = check(&pass, "ani.form");
    assert_eq!(c.outcome, Outcome::Pass, "{c:#?}");
    assert_eq!(
        c.observed.as_deref(),
        Some("tel (+13125550100 in P-Asserted-Identity)")
    );
    let fail = judge_ani(&ani_scenario("ani_form = \"sip-user-phone\""), Some(&obs));
    let c = check(&fail, "ani.form");
    assert_eq!(c.outcome, Outcome::Fail, "{c:#?}");
    assert!(c.message.contains("ICD 5.1.7"), "{}", c.message);
}

#[test]
fn dial_number_shows_the_request_uri_it_was_read_from() {
    let obs = [identity_observation(AGREEING)];
    let pass = judge_ani(&ani_scenario("dialed = \"911\""), Some(&obs));
    let c = check(&pass, "dial.number");
    assert_eq!(c.outcome, Outcome::Pass, "{c:#?}");
    assert!(
        c.message
            .contains("sip:911;phone-context=+1@gw1;user=phone"),
        "{}",
        c.message
    );
    let mut other = identity_observation(AGREEING);
    other.dialed = Some("9911".into());
    let fail = judge_ani(&ani_scenario("dialed = \"911\""), Some(&[other]));
    let c = check(&fail, "dial.number");
    assert_eq!(c.outcome, Outcome::Fail, "{c:#?}");
    assert!(
        c.message.contains("9911") && c.message.contains("ICD 5.2"),
        "{}",
        c.message
    );
}
