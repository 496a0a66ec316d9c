//! Answers to what cannot be parsed or framed, built from whatever headers can be salvaged,
//! and the observations that record them. Pure: no sockets.

use bytes::{Bytes, BytesMut};
use sip::codec::FrameError;
use sip::message::{ParseError, Salvage, new_tag};
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
/// allow one (a Via to route it back, and not an ACK).
pub(crate) fn salvage_response(
    host: &str,
    s: &Salvage,
    status: u16,
    why: &str,
) -> Option<Response> {
    let method = s.method.clone()?;
    if method == Method::Ack || s.headers.get(&HeaderName::Via).is_none() {
        return None;
    }
    let req = Request {
        method,
        uri: Uri::Other {
            scheme: "sip".into(),
            rest: "invalid".into(),
        },
        headers: s.headers.clone(),
        body: Bytes::new(),
    };
    let mut resp = Response::for_request(&req, status, Some(&new_tag()));
    resp.headers
        .push(HeaderName::Warning, warning(399, host, why));
    if Message::parse(&resp.to_bytes()).is_ok() {
        return Some(resp);
    }
    // A mirrored header the peer got wrong (typically CSeq) would make the answer as
    // unparseable as the request; repair CSeq, and send nothing if it is still invalid.
    resp.headers
        .set(HeaderName::CSeq, format!("0 {}", req.method));
    Message::parse(&resp.to_bytes()).is_ok().then_some(resp)
}

/// The observation and answer for an unparseable message.
pub(crate) fn parse_error_answer(host: &str, e: &ParseError) -> (Observation, Option<Response>) {
    let status = e.status();
    let salvage = e.salvage.as_deref();
    let mut obs = salvage.map_or_else(blank_observation, salvaged_observation);
    obs.parse_error = Some(e.to_string());
    let resp = salvage.and_then(|s| salvage_response(host, s, status, &e.to_string()));
    if let Some(resp) = &resp {
        obs.response = Some(status);
        obs.warning = resp.headers.get(&HeaderName::Warning).map(str::to_owned);
    }
    (obs, resp)
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
        Ok(Message::Request(r)) => Some((r.method.clone(), r.headers)),
        Ok(Message::Response(_)) => None,
        Err(pe) => pe
            .salvage
            .map(|s| (s.method.clone(), s.headers.clone()))
            .and_then(|(m, h)| m.map(|m| (m, h))),
    };
    let Some((method, headers)) = parsed else {
        let mut obs = blank_observation();
        obs.parse_error = Some(why.to_owned());
        return (obs, None);
    };
    let salvage = Salvage {
        method: Some(method),
        headers,
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
