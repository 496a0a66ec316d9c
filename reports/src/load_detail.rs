//! The parts of a load report beyond the headline figures: breakdowns per dialed number and per
//! step ([`SliceRow`]), TLS handshakes as full or resumed ([`TlsHandshakes`]), the check of the
//! gateways' ANI against each call's caller row ([`AniCheck`]), which shards a merged report
//! was made from ([`ShardPart`]), and the exact state a later `merge` needs ([`LoadState`]:
//! every histogram serialized, never percentiles to average).
//!
//! Histograms travel as base64 of HdrHistogram's V2 + DEFLATE encoding, the same encoding the
//! HdrHistogram interval log format uses, so any HdrHistogram implementation can read them.

use std::fmt::Write as _;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::load::{LoadCounts, Percentiles};
use crate::markdown::esc;

/// Version of [`LoadState`]; `merge` refuses states it does not know.
pub const STATE_VERSION: u32 = 1;

/// The calls of one dialed number (`--mix`) or one step (`steps:`, `--find-max`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct SliceRow {
    /// The dialed number, or the step (`step 2: 500/s`).
    pub label: String,
    /// Its calls by outcome.
    pub counts: LoadCounts,
    /// Calls offered per second over the step (steps only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offered_cps: Option<f64>,
    /// Calls answered per second over the step (steps only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub achieved_cps: Option<f64>,
    /// `setup` (from the intended start) of the answered calls, in microseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub setup: Option<Percentiles>,
    /// RFC 6076 SER, percent.
    pub ser_pct: f64,
    /// RFC 6076 ISA, percent.
    pub isa_pct: f64,
    /// RFC 6076 SCR, percent.
    pub scr_pct: f64,
}

/// TLS handshakes of a run, every connection counted (per-call and pooled alike).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct TlsHandshakes {
    /// Every handshake completed.
    pub total: u64,
    /// Full handshakes (the server signed with its certificate key).
    pub full: u64,
    /// Resumed sessions (no signature).
    pub resumed: u64,
    /// Of the total, handshakes of pool connections.
    pub pooled: u64,
}

/// The gateways' ANI against the `--callers` row each call used.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct AniCheck {
    /// INVITEs whose observed ANI was compared with their row.
    pub checked: u64,
    /// Of those, the ANI the gateway saw was not the row's.
    pub mismatched: u64,
    /// Rows with a `location`: the gateway routed the call elsewhere.
    pub routing_mismatched: u64,
    /// INVITEs the gateways saw that could not be compared (observation lost under load, or a
    /// Call-ID that is not this run's).
    pub unchecked: u64,
    /// A few mismatches, `call N: expected X, gateway saw Y`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub examples: Vec<String>,
}

impl AniCheck {
    /// Most examples kept.
    pub const MAX_EXAMPLES: usize = 5;

    /// Adds `other`'s tallies (examples up to the cap).
    pub fn add(&mut self, other: &AniCheck) {
        self.checked += other.checked;
        self.mismatched += other.mismatched;
        self.routing_mismatched += other.routing_mismatched;
        self.unchecked += other.unchecked;
        for e in &other.examples {
            if self.examples.len() < Self::MAX_EXAMPLES {
                self.examples.push(e.clone());
            }
        }
    }
}

/// One shard a merged report was made from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ShardPart {
    /// The folder it was read from.
    pub dir: String,
    /// `I/N`, when the run was a shard.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<String>,
    /// Its own counts.
    pub counts: LoadCounts,
    /// Its own validity.
    pub valid: bool,
    /// Its schedule's start (Unix time, milliseconds).
    pub started_unix_ms: u64,
}

/// Everything `e911-harness merge` needs to combine runs exactly (counts live in the report
/// itself; this holds the rest).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct LoadState {
    /// [`STATE_VERSION`].
    pub version: u32,
    /// When the schedule started (t0), Unix time in milliseconds.
    pub started_unix_ms: u64,
    /// The span the rates are computed over, in microseconds.
    pub span_us: u64,
    /// Calls the scheduler issued.
    pub issued: u64,
    /// Calls abandoned at the drain bound.
    pub abandoned: u64,
    /// Answered and cleanly torn down (RFC 6076 SCR).
    pub completed: u64,
    /// The SLOs as given, judged again on a merged result.
    pub slos: Vec<String>,
    /// Gateway names, in the order the histograms were kept.
    pub gateways: Vec<String>,
    /// Every histogram: metric x outcome x gateway.
    pub histograms: Vec<StateHistogram>,
    /// Per dialed number.
    pub dials: Vec<StateSlice>,
    /// Per step of a `steps:` profile.
    pub steps: Vec<StateSlice>,
    /// Length of each step of a `steps:` profile, in milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step_each_ms: Option<u64>,
}

/// One serialized histogram (microseconds).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct StateHistogram {
    /// Metric name (`setup`, `lag`, ...).
    pub metric: String,
    /// `answered`, `rejected`, `timed_out` or `errored`.
    pub outcome: String,
    /// Gateway name.
    pub gateway: String,
    /// Base64 of the V2 + DEFLATE encoding.
    pub hdr: String,
}

/// One slice's exact state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct StateSlice {
    /// Dialed number or step label.
    pub label: String,
    /// By outcome.
    pub counts: LoadCounts,
    /// Answered and cleanly torn down.
    pub completed: u64,
    /// RFC 6076 ineffective attempts.
    pub ineffective: u64,
    /// `setup` of the answered calls, base64 of the V2 + DEFLATE encoding.
    pub setup_hdr: String,
}

fn ms(us: u64) -> String {
    format!("{:.3}", us as f64 / 1000.0)
}

fn slice_table(md: &mut String, title: &str, rows: &[SliceRow]) {
    if rows.is_empty() {
        return;
    }
    let _ = writeln!(
        md,
        "\n**{title}:**\n\n| {} | attempted | answered | rejected | timed out | errored | offered /s | achieved /s | setup p50 ms | setup p99 ms | SER % | ISA % |\n| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
        if title.starts_with("Per dialed") {
            "dialed"
        } else {
            "step"
        }
    );
    let opt = |v: Option<f64>| v.map_or("-".to_owned(), |v| format!("{v:.1}"));
    for r in rows {
        let c = &r.counts;
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {:.3} | {:.3} |",
            esc(&r.label),
            c.attempted,
            c.answered,
            c.rejected,
            c.timed_out,
            c.errored,
            opt(r.offered_cps),
            opt(r.achieved_cps),
            r.setup.map_or("-".to_owned(), |p| ms(p.p50_us)),
            r.setup.map_or("-".to_owned(), |p| ms(p.p99_us)),
            r.ser_pct,
            r.isa_pct
        );
    }
}

/// Appends the breakdowns, the ANI check and the shards to a Markdown summary.
pub(crate) fn markdown(md: &mut String, l: &crate::load::LoadReport) {
    let t = &l.tls;
    if t.total > 0 {
        let _ = writeln!(
            md,
            "\n- **TLS handshakes:** {} ({} full, {} resumed; {} of pool connections)",
            t.total, t.full, t.resumed, t.pooled
        );
    }
    if let Some(a) = &l.ani_check {
        let _ = writeln!(
            md,
            "- **Caller data:** the gateways saw the row's ANI on {} of {} checked INVITEs ({} mismatched, {} routed elsewhere, {} not checkable)",
            a.checked - a.mismatched,
            a.checked,
            a.mismatched,
            a.routing_mismatched,
            a.unchecked
        );
        for e in &a.examples {
            let _ = writeln!(md, "  - {}", esc(e));
        }
    }
    slice_table(md, "Per dialed number", &l.by_dial);
    slice_table(md, "Per step", &l.by_step);
    if !l.merged_from.is_empty() {
        let _ = writeln!(
            md,
            "\n**Merged from {} runs** (counts summed, histograms added):\n\n| folder | shard | attempted | answered | valid |\n| --- | --- | ---: | ---: | --- |",
            l.merged_from.len()
        );
        for p in &l.merged_from {
            let _ = writeln!(
                md,
                "| {} | {} | {} | {} | {} |",
                esc(&p.dir),
                p.shard.as_deref().unwrap_or("-"),
                p.counts.attempted,
                p.counts.answered,
                if p.valid { "valid" } else { "INVALID" }
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ani_checks_add_and_cap_examples() {
        let mut a = AniCheck {
            checked: 3,
            mismatched: 1,
            examples: vec!["x".into(); 4],
            ..AniCheck::default()
        };
        a.add(&AniCheck {
            checked: 2,
            unchecked: 1,
            examples: vec!["y".into(); 3],
            ..AniCheck::default()
        });
        assert_eq!((a.checked, a.mismatched, a.unchecked), (5, 1, 1));
        assert_eq!(a.examples.len(), AniCheck::MAX_EXAMPLES);
    }

    #[test]
    fn slice_tables_render() {
        let mut l = crate::load::LoadReport::default();
        l.by_dial.push(SliceRow {
            label: "933".into(),
            counts: LoadCounts {
                attempted: 4,
                answered: 4,
                ..LoadCounts::default()
            },
            offered_cps: None,
            achieved_cps: None,
            setup: Some(Percentiles {
                p50_us: 1200,
                ..Percentiles::default()
            }),
            ser_pct: 100.0,
            isa_pct: 0.0,
            scr_pct: 100.0,
        });
        let mut md = String::new();
        markdown(&mut md, &l);
        assert!(md.contains("| dialed |"), "{md}");
        assert!(
            md.contains("| 933 | 4 | 4 | 0 | 0 | 0 | - | - | 1.200 |"),
            "{md}"
        );
    }
}
