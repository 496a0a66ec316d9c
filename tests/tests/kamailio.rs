//! A real SIP proxy in the middle, call by call: harness -> Kamailio 5.6 (TLS, `deploy/kamailio/
//! kamailio.cfg`, started by `deploy/kamailio/start.sh` as a user would) -> embedded gw1/gw2
//! (TLS). The whole certification through it, and through copies of it that each carry one
//! misconfiguration, is `sbc_certify.rs`.
//!
//! When kamailio (with its TLS module) is missing, the tests fail with that message.

use std::sync::Arc;
use std::time::Duration;

use e2e::kamailio::{Kamailio, Options};
use harness::evidence::Call;
use harness::evidence::record::call_record;
use harness::originate::tls::TlsTrust;
use harness::originate::trunk::TRUNK_HOST;
use harness::originate::uac::{self, Target, UacConfig};
use harness::run::Embedded;
use mock_gateway::Observation;
use scenarios::OrgFinding;
use sip::transport::certs::{Authority, KeyKind, Validity};
use sip::transport::{self, TransportKind};

const SBC_HOST: &str = "sbc.e911-harness.invalid";

/// The embedded gateways, Kamailio in front of them, and a trunk that trusts Kamailio.
async fn topology() -> (Embedded, Kamailio, Target, UacConfig, tempfile::TempDir) {
    let embedded = Embedded::start(TransportKind::Tls)
        .await
        .expect("embedded gateways start");
    let sbc_ca = Authority::generate("e911-harness SBC test CA").expect("SBC CA");
    let dir = tempfile::tempdir().expect("temp dir");
    let leaf = sbc_ca
        .issue(
            &[SBC_HOST, "127.0.0.1"],
            KeyKind::Rsa2048,
            Validity::Current,
        )
        .expect("issue the SBC certificate");
    let d = dir.path();
    std::fs::write(d.join("sbc.pem"), &leaf.cert_pem).expect("sbc.pem");
    std::fs::write(d.join("sbc.key"), &leaf.key_pem).expect("sbc.key");
    std::fs::write(d.join("ca.pem"), &embedded.ca_pem).expect("ca.pem");
    let kamailio = Kamailio::start(&Options {
        trunk_transport: "tls",
        gateways: embedded.gateways.iter().map(|g| g.local_addr()).collect(),
        certs: d.to_owned(),
        server_cert: Some((d.join("sbc.pem"), d.join("sbc.key"))),
        gw_timeout_ms: 1000,
        misconfiguration: None,
        rtpengine: None,
    });
    let client: Arc<rustls::ClientConfig> =
        transport::client_config(sbc_ca.cert_pem().as_bytes()).expect("client config");
    let target = Target {
        name: "sbc".into(),
        host: SBC_HOST.into(),
        addr: kamailio.addr,
        transport: TransportKind::Tls,
    };
    let uac = UacConfig {
        tls: Some(client),
        tls_trust: Some(TlsTrust::ca(sbc_ca.cert_pem().as_bytes())),
        local_host: TRUNK_HOST.into(),
        connect_timeout: Duration::from_secs(3),
        epoch: embedded.epoch,
        recording: Default::default(),
        media: false,
    };
    (embedded, kamailio, target, uac, dir)
}

fn call(dial: &str) -> scenarios::CallSpec {
    let text = format!(
        "name = \"sbc\"\ndescription = \"through kamailio\"\nrequirements = [\"ICD 5.2\"]\n\
         [call]\ndial = \"{dial}\"\nani = \"+13125550142\"\nhold = \"20ms\"\ntimeout = \"5s\"\n\
         [expect]\nstatus = 200\n"
    );
    scenarios::load_str(&text, "sbc.toml")
        .expect("inline scenario loads")
        .call
}

/// The INVITEs each gateway saw for this call, by gateway name.
fn invites(embedded: &Embedded, outcome: &Call) -> Vec<Observation> {
    let call_id = outcome.attempts[0].call_id();
    embedded
        .gateways
        .iter()
        .flat_map(|g| g.take_observations())
        .filter(|o| o.method == "INVITE" && o.call_id.as_deref() == Some(call_id))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn org_header_and_ani_arrive_intact_through_kamailio() {
    let (embedded, kamailio, target, uac, _certs) = topology().await;
    for dial in ["911", "933"] {
        let outcome = uac::place_call(&call(dial), &target, &uac).await;
        let rec = &call_record(&outcome);
        assert_eq!(
            rec.final_status,
            Some(200),
            "{dial} through kamailio: {rec:#?}\n{}",
            kamailio.log()
        );
        assert_eq!(
            rec.attempts[0].error, None,
            "ACK/BYE through the proxy: {rec:#?}"
        );
        let seen = invites(&embedded, &outcome);
        assert_eq!(seen.len(), 1, "{seen:#?}");
        let o = &seen[0];
        assert_eq!(o.gateway, "gw1", "the first gateway of the list answers");
        let org = o.org.as_ref().expect("org checked");
        assert_eq!(org.finding, OrgFinding::Ok, "{org:?}");
        assert_eq!(org.values, vec![scenarios::DEFAULT_ORG_ID.to_owned()]);
        let ani = o.ani.as_ref().expect("ANI");
        assert_eq!(ani.number, "+13125550142");
        assert_eq!(ani.source, "P-Asserted-Identity");
        assert!(
            o.headers.iter().any(|(n, _)| n == "Record-Route"),
            "kamailio adds Record-Route: {:?}",
            o.headers
        );
        if dial == "933" {
            let rb = outcome
                .final_response()
                .and_then(|r| r.headers.get_str("E911-Readback"))
                .expect("933 read-back relayed by the proxy");
            assert!(rb.contains("+13125550142"), "{rb}");
        }
    }
    embedded.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_non_emergency_number_never_reaches_a_gateway() {
    let (embedded, _kamailio, target, uac, _certs) = topology().await;
    let outcome = uac::place_call(&call("3125550199"), &target, &uac).await;
    assert_eq!(
        call_record(&outcome).final_status,
        Some(404),
        "{:#?}",
        call_record(&outcome)
    );
    let reached: Vec<_> = embedded
        .gateways
        .iter()
        .flat_map(|g| g.take_observations())
        .collect();
    assert!(reached.is_empty(), "a gateway saw {reached:#?}");
    embedded.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kamailio_fails_over_to_gw2_when_gw1_is_down() {
    let (mut embedded, kamailio, target, uac, _certs) = topology().await;
    let gw1 = embedded.gateways.remove(0);
    gw1.shutdown().await;
    let outcome = uac::place_call(&call("911"), &target, &uac).await;
    assert_eq!(
        call_record(&outcome).final_status,
        Some(200),
        "{:#?}\n{}",
        call_record(&outcome),
        kamailio.log()
    );
    let seen = invites(&embedded, &outcome);
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].gateway, "gw2");
    assert_eq!(
        seen[0].org.as_ref().map(|o| o.finding),
        Some(OrgFinding::Ok)
    );
    embedded.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kamailio_fails_over_to_gw2_when_gw1_answers_503_and_keeps_the_org_header() {
    use mock_gateway::fault::{CallSelect, FaultKind, FaultPlan, FaultSpec};
    let (embedded, kamailio, target, uac, _certs) = topology().await;
    embedded.gateways[0]
        .set_faults(FaultPlan {
            rules: vec![FaultSpec {
                gateway: "gw1".into(),
                kind: FaultKind::Respond {
                    status: 503,
                    reason: None,
                    q850: Some(34),
                    retry_after: None,
                },
                select: CallSelect::All,
            }],
            ..FaultPlan::default()
        })
        .expect("fault plan");
    let outcome = uac::place_call(&call("911"), &target, &uac).await;
    assert_eq!(
        call_record(&outcome).final_status,
        Some(200),
        "{:#?}\n{}",
        call_record(&outcome),
        kamailio.log()
    );
    let seen = invites(&embedded, &outcome);
    let at: Vec<(&str, Option<u16>)> = seen
        .iter()
        .map(|o| (o.gateway.as_str(), o.response))
        .collect();
    assert_eq!(at, [("gw1", Some(503)), ("gw2", Some(200))], "{seen:#?}");
    for o in &seen {
        assert_eq!(
            o.org.as_ref().map(|g| g.finding),
            Some(OrgFinding::Ok),
            "the org header survives the SBC's retry: {o:?}"
        );
        assert_eq!(
            o.ani.as_ref().map(|a| a.number.as_str()),
            Some("+13125550142")
        );
    }
    // Setup through the SBC includes its failover; printed for the closing figures.
    eprintln!(
        "setup through kamailio with gw1 503: {} us",
        call_record(&outcome).setup_us.unwrap_or_default()
    );
    embedded.gateways[0].clear_faults();
    embedded.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn torture_through_kamailio_reports_every_case_and_kamailio_stays_up() {
    use clap::Parser as _;
    let (embedded, kamailio, target, _, _certs) = topology().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().join("torture");
    let addr = target.addr.to_string();
    let args = [
        "e911-harness",
        "torture",
        "--target",
        &addr,
        "--insecure",
        "--server-name",
        SBC_HOST,
        "--case-timeout",
        "700ms",
        "--time-limit",
        "4m",
        "--out",
        out.to_str().expect("utf-8"),
    ];
    let harness::cli::Command::Torture(a) = harness::cli::Cli::parse_from(args).command else {
        panic!("not a torture command");
    };
    let code = harness::torture::torture_cmd(a, tokio_util::sync::CancellationToken::new())
        .await
        .expect("torture runs");
    let report: reports::RunReport = serde_json::from_str(
        &std::fs::read_to_string(out.join("report.json")).expect("report.json written"),
    )
    .expect("report parses");
    let checks: Vec<(&str, &reports::CheckResult)> = report
        .scenarios
        .iter()
        .flat_map(|s| s.checks.iter().map(move |c| (s.name.as_str(), c)))
        .collect();
    assert!(checks.len() > 100, "{} checks", checks.len());
    // Kamailio's own answers are its business (printed for the reader); that it stayed up and
    // kept completing 911 calls after every batch is the test.
    for (batch, c) in &checks {
        if c.outcome != reports::Outcome::Pass {
            println!("{batch} / {}: {:?}: {}", c.id, c.observed, c.message);
        }
    }
    let down: Vec<String> = checks
        .iter()
        .filter(|(_, c)| c.id.starts_with("liveness.") && c.outcome != reports::Outcome::Pass)
        .map(|(b, c)| format!("{b}: {}: {:?}", c.id, c.observed))
        .collect();
    assert!(down.is_empty(), "{down:?}\n{}", kamailio.log());
    assert!(code == 0 || code == 1, "exit {code}");
    assert!(
        std::fs::read_to_string(out.join("junit.xml"))
            .expect("junit.xml")
            .contains("liveness.911-call")
    );
    embedded.shutdown().await;
}
