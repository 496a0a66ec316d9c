//! The request handling of one connection, over `sip::engine`'s [`ServerTransactions`]: the
//! engine matches retransmissions (and re-sends the last response), absorbs the ACK of a
//! non-2xx final, pairs a CANCEL with its INVITE and retransmits an unacknowledged 2xx; this
//! module decides answers ([`crate::decide`]), applies call-level faults and the capacity cap,
//! holds INVITEs that ring or are delayed, and records observations.
//!
//! Output is queued and written once per batch of input ([`Session::flush`]), so an INVITE
//! answered at once gets its 100, 180 and 200 in one write.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::Ordering;

use bytes::{Bytes, BytesMut};
use sip::engine::{
    Incoming, Reliability, ServerEvent, ServerState, ServerTransactions, Timers, TxKey,
};
use sip::message::{SipHeaders, new_tag};
use sip::{HeaderName, Message, Method, Request, Response};
use tokio::io::AsyncWriteExt;
use tokio::time::Instant;

use crate::conn::{Ended, Meta, Socket, drain, reset};
use crate::decide::{Context, Plan, SERVER, decide, observe};
use crate::fault::FaultKind;
use crate::media::{Pending, pending, reserve};
use crate::observation::Observation;
use crate::record::Stamp;
use crate::salvage::{frame_error_answer, parse_error_answer};
use crate::server::Shared;
use crate::stats::bump;
use scenarios::MediaFault;

/// The label of an INVITE refused by the capacity cap.
pub const CAPACITY_LABEL: &str = "capacity 503 q850=34";

/// The engine's clock: tokio's (so a paused test clock would drive it too), as std.
fn clock() -> std::time::Instant {
    Instant::now().into_std()
}

/// Why an INVITE is held back.
enum Hold {
    /// Ringing: `answer` (200 OK) goes out when due, unless a CANCEL came first.
    Ring {
        answer: Response,
        observation: Box<Observation>,
        /// The call's media, started when the 200 OK goes out.
        media: Option<Box<Pending>>,
    },
    /// A [`FaultKind::Delay`]: decided and answered normally when due.
    Delay { label: String },
}

struct Held {
    due: Instant,
    key: TxKey,
    invite: Request,
    at: Stamp,
    hold: Hold,
}

pub(crate) struct Session<'a, S> {
    io: S,
    meta: &'a Meta,
    shared: &'a Shared,
    txs: ServerTransactions,
    out: BytesMut,
    held: Vec<Held>,
    /// INVITE transactions a fault left unanswered, with the fault's label.
    silenced: HashMap<TxKey, String>,
    /// Call-IDs of this connection's live dialogs (each holds one capacity slot).
    dialogs: HashSet<String>,
}

impl<'a, S: Socket> Session<'a, S> {
    pub(crate) fn new(io: S, meta: &'a Meta, shared: &'a Shared) -> Self {
        Session {
            io,
            meta,
            shared,
            txs: ServerTransactions::new(Timers::default(), Reliability::Reliable),
            out: BytesMut::with_capacity(4096),
            held: Vec::new(),
            silenced: HashMap::new(),
            dialogs: HashSet::new(),
        }
    }

    pub(crate) fn io(&mut self) -> &mut S {
        &mut self.io
    }

    pub(crate) fn queue_raw(&mut self, bytes: &[u8]) {
        self.out.extend_from_slice(bytes);
    }

    /// Writes everything queued (responses the engine wants sent, keep-alive pongs) at once.
    pub(crate) async fn flush(&mut self) -> Result<(), Ended> {
        while let Some(resp) = self.txs.poll_transmit_shared() {
            resp.encode(&mut self.out);
        }
        while let Some(ev) = self.txs.poll_event() {
            match ev {
                ServerEvent::Terminated { key } => {
                    self.silenced.remove(&key);
                }
                ServerEvent::AckTimeout { key } => {
                    tracing::debug!(peer = %self.meta.peer, branch = %key.branch, "no ACK for a final response");
                }
                _ => {}
            }
        }
        if !self.out.is_empty() {
            if let Some(tap) = &self.meta.tap {
                tap.sent(&self.out);
            }
            self.io.write_all(&self.out).await?;
            self.io.flush().await?;
            self.out.clear();
        }
        Ok(())
    }

    /// When [`Session::on_due`] must run next: a held INVITE or an engine timer.
    pub(crate) fn next_due(&self) -> Option<Instant> {
        let held = self.held.iter().map(|h| h.due).min();
        let engine = self.txs.poll_timeout().map(Instant::from_std);
        match (held, engine) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Answers held INVITEs whose time has come and fires engine timers.
    pub(crate) async fn on_due(&mut self) -> Result<(), Ended> {
        let now = Instant::now();
        while let Some(i) = self.held.iter().position(|h| h.due <= now) {
            let h = self.held.swap_remove(i);
            match h.hold {
                Hold::Ring {
                    answer,
                    observation,
                    media,
                } => {
                    self.record(*observation, h.at);
                    if self.txs.state(&h.key) == Some(ServerState::Proceeding) {
                        self.respond(&h.key, answer);
                        if let Some(m) = media {
                            self.start_media(&h.invite, *m);
                        }
                    }
                }
                Hold::Delay { label } => {
                    let capacity = self.shared.faults().plan.capacity;
                    self.answer_invite(h.invite, h.key, h.at, capacity, Some(label), None);
                }
            }
        }
        self.txs.handle_timeout(clock());
        self.flush().await
    }

    /// Gives back this connection's capacity slots (the connection is gone).
    pub(crate) fn end(&mut self) {
        let n = self.dialogs.len() as u64;
        if n > 0 {
            self.shared.dialogs.fetch_sub(n, Ordering::AcqRel);
            self.dialogs.clear();
        }
    }

    /// Starts a call's media as its 200 OK goes out.
    fn start_media(&self, invite: &Request, m: Pending) {
        let call_id = invite.call_id().unwrap_or_default();
        self.shared.media.start(call_id, m);
    }

    fn context(&self) -> Context<'_> {
        Context {
            media: None,
            host: &self.shared.host,
            local: self.meta.local,
            transport: if self.meta.transport == "TLS" {
                "tls"
            } else {
                "tcp"
            },
            record: self.shared.recorder.wanted(),
        }
    }

    /// Fills the connection's fields and stores the observation (unless nobody wants it).
    fn record(&self, mut obs: Observation, at: Stamp) {
        let recorder = &self.shared.recorder;
        if !recorder.wanted() {
            return;
        }
        at.apply(&mut obs);
        obs.conn = self.meta.conn;
        obs.connection_fault.clone_from(&self.meta.fault);
        obs.peer.clone_from(&self.meta.peer);
        self.meta.transport.clone_into(&mut obs.transport);
        obs.tls.clone_from(&self.meta.tls);
        recorder.record(obs);
    }

    /// Sends `resp` in transaction `key` through the engine (which queues it for the wire).
    fn respond(&mut self, key: &TxKey, resp: Response) {
        if key.method == Method::Invite {
            match resp.status {
                200..=299 => bump(&self.shared.counters.answered),
                300.. => bump(&self.shared.counters.rejected),
                _ => {}
            }
        }
        if let Err(e) = self.txs.respond(clock(), key, resp) {
            tracing::debug!(peer = %self.meta.peer, error = %e, "response refused by the transaction");
        }
    }

    /// One framed message. A message over the cap is refused (513) and ends the connection.
    pub(crate) async fn on_frame(&mut self, bytes: Bytes) -> Result<(), Ended> {
        let max = self.shared.limits.max_message_bytes;
        if bytes.len() > max {
            let why = format!("message exceeds {max} bytes ({} bytes)", bytes.len());
            let head_len = find_head_end(&bytes).unwrap_or(bytes.len());
            self.on_frame_error(&why, true, &bytes[..head_len]).await;
            return Err(Ended::Frame(why));
        }
        let at = self.shared.recorder.stamp();
        match Message::parse_bytes(bytes.clone()) {
            Ok(Message::Request(req)) => self.on_request(req, at).await,
            Ok(Message::Response(resp)) => {
                tracing::debug!(peer = %self.meta.peer, status = resp.status, "stray response ignored");
                Ok(())
            }
            Err(e) => {
                tracing::info!(peer = %self.meta.peer, error = %e, "unparseable message");
                let (obs, resp) = parse_error_answer(&self.shared.host, &e, &bytes);
                self.record(obs, at);
                if let Some(resp) = resp {
                    resp.encode(&mut self.out);
                }
                Ok(())
            }
        }
    }

    /// Answers a message that cannot be framed (400, or 513 when too large) if its header
    /// block parses far enough, records it and closes the connection's write side.
    pub(crate) async fn on_frame_error(&mut self, why: &str, too_large: bool, head: &[u8]) {
        let at = self.shared.recorder.stamp();
        tracing::info!(peer = %self.meta.peer, error = %why, "framing error; closing");
        let (obs, resp) = frame_error_answer(&self.shared.host, why, too_large, head);
        self.record(obs, at);
        if let Some(resp) = resp {
            resp.encode(&mut self.out);
        }
        let _ = self.flush().await;
        let _ = self.io.shutdown().await;
    }

    async fn on_request(&mut self, req: Request, at: Stamp) -> Result<(), Ended> {
        match self.txs.on_request(clock(), &req) {
            Incoming::New(key) => return self.on_new(req, key, at).await,
            // Observed only when someone keeps the observation (a load run keeps none).
            Incoming::Retransmission(_) if self.shared.recorder.wanted() => {
                let mut obs = observe(&req);
                obs.retransmission = true;
                self.record(obs, at);
            }
            Incoming::AckForCompleted(_) | Incoming::AckOutsideTransaction
                if self.shared.recorder.wanted() =>
            {
                self.record(observe(&req), at);
            }
            Incoming::Retransmission(_)
            | Incoming::AckForCompleted(_)
            | Incoming::AckOutsideTransaction => {}
            Incoming::Cancel { cancel, invite } => self.on_cancel(&req, &cancel, invite, at),
            // Malformed (no Via or no keying headers; the parser makes this rare): answered
            // statelessly.
            _ => {
                let d = decide(&req, &self.shared.policy(), &self.context());
                self.record(d.observation, at);
                if let Plan::Respond(rs) = d.plan {
                    for r in rs {
                        r.encode(&mut self.out);
                    }
                }
            }
        }
        Ok(())
    }

    async fn on_new(&mut self, req: Request, key: TxKey, at: Stamp) -> Result<(), Ended> {
        let counters = &self.shared.counters;
        if req.method == Method::Invite {
            bump(&counters.invites);
            let active = self.shared.faults();
            if let Some(fault) = active.next_call() {
                bump(&counters.faults_applied);
                if let FaultKind::Media(m) = fault {
                    let label = fault.label();
                    let m = *m;
                    self.answer_invite(req, key, at, active.plan.capacity, Some(label), Some(m));
                    return Ok(());
                }
                return self.apply_fault(req, key, fault.clone(), at).await;
            }
            self.answer_invite(req, key, at, active.plan.capacity, None, None);
            return Ok(());
        }
        match req.method {
            Method::Bye => {
                bump(&counters.byes);
                if let Some(call_id) = req.call_id()
                    && self.dialogs.remove(call_id)
                {
                    self.shared.dialogs.fetch_sub(1, Ordering::AcqRel);
                }
            }
            Method::Options => bump(&counters.options),
            _ => {}
        }
        let d = decide(&req, &self.shared.policy(), &self.context());
        let mut obs = d.observation;
        if req.method == Method::Bye
            && let Some(call_id) = req.call_id()
        {
            obs.media_flow = self.shared.media.stop(call_id).await;
            if let Some(leg) = &obs.media_flow {
                self.shared.counters.media(leg);
            }
        }
        self.record(obs, at);
        if let Plan::Respond(rs) = d.plan {
            for r in rs {
                self.respond(&key, r);
            }
        }
        Ok(())
    }

    /// Takes a capacity slot for a new dialog; false when the cap is reached.
    fn take_slot(&self, capacity: Option<u32>) -> bool {
        let dialogs = &self.shared.dialogs;
        match capacity {
            None => {
                dialogs.fetch_add(1, Ordering::AcqRel);
                true
            }
            Some(cap) => dialogs
                .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                    (n < u64::from(cap)).then_some(n + 1)
                })
                .is_ok(),
        }
    }

    /// Decides and answers an INVITE as the policy says (the normal path, also taken by a
    /// delayed INVITE when its delay is over).
    fn answer_invite(
        &mut self,
        req: Request,
        key: TxKey,
        at: Stamp,
        capacity: Option<u32>,
        fault: Option<String>,
        media_fault: Option<MediaFault>,
    ) {
        let policy = self.shared.policy();
        let reservation = (policy.media && req.method == Method::Invite)
            .then(|| reserve(self.meta.local.ip()))
            .flatten();
        let ctx = Context {
            media: reservation.as_ref().map(|r| &r.reserved),
            ..self.context()
        };
        let d = decide(&req, &policy, &ctx);
        let mut obs = d.observation;
        obs.fault = fault;
        let readback = (obs.dialed.as_deref() == Some("933"))
            .then(|| obs.ani.as_ref().map(|a| a.number.clone()))
            .flatten();
        let media = reservation
            .zip(d.media)
            .and_then(|(r, n)| pending(r, &n, readback.as_deref(), media_fault));
        match d.plan {
            Plan::Ring { now, answer, after } => {
                let call_id = req.call_id().unwrap_or_default().to_owned();
                // A re-INVITE in a dialog this connection holds already has its slot.
                if !self.dialogs.contains(&call_id) {
                    if !self.take_slot(capacity) {
                        bump(&self.shared.counters.faults_applied);
                        obs.fault = Some(CAPACITY_LABEL.to_owned());
                        obs.response = Some(503);
                        obs.routing = None;
                        obs.readback = None;
                        self.record(obs, at);
                        let r = refusal(&req, 503, None, Some(34), None);
                        self.respond(&key, r);
                        return;
                    }
                    self.dialogs.insert(call_id);
                }
                for r in now {
                    self.respond(&key, r);
                }
                if after.is_zero() {
                    // Recorded before the answer goes out, so a peer that has its answer finds
                    // the observation in the log.
                    self.record(obs, at);
                    self.respond(&key, answer);
                    if let Some(m) = media {
                        self.start_media(&req, m);
                    }
                } else {
                    self.held.push(Held {
                        due: Instant::now() + after,
                        key,
                        invite: req,
                        at,
                        hold: Hold::Ring {
                            answer,
                            observation: Box::new(obs),
                            media: media.map(Box::new),
                        },
                    });
                }
            }
            Plan::Respond(rs) => {
                self.record(obs, at);
                for r in rs {
                    self.respond(&key, r);
                }
            }
            Plan::Absorb => self.record(obs, at),
        }
    }

    async fn apply_fault(
        &mut self,
        req: Request,
        key: TxKey,
        fault: FaultKind,
        at: Stamp,
    ) -> Result<(), Ended> {
        let label = fault.label();
        let mut obs = decide(&req, &self.shared.policy(), &self.context()).observation;
        obs.fault = Some(label.clone());
        obs.response = None;
        obs.warning = None;
        obs.routing = None;
        obs.readback = None;
        match fault {
            FaultKind::Respond {
                status,
                reason,
                q850,
                retry_after,
            } => {
                obs.response = Some(status);
                self.record(obs, at);
                let r = refusal(&req, status, reason, q850, retry_after);
                self.respond(&key, r);
            }
            FaultKind::Delay(d) => self.held.push(Held {
                due: Instant::now() + d,
                key,
                invite: req,
                at,
                hold: Hold::Delay { label },
            }),
            FaultKind::TryingThenSilence => {
                self.record(obs, at);
                self.respond(&key, Response::for_request(&req, 100, None));
                self.silenced.insert(key, label);
            }
            FaultKind::Silence => {
                self.record(obs, at);
                self.silenced.insert(key, label);
            }
            FaultKind::Close(_) => {
                self.record(obs, at);
                self.flush().await?;
                let _ = self.io.shutdown().await;
                drain(
                    &mut self.io,
                    self.shared.limits.read_timeout,
                    &self.shared.cancel,
                )
                .await;
                return Err(Ended::Fault(label));
            }
            FaultKind::Reset(_) => {
                self.record(obs, at);
                self.flush().await?;
                reset(self.io.tcp());
                return Err(Ended::Fault(label));
            }
            // Connection-level only; never chosen for a call.
            FaultKind::Tls(_) => {}
            // Answered normally by `on_new`; never applied here.
            FaultKind::Media(_) => {}
        }
        Ok(())
    }

    fn on_cancel(&mut self, req: &Request, cancel: &TxKey, invite: Option<TxKey>, at: Stamp) {
        let mut obs = observe(req);
        let Some(invite) = invite else {
            // No INVITE transaction matches: 481 (the decision knows how to say so).
            let d = decide(req, &self.shared.policy(), &self.context());
            self.record(d.observation, at);
            if let Plan::Respond(rs) = d.plan {
                for r in rs {
                    self.respond(cancel, r);
                }
            }
            return;
        };
        if let Some(label) = self.silenced.get(&invite) {
            // The INVITE is a black hole; so is its CANCEL.
            obs.fault = Some(label.clone());
            self.record(obs, at);
            return;
        }
        obs.response = Some(200);
        self.record(obs, at);
        self.respond(cancel, Response::for_request(req, 200, Some(&new_tag())));
        let Some(i) = self.held.iter().position(|h| h.key == invite) else {
            return;
        };
        let h = self.held.swap_remove(i);
        let (tag, mut inv_obs) = match h.hold {
            Hold::Ring {
                answer,
                observation,
                ..
            } => {
                let call_id = h.invite.call_id().unwrap_or_default();
                if self.dialogs.remove(call_id) {
                    self.shared.dialogs.fetch_sub(1, Ordering::AcqRel);
                }
                let tag = answer
                    .header_to()
                    .and_then(|t| t.tag().map(str::to_owned))
                    .unwrap_or_else(new_tag);
                (tag, *observation)
            }
            Hold::Delay { label } => {
                let mut o = decide(&h.invite, &self.shared.policy(), &self.context()).observation;
                o.fault = Some(label);
                (new_tag(), o)
            }
        };
        inv_obs.response = Some(487);
        inv_obs.routing = None;
        inv_obs.readback = None;
        self.record(inv_obs, h.at);
        self.respond(&invite, Response::for_request(&h.invite, 487, Some(&tag)));
    }
}

/// A final non-2xx answer with the optional reason phrase, `Reason: Q.850` and `Retry-After`.
fn refusal(
    req: &Request,
    status: u16,
    reason: Option<String>,
    q850: Option<u16>,
    retry_after: Option<u32>,
) -> Response {
    let mut r = Response::for_request(req, status, Some(&new_tag()));
    if let Some(p) = reason {
        r.reason = p;
    }
    r.headers.push(HeaderName::Server, SERVER);
    if let Some(c) = q850 {
        r.headers
            .push(HeaderName::Reason, format!("Q.850;cause={c}"));
    }
    if let Some(s) = retry_after {
        r.headers.push(HeaderName::RetryAfter, s.to_string());
    }
    r
}

fn find_head_end(b: &[u8]) -> Option<usize> {
    b.windows(4).position(|w| w == b"\r\n\r\n").map(|i| i + 4)
}
