//! Interop with SIPp, the incumbent SIP test tool (Debian's `sip-tester`, TCP only: that build
//! has no TLS). Both directions, over real sockets on loopback:
//! - our generator places a trunk call to SIPp's built-in `uas` and completes it (200, ACK, BYE);
//! - SIPp's `uac`, with a scenario that adds `E911-Organization-ID` and P-Asserted-Identity
//!   (`tests/sipp/uac-e911.xml`), places calls to our gateway, whose checks judge them.
//!
//! When `sipp` is missing, these tests fail with that message (`.ci/run` installs it).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use e2e::peers::{free_port, tool, wait_bounded, wait_listening};

use harness::evidence::record::call_record;
use harness::evidence::{Epoch, Teardown};
use harness::originate::uac::{self, Target, UacConfig};
use harness::verdict::media::check_answer;
use mock_gateway::{Gateway, GatewayConfig, Limits, Policy};
use scenarios::OrgFinding;
use sip::transport::TransportKind;

const ORG: &str = scenarios::DEFAULT_ORG_ID;

/// The `sipp` binary, or a panic that says how to get it.
fn sipp() -> PathBuf {
    tool("sipp", &[], "Debian/Ubuntu: apt-get install sip-tester")
}

fn repo_file(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn our_generator_completes_a_call_with_sipp_uas() {
    let sipp = sipp();
    let dir = tempfile::tempdir().expect("temp dir");
    let port = free_port();
    let addr: SocketAddr = ([127, 0, 0, 1], port).into();
    let mut child = Command::new(&sipp)
        .args(["-sn", "uas", "-t", "t1", "-i", "127.0.0.1", "-nostdin"])
        .args(["-p", &port.to_string(), "-m", "1", "-timeout", "20s"])
        .current_dir(dir.path())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start sipp uas");
    wait_listening(addr, &mut child, "sipp uas");

    let scenario = scenarios::load_str(
        "name = \"sipp-uas\"\ndescription = \"interop\"\nrequirements = [\"RFC 3261\"]\n\
         [call]\ndial = \"911\"\nani = \"+13125550100\"\nhold = \"50ms\"\n[expect]\nstatus = 200\n",
        "sipp-uas.toml",
    )
    .expect("inline scenario loads");
    let target = Target {
        name: "sipp-uas".into(),
        host: "127.0.0.1".into(),
        addr,
        transport: TransportKind::Tcp,
    };
    let cfg = UacConfig {
        tls: None,
        tls_trust: None,
        local_host: "trunk.e911-harness.invalid".into(),
        connect_timeout: Duration::from_secs(3),
        epoch: Epoch::now(),
        recording: Default::default(),
        media: false,
    };
    let outcome = uac::place_call(&scenario.call, &target, &cfg).await;
    let out = wait_bounded(child, Duration::from_secs(25), "sipp uas");
    let screen = String::from_utf8_lossy(&out.stdout);

    let rec = call_record(&outcome);
    let rec = &rec;
    assert_eq!(rec.final_status, Some(200), "{rec:#?}\nsipp:\n{screen}");
    assert_eq!(rec.error, None, "{rec:#?}");
    assert_eq!(
        rec.attempts[0].error, None,
        "ACK and BYE went through and the BYE was answered 2xx: {rec:#?}"
    );
    assert!(
        outcome.attempts[0].provisionals.contains(&180),
        "{outcome:?}"
    );
    assert_eq!(
        outcome.attempts[0].teardown,
        Some(Teardown::ByeAnswered),
        "{outcome:?}"
    );
    // SIPp's own screen agrees: one INVITE in, 200 out, ACK and BYE in, 200 to the BYE out.
    // (Its exit code is not: the built-in uas pauses 4 s after the BYE and counts the call as
    // failed when the trunk closes its per-call connection in that pause.)
    for line in [
        "----------> INVITE             1",
        "----------> BYE                1",
    ] {
        assert!(
            screen.contains(line),
            "sipp screen lacks {line:?}:\n{screen}"
        );
    }
    // SIPp's built-in uas answers with plain RTP/AVP on port 6000: our media check says so
    // rather than passing it, which is what an E911 gateway certification must do.
    let answer = outcome.attempts[0]
        .final_response
        .as_ref()
        .map(|r| String::from_utf8_lossy(&r.body).into_owned())
        .unwrap_or_default();
    let problems = check_answer(&answer);
    assert!(
        problems.iter().any(|p| p.contains("RTP/SAVP")),
        "{problems:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sipp_uac_calls_are_judged_by_our_gateway() {
    let sipp = sipp();
    let gateway = Gateway::start(GatewayConfig {
        name: "gw1".into(),
        host: "gw1.anywhere.e911cloud.com".into(),
        listen: "127.0.0.1:0".parse().expect("addr"),
        transport: TransportKind::Tcp,
        tls: None,
        policy: Policy::default(),
        limits: Limits::default(),
        ..GatewayConfig::default()
    })
    .await
    .expect("gateway starts");
    let gw = gateway.local_addr().to_string();
    let dir = tempfile::tempdir().expect("temp dir");
    let calls = 5;
    let uac = |org: &'static str| {
        let (sipp, dir, gw) = (sipp.clone(), dir.path().to_owned(), gw.clone());
        tokio::task::spawn_blocking(move || run_uac(&sipp, &dir, &gw, org, calls))
    };

    let out = uac(ORG).await.expect("sipp task");
    let screen = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "sipp uac reported failed calls:\n{screen}"
    );
    let invites: Vec<_> = gateway
        .take_observations()
        .into_iter()
        .filter(|o| o.method == "INVITE")
        .collect();
    assert_eq!(invites.len(), calls, "one INVITE per SIPp call");
    for o in &invites {
        let org = o.org.as_ref().expect("org checked");
        assert_eq!(org.finding, OrgFinding::Ok, "{o:?}");
        let ani = o.ani.as_ref().expect("ANI extracted");
        assert_eq!(ani.number, "+13125550100");
        assert_eq!(ani.source, "P-Asserted-Identity");
        assert_eq!(o.response, Some(200));
        let media = o.media.as_ref().expect("SDP offer judged");
        assert!(media.srtp, "{media:?}");
    }

    // A wrong org: the gateway refuses every call with 403, and SIPp counts them as failed.
    let out = uac("00000000-0000-4000-8000-000000000000")
        .await
        .expect("sipp task");
    assert!(
        !out.status.success(),
        "sipp must see the 403s as failures:\n{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let refused: Vec<_> = gateway
        .take_observations()
        .into_iter()
        .filter(|o| o.method == "INVITE")
        .collect();
    assert_eq!(refused.len(), calls);
    for o in &refused {
        assert_eq!(o.org.as_ref().map(|g| g.finding), Some(OrgFinding::Unknown));
        assert_eq!(o.response, Some(403), "{o:?}");
    }
    gateway.shutdown().await;
}

/// Runs `tests/sipp/uac-e911.xml` for `calls` calls to the gateway at `gw`.
fn run_uac(sipp: &Path, dir: &Path, gw: &str, org: &str, calls: usize) -> Output {
    let child = Command::new(sipp)
        .arg("-sf")
        .arg(repo_file("sipp/uac-e911.xml"))
        .args(["-t", "t1", "-i", "127.0.0.1", "-nostdin", "-s", "911"])
        .args(["-p", &free_port().to_string()])
        .args(["-key", "org", org, "-key", "ani", "+13125550100"])
        .args(["-m", &calls.to_string(), "-r", "50", "-timeout", "20s"])
        .args(["-timeout_error", gw])
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start sipp uac");
    wait_bounded(child, Duration::from_secs(25), "sipp uac")
}
