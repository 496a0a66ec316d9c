//! Negative conformance examples (`scenarios/negative/`): each must fail, and say why.

use std::path::Path;

use reports::Outcome;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_expected_readback_address_fails_naming_icd_5_2() {
    let reports = e2e::run_embedded(&[negative("readback-wrong-address")]).await;
    let checks = &reports[0].checks;
    let address = checks
        .iter()
        .find(|c| c.id == "readback.address")
        .expect("address checked");
    assert_eq!(address.outcome, Outcome::Fail, "{address:#?}");
    assert!(address.message.contains("ICD 5.2"), "{}", address.message);
    assert!(
        address
            .message
            .contains("233 Wacker Dr, Floor 12, Room 1210, Chicago"),
        "{}",
        address.message
    );
    // Everything else about the call is fine: only the address expectation is wrong.
    for c in checks.iter().filter(|c| c.id != "readback.address") {
        assert_eq!(c.outcome, Outcome::Pass, "{c:#?}");
    }
}

fn negative(name: &str) -> scenarios::Scenario {
    let file = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../scenarios/negative")
        .join(format!("{name}.toml"));
    scenarios::load_file(&file).expect("negative example loads")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tls13_only_trunk_is_refused_by_gateways_enforcing_the_profile() {
    let reports = e2e::run_embedded(&[negative("tls-trunk-tls13-only")]).await;
    let checks = &reports[0].checks;
    let profile = checks
        .iter()
        .find(|c| c.id == "transport.tls-profile")
        .expect("profile judged");
    assert_eq!(profile.outcome, Outcome::Fail, "{profile:#?}");
    assert!(profile.message.contains("ICD 5.1"), "{}", profile.message);
    assert!(
        profile.message.contains("gw1 refused"),
        "{}",
        profile.message
    );
    // The trunk failed, not the harness: no check is an error.
    assert!(
        checks.iter().all(|c| c.outcome != Outcome::Error),
        "{checks:#?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_x25519_session_fails_the_profile_naming_the_group() {
    let reports = e2e::run_embedded(&[negative("tls-trunk-x25519")]).await;
    let checks = &reports[0].checks;
    for c in checks {
        if c.id == "transport.tls-profile" {
            assert_eq!(c.outcome, Outcome::Fail, "{c:#?}");
            assert!(c.message.contains("ICD 5.1"), "{}", c.message);
            assert!(
                c.message
                    .contains("key exchange X25519 instead of secp384r1"),
                "{}",
                c.message
            );
        } else {
            assert_eq!(c.outcome, Outcome::Pass, "{c:#?}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_ani_findings_expectation_fails_naming_icd_5_1_7_and_what_was_seen() {
    let reports = e2e::run_embedded(&[negative("ani-ten-digit-expected-clean")]).await;
    let checks = &reports[0].checks;
    let findings = checks
        .iter()
        .find(|c| c.id == "ani.findings")
        .expect("ANI findings checked");
    assert_eq!(findings.outcome, Outcome::Fail, "{findings:#?}");
    assert_eq!(findings.observed.as_deref(), Some("not-e164"));
    for needle in [
        "ICD 5.1.7",
        "unexpected not-e164",
        "3125550116 is not E.164 (E.164 form +13125550116)",
    ] {
        assert!(
            findings.message.contains(needle),
            "{needle}: {}",
            findings.message
        );
    }
    // Everything else about the call is fine: only the findings expectation is wrong.
    for c in checks.iter().filter(|c| c.id != "ani.findings") {
        assert_eq!(c.outcome, Outcome::Pass, "{c:#?}");
    }
}

/// Runs the negative example `name`; asserts its check `id` failed naming ICD 4 with each of
/// `says` in its message, and returns every check of the scenario.
async fn media_fails(name: &str, id: &str, says: &[&str]) -> Vec<reports::CheckResult> {
    let reports = e2e::run_embedded(&[negative(name)]).await;
    let checks = reports[0].checks.clone();
    let c = checks
        .iter()
        .find(|c| c.id == id)
        .unwrap_or_else(|| panic!("{name}: {id} judged"));
    assert_eq!(c.outcome, Outcome::Fail, "{c:#?}");
    assert_eq!(c.requirement.as_deref(), Some("ICD 4"));
    for needle in says {
        assert!(c.message.contains(needle), "{needle}: {}", c.message);
    }
    checks
}

fn outcome_of(checks: &[reports::CheckResult], id: &str) -> Outcome {
    checks
        .iter()
        .find(|c| c.id == id)
        .map(|c| c.outcome)
        .unwrap_or_else(|| panic!("{id} judged"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_way_media_fails_media_flow_naming_icd_4_and_the_direction() {
    let checks = media_fails(
        "media-one-way-expected-two-way",
        "media.flow",
        &[
            "gateway -> trunk: no RTP arrived at the trunk's",
            "the gateway sent 0 packets",
        ],
    )
    .await;
    // The other direction did flow: the trunk's SRTP reached the gateway.
    let flow = checks.iter().find(|c| c.id == "media.flow").unwrap();
    assert!(
        !flow.message.contains("silent-to-gateway"),
        "{}",
        flow.message
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_media_key_fails_media_srtp_naming_icd_4() {
    let checks = media_fails(
        "media-wrong-key-expected-clean",
        "media.srtp",
        &[
            "gateway -> trunk: ",
            "failed AES_CM_128_HMAC_SHA1_80 authentication",
        ],
    )
    .await;
    assert_eq!(
        outcome_of(&checks, "media.flow"),
        Outcome::Pass,
        "packets did arrive"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn media_to_the_wrong_port_fails_media_flow_naming_icd_4_and_where_it_went() {
    let checks = media_fails(
        "media-wrong-port-expected-clean",
        "media.flow",
        &[
            "gateway -> trunk: no RTP arrived at the trunk's",
            "wrong-destination",
            "(the SDP it received said",
        ],
    )
    .await;
    // Nothing arrived to be judged as SRTP: skipped with the reason, never passed.
    assert_eq!(outcome_of(&checks, "media.srtp"), Outcome::Skipped);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plain_rtp_where_srtp_was_negotiated_fails_media_srtp_naming_icd_4() {
    let checks = media_fails(
        "media-plain-rtp-expected-clean",
        "media.srtp",
        &["gateway -> trunk: ", "arrived in the clear (plain RTP)"],
    )
    .await;
    assert_eq!(
        outcome_of(&checks, "media.flow"),
        Outcome::Pass,
        "packets did arrive"
    );
}
