//! `certify --sut` end to end through a real SBC: Kamailio with `deploy/kamailio` as the
//! correct system under test (TLS in and out, and TCP in / TLS out), and copies of it that each
//! carry one misconfiguration. The correct one must pass with zero failures; every copy must
//! fail (exit 1) with a check that names the requirement it breaks.
//!
//! Each test runs the whole shipped library in-process, as `e911-harness certify --sut` does,
//! with the gateways on free ports and certificates from a lab CA made for the test
//! (`certs`, then `certs --sbc`). Runs are serialized: each starts its own Kamailio, and the
//! failover timings are kinder on a machine that does one thing at a time.

use e2e::kamailio::{Edit, Misconfiguration};
use e2e::sbc::{Run, SBC_NAME, SERIAL, certify_with};
use reports::Outcome;
use sip::transport::TransportKind;
use sip::transport::certs::Validity;
/// Certifies Kamailio (`misconfiguration` applied) with the trunk leg over `trunk_transport`,
/// the shipped library in its own order.
async fn certify_through(
    trunk_transport: TransportKind,
    misconfiguration: Option<Misconfiguration>,
) -> Run {
    certify_scenarios(trunk_transport, misconfiguration, Vec::new()).await
}

/// Like [`certify_through`], with these scenario files (empty: the shipped library).
async fn certify_scenarios(
    trunk_transport: TransportKind,
    misconfiguration: Option<Misconfiguration>,
    scenarios: Vec<std::path::PathBuf>,
) -> Run {
    certify_with(trunk_transport, misconfiguration, scenarios, None, false).await
}

async fn correct(trunk_transport: TransportKind) {
    let _one = SERIAL.lock().await;
    let run = certify_through(trunk_transport, None).await;
    assert_eq!(run.code, 0, "the correct SBC passes:\n{}", run.explain());
    assert!(run.failures().is_empty(), "{}", run.explain());
    let t = run.report.totals;
    assert_eq!((t.failed, t.errors), (0, 0));
    assert!(t.passed > 300, "a full certification was judged: {t:?}");
    // The one known deviation of Kamailio 5.6 is waived, visibly, and nothing else.
    let waived: Vec<&str> = run
        .report
        .scenarios
        .iter()
        .filter(|s| s.checks.iter().any(|c| c.is_waived()))
        .map(|s| s.name.as_str())
        .collect();
    assert_eq!(waived, ["failover-tls-wrong-name"], "{}", run.explain());
    // Failover really happened behind the SBC: ICD 5.3 is covered, not skipped.
    let row = |id: &str| {
        run.report
            .requirements
            .iter()
            .find(|r| r.id == id)
            .map(|r| r.outcome)
    };
    assert_eq!(row("ICD 5.3"), Some(Outcome::Pass));
    assert_eq!(row("ICD 5.1.6"), Some(Outcome::Pass));
    assert_eq!(row("ICD 5.2"), Some(Outcome::Pass));
    // What did not apply is listed, with its reason.
    let na: Vec<&str> = run
        .report
        .scenarios
        .iter()
        .filter(|s| s.not_applicable.is_some())
        .map(|s| s.name.as_str())
        .collect();
    assert!(
        na.contains(&"random-split") && na.contains(&"org-header-missing"),
        "{na:?}"
    );
    // The call's SIP ladder shows both legs: the trunk's to the SBC, the SBC's to each gateway.
    let failover = run
        .report
        .scenarios
        .iter()
        .find(|s| s.name == "failover-503-q850-34")
        .expect("the failover scenario ran");
    let legs: Vec<(&str, &str)> = failover.calls[0]
        .trace
        .iter()
        .map(|m| (m.from.as_str(), m.to.as_str()))
        .collect();
    for leg in [
        ("trunk", "sut"),
        ("sut", "gw1"),
        ("gw1", "sut"),
        ("sut", "gw2"),
        ("gw2", "sut"),
        ("sut", "trunk"),
    ] {
        assert!(legs.contains(&leg), "{leg:?} in the ladder: {legs:?}");
    }
    eprintln!(
        "correct SBC, trunk leg {trunk_transport}: exit {}, {} checks: {} passed, {} failed, {} skipped ({} waived)",
        run.code,
        t.checks,
        t.passed,
        t.failed,
        t.skipped,
        run.report
            .requirements
            .iter()
            .map(|r| r.waived)
            .sum::<usize>()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_correct_sbc_passes_over_tls_in_and_out() {
    correct(TransportKind::Tls).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_verdict_does_not_depend_on_the_order_of_scenarios() {
    // Backwards: the fault scenarios now run before the plain ones, and the SBC's connections
    // to the gateways carry over from one scenario to the next in a different order.
    let _one = SERIAL.lock().await;
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios/library");
    let mut files: Vec<std::path::PathBuf> = std::fs::read_dir(&dir)
        .expect("library")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    files.reverse();
    let run = certify_scenarios(TransportKind::Tls, None, files).await;
    assert_eq!(run.code, 0, "backwards:\n{}", run.explain());
    assert!(run.failures().is_empty(), "{}", run.explain());
    let first = &run.report.scenarios[0].name;
    assert_eq!(first, "tls-profile-genesys", "ran backwards");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_correct_sbc_passes_over_tcp_in_and_tls_out() {
    correct(TransportKind::Tcp).await;
}

/// Certifies the copy with `m` and asserts exit 1 with `expected` among the failing checks.
async fn fails_with(m: Misconfiguration, expected: &[(&str, &str)]) {
    let _one = SERIAL.lock().await;
    let run = certify_through(TransportKind::Tls, Some(m)).await;
    run.assert_fails_with(m.name, expected);
}

const AFTER_RECORD_ROUTE: &str = "\trecord_route();\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_sbc_that_strips_the_org_header_fails() {
    fails_with(
        Misconfiguration {
            name: "org header stripped",
            edits: &[Edit {
                file: "kamailio.cfg",
                find: AFTER_RECORD_ROUTE,
                replace: "\trecord_route();\n\tremove_hf(\"E911-Organization-ID\");\n",
            }],
        },
        &[("org-header.value", "ICD 5.1.9")],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_sbc_that_duplicates_the_org_header_fails() {
    fails_with(
        Misconfiguration {
            name: "org header duplicated",
            edits: &[Edit {
                file: "kamailio.cfg",
                find: AFTER_RECORD_ROUTE,
                replace: "\trecord_route();\n\tappend_hf(\"E911-Organization-ID: $hdr(E911-Organization-ID)\\r\\n\");\n",
            }],
        },
        &[("org-header.value", "ICD 5.1.9")],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_sbc_that_replaces_the_org_with_another_fails() {
    fails_with(
        Misconfiguration {
            name: "org header replaced by another org",
            edits: &[Edit {
                file: "kamailio.cfg",
                find: AFTER_RECORD_ROUTE,
                replace: "\trecord_route();\n\tremove_hf(\"E911-Organization-ID\");\n\tappend_hf(\"E911-Organization-ID: 11111111-2222-4333-8444-555555555555\\r\\n\");\n",
            }],
        },
        &[("org-header.value", "ICD 5.1.9")],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_sbc_that_re_encodes_the_org_header_fails() {
    fails_with(
        Misconfiguration {
            name: "org header re-encoded (hex)",
            edits: &[Edit {
                file: "kamailio.cfg",
                find: AFTER_RECORD_ROUTE,
                replace: "\trecord_route();\n\t$var(org) = $(hdr(E911-Organization-ID){s.encode.hexa});\n\tremove_hf(\"E911-Organization-ID\");\n\tappend_hf(\"E911-Organization-ID: $var(org)\\r\\n\");\n",
            }],
        },
        &[("org-header.value", "ICD 5.1.9")],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_sbc_that_rewrites_the_ani_to_the_trunk_number_fails() {
    fails_with(
        Misconfiguration {
            name: "ANI rewritten to the trunk number",
            edits: &[Edit {
                file: "kamailio.cfg",
                find: AFTER_RECORD_ROUTE,
                replace: "\trecord_route();\n\tremove_hf(\"P-Asserted-Identity\");\n\tappend_hf(\"P-Asserted-Identity: <sip:+13125550999@sbc.e911-harness.invalid;user=phone>\\r\\n\");\n",
            }],
        },
        &[("ani.number", "ICD 5.1.7")],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_sbc_that_removes_p_asserted_identity_fails() {
    fails_with(
        Misconfiguration {
            name: "P-Asserted-Identity removed",
            edits: &[Edit {
                file: "kamailio.cfg",
                find: AFTER_RECORD_ROUTE,
                replace: "\trecord_route();\n\tremove_hf(\"P-Asserted-Identity\");\n",
            }],
        },
        &[("ani.source", "ICD 5.1.7")],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_sbc_that_does_not_fail_over_on_5xx_fails() {
    fails_with(
        Misconfiguration {
            name: "no failover on 5xx",
            edits: &[Edit {
                file: "kamailio.cfg",
                find: "t_check_status(\"^(5[0-9][0-9]|408)$\")",
                replace: "t_check_status(\"^408$\")",
            }],
        },
        &[
            ("route.attempts", "ICD 5.3"),
            ("route.answered-by", "ICD 5.3"),
        ],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_sbc_that_loses_the_org_header_only_on_the_retry_fails() {
    fails_with(
        Misconfiguration {
            name: "org header lost only on the retry",
            edits: &[Edit {
                file: "kamailio.cfg",
                find: "\t\t\txlog(\"L_NOTICE\", \"failover after $T_reply_code to $du\\n\");\n",
                replace: "\t\t\txlog(\"L_NOTICE\", \"failover after $T_reply_code to $du\\n\");\n\t\t\tremove_hf(\"E911-Organization-ID\");\n",
            }],
        },
        &[("route.identical-retry", "ICD 5.3"), ("org-header.value", "ICD 5.1.9")],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_sbc_that_forwards_a_non_emergency_number_fails() {
    fails_with(
        Misconfiguration {
            name: "non-emergency number forwarded",
            edits: &[Edit {
                file: "kamailio.cfg",
                find: "if (!($rU =~ \"^(911|933)(;.*)?$\")) {",
                replace: "if (!($rU =~ \"^\\+?[0-9]*(911|933)(;.*)?$\")) {",
            }],
        },
        &[("route.not-forwarded", "ICD 5.2")],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_sbc_that_sends_933_to_gw2_first_fails() {
    fails_with(
        Misconfiguration {
            name: "933 sent to gw2 first",
            edits: &[Edit {
                file: "kamailio.cfg",
                find: "\t\tsl_send_reply(\"503\", \"No E911 Gateway Available\");\n\t\texit;\n\t}\n",
                replace: "\t\tsl_send_reply(\"503\", \"No E911 Gateway Available\");\n\t\texit;\n\t}\n\tif ($rU =~ \"^933\") {\n\t\tds_next_dst();\n\t}\n",
            }],
        },
        &[("route.gateway-order", "ICD 5.1.6")],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_sbc_that_does_not_verify_the_gateways_certificates_fails() {
    fails_with(
        Misconfiguration {
            name: "TLS toward the gateways unverified",
            edits: &[Edit {
                file: "start.sh",
                find: "verify_certificate = yes\nrequire_certificate = yes",
                replace: "verify_certificate = no\nrequire_certificate = no",
            }],
        },
        &[("transport.tls-verify", "RFC 5922")],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_sbc_that_turns_911_into_the_933_test_line_fails() {
    fails_with(
        Misconfiguration {
            name: "911 translated to 933",
            edits: &[Edit {
                file: "kamailio.cfg",
                find: AFTER_RECORD_ROUTE,
                replace: "\trecord_route();\n\tif ($rU =~ \"^911\") {\n\t\t$rU = \"933\";\n\t}\n",
            }],
        },
        &[("dial.number", "ICD 5.2")],
    )
    .await;
}

/// An SBC that answers the caller's CANCEL itself and never passes it on: the gateway keeps
/// ringing and answers a call whose caller has hung up.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_sbc_that_does_not_pass_on_a_cancel_fails() {
    fails_with(
        Misconfiguration {
            name: "CANCEL answered, not relayed",
            edits: &[Edit {
                file: "kamailio.cfg",
                find: "\tif (is_method(\"CANCEL\")) {\n",
                replace: "\tif (is_method(\"CANCEL\")) {\n\t\tsl_send_reply(\"200\", \"OK\");\n\t\texit;\n",
            }],
        },
        &[("call.cancel", "RFC 3261"), ("call.final-status", "RFC 3261")],
    )
    .await;
}

/// A correct SBC that hides its topology: Kamailio's topoh masks Call-ID, Via and Contact
/// between the legs, and the harness's correlation header is stripped (an SBC that lets only
/// the headers it was told about through). Nothing the ICD requires changes, so it passes; the
/// calls are matched to the gateways' INVITEs by number, ANI and time.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_correct_sbc_that_hides_its_topology_passes() {
    let _one = SERIAL.lock().await;
    let hiding = Misconfiguration {
        name: "topology hidden, correlation header stripped",
        edits: &[
            Edit {
                file: "kamailio.cfg",
                find: "loadmodule \"kex.so\"\n",
                replace: "loadmodule \"kex.so\"\nloadmodule \"topoh.so\"\nmodparam(\"topoh\", \"mask_key\", \"e911-lab\")\nmodparam(\"topoh\", \"mask_ip\", \"127.0.0.8\")\nmodparam(\"topoh\", \"mask_callid\", 1)\n",
            },
            Edit {
                file: "kamailio.cfg",
                find: AFTER_RECORD_ROUTE,
                replace: "\trecord_route();\n\tremove_hf(\"X-E911-Harness-Call\");\n",
            },
        ],
    };
    let run = certify_through(TransportKind::Tls, Some(hiding)).await;
    assert_eq!(run.code, 0, "{}", run.explain());
    assert!(run.failures().is_empty(), "{}", run.explain());
    let t = run.report.totals;
    assert_eq!((t.failed, t.errors), (0, 0));
    // Every call was judged as fully as through the plain proxy: the same checks, scenario by
    // scenario (the capacity scenario's two overlapping calls included).
    let plain = certify_through(TransportKind::Tls, None).await;
    let judged = |r: &Run| -> Vec<(String, Vec<String>)> {
        r.report
            .scenarios
            .iter()
            .map(|s| {
                let mut ids: Vec<String> = s
                    .checks
                    .iter()
                    .map(|c| format!("{} {:?}", c.id, c.outcome))
                    .collect();
                ids.sort();
                (s.name.clone(), ids)
            })
            .collect()
    };
    assert_eq!(judged(&run), judged(&plain));
    eprintln!(
        "correct SBC hiding its topology: exit {}, {} checks: {} passed, {} skipped",
        run.code, t.checks, t.passed, t.skipped
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_sbc_that_fails_over_after_a_final_refusal_fails() {
    // 403, 486 and 603 are a gateway's verdict on the call (RFC 3261 §21): retrying on gw2
    // turns a refused call into an answered one.
    fails_with(
        Misconfiguration {
            name: "failover after 4xx/6xx",
            edits: &[Edit {
                file: "kamailio.cfg",
                find: "if (t_check_status(\"^(5[0-9][0-9]|408)$\") || t_branch_timeout()) {",
                replace: "if (t_check_status(\"^[3-6][0-9][0-9]$\") || t_branch_timeout()) {",
            }],
        },
        &[("call.final-status", "ICD 5.3")],
    )
    .await;
}

/// The certificate the SBC presents to the trunk must be one the trunk accepts (ICD 5.1,
/// RFC 5922): an expired one, or one for another name, and no call gets through.
async fn fails_on_its_certificate(names: &[&str], validity: Validity, says: &str) {
    let _one = SERIAL.lock().await;
    let run = certify_with(
        TransportKind::Tls,
        None,
        Vec::new(),
        Some((names, validity)),
        false,
    )
    .await;
    assert_eq!(run.code, 1, "{}", run.explain());
    let failures = run.failures();
    assert!(
        failures
            .iter()
            .any(|(_, id, r)| id == "call.final-response" && !r.is_empty()),
        "{}",
        run.explain()
    );
    let said = run
        .report
        .scenarios
        .iter()
        .flat_map(|s| &s.checks)
        .find(|c| c.id == "call.final-response")
        .map(|c| c.message.clone())
        .unwrap_or_default();
    assert!(said.contains(says), "{said}");
    // No call got through, so nothing passed: what the calls never exercised (the number plan,
    // the absence of retries) is an error, not a pass.
    let passed: Vec<String> = run
        .report
        .scenarios
        .iter()
        .flat_map(|s| {
            s.checks
                .iter()
                .filter(|c| c.outcome == Outcome::Pass)
                .map(move |c| format!("{} {}", s.name, c.id))
        })
        .collect();
    assert!(passed.is_empty(), "{passed:#?}");
    eprintln!(
        "| SBC certificate: {says} | {} | call.final-response |",
        run.code
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_sbc_presenting_an_expired_certificate_fails() {
    fails_on_its_certificate(
        &[SBC_NAME, "127.0.0.1"],
        Validity::Expired,
        "its certificate has expired",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_sbc_presenting_a_certificate_for_another_name_fails() {
    fails_on_its_certificate(
        &["sbc.elsewhere.invalid"],
        Validity::Current,
        "does not name the host the trunk calls",
    )
    .await;
}
