//! Running scenarios: the embedded topology (two mock gateways over TLS on loopback with
//! certificates generated at start) or an external target, one scenario at a time, each judged
//! by [`crate::verdict`] and gathered into a [`reports::RunReport`].
//!
//! Scenarios run one after another because each one reconfigures the gateways' policy; a
//! scenario's observations are matched to its call by Call-ID, so a stray request can never
//! be judged as part of the wrong call.

use std::time::{Duration, Instant, SystemTime};

use mock_gateway::{Gateway, Policy};
use reports::{CheckResult, Outcome, RunReport, ScenarioReport};
use scenarios::Scenario;

use crate::originate::correlate::{Correlation, correlate};
use crate::originate::uac::{self, Target, UacConfig};
use crate::verdict::{self, Evidence};

pub mod embedded;
pub mod faults;
pub mod routed;
pub mod waiver;

pub use embedded::{Embedded, GATEWAY_HOSTS, GatewayIdentities, RunError, write_gateway_certs};

/// Where calls go and who can observe them.
#[derive(Debug)]
pub struct RunContext<'a> {
    /// Named targets; a scenario's `call.gateway` picks one.
    pub targets: Vec<Target>,
    /// Originator settings.
    pub uac: UacConfig,
    /// The embedded gateways, when the topology has them (their observations feed the verdict).
    pub gateways: Option<&'a [Gateway]>,
    /// The embedded gateways' certificates, to serve them under a scenario's TLS profile
    /// (`gateway.tls`); `None` when the topology has no embedded gateways.
    pub gateway_identities: Option<&'a GatewayIdentities>,
    /// Human description for the report.
    pub topology: String,
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

fn base_report(sc: &Scenario) -> ScenarioReport {
    ScenarioReport {
        name: sc.name.clone(),
        description: sc.description.clone(),
        file: sc.source.as_ref().map(|p| p.display().to_string()),
        requirements: sc.requirements.clone(),
        checks: Vec::new(),
        calls: Vec::new(),
        observations: Vec::new(),
        duration_ms: 0,
    }
}

fn not_run(sc: &Scenario, why: &str) -> ScenarioReport {
    let mut r = base_report(sc);
    r.checks.push(CheckResult {
        id: "scenario.run".into(),
        requirement: None,
        outcome: Outcome::Error,
        expected: None,
        observed: None,
        message: why.to_owned(),
    });
    r
}

async fn run_one(sc: &Scenario, ctx: &RunContext<'_>) -> ScenarioReport {
    // A [caller] chooses the ANI the trunk sends (ICD 5.1.7).
    let resolved = crate::originate::conformance::with_selected_ani(sc);
    let sc = resolved.as_ref().unwrap_or(sc);
    // The trunk offers the scenario's TLS profile; the gateways enforce theirs (ICD 5.1).
    let scoped = match with_scenario_tls(sc, ctx) {
        Ok(scoped) => scoped,
        Err(why) => return not_run(sc, &why),
    };
    let ctx = scoped.as_ref().unwrap_or(ctx);
    // A scenario with a [route] places its calls across the gateways (ICD 5.3).
    if let Some(route) = &sc.route {
        return crate::run::routed::run(sc, route, ctx, base_report(sc)).await;
    }
    let started = Instant::now();
    let Some(target) = ctx.targets.iter().find(|t| t.name == sc.call.gateway) else {
        let names: Vec<_> = ctx.targets.iter().map(|t| t.name.as_str()).collect();
        return not_run(
            sc,
            &format!(
                "scenario sends to gateway '{}' but this run has only {}",
                sc.call.gateway,
                names.join(", ")
            ),
        );
    };
    if let Some(gws) = ctx.gateways {
        let policy = Policy::from(&sc.gateway);
        for gw in gws {
            gw.set_policy(policy.clone());
            gw.take_observations();
        }
    }
    let mut outcome = uac::place_call(&sc.call, target, &ctx.uac).await;
    let observations = ctx.gateways.map(|gws| {
        // Refused TLS handshakes carry no Call-ID: during this scenario, they are its own.
        let (refused, logged): (Vec<_>, Vec<_>) = gws
            .iter()
            .flat_map(|gw| gw.take_observations())
            .partition(|o| o.tls_error.is_some());
        let (mut mine, how) = correlate(&outcome.invite, &sc.call.dial, &sc.call.ani, logged);
        mine.extend(refused);
        if how == Correlation::None {
            tracing::debug!(scenario = %sc.name, "{}", how.describe());
        }
        mine
    });
    if let Some(obs) = &observations {
        // Who answered is what the gateways saw, whatever sits in between (a proxy or SBC).
        if let Some(gw) = obs
            .iter()
            .find(|o| o.method == "INVITE" && o.response.is_some_and(|s| (200..300).contains(&s)))
        {
            outcome.record.answered_by = Some(gw.gateway.clone());
        }
    }
    let checks = verdict::judge(
        sc,
        &Evidence {
            call: &outcome,
            observations: observations.as_deref(),
        },
    );
    let mut r = base_report(sc);
    r.checks = checks;
    r.observations = observations
        .unwrap_or_default()
        .iter()
        .filter_map(|o| serde_json::to_value(o).ok())
        .collect();
    r.calls.push(outcome.record);
    r.duration_ms = started.elapsed().as_millis() as u64;
    r
}

/// The run context for `sc` when it runs over TLS: the trunk's client configuration offering
/// `call.tls`, and the embedded gateways serving under `gateway.tls` from now on. `None` over
/// TCP, or when the run's TLS trust is unknown (the configuration given is used as it is).
fn with_scenario_tls<'a>(
    sc: &Scenario,
    ctx: &RunContext<'a>,
) -> Result<Option<RunContext<'a>>, String> {
    if ctx.uac.tls.is_none() {
        return Ok(None);
    }
    if let (Some(gws), Some(ids)) = (ctx.gateways, ctx.gateway_identities) {
        ids.enforce(gws, &sc.gateway.tls)?;
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
    }))
}

/// Assembles the run report (requirements matrix and totals included).
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
    // A certification says what it did not prove, and how to establish that instead.
    if command == "certify" {
        report.not_covered = scenarios::requirements::ALL
            .iter()
            .filter(|r| !report.requirements.iter().any(|row| row.id == r.id))
            .map(|r| reports::NotCovered {
                id: r.id.to_owned(),
                title: r.title.to_owned(),
                note: scenarios::requirements::off_the_wire(r.id).map(str::to_owned),
            })
            .collect();
    }
    report
}
