//! The path of one call across the gateways, as the route checks ([`super::route`]) see it:
//! read from the trunk's own attempts when the harness is the trunk, and from what each gateway
//! received when a system under test does the failover.

use reports::Observation;
use scenarios::Scenario;

use super::fingerprint::InviteFingerprint;
use crate::evidence::{Call, Decision};

/// One gateway a call reached (or tried to).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// Gateway name.
    pub gateway: String,
    /// When it was reached, µs since the run's epoch.
    pub at_us: Option<u64>,
    /// `gw1 503 Service Unavailable (retryable status)`, `gw1 tls untrusted (refused)`.
    pub describe: String,
    /// The INVITE's content, when one is known (sent by the trunk, or received by the gateway).
    pub fingerprint: Option<InviteFingerprint>,
    /// A failure response the route may not retry: nothing may follow it.
    pub final_rejection: bool,
    /// Not actually reached: skipped by health probing (the trunk's own decision).
    pub skipped: bool,
}

/// The path of one call across the gateways.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteView {
    /// The gateways in the order the call reached them.
    pub steps: Vec<Step>,
    /// The gateway whose 2xx answered the call; `None` when none did (or it is not known).
    pub answered_by: Option<String>,
    /// First contact to the INVITE on the next gateway, µs.
    pub failover_us: Option<u64>,
    /// What the failover time is measured from, in words.
    pub failover_from: &'static str,
    /// The first gateway of the call.
    pub first_choice: String,
}

impl RouteView {
    /// Steps that reached (or tried to reach) a gateway.
    pub fn tried(&self) -> impl Iterator<Item = &Step> {
        self.steps.iter().filter(|s| !s.skipped)
    }

    /// `gw1 503 ... -> gw2 200 OK`.
    pub fn path(&self) -> String {
        if self.steps.is_empty() {
            return "no gateway reached".into();
        }
        self.steps
            .iter()
            .map(|s| s.describe.as_str())
            .collect::<Vec<_>>()
            .join(" -> ")
    }

    /// The path of a call the harness placed itself across the gateways (direct): its
    /// attempts, with what each gateway received when it was observed.
    pub fn of_trunk(call: &Call, observations: Option<&[Observation]>) -> RouteView {
        let steps = call
            .attempts
            .iter()
            .map(|a| {
                let received = observations.and_then(|obs| {
                    obs.iter().find(|o| {
                        o.is_new_invite()
                            && o.gateway == a.gateway
                            && o.call_id.as_deref() == Some(a.call_id())
                    })
                });
                Step {
                    gateway: a.gateway.clone(),
                    at_us: a.timings.invite_at_us.or(Some(a.timings.started_at_us)),
                    describe: a.describe(),
                    fingerprint: match (received, &a.invite) {
                        (Some(o), _) => Some(InviteFingerprint::of_observation(o)),
                        (None, Some(i)) if a.was_tried() => Some(InviteFingerprint::of_request(i)),
                        _ => None,
                    },
                    final_rejection: a.decision == Decision::Final,
                    skipped: !a.was_tried(),
                }
            })
            .collect();
        // Who answered is what the gateways saw, when they were observed.
        let answered_by = match observations {
            Some(obs) => obs
                .iter()
                .find(|o| o.is_new_invite() && o.answered_2xx())
                .map(|o| o.gateway.clone())
                .or_else(|| call.answered_by().map(str::to_owned)),
            None => call.answered_by().map(str::to_owned),
        };
        RouteView {
            steps,
            answered_by,
            failover_us: call.failover_us(),
            failover_from: "the trunk's first INVITE",
            first_choice: call.first_choice.clone(),
        }
    }

    /// The path of a call as the gateways saw it, when a system under test placed it on them:
    /// every gateway that received its INVITE or a connection attempt during it, in order; a
    /// gateway the scenario keeps down before the first one reached is counted as tried (a
    /// closed port sees nothing). `trunk_invite_at_us` is when the trunk sent the call to the
    /// system under test.
    pub fn of_gateways(
        scenario: &Scenario,
        observations: &[Observation],
        trunk_invite_at_us: Option<u64>,
    ) -> RouteView {
        let mut seen: Vec<&Observation> = observations
            .iter()
            .filter(|o| o.is_new_invite() || o.is_connection_event())
            .collect();
        seen.sort_by_key(|o| o.at_us);
        let route = scenario.route.clone().unwrap_or_default();
        let mut steps: Vec<Step> = Vec::new();
        for o in seen {
            let known = steps.iter_mut().find(|s| s.gateway == o.gateway);
            match known {
                // A second contact with a gateway: its INVITE replaces a connection event.
                Some(s) if s.fingerprint.is_none() && o.is_new_invite() => {
                    *s = invite_step(o, &route);
                }
                Some(_) => {}
                None if o.is_new_invite() => steps.push(invite_step(o, &route)),
                None => steps.push(Step {
                    gateway: o.gateway.clone(),
                    at_us: Some(o.at_us),
                    describe: format!(
                        "{} {}",
                        o.gateway,
                        o.fault
                            .as_deref()
                            .map(|f| format!("{f} (connection faulted)"))
                            .or_else(|| o.tls_error.as_ref().map(|e| format!("tls refused: {e}")))
                            .unwrap_or_else(|| "connection".into())
                    ),
                    fingerprint: None,
                    final_rejection: false,
                    skipped: false,
                }),
            }
        }
        // Gateways down for the scenario, before the first one reached in route order.
        let first_reached = steps.first().map(|s| s.gateway.clone());
        let mut down: Vec<Step> = Vec::new();
        for g in &route.gateways {
            if Some(g) == first_reached.as_ref() {
                break;
            }
            if scenario.gateway.state(g).outage.is_some() && !steps.iter().any(|s| &s.gateway == g)
            {
                down.push(Step {
                    gateway: g.clone(),
                    at_us: trunk_invite_at_us,
                    describe: format!("{g} down (outage: connection refused, nothing observable)"),
                    fingerprint: None,
                    final_rejection: false,
                    skipped: false,
                });
            }
        }
        let from_trunk = !down.is_empty();
        down.extend(steps);
        let steps = down;
        let start = steps.first().and_then(|s| s.at_us);
        let next = steps
            .iter()
            .skip(1)
            .find(|s| s.fingerprint.is_some())
            .and_then(|s| s.at_us);
        let failover_us = match (start, next) {
            (Some(a), Some(b)) => Some(b.saturating_sub(a)),
            _ => None,
        };
        RouteView {
            answered_by: observations
                .iter()
                .find(|o| o.is_new_invite() && o.answered_2xx())
                .map(|o| o.gateway.clone()),
            failover_us,
            failover_from: if from_trunk {
                "the trunk's INVITE to the system under test (the first gateway was down)"
            } else {
                "the first gateway's first contact"
            },
            first_choice: steps.first().map(|s| s.gateway.clone()).unwrap_or_default(),
            steps,
        }
    }
}

fn invite_step(o: &Observation, route: &scenarios::RouteSpec) -> Step {
    let status = o.response;
    let describe = match (status, &o.fault) {
        (Some(s), Some(f)) => format!("{} {s} ({f})", o.gateway),
        (Some(s), None) => format!("{} {s}", o.gateway),
        (None, Some(f)) => format!("{} no answer ({f})", o.gateway),
        (None, None) => format!("{} no answer", o.gateway),
    };
    Step {
        gateway: o.gateway.clone(),
        at_us: Some(o.at_us),
        describe,
        fingerprint: Some(InviteFingerprint::of_observation(o)),
        final_rejection: status.is_some_and(|s| s >= 300 && !route.retry_on_status.contains(&s)),
        skipped: false,
    }
}
