//! TLS profiles in scenarios: `call.tls` (what the trunk offers) and `gateway.tls` (what the
//! gateways enforce), each rule's passing and failing side.

mod support;

use scenarios::{ProblemKind, TlsProfile, TlsVersions};
use support::{doc, ok, one, problems};

#[test]
fn the_trunk_offers_the_genesys_profile_and_the_gateways_accept_any_by_default() {
    let sc = ok(&doc("", ""));
    assert_eq!(sc.call.tls, TlsProfile::genesys_byoc());
    assert_eq!(sc.gateway.tls, TlsProfile::any());
}

#[test]
fn named_profiles_and_profiles_by_parts_load() {
    let sc = ok(&format!(
        "{}\n[gateway]\ntls = \"genesys-byoc\"\n",
        doc("tls = \"any\"", "")
    ));
    assert_eq!(sc.call.tls, TlsProfile::any());
    assert_eq!(sc.gateway.tls, TlsProfile::genesys_byoc());
    let sc = ok(&doc(
        "tls = { versions = [\"1.3\"], groups = [\"X25519\", \"secp384r1\"] }",
        "",
    ));
    assert_eq!(sc.call.tls.versions, TlsVersions::Tls13Only);
    assert_eq!(
        sc.call.tls.groups.as_deref(),
        Some(&["X25519".to_owned(), "secp384r1".to_owned()][..])
    );
    assert_eq!(sc.call.tls.cipher_suites, None);
    assert_eq!(sc.call.tls.name(), "custom");
    let both = ok(&doc("tls = { versions = [\"1.2\", \"1.3\"] }", ""));
    assert_eq!(both.call.tls.versions, TlsVersions::Any);
}

#[test]
fn unknown_names_are_refused_with_the_known_ones() {
    let p = one(
        &doc("tls = \"genesys\"", ""),
        "call.tls",
        ProblemKind::InvalidValue,
    );
    assert!(p.message.contains("\"genesys-byoc\""), "{}", p.message);
    let p = one(
        &doc("tls = { groups = [\"P-384\"] }", ""),
        "call.tls.groups[0]",
        ProblemKind::InvalidValue,
    );
    assert!(p.message.contains("secp384r1"), "{}", p.message);
    let p = one(
        &doc("tls = { versions = [\"1.1\"] }", ""),
        "call.tls.versions[0]",
        ProblemKind::InvalidValue,
    );
    assert!(p.message.contains("\"1.2\""), "{}", p.message);
    one(
        &doc("tls = { version = [\"1.2\"] }", ""),
        "call.tls.version",
        ProblemKind::UnknownField,
    );
    one(&doc("tls = 12", ""), "call.tls", ProblemKind::WrongType);
    one(
        &doc("tls = { groups = [] }", ""),
        "call.tls.groups",
        ProblemKind::InvalidValue,
    );
}

#[test]
fn suites_that_no_allowed_version_can_use_conflict() {
    let p = one(
        &doc(
            "tls = { versions = [\"1.2\"], cipher_suites = [\"TLS13_AES_128_GCM_SHA256\"] }",
            "",
        ),
        "call.tls.cipher_suites",
        ProblemKind::Conflict,
    );
    assert!(p.message.contains("TLS 1.3 only"), "{}", p.message);
    ok(&doc(
        "tls = { versions = [\"1.3\"], cipher_suites = [\"TLS13_AES_128_GCM_SHA256\"] }",
        "",
    ));
}

#[test]
fn a_bad_gateway_profile_is_reported_at_its_line() {
    let text = format!("{}\n[gateway]\ntls = \"tls12\"\n", doc("", ""));
    let ps = problems(&text);
    assert_eq!(ps.len(), 1, "{ps:#?}");
    assert_eq!(ps[0].field, "gateway.tls");
    assert_eq!(ps[0].line, text.lines().count());
}

#[test]
fn profiles_written_back_as_toml_load_unchanged() {
    let text = format!(
        "{}\n[gateway]\ntls = \"genesys-byoc\"\n",
        doc(
            "tls = { versions = [\"1.3\"], groups = [\"X25519\"], cipher_suites = [\"TLS13_AES_128_GCM_SHA256\"] }",
            ""
        )
    );
    let sc = ok(&text);
    let written = toml::to_string(&sc).expect("serializes");
    let again = ok(&written);
    assert_eq!(again.call.tls, sc.call.tls, "{written}");
    assert_eq!(again.gateway.tls, sc.gateway.tls, "{written}");
}
