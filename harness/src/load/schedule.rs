//! The open-loop schedule: call `i` is due at `t0 + offset(i)`, whatever happened to the calls
//! before it. Pure functions of the profile; no clock, so they are tested on a virtual one.
//!
//! - `constant`: `offset(i) = i / rate`.
//! - `ramp:FROM..TO`: the rate grows linearly from FROM to TO over the run's duration; the
//!   cumulative count is `N(t) = FROM t + (TO - FROM) t^2 / 2D`, inverted for each `i`.
//! - `steps:R1,R2,..@D`: R1 for D, then R2 for D, ...; after the last step its rate holds.
//!
//! The schedule ends at the duration (exclusive) and/or after `calls` calls, whichever is first.
//!
//! Arrivals: with `uniform` call `i` sits at `N^-1(i)`, where `N(t)` is the profile's cumulative
//! count; with `poisson` it sits at `N^-1(S_i)`, where `S_i` is a running sum of unit exponential
//! gaps drawn from a seeded generator (a Poisson process of the profile's rate, bursts and
//! lulls included, the same for every run with the same seed). Either way the schedule stays
//! open-loop: when a call is due never depends on the calls before it.
//!
//! Shards: generator `I` of `N` walks the same global schedule and takes the calls with
//! `i mod N = I`, so N shards together offer exactly the calls one generator would.

use std::time::Duration;

use super::flags::{Arrivals, Shard};

/// The rate shape.
#[derive(Debug, Clone, PartialEq)]
pub enum Profile {
    /// The `--rate`, throughout.
    Constant,
    /// Linear from `from` to `to` calls per second over the run's duration.
    Ramp {
        /// Rate at the start.
        from: f64,
        /// Rate at the end.
        to: f64,
    },
    /// Each rate for `each`, in order.
    Steps {
        /// Rates in calls per second.
        rates: Vec<f64>,
        /// Length of each step.
        each: Duration,
    },
}

impl std::str::FromStr for Profile {
    type Err = String;

    fn from_str(s: &str) -> Result<Profile, String> {
        let s = s.trim();
        let rate = |v: &str| -> Result<f64, String> {
            match v.trim().parse::<f64>() {
                Ok(r) if r.is_finite() && r >= 0.0 => Ok(r),
                _ => Err(format!("{v:?} is not a rate (calls per second >= 0)")),
            }
        };
        if s == "constant" {
            return Ok(Profile::Constant);
        }
        if let Some(r) = s.strip_prefix("ramp:") {
            let (a, b) = r
                .split_once("..")
                .ok_or_else(|| format!("expected ramp:FROM..TO, got {s:?}"))?;
            let (from, to) = (rate(a)?, rate(b)?);
            if from == 0.0 && to == 0.0 {
                return Err("a ramp from 0 to 0 places no call".into());
            }
            return Ok(Profile::Ramp { from, to });
        }
        if let Some(r) = s.strip_prefix("steps:") {
            let (list, each) = r
                .split_once('@')
                .ok_or_else(|| format!("expected steps:R1,R2,..@DURATION, got {s:?}"))?;
            let rates = list.split(',').map(rate).collect::<Result<Vec<_>, _>>()?;
            let each = humantime::parse_duration(each.trim())
                .map_err(|e| format!("step duration {each:?}: {e}"))?;
            if each.is_zero() {
                return Err("step duration must be > 0".into());
            }
            if rates.iter().all(|r| *r == 0.0) {
                return Err("every step rate is 0: no call would be placed".into());
            }
            return Ok(Profile::Steps { rates, each });
        }
        Err(format!(
            "unknown profile {s:?}; expected constant, ramp:FROM..TO or steps:R1,R2,..@DURATION"
        ))
    }
}

/// A bounded open-loop schedule.
#[derive(Debug, Clone, PartialEq)]
pub struct Schedule {
    /// Shape.
    pub profile: Profile,
    /// Constant rate (calls per second).
    pub rate: f64,
    /// End of the schedule (zero: no time bound, `calls` must be set).
    pub duration: Duration,
    /// Count bound (over every shard together).
    pub calls: Option<u64>,
    /// How calls are spaced.
    pub arrivals: Arrivals,
    /// Seed of the Poisson gaps.
    pub seed: u64,
    /// Which calls of the global schedule this generator places.
    pub shard: Shard,
}

impl Schedule {
    /// Checks the bounds: a positive rate for `constant`, and a duration or a count.
    pub fn validate(&self) -> Result<(), String> {
        if self.duration.is_zero() && self.calls.is_none() {
            return Err("--duration is 0 and no --calls given: the run would never end".into());
        }
        if self.calls == Some(0) {
            return Err("--calls must be >= 1".into());
        }
        match &self.profile {
            Profile::Constant if !(self.rate.is_finite() && self.rate > 0.0) => Err(format!(
                "--rate must be > 0 calls per second, got {}",
                self.rate
            )),
            Profile::Ramp { .. } if self.duration.is_zero() => {
                Err("--profile ramp needs a --duration to ramp over".into())
            }
            _ => Ok(()),
        }
    }

    /// When call `i` of evenly spaced arrivals is due, from `t0`; `None` once the schedule is
    /// over.
    pub fn offset(&self, i: u64) -> Option<Duration> {
        self.offset_at(i, i as f64)
    }

    /// When call `i`, at `position` on the cumulative-count axis, is due.
    fn offset_at(&self, i: u64, position: f64) -> Option<Duration> {
        if self.calls.is_some_and(|n| i >= n) {
            return None;
        }
        let secs = self.offset_secs(position)?;
        let d = Duration::from_secs_f64(secs);
        if !self.duration.is_zero() && d >= self.duration {
            return None;
        }
        Some(d)
    }

    /// The intended rate of this shard at `t` (for progress and reports).
    pub fn rate_at(&self, t: Duration) -> f64 {
        self.total_rate_at(t) / f64::from(self.shard.count)
    }

    /// The step of a `steps:` profile that `at` falls in; `None` for other profiles.
    pub fn step_of(&self, at: Duration) -> Option<usize> {
        match &self.profile {
            Profile::Steps { rates, each } => {
                let k = (at.as_secs_f64() / each.as_secs_f64()) as usize;
                Some(k.min(rates.len() - 1))
            }
            _ => None,
        }
    }

    /// The intended rate of every shard together at `t`.
    pub fn total_rate_at(&self, t: Duration) -> f64 {
        match &self.profile {
            Profile::Constant => self.rate,
            Profile::Ramp { from, to } => {
                let frac = (t.as_secs_f64() / self.duration.as_secs_f64()).min(1.0);
                from + (to - from) * frac
            }
            Profile::Steps { rates, each } => {
                let k = (t.as_secs_f64() / each.as_secs_f64()) as usize;
                rates[k.min(rates.len() - 1)]
            }
        }
    }

    /// Short description, e.g. `constant 200/s`.
    pub fn describe(&self) -> String {
        match &self.profile {
            Profile::Constant => format!("constant {}/s", self.rate),
            Profile::Ramp { from, to } => format!("ramp {from}..{to}/s"),
            Profile::Steps { rates, each } => format!(
                "steps {}/s each {}",
                rates
                    .iter()
                    .map(f64::to_string)
                    .collect::<Vec<_>>()
                    .join(","),
                humantime::format_duration(*each)
            ),
        }
    }

    fn offset_secs(&self, n: f64) -> Option<f64> {
        match &self.profile {
            Profile::Constant => Some(n / self.rate),
            Profile::Ramp { from, to } => {
                let d = self.duration.as_secs_f64();
                let slope = (to - from) / d;
                if slope.abs() < 1e-12 {
                    return Some(n / from);
                }
                // N(t) = from t + slope t^2 / 2 = n  =>  t = (-from + sqrt(from^2 + 2 slope n)) / slope
                let disc = from * from + 2.0 * slope * n;
                if disc < 0.0 {
                    return None; // a falling ramp that never reaches call n
                }
                Some((disc.sqrt() - from) / slope)
            }
            Profile::Steps { rates, each } => {
                let each_s = each.as_secs_f64();
                let mut before = 0.0; // calls placed before this step
                for (k, r) in rates.iter().enumerate() {
                    let in_step = r * each_s;
                    let last = k + 1 == rates.len();
                    if n < before + in_step || (last && *r > 0.0) {
                        return Some(k as f64 * each_s + (n - before) / r);
                    }
                    before += in_step;
                }
                None
            }
        }
    }
}

/// Walks the schedule on any clock: [`Cursor::due`] hands out, in order, every call of this
/// shard whose intended start is at or before `elapsed`, so a late tick never skips a call.
#[derive(Debug, Clone)]
pub struct Cursor {
    /// Global index of the next call of this shard.
    next: u64,
    /// Its position on the cumulative-count axis.
    position: f64,
    /// Poisson gaps.
    rng: fastrand::Rng,
    issued: u64,
    started: bool,
    done: bool,
}

impl Cursor {
    /// A cursor at the start of `s`.
    pub fn new(s: &Schedule) -> Cursor {
        Cursor {
            next: 0,
            position: 0.0,
            rng: fastrand::Rng::with_seed(s.seed),
            issued: 0,
            started: false,
            done: false,
        }
    }

    fn gap(&mut self, s: &Schedule) -> f64 {
        match s.arrivals {
            Arrivals::Uniform => 1.0,
            // A unit exponential: -ln(1 - U), U in [0, 1).
            Arrivals::Poisson => -(1.0 - self.rng.f64()).ln(),
        }
    }

    /// Places the cursor on the first call of this shard at or after the current one.
    fn settle(&mut self, s: &Schedule) {
        if !self.started {
            self.started = true;
            self.position = match s.arrivals {
                Arrivals::Uniform => 0.0,
                Arrivals::Poisson => self.gap(s),
            };
        }
        while !s.shard.owns(self.next) {
            self.step(s);
        }
    }

    fn step(&mut self, s: &Schedule) {
        self.next += 1;
        self.position += self.gap(s);
    }

    /// Calls due by `elapsed` (global index and intended offset), at most `max` of them.
    pub fn due(&mut self, s: &Schedule, elapsed: Duration, max: usize) -> Vec<(u64, Duration)> {
        let mut out = Vec::new();
        while !self.done && out.len() < max {
            self.settle(s);
            match s.offset_at(self.next, self.position) {
                None => self.done = true,
                Some(at) if at <= elapsed => {
                    out.push((self.next, at));
                    self.issued += 1;
                    self.step(s);
                }
                Some(_) => break,
            }
        }
        out
    }

    /// When the next call of this shard is due; `None` once the schedule is over.
    pub fn next_at(&mut self, s: &Schedule) -> Option<Duration> {
        if self.done {
            return None;
        }
        self.settle(s);
        s.offset_at(self.next, self.position)
    }

    /// Calls handed out so far.
    pub fn issued(&self) -> u64 {
        self.issued
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sched(profile: Profile, rate: f64, secs: u64, calls: Option<u64>) -> Schedule {
        Schedule {
            profile,
            rate,
            duration: Duration::from_secs(secs),
            calls,
            arrivals: Arrivals::Uniform,
            seed: 0x911,
            shard: Shard::WHOLE,
        }
    }

    /// Runs the cursor on a virtual clock ticking every `tick`, returning every call handed out.
    fn drain(s: &Schedule, tick: Duration) -> Vec<(u64, Duration)> {
        let mut c = Cursor::new(s);
        let mut now = Duration::ZERO;
        let mut all = Vec::new();
        for _ in 0..1_000_000 {
            all.extend(c.due(s, now, usize::MAX));
            if c.next_at(s).is_none() {
                break;
            }
            now += tick;
        }
        all
    }

    #[test]
    fn constant_is_i_over_rate_and_ends_at_duration() {
        let s = sched(Profile::Constant, 200.0, 2, None);
        assert_eq!(s.offset(0), Some(Duration::ZERO));
        assert_eq!(s.offset(1), Some(Duration::from_millis(5)));
        assert_eq!(s.offset(399), Some(Duration::from_millis(1995)));
        assert_eq!(s.offset(400), None);
        let calls = drain(&s, Duration::from_millis(7));
        assert_eq!(calls.len(), 400);
        assert!(calls.iter().enumerate().all(|(k, (i, _))| k as u64 == *i));
    }

    #[test]
    fn the_count_bound_wins_when_first() {
        let s = sched(Profile::Constant, 1000.0, 10, Some(25));
        assert_eq!(drain(&s, Duration::from_millis(3)).len(), 25);
        let s = sched(Profile::Constant, 1000.0, 0, Some(25));
        assert!(s.validate().is_ok());
        assert_eq!(drain(&s, Duration::from_millis(3)).len(), 25);
    }

    #[test]
    fn a_late_tick_hands_out_every_overdue_call_with_its_own_intended_time() {
        let s = sched(Profile::Constant, 100.0, 1, None);
        let mut c = Cursor::new(&s);
        let late = c.due(&s, Duration::from_millis(95), usize::MAX);
        assert_eq!(late.len(), 10);
        assert_eq!(late[9], (9, Duration::from_millis(90)));
        // A capped batch leaves the rest for the next call, none skipped.
        let part = c.due(&s, Duration::from_millis(500), 3);
        assert_eq!(part.iter().map(|x| x.0).collect::<Vec<_>>(), [10, 11, 12]);
        assert_eq!(c.next_at(&s), Some(Duration::from_millis(130)));
    }

    #[test]
    fn ramp_places_the_integral_of_the_rate() {
        let s = sched(
            Profile::Ramp {
                from: 100.0,
                to: 300.0,
            },
            0.0,
            10,
            None,
        );
        assert!(s.validate().is_ok());
        let calls = drain(&s, Duration::from_millis(10));
        // (100 + 300) / 2 * 10 s = 2000 calls.
        assert!((1999..=2001).contains(&calls.len()), "{}", calls.len());
        // First second at ~100/s, last at ~300/s.
        let in_first = calls
            .iter()
            .filter(|c| c.1 < Duration::from_secs(1))
            .count();
        let in_last = calls
            .iter()
            .filter(|c| c.1 >= Duration::from_secs(9))
            .count();
        assert!((105..=115).contains(&in_first), "{in_first}");
        assert!((285..=295).contains(&in_last), "{in_last}");
        assert!(calls.windows(2).all(|w| w[0].1 <= w[1].1));
    }

    #[test]
    fn falling_ramp_and_flat_ramp() {
        let s = sched(
            Profile::Ramp {
                from: 300.0,
                to: 100.0,
            },
            0.0,
            10,
            None,
        );
        let n = drain(&s, Duration::from_millis(10)).len();
        assert!((1999..=2001).contains(&n), "{n}");
        let s = sched(
            Profile::Ramp {
                from: 50.0,
                to: 50.0,
            },
            0.0,
            2,
            None,
        );
        assert_eq!(drain(&s, Duration::from_millis(10)).len(), 100);
    }

    #[test]
    fn steps_hold_each_rate_then_the_last() {
        let p: Profile = "steps:10,20,0,40@1s".parse().unwrap();
        let s = sched(p, 0.0, 5, None);
        let calls = drain(&s, Duration::from_millis(1));
        let per_sec: Vec<usize> = (0..5)
            .map(|k| calls.iter().filter(|c| c.1.as_secs() == k).count())
            .collect();
        assert_eq!(per_sec, [10, 20, 0, 40, 40]);
        assert_eq!(s.rate_at(Duration::from_millis(1500)), 20.0);
        assert_eq!(s.rate_at(Duration::from_secs(99)), 40.0);
    }

    #[test]
    fn shards_together_place_exactly_the_calls_of_one_generator() {
        for arrivals in [Arrivals::Uniform, Arrivals::Poisson] {
            let mut one = sched(Profile::Constant, 300.0, 2, Some(500));
            one.arrivals = arrivals;
            let whole = drain(&one, Duration::from_millis(3));
            let mut parts = Vec::new();
            for index in 0..3 {
                let mut s = one.clone();
                s.shard = Shard { index, count: 3 };
                let mine = drain(&s, Duration::from_millis(3));
                assert!(mine.iter().all(|c| c.0 % 3 == u64::from(index)));
                parts.extend(mine);
            }
            parts.sort();
            assert_eq!(parts, whole, "{arrivals:?}");
            assert_eq!(whole.len(), 500);
        }
    }

    #[test]
    fn poisson_keeps_the_mean_rate_is_seeded_and_bursts() {
        let mut s = sched(Profile::Constant, 1000.0, 20, None);
        s.arrivals = Arrivals::Poisson;
        let a = drain(&s, Duration::from_millis(1));
        // 20 000 expected; a Poisson count has sd ~141, so 5 sd either side.
        assert!((19_300..=20_700).contains(&a.len()), "{}", a.len());
        assert_eq!(
            a,
            drain(&s, Duration::from_millis(1)),
            "same seed, same schedule"
        );
        s.seed = 7;
        assert_ne!(a, drain(&s, Duration::from_millis(1)));
        // Exponential gaps: about e^-1 of them exceed the mean gap, and some are tiny.
        let gaps: Vec<f64> = a
            .windows(2)
            .map(|w| (w[1].1 - w[0].1).as_secs_f64())
            .collect();
        let long = gaps.iter().filter(|g| **g > 0.001).count() as f64 / gaps.len() as f64;
        assert!((0.34..0.40).contains(&long), "{long}");
        assert!(gaps.iter().any(|g| *g < 0.000_05));
        // The open loop holds: offsets are non-decreasing, each call keeps its own time.
        assert!(a.windows(2).all(|w| w[0].1 <= w[1].1 && w[0].0 < w[1].0));
    }

    #[test]
    fn poisson_follows_a_ramp() {
        let mut s = sched(
            Profile::Ramp {
                from: 100.0,
                to: 900.0,
            },
            0.0,
            10,
            None,
        );
        s.arrivals = Arrivals::Poisson;
        let calls = drain(&s, Duration::from_millis(5));
        let first = calls
            .iter()
            .filter(|c| c.1 < Duration::from_secs(1))
            .count();
        let last = calls
            .iter()
            .filter(|c| c.1 >= Duration::from_secs(9))
            .count();
        assert!((100..=220).contains(&first), "{first}");
        assert!((760..=1000).contains(&last), "{last}");
    }

    #[test]
    fn steps_are_numbered_by_intended_time() {
        let p: Profile = "steps:10,20@2s".parse().unwrap();
        let s = sched(p, 0.0, 6, None);
        assert_eq!(s.step_of(Duration::from_millis(1999)), Some(0));
        assert_eq!(s.step_of(Duration::from_secs(2)), Some(1));
        assert_eq!(
            s.step_of(Duration::from_secs(5)),
            Some(1),
            "the last step holds"
        );
        assert_eq!(
            sched(Profile::Constant, 1.0, 1, None).step_of(Duration::ZERO),
            None
        );
    }

    #[test]
    fn bad_profiles_and_bounds_are_rejected() {
        for bad in [
            "ramp:1",
            "ramp:-1..5",
            "steps:1,2",
            "steps:1,x@1s",
            "steps:0@1s",
            "wave",
            "steps:1@0s",
        ] {
            assert!(bad.parse::<Profile>().is_err(), "{bad}");
        }
        assert!(sched(Profile::Constant, 0.0, 1, None).validate().is_err());
        assert!(sched(Profile::Constant, -5.0, 1, None).validate().is_err());
        assert!(sched(Profile::Constant, 5.0, 0, None).validate().is_err());
        assert!(
            sched(Profile::Constant, 5.0, 1, Some(0))
                .validate()
                .is_err()
        );
        assert!(
            sched(Profile::Ramp { from: 1.0, to: 2.0 }, 0.0, 0, Some(5))
                .validate()
                .is_err()
        );
    }
}
