//! Validation rules: each rule's passing and failing side.

mod support;

use std::time::Duration;

use scenarios::{AniHeader, AniPlacement, DEFAULT_ORG_ID, OrgFinding, ProblemKind, Topology};
use support::{OTHER_ORG, doc, ok, one};

#[test]
fn name_rule() {
    for good in ["basic-911", "a", "9-1-1", "x-"] {
        ok(&doc("", "").replace("name = \"t\"", &format!("name = \"{good}\"")));
    }
    for bad in ["", "-a", "Basic", "a_b", "a b", &"a".repeat(65)] {
        one(
            &doc("", "").replace("name = \"t\"", &format!("name = \"{bad}\"")),
            "name",
            ProblemKind::InvalidValue,
        );
    }
}

#[test]
fn description_rule() {
    one(
        &doc("", "").replace("\"A test scenario.\"", "\"  \""),
        "description",
        ProblemKind::InvalidValue,
    );
}

#[test]
fn requirements_rule() {
    ok(&doc("", "").replace("[\"ICD 5.1.9\"]", "[\"RFC 3261\", \"ICD 4\"]"));
    one(
        &doc("", "").replace("[\"ICD 5.1.9\"]", "[]"),
        "requirements",
        ProblemKind::InvalidValue,
    );
    let p = one(
        &doc("", "").replace("[\"ICD 5.1.9\"]", "[\"icd 5.1.9\"]"),
        "requirements[0]",
        ProblemKind::InvalidValue,
    );
    assert!(
        p.message.contains("did you mean \"ICD 5.1.9\""),
        "{}",
        p.message
    );
    one(
        &doc("", "").replace("[\"ICD 5.1.9\"]", "[\"ICD 5.1.9\", \"ICD 5.1.9\"]"),
        "requirements[1]",
        ProblemKind::Duplicate,
    );
}

#[test]
fn topologies_rule() {
    let with = |lines: &str| doc("", "").replace("requirements", &format!("{lines}\nrequirements"));
    let both = ok(&doc("", ""));
    assert_eq!(both.applicability.topologies, Topology::ALL);
    assert_eq!(both.applicability.reason_not(Topology::Sut), None);
    let direct = ok(&with(
        "topologies = [\"direct\"]\ntopology_note = \"the trunk's own setting\"",
    ));
    assert!(!direct.applicability.applies(Topology::Sut));
    let why = direct
        .applicability
        .reason_not(Topology::Sut)
        .expect("a reason");
    assert!(why.contains("the trunk's own setting"), "{why}");
    // Leaving one out needs a reason; a reason needs something left out.
    let p = one(
        &with("topologies = [\"direct\"]"),
        "topologies",
        ProblemKind::InvalidValue,
    );
    assert!(p.message.contains("topology_note"), "{}", p.message);
    one(
        &with("topology_note = \"why\""),
        "topology_note",
        ProblemKind::InvalidValue,
    );
    one(
        &with("topologies = []"),
        "topologies",
        ProblemKind::InvalidValue,
    );
    let p = one(
        &with("topologies = [\"sbc\"]\ntopology_note = \"x\""),
        "topologies[0]",
        ProblemKind::InvalidValue,
    );
    assert!(p.message.contains("\"direct\", \"sut\""), "{}", p.message);
    one(
        &with("topologies = [\"sut\", \"sut\"]\ntopology_note = \"x\""),
        "topologies[1]",
        ProblemKind::Duplicate,
    );
    one(
        &with("topologies = [\"direct\"]\ntopology_note = \" \""),
        "topology_note",
        ProblemKind::InvalidValue,
    );
}

#[test]
fn suites_rule() {
    let with =
        |s: &str| doc("", "").replace("requirements", &format!("suites = {s}\nrequirements"));
    assert_eq!(ok(&with("[\"smoke\"]")).suites, ["smoke"]);
    one(&with("[]"), "suites", ProblemKind::InvalidValue);
    one(&with("[\"Smoke\"]"), "suites[0]", ProblemKind::InvalidValue);
    one(&with("[\"a\", \"a\"]"), "suites[1]", ProblemKind::Duplicate);
}

#[test]
fn dial_and_numbers_rule() {
    for good in ["911", "933", "+1911", "0"] {
        ok(&doc("", "").replace("dial = \"911\"", &format!("dial = \"{good}\"")));
    }
    for bad in ["", "+", "9 1 1", "911#", "sos", "++911", &"9".repeat(21)] {
        one(
            &doc("", "").replace("dial = \"911\"", &format!("dial = \"{bad}\"")),
            "call.dial",
            ProblemKind::InvalidValue,
        );
    }
    one(
        &doc("", "").replace("ani = \"+13125550100\"", "ani = \"anonymous\""),
        "call.ani",
        ProblemKind::InvalidValue,
    );
    one(
        &doc("", "ani = \"312-555-0100\""),
        "expect.ani",
        ProblemKind::InvalidValue,
    );
    one(
        &doc("ani_in = [\"pai\"]\nfrom_user = \"x\"", ""),
        "call.from_user",
        ProblemKind::InvalidValue,
    );
}

#[test]
fn ani_in_rule() {
    assert_eq!(
        ok(&doc("ani_in = [\"rpid\"]", "")).call.ani_in,
        [AniPlacement::Rpid]
    );
    one(
        &doc("ani_in = []", ""),
        "call.ani_in",
        ProblemKind::InvalidValue,
    );
    let p = one(
        &doc("ani_in = [\"PAI\"]", ""),
        "call.ani_in[0]",
        ProblemKind::InvalidValue,
    );
    assert!(p.message.contains("did you mean \"pai\""), "{}", p.message);
    one(
        &doc("ani_in = [\"pai\", \"pai\"]", ""),
        "call.ani_in[1]",
        ProblemKind::Duplicate,
    );
}

#[test]
fn from_user_replaces_the_ani_in_from() {
    // Without ani_in, from_user moves the ANI to PAI only.
    let s = ok(&doc("from_user = \"+13125550199\"", ""));
    assert_eq!(s.call.ani_in, [AniPlacement::Pai]);
    // Asking for the ANI in From as well contradicts from_user.
    let p = one(
        &doc(
            "from_user = \"+13125550199\"\nani_in = [\"from\", \"pai\"]",
            "",
        ),
        "call.ani_in[0]",
        ProblemKind::Conflict,
    );
    assert!(p.message.contains("from_user (at 8:13)"), "{}", p.message);
}

#[test]
fn org_id_and_org_headers_rules() {
    assert_eq!(
        ok(&doc(&format!("org_id = \"{OTHER_ORG}\""), ""))
            .call
            .org_headers,
        [OTHER_ORG]
    );
    let upper = OTHER_ORG.to_ascii_uppercase();
    assert_eq!(
        ok(&doc(&format!("org_id = \"{upper}\""), ""))
            .call
            .org_headers,
        [upper]
    );
    one(
        &doc("org_id = \"6f1c2a9e4b7d4c3e9a8f1b2c3d4e5f60\"", ""),
        "call.org_id",
        ProblemKind::InvalidValue,
    );
    one(
        &doc("org_id = \"{6f1c2a9e-4b7d-4c3e-9a8f-1b2c3d4e5f60}\"", ""),
        "call.org_id",
        ProblemKind::InvalidValue,
    );
    // Raw headers are not validated, whatever they contain...
    let s = ok(&doc(
        "org_headers = [\"garbage\", \"\", \"6f1c;encoding=hex\"]",
        "",
    ));
    assert_eq!(s.call.org_headers, ["garbage", "", "6f1c;encoding=hex"]);
    assert!(ok(&doc("org_headers = []", "")).call.org_headers.is_empty());
    // ...except for line breaks, which would break the message framing.
    one(
        &doc("org_headers = [\"a\\r\\nVia: x\"]", ""),
        "call.org_headers[0]",
        ProblemKind::InvalidValue,
    );
    let p = one(
        &doc(&format!("org_id = \"{OTHER_ORG}\"\norg_headers = []"), ""),
        "call.org_headers",
        ProblemKind::Conflict,
    );
    assert!(p.message.contains("mutually exclusive"), "{}", p.message);
}

#[test]
fn extra_headers_rule() {
    let s = ok(&doc(
        "extra_headers = [{ name = \"X-A\", value = \"1\" }, { name = \"X-A\", value = \"2\" }]",
        "",
    ));
    assert_eq!(
        s.call.extra_headers.len(),
        2,
        "repeated names are separate header lines"
    );
    ok(&doc("", "").replace(
        "[expect]",
        "[[call.extra_headers]]\nname = \"Priority\"\nvalue = \"emergency\"\n\n[expect]",
    ));
    one(
        &doc("extra_headers = [{ name = \"X A\", value = \"1\" }]", ""),
        "call.extra_headers[0].name",
        ProblemKind::InvalidValue,
    );
    one(
        &doc(
            "extra_headers = [{ name = \"X-A\", value = \"1\\n2\" }]",
            "",
        ),
        "call.extra_headers[0].value",
        ProblemKind::InvalidValue,
    );
    one(
        &doc("extra_headers = [{ name = \"X-A\" }]", ""),
        "call.extra_headers[0].value",
        ProblemKind::MissingField,
    );
    one(
        &doc("extra_headers = [\"X-A: 1\"]", ""),
        "call.extra_headers[0]",
        ProblemKind::WrongType,
    );
    for generated in [
        "Via",
        "call-id",
        "i",
        "E911-Organization-ID",
        "remote-party-id",
        "Content-Length",
    ] {
        let text = doc(
            &format!("extra_headers = [{{ name = \"{generated}\", value = \"1\" }}]"),
            "",
        );
        one(
            &text,
            "call.extra_headers[0].name",
            ProblemKind::InvalidValue,
        );
    }
}

#[test]
fn durations_rule() {
    let s = ok(&doc("hold = \"0s\"\ntimeout = \"10min\"", ""));
    assert_eq!(
        (s.call.hold, s.call.timeout),
        (Duration::ZERO, Duration::from_secs(600))
    );
    let p = one(
        &doc("hold = \"5 parsecs\"", ""),
        "call.hold",
        ProblemKind::InvalidValue,
    );
    assert!(
        p.message.starts_with("invalid duration \"5 parsecs\""),
        "{}",
        p.message
    );
    one(
        &doc("timeout = \"0s\"", ""),
        "call.timeout",
        ProblemKind::InvalidValue,
    );
    one(
        &doc("timeout = \"601s\"", ""),
        "call.timeout",
        ProblemKind::InvalidValue,
    );
    one(
        &doc("timeout = \"-1s\"", ""),
        "call.timeout",
        ProblemKind::InvalidValue,
    );
    one(
        &doc("hold = \"8s\"", ""),
        "call.hold",
        ProblemKind::Conflict,
    );
    one(
        &doc("timeout = \"100ms\"", ""),
        "call.timeout",
        ProblemKind::Conflict,
    );
}

#[test]
fn an_abandoned_call_hangs_up_while_it_is_still_being_set_up() {
    let s = ok(&doc("abandon_after = \"500ms\"", ""));
    assert_eq!(s.call.abandon_after, Some(Duration::from_millis(500)));
    assert_eq!(ok(&doc("", "")).call.abandon_after, None);
    for bad in ["0s", "8s", "9s"] {
        let p = one(
            &doc(&format!("abandon_after = \"{bad}\""), ""),
            "call.abandon_after",
            ProblemKind::Conflict,
        );
        assert!(p.message.contains("shorter than timeout (8s)"), "{p:?}");
        assert_eq!(p.line, 8, "{p:?}");
    }
    // With a route: during the first attempt, or the trunk has already moved on.
    let routed = |abandon: &str| {
        format!(
            "{}\n[route]\nattempt_timeout = \"1s\"\n",
            doc(&format!("abandon_after = \"{abandon}\""), "")
        )
    };
    assert!(ok(&routed("900ms")).route.is_some());
    let p = one(&routed("1s"), "call.abandon_after", ProblemKind::Conflict);
    assert!(
        p.message
            .contains("shorter than route.attempt_timeout (1s)"),
        "{p:?}"
    );
}

#[test]
fn gateways_ring_for_a_bounded_time() {
    let text = |ring: &str| format!("{}\n[gateway]\nring_time = \"{ring}\"\n", doc("", ""));
    assert_eq!(ok(&doc("", "")).gateway.ring_time, Duration::ZERO);
    assert_eq!(ok(&text("3s")).gateway.ring_time, Duration::from_secs(3));
    one(&text("61s"), "gateway.ring_time", ProblemKind::InvalidValue);
    one(
        &text("soon"),
        "gateway.ring_time",
        ProblemKind::InvalidValue,
    );
}

#[test]
fn gateway_names_rule() {
    assert_eq!(
        ok(&doc("gateway = \"gw2\"", "answered_by = \"gw2\""))
            .expect
            .answered_by
            .as_deref(),
        Some("gw2")
    );
    one(
        &doc("gateway = \"gw3\"", ""),
        "call.gateway",
        ProblemKind::InvalidValue,
    );
    let p = one(
        &doc("", "answered_by = \"GW1\""),
        "expect.answered_by",
        ProblemKind::InvalidValue,
    );
    assert!(p.message.contains("did you mean \"gw1\""), "{}", p.message);
}

#[test]
fn gateway_section_rules() {
    let with = |g: &str| format!("{}\n[gateway]\n{g}\n", doc("", ""));
    assert_eq!(
        ok(&with(&format!("orgs = [\"{OTHER_ORG}\"]"))).gateway.orgs,
        [OTHER_ORG]
    );
    one(
        &with("orgs = []"),
        "gateway.orgs",
        ProblemKind::InvalidValue,
    );
    one(
        &with("orgs = [\"4f3b1c2e8d7a4e599b0c6a1d2e3f4a5b\"]"),
        "gateway.orgs[0]",
        ProblemKind::InvalidValue,
    );
    let upper = OTHER_ORG.to_ascii_uppercase();
    one(
        &with(&format!("orgs = [\"{OTHER_ORG}\", \"{upper}\"]")),
        "gateway.orgs[1]",
        ProblemKind::Duplicate,
    );
    one(
        &with("ani_headers = []"),
        "gateway.ani_headers",
        ProblemKind::InvalidValue,
    );
    let p = one(
        &with("ani_headers = [\"p-asserted-identity\"]"),
        "gateway.ani_headers[0]",
        ProblemKind::InvalidValue,
    );
    assert!(
        p.message.contains("did you mean \"P-Asserted-Identity\""),
        "{}",
        p.message
    );
    one(
        &with("ani_headers = [\"From\", \"From\"]"),
        "gateway.ani_headers[1]",
        ProblemKind::Duplicate,
    );
    one(
        &with("unknown_org = \"route\""),
        "gateway.unknown_org",
        ProblemKind::InvalidValue,
    );
}

#[test]
fn expect_status_rule() {
    for good in [200, 403, 699] {
        assert_eq!(
            ok(&doc("", "").replace("status = 200", &format!("status = {good}")))
                .expect
                .status,
            Some(good)
        );
    }
    for bad in ["100", "183", "700", "-1", "99999999999"] {
        one(
            &doc("", "").replace("status = 200", &format!("status = {bad}")),
            "expect.status",
            ProblemKind::InvalidValue,
        );
    }
}

#[test]
fn expect_must_check_something() {
    let text = doc("", "").replace("status = 200\n", "");
    let p = one(&text, "expect", ProblemKind::InvalidValue);
    assert_eq!(p.line, 10, "{p:?}");
    // Any single expectation is enough.
    ok(&text.replace("[expect]\n", "[expect]\nwarning_contains = \"x\"\n"));
    one(
        &text.replace("[expect]\n", "[expect]\nwarning_contains = \"\"\n"),
        "expect.warning_contains",
        ProblemKind::InvalidValue,
    );
}

#[test]
fn expect_org_rules() {
    for finding in OrgFinding::ALL {
        let s = ok(&doc("", &format!("org_finding = \"{finding}\"")));
        assert_eq!(s.expect.org_finding, Some(finding));
    }
    one(
        &doc("", "org_finding = \"absent\""),
        "expect.org_finding",
        ProblemKind::InvalidValue,
    );
    ok(&doc(
        "",
        &format!("org_finding = \"unknown\"\norg_id = \"{OTHER_ORG}\""),
    ));
    for contradiction in ["missing", "duplicated"] {
        let text = doc(
            "",
            &format!("org_finding = \"{contradiction}\"\norg_id = \"{OTHER_ORG}\""),
        );
        one(&text, "expect.org_id", ProblemKind::Conflict);
    }
}

#[test]
fn expect_ani_source_must_be_a_header_the_gateway_reads() {
    ok(&doc("", "ani_source = \"From\""));
    let p = one(
        &doc("", "ani_source = \"Remote-Party-ID\""),
        "expect.ani_source",
        ProblemKind::Conflict,
    );
    assert!(
        p.message.contains("[P-Asserted-Identity, From]"),
        "{}",
        p.message
    );
    ok(&format!(
        "{}\n[gateway]\nani_headers = [\"Remote-Party-ID\"]\n",
        doc("", "ani_source = \"Remote-Party-ID\"")
    ));
    one(
        &doc("", "ani_source = \"PAI\""),
        "expect.ani_source",
        ProblemKind::InvalidValue,
    );
}

#[test]
fn readback_rules() {
    let on_933 = |expect: &str| doc("", expect).replace("dial = \"911\"", "dial = \"933\"");
    let s = ok(&on_933("readback = { address = \"1 Main St\" }"));
    assert_eq!(
        s.expect.readback.and_then(|r| r.address).as_deref(),
        Some("1 Main St")
    );
    let p = one(
        &doc("", "readback = { number = \"+13125550100\" }"),
        "expect.readback",
        ProblemKind::Conflict,
    );
    assert!(p.message.contains("933"), "{}", p.message);
    let text =
        on_933("readback = { number = \"+13125550100\" }").replace("status = 200", "status = 486");
    one(&text, "expect.readback", ProblemKind::Conflict);
    one(
        &on_933("readback = {}"),
        "expect.readback",
        ProblemKind::InvalidValue,
    );
    one(
        &on_933("readback = { number = \"n/a\" }"),
        "expect.readback.number",
        ProblemKind::InvalidValue,
    );
    one(
        &on_933("readback = \"+13125550100\""),
        "expect.readback",
        ProblemKind::WrongType,
    );
}

#[test]
fn canonical_uuid_check() {
    assert!(scenarios::is_canonical_uuid(DEFAULT_ORG_ID));
    assert!(scenarios::is_canonical_uuid(
        &DEFAULT_ORG_ID.to_ascii_uppercase()
    ));
    for bad in [
        "",
        "4f3b1c2e8d7a4e599b0c6a1d2e3f4a5b",
        "4f3b1c2e-8d7a-4e59-9b0c-6a1d2e3f4a5",
        "4f3b1c2e-8d7a-4e59-9b0c-6a1d2e3f4a5bb",
        "4f3b1c2e-8d7a-4e59-9b0c-6a1d2e3f4a5g",
        "4f3b1c2e-8d7a4-e59-9b0c-6a1d2e3f4a5b",
        " 4f3b1c2e-8d7a-4e59-9b0c-6a1d2e3f4a5",
        "{4f3b1c2e-8d7a-4e59-9b0c-6a1d2e3f4a5b}",
    ] {
        assert!(!scenarios::is_canonical_uuid(bad), "{bad}");
    }
}

#[test]
fn enum_spellings_round_trip() {
    for f in OrgFinding::ALL {
        assert_eq!(f.as_str().parse::<OrgFinding>(), Ok(f));
    }
    assert!("OK".parse::<OrgFinding>().is_err());
    for h in AniHeader::ALL {
        assert_eq!(h.header_name().parse::<AniHeader>(), Ok(h));
        assert_eq!(h.to_string(), h.header_name());
    }
    assert_eq!(AniPlacement::Pai.header(), AniHeader::PAssertedIdentity);
}
