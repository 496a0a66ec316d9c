//! Receiver statistics of one RTP stream direction (RFC 3550 Appendix A): extended highest
//! sequence number and loss (A.1, A.3), interarrival jitter (A.8), SSRC changes. Pure: the
//! caller passes each packet's arrival time, in microseconds on any monotonic clock.

/// The clock rate of G.711 (samples per second), the unit RTP timestamps count in.
pub const CLOCK_RATE: u64 = 8000;

/// What one receiver counted.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Receiver {
    ssrc: Option<u32>,
    base_seq: u32,
    /// Extended highest sequence number of the current SSRC (cycles << 16 | seq).
    max_ext: u32,
    received_this: u64,
    expected_before: u64,
    received_before: u64,
    transit: Option<i64>,
    /// RFC 3550 jitter estimate in timestamp units, scaled by 16 (A.8's integer form).
    jitter16: i64,
    jitter_max16: i64,
    /// SSRCs after the first.
    pub ssrc_changes: u32,
    /// Packets received out of order (older than the highest so far) or duplicated.
    pub reordered: u64,
}

impl Receiver {
    /// Counts one authenticated packet: sequence `seq`, RTP timestamp `ts`, from `ssrc`,
    /// arriving at `arrival_us`.
    pub fn on_packet(&mut self, ssrc: u32, seq: u16, ts: u32, arrival_us: u64) {
        if self.ssrc != Some(ssrc) {
            if self.ssrc.is_some() {
                self.ssrc_changes += 1;
                self.expected_before += self.expected_this();
                self.received_before += self.received_this;
            }
            self.ssrc = Some(ssrc);
            self.base_seq = u32::from(seq);
            self.max_ext = u32::from(seq);
            self.received_this = 0;
            self.transit = None;
        }
        self.received_this += 1;
        let max_seq = (self.max_ext & 0xffff) as u16;
        let delta = seq.wrapping_sub(max_seq);
        if delta != 0 && delta < 0x8000 {
            if seq < max_seq {
                self.max_ext = self.max_ext.wrapping_add(0x1_0000);
            }
            self.max_ext = (self.max_ext & !0xffff) | u32::from(seq);
        } else if self.received_this > 1 {
            self.reordered += 1;
        }
        // Jitter (A.8): arrival converted to timestamp units, transit difference smoothed.
        let arrival =
            i64::try_from(arrival_us.saturating_mul(CLOCK_RATE) / 1_000_000).unwrap_or(i64::MAX);
        let transit = arrival.wrapping_sub(i64::from(ts));
        if let Some(prev) = self.transit {
            let d = (transit.wrapping_sub(prev)).saturating_abs();
            self.jitter16 += d.saturating_mul(16).saturating_sub(self.jitter16) / 16;
            self.jitter_max16 = self.jitter_max16.max(self.jitter16);
        }
        self.transit = Some(transit);
    }

    fn expected_this(&self) -> u64 {
        if self.ssrc.is_none() {
            return 0;
        }
        u64::from(self.max_ext.wrapping_sub(self.base_seq)) + 1
    }

    /// Packets counted.
    pub fn received(&self) -> u64 {
        self.received_before + self.received_this
    }

    /// Packets the sequence numbers say were sent (each SSRC from its first packet).
    pub fn expected(&self) -> u64 {
        self.expected_before + self.expected_this()
    }

    /// Packets lost: expected minus received, never below 0 (duplicates can outnumber losses).
    pub fn lost(&self) -> u64 {
        self.expected().saturating_sub(self.received())
    }

    /// The current jitter estimate in microseconds.
    pub fn jitter_us(&self) -> u64 {
        to_us(self.jitter16)
    }

    /// The highest jitter estimate seen, in microseconds.
    pub fn jitter_max_us(&self) -> u64 {
        to_us(self.jitter_max16)
    }
}

fn to_us(j16: i64) -> u64 {
    u64::try_from(j16.max(0)).unwrap_or(0) * 1_000_000 / 16 / CLOCK_RATE
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evenly_spaced_packets_have_no_loss_and_no_jitter() {
        let mut r = Receiver::default();
        for i in 0..100u32 {
            r.on_packet(
                1,
                100 + i as u16,
                i * 160,
                1_000_000 + u64::from(i) * 20_000,
            );
        }
        assert_eq!((r.received(), r.expected(), r.lost()), (100, 100, 0));
        assert_eq!(r.jitter_us(), 0);
        assert_eq!(r.ssrc_changes, 0);
    }

    #[test]
    fn gaps_are_losses_across_the_sequence_wrap() {
        let mut r = Receiver::default();
        for i in 0..200u32 {
            if i % 10 == 3 {
                continue;
            }
            let seq = 65_500u16.wrapping_add(i as u16);
            r.on_packet(9, seq, i * 160, u64::from(i) * 20_000);
        }
        assert_eq!(r.expected(), 200);
        assert_eq!(r.lost(), 20);
    }

    #[test]
    fn jitter_follows_rfc3550() {
        // Every other packet 10 ms late: |D| alternates 80 timestamp units.
        let mut r = Receiver::default();
        for i in 0..400u32 {
            let late = if i % 2 == 1 { 10_000 } else { 0 };
            r.on_packet(1, i as u16, i * 160, u64::from(i) * 20_000 + late);
        }
        // J converges to |D| = 80 units = 10 ms.
        let j = r.jitter_us();
        assert!((9_000..=10_000).contains(&j), "{j}");
        assert!(r.jitter_max_us() >= j);
    }

    #[test]
    fn a_new_ssrc_is_counted_and_starts_its_own_sequence() {
        let mut r = Receiver::default();
        for i in 0..10u16 {
            r.on_packet(1, i, u32::from(i) * 160, u64::from(i) * 20_000);
        }
        for i in 0..10u16 {
            r.on_packet(2, 5000 + i, 0, 200_000 + u64::from(i) * 20_000);
        }
        assert_eq!(r.ssrc_changes, 1);
        assert_eq!((r.received(), r.expected(), r.lost()), (20, 20, 0));
    }

    #[test]
    fn duplicates_and_reordering_do_not_underflow() {
        let mut r = Receiver::default();
        for seq in [1u16, 2, 2, 2, 1, 3] {
            r.on_packet(1, seq, 0, 0);
        }
        assert_eq!(r.expected(), 3);
        assert_eq!(r.lost(), 0);
        assert_eq!(r.reordered, 3);
        // A wildly wrong arrival time does not overflow.
        r.on_packet(1, 4, u32::MAX, u64::MAX);
    }
}
