//! The messages the `parse` bench and the `parse_count` example measure: a realistic 911
//! INVITE with SDP (~1 KiB) and its 200 OK.

use bytes::Bytes;
use sip_proto::message::{HeaderName, Method, Request, Response};
use sip_proto::uri::Uri;

const SDP: &str = "v=0\r\n\
o=trunk 2890844526 2890844526 IN IP4 198.51.100.10\r\n\
s=911 call\r\n\
c=IN IP4 198.51.100.10\r\n\
t=0 0\r\n\
m=audio 49170 RTP/SAVP 0 8 101\r\n\
a=rtpmap:0 PCMU/8000\r\n\
a=rtpmap:8 PCMA/8000\r\n\
a=rtpmap:101 telephone-event/8000\r\n\
a=fmtp:101 0-16\r\n\
a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|2^20|1:32\r\n\
a=ptime:20\r\n\
a=sendrecv\r\n";

pub fn invite() -> Request {
    let mut r = Request::new(
        Method::Invite,
        Uri::parse("sip:911@gw1.anywhere.e911cloud.com:5061;transport=tls;user=phone").unwrap(),
    );
    let h = &mut r.headers;
    h.push(
        HeaderName::Via,
        "SIP/2.0/TLS 198.51.100.10:5061;branch=z9hG4bK5f3a8c1e9b7d2046;rport",
    );
    h.push(HeaderName::MaxForwards, "70");
    h.push(
        HeaderName::From,
        "\"ACME Contact Center\" <sip:+13125550100@trunk.acme.example;user=phone>;tag=9f2c41d07a3b",
    );
    h.push(
        HeaderName::To,
        "<sip:911@gw1.anywhere.e911cloud.com;user=phone>",
    );
    h.push(
        HeaderName::CallId,
        "3c26d8f0a9b14e7f8d2c5a6b1e0f9d84@trunk.acme.example",
    );
    h.push(HeaderName::CSeq, "1 INVITE");
    h.push(
        HeaderName::Contact,
        "<sip:+13125550100@198.51.100.10:5061;transport=tls>",
    );
    h.push(
        HeaderName::PAssertedIdentity,
        "\"Agent 4012\" <sip:+13125550100@trunk.acme.example;user=phone>",
    );
    h.push(
        "E911-Organization-ID",
        "4f3b1c2e-8d7a-4e59-9b0c-6a1d2e3f4a5b",
    );
    h.push(
        HeaderName::Allow,
        "INVITE, ACK, CANCEL, BYE, OPTIONS, UPDATE, PRACK, INFO, NOTIFY, REFER",
    );
    h.push(HeaderName::Supported, "timer, 100rel, replaces");
    h.push(HeaderName::UserAgent, "e911-harness/0.1.0");
    h.push(HeaderName::ContentType, "application/sdp");
    r.body = Bytes::from_static(SDP.as_bytes());
    r
}

pub fn ok_200(req: &Request) -> Response {
    let mut resp = Response::for_request(req, 200, Some("a83f0c1d"));
    resp.headers.push(
        HeaderName::Contact,
        "<sip:911@203.0.113.20:5061;transport=tls>",
    );
    resp.headers
        .push(HeaderName::ContentType, "application/sdp");
    resp.body = Bytes::from_static(SDP.as_bytes());
    resp
}
