//! Requests a UAC derives from its INVITE inside the INVITE transaction: the ACK for a non-2xx
//! final (§17.1.1.3) and the CANCEL (§9.1). Both reuse the INVITE's top Via (same branch), so they
//! match the server's INVITE transaction.

use crate::message::SipHeaders;
use crate::{HeaderName, Method, Request, Response};

/// The ACK for a non-2xx final response (RFC 3261 §17.1.1.3): same Request-URI, Call-ID, From
/// and top Via (same branch) as the INVITE, the To of the response (with its tag), the INVITE's
/// CSeq number with method ACK, and the INVITE's Route headers. No body.
pub fn ack_for_non_2xx(invite: &Request, resp: &Response) -> Request {
    let mut ack = Request::new(Method::Ack, invite.uri.clone());
    copy_top_via(invite, &mut ack);
    ack.headers.push(HeaderName::MaxForwards, "70");
    copy(invite, &mut ack, &HeaderName::From);
    match resp.headers.get(&HeaderName::To) {
        Some(to) => ack.headers.push(HeaderName::To, to),
        None => copy(invite, &mut ack, &HeaderName::To),
    }
    copy(invite, &mut ack, &HeaderName::CallId);
    push_cseq(invite, &mut ack, Method::Ack);
    for r in invite.headers.get_all(&HeaderName::Route) {
        ack.headers.push(HeaderName::Route, r);
    }
    ack
}

/// The CANCEL for an INVITE (RFC 3261 §9.1): same Request-URI, Call-ID, From, To, top Via (same
/// branch) and CSeq number as the INVITE, method CANCEL, the INVITE's Route headers. No body.
pub fn cancel_for(invite: &Request) -> Request {
    let mut cancel = Request::new(Method::Cancel, invite.uri.clone());
    copy_top_via(invite, &mut cancel);
    cancel.headers.push(HeaderName::MaxForwards, "70");
    copy(invite, &mut cancel, &HeaderName::From);
    copy(invite, &mut cancel, &HeaderName::To);
    copy(invite, &mut cancel, &HeaderName::CallId);
    push_cseq(invite, &mut cancel, Method::Cancel);
    for r in invite.headers.get_all(&HeaderName::Route) {
        cancel.headers.push(HeaderName::Route, r);
    }
    cancel
}

fn copy_top_via(from: &Request, to: &mut Request) {
    if let Some(v) = from.headers.values(&HeaderName::Via).next() {
        to.headers.push(HeaderName::Via, v);
    }
}

fn copy(from: &Request, to: &mut Request, name: &HeaderName) {
    if let Some(v) = from.headers.get(name) {
        to.headers.push(name.clone(), v);
    }
}

fn push_cseq(invite: &Request, to: &mut Request, method: Method) {
    // An INVITE without a parseable CSeq gets 1: the result is still a well-formed request and
    // the peer's answer (481 or 400) shows the problem.
    let seq = invite.cseq().map_or(1, |c| c.seq);
    to.headers.push(HeaderName::CSeq, format!("{seq} {method}"));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Message;

    fn invite() -> Request {
        let text = "INVITE sip:911@gw;user=phone SIP/2.0\r\nVia: SIP/2.0/TLS uac:5061;branch=z9hG4bKinv, SIP/2.0/TLS p\r\nRoute: <sip:sbc1;lr>\r\nRoute: <sip:sbc2;lr>\r\nMax-Forwards: 70\r\nFrom: <sip:+13125550100@trunk>;tag=ft\r\nTo: <sip:911@gw>\r\nCall-ID: cid\r\nCSeq: 42 INVITE\r\nContent-Type: application/sdp\r\nContent-Length: 4\r\n\r\nv=0\n";
        match Message::parse(text.as_bytes()) {
            Ok(Message::Request(r)) => r,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn ack_follows_17_1_1_3() {
        let inv = invite();
        let resp = Response::for_request(&inv, 486, Some("gwtag"));
        let ack = ack_for_non_2xx(&inv, &resp);
        assert_eq!(ack.method, Method::Ack);
        assert_eq!(ack.uri, inv.uri);
        assert_eq!(ack.headers.values(&HeaderName::Via).count(), 1);
        assert_eq!(ack.top_via().unwrap().branch(), Some("z9hG4bKinv"));
        assert_eq!(ack.header_to().unwrap().tag(), Some("gwtag"));
        assert_eq!(ack.header_from(), inv.header_from());
        assert_eq!(ack.call_id(), Some("cid"));
        let cseq = ack.cseq().unwrap();
        assert_eq!((cseq.seq, cseq.method), (42, Method::Ack));
        assert_eq!(
            ack.headers.get_all(&HeaderName::Route).collect::<Vec<_>>(),
            vec!["<sip:sbc1;lr>", "<sip:sbc2;lr>"]
        );
        assert!(ack.body.is_empty());
        assert!(ack.headers.get(&HeaderName::ContentType).is_none());
        // It goes on the wire and parses back.
        assert!(Message::parse(&ack.to_bytes()).is_ok());
    }

    #[test]
    fn cancel_follows_9_1() {
        let inv = invite();
        let c = cancel_for(&inv);
        assert_eq!(c.method, Method::Cancel);
        assert_eq!(c.uri, inv.uri);
        assert_eq!(c.top_via().unwrap().branch(), Some("z9hG4bKinv"));
        assert_eq!(c.header_to().unwrap().tag(), None);
        let cseq = c.cseq().unwrap();
        assert_eq!((cseq.seq, cseq.method), (42, Method::Cancel));
        assert_eq!(c.headers.count(&HeaderName::Route), 2);
        assert!(Message::parse(&c.to_bytes()).is_ok());
    }
}
