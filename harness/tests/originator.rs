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

use std::fs::File;
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
    // The same evidence as certify: the matrix, what the plan did not cover, each call's SIP
    // ladder as the gateways captured it.
    for f in ["report.json", "junit.xml", "summary.md", "report.html"] {
        assert!(run.out.join(f).is_file(), "{f} missing");
    }
    let summary = std::fs::read_to_string(run.out.join("summary.md")).expect("summary");
    assert!(summary.contains("[ICD 5.3]"), "{summary}");
    assert!(summary.contains("## Not covered"), "{summary}");
    assert!(
        summary.contains("no step of the plan covers it"),
        "{summary}"
    );
    let failover = run
        .report
        .scenarios
        .iter()
        .find(|s| s.name == "failover-503-q850")
        .expect("step");
    let ladder = &failover.calls[0].trace;
    assert!(
        ladder.iter().any(|m| m.to == "gw1") && ladder.iter().any(|m| m.to == "gw2"),
        "{ladder:#?}"
    );
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

/// Waits (at most `limit`) until the file at `path` contains `needle`.
fn wait_for_text(path: &std::path::Path, needle: &str, limit: Duration) {
    let deadline = std::time::Instant::now() + limit;
    loop {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        if text.contains(needle) {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{needle:?} did not appear within {limit:?}:\n{text}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn an_operator_places_the_call_when_asked_and_ends_a_number_plan_step_with_enter() {
    use std::io::Write as _;
    let dir = tempfile::tempdir().expect("temp dir");
    let plan = genesys_plan();
    let (gw1, gw2) = (
        format!("127.0.0.1:{}", free_port()),
        format!("127.0.0.1:{}", free_port()),
    );
    let stderr = dir.path().join("stderr.txt");
    let mut child = Command::new(BIN)
        .arg("certify")
        .arg("--originator")
        .arg(&plan)
        .args(["--gateway-listen", &gw1, &gw2, "--certs-dir", "certs"])
        .args(["--out", "out", "--settle", "300ms", "--step-timeout", "30s"])
        .args(["--step", "caller-user-did", "--step", "dial-9911"])
        .current_dir(dir.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(File::create(&stderr).expect("stderr file"))
        .spawn()
        .expect("start certify");
    let mut stdin = child.stdin.take().expect("stdin");
    // The operator reads the instruction, then places the call from the user's phone.
    wait_for_text(
        &stderr,
        "call 1 of 2: caller-user-did",
        Duration::from_secs(30),
    );
    assert!(
        std::fs::read_to_string(&stderr)
            .unwrap_or_default()
            .contains("press Enter when you are done"),
    );
    let phone = Command::new(BIN)
        .args(["call", "--dial", "911", "--ani", "+13125550121"])
        .args(["--gw1", &gw1, "--gw2", &gw2, "--ca", "certs/ca.pem"])
        .current_dir(dir.path())
        .env_clear()
        .output()
        .expect("place the call");
    assert!(phone.status.success(), "{phone:?}");
    // Nothing of 9911 may arrive: the operator dials it (the trunk refuses it) and says so.
    wait_for_text(&stderr, "call 2 of 2: dial-9911", Duration::from_secs(30));
    let refused = Command::new(BIN)
        .args(["call", "--dial", "9911", "--gw1", &gw1])
        .env_clear()
        .output()
        .expect("dial 9911");
    assert!(refused.status.success(), "{refused:?}");
    stdin.write_all(b"\n").expect("press Enter");
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(s) = child.try_wait().expect("wait") {
            break s;
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            panic!(
                "certify did not end:\n{}",
                std::fs::read_to_string(&stderr).unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let guidance = std::fs::read_to_string(&stderr).unwrap_or_default();
    assert_eq!(status.code(), Some(0), "{guidance}");
    let report = reports::from_json_str(
        &std::fs::read_to_string(dir.path().join("out/report.json")).expect("report.json"),
    )
    .expect("parses");
    let step = |name: &str| {
        report
            .scenarios
            .iter()
            .find(|s| s.name == name)
            .unwrap_or_else(|| panic!("no {name}"))
    };
    let did = step("caller-user-did");
    assert!(
        did.checks
            .iter()
            .any(|c| c.id == "caller.selection" && c.outcome == Outcome::Pass),
        "{:#?}",
        did.checks
    );
    let nine = step("dial-9911");
    assert!(
        nine.checks
            .iter()
            .any(|c| c.id == "route.not-forwarded" && c.outcome == Outcome::Pass),
        "{:#?}",
        nine.checks
    );
    assert!(
        guidance.contains("gw1 <- INVITE 911 from +13125550121"),
        "{guidance}"
    );
}

#[test]
fn validate_accepts_the_shipped_plan_and_names_file_line_and_field_of_a_mistake() {
    let plan = genesys_plan();
    let o = Command::new(BIN)
        .arg("validate")
        .arg(&plan)
        .output()
        .expect("run validate");
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    assert!(String::from_utf8_lossy(&o.stdout).contains("1 plan(s) valid"));
    let dir = tempfile::tempdir().expect("temp dir");
    let bad = dir.path().join("plan.toml");
    let text = std::fs::read_to_string(&plan).expect("read").replacen(
        "status = 503\nq850 = 34",
        "status = 503\nq850 = 340",
        1,
    );
    std::fs::write(&bad, &text).expect("write");
    let o = Command::new(BIN)
        .arg("validate")
        .arg(&bad)
        .output()
        .expect("run validate");
    assert_eq!(o.status.code(), Some(2), "{o:?}");
    let err = String::from_utf8_lossy(&o.stderr);
    let line = text
        .lines()
        .position(|l| l == "q850 = 340")
        .expect("the edit")
        + 1;
    assert!(
        err.contains(&format!(
            "plan.toml:{line}:8: step[7].fault[0].q850: 340 is not a Q.850 cause"
        )),
        "{err}"
    );
    // certify refuses it the same way, before starting anything.
    let o = Command::new(BIN)
        .args(["certify", "--originator"])
        .arg(&bad)
        .output()
        .expect("run certify");
    assert_eq!(o.status.code(), Some(2), "{o:?}");
}
