//! The identity checks on their pass and fail sides, with the misconfigurations a system under
//! test can commit between the trunk and the gateways.

use reports::Outcome;
use reports::observation::{AniFindingRecord, AniObservation};
use scenarios::{AniFinding, AniForm};

use crate::evidence::Failure;
use crate::test_support::{
    ANI, ORG, OTHER_ORG, answered, check, has, invite_obs, rejected, scenario, scenario_with,
    unanswered, with_header,
};
use crate::verdict::tests::{direct, external, judge_in, sut};

/// The ANI an observation recorded.
fn ani_of(o: &mut reports::Observation) -> &mut AniObservation {
    o.ani.as_mut().expect("the test observation records an ANI")
}

const HEX_ORG: &str = "34663362316332652d386437612d346535392d396230632d366131643265336634613562";

#[test]
fn the_org_the_trunk_sent_must_reach_every_gateway_exactly_once() {
    let sc = scenario("status = 200");
    let ok = judge_in(sut(), &sc, &answered(), Some(&[invite_obs("gw1", 1, 200)]));
    let c = check(&ok, "org-header.value");
    assert_eq!(c.outcome, Outcome::Pass, "{c:?}");
    assert_eq!(c.requirement.as_deref(), Some("ICD 5.1.9"));
    // Upper-case hex is the same UUID.
    let upper = with_header(
        invite_obs("gw1", 1, 200),
        "E911-Organization-ID",
        &[&ORG.to_uppercase()],
    );
    let c = judge_in(sut(), &sc, &answered(), Some(&[upper]));
    assert_eq!(check(&c, "org-header.value").outcome, Outcome::Pass);
    let param = format!("{ORG};purpose=org");
    for (what, values, shown) in [
        ("stripped", vec![], "(no header)"),
        (
            "duplicated",
            vec![ORG, ORG],
            "4f3b1c2e-8d7a-4e59-9b0c-6a1d2e3f4a5b | 4f3b1c2e",
        ),
        ("replaced", vec![OTHER_ORG], OTHER_ORG),
        ("re-encoded", vec![HEX_ORG], "34663362"),
        ("with a parameter", vec![param.as_str()], "purpose=org"),
    ] {
        let o = with_header(invite_obs("gw1", 1, 200), "E911-Organization-ID", &values);
        let checks = judge_in(sut(), &sc, &answered(), Some(&[o]));
        let c = check(&checks, "org-header.value");
        assert_eq!(c.outcome, Outcome::Fail, "{what}: {c:?}");
        assert!(c.message.contains(shown), "{what}: {}", c.message);
        assert!(c.message.contains("gw1"), "{what}: {}", c.message);
    }
}

#[test]
fn an_org_header_lost_only_on_the_retry_fails_naming_the_second_gateway() {
    let sc = scenario("status = 200");
    let gw1 = invite_obs("gw1", 1, 503);
    let gw2 = with_header(invite_obs("gw2", 2, 200), "E911-Organization-ID", &[]);
    let checks = judge_in(sut(), &sc, &answered(), Some(&[gw1, gw2]));
    let c = check(&checks, "org-header.value");
    assert_eq!(c.outcome, Outcome::Fail);
    assert!(
        c.message.contains("at gw2 was (no header)"),
        "{}",
        c.message
    );
    assert!(c.message.contains("gw1 then gw2"), "{}", c.message);
}

#[test]
fn a_deliberately_broken_org_is_judged_by_its_finding_not_by_delivery() {
    let sc = scenario_with(
        "",
        "dial = \"911\"\nani = \"+13125550100\"\norg_headers = []",
        "status = 403\norg_finding = \"missing\"",
    );
    let o = with_header(invite_obs("gw1", 1, 403), "E911-Organization-ID", &[]);
    let mut obs = o.clone();
    obs.org = Some(reports::observation::OrgObservation {
        finding: scenarios::OrgFinding::Missing,
        values: vec![],
        detail: "no header".into(),
    });
    let checks = direct(&sc, &rejected(403, ""), Some(&[obs.clone()]));
    assert!(
        !has(&checks, "org-header.value"),
        "no org was sent: nothing to deliver"
    );
    assert_eq!(check(&checks, "org-header.finding").outcome, Outcome::Pass);
    let wrong = scenario_with(
        "",
        "dial = \"911\"\nani = \"+13125550100\"\norg_headers = []",
        "status = 403\norg_finding = \"duplicated\"",
    );
    let c = direct(&wrong, &rejected(403, ""), Some(&[obs]));
    let f = check(&c, "org-header.finding");
    assert_eq!(f.outcome, Outcome::Fail);
    assert!(f.message.contains("missing (no header)"), "{}", f.message);
}

#[test]
fn the_ani_the_trunk_sent_must_reach_every_gateway() {
    let sc = scenario("status = 200");
    let ok = judge_in(sut(), &sc, &answered(), Some(&[invite_obs("gw1", 1, 200)]));
    assert_eq!(check(&ok, "ani.number").outcome, Outcome::Pass);
    // Rewritten to the trunk's own number on the way.
    let mut rewritten = invite_obs("gw1", 1, 200);
    rewritten.ani = Some(AniObservation {
        number: "+13125550199".into(),
        source: "P-Asserted-Identity".into(),
        ..AniObservation::default()
    });
    let c = judge_in(sut(), &sc, &answered(), Some(&[rewritten.clone()]));
    let n = check(&c, "ani.number");
    assert_eq!(n.outcome, Outcome::Fail);
    assert!(n.message.contains("+13125550199"), "{}", n.message);
    assert!(
        n.message.contains("the trunk sent +13125550100"),
        "{}",
        n.message
    );
    assert_eq!(n.requirement.as_deref(), Some("ICD 5.1.7"));
    // The same caller written nationally is the same caller.
    let mut national = invite_obs("gw1", 1, 200);
    ani_of(&mut national).number = "3125550100".into();
    let c = judge_in(sut(), &sc, &answered(), Some(&[national]));
    assert_eq!(check(&c, "ani.number").outcome, Outcome::Pass);
    // No ANI at all.
    let mut none = invite_obs("gw1", 1, 200);
    none.ani = None;
    let c = judge_in(sut(), &sc, &answered(), Some(&[none]));
    let n = check(&c, "ani.number");
    assert_eq!(n.outcome, Outcome::Fail);
    assert!(n.message.contains("no ANI reached gw1"), "{}", n.message);
    // Right at gw1, wrong at gw2.
    let c = judge_in(
        sut(),
        &sc,
        &answered(),
        Some(&[invite_obs("gw1", 1, 503), {
            let mut o = rewritten;
            o.gateway = "gw2".into();
            o.at_us = 2;
            o
        }]),
    );
    assert!(check(&c, "ani.number").message.contains("at gw2"));
}

#[test]
fn a_stripped_p_asserted_identity_is_named_even_when_from_carries_the_same_number() {
    let sc = scenario("status = 200");
    let mut o = with_header(invite_obs("gw1", 1, 200), "P-Asserted-Identity", &[]);
    o.ani = Some(AniObservation {
        number: ANI.into(),
        source: "From".into(),
        ..AniObservation::default()
    });
    let checks = judge_in(sut(), &sc, &answered(), Some(&[o]));
    assert_eq!(check(&checks, "ani.number").outcome, Outcome::Pass);
    let s = check(&checks, "ani.source");
    assert_eq!(s.outcome, Outcome::Fail);
    assert!(
        s.message.contains("no P-Asserted-Identity reached gw1"),
        "{}",
        s.message
    );
    assert!(s.message.contains("came from From"), "{}", s.message);
    let ok = judge_in(sut(), &sc, &answered(), Some(&[invite_obs("gw1", 1, 200)]));
    assert_eq!(check(&ok, "ani.source").outcome, Outcome::Pass);
    // The trunk that writes the ANI only in From expects From.
    let from_only = scenario_with(
        "",
        "dial = \"911\"\nani = \"+13125550100\"\nani_in = [\"from\"]",
        "status = 200",
    );
    let mut o = with_header(invite_obs("gw1", 1, 200), "P-Asserted-Identity", &[]);
    ani_of(&mut o).source = "From".into();
    let c = direct(&from_only, &answered(), Some(&[o]));
    assert_eq!(check(&c, "ani.source").outcome, Outcome::Pass);
}

#[test]
fn declared_findings_form_and_dialled_number_are_compared_exactly() {
    let sc = scenario(
        "status = 200\nani_findings = [\"not-e164\"]\nani_form = \"tel\"\ndialed = \"911\"",
    );
    let mut o = invite_obs("gw1", 1, 200);
    o.ani = Some(AniObservation {
        number: ANI.into(),
        source: "P-Asserted-Identity".into(),
        form: Some(AniForm::Tel),
        findings: vec![AniFindingRecord {
            finding: AniFinding::NotE164,
            detail: "unit".into(),
        }],
        ..AniObservation::default()
    });
    let ok = direct(&sc, &answered(), Some(&[o.clone()]));
    for id in ["ani.findings", "ani.form", "dial.number"] {
        assert_eq!(check(&ok, id).outcome, Outcome::Pass, "{id}");
    }
    assert!(
        !has(&ok, "ani.consistency"),
        "declared findings replace the consistency check"
    );
    ani_of(&mut o).findings.clear();
    ani_of(&mut o).form = Some(AniForm::Sip);
    o.dialed = Some("9911".into());
    let bad = direct(&sc, &answered(), Some(&[o]));
    for id in ["ani.findings", "ani.form", "dial.number"] {
        assert_eq!(check(&bad, id).outcome, Outcome::Fail, "{id}");
    }
    assert!(
        check(&bad, "ani.findings")
            .message
            .contains("missing not-e164")
    );
}

#[test]
fn inconsistent_identity_headers_fail_the_always_on_check() {
    let sc = scenario("status = 200");
    let mut o = invite_obs("gw1", 1, 200);
    ani_of(&mut o).findings = vec![AniFindingRecord {
        finding: AniFinding::FromPaiMismatch,
        detail: "From +13125550199, PAI +13125550100".into(),
    }];
    let c = judge_in(sut(), &sc, &answered(), Some(&[o]));
    let k = check(&c, "ani.consistency");
    assert_eq!(k.outcome, Outcome::Fail);
    assert!(k.message.contains("from-pai-mismatch"), "{}", k.message);
    let ok = judge_in(sut(), &sc, &answered(), Some(&[invite_obs("gw1", 1, 200)]));
    assert_eq!(check(&ok, "ani.consistency").outcome, Outcome::Pass);
    // Not on a call that was not answered.
    let r = judge_in(
        sut(),
        &sc,
        &rejected(503, ""),
        Some(&[invite_obs("gw1", 1, 503)]),
    );
    assert!(!has(&r, "ani.consistency"));
}

#[test]
fn expectations_with_no_invite_at_any_gateway_fail_or_error() {
    let sc = scenario("status = 200\nani = \"+13125550100\"");
    let c = judge_in(sut(), &sc, &rejected(404, ""), Some(&[]));
    let r = check(&c, "gateway.received-invite");
    assert_eq!(r.outcome, Outcome::Fail);
    let c = direct(&sc, &unanswered(Failure::Refused), Some(&[]));
    assert_eq!(check(&c, "gateway.received-invite").outcome, Outcome::Error);
    // Nothing explicit asked: nothing to judge at the gateways.
    let plain = scenario("status = 200");
    let c = judge_in(sut(), &plain, &rejected(404, ""), Some(&[]));
    assert!(!has(&c, "gateway.received-invite"));
    assert!(!has(&c, "org-header.value"));
}

#[test]
fn caller_selection_names_the_step_and_external_targets_skip_the_gateway_side() {
    let sc = scenario_with("", "dial = \"911\"\nani = \"+13125550121\"", "status = 200");
    let checks = judge_in(external(), &sc, &answered(), None);
    assert_eq!(check(&checks, "ani.number").outcome, Outcome::Skipped);
    let text = "name = \"t\"\ndescription = \"d.\"\nrequirements = [\"ICD 5.1.7\"]\n[call]\ndial = \"911\"\nani = \"+13125550121\"\n[caller]\nuser_did = \"+13125550121\"\nsite_ani = \"+13125550129\"\n[expect]\nstatus = 200\n";
    let sc = scenarios::load_str(text, "t.toml").expect("loads");
    let mut o = invite_obs("gw1", 1, 200);
    ani_of(&mut o).number = "+13125550121".into();
    let c = direct(&sc, &answered(), Some(&[o]));
    let s = check(&c, "caller.selection");
    assert_eq!(s.outcome, Outcome::Pass);
    assert!(s.message.contains("(+13125550121)"), "{}", s.message);
    assert_eq!(check(&c, "ani.number").outcome, Outcome::Pass);
}

#[test]
fn from_carrying_another_number_is_not_where_the_ani_must_come_from() {
    // The trunk writes the ANI in P-Asserted-Identity and another number in From: even for a
    // gateway that reads From first, the expected source is P-Asserted-Identity.
    let sc = scenario_with(
        "",
        "dial = \"911\"\nani = \"+13125550100\"\nani_in = [\"pai\"]\nfrom_user = \"+13125550199\"",
        "status = 200\nani_findings = [\"from-pai-mismatch\"]\n[gateway]\nani_headers = [\"From\", \"P-Asserted-Identity\"]",
    );
    let checks = direct(&sc, &answered(), Some(&[invite_obs("gw1", 1, 200)]));
    let s = check(&checks, "ani.source");
    assert_eq!(s.expected.as_deref(), Some("P-Asserted-Identity"), "{s:?}");
    assert_eq!(s.outcome, Outcome::Pass);
}

#[test]
fn an_emergency_number_must_reach_every_gateway_as_dialled() {
    let sc = scenario("status = 200");
    assert_eq!(sc.call.dial, "911");
    let ok = judge_in(
        sut(),
        &sc,
        &answered(),
        Some(&[invite_obs("gw1", 1, 503), invite_obs("gw2", 2, 200)]),
    );
    let c = check(&ok, "dial.number");
    assert_eq!(c.outcome, Outcome::Pass, "{c:?}");
    assert_eq!(c.requirement.as_deref(), Some("ICD 5.2"));
    assert!(c.message.contains("(gw1, gw2)"), "{}", c.message);
    // Turned into the test line, prefixed, or translated only on the retry: all fail, and the
    // message names the gateway and the Request-URI.
    for (first, second) in [("933", "933"), ("1911", "1911"), ("911", "933")] {
        let mut a = invite_obs("gw1", 1, 503);
        a.dialed = Some(first.into());
        let mut b = invite_obs("gw2", 2, 200);
        b.dialed = Some(second.into());
        b.request_uri = format!("sip:{second}@gw2.anywhere.e911cloud.com;user=phone");
        let bad = judge_in(sut(), &sc, &answered(), Some(&[a, b]));
        let c = check(&bad, "dial.number");
        assert_eq!(c.outcome, Outcome::Fail, "{first} then {second}");
        let at = if first == "911" { "gw2" } else { "gw1" };
        let shown = if first == "911" { second } else { first };
        assert!(
            c.message
                .contains(&format!("dialled 911 but {at} received {shown}")),
            "{}",
            c.message
        );
        assert!(c.message.contains("ICD 5.2"), "{}", c.message);
    }
    let mut unread = invite_obs("gw1", 1, 200);
    unread.dialed = None;
    let c = judge_in(sut(), &sc, &answered(), Some(&[unread]));
    assert_eq!(check(&c, "dial.number").outcome, Outcome::Fail);
    // 933 stays 933.
    let test_line = scenario_with("", "dial = \"933\"\nani = \"+13125550100\"", "status = 200");
    let mut o = invite_obs("gw1", 1, 200);
    o.dialed = Some("933".into());
    let c = judge_in(sut(), &test_line, &answered(), Some(&[o.clone()]));
    assert_eq!(check(&c, "dial.number").outcome, Outcome::Pass);
    assert_eq!(check(&c, "dial.number").expected.as_deref(), Some("933"));
    o.dialed = Some("911".into());
    let c = judge_in(sut(), &test_line, &answered(), Some(&[o]));
    assert_eq!(check(&c, "dial.number").outcome, Outcome::Fail);
    // Without gateways it is skipped; a non-emergency number is the number plan's business.
    let c = judge_in(external(), &sc, &answered(), None);
    assert_eq!(check(&c, "dial.number").outcome, Outcome::Skipped);
    let other = scenario_with(
        "",
        "dial = \"9911\"\nani = \"+13125550100\"",
        "status = 404",
    );
    assert!(!has(
        &judge_in(sut(), &other, &rejected(404, ""), Some(&[])),
        "dial.number"
    ));
}
