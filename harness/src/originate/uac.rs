//! Places one emergency call over TCP or TLS and records everything that happened on the wire.
//!
//! [`attempt`] (and [`place_call`], a call of one attempt) connects (recording TCP connect and TLS handshake times and the negotiated TLS
//! parameters), sends the trunk's INVITE ([`crate::originate::trunk::build_invite`]), reads responses until
//! a final one or the call's timeout, and then finishes the call the RFC 3261 way:
//! - 2xx: ACK to the dialog's remote target, hold for `call.hold` (still reading: a late 180 or a
//!   retransmitted 200 is accepted, the 200 is ACKed again, a BYE from the gateway is answered
//!   200 and ends the hold), then BYE and wait for its final response;
//! - non-2xx final: ACK in the INVITE transaction (same branch, RFC 3261 §17.1.1.3);
//! - no final response within `call.timeout`: CANCEL, then wait for the 487 (and ACK it);
//! - the caller hangs up first (`call.abandon_after`, an abandoned call): the same CANCEL, and
//!   the attempt records when ([`Timings::abandoned_at_us`]) and ends as the CANCEL met.
//!
//! Every follow-up transaction (BYE, CANCEL) is bounded by `call.timeout` as well. All requests
//! of the call use the one connection the INVITE went out on (the gateway, or the SBC in front
//! of it), whatever host the dialog's route set names.
//!
//! # Invariants
//! [`attempt`] never panics and never returns an error: whatever the peer does (refuses the
//! connection, fails the handshake, sends garbage, hangs up, stays silent) ends in an
//! [`Attempt`] whose typed [`AttemptEnd`] says so (its notes say the details in words). Responses to other transactions are
//! ignored; requests from the gateway are not answered, except a BYE (200, or 481 if it names
//! another call).

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rustls::pki_types::ServerName;
use scenarios::CallSpec;
use sip::codec::Frame;
use sip::engine;
use sip::message::SipHeaders;
use sip::transport::{self, Connection, TransportKind};
use sip::{HeaderName, Message, Method, Request, Response};
use tokio::time::timeout_at;

use crate::evidence::{Attempt, AttemptEnd, Call, Decision, Epoch, Failure, Teardown, Timings};
use crate::originate::media::Offered;
use crate::originate::trunk::{self, LocalEndpoint};

pub use crate::originate::trunk::Target;

/// How the originating side connects.
#[derive(Debug, Clone)]
pub struct UacConfig {
    /// TLS client configuration; required when a target's transport is TLS.
    pub tls: Option<Arc<rustls::ClientConfig>>,
    /// The trust `tls` was built from (the two must agree), so a scenario can offer its own TLS
    /// profile (`call.tls`) with it; `None`: every call uses `tls` as it is.
    pub tls_trust: Option<crate::originate::tls::TlsTrust>,
    /// Host the trunk writes in its own URIs (From, P-Asserted-Identity, Call-ID).
    pub local_host: String,
    /// Bound on TCP connect plus TLS handshake.
    pub connect_timeout: Duration,
    /// The run's clock (the embedded gateways' too), for the attempts' timestamps.
    pub epoch: Epoch,
    /// What the run records of its connections (messages, TLS secrets); nothing by default.
    pub recording: crate::evidence::recording::Recording,
    /// Carry media on answered calls (ICD 4): bind the offer's port, send and receive SRTP
    /// from the 200 OK to the BYE.
    pub media: bool,
}

/// Why a call could not proceed; its text goes into the attempt's notes, its kind into the
/// attempt's [`AttemptEnd`].
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
    #[error("reading from the peer failed: {0}")]
    Read(transport::TransportError),
    /// The peer closed the connection.
    #[error("connection closed by the peer {when}")]
    Closed {
        /// At which point of the call.
        when: &'static str,
    },
}

impl CallError {
    /// The kind of failure it is, for the attempt's [`AttemptEnd::NoAnswer`].
    pub fn failure(&self) -> Failure {
        match self {
            CallError::NoTlsConfig { .. } | CallError::ServerName { .. } => Failure::Setup,
            CallError::Connect(e) => Failure::of_connect(e),
            CallError::Send { .. } | CallError::Read(_) => Failure::Reset,
            CallError::Closed { .. } => Failure::Closed,
        }
    }
}

/// Places `call` towards `target` as a call of one attempt; see the module docs. Never panics,
/// never fails: every problem is recorded in the returned [`Call`].
pub async fn place_call(call: &CallSpec, target: &Target, cfg: &UacConfig) -> Call {
    let a = attempt(call, target, cfg, None).await;
    Call {
        dial: call.dial.clone(),
        ani: call.ani.clone(),
        first_choice: target.name.clone(),
        attempts: vec![a],
    }
}

/// The INVITE got no final response within the call's timeout: the call now CANCELs it and
/// waits for the 487 (or a racing 2xx), which a trunk does not wait for before trying the next
/// gateway.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimedOut;

/// One INVITE towards `target` and everything after it (ACK, hold, BYE; or CANCEL), telling
/// `timed_out` the moment the INVITE times out (before the CANCEL). The sender is dropped
/// unsent when the attempt ends any other way, so a receiver wakes either way. Its
/// [`Attempt::decision`] is what a one-attempt call does: answered, final, or no answer.
pub async fn attempt(
    call: &CallSpec,
    target: &Target,
    cfg: &UacConfig,
    timed_out: Option<tokio::sync::oneshot::Sender<TimedOut>>,
) -> Attempt {
    let epoch = cfg.epoch;
    let started = Instant::now();
    let mut a = Attempt {
        gateway: target.name.clone(),
        target: format!("{}:{}", target.host, target.addr.port()),
        transport: target.transport,
        end: AttemptEnd::NoAnswer(Failure::Setup),
        decision: Decision::NoAnswer,
        invite: None,
        final_response: None,
        provisionals: Vec::new(),
        tls: None,
        timings: Timings {
            started_at_us: epoch.us(started),
            ..Timings::default()
        },
        notes: Vec::new(),
        teardown: None,
        hung_up_by_peer: false,
        media: None,
    };
    let mut leg = match connect(target, cfg).await {
        Ok((conn, timings)) => {
            a.timings.tcp_connect_us = Some(micros(timings.tcp_connect));
            a.timings.tls_handshake_us = timings.tls_handshake.map(micros);
            a.tls = conn.tls_info().map(|t| reports::TlsInfo {
                version: t.version,
                cipher: t.cipher,
                group: t.group,
                sni: t.sni,
                certificate: t.certificate,
            });
            let local = LocalEndpoint {
                host: cfg.local_host.clone(),
                addr: conn.local_addr(),
            };
            let offered = if cfg.media {
                match Offered::bind(local.addr.ip()) {
                    Ok(o) => Some(o),
                    Err(e) => {
                        a.notes
                            .push(format!("no media port could be bound in 30000-60000: {e}"));
                        None
                    }
                }
            } else {
                None
            };
            let invite =
                trunk::build_invite_with(call, target, &local, offered.as_ref().map(|o| &o.offer));
            let mut leg = Leg::new(conn, invite, epoch);
            leg.timed_out = timed_out;
            leg.offered = offered;
            leg
        }
        Err(e) => {
            let unsent = LocalEndpoint {
                host: cfg.local_host.clone(),
                addr: SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), 0),
            };
            a.invite = Some(trunk::build_invite(call, target, &unsent));
            a.end = AttemptEnd::NoAnswer(e.failure());
            a.notes.push(e.to_string());
            a.timings.ended_at_us = epoch.now_us();
            return a;
        }
    };
    let end = leg.run(call).await;
    a.end = match (&end, &leg.final_response) {
        // An abandoned call ends as its CANCEL met: 487, or a 2xx that raced it.
        (LegEnd::Final | LegEnd::Abandoned, Some(r)) if (200..300).contains(&r.status) => {
            AttemptEnd::Answered { status: r.status }
        }
        (LegEnd::Final | LegEnd::Abandoned, Some(r)) => AttemptEnd::Rejected {
            status: r.status,
            q850: q850_cause(r),
        },
        (LegEnd::TimedOut | LegEnd::Abandoned, None) => AttemptEnd::NoAnswer(Failure::TimedOut),
        (LegEnd::TimedOut, Some(_)) => AttemptEnd::NoAnswer(Failure::TimedOut),
        (LegEnd::Failed(f), _) => AttemptEnd::NoAnswer(f.clone()),
        (LegEnd::Final, None) => AttemptEnd::NoAnswer(Failure::Setup),
    };
    a.decision = match &a.end {
        AttemptEnd::Answered { .. } => Decision::Answered,
        AttemptEnd::Rejected { .. } => Decision::Final,
        _ => Decision::NoAnswer,
    };
    a.timings.invite_at_us = leg.invite_at_us;
    a.timings.to_100_us = leg.to_100_us;
    a.timings.to_18x_us = leg.to_18x_us;
    a.timings.to_final_us = leg.to_final_us;
    a.timings.abandoned_at_us = leg.abandoned_at_us;
    a.hung_up_by_peer = leg.remote_bye;
    a.media = leg.media.take();
    a.teardown = leg.teardown.take();
    a.provisionals = std::mem::take(&mut leg.provisionals);
    a.notes = std::mem::take(&mut leg.notes);
    a.final_response = leg.final_response.take();
    a.invite = Some(leg.invite);
    a.timings.ended_at_us = epoch.now_us();
    a
}

/// The Q.850 cause of a response's `Reason: Q.850;cause=N` header, if any (RFC 3326).
pub fn q850_cause(resp: &Response) -> Option<u16> {
    resp.headers
        .iter()
        .filter(|h| h.name.as_str().eq_ignore_ascii_case("Reason"))
        .flat_map(|h| sip::message::split_list(&h.value))
        .find_map(|value| {
            let mut parts = value.split(';');
            let protocol = parts.next()?.trim();
            if !protocol.eq_ignore_ascii_case("Q.850") {
                return None;
            }
            parts.find_map(|p| {
                let (k, v) = p.split_once('=')?;
                k.trim()
                    .eq_ignore_ascii_case("cause")
                    .then(|| v.trim().trim_matches('"').parse().ok())
                    .flatten()
            })
        })
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
            Some((cfg.recording.client(config), name))
        }
    };
    let (mut conn, timings) = transport::connect(target.addr, tls, cfg.connect_timeout)
        .await
        .map_err(CallError::Connect)?;
    cfg.recording.tap_trunk(&mut conn);
    Ok((conn, timings))
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

/// How the INVITE's part of a leg ended.
#[derive(Debug)]
enum LegEnd {
    /// A final response arrived (in `Leg::final_response`).
    Final,
    /// No final response within the call's timeout.
    TimedOut,
    /// The caller hung up first (`call.abandon_after`) and the INVITE was CANCELled; what the
    /// CANCEL met is in `Leg::final_response`.
    Abandoned,
    /// The connection failed before a final response.
    Failed(Failure),
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
    epoch: Epoch,
    invite_at_us: Option<u64>,
    to_100_us: Option<u64>,
    to_18x_us: Option<u64>,
    to_final_us: Option<u64>,
    /// When the caller hung up unanswered (`call.abandon_after`), run-epoch microseconds.
    abandoned_at_us: Option<u64>,
    notes: Vec<String>,
    teardown: Option<Teardown>,
    provisionals: Vec<u16>,
    final_response: Option<Response>,
    /// The ACK for a 2xx, kept to answer retransmitted 2xx.
    ack: Option<Request>,
    /// The gateway hung up (sent BYE) while the call was up.
    remote_bye: bool,
    /// Told when the INVITE times out ([`place_call_reporting`]).
    timed_out: Option<tokio::sync::oneshot::Sender<TimedOut>>,
    /// The media socket the offer named, until the 200 OK starts its session.
    offered: Option<Offered>,
    /// What the call's media recorded.
    media: Option<reports::MediaLeg>,
}

impl Leg {
    fn new(conn: Connection, invite: Request, epoch: Epoch) -> Leg {
        let branch = invite
            .top_via()
            .and_then(|v| v.branch().map(str::to_owned))
            .unwrap_or_default();
        Leg {
            conn,
            invite,
            branch,
            sent_at: Instant::now(),
            epoch,
            invite_at_us: None,
            to_100_us: None,
            to_18x_us: None,
            abandoned_at_us: None,
            to_final_us: None,
            notes: Vec::new(),
            teardown: None,
            provisionals: Vec::new(),
            final_response: None,
            ack: None,
            remote_bye: false,
            timed_out: None,
            offered: None,
            media: None,
        }
    }

    /// Adds a problem to the attempt's notes (for people; no verdict reads them).
    fn note(&mut self, problem: impl Into<String>) {
        self.notes.push(problem.into());
    }

    /// Runs the call after the connection is up.
    async fn run(&mut self, call: &CallSpec) -> LegEnd {
        self.sent_at = Instant::now();
        if let Err(e) = self.send(&self.invite.clone()).await {
            self.note(e.to_string());
            return LegEnd::Failed(e.failure());
        }
        self.invite_at_us = Some(self.epoch.us(self.sent_at));
        let deadline = self.sent_at + call.timeout;
        // An abandoned call: the caller hangs up before the call is set up.
        let hang_up = call
            .abandon_after
            .map(|d| self.sent_at + d)
            .filter(|at| *at < deadline);
        match self
            .wait(Awaiting::InviteFinal, hang_up.unwrap_or(deadline))
            .await
        {
            Wait::Timeout if hang_up.is_some() => {
                self.abandoned_at_us = Some(self.epoch.now_us());
                self.note(format!(
                    "the caller hung up after {} with no final response: CANCEL (an abandoned call)",
                    humantime::format_duration(call.abandon_after.unwrap_or_default())
                ));
                self.cancel(call).await;
                LegEnd::Abandoned
            }
            Wait::Final(resp) if resp.status >= 300 => {
                let ack = engine::ack_for_non_2xx(&self.invite, &resp);
                if let Err(e) = self.send(&ack).await {
                    self.note(e.to_string());
                }
                LegEnd::Final
            }
            Wait::Final(resp) => {
                self.answered(call, resp).await;
                LegEnd::Final
            }
            // A BYE ends only a hold, never the wait for the INVITE's final response.
            Wait::HungUp => {
                self.note("the peer hung up before answering");
                LegEnd::Failed(Failure::Closed)
            }
            Wait::Timeout => {
                self.note(format!(
                    "no final response within {}",
                    humantime::format_duration(call.timeout)
                ));
                if let Some(tx) = self.timed_out.take() {
                    let _ = tx.send(TimedOut);
                }
                self.cancel(call).await;
                LegEnd::TimedOut
            }
            Wait::Ended(e) => {
                self.note(e.to_string());
                LegEnd::Failed(e.failure())
            }
        }
    }

    /// After a 2xx: ACK, hold, BYE.
    async fn answered(&mut self, call: &CallSpec, ok: Response) {
        self.teardown = Some(self.answered_dialog(call, ok).await);
    }

    /// ACK, hold, BYE of an answered call; how the dialog ended.
    async fn answered_dialog(&mut self, call: &CallSpec, ok: Response) -> Teardown {
        let mut dlg = match engine::Dialog::uac(&self.invite, &ok) {
            Ok(d) => d,
            Err(e) => {
                self.note(format!(
                    "2xx to INVITE makes no dialog ({e}); no ACK or BYE can be routed"
                ));
                return Teardown::NoDialog;
            }
        };
        let rng = &mut fastrand::Rng::new();
        // Media starts with the 200 OK: the gateway starts sending as it answers.
        let session = self
            .offered
            .take()
            .and_then(|o| o.start(std::str::from_utf8(&ok.body).unwrap_or("")));
        let ack = dlg.ack(self.invite.cseq().map_or(1, |c| c.seq), rng);
        self.ack = Some(ack.clone());
        if let Err(e) = self.send(&ack).await {
            self.note(e.to_string());
            if let Some(s) = session {
                self.media = Some(s.stop().await);
            }
            return Teardown::ConnectionLost;
        }
        let held = self.wait(Awaiting::Hold, Instant::now() + call.hold).await;
        if let Some(s) = session {
            self.media = Some(s.stop().await);
        }
        match held {
            // A 2xx retransmission does not end the hold; only a BYE or the clock does.
            Wait::Timeout | Wait::Final(_) => {}
            Wait::HungUp => return Teardown::PeerHungUp,
            Wait::Ended(e) => {
                self.note(format!("{e} during the call"));
                return Teardown::ConnectionLost;
            }
        }
        let mut bye = dlg.request(Method::Bye, rng);
        bye.headers.push(HeaderName::UserAgent, trunk::user_agent());
        let branch = bye.top_via().and_then(|v| v.branch().map(str::to_owned));
        if let Err(e) = self.send(&bye).await {
            self.note(e.to_string());
            return Teardown::ConnectionLost;
        }
        let branch = branch.unwrap_or_default();
        match self
            .wait(Awaiting::Final(&branch), Instant::now() + call.timeout)
            .await
        {
            Wait::Final(r) if (200..300).contains(&r.status) => Teardown::ByeAnswered,
            Wait::Final(r) => {
                self.note(format!("BYE answered {} {}", r.status, r.reason));
                Teardown::ByeRejected(r.status)
            }
            Wait::HungUp => Teardown::PeerHungUp,
            Wait::Timeout => {
                self.note(format!(
                    "BYE not answered within {}",
                    humantime::format_duration(call.timeout)
                ));
                Teardown::ByeUnanswered
            }
            Wait::Ended(e) => {
                self.note(format!("{e} before answering BYE"));
                Teardown::ConnectionLost
            }
        }
    }

    /// After the INVITE timed out: CANCEL, wait for the INVITE's 487 (or a racing 2xx).
    async fn cancel(&mut self, call: &CallSpec) {
        let cancel = engine::cancel_for(&self.invite);
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
                let ack = engine::ack_for_non_2xx(&self.invite, &resp);
                if let Err(e) = self.send(&ack).await {
                    self.note(e.to_string());
                }
            }
            Wait::Final(resp) => {
                self.note("2xx arrived after CANCEL; call answered late and hung up");
                // Nobody is on the line any more: ACK and BYE at once, no hold.
                let gone = CallSpec {
                    hold: Duration::ZERO,
                    ..call.clone()
                };
                self.answered(&gone, resp).await;
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
                self.to_100_us.get_or_insert(elapsed);
            } else if (180..190).contains(&r.status) {
                self.to_18x_us.get_or_insert(elapsed);
            }
            self.provisionals.push(r.status);
            return None;
        }
        if self.final_response.is_none() {
            self.to_final_us = Some(elapsed);
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
