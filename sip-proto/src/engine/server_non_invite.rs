//! The non-INVITE server transaction (RFC 3261 §17.2.2, figure 8): Trying, Proceeding,
//! Completed, Terminated.
//!
//! A retransmitted request is absorbed in Trying, re-sends the latest provisional in Proceeding
//! and the final in Completed. Timer J (64*T1, 0 on reliable transports) ends Completed. A
//! transaction the TU has not answered 64*T1 after it started is abandoned (the client's Timer F
//! has fired by then), which keeps memory bounded when a TU forgets a request.

use std::sync::Arc;
use std::time::Instant;

use super::EngineError;
use super::table::{Out, ServerState};
use super::timers::{Reliability, Timers, due, earliest};
use crate::Response;

#[derive(Debug)]
pub(super) struct ServerNonInvite {
    state: ServerState,
    /// The latest response, shared with the transmit queue rather than copied.
    last: Option<Arc<Response>>,
    timer_j: Option<Instant>,
    abandon_at: Option<Instant>,
}

impl ServerNonInvite {
    pub(super) fn new(now: Instant, timers: &Timers) -> Self {
        ServerNonInvite {
            state: ServerState::Trying,
            last: None,
            timer_j: None,
            abandon_at: Some(now + timers.t1x64()),
        }
    }

    pub(super) fn state(&self) -> ServerState {
        self.state
    }

    /// The response to re-send for a retransmitted request, if any.
    pub(super) fn on_retransmission(&self) -> Option<Arc<Response>> {
        match self.state {
            ServerState::Proceeding | ServerState::Completed => self.last.clone(),
            _ => None,
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
        match (self.state, resp.status) {
            (ServerState::Trying | ServerState::Proceeding, 100..=199) => {
                self.state = ServerState::Proceeding;
            }
            (ServerState::Trying | ServerState::Proceeding, 200..=699) => {
                self.abandon_at = None;
                let j = timers.timer_j(r);
                if j.is_zero() {
                    self.state = ServerState::Terminated;
                } else {
                    self.state = ServerState::Completed;
                    self.timer_j = Some(now + j);
                }
            }
            (state, status) => return Err(EngineError::NotAllowed { state, status }),
        }
        let resp = Arc::new(resp);
        out.push(Out::Transmit(Arc::clone(&resp)));
        self.last = Some(resp);
        Ok(())
    }

    pub(super) fn handle_timeout(&mut self, now: Instant, out: &mut Vec<Out>) {
        if due(self.abandon_at, now) {
            out.push(Out::Abandoned);
            self.terminate();
        } else if due(self.timer_j, now) {
            self.terminate();
        }
    }

    pub(super) fn next_deadline(&self) -> Option<Instant> {
        earliest([self.timer_j, self.abandon_at])
    }

    fn terminate(&mut self) {
        self.state = ServerState::Terminated;
        self.timer_j = None;
        self.abandon_at = None;
    }
}
