//! The INVITE server transaction (RFC 3261 §17.2.1, figure 7, with RFC 6026's Accepted state):
//! Proceeding, Accepted, Completed, Confirmed, Terminated.
//!
//! - Proceeding: the TU's 1xx are sent; a retransmitted INVITE re-sends the latest one.
//! - Accepted (a 2xx was sent): the 2xx is retransmitted at T1 doubling to T2 on every transport
//!   (§13.3.1.4) until its ACK arrives; no ACK within 64*T1 gives an ACK timeout. Retransmitted
//!   INVITEs re-send the 2xx and are absorbed. Timer L (64*T1) terminates.
//! - Completed (a 300-699 was sent): Timer G re-sends it on unreliable transports (T1 doubling to
//!   T2), a retransmitted INVITE re-sends it, Timer H (64*T1) without ACK gives an ACK timeout
//!   and terminates; the ACK moves to Confirmed.
//! - Confirmed: ACKs are absorbed until Timer I (T4, 0 on reliable transports).

use std::sync::Arc;
use std::time::Instant;

use super::EngineError;
use super::table::{Out, ServerState};
use super::timers::{Backoff, Reliability, Timers, due, earliest};
use crate::Response;

/// What an ACK meant to the INVITE server transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum AckOutcome {
    /// The ACK of the non-2xx final: Completed -> Confirmed.
    Confirmed,
    /// The ACK of the 2xx (Accepted): 2xx retransmissions stop; the TU owns it.
    For2xx,
    /// Absorbed: a repeated ACK in Confirmed, or an ACK before any final.
    Absorbed,
}

#[derive(Debug)]
pub(super) struct ServerInvite {
    state: ServerState,
    /// The latest response, shared with the transmit queue rather than copied.
    last: Option<Arc<Response>>,
    /// Timer G in Completed; the 2xx retransmission in Accepted.
    timer_g: Option<Backoff>,
    /// Timer H in Completed; the 2xx ACK wait in Accepted.
    timer_h: Option<Instant>,
    timer_i: Option<Instant>,
    timer_l: Option<Instant>,
}

impl ServerInvite {
    pub(super) fn new() -> Self {
        ServerInvite {
            state: ServerState::Proceeding,
            last: None,
            timer_g: None,
            timer_h: None,
            timer_i: None,
            timer_l: None,
        }
    }

    pub(super) fn state(&self) -> ServerState {
        self.state
    }

    /// The response to re-send for a retransmitted INVITE, if any.
    pub(super) fn on_retransmission(&self) -> Option<Arc<Response>> {
        match self.state {
            ServerState::Proceeding | ServerState::Completed | ServerState::Accepted => {
                self.last.clone()
            }
            _ => None,
        }
    }

    pub(super) fn on_ack(&mut self, now: Instant, timers: &Timers, r: Reliability) -> AckOutcome {
        match self.state {
            ServerState::Completed => {
                self.timer_g = None;
                self.timer_h = None;
                let i = timers.t4_or_zero(r);
                if i.is_zero() {
                    self.terminate();
                } else {
                    self.state = ServerState::Confirmed;
                    self.timer_i = Some(now + i);
                }
                AckOutcome::Confirmed
            }
            ServerState::Accepted => {
                self.timer_g = None;
                self.timer_h = None;
                // The 2xx is acknowledged: nothing will re-send it (RFC 6026 §7.1 absorbs
                // retransmitted INVITEs in Accepted), so its copy is freed now rather than at
                // Timer L, 32 s later; a gateway holding tens of thousands of calls feels that.
                self.last = None;
                AckOutcome::For2xx
            }
            _ => AckOutcome::Absorbed,
        }
    }

    pub(super) fn respond(
        &mut self,
        now: Instant,
        resp: Response,
        timers: &Timers,
        r: Reliability,
        out: &mut Vec<Out>,
    ) -> Result<(), EngineError> {
        let status = resp.status;
        match (self.state, status) {
            (ServerState::Proceeding, 100..=199) => {}
            (ServerState::Proceeding, 200..=299) => {
                self.state = ServerState::Accepted;
                self.timer_g = Some(Backoff::start(now, timers.t1, timers.t2));
                self.timer_h = Some(now + timers.t1x64());
                self.timer_l = Some(now + timers.t1x64());
            }
            // RFC 6026 §7.1: further 2xx from the TU in Accepted are sent (and now retransmitted).
            (ServerState::Accepted, 200..=299) => {}
            (ServerState::Proceeding, 300..=699) => {
                self.state = ServerState::Completed;
                self.timer_g = (r == Reliability::Unreliable)
                    .then(|| Backoff::start(now, timers.t1, timers.t2));
                self.timer_h = Some(now + timers.t1x64());
            }
            (state, status) => return Err(EngineError::NotAllowed { state, status }),
        }
        let resp = Arc::new(resp);
        out.push(Out::Transmit(Arc::clone(&resp)));
        self.last = Some(resp);
        Ok(())
    }

    pub(super) fn handle_timeout(&mut self, now: Instant, out: &mut Vec<Out>) {
        match self.state {
            ServerState::Completed if due(self.timer_h, now) => {
                out.push(Out::AckTimeout);
                self.terminate();
            }
            ServerState::Completed | ServerState::Accepted => {
                if due(self.timer_h, now) {
                    // Accepted: the 2xx was never ACKed; stop retransmitting, keep absorbing.
                    self.timer_h = None;
                    self.timer_g = None;
                    out.push(Out::AckTimeout);
                }
                if let Some(g) = self.timer_g.as_mut().filter(|g| g.at <= now) {
                    g.advance(now);
                    if let Some(last) = &self.last {
                        out.push(Out::Transmit(Arc::clone(last)));
                    }
                }
                if due(self.timer_l, now) {
                    self.terminate();
                }
            }
            ServerState::Confirmed if due(self.timer_i, now) => self.terminate(),
            _ => {}
        }
    }

    pub(super) fn next_deadline(&self) -> Option<Instant> {
        earliest([
            self.timer_g.map(|g| g.at),
            self.timer_h,
            self.timer_i,
            self.timer_l,
        ])
    }

    fn terminate(&mut self) {
        self.state = ServerState::Terminated;
        self.timer_g = None;
        self.timer_h = None;
        self.timer_i = None;
        self.timer_l = None;
    }
}
