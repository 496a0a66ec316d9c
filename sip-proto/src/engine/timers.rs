//! The RFC 3261 timer values (§17, table 4) and the transport reliability that switches the
//! retransmission timers off.

use std::time::{Duration, Instant};

/// The base timer values; every transaction timer is derived from them (RFC 3261 table 4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timers {
    /// RTT estimate, 500 ms by default.
    pub t1: Duration,
    /// Maximum retransmission interval for non-INVITE requests and INVITE responses, 4 s.
    pub t2: Duration,
    /// Maximum time a message stays in the network, 5 s.
    pub t4: Duration,
}

impl Default for Timers {
    fn default() -> Self {
        Timers {
            t1: Duration::from_millis(500),
            t2: Duration::from_secs(4),
            t4: Duration::from_secs(5),
        }
    }
}

impl Timers {
    /// 64*T1: Timers H, J, L and M.
    pub fn t1x64(&self) -> Duration {
        self.t1.saturating_mul(64)
    }

    /// Timer I: T4 on an unreliable transport, 0 on a reliable one.
    pub fn t4_or_zero(&self, r: Reliability) -> Duration {
        match r {
            Reliability::Reliable => Duration::ZERO,
            Reliability::Unreliable => self.t4,
        }
    }

    /// Timer J: 64*T1 on an unreliable transport, 0 on a reliable one.
    pub fn timer_j(&self, r: Reliability) -> Duration {
        match r {
            Reliability::Reliable => Duration::ZERO,
            Reliability::Unreliable => self.t1x64(),
        }
    }
}

/// Whether the transport retransmits for us.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Reliability {
    /// TCP, TLS, SCTP, WebSocket: no retransmissions, Timers I and J are 0.
    Reliable,
    /// UDP: the engine retransmits (Timer G) and lingers to absorb retransmissions.
    Unreliable,
}

impl Reliability {
    /// The reliability of a Via transport token (`UDP` is the only unreliable one).
    pub fn of_transport(transport: &str) -> Reliability {
        if transport.eq_ignore_ascii_case("UDP") {
            Reliability::Unreliable
        } else {
            Reliability::Reliable
        }
    }
}

/// A retransmission timer whose interval doubles up to a cap (Timer G, and the §13.3.1.4 2xx
/// retransmission).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Backoff {
    /// When it fires next.
    pub(crate) at: Instant,
    /// The interval that led to `at`.
    pub(crate) interval: Duration,
    /// The largest interval (T2).
    pub(crate) cap: Duration,
}

impl Backoff {
    pub(crate) fn start(now: Instant, first: Duration, cap: Duration) -> Backoff {
        let interval = first.min(cap);
        Backoff {
            at: now + interval,
            interval,
            cap,
        }
    }

    /// Schedules the next firing after one at `self.at` was handled at `now`. A driver that woke
    /// up late gets one retransmission, not a burst: the next firing is never in the past.
    pub(crate) fn advance(&mut self, now: Instant) {
        self.interval = self.interval.saturating_mul(2).min(self.cap);
        let next = self.at + self.interval;
        self.at = if next > now {
            next
        } else {
            now + self.interval
        };
    }
}

/// The earliest of some optional instants.
pub(crate) fn earliest(items: impl IntoIterator<Item = Option<Instant>>) -> Option<Instant> {
    items.into_iter().flatten().min()
}

/// Whether an armed timer is due.
pub(crate) fn due(at: Option<Instant>, now: Instant) -> bool {
    at.is_some_and(|t| t <= now)
}

#[cfg(test)]
#[allow(
    clippy::disallowed_methods,
    reason = "a virtual clock starts at Instant::now(); every later instant is that plus a Duration"
)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_to_cap_and_never_bursts() {
        let t0 = Instant::now();
        let ms = Duration::from_millis;
        let mut b = Backoff::start(t0, ms(500), ms(4000));
        let mut fired = vec![];
        for _ in 0..6 {
            fired.push(b.at - t0);
            let at = b.at;
            b.advance(at);
        }
        assert_eq!(
            fired,
            vec![ms(500), ms(1500), ms(3500), ms(7500), ms(11500), ms(15500)]
        );
        // Woken 10 s late: the next firing is one interval after now.
        let late = b.at + Duration::from_secs(10);
        b.advance(late);
        assert_eq!(b.at, late + ms(4000));
    }

    #[test]
    fn derived_timers() {
        let t = Timers::default();
        assert_eq!(t.t1x64(), Duration::from_secs(32));
        assert_eq!(t.t4_or_zero(Reliability::Reliable), Duration::ZERO);
        assert_eq!(t.timer_j(Reliability::Reliable), Duration::ZERO);
        assert_eq!(t.timer_j(Reliability::Unreliable), Duration::from_secs(32));
        assert_eq!(t.t4_or_zero(Reliability::Unreliable), t.t4);
        assert_eq!(Reliability::of_transport("udp"), Reliability::Unreliable);
        assert_eq!(Reliability::of_transport("TLS"), Reliability::Reliable);
    }
}
