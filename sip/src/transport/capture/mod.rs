//! Message capture: every SIP message a connection sends and receives, as plaintext (what went
//! into TLS, or came out of it), with the time, both socket addresses, the transport and the
//! direction. One [`Capture`] serves a whole run: the trunk's connections and each embedded
//! gateway's connections each get a [`Tap`] on it, named for their capture point (`trunk`,
//! `gw1`), and the records feed both the SIP ladders of the report and the pcapng trace.
//!
//! Off by default, and cheap when off: a connection without a tap pays one `None` check per
//! message. With a tap, a received message is recorded as the framed bytes it already is (a
//! reference count); a write is copied and split into its messages (a batch of 100, 180 and 200
//! is three records).
//!
//! Memory is bounded: records past `max_bytes` of message text are dropped and counted
//! ([`Capture::dropped`]). What is kept is chosen by [`Keep`]: everything (certification runs),
//! or the first calls and every failed call (load runs, see `calls`).

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use bytes::{Bytes, BytesMut};

use super::TransportKind;
use crate::codec::{Frame, Limits, StreamDecoder};

mod calls;
pub mod scan;

use calls::CallTable;

/// Which way a message went, seen from the capture point.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// The capture point wrote it.
    Sent,
    /// The capture point read it.
    Received,
}

/// One captured message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// Microseconds since the capture's epoch (the run's clock).
    pub at_us: u64,
    /// Who captured it (`trunk`, `gw1`, `gw2`).
    pub point: Arc<str>,
    /// The connection's number in this capture, from 1 (one per [`Capture::tap`]).
    pub conn: u64,
    /// The capture point's own address.
    pub local: SocketAddr,
    /// The other end's address.
    pub remote: SocketAddr,
    /// TCP, or TLS (the bytes are the plaintext either way).
    pub transport: TransportKind,
    /// Sent or received.
    pub direction: Direction,
    /// The whole message: start line, headers, empty line, body.
    pub bytes: Bytes,
}

impl Record {
    /// (source, destination) of the message on the wire.
    pub fn endpoints(&self) -> (SocketAddr, SocketAddr) {
        match self.direction {
            Direction::Sent => (self.local, self.remote),
            Direction::Received => (self.remote, self.local),
        }
    }
}

/// What a capture keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keep {
    /// Every message.
    All,
    /// The messages of the first `first` calls (by Call-ID, in order of their first message)
    /// and of every call that failed: a final response >= 300 to its INVITE, no 2xx to its BYE,
    /// or still unfinished when the capture is finished. Calls that completed cleanly after the
    /// first `first` are dropped as soon as their BYE is answered.
    FirstCallsAndFailures {
        /// How many calls are kept whatever happened to them.
        first: u64,
    },
}

/// A run's message capture, shared (cheaply cloned) by every connection that records into it.
#[derive(Debug, Clone)]
pub struct Capture {
    sink: Arc<Sink>,
}

#[derive(Debug)]
struct Sink {
    epoch: Instant,
    max_bytes: usize,
    next_conn: AtomicU64,
    dropped: AtomicU64,
    store: Mutex<Store>,
}

#[derive(Debug)]
struct Store {
    /// Records kept for good, in arrival order.
    kept: Vec<Record>,
    /// How many of `kept` [`Capture::since_last`] has handed out.
    handed: usize,
    /// Bytes of message text held (kept and pending).
    held: usize,
    /// With [`Keep::FirstCallsAndFailures`]: the calls whose fate is not known yet.
    calls: Option<CallTable>,
}

impl Capture {
    /// A capture whose times count from `epoch`, holding at most `max_bytes` of message text.
    pub fn new(epoch: Instant, keep: Keep, max_bytes: usize) -> Capture {
        let calls = match keep {
            Keep::All => None,
            Keep::FirstCallsAndFailures { first } => Some(CallTable::new(first)),
        };
        Capture {
            sink: Arc::new(Sink {
                epoch,
                max_bytes,
                next_conn: AtomicU64::new(0),
                dropped: AtomicU64::new(0),
                store: Mutex::new(Store {
                    kept: Vec::new(),
                    handed: 0,
                    held: 0,
                    calls,
                }),
            }),
        }
    }

    /// A tap for one connection of capture point `point`, numbered from 1 in tap order.
    pub fn tap(
        &self,
        point: &str,
        local: SocketAddr,
        remote: SocketAddr,
        transport: TransportKind,
    ) -> Tap {
        Tap {
            sink: self.sink.clone(),
            point: Arc::from(point),
            conn: self.sink.next_conn.fetch_add(1, Ordering::Relaxed) + 1,
            local,
            remote,
            transport,
        }
    }

    /// Copies of the records kept since the previous call (calls still pending excepted), in
    /// arrival order; [`Capture::finish`] still returns them. A copy shares the message bytes.
    pub fn since_last(&self) -> Vec<Record> {
        let mut store = self.sink.lock();
        let from = store.handed;
        store.handed = store.kept.len();
        store.kept[from..].to_vec()
    }

    /// Everything kept, pending calls included (unfinished calls count as failed), in time
    /// order, leaving the capture empty.
    pub fn finish(&self) -> Vec<Record> {
        let mut store = self.sink.lock();
        let mut all = std::mem::take(&mut store.kept);
        if let Some(calls) = &mut store.calls {
            all.extend(calls.drain_pending());
        }
        store.held = 0;
        store.handed = 0;
        all.sort_by_key(|r| r.at_us);
        all
    }

    /// Messages not kept because the capture was full.
    pub fn dropped(&self) -> u64 {
        self.sink.dropped.load(Ordering::Relaxed)
    }

    /// The capture's epoch.
    pub fn epoch(&self) -> Instant {
        self.sink.epoch
    }
}

impl Sink {
    fn lock(&self) -> std::sync::MutexGuard<'_, Store> {
        self.store.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn put(&self, r: Record) {
        let mut store = self.lock();
        if store.held + r.bytes.len() > self.max_bytes {
            drop(store);
            self.dropped.fetch_add(1, Ordering::Relaxed);
            return;
        }
        let store = &mut *store;
        store.held += r.bytes.len();
        match &mut store.calls {
            None => store.kept.push(r),
            Some(calls) => {
                let released = calls.put(r, &mut store.kept);
                store.held -= released;
            }
        }
    }
}

/// One connection's recorder: what it sends and receives goes into the capture.
#[derive(Debug, Clone)]
pub struct Tap {
    sink: Arc<Sink>,
    point: Arc<str>,
    conn: u64,
    local: SocketAddr,
    remote: SocketAddr,
    transport: TransportKind,
}

impl Tap {
    /// Records a write: `bytes` may hold several messages (and keep-alives, which are left out).
    pub fn sent(&self, bytes: &[u8]) {
        let at_us = self.now_us();
        let mut buf = BytesMut::from(bytes);
        let mut decoder = StreamDecoder::new(Limits {
            max_header_bytes: bytes.len().max(1),
            max_body_bytes: bytes.len(),
        });
        loop {
            match decoder.decode(&mut buf) {
                Ok(Some(Frame::Message(m))) => self.record(at_us, Direction::Sent, m),
                Ok(Some(Frame::KeepAlive)) => {}
                Ok(None) | Err(_) => break,
            }
        }
        // What does not frame (a raw line, a message cut short) is kept as it was written.
        if buf.iter().any(|b| !b.is_ascii_whitespace()) {
            self.record(at_us, Direction::Sent, buf.freeze());
        }
    }

    /// Records one framed message that was read.
    pub fn received(&self, message: &Bytes) {
        self.record(self.now_us(), Direction::Received, message.clone());
    }

    fn now_us(&self) -> u64 {
        u64::try_from(
            Instant::now()
                .saturating_duration_since(self.sink.epoch)
                .as_micros(),
        )
        .unwrap_or(u64::MAX)
    }

    fn record(&self, at_us: u64, direction: Direction, bytes: Bytes) {
        self.sink.put(Record {
            at_us,
            point: self.point.clone(),
            conn: self.conn,
            local: self.local,
            remote: self.remote,
            transport: self.transport,
            direction,
            bytes,
        });
    }
}

#[cfg(test)]
mod tests;
