//! The `load` section of a run report: what a load run offered, what the system under test
//! achieved, latency percentiles per metric, RFC 6076 ratios, validity and SLO results.
//!
//! All latencies are in microseconds and come from HdrHistograms (3 significant digits) kept by
//! the harness; nothing here holds per-call samples. The SLO verdicts themselves are ordinary
//! checks of the run's `load` scenario, so JUnit and the verdict treat them like any other check;
//! this section keeps the figures behind them.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::load_detail::{AniCheck, LoadState, ShardPart, SliceRow, TlsHandshakes};
use crate::markdown::esc;

/// A load run's figures.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct LoadReport {
    /// How the load was generated.
    pub config: LoadConfig,
    /// Every attempted call, by outcome (attempted = answered + rejected + timed_out + errored).
    pub counts: LoadCounts,
    /// Rejected calls by final status code.
    pub rejected_by_status: BTreeMap<String, u64>,
    /// Errored calls by cause (connect, TLS, connection closed, refused by the concurrency cap...).
    pub errored_by_cause: BTreeMap<String, u64>,
    /// Problems after an answer (BYE not answered, connection lost during the call), by cause.
    /// These calls still count as answered; they are not completed for SCR.
    pub teardown_failures: BTreeMap<String, u64>,
    /// Calls per second the schedule offered (attempted / scheduled span).
    pub offered_cps: f64,
    /// Answered calls per second over the same span.
    pub achieved_cps: f64,
    /// Most calls in progress at once.
    pub max_concurrent: u64,
    /// Calls that started more than 1 ms after their intended start.
    pub late_starts: u64,
    /// Retransmitted final responses received (a 2xx again before or after the ACK).
    pub retransmissions: u64,
    /// TLS handshakes completed (the total of `tls`).
    pub tls_handshakes: u64,
    /// TLS handshakes as full or resumed, pool connections included.
    #[serde(default)]
    pub tls: TlsHandshakes,
    /// Percentiles per metric over every gateway and outcome where the metric exists, e.g.
    /// `setup` (from the intended start), `setup_uncorrected` (from the INVITE write), `lag`.
    pub metrics: BTreeMap<String, Percentiles>,
    /// The same per metric x outcome x gateway.
    pub breakdown: Vec<MetricRow>,
    /// RFC 6076 ratios, in percent of attempted calls.
    pub rfc6076: Rfc6076,
    /// Generator lag and whether the run is valid.
    pub validity: Validity,
    /// Each `--slo` and its result.
    pub slos: Vec<SloResult>,
    /// `--find-max`: every step and the knee.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub find_max: Option<FindMaxReport>,
    /// The run was interrupted (Ctrl-C): new calls stopped, in-flight calls drained.
    pub interrupted: bool,
    /// The per-second interval histogram log of `setup`, relative to the report folder.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interval_log: Option<String>,
    /// Per dialed number of the mix.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub by_dial: Vec<SliceRow>,
    /// Per step of a `steps:` profile.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub by_step: Vec<SliceRow>,
    /// With `--callers`: the gateways' ANI against each call's row.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ani_check: Option<AniCheck>,
    /// A merged report: the runs it was made from.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub merged_from: Vec<ShardPart>,
    /// What `e911-harness merge` needs to combine this run with others exactly.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<LoadState>,
    /// With `--media`: the SRTP each answered call carried (not kept by `merge`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media: Option<LoadMedia>,
}

/// What `load --media` carried: the trunk's side of every answered call (50 packets/s each
/// way), and with embedded gateways, theirs.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct LoadMedia {
    /// Answered calls whose media session ran.
    pub calls: u64,
    /// Calls whose media socket could not be bound (no port free in 30000-60000).
    pub bind_failures: u64,
    /// Calls that received no RTP at all at the trunk.
    pub silent_calls: u64,
    /// RTP packets the trunk sent.
    pub trunk_sent: u64,
    /// RTP packets that reached the trunk and authenticated.
    pub trunk_received: u64,
    /// Packets lost toward the trunk (sequence gaps).
    pub trunk_lost: u64,
    /// Packets that failed SRTP authentication at the trunk.
    pub trunk_auth_failures: u64,
    /// With embedded gateways: RTP packets they sent, received (authenticated), lost, and
    /// that failed authentication.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gateway: Option<GatewayMedia>,
    /// Media packets per second, both directions together, over the run's span.
    pub packets_per_second: f64,
    /// Loss in both observed directions, lost / expected.
    pub loss_ratio: f64,
    /// Per call: the highest RFC 3550 jitter toward the trunk.
    pub jitter: Percentiles,
    /// Per call: the first packet toward the trunk after the 200 OK.
    pub first_packet: Percentiles,
}

/// The embedded gateways' media counters over a run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct GatewayMedia {
    /// Media sessions ended (at a BYE).
    pub sessions: u64,
    /// Packets sent.
    pub sent: u64,
    /// Packets received and authenticated.
    pub received: u64,
    /// Packets lost toward the gateways.
    pub lost: u64,
    /// Packets that failed SRTP authentication at the gateways.
    pub auth_failures: u64,
}

/// How the load was generated.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct LoadConfig {
    /// Rate profile, e.g. `constant 200/s`, `ramp 100..500/s`.
    pub profile: String,
    /// Scheduled duration, in milliseconds (0: bounded by `calls` only).
    pub duration_ms: u64,
    /// Call count bound, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub calls: Option<u64>,
    /// `tls` or `tcp`.
    pub transport: String,
    /// Connection model, e.g. `2 per gateway` or `one per call`.
    pub connections: String,
    /// Hold time between ACK and BYE, in milliseconds.
    pub hold_ms: u64,
    /// Attempt timeout (INVITE to final response, BYE to response), in milliseconds.
    pub timeout_ms: u64,
    /// Concurrency cap.
    pub max_concurrent: u64,
    /// Dialed-number mix, e.g. `911=95,933=5`.
    pub mix: String,
    /// Where the calls went.
    pub target: String,
    /// `uniform` or `poisson` arrivals.
    #[serde(default = "uniform")]
    pub arrivals: String,
    /// Seed of the Poisson gaps, the mix and random caller rows.
    #[serde(default)]
    pub seed: u64,
    /// `I/N` when this run was shard I of N generators.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<String>,
    /// `--start-at`, RFC 3339.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_at: Option<String>,
    /// TLS profile offered (TLS runs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls_profile: Option<String>,
    /// `on` or `off` (TLS runs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls_resumption: Option<String>,
    /// `--callers` file and how its rows were used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub callers: Option<String>,
}

fn uniform() -> String {
    "uniform".to_owned()
}

/// Attempted calls by outcome.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct LoadCounts {
    /// Calls the schedule started (including those refused by the concurrency cap).
    pub attempted: u64,
    /// Final response 2xx.
    pub answered: u64,
    /// Final response >= 300.
    pub rejected: u64,
    /// No final response within the attempt timeout.
    pub timed_out: u64,
    /// Ended by a local or transport error before a final response.
    pub errored: u64,
}

impl LoadCounts {
    /// attempted = answered + rejected + timed_out + errored.
    pub fn balanced(&self) -> bool {
        self.answered + self.rejected + self.timed_out + self.errored == self.attempted
    }
}

/// Percentiles of one histogram, in microseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Percentiles {
    /// Values recorded.
    pub count: u64,
    /// Smallest.
    pub min_us: u64,
    /// Median.
    pub p50_us: u64,
    /// 90th percentile.
    pub p90_us: u64,
    /// 99th percentile.
    pub p99_us: u64,
    /// 99.9th percentile.
    pub p999_us: u64,
    /// Largest.
    pub max_us: u64,
    /// Mean.
    pub mean_us: f64,
}

/// One metric x outcome x gateway.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct MetricRow {
    /// Metric name.
    pub metric: String,
    /// `answered`, `rejected`, `timed_out` or `errored`.
    pub outcome: String,
    /// Gateway name.
    pub gateway: String,
    /// Its percentiles.
    pub percentiles: Percentiles,
}

/// RFC 6076 ratios in percent of attempted calls (SRD and SDD are in `metrics` as `srd`, `sdd`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Rfc6076 {
    /// Session Establishment Ratio: answered / attempted.
    pub ser_pct: f64,
    /// Session Establishment Effectiveness Ratio: (answered + 480/486/600/603) / attempted.
    pub seer_pct: f64,
    /// Ineffective Session Attempts: (408/500/503/504 + timed out) / attempted.
    pub isa_pct: f64,
    /// Session Completion Ratio: answered and cleanly torn down / attempted.
    pub scr_pct: f64,
}

/// Whether the generator kept to its schedule.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Validity {
    /// The run is valid: lag p99 within the bound and the accounting identity holds.
    pub valid: bool,
    /// Why not, when invalid.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Bound on the generator lag's p99, in microseconds.
    pub lag_bound_us: u64,
    /// Generator lag p50 (actual INVITE write - intended start), in microseconds.
    pub lag_p50_us: u64,
    /// Generator lag p99.
    pub lag_p99_us: u64,
    /// Generator lag max.
    pub lag_max_us: u64,
}

/// One SLO and its result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct SloResult {
    /// The SLO as written, e.g. `p99_setup<50ms`.
    pub slo: String,
    /// It held.
    pub passed: bool,
    /// The observed value with its unit, e.g. `12.3ms`.
    pub observed: String,
}

/// `--find-max`: the rate steps and the knee.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct FindMaxReport {
    /// Each step in the order it ran.
    pub steps: Vec<FindMaxStep>,
    /// Highest rate that passed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_pass_cps: Option<f64>,
    /// Lowest rate that failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_fail_cps: Option<f64>,
    /// Why the first failing rate failed.
    pub why: String,
}

/// One `--find-max` step.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct FindMaxStep {
    /// Offered rate, calls per second.
    pub rate: f64,
    /// Every SLO held and the run was valid.
    pub passed: bool,
    /// Attempted calls.
    pub attempted: u64,
    /// Answered calls.
    pub answered: u64,
    /// Setup p99 from the intended start, in microseconds.
    pub setup_p99_us: u64,
    /// What broke, when it failed.
    pub why: String,
    /// The step's own figures.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<SliceRow>,
    /// Its generator lag p99, in microseconds.
    #[serde(default)]
    pub lag_p99_us: u64,
}

fn ms(us: u64) -> String {
    format!("{:.3}", us as f64 / 1000.0)
}

/// Appends the load section to a Markdown summary.
pub(crate) fn markdown(md: &mut String, l: &LoadReport) {
    let c = &l.counts;
    let _ = writeln!(md, "## Load\n");
    let _ = writeln!(
        md,
        "- **Profile:** {} ({} arrivals{}) over {} ({}, {}; hold {} ms, timeout {} ms, cap {})",
        esc(&l.config.profile),
        esc(&l.config.arrivals),
        l.config
            .shard
            .as_deref()
            .map(|s| format!(", shard {}", esc(s)))
            .unwrap_or_default(),
        esc(&l.config.target),
        esc(&l.config.transport),
        esc(&l.config.connections),
        l.config.hold_ms,
        l.config.timeout_ms,
        l.config.max_concurrent
    );
    let _ = writeln!(
        md,
        "- **Calls:** {} attempted, {} answered, {} rejected, {} timed out, {} errored{}",
        c.attempted,
        c.answered,
        c.rejected,
        c.timed_out,
        c.errored,
        if l.interrupted { " (interrupted)" } else { "" }
    );
    let _ = writeln!(
        md,
        "- **Rate:** offered {:.1}/s, achieved {:.1}/s; max concurrent {}; late starts {}; retransmissions {}; TLS handshakes {}",
        l.offered_cps,
        l.achieved_cps,
        l.max_concurrent,
        l.late_starts,
        l.retransmissions,
        l.tls_handshakes
    );
    let r = &l.rfc6076;
    let _ = writeln!(
        md,
        "- **RFC 6076:** SER {:.3}%, SEER {:.3}%, ISA {:.3}%, SCR {:.3}%",
        r.ser_pct, r.seer_pct, r.isa_pct, r.scr_pct
    );
    if let Some(m) = &l.media {
        let gw = m.gateway.map_or(String::new(), |g| {
            format!(
                "; gateways received {} ({} lost, {} failed authentication)",
                g.received, g.lost, g.auth_failures
            )
        });
        let _ = writeln!(
            md,
            "- **Media (SRTP, 50 packets/s each way per call):** {} calls, {:.1} packets/s at the trunk; trunk received {} ({} lost, {} failed authentication, {} silent calls){gw}; loss {:.4}%; jitter p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms; first packet p99 {:.1} ms",
            m.calls,
            m.packets_per_second,
            m.trunk_received,
            m.trunk_lost,
            m.trunk_auth_failures,
            m.silent_calls,
            m.loss_ratio * 100.0,
            m.jitter.p50_us as f64 / 1000.0,
            m.jitter.p99_us as f64 / 1000.0,
            m.jitter.max_us as f64 / 1000.0,
            m.first_packet.p99_us as f64 / 1000.0
        );
    }
    let v = &l.validity;
    let _ = writeln!(
        md,
        "- **Validity:** {} (generator lag p50 {} ms, p99 {} ms, max {} ms; bound p99 {} ms){}\n",
        if v.valid { "valid" } else { "INVALID" },
        ms(v.lag_p50_us),
        ms(v.lag_p99_us),
        ms(v.lag_max_us),
        ms(v.lag_bound_us),
        v.reason
            .as_deref()
            .map(|r| format!(": {}", esc(r)))
            .unwrap_or_default()
    );
    let _ = writeln!(
        md,
        "| metric | count | p50 ms | p90 ms | p99 ms | p99.9 ms | max ms |\n| --- | ---: | ---: | ---: | ---: | ---: | ---: |"
    );
    for (name, p) in &l.metrics {
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} | {} | {} | {} |",
            esc(name),
            p.count,
            ms(p.p50_us),
            ms(p.p90_us),
            ms(p.p99_us),
            ms(p.p999_us),
            ms(p.max_us)
        );
    }
    let failures: Vec<String> = l
        .rejected_by_status
        .iter()
        .map(|(s, n)| format!("rejected {s}: {n}"))
        .chain(
            l.errored_by_cause
                .iter()
                .map(|(s, n)| format!("errored {s}: {n}")),
        )
        .chain(
            l.teardown_failures
                .iter()
                .map(|(s, n)| format!("teardown {s}: {n}")),
        )
        .collect();
    if !failures.is_empty() {
        let _ = writeln!(md, "\n**Failures by cause:**\n");
        for f in failures {
            let _ = writeln!(md, "- {}", esc(&f));
        }
    }
    if !l.slos.is_empty() {
        let _ = writeln!(md, "\n**SLOs:**\n");
        for s in &l.slos {
            let _ = writeln!(
                md,
                "- {} `{}`: observed {}",
                if s.passed { "PASS" } else { "FAIL" },
                s.slo.replace('`', "'"),
                esc(&s.observed)
            );
        }
    }
    if let Some(f) = &l.find_max {
        let _ = writeln!(
            md,
            "\n**Find max:** last passing rate {}, first failing rate {}: {}\n",
            f.last_pass_cps
                .map_or("none".to_owned(), |r| format!("{r:.1}/s")),
            f.first_fail_cps
                .map_or("none".to_owned(), |r| format!("{r:.1}/s")),
            esc(&f.why)
        );
        let _ = writeln!(
            md,
            "| rate /s | result | attempted | answered | failed | offered /s | achieved /s | setup p50 ms | setup p99 ms | lag p99 ms | ISA % | why |\n| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |"
        );
        for s in &f.steps {
            let d = s.detail.as_ref();
            let opt = |v: Option<f64>| v.map_or("-".to_owned(), |v| format!("{v:.1}"));
            let _ = writeln!(
                md,
                "| {:.1} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
                s.rate,
                if s.passed { "pass" } else { "FAIL" },
                s.attempted,
                s.answered,
                s.attempted - s.answered,
                opt(d.and_then(|d| d.offered_cps)),
                opt(d.and_then(|d| d.achieved_cps)),
                d.and_then(|d| d.setup)
                    .map_or("-".to_owned(), |p| ms(p.p50_us)),
                ms(s.setup_p99_us),
                ms(s.lag_p99_us),
                d.map_or("-".to_owned(), |d| format!("{:.3}", d.isa_pct)),
                esc(&s.why)
            );
        }
    }
    crate::load_detail::markdown(md, l);
    if let Some(log) = &l.interval_log {
        let _ = writeln!(md, "\nInterval histograms (1 s): `{log}`");
    }
    md.push('\n');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_balance() {
        let mut c = LoadCounts {
            attempted: 10,
            answered: 6,
            rejected: 2,
            timed_out: 1,
            errored: 1,
        };
        assert!(c.balanced());
        c.errored = 0;
        assert!(!c.balanced());
    }

    #[test]
    fn markdown_has_table_and_failures() {
        let mut l = LoadReport::default();
        l.metrics.insert(
            "setup".into(),
            Percentiles {
                count: 3,
                p50_us: 1500,
                p99_us: 2500,
                ..Percentiles::default()
            },
        );
        l.errored_by_cause.insert("connection_closed".into(), 2);
        l.slos.push(SloResult {
            slo: "p99_setup<50ms".into(),
            passed: true,
            observed: "2.5ms".into(),
        });
        let mut md = String::new();
        markdown(&mut md, &l);
        assert!(md.contains("| setup | 3 | 1.500 |"), "{md}");
        assert!(md.contains("errored connection_closed: 2"), "{md}");
        assert!(md.contains("PASS `p99_setup<50ms`"), "{md}");
    }
}
