//! The built `e911-harness` binary, as a newcomer and CI use it: exit codes, printed summary,
//! written reports, and errors that say what and where.

use std::path::Path;
use std::process::{Command, Output};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_e911-harness"))
}

fn run(args: &[&str]) -> Output {
    bin().args(args).output().expect("the binary runs")
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// A scenario that wrongly expects 200 for a call from an org the gateway does not serve (403).
const WRONG_ORG_EXPECTATION: &str = "name = \"wrong-org-expectation\"\ndescription = \"expects 200 for an unknown org\"\nrequirements = [\"ICD 5.1.9\"]\n\n[call]\ndial = \"911\"\nani = \"+13125550100\"\norg_id = \"00000000-0000-4000-8000-000000000000\"\n\n[expect]\nstatus = 200\n";

fn library() -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../scenarios/library")
        .display()
        .to_string()
}

#[test]
fn certify_passes_on_the_embedded_default_and_writes_every_report() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("certify");
    let o = run(&["certify", "--out", out.to_str().expect("utf-8 path")]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let t = text(&o);
    assert!(t.contains("PASSED"), "{t}");
    for f in ["report.json", "junit.xml", "summary.md"] {
        assert!(out.join(f).is_file(), "{f} written");
    }
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("report.json")).expect("read"))
            .expect("json");
    assert_eq!(json["command"], "certify");
    assert!(
        json["totals"]["failed"] == 0 && json["totals"]["passed"].as_u64().unwrap_or(0) > 0,
        "{json}"
    );
}

#[test]
fn a_wrong_expectation_makes_run_exit_1_with_the_reason() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sc = dir.path().join("wrong.toml");
    std::fs::write(&sc, WRONG_ORG_EXPECTATION).expect("write");
    let out = dir.path().join("out");
    let o = run(&[
        "run",
        sc.to_str().expect("utf-8"),
        "--out",
        out.to_str().expect("utf-8"),
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let t = text(&o);
    assert!(t.contains("403") && t.contains("FAILED"), "{t}");
    let junit = std::fs::read_to_string(out.join("junit.xml")).expect("junit");
    assert!(junit.contains("<failure"), "{junit}");
}

#[test]
fn a_waiver_turns_the_known_deviation_into_a_skip_and_a_stale_one_is_an_input_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sc = dir.path().join("wrong.toml");
    std::fs::write(&sc, WRONG_ORG_EXPECTATION).expect("write");
    let waivers = dir.path().join("waivers.toml");
    std::fs::write(
        &waivers,
        "[[waiver]]\ncheck = \"wrong-*/call.final-status\"\nreason = \"CHG-42: lab org not provisioned yet\"\n",
    )
    .expect("write");
    let out = dir.path().join("out");
    let args = |w: &Path| {
        vec![
            "run".to_owned(),
            sc.display().to_string(),
            "--out".into(),
            out.display().to_string(),
            "--waivers".into(),
            w.display().to_string(),
        ]
    };
    let o = bin().args(args(&waivers)).output().expect("runs");
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let junit = std::fs::read_to_string(out.join("junit.xml")).expect("junit");
    assert!(
        junit.contains("waived: CHG-42: lab org not provisioned yet (was FAIL"),
        "{junit}"
    );
    let md = std::fs::read_to_string(out.join("summary.md")).expect("summary");
    assert!(md.contains("(1 waived)"), "{md}");

    let stale = dir.path().join("stale.toml");
    std::fs::write(
        &stale,
        "[[waiver]]\ncheck = \"wrong-*/call.final-status\"\nreason = \"r\"\n\n[[waiver]]\ncheck = \"no-such/*\"\nreason = \"old\"\n",
    )
    .expect("write");
    let o = bin().args(args(&stale)).output().expect("runs");
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        text(&o).contains("stale.toml:6: waiver `no-such/*` matches no check"),
        "{}",
        text(&o)
    );
}

#[test]
fn validate_accepts_the_library_and_names_file_line_and_field_of_mistakes() {
    let o = run(&["validate", &library()]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let dir = tempfile::tempdir().expect("tempdir");
    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "name = \"bad\"\ndescription = \"x\"\nrequirements = [\"ICD 9.9\"]\n\n[call]\ndial = \"911\"\nani = \"+13125550100\"\nhold = \"soon\"\n").expect("write");
    let o = run(&["validate", bad.to_str().expect("utf-8")]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let t = text(&o);
    assert!(
        t.contains("bad.toml:3:"),
        "requirement problem on line 3: {t}"
    );
    assert!(t.contains("bad.toml:8:"), "duration problem on line 8: {t}");
}

#[test]
fn run_refuses_a_production_gateway_target() {
    let o = run(&[
        "run",
        &library(),
        "--target",
        "gw1.anywhere.e911cloud.com:5061",
        "--insecure",
    ]);
    assert_ne!(o.status.code(), Some(0));
    assert!(text(&o).contains("production E911 gateway"), "{}", text(&o));
}

#[test]
fn certs_writes_a_ca_and_gateway_certificates() {
    let dir = tempfile::tempdir().expect("tempdir");
    let o = run(&["certs", "--out", dir.path().to_str().expect("utf-8")]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    for f in [
        "ca.pem", "ca.key", "gw1.pem", "gw1.key", "gw2.pem", "gw2.key",
    ] {
        assert!(dir.path().join(f).is_file(), "{f}");
    }
}

/// A port on 127.0.0.1 nothing listens on now.
fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}

/// A folder with the lab CA and a certificate for `sbc.lab.example` issued from it.
fn lab_with_sbc() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path().to_str().expect("utf-8");
    let o = run(&["certs", "--out", d]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let o = run(&[
        "certs",
        "--out",
        d,
        "--sbc",
        "sbc.lab.example",
        "--san",
        "127.0.0.1",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    dir
}

#[test]
fn certs_issues_an_sbc_certificate_from_the_lab_ca() {
    let dir = lab_with_sbc();
    let chain = std::fs::read_to_string(dir.path().join("sbc.pem")).expect("sbc.pem");
    let ca = std::fs::read_to_string(dir.path().join("ca.pem")).expect("ca.pem");
    assert_eq!(chain.matches("BEGIN CERTIFICATE").count(), 2, "leaf and CA");
    assert!(chain.ends_with(&ca), "the chain ends with the lab CA");
    assert!(dir.path().join("sbc.key").is_file());
    // A folder without the CA's key cannot issue.
    std::fs::remove_file(dir.path().join("ca.key")).expect("rm");
    let o = run(&[
        "certs",
        "--out",
        dir.path().to_str().expect("utf-8"),
        "--sbc",
        "x.lab",
    ]);
    assert_ne!(o.status.code(), Some(0));
    assert!(text(&o).contains("no ca.key"), "{}", text(&o));
}

/// `gateway` serving `sbc.pem` on a free port: a TLS peer with the lab SBC certificate.
fn tls_peer(dir: &Path) -> (std::process::Child, String) {
    let addr = format!("127.0.0.1:{}", free_port());
    let child = bin()
        .args(["gateway", "--quiet", "--duration", "20s", "--listen", &addr])
        .arg("--cert")
        .arg(dir.join("sbc.pem"))
        .arg("--key")
        .arg(dir.join("sbc.key"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("gateway starts");
    let until = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while std::net::TcpStream::connect(&addr).is_err() {
        assert!(std::time::Instant::now() < until, "peer listening");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    (child, addr)
}

#[test]
fn certify_sut_stops_at_once_with_a_fix_when_the_sbc_certificate_is_not_trusted() {
    let lab = lab_with_sbc();
    let stranger = tempfile::tempdir().expect("tempdir");
    let o = run(&["certs", "--out", stranger.path().to_str().expect("utf-8")]);
    assert_eq!(o.status.code(), Some(0));
    let (mut peer, addr) = tls_peer(lab.path());
    let out = lab.path().join("out");
    let o = run(&[
        "certify",
        "--sut",
        &addr,
        "--sut-name",
        "sbc.lab.example",
        "--sut-ca",
        stranger.path().join("ca.pem").to_str().expect("utf-8"),
        "--gateway-listen",
        &format!("127.0.0.1:{}", free_port()),
        &format!("127.0.0.1:{}", free_port()),
        "--certs-dir",
        lab.path().to_str().expect("utf-8"),
        "--out",
        out.to_str().expect("utf-8"),
    ]);
    let _ = peer.kill();
    let _ = peer.wait();
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    let t = text(&o);
    assert!(t.contains("is not signed by --sut-ca"), "{t}");
    assert!(t.contains("certs --sbc NAME"), "{t}");
    assert!(!out.join("report.json").exists(), "no scenario ran");
    // The right CA gets past the check (the run then fails: the peer is no SBC).
    let (mut peer, addr) = tls_peer(lab.path());
    let o = run(&[
        "certify",
        "--sut",
        &addr,
        "--sut-name",
        "sbc.lab.example",
        "--sut-ca",
        lab.path().join("ca.pem").to_str().expect("utf-8"),
        "--scenarios",
        &format!("{}/basic-911.toml", library()),
        "--gateway-listen",
        &format!("127.0.0.1:{}", free_port()),
        &format!("127.0.0.1:{}", free_port()),
        "--certs-dir",
        lab.path().to_str().expect("utf-8"),
        "--out",
        out.to_str().expect("utf-8"),
    ]);
    let _ = peer.kill();
    let _ = peer.wait();
    assert!(!text(&o).contains("is not signed"), "{}", text(&o));
    assert!(out.join("report.json").exists(), "{}", text(&o));
}

#[test]
fn certify_sut_names_what_is_wrong_with_its_setup() {
    let lab = lab_with_sbc();
    let ca = lab.path().join("ca.pem");
    // Nothing listening: exit 3, and what to fix.
    let dead = format!("127.0.0.1:{}", free_port());
    let o = run(&[
        "certify",
        "--sut",
        &dead,
        "--sut-ca",
        ca.to_str().expect("utf-8"),
    ]);
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    assert!(text(&o).contains("nothing answers at"), "{}", text(&o));
    // A CA for a TCP trunk leg is a usage error, not ignored.
    let o = run(&[
        "certify",
        "--sut",
        &dead,
        "--transport",
        "tcp",
        "--sut-ca",
        ca.to_str().expect("utf-8"),
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("--transport tcp"), "{}", text(&o));
}

#[test]
fn a_quiet_gateway_stops_by_itself_and_prints_its_counts() {
    let o = run(&[
        "gateway",
        "--transport",
        "tcp",
        "--listen",
        "127.0.0.1:0",
        "--quiet",
        "--duration",
        "300ms",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(o.stdout.is_empty(), "no observations printed: {}", text(&o));
    let t = text(&o);
    assert!(
        t.contains("calls: 0 INVITEs, 0 answered, 0 rejected, 0 BYEs, 0 OPTIONS, 0 connections"),
        "{t}"
    );
}
