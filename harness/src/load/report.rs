//! From a run's recorder to the `load` section, the run's checks (accounting, validity, one per
//! SLO, the find-max knee), the report files (`report.json`, `summary.md`, `junit.xml`,
//! `setup.hlog`) and the exit code: 0 passed, 1 an SLO failed, 3 invalid run or harness error.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime};

use anyhow::Context as _;
use reports::load::{FindMaxReport, FindMaxStep, LoadConfig, LoadReport, SloResult, Validity};
use reports::{CheckResult, Outcome, ScenarioReport};

use super::findmax::Search;
use super::metrics::{Metric, Recorder, percentiles};
use super::run::{self, Model, Plan, Ran};
use super::schedule::Profile;
use super::slo;
use super::{Checked, LoadArgs};
use crate::run as runner;

/// File name of the interval log.
pub const HLOG_FILE: &str = "setup.hlog";

/// Longest a `--find-max` search may run, all steps together.
const FIND_MAX_BUDGET: Duration = Duration::from_secs(20 * 60);

/// A finished load command, ready to be written.
#[derive(Debug)]
pub struct Done {
    /// The `load` section.
    pub load: LoadReport,
    /// Checks of the `load` scenario.
    pub checks: Vec<CheckResult>,
    /// The recorder behind the figures (for the interval log).
    pub recorder: Recorder,
    /// Topology text.
    pub topology: String,
}

/// One step judged.
#[derive(Debug)]
struct Judged {
    load: LoadReport,
    checks: Vec<CheckResult>,
    passed: bool,
    why: String,
}

fn check(
    id: &str,
    outcome: Outcome,
    expected: &str,
    observed: String,
    message: String,
) -> CheckResult {
    CheckResult {
        id: id.to_owned(),
        requirement: None,
        outcome,
        expected: Some(expected.to_owned()),
        observed: Some(observed),
        message,
    }
}

fn ms(us: u64) -> String {
    format!("{:.3} ms", us as f64 / 1000.0)
}

fn config(a: &LoadArgs, c: &Checked, plan: &Plan, where_: &str) -> LoadConfig {
    LoadConfig {
        profile: plan.schedule.describe(),
        duration_ms: u64::try_from(plan.schedule.duration.as_millis()).unwrap_or(u64::MAX),
        calls: plan.schedule.calls,
        transport: a.transport.to_string(),
        connections: match plan.model {
            Model::Pool(n) => format!("{n} per gateway, calls multiplexed"),
            Model::PerCall => "one per call".to_owned(),
        },
        hold_ms: u64::try_from(a.hold.as_millis()).unwrap_or(u64::MAX),
        timeout_ms: u64::try_from(a.timeout.as_millis()).unwrap_or(u64::MAX),
        max_concurrent: c.max_concurrent,
        mix: c
            .mix
            .iter()
            .map(|(d, w)| format!("{d}={w}"))
            .collect::<Vec<_>>()
            .join(","),
        target: where_.to_owned(),
    }
}

/// Judges one run: the `load` section, its checks, pass/fail and why.
fn judge(a: &LoadArgs, c: &Checked, plan: &Plan, ran: &Ran, where_: &str) -> Judged {
    let rec = &ran.recorder;
    let counts = rec.counts;
    let names: Vec<String> = plan.targets.iter().map(|t| t.name.clone()).collect();
    let lag = rec
        .rollup(Metric::Lag)
        .map(|h| percentiles(&h))
        .unwrap_or_default();
    let bound = u64::try_from(a.max_lag.as_micros()).unwrap_or(u64::MAX);
    let balanced = counts.balanced() && counts.attempted == ran.issued;
    let mut reason = None;
    if !balanced {
        reason = Some(format!(
            "accounting broken: issued {}, attempted {} = answered {} + rejected {} + timed out {} + errored {}",
            ran.issued,
            counts.attempted,
            counts.answered,
            counts.rejected,
            counts.timed_out,
            counts.errored
        ));
    } else if lag.p99_us > bound {
        reason = Some(format!(
            "generator lag p99 {} exceeds the {} bound: the generator, not the system under test, set the pace",
            ms(lag.p99_us),
            ms(bound)
        ));
    }
    let span = ran.span.as_secs_f64().max(1e-9);
    let judged = slo::judge(&c.slos, rec);
    let mut checks = vec![
        check(
            "load.accounting",
            if balanced {
                Outcome::Pass
            } else {
                Outcome::Error
            },
            "issued = attempted = answered + rejected + timed_out + errored",
            format!(
                "issued {}, attempted {}, answered {}, rejected {}, timed out {}, errored {}",
                ran.issued,
                counts.attempted,
                counts.answered,
                counts.rejected,
                counts.timed_out,
                counts.errored
            ),
            if ran.abandoned > 0 {
                format!(
                    "{} calls unfinished at the drain bound, counted as errored",
                    ran.abandoned
                )
            } else {
                "every attempted call ended in exactly one outcome".to_owned()
            },
        ),
        check(
            "load.valid",
            if reason.is_none() {
                Outcome::Pass
            } else {
                Outcome::Error
            },
            &format!("generator lag p99 <= {}", ms(bound)),
            format!(
                "lag p50 {}, p99 {}, max {}",
                ms(lag.p50_us),
                ms(lag.p99_us),
                ms(lag.max_us)
            ),
            reason
                .clone()
                .unwrap_or_else(|| "the generator kept to its schedule".into()),
        ),
    ];
    checks.push(super::verdict::calls_check(
        &counts,
        &rec.rejected_by_status,
        &rec.errored_by_cause,
        &c.mix,
        !c.slos.is_empty(),
    ));
    for j in &judged {
        checks.push(check(
            &format!("slo {}", j.slo.text),
            if j.passed {
                Outcome::Pass
            } else {
                Outcome::Fail
            },
            &j.slo.text,
            j.observed.clone(),
            if j.passed {
                "held".into()
            } else {
                format!("broken: observed {}", j.observed)
            },
        ));
    }
    let failed = counts.attempted - counts.answered;
    let why = if let Some(r) = &reason {
        format!("INVALID: {r}")
    } else if let Some(j) = judged.iter().find(|j| !j.passed) {
        format!("{} (observed {})", j.slo.text, j.observed)
    } else if c.slos.is_empty() && failed > 0 {
        format!("{failed} of {} calls not answered", counts.attempted)
    } else {
        String::new()
    };
    let passed = why.is_empty();
    let load = LoadReport {
        config: config(a, c, plan, where_),
        counts,
        rejected_by_status: rec
            .rejected_by_status
            .iter()
            .map(|(s, n)| (s.to_string(), *n))
            .collect::<BTreeMap<_, _>>(),
        errored_by_cause: rec.errored_by_cause.clone(),
        teardown_failures: rec.teardown_failures.clone(),
        offered_cps: round1(ran.issued as f64 / span),
        achieved_cps: round1(counts.answered as f64 / span),
        max_concurrent: ran.max_concurrent,
        late_starts: rec.late_starts,
        retransmissions: rec.retransmissions,
        tls_handshakes: rec.tls_handshakes,
        metrics: rec.summary(),
        breakdown: rec.breakdown(&names),
        rfc6076: rec.rfc6076(),
        validity: Validity {
            valid: reason.is_none(),
            reason,
            lag_bound_us: bound,
            lag_p50_us: lag.p50_us,
            lag_p99_us: lag.p99_us,
            lag_max_us: lag.max_us,
        },
        slos: judged
            .iter()
            .map(|j| SloResult {
                slo: j.slo.text.clone(),
                passed: j.passed,
                observed: j.observed.clone(),
            })
            .collect(),
        find_max: None,
        interrupted: ran.interrupted,
        interval_log: Some(HLOG_FILE.to_owned()),
    };
    Judged {
        load,
        checks,
        passed,
        why,
    }
}

fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

/// One load run at the planned schedule.
pub async fn single(
    a: &LoadArgs,
    c: &Checked,
    plan: &Plan,
    stop: &Arc<AtomicBool>,
    where_: &str,
) -> anyhow::Result<Done> {
    let ran = run::run(plan, stop).await?;
    let j = judge(a, c, plan, &ran, where_);
    Ok(Done {
        load: j.load,
        checks: j.checks,
        recorder: ran.recorder,
        topology: format!("load: harness -> {where_}"),
    })
}

/// `--find-max`: constant-rate steps of `--duration` each until the knee is found.
pub async fn find_max(
    a: &LoadArgs,
    c: &Checked,
    plan: &Plan,
    stop: &Arc<AtomicBool>,
    where_: &str,
) -> anyhow::Result<Done> {
    let mut search = Search::new(a.rate, a.find_max_steps);
    let started = Instant::now();
    let mut steps = Vec::new();
    let mut best: Option<(f64, Judged, Recorder)> = None;
    let mut last: Option<(Judged, Recorder)> = None;
    let mut first_fail_why = String::new();
    while let Some(rate) = search.next() {
        if stop.load(Ordering::Relaxed) || started.elapsed() > FIND_MAX_BUDGET {
            break;
        }
        let mut p = plan.clone();
        p.schedule.profile = Profile::Constant;
        p.schedule.rate = rate;
        let ran = run::run(&p, stop).await?;
        let j = judge(a, c, &p, &ran, where_);
        eprintln!(
            "find-max step {}: {rate:.0}/s: {} ({} attempted, {} answered, setup p99 {}){}",
            steps.len() + 1,
            if j.passed { "pass" } else { "FAIL" },
            j.load.counts.attempted,
            j.load.counts.answered,
            ms(j.load.metrics.get("setup").map_or(0, |p| p.p99_us)),
            if j.why.is_empty() {
                String::new()
            } else {
                format!(": {}", j.why)
            }
        );
        search.record(rate, j.passed && !ran.interrupted);
        steps.push(FindMaxStep {
            rate,
            passed: j.passed,
            attempted: j.load.counts.attempted,
            answered: j.load.counts.answered,
            setup_p99_us: j.load.metrics.get("setup").map_or(0, |p| p.p99_us),
            why: j.why.clone(),
        });
        if !j.passed && search.first_fail() == Some(rate) {
            first_fail_why = j.why.clone();
        }
        if j.passed && best.as_ref().is_none_or(|b| rate > b.0) && search.last_pass() == Some(rate)
        {
            best = Some((rate, j, ran.recorder));
        } else {
            last = Some((j, ran.recorder));
        }
        if ran.interrupted {
            break;
        }
        // Let closed connections and timers settle between steps.
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let report = FindMaxReport {
        steps,
        last_pass_cps: search.last_pass(),
        first_fail_cps: search.first_fail(),
        why: if first_fail_why.is_empty() {
            "no step failed within the step budget".to_owned()
        } else {
            first_fail_why
        },
    };
    let (mut j, recorder) = match (best, last) {
        (Some((_, j, r)), _) => (j, r),
        (None, Some((j, r))) => (j, r),
        (None, None) => anyhow::bail!("--find-max ran no step"),
    };
    j.checks.push(check(
        "find-max.knee",
        if report.last_pass_cps.is_some() {
            Outcome::Pass
        } else {
            Outcome::Fail
        },
        "a rate that meets every SLO",
        format!(
            "last pass {}, first fail {}",
            report
                .last_pass_cps
                .map_or("none".into(), |r| format!("{r:.0}/s")),
            report
                .first_fail_cps
                .map_or("none".into(), |r| format!("{r:.0}/s"))
        ),
        report.why.clone(),
    ));
    j.load.find_max = Some(report);
    Ok(Done {
        load: j.load,
        checks: j.checks,
        recorder,
        topology: format!(
            "load --find-max: harness -> {where_} (figures of the highest passing step)"
        ),
    })
}

/// Writes every report file, prints the summary, returns the exit code.
pub fn finish(
    a: &LoadArgs,
    done: Done,
    started: SystemTime,
    elapsed: Duration,
) -> anyhow::Result<u8> {
    let mut checks = done.checks;
    if done.load.interrupted {
        checks.push(crate::exit::interrupted_check(
            "the schedule stopped early; calls in progress were drained",
        ));
    }
    let scenario = ScenarioReport {
        name: "load".into(),
        description: format!(
            "{} for {}",
            done.load.config.profile, done.load.config.target
        ),
        checks,
        duration_ms: u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX),
        ..ScenarioReport::default()
    };
    let mut report = runner::assemble("load", &done.topology, started, elapsed, vec![scenario]);
    report.load = Some(done.load);
    let written = reports::write_all(&report, &a.out)
        .with_context(|| format!("writing reports to {}", a.out.display()))?;
    let hlog = a.out.join(HLOG_FILE);
    let mut buf = Vec::new();
    done.recorder
        .write_interval_log(&mut buf, started)
        .context("rendering the interval log")?;
    reports::write_atomic(&hlog, &buf)?;
    if let Some(l) = &report.load {
        crate::stdout::print_quietly(&summary_text(l));
    }
    let interrupted = report.load.as_ref().is_some_and(|l| l.interrupted);
    let (verdict, code) = super::verdict::finish_line(report.verdict(), interrupted);
    crate::stdout::println_quietly(&format!("verdict: {verdict}"));
    crate::stdout::println_quietly(&format!("reports: {written}, {}", hlog.display()));
    Ok(code)
}

/// The terminal summary of a load section.
pub fn summary_text(l: &LoadReport) -> String {
    let c = &l.counts;
    let mut s = format!(
        "load: {} attempted, {} answered, {} rejected, {} timed out, {} errored; offered {:.1}/s, achieved {:.1}/s, max concurrent {}{}\n",
        c.attempted,
        c.answered,
        c.rejected,
        c.timed_out,
        c.errored,
        l.offered_cps,
        l.achieved_cps,
        l.max_concurrent,
        if l.interrupted { " (interrupted)" } else { "" }
    );
    for (name, p) in &l.metrics {
        s.push_str(&format!(
            "  {name:<18} n={:<7} p50 {:>9} p90 {:>9} p99 {:>9} p99.9 {:>9} max {:>9}\n",
            p.count,
            ms(p.p50_us),
            ms(p.p90_us),
            ms(p.p99_us),
            ms(p.p999_us),
            ms(p.max_us)
        ));
    }
    for (k, n) in l.rejected_by_status.iter() {
        s.push_str(&format!("  rejected {k}: {n}\n"));
    }
    for (k, n) in l.errored_by_cause.iter().chain(l.teardown_failures.iter()) {
        s.push_str(&format!("  failure {k}: {n}\n"));
    }
    let r = &l.rfc6076;
    s.push_str(&format!(
        "  RFC 6076: SER {:.3}% SEER {:.3}% ISA {:.3}% SCR {:.3}%; retransmissions {}, TLS handshakes {}\n",
        r.ser_pct, r.seer_pct, r.isa_pct, r.scr_pct, l.retransmissions, l.tls_handshakes
    ));
    s.push_str(&format!(
        "  validity: {}{}\n",
        if l.validity.valid { "valid" } else { "INVALID" },
        l.validity
            .reason
            .as_deref()
            .map(|r| format!(": {r}"))
            .unwrap_or_default()
    ));
    for slo in &l.slos {
        s.push_str(&format!(
            "  SLO {}: {} (observed {})\n",
            slo.slo,
            if slo.passed { "PASS" } else { "FAIL" },
            slo.observed
        ));
    }
    if let Some(f) = &l.find_max {
        s.push_str(&format!(
            "  find-max: last pass {}, first fail {}: {}\n",
            f.last_pass_cps
                .map_or("none".into(), |r| format!("{r:.0}/s")),
            f.first_fail_cps
                .map_or("none".into(), |r| format!("{r:.0}/s")),
            f.why
        ));
    }
    s
}
