//! Exit codes as the README says: `2` for every kind of bad input (a refused target, a bad
//! `--locations`, `--cert`/`--key` or `--ca` file, a scenario that is not a regular file), run
//! against the built binary. None of these may reach the network: every target here is
//! refused before any DNS query or connect.

use std::path::Path;
use std::process::{Command, Output};

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_e911-harness"))
        .args(args)
        .output()
        .expect("the binary runs")
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn scenario() -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../scenarios/library/basic-911.toml")
        .display()
        .to_string()
}

fn assert_usage(args: &[&str], says: &str) {
    let o = run(args);
    let t = text(&o);
    assert_eq!(o.status.code(), Some(2), "{args:?}: {t}");
    assert!(t.contains(says), "{args:?} should say {says:?}: {t}");
}

#[test]
fn a_production_host_is_refused_with_exit_2_by_every_command_whatever_its_spelling() {
    let sc = scenario();
    for host in [
        "gw1.anywhere.e911cloud.com.:5061",
        "GW2.ANYWHERE.E911CLOUD.COM:5061",
        "gw1.anywhere.e911cloud\u{3002}com:5061",
    ] {
        assert_usage(
            &["run", &sc, "--target", host, "--allow-remote", "--insecure"],
            "production",
        );
        assert_usage(
            &[
                "load",
                "--target",
                host,
                "--allow-remote",
                "--insecure",
                "--rate",
                "1",
                "--calls",
                "1",
            ],
            "production",
        );
        assert_usage(
            &[
                "certify",
                "--scenarios",
                &sc,
                "--sut",
                host,
                "--allow-remote",
                "--insecure",
            ],
            "production",
        );
        assert_usage(
            &["torture", "--target", host, "--allow-remote", "--insecure"],
            "production",
        );
    }
}

#[test]
fn a_remote_target_without_allow_remote_is_refused_with_exit_2() {
    let sc = scenario();
    assert_usage(
        &["run", &sc, "--target", "192.0.2.1:5061", "--insecure"],
        "not on loopback",
    );
    assert_usage(
        &[
            "run",
            &sc,
            "--target",
            "[::ffff:192.0.2.1]:5061",
            "--insecure",
        ],
        "not on loopback",
    );
    // A name is refused before it is resolved.
    assert_usage(
        &["run", &sc, "--target", "lab-sbc.invalid:5061", "--insecure"],
        "not on loopback",
    );
}

#[test]
fn bad_gateway_input_files_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let bad_toml = dir.path().join("locations.toml");
    std::fs::write(&bad_toml, "unknown_ani = \"sideways\"\n").unwrap();
    let bad_pem = dir.path().join("gw.pem");
    std::fs::write(&bad_pem, "not a certificate\n").unwrap();
    let missing = dir.path().join("missing.toml");
    fn with<'a>(extra: &[&'a str]) -> Vec<&'a str> {
        let common = ["gateway", "--listen", "127.0.0.1:0", "--duration", "1s"];
        [&common[..], extra].concat()
    }
    assert_usage(
        &with(&[
            "--locations",
            missing.to_str().unwrap(),
            "--transport",
            "tcp",
        ]),
        "--locations",
    );
    assert_usage(
        &with(&[
            "--locations",
            bad_toml.to_str().unwrap(),
            "--transport",
            "tcp",
        ]),
        "unknown_ani",
    );
    let pem = bad_pem.to_str().unwrap();
    assert_usage(&with(&["--cert", pem, "--key", pem]), "--cert");
    assert_usage(
        &with(&["--cert", "/dev/zero", "--key", pem]),
        "not a regular file",
    );
}

#[test]
fn bad_ca_and_scenario_files_exit_2() {
    let sc = scenario();
    assert_usage(
        &["run", &sc, "--target", "127.0.0.1:9", "--ca", "/dev/zero"],
        "not a regular file",
    );
    assert_usage(&["validate", "/dev/zero"], "not a regular file");
    // A rate the generator cannot schedule is refused before a single call (it used to grow
    // to 2.85 GB).
    assert_usage(
        &[
            "load",
            "--transport",
            "tcp",
            "--rate",
            "1e9",
            "--duration",
            "2s",
        ],
        "--rate",
    );
    assert_usage(
        &["run", &sc, "--waivers", "/dev/zero"],
        "not a regular file",
    );
}
