//! One multiplexed UAC connection: a connection task that owns the reading half and the table
//! of its calls, and a writer task that owns the writing half and batches whatever is queued
//! into one write (several messages per syscall / TLS flush). No lock is shared between
//! connections; the only shared state is the in-flight counter and the results channel.
//!
//! A call: INVITE -> 100/18x -> 2xx -> ACK -> hold -> BYE -> 2xx (ACK and BYE go out in one
//! write when the hold is zero). A non-2xx final response is ACKed in its transaction and ends
//! the call as rejected; no final response within the attempt timeout ends it as timed out; a
//! connection failure before the final response ends it as errored. Each call is finished
//! exactly once: it is removed from the table when its [`CallResult`] is sent.
//!
//! In the pool model the task is handed an established connection and serves many calls; in
//! the connection-per-call model it connects for its one call (the connect and handshake times
//! become that call's `tcp_connect`/`tls_handshake`), then closes. A pool connection that fails
//! reconnects for the next call.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use rustls::pki_types::ServerName;
use scenarios::CallSpec;
use sip::codec::Frame;
use sip::message::SipHeaders;
use sip::transport::{self, ConnReader, ConnWriter, Connection, TransportError, TransportKind};
use sip::{Message, Method, Response};
use tokio::sync::mpsc;

use super::callers::Callers;
use super::metrics::{CallResult, Outcome};
use super::wire::{DialogInfo, PerCall, Template, scan_response};
use crate::originate::media::Offered;
use crate::originate::trunk::LocalEndpoint;
use crate::originate::uac::Target;

/// Largest batch the writer puts in one write.
const BATCH_BYTES: usize = 64 * 1024;

/// What every connection towards one gateway shares.
#[derive(Debug)]
pub struct Shared {
    /// Index of the gateway in the run's list.
    pub gateway: usize,
    /// Where to connect.
    pub target: Target,
    /// TLS client configuration (TLS targets).
    pub tls: Option<Arc<rustls::ClientConfig>>,
    /// One call spec per mix entry.
    pub specs: Vec<CallSpec>,
    /// Host the trunk writes in its URIs.
    pub local_host: String,
    /// This run's tag (in every Call-ID and branch).
    pub run: String,
    /// Hold between ACK and BYE.
    pub hold: Duration,
    /// Attempt timeout.
    pub timeout: Duration,
    /// Bound on TCP connect plus TLS handshake.
    pub connect_timeout: Duration,
    /// Where finished calls go.
    pub results: mpsc::UnboundedSender<CallResult>,
    /// Calls in progress, all connections together.
    pub in_flight: Arc<AtomicU64>,
    /// `--callers`: each call's ANI and org come from its row.
    pub callers: Option<Arc<Callers>>,
    /// Where connections record their messages (`--pcap`); `None`: nowhere.
    pub capture: Option<sip::transport::capture::Capture>,
    /// `--media`: every call carries SRTP; its record goes here.
    pub media: Option<Arc<super::media::Tally>>,
}

/// One call to place.
#[derive(Debug, Clone, Copy)]
pub struct Dial {
    /// Call index in the schedule.
    pub idx: u64,
    /// Intended start.
    pub intended: Instant,
    /// Intended start, microseconds from the schedule's origin.
    pub intended_us: u64,
    /// Which mix entry.
    pub spec: usize,
    /// Step of a `steps:` profile (0 otherwise).
    pub step: u16,
}

impl Dial {
    /// A result for this call that ended before its INVITE was written.
    pub fn errored(&self, gateway: usize, cause: &str) -> CallResult {
        let mut r = CallResult::errored(gateway, self.intended_us, cause);
        r.spec = u16::try_from(self.spec).unwrap_or(u16::MAX);
        r.step = self.step;
        r
    }
}

/// An established connection with its templates.
#[derive(Debug)]
pub struct Connected {
    conn: Connection,
    templates: Vec<Template>,
    tcp_connect_us: u64,
    tls_handshake_us: Option<u64>,
    tls_resumed: bool,
}

impl Connected {
    /// The TLS handshake of this connection, if any: whether it resumed a session.
    pub fn handshake(&self) -> Option<bool> {
        self.tls_handshake_us.map(|_| self.tls_resumed)
    }
}

fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

/// A short, stable cause for a transport error.
pub fn cause(e: &TransportError) -> &'static str {
    match e {
        TransportError::Connect { .. } => "tcp_connect_failed",
        TransportError::ConnectTimeout { .. } => "tcp_connect_timeout",
        TransportError::Handshake { .. } | TransportError::HandshakeIo { .. } => {
            "tls_handshake_failed"
        }
        TransportError::HandshakeTimeout { .. } => "tls_handshake_timeout",
        TransportError::Read { .. } => "read_error",
        TransportError::Write { .. } => "write_error",
        TransportError::Frame { .. } => "framing_error",
        TransportError::TruncatedMessage { .. } => "connection_closed",
        TransportError::ReadTimeout { .. } => "read_timeout",
        _ => "transport_error",
    }
}

/// Connects to the gateway and builds the INVITE templates for this connection's local address.
pub async fn connect(s: &Shared) -> Result<Connected, &'static str> {
    let tls = match s.target.transport {
        TransportKind::Tcp => None,
        TransportKind::Tls => {
            let cfg = s.tls.clone().ok_or("no_tls_config")?;
            let name = ServerName::try_from(s.target.host.trim_matches(['[', ']']).to_owned())
                .map_err(|_| "bad_server_name")?;
            Some((cfg, name))
        }
    };
    let (mut conn, timings) = transport::connect(s.target.addr, tls, s.connect_timeout)
        .await
        .map_err(|e| cause(&e))?;
    if let Some(c) = &s.capture {
        conn.set_capture(c, crate::evidence::trace::TRUNK);
    }
    let local = LocalEndpoint {
        host: s.local_host.clone(),
        addr: conn.local_addr(),
    };
    let mut templates = Vec::with_capacity(s.specs.len());
    for spec in &s.specs {
        // The random ids cut out of the template must each occur once; retry the rare collision.
        let t = (0..4)
            .find_map(|_| {
                Template::with_media(spec, &s.target, &local, &s.run, s.media.is_some()).ok()
            })
            .ok_or("template_error")?;
        templates.push(t);
    }
    let tls_resumed = match conn.stream() {
        transport::Stream::TlsClient(t) => {
            t.get_ref().1.handshake_kind() == Some(rustls::HandshakeKind::Resumed)
        }
        _ => false,
    };
    Ok(Connected {
        conn,
        templates,
        tcp_connect_us: micros(timings.tcp_connect),
        tls_handshake_us: timings.tls_handshake.map(micros),
        tls_resumed,
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Inviting,
    Up,
    Byeing,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Timer {
    InviteTimeout,
    Hold,
    ByeTimeout,
}

/// A call's media: its socket until the 2xx, then its session until the BYE.
#[derive(Debug)]
enum CallMedia {
    Offered(Offered),
    Running(media::Session),
}

#[derive(Debug)]
struct Call {
    sent: Instant,
    spec: usize,
    phase: Phase,
    bye_sent: Option<Instant>,
    dialog: Option<DialogInfo>,
    r: CallResult,
    media: Option<CallMedia>,
}

impl Call {
    /// Stops the call's media session (in the background) and tallies it.
    fn stop_media(&mut self, tally: Option<&Arc<super::media::Tally>>) {
        if let (Some(CallMedia::Running(s)), Some(tally)) = (self.media.take(), tally) {
            tally.stop(s);
        }
    }
}

/// The live part of a connection.
struct Live {
    reader: ConnReader,
    wtx: mpsc::UnboundedSender<Vec<u8>>,
    templates: Vec<Template>,
    /// The connection's local address: media sockets bind on its IP.
    local_ip: std::net::IpAddr,
}

/// Serves calls from `rx` until it closes and every call has finished. `pre`: an established
/// connection (pool); without it, the task connects when the first call arrives.
pub async fn serve(s: Arc<Shared>, mut rx: mpsc::UnboundedReceiver<Dial>, pre: Option<Connected>) {
    let mut task = Task {
        s: s.clone(),
        calls: HashMap::new(),
        timers: BinaryHeap::new(),
        live: None,
        fresh: None,
    };
    if let Some(c) = pre {
        task.go_live(c, false);
    }
    let mut accepting = true;
    loop {
        if !accepting && task.calls.is_empty() {
            break;
        }
        let next_timer = task.timers.peek().map(|t| t.0.0);
        let sleep = async {
            match next_timer {
                Some(at) => tokio::time::sleep_until(at.into()).await,
                None => std::future::pending().await,
            }
        };
        let read = async {
            match task.live.as_mut() {
                Some(l) => l.reader.read_frame().await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            biased;
            frame = read => match frame {
                Ok(Some(Frame::Message(bytes))) => task.on_message(&bytes),
                Ok(Some(Frame::KeepAlive)) => task.write(b"\r\n".to_vec()),
                Ok(None) => task.lost("connection_closed"),
                Err(e) => task.lost(cause(&e)),
            },
            () = sleep => task.on_timers(Instant::now()),
            dial = rx.recv(), if accepting => match dial {
                Some(d) => task.start(d).await,
                None => accepting = false,
            },
        }
    }
    // Dropping the sender lets the writer flush, send close_notify/FIN and end.
    task.live = None;
}

struct Task {
    s: Arc<Shared>,
    calls: HashMap<u64, Call>,
    timers: BinaryHeap<Reverse<(Instant, u64, Timer)>>,
    live: Option<Live>,
    /// Connect and handshake times (and resumption) of a connection made for the next call.
    fresh: Option<(u64, Option<u64>, bool)>,
}

impl Task {
    fn go_live(&mut self, c: Connected, for_next_call: bool) {
        let local_ip = c.conn.local_addr().ip();
        let (reader, writer) = c.conn.into_split();
        let (wtx, wrx) = mpsc::unbounded_channel();
        tokio::spawn(write_loop(writer, wrx));
        if for_next_call {
            self.fresh = Some((c.tcp_connect_us, c.tls_handshake_us, c.tls_resumed));
        }
        self.live = Some(Live {
            reader,
            wtx,
            templates: c.templates,
            local_ip,
        });
    }

    fn write(&mut self, bytes: Vec<u8>) {
        let failed = self
            .live
            .as_ref()
            .is_some_and(|l| l.wtx.send(bytes).is_err());
        if failed {
            self.lost("write_error");
        }
    }

    async fn start(&mut self, d: Dial) {
        if self.live.is_none() {
            match connect(&self.s).await {
                Ok(c) => self.go_live(c, true),
                Err(why) => {
                    self.finish_now(d.errored(self.s.gateway, why));
                    return;
                }
            }
        }
        let Some(live) = &self.live else { return };
        let mut bytes = Vec::with_capacity(1400);
        let row = self.s.callers.as_ref().map(|c| c.row(d.idx));
        let per_call = row.map(|r| PerCall {
            ani: &r.ani,
            org: &r.org,
        });
        let offered = self.s.media.as_ref().and_then(|tally| {
            Offered::bind(live.local_ip)
                .inspect_err(|_| tally.bind_failed())
                .ok()
        });
        live.templates[d.spec].invite_media(
            d.idx,
            per_call,
            offered.as_ref().map(|o| &o.offer),
            &mut bytes,
        );
        let sent = Instant::now();
        let (tcp, tls, resumed) = self
            .fresh
            .take()
            .map_or((None, None, false), |(a, b, c)| (Some(a), b, c));
        let mut r = d.errored(self.s.gateway, "");
        r.outcome = Outcome::TimedOut;
        r.lag_us = Some(micros(sent.saturating_duration_since(d.intended)));
        r.tcp_connect_us = tcp;
        r.tls_handshake_us = tls;
        r.tls_resumed = resumed;
        self.calls.insert(
            d.idx,
            Call {
                sent,
                spec: d.spec,
                phase: Phase::Inviting,
                bye_sent: None,
                dialog: None,
                r,
                media: offered.map(CallMedia::Offered),
            },
        );
        self.timers.push(Reverse((
            sent + self.s.timeout,
            d.idx,
            Timer::InviteTimeout,
        )));
        self.write(bytes);
    }

    /// Sends a result for a call that never entered the table.
    fn finish_now(&self, r: CallResult) {
        let _ = self.s.results.send(r);
        self.s.in_flight.fetch_sub(1, Ordering::AcqRel);
    }

    fn finish(&mut self, idx: u64) {
        if let Some(mut c) = self.calls.remove(&idx) {
            c.stop_media(self.s.media.as_ref());
            self.finish_now(c.r);
        }
    }

    /// The connection is gone: every call in progress ends with `why`.
    fn lost(&mut self, why: &'static str) {
        self.live = None;
        for (_, mut c) in self.calls.drain() {
            c.stop_media(self.s.media.as_ref());
            if c.phase == Phase::Inviting {
                c.r.outcome = Outcome::Errored(why.to_owned());
            } else {
                c.r.teardown_failure = Some(why.to_owned());
            }
            let _ = self.s.results.send(c.r);
            self.s.in_flight.fetch_sub(1, Ordering::AcqRel);
        }
        self.timers.clear();
    }

    fn on_timers(&mut self, now: Instant) {
        while let Some(Reverse((at, idx, kind))) = self.timers.peek().copied() {
            if at > now {
                break;
            }
            self.timers.pop();
            let Some(c) = self.calls.get_mut(&idx) else {
                continue;
            };
            match (kind, c.phase) {
                (Timer::InviteTimeout, Phase::Inviting) => {
                    c.r.outcome = Outcome::TimedOut;
                    self.finish(idx);
                }
                (Timer::Hold, Phase::Up) => {
                    let mut out = Vec::with_capacity(512);
                    self.bye(idx, &mut out);
                    self.write(out);
                }
                (Timer::ByeTimeout, Phase::Byeing) => {
                    c.r.teardown_failure = Some("bye_timeout".into());
                    self.finish(idx);
                }
                _ => {}
            }
        }
    }

    fn bye(&mut self, idx: u64, out: &mut Vec<u8>) {
        let (Some(live), Some(c)) = (&self.live, self.calls.get_mut(&idx)) else {
            return;
        };
        let Some(d) = &c.dialog else { return };
        live.templates[c.spec].in_dialog(idx, "BYE", d, out);
        c.stop_media(self.s.media.as_ref());
        let now = Instant::now();
        c.bye_sent = Some(now);
        c.phase = Phase::Byeing;
        self.timers
            .push(Reverse((now + self.s.timeout, idx, Timer::ByeTimeout)));
    }

    fn on_message(&mut self, bytes: &[u8]) {
        let now = Instant::now();
        let scanned = match scan_response(bytes) {
            Ok(Some(s)) => s,
            Ok(None) => return self.on_request(bytes),
            Err(_) => return, // unparseable: the call it belonged to will time out
        };
        let Some(live) = &self.live else { return };
        let Some(idx) = live.templates[0].index_of(scanned.call_id) else {
            return;
        };
        let Some(c) = self.calls.get_mut(&idx) else {
            return; // a response after the call ended (e.g. a 2xx after its timeout)
        };
        let tmpl = &live.templates[c.spec];
        let since = micros(now.saturating_duration_since(c.sent));
        let status = scanned.status;
        let mut out = Vec::new();
        let mut done = false;
        match (scanned.method, c.phase) {
            ("INVITE", Phase::Inviting) if status < 200 => {
                if status == 100 {
                    c.r.invite_to_100_us.get_or_insert(since);
                } else if (180..190).contains(&status) {
                    c.r.invite_to_18x_us.get_or_insert(since);
                }
            }
            ("INVITE", Phase::Inviting) if status < 300 => {
                c.r.final_us = Some(since);
                c.r.outcome = Outcome::Answered;
                if let Some(CallMedia::Offered(o)) = c.media.take() {
                    let body = memchr::memmem::find(bytes, b"\r\n\r\n")
                        .map_or(&b""[..], |at| &bytes[at + 4..]);
                    c.media = o
                        .start(std::str::from_utf8(body).unwrap_or(""))
                        .map(CallMedia::Running);
                }
                match scanned.contact {
                    None => {
                        c.r.teardown_failure = Some("2xx_without_contact".into());
                        done = true;
                    }
                    Some(contact) => {
                        let d = DialogInfo {
                            contact: contact.to_owned(),
                            to: scanned.to.to_owned(),
                            route: scanned
                                .record_route
                                .iter()
                                .map(|r| (*r).to_owned())
                                .collect(),
                        };
                        out.reserve(1024);
                        tmpl.in_dialog(idx, "ACK", &d, &mut out);
                        if self.s.hold.is_zero() {
                            tmpl.in_dialog(idx, "BYE", &d, &mut out);
                            c.bye_sent = Some(now);
                            c.phase = Phase::Byeing;
                            self.timers.push(Reverse((
                                now + self.s.timeout,
                                idx,
                                Timer::ByeTimeout,
                            )));
                        } else {
                            c.phase = Phase::Up;
                            self.timers
                                .push(Reverse((now + self.s.hold, idx, Timer::Hold)));
                        }
                        c.dialog = Some(d);
                    }
                }
            }
            ("INVITE", Phase::Inviting) => {
                c.r.final_us = Some(since);
                c.r.outcome = Outcome::Rejected(status);
                tmpl.ack_non_2xx(idx, scanned.to, &mut out);
                done = true;
            }
            ("INVITE", Phase::Up | Phase::Byeing) if (200..300).contains(&status) => {
                // A retransmitted 2xx: ACK it again (RFC 3261 §13.2.2.4).
                c.r.retransmissions += 1;
                if let Some(d) = &c.dialog {
                    tmpl.in_dialog(idx, "ACK", d, &mut out);
                }
            }
            ("BYE", Phase::Byeing) if status >= 200 => {
                if status < 300 {
                    c.r.bye_to_200_us =
                        c.bye_sent.map(|b| micros(now.saturating_duration_since(b)));
                } else {
                    c.r.teardown_failure = Some(format!("bye_{status}"));
                }
                done = true;
            }
            _ => {}
        }
        if done {
            self.finish(idx);
        }
        if !out.is_empty() {
            self.write(out);
        }
    }

    /// A request from the gateway: a BYE ends its call (answered 200, 481 if unknown).
    fn on_request(&mut self, bytes: &[u8]) {
        let Ok(Message::Request(req)) = Message::parse(bytes) else {
            return;
        };
        if req.method != Method::Bye {
            if req.method != Method::Ack {
                let resp = Response::for_request(&req, 501, None);
                self.write(resp.to_bytes().to_vec());
            }
            return;
        }
        let idx = self
            .live
            .as_ref()
            .and_then(|l| req.call_id().and_then(|cid| l.templates[0].index_of(cid)));
        let ours = idx.filter(|i| {
            self.calls
                .get(i)
                .is_some_and(|c| c.phase != Phase::Inviting)
        });
        let resp = Response::for_request(&req, if ours.is_some() { 200 } else { 481 }, None);
        self.write(resp.to_bytes().to_vec());
        if let Some(i) = ours {
            self.finish(i);
        }
    }
}

/// Writes queued messages, several per write.
async fn write_loop(mut w: ConnWriter, mut rx: mpsc::UnboundedReceiver<Vec<u8>>) {
    let mut buf = Vec::with_capacity(BATCH_BYTES);
    while let Some(first) = rx.recv().await {
        buf.clear();
        buf.extend_from_slice(&first);
        while buf.len() < BATCH_BYTES {
            match rx.try_recv() {
                Ok(more) => buf.extend_from_slice(&more),
                Err(_) => break,
            }
        }
        if w.write_all(&buf).await.is_err() {
            return; // the reader sees the failure and fails the calls
        }
    }
    let _ = w.shutdown().await;
}
