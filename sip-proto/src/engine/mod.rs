//! RFC 3261 §17 server transactions and §12 dialogs as sans-IO state machines, and the requests
//! a UAC derives from its INVITE.
//!
//! Nothing here owns a socket or reads a clock. The caller passes the current time
//! ([`std::time::Instant`]) into every method that can move state, then drains what the machine
//! wants done, in the style of quinn-proto:
//!
//! - `on_request` / `respond`: feed a message in;
//! - `poll_transmit()`: the messages to put on the wire now (first sends and retransmissions);
//! - `poll_event()`: what the transaction user (TU) must learn (timeouts, terminations);
//! - `poll_timeout()`: the next instant at which `handle_timeout(now)` must be called.
//!
//! Tests drive the machines with a virtual clock (a base `Instant` plus `Duration`s).
//!
//! There is no client transaction: the originators (the trunk's UAC, the load generator, the
//! OPTIONS prober) wait for their answers with their own deadlines, and build what they send
//! with [`ack_for_non_2xx`], [`cancel_for`] and a [`Dialog`].
//!
//! # Layout
//! - `timers`: [`Timers`] (T1, T2, T4 and the derived server Timers G-M) and [`Reliability`].
//! - `key`: [`TxKey`], the §17.2.3 matching key, with the RFC 2543 fallback.
//! - `server_invite`, `server_non_invite`: one server transaction each.
//! - `table`: [`ServerTransactions`], every server transaction of one UAS, with a timer index.
//! - `build`: requests a UAC derives from an INVITE: [`ack_for_non_2xx`], [`cancel_for`].
//! - `dialog`: [`Dialog`] (§12), in-dialog requests with route set, remote target and CSeq.
//!
//! # States (RFC 3261 figures 7-8, RFC 6026 for the INVITE server)
//! - INVITE server (figure 7 with RFC 6026): `Proceeding` -2xx from TU-> `Accepted` (Timer L)
//!   -> `Terminated`; -300-699 from TU-> `Completed` (Timers G and H) -ACK-> `Confirmed`
//!   (Timer I) -> `Terminated`; `Completed` -Timer H-> `Terminated` with
//!   [`ServerEvent::AckTimeout`].
//! - non-INVITE server (figure 8): `Trying` -1xx-> `Proceeding` -final-> `Completed` (Timer J)
//!   -> `Terminated`.
//!
//! # Choices
//! - **2xx to INVITE.** The server uses RFC 6026's `Accepted` state: INVITE retransmissions
//!   after a 2xx are absorbed (and the 2xx re-sent), never shown to the TU as new. The engine
//!   also does the UAS core's 2xx retransmission (§13.3.1.4: T1 doubling to T2, on every
//!   transport) until the ACK arrives; without an ACK within 64*T1 it reports
//!   [`ServerEvent::AckTimeout`]. The ACK of a 2xx is matched by dialog (Call-ID, From tag, CSeq
//!   number) and still reported as [`Incoming::AckOutsideTransaction`]. On the UAC side the ACK
//!   of a 2xx belongs to the TU ([`Dialog::ack`]).
//! - **Requests without an RFC 3261 branch** (no `z9hG4bK` cookie) are matched on Request-URI,
//!   From tag, Call-ID, CSeq number and the whole top Via (§17.2.3's RFC 2543 rule). Limit: the
//!   To tag of an ACK is not compared with the tag of the response it acknowledges.
//! - **Memory.** A terminated transaction is removed at once; [`ServerTransactions::len`] counts
//!   live ones. A non-INVITE server transaction the TU never answers is dropped after 64*T1 (the
//!   client gave up by then, Timer F) with [`ServerEvent::Abandoned`]. An INVITE server
//!   transaction waits for the TU as long as it takes (a call may ring for minutes).
//! - Nothing panics on any input: a request the engine cannot key (no Via, no CSeq) is
//!   [`Incoming::Malformed`].

mod build;
mod dialog;
mod key;
mod server_invite;
mod server_non_invite;
mod table;
mod timers;

pub use build::{ack_for_non_2xx, cancel_for};
pub use dialog::Dialog;
pub use key::TxKey;
pub use table::{Incoming, ServerEvent, ServerState, ServerTransactions};
pub use timers::{Reliability, Timers};

/// What the engine refuses to do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EngineError {
    /// A header the operation depends on is absent or unparseable.
    #[error("missing or malformed {0} header")]
    MissingHeader(&'static str),
    /// No live transaction has this key (never existed, or already terminated).
    #[error("no live transaction for branch {0:?}")]
    UnknownTransaction(String),
    /// A status code outside 100..=699.
    #[error("invalid status code {0}")]
    InvalidStatus(u16),
    /// The transaction's state does not accept this response (for example a second final).
    #[error("a {status} response is not allowed in state {state:?}")]
    NotAllowed {
        /// The state the transaction was in.
        state: ServerState,
        /// The status code the TU tried to send.
        status: u16,
    },
    /// The response does not belong to the transaction (top Via branch or CSeq method differ).
    #[error("response does not match the transaction ({0})")]
    ResponseMismatch(&'static str),
}
