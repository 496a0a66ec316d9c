//! The calls of one scenario, placed the way its topology needs:
//! - **direct**: the harness is the trunk. A number its number plan has no E911 route for is
//!   not sent at all (ICD 5.2; the caller gets 404). A scenario with a `[route]` places its
//!   calls across the gateways itself ([`crate::originate::route`]), with OPTIONS probing when
//!   it has `[health]`; otherwise one attempt to `call.gateway`.
//! - **through a system under test**, or **to an external target**: every call goes to the
//!   one first hop, which does the routing (and the failover) itself; a scenario with a
//!   `[route]` gives its call enough time for the system under test's own failover timers.
//!
//! Calls are placed in batches of `run.concurrency`. Directly, a batch's calls start at once.
//! Through a system under test, each starts once the one before it has been set up (answered
//! at a gateway, or ended, or given its attempt bound): the calls still overlap while they are
//! held, which is what a capacity cap needs, and the gateways' INVITEs of each call arrive
//! while it alone is being set up, so they can be attributed to it even when the system under
//! test replaces Call-IDs and drops the correlation header (`run::attribute`).

use std::sync::Arc;
use std::time::Duration;

use scenarios::{CallSpec, Scenario, is_emergency_number};

use super::RunContext;
use mock_gateway::Gateway;

use crate::evidence::{
    Attempt, AttemptEnd, Call, Decision, Failure, NotAttempted, Topology, Transition,
};
use crate::originate::health::HealthMonitor;
use crate::originate::route::{RouteCallConfig, Router, place_routed_call};
use crate::originate::uac::{self, Target};

/// What placing a scenario's calls produced.
#[derive(Debug, Default)]
pub struct Placed {
    /// The calls, in the order they were placed.
    pub calls: Vec<Call>,
    /// Health state changes while they ran (direct, with `[health]`).
    pub transitions: Vec<Transition>,
}

/// Places the calls of `sc` in `ctx`'s topology.
pub async fn calls(sc: &Scenario, ctx: &RunContext<'_>) -> Placed {
    let topology = ctx.setting.topology;
    if topology == Topology::Direct && !is_emergency_number(&sc.call.dial) {
        return Placed {
            calls: (0..sc.run.calls)
                .map(|_| refused_by_number_plan(&sc.call, ctx))
                .collect(),
            transitions: Vec::new(),
        };
    }
    match (&sc.route, topology) {
        (Some(route), Topology::Direct) => {
            let targets: Vec<Target> = ctx
                .targets
                .iter()
                .filter(|t| route.gateways.contains(&t.name))
                .cloned()
                .collect();
            let health = sc
                .health
                .map(|spec| Arc::new(HealthMonitor::start(spec, &targets, &ctx.uac)));
            let mut router = Router::new(route);
            let shared = Arc::new((sc.call.clone(), route.clone(), targets, ctx.uac.clone()));
            let calls = batches(sc, ctx, None, |_| {
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
            .await;
            let transitions = health.as_ref().map(|h| h.transitions()).unwrap_or_default();
            if let Some(h) = health {
                h.shutdown();
            }
            Placed { calls, transitions }
        }
        _ => {
            let Some(target) = ctx
                .targets
                .iter()
                .find(|t| t.name == sc.call.gateway)
                .cloned()
            else {
                let mut call = Call {
                    dial: sc.call.dial.clone(),
                    ani: sc.call.ani.clone(),
                    first_choice: sc.call.gateway.clone(),
                    attempts: vec![Attempt::not_made(
                        &sc.call.gateway,
                        AttemptEnd::NotAttempted(NotAttempted::NoTarget),
                        Decision::Skipped,
                        ctx.uac.epoch.now_us(),
                    )],
                };
                call.attempts[0].notes.push(format!(
                    "scenario sends to gateway '{}' but this run has only {}",
                    sc.call.gateway,
                    ctx.targets
                        .iter()
                        .map(|t| t.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
                return Placed {
                    calls: vec![call],
                    transitions: Vec::new(),
                };
            };
            let mut call = sc.call.clone();
            if topology != Topology::Direct
                && let Some(route) = &sc.route
            {
                // The first hop fails over on its own timers: wait for every gateway it may try.
                let per_gateway = ctx.setting.sut_attempt_timeout.max(route.attempt_timeout);
                let needed = per_gateway * route.gateways.len() as u32 + Duration::from_secs(5);
                call.timeout = call.timeout.max(needed);
            }
            let stagger = ctx
                .gateways
                .filter(|_| topology != Topology::Direct)
                .map(|gws| Stagger {
                    gateways: gws,
                    bound: call.timeout,
                });
            let shared = Arc::new((call, target, ctx.uac.clone()));
            let calls = batches(sc, ctx, stagger, |_| {
                let shared = shared.clone();
                tokio::spawn(async move {
                    let (call, target, uac) = &*shared;
                    uac::place_call(call, target, uac).await
                })
            })
            .await;
            Placed {
                calls,
                transitions: Vec::new(),
            }
        }
    }
}

/// How the calls of a batch start one after another behind a system under test.
struct Stagger<'a> {
    /// The gateways whose answers say a call has been set up.
    gateways: &'a [Gateway],
    /// The longest wait for one call's setup.
    bound: Duration,
}

impl Stagger<'_> {
    /// INVITEs the gateways have answered 2xx so far.
    fn answered(&self) -> u64 {
        self.gateways.iter().map(|g| g.stats().answered).sum()
    }

    /// Waits until the call `task` has been set up: a gateway answered an INVITE 2xx since
    /// `before` answers, or the call ended, or the bound passed.
    async fn setup_of(&self, task: &tokio::task::JoinHandle<Call>, before: u64) {
        let until = tokio::time::Instant::now() + self.bound;
        while self.answered() == before
            && !task.is_finished()
            && tokio::time::Instant::now() < until
        {
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    }
}

/// Runs `sc.run.calls` calls, `sc.run.concurrency` at a time, each spawned by `spawn`. A call
/// whose task failed still ends in a record (an attempt not made, saying why).
async fn batches(
    sc: &Scenario,
    ctx: &RunContext<'_>,
    stagger: Option<Stagger<'_>>,
    mut spawn: impl FnMut(u32) -> tokio::task::JoinHandle<Call>,
) -> Vec<Call> {
    let mut calls = Vec::with_capacity(sc.run.calls as usize);
    let mut placed = 0;
    while placed < sc.run.calls {
        let batch = (sc.run.calls - placed).min(sc.run.concurrency.max(1));
        let mut tasks: Vec<tokio::task::JoinHandle<Call>> = Vec::with_capacity(batch as usize);
        let mut answered = stagger.as_ref().map_or(0, Stagger::answered);
        for k in placed..placed + batch {
            if let (Some(s), Some(previous)) = (&stagger, tasks.last()) {
                s.setup_of(previous, answered).await;
                answered = s.answered();
            }
            tasks.push(spawn(k));
        }
        placed += batch;
        for t in tasks {
            calls.push(match t.await {
                Ok(call) => call,
                Err(e) => failed_task(&sc.call, ctx, &e.to_string()),
            });
        }
    }
    calls
}

/// The record of a call whose task failed before it could return one.
fn failed_task(call: &CallSpec, ctx: &RunContext<'_>, why: &str) -> Call {
    tracing::error!("a call task failed: {why}");
    let mut a = Attempt::not_made(
        &call.gateway,
        AttemptEnd::NoAnswer(Failure::Setup),
        Decision::Skipped,
        ctx.uac.epoch.now_us(),
    );
    a.notes
        .push(format!("the harness's call task failed: {why}"));
    Call {
        dial: call.dial.clone(),
        ani: call.ani.clone(),
        first_choice: call.gateway.clone(),
        attempts: vec![a],
    }
}

/// A call the trunk's number plan does not route to the E911 gateways: nothing is sent, the
/// caller gets 404 (ICD 5.2: only 911 and 933 reach the E911 trunks).
fn refused_by_number_plan(call: &CallSpec, ctx: &RunContext<'_>) -> Call {
    let mut a = Attempt::not_made(
        "trunk",
        AttemptEnd::NotAttempted(NotAttempted::NumberPlan),
        Decision::Refused,
        ctx.uac.epoch.now_us(),
    );
    a.notes.push(format!(
        "the trunk's number plan has no E911 route for {}: not sent to any gateway",
        call.dial
    ));
    Call {
        dial: call.dial.clone(),
        ani: call.ani.clone(),
        first_choice: "trunk".into(),
        attempts: vec![a],
    }
}
