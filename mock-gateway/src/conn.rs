//! One connection task: it owns its socket (TCP or TLS), frames messages, classifies them
//! against its transactions, performs the pure decision's plan and records observations.
//!
//! A parse failure is answered (400/505 from the salvaged headers) and the connection stays up;
//! a framing failure (no or bad Content-Length, over the size cap) is answered when the header
//! block allows it, then the connection is closed because the stream cannot be resynchronised.
//! A message that stalls half-way is dropped after `read_timeout`; a silent connection after
//! `idle_timeout`.

use std::net::SocketAddr;
use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use sip::message::{ParseError, Salvage, new_tag};
use sip::transport::TransportKind;
use sip::uri::Uri;
use sip::{HeaderName, Message, Method, Request, Response};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::{Instant, sleep_until, timeout};

use crate::decide::{Context, Plan, decide, observe, warning};
use crate::frame::{Frame, FrameError, next_frame};
use crate::observation::Observation;
use crate::server::Shared;
use crate::transactions::{Incoming, Transactions};

/// Facts about the connection that go into every observation.
struct Meta {
    peer: String,
    local: SocketAddr,
    transport: &'static str,
    tls: Option<reports::TlsInfo>,
}

/// Serves one accepted TCP connection until it closes, fails or the gateway shuts down.
pub(crate) async fn serve(
    tcp: TcpStream,
    peer: SocketAddr,
    shared: Arc<Shared>,
    up: tokio_util::sync::CancellationToken,
) {
    let _ = tcp.set_nodelay(true);
    let Ok(local) = tcp.local_addr() else {
        return;
    };
    let mut meta = Meta {
        peer: peer.to_string(),
        local,
        transport: "TCP",
        tls: None,
    };
    let result = match (&shared.transport, &shared.tls) {
        (TransportKind::Tls, Some(acceptor)) => {
            let handshake = tokio::select! {
                () = shared.cancel.cancelled() => return,
                r = timeout(shared.limits.read_timeout, acceptor.accept(tcp)) => r,
            };
            match handshake {
                Ok(Ok(stream)) => {
                    meta.transport = "TLS";
                    meta.tls = Some(tls_info(stream.get_ref().1));
                    run(stream, &meta, &shared).await
                }
                Ok(Err(e)) => {
                    tracing::info!(%peer, error = %e, "TLS handshake failed");
                    return;
                }
                Err(_) => {
                    tracing::info!(%peer, "TLS handshake timed out");
                    return;
                }
            }
        }
        _ => run(tcp, &meta, &shared).await,
    };
    if let Err(e) = result {
        tracing::debug!(%peer, error = %e, "connection ended");
    }
}

/// The negotiated TLS parameters of a server connection.
fn tls_info(conn: &rustls::ServerConnection) -> reports::TlsInfo {
    let version = match conn.protocol_version() {
        Some(rustls::ProtocolVersion::TLSv1_2) => "TLSv1.2".to_owned(),
        Some(rustls::ProtocolVersion::TLSv1_3) => "TLSv1.3".to_owned(),
        Some(v) => format!("{v:?}"),
        None => String::new(),
    };
    reports::TlsInfo {
        version,
        cipher: conn
            .negotiated_cipher_suite()
            .map(|s| format!("{:?}", s.suite()))
            .unwrap_or_default(),
        group: conn
            .negotiated_key_exchange_group()
            .map(|g| format!("{:?}", g.name())),
        sni: conn.server_name().map(str::to_owned),
    }
}

/// An INVITE that was answered 180 and waits for its 200 OK.
struct Ringing {
    due: Instant,
    invite: Request,
    answer: Response,
    observation: Observation,
}

/// Why the connection loop stopped.
#[derive(Debug, thiserror::Error)]
enum Ended {
    #[error("peer closed")]
    Closed,
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
    #[error("framing: {0}")]
    Frame(FrameError),
    #[error("message stalled mid-way past the read timeout")]
    Stalled,
    #[error("idle past the idle timeout")]
    Idle,
    #[error("gateway shutting down")]
    Shutdown,
}

struct Conn<'a, S> {
    io: S,
    meta: &'a Meta,
    shared: &'a Shared,
    txs: Transactions,
    ringing: Vec<Ringing>,
}

async fn run<S>(io: S, meta: &Meta, shared: &Shared) -> Result<(), Ended>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let mut c = Conn {
        io,
        meta,
        shared,
        txs: Transactions::new(),
        ringing: Vec::new(),
    };
    let limits = shared.limits;
    let mut buf = BytesMut::with_capacity(8 * 1024);
    let mut partial_since: Option<Instant> = None;
    let mut idle_since = Instant::now();
    loop {
        loop {
            match next_frame(&mut buf, limits.max_message_bytes) {
                Ok(Some(Frame::Message(m))) => c.on_message(m).await?,
                Ok(Some(Frame::Ping)) => c.io.write_all(b"\r\n").await?,
                Ok(Some(Frame::KeepAlive)) => {}
                Ok(None) => break,
                Err(e) => {
                    c.on_frame_error(&e).await;
                    return Err(Ended::Frame(e));
                }
            }
        }
        let now = Instant::now();
        if buf.is_empty() {
            partial_since = None;
        } else if partial_since.is_none() {
            partial_since = Some(now);
        }
        let read_deadline = match partial_since {
            Some(t) => t + limits.read_timeout,
            None => idle_since + limits.idle_timeout,
        };
        let ring_due = c.ringing.iter().map(|r| r.due).min();
        tokio::select! {
            () = shared.cancel.cancelled() => return Err(Ended::Shutdown),
            () = sleep_until(ring_due.unwrap_or(read_deadline)), if ring_due.is_some() => {
                c.answer_due().await?;
            }
            () = sleep_until(read_deadline) => {
                return Err(if partial_since.is_some() { Ended::Stalled } else { Ended::Idle });
            }
            n = c.io.read_buf(&mut buf) => {
                if n? == 0 {
                    return Err(Ended::Closed);
                }
                idle_since = Instant::now();
            }
        }
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> Conn<'_, S> {
    fn context(&self) -> Context<'_> {
        Context {
            host: &self.shared.host,
            local: self.meta.local,
            transport: if self.meta.transport == "TLS" {
                "tls"
            } else {
                "tcp"
            },
        }
    }

    /// Fills the connection's fields and stores the observation.
    fn record(&self, mut obs: Observation, at_ms: u64) {
        obs.at_ms = at_ms;
        obs.peer.clone_from(&self.meta.peer);
        self.meta.transport.clone_into(&mut obs.transport);
        obs.tls.clone_from(&self.meta.tls);
        self.shared.recorder.record(obs);
    }

    async fn send(&mut self, req: &Request, resp: &Response) -> Result<(), Ended> {
        let wire = resp.to_bytes();
        self.io.write_all(&wire).await?;
        self.txs.sent(req, resp, wire);
        Ok(())
    }

    async fn on_message(&mut self, bytes: Bytes) -> Result<(), Ended> {
        let at = self.shared.recorder.now_ms();
        match Message::parse_bytes(bytes) {
            Ok(Message::Request(req)) => self.on_request(req, at).await,
            Ok(Message::Response(resp)) => {
                tracing::debug!(peer = %self.meta.peer, status = resp.status, "stray response ignored");
                Ok(())
            }
            Err(e) => self.on_parse_error(e, at).await,
        }
    }

    async fn on_request(&mut self, req: Request, at: u64) -> Result<(), Ended> {
        match self.txs.on_request(&req) {
            Incoming::New | Incoming::AckOutsideTransaction => {
                let policy = self.shared.policy();
                let decision = decide(&req, &policy, &self.context());
                self.perform(&req, decision.plan, decision.observation, at)
                    .await
            }
            Incoming::Retransmission { replay } => {
                let mut obs = observe(&req);
                obs.retransmission = true;
                self.record(obs, at);
                if let Some(wire) = replay {
                    self.io.write_all(&wire).await?;
                }
                Ok(())
            }
            Incoming::AckForFinal => {
                self.record(observe(&req), at);
                Ok(())
            }
            Incoming::CancelPending | Incoming::CancelAnswered => {
                let ok = Response::for_request(&req, 200, Some(&new_tag()));
                let mut obs = observe(&req);
                obs.response = Some(200);
                self.record(obs, at);
                let terminated = self.txs.terminate(&req);
                if let Some((invite, _)) = &terminated
                    && let Some(i) = self.ringing.iter().position(|r| &r.invite == invite)
                {
                    let r = self.ringing.swap_remove(i);
                    let mut obs = r.observation;
                    obs.response = Some(487);
                    obs.routing = None;
                    let invite_at = obs.at_ms;
                    self.record(obs, invite_at);
                }
                self.io.write_all(&ok.to_bytes()).await?;
                if let Some((_, resp)) = terminated {
                    self.io.write_all(&resp.to_bytes()).await?;
                }
                Ok(())
            }
        }
    }

    async fn perform(
        &mut self,
        req: &Request,
        plan: Plan,
        obs: Observation,
        at: u64,
    ) -> Result<(), Ended> {
        match plan {
            // Recorded before the answer goes out, so a peer that has its answer finds the
            // observation in the log.
            Plan::Respond(rs) => {
                self.record(obs, at);
                for r in &rs {
                    self.send(req, r).await?;
                }
            }
            Plan::Ring { now, answer, after } => {
                if after.is_zero() {
                    self.record(obs, at);
                    for r in now.iter().chain([&answer]) {
                        self.send(req, r).await?;
                    }
                } else {
                    for r in &now {
                        self.send(req, r).await?;
                    }
                    let mut observation = obs;
                    observation.at_ms = at;
                    self.ringing.push(Ringing {
                        due: Instant::now() + after,
                        invite: req.clone(),
                        answer,
                        observation,
                    });
                }
            }
            Plan::Absorb => self.record(obs, at),
        }
        Ok(())
    }

    /// Sends the 200 OK of every ringing INVITE whose time has come.
    async fn answer_due(&mut self) -> Result<(), Ended> {
        let now = Instant::now();
        while let Some(i) = self.ringing.iter().position(|r| r.due <= now) {
            let r = self.ringing.swap_remove(i);
            let at = r.observation.at_ms;
            self.record(r.observation, at);
            if self.txs.is_pending(&r.invite) {
                self.send(&r.invite, &r.answer).await?;
            }
        }
        Ok(())
    }

    async fn on_parse_error(&mut self, e: ParseError, at: u64) -> Result<(), Ended> {
        tracing::info!(peer = %self.meta.peer, error = %e, "unparseable message");
        let status = e.status();
        let salvage = e.salvage.as_deref();
        let mut obs = salvage.map_or_else(blank_observation, salvaged_observation);
        obs.parse_error = Some(e.to_string());
        let resp = salvage.and_then(|s| self.salvage_response(s, status, &e.to_string()));
        if let Some(resp) = &resp {
            obs.response = Some(status);
            obs.warning = resp.headers.get(&HeaderName::Warning).map(str::to_owned);
        }
        self.record(obs, at);
        if let Some(resp) = resp {
            self.io.write_all(&resp.to_bytes()).await?;
        }
        Ok(())
    }

    /// A 400/505 to a request that could not be parsed, when its salvaged headers allow one
    /// (a Via to route it back, and not an ACK).
    fn salvage_response(&self, s: &Salvage, status: u16, why: &str) -> Option<Response> {
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
            .push(HeaderName::Warning, warning(399, &self.shared.host, why));
        if Message::parse(&resp.to_bytes()).is_ok() {
            return Some(resp);
        }
        // A mirrored header the peer got wrong (typically CSeq) would make the answer as
        // unparseable as the request; repair CSeq, and send nothing if it is still invalid.
        resp.headers
            .set(HeaderName::CSeq, format!("0 {}", req.method));
        Message::parse(&resp.to_bytes()).is_ok().then_some(resp)
    }

    /// Answers a message that cannot be framed (400, or 513 when too large) if its header
    /// block parses far enough, and records it; the caller closes the connection.
    async fn on_frame_error(&mut self, e: &FrameError) {
        let at = self.shared.recorder.now_ms();
        tracing::info!(peer = %self.meta.peer, error = %e, "framing error; closing");
        let status = match e {
            FrameError::TooLarge { .. } => 513,
            _ => 400,
        };
        let mut head = e.head().to_vec();
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
        let mut obs = blank_observation();
        obs.parse_error = Some(e.to_string());
        if let Some((method, headers)) = parsed {
            let salvage = Salvage {
                method: Some(method),
                headers,
            };
            obs = salvaged_observation(&salvage);
            obs.parse_error = Some(e.to_string());
            if let Some(resp) = self.salvage_response(&salvage, status, &e.to_string()) {
                obs.response = Some(status);
                obs.warning = resp.headers.get(&HeaderName::Warning).map(str::to_owned);
                self.record(obs, at);
                if self.io.write_all(&resp.to_bytes()).await.is_ok() {
                    let _ = self.io.flush().await;
                }
                let _ = self.io.shutdown().await;
                return;
            }
        }
        self.record(obs, at);
        let _ = self.io.shutdown().await;
    }
}

fn blank_observation() -> Observation {
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

fn salvaged_observation(s: &Salvage) -> Observation {
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
