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
use super::slo::{self, Slo};
use super::state::{self, Facts};
use super::{AniHook, Checked, LoadArgs};
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
    /// Wall-clock time of t0 (the interval log's start).
    pub started: SystemTime,
}

/// What a run is judged against.
#[derive(Debug, Clone)]
pub struct Spec {
    /// How the load was generated (reported as is).
    pub config: LoadConfig,
    /// The SLOs.
    pub slos: Vec<Slo>,
    /// Bound on the generator lag's p99.
    pub max_lag: Duration,
    /// Length of each step of a `steps:` profile, in seconds.
    pub step_each: Option<f64>,
}

/// One step judged.
#[derive(Debug)]
pub struct Judged {
    /// The `load` section.
    pub load: LoadReport,
    /// Its checks.
    pub checks: Vec<CheckResult>,
    /// Every check passed.
    pub passed: bool,
    /// Why not.
    pub why: String,
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

/// The spec of a run of `plan`.
pub fn spec(a: &LoadArgs, c: &Checked, plan: &Plan, where_: &str) -> Spec {
    Spec {
        config: config(a, c, plan, where_),
        slos: c.slos.clone(),
        max_lag: a.max_lag,
        step_each: match &plan.schedule.profile {
            Profile::Steps { each, .. } => Some(each.as_secs_f64()),
            _ => None,
        },
    }
}

fn config(a: &LoadArgs, c: &Checked, plan: &Plan, where_: &str) -> LoadConfig {
    let tls = a.transport == sip::transport::TransportKind::Tls;
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
        mix: c.mix.to_string(),
        target: where_.to_owned(),
        arrivals: plan.schedule.arrivals.as_str().to_owned(),
        seed: plan.schedule.seed,
        shard: a.shard.map(|s| s.to_string()),
        start_at: a
            .start_at
            .map(|t| humantime::format_rfc3339_millis(t.0).to_string()),
        tls_profile: tls.then(|| a.tls_profile.spec().name().to_owned()),
        tls_resumption: tls.then(|| a.tls_resumption.as_str().to_owned()),
        callers: plan.callers.as_ref().map(|c| {
            let mut d = c.describe();
            if a.peer.target.is_some() {
                d.push_str(
                    "; ANI not checked: the gateways behind an external target are not observable",
                );
            }
            d
        }),
    }
}

/// Judges one run (or merged runs): the `load` section, its checks, pass/fail and why.
pub fn judge(spec: &Spec, ran: &Ran) -> Judged {
    let rec = &ran.recorder;
    let counts = rec.counts;
    let lag = rec
        .rollup(Metric::Lag)
        .map(|h| percentiles(&h))
        .unwrap_or_default();
    let bound = u64::try_from(spec.max_lag.as_micros()).unwrap_or(u64::MAX);
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
    let judged = slo::judge(&spec.slos, rec);
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
        &spec.config.mix,
        !spec.slos.is_empty(),
    ));
    if let Some(ani) = &rec.ani {
        let bad = ani.mismatched + ani.routing_mismatched;
        checks.push(check(
            "load.caller-ani",
            if bad == 0 && ani.checked > 0 {
                Outcome::Pass
            } else if bad > 0 {
                Outcome::Fail
            } else {
                Outcome::Error
            },
            "every gateway saw the ANI (and routing) of the caller row its call used",
            format!(
                "{} checked, {} ANI mismatched, {} routed elsewhere, {} not checkable",
                ani.checked, ani.mismatched, ani.routing_mismatched, ani.unchecked
            ),
            ani.examples
                .first()
                .cloned()
                .unwrap_or_else(|| "no INVITE observed".into()),
        ));
    }
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
    } else if let Some(ani) = rec
        .ani
        .as_ref()
        .filter(|a| a.mismatched + a.routing_mismatched > 0)
    {
        format!(
            "{} of {} calls reached the gateway with another caller's ANI or routing",
            ani.mismatched + ani.routing_mismatched,
            ani.checked
        )
    } else if spec.slos.is_empty() && failed > 0 {
        format!("{failed} of {} calls not answered", counts.attempted)
    } else {
        String::new()
    };
    let passed = why.is_empty();
    let load = LoadReport {
        config: spec.config.clone(),
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
        tls_handshakes: rec.tls_handshakes(),
        tls: rec.handshakes(),
        metrics: rec.summary(),
        breakdown: rec.breakdown(),
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
        by_dial: if rec.dials.len() > 1 {
            rec.dial_rows()
        } else {
            Vec::new()
        },
        by_step: rec.step_rows(spec.step_each),
        ani_check: rec.ani.clone(),
        merged_from: Vec::new(),
        media: None,
        state: Some(state::export(
            rec,
            &Facts {
                started: ran.started,
                span: ran.span,
                issued: ran.issued,
                abandoned: ran.abandoned,
                slos: spec.slos.iter().map(|s| s.text.clone()).collect(),
                step_each: spec.step_each.map(Duration::from_secs_f64),
            },
        )),
    };
    Judged {
        load,
        checks,
        passed,
        why,
    }
}

pub(crate) fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

/// One run of `plan`, with the caller-data check folded in.
async fn run_checked(
    plan: &Plan,
    stop: &Arc<AtomicBool>,
    ani: Option<&AniHook>,
) -> anyhow::Result<Ran> {
    let mut ran = run::run(plan, stop).await?;
    if let Some(hook) = ani {
        ran.recorder.ani = Some(hook.take().await);
    }
    Ok(ran)
}

/// One load run at the planned schedule.
pub async fn single(
    a: &LoadArgs,
    c: &Checked,
    plan: &Plan,
    stop: &Arc<AtomicBool>,
    where_: &str,
    ani: Option<&AniHook>,
) -> anyhow::Result<Done> {
    let ran = run_checked(plan, stop, ani).await?;
    let mut j = judge(&spec(a, c, plan, where_), &ran);
    if let Some(m) = &plan.media {
        m.tally.settle(Duration::from_secs(5)).await;
        let gateways = m.gateways.as_ref().map(|e| {
            super::media::gateway_media(e.gateways.iter().map(mock_gateway::Gateway::stats))
        });
        j.load.media = Some(m.tally.report(ran.span, gateways));
    }
    Ok(Done {
        load: j.load,
        checks: j.checks,
        recorder: ran.recorder,
        topology: format!("load: harness -> {where_}"),
        started: ran.started,
    })
}

/// `--find-max`: constant-rate steps of `--duration` each until the knee is found.
pub async fn find_max(
    a: &LoadArgs,
    c: &Checked,
    plan: &Plan,
    stop: &Arc<AtomicBool>,
    where_: &str,
    ani: Option<&AniHook>,
) -> anyhow::Result<Done> {
    let mut search = Search::new(a.rate, usize::from(a.find_max_steps));
    let started = Instant::now();
    let mut steps = Vec::new();
    let mut best: Option<(f64, Judged, Recorder, SystemTime)> = None;
    let mut last: Option<(Judged, Recorder, SystemTime)> = None;
    let mut first_fail_why = String::new();
    while let Some(rate) = search.next() {
        if stop.load(Ordering::Relaxed) || started.elapsed() > FIND_MAX_BUDGET {
            break;
        }
        let mut p = plan.clone();
        p.schedule.profile = Profile::Constant;
        p.schedule.rate = rate;
        if !steps.is_empty() {
            // --start-at is when the search starts; later steps follow at once.
            p.start_at = None;
        }
        let ran = run_checked(&p, stop, ani).await?;
        let j = judge(&spec(a, c, &p, where_), &ran);
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
            detail: Some({
                let mut whole = super::metrics::Slice::default();
                for s in &ran.recorder.by_dial {
                    whole.add(s);
                }
                whole.row(&format!("{rate:.0}/s"), Some(ran.span.as_secs_f64()))
            }),
            lag_p99_us: j.load.validity.lag_p99_us,
        });
        if !j.passed && search.first_fail() == Some(rate) {
            first_fail_why = j.why.clone();
        }
        if j.passed && best.as_ref().is_none_or(|b| rate > b.0) && search.last_pass() == Some(rate)
        {
            best = Some((rate, j, ran.recorder, ran.started));
        } else {
            last = Some((j, ran.recorder, ran.started));
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
    let (mut j, recorder, started) = match (best, last) {
        (Some((_, j, r, t)), _) => (j, r, t),
        (None, Some((j, r, t))) => (j, r, t),
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
        started,
    })
}

/// Writes every report file to `out`, prints the summary, returns the exit code.
pub fn finish(
    out: &std::path::Path,
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
    let written = reports::write_all(&report, out)
        .with_context(|| format!("writing reports to {}", out.display()))?;
    let hlog = out.join(HLOG_FILE);
    let mut buf = Vec::new();
    done.recorder
        .write_interval_log(&mut buf, done.started)
        .context("rendering the interval log")?;
    reports::write_atomic(&hlog, &buf)?;
    // The HTML report again, now with the plots the interval log allows.
    let inputs = reports::html::Inputs {
        interval_log: Some(&buf),
    };
    reports::write_html(&report, &written.html, &inputs)?;
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
        "  RFC 6076: SER {:.3}% SEER {:.3}% ISA {:.3}% SCR {:.3}%; retransmissions {}, TLS handshakes {} ({} full, {} resumed, {} pooled)\n",
        r.ser_pct,
        r.seer_pct,
        r.isa_pct,
        r.scr_pct,
        l.retransmissions,
        l.tls_handshakes,
        l.tls.full,
        l.tls.resumed,
        l.tls.pooled
    ));
    for (title, rows) in [("dialed", &l.by_dial), ("step", &l.by_step)] {
        for row in rows {
            let c = &row.counts;
            s.push_str(&format!(
                "  {title} {:<14} {} attempted, {} answered, {} failed; setup p99 {}\n",
                row.label,
                c.attempted,
                c.answered,
                c.attempted - c.answered,
                row.setup.map_or("-".to_owned(), |p| ms(p.p99_us))
            ));
        }
    }
    if let Some(a) = &l.ani_check {
        s.push_str(&format!(
            "  caller data: {} INVITEs checked, {} ANI mismatched, {} routed elsewhere, {} not checkable\n",
            a.checked, a.mismatched, a.routing_mismatched, a.unchecked
        ));
    }
    if let Some(m) = &l.media {
        s.push_str("  ");
        s.push_str(&super::media::summary_line(m));
    }
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
