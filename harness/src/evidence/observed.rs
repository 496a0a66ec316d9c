//! A call the harness did not place: a real originator's call as the gateways received it
//! ([`super::Topology::Originator`]).
//!
//! The gateways record every request typed ([`Observation`]): which gateway, when on the run's
//! clock, the headers, the TLS session, the answer they gave. A call is the INVITEs of one
//! emergency call in arrival order (gw1's, then gw2's after a failover), each one an
//! [`Attempt`] ended by the gateway's own answer: a 2xx answered it, a failure status
//! rejected it, no final answer is "no answer" (the gateway was silent). What the originator
//! decided after each is what it did next: moved on to another gateway, or stopped. In-dialog
//! requests (ACK, BYE) of the answered INVITE give its teardown. Nothing is read from text:
//! every field comes from a typed observation field.
//!
//! What such a call cannot carry is the originator's own side: no INVITE as sent, no response
//! as received, no connect or handshake times. Verdicts that need them are not run in this
//! topology (see [`crate::verdict::originator`]).

use reports::{CallRecord, Observation};
use sip::transport::TransportKind;

use super::{Attempt, AttemptEnd, Call, Decision, Failure, Teardown, Timings};

/// The call whose requests at the gateways are `observations` (any order; connection events
/// and OPTIONS are left out): one attempt per new INVITE, in arrival order.
pub fn call_at_gateways(dial: &str, observations: &[Observation]) -> Call {
    let invites = invites(observations);
    let n = invites.len();
    let attempts: Vec<Attempt> = invites
        .iter()
        .enumerate()
        .map(|(i, o)| attempt(o, i + 1 == n, observations))
        .collect();
    Call {
        dial: dial.to_owned(),
        ani: invites
            .first()
            .and_then(|o| o.ani.as_ref())
            .map(|a| a.number.clone())
            .unwrap_or_default(),
        first_choice: invites
            .first()
            .map(|o| o.gateway.clone())
            .unwrap_or_default(),
        attempts,
    }
}

/// The new INVITEs of `observations`, in arrival order.
fn invites(observations: &[Observation]) -> Vec<&Observation> {
    let mut v: Vec<&Observation> = observations.iter().filter(|o| o.is_new_invite()).collect();
    v.sort_by_key(|o| (o.at_us, o.seq));
    v
}

/// How the gateway ended an INVITE: its answer.
fn end_of(o: &Observation) -> AttemptEnd {
    match o.response {
        Some(s) if (200..300).contains(&s) => AttemptEnd::Answered { status: s },
        Some(s) if s >= 300 => AttemptEnd::Rejected {
            status: s,
            q850: None,
        },
        _ => AttemptEnd::NoAnswer(Failure::TimedOut),
    }
}

/// The requests of the dialog `invite` opened at its gateway (same Call-ID), after it.
fn dialog<'a>(invite: &Observation, all: &'a [Observation]) -> Vec<&'a Observation> {
    all.iter()
        .filter(|o| {
            o.gateway == invite.gateway
                && o.call_id.is_some()
                && o.call_id == invite.call_id
                && o.at_us >= invite.at_us
                && !o.is_new_invite()
                && !o.is_connection_event()
        })
        .collect()
}

fn attempt(o: &Observation, last: bool, all: &[Observation]) -> Attempt {
    let end = end_of(o);
    let decision = match (&end, last) {
        (AttemptEnd::Answered { .. }, _) => Decision::Answered,
        (AttemptEnd::Rejected { .. }, true) => Decision::Final,
        (AttemptEnd::Rejected { .. }, false) => Decision::RetryableStatus,
        (_, _) => Decision::NoAnswer,
    };
    let in_dialog = dialog(o, all);
    let bye = in_dialog.iter().find(|r| r.method == "BYE");
    let teardown = end
        .is_answered()
        .then(|| match bye.and_then(|b| b.response) {
            Some(s) if (200..300).contains(&s) => Teardown::ByeAnswered,
            Some(s) => Teardown::ByeRejected(s),
            None => Teardown::ByeUnanswered,
        });
    let ended = in_dialog.iter().map(|r| r.at_us).max().unwrap_or(o.at_us);
    Attempt {
        gateway: o.gateway.clone(),
        target: o.request_uri.clone(),
        transport: if o.transport.eq_ignore_ascii_case("tls") {
            TransportKind::Tls
        } else {
            TransportKind::Tcp
        },
        end,
        decision,
        invite: None,
        final_response: None,
        provisionals: Vec::new(),
        tls: o.tls.clone(),
        timings: Timings {
            started_at_us: o.at_us,
            invite_at_us: Some(o.at_us),
            ended_at_us: ended,
            ..Timings::default()
        },
        notes: o
            .fault
            .iter()
            .map(|f| format!("gateway fault: {f}"))
            .collect(),
        teardown: if bye.is_some() { teardown } else { None },
        hung_up_by_peer: false,
        // A real originator's media is recorded by the gateway, on its BYE's observation.
        media: None,
    }
}

/// The report's record of the call whose requests at the gateways are `observations`: each
/// attempt with its Call-ID, Request-URI, transport, answer, Warning and TLS session as the
/// gateway saw them.
pub fn call_record(dial: &str, observations: &[Observation]) -> CallRecord {
    let call = call_at_gateways(dial, observations);
    let invites = invites(observations);
    let attempts: Vec<reports::Attempt> = invites
        .iter()
        .zip(&call.attempts)
        .map(|(o, a)| reports::Attempt {
            gateway: o.gateway.clone(),
            outcome: Some(a.end.outcome()),
            call_id: o.call_id.clone().unwrap_or_default(),
            invite_at_us: Some(o.at_us),
            started_at_us: Some(a.timings.started_at_us),
            ended_at_us: Some(a.timings.ended_at_us),
            target: format!("{} (from {})", o.request_uri, o.peer),
            transport: o.transport.to_ascii_lowercase(),
            status: o.response,
            reason: None,
            warning: o.warning.clone(),
            error: match (&a.end, &o.fault) {
                (AttemptEnd::NoAnswer(_), Some(f)) => {
                    Some(format!("the gateway gave no final answer ({f})"))
                }
                (AttemptEnd::NoAnswer(_), None) => Some("the gateway gave no final answer".into()),
                _ => None,
            },
            tls: o.tls.clone(),
            invite_to_100_us: None,
            invite_to_18x_us: None,
            invite_to_final_us: None,
            abandoned_at_us: None,
            media: None,
        })
        .collect();
    let first = invites.first().map(|o| o.at_us).unwrap_or(0);
    let last = observations.iter().map(|o| o.at_us).max().unwrap_or(first);
    CallRecord {
        call_id: invites
            .first()
            .and_then(|o| o.call_id.clone())
            .unwrap_or_default(),
        dial: dial.to_owned(),
        ani: call.ani.clone(),
        attempts,
        final_status: call.final_status(),
        final_reason: None,
        answered_by: call.answered_by().map(str::to_owned),
        error: call
            .final_status()
            .is_none()
            .then(|| "no gateway gave a final answer".to_owned()),
        setup_us: None,
        duration_ms: last.saturating_sub(first) / 1000,
        // The originator's call is what arrived: the ANI sent is the ANI observed.
        ani_observed: (!call.ani.is_empty()).then(|| call.ani.clone()),
        trace: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::invite_obs;

    fn bye(gateway: &str, at_us: u64, status: u16) -> Observation {
        let mut o = invite_obs(gateway, at_us, status);
        o.method = "BYE".into();
        o
    }

    #[test]
    fn a_failover_is_two_attempts_ended_by_each_gateways_answer() {
        let mut gw1 = invite_obs("gw1", 100, 503);
        gw1.fault = Some("respond 503 q850=34".into());
        let gw2 = invite_obs("gw2", 900, 200);
        let obs = [bye("gw2", 2_000, 200), gw2, gw1];
        let call = call_at_gateways("911", &obs);
        assert_eq!(call.attempts.len(), 2);
        assert_eq!(call.attempts[0].gateway, "gw1");
        assert_eq!(
            call.attempts[0].end,
            AttemptEnd::Rejected {
                status: 503,
                q850: None
            }
        );
        assert_eq!(call.attempts[0].decision, Decision::RetryableStatus);
        assert_eq!(call.attempts[1].decision, Decision::Answered);
        assert_eq!(call.attempts[1].teardown, Some(Teardown::ByeAnswered));
        assert_eq!(call.answered_by(), Some("gw2"));
        assert_eq!(call.final_status(), Some(200));
        assert_eq!(call.failover_us(), Some(800));
        assert_eq!(call.ani, "+13125550100");
        assert_eq!(call.first_choice, "gw1");
        let rec = call_record("911", &obs);
        assert_eq!(rec.answered_by.as_deref(), Some("gw2"));
        assert_eq!(rec.attempts[0].status, Some(503));
        assert_eq!(rec.attempts[1].call_id, "c1@trunk.invalid");
        assert_eq!(rec.error, None);
    }

    #[test]
    fn a_final_rejection_ends_the_call_and_silence_is_no_answer() {
        let call = call_at_gateways("911", &[invite_obs("gw1", 100, 403)]);
        assert_eq!(call.attempts[0].decision, Decision::Final);
        assert_eq!(call.final_status(), Some(403));
        let mut silent = invite_obs("gw1", 100, 200);
        silent.response = None;
        let call = call_at_gateways("911", &[silent.clone()]);
        assert_eq!(
            call.attempts[0].end,
            AttemptEnd::NoAnswer(Failure::TimedOut)
        );
        assert_eq!(call.final_status(), None);
        let rec = call_record("911", &[silent]);
        assert_eq!(rec.error.as_deref(), Some("no gateway gave a final answer"));
    }

    #[test]
    fn an_answered_call_without_a_bye_has_no_teardown_yet() {
        let call = call_at_gateways("911", &[invite_obs("gw1", 100, 200)]);
        assert_eq!(call.attempts[0].teardown, None);
        let call = call_at_gateways("911", &[invite_obs("gw1", 100, 200), bye("gw1", 500, 481)]);
        assert_eq!(call.attempts[0].teardown, Some(Teardown::ByeRejected(481)));
    }
}
