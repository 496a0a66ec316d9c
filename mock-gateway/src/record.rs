//! The observation log of one gateway: numbered, timestamped from the gateway's start, kept in
//! memory for [`crate::Gateway::observations`] and broadcast to subscribers (the standalone
//! JSON-lines log). A slow subscriber lags and loses entries; the log itself never blocks.

use std::sync::Mutex;
use std::time::Instant;

use tokio::sync::broadcast;

use crate::observation::Observation;

/// Broadcast buffer per subscriber.
const BROADCAST_CAPACITY: usize = 4096;

/// Shared by the accept loop and every connection task.
#[derive(Debug)]
pub(crate) struct Recorder {
    name: String,
    started: Instant,
    log: Mutex<(u64, Vec<Observation>)>,
    tx: broadcast::Sender<Observation>,
}

impl Recorder {
    pub(crate) fn new(name: &str) -> Self {
        Recorder {
            name: name.to_owned(),
            started: Instant::now(),
            log: Mutex::new((0, Vec::new())),
            tx: broadcast::channel(BROADCAST_CAPACITY).0,
        }
    }

    /// Milliseconds since the gateway started.
    pub(crate) fn now_ms(&self) -> u64 {
        u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    /// Numbers and stores `obs` (its `at_ms` is kept when already set).
    pub(crate) fn record(&self, mut obs: Observation) {
        obs.gateway.clone_from(&self.name);
        let mut log = self.log.lock().unwrap_or_else(|p| p.into_inner());
        log.0 += 1;
        obs.seq = log.0;
        log.1.push(obs.clone());
        drop(log);
        let _ = self.tx.send(obs);
    }

    pub(crate) fn snapshot(&self) -> Vec<Observation> {
        self.log.lock().unwrap_or_else(|p| p.into_inner()).1.clone()
    }

    pub(crate) fn take(&self) -> Vec<Observation> {
        std::mem::take(&mut self.log.lock().unwrap_or_else(|p| p.into_inner()).1)
    }

    pub(crate) fn subscribe(&self) -> broadcast::Receiver<Observation> {
        self.tx.subscribe()
    }
}
