//! `certify --originator` end to end with the built binary and the shipped Genesys BYOC plan,
//! unattended (`--drive`), with two originators that place their calls themselves:
//! - the harness's own generator (`e911-harness call`), over TLS;
//! - SIPp (`tests/sipp/drive.sh`, Debian's sip-tester: TCP only, no number plan, no failover
//!   when a connection is refused), with a second SIPp probing both gateways with OPTIONS.
//!
//! In both, the originator sends the trunk's ANI from the shared phone instead of the site ANI
//! (a misconfigured caller ID), so that step must fail on its ANI and name the caller-selection
//! step the number came from; every other verdict is the one the originator deserves.

mod plan_support;

use std::process::{Command, Stdio};
use std::time::Duration;

use plan_support::{BIN, Background, certify, free_port, genesys_plan, repo, tool};
use reports::Outcome;

/// The step whose ANI the originators get wrong, and the number they send instead.
const WRONG_ANI_STEP: &str = "caller-shared-phone";
const TRUNK_ANI: &str = "+13125550130";

/// A drive command that runs `then` with the trunk's ANI in the shared-phone step.
fn misconfigured(then: &str) -> String {
    format!(
        "[ \"$E911_STEP_NAME\" = {WRONG_ANI_STEP} ] && export E911_ANI={TRUNK_ANI}; exec {then}"
    )
}

/// What a wrong ANI from the shared phone fails: the ANI, the caller-selection step, and the
/// routing the gateway based on it.
fn wrong_ani_checks() -> Vec<String> {
    ["caller.selection", "ani.number", "location.routing"]
        .map(str::to_owned)
        .to_vec()
}

#[test]
fn the_harness_generator_certifies_against_the_genesys_plan_except_its_wrong_ani() {
    let dir = tempfile::tempdir().expect("temp dir");
    let plan = genesys_plan();
    let drive = misconfigured(&format!("'{BIN}' call"));
    let run = certify(
        dir.path(),
        &[
            "--originator",
            plan.to_str().expect("utf-8 path"),
            "--gateway-listen",
            "127.0.0.1:0",
            "127.0.0.1:0",
            "--certs-dir",
            "certs",
            "--settle",
            "300ms",
            "--step-timeout",
            "30s",
            "--drive",
            &drive,
        ],
        Duration::from_secs(240),
    );
    let why = run.explain();
    assert_eq!(run.code, 1, "{why}");
    let failures = run.failures();
    assert_eq!(
        failures.keys().collect::<Vec<_>>(),
        [WRONG_ANI_STEP],
        "{why}"
    );
    assert_eq!(failures[WRONG_ANI_STEP], wrong_ani_checks(), "{why}");
    let selection = run.check(WRONG_ANI_STEP, "caller.selection");
    assert!(
        selection.message.contains("the trunk's ANI (trunk-ani)")
            && selection.message.contains("site-ani (+13125550129)"),
        "{}",
        selection.message
    );
    // The failover steps: each path judged at the gateways.
    for (step, checks) in [
        (
            "failover-503-q850",
            &[
                "route.answered-by",
                "route.attempts",
                "route.failover-time",
                "route.identical-retry",
            ][..],
        ),
        (
            "failover-silence",
            &["route.answered-by", "route.failover-time"][..],
        ),
        (
            "failover-tls-refused",
            &["route.answered-by", "route.attempts"][..],
        ),
        (
            "failover-tls-untrusted",
            &["route.answered-by", "transport.tls-verify"][..],
        ),
        (
            "failover-gw1-down",
            &["route.answered-by", "route.attempts"][..],
        ),
        (
            "no-retry-403",
            &["route.no-retry-after-final", "call.final-status"][..],
        ),
        ("no-retry-603", &["route.no-retry-after-final"][..]),
        (
            "readback-933",
            &["readback.number", "readback.address", "location.routing"][..],
        ),
        ("dial-9911", &["route.not-forwarded"][..]),
        (
            "caller-queue-did",
            &[
                "caller.selection",
                "org-header.value",
                "transport.tls-profile",
                "route.gateway-order",
                "call.teardown",
            ][..],
        ),
    ] {
        for id in checks {
            assert_eq!(run.outcome(step, id), Outcome::Pass, "{step} {id}\n{why}");
        }
    }
    // It does not probe: the probing checks say so instead of passing.
    assert_eq!(run.outcome("probing", "health.probing"), Outcome::Skipped);
    // The same evidence as certify.
    for f in ["report.json", "junit.xml", "summary.md"] {
        assert!(run.out.join(f).is_file(), "{f} missing");
    }
    let summary = std::fs::read_to_string(run.out.join("summary.md")).expect("summary");
    assert!(summary.contains("| ICD 5.3 |"), "{summary}");
    assert!(summary.contains("Not covered by this run"), "{summary}");
    assert!(run.out.join("drive/01-caller-queue-did.log").is_file());
    // The operator's view said what to do and showed what arrived.
    assert!(
        run.guidance
            .contains("call 8 of 15: failover-503-q850 (ICD 5.3)"),
        "{}",
        run.guidance
    );
    assert!(
        run.guidance.contains("gw1 <- INVITE 911 from +13125550129"),
        "{}",
        run.guidance
    );
}

#[test]
fn sipp_as_the_originator_is_judged_step_by_step() {
    let sipp = tool("sipp", &[], "Debian/Ubuntu: apt-get install sip-tester");
    let dir = tempfile::tempdir().expect("temp dir");
    let plan = genesys_plan();
    let (gw1, gw2) = (free_port(), free_port());
    // SIPp probes both gateways twice a second for the whole run (a connection refused while
    // gw1 is down fails that probe; the next one is sent anyway).
    let _probes: Vec<Background> = [gw1, gw2]
        .iter()
        .map(|port| {
            Background(
                Command::new(&sipp)
                    .arg("-sf")
                    .arg(repo("tests/sipp/options-ping.xml"))
                    .args([
                        "-t",
                        "tn",
                        "-max_socket",
                        "100",
                        "-i",
                        "127.0.0.1",
                        "-p",
                        "0",
                    ])
                    .args(["-nostdin", "-r", "2", "-m", "2000", "-timeout", "200s"])
                    .arg(format!("127.0.0.1:{port}"))
                    .current_dir(dir.path())
                    .stdin(Stdio::null())
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .spawn()
                    .expect("start the SIPp prober"),
            )
        })
        .collect();
    let drive = misconfigured(&format!("sh '{}'", repo("tests/sipp/drive.sh").display()));
    let listen = [format!("127.0.0.1:{gw1}"), format!("127.0.0.1:{gw2}")];
    let run = certify(
        dir.path(),
        &[
            "--originator",
            plan.to_str().expect("utf-8 path"),
            "--transport",
            "tcp",
            "--gateway-listen",
            &listen[0],
            &listen[1],
            "--certs-dir",
            "certs",
            "--settle",
            "300ms",
            "--step-timeout",
            "30s",
            "--drive",
            &drive,
        ],
        Duration::from_secs(240),
    );
    let why = run.explain();
    assert_eq!(run.code, 1, "{why}");
    let failures = run.failures();
    let expected = [
        (WRONG_ANI_STEP, wrong_ani_checks()),
        // SIPp has no number plan: it dials 9911 straight to gw1.
        ("dial-9911", vec!["route.not-forwarded".to_owned()]),
        // SIPp cannot fail over when its connection is refused: no call reaches a gateway.
        ("failover-gw1-down", vec!["plan.calls".to_owned()]),
    ];
    assert_eq!(
        failures,
        expected
            .iter()
            .map(|(s, c)| ((*s).to_owned(), c.clone()))
            .collect(),
        "{why}"
    );
    assert!(
        run.check("failover-gw1-down", "plan.calls")
            .message
            .contains("gw1 down"),
        "{why}"
    );
    // It does fail over on a 503 with a Q.850 cause and on silence, with the call unchanged.
    for step in ["failover-503-q850", "failover-silence"] {
        for id in [
            "route.answered-by",
            "route.attempts",
            "route.failover-time",
            "route.identical-retry",
        ] {
            assert_eq!(run.outcome(step, id), Outcome::Pass, "{step} {id}\n{why}");
        }
    }
    // A TLS fault cannot be presented on TCP: not applicable, with the reason.
    assert!(run.not_applicable("failover-tls-refused"), "{why}");
    assert!(run.not_applicable("failover-tls-untrusted"), "{why}");
    assert_eq!(
        run.outcome("caller-queue-did", "transport.tls"),
        Outcome::Skipped
    );
    // The probing was recorded and judged: both gateways, and gw1 probed again after its
    // outage.
    let probing = run
        .report
        .scenarios
        .iter()
        .find(|s| s.name == "probing")
        .expect("probing report");
    let ids: Vec<(&str, Outcome)> = probing
        .checks
        .iter()
        .map(|c| (c.id.as_str(), c.outcome))
        .collect();
    assert_eq!(
        ids,
        [
            ("health.probing", Outcome::Pass),
            ("health.probing", Outcome::Pass),
            ("health.recovery", Outcome::Pass),
        ],
        "{:#?}",
        probing.checks
    );
}
