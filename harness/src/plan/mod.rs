//! Certifying a real originator with a test plan (`certify --originator PLAN`): the embedded
//! gw1 and gw2 run for the originator under test (a lab BYOC trunk, an SBC, a PBX, SIPp, the
//! harness's own `call`), and the plan's steps are walked one after another.
//!
//! Per step: apply its faults on the gateways (a gateway kept down, a 503 with a Q.850 cause,
//! silence, a refused handshake), tell the operator what to do and what must arrive (or run
//! the drive command, unattended), show every request as it arrives, wait until the step's
//! calls have ended and nothing more arrived for the settle time (or the operator presses
//! Enter, or the drive command ended, or the step's timeout passed), clear the faults, and
//! judge the step's calls from what the gateways received ([`judge`]). Calls are matched to
//! the step by dialled number and ANI ([`calls`]); any other call is kept and reported as
//! unexpected, and a number other than 911/933 fails the number plan wherever it arrives.
//! The originator's OPTIONS probing is recorded over the whole run and judged at its end
//! ([`crate::verdict::probing`]).
//!
//! # Layout
//! - [`calls`]: the gateways' observations sorted into calls, and matched to a step.
//! - [`judge`]: a step's window judged; the report of unexpected calls.
//! - [`guide`]: what the terminal says.
//! - [`drive`]: the unattended drive command.
//!
//! # Invariants
//! - Every observation of the run ends up in a report: a step's, the unexpected calls', or the
//!   probing report's.
//! - Every wait is bounded: a step by its timeout, a drive command by the step's timeout.

use std::collections::HashSet;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use mock_gateway::{Gateway, Policy};
use reports::{Observation, ScenarioReport};
use scenarios::plan::{Plan, PlanStep};
use scenarios::{FaultKind, Scenario, is_emergency_number};
use sip::transport::TransportKind;
use tokio::sync::mpsc::UnboundedReceiver;

use crate::evidence::Epoch;
use crate::evidence::recording::Recording;
use crate::evidence::trace::{self, Lanes};
use crate::run::{faults, not_applicable_report};
use crate::verdict::Setting;
use crate::verdict::probing::{Outage, ProbeEvidence};

pub mod calls;
pub mod drive;
pub mod guide;
pub mod judge;

use judge::{Driven, StepEnd, Stray, Window};

/// How a plan runs.
#[derive(Debug)]
pub struct Options {
    /// The originator topology and its leg.
    pub setting: Setting,
    /// The run's clock (the gateways'), for the outages' times.
    pub epoch: Epoch,
    /// After a step's calls ended, how long nothing more may arrive before it is judged.
    pub settle: Duration,
    /// Overrides every step's timeout.
    pub step_timeout: Option<Duration>,
    /// Only these steps (by name), in plan order; empty: all.
    pub only: Vec<String>,
    /// Unattended: the command that places each step's calls.
    pub drive: Option<Drive>,
    /// How often the gateways' logs are read.
    pub poll: Duration,
    /// What the gateways capture of their connections (each step's calls get their SIP
    /// ladder from it; `--pcap` writes it all).
    pub recording: Recording,
    /// Who is who on the wire.
    pub lanes: Lanes,
}

/// The drive command of an unattended run.
#[derive(Debug, Clone)]
pub struct Drive {
    /// Run with `sh -c`, once per step.
    pub command: String,
    /// Folder of its logs, one file per step.
    pub logs: PathBuf,
    /// What it is told about the gateways.
    pub run: drive::RunEnv,
}

/// What a plan run talks to: the terminal, the operator's Enter key, Ctrl-C.
pub struct Io<'a> {
    /// Prints one block of text for the operator.
    pub say: &'a mut (dyn FnMut(&str) + Send),
    /// One message per Enter the operator pressed (`None`: no operator, or unattended).
    pub enter: Option<&'a mut UnboundedReceiver<()>>,
    /// Whether the run was interrupted.
    pub interrupted: &'a (dyn Fn() -> bool + Sync),
}

impl std::fmt::Debug for Io<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Io").finish_non_exhaustive()
    }
}

/// What the run gathers across steps for its own reports.
#[derive(Debug, Default)]
struct Book {
    options: Vec<Observation>,
    invites: Vec<Observation>,
    outages: Vec<Outage>,
    strays: Vec<Stray>,
    loose: Vec<Observation>,
}

impl Book {
    /// Files what arrived outside every step.
    fn outside(&mut self, observations: Vec<Observation>, when: &str) {
        let sorted = calls::sort(&observations);
        self.invites
            .extend(observations.iter().filter(|o| o.is_new_invite()).cloned());
        self.options.extend(sorted.options);
        self.loose.extend(sorted.connections);
        self.loose.extend(sorted.strays);
        self.strays
            .extend(sorted.calls.into_iter().map(|call| Stray {
                when: when.to_owned(),
                call,
            }));
    }
}

/// Everything the gateways recorded since the last take, in arrival order.
fn take_all(gateways: &[Gateway]) -> Vec<Observation> {
    let mut v: Vec<Observation> = gateways
        .iter()
        .flat_map(Gateway::take_observations)
        .collect();
    v.sort_by_key(|o| (o.at_us, o.seq));
    v
}

/// Walks `plan` on the running `gateways` and returns a report per step, then the probing
/// report and, when any call arrived that no step asked for, the report of those.
pub async fn run(
    plan: &Plan,
    gateways: &[Gateway],
    opts: &Options,
    io: Io<'_>,
) -> Vec<ScenarioReport> {
    let Io {
        say,
        mut enter,
        interrupted,
    } = io;
    let steps: Vec<&PlanStep> = plan
        .steps
        .iter()
        .filter(|s| opts.only.is_empty() || opts.only.iter().any(|n| n == s.name()))
        .collect();
    let total = steps.len();
    let mut book = Book::default();
    book.outside(take_all(gateways), "before the first step");
    let mut reports = Vec::with_capacity(total + 2);
    for (k, step) in steps.iter().enumerate() {
        if interrupted() {
            reports.push(not_run(
                &step.scenario,
                "the run was interrupted before this step started",
            ));
            continue;
        }
        let when = format!("between steps (before {})", step.name());
        book.outside(take_all(gateways), &when);
        let sc = judge::resolved(step);
        let report = match not_applicable(&sc, &opts.setting) {
            Some(why) => not_applicable_report(&sc, why),
            None => {
                let mut ctx = StepCtx {
                    gateways,
                    opts,
                    say: &mut *say,
                    enter: enter.as_deref_mut(),
                    interrupted,
                    book: &mut book,
                };
                run_step(&mut ctx, step, &sc, k, total).await
            }
        };
        say(&guide::verdict(k, total, &report));
        reports.push(report);
    }
    book.outside(take_all(gateways), "after the last step");
    reports.push(probing_report(plan, opts, &book));
    if let Some(r) = judge::unexpected_report(&book.strays) {
        reports.push(r);
    }
    reports
}

/// Why a step cannot run in this setting: a TLS fault on gateways that listen on TCP.
fn not_applicable(sc: &Scenario, setting: &Setting) -> Option<String> {
    if setting.gateway_leg != Some(TransportKind::Tcp) {
        return None;
    }
    let f = sc
        .faults
        .iter()
        .find(|f| matches!(f.kind, FaultKind::Tls(_)))?;
    Some(format!(
        "the gateways listen on TCP (--transport tcp), so {} cannot {}: run over TLS to exercise it",
        f.gateway,
        guide::fault_phrase(f)
            .replace("refuses", "refuse")
            .replace("presents", "present")
    ))
}

fn not_run(sc: &Scenario, why: &str) -> ScenarioReport {
    crate::run::not_run_as(sc, "plan.step", why)
}

/// What one step needs from the run.
struct StepCtx<'a, 'b> {
    gateways: &'a [Gateway],
    opts: &'a Options,
    say: &'a mut (dyn FnMut(&str) + Send),
    enter: Option<&'a mut UnboundedReceiver<()>>,
    interrupted: &'a (dyn Fn() -> bool + Sync),
    book: &'b mut Book,
}

/// Whether the step's calls have all arrived and ended at the gateways.
fn calls_done(sc: &Scenario, expected: usize, window: &[Observation]) -> bool {
    let m = calls::assign(
        calls::sort(window).calls,
        &sc.call.dial,
        judge::expected_ani(sc).as_deref(),
        expected,
    );
    m.mine.len() >= expected && m.mine.iter().all(calls::ObservedCall::is_finished)
}

async fn run_step(
    ctx: &mut StepCtx<'_, '_>,
    step: &PlanStep,
    sc: &Scenario,
    k: usize,
    total: usize,
) -> ScenarioReport {
    let gws = ctx.gateways;
    let opts = ctx.opts;
    for gw in gws {
        gw.set_policy(Policy::from(&sc.gateway));
    }
    if let Err(why) = faults::apply(sc, gws) {
        faults::clear(gws);
        return not_run(
            sc,
            &format!(
                "the step's faults could not be set on the gateways: {why} (certificate faults need the lab CA's key, ca.key, in --certs-dir)"
            ),
        );
    }
    faults::wait_outages_started(sc, gws).await;
    faults::settle(sc, gws, true).await;
    let started = Instant::now();
    let from_us = opts.epoch.now_us();
    let timeout = opts.step_timeout.unwrap_or(step.timeout);
    let emergency = is_emergency_number(scenarios::dialled_number(&sc.call.dial));
    (ctx.say)(&guide::instruction(
        step,
        sc,
        k,
        total,
        timeout,
        opts.drive.is_some(),
    ));
    if let Some(rx) = ctx.enter.as_deref_mut() {
        while rx.try_recv().is_ok() {}
    }
    let mut running = None;
    let mut driven: Option<Driven> = None;
    if let Some(d) = &opts.drive {
        let env = drive::env(&d.run, step, sc, k, total);
        let log = d.logs.join(format!("{:02}-{}.log", k + 1, sc.name));
        match drive::Running::start(&d.command, &env, &log) {
            Ok(r) => running = Some(r),
            Err(e) => {
                driven = Some(Driven {
                    started: false,
                    code: None,
                    tail: format!("could not start `sh -c {}`: {e}", d.command),
                });
            }
        }
    }
    let mut window: Vec<Observation> = Vec::new();
    let mut probed: HashSet<String> = HashSet::new();
    let mut confirmed = false;
    let mut last_activity = Instant::now();
    let deadline = started + timeout;
    let ended = loop {
        tokio::time::sleep(opts.poll).await;
        let new = take_all(gws);
        for o in &new {
            if o.method == "OPTIONS" {
                if probed.insert(o.gateway.clone()) {
                    (ctx.say)(&format!(
                        "  {} <- OPTIONS{} (probing; further probes are recorded, not shown)",
                        o.gateway,
                        o.response.map(|s| format!(" -> {s}")).unwrap_or_default()
                    ));
                }
                continue;
            }
            if !o.is_connection_event() {
                last_activity = Instant::now();
            }
            if let Some(line) = guide::arrival(o) {
                (ctx.say)(&line);
            }
        }
        window.extend(new);
        if driven.is_none()
            && let Some(d) = running.as_mut().and_then(drive::Running::poll)
        {
            (ctx.say)(&format!(
                "  the drive command ended ({})",
                d.code
                    .map_or_else(|| "killed".to_owned(), |c| format!("exit {c}"))
            ));
            driven = Some(d);
        }
        if let Some(rx) = ctx.enter.as_deref_mut()
            && rx.try_recv().is_ok()
            && !confirmed
        {
            confirmed = true;
            (ctx.say)(&format!(
                "  ending the step once nothing more arrives for {}",
                humantime::format_duration(opts.settle)
            ));
        }
        let quiet = last_activity.elapsed() >= opts.settle;
        if (ctx.interrupted)() {
            break StepEnd::Interrupted;
        }
        if Instant::now() >= deadline {
            break StepEnd::TimedOut;
        }
        if confirmed && quiet {
            break StepEnd::Confirmed;
        }
        if driven.is_some() && opts.drive.is_some() && quiet {
            break StepEnd::DriveFinished;
        }
        if emergency && quiet && calls_done(sc, step.calls() as usize, &window) {
            break StepEnd::CallsEnded;
        }
    };
    if let (Some(r), None) = (running, &driven) {
        driven = Some(r.stop(Duration::from_secs(2)).await);
    }
    faults::clear(gws);
    faults::wait_listening(sc, gws).await;
    faults::settle(sc, gws, true).await;
    window.extend(take_all(gws));
    let until_us = opts.epoch.now_us();
    for g in &step.down {
        ctx.book.outages.push(Outage {
            gateway: g.clone(),
            step: sc.name.clone(),
            from_us,
            until_us,
        });
    }
    let mut judged = judge::judge_step(
        step,
        &opts.setting,
        &Window {
            observations: &window,
            ended,
            driven: driven.as_ref(),
            duration_ms: started.elapsed().as_millis() as u64,
        },
    );
    if let Some(capture) = opts.recording.capture() {
        // Each call's SIP ladder: the messages of its Call-IDs at the gateways.
        let messages = trace::messages(&capture.since_last(), &opts.lanes);
        let mut calls = std::mem::take(&mut judged.report.calls);
        let owned: Vec<Vec<String>> = calls
            .iter()
            .map(|c| c.attempts.iter().map(|a| a.call_id.clone()).collect())
            .collect();
        let ids: Vec<HashSet<&str>> = owned
            .iter()
            .map(|v| {
                v.iter()
                    .map(String::as_str)
                    .filter(|id| !id.is_empty())
                    .collect()
            })
            .collect();
        trace::attach(&mut calls, &ids, &messages);
        judged.report.calls = calls;
    }
    let book = &mut *ctx.book;
    book.invites
        .extend(window.iter().filter(|o| o.is_new_invite()).cloned());
    book.options.extend(judged.options);
    let when = format!("during step {}", sc.name);
    book.strays
        .extend(judged.unexpected.into_iter().map(|call| Stray {
            when: when.clone(),
            call,
        }));
    judged.report
}

/// The run's probing report: every OPTIONS the gateways received, judged.
fn probing_report(plan: &Plan, opts: &Options, book: &Book) -> ScenarioReport {
    let gateways: Vec<String> = plan
        .steps
        .first()
        .and_then(|s| s.scenario.route.as_ref())
        .map(|r| r.gateways.clone())
        .unwrap_or_else(|| scenarios::GATEWAY_NAMES.map(str::to_owned).to_vec());
    let checks = crate::verdict::probing::judge(
        &plan.probing,
        &ProbeEvidence {
            options: &book.options,
            invites: &book.invites,
            gateways: &gateways,
            outages: &book.outages,
            ended_us: opts.epoch.now_us(),
        },
    );
    let mut observations: Vec<Observation> =
        book.options.iter().chain(&book.loose).cloned().collect();
    observations.sort_by_key(|o| (o.at_us, o.seq));
    ScenarioReport {
        name: "probing".into(),
        description: "The originator's OPTIONS probing of the gateways (ICD 5.1.3): which gateways, how often, and whether a gateway that was down is probed again.".into(),
        file: plan.source.as_ref().map(|p| p.display().to_string()),
        requirements: vec![crate::verdict::req::IN_SERVICE.to_owned()],
        not_applicable: None,
        checks,
        calls: Vec::new(),
        observations,
        duration_ms: 0,
    }
}
