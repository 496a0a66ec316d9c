//! Load metrics: one HdrHistogram (microseconds, 3 significant digits) per metric x outcome x
//! gateway, counters for every outcome and cause, per-second interval histograms of `setup`, and
//! the RFC 6076 ratios. Never a vector of per-call samples: a [`CallResult`] is folded into the
//! histograms as it arrives and dropped.
//!
//! `setup` is measured from the call's *intended* start (so a stalled generator or gateway shows
//! in the tail: coordinated omission), `setup_uncorrected` from the actual INVITE write, and
//! `lag` is the difference (the generator's own delay, the validity signal).
//!
//! Beside the per-metric histograms, [`Slice`]s hold the counts and `setup` of every call per
//! dialed number (`--mix`) and per step of a `steps:` profile, and the TLS handshakes are
//! counted as full or resumed, pooled connections included ([`Recorder::handshake`]).

use std::collections::{BTreeMap, HashMap};
use std::hash::{BuildHasherDefault, Hasher};
use std::io;
use std::time::{Duration, SystemTime};

use hdrhistogram::Histogram;
use hdrhistogram::serialization::V2DeflateSerializer;
use hdrhistogram::serialization::interval_log::{IntervalLogWriterBuilder, Tag};
use reports::load::{LoadCounts, MetricRow, Percentiles, Rfc6076};
use reports::load_detail::{AniCheck, SliceRow, TlsHandshakes};

pub use super::breakdown::Slice;
use super::breakdown::{add_counts, add_outcome, add_slices};

/// Largest latency kept: one hour in microseconds (larger values saturate).
pub(crate) const MAX_US: u64 = 3_600_000_000;

/// A call started more than this after its intended time is counted late.
pub const LATE_US: u64 = 1_000;

/// The latency metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Metric {
    /// TCP connect.
    TcpConnect,
    /// TLS handshake.
    TlsHandshake,
    /// INVITE write to 100 Trying.
    InviteTo100,
    /// INVITE write to the first 18x (post-dial delay).
    InviteTo18x,
    /// Intended start to the final response.
    Setup,
    /// INVITE write to the final response.
    SetupUncorrected,
    /// BYE write to its 2xx.
    ByeTo200,
    /// RFC 6076 session request delay: INVITE write to the first 18x, or to the 2xx without one.
    Srd,
    /// Actual INVITE write minus intended start.
    Lag,
}

impl Metric {
    /// Every metric, in report order.
    pub const ALL: [Metric; 9] = [
        Metric::Setup,
        Metric::SetupUncorrected,
        Metric::InviteTo100,
        Metric::InviteTo18x,
        Metric::Srd,
        Metric::ByeTo200,
        Metric::TcpConnect,
        Metric::TlsHandshake,
        Metric::Lag,
    ];

    /// The name used in reports and `--slo`.
    pub fn name(self) -> &'static str {
        match self {
            Metric::TcpConnect => "tcp_connect",
            Metric::TlsHandshake => "tls_handshake",
            Metric::InviteTo100 => "invite_to_100",
            Metric::InviteTo18x => "invite_to_18x",
            Metric::Setup => "setup",
            Metric::SetupUncorrected => "setup_uncorrected",
            Metric::ByeTo200 => "bye_to_200",
            Metric::Srd => "srd",
            Metric::Lag => "lag",
        }
    }

    /// The metric an SLO name refers to (`sdd` is RFC 6076's name for `bye_to_200`).
    pub fn by_name(name: &str) -> Option<Metric> {
        if name == "sdd" {
            return Some(Metric::ByeTo200);
        }
        Metric::ALL.into_iter().find(|m| m.name() == name)
    }

    /// Metrics that mean something only for answered calls in the run-wide rollup.
    fn answered_only(self) -> bool {
        matches!(self, Metric::Setup | Metric::SetupUncorrected | Metric::Srd)
    }
}

/// How a call ended: exactly one per attempted call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// 2xx.
    Answered,
    /// Final response >= 300.
    Rejected(u16),
    /// No final response within the attempt timeout.
    TimedOut,
    /// A local or transport error, by cause.
    Errored(String),
}

impl Outcome {
    /// The class index ([`CLASS_NAMES`]).
    pub(crate) fn class(&self) -> usize {
        match self {
            Outcome::Answered => 0,
            Outcome::Rejected(_) => 1,
            Outcome::TimedOut => 2,
            Outcome::Errored(_) => 3,
        }
    }
}

/// The final statuses RFC 6076 counts as ineffective session attempts (ISA), beside no final
/// response at all.
pub const ISA_STATUSES: [u16; 4] = [408, 500, 503, 504];

/// Outcome class names, by class index.
pub const CLASS_NAMES: [&str; 4] = ["answered", "rejected", "timed_out", "errored"];

/// What one call did, as its connection task hands it over. Times in microseconds.
#[derive(Debug, Clone)]
pub struct CallResult {
    /// Index into the run's gateway names.
    pub gateway: usize,
    /// The outcome.
    pub outcome: Outcome,
    /// Intended start, from t0.
    pub intended_us: u64,
    /// Actual INVITE write minus intended start; `None` when the INVITE never went out.
    pub lag_us: Option<u64>,
    /// TCP connect of a connection made for this call.
    pub tcp_connect_us: Option<u64>,
    /// TLS handshake of a connection made for this call.
    pub tls_handshake_us: Option<u64>,
    /// INVITE write to 100.
    pub invite_to_100_us: Option<u64>,
    /// INVITE write to first 18x.
    pub invite_to_18x_us: Option<u64>,
    /// INVITE write to final response.
    pub final_us: Option<u64>,
    /// BYE write to its 2xx.
    pub bye_to_200_us: Option<u64>,
    /// What went wrong after the answer, if anything.
    pub teardown_failure: Option<String>,
    /// Retransmitted final responses seen.
    pub retransmissions: u32,
    /// Index of the dialed number in the mix.
    pub spec: u16,
    /// Step of a `steps:` profile the call was due in (0 otherwise).
    pub step: u16,
    /// With `tls_handshake_us`: whether that handshake resumed an earlier session.
    pub tls_resumed: bool,
}

impl CallResult {
    /// A call that ended before its INVITE was written.
    pub fn errored(gateway: usize, intended_us: u64, cause: impl Into<String>) -> CallResult {
        CallResult {
            gateway,
            outcome: Outcome::Errored(cause.into()),
            intended_us,
            lag_us: None,
            tcp_connect_us: None,
            tls_handshake_us: None,
            invite_to_100_us: None,
            invite_to_18x_us: None,
            final_us: None,
            bye_to_200_us: None,
            teardown_failure: None,
            retransmissions: 0,
            spec: 0,
            step: 0,
            tls_resumed: false,
        }
    }

    /// Ineffective for RFC 6076 ISA: one of [`ISA_STATUSES`], or no final response.
    pub(crate) fn ineffective(&self) -> bool {
        match self.outcome {
            Outcome::TimedOut => true,
            Outcome::Rejected(s) => ISA_STATUSES.contains(&s),
            _ => false,
        }
    }

    /// Answered and torn down cleanly (RFC 6076 SCR).
    pub fn completed(&self) -> bool {
        self.outcome == Outcome::Answered && self.teardown_failure.is_none()
    }
}

/// The hasher of the recorder's own keys (metric, outcome class, gateway index: small numbers,
/// never from the wire): a multiply per word instead of SipHash, for the seven histogram
/// look-ups every call makes.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct KeyHasher(u64);

impl Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u64(u64::from(b));
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0.rotate_left(5) ^ n).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
    fn write_usize(&mut self, n: usize) {
        self.write_u64(n as u64);
    }
}

/// An empty latency histogram (microseconds, 3 significant digits).
pub fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, MAX_US, 3).expect("static histogram bounds are valid")
}

/// Everything recorded over a run (or a part of it; recorders merge with [`Recorder::add`]).
#[derive(Debug, Clone, Default)]
pub struct Recorder {
    /// Gateway names, by the index calls carry.
    pub gateways: Vec<String>,
    /// Dialed numbers of the mix, by the index calls carry.
    pub dials: Vec<String>,
    /// Labels of the steps of a `steps:` profile (empty for other profiles).
    pub steps: Vec<String>,
    pub(crate) hists:
        HashMap<(Metric, usize, usize), Histogram<u64>, BuildHasherDefault<KeyHasher>>,
    /// Counts by outcome.
    pub counts: LoadCounts,
    /// Rejections by status.
    pub rejected_by_status: BTreeMap<u16, u64>,
    /// Errors by cause.
    pub errored_by_cause: BTreeMap<String, u64>,
    /// Teardown problems by cause.
    pub teardown_failures: BTreeMap<String, u64>,
    /// Retransmitted final responses.
    pub retransmissions: u64,
    /// Answered and cleanly torn down.
    pub completed: u64,
    /// Full TLS handshakes (the server signed).
    pub tls_full: u64,
    /// Resumed TLS sessions.
    pub tls_resumed: u64,
    /// TLS handshakes of pool connections (made before the schedule started or on reconnect).
    pub tls_pooled: u64,
    /// Per dialed number, by mix index.
    pub by_dial: Vec<Slice>,
    /// Per step of a `steps:` profile.
    pub by_step: Vec<Slice>,
    /// The gateways' ANI as checked against each call's `--callers` row (`None`: not checked).
    pub ani: Option<AniCheck>,
    /// Calls written more than [`LATE_US`] after their intended start.
    pub late_starts: u64,
    /// `setup` of answered calls per second of completion (index = second since t0).
    pub intervals: Vec<Histogram<u64>>,
}

impl Recorder {
    /// An empty recorder for these gateways, mix and steps.
    pub fn new(gateways: Vec<String>, dials: Vec<String>, steps: Vec<String>) -> Recorder {
        Recorder {
            by_dial: vec![Slice::default(); dials.len()],
            by_step: vec![Slice::default(); steps.len()],
            gateways,
            dials,
            steps,
            ..Recorder::default()
        }
    }

    /// Counts a TLS handshake of a connection that carried no call of its own yet (a pool
    /// connection).
    pub fn handshake(&mut self, resumed: bool) {
        self.tls_pooled += 1;
        self.count_tls(resumed);
    }

    /// Counts one TLS handshake, full or resumed.
    fn count_tls(&mut self, resumed: bool) {
        if resumed {
            self.tls_resumed += 1;
        } else {
            self.tls_full += 1;
        }
    }

    /// TLS handshakes, full and resumed.
    pub fn tls_handshakes(&self) -> u64 {
        self.tls_full + self.tls_resumed
    }

    /// The TLS handshakes, for the report.
    pub fn handshakes(&self) -> TlsHandshakes {
        TlsHandshakes {
            total: self.tls_handshakes(),
            full: self.tls_full,
            resumed: self.tls_resumed,
            pooled: self.tls_pooled,
        }
    }

    fn put(&mut self, m: Metric, class: usize, gw: usize, us: u64) {
        self.hists
            .entry((m, class, gw))
            .or_insert_with(histogram)
            .saturating_record(us.clamp(1, MAX_US));
    }

    /// Folds one call in.
    pub fn record(&mut self, c: &CallResult) {
        let class = c.outcome.class();
        let gw = c.gateway;
        add_outcome(&mut self.counts, &c.outcome);
        match &c.outcome {
            Outcome::Rejected(s) => *self.rejected_by_status.entry(*s).or_default() += 1,
            Outcome::Errored(cause) => {
                *self.errored_by_cause.entry(cause.clone()).or_default() += 1;
            }
            Outcome::Answered | Outcome::TimedOut => {}
        }
        if let Some(t) = &c.teardown_failure {
            *self.teardown_failures.entry(t.clone()).or_default() += 1;
        }
        if c.completed() {
            self.completed += 1;
        }
        self.retransmissions += u64::from(c.retransmissions);
        let pairs = [
            (Metric::TcpConnect, c.tcp_connect_us),
            (Metric::TlsHandshake, c.tls_handshake_us),
            (Metric::InviteTo100, c.invite_to_100_us),
            (Metric::InviteTo18x, c.invite_to_18x_us),
            (Metric::SetupUncorrected, c.final_us),
            (Metric::ByeTo200, c.bye_to_200_us),
            (Metric::Lag, c.lag_us),
        ];
        for (m, v) in pairs {
            if let Some(v) = v {
                self.put(m, class, gw, v);
            }
        }
        if c.tls_handshake_us.is_some() {
            self.count_tls(c.tls_resumed);
        }
        let setup = c.lag_us.zip(c.final_us).map(|(l, f)| l + f);
        if let Some(slice) = self.by_dial.get_mut(usize::from(c.spec)) {
            slice.record(c, setup);
        }
        if let Some(slice) = self.by_step.get_mut(usize::from(c.step)) {
            slice.record(c, setup);
        }
        if c.lag_us.is_some_and(|l| l > LATE_US) {
            self.late_starts += 1;
        }
        if let (Some(lag), Some(fin)) = (c.lag_us, c.final_us) {
            let setup = lag + fin;
            self.put(Metric::Setup, class, gw, setup);
            if c.outcome == Outcome::Answered {
                self.put(Metric::Srd, class, gw, c.invite_to_18x_us.unwrap_or(fin));
                let sec = ((c.intended_us + setup) / 1_000_000) as usize;
                if self.intervals.len() <= sec {
                    self.intervals.resize_with(sec + 1, histogram);
                }
                let _ = self.intervals[sec].record(setup.clamp(1, MAX_US));
            }
        }
    }

    /// Adds everything `other` recorded.
    pub fn add(&mut self, other: &Recorder) {
        for (k, h) in &other.hists {
            let _ = self.hists.entry(*k).or_insert_with(histogram).add(h);
        }
        add_counts(&mut self.counts, &other.counts);
        for (s, n) in &other.rejected_by_status {
            *self.rejected_by_status.entry(*s).or_default() += n;
        }
        for (s, n) in &other.errored_by_cause {
            *self.errored_by_cause.entry(s.clone()).or_default() += n;
        }
        for (s, n) in &other.teardown_failures {
            *self.teardown_failures.entry(s.clone()).or_default() += n;
        }
        self.retransmissions += other.retransmissions;
        self.completed += other.completed;
        self.tls_full += other.tls_full;
        self.tls_resumed += other.tls_resumed;
        self.tls_pooled += other.tls_pooled;
        self.late_starts += other.late_starts;
        add_slices(&mut self.by_dial, &other.by_dial);
        add_slices(&mut self.by_step, &other.by_step);
        self.ani = match (self.ani.take(), &other.ani) {
            (Some(mut a), Some(b)) => {
                a.add(b);
                Some(a)
            }
            (a, b) => a.or_else(|| b.clone()),
        };
        if self.intervals.len() < other.intervals.len() {
            self.intervals.resize_with(other.intervals.len(), histogram);
        }
        for (a, b) in self.intervals.iter_mut().zip(&other.intervals) {
            let _ = a.add(b);
        }
    }

    /// One metric merged over gateways (and over outcomes, except for setup-like metrics,
    /// which are over answered calls only); `None` when nothing was recorded.
    pub fn rollup(&self, m: Metric) -> Option<Histogram<u64>> {
        let mut out: Option<Histogram<u64>> = None;
        for ((metric, class, _), h) in &self.hists {
            if *metric != m || (m.answered_only() && *class != 0) {
                continue;
            }
            let _ = out.get_or_insert_with(histogram).add(h);
        }
        out
    }

    /// Percentiles of every metric that has values (the report's `metrics` map).
    pub fn summary(&self) -> BTreeMap<String, Percentiles> {
        Metric::ALL
            .iter()
            .filter_map(|m| Some((m.name().to_owned(), percentiles(&self.rollup(*m)?))))
            .collect()
    }

    /// Per dialed number of the mix.
    pub fn dial_rows(&self) -> Vec<SliceRow> {
        self.by_dial
            .iter()
            .zip(&self.dials)
            .map(|(s, d)| s.row(d, None))
            .collect()
    }

    /// Per step of a `steps:` profile, each over its `each` seconds.
    pub fn step_rows(&self, each: Option<f64>) -> Vec<SliceRow> {
        self.by_step
            .iter()
            .zip(&self.steps)
            .map(|(s, label)| s.row(label, each))
            .collect()
    }

    /// Every metric x outcome x gateway, sorted.
    pub fn breakdown(&self) -> Vec<MetricRow> {
        let gateways = &self.gateways;
        let mut keys: Vec<_> = self.hists.keys().copied().collect();
        keys.sort();
        keys.into_iter()
            .map(|k| MetricRow {
                metric: k.0.name().to_owned(),
                outcome: CLASS_NAMES[k.1].to_owned(),
                gateway: gateways
                    .get(k.2)
                    .cloned()
                    .unwrap_or_else(|| format!("#{}", k.2)),
                percentiles: percentiles(&self.hists[&k]),
            })
            .collect()
    }

    /// RFC 6076 ratios in percent of attempted calls. ISA counts 408, 500, 503, 504 and calls
    /// that timed out (the local equivalent of a 408).
    pub fn rfc6076(&self) -> Rfc6076 {
        let n = self.counts.attempted;
        let pct = |x: u64| {
            if n == 0 {
                0.0
            } else {
                x as f64 * 100.0 / n as f64
            }
        };
        let status = |codes: &[u16]| -> u64 {
            codes
                .iter()
                .map(|c| self.rejected_by_status.get(c).copied().unwrap_or(0))
                .sum()
        };
        Rfc6076 {
            ser_pct: pct(self.counts.answered),
            seer_pct: pct(self.counts.answered + status(&[480, 486, 600, 603])),
            isa_pct: pct(status(&ISA_STATUSES) + self.counts.timed_out),
            scr_pct: pct(self.completed),
        }
    }

    /// Writes the per-second `setup` histograms as an HdrHistogram interval log.
    pub fn write_interval_log(&self, w: &mut impl io::Write, start: SystemTime) -> io::Result<()> {
        let mut ser = V2DeflateSerializer::new();
        let mut log = IntervalLogWriterBuilder::new()
            .add_comment("e911-harness load: setup (intended start -> final response) of answered calls, microseconds")
            .with_start_time(start)
            .with_base_time(start)
            .with_max_value_divisor(1000.0)
            .begin_log_with(w, &mut ser)?;
        let tag = Tag::new("setup");
        for (sec, h) in self.intervals.iter().enumerate() {
            log.write_histogram(
                h,
                Duration::from_secs(sec as u64),
                Duration::from_secs(1),
                tag,
            )
            .map_err(|e| io::Error::other(e.to_string()))?;
        }
        Ok(())
    }
}

impl crate::load::slo::Figures for Recorder {
    fn latency_us(&self, metric: &str, quantile: f64) -> Option<u64> {
        let h = self.rollup(Metric::by_name(metric)?)?;
        Some(if quantile >= 100.0 {
            h.max()
        } else {
            h.value_at_quantile(quantile / 100.0)
        })
    }

    fn ratio_pct(&self, name: &str) -> f64 {
        let r = self.rfc6076();
        match name {
            "ser" => r.ser_pct,
            "seer" => r.seer_pct,
            "isa" => r.isa_pct,
            _ => r.scr_pct,
        }
    }
}

/// The percentiles of a histogram.
pub fn percentiles(h: &Histogram<u64>) -> Percentiles {
    Percentiles {
        count: h.len(),
        min_us: h.min(),
        p50_us: h.value_at_quantile(0.50),
        p90_us: h.value_at_quantile(0.90),
        p99_us: h.value_at_quantile(0.99),
        p999_us: h.value_at_quantile(0.999),
        max_us: h.max(),
        mean_us: (h.mean() * 10.0).round() / 10.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::slo::Figures;

    fn answered(gw: usize, i: u64, lag: u64, fin: u64) -> CallResult {
        CallResult {
            outcome: Outcome::Answered,
            lag_us: Some(lag),
            invite_to_100_us: Some(fin / 4),
            invite_to_18x_us: Some(fin / 2),
            final_us: Some(fin),
            bye_to_200_us: Some(300),
            ..CallResult::errored(gw, i * 10_000, "")
        }
    }

    fn sample() -> Vec<CallResult> {
        let mut v: Vec<CallResult> = (0..200)
            .map(|i| answered((i % 2) as usize, i, 10 + i, 1_000 + 10 * i))
            .collect();
        v.push(CallResult {
            outcome: Outcome::Rejected(503),
            ..answered(0, 5, 5, 900)
        });
        v.push(CallResult {
            outcome: Outcome::TimedOut,
            final_us: None,
            ..answered(1, 6, 5, 900)
        });
        v.push(CallResult::errored(0, 7, "connection_closed"));
        v.push(CallResult {
            teardown_failure: Some("bye_timeout".into()),
            ..answered(1, 8, 5, 900)
        });
        v
    }

    #[test]
    fn every_call_counts_once_and_the_identity_holds() {
        let mut r = Recorder::default();
        for c in sample() {
            r.record(&c);
        }
        let c = r.counts;
        assert_eq!(
            (c.attempted, c.answered, c.rejected, c.timed_out, c.errored),
            (204, 201, 1, 1, 1)
        );
        assert!(c.balanced());
        assert_eq!(r.rejected_by_status[&503], 1);
        assert_eq!(r.errored_by_cause["connection_closed"], 1);
        assert_eq!(r.teardown_failures["bye_timeout"], 1);
        assert_eq!(r.completed, 200);
        let rf = r.rfc6076();
        assert!((rf.ser_pct - 201.0 * 100.0 / 204.0).abs() < 1e-9);
        assert!(
            (rf.isa_pct - 2.0 * 100.0 / 204.0).abs() < 1e-9,
            "503 + timeout"
        );
        assert!((rf.scr_pct - 200.0 * 100.0 / 204.0).abs() < 1e-9);
    }

    #[test]
    fn setup_is_from_the_intended_start() {
        let mut r = Recorder::default();
        r.record(&answered(0, 0, 5_000, 1_000));
        // 3 significant digits: a value reads back within 0.1 %.
        let near = |m: &str, q: f64, want: u64| {
            let got = r.latency_us(m, q).unwrap();
            assert!(got.abs_diff(want) * 1000 <= want, "{m}: {got} vs {want}");
        };
        near("setup", 50.0, 6_000);
        near("setup_uncorrected", 50.0, 1_000);
        near("lag", 100.0, 5_000);
        near("srd", 50.0, 500);
        near("sdd", 50.0, 300);
        assert_eq!(r.latency_us("tls_handshake", 50.0), None);
        assert_eq!(r.late_starts, 1);
    }

    #[test]
    fn merged_recorders_equal_one_recorder() {
        let all = sample();
        let new = || Recorder::new(vec!["gw1".into(), "gw2".into()], vec!["911".into()], vec![]);
        let mut one = new();
        let (mut a, mut b) = (new(), new());
        for (k, c) in all.iter().enumerate() {
            one.record(c);
            if k % 3 == 0 { a.record(c) } else { b.record(c) }
        }
        a.add(&b);
        assert_eq!(a.counts, one.counts);
        assert_eq!(a.summary(), one.summary());
        assert_eq!(a.breakdown(), one.breakdown());
        assert_eq!(a.dial_rows(), one.dial_rows());
        assert_eq!(a.intervals, one.intervals);
        assert_eq!(a.rfc6076(), one.rfc6076());
    }

    #[test]
    fn breakdown_is_per_metric_outcome_gateway() {
        let mut r = Recorder::new(vec!["gw1".into(), "gw2".into()], vec![], vec![]);
        for c in sample() {
            r.record(&c);
        }
        let rows = r.breakdown();
        let setup_rows: Vec<(&str, &str)> = rows
            .iter()
            .filter(|x| x.metric == "setup")
            .map(|x| (x.outcome.as_str(), x.gateway.as_str()))
            .collect();
        assert_eq!(
            setup_rows,
            [
                ("answered", "gw1"),
                ("answered", "gw2"),
                ("rejected", "gw1")
            ]
        );
        // The rollup of setup is over answered calls only.
        assert_eq!(r.summary()["setup"].count, 201);
    }

    #[test]
    fn interval_log_round_trips() {
        use hdrhistogram::serialization::interval_log::{IntervalLogIterator, LogEntry};
        let mut r = Recorder::default();
        for c in sample() {
            r.record(&c);
        }
        let mut buf = Vec::new();
        r.write_interval_log(&mut buf, SystemTime::UNIX_EPOCH)
            .unwrap();
        let text = String::from_utf8(buf.clone()).unwrap();
        assert!(text.contains("#[StartTime: 0.000"), "{text}");
        let n = IntervalLogIterator::new(&buf)
            .filter(|e| matches!(e, Ok(LogEntry::Interval(_))))
            .count();
        assert_eq!(n, r.intervals.len());
        assert!(n >= 2);
    }
}
