//! `load --media`: every answered call carries SRTP both ways (50 packets/s each way, G.711
//! at 20 ms) for its hold, and the [`Tally`] adds up what each call's trunk side recorded: packets
//! each way, loss, authentication failures, and per-call jitter and first-packet histograms
//! (HdrHistogram, no per-call vectors). With embedded gateways the report also carries
//! their counters, so both directions are measured.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use reports::{GatewayMedia, LoadMedia, MediaLeg};

use super::metrics::percentiles;

/// The shortest `--hold` that carries media worth measuring (10 packets each way).
pub const MIN_HOLD: Duration = Duration::from_millis(200);

/// The media counts of a run, shared by every connection task.
#[derive(Debug)]
pub struct Tally {
    inner: Mutex<Inner>,
    /// Sessions being stopped (their record not yet added).
    pending: AtomicU64,
    /// Calls whose media socket could not be bound.
    bind_failures: AtomicU64,
}

#[derive(Debug)]
struct Inner {
    calls: u64,
    silent: u64,
    sent: u64,
    received: u64,
    lost: u64,
    expected: u64,
    auth_failures: u64,
    jitter: Histogram<u64>,
    first_packet: Histogram<u64>,
}

fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 60_000_000, 3).expect("valid histogram bounds")
}

impl Default for Tally {
    fn default() -> Self {
        Tally {
            inner: Mutex::new(Inner {
                calls: 0,
                silent: 0,
                sent: 0,
                received: 0,
                lost: 0,
                expected: 0,
                auth_failures: 0,
                jitter: histogram(),
                first_packet: histogram(),
            }),
            pending: AtomicU64::new(0),
            bind_failures: AtomicU64::new(0),
        }
    }
}

impl Tally {
    /// A call's media socket could not be bound.
    pub fn bind_failed(&self) {
        self.bind_failures.fetch_add(1, Ordering::Relaxed);
    }

    /// Stops `session` in the background and adds its record.
    pub fn stop(self: &std::sync::Arc<Self>, session: media::Session) {
        self.pending.fetch_add(1, Ordering::AcqRel);
        let me = self.clone();
        tokio::spawn(async move {
            let leg = session.stop().await;
            me.add(&leg);
            me.pending.fetch_sub(1, Ordering::AcqRel);
        });
    }

    /// Adds one call's trunk-side record.
    pub fn add(&self, leg: &MediaLeg) {
        let mut i = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        i.calls += 1;
        if leg.rtp == 0 {
            i.silent += 1;
        }
        i.sent += leg.sent;
        i.received += leg.authenticated;
        i.lost += leg.lost;
        i.expected += leg.expected;
        i.auth_failures += leg.auth_failures;
        if leg.authenticated > 1 {
            let _ = i.jitter.record(leg.jitter_max_us.max(1));
        }
        if let Some(us) = leg.first_packet_us {
            let _ = i.first_packet.record(us.max(1));
        }
    }

    /// Waits (at most `bound`) for the sessions being stopped.
    pub async fn settle(&self, bound: Duration) {
        let until = Instant::now() + bound;
        while self.pending.load(Ordering::Acquire) > 0 && Instant::now() < until {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// The report over `span`, with the gateways' counters when they are embedded.
    pub fn report(&self, span: Duration, gateway: Option<GatewayMedia>) -> LoadMedia {
        let i = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let lost = i.lost + gateway.map_or(0, |g| g.lost);
        let expected = i.expected + gateway.map_or(0, |g| g.received + g.lost);
        let secs = span.as_secs_f64().max(1e-3);
        LoadMedia {
            calls: i.calls,
            bind_failures: self.bind_failures.load(Ordering::Relaxed),
            silent_calls: i.silent,
            trunk_sent: i.sent,
            trunk_received: i.received,
            trunk_lost: i.lost,
            trunk_auth_failures: i.auth_failures,
            gateway,
            packets_per_second: ((i.sent + i.received) as f64 / secs * 10.0).round() / 10.0,
            loss_ratio: if expected == 0 {
                0.0
            } else {
                lost as f64 / expected as f64
            },
            jitter: percentiles(&i.jitter),
            first_packet: percentiles(&i.first_packet),
        }
    }
}

/// The embedded gateways' media counters added up.
pub fn gateway_media(stats: impl IntoIterator<Item = mock_gateway::Stats>) -> GatewayMedia {
    stats
        .into_iter()
        .fold(GatewayMedia::default(), |g, s| GatewayMedia {
            sessions: g.sessions + s.media_sessions,
            sent: g.sent + s.media_sent,
            received: g.received + s.media_received,
            lost: g.lost + s.media_lost,
            auth_failures: g.auth_failures + s.media_auth_failures,
        })
}

/// One line for the terminal summary.
pub fn summary_line(m: &LoadMedia) -> String {
    let mut s = format!(
        "media: {} calls, {:.0} packets/s at the trunk (sent + received), trunk received {} of {} expected ({} lost, {} failed authentication, {} silent calls), jitter p50/p99/max {:.1}/{:.1}/{:.1} ms, first packet p99 {:.1} ms",
        m.calls,
        m.packets_per_second,
        m.trunk_received,
        m.trunk_received + m.trunk_lost,
        m.trunk_lost,
        m.trunk_auth_failures,
        m.silent_calls,
        m.jitter.p50_us as f64 / 1000.0,
        m.jitter.p99_us as f64 / 1000.0,
        m.jitter.max_us as f64 / 1000.0,
        m.first_packet.p99_us as f64 / 1000.0,
    );
    if let Some(g) = m.gateway {
        s.push_str(&format!(
            "; gateways received {} ({} lost, {} failed authentication)",
            g.received, g.lost, g.auth_failures
        ));
    }
    s.push_str(&format!("; loss {:.4}%", m.loss_ratio * 100.0));
    if m.bind_failures > 0 {
        s.push_str(&format!("; {} calls without a media port", m.bind_failures));
    }
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adds_calls_and_reports_loss_and_rates() {
        let t = Tally::default();
        let leg = MediaLeg {
            sent: 100,
            rtp: 100,
            authenticated: 98,
            lost: 2,
            expected: 100,
            jitter_max_us: 1500,
            first_packet_us: Some(20_000),
            ..MediaLeg::default()
        };
        t.add(&leg);
        t.add(&MediaLeg::default());
        t.bind_failed();
        let g = GatewayMedia {
            sessions: 2,
            sent: 200,
            received: 200,
            lost: 0,
            auth_failures: 0,
        };
        let r = t.report(Duration::from_secs(2), Some(g));
        assert_eq!((r.calls, r.silent_calls, r.bind_failures), (2, 1, 1));
        assert_eq!((r.trunk_sent, r.trunk_received, r.trunk_lost), (100, 98, 2));
        assert!((r.packets_per_second - 99.0).abs() < 1e-9, "{r:?}");
        assert!((r.loss_ratio - 2.0 / 300.0).abs() < 1e-9, "{r:?}");
        assert_eq!(r.jitter.count, 1);
        assert!(summary_line(&r).contains("2 lost"));
        assert_eq!(
            gateway_media([mock_gateway::Stats {
                media_sent: 3,
                ..Default::default()
            }])
            .sent,
            3
        );
    }
}
