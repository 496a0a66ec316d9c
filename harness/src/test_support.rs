//! Builders the harness's unit tests share: a trunk INVITE, the calls an originator records,
//! gateway observations as a gateway records them, a scenario from its `[expect]` lines, and
//! finding one check by id. No sockets, no clocks.

use reports::observation::{AniObservation, MediaObservation, OrgObservation};
use reports::{CheckResult, Observation, TlsInfo};
use scenarios::OrgFinding;
use sip::transport::TransportKind;
use sip::{Message, Request, Response};

use crate::evidence::{
    Attempt, AttemptEnd, Call, Decision, Failure, Teardown, Timings, TlsFailure, TlsFailureKind,
};

/// The org the test trunk sends.
pub(crate) const ORG: &str = "4f3b1c2e-8d7a-4e59-9b0c-6a1d2e3f4a5b";
/// Another customer's org.
pub(crate) const OTHER_ORG: &str = "11111111-2222-4333-8444-555555555555";
/// The ANI the test trunk sends.
pub(crate) const ANI: &str = "+13125550100";

/// A minimal 911 INVITE as the trunk sends it (Call-ID `c1@trunk.invalid`).
pub(crate) const INVITE: &str = "INVITE sip:911@gw1.anywhere.e911cloud.com:5061;user=phone SIP/2.0\r\n\
Via: SIP/2.0/TLS 127.0.0.1:5061;branch=z9hG4bKtest1\r\n\
Max-Forwards: 70\r\n\
From: <sip:+13125550100@trunk.invalid>;tag=a1\r\n\
To: <sip:911@gw1.anywhere.e911cloud.com>\r\n\
Call-ID: c1@trunk.invalid\r\n\
CSeq: 1 INVITE\r\n\
Content-Length: 0\r\n\r\n";

/// An SDP answer that fits the interface (RTP/SAVP, SDES, G.711, port in range).
pub(crate) const GOOD_ANSWER: &str = "v=0\r\no=gw 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n\
m=audio 40000 RTP/SAVP 0 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\n\
a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz\r\n";

/// [`INVITE`], parsed.
pub(crate) fn invite() -> Request {
    match Message::parse(INVITE.as_bytes()) {
        Ok(Message::Request(r)) => r,
        other => panic!("test INVITE parses as a request: {other:?}"),
    }
}

/// An INVITE observation at gw1 with only the required fields; the optional ones stay empty.
pub(crate) fn observation() -> Observation {
    serde_json::from_value(serde_json::json!({
        "gateway": "gw1", "seq": 0, "at_ms": 0, "peer": "", "transport": "tls",
        "method": "INVITE", "request_uri": "", "headers": [], "retransmission": false
    }))
    .expect("an observation with only its required fields deserializes")
}

/// The check `id`, or a panic listing what was judged.
pub(crate) fn check<'a>(checks: &'a [CheckResult], id: &str) -> &'a CheckResult {
    checks
        .iter()
        .find(|c| c.id == id)
        .unwrap_or_else(|| panic!("no check {id} in {checks:#?}"))
}

/// Whether a check `id` was judged at all.
pub(crate) fn has(checks: &[CheckResult], id: &str) -> bool {
    checks.iter().any(|c| c.id == id)
}

/// A scenario with these top-level lines (before `[call]`), `[call]` lines and `[expect]`
/// lines.
pub(crate) fn scenario_with(top: &str, call: &str, expect: &str) -> scenarios::Scenario {
    let text = format!(
        "name = \"t\"\ndescription = \"unit\"\nrequirements = [\"ICD 5.1.9\"]\n{top}\n\
         [call]\n{call}\n[expect]\n{expect}\n"
    );
    scenarios::load_str(&text, "t.toml").unwrap_or_else(|e| panic!("{e}\n{text}"))
}

/// A 911 scenario from the test trunk (ANI [`ANI`], org [`ORG`]) with these `[expect]` lines.
pub(crate) fn scenario(expect: &str) -> scenarios::Scenario {
    let dial = if expect.contains("readback") {
        "933"
    } else {
        "911"
    };
    scenario_with("", &format!("dial = \"{dial}\"\nani = \"{ANI}\""), expect)
}

/// A response to [`INVITE`] with `extra` header lines and `body`.
pub(crate) fn response(status: u16, reason: &str, extra: &str, body: &str) -> Response {
    let text = format!(
        "SIP/2.0 {status} {reason}\r\n\
         Via: SIP/2.0/TLS 127.0.0.1:5061;branch=z9hG4bKtest1\r\n\
         From: <sip:+13125550100@trunk.invalid>;tag=a1\r\n\
         To: <sip:911@gw1.anywhere.e911cloud.com>;tag=b2\r\n\
         Call-ID: c1@trunk.invalid\r\nCSeq: 1 INVITE\r\n{extra}\
         Content-Length: {}\r\n\r\n{body}",
        body.len()
    );
    match Message::parse(text.as_bytes()).expect("test response parses") {
        Message::Response(r) => r,
        Message::Request(_) => unreachable!("a status line parses as a response"),
    }
}

/// The trunk's session: the Genesys profile with an RSA certificate.
pub(crate) fn genesys_tls() -> TlsInfo {
    TlsInfo {
        version: "TLSv1.2".into(),
        cipher: "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384".into(),
        group: Some("secp384r1".into()),
        sni: None,
        certificate: Some("RSA 2048".into()),
    }
}

/// One attempt at `gateway` that ended with `end` (a final response with `extra` headers and
/// a fitting SDP answer for a 2xx), its INVITE written at `invite_at_us`.
pub(crate) fn attempt_at(
    gateway: &str,
    end: AttemptEnd,
    invite_at_us: u64,
    extra: &str,
) -> Attempt {
    let final_response = end.status().map(|s| {
        let body = if (200..300).contains(&s) {
            GOOD_ANSWER
        } else {
            ""
        };
        response(s, if s == 200 { "OK" } else { "Rejected" }, extra, body)
    });
    let answered = end.is_answered();
    let decision = match &end {
        AttemptEnd::Answered { .. } => Decision::Answered,
        AttemptEnd::Rejected { .. } => Decision::Final,
        AttemptEnd::NoAnswer(_) => Decision::NoAnswer,
        AttemptEnd::NotAttempted(_) => Decision::Skipped,
    };
    let connected = !matches!(
        end,
        AttemptEnd::NoAnswer(
            Failure::Refused | Failure::ConnectTimeout | Failure::Tls(_) | Failure::Setup
        ) | AttemptEnd::NotAttempted(_)
    );
    Attempt {
        gateway: gateway.into(),
        target: format!("{gateway}.anywhere.e911cloud.com:5061"),
        transport: TransportKind::Tls,
        end,
        decision,
        invite: Some(invite()),
        final_response,
        provisionals: vec![100, 180],
        tls: connected.then(genesys_tls),
        timings: Timings {
            started_at_us: invite_at_us.saturating_sub(1_000),
            invite_at_us: connected.then_some(invite_at_us),
            ended_at_us: invite_at_us + 5_000,
            to_final_us: Some(2_000),
            ..Timings::default()
        },
        notes: Vec::new(),
        teardown: answered.then_some(Teardown::ByeAnswered),
        hung_up_by_peer: false,
        media: None,
    }
}

/// A call of these attempts (911 from [`ANI`]).
pub(crate) fn call_of(attempts: Vec<Attempt>) -> Call {
    Call {
        dial: "911".into(),
        ani: ANI.into(),
        first_choice: attempts
            .first()
            .map(|a| a.gateway.clone())
            .unwrap_or_default(),
        attempts,
    }
}

/// A call answered by gw1 with a fitting SDP answer and a clean teardown.
pub(crate) fn answered() -> Call {
    call_of(vec![attempt_at(
        "gw1",
        AttemptEnd::Answered { status: 200 },
        10_000,
        "",
    )])
}

/// A call rejected by gw1 with `status` and `extra` header lines.
pub(crate) fn rejected(status: u16, extra: &str) -> Call {
    call_of(vec![attempt_at(
        "gw1",
        AttemptEnd::Rejected { status, q850: None },
        10_000,
        extra,
    )])
}

/// A call with no final response, for `failure`.
pub(crate) fn unanswered(failure: Failure) -> Call {
    call_of(vec![attempt_at(
        "gw1",
        AttemptEnd::NoAnswer(failure),
        10_000,
        "",
    )])
}

/// A TLS failure of kind `kind`.
pub(crate) fn tls_failure(kind: TlsFailureKind) -> Failure {
    Failure::Tls(TlsFailure { kind })
}

/// The INVITE a gateway recorded for the test call: the trunk's headers (org [`ORG`], PAI and
/// From with [`ANI`]), the ANI from P-Asserted-Identity, an SRTP offer, answered `status`.
pub(crate) fn invite_obs(gateway: &str, at_us: u64, status: u16) -> Observation {
    let mut o = observation();
    o.gateway = gateway.into();
    o.at_us = at_us;
    o.seq = at_us;
    o.conn = 1;
    o.call_id = Some("c1@trunk.invalid".into());
    o.request_uri = "sip:911@gw1.anywhere.e911cloud.com;user=phone".into();
    o.dialed = Some("911".into());
    o.response = Some(status);
    o.tls = Some(genesys_tls());
    o.headers = vec![
        ("From".into(), format!("<sip:{ANI}@trunk.invalid>;tag=a1")),
        ("To".into(), "<sip:911@gw1.anywhere.e911cloud.com>".into()),
        ("Call-ID".into(), "c1@trunk.invalid".into()),
        (
            "P-Asserted-Identity".into(),
            format!("<sip:{ANI}@trunk.invalid;user=phone>"),
        ),
        ("E911-Organization-ID".into(), ORG.into()),
    ];
    o.org = Some(OrgObservation {
        finding: OrgFinding::Ok,
        values: vec![ORG.into()],
        detail: "one canonical UUID".into(),
    });
    o.ani = Some(AniObservation {
        number: ANI.into(),
        source: "P-Asserted-Identity".into(),
        ..AniObservation::default()
    });
    o.media = Some(MediaObservation {
        offered_proto: "RTP/SAVP".into(),
        srtp: true,
        offered_port: 40_000,
        codec: "PCMU".into(),
        crypto_suite: Some("AES_CM_128_HMAC_SHA1_80".into()),
        answer_port: 41_000,
        refused: None,
    });
    o.body = Some(
        "v=0\r\nm=audio 40000 RTP/SAVP 0\r\na=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:KEY\r\n"
            .into(),
    );
    o
}

/// `o` with header `name` replaced by `values` (none: removed).
pub(crate) fn with_header(mut o: Observation, name: &str, values: &[&str]) -> Observation {
    o.headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
    o.headers
        .extend(values.iter().map(|v| (name.to_owned(), (*v).to_owned())));
    o
}

/// A connection event at `gateway`: a fault on accept (`fault`) or a refused handshake.
pub(crate) fn connection_event(
    gateway: &str,
    at_us: u64,
    fault: Option<&str>,
    tls_error: Option<&str>,
) -> Observation {
    let mut o = observation();
    o.gateway = gateway.into();
    o.method.clear();
    o.at_us = at_us;
    o.seq = at_us;
    o.conn = 7;
    o.fault = fault.map(str::to_owned);
    o.tls_error = tls_error.map(str::to_owned);
    o
}
