//! `certify --sut` through Kamailio, in-process as `e911-harness certify --sut` runs it: the
//! lab CA and certificates, the SBC (with one misconfiguration, or none), rtpengine when media
//! is relayed, and what the run produced. Shared by the SBC test binaries.

use std::path::Path;
use std::time::Duration;

use harness::cli::{CertifyArgs, Command, run_command};
use reports::{CheckResult, Outcome, RunReport};
use sip::transport::TransportKind;
use sip::transport::certs::Validity;

use crate::kamailio::{Kamailio, Misconfiguration, Options, deploy_dir};
use crate::peers::free_port;
use crate::rtpengine::Rtpengine;

/// One certification at a time.
pub static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

pub const SBC_NAME: &str = "sbc.e911-harness.invalid";

/// What a run produced.
#[derive(Debug)]
pub struct Run {
    /// The exit code.
    pub code: u8,
    /// report.json.
    pub report: RunReport,
    /// Kamailio's log (and rtpengine's).
    pub log: String,
}

impl Run {
    /// Every failing (or erroring) check, with its scenario.
    fn failing(&self) -> impl Iterator<Item = (&str, &CheckResult)> {
        self.report.scenarios.iter().flat_map(|s| {
            s.checks
                .iter()
                .filter(|c| matches!(c.outcome, Outcome::Fail | Outcome::Error))
                .map(move |c| (s.name.as_str(), c))
        })
    }

    /// (scenario, check id, requirement) of every failing check.
    pub fn failures(&self) -> Vec<(String, String, String)> {
        self.failing()
            .map(|(s, c)| {
                (
                    s.to_owned(),
                    c.id.clone(),
                    c.requirement.clone().unwrap_or_default(),
                )
            })
            .collect()
    }

    /// The failing checks and the end of the peers' logs, for assertion messages.
    pub fn explain(&self) -> String {
        let lines: Vec<String> = self
            .failing()
            .map(|(s, c)| format!("{} {s}: {}: {}", c.outcome, c.id, c.message))
            .collect();
        format!(
            "exit {}\n{}\n--- kamailio ---\n{}",
            self.code,
            lines.join("\n"),
            tail(&self.log)
        )
    }

    /// Asserts that the run of the SBC copy `name` exited 1 with each `expected` (check id,
    /// requirement) among its failing checks, every failure naming a requirement, and prints
    /// the row `| name | exit | failing checks |` of the closing note's table.
    pub fn assert_fails_with(&self, name: &str, expected: &[(&str, &str)]) {
        assert_eq!(self.code, 1, "{name}: {}", self.explain());
        let failures = self.failures();
        for (id, requirement) in expected {
            assert!(
                failures.iter().any(|(_, i, r)| i == id && r == requirement),
                "{name}: no failing {id} [{requirement}]:\n{}",
                self.explain()
            );
        }
        assert!(
            failures.iter().all(|(_, _, r)| !r.is_empty()),
            "every failure names its requirement"
        );
        let mut seen: Vec<String> = failures
            .iter()
            .map(|(_, i, r)| format!("{i} [{r}]"))
            .collect();
        seen.sort();
        seen.dedup();
        eprintln!("| {name} | {} | {} |", self.code, seen.join(", "));
    }
}

fn tail(log: &str) -> String {
    let lines: Vec<&str> = log.lines().collect();
    lines[lines.len().saturating_sub(40)..].join("\n")
}

/// Certifies Kamailio (`misconfiguration` applied) with the trunk leg over `trunk_transport`
/// and these scenario files (empty: the shipped library, in its own order), the SBC
/// presenting to the trunk a certificate from the lab CA for these names with this validity (`None`: a current one for its name and address), and
/// the media anchored on an rtpengine started for the run when `media_relay` is set.
pub async fn certify_with(
    trunk_transport: TransportKind,
    misconfiguration: Option<Misconfiguration>,
    scenarios: Vec<std::path::PathBuf>,
    sbc_cert: Option<(&[&str], Validity)>,
    media_relay: bool,
) -> Run {
    let rtpengine = media_relay.then(|| Rtpengine::start((30000, 60000)));
    let waived = scenarios.is_empty()
        || scenarios
            .iter()
            .any(|p| p.ends_with("failover-tls-wrong-name.toml"));
    let certs = tempfile::tempdir().expect("temp dir");
    let d = certs.path();
    harness::run::write_gateway_certs(d).expect("lab CA and gateway certificates");
    let (names, validity) = sbc_cert.unwrap_or((&[SBC_NAME, "127.0.0.1"], Validity::Current));
    harness::run::embedded::issue_sbc_cert_with(d, names, validity).expect("SBC certificate");
    let gateways = [
        ([127, 0, 0, 1], free_port()).into(),
        ([127, 0, 0, 1], free_port()).into(),
    ];
    let tls_in = trunk_transport == TransportKind::Tls;
    let kamailio = Kamailio::start(&Options {
        trunk_transport: if tls_in { "tls" } else { "tcp" },
        gateways: gateways.to_vec(),
        certs: d.to_owned(),
        server_cert: Some((d.join("sbc.pem"), d.join("sbc.key"))),
        gw_timeout_ms: 1000,
        misconfiguration,
        rtpengine: rtpengine.as_ref().map(|r| r.ng),
    });
    let out = tempfile::tempdir().expect("out dir");
    let args = CertifyArgs {
        out: out.path().to_owned(),
        scenarios,
        transport: trunk_transport,
        // The waiver names failover-tls-wrong-name: a run without it would find it stale.
        waivers: waived.then(|| deploy_dir().join("waivers.toml")),
        sut: Some(kamailio.addr.to_string()),
        plan: Default::default(),
        sut_name: Some(SBC_NAME.into()),
        sut_ca: tls_in.then(|| d.join("ca.pem")),
        insecure: false,
        allow_remote: false,
        gateway_transport: TransportKind::Tls,
        sut_attempt_timeout: Duration::from_secs(1),
        gateway_listen: gateways.to_vec(),
        certs_dir: d.to_owned(),
        evidence: Default::default(),
        no_media: false,
    };
    let code = run_command(Command::Certify(args))
        .await
        .expect("certify runs");
    let report = read_report(out.path());
    let mut log = kamailio.log();
    if let Some(r) = &rtpengine {
        log.push_str("\n--- rtpengine ---\n");
        log.push_str(&r.log());
    }
    Run { code, report, log }
}

/// The report.json a run wrote into `dir`.
pub fn read_report(dir: &Path) -> RunReport {
    let text = std::fs::read_to_string(dir.join("report.json")).expect("report.json written");
    reports::from_json_str(&text).expect("report.json parses")
}
