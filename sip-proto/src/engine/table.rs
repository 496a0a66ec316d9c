//! [`ServerTransactions`]: every server transaction of one UAS, matched by [`TxKey`], with one
//! ordered timer index so `poll_timeout` and `handle_timeout` cost O(log n).

use std::collections::{BTreeSet, HashMap, VecDeque};
use std::fmt::Write as _;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::Arc;
use std::time::Instant;

use super::EngineError;
use super::key::TxKey;
use super::server_invite::{AckOutcome, ServerInvite};
use super::server_non_invite::ServerNonInvite;
use super::timers::{Reliability, Timers};
use crate::message::{NameAddr, SipHeaders};
use crate::{HeaderName, Method, Request, Response};

/// The state of a server transaction (RFC 3261 figures 7 and 8, RFC 6026).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ServerState {
    /// Non-INVITE: received, not answered yet.
    Trying,
    /// A provisional was sent (INVITE transactions start here).
    Proceeding,
    /// INVITE: a 2xx was sent (RFC 6026); absorbs INVITE retransmissions until Timer L.
    Accepted,
    /// A final (non-2xx for INVITE) was sent; absorbs retransmissions (Timers G/H or J).
    Completed,
    /// INVITE: the ACK of the non-2xx final arrived (Timer I).
    Confirmed,
    /// Done (a terminated transaction is removed from the table at once).
    Terminated,
}

/// How an incoming request relates to the live server transactions (§17.2.3).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Incoming {
    /// A new transaction: hand the request to the TU, which answers with
    /// [`ServerTransactions::respond`].
    New(TxKey),
    /// A retransmission, absorbed; the latest response (if any) was queued again.
    Retransmission(TxKey),
    /// The ACK of a non-2xx final: absorbed, the INVITE transaction moved to Confirmed.
    AckForCompleted(TxKey),
    /// An ACK that belongs to no transaction, normally the ACK of a 2xx (RFC 3261 makes it its
    /// own transaction): hand it to the TU/dialog layer. If it matched a 2xx this table is
    /// retransmitting, those retransmissions stopped.
    AckOutsideTransaction,
    /// A CANCEL: a new non-INVITE transaction `cancel` (answer it 200, or 481 when `invite` is
    /// `None`), and the live INVITE transaction it targets, if any (answer it 487 if it is still
    /// Proceeding).
    Cancel {
        /// The CANCEL's own transaction.
        cancel: TxKey,
        /// The INVITE transaction with the same branch and sent-by.
        invite: Option<TxKey>,
    },
    /// The request cannot be matched (no Via, or an RFC 2543 request without Call-ID/CSeq).
    /// Nothing was recorded; answer 400 statelessly or drop it.
    Malformed(EngineError),
}

/// What the table tells the TU outside of `on_request`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ServerEvent {
    /// The transaction ended and was removed.
    Terminated {
        /// Its key.
        key: TxKey,
    },
    /// No ACK arrived within 64*T1 for a final response to an INVITE: Timer H after a non-2xx
    /// (the transaction then terminates), or the §13.3.1.4 limit after a 2xx (the dialog should
    /// be ended with a BYE).
    AckTimeout {
        /// The INVITE transaction.
        key: TxKey,
    },
    /// A non-INVITE request the TU did not answer within 64*T1; the transaction was dropped.
    Abandoned {
        /// Its key.
        key: TxKey,
    },
}

/// What a server machine asks the table to do.
#[derive(Debug)]
pub(super) enum Out {
    Transmit(Arc<Response>),
    AckTimeout,
    Abandoned,
}

#[derive(Debug)]
enum Machine {
    Invite(ServerInvite),
    NonInvite(ServerNonInvite),
}

/// Call-ID, From tag, To tag and CSeq number of a 2xx, to match its ACK (which has a new
/// branch), joined by line feeds (which no header value holds) into one string.
type DialogKey = String;

#[derive(Debug)]
struct Entry {
    /// Shared with the index and the transmit queue (a key is two strings; no copies).
    key: Arc<TxKey>,
    machine: Machine,
    scheduled: Option<Instant>,
    dialog: Option<DialogKey>,
}

impl Entry {
    fn state(&self) -> ServerState {
        match &self.machine {
            Machine::Invite(m) => m.state(),
            Machine::NonInvite(m) => m.state(),
        }
    }
    fn next_deadline(&self) -> Option<Instant> {
        match &self.machine {
            Machine::Invite(m) => m.next_deadline(),
            Machine::NonInvite(m) => m.next_deadline(),
        }
    }
    fn on_retransmission(&self) -> Option<Arc<Response>> {
        match &self.machine {
            Machine::Invite(m) => m.on_retransmission(),
            Machine::NonInvite(m) => m.on_retransmission(),
        }
    }
}

/// All server transactions of one UAS (one per transport reliability; a UAS listening on UDP
/// and TLS keeps two tables).
#[derive(Debug)]
pub struct ServerTransactions {
    timers: Timers,
    reliability: Reliability,
    auto_trying: bool,
    next_id: u64,
    index: HashMap<Arc<TxKey>, u64>,
    entries: HashMap<u64, Entry, BuildHasherDefault<IdHasher>>,
    by_dialog: HashMap<DialogKey, u64>,
    wheel: BTreeSet<(Instant, u64)>,
    transmits: VecDeque<(Arc<TxKey>, Arc<Response>)>,
    events: VecDeque<ServerEvent>,
    scratch: Vec<Out>,
}

impl ServerTransactions {
    /// An empty table.
    pub fn new(timers: Timers, reliability: Reliability) -> Self {
        ServerTransactions {
            timers,
            reliability,
            auto_trying: false,
            next_id: 0,
            index: HashMap::new(),
            entries: HashMap::default(),
            by_dialog: HashMap::new(),
            wheel: BTreeSet::new(),
            transmits: VecDeque::new(),
            events: VecDeque::new(),
            scratch: Vec::new(),
        }
    }

    /// Builder form of [`ServerTransactions::set_auto_trying`].
    pub fn auto_trying(mut self, on: bool) -> Self {
        self.auto_trying = on;
        self
    }

    /// When on, a new INVITE gets a 100 Trying queued at once (§17.2.1 lets the transaction send
    /// it instead of the TU).
    pub fn set_auto_trying(&mut self, on: bool) {
        self.auto_trying = on;
    }

    /// Classifies an incoming request (§17.2.3) and updates the matching transaction.
    pub fn on_request(&mut self, now: Instant, req: &Request) -> Incoming {
        let key = match TxKey::for_request(req) {
            Ok(k) => k,
            Err(e) => return Incoming::Malformed(e),
        };
        match req.method {
            Method::Ack => self.on_ack(now, req, key),
            _ => {
                if let Some(&id) = self.index.get(&key) {
                    if let Some(e) = self.entries.get(&id)
                        && let Some(resp) = e.on_retransmission()
                    {
                        self.transmits.push_back((Arc::clone(&e.key), resp));
                    }
                    return Incoming::Retransmission(key);
                }
                let machine = if req.method == Method::Invite {
                    Machine::Invite(ServerInvite::new())
                } else {
                    Machine::NonInvite(ServerNonInvite::new(now, &self.timers))
                };
                let id = self.insert(key.clone(), machine);
                if self.auto_trying && req.method == Method::Invite {
                    let trying = Response::for_request(req, 100, None);
                    // A fresh INVITE transaction is Proceeding: a 1xx is always allowed.
                    let _ = self.respond_id(now, id, trying);
                }
                self.reschedule(id);
                if req.method == Method::Cancel {
                    let invite_key = TxKey {
                        method: Method::Invite,
                        ..key.clone()
                    };
                    let invite = self.index.contains_key(&invite_key).then_some(invite_key);
                    Incoming::Cancel {
                        cancel: key,
                        invite,
                    }
                } else {
                    Incoming::New(key)
                }
            }
        }
    }

    fn on_ack(&mut self, now: Instant, req: &Request, key: TxKey) -> Incoming {
        let by_branch = self.index.get(&key).copied();
        let id =
            by_branch.or_else(|| dialog_key(req).and_then(|d| self.by_dialog.get(&d).copied()));
        let Some(id) = id else {
            return Incoming::AckOutsideTransaction;
        };
        let (timers, r) = (self.timers, self.reliability);
        let outcome = match self.entries.get_mut(&id).map(|e| &mut e.machine) {
            Some(Machine::Invite(m)) => m.on_ack(now, &timers, r),
            _ => return Incoming::AckOutsideTransaction,
        };
        self.reschedule(id);
        match (outcome, by_branch) {
            (AckOutcome::Confirmed, _) => Incoming::AckForCompleted(key),
            (AckOutcome::Absorbed, Some(_)) => Incoming::Retransmission(key),
            _ => Incoming::AckOutsideTransaction,
        }
    }

    /// Sends the TU's response in transaction `key`: queues it for transmission and moves the
    /// state (INVITE: 1xx Proceeding, 2xx Accepted, 300-699 Completed with Timers G and H;
    /// non-INVITE: 1xx Proceeding, final Completed with Timer J).
    pub fn respond(
        &mut self,
        now: Instant,
        key: &TxKey,
        resp: Response,
    ) -> Result<(), EngineError> {
        if !(100..=699).contains(&resp.status) {
            return Err(EngineError::InvalidStatus(resp.status));
        }
        if resp.cseq().is_some_and(|c| c.method != key.method) {
            return Err(EngineError::ResponseMismatch("CSeq method"));
        }
        if key.is_rfc3261() && top_via_branch(&resp) != Some(key.branch.as_str()) {
            return Err(EngineError::ResponseMismatch("top Via branch"));
        }
        let id = *self
            .index
            .get(key)
            .ok_or_else(|| EngineError::UnknownTransaction(key.branch.clone()))?;
        let result = self.respond_id(now, id, resp);
        self.reschedule(id);
        result
    }

    fn respond_id(&mut self, now: Instant, id: u64, resp: Response) -> Result<(), EngineError> {
        let Some(entry) = self.entries.get_mut(&id) else {
            return Err(EngineError::UnknownTransaction(String::new()));
        };
        let is_2xx = (200..300).contains(&resp.status);
        // Only a 2xx to INVITE makes a dialog entry; the other responses skip the From/To parse.
        let dialog = (is_2xx && matches!(entry.machine, Machine::Invite(_)))
            .then(|| dialog_key(&resp))
            .flatten();
        let mut out = std::mem::take(&mut self.scratch);
        let result = match &mut entry.machine {
            Machine::Invite(m) => m.respond(now, resp, &self.timers, self.reliability, &mut out),
            Machine::NonInvite(m) => m.respond(now, resp, &self.timers, self.reliability, &mut out),
        };
        if result.is_ok()
            && is_2xx
            && matches!(entry.machine, Machine::Invite(_))
            && let Some(d) = dialog
        {
            self.by_dialog.insert(d.clone(), id);
            entry.dialog = Some(d);
        }
        self.scratch = out;
        self.drain_scratch(id);
        result
    }

    /// Fires every timer due at `now`.
    pub fn handle_timeout(&mut self, now: Instant) {
        let due: Vec<u64> = self
            .wheel
            .range(..=(now, u64::MAX))
            .map(|&(_, id)| id)
            .collect();
        for id in due {
            let Some(entry) = self.entries.get_mut(&id) else {
                continue;
            };
            let mut out = std::mem::take(&mut self.scratch);
            match &mut entry.machine {
                Machine::Invite(m) => m.handle_timeout(now, &mut out),
                Machine::NonInvite(m) => m.handle_timeout(now, &mut out),
            }
            self.scratch = out;
            self.drain_scratch(id);
            self.reschedule(id);
        }
    }

    /// The next response to put on the wire, with the transaction it belongs to.
    pub fn poll_transmit(&mut self) -> Option<(TxKey, Response)> {
        self.transmits
            .pop_front()
            .map(|(k, r)| (Arc::unwrap_or_clone(k), Arc::unwrap_or_clone(r)))
    }

    /// Like [`ServerTransactions::poll_transmit`] for a caller that only writes the response:
    /// it is shared with the transaction (kept for retransmission), not copied.
    pub fn poll_transmit_shared(&mut self) -> Option<Arc<Response>> {
        self.transmits.pop_front().map(|(_, r)| r)
    }

    /// The next event for the TU.
    pub fn poll_event(&mut self) -> Option<ServerEvent> {
        self.events.pop_front()
    }

    /// When [`ServerTransactions::handle_timeout`] must be called next.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.wheel.first().map(|&(at, _)| at)
    }

    /// The number of live transactions (terminated ones are removed at once).
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether no transaction is live.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The state of a live transaction.
    pub fn state(&self, key: &TxKey) -> Option<ServerState> {
        let id = self.index.get(key)?;
        self.entries.get(id).map(Entry::state)
    }

    fn insert(&mut self, key: TxKey, machine: Machine) -> u64 {
        let id = self.next_id;
        self.next_id = self.next_id.wrapping_add(1);
        let key = Arc::new(key);
        self.index.insert(Arc::clone(&key), id);
        self.entries.insert(
            id,
            Entry {
                key,
                machine,
                scheduled: None,
                dialog: None,
            },
        );
        id
    }

    fn drain_scratch(&mut self, id: u64) {
        let Some(key) = self.entries.get(&id).map(|e| Arc::clone(&e.key)) else {
            self.scratch.clear();
            return;
        };
        for out in self.scratch.drain(..) {
            match out {
                Out::Transmit(resp) => self.transmits.push_back((Arc::clone(&key), resp)),
                Out::AckTimeout => self.events.push_back(ServerEvent::AckTimeout {
                    key: TxKey::clone(&key),
                }),
                Out::Abandoned => self.events.push_back(ServerEvent::Abandoned {
                    key: TxKey::clone(&key),
                }),
            }
        }
    }

    /// Puts the transaction's next deadline in the timer index, or removes it if terminated.
    fn reschedule(&mut self, id: u64) {
        let Some(entry) = self.entries.get_mut(&id) else {
            return;
        };
        let next = entry.next_deadline();
        if entry.scheduled != next {
            if let Some(old) = entry.scheduled {
                self.wheel.remove(&(old, id));
            }
            if let Some(new) = next {
                self.wheel.insert((new, id));
            }
            entry.scheduled = next;
        }
        if entry.state() == ServerState::Terminated
            && let Some(entry) = self.entries.remove(&id)
        {
            if let Some(at) = entry.scheduled {
                self.wheel.remove(&(at, id));
            }
            // Only drop the dialog entry if it still points here (a looped INVITE may share it).
            if let Some(d) = &entry.dialog
                && self.by_dialog.get(d) == Some(&id)
            {
                self.by_dialog.remove(d);
            }
            self.index.remove(&*entry.key);
            self.events.push_back(ServerEvent::Terminated {
                key: Arc::unwrap_or_clone(entry.key),
            });
        }
    }
}

/// The `branch` parameter of the top Via, read from the header text without building a typed
/// Via (the response is our own, built from the request, so its Via is the request's).
fn top_via_branch(resp: &Response) -> Option<&str> {
    let top = resp.headers.values(&HeaderName::Via).next()?;
    top.split(';').skip(1).find_map(|p| {
        let (name, value) = p.split_once('=')?;
        name.trim()
            .eq_ignore_ascii_case("branch")
            .then(|| value.trim().split([',', ' ', '\t']).next().unwrap_or(""))
    })
}

fn dialog_key(msg: &impl SipHeaders) -> Option<DialogKey> {
    let headers = msg.headers();
    let call_id = msg.call_id()?;
    // The tags are read in place (the same scan as a typed From/To, nothing built).
    let from_tag = NameAddr::tag_of(headers.get(&HeaderName::From)?).ok()??;
    let to_tag = NameAddr::tag_of(headers.get(&HeaderName::To)?).ok()??;
    let seq = msg.cseq()?.seq;
    let mut key = String::with_capacity(call_id.len() + from_tag.len() + to_tag.len() + 14);
    for part in [call_id, from_tag, to_tag] {
        key.push_str(part);
        key.push('\n');
    }
    let _ = write!(key, "{seq}");
    Some(key)
}

/// The hasher of the table's own transaction ids (sequential numbers, never from the wire):
/// one multiplication instead of SipHash.
#[derive(Debug, Default, Clone, Copy)]
struct IdHasher(u64);

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(b)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0 ^ n).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}
