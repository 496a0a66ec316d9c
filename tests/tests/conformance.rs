//! Negative conformance examples (`scenarios/negative/`): each must fail, and say why.

use std::path::Path;

use reports::Outcome;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_expected_readback_address_fails_naming_icd_5_2() {
    let file = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../scenarios/negative/readback-wrong-address.toml");
    let sc = scenarios::load_file(&file).expect("negative example loads");
    let reports = e2e::run_embedded(std::slice::from_ref(&sc)).await;
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_ani_findings_expectation_fails_naming_icd_5_1_7_and_what_was_seen() {
    let file = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../scenarios/negative/ani-ten-digit-expected-clean.toml");
    let sc = scenarios::load_file(&file).expect("negative example loads");
    let reports = e2e::run_embedded(std::slice::from_ref(&sc)).await;
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
