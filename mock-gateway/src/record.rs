//! The observation log of one gateway: numbered, timestamped from the gateway's start, kept in
//! memory for [`crate::Gateway::observations`] as [`Retain`] says (a window of at most
//! [`MAX_RETAINED`], the oldest dropped and counted), and broadcast to
//! subscribers (the standalone JSON-lines log). A slow subscriber lags and loses entries; the
//! log itself never blocks.
//!
//! With [`Retain::None`] and no subscriber ever, recording takes no lock: the sequence number
//! is an atomic and nothing is stored or sent. (Asking the broadcast channel for its receiver
//! count takes its mutex, so "has anyone subscribed" is a flag set by [`Recorder::subscribe`].)

use std::collections::VecDeque;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Instant;

use tokio::sync::broadcast;

use crate::config::{MAX_RETAINED, Retain};
use crate::observation::Observation;

/// Broadcast buffer per subscriber.
const BROADCAST_CAPACITY: usize = 4096;

/// A moment on the gateway's two clocks ([`Recorder::stamp`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Stamp {
    pub(crate) at_ms: u64,
    pub(crate) at_us: u64,
}

impl Stamp {
    /// Writes the moment into `obs`.
    pub(crate) fn apply(self, obs: &mut Observation) {
        obs.at_ms = self.at_ms;
        obs.at_us = self.at_us;
    }
}

/// Shared by the accept loop and every connection task.
#[derive(Debug)]
pub(crate) struct Recorder {
    name: String,
    started: Instant,
    epoch: Instant,
    retain: Retain,
    seq: AtomicU64,
    /// Observations dropped from the window (oldest first).
    dropped: AtomicU64,
    subscribed: AtomicBool,
    log: Mutex<VecDeque<Observation>>,
    tx: broadcast::Sender<Observation>,
}

impl Recorder {
    pub(crate) fn new(name: &str, retain: Retain, epoch: Option<Instant>) -> Self {
        let started = Instant::now();
        Recorder {
            name: name.to_owned(),
            started,
            epoch: epoch.unwrap_or(started),
            retain,
            seq: AtomicU64::new(0),
            dropped: AtomicU64::new(0),
            subscribed: AtomicBool::new(false),
            log: Mutex::new(VecDeque::new()),
            tx: broadcast::channel(BROADCAST_CAPACITY).0,
        }
    }

    /// The gateway's name.
    pub(crate) fn name(&self) -> &str {
        &self.name
    }

    /// When something happens: milliseconds since the gateway started, microseconds since
    /// the run's epoch.
    pub(crate) fn stamp(&self) -> Stamp {
        let now = Instant::now();
        Stamp {
            at_ms: u64::try_from(now.saturating_duration_since(self.started).as_millis())
                .unwrap_or(u64::MAX),
            at_us: u64::try_from(now.saturating_duration_since(self.epoch).as_micros())
                .unwrap_or(u64::MAX),
        }
    }

    /// Whether an observation would be kept or sent anywhere (callers may skip building one).
    pub(crate) fn wanted(&self) -> bool {
        self.retain != Retain::None || self.subscribed.load(Ordering::Relaxed)
    }

    /// Numbers and stores `obs` (its `at_ms` is kept when already set).
    pub(crate) fn record(&self, mut obs: Observation) {
        obs.gateway.clone_from(&self.name);
        let subscribed = self.subscribed.load(Ordering::Relaxed);
        match self.retain {
            Retain::None => {
                obs.seq = self.seq.fetch_add(1, Ordering::Relaxed) + 1;
            }
            Retain::All | Retain::Last(_) => {
                // Numbered under the lock so the log is in sequence order.
                let mut log = self.log.lock().unwrap_or_else(|p| p.into_inner());
                obs.seq = self.seq.fetch_add(1, Ordering::Relaxed) + 1;
                let window = match self.retain {
                    Retain::Last(n) => n.min(MAX_RETAINED),
                    _ => MAX_RETAINED,
                };
                if window == 0 {
                    drop(log);
                    if subscribed {
                        let _ = self.tx.send(obs);
                    }
                    return;
                }
                while log.len() >= window {
                    log.pop_front();
                    self.dropped.fetch_add(1, Ordering::Relaxed);
                }
                if subscribed {
                    log.push_back(obs.clone());
                } else {
                    log.push_back(obs);
                    return;
                }
            }
        }
        if subscribed {
            let _ = self.tx.send(obs);
        }
    }

    /// Observations dropped from the window so far.
    pub(crate) fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    pub(crate) fn snapshot(&self) -> Vec<Observation> {
        self.log
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .cloned()
            .collect()
    }

    pub(crate) fn take(&self) -> Vec<Observation> {
        std::mem::take(&mut *self.log.lock().unwrap_or_else(|p| p.into_inner())).into()
    }

    pub(crate) fn subscribe(&self) -> broadcast::Receiver<Observation> {
        self.subscribed.store(true, Ordering::Relaxed);
        self.tx.subscribe()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decide::observe;
    use sip::{Method, Request, Uri};

    fn obs() -> Observation {
        observe(&Request::new(
            Method::Options,
            Uri::parse("sip:gw1").unwrap(),
        ))
    }

    #[test]
    fn retain_last_keeps_the_newest_and_none_keeps_nothing_but_still_numbers() {
        let last = Recorder::new("gw1", Retain::Last(2), None);
        for _ in 0..5 {
            last.record(obs());
        }
        let seqs: Vec<u64> = last.snapshot().iter().map(|o| o.seq).collect();
        assert_eq!(seqs, [4, 5]);
        assert_eq!(last.dropped(), 3);

        let none = Recorder::new("gw1", Retain::None, None);
        assert!(!none.wanted());
        none.record(obs());
        assert!(none.snapshot().is_empty());
        let mut rx = none.subscribe();
        assert!(none.wanted());
        none.record(obs());
        let o = rx.try_recv().unwrap();
        assert_eq!((o.seq, o.gateway.as_str()), (2, "gw1"));
        assert!(none.take().is_empty());

        let all = Recorder::new("gw1", Retain::All, None);
        for _ in 0..3 {
            all.record(obs());
        }
        assert_eq!(all.take().len(), 3);
        assert!(all.snapshot().is_empty());
    }

    #[test]
    fn retain_all_is_a_bounded_window_that_counts_what_it_drops() {
        let all = Recorder::new("gw1", Retain::All, None);
        let extra = 10;
        for _ in 0..MAX_RETAINED + extra {
            all.record(obs());
        }
        let kept = all.snapshot();
        assert_eq!(kept.len(), MAX_RETAINED);
        assert_eq!(kept[0].seq, extra as u64 + 1, "the oldest go first");
        assert_eq!(all.dropped(), extra as u64);
        let huge = Recorder::new("gw1", Retain::Last(usize::MAX), None);
        for _ in 0..MAX_RETAINED + 1 {
            huge.record(obs());
        }
        assert_eq!(huge.snapshot().len(), MAX_RETAINED);
    }
}
