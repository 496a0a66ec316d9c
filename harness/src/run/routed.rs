//! Running a scenario with a `[route]`: its faults on the embedded gateways, OPTIONS probing
//! when `[health]` asks for it, `[run] calls` routed calls, and the verdict (the per-call
//! checks of [`crate::verdict`] merged over the calls, then the route checks of
//! [`crate::verdict::route`]). The gateways' faults are cleared when the scenario ends, whatever
//! happened, so a fault never leaks into the next scenario.

use std::sync::Arc;
use std::time::Instant;

use mock_gateway::{Gateway, Observation, Policy};
use reports::{CheckResult, Outcome, ScenarioReport};
use scenarios::{RouteSpec, Scenario};

use crate::originate::health::HealthMonitor;
use crate::originate::route::{RouteCallConfig, RoutedOutcome, Router, place_routed_call};
use crate::run::RunContext;
use crate::verdict::route::{self as verdict_route, CallSummary, RouteEvidence};
use crate::verdict::{self, Evidence};

/// Runs `sc` along `route`; `report` is the scenario's empty report to fill.
pub async fn run(
    sc: &Scenario,
    route: &RouteSpec,
    ctx: &RunContext<'_>,
    mut report: ScenarioReport,
) -> ScenarioReport {
    let started = Instant::now();
    if let Some(gws) = ctx.gateways {
        let policy = Policy::from(&sc.gateway);
        for gw in gws {
            gw.set_policy(policy.clone());
            gw.take_observations();
        }
        if let Err(why) = crate::run::faults::apply(sc, gws) {
            crate::run::faults::clear(gws);
            report.checks.push(error_check(&format!(
                "the scenario's faults could not be injected: {why}"
            )));
            return report;
        }
        crate::run::faults::wait_outages_started(sc, gws).await;
    } else if !sc.faults.is_empty() || !sc.gateway.states.is_empty() {
        report.checks.push(CheckResult {
            id: "route.faults".into(),
            requirement: Some(verdict_route::REQUIREMENT.into()),
            outcome: Outcome::Skipped,
            expected: None,
            observed: None,
            message: "faults are injected only into embedded gateways; this topology has none, so the calls meet whatever the target does".into(),
        });
    }
    let targets: Vec<_> = ctx
        .targets
        .iter()
        .filter(|t| route.gateways.contains(&t.name))
        .cloned()
        .collect();
    let health = sc
        .health
        .map(|spec| Arc::new(HealthMonitor::start(spec, &targets, &ctx.uac)));
    let calls = place_calls(sc, route, ctx, health.clone()).await;
    let transitions = health.as_ref().map(|h| h.transitions()).unwrap_or_default();
    if let Some(h) = health {
        h.shutdown();
    }
    let observations: Option<Vec<Observation>> = ctx.gateways.map(|gws| {
        let ids: std::collections::HashSet<&str> = calls
            .iter()
            .flat_map(|c| c.attempts.iter().map(|a| a.call_id.as_str()))
            .filter(|id| !id.is_empty())
            .collect();
        gws.iter()
            .flat_map(Gateway::take_observations)
            // Refused TLS handshakes carry no Call-ID: during this scenario, they are its own.
            .filter(|o| {
                o.tls_error.is_some() || o.call_id.as_deref().is_some_and(|id| ids.contains(id))
            })
            .collect()
    });
    if let Some(gws) = ctx.gateways {
        crate::run::faults::clear(gws);
        crate::run::faults::wait_listening(sc, gws).await;
    }
    report.checks.extend(judge(
        sc,
        route,
        &calls,
        observations.as_deref(),
        &transitions,
    ));
    report.observations = observations
        .unwrap_or_default()
        .iter()
        .filter_map(|o| serde_json::to_value(o).ok())
        .collect();
    report.calls = calls.into_iter().map(|c| c.record).collect();
    report.duration_ms = started.elapsed().as_millis() as u64;
    report
}

/// Places the scenario's calls in batches of `run.concurrency`, each batch's calls at once.
async fn place_calls(
    sc: &Scenario,
    route: &RouteSpec,
    ctx: &RunContext<'_>,
    health: Option<Arc<HealthMonitor>>,
) -> Vec<RoutedOutcome> {
    let mut router = Router::new(route);
    let mut calls: Vec<RoutedOutcome> = Vec::with_capacity(sc.run.calls as usize);
    let shared = Arc::new((
        sc.call.clone(),
        route.clone(),
        ctx.targets.clone(),
        ctx.uac.clone(),
    ));
    let mut left = sc.run.calls;
    while left > 0 {
        let batch = left.min(sc.run.concurrency.max(1));
        left -= batch;
        let tasks: Vec<_> = (0..batch)
            .map(|_| {
                let order = router.next_order(route);
                let (shared, health) = (shared.clone(), health.clone());
                tokio::spawn(async move {
                    let (call, route, targets, uac) = &*shared;
                    let cfg = RouteCallConfig {
                        uac,
                        order: &order,
                        health: health.as_deref(),
                    };
                    place_routed_call(call, route, targets, &cfg).await
                })
            })
            .collect();
        for t in tasks {
            match t.await {
                Ok(outcome) => calls.push(outcome),
                Err(e) => tracing::error!("a routed call task failed: {e}"),
            }
        }
    }
    calls
}

fn error_check(message: &str) -> CheckResult {
    CheckResult {
        id: "scenario.run".into(),
        requirement: None,
        outcome: Outcome::Error,
        expected: None,
        observed: None,
        message: message.to_owned(),
    }
}

/// The verdict of a routed scenario: per-call checks merged, then the route checks.
pub fn judge(
    sc: &Scenario,
    route: &RouteSpec,
    calls: &[RoutedOutcome],
    observations: Option<&[Observation]>,
    transitions: &[crate::originate::health::Transition],
) -> Vec<CheckResult> {
    // `answered_by` is judged across the route by route.answered-by.
    let mut per_call_sc = sc.clone();
    per_call_sc.expect.answered_by = None;
    let per_call: Vec<Vec<CheckResult>> = calls
        .iter()
        .map(|c| {
            let Some(last) = c.last_outcome() else {
                return vec![error_check(
                    "no attempt of the call reached a gateway (none of the route's gateways is a target of this run)",
                )];
            };
            let mut merged = last.clone();
            merged.record = c.record.clone();
            let ids: Vec<&str> = c.attempts.iter().map(|a| a.call_id.as_str()).collect();
            let obs: Option<Vec<Observation>> = observations.map(|o| {
                o.iter()
                    .filter(|x| x.call_id.as_deref().is_some_and(|id| ids.contains(&id)))
                    .cloned()
                    .collect()
            });
            verdict::judge(
                &per_call_sc,
                &Evidence {
                    call: &merged,
                    observations: obs.as_deref(),
                },
            )
        })
        .collect();
    let mut out = verdict_route::merge_calls(per_call);
    let summaries: Vec<CallSummary> = calls.iter().map(CallSummary::of).collect();
    out.extend(verdict_route::judge_route(
        sc,
        &RouteEvidence {
            calls: &summaries,
            route,
            observations,
            transitions,
        },
    ));
    out
}
