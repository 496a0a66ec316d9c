//! The edge: a [`Call`] as the report records it ([`reports::CallRecord`]). Built once, after
//! the verdicts, from the typed evidence; nothing reads a record back to decide anything.

use reports::CallRecord;
use sip::HeaderName;
use sip::transport::TransportKind;

use super::{Attempt, AttemptEnd, Call, NotAttempted};

/// The report's record of `call`.
pub fn call_record(call: &Call) -> CallRecord {
    let first_invite = call.first_invite_at_us();
    let answered = call.attempts.iter().find(|a| a.end.is_answered());
    // Setup runs from the call's first INVITE (whichever gateway it went to) to the 2xx.
    let setup_us = answered.and_then(|a| {
        let at = a.timings.invite_at_us? + a.timings.to_final_us?;
        Some(at.saturating_sub(first_invite.unwrap_or(at)))
    });
    let started = call
        .attempts
        .iter()
        .map(|a| a.timings.started_at_us)
        .min()
        .unwrap_or(0);
    let ended = call
        .attempts
        .iter()
        .map(|a| a.timings.ended_at_us)
        .max()
        .unwrap_or(started);
    let final_reason = match call.ender().map(|a| &a.end) {
        Some(AttemptEnd::NotAttempted(NotAttempted::NumberPlan)) => {
            Some("Not Found (no E911 route for the number: the trunk's number plan)".to_owned())
        }
        _ => call.final_response().map(|r| r.reason.clone()),
    };
    // A lone attempt's failure as the attempt tells it (its record names the gateway); over a
    // route, each gateway's in turn.
    let error = call
        .final_status()
        .is_none()
        .then(|| match call.attempts.as_slice() {
            [only] => failure_text(only),
            all => format!(
                "every gateway on the route failed: {}",
                all.iter()
                    .map(|a| format!("{}: {}", a.gateway, failure_text(a)))
                    .collect::<Vec<_>>()
                    .join("; ")
            ),
        });
    CallRecord {
        call_id: call
            .tried()
            .next()
            .map(|a| a.call_id().to_owned())
            .unwrap_or_default(),
        dial: call.dial.clone(),
        ani: call.ani.clone(),
        // Filled by the run from the gateways' observations, when there are any.
        ani_observed: None,
        attempts: call.attempts.iter().map(attempt_record).collect(),
        final_status: call.final_status(),
        final_reason,
        answered_by: call.answered_by().map(str::to_owned),
        error,
        setup_us,
        duration_ms: ended.saturating_sub(started) / 1000,
        // Filled by the run from its capture, when it keeps one.
        trace: Vec::new(),
    }
}

/// The report's record of one attempt.
pub fn attempt_record(a: &Attempt) -> reports::Attempt {
    let resp = a.final_response.as_ref();
    let failed = !matches!(
        a.end,
        AttemptEnd::Answered { .. } | AttemptEnd::Rejected { .. }
    );
    reports::Attempt {
        gateway: a.gateway.clone(),
        outcome: Some(a.end.outcome()),
        call_id: a.call_id().to_owned(),
        invite_at_us: a.timings.invite_at_us,
        started_at_us: Some(a.timings.started_at_us),
        ended_at_us: Some(a.timings.ended_at_us),
        target: a.target.clone(),
        transport: match a.transport {
            TransportKind::Tls => "tls",
            TransportKind::Tcp => "tcp",
        }
        .to_owned(),
        // What came on the wire: a 487 after the trunk's own CANCEL too (the outcome says the
        // attempt timed out).
        status: resp.map(|r| r.status).or(a.end.status()),
        reason: resp.map(|r| r.reason.clone()),
        warning: resp.and_then(|r| r.headers.get(&HeaderName::Warning).map(str::to_owned)),
        error: if failed || !a.notes.is_empty() {
            Some(failure_text(a))
        } else {
            None
        },
        tls: a.tls.clone(),
        invite_to_100_us: a.timings.to_100_us,
        invite_to_18x_us: a.timings.to_18x_us,
        invite_to_final_us: a.timings.to_final_us,
        abandoned_at_us: a.timings.abandoned_at_us,
        media: a.media.clone(),
    }
}

/// What went wrong with `a`, in words: its notes (the transport's own text), else its end.
fn failure_text(a: &Attempt) -> String {
    if a.notes.is_empty() {
        a.end.describe()
    } else {
        a.notes.join("; ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evidence::{Decision, Failure};

    fn attempt(
        gw: &str,
        end: AttemptEnd,
        decision: Decision,
        invite_at: u64,
        to_final: u64,
    ) -> Attempt {
        let mut a = Attempt::not_made(gw, end, decision, invite_at.saturating_sub(100));
        a.timings.invite_at_us = Some(invite_at);
        a.timings.to_final_us = Some(to_final);
        a.timings.ended_at_us = invite_at + to_final;
        a
    }

    #[test]
    fn setup_runs_from_the_first_invite_to_the_answer_on_any_gateway() {
        let call = Call {
            dial: "911".into(),
            ani: "+13125550100".into(),
            first_choice: "gw1".into(),
            attempts: vec![
                attempt(
                    "gw1",
                    AttemptEnd::Rejected {
                        status: 503,
                        q850: Some(34),
                    },
                    Decision::RetryableStatus,
                    1_000,
                    300,
                ),
                attempt(
                    "gw2",
                    AttemptEnd::Answered { status: 200 },
                    Decision::Answered,
                    5_000,
                    800,
                ),
            ],
        };
        let r = call_record(&call);
        assert_eq!(r.setup_us, Some(5_800 - 1_000), "both attempts count");
        assert_eq!(r.attempts[0].started_at_us, Some(900));
        assert_eq!(r.attempts[1].ended_at_us, Some(5_800));
        assert_eq!(r.ani_observed, None, "the run fills it from the gateways");

        let one = Call {
            attempts: vec![attempt(
                "gw1",
                AttemptEnd::Answered { status: 200 },
                Decision::Answered,
                10,
                190,
            )],
            ..call.clone()
        };
        assert_eq!(
            call_record(&one).setup_us,
            Some(190),
            "a 190 µs setup is 190 µs"
        );
        let failed = Call {
            attempts: vec![attempt(
                "gw1",
                AttemptEnd::NoAnswer(Failure::TimedOut),
                Decision::NoAnswer,
                10,
                0,
            )],
            ..call
        };
        assert_eq!(call_record(&failed).setup_us, None);
    }
}
