//! Transaction keys: RFC 3261 §17.2.3 server transaction matching.

use super::EngineError;
use crate::message::{SipHeaders, Via};
use crate::{HeaderName, Method, Request};

/// Identifies one transaction.
///
/// With an RFC 3261 branch (`z9hG4bK...`) the key is the top Via's branch and sent-by plus the
/// method, where an ACK maps to INVITE (it belongs to the INVITE transaction of a non-2xx final)
/// and a CANCEL keeps its own method (it is its own transaction, §9.2).
///
/// Without the cookie (an RFC 2543 peer) `branch` holds a synthetic value built from the
/// Request-URI, From tag, Call-ID, CSeq number and the whole top Via, which is what §17.2.3
/// compares for such requests; an INVITE, its retransmissions, its ACK and its CANCEL all give
/// the same synthetic branch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TxKey {
    /// The top Via branch (or the RFC 2543 synthetic value, starting with `rfc2543|`).
    pub branch: String,
    /// The transaction's method: INVITE for INVITE and its ACK, otherwise the request method.
    pub method: Method,
    /// The top Via sent-by (`host` or `host:port`, as written).
    pub sent_by: String,
}

/// Hashes the branch alone: it is unique per transaction in practice (random, or the RFC 2543
/// synthetic value, which holds the whole top Via), so hashing the sent-by too only costs time;
/// equal keys still hash equal, and the method and sent-by are compared on a match.
impl std::hash::Hash for TxKey {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.branch.hash(state);
    }
}

impl TxKey {
    /// The key of the server transaction `req` belongs to.
    pub fn for_request(req: &Request) -> Result<TxKey, EngineError> {
        let method = match req.method {
            Method::Ack => Method::Invite,
            ref m => m.clone(),
        };
        // The common case (a plain sent-by and an RFC 3261 branch) is read from the text;
        // anything else takes the typed Via below, which gives the same key.
        let top = req.headers.values(&HeaderName::Via).next();
        if let Some((sent_by, branch)) = top.and_then(plain_via)
            && is_rfc3261_branch(branch)
        {
            return Ok(TxKey {
                branch: branch.to_owned(),
                method,
                sent_by: sent_by.to_owned(),
            });
        }
        let via = req.top_via().ok_or(EngineError::MissingHeader("Via"))?;
        let sent_by = sent_by(&via);
        let branch = match via.branch() {
            Some(b) if is_rfc3261_branch(b) => b.to_owned(),
            _ => rfc2543_branch(req, &via)?,
        };
        Ok(TxKey {
            branch,
            method,
            sent_by,
        })
    }

    /// Whether the branch carries the RFC 3261 magic cookie.
    pub fn is_rfc3261(&self) -> bool {
        is_rfc3261_branch(&self.branch)
    }
}

/// The RFC 3261 magic cookie (§8.1.1.7).
const BRANCH_COOKIE: &str = "z9hG4bK";

/// Whether a branch starts with the RFC 3261 magic cookie `z9hG4bK` (case-sensitive, §8.1.1.7).
pub(crate) fn is_rfc3261_branch(b: &str) -> bool {
    b.len() > BRANCH_COOKIE.len() && b.starts_with(BRANCH_COOKIE)
}

/// The sent-by and branch of a valid via-parm written plainly: `SIP/2.0/T host[:port];...`
/// with one space, no other whitespace or quoting, a host [`Via::parse`] keeps as written
/// (a name, or an IPv4 address in canonical form) and a port without leading zeros, so the
/// sent-by text is what [`sent_by`] would format. `None` sends the caller to the typed Via.
fn plain_via(v: &str) -> Option<(&str, &str)> {
    let rest = v.strip_prefix("SIP/2.0/")?;
    let (transport, rest) = rest.split_once(' ')?;
    if transport.is_empty() || !transport.bytes().all(crate::uri::is_token_char) {
        return None;
    }
    if rest
        .bytes()
        .any(|b| b.is_ascii_whitespace() || matches!(b, b'"' | b'[' | b',' | b'\\'))
    {
        return None;
    }
    let (sent_by, params) = rest.split_at(rest.find(';').unwrap_or(rest.len()));
    let (host, port) = match sent_by.split_once(':') {
        Some((h, p)) => (h, Some(p)),
        None => (sent_by, None),
    };
    if host.is_empty()
        || !host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-')
    {
        return None;
    }
    if host.bytes().all(|b| b.is_ascii_digit() || b == b'.')
        && host.parse::<std::net::Ipv4Addr>().is_err()
    {
        return None;
    }
    if let Some(p) = port
        && (p.is_empty() || (p.len() > 1 && p.starts_with('0')) || p.parse::<u16>().is_err())
    {
        return None;
    }
    // Validity is the typed parser's call, so the fast path never accepts what it refuses
    // (the quick acceptor takes only values it accepts).
    if !crate::message::fast::via(v) {
        Via::validate(v).ok()?;
    }
    let branch = params
        .split(';')
        .skip(1)
        .map(|p| p.split_once('=').unwrap_or((p, "")))
        .find(|(n, _)| n.eq_ignore_ascii_case("branch"))
        .map(|(_, value)| value)?;
    Some((sent_by, branch))
}

fn sent_by(via: &Via) -> String {
    match via.port {
        Some(p) => format!("{}:{p}", via.host),
        None => via.host.to_string(),
    }
}

fn rfc2543_branch(req: &Request, via: &Via) -> Result<String, EngineError> {
    let call_id = req.call_id().ok_or(EngineError::MissingHeader("Call-ID"))?;
    let cseq = req.cseq().ok_or(EngineError::MissingHeader("CSeq"))?;
    let from_tag = req
        .header_from()
        .and_then(|f| f.tag().map(str::to_owned))
        .unwrap_or_default();
    Ok(format!(
        "rfc2543|{}|{from_tag}|{call_id}|{}|{via}",
        req.uri, cseq.seq
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Message;

    fn req(text: &str) -> Request {
        match Message::parse(text.as_bytes()) {
            Ok(Message::Request(r)) => r,
            other => panic!("not a request: {other:?}"),
        }
    }

    #[test]
    fn ack_maps_to_invite_and_cancel_keeps_its_method() {
        let base = "sip:911@gw SIP/2.0\r\nVia: SIP/2.0/UDP h:5060;branch=z9hG4bKabc\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:911@gw>\r\nCall-ID: c1\r\n";
        let inv = req(&format!("INVITE {base}CSeq: 1 INVITE\r\n\r\n"));
        let ack = req(&format!("ACK {base}CSeq: 1 ACK\r\n\r\n"));
        let can = req(&format!("CANCEL {base}CSeq: 1 CANCEL\r\n\r\n"));
        let ki = TxKey::for_request(&inv).unwrap();
        assert_eq!(ki, TxKey::for_request(&ack).unwrap());
        let kc = TxKey::for_request(&can).unwrap();
        assert_eq!(kc.method, Method::Cancel);
        assert_eq!(kc.branch, ki.branch);
        assert_eq!(ki.sent_by, "h:5060");
        assert!(ki.is_rfc3261());
    }

    #[test]
    fn rfc2543_requests_get_a_synthetic_branch() {
        let base = "sip:911@gw SIP/2.0\r\nVia: SIP/2.0/UDP old.host\r\nFrom: <sip:a@b>;tag=9\r\nCall-ID: c2\r\n";
        let inv = req(&format!(
            "INVITE {base}To: <sip:911@gw>\r\nCSeq: 7 INVITE\r\n\r\n"
        ));
        let ack = req(&format!(
            "ACK {base}To: <sip:911@gw>;tag=x\r\nCSeq: 7 ACK\r\n\r\n"
        ));
        let other = req(&format!(
            "INVITE {base}To: <sip:911@gw>\r\nCSeq: 8 INVITE\r\n\r\n"
        ));
        let k = TxKey::for_request(&inv).unwrap();
        assert!(!k.is_rfc3261());
        assert!(k.branch.starts_with("rfc2543|"));
        assert_eq!(k, TxKey::for_request(&ack).unwrap());
        assert_ne!(k, TxKey::for_request(&other).unwrap());
        // A branch without the cookie is RFC 2543 too.
        let b = req(
            "OPTIONS sip:gw SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=1234\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:gw>\r\nCall-ID: c\r\nCSeq: 1 OPTIONS\r\n\r\n",
        );
        assert!(!TxKey::for_request(&b).unwrap().is_rfc3261());
    }

    #[test]
    fn plain_via_reads_what_the_typed_via_gives() {
        for v in [
            "SIP/2.0/TCP 127.0.0.1:5060;branch=z9hG4bKabc",
            "SIP/2.0/TLS gw1.example.com;rport;branch=z9hG4bK1;received=10.0.0.1",
            "SIP/2.0/UDP h-1:5060;BRANCH=z9hG4bKx;branch=z9hG4bKy",
            "SIP/2.0/TCP 10.1.2.3:1;branch=z9hG4bK7",
        ] {
            let via = Via::parse(v).unwrap();
            let (sent, branch) = plain_via(v).unwrap();
            assert_eq!(sent, sent_by(&via), "{v}");
            assert_eq!(Some(branch), via.branch(), "{v}");
        }
        for v in [
            "SIP/2.0/TCP [::1]:5060;branch=z9hG4bKa",
            "SIP/2.0/TCP h : 5060;branch=z9hG4bKa",
            "SIP/2.0/TCP h:05060;branch=z9hG4bKa",
            "SIP/2.0/TCP h:70000;branch=z9hG4bKa",
            "sip/2.0/TCP h;branch=z9hG4bKa",
            "SIP/2.0/TCP 1.2.3.04;branch=z9hG4bKa",
        ] {
            assert!(plain_via(v).is_none(), "{v}");
        }
    }

    #[test]
    fn request_without_via_is_an_error_not_a_panic() {
        let mut r = Request::new(Method::Options, crate::Uri::parse("sip:gw").unwrap());
        assert_eq!(
            TxKey::for_request(&r),
            Err(EngineError::MissingHeader("Via"))
        );
        r.headers.push("Via", "SIP/2.0/TCP h");
        assert_eq!(
            TxKey::for_request(&r),
            Err(EngineError::MissingHeader("Call-ID"))
        );
    }
}
