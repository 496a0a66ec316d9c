//! A realistic sample report shared by this crate's unit tests: a passing 933 read-back, a
//! failover whose second INVITE lost the organization header, and a scenario the harness
//! could not run, with every outcome and table-hostile text (`|`, newlines, `<`) in it.

use crate::model::*;

fn check(
    id: &str,
    req: Option<&str>,
    outcome: Outcome,
    exp: Option<&str>,
    obs: Option<&str>,
    msg: &str,
) -> CheckResult {
    CheckResult {
        id: id.into(),
        requirement: req.map(Into::into),
        outcome,
        expected: exp.map(Into::into),
        observed: obs.map(Into::into),
        message: msg.into(),
    }
}

fn tls() -> TlsInfo {
    TlsInfo {
        version: "TLSv1.2".into(),
        cipher: "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384".into(),
        group: Some("secp384r1".into()),
        sni: Some("gw1.anywhere.e911cloud.com".into()),
        certificate: Some("RSA 2048".into()),
    }
}

/// A finished sample report (matrix and totals filled).
pub(crate) fn sample_report() -> RunReport {
    let readback = ScenarioReport {
        name: "933-readback".into(),
        description: "933 test call is answered and reads back ANI and address".into(),
        file: Some("scenarios/933-readback.toml".into()),
        requirements: vec!["ICD 5.2".into()],
        not_applicable: None,
        checks: vec![
            check(
                "call.answered",
                Some("ICD 5.2"),
                Outcome::Pass,
                Some("200"),
                Some("200"),
                "answered by gw1",
            ),
            check(
                "org-header.present-once",
                Some("ICD 5.1.9"),
                Outcome::Pass,
                Some("1"),
                Some("1"),
                "header present once",
            ),
            check(
                "tls.profile",
                Some("ICD 4"),
                Outcome::Skipped,
                None,
                None,
                "waived: lab SBC offers TLS 1.3 only",
            ),
        ],
        calls: vec![CallRecord {
            call_id: "a84b4c76e66710@harness".into(),
            dial: "933".into(),
            ani: "+13175550100".into(),
            attempts: vec![Attempt {
                gateway: "gw1".into(),
                target: "127.0.0.1:5061".into(),
                transport: "tls".into(),
                status: Some(200),
                reason: Some("OK".into()),
                tls: Some(tls()),
                invite_to_100_us: Some(410),
                invite_to_18x_us: Some(1_250),
                invite_to_final_us: Some(2_345),
                abandoned_at_us: None,
                ..Default::default()
            }],
            final_status: Some(200),
            final_reason: Some("OK".into()),
            answered_by: Some("gw1".into()),
            setup_us: Some(2_345),
            duration_ms: 15,
            ..Default::default()
        }],
        observations: vec![
            serde_json::from_value(serde_json::json!({
                "gateway": "gw1", "seq": 1, "at_ms": 3, "at_us": 3_100, "conn": 1,
                "peer": "127.0.0.1:40000", "transport": "TLS", "method": "INVITE",
                "request_uri": "sip:911@gw1.anywhere.e911cloud.com;user=phone",
                "headers": [["Call-ID", "a84b4c76e66710@harness"]],
                "ani": {"number": "+13175550100", "source": "P-Asserted-Identity"},
                "response": 200, "retransmission": false
            }))
            .expect("sample observation"),
        ],
        duration_ms: 21,
    };
    let failover = ScenarioReport {
        name: "failover-gw2-keeps-org-header".into(),
        description: "gw1 answers 503; the retry to gw2 must still carry the org header".into(),
        file: None,
        requirements: vec!["ICD 5.3".into()],
        not_applicable: None,
        checks: vec![
            check(
                "failover.reached-gw2",
                None,
                Outcome::Pass,
                Some("gw2"),
                Some("gw2"),
                "retried on gw2 after 503",
            ),
            check(
                "org-header.present-once",
                Some("ICD 5.1.9"),
                Outcome::Fail,
                Some("E911-Organization-ID: 1 | exactly once"),
                Some("absent on gw2\n(present on gw1)"),
                "header lost on the retry to <gw2>",
            ),
        ],
        calls: vec![CallRecord {
            call_id: "f81d4fae-7dec@harness".into(),
            dial: "911".into(),
            ani: "+13175550101".into(),
            attempts: vec![
                Attempt {
                    gateway: "gw1".into(),
                    target: "127.0.0.1:5061".into(),
                    transport: "tls".into(),
                    status: Some(503),
                    reason: Some("Service Unavailable".into()),
                    warning: Some("399 gw1 \"capacity\"".into()),
                    tls: Some(tls()),
                    invite_to_100_us: Some(380),
                    invite_to_final_us: Some(900),
                    abandoned_at_us: None,
                    ..Default::default()
                },
                Attempt {
                    gateway: "gw2".into(),
                    target: "127.0.0.1:5062".into(),
                    transport: "tls".into(),
                    status: Some(200),
                    reason: Some("OK".into()),
                    tls: Some(TlsInfo { sni: None, ..tls() }),
                    invite_to_final_us: Some(1_800),
                    abandoned_at_us: None,
                    ..Default::default()
                },
            ],
            final_status: Some(200),
            final_reason: Some("OK".into()),
            answered_by: Some("gw2".into()),
            setup_us: Some(3_100),
            duration_ms: 30,
            ..Default::default()
        }],
        observations: vec![],
        duration_ms: 40,
    };
    let not_run = ScenarioReport {
        name: "tcp-refused".into(),
        description: "gateway port closed".into(),
        requirements: vec![],
        not_applicable: None,
        checks: vec![check(
            "scenario.run",
            None,
            Outcome::Error,
            None,
            None,
            "scenario sends to gateway 'gw3' but this run has only gw1, gw2",
        )],
        calls: vec![CallRecord {
            call_id: "c0ffee@harness".into(),
            dial: "911".into(),
            ani: "+13175550102".into(),
            attempts: vec![Attempt {
                gateway: "gw3".into(),
                target: "127.0.0.1:9".into(),
                transport: "tcp".into(),
                error: Some("connection refused".into()),
                ..Default::default()
            }],
            error: Some("all gateways failed".into()),
            duration_ms: 1,
            ..Default::default()
        }],
        ..Default::default()
    };
    let mut report = RunReport {
        tool: "e911-harness 0.1.0".into(),
        command: "certify".into(),
        started_at: "2025-01-02T03:04:05Z".into(),
        duration_ms: 1_234,
        topology: "direct (embedded gw1, gw2 over TLS)".into(),
        scenarios: vec![readback, failover, not_run],
        not_covered: vec![crate::NotCovered {
            id: "ICD 5.1.1".into(),
            title: "External trunk type".into(),
            note: Some("confirm it in the trunk configuration".into()),
        }],
        ..Default::default()
    };
    report.finish(&|id| match id {
        "ICD 5.1.9" => Some("The organization header".into()),
        "ICD 5.3" => Some("Outbound route and failover".into()),
        _ => None,
    });
    report
}
