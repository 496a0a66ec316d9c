//! Answers to what cannot be parsed or framed, built from whatever headers can be salvaged,
//! and the observations that record them. Pure: no sockets.

use bytes::{Bytes, BytesMut};
use sip::codec::FrameError;
use sip::message::{CSeq, NameAddr, ParseError, Salvage, new_tag};
use sip::uri::Uri;
use sip::{HeaderName, Message, Method, Request, Response};

use crate::decide::{observe, warning};
use crate::observation::Observation;

/// An observation with nothing in it (an unparseable message, or a connection event).
pub(crate) fn blank_observation() -> Observation {
    let mut obs = observe(&Request::new(
        Method::Other(String::new()),
        Uri::Other {
            scheme: String::new(),
            rest: String::new(),
        },
    ));
    obs.method.clear();
    obs.request_uri.clear();
    obs
}

/// An observation of the headers salvaged from an unparseable request.
pub(crate) fn salvaged_observation(s: &Salvage) -> Observation {
    let mut obs = blank_observation();
    obs.method = s
        .method
        .as_ref()
        .map(ToString::to_string)
        .unwrap_or_default();
    obs.call_id = s.headers.get(&HeaderName::CallId).map(str::to_owned);
    obs.cseq = s.headers.get(&HeaderName::CSeq).map(str::to_owned);
    obs.headers = s
        .headers
        .iter()
        .map(|h| (h.name.as_str().to_owned(), h.value.clone()))
        .collect();
    obs
}

/// A 400/505/513 to a request that could not be parsed or framed, when its salvaged headers
/// allow one: a method that is not ACK and a top Via that can be read. The answer mirrors the
/// request's Via, From, To, Call-ID and CSeq when they make a parseable response; otherwise
/// each is repaired on its own ([`repaired_headers`]) so a broken From or To never turns the
/// answer into silence.
pub(crate) fn salvage_response(
    host: &str,
    s: &Salvage,
    status: u16,
    why: &str,
) -> Option<Response> {
    // A request line too broken to name its method is answered for the CSeq's method.
    let method = s.method.clone().or_else(|| {
        s.headers
            .get(&HeaderName::CSeq)
            .and_then(|c| CSeq::parse(c).ok())
            .map(|c| c.method)
    })?;
    if method == Method::Ack {
        return None;
    }
    let via = readable_via(s.headers.get(&HeaderName::Via)?)?;
    let answer = |headers: sip::message::Headers| {
        let req = Request {
            method: method.clone(),
            uri: Uri::Other {
                scheme: "sip".into(),
                rest: "invalid".into(),
            },
            headers,
            body: Bytes::new(),
        };
        let mut resp = Response::for_request(&req, status, Some(&new_tag()));
        resp.headers
            .push(HeaderName::Warning, warning(399, host, why));
        resp
    };
    let mirrored = answer(s.headers.clone());
    if Message::parse(&mirrored.to_bytes()).is_ok() {
        return Some(mirrored);
    }
    Some(answer(repaired_headers(s, &method, via)))
}

/// The top Via's first entry when it can be read: `<protocol>/<version>/<transport> <sent-by>`, with
/// empty or unreadable parameters dropped (the branch is kept when it is readable). `None` when
/// not even the protocol and sent-by are there: then nobody can be answered.
fn readable_via(value: &str) -> Option<String> {
    let first = value.split(',').next()?.trim();
    let mut parts = first.split(';');
    let head = parts.next()?.trim();
    let (protocol, sent_by) = head.split_once(|c: char| c.is_ascii_whitespace())?;
    let fields: Vec<&str> = protocol.split('/').map(str::trim).collect();
    let token = |t: &str| {
        !t.is_empty()
            && t.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b".-_+!%*`'~".contains(&b))
    };
    let mut sent_by = sent_by.trim();
    let host_ok = !sent_by.is_empty()
        && sent_by
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b".-:[]_".contains(&b));
    // A port that is not one (`:99999`) is dropped; the host alone still routes the answer.
    if let Some((host, port)) = sent_by.rsplit_once(':')
        && !host.ends_with(':')
        && (!host.contains(':') || host.ends_with(']'))
        && port.parse::<u16>().is_err()
    {
        sent_by = host;
    }
    if fields.len() != 3 || !fields.iter().all(|f| token(f)) || !host_ok {
        return None;
    }
    // The version is answered as SIP/2.0 (a 505 to SIP/7.0 included), so the answer parses;
    // the peer matches it by branch and sent-by.
    let mut via = format!("SIP/2.0/{} {sent_by}", fields[2]);
    for p in parts.map(str::trim).filter(|p| !p.is_empty()) {
        let (name, value) = p.split_once('=').unwrap_or((p, ""));
        if token(name.trim()) && (value.is_empty() || token(value.trim())) {
            via.push(';');
            via.push_str(p);
        }
    }
    Some(via)
}

/// Via, From, To, Call-ID and CSeq for an answer when the mirrored ones do not make a
/// parseable response: each kept when it parses, else rebuilt from what can be read (the URI
/// in angle brackets and the tag), else a placeholder; the first of a duplicated header.
fn repaired_headers(s: &Salvage, method: &Method, via: String) -> sip::message::Headers {
    let mut h = sip::message::Headers::new();
    h.push(HeaderName::Via, via);
    for name in [HeaderName::From, HeaderName::To] {
        let value = s.headers.get(&name).map_or_else(
            || "<sip:invalid.invalid>".to_owned(),
            |v| match NameAddr::parse(v) {
                Ok(_) => v.to_owned(),
                Err(_) => repaired_name_addr(v),
            },
        );
        h.push(name, value);
    }
    let call_id = s
        .headers
        .get(&HeaderName::CallId)
        .filter(|c| !c.is_empty() && c.bytes().all(|b| b.is_ascii_graphic()))
        .unwrap_or("invalid");
    h.push(HeaderName::CallId, call_id);
    let cseq = s
        .headers
        .get(&HeaderName::CSeq)
        .filter(|c| CSeq::parse(c).is_ok_and(|c| &c.method == method))
        .map_or_else(|| format!("0 {method}"), str::to_owned);
    h.push(HeaderName::CSeq, cseq);
    h
}

/// `<uri>;tag=t` from an unparseable From or To: the URI inside the first angle brackets when
/// it parses, the tag when one can be read; `<sip:invalid.invalid>` otherwise.
fn repaired_name_addr(v: &str) -> String {
    let uri = v
        .split_once('<')
        .and_then(|(_, rest)| rest.split_once('>'))
        .map(|(u, _)| u.trim())
        .filter(|u| Uri::parse(u).is_ok())
        .unwrap_or("sip:invalid.invalid");
    let tag = v.rsplit_once(";tag=").map(|(_, t)| {
        t.split(|c: char| c == ';' || c.is_ascii_whitespace())
            .next()
            .unwrap_or("")
    });
    match tag.filter(|t| {
        !t.is_empty()
            && t.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b".-_+!%*`'~".contains(&b))
    }) {
        Some(t) => format!("<{uri}>;tag={t}"),
        None => format!("<{uri}>"),
    }
}

/// The observation and answer for an unparseable message (`bytes`, as framed).
pub(crate) fn parse_error_answer(
    host: &str,
    e: &ParseError,
    bytes: &[u8],
) -> (Observation, Option<Response>) {
    let status = e.status();
    let cleaned = e
        .salvage
        .is_none()
        .then(|| salvage_cleaned(bytes))
        .flatten();
    let salvage = e.salvage.as_deref().or(cleaned.as_ref());
    let mut obs = salvage.map_or_else(blank_observation, salvaged_observation);
    obs.parse_error = Some(e.to_string());
    let resp = salvage.and_then(|s| salvage_response(host, s, status, &e.to_string()));
    if let Some(resp) = &resp {
        obs.response = Some(status);
        obs.warning = resp.headers.get(&HeaderName::Warning).map(str::to_owned);
    }
    (obs, resp)
}

/// What can be salvaged from a header block the parser gave up on before salvaging anything
/// (invalid UTF-8, a NUL in the request line): the same block with every byte that is not
/// printable ASCII, CR, LF or TAB replaced by `?`, parsed again. Only to address the answer;
/// the error reported is the original one.
fn salvage_cleaned(bytes: &[u8]) -> Option<Salvage> {
    let end = find(bytes, b"\r\n\r\n").map_or(bytes.len(), |i| i + 4);
    let mut head: Vec<u8> = bytes[..end]
        .iter()
        .map(|&b| match b {
            b'\r' | b'\n' | b'\t' | 0x20..=0x7e => b,
            _ => b'?',
        })
        .collect();
    // Without the body: the answer needs the headers only.
    if let Some(i) = find(&head, b"\r\n\r\n") {
        head.truncate(i + 4);
    }
    let head = String::from_utf8(head).ok()?;
    let head = head
        .split("\r\n")
        .filter(|l| !l.to_ascii_lowercase().starts_with("content-length") && !l.starts_with("l:"))
        .collect::<Vec<_>>()
        .join("\r\n");
    let parsed = |text: &str| match Message::parse(text.as_bytes()) {
        Ok(Message::Request(r)) => Some(Salvage {
            method: Some(r.method),
            headers: r.headers,
        }),
        Ok(Message::Response(_)) => None,
        Err(e) => e.salvage.map(|s| *s),
    };
    parsed(&head).or_else(|| {
        // The request line itself is beyond repair: read the headers under a stand-in line,
        // and leave the method to the CSeq.
        if head.starts_with("SIP/") {
            return None;
        }
        let (_, rest) = head.split_once("\r\n")?;
        let mut s = parsed(&format!("UNREADABLE sip:invalid.invalid SIP/2.0\r\n{rest}"))?;
        s.method = None;
        Some(s)
    })
}

/// The header block of a message that could not be framed, as far as it is in `buf` (at most
/// `cap` bytes when the block itself is too large).
pub(crate) fn frame_error_head(buf: &BytesMut, e: &FrameError, cap: usize) -> Bytes {
    let end = match e {
        FrameError::HeaderTooLarge { .. } => cap.min(buf.len()),
        _ => find(buf, b"\r\n\r\n")
            .map(|i| i + 4)
            .or_else(|| find(buf, b"\n\n").map(|i| i + 2))
            .unwrap_or(buf.len()),
    };
    Bytes::copy_from_slice(&buf[..end])
}

/// The observation and answer (400, or 513 when too large) for a message that cannot be
/// framed, if its header block parses far enough; the caller closes the connection.
pub(crate) fn frame_error_answer(
    host: &str,
    why: &str,
    too_large: bool,
    head: &[u8],
) -> (Observation, Option<Response>) {
    let status = if too_large { 513 } else { 400 };
    let mut head = head.to_vec();
    if !head.ends_with(b"\r\n\r\n") {
        head.extend_from_slice(b"\r\n\r\n");
    }
    let parsed = match Message::parse(&head) {
        Ok(Message::Request(r)) => Some(Salvage {
            method: Some(r.method),
            headers: r.headers,
        }),
        Ok(Message::Response(_)) => None,
        Err(pe) => pe.salvage.map(|s| *s).or_else(|| salvage_cleaned(&head)),
    };
    let Some(salvage) = parsed else {
        let mut obs = blank_observation();
        obs.parse_error = Some(why.to_owned());
        return (obs, None);
    };
    let mut obs = salvaged_observation(&salvage);
    obs.parse_error = Some(why.to_owned());
    let resp = salvage_response(host, &salvage, status, why);
    if let Some(resp) = &resp {
        obs.response = Some(status);
        obs.warning = resp.headers.get(&HeaderName::Warning).map(str::to_owned);
    }
    (obs, resp)
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}
