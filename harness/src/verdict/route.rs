//! Route verdicts (ICD 5.3): pure functions from a scenario's route expectations and what its
//! routed calls did ([`CallSummary`], built from [`crate::originate::route::RoutedOutcome`]) to check
//! results. No I/O, no clocks; each check is unit-tested on its pass and its fail side.
//!
//! | check | from | passes when |
//! |---|---|---|
//! | `route.answered-by` | `expect.answered_by` | every call's 2xx came from that gateway |
//! | `route.attempts` | `expect.attempts` | every call tried exactly that many gateways |
//! | `route.failover-time` | `expect.failover_within` | every failover (first INVITE -> INVITE on the next gateway) within the bound |
//! | `route.identical-retry` | `expect.identical_retry` | the retried INVITEs carry the same org header, ANI headers and SDP offer |
//! | `route.no-retry-after-final` | `expect.no_retry` | `true`: no call reached a second gateway; `false`: every call did |
//! | `route.random-split` | `expect.random_split` | the first choices fall inside the exact binomial interval |
//! | `route.outage-impact` | `expect.outage_failed_max` | at most that many calls went unanswered |
//! | `route.long-path` | `expect.long_path_max` | at most that many calls needed more than one attempt |

use mock_gateway::Observation;
use reports::{CheckResult, Outcome};
use scenarios::{RouteSpec, Scenario};

use crate::originate::health::Transition;
use crate::originate::route::{AttemptClass, InviteFingerprint, RoutedOutcome};

/// The requirement every route check proves.
pub const REQUIREMENT: &str = "ICD 5.3";

/// One attempt, as the checks need it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttemptSummary {
    /// Gateway name.
    pub gateway: String,
    /// How the route judged it.
    pub class: AttemptClass,
    /// Final status, if any.
    pub status: Option<u16>,
    /// Reason phrase of the final status.
    pub reason: Option<String>,
    /// The Q.850 cause of the response.
    pub q850: Option<u16>,
    /// Why it ended without a final response.
    pub error: Option<String>,
    /// Call-ID of its INVITE.
    pub call_id: String,
    /// The INVITE's call content (`None` for a skipped gateway).
    pub fingerprint: Option<InviteFingerprint>,
}

impl AttemptSummary {
    /// `gw1 503 Service Unavailable (retryable status)` or `gw1 timeout`.
    pub fn describe(&self) -> String {
        let what = match (self.status, &self.class) {
            (Some(s), c) => {
                let reason = self
                    .reason
                    .as_deref()
                    .map(|r| format!(" {r}"))
                    .unwrap_or_default();
                let cause = self
                    .q850
                    .map(|c| format!(", Q.850 cause {c}"))
                    .unwrap_or_default();
                format!("{s}{reason}{cause} ({})", c.describe())
            }
            (None, c) => c.describe(),
        };
        format!("{} {what}", self.gateway)
    }
}

/// One routed call, as the checks need it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallSummary {
    /// Every attempt, skipped gateways included.
    pub attempts: Vec<AttemptSummary>,
    /// The gateway whose 2xx answered the call.
    pub answered_by: Option<String>,
    /// First INVITE to the next gateway's INVITE, µs.
    pub failover_us: Option<u64>,
    /// The route's first choice for the call.
    pub first_choice: String,
}

impl CallSummary {
    /// The summary of a routed call.
    pub fn of(o: &RoutedOutcome) -> CallSummary {
        CallSummary {
            attempts: o
                .attempts
                .iter()
                .map(|a| AttemptSummary {
                    gateway: a.gateway.clone(),
                    class: a.class,
                    status: a.status,
                    reason: a
                        .outcome
                        .as_ref()
                        .and_then(|x| x.final_response.as_ref())
                        .map(|r| r.reason.clone()),
                    q850: a.q850,
                    error: a.error.clone(),
                    call_id: a.call_id.clone(),
                    fingerprint: a.outcome.as_ref().map(|_| a.fingerprint.clone()),
                })
                .collect(),
            answered_by: o.answered_by.clone(),
            failover_us: o.failover_us,
            first_choice: o.first_choice.clone(),
        }
    }

    /// Attempts that reached (or tried to reach) a gateway.
    pub fn tried(&self) -> impl Iterator<Item = &AttemptSummary> {
        self.attempts
            .iter()
            .filter(|a| a.class != AttemptClass::SkippedDown)
    }

    /// `gw1 503 ... -> gw2 200 ...`.
    pub fn path(&self) -> String {
        let p: Vec<String> = self.attempts.iter().map(AttemptSummary::describe).collect();
        if p.is_empty() {
            "no attempt".into()
        } else {
            p.join(" -> ")
        }
    }
}

/// Everything the route checks look at.
#[derive(Debug)]
pub struct RouteEvidence<'a> {
    /// The scenario's calls, in order.
    pub calls: &'a [CallSummary],
    /// The route they followed.
    pub route: &'a RouteSpec,
    /// Gateway observations of these calls, when the topology has embedded gateways.
    pub observations: Option<&'a [Observation]>,
    /// Health state changes during the scenario.
    pub transitions: &'a [Transition],
}

fn check(id: &str, pass: bool, expected: String, observed: String, message: String) -> CheckResult {
    CheckResult {
        id: id.to_owned(),
        requirement: Some(REQUIREMENT.to_owned()),
        outcome: if pass { Outcome::Pass } else { Outcome::Fail },
        expected: Some(expected),
        observed: Some(observed),
        message,
    }
}

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

/// Judges the route expectations of `scenario`. The order of the checks is stable.
pub fn judge_route(scenario: &Scenario, ev: &RouteEvidence<'_>) -> Vec<CheckResult> {
    let e = &scenario.expect;
    let mut out = Vec::new();
    let n = ev.calls.len();
    if let Some(gw) = &e.answered_by {
        out.push(answered_by(gw, ev.calls));
    }
    if let Some(want) = e.attempts {
        let bad = ev
            .calls
            .iter()
            .enumerate()
            .find(|(_, c)| c.tried().count() != want as usize);
        out.push(match bad {
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
                    ev.calls.first().map(CallSummary::path).unwrap_or_default()
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
        });
    }
    if let Some(bound) = e.failover_within {
        out.push(failover_time(bound, ev.calls));
    }
    if e.identical_retry == Some(true) {
        out.push(identical_retry(ev));
    }
    if let Some(no_retry) = e.no_retry {
        out.push(no_retry_check(no_retry, ev));
    }
    if let Some(split) = &e.random_split {
        out.push(random_split(&split.gateway, split.confidence(), ev));
    }
    if let Some(max) = e.outage_failed_max {
        out.push(outage_impact(max, ev));
    }
    if let Some(max) = e.long_path_max {
        let long = ev.calls.iter().filter(|c| c.tried().count() > 1).count();
        out.push(check(
            "route.long-path",
            long <= max as usize,
            format!("at most {max} call(s) with more than one attempt"),
            long.to_string(),
            format!("{long} of {n} call(s) needed more than one attempt (at most {max} allowed)"),
        ));
    }
    out
}

fn answered_by(gw: &str, calls: &[CallSummary]) -> CheckResult {
    let n = calls.len();
    let bad = calls
        .iter()
        .enumerate()
        .find(|(_, c)| c.answered_by.as_deref() != Some(gw));
    match bad {
        None => check(
            "route.answered-by",
            true,
            gw.to_owned(),
            gw.to_owned(),
            if n == 1 {
                format!("answered by {gw}: {}", calls[0].path())
            } else {
                format!("all {n} calls answered by {gw}")
            },
        ),
        Some((i, c)) => {
            let got = c.answered_by.clone().unwrap_or_else(|| "(none)".into());
            check(
                "route.answered-by",
                false,
                gw.to_owned(),
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

fn failover_time(bound: std::time::Duration, calls: &[CallSummary]) -> CheckResult {
    let bound_us = u64::try_from(bound.as_micros()).unwrap_or(u64::MAX);
    let bound_text = humantime::format_duration(bound).to_string();
    let n = calls.len();
    let mut times: Vec<u64> = calls.iter().filter_map(|c| c.failover_us).collect();
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
    times.sort_unstable();
    let max = times.last().copied().unwrap_or(0);
    let median = times.get(times.len() / 2).copied().unwrap_or(0);
    let observed = if n == 1 {
        format!("failover_us={max}")
    } else {
        format!("failover_us max={max} p50={median}")
    };
    let slowest = calls
        .iter()
        .enumerate()
        .max_by_key(|(_, c)| c.failover_us)
        .map(|(i, c)| (i, c.path()))
        .unwrap_or_default();
    let pass = max <= bound_us;
    let what = if n == 1 {
        format!("failover in {}", ms(max))
    } else {
        format!(
            "slowest failover {} (median {}) over {n} calls",
            ms(max),
            ms(median)
        )
    };
    check(
        "route.failover-time",
        pass,
        format!("failover within {bound_text}"),
        observed,
        if pass {
            format!("{what}, within {bound_text}: {}", slowest.1)
        } else {
            format!(
                "{what} ({}), over the {bound_text} bound: {}",
                which(slowest.0, n),
                slowest.1
            )
        },
    )
}

fn identical_retry(ev: &RouteEvidence<'_>) -> CheckResult {
    let n = ev.calls.len();
    let mut compared = 0;
    for (i, c) in ev.calls.iter().enumerate() {
        let prints: Vec<(&str, &InviteFingerprint)> = c
            .tried()
            .filter_map(|a| a.fingerprint.as_ref().map(|f| (a.gateway.as_str(), f)))
            .collect();
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
                            "{} changed on the retry from {g0} to {g}: {}",
                            which(i, n),
                            diff.join("; ")
                        ),
                    );
                }
            }
        }
        // What the gateways received: the org header values of each attempt's INVITE.
        if let Some(obs) = ev.observations {
            let seen: Vec<(&str, Vec<String>)> = c
                .tried()
                .filter_map(|a| {
                    let o = obs.iter().find(|o| {
                        o.method == "INVITE" && o.call_id.as_deref() == Some(a.call_id.as_str())
                    })?;
                    // A gateway that faulted before checking the header recorded no finding.
                    let orgs = o.org.as_ref()?.values.clone();
                    Some((a.gateway.as_str(), orgs))
                })
                .collect();
            if let Some(((g0, first), rest)) = seen.split_first()
                && let Some((g, other)) = rest.iter().find(|(_, v)| v != first)
            {
                let show = |v: &[String]| {
                    if v.is_empty() {
                        "(no header)".to_owned()
                    } else {
                        v.join(" | ")
                    }
                };
                return check(
                    "route.identical-retry",
                    false,
                    "the same E911-Organization-ID at every gateway".into(),
                    format!("{g0}: {}; {g}: {}", show(first), show(other)),
                    format!(
                        "{}: E911-Organization-ID at {g0} was {}, at {g} {} (header lost or changed on the retry)",
                        which(i, n),
                        show(first),
                        show(other)
                    ),
                );
            }
        }
    }
    if compared == 0 {
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
            "{compared} retried INVITE(s) carried the same dialled number, From, P-Asserted-Identity, E911-Organization-ID and SDP offer (new Call-ID, tag, branch, port and key per attempt)"
        ),
    )
}

fn no_retry_check(no_retry: bool, ev: &RouteEvidence<'_>) -> CheckResult {
    let n = ev.calls.len();
    // Gateways that saw an INVITE of each call (when observable), besides the originator's view.
    let gateways_seen = |c: &CallSummary| -> usize {
        let mut g: Vec<&str> = c.tried().map(|a| a.gateway.as_str()).collect();
        if let Some(obs) = ev.observations {
            for a in c.tried() {
                for o in obs.iter().filter(|o| {
                    o.method == "INVITE" && o.call_id.as_deref() == Some(a.call_id.as_str())
                }) {
                    g.push(o.gateway.as_str());
                }
            }
        }
        g.sort_unstable();
        g.dedup();
        g.len()
    };
    let bad = ev
        .calls
        .iter()
        .enumerate()
        .find(|(_, c)| (gateways_seen(c) > 1) == no_retry);
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
                    ev.calls.first().map(CallSummary::path).unwrap_or_default()
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
                    .map(AttemptSummary::describe)
                    .unwrap_or_default();
                format!(
                    "{} was retried after {first}: a final response (RFC 3261 §21; not in retry_on_status {:?}, no retryable Q.850 cause) must end the call: {}",
                    which(i, n),
                    ev.route.retry_on_status,
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

fn random_split(gateway: &str, confidence: f64, ev: &RouteEvidence<'_>) -> CheckResult {
    let n = ev.calls.len() as u64;
    let k = ev
        .calls
        .iter()
        .filter(|c| c.first_choice == gateway)
        .count() as u64;
    let p = 1.0 / ev.route.gateways.len().max(1) as f64;
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

fn outage_impact(max: u32, ev: &RouteEvidence<'_>) -> CheckResult {
    let n = ev.calls.len();
    let failed: Vec<usize> = ev
        .calls
        .iter()
        .enumerate()
        .filter(|(_, c)| c.answered_by.is_none())
        .map(|(i, _)| i + 1)
        .collect();
    let long = ev.calls.iter().filter(|c| c.tried().count() > 1).count();
    let skipped = ev
        .calls
        .iter()
        .filter(|c| {
            c.attempts
                .iter()
                .any(|a| a.class == AttemptClass::SkippedDown)
        })
        .count();
    let detection = ev
        .transitions
        .iter()
        .find(|t| !t.up)
        .map(|t| {
            format!(
                "; OPTIONS marked {} down {} after its first failed probe",
                t.gateway,
                ms(t.detection_us)
            )
        })
        .unwrap_or_default();
    let pass = failed.len() <= max as usize;
    check(
        "route.outage-impact",
        pass,
        format!("at most {max} unanswered call(s)"),
        failed.len().to_string(),
        format!(
            "{} of {n} call(s) unanswered{} (at most {max} allowed); {long} took the long path, {skipped} skipped a gateway marked down{detection}",
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
