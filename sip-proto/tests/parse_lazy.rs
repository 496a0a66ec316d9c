//! The parser keeps headers as spans of the received text and builds typed values only when
//! asked: these tests pin that the lazy accessors give what the owned parsers give, and that
//! bad values are still rejected at parse time with their line, column and what was expected.

use sip_proto::message::{HeaderName, Message, NameAddr, ParseErrorKind, SipHeaders, Via};

const INVITE: &str = "INVITE sip:911@gw1.example.com;user=phone SIP/2.0\r\n\
Via: SIP/2.0/TLS 198.51.100.10:5061;branch=z9hG4bK5f3a;rport\r\n\
Max-Forwards: 70\r\n\
From: \"ACME \\\"CC\\\"\" <sip:+13125550100@trunk.acme.example;user=phone>;tag=9f2c\r\n\
To: <sip:911@gw1.example.com;user=phone>\r\n\
Call-ID: 3c26d8f0@trunk.acme.example\r\n\
CSeq: 1 INVITE\r\n\
Contact: <sip:+13125550100@198.51.100.10:5061;transport=tls>\r\n\
P-Asserted-Identity: \"Agent 4012\" <sip:+13125550100@trunk.acme.example>,\r\n <tel:+13125550100>\r\n\
E911-Organization-ID: 4f3b1c2e\r\n\
Content-Length: 0\r\n\r\n";

fn with(header: &str, replacement: &str) -> String {
    let start = INVITE.find(header).unwrap();
    let end = start + INVITE[start..].find("\r\n").unwrap();
    format!("{}{replacement}{}", &INVITE[..start], &INVITE[end..])
}

#[test]
fn lazy_accessors_return_what_the_owned_parsers_return() {
    let m = Message::parse(INVITE.as_bytes()).unwrap();
    let h = m.headers();
    let from = h.get(&HeaderName::From).unwrap();
    assert_eq!(m.header_from(), Some(NameAddr::parse(from).unwrap()));
    assert_eq!(
        m.header_from().unwrap().display.as_deref(),
        Some("ACME \"CC\"")
    );
    assert_eq!(m.header_from().unwrap().tag(), Some("9f2c"));
    assert_eq!(
        m.header_to(),
        Some(NameAddr::parse("<sip:911@gw1.example.com;user=phone>").unwrap())
    );
    let via = m.top_via().unwrap();
    assert_eq!(via, Via::parse(h.get(&HeaderName::Via).unwrap()).unwrap());
    assert_eq!(via.branch(), Some("z9hG4bK5f3a"));
    assert_eq!(m.cseq().map(|c| c.seq), Some(1));
    assert_eq!(m.call_id(), Some("3c26d8f0@trunk.acme.example"));
    let pai: Vec<_> = h
        .values(&HeaderName::PAssertedIdentity)
        .map(|v| NameAddr::parse(v).unwrap().uri.user().map(str::to_owned))
        .collect();
    assert_eq!(
        pai,
        [Some("+13125550100".into()), Some("+13125550100".into())]
    );
    assert_eq!(h.get_str("e911-organization-id"), Some("4f3b1c2e"));
    // The owned headers built on demand agree with the spans.
    let lines: Vec<_> = h
        .iter()
        .map(|x| (x.name.as_str().to_owned(), x.line))
        .collect();
    assert_eq!(lines[0], ("Via".into(), 2));
    assert_eq!(lines[8], ("E911-Organization-ID".into(), 11));
    // Printing a parsed message gives it back (Content-Length recomputed, folding undone).
    let again = Message::parse(&m.as_request().unwrap().to_bytes()).unwrap();
    assert_eq!(again.headers().get(&HeaderName::From), Some(from));
}

#[test]
fn an_invalid_from_is_rejected_at_parse_time_with_its_position() {
    let bad = with(
        "From:",
        "From: \"ACME\" <sip:+1312@trunk.acme.example;tag=1",
    );
    let e = Message::parse(bad.as_bytes()).unwrap_err();
    assert_eq!(e.kind, ParseErrorKind::Syntax);
    assert_eq!((e.line, e.header.as_deref()), (4, Some("From")));
    assert!(e.message.contains("expected '>'"), "{e}");
    assert_eq!(e.column, 7 + "\"ACME\" <".len() as u32, "{e}");
    // The request can still be answered.
    assert!(
        e.salvage
            .unwrap()
            .headers
            .get(&HeaderName::CallId)
            .is_some()
    );
}

#[test]
fn bad_uris_in_contact_pai_and_via_are_rejected_with_their_position() {
    for (header, value, line, expected) in [
        (
            "Contact:",
            "Contact: <sip:a@ho st>",
            8,
            "invalid character in host name",
        ),
        (
            "P-Asserted-Identity:",
            "P-Asserted-Identity: <sip:a@b>, <sip:%zz@b>",
            9,
            "invalid %-escape",
        ),
        (
            "Via:",
            "Via: SIP/2.0/TLS 198.51.100.10:99999",
            2,
            "port number out of range",
        ),
        ("To:", "To: <sip:911@gw1.example.com>;tag", 5, ""),
    ] {
        let e = Message::parse(with(header, value).as_bytes());
        if expected.is_empty() {
            assert!(e.is_ok(), "{value}: a flag parameter is fine");
            continue;
        }
        let e = e.unwrap_err();
        assert_eq!(e.line, line, "{value}: {e}");
        assert!(e.column > 1, "{value}: {e}");
        assert!(e.message.contains(expected), "{value}: {e}");
    }
}
