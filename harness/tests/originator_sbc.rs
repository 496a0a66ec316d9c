//! `certify --originator` with an originating SBC: the harness's own generator (`e911-harness
//! call`, the trunk) sends every step's call to Kamailio (`deploy/kamailio`, TLS in and out),
//! which routes it to gw1 and gw2 and does the failover, the number plan and the TLS profile
//! the plan judges. Kamailio is the originator certified here: the shipped Genesys plan passes
//! with it, every step, unattended.

mod plan_support;

use std::fs::File;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use plan_support::{BIN, Background, certify, free_port, genesys_plan, repo, tool};
use reports::Outcome;

const SBC_NAME: &str = "sbc.e911-harness.invalid";

/// Runs `e911-harness certs` with `args` in `dir`.
fn certs(dir: &std::path::Path, args: &[&str]) {
    let status = Command::new(BIN)
        .arg("certs")
        .args(args)
        .current_dir(dir)
        .stdout(Stdio::null())
        .status()
        .expect("run e911-harness certs");
    assert!(status.success(), "e911-harness certs {args:?}");
}

/// Kamailio from `deploy/kamailio/start.sh`, listening for the trunk on 127.0.0.1:`port` over
/// TLS with the lab's SBC certificate, routing to `gateways`.
fn kamailio(dir: &std::path::Path, port: u16, gateways: &[String]) -> Background {
    let log = File::create(dir.join("kamailio.log")).expect("log file");
    let work = dir.join("kamailio");
    std::fs::create_dir_all(&work).expect("work dir");
    let mut child = Command::new("bash")
        .arg(repo("deploy/kamailio/start.sh"))
        .args(["--certs", "lab", "--workdir"])
        .arg(&work)
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .args(["--gateways", &gateways.join(",")])
        .args(["--trunk-transport", "tls"])
        .args(["--gateway-socket", &format!("127.0.0.1:{}", free_port())])
        .args(["--gw-timeout-ms", "1000", "--shm", "128"])
        .args([
            "--server-cert",
            "lab/sbc.pem",
            "--server-key",
            "lab/sbc.key",
        ])
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::from(log))
        .spawn()
        .expect("start deploy/kamailio/start.sh");
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            panic!(
                "kamailio exited ({status}) before listening:\n{}",
                std::fs::read_to_string(dir.join("kamailio.log")).unwrap_or_default()
            );
        }
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Background(child);
        }
        assert!(
            Instant::now() < deadline,
            "kamailio did not listen on {port} within 10 s"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn kamailio_in_front_of_the_harness_generator_passes_the_genesys_plan() {
    tool(
        "kamailio",
        &["/usr/sbin"],
        "Debian/Ubuntu: apt-get install kamailio kamailio-tls-modules",
    );
    let dir = tempfile::tempdir().expect("temp dir");
    certs(dir.path(), &["--out", "lab"]);
    certs(
        dir.path(),
        &["--out", "lab", "--sbc", SBC_NAME, "--san", "127.0.0.1"],
    );
    let gateways = [
        format!("127.0.0.1:{}", free_port()),
        format!("127.0.0.1:{}", free_port()),
    ];
    let sbc = free_port();
    let _kamailio = kamailio(dir.path(), sbc, &gateways);
    // The trunk calls the SBC only (no gw2 of its own) and leaves the number plan to it.
    let drive = format!(
        "exec '{BIN}' call --gw1 127.0.0.1:{sbc} --gw1-host {SBC_NAME} --gw2 '' --ca lab/ca.pem --attempt-timeout 8s --no-number-plan"
    );
    let plan = genesys_plan();
    let run = certify(
        dir.path(),
        &[
            "--originator",
            plan.to_str().expect("utf-8 path"),
            "--gateway-listen",
            &gateways[0],
            &gateways[1],
            "--certs-dir",
            "lab",
            "--settle",
            "500ms",
            "--step-timeout",
            "30s",
            "--drive",
            &drive,
        ],
        Duration::from_secs(300),
    );
    let why = format!(
        "{}\n--- kamailio ---\n{}",
        run.explain(),
        std::fs::read_to_string(dir.path().join("kamailio.log"))
            .unwrap_or_default()
            .lines()
            .rev()
            .take(30)
            .collect::<Vec<_>>()
            .join("\n")
    );
    assert_eq!(run.code, 0, "{why}");
    assert!(run.failures().is_empty(), "{why}");
    // The SBC's own number plan kept 9911 away; its failover kept the call unchanged; its leg
    // to the gateways is the Genesys BYOC profile; it refused gw1's untrusted certificate.
    for (step, id) in [
        ("dial-9911", "route.not-forwarded"),
        ("failover-503-q850", "route.identical-retry"),
        ("failover-503-q850", "route.failover-time"),
        ("failover-silence", "route.answered-by"),
        ("failover-tls-refused", "route.answered-by"),
        ("failover-tls-untrusted", "transport.tls-verify"),
        ("failover-gw1-down", "route.attempts"),
        ("no-retry-486", "route.no-retry-after-final"),
        ("caller-shared-phone", "transport.tls-profile"),
        ("caller-shared-phone", "caller.selection"),
    ] {
        assert_eq!(run.outcome(step, id), Outcome::Pass, "{step} {id}\n{why}");
    }
}
