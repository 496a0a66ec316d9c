//! `e911-harness merge DIR...`: the reports of several load generators (shards of one run, or
//! runs of the same configuration on several machines) combined exactly into one report, as if
//! one generator had placed every call.
//!
//! - counts and causes are summed, and the accounting identity is checked on the sum;
//! - every histogram (metric x outcome x gateway, per dial, per step) is rebuilt from its
//!   serialized form in `report.json` and added; percentiles are read off the sum, never
//!   averaged;
//! - the interval logs are aligned on their start times (whole seconds apart) and added;
//! - validity (generator lag p99 of the merged lag histogram) and the SLOs are judged again on
//!   the merged result, and the same `report.json`, `junit.xml`, `summary.md` and `setup.hlog`
//!   are written as for a single run.
//!
//! The shards' configurations must agree (profile, arrivals, seed, mix, transport, TLS, hold,
//! timeout); a set of shards with one missing or repeated fails the `merge.shards` check.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use clap::Args;
use hdrhistogram::Histogram;
use reports::load::LoadReport;
use reports::load_detail::ShardPart;
use reports::{CheckResult, Outcome};

use super::flags::SloList;
use super::metrics::{Recorder, histogram};
use super::report::{self, Done, Spec};
use super::run::Ran;
use super::state::{self, Facts};
use crate::exit::EXIT_USAGE;

/// `merge` options.
#[derive(Debug, Clone, Args)]
pub struct MergeArgs {
    /// Folders of the runs to merge, each with the report.json and setup.hlog of `load`; a
    /// folder without a report.json stands for its subfolders that have one (the shards).
    #[arg(required = true, value_name = "DIR")]
    pub dirs: Vec<PathBuf>,
    /// Folder for the merged report.json, junit.xml, summary.md and setup.hlog.
    #[arg(long, default_value = "out/merged")]
    pub out: PathBuf,
    /// Judge these SLOs instead of the runs' own.
    #[arg(long)]
    pub slo: Option<SloList>,
    /// Bound on the merged generator lag p99 instead of the runs' own.
    #[arg(long, value_parser = humantime::parse_duration)]
    pub max_lag: Option<Duration>,
}

/// One run read back.
struct Part {
    dir: PathBuf,
    load: LoadReport,
    rec: Recorder,
    facts: Facts,
}

fn read_part(dir: &Path) -> Result<Part, String> {
    let path = dir.join("report.json");
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let report = reports::from_json_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    let load = report
        .load
        .ok_or_else(|| format!("{}: not a load report (no `load` section)", path.display()))?;
    let (mut rec, facts) = state::import(&load).map_err(|e| format!("{}: {e}", path.display()))?;
    let log = dir.join(load.interval_log.as_deref().unwrap_or(report::HLOG_FILE));
    let (log_start, intervals) = state::read_interval_log(&log)?;
    // The log starts at t0, as the report's state does; a log of another run is refused.
    let apart = log_start
        .duration_since(facts.started)
        .or_else(|_| facts.started.duration_since(log_start))
        .unwrap_or_default();
    if apart > Duration::from_secs(1) {
        return Err(format!(
            "{}: starts {} away from its report's schedule start: not the same run",
            log.display(),
            humantime::format_duration(apart)
        ));
    }
    rec.intervals = intervals;
    Ok(Part {
        dir: dir.to_owned(),
        load,
        rec,
        facts,
    })
}

/// The configuration fields shards must share, named.
fn shared_config(l: &LoadReport) -> Vec<(&'static str, String)> {
    let c = &l.config;
    vec![
        ("profile", c.profile.clone()),
        ("arrivals", c.arrivals.clone()),
        ("seed", c.seed.to_string()),
        ("mix", c.mix.clone()),
        ("transport", c.transport.clone()),
        ("tls_profile", format!("{:?}", c.tls_profile)),
        ("tls_resumption", format!("{:?}", c.tls_resumption)),
        ("hold_ms", c.hold_ms.to_string()),
        ("timeout_ms", c.timeout_ms.to_string()),
        (
            "gateways",
            l.state
                .as_ref()
                .map(|s| s.gateways.join(","))
                .unwrap_or_default(),
        ),
    ]
}

/// Whether the shards are exactly 0..N of one N; the message says what is missing.
fn shards_complete(parts: &[Part]) -> (bool, String) {
    let shards: Vec<Option<(u32, u32)>> = parts
        .iter()
        .map(|p| {
            p.load.config.shard.as_deref().and_then(|s| {
                let f: super::flags::Shard = s.parse().ok()?;
                Some((f.index, f.count))
            })
        })
        .collect();
    if shards.iter().all(Option::is_none) {
        return (
            true,
            format!("{} independent runs (no --shard), summed", parts.len()),
        );
    }
    let Some(Some((_, n))) = shards.iter().find(|s| s.is_some()).copied() else {
        return (false, "no shard information".into());
    };
    let mut seen = vec![0u32; n as usize];
    let mut problems = Vec::new();
    for (p, s) in parts.iter().zip(&shards) {
        match s {
            Some((i, count)) if *count == n => seen[*i as usize] += 1,
            Some((i, count)) => problems.push(format!(
                "{} is shard {i}/{count}, not of {n}",
                p.dir.display()
            )),
            None => problems.push(format!("{} is not a shard", p.dir.display())),
        }
    }
    for (i, k) in seen.iter().enumerate() {
        match k {
            0 => problems.push(format!("shard {i}/{n} missing")),
            1 => {}
            k => problems.push(format!("shard {i}/{n} given {k} times")),
        }
    }
    if problems.is_empty() {
        (true, format!("shards 0..{n} of {n}, each once"))
    } else {
        (false, problems.join("; "))
    }
}

/// Adds `b`'s interval histograms into `a`'s, `b` starting `shift` seconds later.
fn add_intervals(a: &mut Vec<Histogram<u64>>, b: &[Histogram<u64>], shift: usize) {
    if a.len() < b.len() + shift {
        a.resize_with(b.len() + shift, histogram);
    }
    for (k, h) in b.iter().enumerate() {
        let _ = a[k + shift].add(h);
    }
}

/// The run folders `dirs` name: each folder with a report.json, else its subfolders that have
/// one, sorted.
pub fn run_dirs(dirs: &[PathBuf]) -> Result<Vec<PathBuf>, String> {
    let mut out = Vec::new();
    for d in dirs {
        if d.join("report.json").is_file() || !d.is_dir() {
            out.push(d.clone());
            continue;
        }
        let mut subs: Vec<PathBuf> = std::fs::read_dir(d)
            .map_err(|e| format!("{}: {e}", d.display()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.join("report.json").is_file())
            .collect();
        if subs.is_empty() {
            return Err(format!(
                "{}: no report.json in it nor in any folder in it",
                d.display()
            ));
        }
        subs.sort();
        out.extend(subs);
    }
    Ok(out)
}

/// Merges the runs; `Err` is bad input (exit 2).
pub fn merge(a: &MergeArgs) -> Result<Done, String> {
    let parts = run_dirs(&a.dirs)?
        .iter()
        .map(|d| read_part(d))
        .collect::<Result<Vec<_>, _>>()?;
    let first = &parts[0];
    let want = shared_config(&first.load);
    for p in &parts[1..] {
        for ((name, mine), (_, theirs)) in want.iter().zip(shared_config(&p.load)) {
            if *mine != theirs {
                return Err(format!(
                    "{} and {} differ in {name} ({mine} vs {theirs}): not parts of one run",
                    first.dir.display(),
                    p.dir.display()
                ));
            }
        }
        if p.facts.slos != first.facts.slos && a.slo.is_none() {
            return Err(format!(
                "{} and {} were judged against different SLOs; give --slo for the merged run",
                first.dir.display(),
                p.dir.display()
            ));
        }
    }
    let base = parts
        .iter()
        .map(|p| p.facts.started)
        .min()
        .unwrap_or(SystemTime::UNIX_EPOCH);
    let mut rec = Recorder::new(
        first.rec.gateways.clone(),
        first.rec.dials.clone(),
        first.rec.steps.clone(),
    );
    let (mut issued, mut abandoned, mut max_conc, mut interrupted) = (0, 0, 0, false);
    let mut end = base;
    for p in &parts {
        let mut r = p.rec.clone();
        let shift = p
            .facts
            .started
            .duration_since(base)
            .unwrap_or_default()
            .as_secs_f64()
            .round() as usize;
        let intervals = std::mem::take(&mut r.intervals);
        rec.add(&r);
        add_intervals(&mut rec.intervals, &intervals, shift);
        issued += p.facts.issued;
        abandoned += p.facts.abandoned;
        max_conc += p.load.max_concurrent;
        interrupted |= p.load.interrupted;
        end = end.max(p.facts.started + p.facts.span);
    }
    let (complete, shards_note) = shards_complete(&parts);
    let slos = match &a.slo {
        Some(s) => s.0.clone(),
        None => super::slo::parse_list(&first.facts.slos.join(",")).unwrap_or_default(),
    };
    let mut config = first.load.config.clone();
    config.shard = None;
    config.target = format!("{} (merged from {} runs)", config.target, parts.len());
    let spec = Spec {
        config,
        slos,
        max_lag: a
            .max_lag
            .unwrap_or(Duration::from_micros(first.load.validity.lag_bound_us)),
        step_each: first
            .load
            .state
            .as_ref()
            .and_then(|s| s.step_each_ms)
            .map(|ms| ms as f64 / 1000.0),
    };
    let ran = Ran {
        recorder: rec,
        issued,
        abandoned,
        span: end.duration_since(base).unwrap_or_default(),
        max_concurrent: max_conc,
        interrupted,
        started: base,
    };
    let mut j = report::judge(&spec, &ran);
    j.checks.insert(
        0,
        CheckResult {
            id: "merge.shards".into(),
            requirement: None,
            outcome: if complete {
                Outcome::Pass
            } else {
                Outcome::Error
            },
            expected: Some("every shard of the run, each once, with one configuration".into()),
            observed: Some(shards_note.clone()),
            message: if complete {
                format!(
                    "{} runs merged: counts summed, histograms added, max concurrent is the sum of the runs' maxima (an upper bound)",
                    parts.len()
                )
            } else {
                format!("the merged report is not the whole run: {shards_note}")
            },
        },
    );
    j.load.merged_from = parts
        .iter()
        .map(|p| ShardPart {
            dir: p.dir.display().to_string(),
            shard: p.load.config.shard.clone(),
            counts: p.load.counts,
            valid: p.load.validity.valid,
            started_unix_ms: state::unix_ms(p.facts.started),
        })
        .collect();
    Ok(Done {
        load: j.load,
        checks: j.checks,
        topology: format!(
            "merge of {} load runs: {}",
            parts.len(),
            parts
                .iter()
                .map(|p| p.dir.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ),
        recorder: ran.recorder,
        started: base,
    })
}

/// Runs `e911-harness merge`; returns the exit code.
pub fn merge_cmd(a: &MergeArgs) -> anyhow::Result<u8> {
    let t = Instant::now();
    match merge(a) {
        Ok(done) => report::finish(&a.out, done, SystemTime::now(), t.elapsed()),
        Err(e) => {
            eprintln!("error: {e}");
            Ok(EXIT_USAGE)
        }
    }
}
