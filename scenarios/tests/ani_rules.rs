//! ANI policy and dial-string rules (ICD 5.1.7, ICD 5.2): each rule's passing and failing side.

mod support;

use scenarios::{AniFinding, AniForm, AniPlacement, ProblemKind};
use support::{doc, ok, one};

#[test]
fn ani_findings_rule() {
    let s = ok(&doc(
        "",
        "ani_findings = [\"from-pai-mismatch\", \"not-e164\"]",
    ));
    assert_eq!(
        s.expect.ani_findings,
        Some(vec![AniFinding::FromPaiMismatch, AniFinding::NotE164])
    );
    assert_eq!(
        ok(&doc("", "ani_findings = []")).expect.ani_findings,
        Some(vec![])
    );
    let p = one(
        &doc("", "ani_findings = [\"not-e164\", \"mismatch\"]"),
        "expect.ani_findings[1]",
        ProblemKind::InvalidValue,
    );
    assert_eq!((p.line, p.column), (12, 29), "{p:?}");
    for name in [
        "\"from-pai-mismatch\"",
        "\"pai-duplicated\"",
        "\"not-e164\"",
        "\"privacy-id\"",
    ] {
        assert!(p.message.contains(name), "{name}: {}", p.message);
    }
    let p = one(
        &doc("", "ani_findings = [\"Not-E164\"]"),
        "expect.ani_findings[0]",
        ProblemKind::InvalidValue,
    );
    assert!(
        p.message.contains("did you mean \"not-e164\""),
        "{}",
        p.message
    );
    one(
        &doc("", "ani_findings = [\"not-e164\", \"not-e164\"]"),
        "expect.ani_findings[1]",
        ProblemKind::Duplicate,
    );
    one(
        &doc("", "ani_findings = \"not-e164\""),
        "expect.ani_findings",
        ProblemKind::WrongType,
    );
}

#[test]
fn ani_form_rule() {
    assert_eq!(
        ok(&doc("", "ani_form = \"tel\"")).expect.ani_form,
        Some(AniForm::Tel)
    );
    let p = one(
        &doc("", "ani_form = \"sips\""),
        "expect.ani_form",
        ProblemKind::InvalidValue,
    );
    assert!(p.message.contains("\"sip-user-phone\""), "{}", p.message);
}

#[test]
fn pai_tel_placement_and_extra_pai_lines() {
    let s = ok(&doc(
        "ani_in = [\"from\", \"pai-tel\"]\n\
         extra_headers = [{ name = \"P-Asserted-Identity\", value = \"<sip:+13125550111@x>\" }]",
        "",
    ));
    assert_eq!(s.call.ani_in, [AniPlacement::From, AniPlacement::PaiTel]);
    assert_eq!(s.call.extra_headers[0].name, "P-Asserted-Identity");
    one(
        &doc(
            "extra_headers = [{ name = \"Remote-Party-ID\", value = \"<sip:1@x>\" }]",
            "",
        ),
        "call.extra_headers[0].name",
        ProblemKind::InvalidValue,
    );
}

#[test]
fn dial_with_phone_context_rule() {
    let with = |dial: &str| doc("", "").replace("dial = \"911\"", &format!("dial = \"{dial}\""));
    for good in [
        "911;phone-context=+1",
        "911;phone-context=gw1.anywhere.e911cloud.com",
    ] {
        assert_eq!(ok(&with(good)).call.dial, good);
    }
    for (bad, says) in [
        ("911;user=phone", "only \";phone-context=...\""),
        ("+1911;phone-context=+1", "global number"),
        ("911;phone-context=", "invalid phone-context"),
        ("911;phone-context=+1a", "invalid phone-context"),
        ("9-1-1;phone-context=+1", "invalid number"),
    ] {
        let p = one(&with(bad), "call.dial", ProblemKind::InvalidValue);
        assert!(p.message.contains(says), "{bad}: {}", p.message);
        assert_eq!(p.line, 6, "{p:?}");
    }
}

#[test]
fn dialed_rule() {
    let text =
        doc("", "dialed = \"911\"").replace("dial = \"911\"", "dial = \"911;phone-context=+1\"");
    assert_eq!(ok(&text).expect.dialed.as_deref(), Some("911"));
    let p = one(
        &doc("", "dialed = \"933\""),
        "expect.dialed",
        ProblemKind::Conflict,
    );
    assert!(p.message.contains("\"911\""), "{}", p.message);
    let readback = doc("", "readback = { number = \"+13125550100\" }")
        .replace("dial = \"911\"", "dial = \"933;phone-context=+1\"");
    ok(&readback);
}
