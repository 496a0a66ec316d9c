//! `--pcap` read back by the real tshark: every SIP message of the run, in order, with the
//! Call-IDs the report's ladders show, between the real gateways' ports; TCP without a gap;
//! and `--tls-keylog` holding the TLS sessions' secrets.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use clap::Parser as _;
use e2e::tools;
use harness::cli::{Cli, run_command};

fn library(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../scenarios/library")
        .join(name)
        .display()
        .to_string()
}

async fn e911(args: &[&str]) -> u8 {
    let cli = Cli::try_parse_from(std::iter::once("e911-harness").chain(args.iter().copied()))
        .expect("arguments parse");
    run_command(cli.command).await.expect("command runs")
}

/// One SIP message as tshark decoded it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Sip {
    src_port: u16,
    dst_port: u16,
    call_id: String,
    /// Method, or status code.
    what: String,
}

fn tshark_sip(pcap: &Path) -> Vec<Sip> {
    let file = pcap.display().to_string();
    let out = tools::run(
        "tshark",
        &[
            "-r",
            &file,
            "-Y",
            "sip",
            "-T",
            "fields",
            "-E",
            "separator=|",
            "-e",
            "tcp.srcport",
            "-e",
            "tcp.dstport",
            "-e",
            "sip.Call-ID",
            "-e",
            "sip.Method",
            "-e",
            "sip.Status-Code",
        ],
        120,
    );
    assert!(out.status.success(), "tshark failed: {out:?}");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| {
            let f: Vec<&str> = l.split('|').collect();
            Sip {
                src_port: f[0].parse().expect("src port"),
                dst_port: f[1].parse().expect("dst port"),
                call_id: f[2].to_owned(),
                what: if f[3].is_empty() { f[4] } else { f[3] }.to_owned(),
            }
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tshark_reads_every_sip_message_of_a_certify_run_in_order() {
    let out = tempfile::tempdir().expect("out");
    let pcap: PathBuf = out.path().join("trace.pcapng");
    let keys: PathBuf = out.path().join("keys.log");
    let scenarios = [
        library("basic-911.toml"),
        library("failover-503-q850-34.toml"),
        library("no-retry-403.toml"),
    ];
    let dir = out.path().display().to_string();
    let (p, k) = (pcap.display().to_string(), keys.display().to_string());
    let mut args = vec!["certify", "--out", &dir, "--pcap", &p, "--tls-keylog", &k];
    for s in &scenarios {
        args.extend(["--scenarios", s.as_str()]);
    }
    assert_eq!(e911(&args).await, 0, "the three scenarios pass");
    let report: reports::RunReport =
        serde_json::from_str(&std::fs::read_to_string(out.path().join("report.json")).unwrap())
            .unwrap();

    let decoded = tshark_sip(&pcap);
    let mut by_call: BTreeMap<&str, Vec<&Sip>> = BTreeMap::new();
    for m in &decoded {
        by_call.entry(m.call_id.as_str()).or_default().push(m);
    }
    let mut calls = 0;
    for s in &report.scenarios {
        for c in &s.calls {
            assert!(!c.trace.is_empty(), "{}: every call has its ladder", s.name);
            assert_eq!(
                c.ani_observed.as_deref(),
                Some(c.ani.as_str()),
                "{}: the ANI the gateway observed",
                s.name
            );
            calls += 1;
            // Each attempt (its own Call-ID) in the trace is the same sequence tshark decoded.
            for a in &c.attempts {
                let ladder: Vec<String> = c
                    .trace
                    .iter()
                    .filter(|m| m.call_id() == Some(a.call_id.as_str()))
                    .map(|m| {
                        let line = m.start_line();
                        match line.strip_prefix("SIP/2.0 ") {
                            Some(st) => st[..3].to_owned(),
                            None => line.split(' ').next().unwrap().to_owned(),
                        }
                    })
                    .collect();
                let wire: Vec<String> = by_call
                    .get(a.call_id.as_str())
                    .unwrap_or_else(|| panic!("{}: Call-ID {} not in the trace", s.name, a.call_id))
                    .iter()
                    .map(|m| m.what.clone())
                    .collect();
                assert_eq!(wire, ladder, "{}: {}", s.name, a.call_id);
                assert_eq!(wire.first().map(String::as_str), Some("INVITE"));
                // The gateway's answers come from the port the attempt called.
                let port: u16 = a.target.rsplit(':').next().unwrap().parse().unwrap();
                let finals: Vec<&&Sip> = by_call[a.call_id.as_str()]
                    .iter()
                    .filter(|m| {
                        m.what.chars().all(|c| c.is_ascii_digit()) && m.what.as_str() >= "200"
                    })
                    .collect();
                assert!(!finals.is_empty(), "{}: a final response", s.name);
                assert!(
                    finals
                        .iter()
                        .all(|m| m.src_port == port || m.dst_port == port)
                );
            }
        }
    }
    assert_eq!(calls, 3);
    let failover = &report.scenarios[1].calls[0];
    let whats: Vec<&str> = by_call[failover.attempts[0].call_id.as_str()]
        .iter()
        .chain(&by_call[failover.attempts[1].call_id.as_str()])
        .map(|m| m.what.as_str())
        .collect();
    assert_eq!(
        whats,
        [
            "INVITE", "503", "ACK", "INVITE", "100", "180", "200", "ACK", "BYE", "200"
        ],
        "gw1 refuses with 503, gw2 answers"
    );

    // No gap and no overlap in any TCP stream: the synthetic sequence numbers are continuous.
    let file = pcap.display().to_string();
    let flagged = tools::run("tshark", &["-r", &file, "-Y", "tcp.analysis.flags"], 120);
    assert!(flagged.status.success());
    assert_eq!(
        String::from_utf8_lossy(&flagged.stdout).trim(),
        "",
        "tshark's TCP analysis flags nothing"
    );

    let keys = std::fs::read_to_string(&keys).expect("key log");
    assert!(
        keys.lines().count() >= 3,
        "a secret per TLS session: {keys}"
    );
    for l in keys.lines() {
        let f: Vec<&str> = l.split(' ').collect();
        assert_eq!(f.len(), 3, "{l}");
        assert!(
            f[1].len() == 64 && f[2].chars().all(|c| c.is_ascii_hexdigit()),
            "{l}"
        );
    }
}
