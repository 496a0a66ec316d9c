//! Admission control: who gets a connection slot. A total cap and a per-source cap, both
//! checked right after `accept`, so a connection over either is closed at once (a reset the
//! peer sees immediately) instead of waiting unaccepted in the kernel backlog, where it would
//! hold the queue a legitimate trunk needs. Every refusal is counted ([`crate::Stats`]).
//!
//! A slot is a [`Ticket`]: it is given back when the connection task drops it, whatever ends
//! the connection.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

use crate::stats::{Counters, bump};

/// Why a connection was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refused {
    /// The gateway holds its maximum number of connections.
    Total,
    /// This source address holds its maximum number of connections.
    PerSource,
}

/// The slots of one gateway.
#[derive(Debug)]
pub(crate) struct Admission {
    max_total: usize,
    max_per_source: usize,
    held: Mutex<Held>,
}

#[derive(Debug, Default)]
struct Held {
    total: usize,
    by_source: HashMap<IpAddr, usize>,
}

/// One admitted connection's slot; dropping it gives the slot back.
#[derive(Debug)]
pub(crate) struct Ticket {
    admission: Arc<Admission>,
    source: IpAddr,
}

impl Admission {
    pub(crate) fn new(max_total: usize, max_per_source: usize) -> Arc<Self> {
        Arc::new(Admission {
            max_total,
            max_per_source,
            held: Mutex::new(Held::default()),
        })
    }

    /// A slot for a connection from `source`, or why not (counted in `counters`).
    pub(crate) fn admit(
        self: &Arc<Self>,
        source: IpAddr,
        counters: &Counters,
    ) -> Result<Ticket, Refused> {
        // An IPv4-mapped IPv6 peer is the same source as its IPv4 address.
        let source = source.to_canonical();
        let mut held = self.held.lock().unwrap_or_else(|p| p.into_inner());
        if held.total >= self.max_total {
            drop(held);
            bump(&counters.refused_total);
            return Err(Refused::Total);
        }
        let mine = held.by_source.entry(source).or_insert(0);
        if *mine >= self.max_per_source {
            drop(held);
            bump(&counters.refused_per_source);
            return Err(Refused::PerSource);
        }
        *mine += 1;
        held.total += 1;
        Ok(Ticket {
            admission: self.clone(),
            source,
        })
    }

    /// Connections held now (total).
    #[cfg(test)]
    fn total(&self) -> usize {
        self.held.lock().unwrap_or_else(|p| p.into_inner()).total
    }
}

impl Drop for Ticket {
    fn drop(&mut self) {
        let mut held = self
            .admission
            .held
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        held.total = held.total.saturating_sub(1);
        if let Some(n) = held.by_source.get_mut(&self.source) {
            *n -= 1;
            if *n == 0 {
                held.by_source.remove(&self.source);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_are_capped_per_source_and_in_total_and_given_back() {
        let counters = Counters::default();
        let a = Admission::new(3, 2);
        let one: IpAddr = "127.0.0.2".parse().unwrap();
        let two: IpAddr = "127.0.0.3".parse().unwrap();
        let t1 = a.admit(one, &counters).unwrap();
        let _t2 = a.admit(one, &counters).unwrap();
        assert_eq!(a.admit(one, &counters).unwrap_err(), Refused::PerSource);
        // The mapped form is the same source.
        let mapped: IpAddr = "::ffff:127.0.0.2".parse().unwrap();
        assert_eq!(a.admit(mapped, &counters).unwrap_err(), Refused::PerSource);
        let _t3 = a.admit(two, &counters).unwrap();
        assert_eq!(a.admit(two, &counters).unwrap_err(), Refused::Total);
        drop(t1);
        assert_eq!(a.total(), 2);
        let _t4 = a.admit(one, &counters).unwrap();
        let s = counters.snapshot();
        assert_eq!((s.refused_total, s.refused_per_source), (1, 2));
    }
}
