//! Dialogs (RFC 3261 §12): UAC and UAS dialogs from an INVITE and its 2xx, and the in-dialog
//! requests built from them (ACK for 2xx, BYE) with route set, remote target and CSeq.

use sip_proto::engine::{Dialog, EngineError};
use sip_proto::message::SipHeaders;
use sip_proto::{HeaderName, Message, Method, Request, Response, Uri};

fn invite() -> Request {
    let text = "INVITE sip:911@sbc.example;user=phone SIP/2.0\r\n\
         Via: SIP/2.0/TLS uac.example:5061;branch=z9hG4bKinv;rport\r\n\
         Max-Forwards: 70\r\n\
         Record-Route: <sip:p1.example;lr>, <sip:p2.example;lr>\r\n\
         From: \"Trunk\" <sip:+13125550100@trunk.example>;tag=uac1\r\n\
         To: <sip:911@sbc.example>\r\n\
         Call-ID: call-7@trunk.example\r\n\
         CSeq: 10 INVITE\r\n\
         Contact: <sip:+13125550100@uac.example:5061;transport=tls>\r\n\r\n";
    match Message::parse(text.as_bytes()) {
        Ok(Message::Request(r)) => r,
        other => panic!("bad test request: {other:?}"),
    }
}

/// The tests' random generator: seeded, so every run builds the same requests.
fn seeded() -> fastrand::Rng {
    fastrand::Rng::with_seed(0x911)
}

/// The 2xx as the UAC sees it: Record-Route as the proxies built it (p1 nearest the UAC).
fn ok(inv: &Request) -> Response {
    let mut r = Response::for_request(inv, 200, Some("gw9"));
    r.headers
        .push(HeaderName::Contact, "<sip:gw1.example:5061;transport=tls>");
    r
}

#[test]
fn uac_bye_uses_remote_target_reversed_route_set_and_next_cseq() {
    let rng = &mut seeded();
    let inv = invite();
    let resp = ok(&inv);
    let mut d = Dialog::uac(&inv, &resp).unwrap();
    assert_eq!(d.call_id(), "call-7@trunk.example");
    assert_eq!((d.local_tag(), d.remote_tag()), ("uac1", "gw9"));
    assert_eq!(
        d.route_set(),
        ["<sip:p2.example;lr>", "<sip:p1.example;lr>"]
    );
    let bye = d.request(Method::Bye, rng);
    assert_eq!(bye.method, Method::Bye);
    assert_eq!(
        bye.uri,
        Uri::parse("sip:gw1.example:5061;transport=tls").unwrap()
    );
    assert_eq!(
        bye.headers.get_all(&HeaderName::Route).collect::<Vec<_>>(),
        vec!["<sip:p2.example;lr>", "<sip:p1.example;lr>"]
    );
    let cseq = bye.cseq().unwrap();
    assert_eq!((cseq.seq, cseq.method), (11, Method::Bye));
    assert_eq!(bye.header_from().unwrap().tag(), Some("uac1"));
    assert_eq!(bye.header_to().unwrap().tag(), Some("gw9"));
    assert_eq!(bye.call_id(), Some("call-7@trunk.example"));
    let via = bye.top_via().unwrap();
    assert_eq!(via.transport, "TLS");
    assert_eq!(via.port, Some(5061));
    assert!(via.params.contains("rport"));
    assert_ne!(via.branch(), Some("z9hG4bKinv"));
    assert!(via.branch().unwrap().starts_with("z9hG4bK"));
    assert!(bye.headers.get(&HeaderName::Contact).is_none());
    // Built requests go on the wire.
    assert!(Message::parse(&bye.to_bytes()).is_ok());

    let info = d.request(Method::Info, rng);
    assert_eq!(info.cseq().unwrap().seq, 12);
    assert_ne!(info.top_via().unwrap().branch(), via.branch());
    assert_eq!(d.local_cseq(), 12);
    // A re-INVITE is a target refresh: it carries our Contact.
    let reinvite = d.request(Method::Invite, rng);
    assert_eq!(
        reinvite.headers.get(&HeaderName::Contact),
        Some("<sip:+13125550100@uac.example:5061;transport=tls>")
    );
}

#[test]
fn ack_for_2xx_has_the_invite_cseq_a_new_branch_and_the_dialog_route() {
    let rng = &mut seeded();
    let inv = invite();
    let d = Dialog::uac(&inv, &ok(&inv)).unwrap();
    let ack = d.ack(10, rng);
    let cseq = ack.cseq().unwrap();
    assert_eq!((cseq.seq, cseq.method), (10, Method::Ack));
    assert_ne!(ack.top_via().unwrap().branch(), Some("z9hG4bKinv"));
    assert_eq!(ack.uri, d.remote_target().clone());
    assert_eq!(ack.headers.count(&HeaderName::Route), 2);
    assert_eq!(d.local_cseq(), 10, "an ACK does not use a new CSeq");
}

#[test]
fn strict_router_first_puts_its_uri_in_the_request_uri() {
    let rng = &mut seeded();
    let inv = invite();
    let mut resp = ok(&inv);
    resp.headers.set(
        HeaderName::RecordRoute,
        "<sip:loose.example;lr>, <sip:strict.example>",
    );
    let mut d = Dialog::uac(&inv, &resp).unwrap();
    let bye = d.request(Method::Bye, rng);
    assert_eq!(bye.uri, Uri::parse("sip:strict.example").unwrap());
    assert_eq!(
        bye.headers.get_all(&HeaderName::Route).collect::<Vec<_>>(),
        vec![
            "<sip:loose.example;lr>",
            "<sip:gw1.example:5061;transport=tls>"
        ]
    );
}

#[test]
fn no_record_route_means_no_route_headers() {
    let rng = &mut seeded();
    let mut inv = invite();
    inv.headers.remove(&HeaderName::RecordRoute);
    let mut d = Dialog::uac(&inv, &ok(&inv)).unwrap();
    let bye = d.request(Method::Bye, rng);
    assert_eq!(bye.headers.count(&HeaderName::Route), 0);
    assert_eq!(bye.uri, d.remote_target().clone());
}

#[test]
fn uas_dialog_sends_bye_to_the_caller_contact_with_route_set_in_order() {
    let rng = &mut seeded();
    let inv = invite();
    let resp = ok(&inv);
    let mut d = Dialog::uas(&inv, &resp).unwrap();
    assert_eq!((d.local_tag(), d.remote_tag()), ("gw9", "uac1"));
    assert_eq!(d.remote_cseq(), Some(10));
    let bye = d.request(Method::Bye, rng);
    assert_eq!(
        bye.uri,
        Uri::parse("sip:+13125550100@uac.example:5061;transport=tls").unwrap()
    );
    assert_eq!(
        bye.headers.get_all(&HeaderName::Route).collect::<Vec<_>>(),
        vec!["<sip:p1.example;lr>", "<sip:p2.example;lr>"]
    );
    assert_eq!(bye.cseq().unwrap().seq, 1);
    assert_eq!(bye.header_from().unwrap().tag(), Some("gw9"));
    assert_eq!(bye.header_to().unwrap().tag(), Some("uac1"));
    let via = bye.top_via().unwrap();
    assert_eq!(via.transport, "TLS");
    assert_eq!(via.host.to_string(), "gw1.example");
    assert_eq!(via.port, Some(5061));
}

#[test]
fn remote_requests_are_matched_and_cseq_must_grow() {
    let rng = &mut seeded();
    let inv = invite();
    let resp = ok(&inv);
    let mut uas = Dialog::uas(&inv, &resp).unwrap();
    let mut uac = Dialog::uac(&inv, &resp).unwrap();
    let bye = uac.request(Method::Bye, rng);
    assert!(uas.on_remote_request(&bye));
    assert_eq!(uas.remote_cseq(), Some(11));
    assert!(
        !uas.on_remote_request(&bye),
        "a repeated CSeq is out of order"
    );
    assert!(
        uas.on_remote_request(&uac.ack(10, rng)),
        "ACK reuses the INVITE CSeq"
    );
    let mut foreign = uac.request(Method::Bye, rng);
    foreign.headers.set(HeaderName::CallId, "other@x");
    assert!(!uas.on_remote_request(&foreign));
}

#[test]
fn missing_contact_or_tag_is_an_error() {
    let inv = invite();
    let mut resp = ok(&inv);
    resp.headers.remove(&HeaderName::Contact);
    assert_eq!(
        Dialog::uac(&inv, &resp),
        Err(EngineError::MissingHeader("Contact"))
    );
    let untagged = Response::for_request(&inv, 200, None);
    assert_eq!(
        Dialog::uac(&inv, &untagged),
        Err(EngineError::MissingHeader("To tag"))
    );
}

#[test]
fn branches_come_from_the_callers_generator() {
    let inv = invite();
    let branches = |seed| {
        let mut d = Dialog::uac(&inv, &ok(&inv)).unwrap();
        let rng = &mut fastrand::Rng::with_seed(seed);
        [d.ack(10, rng), d.request(Method::Bye, rng)]
            .map(|r| r.top_via().unwrap().branch().unwrap().to_owned())
    };
    let first = branches(7);
    assert_eq!(first, branches(7), "the same seed gives the same requests");
    assert_ne!(first[0], first[1], "each request has its own branch");
    assert_ne!(first, branches(8));
}
