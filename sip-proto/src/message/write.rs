//! Serialization and the small builders every request needs: fresh branches, tags and Call-IDs
//! (from the caller's random generator), and default reason phrases.
//!
//! Encoding writes headers in order with their canonical names and always ends with a
//! `Content-Length` computed from the body (any stored Content-Length is ignored), so a built
//! message can never frame wrongly on a stream.

use std::fmt::Write as _;

use bytes::{BufMut, Bytes, BytesMut};

use super::header::{Headers, Known};
use super::{Message, Request, Response};

/// The RFC 3261 magic cookie every branch starts with.
pub const BRANCH_COOKIE: &str = "z9hG4bK";

/// A fresh Via branch (`z9hG4bK` + 16 random hex digits) drawn from `rng`.
pub fn new_branch_with(rng: &mut fastrand::Rng) -> String {
    format!("{BRANCH_COOKIE}{:016x}", rng.u64(..))
}

/// A fresh From/To tag (12 random hex digits) drawn from `rng`.
pub fn new_tag_with(rng: &mut fastrand::Rng) -> String {
    format!("{:012x}", rng.u64(..) >> 16)
}

/// A fresh Call-ID at `host` (24 random hex digits) drawn from `rng`.
pub fn new_call_id_with(rng: &mut fastrand::Rng, host: &str) -> String {
    format!("{:016x}{:08x}@{host}", rng.u64(..), rng.u32(..))
}

/// The default reason phrase for a status code.
pub fn reason_phrase(status: u16) -> &'static str {
    match status {
        100 => "Trying",
        180 => "Ringing",
        181 => "Call Is Being Forwarded",
        182 => "Queued",
        183 => "Session Progress",
        200 => "OK",
        202 => "Accepted",
        300 => "Multiple Choices",
        301 => "Moved Permanently",
        302 => "Moved Temporarily",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        406 => "Not Acceptable",
        407 => "Proxy Authentication Required",
        408 => "Request Timeout",
        410 => "Gone",
        413 => "Request Entity Too Large",
        415 => "Unsupported Media Type",
        416 => "Unsupported URI Scheme",
        420 => "Bad Extension",
        421 => "Extension Required",
        423 => "Interval Too Brief",
        480 => "Temporarily Unavailable",
        481 => "Call/Transaction Does Not Exist",
        482 => "Loop Detected",
        483 => "Too Many Hops",
        484 => "Address Incomplete",
        486 => "Busy Here",
        487 => "Request Terminated",
        488 => "Not Acceptable Here",
        491 => "Request Pending",
        500 => "Server Internal Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Server Time-out",
        505 => "Version Not Supported",
        513 => "Message Too Large",
        600 => "Busy Everywhere",
        603 => "Decline",
        604 => "Does Not Exist Anywhere",
        606 => "Not Acceptable",
        _ => match status / 100 {
            1 => "Progress",
            2 => "Success",
            3 => "Redirection",
            4 => "Client Error",
            5 => "Server Error",
            _ => "Global Failure",
        },
    }
}

fn write_headers(buf: &mut BytesMut, headers: &Headers, body: &Bytes) {
    for h in headers.views() {
        if h.known == Some(Known::ContentLength) {
            continue;
        }
        buf.put_slice(h.name.as_bytes());
        buf.put_slice(b": ");
        buf.put_slice(h.value.as_bytes());
        buf.put_slice(b"\r\n");
    }
    buf.put_slice(b"Content-Length: ");
    put_decimal(buf, body.len());
    buf.put_slice(b"\r\n\r\n");
    buf.put_slice(body);
}

/// Appends `n` in decimal, as `{n}` formats it.
fn put_decimal(buf: &mut BytesMut, mut n: usize) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    buf.put_slice(&digits[i..]);
}

fn estimate(headers: &Headers, body: &Bytes) -> usize {
    64 + body.len()
        + headers
            .views()
            .map(|h| h.name.len() + h.value.len() + 4)
            .sum::<usize>()
}

impl Request {
    /// Appends the wire form to `buf`.
    pub fn encode(&self, buf: &mut BytesMut) {
        buf.reserve(estimate(&self.headers, &self.body));
        let mut line = String::with_capacity(96);
        let _ = write!(line, "{} {} SIP/2.0\r\n", self.method, self.uri);
        buf.put_slice(line.as_bytes());
        write_headers(buf, &self.headers, &self.body);
    }

    /// The wire form.
    pub fn to_bytes(&self) -> Bytes {
        let mut b = BytesMut::new();
        self.encode(&mut b);
        b.freeze()
    }
}

impl Response {
    /// Appends the wire form to `buf`.
    pub fn encode(&self, buf: &mut BytesMut) {
        buf.reserve(estimate(&self.headers, &self.body));
        // Written piece by piece: `write!` costs more than the whole line.
        buf.put_slice(b"SIP/2.0 ");
        put_decimal(buf, self.status.into());
        buf.put_u8(b' ');
        buf.put_slice(self.reason.as_bytes());
        buf.put_slice(b"\r\n");
        write_headers(buf, &self.headers, &self.body);
    }

    /// The wire form.
    pub fn to_bytes(&self) -> Bytes {
        let mut b = BytesMut::new();
        self.encode(&mut b);
        b.freeze()
    }
}

impl Message {
    /// Appends the wire form to `buf`.
    pub fn encode(&self, buf: &mut BytesMut) {
        match self {
            Message::Request(r) => r.encode(buf),
            Message::Response(r) => r.encode(buf),
        }
    }

    /// The wire form.
    pub fn to_bytes(&self) -> Bytes {
        match self {
            Message::Request(r) => r.to_bytes(),
            Message::Response(r) => r.to_bytes(),
        }
    }
}

impl std::fmt::Display for Message {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&String::from_utf8_lossy(&self.to_bytes()))
    }
}

#[cfg(test)]
mod tests {
    use super::super::*;
    use crate::uri::Uri;

    fn invite() -> Request {
        let rng = &mut fastrand::Rng::with_seed(911);
        let mut r = Request::new(
            Method::Invite,
            Uri::parse("sip:911@gw1.anywhere.e911cloud.com;user=phone").unwrap(),
        );
        r.headers.push(
            HeaderName::Via,
            format!("SIP/2.0/TLS 127.0.0.1:5061;branch={}", new_branch_with(rng)),
        );
        r.headers.push(HeaderName::MaxForwards, "70");
        r.headers.push(
            HeaderName::From,
            format!("<sip:+13125550100@trunk.example>;tag={}", new_tag_with(rng)),
        );
        r.headers
            .push(HeaderName::To, "<sip:911@gw1.anywhere.e911cloud.com>");
        r.headers
            .push(HeaderName::CallId, new_call_id_with(rng, "trunk.example"));
        r.headers.push(HeaderName::CSeq, "1 INVITE");
        r.headers.push(
            "E911-Organization-ID",
            "4f3b1c2e-8d7a-4e59-9b0c-6a1d2e3f4a5b",
        );
        r.headers.push(HeaderName::ContentType, "application/sdp");
        r.body = bytes::Bytes::from_static(b"v=0\r\n");
        r
    }

    #[test]
    fn built_request_round_trips() {
        let req = invite();
        let wire = req.to_bytes();
        let parsed = Message::parse(&wire).unwrap();
        let Message::Request(mut p) = parsed else {
            panic!("not a request")
        };
        assert_eq!(p.headers.remove(&HeaderName::ContentLength), 1);
        for h in p.headers.iter() {
            assert!(h.line > 0);
        }
        assert_eq!(p.method, req.method);
        assert_eq!(p.uri, req.uri);
        assert_eq!(p.body, req.body);
        assert_eq!(
            p.headers
                .iter()
                .map(|h| (&h.name, &h.value))
                .collect::<Vec<_>>(),
            req.headers
                .iter()
                .map(|h| (&h.name, &h.value))
                .collect::<Vec<_>>()
        );
    }

    #[test]
    fn response_for_request_copies_dialog_headers() {
        let req = invite();
        let resp = Response::for_request(&req, 180, Some("gwtag"));
        assert_eq!(resp.reason, "Ringing");
        assert_eq!(resp.header_to().unwrap().tag(), Some("gwtag"));
        assert_eq!(resp.call_id(), req.call_id());
        assert_eq!(resp.cseq().unwrap().seq, 1);
        let trying = Response::for_request(&req, 100, Some("gwtag"));
        assert_eq!(trying.header_to().unwrap().tag(), None);
        let wire = resp.to_bytes();
        assert!(Message::parse(&wire).unwrap().as_response().is_some());
    }

    #[test]
    fn errors_have_positions() {
        let text = b"INVITE sip:911@gw SIP/2.0\r\nVia: SIP/2.0/TCP host;branch=z9hG4bK1\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:911@gw>\r\nCall-ID: x@y\r\nCSeq: 1 BYE\r\nContent-Length: 0\r\n\r\n";
        let e = Message::parse(text).unwrap_err();
        assert_eq!(e.kind, ParseErrorKind::MethodMismatch);
        assert_eq!(e.line, 6);
        assert_eq!(e.column, 7);
        assert_eq!(e.header.as_deref(), Some("CSeq"));
        assert!(e.salvage.is_some());
        assert_eq!(e.status(), 400);
        let v =
            Message::parse(b"INVITE sip:911@gw SIP/7.0\r\nVia: SIP/2.0/TCP h\r\n\r\n").unwrap_err();
        assert_eq!(v.status(), 505);
        assert_eq!((v.line, v.column), (1, 19));
        let f = Message::parse(b"OPTIONS sip:gw SIP/2.0\r\nVia: SIP/2.0/TCP h;branch=z9hG4bK1\r\n Via-continued\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:gw>\r\nCall-ID: x\r\nCSeq: 1 OPTIONS\r\n\r\n").unwrap_err();
        assert_eq!(f.line, 2, "{f}");
    }

    #[test]
    fn folded_and_compact_headers() {
        let text = b"OPTIONS sip:gw SIP/2.0\r\nv: SIP/2.0/TCP h;branch=z9hG4bK1,\r\n SIP/2.0/TLS h2;branch=z9hG4bK2\r\nf: <sip:a@b>;tag=1\r\nt: <sip:gw>\r\ni: x\r\nCSeq: 1 OPTIONS\r\nl: 0\r\n\r\n";
        let Message::Request(r) = Message::parse(text).unwrap() else {
            panic!()
        };
        assert_eq!(r.headers.values(&HeaderName::Via).count(), 2);
        assert_eq!(r.top_via().unwrap().branch(), Some("z9hG4bK1"));
        assert_eq!(r.call_id(), Some("x"));
    }

    #[test]
    fn decimals_read_as_formatted() {
        for n in [0, 7, 10, 99, 100, 180, 65_535, 1_000_000, usize::MAX] {
            let mut b = bytes::BytesMut::new();
            super::put_decimal(&mut b, n);
            assert_eq!(&b[..], n.to_string().as_bytes());
        }
        let mut r = Response::for_request(&invite(), 180, Some("t1"));
        r.body = Bytes::from_static(b"v=0\r\n");
        let wire = String::from_utf8(r.to_bytes().to_vec()).unwrap();
        assert!(wire.starts_with("SIP/2.0 180 Ringing\r\nVia: "), "{wire}");
        assert!(
            wire.ends_with("\r\nContent-Length: 5\r\n\r\nv=0\r\n"),
            "{wire}"
        );
    }
}
