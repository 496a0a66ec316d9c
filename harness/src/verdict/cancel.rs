//! `call.cancel` (RFC 3261 §9.1, §16.10): a caller who hangs up before the call is answered (an
//! abandoned call, `call.abandon_after`) ends it everywhere. The trunk CANCELs its INVITE; every
//! gateway the INVITE reached must then receive a CANCEL and end the INVITE without answering,
//! or a PSAP picks up a call nobody is on. Judged at the gateways, so a system under test that
//! swallows the CANCEL (or answers it itself and lets the INVITE ring on) is caught.
//!
//! A gateway whose INVITE had already ended with a failure answer of its own (a 503 the route
//! moved on from) has nothing left to cancel. An abandoned call whose INVITE reached no gateway
//! did not exercise any of this: an error, never a pass.

use reports::{CheckResult, Observation, Outcome};

use super::{CallEvidence, NO_GATEWAYS, Setting, outcome, req, route::ms, skipped};
use crate::evidence::Topology;

/// What became of one gateway's INVITE after the caller hung up.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Fate {
    /// A CANCEL arrived at `at_us` and the INVITE ended without an answer (`status`: 487, or
    /// whatever the gateway said).
    Cancelled { at_us: u64, status: Option<u16> },
    /// The INVITE had ended with this failure answer on its own; nothing to cancel.
    EndedBefore(u16),
    /// The gateway answered 2xx: the call was picked up after the caller had gone. `cancel_at`:
    /// when a CANCEL arrived anyway (too late).
    Answered { status: u16, cancel_at: Option<u64> },
    /// No CANCEL and no final answer recorded: still ringing when the run looked.
    Pending,
}

impl Fate {
    fn ok(&self) -> bool {
        matches!(self, Fate::Cancelled { .. } | Fate::EndedBefore(_))
    }

    /// In words, with times relative to the hang-up at `hung_up`.
    fn describe(&self, gateway: &str, hung_up: u64) -> String {
        let after = |at: u64| {
            if at >= hung_up {
                format!("{} after the hang-up", ms(at - hung_up))
            } else {
                format!("{} before the hang-up", ms(hung_up - at))
            }
        };
        match self {
            Fate::Cancelled { at_us, status } => format!(
                "{gateway}: CANCEL {}, INVITE ended {}",
                after(*at_us),
                status.map_or_else(|| "(no answer recorded)".to_owned(), |s| s.to_string())
            ),
            Fate::EndedBefore(s) => format!("{gateway}: had answered {s} on its own"),
            Fate::Answered {
                status,
                cancel_at: None,
            } => format!("{gateway}: no CANCEL, answered {status}"),
            Fate::Answered {
                status,
                cancel_at: Some(at),
            } => format!(
                "{gateway}: answered {status} before its CANCEL arrived {}",
                after(*at)
            ),
            Fate::Pending => format!("{gateway}: no CANCEL, still ringing"),
        }
    }
}

/// The fate of `invite` at its gateway, from that gateway's CANCEL for the same dialog.
fn fate(invite: &Observation, all: &[Observation]) -> Fate {
    let cancel = all.iter().find(|o| {
        o.method == "CANCEL"
            && o.gateway == invite.gateway
            && o.call_id.is_some()
            && o.call_id == invite.call_id
    });
    match (invite.response, cancel) {
        (Some(s), c) if invite.answered_2xx() => Fate::Answered {
            status: s,
            cancel_at: c.map(|c| c.at_us),
        },
        (status, Some(c)) => Fate::Cancelled {
            at_us: c.at_us,
            status,
        },
        (Some(s), None) => Fate::EndedBefore(s),
        (None, None) => Fate::Pending,
    }
}

/// `call.cancel` for an abandoned call; `None` when the caller did not hang up early, or when
/// the harness is not the trunk (a real originator's CANCELs are its own).
pub fn judge(setting: &Setting, c: &CallEvidence<'_>) -> Option<CheckResult> {
    let hung_up = c.call.abandoned_at_us()?;
    if setting.topology == Topology::Originator {
        return None;
    }
    let when = match c.call.first_invite_at_us() {
        Some(sent) => format!("{} after its INVITE", ms(hung_up.saturating_sub(sent))),
        None => format!("at {}", ms(hung_up)),
    };
    const EXPECTED: &str = "a CANCEL at every gateway the INVITE reached, and no answer";
    let Some(all) = c.observations else {
        return Some(skipped(
            "call.cancel",
            req::SIP,
            Some(EXPECTED.into()),
            NO_GATEWAYS,
        ));
    };
    let invites = c.invites();
    if invites.is_empty() {
        return Some(outcome(
            "call.cancel",
            req::SIP,
            Outcome::Error,
            Some(EXPECTED.into()),
            Some("no INVITE at any gateway".into()),
            format!(
                "the caller hung up {when} before the INVITE reached any gateway, so nothing was left to cancel and CANCEL handling was not exercised (give the call longer before it hangs up: call.abandon_after): {}",
                c.call.path()
            ),
        ));
    }
    let fates: Vec<(&str, Fate)> = invites
        .iter()
        .map(|i| (i.gateway.as_str(), fate(i, all)))
        .collect();
    let observed = fates
        .iter()
        .map(|(g, f)| f.describe(g, hung_up))
        .collect::<Vec<_>>()
        .join("; ");
    let bad: Vec<&(&str, Fate)> = fates.iter().filter(|(_, f)| !f.ok()).collect();
    let message = if bad.is_empty() {
        format!("the caller hung up {when} and the call ended everywhere: {observed}")
    } else {
        let picked_up = bad.iter().any(|(_, f)| matches!(f, Fate::Answered { .. }));
        format!(
            "the caller hung up {when} but {}{} (RFC 3261 §9.1; a proxy cancels its pending branches, §16.10)",
            bad.iter()
                .map(|(g, f)| f.describe(g, hung_up))
                .collect::<Vec<_>>()
                .join("; "),
            if picked_up {
                ": a PSAP would pick up a call nobody is on"
            } else {
                ": the gateway keeps ringing a PSAP for a caller who has gone"
            }
        )
    };
    Some(outcome(
        "call.cancel",
        req::SIP,
        if bad.is_empty() {
            Outcome::Pass
        } else {
            Outcome::Fail
        },
        Some(EXPECTED.into()),
        Some(observed),
        message,
    ))
}

#[cfg(test)]
#[path = "cancel_tests.rs"]
mod tests;
