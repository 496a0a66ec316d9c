//! The non-INVITE client transaction (RFC 3261 §17.1.2, figure 6): Trying, Proceeding,
//! Completed, Terminated.
//!
//! Timer E retransmits on unreliable transports at T1, then doubling up to T2 while Trying, and
//! every T2 in Proceeding; Timer F (64*T1) ends Trying or Proceeding with a timeout. A final moves
//! to Completed, which absorbs retransmitted finals until Timer K (T4, 0 on reliable transports).

use std::time::Instant;

use super::client::{ClientEvent, ClientState, Core};
use super::timers::{Backoff, Reliability, due, earliest};
use crate::Response;

#[derive(Debug)]
pub(super) struct NonInviteClient {
    timer_e: Option<Backoff>,
    timer_f: Option<Instant>,
    timer_k: Option<Instant>,
}

impl NonInviteClient {
    pub(super) fn start(now: Instant, core: &Core) -> Self {
        let timer_e = (core.reliability == Reliability::Unreliable)
            .then(|| Backoff::start(now, core.timers.t1, Some(core.timers.t2)));
        NonInviteClient {
            timer_e,
            timer_f: Some(now + core.timers.t1x64()),
            timer_k: None,
        }
    }

    pub(super) fn clear(&mut self) {
        self.timer_e = None;
        self.timer_f = None;
        self.timer_k = None;
    }

    pub(super) fn on_response(
        &mut self,
        core: &mut Core,
        now: Instant,
        resp: &Response,
    ) -> Option<ClientEvent> {
        let live = matches!(core.state, ClientState::Trying | ClientState::Proceeding);
        if !live {
            // Completed absorbs retransmitted finals; Terminated ignores everything.
            return None;
        }
        if resp.status < 200 {
            core.state = ClientState::Proceeding;
            return Some(ClientEvent::Provisional(resp.clone()));
        }
        self.clear();
        core.state = ClientState::Completed;
        let k = core.timers.t4_or_zero(core.reliability);
        if k.is_zero() {
            core.terminate();
        } else {
            self.timer_k = Some(now + k);
        }
        Some(ClientEvent::Final(resp.clone()))
    }

    pub(super) fn handle_timeout(&mut self, core: &mut Core, now: Instant) {
        if due(self.timer_f, now) {
            self.clear();
            core.event(ClientEvent::Timeout);
            core.terminate();
            return;
        }
        let proceeding = core.state == ClientState::Proceeding;
        let t2 = core.timers.t2;
        if let Some(e) = self.timer_e.as_mut().filter(|e| e.at <= now) {
            if proceeding {
                // §17.1.2.2: in Proceeding, Timer E is reset to T2 each time it fires.
                e.interval = t2;
                e.cap = Some(t2);
            }
            e.advance(now);
            core.retransmit();
        }
        if due(self.timer_k, now) {
            self.clear();
            core.terminate();
        }
    }

    pub(super) fn next_deadline(&self) -> Option<Instant> {
        earliest([self.timer_e.map(|e| e.at), self.timer_f, self.timer_k])
    }
}
