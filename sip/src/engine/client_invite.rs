//! The INVITE client transaction (RFC 3261 §17.1.1, figure 5): Calling, Proceeding, Completed,
//! Terminated.
//!
//! Timer A retransmits the INVITE on unreliable transports at T1, 2*T1, 4*T1 ... (no cap) while
//! Calling; Timer B (64*T1) ends Calling with a timeout. A non-2xx final sends one ACK and moves to
//! Completed, where each retransmitted final re-sends that ACK, until Timer D. A 2xx terminates.

use std::time::Instant;

use super::build::ack_for_non_2xx;
use super::client::{ClientEvent, ClientState, Core};
use super::timers::{Backoff, Reliability, due, earliest};
use crate::{Request, Response};

#[derive(Debug)]
pub(super) struct InviteClient {
    timer_a: Option<Backoff>,
    timer_b: Option<Instant>,
    timer_d: Option<Instant>,
    /// The ACK of the non-2xx final, kept to answer its retransmissions.
    ack: Option<Box<Request>>,
    /// Terminated by a 2xx: later 2xx are passed up again.
    accepted: bool,
}

impl InviteClient {
    pub(super) fn start(now: Instant, core: &Core) -> Self {
        let timer_a = (core.reliability == Reliability::Unreliable)
            .then(|| Backoff::start(now, core.timers.t1, None));
        InviteClient {
            timer_a,
            timer_b: Some(now + core.timers.t1x64()),
            timer_d: None,
            ack: None,
            accepted: false,
        }
    }

    pub(super) fn clear(&mut self) {
        self.timer_a = None;
        self.timer_b = None;
        self.timer_d = None;
    }

    pub(super) fn on_response(
        &mut self,
        core: &mut Core,
        now: Instant,
        resp: &Response,
    ) -> Option<ClientEvent> {
        let live = matches!(core.state, ClientState::Calling | ClientState::Proceeding);
        match resp.status {
            100..=199 if live => {
                core.state = ClientState::Proceeding;
                self.timer_a = None;
                self.timer_b = None;
                Some(ClientEvent::Provisional(resp.clone()))
            }
            200..=299 if live => {
                self.clear();
                self.accepted = true;
                core.terminate();
                Some(ClientEvent::Final(resp.clone()))
            }
            // A retransmitted 2xx, or one from another fork: the TU's dialog must ACK it.
            200..=299 if self.accepted => Some(ClientEvent::Final(resp.clone())),
            300..=699 if live => {
                self.timer_a = None;
                self.timer_b = None;
                let ack = ack_for_non_2xx(&core.request, resp);
                core.send(ack.clone());
                self.ack = Some(Box::new(ack));
                core.state = ClientState::Completed;
                let d = core.timers.timer_d(core.reliability);
                if d.is_zero() {
                    core.terminate();
                } else {
                    self.timer_d = Some(now + d);
                }
                Some(ClientEvent::Final(resp.clone()))
            }
            300..=699 if core.state == ClientState::Completed => {
                if let Some(ack) = &self.ack {
                    core.send(Request::clone(ack));
                }
                None
            }
            _ => None,
        }
    }

    pub(super) fn handle_timeout(&mut self, core: &mut Core, now: Instant) {
        if due(self.timer_b, now) {
            self.clear();
            core.event(ClientEvent::Timeout);
            core.terminate();
            return;
        }
        if let Some(a) = self.timer_a.as_mut().filter(|a| a.at <= now) {
            a.advance(now);
            core.retransmit();
        }
        if due(self.timer_d, now) {
            self.clear();
            core.terminate();
        }
    }

    pub(super) fn next_deadline(&self) -> Option<Instant> {
        earliest([self.timer_a.map(|a| a.at), self.timer_b, self.timer_d])
    }
}
