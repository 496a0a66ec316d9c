//! Running scenarios in a topology: the embedded gateways called directly, the embedded
//! gateways behind a system under test, or an external target. One scenario at a time, each
//! judged by [`crate::verdict`] and gathered into a [`reports::RunReport`].
//!
//! Per scenario: decide whether it applies to the topology (one that does not is reported as
//! not applicable, with its reason, never dropped); configure the gateways (policy, faults, the
//! TLS profile they enforce when the harness calls them directly); place its calls
//! ([`place`]); take everything the gateways observed meanwhile and attribute it to the calls
//! (`attribute`); judge; clear the faults, whatever happened.
//!
//! Scenarios run one after another because each one reconfigures the gateways; everything a
//! gateway observes while a scenario runs belongs to that scenario, so a stray request can
//! never be judged as part of the wrong one.
//!
//! # Layout
//! - [`embedded`]: gw1 and gw2 in this process, their certificates.
//! - [`place`]: the calls of a scenario, per topology.
//! - `attribute`: which of the gateways' observations belong to which call.
//! - [`faults`]: a scenario's faults on the embedded gateways.
//! - [`waiver`]: accepted deviations.

use std::collections::HashSet;
use std::time::{Duration, Instant, SystemTime};

use mock_gateway::{Gateway, Policy};
use reports::{CheckResult, Observation, Outcome, RunReport, ScenarioReport};
use scenarios::Scenario;

use crate::evidence::{Topology, record, trace};
use crate::originate::uac::{Target, UacConfig};
use crate::verdict::{self, CallEvidence, Evidence, Setting};

mod attribute;
pub mod embedded;
pub mod faults;
pub mod place;
pub mod waiver;

pub use crate::originate::trunk::GATEWAY_HOSTS;
pub use embedded::{Embedded, GatewayIdentities, RunError, write_gateway_certs};

/// Where calls go and who can observe them.
#[derive(Debug)]
pub struct RunContext<'a> {
    /// Named targets; a scenario's `call.gateway` (and its route's gateways) pick one.
    pub targets: Vec<Target>,
    /// Originator settings.
    pub uac: UacConfig,
    /// The embedded gateways, when the topology has them (their observations feed the verdict).
    pub gateways: Option<&'a [Gateway]>,
    /// The embedded gateways' certificates, to serve them under a scenario's TLS profile
    /// (`gateway.tls`) when the harness calls them directly.
    pub gateway_identities: Option<&'a GatewayIdentities>,
    /// Human description for the report.
    pub topology: String,
    /// The topology and its legs, as the verdicts need them.
    pub setting: Setting,
}

/// Runs every scenario in order and returns their reports. `interrupted` is polled between
/// scenarios: once it is true, the remaining scenarios are reported as not run (Error), so an
/// interrupted run still accounts for every scenario.
pub async fn run_scenarios(
    scenarios: &[Scenario],
    ctx: &RunContext<'_>,
    interrupted: &dyn Fn() -> bool,
    mut on_done: impl FnMut(&ScenarioReport),
) -> Vec<ScenarioReport> {
    let mut out = Vec::with_capacity(scenarios.len());
    for sc in scenarios {
        let report = if interrupted() {
            not_run(sc, "the run was interrupted before this scenario started")
        } else {
            run_one(sc, ctx).await
        };
        on_done(&report);
        out.push(report);
    }
    out
}

pub(crate) fn base_report(sc: &Scenario) -> ScenarioReport {
    ScenarioReport {
        name: sc.name.clone(),
        description: sc.description.clone(),
        file: sc.source.as_ref().map(|p| p.display().to_string()),
        requirements: sc.requirements.clone(),
        not_applicable: None,
        checks: Vec::new(),
        calls: Vec::new(),
        observations: Vec::new(),
        duration_ms: 0,
    }
}

fn not_run(sc: &Scenario, why: &str) -> ScenarioReport {
    not_run_as(sc, "scenario.run", why)
}

/// `sc` reported as not run, with one `id` error saying why (a plan step uses `plan.step`).
pub(crate) fn not_run_as(sc: &Scenario, id: &str, why: &str) -> ScenarioReport {
    let mut r = base_report(sc);
    r.checks.push(CheckResult {
        id: id.into(),
        requirement: sc.requirements.first().cloned(),
        outcome: Outcome::Error,
        expected: None,
        observed: None,
        message: why.to_owned(),
    });
    r
}

/// Why `sc` does not run in this topology, if it does not.
pub fn not_applicable(sc: &Scenario, setting: &Setting) -> Option<String> {
    let t = setting.topology;
    if let Some(why) = sc.applicability.reason_not(t.scenario_topology()) {
        return Some(why);
    }
    let needs_gateways = sc.route.is_some()
        || !sc.faults.is_empty()
        || !sc.gateway.states.is_empty()
        || !sc.gateway.ring_time.is_zero();
    if t == Topology::External && needs_gateways {
        return Some(
            "not run against an external target: its faults and its route across gw1/gw2 need the embedded gateways (use `certify --sut` to put them behind the system under test)"
                .into(),
        );
    }
    None
}

/// A scenario reported as not applicable: one skipped check per requirement, with the reason,
/// so JUnit, the summary and the requirements matrix all show what this run did not prove.
pub(crate) fn not_applicable_report(sc: &Scenario, why: String) -> ScenarioReport {
    let mut r = base_report(sc);
    r.checks = sc
        .requirements
        .iter()
        .map(|req| CheckResult {
            id: "scenario.applies".into(),
            requirement: Some(req.clone()),
            outcome: Outcome::Skipped,
            expected: None,
            observed: None,
            message: why.clone(),
        })
        .collect();
    r.not_applicable = Some(why);
    r
}

async fn run_one(sc: &Scenario, ctx: &RunContext<'_>) -> ScenarioReport {
    if let Some(why) = not_applicable(sc, &ctx.setting) {
        return not_applicable_report(sc, why);
    }
    // A [caller] chooses the ANI the trunk sends (ICD 5.1.7).
    let resolved = scenarios::caller::with_selected_ani(sc);
    let sc = resolved.as_ref().unwrap_or(sc);
    // The trunk offers the scenario's TLS profile; directly, the gateways enforce theirs.
    let scoped = match with_scenario_tls(sc, ctx) {
        Ok(scoped) => scoped,
        Err(why) => return not_run(sc, &why),
    };
    let ctx = scoped.as_ref().unwrap_or(ctx);
    // A scenario may leave media out (`[media] enabled = false`) of a run that carries it.
    let media_off = (ctx.uac.media && !sc.media.enabled).then(|| RunContext {
        uac: UacConfig {
            media: false,
            ..ctx.uac.clone()
        },
        targets: ctx.targets.clone(),
        topology: ctx.topology.clone(),
        ..*ctx
    });
    let ctx = media_off.as_ref().unwrap_or(ctx);
    let started = Instant::now();
    if let Some(gws) = ctx.gateways {
        let policy = Policy {
            media: ctx.uac.media,
            ..Policy::from(&sc.gateway)
        };
        for gw in gws {
            gw.set_policy(policy.clone());
            gw.take_observations();
        }
        if let Err(why) = faults::apply(sc, gws) {
            faults::clear(gws);
            return not_run(
                sc,
                &format!("the scenario's faults could not be injected: {why}"),
            );
        }
        faults::wait_outages_started(sc, gws).await;
        faults::settle(sc, gws, ctx.setting.topology == Topology::ThroughSut).await;
    }
    let placed = place::calls(sc, ctx).await;
    if let (Some(gws), Topology::Direct) = (ctx.gateways, ctx.setting.topology) {
        // The trunk has closed its connections: once the gateways have too, everything they
        // observed (a refused handshake is recorded as its task ends) is in their logs.
        for gw in gws {
            gw.wait_no_connections(Duration::from_secs(1)).await;
        }
    }
    let observed: Option<Vec<Observation>> = ctx.gateways.map(|gws| {
        let mut all: Vec<Observation> = gws.iter().flat_map(Gateway::take_observations).collect();
        all.sort_by_key(|o| o.at_us);
        all
    });
    if let Some(gws) = ctx.gateways {
        faults::clear(gws);
        faults::wait_listening(sc, gws).await;
        faults::settle(sc, gws, ctx.setting.topology == Topology::ThroughSut).await;
    }
    let per_call = observed
        .as_deref()
        .map(|all| attribute::per_call(sc, &placed.calls, all));
    let evidence: Vec<CallEvidence<'_>> = placed
        .calls
        .iter()
        .enumerate()
        .map(|(i, call)| CallEvidence {
            call,
            observations: per_call.as_ref().and_then(|v| v[i].found()),
        })
        .collect();
    let checks = verdict::judge(
        sc,
        &Evidence {
            setting: &ctx.setting,
            calls: &evidence,
            scenario_observations: observed.as_deref(),
            transitions: &placed.transitions,
        },
    );
    let mut r = base_report(sc);
    r.checks = checks;
    for a in per_call.iter().flatten() {
        if let attribute::Attributed::Ambiguous(why) = a {
            r.checks.push(attribute::not_attributable(sc, why));
        }
    }
    r.calls = placed.calls.iter().map(record::call_record).collect();
    if let Some(per_call) = &per_call {
        for (rec, obs) in r.calls.iter_mut().zip(per_call) {
            rec.ani_observed = obs
                .found()
                .unwrap_or_default()
                .iter()
                .filter(|o| o.is_new_invite())
                .find_map(|o| o.ani.as_ref().map(|a| a.number.clone()));
        }
    }
    if let Some(capture) = ctx.uac.recording.capture() {
        let messages = trace::messages(&capture.since_last(), &lanes(ctx));
        let ids: Vec<HashSet<&str>> = placed
            .calls
            .iter()
            .enumerate()
            .map(|(i, call)| {
                let gateway_side = per_call
                    .iter()
                    .flat_map(|v| v[i].found().unwrap_or_default());
                call.tried()
                    .map(|a| a.call_id())
                    .chain(gateway_side.filter_map(|o| o.call_id.as_deref()))
                    .collect()
            })
            .collect();
        trace::attach(&mut r.calls, &ids, &messages);
    }
    r.observations = observed.unwrap_or_default();
    r.duration_ms = started.elapsed().as_millis() as u64;
    r
}

/// Who is who on the wire in this run's topology.
pub fn lanes(ctx: &RunContext<'_>) -> trace::Lanes {
    trace::Lanes {
        gateways: ctx
            .gateways
            .unwrap_or_default()
            .iter()
            .map(|g| (g.local_addr(), g.name().to_owned()))
            .collect(),
        other: match ctx.setting.topology {
            Topology::External => "target",
            _ => "sut",
        }
        .to_owned(),
    }
}

/// The run context for `sc` when it runs over TLS: the trunk's client configuration offering
/// `call.tls`, and, when the harness calls the embedded gateways directly, the gateways
/// serving under `gateway.tls` from now on. Behind a system under test the gateways keep
/// accepting what production gateways accept on every connection, whatever the scenario, so
/// no verdict depends on which connection a system under test reuses. `None` over TCP, or
/// when the run's TLS trust is unknown (the configuration given is used as it is).
fn with_scenario_tls<'a>(
    sc: &Scenario,
    ctx: &RunContext<'a>,
) -> Result<Option<RunContext<'a>>, String> {
    if ctx.setting.topology == Topology::Direct
        && let (Some(gws), Some(ids)) = (ctx.gateways, ctx.gateway_identities)
    {
        ids.enforce(gws, &sc.gateway.tls)?;
    }
    if ctx.uac.tls.is_none() {
        return Ok(None);
    }
    let Some(trust) = &ctx.uac.tls_trust else {
        return Ok(None);
    };
    let mut uac = ctx.uac.clone();
    uac.tls = Some(trust.client_config(&sc.call.tls)?);
    Ok(Some(RunContext {
        targets: ctx.targets.clone(),
        uac,
        gateways: ctx.gateways,
        gateway_identities: ctx.gateway_identities,
        topology: ctx.topology.clone(),
        setting: ctx.setting,
    }))
}

/// Assembles the run report (requirements matrix and totals included). A certification lists
/// what it did not prove, with how to establish each: requirements no check judged, and those
/// whose checks were all skipped in this topology.
pub fn assemble(
    command: &str,
    topology: &str,
    started: SystemTime,
    elapsed: Duration,
    scenarios: Vec<ScenarioReport>,
) -> RunReport {
    let mut report = RunReport {
        tool: format!("e911-harness {}", env!("CARGO_PKG_VERSION")),
        command: command.to_owned(),
        started_at: humantime::format_rfc3339_seconds(started).to_string(),
        duration_ms: elapsed.as_millis() as u64,
        topology: topology.to_owned(),
        scenarios,
        requirements: Vec::new(),
        totals: Default::default(),
        not_covered: Vec::new(),
        load: None,
    };
    report.finish(&|id| scenarios::requirements::find(id).map(|r| r.title.to_owned()));
    if command == "certify" {
        report.not_covered = scenarios::requirements::ALL
            .iter()
            .filter(|r| {
                !report
                    .requirements
                    .iter()
                    .any(|row| row.id == r.id && row.outcome != Outcome::Skipped)
            })
            .map(|r| reports::NotCovered {
                id: r.id.to_owned(),
                title: r.title.to_owned(),
                note: scenarios::requirements::off_the_wire(r.id)
                    .map(str::to_owned)
                    .or_else(|| skipped_because(&report, r.id)),
            })
            .collect();
    }
    report
}

/// Why every check of requirement `id` was skipped in this run, from the first one.
fn skipped_because(report: &RunReport, id: &str) -> Option<String> {
    report
        .scenarios
        .iter()
        .flat_map(|s| &s.checks)
        .find(|c| c.requirement.as_deref() == Some(id) && c.outcome == Outcome::Skipped)
        .map(|c| format!("not exercised in this topology: {}", c.message))
}

/// Reads a PEM file for `--ca`, with the path in the error.
pub use crate::originate::peer::read_pem;
