//! TLS checks on the leg each belongs to, on their pass, fail and skipped sides.

use reports::{Outcome, TlsInfo};
use sip::transport::TransportKind;

use crate::evidence::{AttemptEnd, TlsFailureKind};
use crate::test_support::{
    answered, attempt_at, call_of, check, connection_event, has, invite_obs, scenario,
    scenario_with, tls_failure,
};
use crate::verdict::Setting;
use crate::verdict::tests::{direct, external, judge_in, sut};

fn tls(version: &str, cipher: &str, group: &str, cert: Option<&str>) -> TlsInfo {
    TlsInfo {
        version: version.into(),
        cipher: cipher.into(),
        group: Some(group.into()),
        sni: Some("gw1.anywhere.e911cloud.com".into()),
        certificate: cert.map(str::to_owned),
    }
}

const TLS13: (&str, &str, &str) = ("TLSv1.3", "TLS13_AES_256_GCM_SHA384", "X25519");

#[test]
fn directly_the_genesys_profile_passes_as_the_gateway_saw_it() {
    let checks = direct(
        &scenario("status = 200"),
        &answered(),
        Some(&[invite_obs("gw1", 1, 200)]),
    );
    assert_eq!(check(&checks, "transport.tls").outcome, Outcome::Pass);
    let p = check(&checks, "transport.tls-profile");
    assert_eq!(p.outcome, Outcome::Pass, "{p:?}");
    assert_eq!(p.requirement.as_deref(), Some("ICD 5.1"));
    assert!(p.observed.as_deref().unwrap().contains("RSA 2048"));
}

#[test]
fn tls13_x25519_and_an_ecdsa_certificate_are_each_named() {
    let mut call = answered();
    call.attempts[0].tls = Some(tls(TLS13.0, TLS13.1, TLS13.2, Some("ECDSA P-384")));
    let mut o = invite_obs("gw1", 1, 200);
    o.tls = Some(tls(TLS13.0, TLS13.1, TLS13.2, None));
    let checks = direct(&scenario("status = 200"), &call, Some(&[o]));
    assert_eq!(check(&checks, "transport.tls").outcome, Outcome::Pass);
    let p = check(&checks, "transport.tls-profile");
    assert_eq!(p.outcome, Outcome::Fail);
    for needle in [
        "TLSv1.3 instead of TLSv1.2",
        "X25519 instead of secp384r1",
        "TLS13_AES_256_GCM_SHA384 is not one of",
        "ECDSA P-384 certificate instead of RSA",
    ] {
        assert!(p.message.contains(needle), "{needle}: {}", p.message);
    }
}

#[test]
fn a_handshake_the_gateway_refused_fails_the_profile_with_its_reason() {
    let call = call_of(vec![attempt_at(
        "gw1",
        AttemptEnd::NoAnswer(tls_failure(TlsFailureKind::Alert)),
        1,
        "",
    )]);
    let refused = connection_event(
        "gw1",
        1,
        None,
        Some("peer is incompatible: no protocol version in common"),
    );
    let checks = direct(&scenario("status = 200"), &call, Some(&[refused]));
    assert!(!has(&checks, "transport.tls"));
    let p = check(&checks, "transport.tls-profile");
    assert_eq!(p.outcome, Outcome::Fail);
    assert!(
        p.message.contains("no protocol version in common"),
        "{}",
        p.message
    );
    assert!(p.message.contains("gw1 refused"), "{}", p.message);
}

#[test]
fn behind_a_system_under_test_the_profile_is_judged_on_the_trunk_leg_only() {
    // The SBC spoke TLS 1.3/X25519 to the gateways: allowed (they accept TLS 1.2 or later);
    // the trunk's leg to the SBC is the Genesys profile: passes.
    let mut o = invite_obs("gw1", 1, 200);
    o.tls = Some(tls(TLS13.0, TLS13.1, TLS13.2, None));
    let checks = judge_in(
        sut(),
        &scenario("status = 200"),
        &answered(),
        Some(&[o.clone()]),
    );
    assert_eq!(
        check(&checks, "transport.tls-profile").outcome,
        Outcome::Pass
    );
    let t = check(&checks, "transport.tls");
    assert_eq!(t.outcome, Outcome::Pass);
    assert_eq!(t.requirement.as_deref(), Some("ICD 5.1.2"));
    // The SBC accepting the trunk on TLS 1.3 only is outside the trunk's profile.
    let mut call = answered();
    call.attempts[0].tls = Some(tls(TLS13.0, TLS13.1, TLS13.2, Some("RSA 2048")));
    let checks = judge_in(
        sut(),
        &scenario("status = 200"),
        &call,
        Some(&[invite_obs("gw1", 1, 200)]),
    );
    let p = check(&checks, "transport.tls-profile");
    assert_eq!(p.outcome, Outcome::Fail);
    assert!(p.message.contains("system under test"), "{}", p.message);
    // An SBC reaching a gateway with TLS 1.1 fails ICD 5.1.2.
    o.tls = Some(tls(
        "TLSv1.1",
        "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA",
        "secp384r1",
        None,
    ));
    let checks = judge_in(sut(), &scenario("status = 200"), &answered(), Some(&[o]));
    assert_eq!(check(&checks, "transport.tls").outcome, Outcome::Fail);
    // An SBC that refuses the trunk's handshake fails the profile, naming the target.
    let refused = call_of(vec![attempt_at(
        "gw1",
        AttemptEnd::NoAnswer(tls_failure(TlsFailureKind::Incompatible)),
        1,
        "",
    )]);
    let checks = judge_in(sut(), &scenario("status = 200"), &refused, Some(&[]));
    let p = check(&checks, "transport.tls-profile");
    assert_eq!(p.outcome, Outcome::Fail);
    assert!(
        p.message.contains("refused the trunk's TLS handshake"),
        "{}",
        p.message
    );
    // A certificate the trunk refused is no verdict on its profile: nothing to judge.
    let untrusted = call_of(vec![attempt_at(
        "gw1",
        AttemptEnd::NoAnswer(tls_failure(TlsFailureKind::UnknownIssuer)),
        1,
        "",
    )]);
    let checks = judge_in(sut(), &scenario("status = 200"), &untrusted, Some(&[]));
    assert!(!has(&checks, "transport.tls-profile"), "{checks:#?}");
}

#[test]
fn a_tcp_leg_skips_what_it_cannot_exercise() {
    let tcp_in = Setting {
        trunk_leg: TransportKind::Tcp,
        ..sut()
    };
    let checks = judge_in(
        tcp_in,
        &scenario("status = 200"),
        &answered(),
        Some(&[invite_obs("gw1", 1, 200)]),
    );
    let p = check(&checks, "transport.tls-profile");
    assert_eq!(p.outcome, Outcome::Skipped);
    assert_eq!(p.requirement.as_deref(), Some("ICD 5.1"));
    assert!(p.message.contains("trunk leg is TCP"), "{}", p.message);
    assert_eq!(check(&checks, "transport.tls").outcome, Outcome::Pass);
    let tcp_out = Setting {
        gateway_leg: Some(TransportKind::Tcp),
        ..sut()
    };
    let mut o = invite_obs("gw1", 1, 200);
    o.tls = None;
    let checks = judge_in(tcp_out, &scenario("status = 200"), &answered(), Some(&[o]));
    let t = check(&checks, "transport.tls");
    assert_eq!(t.outcome, Outcome::Skipped);
    assert_eq!(t.requirement.as_deref(), Some("ICD 5.1.2"));
    let tcp = direct_over_tcp();
    assert!(
        tcp.iter()
            .filter(|c| c.id.starts_with("transport."))
            .all(|c| c.outcome == Outcome::Skipped)
    );
    // An external target: judged on the trunk's own session.
    let checks = judge_in(external(), &scenario("status = 200"), &answered(), None);
    assert_eq!(check(&checks, "transport.tls").outcome, Outcome::Pass);
    assert_eq!(
        check(&checks, "transport.tls-profile").outcome,
        Outcome::Pass
    );
}

fn direct_over_tcp() -> Vec<reports::CheckResult> {
    let mut call = answered();
    call.attempts[0].tls = None;
    let mut o = invite_obs("gw1", 1, 200);
    o.tls = None;
    judge_in(
        Setting::direct(TransportKind::Tcp),
        &scenario("status = 200"),
        &call,
        Some(&[o]),
    )
}

/// A scenario whose gw1 presents a certificate of the given fault.
fn cert_fault(kind: &str) -> scenarios::Scenario {
    scenario_with(
        "",
        "dial = \"911\"\nani = \"+13125550100\"\nhold = \"50ms\"",
        &format!(
            "status = 200\nanswered_by = \"gw2\"\n[route]\nattempt_timeout = \"300ms\"\n[[fault]]\ngateway = \"gw1\"\nkind = \"tls\"\ntls = \"{kind}\""
        ),
    )
}

#[test]
fn an_originator_that_accepts_a_certificate_it_must_refuse_fails_rfc_5922() {
    let sc = cert_fault("wrong-name");
    // Refused: the connection met the certificate, nothing came over it.
    let met = connection_event("gw1", 1, Some("tls wrong name"), None);
    let refused = connection_event(
        "gw1",
        2,
        Some("tls wrong name"),
        Some("alert: bad certificate"),
    );
    let ok = judge_in(
        sut(),
        &sc,
        &answered(),
        Some(&[met.clone(), refused, invite_obs("gw2", 3, 200)]),
    );
    let v = check(&ok, "transport.tls-verify");
    assert_eq!(v.outcome, Outcome::Pass, "{v:?}");
    assert_eq!(v.requirement.as_deref(), Some("RFC 5922"));
    assert!(v.message.contains("1 connection(s)"), "{}", v.message);
    // Accepted: an INVITE arrived over the connection that presented it.
    let mut over = invite_obs("gw1", 2, 200);
    over.connection_fault = Some("tls wrong name".into());
    let bad = judge_in(sut(), &sc, &answered(), Some(&[met, over]));
    let v = check(&bad, "transport.tls-verify");
    assert_eq!(v.outcome, Outcome::Fail);
    assert!(
        v.message
            .contains("wrong name and the originator accepted it"),
        "{}",
        v.message
    );
    // Never met: not exercised, not passed.
    let none = judge_in(sut(), &sc, &answered(), Some(&[invite_obs("gw2", 3, 200)]));
    assert_eq!(
        check(&none, "transport.tls-verify").outcome,
        Outcome::Skipped
    );
    // Only gw1's own connections count, and only its connection events meet the certificate.
    let mut at_gw2 = connection_event("gw2", 1, Some("tls wrong name"), None);
    at_gw2.conn = 9;
    let mut request_at_gw1 = invite_obs("gw1", 2, 200);
    request_at_gw1.fault = Some("tls wrong name".into());
    let c = judge_in(sut(), &sc, &answered(), Some(&[at_gw2, request_at_gw1]));
    assert_eq!(
        check(&c, "transport.tls-verify").outcome,
        Outcome::Skipped,
        "gw1 never presented it"
    );
    let mut accepted_at_gw2 = invite_obs("gw2", 3, 200);
    accepted_at_gw2.connection_fault = Some("tls wrong name".into());
    let met = connection_event("gw1", 1, Some("tls wrong name"), None);
    let c = judge_in(
        sut(),
        &sc,
        &answered(),
        Some(&[met.clone(), accepted_at_gw2]),
    );
    assert_eq!(check(&c, "transport.tls-verify").outcome, Outcome::Pass);
    // A TCP leg to the gateways presents no certificate: nothing to judge.
    let tcp_out = Setting {
        gateway_leg: Some(TransportKind::Tcp),
        ..sut()
    };
    assert!(!has(
        &judge_in(tcp_out, &sc, &answered(), Some(&[met])),
        "transport.tls-verify"
    ));
    // Other TLS faults (an ECDSA certificate) are not identity faults.
    let ecdsa = cert_fault("ecdsa-certificate");
    assert!(!has(
        &judge_in(sut(), &ecdsa, &answered(), Some(&[])),
        "transport.tls-verify"
    ));
}
