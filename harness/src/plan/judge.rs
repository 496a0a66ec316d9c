//! A step's window judged (pure): what the gateways received while the step ran, sorted into
//! calls ([`super::calls`]), the step's calls judged by [`crate::verdict`] in the originator
//! topology, and the calls the step did not expect handed back for the run's report of them.
//!
//! Beside the verdict's checks, a step has one of its own, `plan.calls` (the step's first
//! requirement): for a 911/933 step, that its calls reached a gateway (failing when none did:
//! the originator did not route the call to the E911 trunks, or it was not placed); for a step
//! that dials anything else, that the call was placed at all (an operator's Enter, or a drive
//! command that succeeded), so `route.not-forwarded` never passes for a call nobody placed.

use reports::{CheckResult, Observation, Outcome, ScenarioReport};
use scenarios::plan::PlanStep;
use scenarios::{Scenario, is_emergency_number};

use super::calls::{ObservedCall, assign, sort};
use crate::evidence::observed::{call_at_gateways, call_record};
use crate::verdict::{self, CallEvidence, Evidence, Setting, outcome, primary, result};

/// Why a step's wait ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepEnd {
    /// Its calls ended at the gateways and nothing more arrived for the settle time.
    CallsEnded,
    /// The operator pressed Enter.
    Confirmed,
    /// The drive command finished and nothing more arrived for the settle time.
    DriveFinished,
    /// The step's timeout passed.
    TimedOut,
    /// The run was interrupted (Ctrl-C) during the step.
    Interrupted,
}

/// How a drive command ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Driven {
    /// Whether it could be started at all.
    pub started: bool,
    /// Its exit code; `None` when it was killed (at the step's timeout) or died by a signal.
    pub code: Option<i32>,
    /// The last lines of its output, for messages.
    pub tail: String,
}

impl Driven {
    /// Whether it reported success.
    pub fn succeeded(&self) -> bool {
        self.code == Some(0)
    }

    /// Whether it never ran the originator: it could not be started, or the shell could not
    /// find or execute the command (126, 127). Any other failure is the originator's own (SIPp
    /// exits 1 when its call failed, `e911-harness call` when no gateway answered).
    pub fn is_setup_failure(&self) -> bool {
        !self.started || matches!(self.code, Some(126 | 127))
    }

    fn describe(&self) -> String {
        let how = match self.code {
            Some(c) => format!("exit {c}"),
            None => "killed at the step's timeout".to_owned(),
        };
        if self.tail.trim().is_empty() {
            how
        } else {
            format!("{how}; its output ends: {}", self.tail.trim())
        }
    }
}

/// A finished step's window.
#[derive(Debug, Clone, Copy)]
pub struct Window<'a> {
    /// Everything the gateways received while the step ran.
    pub observations: &'a [Observation],
    /// Why the wait ended.
    pub ended: StepEnd,
    /// The drive command's end (unattended); `None` when an operator placed the calls.
    pub driven: Option<&'a Driven>,
    /// How long the step ran, ms.
    pub duration_ms: u64,
}

/// A judged step.
#[derive(Debug, Clone)]
pub struct Judged {
    /// The step's report.
    pub report: ScenarioReport,
    /// Calls the step did not expect.
    pub unexpected: Vec<ObservedCall>,
    /// The OPTIONS of the window.
    pub options: Vec<Observation>,
}

/// The ANI a step's call must deliver: `expect.ani`, else the one the scenario carries (the
/// caller selection's once it is resolved).
pub fn expected_ani(sc: &Scenario) -> Option<String> {
    sc.expect
        .ani
        .clone()
        .or_else(|| (!sc.call.ani.is_empty()).then(|| sc.call.ani.clone()))
}

/// The step's scenario with the caller selection's ANI filled in.
pub fn resolved(step: &PlanStep) -> Scenario {
    scenarios::caller::with_selected_ani(&step.scenario).unwrap_or_else(|| step.scenario.clone())
}

/// Judges one step from its window.
pub fn judge_step(step: &PlanStep, setting: &Setting, w: &Window<'_>) -> Judged {
    let sc = resolved(step);
    let sorted = sort(w.observations);
    let matched = assign(
        sorted.calls,
        &sc.call.dial,
        expected_ani(&sc).as_deref(),
        step.calls() as usize,
    );
    let mine = matched.mine;
    let dial = scenarios::dialled_number(&sc.call.dial).to_owned();
    let mut checks = Vec::new();
    let placed = match w.driven {
        Some(d) => d.succeeded(),
        None => w.ended == StepEnd::Confirmed,
    };
    if is_emergency_number(&dial) {
        checks.push(arrived(step, &sc, &mine, &matched.unexpected, w));
        if !mine.is_empty() {
            checks.extend(verdicts(&sc, setting, &mine));
        }
    } else if mine.is_empty() && !placed {
        checks.push(outcome(
            "plan.calls",
            primary(&sc),
            Outcome::Error,
            Some(format!("a call to {dial} placed")),
            Some("not confirmed".into()),
            match w.driven {
                Some(d) => format!(
                    "the drive command did not place the call to {dial} ({}): whether {dial} is kept from the E911 gateways was not exercised",
                    d.describe()
                ),
                None => format!(
                    "the step ended before the operator confirmed placing the call to {dial} (press Enter once it is placed and ended): whether {dial} is kept from the E911 gateways was not exercised"
                ),
            },
        ));
    } else {
        checks.extend(verdicts(&sc, setting, &mine));
    }
    let mut observations: Vec<Observation> = mine
        .iter()
        .chain(&matched.unexpected)
        .flat_map(|c| c.observations.iter().cloned())
        .chain(sorted.connections)
        .chain(sorted.strays)
        .collect();
    observations.sort_by_key(|o| (o.at_us, o.seq));
    // The step's scenario says what the operator was told (`description` is the step's `say`).
    let report = ScenarioReport {
        checks,
        calls: mine
            .iter()
            .map(|c| call_record(&dial, &c.observations))
            .collect(),
        observations,
        duration_ms: w.duration_ms,
        ..crate::run::base_report(&sc)
    };
    Judged {
        report,
        unexpected: matched.unexpected,
        options: sorted.options,
    }
}

/// The verdict's checks over the step's calls, as the gateways received them.
fn verdicts(sc: &Scenario, setting: &Setting, mine: &[ObservedCall]) -> Vec<CheckResult> {
    let calls: Vec<_> = mine
        .iter()
        .map(|c| call_at_gateways(&sc.call.dial, &c.observations))
        .collect();
    let evidence: Vec<CallEvidence<'_>> = calls
        .iter()
        .zip(mine)
        .map(|(call, c)| CallEvidence {
            call,
            observations: Some(&c.observations),
        })
        .collect();
    let all: Vec<Observation> = mine
        .iter()
        .flat_map(|c| c.observations.iter().cloned())
        .collect();
    verdict::judge(
        sc,
        &Evidence {
            setting,
            calls: &evidence,
            scenario_observations: Some(&all),
            transitions: &[],
        },
    )
}

/// `plan.calls` for a 911/933 step: its calls reached a gateway.
fn arrived(
    step: &PlanStep,
    sc: &Scenario,
    mine: &[ObservedCall],
    unexpected: &[ObservedCall],
    w: &Window<'_>,
) -> CheckResult {
    let dial = scenarios::dialled_number(&sc.call.dial);
    let want = step.calls() as usize;
    let expected = if want == 1 {
        format!("a call to {dial} at the gateways")
    } else {
        format!("{want} calls to {dial} at the gateways")
    };
    let paths = mine
        .iter()
        .map(|c| {
            c.invites()
                .map(|o| o.gateway.as_str())
                .collect::<Vec<_>>()
                .join(" then ")
        })
        .collect::<Vec<_>>()
        .join("; ");
    if mine.len() == want {
        return result(
            "plan.calls",
            primary(sc),
            true,
            expected,
            format!("{} ({paths})", mine.len()),
            format!(
                "the originator routed {} call(s) to {dial} to the E911 gateways ({paths})",
                mine.len()
            ),
        );
    }
    let instead = if unexpected.is_empty() {
        String::new()
    } else {
        format!(
            "; what arrived instead: {}",
            unexpected
                .iter()
                .map(describe_call)
                .collect::<Vec<_>>()
                .join("; ")
        )
    };
    let down = if step.down.is_empty() {
        String::new()
    } else {
        format!(
            " ({} down: its refused connections are not seen, so the originator must reach another gateway)",
            step.down.join(", ")
        )
    };
    let why = match (w.driven, mine.is_empty()) {
        (Some(d), true) if d.is_setup_failure() => {
            return outcome(
                "plan.calls",
                primary(sc),
                Outcome::Error,
                Some(expected),
                Some("none".into()),
                format!(
                    "no call to {dial} reached a gateway and the drive command did not run ({}): nothing was exercised{instead}",
                    d.describe()
                ),
            );
        }
        (Some(d), true) if !d.succeeded() => format!(
            "no call to {dial} reached either gateway{down}, and the drive command reported a failure ({}): the originator did not get the call to the E911 gateways (ICD 5.2){instead}",
            d.describe()
        ),
        (_, true) => format!(
            "no call to {dial} reached either gateway{}{down}: the originator did not route it to the E911 trunks, or it was not placed (ICD 5.2){instead}",
            match w.ended {
                StepEnd::TimedOut => " before the step's timeout",
                StepEnd::Interrupted => " before the run was interrupted",
                _ => "",
            }
        ),
        (_, false) => format!(
            "{} of {want} calls to {dial} reached the gateways ({paths}){down}{instead}",
            mine.len()
        ),
    };
    result(
        "plan.calls",
        primary(sc),
        false,
        expected,
        mine.len().to_string(),
        why,
    )
}

/// `911 from +13125550100 at gw1 then gw2`.
pub fn describe_call(c: &ObservedCall) -> String {
    format!(
        "{} from {} at {}",
        c.dialed(),
        c.ani().unwrap_or("(no ANI)"),
        c.invites()
            .map(|o| o.gateway.as_str())
            .collect::<Vec<_>>()
            .join(" then ")
    )
}

/// When a call the plan did not expect arrived: during which step, or outside every step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stray {
    /// `during step caller-user-did` or `before the first step`.
    pub when: String,
    /// The call.
    pub call: ObservedCall,
}

/// The run's report of the calls no step expected, `None` when there were none. A call to
/// anything but 911/933 fails `route.not-forwarded` (ICD 5.2); an emergency call no step asked
/// for fails `plan.unexpected-call` (no requirement: an extra call breaks none, but an
/// unexplained one must not pass unseen).
pub fn unexpected_report(strays: &[Stray]) -> Option<ScenarioReport> {
    if strays.is_empty() {
        return None;
    }
    let checks = strays
        .iter()
        .map(|s| {
            let what = describe_call(&s.call);
            if is_emergency_number(s.call.dialed()) {
                CheckResult {
                    id: "plan.unexpected-call".into(),
                    requirement: None,
                    outcome: Outcome::Fail,
                    expected: Some("only the calls the plan asks for".into()),
                    observed: Some(what.clone()),
                    message: format!(
                        "{what} reached the gateways {}, where the plan expects no such call: an extra call, a late retry (after the step's settle time), or a call placed from another phone; re-run the step, or waive it with the reason",
                        s.when
                    ),
                }
            } else {
                result(
                    "route.not-forwarded",
                    verdict::req::NUMBER_PLAN,
                    false,
                    "only 911 and 933 reach the E911 gateways",
                    what.clone(),
                    format!(
                        "{what} reached the gateways {}: the number plan must keep every number but 911 and 933 away from the E911 gateways (ICD 5.2)",
                        s.when
                    ),
                )
            }
        })
        .collect();
    let mut observations: Vec<Observation> = strays
        .iter()
        .flat_map(|s| s.call.observations.iter().cloned())
        .collect();
    observations.sort_by_key(|o| (o.at_us, o.seq));
    Some(ScenarioReport {
        name: "unexpected-calls".into(),
        description: "Calls that reached the gateways outside what the plan's steps asked for."
            .into(),
        file: None,
        requirements: Vec::new(),
        not_applicable: None,
        checks,
        calls: strays
            .iter()
            .map(|s| call_record(s.call.dialed(), &s.call.observations))
            .collect(),
        observations,
        duration_ms: 0,
    })
}

#[cfg(test)]
#[path = "judge_tests.rs"]
mod tests;
