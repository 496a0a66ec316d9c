//! Builders the harness's unit tests share: a trunk INVITE, a gateway observation with only
//! its required fields, and finding one check by id.

use mock_gateway::Observation;
use reports::CheckResult;
use sip::{Message, Request};

/// A minimal 911 INVITE as the trunk sends it (Call-ID `c1@trunk.invalid`).
pub(crate) const INVITE: &str = "INVITE sip:911@gw1.anywhere.e911cloud.com:5061;user=phone SIP/2.0\r\n\
Via: SIP/2.0/TLS 127.0.0.1:5061;branch=z9hG4bKtest1\r\n\
Max-Forwards: 70\r\n\
From: <sip:+13125550100@trunk.invalid>;tag=a1\r\n\
To: <sip:911@gw1.anywhere.e911cloud.com>\r\n\
Call-ID: c1@trunk.invalid\r\n\
CSeq: 1 INVITE\r\n\
Content-Length: 0\r\n\r\n";

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
