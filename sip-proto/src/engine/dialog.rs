//! Dialogs (RFC 3261 §12): the state both ends keep after a 2xx (or a 1xx with a To tag) to
//! INVITE, and the in-dialog requests built from it (ACK for a 2xx, BYE, re-INVITE, INFO ...).
//!
//! Routing follows §12.2.1.1: with an empty route set, or a first route with `;lr` (loose
//! routing), the Request-URI is the remote target and the route set becomes the Route headers;
//! with a strict router first, the Request-URI is that route's URI and the remote target goes last
//! in the Route headers.
//!
//! Each request gets a fresh Via branch drawn from the caller's random generator, so a test that
//! seeds it gets the same requests every run.

use super::EngineError;
use crate::message::{NameAddr, SipHeaders, new_branch_with};
use crate::{HeaderName, Method, Request, Response, Uri};

/// One dialog, from either side.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dialog {
    call_id: String,
    local_tag: String,
    remote_tag: String,
    /// Our From in requests we send (with our tag), as written.
    local: String,
    /// Their To in requests we send (with their tag), as written.
    remote: String,
    remote_target: Uri,
    route_set: Vec<String>,
    local_cseq: u32,
    remote_cseq: Option<u32>,
    /// `SIP/2.0/<transport> <sent-by>` (and `;rport` if we asked for it); a branch is added per
    /// request.
    via: String,
    local_contact: Option<String>,
}

impl Dialog {
    /// The UAC's dialog from its INVITE and a 2xx (or a 1xx with a To tag) (§12.1.2): remote
    /// target from the response's Contact, route set from its Record-Route in reverse order,
    /// local CSeq from the INVITE.
    pub fn uac(invite: &Request, resp: &Response) -> Result<Dialog, EngineError> {
        let from = invite
            .header_from()
            .ok_or(EngineError::MissingHeader("From"))?;
        let to = resp.header_to().ok_or(EngineError::MissingHeader("To"))?;
        let via = invite.top_via().ok_or(EngineError::MissingHeader("Via"))?;
        let mut via_base = format!("SIP/2.0/{} {}", via.transport, via.host);
        if let Some(p) = via.port {
            via_base.push_str(&format!(":{p}"));
        }
        if via.params.contains("rport") {
            via_base.push_str(";rport");
        }
        let mut route_set: Vec<String> = resp
            .headers
            .values(&HeaderName::RecordRoute)
            .map(str::to_owned)
            .collect();
        route_set.reverse();
        Ok(Dialog {
            call_id: invite
                .call_id()
                .ok_or(EngineError::MissingHeader("Call-ID"))?
                .to_owned(),
            local_tag: from
                .tag()
                .ok_or(EngineError::MissingHeader("From tag"))?
                .to_owned(),
            remote_tag: to
                .tag()
                .ok_or(EngineError::MissingHeader("To tag"))?
                .to_owned(),
            local: header(invite, HeaderName::From, "From")?,
            remote: header(resp, HeaderName::To, "To")?,
            remote_target: contact_uri(resp)?,
            route_set,
            local_cseq: invite.cseq().ok_or(EngineError::MissingHeader("CSeq"))?.seq,
            remote_cseq: None,
            via: via_base,
            local_contact: invite.headers.get(&HeaderName::Contact).map(str::to_owned),
        })
    }

    /// The UAS's dialog from the INVITE it received and the 2xx it sent (§12.1.1): remote target
    /// from the request's Contact, route set from its Record-Route in order, remote CSeq from the
    /// request; the Via of our own requests uses the request's transport and the host and port of
    /// our Contact. Our first request will carry CSeq 1.
    pub fn uas(req: &Request, resp: &Response) -> Result<Dialog, EngineError> {
        let to = resp.header_to().ok_or(EngineError::MissingHeader("To"))?;
        let from = req
            .header_from()
            .ok_or(EngineError::MissingHeader("From"))?;
        let transport = req
            .top_via()
            .ok_or(EngineError::MissingHeader("Via"))?
            .transport;
        let our_contact = contact_uri(resp)?;
        let via = match our_contact.as_sip() {
            Some(sip) => match sip.port {
                Some(p) => format!("SIP/2.0/{transport} {}:{p}", sip.host),
                None => format!("SIP/2.0/{transport} {}", sip.host),
            },
            None => return Err(EngineError::MissingHeader("Contact (a SIP URI)")),
        };
        Ok(Dialog {
            call_id: req
                .call_id()
                .ok_or(EngineError::MissingHeader("Call-ID"))?
                .to_owned(),
            local_tag: to
                .tag()
                .ok_or(EngineError::MissingHeader("To tag"))?
                .to_owned(),
            // An RFC 2543 peer may send no From tag: the dialog then has an empty remote tag.
            remote_tag: from.tag().unwrap_or_default().to_owned(),
            local: header(resp, HeaderName::To, "To")?,
            remote: header(req, HeaderName::From, "From")?,
            remote_target: contact_uri(req)?,
            route_set: req
                .headers
                .values(&HeaderName::RecordRoute)
                .map(str::to_owned)
                .collect(),
            local_cseq: 0,
            remote_cseq: Some(req.cseq().ok_or(EngineError::MissingHeader("CSeq"))?.seq),
            via,
            local_contact: resp.headers.get(&HeaderName::Contact).map(str::to_owned),
        })
    }

    /// The Call-ID.
    pub fn call_id(&self) -> &str {
        &self.call_id
    }
    /// Our tag.
    pub fn local_tag(&self) -> &str {
        &self.local_tag
    }
    /// The peer's tag.
    pub fn remote_tag(&self) -> &str {
        &self.remote_tag
    }
    /// Where in-dialog requests go (the peer's Contact).
    pub fn remote_target(&self) -> &Uri {
        &self.remote_target
    }
    /// The route set, in the order requests carry it.
    pub fn route_set(&self) -> &[String] {
        &self.route_set
    }
    /// The CSeq number of the last request we sent.
    pub fn local_cseq(&self) -> u32 {
        self.local_cseq
    }
    /// The highest CSeq number seen from the peer, if any.
    pub fn remote_cseq(&self) -> Option<u32> {
        self.remote_cseq
    }

    /// Replaces the remote target (after a target-refresh request or response, §12.2).
    pub fn set_remote_target(&mut self, target: Uri) {
        self.remote_target = target;
    }

    /// Whether a request from the peer belongs to this dialog (Call-ID, To tag = ours, From tag =
    /// theirs), and if so records its CSeq. Returns `false` for a CSeq lower than one already
    /// seen (§12.2.2: answer 500), except for ACK and CANCEL which reuse the INVITE's number.
    pub fn on_remote_request(&mut self, req: &Request) -> bool {
        let same = req.call_id() == Some(self.call_id.as_str())
            && req.header_to().as_ref().and_then(NameAddr::tag) == Some(self.local_tag.as_str())
            && req
                .header_from()
                .as_ref()
                .and_then(NameAddr::tag)
                .unwrap_or_default()
                == self.remote_tag;
        let Some(seq) = req.cseq().map(|c| c.seq) else {
            return false;
        };
        if !same {
            return false;
        }
        if matches!(req.method, Method::Ack | Method::Cancel) {
            return true;
        }
        if self.remote_cseq.is_some_and(|r| seq <= r) {
            return false;
        }
        self.remote_cseq = Some(seq);
        true
    }

    /// The ACK for a 2xx to the INVITE with CSeq number `invite_cseq` (§13.2.2.4): a new
    /// branch drawn from `rng`, the dialog's routing, CSeq `invite_cseq ACK`.
    pub fn ack(&self, invite_cseq: u32, rng: &mut fastrand::Rng) -> Request {
        self.build(Method::Ack, invite_cseq, rng)
    }

    /// A new in-dialog request (BYE, re-INVITE, INFO, UPDATE ...): a new branch drawn from
    /// `rng` and the next local CSeq number. Target-refresh methods carry our Contact.
    pub fn request(&mut self, method: Method, rng: &mut fastrand::Rng) -> Request {
        // CSeq numbers stay below 2^31 (§8.1.1.5).
        self.local_cseq = (self.local_cseq + 1).min((1 << 31) - 1);
        self.build(method, self.local_cseq, rng)
    }

    fn build(&self, method: Method, seq: u32, rng: &mut fastrand::Rng) -> Request {
        let first_is_strict = self
            .route_set
            .first()
            .and_then(|r| NameAddr::parse(r).ok())
            .filter(|n| !n.uri.as_sip().is_some_and(|s| s.params.contains("lr")));
        let (uri, routes): (Uri, Vec<String>) = match first_is_strict {
            Some(strict) => {
                let mut routes: Vec<String> = self.route_set[1..].to_vec();
                routes.push(format!("<{}>", self.remote_target));
                (strict.uri, routes)
            }
            None => (self.remote_target.clone(), self.route_set.clone()),
        };
        let mut req = Request::new(method.clone(), uri);
        req.headers.push(
            HeaderName::Via,
            format!("{};branch={}", self.via, new_branch_with(rng)),
        );
        req.headers.push(HeaderName::MaxForwards, "70");
        req.headers.push(HeaderName::From, self.local.clone());
        req.headers.push(HeaderName::To, self.remote.clone());
        req.headers.push(HeaderName::CallId, self.call_id.clone());
        req.headers
            .push(HeaderName::CSeq, format!("{seq} {method}"));
        for r in routes {
            req.headers.push(HeaderName::Route, r);
        }
        let refresh = matches!(
            method,
            Method::Invite | Method::Update | Method::Subscribe | Method::Notify | Method::Refer
        );
        if refresh && let Some(c) = &self.local_contact {
            req.headers.push(HeaderName::Contact, c.clone());
        }
        req
    }
}

fn header(
    msg: &impl SipHeaders,
    name: HeaderName,
    label: &'static str,
) -> Result<String, EngineError> {
    msg.headers()
        .get(&name)
        .map(str::to_owned)
        .ok_or(EngineError::MissingHeader(label))
}

fn contact_uri(msg: &impl SipHeaders) -> Result<Uri, EngineError> {
    msg.headers()
        .values(&HeaderName::Contact)
        .next()
        .and_then(|c| NameAddr::parse(c).ok())
        .map(|n| n.uri)
        .ok_or(EngineError::MissingHeader("Contact"))
}
