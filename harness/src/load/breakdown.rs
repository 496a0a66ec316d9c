//! The calls of one dialed number (`--mix`) or one step (`steps:`): counts by outcome, RFC 6076
//! tallies and the `setup` histogram of the answered ones, added like the recorder's own
//! histograms when runs merge.

use hdrhistogram::Histogram;
use reports::load::LoadCounts;
use reports::load_detail::SliceRow;

use super::metrics::{CallResult, MAX_US, Outcome, histogram, percentiles};
use super::report::round1;

/// The calls of one dialed number or one step: counts and `setup` of the answered ones.
#[derive(Debug, Clone)]
pub struct Slice {
    /// By outcome.
    pub counts: LoadCounts,
    /// Answered and cleanly torn down.
    pub completed: u64,
    /// RFC 6076 ineffective attempts (408/500/503/504, timed out).
    pub ineffective: u64,
    /// `setup` of the answered calls.
    pub setup: Histogram<u64>,
}

impl Default for Slice {
    fn default() -> Slice {
        Slice {
            counts: LoadCounts::default(),
            completed: 0,
            ineffective: 0,
            setup: histogram(),
        }
    }
}

impl Slice {
    pub(crate) fn record(&mut self, c: &CallResult, setup: Option<u64>) {
        add_outcome(&mut self.counts, &c.outcome);
        if c.completed() {
            self.completed += 1;
        }
        if c.ineffective() {
            self.ineffective += 1;
        }
        if let (Outcome::Answered, Some(us)) = (&c.outcome, setup) {
            let _ = self.setup.record(us.clamp(1, MAX_US));
        }
    }

    /// Adds everything `other` recorded.
    pub fn add(&mut self, other: &Slice) {
        add_counts(&mut self.counts, &other.counts);
        self.completed += other.completed;
        self.ineffective += other.ineffective;
        let _ = self.setup.add(&other.setup);
    }

    /// The report row, with `span` (seconds the slice's calls were offered over, if known).
    pub fn row(&self, label: &str, span: Option<f64>) -> SliceRow {
        let n = self.counts.attempted.max(1) as f64;
        SliceRow {
            label: label.to_owned(),
            counts: self.counts,
            offered_cps: span.map(|s| round1(self.counts.attempted as f64 / s.max(1e-9))),
            achieved_cps: span.map(|s| round1(self.counts.answered as f64 / s.max(1e-9))),
            setup: (!self.setup.is_empty()).then(|| percentiles(&self.setup)),
            ser_pct: self.counts.answered as f64 * 100.0 / n,
            isa_pct: self.ineffective as f64 * 100.0 / n,
            scr_pct: self.completed as f64 * 100.0 / n,
        }
    }
}

pub(crate) fn add_outcome(c: &mut LoadCounts, o: &Outcome) {
    c.attempted += 1;
    match o {
        Outcome::Answered => c.answered += 1,
        Outcome::Rejected(_) => c.rejected += 1,
        Outcome::TimedOut => c.timed_out += 1,
        Outcome::Errored(_) => c.errored += 1,
    }
}

/// Adds counts.
pub fn add_counts(a: &mut LoadCounts, b: &LoadCounts) {
    a.attempted += b.attempted;
    a.answered += b.answered;
    a.rejected += b.rejected;
    a.timed_out += b.timed_out;
    a.errored += b.errored;
}

/// Adds `b`'s slices into `a`'s, position by position.
pub(crate) fn add_slices(a: &mut Vec<Slice>, b: &[Slice]) {
    if a.len() < b.len() {
        a.resize_with(b.len(), Slice::default);
    }
    for (x, y) in a.iter_mut().zip(b) {
        x.add(y);
    }
}
