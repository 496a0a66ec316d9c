//! Places one emergency call over TCP or TLS and records everything that happened on the wire.
//!
//! [`place_call`] connects (recording TCP connect and TLS handshake times and the negotiated TLS
//! parameters), sends the trunk's INVITE ([`crate::trunk::build_invite`]), reads responses until
//! a final one or the call's timeout, and then finishes the call the RFC 3261 way:
//! - 2xx: ACK to the dialog's remote target, hold for `call.hold` (still reading: a late 180 or a
//!   retransmitted 200 is accepted, the 200 is ACKed again, a BYE from the gateway is answered
//!   200 and ends the hold), then BYE and wait for its final response;
//! - non-2xx final: ACK in the INVITE transaction (same branch, RFC 3261 §17.1.1.3);
//! - no final response within `call.timeout`: CANCEL, then wait for the 487 (and ACK it).
//!
//! Every follow-up transaction (BYE, CANCEL) is bounded by `call.timeout` as well. All requests
//! of the call use the one connection the INVITE went out on (the gateway, or the SBC in front
//! of it), whatever host the dialog's route set names.
//!
//! # Invariants
//! [`place_call`] never panics and never returns an error: whatever the peer does (refuses the
//! connection, fails the handshake, sends garbage, hangs up, stays silent) ends in a
//! [`CallOutcome`] whose [`reports::CallRecord`] says so. Responses to other transactions are
//! ignored; requests from the gateway are not answered, except a BYE (200, or 481 if it names
//! another call).

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use reports::{Attempt, CallRecord};
use rustls::pki_types::ServerName;
use scenarios::CallSpec;
use sip::codec::Frame;
use sip::message::SipHeaders;
use sip::transport::{self, Connection, TransportKind};
use sip::{HeaderName, Message, Method, Request, Response};
use tokio::time::timeout_at;

use crate::sdp;
use crate::trunk::{self, LocalEndpoint};

/// Where a call is sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// Gateway name as scenarios and reports use it (`gw1`).
    pub name: String,
    /// Host written in the Request-URI and To, and the TLS server name (SNI, certificate check).
    pub host: String,
    /// Address connected to.
    pub addr: SocketAddr,
    /// TCP or TLS.
    pub transport: TransportKind,
}

/// How the originating side connects.
#[derive(Debug, Clone)]
pub struct UacConfig {
    /// TLS client configuration; required when a target's transport is TLS.
    pub tls: Option<Arc<rustls::ClientConfig>>,
    /// Host the trunk writes in its own URIs (From, P-Asserted-Identity, Call-ID).
    pub local_host: String,
    /// Bound on TCP connect plus TLS handshake.
    pub connect_timeout: Duration,
}

/// Everything known about one placed call.
#[derive(Debug, Clone)]
pub struct CallOutcome {
    /// The record that goes into the report.
    pub record: CallRecord,
    /// The INVITE as sent (as built, when the connection failed before it could be sent).
    pub invite: Request,
    /// The final response to the INVITE, if one arrived (the 487 after a CANCEL included).
    pub final_response: Option<Response>,
    /// Status codes of every provisional response to the INVITE, in arrival order (late ones too).
    pub provisionals: Vec<u16>,
    /// Problems of the SDP answer in the 2xx ([`sdp::check_answer`]); empty when not answered.
    pub answer_problems: Vec<String>,
    /// TCP connect time, in microseconds, when the connection was made.
    pub tcp_connect_us: Option<u64>,
    /// TLS handshake time, in microseconds, when a handshake completed.
    pub tls_handshake_us: Option<u64>,
    /// The gateway ended the answered call with its own BYE (answered 200) before the trunk did.
    pub hung_up_by_gateway: bool,
}

/// Why a call could not proceed; its text goes into the call record.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CallError {
    /// A TLS target but no client configuration.
    #[error("target {target} uses tls but no tls client configuration was given")]
    NoTlsConfig {
        /// The target's address.
        target: SocketAddr,
    },
    /// The target host is not a valid TLS server name.
    #[error("target host {host:?} is not a valid tls server name")]
    ServerName {
        /// The host.
        host: String,
    },
    /// Connecting or the TLS handshake failed.
    #[error(transparent)]
    Connect(transport::TransportError),
    /// Writing a request failed.
    #[error("sending {method} failed: {source}")]
    Send {
        /// The request's method.
        method: Method,
        /// The transport error.
        source: transport::TransportError,
    },
    /// Reading failed (reset, framing error).
    #[error("reading from the gateway failed: {0}")]
    Read(transport::TransportError),
    /// The gateway closed the connection.
    #[error("connection closed by the gateway {when}")]
    Closed {
        /// At which point of the call.
        when: &'static str,
    },
}

/// Places `call` towards `target`; see the module docs. Never panics, never fails: every
/// problem is recorded in the returned outcome.
pub async fn place_call(call: &CallSpec, target: &Target, cfg: &UacConfig) -> CallOutcome {
    let started = Instant::now();
    let attempt = Attempt {
        gateway: target.name.clone(),
        target: format!("{}:{}", target.host, target.addr.port()),
        transport: match target.transport {
            TransportKind::Tls => "tls",
            TransportKind::Tcp => "tcp",
        }
        .to_owned(),
        ..Attempt::default()
    };
    let mut outcome = CallOutcome {
        record: CallRecord {
            dial: call.dial.clone(),
            ani: call.ani.clone(),
            ..CallRecord::default()
        },
        invite: Request::new(Method::Invite, trunk::request_uri(&call.dial, target)),
        final_response: None,
        provisionals: Vec::new(),
        answer_problems: Vec::new(),
        tcp_connect_us: None,
        tls_handshake_us: None,
        hung_up_by_gateway: false,
    };
    let mut leg = match connect(target, cfg).await {
        Ok((conn, timings)) => {
            outcome.tcp_connect_us = Some(micros(timings.tcp_connect));
            outcome.tls_handshake_us = timings.tls_handshake.map(micros);
            let mut attempt = attempt;
            attempt.tls = conn.tls_info().map(|t| reports::TlsInfo {
                version: t.version,
                cipher: t.cipher,
                group: t.group,
                sni: t.sni,
            });
            let local = LocalEndpoint {
                host: cfg.local_host.clone(),
                addr: conn.local_addr(),
            };
            Leg::new(conn, trunk::build_invite(call, target, &local), attempt)
        }
        Err(e) => {
            let unsent = LocalEndpoint {
                host: cfg.local_host.clone(),
                addr: SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), 0),
            };
            outcome.invite = trunk::build_invite(call, target, &unsent);
            let mut attempt = attempt;
            attempt.error = Some(e.to_string());
            outcome.record.error = Some(e.to_string());
            outcome.record.call_id = outcome.invite.call_id().unwrap_or_default().to_owned();
            outcome.record.attempts.push(attempt);
            outcome.record.duration_ms = started.elapsed().as_millis() as u64;
            return outcome;
        }
    };
    let call_error = leg.run(call).await;
    outcome.record.call_id = leg.invite.call_id().unwrap_or_default().to_owned();
    if let Some(resp) = &leg.final_response {
        if call_error.is_none() {
            outcome.record.final_status = Some(resp.status);
            outcome.record.final_reason = Some(resp.reason.clone());
        }
        if (200..300).contains(&resp.status) {
            outcome.record.answered_by = Some(target.name.clone());
            outcome.record.setup_us = leg.attempt.invite_to_final_us;
            outcome.answer_problems = match std::str::from_utf8(&resp.body) {
                Ok("") => vec!["2xx carries no SDP answer".to_owned()],
                Ok(body) => sdp::check_answer(body),
                Err(_) => vec!["2xx body is not UTF-8 text".to_owned()],
            };
        }
    }
    outcome.record.error = call_error;
    outcome.hung_up_by_gateway = leg.remote_bye;
    outcome.provisionals = std::mem::take(&mut leg.provisionals);
    outcome.final_response = leg.final_response.take();
    outcome.invite = leg.invite;
    outcome.record.attempts.push(leg.attempt);
    outcome.record.duration_ms = started.elapsed().as_millis() as u64;
    outcome
}

/// Connects to `target`, over TLS with SNI = `target.host` when asked.
async fn connect(
    target: &Target,
    cfg: &UacConfig,
) -> Result<(Connection, transport::ConnectTimings), CallError> {
    let tls = match target.transport {
        TransportKind::Tcp => None,
        TransportKind::Tls => {
            let config = cfg.tls.clone().ok_or(CallError::NoTlsConfig {
                target: target.addr,
            })?;
            let name = ServerName::try_from(target.host.trim_matches(['[', ']']).to_owned())
                .map_err(|_| CallError::ServerName {
                    host: target.host.clone(),
                })?;
            Some((config, name))
        }
    };
    transport::connect(target.addr, tls, cfg.connect_timeout)
        .await
        .map_err(CallError::Connect)
}

fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

/// What one read produced.
#[derive(Debug)]
enum Incoming {
    Response(Response),
    Request(Request),
    Unparseable(String),
    Closed,
    Failed(transport::TransportError),
}

/// How waiting for a final response ended.
#[derive(Debug)]
enum Wait {
    Final(Response),
    Timeout,
    /// The gateway sent BYE during the hold (answered 200).
    HungUp,
    Ended(CallError),
}

/// What the wait loop is waiting for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Awaiting<'a> {
    /// The INVITE's final response.
    InviteFinal,
    /// The final response of the request with this branch.
    Final(&'a str),
    /// Nothing: the hold, which a BYE from the gateway ends early.
    Hold,
}

/// One INVITE on one connection, and what came back.
#[derive(Debug)]
struct Leg {
    conn: Connection,
    invite: Request,
    branch: String,
    sent_at: Instant,
    attempt: Attempt,
    provisionals: Vec<u16>,
    final_response: Option<Response>,
    /// The ACK for a 2xx, kept to answer retransmitted 2xx.
    ack: Option<Request>,
    /// The gateway hung up (sent BYE) while the call was up.
    remote_bye: bool,
}

impl Leg {
    fn new(conn: Connection, invite: Request, attempt: Attempt) -> Leg {
        let branch = invite
            .top_via()
            .and_then(|v| v.branch().map(str::to_owned))
            .unwrap_or_default();
        Leg {
            conn,
            invite,
            branch,
            sent_at: Instant::now(),
            attempt,
            provisionals: Vec::new(),
            final_response: None,
            ack: None,
            remote_bye: false,
        }
    }

    /// Adds a problem to the attempt's error text.
    fn note(&mut self, problem: impl Into<String>) {
        let problem = problem.into();
        self.attempt.error = Some(match self.attempt.error.take() {
            Some(prev) => format!("{prev}; {problem}"),
            None => problem,
        });
    }

    /// Runs the call after the connection is up; returns the call-level error, if any.
    async fn run(&mut self, call: &CallSpec) -> Option<String> {
        self.sent_at = Instant::now();
        if let Err(e) = self.send(&self.invite.clone()).await {
            self.note(e.to_string());
            return Some(e.to_string());
        }
        let deadline = self.sent_at + call.timeout;
        match self.wait(Awaiting::InviteFinal, deadline).await {
            Wait::Final(resp) if resp.status >= 300 => {
                let ack = dialog::ack_non_2xx(&self.invite, &resp);
                if let Err(e) = self.send(&ack).await {
                    self.note(e.to_string());
                }
                None
            }
            Wait::Final(resp) => {
                self.answered(call, resp).await;
                None
            }
            Wait::Timeout => {
                let error = format!(
                    "no final response within {}",
                    humantime::format_duration(call.timeout)
                );
                self.note(error.clone());
                self.cancel(call).await;
                Some(error)
            }
            Wait::HungUp => None,
            Wait::Ended(e) => {
                self.note(e.to_string());
                Some(e.to_string())
            }
        }
    }

    /// After a 2xx: ACK, hold, BYE.
    async fn answered(&mut self, call: &CallSpec, ok: Response) {
        let Some(dlg) = dialog::Dialog::from_2xx(&self.invite, &ok) else {
            self.note("2xx to INVITE lacks a usable Contact; no ACK or BYE can be routed");
            return;
        };
        let ack = dlg.ack(&self.invite);
        self.ack = Some(ack.clone());
        if let Err(e) = self.send(&ack).await {
            self.note(e.to_string());
            return;
        }
        match self.wait(Awaiting::Hold, Instant::now() + call.hold).await {
            // A 2xx retransmission does not end the hold; only a BYE or the clock does.
            Wait::Timeout | Wait::Final(_) => {}
            Wait::HungUp => return,
            Wait::Ended(e) => {
                self.note(format!("{e} during the call"));
                return;
            }
        }
        let bye = dlg.bye(&self.invite);
        let branch = bye.top_via().and_then(|v| v.branch().map(str::to_owned));
        if let Err(e) = self.send(&bye).await {
            self.note(e.to_string());
            return;
        }
        let branch = branch.unwrap_or_default();
        match self
            .wait(Awaiting::Final(&branch), Instant::now() + call.timeout)
            .await
        {
            Wait::Final(r) if (200..300).contains(&r.status) => {}
            Wait::Final(r) => self.note(format!("BYE answered {} {}", r.status, r.reason)),
            Wait::HungUp => {}
            Wait::Timeout => self.note(format!(
                "BYE not answered within {}",
                humantime::format_duration(call.timeout)
            )),
            Wait::Ended(e) => self.note(format!("{e} before answering BYE")),
        }
    }

    /// After the INVITE timed out: CANCEL, wait for the INVITE's 487 (or a racing 2xx).
    async fn cancel(&mut self, call: &CallSpec) {
        let cancel = dialog::cancel(&self.invite);
        if let Err(e) = self.send(&cancel).await {
            self.note(e.to_string());
            return;
        }
        let bound = humantime::format_duration(call.timeout);
        match self
            .wait(Awaiting::InviteFinal, Instant::now() + call.timeout)
            .await
        {
            Wait::Final(resp) if resp.status >= 300 => {
                if resp.status != 487 {
                    self.note(format!(
                        "CANCEL answered by {} {} instead of 487",
                        resp.status, resp.reason
                    ));
                }
                let ack = dialog::ack_non_2xx(&self.invite, &resp);
                if let Err(e) = self.send(&ack).await {
                    self.note(e.to_string());
                }
            }
            Wait::Final(resp) => {
                self.note("2xx arrived after CANCEL; call answered late and hung up");
                self.answered(call, resp).await;
            }
            Wait::Timeout | Wait::HungUp => {
                self.note(format!("no 487 after CANCEL within {bound}"))
            }
            Wait::Ended(e) => self.note(format!("{e} after CANCEL")),
        }
    }

    async fn send(&mut self, req: &Request) -> Result<(), CallError> {
        self.conn
            .write_all(&req.to_bytes())
            .await
            .map_err(|source| CallError::Send {
                method: req.method.clone(),
                source,
            })
    }

    async fn read(&mut self, until: Instant) -> Option<Incoming> {
        loop {
            let frame = match timeout_at(until.into(), self.conn.read_frame()).await {
                Err(_) => return None,
                Ok(Err(e)) => return Some(Incoming::Failed(e)),
                Ok(Ok(None)) => return Some(Incoming::Closed),
                Ok(Ok(Some(frame))) => frame,
            };
            let bytes = match frame {
                Frame::Message(b) => b,
                _ => continue,
            };
            return Some(match Message::parse_bytes(bytes) {
                Ok(Message::Response(r)) => Incoming::Response(r),
                Ok(Message::Request(r)) => Incoming::Request(r),
                Err(e) => Incoming::Unparseable(e.to_string()),
            });
        }
    }

    /// Reads until what `awaiting` names arrives, `until` passes, or the connection ends,
    /// handling everything else that arrives meanwhile.
    async fn wait(&mut self, awaiting: Awaiting<'_>, until: Instant) -> Wait {
        loop {
            let Some(incoming) = self.read(until).await else {
                return Wait::Timeout;
            };
            match incoming {
                Incoming::Response(r) => {
                    let Some(cseq) = r.cseq() else { continue };
                    let branch = r.top_via().and_then(|v| v.branch().map(str::to_owned));
                    let for_invite = cseq.method == Method::Invite
                        && branch.as_deref() == Some(self.branch.as_str());
                    if for_invite {
                        if let Some(done) = self.invite_response(r, awaiting).await {
                            return done;
                        }
                    } else if let Awaiting::Final(b) = awaiting
                        && branch.as_deref() == Some(b)
                        && r.status >= 200
                    {
                        return Wait::Final(r);
                    }
                }
                Incoming::Request(req) => {
                    if req.method == Method::Bye
                        && self.on_bye(&req).await
                        && awaiting == Awaiting::Hold
                    {
                        return Wait::HungUp;
                    }
                }
                Incoming::Unparseable(e) => {
                    self.note(format!("unparseable message from gateway: {e}"));
                }
                Incoming::Closed => {
                    return Wait::Ended(CallError::Closed {
                        when: match awaiting {
                            Awaiting::InviteFinal => "before a final response",
                            Awaiting::Hold => "during the call",
                            Awaiting::Final(_) => "before answering the request",
                        },
                    });
                }
                Incoming::Failed(e) => return Wait::Ended(CallError::Read(e)),
            }
        }
    }

    /// Handles a response of the INVITE transaction; `Some` when it ends the wait.
    async fn invite_response(&mut self, r: Response, awaiting: Awaiting<'_>) -> Option<Wait> {
        let elapsed = micros(self.sent_at.elapsed());
        if r.status < 200 {
            if r.status == 100 {
                self.attempt.invite_to_100_us.get_or_insert(elapsed);
            } else if (180..190).contains(&r.status) {
                self.attempt.invite_to_18x_us.get_or_insert(elapsed);
            }
            self.provisionals.push(r.status);
            return None;
        }
        if self.final_response.is_none() {
            self.attempt.invite_to_final_us = Some(elapsed);
            self.attempt.status = Some(r.status);
            self.attempt.reason = Some(r.reason.clone());
            self.attempt.warning = r.headers.get(&HeaderName::Warning).map(str::to_owned);
            self.final_response = Some(r.clone());
            if awaiting == Awaiting::InviteFinal {
                return Some(Wait::Final(r));
            }
            return None;
        }
        // A retransmitted final response: a 2xx is ACKed again (RFC 3261 §13.2.2.4).
        if (200..300).contains(&r.status)
            && let Some(ack) = self.ack.clone()
            && let Err(e) = self.send(&ack).await
        {
            return Some(Wait::Ended(e));
        }
        None
    }

    /// Answers a BYE from the gateway; `true` when it ended this call.
    async fn on_bye(&mut self, bye: &Request) -> bool {
        let ours = bye.call_id() == self.invite.call_id() && self.ack.is_some();
        let resp = Response::for_request(bye, if ours { 200 } else { 481 }, None);
        if let Err(e) = self.conn.write_all(&resp.to_bytes()).await {
            self.note(format!("answering the gateway's BYE failed: {e}"));
        }
        if ours {
            self.remote_bye = true;
        }
        ours
    }
}

/// ACK, BYE and CANCEL per RFC 3261 (§13.2.2.4, §17.1.1.3, §12.2.1.1, §9.1), kept in one place
/// so `sip::engine`'s dialog can replace it.
mod dialog {
    use sip::message::NameAddr;
    use sip::message::{SipHeaders, new_branch};
    use sip::{HeaderName, Method, Request, Response, Uri};

    /// A UAC dialog established by a 2xx.
    #[derive(Debug, Clone)]
    pub(super) struct Dialog {
        /// Remote target: the 2xx's Contact URI.
        remote_target: Uri,
        /// Route set: the 2xx's Record-Route values, reversed.
        route: Vec<String>,
        /// To with the remote tag, from the 2xx.
        to: String,
    }

    impl Dialog {
        /// The dialog a 2xx to `invite` creates; `None` without a parseable Contact.
        pub(super) fn from_2xx(_invite: &Request, ok: &Response) -> Option<Dialog> {
            let contact = NameAddr::parse(ok.headers.values(&HeaderName::Contact).next()?).ok()?;
            let mut route: Vec<String> = ok
                .headers
                .values(&HeaderName::RecordRoute)
                .map(str::to_owned)
                .collect();
            route.reverse();
            Some(Dialog {
                remote_target: contact.uri,
                route,
                to: ok.headers.get(&HeaderName::To)?.to_owned(),
            })
        }

        /// A request in the dialog: new branch, the dialog's target and route.
        fn request(&self, invite: &Request, method: Method, seq: u32) -> Request {
            let mut req = Request::new(method.clone(), self.remote_target.clone());
            let h = &mut req.headers;
            h.push(HeaderName::Via, via_with_new_branch(invite));
            h.push(HeaderName::MaxForwards, "70");
            for r in &self.route {
                h.push(HeaderName::Route, r.clone());
            }
            copy(invite, h, &HeaderName::From);
            h.push(HeaderName::To, self.to.clone());
            copy(invite, h, &HeaderName::CallId);
            h.push(HeaderName::CSeq, format!("{seq} {method}"));
            req
        }

        /// The ACK for the 2xx: same CSeq number as the INVITE, a new branch (§13.2.2.4).
        pub(super) fn ack(&self, invite: &Request) -> Request {
            self.request(invite, Method::Ack, invite_seq(invite))
        }

        /// The BYE: the next CSeq number (§15.1.1).
        pub(super) fn bye(&self, invite: &Request) -> Request {
            let mut bye = self.request(invite, Method::Bye, invite_seq(invite) + 1);
            bye.headers
                .push(HeaderName::UserAgent, crate::trunk::user_agent());
            bye
        }
    }

    /// The ACK for a non-2xx final response: INVITE transaction's branch, R-URI and Route, the
    /// response's To (§17.1.1.3).
    pub(super) fn ack_non_2xx(invite: &Request, resp: &Response) -> Request {
        let mut ack = Request::new(Method::Ack, invite.uri.clone());
        let h = &mut ack.headers;
        copy_first(invite, h, &HeaderName::Via);
        h.push(HeaderName::MaxForwards, "70");
        copy(invite, h, &HeaderName::Route);
        copy(invite, h, &HeaderName::From);
        match resp.headers.get(&HeaderName::To) {
            Some(to) => h.push(HeaderName::To, to),
            None => copy(invite, h, &HeaderName::To),
        }
        copy(invite, h, &HeaderName::CallId);
        h.push(HeaderName::CSeq, format!("{} ACK", invite_seq(invite)));
        ack
    }

    /// The CANCEL for a pending INVITE: same R-URI, top Via, From, To, Call-ID, Route (§9.1).
    pub(super) fn cancel(invite: &Request) -> Request {
        let mut c = Request::new(Method::Cancel, invite.uri.clone());
        let h = &mut c.headers;
        copy_first(invite, h, &HeaderName::Via);
        h.push(HeaderName::MaxForwards, "70");
        copy(invite, h, &HeaderName::Route);
        copy(invite, h, &HeaderName::From);
        copy(invite, h, &HeaderName::To);
        copy(invite, h, &HeaderName::CallId);
        h.push(HeaderName::CSeq, format!("{} CANCEL", invite_seq(invite)));
        c
    }

    fn invite_seq(invite: &Request) -> u32 {
        invite.cseq().map_or(1, |c| c.seq)
    }

    fn copy(from: &Request, to: &mut sip::Headers, name: &HeaderName) {
        for v in from.headers.get_all(name) {
            to.push(name.clone(), v);
        }
    }

    fn copy_first(from: &Request, to: &mut sip::Headers, name: &HeaderName) {
        if let Some(v) = from.headers.values(name).next() {
            to.push(name.clone(), v);
        }
    }

    /// The INVITE's top Via with a fresh branch.
    fn via_with_new_branch(invite: &Request) -> String {
        let Some(v) = invite.headers.values(&HeaderName::Via).next() else {
            return String::new();
        };
        let fresh = new_branch();
        match invite
            .top_via()
            .and_then(|via| via.branch().map(str::to_owned))
        {
            Some(old) => v.replacen(&old, &fresh, 1),
            None => format!("{v};branch={fresh}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use sip::message::SipHeaders;
    use sip::{HeaderName, Message, Method, Request, Response};

    use super::dialog::{self, Dialog};

    fn invite() -> Request {
        let text = "INVITE sip:911@gw1.example:5061;user=phone;transport=tls SIP/2.0\r\n\
            Via: SIP/2.0/TLS 127.0.0.1:40000;branch=z9hG4bKinv1;rport\r\n\
            Max-Forwards: 70\r\nFrom: <sip:+13125550100@trunk.invalid>;tag=ft\r\n\
            To: <sip:911@gw1.example>\r\nCall-ID: c1@trunk.invalid\r\nCSeq: 7 INVITE\r\n\
            Contact: <sip:t@127.0.0.1:40000;transport=tls>\r\nContent-Length: 0\r\n\r\n";
        match Message::parse(text.as_bytes()) {
            Ok(Message::Request(r)) => r,
            other => panic!("{other:?}"),
        }
    }

    fn ok(inv: &Request) -> Response {
        let mut r = Response::for_request(inv, 200, Some("gt"));
        r.headers.push(
            HeaderName::RecordRoute,
            "<sip:p1.example;lr>, <sip:p2.example;lr>",
        );
        r.headers
            .push(HeaderName::RecordRoute, "<sip:p3.example;lr>");
        r.headers
            .push(HeaderName::Contact, "<sip:gw@10.0.0.9:5061;transport=tls>");
        r
    }

    #[test]
    fn dialog_requests_follow_contact_and_reversed_record_route() {
        let inv = invite();
        let dlg = Dialog::from_2xx(&inv, &ok(&inv)).unwrap();
        let ack = dlg.ack(&inv);
        assert_eq!(ack.uri.to_string(), "sip:gw@10.0.0.9:5061;transport=tls");
        let routes: Vec<&str> = ack
            .headers
            .iter()
            .filter(|h| h.name == HeaderName::Route)
            .map(|h| h.value.as_str())
            .collect();
        assert_eq!(
            routes,
            [
                "<sip:p3.example;lr>",
                "<sip:p2.example;lr>",
                "<sip:p1.example;lr>"
            ]
        );
        assert_eq!(ack.cseq().unwrap().seq, 7);
        assert_eq!(ack.cseq().unwrap().method, Method::Ack);
        let via = ack.top_via().unwrap();
        assert_ne!(via.branch(), Some("z9hG4bKinv1"));
        assert!(via.branch().unwrap().starts_with("z9hG4bK"));
        assert!(via.params.contains("rport"));
        assert_eq!(ack.header_to().unwrap().tag(), Some("gt"));
        let bye = dlg.bye(&inv);
        assert_eq!(bye.cseq().unwrap().seq, 8);
        assert_eq!(bye.cseq().unwrap().method, Method::Bye);
        assert_ne!(bye.top_via().unwrap().branch(), via.branch());
        // Both serialize to messages the strict parser accepts.
        for r in [ack, bye] {
            assert!(Message::parse(&r.to_bytes()).is_ok(), "{r:?}");
        }
    }

    #[test]
    fn a_2xx_without_contact_makes_no_dialog() {
        let inv = invite();
        let mut r = ok(&inv);
        r.headers.remove(&HeaderName::Contact);
        assert!(Dialog::from_2xx(&inv, &r).is_none());
    }

    #[test]
    fn non_2xx_ack_and_cancel_stay_in_the_invite_transaction() {
        let inv = invite();
        let resp = Response::for_request(&inv, 486, Some("busy"));
        let ack = dialog::ack_non_2xx(&inv, &resp);
        assert_eq!(ack.uri, inv.uri);
        assert_eq!(ack.top_via(), inv.top_via());
        assert_eq!(ack.header_to().unwrap().tag(), Some("busy"));
        assert_eq!(ack.cseq().unwrap().to_string(), "7 ACK");
        let cancel = dialog::cancel(&inv);
        assert_eq!(cancel.uri, inv.uri);
        assert_eq!(cancel.top_via(), inv.top_via());
        assert_eq!(cancel.header_to(), inv.header_to());
        assert_eq!(cancel.header_from(), inv.header_from());
        assert_eq!(cancel.cseq().unwrap().to_string(), "7 CANCEL");
        for r in [ack, cancel] {
            assert!(Message::parse(&r.to_bytes()).is_ok(), "{r:?}");
        }
    }
}
