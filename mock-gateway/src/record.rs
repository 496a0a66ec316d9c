//! The observation log of one gateway: numbered, timestamped from the gateway's start, kept in
//! memory for [`crate::Gateway::observations`] as [`Retain`] says, and broadcast to
//! subscribers (the standalone JSON-lines log). A slow subscriber lags and loses entries; the
//! log itself never blocks.
//!
//! With [`Retain::None`] and no subscriber, recording takes no lock: the sequence number is an
//! atomic and nothing is stored or sent.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use tokio::sync::broadcast;

use crate::config::Retain;
use crate::observation::Observation;

/// Broadcast buffer per subscriber.
const BROADCAST_CAPACITY: usize = 4096;

/// Shared by the accept loop and every connection task.
#[derive(Debug)]
pub(crate) struct Recorder {
    name: String,
    started: Instant,
    retain: Retain,
    seq: AtomicU64,
    log: Mutex<VecDeque<Observation>>,
    tx: broadcast::Sender<Observation>,
}

impl Recorder {
    pub(crate) fn new(name: &str, retain: Retain) -> Self {
        Recorder {
            name: name.to_owned(),
            started: Instant::now(),
            retain,
            seq: AtomicU64::new(0),
            log: Mutex::new(VecDeque::new()),
            tx: broadcast::channel(BROADCAST_CAPACITY).0,
        }
    }

    /// Milliseconds since the gateway started.
    pub(crate) fn now_ms(&self) -> u64 {
        u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    /// Whether an observation would be kept or sent anywhere (callers may skip building one).
    pub(crate) fn wanted(&self) -> bool {
        self.retain != Retain::None || self.tx.receiver_count() > 0
    }

    /// Numbers and stores `obs` (its `at_ms` is kept when already set).
    pub(crate) fn record(&self, mut obs: Observation) {
        obs.gateway.clone_from(&self.name);
        let subscribed = self.tx.receiver_count() > 0;
        match self.retain {
            Retain::None => {
                obs.seq = self.seq.fetch_add(1, Ordering::Relaxed) + 1;
            }
            Retain::All | Retain::Last(_) => {
                // Numbered under the lock so the log is in sequence order.
                let mut log = self.log.lock().unwrap_or_else(|p| p.into_inner());
                obs.seq = self.seq.fetch_add(1, Ordering::Relaxed) + 1;
                if let Retain::Last(n) = self.retain {
                    if n == 0 {
                        drop(log);
                        if subscribed {
                            let _ = self.tx.send(obs);
                        }
                        return;
                    }
                    while log.len() >= n {
                        log.pop_front();
                    }
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
        self.tx.subscribe()
    }
}
