//! The SIP message model: [`Request`], [`Response`] and their [`Headers`], the strict parser
//! ([`Message::parse`], in `parse.rs`, with a one-pass fast path for everyday messages in
//! `scan.rs`), serialization (in `write.rs`) and the UAS pre-checks
//! for well-formed requests that still need a specific answer ([`uas_precheck`], in `precheck.rs`).
//!
//! Header values are stored unfolded and trimmed; typed views (Via, CSeq, name-addr) are parsed
//! on demand by the accessors and were already validated once by the parser, so on a parsed
//! message they do not fail.

pub(crate) mod fast;
mod header;
mod parse;
mod precheck;
mod scan;
pub mod typed;
mod validate;
mod write;

use std::fmt;

use bytes::Bytes;

use header::Known;
pub use header::{Header, HeaderName, Headers, split_list};
pub use parse::{ParseError, ParseErrorKind, Salvage};
pub use precheck::{Rejection, UasPolicy, uas_precheck, uas_precheck_with};
pub use typed::{CSeq, NameAddr, ValueError, Via};
pub use write::{new_branch_with, new_call_id_with, new_tag_with, reason_phrase};

use crate::uri::Uri;

/// A SIP method. Methods are case-sensitive (RFC 3261 §7.1).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Method {
    /// INVITE
    Invite,
    /// ACK
    Ack,
    /// BYE
    Bye,
    /// CANCEL
    Cancel,
    /// OPTIONS
    Options,
    /// REGISTER
    Register,
    /// INFO
    Info,
    /// UPDATE
    Update,
    /// PRACK
    Prack,
    /// SUBSCRIBE
    Subscribe,
    /// NOTIFY
    Notify,
    /// REFER
    Refer,
    /// MESSAGE
    Message,
    /// PUBLISH
    Publish,
    /// An extension method (a token).
    Other(String),
}

impl Method {
    /// Parses a method token; `None` if it is not a token.
    pub fn parse(s: &str) -> Option<Method> {
        Some(match s {
            "INVITE" => Method::Invite,
            "ACK" => Method::Ack,
            "BYE" => Method::Bye,
            "CANCEL" => Method::Cancel,
            "OPTIONS" => Method::Options,
            "REGISTER" => Method::Register,
            "INFO" => Method::Info,
            "UPDATE" => Method::Update,
            "PRACK" => Method::Prack,
            "SUBSCRIBE" => Method::Subscribe,
            "NOTIFY" => Method::Notify,
            "REFER" => Method::Refer,
            "MESSAGE" => Method::Message,
            "PUBLISH" => Method::Publish,
            _ if !s.is_empty() && s.bytes().all(crate::uri::is_token_char) => {
                Method::Other(s.to_owned())
            }
            _ => return None,
        })
    }

    /// The method as written on the wire.
    pub fn as_str(&self) -> &str {
        match self {
            Method::Invite => "INVITE",
            Method::Ack => "ACK",
            Method::Bye => "BYE",
            Method::Cancel => "CANCEL",
            Method::Options => "OPTIONS",
            Method::Register => "REGISTER",
            Method::Info => "INFO",
            Method::Update => "UPDATE",
            Method::Prack => "PRACK",
            Method::Subscribe => "SUBSCRIBE",
            Method::Notify => "NOTIFY",
            Method::Refer => "REFER",
            Method::Message => "MESSAGE",
            Method::Publish => "PUBLISH",
            Method::Other(s) => s,
        }
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A SIP request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// Method.
    pub method: Method,
    /// Request-URI.
    pub uri: Uri,
    /// Headers in wire order.
    pub headers: Headers,
    /// Body (may be empty).
    pub body: Bytes,
}

/// A SIP response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// Status code, 100..=699.
    pub status: u16,
    /// Reason phrase (may be empty).
    pub reason: String,
    /// Headers in wire order.
    pub headers: Headers,
    /// Body (may be empty).
    pub body: Bytes,
}

/// A request or a response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// A request.
    Request(Request),
    /// A response.
    Response(Response),
}

/// Accessors shared by requests and responses (everything that lives in the headers).
pub trait SipHeaders {
    /// The headers.
    fn headers(&self) -> &Headers;

    /// The Call-ID.
    fn call_id(&self) -> Option<&str> {
        self.headers().get(&HeaderName::CallId)
    }
    /// The CSeq, typed.
    fn cseq(&self) -> Option<CSeq> {
        self.headers()
            .get(&HeaderName::CSeq)
            .and_then(|v| CSeq::parse(v).ok())
    }
    /// The topmost Via value, typed.
    fn top_via(&self) -> Option<Via> {
        self.headers()
            .values(&HeaderName::Via)
            .next()
            .and_then(|v| Via::parse(v).ok())
    }
    /// The From header, typed.
    fn header_from(&self) -> Option<NameAddr> {
        self.headers()
            .get(&HeaderName::From)
            .and_then(|v| NameAddr::parse(v).ok())
    }
    /// The To header, typed.
    fn header_to(&self) -> Option<NameAddr> {
        self.headers()
            .get(&HeaderName::To)
            .and_then(|v| NameAddr::parse(v).ok())
    }
    /// The Content-Type value.
    fn content_type(&self) -> Option<&str> {
        self.headers().get(&HeaderName::ContentType)
    }
}

impl SipHeaders for Request {
    fn headers(&self) -> &Headers {
        &self.headers
    }
}

impl SipHeaders for Response {
    fn headers(&self) -> &Headers {
        &self.headers
    }
}

impl SipHeaders for Message {
    fn headers(&self) -> &Headers {
        match self {
            Message::Request(r) => &r.headers,
            Message::Response(r) => &r.headers,
        }
    }
}

impl Request {
    /// A request with no headers and no body.
    pub fn new(method: Method, uri: Uri) -> Self {
        Request {
            method,
            uri,
            headers: Headers::with_capacity(12),
            body: Bytes::new(),
        }
    }
}

impl Response {
    /// A response to `req` (RFC 3261 §8.2.6.2): copies every Via, From, To, Call-ID and CSeq,
    /// adds `to_tag` to To when it has none (not for 100 Trying), and copies Record-Route on
    /// dialog-creating responses (101-299 to INVITE).
    pub fn for_request(req: &Request, status: u16, to_tag: Option<&str>) -> Response {
        let mut headers = Headers::with_capacity(10);
        for h in req.headers.views() {
            let Some(known) = h.known else { continue };
            let copy = matches!(
                known,
                Known::Via | Known::From | Known::CallId | Known::CSeq
            ) || (known == Known::RecordRoute
                && req.method == Method::Invite
                && (101..300).contains(&status));
            if copy {
                headers.push(known.name(), h.value);
            } else if known == Known::To {
                let has_tag = NameAddr::tag_of(h.value).map_or(true, |t| t.is_some());
                match to_tag {
                    Some(tag) if status > 100 && !has_tag => {
                        let mut to = String::with_capacity(h.value.len() + 5 + tag.len());
                        to.push_str(h.value);
                        to.push_str(";tag=");
                        to.push_str(tag);
                        headers.push(HeaderName::To, to);
                    }
                    _ => headers.push(HeaderName::To, h.value),
                }
            }
        }
        Response {
            status,
            reason: reason_phrase(status).to_owned(),
            headers,
            body: Bytes::new(),
        }
    }
}

impl Message {
    /// The request, if this is one.
    pub fn as_request(&self) -> Option<&Request> {
        match self {
            Message::Request(r) => Some(r),
            Message::Response(_) => None,
        }
    }
    /// The response, if this is one.
    pub fn as_response(&self) -> Option<&Response> {
        match self {
            Message::Response(r) => Some(r),
            Message::Request(_) => None,
        }
    }
    /// The body.
    pub fn body(&self) -> &Bytes {
        match self {
            Message::Request(r) => &r.body,
            Message::Response(r) => &r.body,
        }
    }
}
