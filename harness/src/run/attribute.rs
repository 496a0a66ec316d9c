//! Which of the gateways' observations during a scenario belong to which of its calls.
//!
//! Each INVITE that went on the wire is matched by [`correlate`]: its token header, else its
//! Call-ID, else the dialled number and ANI. The last is all that is left behind an SBC that
//! replaces Call-IDs and drops headers it was not told about; with one call that is enough, with
//! several the calls are told apart by time: a gateway dialog belongs to a call when its first
//! INVITE arrived while that call, and no other, was being set up (from the trunk's INVITE to
//! the final response the trunk received; one clock for both sides). A dialog that arrived while
//! two calls were being set up belongs to neither, and those calls are reported as not
//! attributable rather than judged on a guess. Calls placed through a system under test start
//! one after another's setup ([`super::place`]), so this only happens when setups took longer
//! than the stagger.

use std::collections::BTreeMap;

use reports::{CheckResult, Observation, Outcome};
use scenarios::Scenario;

use crate::evidence::{Call, TOKEN_HEADER};
use crate::originate::correlate::{Correlation, correlate};
use crate::verdict;

/// A call's share of the gateways' observations.
#[derive(Debug, Clone, PartialEq)]
pub enum Attributed {
    /// These observations are the call's (empty: it reached no gateway).
    Found(Vec<Observation>),
    /// The gateways saw INVITEs that may be this call's or another's: why.
    Ambiguous(String),
}

impl Attributed {
    /// The observations, when they could be attributed.
    pub fn found(&self) -> Option<&[Observation]> {
        match self {
            Attributed::Found(v) => Some(v),
            Attributed::Ambiguous(_) => None,
        }
    }
}

/// When a call was being set up, in run-epoch microseconds: from its first INVITE on the wire
/// to the last final response (or give-up) of its attempts; `None` when it sent no INVITE.
fn setup_window(call: &Call) -> Option<(u64, u64)> {
    let sent: Vec<_> = call.tried().filter(|a| a.invite_sent()).collect();
    let start = sent.iter().filter_map(|a| a.timings.invite_at_us).min()?;
    let end = sent
        .iter()
        .map(|a| match (a.timings.invite_at_us, a.timings.to_final_us) {
            (Some(at), Some(d)) => at + d,
            _ => a.timings.ended_at_us,
        })
        .max()
        .unwrap_or(start);
    Some((start, end.max(start)))
}

/// Each call's observations out of everything the gateways observed during `sc`. The
/// connection events (faults on accept, refused handshakes: no Call-ID) go to the call when the
/// scenario placed one.
pub fn per_call(sc: &Scenario, calls: &[Call], all: &[Observation]) -> Vec<Attributed> {
    let events: Vec<&Observation> = all.iter().filter(|o| o.is_connection_event()).collect();
    let logged: Vec<Observation> = all
        .iter()
        .filter(|o| !o.is_connection_event())
        .cloned()
        .collect();
    let windows: Vec<Option<(u64, u64)>> = calls.iter().map(setup_window).collect();
    calls
        .iter()
        .enumerate()
        .map(|(i, call)| {
            let mut mine: Vec<Observation> = Vec::new();
            let mut ambiguous: Vec<usize> = Vec::new();
            // Only an INVITE that went on the wire can have reached anyone.
            for a in call.tried().filter(|a| a.invite_sent()) {
                let Some(invite) = &a.invite else { continue };
                let (mut found, how) = correlate(invite, &sc.call.dial, &call.ani, &logged);
                if how == Correlation::DialAndAni && calls.len() > 1 {
                    let (kept, shared) = by_time(&found, i, &windows);
                    ambiguous.extend(shared);
                    found.retain(|o| o.call_id.as_ref().is_some_and(|c| kept.contains(c)));
                }
                for o in found {
                    if !mine
                        .iter()
                        .any(|m| m.gateway == o.gateway && m.seq == o.seq)
                    {
                        mine.push(o.clone());
                    }
                }
            }
            if !ambiguous.is_empty() {
                ambiguous.sort_unstable();
                ambiguous.dedup();
                let others = ambiguous
                    .iter()
                    .map(|j| format!("call {}", j + 1))
                    .collect::<Vec<_>>()
                    .join(", ");
                return Attributed::Ambiguous(format!(
                    "call {} of {}: the gateways received INVITEs for {} from {} while this call and {others} were both being set up, and nothing else tells them apart: the Call-ID was replaced and the {TOKEN_HEADER} header did not arrive (let it through the system under test to judge every call)",
                    i + 1,
                    calls.len(),
                    scenarios::dialled_number(&sc.call.dial),
                    call.ani,
                ));
            }
            if calls.len() == 1 {
                mine.extend(events.iter().map(|o| (*o).clone()));
            }
            mine.sort_by_key(|o| o.at_us);
            Attributed::Found(mine)
        })
        .collect()
}

/// Of the gateway dialogs in `found` (by the Call-ID the gateway saw), those whose first INVITE
/// arrived during call `i`'s setup and no other's, and the other calls whose setup a dialog of
/// call `i`'s window also falls in.
fn by_time(
    found: &[&Observation],
    i: usize,
    windows: &[Option<(u64, u64)>],
) -> (Vec<String>, Vec<usize>) {
    let mut first: BTreeMap<&str, u64> = BTreeMap::new();
    for o in found.iter().filter(|o| o.is_new_invite()) {
        if let Some(c) = o.call_id.as_deref() {
            let at = first.entry(c).or_insert(o.at_us);
            *at = (*at).min(o.at_us);
        }
    }
    let within = |w: &Option<(u64, u64)>, at: u64| w.is_some_and(|(s, e)| s <= at && at <= e);
    let mut kept = Vec::new();
    let mut shared = Vec::new();
    for (call_id, at) in first {
        if !within(&windows[i], at) {
            continue;
        }
        let others: Vec<usize> = (0..windows.len())
            .filter(|&j| j != i && within(&windows[j], at))
            .collect();
        if others.is_empty() {
            kept.push(call_id.to_owned());
        } else {
            shared.extend(others);
        }
    }
    (kept, shared)
}

/// The error check of a call whose observations could not be attributed.
pub fn not_attributable(sc: &Scenario, why: &str) -> CheckResult {
    verdict::outcome(
        "evidence.correlation",
        verdict::primary(sc),
        Outcome::Error,
        Some("the gateways' INVITEs of each call told apart".into()),
        Some("not attributable".into()),
        why,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evidence::AttemptEnd;
    use crate::test_support::{attempt_at, call_of, invite_obs, scenario};

    /// A call to the system under test whose INVITE left at `at` and got its 200 2 ms later.
    fn call_at(at: u64) -> Call {
        call_of(vec![attempt_at(
            "sut",
            AttemptEnd::Answered { status: 200 },
            at,
            "",
        )])
    }

    /// An INVITE at `gateway` at `at` under the gateway-side Call-ID `id` (a B2BUA's own).
    fn leg(gateway: &str, at: u64, id: &str) -> Observation {
        let mut o = invite_obs(gateway, at, 200);
        o.call_id = Some(id.into());
        o
    }

    fn ids(a: &Attributed) -> Vec<String> {
        a.found()
            .expect("attributed")
            .iter()
            .filter_map(|o| o.call_id.clone())
            .collect()
    }

    #[test]
    fn one_call_takes_every_matching_invite_and_the_connection_events() {
        let sc = scenario("status = 200");
        let mut refused = crate::test_support::connection_event("gw1", 500, None, Some("bad"));
        refused.call_id = None;
        let all = [leg("gw1", 11_000, "b2b-1"), refused];
        let got = per_call(&sc, &[call_at(10_000)], &all);
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].found().expect("found").len(), 2);
    }

    #[test]
    fn calls_set_up_one_after_another_are_told_apart_by_time() {
        let sc = scenario("status = 200");
        // Call 1 is set up from 10.000 to 12.000 ms, call 2 from 20.000 to 22.000 ms; each
        // INVITE at a gateway arrived during one setup only.
        let calls = [call_at(10_000), call_at(20_000)];
        let all = [
            leg("gw1", 10_500, "b2b-1"),
            leg("gw1", 20_400, "b2b-2"),
            leg("gw2", 21_000, "b2b-3"),
        ];
        let got = per_call(&sc, &calls, &all);
        assert_eq!(ids(&got[0]), ["b2b-1"]);
        assert_eq!(ids(&got[1]), ["b2b-2", "b2b-3"]);
        // An INVITE outside every setup (a retry after the trunk had its answer) is no call's.
        let late = [leg("gw1", 10_500, "b2b-1"), leg("gw2", 15_000, "b2b-9")];
        let got = per_call(&sc, &calls, &late);
        assert_eq!(ids(&got[0]), ["b2b-1"]);
        assert!(ids(&got[1]).is_empty());
        // The boundaries belong to the setup.
        let edges = [leg("gw1", 10_000, "b2b-1"), leg("gw1", 22_000, "b2b-2")];
        let got = per_call(&sc, &calls, &edges);
        assert_eq!(ids(&got[0]), ["b2b-1"]);
        assert_eq!(ids(&got[1]), ["b2b-2"]);
    }

    #[test]
    fn overlapping_setups_are_not_judged_on_a_guess() {
        let sc = scenario("status = 200");
        // Call 2 left at 11.000 ms, while call 1 (10.000 to 12.000) was still being set up.
        let calls = [call_at(10_000), call_at(11_000)];
        let all = [leg("gw1", 11_500, "b2b-1"), leg("gw1", 12_500, "b2b-2")];
        let got = per_call(&sc, &calls, &all);
        let Attributed::Ambiguous(why) = &got[0] else {
            panic!("call 1 shares an INVITE with call 2: {got:?}");
        };
        assert!(why.starts_with("call 1 of 2"), "{why}");
        assert!(why.contains("call 2 were both being set up"), "{why}");
        assert!(why.contains("X-E911-Harness-Call"), "{why}");
        assert!(matches!(got[1], Attributed::Ambiguous(_)));
        let check = not_attributable(&sc, why);
        assert_eq!(check.outcome, Outcome::Error);
        assert_eq!(check.id, "evidence.correlation");
        // Only b2b-2 (12.500) falls in call 2 alone: had it been the only INVITE, call 2 would
        // have it and call 1 nothing.
        let got = per_call(&sc, &calls, &all[1..]);
        assert!(ids(&got[0]).is_empty());
        assert_eq!(ids(&got[1]), ["b2b-2"]);
    }

    #[test]
    fn the_token_or_the_call_id_needs_no_time() {
        let sc = scenario("status = 200");
        let calls = [call_at(10_000), call_at(10_000)];
        // Both calls' INVITE has Call-ID c1@trunk.invalid (a proxy kept it): both get it.
        let got = per_call(&sc, &calls, &[invite_obs("gw1", 10_500, 200)]);
        assert_eq!(ids(&got[0]), ["c1@trunk.invalid"]);
        assert_eq!(ids(&got[1]), ["c1@trunk.invalid"]);
    }
}
