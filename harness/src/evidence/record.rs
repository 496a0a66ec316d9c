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
    let error = call.final_status().is_none().then(|| {
        let each: Vec<String> = call
            .attempts
            .iter()
            .map(|a| format!("{}: {}", a.gateway, failure_text(a)))
            .collect();
        if each.len() > 1 {
            format!("every gateway on the route failed: {}", each.join("; "))
        } else {
            each.join("; ")
        }
    });
    CallRecord {
        call_id: call
            .tried()
            .next()
            .map(|a| a.call_id().to_owned())
            .unwrap_or_default(),
        dial: call.dial.clone(),
        ani: call.ani.clone(),
        attempts: call.attempts.iter().map(attempt_record).collect(),
        final_status: call.final_status(),
        final_reason,
        answered_by: call.answered_by().map(str::to_owned),
        error,
        setup_us,
        duration_ms: ended.saturating_sub(started) / 1000,
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
        target: a.target.clone(),
        transport: match a.transport {
            TransportKind::Tls => "tls",
            TransportKind::Tcp => "tcp",
        }
        .to_owned(),
        status: a.end.status(),
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
