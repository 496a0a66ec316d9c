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
fn a_wrong_ani_source_is_called_lost_only_when_the_trunk_sent_the_header_and_it_is_gone() {
    // PAI still present, but the gateway took the ANI from From: not lost, the wrong header.
    let sc = scenario("status = 200");
    let mut o = invite_obs("gw1", 1, 200);
    ani_of(&mut o).source = "From".into();
    let c = judge_in(sut(), &sc, &answered(), Some(&[o]));
    let s = check(&c, "ani.source");
    assert_eq!(s.outcome, Outcome::Fail);
    assert!(
        s.message.contains(
            "the header that supplied the ANI at gw1 is From, expected P-Asserted-Identity"
        ),
        "{}",
        s.message
    );
    // A declared source the trunk did not write itself: the header was never "lost".
    let declared = scenario("status = 200\nani_source = \"P-Asserted-Identity\"");
    let mut o = with_header(invite_obs("gw1", 1, 200), "P-Asserted-Identity", &[]);
    ani_of(&mut o).source = "From".into();
    let c = judge_in(sut(), &declared, &answered(), Some(&[o]));
    let s = check(&c, "ani.source");
    assert_eq!(s.outcome, Outcome::Fail);
    assert!(!s.message.contains("was lost on the way"), "{}", s.message);
    assert!(s.message.contains("is From, expected"), "{}", s.message);
}

#[test]
fn findings_are_shown_with_their_details_and_an_unexpected_one_is_never_as_expected() {
    let sc = scenario("status = 200\nani_findings = []");
    let mut o = invite_obs("gw1", 1, 200);
    ani_of(&mut o).findings = vec![AniFindingRecord {
        finding: AniFinding::NotE164,
        detail: "3125550100 is not E.164".into(),
    }];
    let c = judge_in(sut(), &sc, &answered(), Some(&[o.clone()]));
    let f = check(&c, "ani.findings");
    assert_eq!(f.outcome, Outcome::Fail);
    assert!(!f.message.starts_with("as expected"), "{}", f.message);
    assert!(f.message.contains("(unexpected not-e164)"), "{}", f.message);
    assert!(
        f.message.contains("not-e164: 3125550100 is not E.164"),
        "{}",
        f.message
    );
    // Declared, the same finding passes and says what was seen.
    let declared = scenario("status = 200\nani_findings = [\"not-e164\"]");
    let c = judge_in(sut(), &declared, &answered(), Some(&[o]));
    let f = check(&c, "ani.findings");
    assert_eq!(f.outcome, Outcome::Pass);
    assert_eq!(
        f.message,
        "the gateway found exactly not-e164: not-e164: 3125550100 is not E.164"
    );
    // None declared and none found.
    let c = judge_in(sut(), &sc, &answered(), Some(&[invite_obs("gw1", 1, 200)]));
    let f = check(&c, "ani.findings");
    assert_eq!(f.outcome, Outcome::Pass);
    assert!(
        f.message.starts_with("as expected, no ANI finding"),
        "{}",
        f.message
    );
}

#[test]
fn the_org_to_compare_is_the_trunk_s_one_canonical_uuid_unless_a_finding_is_expected() {
    // The trunk's one canonical org, no finding declared (or `ok`): compared at every gateway.
    for expect in ["status = 200", "status = 200\norg_finding = \"ok\""] {
        let sc = scenario(expect);
        let c = judge_in(sut(), &sc, &answered(), Some(&[invite_obs("gw1", 1, 200)]));
        assert!(has(&c, "org-header.value"), "{expect}");
    }
    // A finding other than ok declared: the value is the finding's business.
    let sc = scenario("status = 403\norg_finding = \"unknown\"");
    let c = judge_in(
        sut(),
        &sc,
        &rejected(403, ""),
        Some(&[invite_obs("gw1", 1, 403)]),
    );
    assert!(!has(&c, "org-header.value"));
    // A trunk that sends something other than one canonical UUID has no value to compare.
    for orgs in ["[\"not-a-uuid\"]", &format!("[\"{ORG}\", \"{ORG}\"]")] {
        let sc = scenario_with(
            "",
            &format!("dial = \"911\"\nani = \"{ANI}\"\norg_headers = {orgs}"),
            "status = 403",
        );
        let c = judge_in(
            sut(),
            &sc,
            &rejected(403, ""),
            Some(&[invite_obs("gw1", 1, 403)]),
        );
        assert!(!has(&c, "org-header.value"), "{orgs}");
    }
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
    // But an answered call that no gateway received was answered in their place: the identity
    // checks cannot vanish with the INVITEs.
    let c = judge_in(sut(), &plain, &answered(), Some(&[]));
    let r = check(&c, "gateway.received-invite");
    assert_eq!(r.outcome, Outcome::Fail);
    assert!(
        r.message
            .contains("never reached a gateway although the call was answered"),
        "{}",
        r.message
    );
    // Without gateway evidence at all, nothing is claimed.
    let c = judge_in(external(), &plain, &answered(), None);
    assert!(!has(&c, "gateway.received-invite"));
}

#[test]
fn each_identity_expectation_alone_needs_an_invite_at_a_gateway() {
    for line in [
        format!("org_id = \"{ORG}\""),
        "org_finding = \"missing\"".to_owned(),
        format!("ani = \"{ANI}\""),
        "ani_source = \"From\"".to_owned(),
        "ani_findings = []".to_owned(),
        "ani_form = \"tel\"".to_owned(),
        "dialed = \"911\"".to_owned(),
    ] {
        let sc = scenario(&format!("status = 404\n{line}"));
        let c = judge_in(sut(), &sc, &rejected(404, ""), Some(&[]));
        let r = check(&c, "gateway.received-invite");
        assert_eq!(r.outcome, Outcome::Fail, "{line}: {r:?}");
    }
}

#[test]
fn an_originator_s_ani_is_judged_against_what_the_step_expects() {
    let sc = scenario(&format!("status = 200\nani = \"{ANI}\""));
    let setting = crate::verdict::Setting {
        topology: crate::evidence::Topology::Originator,
        ..sut()
    };
    let mut o = invite_obs("gw1", 1, 200);
    ani_of(&mut o).number = "+13125550199".into();
    let c = judge_in(setting, &sc, &answered(), Some(&[o]));
    let n = check(&c, "ani.number");
    assert_eq!(n.outcome, Outcome::Fail);
    assert!(
        n.message.contains(&format!("the step expects {ANI}")),
        "{}",
        n.message
    );
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
    // In front of a system under test the selection is the harness's own: no claim about it,
    // what it delivered is ani.number.
    let mut o = invite_obs("gw1", 1, 200);
    ani_of(&mut o).number = "+13125550121".into();
    let c = judge_in(sut(), &sc, &answered(), Some(&[o]));
    assert!(!has(&c, "caller.selection"));
    assert_eq!(check(&c, "ani.number").outcome, Outcome::Pass);
    assert!(!has(
        &judge_in(external(), &sc, &answered(), None),
        "caller.selection"
    ));
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
