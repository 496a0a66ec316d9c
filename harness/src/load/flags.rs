//! Typed values of `load`'s flags. clap parses each flag straight into its type (`ValueEnum` or
//! `FromStr`), so a bad value is refused by clap with the flag's name and the reason, and the
//! run never sees a string it must parse again.

use std::fmt;
use std::str::FromStr;
use std::time::{Duration, SystemTime};

use clap::ValueEnum;

use super::slo::{self, Slo};

/// `--tls-resumption`: whether a new connection may resume an earlier TLS session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Resumption {
    /// Every connection does a full handshake (the server signs with its RSA key every time).
    Off,
    /// Connections resume the client's cached session when the server allows it.
    On,
}

impl Resumption {
    /// The flag's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Resumption::Off => "off",
            Resumption::On => "on",
        }
    }
}

/// `--arrivals`: how calls are spaced around the profile's rate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum Arrivals {
    /// Evenly spaced: call i at N^-1(i).
    #[default]
    Uniform,
    /// A seeded Poisson process with the profile's rate (exponential gaps, bursts included).
    Poisson,
}

impl Arrivals {
    /// The flag's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Arrivals::Uniform => "uniform",
            Arrivals::Poisson => "poisson",
        }
    }
}

/// `--caller-order`: which `--callers` row a call uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum CallerOrder {
    /// Call i uses row i (mod the row count); shards share the walk.
    #[default]
    Sequential,
    /// A seeded pseudo-random row per call.
    Random,
    /// Shard I of N uses only rows I, I+N, I+2N, ... in turn (no caller on two generators).
    PerShard,
}

impl CallerOrder {
    /// The flag's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            CallerOrder::Sequential => "sequential",
            CallerOrder::Random => "random",
            CallerOrder::PerShard => "per-shard",
        }
    }
}

/// `--mix 911=95,933=5`: dialed numbers and their weights.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mix(pub Vec<(String, u32)>);

impl FromStr for Mix {
    type Err = String;

    fn from_str(s: &str) -> Result<Mix, String> {
        let mut out = Vec::new();
        for item in s.split(',').map(str::trim).filter(|i| !i.is_empty()) {
            let (dial, w) = item
                .split_once('=')
                .ok_or_else(|| format!("{item:?}: expected NUMBER=WEIGHT, e.g. 911=95"))?;
            let dial = dial.trim();
            if dial.is_empty() || !dial.chars().all(|c| c.is_ascii_digit()) {
                return Err(format!("{item:?}: {dial:?} is not a dialed number"));
            }
            let w: u32 = w
                .trim()
                .parse()
                .map_err(|_| format!("{item:?}: weight must be a whole number"))?;
            if out.iter().any(|(d, _)| d == dial) {
                return Err(format!("{item:?}: {dial} is given twice"));
            }
            out.push((dial.to_owned(), w));
        }
        if out.iter().map(|m| u64::from(m.1)).sum::<u64>() == 0 {
            return Err(format!("{s:?}: no dialed number with a weight > 0"));
        }
        Ok(Mix(out))
    }
}

impl fmt::Display for Mix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let items: Vec<String> = self.0.iter().map(|(d, w)| format!("{d}={w}")).collect();
        f.write_str(&items.join(","))
    }
}

/// `--slo "p99_setup<50ms,isa<0.1%"`.
#[derive(Debug, Clone, PartialEq)]
pub struct SloList(pub Vec<Slo>);

impl FromStr for SloList {
    type Err = String;

    fn from_str(s: &str) -> Result<SloList, String> {
        slo::parse_list(s).map(SloList)
    }
}

/// `--shard I/N`: this generator is shard I (0-based) of N.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// This shard, 0..count.
    pub index: u32,
    /// How many generators share the load.
    pub count: u32,
}

impl Shard {
    /// The whole load on one generator.
    pub const WHOLE: Shard = Shard { index: 0, count: 1 };

    /// Whether global call `i` is this shard's.
    pub fn owns(self, i: u64) -> bool {
        i % u64::from(self.count) == u64::from(self.index)
    }
}

impl Default for Shard {
    fn default() -> Shard {
        Shard::WHOLE
    }
}

impl FromStr for Shard {
    type Err = String;

    fn from_str(s: &str) -> Result<Shard, String> {
        let (i, n) = s
            .split_once('/')
            .ok_or_else(|| format!("{s:?}: expected I/N, e.g. 0/4 (shard I of N, from 0)"))?;
        let index: u32 = i
            .trim()
            .parse()
            .map_err(|_| format!("{s:?}: {i:?} is not a shard index"))?;
        let count: u32 = n
            .trim()
            .parse()
            .map_err(|_| format!("{s:?}: {n:?} is not a shard count"))?;
        if count == 0 || count > 10_000 {
            return Err(format!("{s:?}: the shard count must be 1..=10000"));
        }
        if index >= count {
            return Err(format!(
                "{s:?}: shard index {index} is not below the count {count} (shards count from 0)"
            ));
        }
        Ok(Shard { index, count })
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

/// `--start-at`: a wall-clock time (RFC 3339, e.g. `2026-01-31T12:00:00Z`) at which the schedule
/// starts, so generators on several machines start together.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StartAt(pub SystemTime);

impl FromStr for StartAt {
    type Err = String;

    fn from_str(s: &str) -> Result<StartAt, String> {
        humantime::parse_rfc3339_weak(s.trim())
            .map(StartAt)
            .map_err(|e| {
                format!("{s:?}: {e}; expected an RFC 3339 time, e.g. 2026-01-31T12:00:00Z")
            })
    }
}

/// Longest a generator waits for `--start-at`.
pub const START_AT_MAX_WAIT: Duration = Duration::from_secs(24 * 3600);

/// `--rate`: calls per second, > 0 and finite.
pub fn rate(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(r) if r.is_finite() && r > 0.0 => Ok(r),
        _ => Err(format!("{s:?}: must be > 0 calls per second")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mix_parses_weights_and_refuses_nonsense() {
        let m: Mix = "911=95, 933=5".parse().unwrap();
        assert_eq!(m.0, [("911".into(), 95), ("933".into(), 5)]);
        assert_eq!(m.to_string(), "911=95,933=5");
        for bad in ["911", "x=1", "911=a", "911=0", "911=1,911=2", ""] {
            assert!(bad.parse::<Mix>().is_err(), "{bad}");
        }
    }

    #[test]
    fn shards_count_from_zero() {
        let s: Shard = "1/4".parse().unwrap();
        assert_eq!((s.index, s.count), (1, 4));
        assert!(s.owns(5) && !s.owns(4));
        assert_eq!(s.to_string(), "1/4");
        for bad in ["4/4", "1", "a/2", "0/0", "-1/2"] {
            assert!(bad.parse::<Shard>().is_err(), "{bad}");
        }
    }

    #[test]
    fn start_at_is_rfc3339() {
        let t: StartAt = "2026-01-31T12:00:00Z".parse().unwrap();
        assert_eq!(
            t.0.duration_since(SystemTime::UNIX_EPOCH)
                .unwrap()
                .as_secs(),
            1_769_860_800
        );
        let e = "tomorrow".parse::<StartAt>().unwrap_err();
        assert!(e.contains("RFC 3339"), "{e}");
    }

    #[test]
    fn rates_are_positive() {
        assert_eq!(rate("2.5"), Ok(2.5));
        for bad in ["0", "-1", "inf", "NaN", "x"] {
            assert!(rate(bad).is_err(), "{bad}");
        }
    }
}
