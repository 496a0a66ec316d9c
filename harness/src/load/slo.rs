//! `--slo "p99_setup<50ms,isa<0.1%"`: service-level objectives a load run is judged against.
//!
//! Grammar (comma-separated): `pNN_METRIC OP VALUE UNIT` with NN one of 50, 90, 99, 999 (99.9)
//! or `max_METRIC`, METRIC a latency metric ([`LATENCY_METRICS`]) and UNIT `us`, `ms` or `s`;
//! or `RATIO OP VALUE%` with RATIO one of `ser`, `seer`, `isa`, `scr`. OP is `<`, `<=`, `>`,
//! `>=`. Pure: evaluation takes the figures through [`Figures`].

use std::fmt;

/// Latency metrics an SLO may name.
pub const LATENCY_METRICS: &[&str] = &[
    "setup",
    "setup_uncorrected",
    "invite_to_100",
    "invite_to_18x",
    "bye_to_200",
    "tcp_connect",
    "tls_handshake",
    "srd",
    "sdd",
    "lag",
];

/// RFC 6076 ratios an SLO may name.
pub const RATIOS: &[&str] = &["ser", "seer", "isa", "scr"];

/// Comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
}

impl Op {
    fn holds(self, observed: f64, threshold: f64) -> bool {
        match self {
            Op::Lt => observed < threshold,
            Op::Le => observed <= threshold,
            Op::Gt => observed > threshold,
            Op::Ge => observed >= threshold,
        }
    }
}

/// What an SLO measures.
#[derive(Debug, Clone, PartialEq)]
pub enum Subject {
    /// A percentile (0..=100, `100` = max) of a latency metric, threshold in microseconds.
    Latency {
        /// Metric name.
        metric: String,
        /// Percentile.
        quantile: f64,
    },
    /// A ratio in percent.
    Ratio(String),
}

/// One parsed SLO.
#[derive(Debug, Clone, PartialEq)]
pub struct Slo {
    /// As written (trimmed).
    pub text: String,
    /// What it measures.
    pub subject: Subject,
    /// Comparison.
    pub op: Op,
    /// Threshold: microseconds for latencies, percent for ratios.
    pub threshold: f64,
}

impl fmt::Display for Slo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// The figures SLOs are checked against.
pub trait Figures {
    /// The `quantile` percentile of `metric` over the run, in microseconds; `None` if nothing
    /// was recorded.
    fn latency_us(&self, metric: &str, quantile: f64) -> Option<u64>;
    /// A ratio in percent.
    fn ratio_pct(&self, name: &str) -> f64;
}

/// The result of one SLO.
#[derive(Debug, Clone, PartialEq)]
pub struct Judged {
    /// The SLO.
    pub slo: Slo,
    /// It held.
    pub passed: bool,
    /// Observed value with unit (`12.345ms`, `0.100%`, `no samples`).
    pub observed: String,
}

/// Parses a `--slo` list; the error names the bad item and what was expected.
pub fn parse_list(s: &str) -> Result<Vec<Slo>, String> {
    let items: Vec<&str> = s
        .split(',')
        .map(str::trim)
        .filter(|i| !i.is_empty())
        .collect();
    if items.is_empty() {
        return Err("--slo: empty; expected e.g. \"p99_setup<50ms,isa<0.1%\"".into());
    }
    items
        .into_iter()
        .map(|i| parse_one(i).map_err(|e| format!("--slo {i:?}: {e}")))
        .collect()
}

fn parse_one(item: &str) -> Result<Slo, String> {
    let pos = item
        .find(['<', '>'])
        .ok_or("expected a comparison (<, <=, >, >=)")?;
    let lhs = item[..pos].trim();
    let rest = &item[pos..];
    let (op, value) = if let Some(v) = rest.strip_prefix("<=") {
        (Op::Le, v)
    } else if let Some(v) = rest.strip_prefix(">=") {
        (Op::Ge, v)
    } else if let Some(v) = rest.strip_prefix('<') {
        (Op::Lt, v)
    } else {
        (Op::Gt, &rest[1..])
    };
    let value = value.trim();
    let number = |v: &str| -> Result<f64, String> {
        match v.trim().parse::<f64>() {
            Ok(x) if x.is_finite() && x >= 0.0 => Ok(x),
            _ => Err(format!("{v:?} is not a non-negative number")),
        }
    };
    if RATIOS.contains(&lhs) {
        let v = value.strip_suffix('%').ok_or_else(|| {
            format!("{lhs} is a ratio: write the threshold in percent, e.g. {lhs}<0.1%")
        })?;
        return Ok(Slo {
            text: item.to_owned(),
            subject: Subject::Ratio(lhs.to_owned()),
            op,
            threshold: number(v)?,
        });
    }
    let (q, metric) = lhs.split_once('_').ok_or_else(|| {
        format!(
            "unknown subject {lhs:?}; expected pNN_METRIC, max_METRIC or one of {}",
            RATIOS.join(", ")
        )
    })?;
    let quantile = match q {
        "p50" => 50.0,
        "p90" => 90.0,
        "p99" => 99.0,
        "p999" => 99.9,
        "max" => 100.0,
        _ => {
            return Err(format!(
                "unknown percentile {q:?}; expected p50, p90, p99, p999 or max"
            ));
        }
    };
    if !LATENCY_METRICS.contains(&metric) {
        return Err(format!(
            "unknown metric {metric:?}; expected one of {}",
            LATENCY_METRICS.join(", ")
        ));
    }
    let (num, scale) = if let Some(v) = value.strip_suffix("ms") {
        (v, 1_000.0)
    } else if let Some(v) = value.strip_suffix("us") {
        (v, 1.0)
    } else if let Some(v) = value.strip_suffix('s') {
        (v, 1_000_000.0)
    } else {
        return Err(format!("{value:?} needs a unit: us, ms or s"));
    };
    Ok(Slo {
        text: item.to_owned(),
        subject: Subject::Latency {
            metric: metric.to_owned(),
            quantile,
        },
        op,
        threshold: number(num)? * scale,
    })
}

/// Checks each SLO against the figures. A latency SLO with no samples fails (nothing proved).
pub fn judge(slos: &[Slo], f: &dyn Figures) -> Vec<Judged> {
    slos.iter()
        .map(|slo| {
            let (passed, observed) = match &slo.subject {
                Subject::Latency { metric, quantile } => match f.latency_us(metric, *quantile) {
                    Some(us) => (
                        slo.op.holds(us as f64, slo.threshold),
                        format!("{:.3}ms", us as f64 / 1000.0),
                    ),
                    None => (false, "no samples".to_owned()),
                },
                Subject::Ratio(name) => {
                    let pct = f.ratio_pct(name);
                    (slo.op.holds(pct, slo.threshold), format!("{pct:.3}%"))
                }
            };
            Judged {
                slo: slo.clone(),
                passed,
                observed,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Fake;
    impl Figures for Fake {
        fn latency_us(&self, metric: &str, q: f64) -> Option<u64> {
            match (metric, q) {
                ("setup", 99.0) => Some(42_000),
                ("setup", 100.0) => Some(90_000),
                ("tls_handshake", _) => None,
                _ => Some(1),
            }
        }
        fn ratio_pct(&self, name: &str) -> f64 {
            if name == "isa" { 0.05 } else { 99.0 }
        }
    }

    #[test]
    fn parses_latencies_with_units_and_ratios() {
        let v = parse_list(
            " p99_setup<50ms, isa<0.1% ,p999_bye_to_200<=1500us,scr>=99.5%,max_lag<0.01s",
        )
        .unwrap();
        assert_eq!(v.len(), 5);
        assert_eq!(
            v[0].subject,
            Subject::Latency {
                metric: "setup".into(),
                quantile: 99.0
            }
        );
        assert_eq!((v[0].op, v[0].threshold), (Op::Lt, 50_000.0));
        assert_eq!(v[1].subject, Subject::Ratio("isa".into()));
        assert_eq!(v[1].threshold, 0.1);
        assert_eq!((v[2].op, v[2].threshold), (Op::Le, 1500.0));
        assert_eq!((v[3].op, v[3].threshold), (Op::Ge, 99.5));
        assert_eq!(v[4].threshold, 10_000.0);
        assert_eq!(v[0].to_string(), "p99_setup<50ms");
    }

    #[test]
    fn bad_syntax_names_the_flag_and_the_item() {
        for (bad, why) in [
            ("", "empty"),
            ("p99_setup", "comparison"),
            ("p98_setup<5ms", "percentile"),
            ("p99_dns<5ms", "unknown metric"),
            ("p99_setup<5", "unit"),
            ("p99_setup<-5ms", "non-negative"),
            ("isa<0.1", "percent"),
            ("foo<1%", "unknown subject"),
        ] {
            let e = parse_list(bad).unwrap_err();
            assert!(e.starts_with("--slo"), "{e}");
            assert!(e.contains(why), "{bad}: {e}");
        }
    }

    #[test]
    fn judging_compares_and_fails_without_samples() {
        let slos =
            parse_list("p99_setup<50ms,max_setup<50ms,isa<0.1%,scr>=99.9%,p99_tls_handshake<1s")
                .unwrap();
        let j = judge(&slos, &Fake);
        let passed: Vec<bool> = j.iter().map(|j| j.passed).collect();
        assert_eq!(passed, [true, false, true, false, false]);
        assert_eq!(j[0].observed, "42.000ms");
        assert_eq!(j[2].observed, "0.050%");
        assert_eq!(j[4].observed, "no samples");
    }
}
