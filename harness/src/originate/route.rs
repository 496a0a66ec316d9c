//! The outbound route (ICD 5.3): one emergency call tried across the E911 gateways, in route
//! order (Sequential) or from a random first choice (Random), moving on when a gateway rejects
//! the call with a retryable status or Q.850 cause, or fails at the transport level.
//!
//! Each attempt is one [`uac::attempt`]. Decisions ([`Decision`]), as a trunk makes them:
//! - **answered** (2xx): the call is up; stop.
//! - **final rejection**: a failure response whose status is not in `retry_on_status` and whose
//!   `Reason: Q.850;cause=N` is not in `retry_on_q850` (RFC 3261 §21: a 4xx other than 408/480
//!   is a verdict on the request, a 6xx is global); stop, no other gateway is tried.
//! - **retryable rejection**: status in `retry_on_status`, or cause in `retry_on_q850`; next.
//! - **transport failure**: connection refused or timed out, TLS handshake failure, connection
//!   closed or reset before a final response, or no final response within `attempt_timeout`
//!   (Timer B-like); always next.
//!
//! # Call-ID across failover
//! Each attempt is a new INVITE with its own Call-ID, From tag and branch: the trunk
//! re-originates the call towards another gateway, which for that gateway is a new call (what
//! a B2BUA trunk such as Genesys BYOC does; a stateful forking proxy such as Kamailio's
//! dispatcher in a `failure_route` keeps the Call-ID instead, as RFC 3263 §4.3 describes for one
//! request sent to the next server). Nothing at the gateways correlates the attempts, so the
//! harness does: the [`Call`] keeps every attempt with its INVITE. What must not change between
//! attempts is the call's content, which `route.identical-retry` compares
//! ([`crate::verdict::fingerprint`]).
//!
//! # Timing
//! Times are microseconds since the run's epoch ([`crate::evidence::Epoch`]). An attempt whose
//! INVITE was written records when; one that never got to send its INVITE has only its start.
//! The failover time ([`Call::failover_us`]) is the second attempt's INVITE (or start) minus the
//! first's.
//!
//! # Timeouts
//! Each attempt is one [`uac::attempt`] with the call's timeout set to `attempt_timeout`. When its
//! INVITE gets no final response by then, the route moves on to the next gateway at once and
//! the timed-out attempt CANCELs in the background (its record is completed when that ends),
//! as a trunk does at Timer B; so a silent gateway costs `attempt_timeout` of failover time.
//! Every other ending is awaited: an answered attempt holds its call inside `attempt`, and a
//! call on hold must never look like a silent gateway (a second emergency call would be placed).

use scenarios::{CallSpec, Distribution, RouteSpec};

use crate::evidence::{Attempt, AttemptEnd, Call, Decision, NotAttempted};
use crate::originate::health::HealthMonitor;
use crate::originate::uac::{self, Target, UacConfig};

/// What the route does after an attempt that ended with `end`.
pub fn decide(route: &RouteSpec, end: &AttemptEnd) -> Decision {
    match end {
        AttemptEnd::Answered { .. } => Decision::Answered,
        AttemptEnd::Rejected { status, .. } if route.retry_on_status.contains(status) => {
            Decision::RetryableStatus
        }
        AttemptEnd::Rejected { q850: Some(c), .. } if route.retry_on_q850.contains(c) => {
            Decision::RetryableCause
        }
        AttemptEnd::Rejected { .. } => Decision::Final,
        AttemptEnd::NoAnswer(_) => Decision::NoAnswer,
        AttemptEnd::NotAttempted(NotAttempted::NumberPlan) => Decision::Refused,
        AttemptEnd::NotAttempted(_) => Decision::Skipped,
    }
}

/// Chooses each call's first gateway: route order (Sequential) or at random (Random, seeded).
#[derive(Debug)]
pub struct Router {
    rng: fastrand::Rng,
}

impl Router {
    /// A router for `route`; a random route without a seed is seeded from the clock.
    pub fn new(route: &RouteSpec) -> Router {
        let rng = match route.seed {
            Some(s) => fastrand::Rng::with_seed(s),
            None => fastrand::Rng::new(),
        };
        Router { rng }
    }

    /// The order the next call tries the route's gateways in.
    pub fn next_order(&mut self, route: &RouteSpec) -> Vec<String> {
        attempt_order(route, self.first_choice(route))
    }

    fn first_choice(&mut self, route: &RouteSpec) -> usize {
        match route.distribution {
            Distribution::Sequential => 0,
            Distribution::Random => self.rng.usize(..route.gateways.len().max(1)),
        }
    }
}

/// The route's gateways with `first` moved to the front, the others in route order.
pub fn attempt_order(route: &RouteSpec, first: usize) -> Vec<String> {
    let mut order = Vec::with_capacity(route.gateways.len());
    if let Some(g) = route.gateways.get(first) {
        order.push(g.clone());
    }
    order.extend(
        route
            .gateways
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != first)
            .map(|(_, g)| g.clone()),
    );
    order
}

/// Per-call settings of [`place_routed_call`].
#[derive(Debug, Clone, Copy)]
pub struct RouteCallConfig<'a> {
    /// Originator settings.
    pub uac: &'a UacConfig,
    /// Gateway names in the order this call tries them ([`Router::next_order`]).
    pub order: &'a [String],
    /// OPTIONS health: gateways it has down are skipped, unless every gateway is down (an
    /// emergency call is then still tried on each, in order, rather than not placed at all).
    pub health: Option<&'a HealthMonitor>,
}

/// Places `call` along `route` over `targets` (looked up by gateway name); see the module docs.
/// Never panics, never fails: a gateway missing from `targets` is recorded as an attempt not
/// made.
pub async fn place_routed_call(
    call: &CallSpec,
    route: &RouteSpec,
    targets: &[Target],
    cfg: &RouteCallConfig<'_>,
) -> Call {
    let epoch = cfg.uac.epoch;
    let mut attempt_call = call.clone();
    attempt_call.timeout = route.attempt_timeout;
    let all_down = cfg
        .health
        .is_some_and(|h| cfg.order.iter().all(|g| !h.is_up(g)));
    let mut attempts: Vec<Attempt> = Vec::new();
    let mut cancelling = Vec::new();
    for gateway in cfg.order {
        if let Some(h) = cfg.health
            && !all_down
            && !h.is_up(gateway)
        {
            attempts.push(Attempt::not_made(
                gateway,
                AttemptEnd::NotAttempted(NotAttempted::SkippedDown),
                Decision::Skipped,
                epoch.now_us(),
            ));
            continue;
        }
        let Some(target) = targets.iter().find(|t| &t.name == gateway).cloned() else {
            attempts.push(Attempt::not_made(
                gateway,
                AttemptEnd::NotAttempted(NotAttempted::NoTarget),
                Decision::Skipped,
                epoch.now_us(),
            ));
            continue;
        };
        // The attempt runs as its own task and says when its INVITE timed out: the route moves
        // on right then, while the attempt CANCELs in the background (as a trunk does at Timer
        // B). Any other ending (answered and held, rejected, transport failure) is awaited to
        // the end, so a call on hold is never mistaken for a silent gateway.
        let (tx, rx) = tokio::sync::oneshot::channel();
        let started_us = epoch.now_us();
        let task = {
            let (c, t, u) = (attempt_call.clone(), target.clone(), cfg.uac.clone());
            tokio::spawn(async move { uac::attempt(&c, &t, &u, Some(tx)).await })
        };
        if rx.await.is_ok() {
            // Timed out: recorded now, completed (what the CANCEL met) when the task ends.
            let mut a = Attempt::not_made(
                gateway,
                AttemptEnd::NoAnswer(crate::evidence::Failure::TimedOut),
                Decision::NoAnswer,
                started_us,
            );
            a.target = format!("{}:{}", target.host, target.addr.port());
            a.transport = target.transport;
            attempts.push(a);
            cancelling.push((attempts.len() - 1, task));
            continue;
        }
        let mut a = match task.await {
            Ok(a) => a,
            Err(e) => {
                let mut a = Attempt::not_made(
                    gateway,
                    AttemptEnd::NoAnswer(crate::evidence::Failure::Setup),
                    Decision::NoAnswer,
                    started_us,
                );
                a.notes
                    .push(format!("the attempt's task ended abnormally: {e}"));
                attempts.push(a);
                continue;
            }
        };
        a.decision = decide(route, &a.end);
        // The caller hung up: no other gateway is tried, whatever the CANCEL met.
        let stop = !a.decision.moves_on() || a.timings.abandoned_at_us.is_some();
        attempts.push(a);
        if stop {
            break;
        }
    }
    // The timed-out attempts finish their CANCEL; their records then say what the peer did. The
    // route already moved on, so whatever arrived after the timeout does not change its end.
    for (i, task) in cancelling {
        if let Ok(mut done) = task.await {
            let end = attempts[i].end.clone();
            done.end = end;
            done.decision = Decision::NoAnswer;
            attempts[i] = done;
        }
    }
    Call {
        dial: call.dial.clone(),
        ani: call.ani.clone(),
        first_choice: cfg.order.first().cloned().unwrap_or_default(),
        attempts,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_puts_the_first_choice_first() {
        let route = RouteSpec::default();
        assert_eq!(attempt_order(&route, 0), ["gw1", "gw2"]);
        assert_eq!(attempt_order(&route, 1), ["gw2", "gw1"]);
        let mut seq = Router::new(&route);
        assert!((0..20).all(|_| seq.next_order(&route) == ["gw1", "gw2"]));
        let random = RouteSpec {
            distribution: Distribution::Random,
            seed: Some(42),
            ..RouteSpec::default()
        };
        let firsts = |seed| {
            let mut r = Router::new(&RouteSpec {
                seed: Some(seed),
                ..random.clone()
            });
            (0..200)
                .map(|_| r.next_order(&random)[0].clone())
                .collect::<Vec<_>>()
        };
        assert_eq!(firsts(42), firsts(42), "seeded choices repeat");
        let gw1 = firsts(42).iter().filter(|g| *g == "gw1").count();
        assert!((60..=140).contains(&gw1), "{gw1} of 200");
    }

    #[test]
    fn decisions_follow_the_route_settings_not_any_text() {
        let route = RouteSpec {
            retry_on_status: vec![503],
            retry_on_q850: vec![34],
            ..RouteSpec::default()
        };
        let rejected = |status, q850| AttemptEnd::Rejected { status, q850 };
        assert_eq!(
            decide(&route, &AttemptEnd::Answered { status: 200 }),
            Decision::Answered
        );
        assert_eq!(
            decide(&route, &rejected(503, None)),
            Decision::RetryableStatus
        );
        assert_eq!(
            decide(&route, &rejected(486, Some(34))),
            Decision::RetryableCause
        );
        assert_eq!(decide(&route, &rejected(486, Some(17))), Decision::Final);
        assert_eq!(decide(&route, &rejected(403, None)), Decision::Final);
        for f in [
            crate::evidence::Failure::Refused,
            crate::evidence::Failure::TimedOut,
            crate::evidence::Failure::Closed,
            crate::evidence::Failure::Reset,
        ] {
            assert_eq!(decide(&route, &AttemptEnd::NoAnswer(f)), Decision::NoAnswer);
        }
        assert_eq!(
            decide(&route, &AttemptEnd::NotAttempted(NotAttempted::SkippedDown)),
            Decision::Skipped
        );
        assert_eq!(
            decide(&route, &AttemptEnd::NotAttempted(NotAttempted::NumberPlan)),
            Decision::Refused
        );
    }
}
