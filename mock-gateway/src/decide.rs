//! The per-request decision, pure: a parsed request and the [`Policy`] in, the responses to send
//! and the [`Observation`] fields out. No sockets, no clock, no shared state; the connection
//! task performs the [`Plan`] and fills in who sent it, when and over what.
//!
//! INVITE checks run in this order and the first failure answers: RFC 3261 §8.2 pre-checks
//! (416, 420, 483, 415, 406, 400), numeric headers ([`crate::strict`], 400), dialled number (404
//! unless 911/933), organization header (403 unless ok, or unknown under the accept policy), SDP
//! offer (its grammar, then what can be answered: 488). Every check is still
//! recorded, so a report can show all of a bad INVITE's problems at once.

use std::net::SocketAddr;
use std::time::Duration;

use sip::message::{SipHeaders, UasPolicy, new_tag, uas_precheck_with};
use sip::{HeaderName, Method, Request, Response};

use crate::ani::{ani_only, dialed_number, extract_ani};
use crate::config::Policy;
use crate::error::SdpError;
use crate::observation::{Observation, ReadbackObservation};
use crate::org::{check_org, org_header_name, warning_text};
use crate::sdp::{answer_offer_with, refused_media};

/// Methods the gateway implements (the `Allow` header).
pub const ALLOW: &str = "INVITE, ACK, BYE, CANCEL, OPTIONS";
/// Body types the gateway reads (the `Accept` header).
pub const ACCEPT: &str = "application/sdp, multipart/mixed";
/// Option tags the gateway implements (the `Supported` header).
pub const SUPPORTED: &str = "timer";
/// The `Server` header.
pub const SERVER: &str = "e911-harness mock-gateway";
/// The header carrying the 933 read-back in the 200 OK.
pub const READBACK_HEADER: &str = "E911-Readback";

/// What the gateway knows about itself when it answers.
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    /// Host name for Warning headers.
    pub host: &'a str,
    /// The local address of the connection (SDP `c=` line, Contact).
    pub local: SocketAddr,
    /// `tls` or `tcp`, for the Contact `transport` parameter.
    pub transport: &'a str,
    /// Whether the observation will be kept or sent anywhere; when not (a load run with
    /// nothing retained), the observation carries only the findings the answer depends on:
    /// the request line, Call-ID, CSeq and the copy of every header are skipped.
    pub record: bool,
    /// The media port and key to answer with (a socket bound for the call); `None`: a random
    /// port and a fresh key, no media sent.
    pub media: Option<&'a crate::sdp::Reserved>,
}

/// What to send.
#[derive(Debug, Clone, PartialEq)]
pub enum Plan {
    /// Send these responses, in order, now.
    Respond(Vec<Response>),
    /// An accepted INVITE: send `now` (100 Trying, 180 Ringing) at once and `answer` (200 OK)
    /// after `after`, unless a CANCEL arrives first (then 487).
    Ring {
        /// Provisional responses.
        now: Vec<Response>,
        /// The 200 OK.
        answer: Response,
        /// Ringing time.
        after: Duration,
    },
    /// Send nothing (ACK).
    Absorb,
}

/// The decision on one request.
#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    /// What to send.
    pub plan: Plan,
    /// The request's observation; the connection fills gateway, seq, time, peer and TLS fields.
    pub observation: Observation,
    /// What an answered INVITE's offer/answer settled, for its media.
    pub media: Option<crate::sdp::Negotiated>,
}

/// An observation of `req` with the request fields filled (headers and body included) and
/// nothing found yet.
pub fn observe(req: &Request) -> Observation {
    let body = &req.body[..req.body.len().min(crate::observation::BODY_KEEP)];
    Observation {
        headers: req
            .headers
            .iter()
            .map(|h| (h.name.as_str().to_owned(), h.value.clone()))
            .collect(),
        body: (!body.is_empty()).then(|| String::from_utf8_lossy(body).into_owned()),
        ..observe_headless(req)
    }
}

/// [`observe`] without the copy of the headers.
fn observe_headless(req: &Request) -> Observation {
    Observation {
        method: req.method.to_string(),
        request_uri: req.uri.to_string(),
        call_id: req.call_id().map(str::to_owned),
        cseq: req.headers.get(&HeaderName::CSeq).map(str::to_owned),
        ..unrecorded()
    }
}

/// An observation with no request field filled: what [`decide`] starts from when the
/// observation will not be kept (only its findings steer the answer), so the request line,
/// Call-ID and CSeq are not copied either.
fn unrecorded() -> Observation {
    Observation {
        gateway: String::new(),
        seq: 0,
        at_ms: 0,
        at_us: 0,
        conn: 0,
        body: None,
        connection_fault: None,
        peer: String::new(),
        transport: String::new(),
        tls: None,
        method: String::new(),
        request_uri: String::new(),
        call_id: None,
        cseq: None,
        headers: Vec::new(),
        dialed: None,
        org: None,
        ani: None,
        readback: None,
        response: None,
        warning: None,
        routing: None,
        parse_error: None,
        media: None,
        retransmission: false,
        fault: None,
        location: None,
        tls_error: None,
        media_flow: None,
    }
}

/// A `Warning` value (RFC 3261 §20.43) with the text's quotes and backslashes escaped.
pub fn warning(code: u16, host: &str, text: &str) -> String {
    let escaped = text.replace('\\', "\\\\").replace('"', "\\\"");
    format!("{code} {host} \"{escaped}\"")
}

/// A response with the gateway's Server header and, when given, a Warning.
fn respond(req: &Request, status: u16, tag: &str, warn: Option<&str>) -> Response {
    let mut r = Response::for_request(req, status, Some(tag));
    r.headers.push(HeaderName::Server, SERVER);
    if let Some(w) = warn {
        r.headers.push(HeaderName::Warning, w);
    }
    r
}

fn reject(req: &Request, obs: &mut Observation, status: u16, warn: Option<String>) -> Plan {
    let tag = new_tag();
    let mut out = Vec::with_capacity(2);
    if req.method == Method::Invite {
        out.push(Response::for_request(req, 100, None));
    }
    out.push(respond(req, status, &tag, warn.as_deref()));
    obs.response = Some(status);
    obs.warning = warn;
    Plan::Respond(out)
}

/// Decides the answer to a request that is not a retransmission, CANCEL or ACK of a known
/// transaction (those belong to `sip::engine`, see `session`).
pub fn decide(req: &Request, policy: &Policy, ctx: &Context<'_>) -> Decision {
    let mut obs = if ctx.record {
        observe(req)
    } else {
        unrecorded()
    };
    let uas = UasPolicy {
        extensions: &["timer"],
        ..UasPolicy::default()
    };
    if req.method == Method::Invite {
        obs.dialed = dialed_number(&req.uri);
        let org_name = org_header_name();
        let values: Vec<&str> = req.headers.get_all(&org_name).collect();
        obs.org = Some(check_org(&values, policy));
        // The identity facts and findings are for the record; routing needs the ANI only.
        obs.ani = if ctx.record {
            extract_ani(req, &policy.ani_headers)
        } else {
            ani_only(req, &policy.ani_headers)
        };
    }
    if req.method != Method::Ack
        && let Some(rej) = uas_precheck_with(req, &uas)
    {
        let w = warning(399, ctx.host, rej.why);
        let mut plan = reject(req, &mut obs, rej.status, Some(w));
        if rej.status == 420
            && let Plan::Respond(rs) = &mut plan
            && let Some(last) = rs.last_mut()
        {
            last.headers
                .push(HeaderName::Unsupported, rej.unsupported.join(", "));
        }
        return Decision {
            plan,
            observation: obs,
            media: None,
        };
    }
    if req.method != Method::Ack
        && let Some(problem) = crate::strict::header_problem(req)
    {
        let w = warning(399, ctx.host, &problem);
        return Decision {
            plan: reject(req, &mut obs, 400, Some(w)),
            observation: obs,
            media: None,
        };
    }
    let mut media = None;
    let plan = match req.method {
        Method::Invite => invite(req, policy, ctx, &mut obs, &mut media),
        Method::Ack => Plan::Absorb,
        Method::Options => {
            let mut r = respond(req, 200, &new_tag(), None);
            r.headers.push(HeaderName::Allow, ALLOW);
            r.headers.push(HeaderName::Accept, ACCEPT);
            r.headers.push(HeaderName::Supported, SUPPORTED);
            obs.response = Some(200);
            Plan::Respond(vec![r])
        }
        Method::Bye => {
            obs.response = Some(200);
            Plan::Respond(vec![respond(req, 200, &new_tag(), None)])
        }
        Method::Cancel => {
            let w = warning(399, ctx.host, "no INVITE transaction matches this CANCEL");
            reject(req, &mut obs, 481, Some(w))
        }
        _ => {
            let mut plan = reject(req, &mut obs, 405, None);
            if let Plan::Respond(rs) = &mut plan {
                for r in rs {
                    r.headers.push(HeaderName::Allow, ALLOW);
                }
            }
            plan
        }
    };
    Decision {
        plan,
        observation: obs,
        media,
    }
}

fn invite(
    req: &Request,
    policy: &Policy,
    ctx: &Context<'_>,
    obs: &mut Observation,
    media: &mut Option<crate::sdp::Negotiated>,
) -> Plan {
    // What arrived is recorded whatever the answer: a call refused for its org header still
    // carried (or lost) its location.
    obs.location = location_by_value(req);
    let dialed = obs.dialed.clone().unwrap_or_default();
    if dialed != "911" && dialed != "933" {
        let what = if dialed.is_empty() { "(none)" } else { &dialed };
        let w = warning(
            399,
            ctx.host,
            &format!("dialled number {what} is not an emergency number (911, 933)"),
        );
        return reject(req, obs, 404, Some(w));
    }
    let org = obs.org.as_ref().expect("set for every INVITE");
    let routing = match (org.finding, &policy.unknown_org) {
        (scenarios::OrgFinding::Ok, _) => "psap",
        (scenarios::OrgFinding::Unknown, scenarios::UnknownOrgPolicy::Accept) => "fallback centre",
        _ => {
            let w = warning(399, ctx.host, &warning_text(org));
            return reject(req, obs, 403, Some(w));
        }
    };
    let located = crate::location::route(
        &policy.location,
        policy.unknown_ani,
        obs.ani.as_ref().map(|a| a.number.as_str()),
    );
    let (routing, address) = match located {
        None => (routing.to_owned(), None),
        Some(crate::location::Route::Psap { psap, civic }) => (psap, Some(civic.one_line())),
        Some(crate::location::Route::Fallback) => ("fallback centre".to_owned(), None),
        Some(crate::location::Route::Reject(code)) => {
            let w = warning(
                399,
                ctx.host,
                "no registered location for this ANI (ICD 5.2)",
            );
            return reject(req, obs, code, Some(w));
        }
    };
    let offer = match sdp_offer(req) {
        Ok(o) => o,
        Err(why) => {
            let w = warning(399, ctx.host, why);
            return reject(req, obs, 488, Some(w));
        }
    };
    if let Some(problem) = crate::strict::sdp_problem(offer) {
        let w = warning(399, ctx.host, &problem);
        return reject(req, obs, 488, Some(w));
    }
    let answer = match answer_offer_with(offer, ctx.local.ip(), ctx.media) {
        Ok(a) => a,
        Err(e) => {
            obs.media = Some(refused_media(offer, &e));
            let code = if matches!(e, SdpError::UnsupportedProto(_)) {
                302
            } else {
                305
            };
            let w = warning(code, ctx.host, &e.to_string());
            return reject(req, obs, 488, Some(w));
        }
    };
    obs.media = Some(answer.media);
    *media = Some(answer.negotiated);
    obs.routing = Some(routing);
    obs.response = Some(200);
    let tag = new_tag();
    let trying = Response::for_request(req, 100, None);
    let ringing = respond(req, 180, &tag, None);
    // The 200 carries the same headers as the 180 (same tag; Record-Route copied on both):
    // a copy of it, not a second walk over the request.
    let mut ok = ringing.clone();
    ok.status = 200;
    sip::message::reason_phrase(200).clone_into(&mut ok.reason);
    let scheme = if req.uri.scheme() == "sips" {
        "sips"
    } else {
        "sip"
    };
    let contact = match ctx.local {
        SocketAddr::V4(a) => format!("<{scheme}:{dialed}@{a};transport={}>", ctx.transport),
        v6 => format!(
            "<{scheme}:{dialed}@{};transport={}>",
            sip_host(v6),
            ctx.transport
        ),
    };
    ok.headers.push(HeaderName::Contact, contact);
    ok.headers.push(HeaderName::Allow, ALLOW);
    ok.headers.push(HeaderName::Supported, SUPPORTED);
    if let Some(se) = req.headers.get(&HeaderName::SessionExpires) {
        let secs = se.split(';').next().unwrap_or("").trim();
        if !secs.is_empty() && secs.bytes().all(|b| b.is_ascii_digit()) {
            ok.headers
                .push(HeaderName::SessionExpires, format!("{secs};refresher=uac"));
            ok.headers.push(HeaderName::Require, "timer");
        }
    }
    if dialed == "933" {
        let number = obs
            .ani
            .as_ref()
            .map_or_else(|| "unknown".to_owned(), |a| a.number.clone());
        let value = match &address {
            Some(a) => format!("number={number};address=\"{}\"", a.replace('"', "'")),
            None => format!("number={number}"),
        };
        ok.headers.push(HeaderName::parse(READBACK_HEADER), value);
        obs.readback = Some(ReadbackObservation { number, address });
    }
    ok.headers.push(HeaderName::ContentType, "application/sdp");
    ok.body = answer.sdp.into();
    Plan::Ring {
        now: vec![trying, ringing],
        answer: ok,
        after: policy.ring_time,
    }
}

/// The host part of a SIP URI for a socket address (IPv6 in brackets).
fn sip_host(addr: SocketAddr) -> String {
    match addr {
        SocketAddr::V4(a) => a.to_string(),
        SocketAddr::V6(a) => format!("[{}]:{}", a.ip(), a.port()),
    }
}

/// The SDP offer of an INVITE: the body itself, or the `application/sdp` part of a multipart
/// body (RFC 6442 location by value puts PIDF-LO beside it).
pub fn sdp_offer(req: &Request) -> Result<&str, &'static str> {
    if req.body.is_empty() {
        return Err("the INVITE carries no SDP offer (late offer is not supported)");
    }
    let body = std::str::from_utf8(&req.body).map_err(|_| "the INVITE body is not UTF-8")?;
    let ctype = req.content_type().unwrap_or("application/sdp");
    let media = ctype.split(';').next().unwrap_or("").trim();
    if media.eq_ignore_ascii_case("application/sdp") {
        return Ok(body);
    }
    if !media.to_ascii_lowercase().starts_with("multipart/") {
        return Err("the INVITE body is neither SDP nor multipart");
    }
    let boundary =
        sip::multipart::boundary(ctype).ok_or("multipart body without a boundary parameter")?;
    let parts = sip::multipart::parse(&req.body, boundary)
        .map_err(|_| "the multipart body is malformed (RFC 2046)")?;
    if let Some(part) = parts.iter().find(|p| p.media_type() == "application/sdp") {
        return std::str::from_utf8(part.body).map_err(|_| "the SDP part is not UTF-8");
    }
    Err("the multipart body has no application/sdp part")
}

/// Location by value (RFC 6442), checked when the INVITE has a Geolocation header.
fn location_by_value(req: &Request) -> Option<crate::observation::LocationObservation> {
    let geolocation = req.headers.get_str("Geolocation")?;
    let c = sip::location::check(
        Some(geolocation),
        req.headers.get_str("Geolocation-Routing"),
        req.content_type(),
        &req.body,
    );
    Some(crate::observation::LocationObservation {
        civic: c.civic.map(|civic| civic.one_line()),
        routing: c.routing,
        findings: c.findings,
    })
}

#[cfg(test)]
#[path = "decide_tests.rs"]
mod tests;
