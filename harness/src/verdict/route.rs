//! Route verdicts (ICD 5.3, 5.1.6): pure functions from a scenario's route expectations and the
//! path each call took across gw1/gw2 to check results.
//!
//! The path ([`RouteView`]) is read where the failover happens: from the trunk's own attempts
//! when the harness is the trunk ([`Topology::Direct`]), and from what each gateway received
//! when a system under test or a real originator does the failover ([`Topology::ThroughSut`],
//! [`Topology::Originator`]): the gateways that saw
//! the call's INVITE (or a connection attempt, or were down), in the order they saw it, the
//! INVITE each received, and the failover time between them on the run's clock.
//!
//! | check | from | passes when |
//! |---|---|---|
//! | `route.answered-by` | `expect.answered_by` | every call's 2xx came from that gateway (gateway evidence) |
//! | `route.attempts` | `expect.attempts` | every call tried exactly that many gateways |
//! | `route.failover-time` | `expect.failover_within` | every failover within the bound |
//! | `route.identical-retry` | `expect.identical_retry` | the retried INVITEs carry the same org header, identity headers and SDP offer |
//! | `route.no-retry-after-final` | `expect.no_retry` | `true`: no call reached a second gateway; `false`: every call did |
//! | `route.random-split` | `expect.random_split` | the first choices fall inside the exact binomial interval |
//! | `route.outage-impact` | `expect.outage_failed_max` | at most that many calls went unanswered |
//! | `route.long-path` | `expect.long_path_max` | at most that many calls needed more than one attempt |
//! | `health.detection` | `[health]` with an outage | OPTIONS probing marked the down gateway down (ICD 5.1.3) |

use std::time::Duration;

use reports::{CheckResult, Outcome};
use scenarios::{FaultKind, Scenario};

use super::fingerprint::InviteFingerprint;
pub use super::path::{RouteView, Step};
use super::{CallEvidence, Evidence, NO_GATEWAYS, req, result, skipped};
use crate::evidence::Topology;

/// `n` calls / `the call`, for messages.
fn which(i: usize, n: usize) -> String {
    if n == 1 {
        "the call".into()
    } else {
        format!("call {} of {n}", i + 1)
    }
}

/// Milliseconds with one decimal from microseconds.
pub fn ms(us: u64) -> String {
    format!("{:.1} ms", us as f64 / 1000.0)
}

fn check(id: &str, pass: bool, expected: String, observed: String, message: String) -> CheckResult {
    result(id, req::ROUTE, pass, expected, observed, message)
}

/// The route checks of a scenario, over all its calls. The order of the checks is stable.
pub fn judge(scenario: &Scenario, ev: &Evidence<'_>) -> Vec<CheckResult> {
    let e = &scenario.expect;
    let wants = e.answered_by.is_some()
        || e.attempts.is_some()
        || e.failover_within.is_some()
        || e.identical_retry == Some(true)
        || e.no_retry.is_some()
        || e.random_split.is_some()
        || e.outage_failed_max.is_some()
        || e.long_path_max.is_some()
        || scenario.health.is_some();
    if !wants {
        return Vec::new();
    }
    let views: Option<Vec<RouteView>> = match ev.setting.topology {
        Topology::Direct => Some(
            ev.calls
                .iter()
                .map(|c| RouteView::of_trunk(c.call, c.observations))
                .collect(),
        ),
        Topology::ThroughSut | Topology::Originator => ev
            .calls
            .iter()
            .map(|c: &CallEvidence<'_>| {
                // When the trunk's INVITE was sent is known only when the harness is the trunk.
                let sent_at = match ev.setting.topology {
                    Topology::ThroughSut => c.call.first_invite_at_us(),
                    _ => None,
                };
                c.observations
                    .map(|obs| RouteView::of_gateways(scenario, obs, sent_at))
            })
            .collect(),
        Topology::External => None,
    };
    let Some(views) = views else {
        return external(scenario);
    };
    let mut out = Vec::new();
    let n = views.len();
    if let Some(gw) = &e.answered_by {
        // With a route the answering gateway is the failover's outcome (ICD 5.3); without, the
        // ordered pair's first (ICD 5.1.6).
        let requirement = if scenario.route.is_some() {
            req::ROUTE
        } else {
            req::GATEWAYS
        };
        out.push(answered_by(gw, &views, requirement));
    }
    if let Some(want) = e.attempts {
        out.push(attempts(want, &views));
    }
    if let Some(bound) = e.failover_within {
        let bound = match ev.setting.topology {
            Topology::ThroughSut => sut_bound(scenario, bound, ev.setting.sut_attempt_timeout),
            _ => bound,
        };
        out.push(failover_time(bound, &views));
    }
    if e.identical_retry == Some(true) {
        out.push(identical_retry(&views, ev.setting.topology));
    }
    if let Some(no_retry) = e.no_retry {
        out.push(no_retry_check(no_retry, &views, scenario));
    }
    if let Some(split) = &e.random_split {
        let gateways = scenario.route.as_ref().map_or(2, |r| r.gateways.len());
        out.push(random_split(
            &split.gateway,
            split.confidence(),
            gateways,
            &views,
        ));
    }
    if let Some(max) = e.outage_failed_max {
        out.push(outage_impact(max, &views));
    }
    if let Some(max) = e.long_path_max {
        let long = views.iter().filter(|c| c.tried().count() > 1).count();
        out.push(check(
            "route.long-path",
            long <= max as usize,
            format!("at most {max} call(s) with more than one attempt"),
            long.to_string(),
            format!("{long} of {n} call(s) needed more than one attempt (at most {max} allowed)"),
        ));
    }
    if scenario.health.is_some() && ev.setting.topology == Topology::Direct {
        out.extend(health_detection(scenario, ev));
    }
    out
}

/// Without gateway evidence nothing of the route can be judged.
fn external(scenario: &Scenario) -> Vec<CheckResult> {
    let e = &scenario.expect;
    let mut out = Vec::new();
    if let Some(gw) = &e.answered_by {
        out.push(skipped(
            "route.answered-by",
            req::GATEWAYS,
            Some(gw.clone()),
            NO_GATEWAYS,
        ));
    }
    for (id, wanted) in [
        ("route.attempts", e.attempts.is_some()),
        ("route.failover-time", e.failover_within.is_some()),
        ("route.identical-retry", e.identical_retry == Some(true)),
        ("route.no-retry-after-final", e.no_retry.is_some()),
    ] {
        if wanted {
            out.push(skipped(id, req::ROUTE, None, NO_GATEWAYS));
        }
    }
    out
}

/// The failover bound behind a system under test: a silent first gateway is abandoned on the
/// system under test's own timer, not the scenario's `attempt_timeout`, so the bound moves by
/// their difference (the rest of the allowance stays).
pub fn sut_bound(scenario: &Scenario, bound: Duration, sut_timeout: Duration) -> Duration {
    let Some(route) = &scenario.route else {
        return bound;
    };
    let first = route.gateways.first().map(String::as_str).unwrap_or("gw1");
    let silent = scenario
        .faults
        .iter()
        .any(|f| f.gateway == first && silent_past(&f.kind, route.attempt_timeout));
    if silent {
        (bound + sut_timeout).saturating_sub(route.attempt_timeout)
    } else {
        bound
    }
}

fn silent_past(kind: &FaultKind, timeout: Duration) -> bool {
    match kind {
        FaultKind::Delay(d) => *d > timeout,
        k => k.is_silent(),
    }
}

fn answered_by(gw: &str, calls: &[RouteView], requirement: &str) -> CheckResult {
    let n = calls.len();
    let bad = calls
        .iter()
        .enumerate()
        .find(|(_, c)| c.answered_by.as_deref() != Some(gw));
    match bad {
        None => result(
            "route.answered-by",
            requirement,
            true,
            gw,
            gw,
            if n == 1 {
                format!("answered by {gw}: {}", calls[0].path())
            } else {
                format!("all {n} calls answered by {gw}")
            },
        ),
        Some((i, c)) => {
            let got = c.answered_by.clone().unwrap_or_else(|| "(none)".into());
            result(
                "route.answered-by",
                requirement,
                false,
                gw,
                got.clone(),
                format!(
                    "{} was answered by {got}, expected {gw}: {}",
                    which(i, n),
                    c.path()
                ),
            )
        }
    }
}

fn attempts(want: u32, calls: &[RouteView]) -> CheckResult {
    let n = calls.len();
    match calls
        .iter()
        .enumerate()
        .find(|(_, c)| c.tried().count() != want as usize)
    {
        None => check(
            "route.attempts",
            true,
            want.to_string(),
            want.to_string(),
            format!(
                "{} took {want} attempt(s): {}",
                if n == 1 {
                    "the call".into()
                } else {
                    format!("all {n} calls")
                },
                calls.first().map(RouteView::path).unwrap_or_default()
            ),
        ),
        Some((i, c)) => {
            let got = c.tried().count();
            check(
                "route.attempts",
                false,
                want.to_string(),
                got.to_string(),
                format!(
                    "{} took {got} attempt(s), expected {want}: {}",
                    which(i, n),
                    c.path()
                ),
            )
        }
    }
}

fn failover_time(bound: Duration, calls: &[RouteView]) -> CheckResult {
    let bound_us = u64::try_from(bound.as_micros()).unwrap_or(u64::MAX);
    let bound_text = humantime::format_duration(bound).to_string();
    let n = calls.len();
    if let Some((i, c)) = calls
        .iter()
        .enumerate()
        .find(|(_, c)| c.failover_us.is_none())
    {
        return check(
            "route.failover-time",
            false,
            format!("failover within {bound_text}"),
            "no failover".into(),
            format!(
                "{} never reached a second gateway, so there is no failover to time: {}",
                which(i, n),
                c.path()
            ),
        );
    }
    let mut times: Vec<u64> = calls.iter().filter_map(|c| c.failover_us).collect();
    times.sort_unstable();
    let max = times.last().copied().unwrap_or(0);
    let median = times.get(times.len() / 2).copied().unwrap_or(0);
    let observed = if n == 1 {
        format!("failover_us={max}")
    } else {
        format!("failover_us max={max} p50={median}")
    };
    let Some((slowest_i, slowest)) = calls.iter().enumerate().max_by_key(|(_, c)| c.failover_us)
    else {
        return check(
            "route.failover-time",
            false,
            format!("failover within {bound_text}"),
            "no call".into(),
            "the scenario placed no call, so there is no failover to time".into(),
        );
    };
    let pass = max <= bound_us;
    let what = if n == 1 {
        format!("failover in {} from {}", ms(max), slowest.failover_from)
    } else {
        format!(
            "slowest failover {} (median {}) over {n} calls, from {}",
            ms(max),
            ms(median),
            slowest.failover_from
        )
    };
    check(
        "route.failover-time",
        pass,
        format!("failover within {bound_text}"),
        observed,
        if pass {
            format!("{what}, within {bound_text}: {}", slowest.path())
        } else {
            format!(
                "{what} ({}), over the {bound_text} bound: {}",
                which(slowest_i, n),
                slowest.path()
            )
        },
    )
}

fn identical_retry(calls: &[RouteView], topology: Topology) -> CheckResult {
    let n = calls.len();
    let mut compared = 0;
    let mut unobserved = None;
    for (i, c) in calls.iter().enumerate() {
        let prints: Vec<(&str, &InviteFingerprint)> = c
            .tried()
            .filter_map(|s| s.fingerprint.as_ref().map(|f| (s.gateway.as_str(), f)))
            .collect();
        if prints.len() < 2 && c.tried().count() > 1 {
            unobserved.get_or_insert((i, c));
        }
        if let Some(((g0, first), rest)) = prints.split_first() {
            for (g, f) in rest {
                compared += 1;
                let diff = first.differences(f);
                if !diff.is_empty() {
                    return check(
                        "route.identical-retry",
                        false,
                        "the same org header, ANI and SDP offer on every attempt".into(),
                        diff.join("; "),
                        format!(
                            "{} changed on the retry from {g0} to {g}: {} (ICD 5.3; the retry must carry the call unchanged, ICD 5.1.9 and 5.1.7)",
                            which(i, n),
                            diff.join("; ")
                        ),
                    );
                }
            }
        }
    }
    if compared == 0 {
        if let (Topology::ThroughSut | Topology::Originator, Some((i, c))) = (topology, unobserved)
        {
            return skipped(
                "route.identical-retry",
                req::ROUTE,
                Some("the same org header, ANI and SDP offer on every attempt".into()),
                &format!(
                    "{} reached a second gateway, but only one INVITE reached a gateway (the first failed before the INVITE), so there is no pair of INVITEs to compare: {}",
                    which(i, n),
                    c.path()
                ),
            );
        }
        return check(
            "route.identical-retry",
            false,
            "a retried INVITE to compare".into(),
            "no retry".into(),
            "no call was retried on another gateway, so there is no retried INVITE to compare"
                .into(),
        );
    }
    check(
        "route.identical-retry",
        true,
        "the same org header, ANI and SDP offer on every attempt".into(),
        "identical".into(),
        format!(
            "{compared} retried INVITE(s) carried the same dialled number, From, P-Asserted-Identity, E911-Organization-ID and SDP offer (Call-ID, tags, branches, ports and keys may differ)"
        ),
    )
}

fn no_retry_check(no_retry: bool, calls: &[RouteView], scenario: &Scenario) -> CheckResult {
    let n = calls.len();
    let gateways_reached = |c: &RouteView| {
        let mut g: Vec<&str> = c.tried().map(|s| s.gateway.as_str()).collect();
        g.sort_unstable();
        g.dedup();
        g.len()
    };
    let bad = calls
        .iter()
        .enumerate()
        .find(|(_, c)| (gateways_reached(c) > 1) == no_retry);
    let expected = if no_retry {
        "no second gateway after a final response"
    } else {
        "a retry on another gateway"
    };
    match bad {
        None => check(
            "route.no-retry-after-final",
            true,
            expected.into(),
            if no_retry { "one gateway" } else { "retried" }.into(),
            if no_retry {
                format!(
                    "the final answer ended the call, no other gateway was tried: {}",
                    calls.first().map(RouteView::path).unwrap_or_default()
                )
            } else {
                "every call was retried on another gateway".into()
            },
        ),
        Some((i, c)) => check(
            "route.no-retry-after-final",
            false,
            expected.into(),
            c.path(),
            if no_retry {
                let first = c
                    .tried()
                    .next()
                    .map(|s| s.describe.clone())
                    .unwrap_or_default();
                format!(
                    "{} was retried after {first}: a final response (RFC 3261 §21; not in retry_on_status {:?}, no retryable Q.850 cause) must end the call: {}",
                    which(i, n),
                    scenario
                        .route
                        .as_ref()
                        .map(|r| r.retry_on_status.clone())
                        .unwrap_or_default(),
                    c.path()
                )
            } else {
                format!("{} was not retried: {}", which(i, n), c.path())
            },
        ),
    }
}

/// The exact two-sided binomial interval `[lo, hi]` of successes in `n` trials of probability
/// `p` holding at least `confidence` of the mass (each tail at most `(1-confidence)/2`).
pub fn binomial_interval(n: u64, p: f64, confidence: f64) -> (u64, u64) {
    let alpha = (1.0 - confidence) / 2.0;
    let ln_fact: Vec<f64> = std::iter::once(0.0)
        .chain((1..=n).scan(0.0, |acc, k| {
            *acc += (k as f64).ln();
            Some(*acc)
        }))
        .collect();
    let pmf = |k: u64| -> f64 {
        let (k_, n_) = (k as usize, n as usize);
        (ln_fact[n_] - ln_fact[k_] - ln_fact[n_ - k_]
            + k as f64 * p.ln()
            + (n - k) as f64 * (1.0 - p).ln())
        .exp()
    };
    let mut lo = 0;
    let mut tail = 0.0;
    while lo < n && tail + pmf(lo) <= alpha {
        tail += pmf(lo);
        lo += 1;
    }
    let mut hi = n;
    let mut tail = 0.0;
    while hi > 0 && tail + pmf(hi) <= alpha {
        tail += pmf(hi);
        hi -= 1;
    }
    (lo, hi)
}

fn random_split(
    gateway: &str,
    confidence: f64,
    gateways: usize,
    calls: &[RouteView],
) -> CheckResult {
    let n = calls.len() as u64;
    let k = calls.iter().filter(|c| c.first_choice == gateway).count() as u64;
    let p = 1.0 / gateways.max(1) as f64;
    let (lo, hi) = binomial_interval(n, p, confidence);
    let pct = scenarios::route::Percent((confidence * 1e6).round() as u32);
    let pass = (lo..=hi).contains(&k);
    check(
        "route.random-split",
        pass,
        format!(
            "{lo}..={hi} of {n} first choices on {gateway} ({pct} binomial interval, p = {p:.3})"
        ),
        k.to_string(),
        format!(
            "{gateway} was the first choice for {k} of {n} calls ({:.1}%); a fair random split puts it in {lo}..={hi} at {pct}{}",
            100.0 * k as f64 / n.max(1) as f64,
            if pass {
                ""
            } else {
                ": the distribution is not random"
            }
        ),
    )
}

fn outage_impact(max: u32, calls: &[RouteView]) -> CheckResult {
    let n = calls.len();
    let failed: Vec<usize> = calls
        .iter()
        .enumerate()
        .filter(|(_, c)| c.answered_by.is_none())
        .map(|(i, _)| i + 1)
        .collect();
    let long = calls.iter().filter(|c| c.tried().count() > 1).count();
    let skipped = calls
        .iter()
        .filter(|c| c.steps.iter().any(|s| s.skipped))
        .count();
    let pass = failed.len() <= max as usize;
    check(
        "route.outage-impact",
        pass,
        format!("at most {max} unanswered call(s)"),
        failed.len().to_string(),
        format!(
            "{} of {n} call(s) unanswered{} (at most {max} allowed); {long} took the long path, {skipped} skipped a gateway marked down",
            failed.len(),
            if failed.is_empty() {
                String::new()
            } else {
                format!(
                    " (call {})",
                    failed
                        .iter()
                        .map(usize::to_string)
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            },
        ),
    )
}

/// `health.detection` (ICD 5.1.3): the trunk's OPTIONS probing took every gateway that was
/// down in the scenario out of service, and says how fast.
fn health_detection(scenario: &Scenario, ev: &Evidence<'_>) -> Vec<CheckResult> {
    let down: Vec<&String> = scenario
        .gateway
        .states
        .iter()
        .filter(|(_, s)| s.outage.is_some())
        .map(|(g, _)| g)
        .collect();
    down.into_iter()
        .map(|g| {
            let t = ev.transitions.iter().find(|t| &t.gateway == g && !t.up);
            result(
                "health.detection",
                req::IN_SERVICE,
                t.is_some(),
                format!("{g} marked out of service by OPTIONS during its outage"),
                t.map_or_else(|| "never marked down".into(), |t| format!("down after {}", ms(t.detection_us))),
                match t {
                    Some(t) => format!(
                        "OPTIONS probing marked {g} down {} after its first failed probe",
                        ms(t.detection_us)
                    ),
                    None => format!(
                        "{g} was down but OPTIONS probing never marked it out of service (ICD 5.1.3)"
                    ),
                },
            )
        })
        .collect()
}

/// Merges per-call check lists of a multi-call scenario into one list: a check that passed on
/// every call is kept once ("all N calls"); otherwise the first call where it did not pass is
/// kept, its message prefixed with the call number. Ids keep their first-seen order.
pub fn merge_calls(per_call: Vec<Vec<CheckResult>>) -> Vec<CheckResult> {
    let n = per_call.len();
    if n == 1 {
        return per_call.into_iter().next().unwrap_or_default();
    }
    let mut order: Vec<String> = Vec::new();
    for checks in &per_call {
        for c in checks {
            if !order.contains(&c.id) {
                order.push(c.id.clone());
            }
        }
    }
    order
        .into_iter()
        .filter_map(|id| {
            let all: Vec<(usize, &CheckResult)> = per_call
                .iter()
                .enumerate()
                .filter_map(|(i, cs)| cs.iter().find(|c| c.id == id).map(|c| (i, c)))
                .collect();
            let bad = all
                .iter()
                .find(|(_, c)| c.outcome != Outcome::Pass && c.outcome != Outcome::Skipped);
            match bad {
                Some((i, c)) => {
                    let mut c = (*c).clone();
                    c.message = format!("call {} of {n}: {}", i + 1, c.message);
                    Some(c)
                }
                None => all.first().map(|(_, c)| {
                    let mut c = (*c).clone();
                    if all.len() > 1 {
                        c.message = format!("all {} calls: {}", all.len(), c.message);
                    }
                    c
                }),
            }
        })
        .collect()
}

#[cfg(test)]
#[path = "route_tests.rs"]
mod tests;
