//! The client transaction (RFC 3261 §17.1): one machine per request sent, INVITE (figure 5, in
//! `client_invite`) or non-INVITE (figure 6, in `client_non_invite`).

use std::collections::VecDeque;
use std::time::Instant;

use super::client_invite::InviteClient;
use super::client_non_invite::NonInviteClient;
use super::key::TxKey;
use super::timers::{Reliability, Timers};
use crate::message::SipHeaders;
use crate::{Method, Request, Response};

/// The state of a client transaction (RFC 3261 figures 5 and 6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ClientState {
    /// INVITE sent, no response yet (Timers A and B).
    Calling,
    /// Non-INVITE sent, no response yet (Timers E and F).
    Trying,
    /// A provisional response arrived.
    Proceeding,
    /// A final response arrived; absorbing its retransmissions (Timer D or K).
    Completed,
    /// Done; the machine only answers with events for late 2xx (see the module docs).
    Terminated,
}

/// What a client transaction tells its TU.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ClientEvent {
    /// A 1xx response.
    Provisional(Response),
    /// A final response (for INVITE: a 2xx, including a retransmitted one, or the first non-2xx).
    Final(Response),
    /// Timer B (INVITE) or Timer F (non-INVITE) fired without a final response.
    Timeout,
    /// The transport reported a failure ([`ClientTransaction::on_transport_error`]).
    TransportError,
    /// The transaction reached Terminated; the TU may drop it (emitted once).
    Terminated,
}

/// What both machines share: the request, the queues and the counters.
#[derive(Debug)]
pub(super) struct Core {
    pub(super) request: Request,
    pub(super) timers: Timers,
    pub(super) reliability: Reliability,
    pub(super) state: ClientState,
    transmits: VecDeque<Request>,
    events: VecDeque<ClientEvent>,
    retransmissions: u32,
}

impl Core {
    /// Queues the request again (Timers A and E).
    pub(super) fn retransmit(&mut self) {
        self.retransmissions = self.retransmissions.saturating_add(1);
        self.transmits.push_back(self.request.clone());
    }

    /// Queues a request other than the transaction's (the ACK of a non-2xx final).
    pub(super) fn send(&mut self, req: Request) {
        self.transmits.push_back(req);
    }

    pub(super) fn event(&mut self, e: ClientEvent) {
        self.events.push_back(e);
    }

    /// Moves to Terminated and tells the TU, once.
    pub(super) fn terminate(&mut self) {
        if self.state != ClientState::Terminated {
            self.state = ClientState::Terminated;
            self.events.push_back(ClientEvent::Terminated);
        }
    }
}

#[derive(Debug)]
enum Machine {
    Invite(InviteClient),
    NonInvite(NonInviteClient),
    /// An ACK is not a transaction: sent once, terminated at once.
    Ack,
}

/// One client transaction, driven by the caller's clock.
///
/// ```
/// # use std::time::{Duration, Instant};
/// # use sip::engine::{ClientTransaction, ClientState, Reliability, Timers};
/// # use sip::{Message, Request};
/// let text = "OPTIONS sip:gw SIP/2.0\r\nVia: SIP/2.0/UDP uac;branch=z9hG4bK1\r\n\
///             From: <sip:a@b>;tag=1\r\nTo: <sip:gw>\r\nCall-ID: c\r\nCSeq: 1 OPTIONS\r\n\r\n";
/// let Ok(Message::Request(req)) = Message::parse(text.as_bytes()) else { unreachable!() };
/// let t0 = Instant::now();
/// let mut tx = ClientTransaction::new(t0, req, Timers::default(), Reliability::Unreliable);
/// assert!(tx.poll_transmit().is_some()); // the first send
/// assert_eq!(tx.poll_timeout(), Some(t0 + Duration::from_millis(500))); // Timer E
/// tx.handle_timeout(t0 + Duration::from_millis(500));
/// assert!(tx.poll_transmit().is_some()); // the retransmission
/// assert_eq!(tx.state(), ClientState::Trying);
/// ```
#[derive(Debug)]
pub struct ClientTransaction {
    key: TxKey,
    core: Core,
    machine: Machine,
}

impl ClientTransaction {
    /// Starts a transaction for `req` and queues it for transmission. INVITE arms Timer A
    /// (unreliable) and Timer B; non-INVITE arms Timer E (unreliable) and Timer F. An ACK is sent
    /// once and the machine is terminated at once (an ACK has no transaction).
    pub fn new(now: Instant, req: Request, timers: Timers, reliability: Reliability) -> Self {
        let key = TxKey::for_client_request(&req);
        let state = match req.method {
            Method::Invite => ClientState::Calling,
            Method::Ack => ClientState::Terminated,
            _ => ClientState::Trying,
        };
        let mut core = Core {
            transmits: VecDeque::from([req.clone()]),
            request: req,
            timers,
            reliability,
            state,
            events: VecDeque::new(),
            retransmissions: 0,
        };
        let machine = match core.request.method {
            Method::Invite => Machine::Invite(InviteClient::start(now, &core)),
            Method::Ack => {
                core.event(ClientEvent::Terminated);
                Machine::Ack
            }
            _ => Machine::NonInvite(NonInviteClient::start(now, &core)),
        };
        ClientTransaction { key, core, machine }
    }

    /// The transaction key (top Via branch and sent-by, and the request method).
    pub fn key(&self) -> &TxKey {
        &self.key
    }

    /// The request this transaction sends.
    pub fn request(&self) -> &Request {
        &self.core.request
    }

    /// Whether `resp` belongs to this transaction (§17.1.3: same top Via branch, same CSeq
    /// method).
    pub fn matches(&self, resp: &Response) -> bool {
        !self.key.branch.is_empty()
            && resp.top_via().as_ref().and_then(|v| v.branch()) == Some(self.key.branch.as_str())
            && resp.cseq().is_some_and(|c| c.method == self.key.method)
    }

    /// Feeds a response in. Returns what the TU must see now, or `None` when the response is
    /// absorbed (a retransmitted final in Completed, which re-sends the ACK) or does not match.
    pub fn on_response(&mut self, now: Instant, resp: &Response) -> Option<ClientEvent> {
        if !self.matches(resp) || !(100..=699).contains(&resp.status) {
            return None;
        }
        match &mut self.machine {
            Machine::Invite(m) => m.on_response(&mut self.core, now, resp),
            Machine::NonInvite(m) => m.on_response(&mut self.core, now, resp),
            Machine::Ack => None,
        }
    }

    /// The transport could not send the request: terminates with
    /// [`ClientEvent::TransportError`] (§17.1.4).
    pub fn on_transport_error(&mut self) {
        if self.core.state != ClientState::Terminated {
            self.core.event(ClientEvent::TransportError);
            self.core.terminate();
            match &mut self.machine {
                Machine::Invite(m) => m.clear(),
                Machine::NonInvite(m) => m.clear(),
                Machine::Ack => {}
            }
        }
    }

    /// Fires every timer due at `now`.
    pub fn handle_timeout(&mut self, now: Instant) {
        match &mut self.machine {
            Machine::Invite(m) => m.handle_timeout(&mut self.core, now),
            Machine::NonInvite(m) => m.handle_timeout(&mut self.core, now),
            Machine::Ack => {}
        }
    }

    /// The next request to put on the wire: the first send, retransmissions, and the ACK of a
    /// non-2xx final.
    pub fn poll_transmit(&mut self) -> Option<Request> {
        self.core.transmits.pop_front()
    }

    /// The next event from timers and state changes ([`ClientEvent::Timeout`],
    /// [`ClientEvent::TransportError`], [`ClientEvent::Terminated`]). Responses are returned by
    /// [`ClientTransaction::on_response`] directly and are not repeated here.
    pub fn poll_event(&mut self) -> Option<ClientEvent> {
        self.core.events.pop_front()
    }

    /// When [`ClientTransaction::handle_timeout`] must be called next.
    pub fn poll_timeout(&self) -> Option<Instant> {
        match &self.machine {
            Machine::Invite(m) => m.next_deadline(),
            Machine::NonInvite(m) => m.next_deadline(),
            Machine::Ack => None,
        }
    }

    /// The current state.
    pub fn state(&self) -> ClientState {
        self.core.state
    }

    /// How many times the request was sent again (the first send is not counted).
    pub fn retransmissions(&self) -> u32 {
        self.core.retransmissions
    }
}
