//! `--find-max`: which rate to try next, given the steps so far. Pure, so the search is tested
//! without running a load.
//!
//! Grow the rate by `factor` (x1.5) while steps pass; once a step fails, bisect between the
//! highest passing and the lowest failing rate until they are within `tolerance` (5 %) of each
//! other; if the very first rate fails, halve it until one passes. Every search is bounded by
//! `max_steps` (and, by the caller, by a time budget).

/// The search state.
#[derive(Debug, Clone, PartialEq)]
pub struct Search {
    /// First rate tried.
    pub start: f64,
    /// Growth factor while passing.
    pub factor: f64,
    /// Stop bisecting when (fail - pass) / pass is at most this.
    pub tolerance: f64,
    /// Most steps.
    pub max_steps: usize,
    /// Lowest rate worth trying.
    pub min_rate: f64,
    /// Steps run so far: (rate, passed).
    pub steps: Vec<(f64, bool)>,
}

impl Search {
    /// A search from `start` with the default factor 1.5, 5 % tolerance and `max_steps`.
    pub fn new(start: f64, max_steps: usize) -> Search {
        Search {
            start,
            factor: 1.5,
            tolerance: 0.05,
            max_steps,
            min_rate: 1.0,
            steps: Vec::new(),
        }
    }

    /// Records a step's result.
    pub fn record(&mut self, rate: f64, passed: bool) {
        self.steps.push((rate, passed));
    }

    /// Highest passing rate below the lowest failing one.
    pub fn last_pass(&self) -> Option<f64> {
        let fail = self.first_fail().unwrap_or(f64::INFINITY);
        self.steps
            .iter()
            .filter(|(r, ok)| *ok && *r < fail)
            .map(|s| s.0)
            .fold(None, |m, r| Some(m.map_or(r, |m: f64| m.max(r))))
    }

    /// Lowest failing rate.
    pub fn first_fail(&self) -> Option<f64> {
        self.steps
            .iter()
            .filter(|s| !s.1)
            .map(|s| s.0)
            .fold(None, |m, r| Some(m.map_or(r, |m: f64| m.min(r))))
    }

    /// The next rate to try; `None` when the knee is found or the step budget is spent.
    pub fn next(&self) -> Option<f64> {
        if self.steps.len() >= self.max_steps {
            return None;
        }
        let Some(&(last_rate, _)) = self.steps.last() else {
            return Some(self.start);
        };
        let next = match (self.last_pass(), self.first_fail()) {
            (_, None) => last_rate * self.factor,
            (None, Some(fail)) => fail / 2.0,
            (Some(pass), Some(fail)) => {
                if (fail - pass) / pass <= self.tolerance {
                    return None;
                }
                (pass + fail) / 2.0
            }
        };
        // Whole calls per second keep steps readable; never retry a rate already run.
        let next = next.round().max(self.min_rate);
        if next < self.min_rate || self.steps.iter().any(|s| s.0 == next) {
            return None;
        }
        Some(next)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs the search against a system whose knee is at `knee` calls per second.
    fn run(start: f64, knee: f64, max_steps: usize) -> Search {
        let mut s = Search::new(start, max_steps);
        while let Some(r) = s.next() {
            s.record(r, r <= knee);
        }
        s
    }

    #[test]
    fn grows_by_half_then_bisects_to_within_tolerance() {
        let s = run(100.0, 700.0, 20);
        let rates: Vec<f64> = s.steps.iter().map(|x| x.0).collect();
        assert_eq!(&rates[..6], [100.0, 150.0, 225.0, 338.0, 507.0, 761.0]);
        let (pass, fail) = (s.last_pass().unwrap(), s.first_fail().unwrap());
        assert!(pass <= 700.0 && fail > 700.0, "{pass} {fail}");
        assert!((fail - pass) / pass <= 0.05, "{pass} {fail}");
        assert!(s.steps.len() < 20);
    }

    #[test]
    fn a_failing_start_halves_until_a_pass() {
        let s = run(1000.0, 300.0, 20);
        assert_eq!(s.steps[0], (1000.0, false));
        assert_eq!(s.steps[1], (500.0, false));
        assert_eq!(s.steps[2], (250.0, true));
        let (pass, fail) = (s.last_pass().unwrap(), s.first_fail().unwrap());
        assert!(pass <= 300.0 && fail > 300.0);
    }

    #[test]
    fn the_step_budget_bounds_the_search() {
        let s = run(10.0, 1e12, 5);
        assert_eq!(s.steps.len(), 5);
        assert_eq!(s.first_fail(), None);
        assert_eq!(s.next(), None);
        let s = run(10.0, 0.0, 30);
        assert!(s.last_pass().is_none());
        assert!(s.steps.len() < 30, "stops at the minimum rate");
    }

    #[test]
    fn a_noisy_pass_above_a_failure_does_not_count_as_the_knee() {
        let mut s = Search::new(100.0, 10);
        s.record(100.0, true);
        s.record(150.0, false);
        s.record(200.0, true);
        assert_eq!(s.last_pass(), Some(100.0));
        assert_eq!(s.next(), Some(125.0));
    }
}
