//! Short human phrasings shared by the writers: a check's failure text, a call's path across
//! gateways, its status and timings. Plain text; each writer escapes for its own format.

use crate::model::{Attempt, CallRecord, CheckResult, TlsInfo};

/// `expected X, observed Y: message`, leaving out the parts that are absent.
pub(crate) fn failure_text(c: &CheckResult) -> String {
    let mut parts = Vec::new();
    if let Some(e) = &c.expected {
        parts.push(format!("expected {e}"));
    }
    if let Some(o) = &c.observed {
        parts.push(format!("observed {o}"));
    }
    let head = parts.join(", ");
    match (head.is_empty(), c.message.is_empty()) {
        (true, _) => c.message.clone(),
        (false, true) => head,
        (false, false) => format!("{head}: {}", c.message),
    }
}

/// Folds line breaks into ` / ` so a value stays on one line (terminal, XML attributes).
pub(crate) fn one_line(s: &str) -> String {
    s.replace("\r\n", " / ").replace(['\r', '\n'], " / ")
}

/// Microseconds as milliseconds to the microsecond: `2345` -> `2.345` (a 190 µs setup is
/// `0.190`, not `0.1`).
pub(crate) fn ms(us: u64) -> String {
    crate::trace::ms3(us)
}

/// What one attempt ended with: `503 Service Unavailable`, `connection refused`, `no final`.
pub(crate) fn attempt_result(a: &Attempt) -> String {
    match (a.status, &a.error) {
        (Some(s), _) => match &a.reason {
            Some(r) if !r.is_empty() => format!("{s} {r}"),
            _ => s.to_string(),
        },
        (None, Some(e)) => e.clone(),
        (None, None) => "no final response".to_owned(),
    }
}

/// Gateways tried in order with their status codes: `gw1 503 -> gw2 200`.
pub(crate) fn gateways_tried(call: &CallRecord) -> String {
    if call.attempts.is_empty() {
        return "none".to_owned();
    }
    call.attempts
        .iter()
        .map(|a| match (a.status, &a.error) {
            (Some(s), _) => format!("{} {s}", a.gateway),
            (None, Some(_)) => format!("{} failed", a.gateway),
            (None, None) => format!("{} no final", a.gateway),
        })
        .collect::<Vec<_>>()
        .join(" -> ")
}

/// The call's final status: `200 OK`, or the error that ended it.
pub(crate) fn call_status(call: &CallRecord) -> String {
    match (call.final_status, &call.error) {
        (Some(s), _) => match &call.final_reason {
            Some(r) if !r.is_empty() => format!("{s} {r}"),
            _ => s.to_string(),
        },
        (None, Some(e)) => format!("error: {e}"),
        (None, None) => "no final response".to_owned(),
    }
}

/// TLS of the attempt that mattered: the answering gateway's, else the last attempt with TLS.
pub fn call_tls(call: &CallRecord) -> Option<&TlsInfo> {
    let answered = call.answered_by.as_deref().and_then(|gw| {
        call.attempts
            .iter()
            .rev()
            .find(|a| a.gateway == gw && a.tls.is_some())
    });
    answered
        .or_else(|| call.attempts.iter().rev().find(|a| a.tls.is_some()))
        .and_then(|a| a.tls.as_ref())
}

/// `TLSv1.2 TLS_ECDHE_..._SHA384 (secp384r1, RSA 2048)`.
pub(crate) fn tls_text(t: &TlsInfo) -> String {
    let extra: Vec<&str> = [t.group.as_deref(), t.certificate.as_deref()]
        .into_iter()
        .flatten()
        .collect();
    if extra.is_empty() {
        format!("{} {}", t.version, t.cipher)
    } else {
        format!("{} {} ({})", t.version, t.cipher, extra.join(", "))
    }
}

/// A multi-line plain-text account of a call: one summary line, then one line per attempt.
pub(crate) fn call_block(call: &CallRecord) -> String {
    let mut s = format!(
        "call {} dial {} ani {}: {}",
        call.call_id,
        call.dial,
        call.ani,
        call_status(call)
    );
    if let Some(gw) = &call.answered_by {
        s.push_str(&format!(", answered by {gw}"));
    }
    if let Some(us) = call.setup_us {
        s.push_str(&format!(", setup {} ms", ms(us)));
    }
    s.push_str(&format!(", {} ms\n", call.duration_ms));
    for (i, a) in call.attempts.iter().enumerate() {
        s.push_str(&format!(
            "  attempt {} {} {} {}: {}",
            i + 1,
            a.gateway,
            a.transport,
            a.target,
            attempt_result(a)
        ));
        if let (Some(_), Some(e)) = (a.status, &a.error) {
            s.push_str(&format!(" ({e})"));
        }
        if let Some(w) = &a.warning {
            s.push_str(&format!(", warning {w}"));
        }
        let timings: Vec<String> = [
            ("100", a.invite_to_100_us),
            ("18x", a.invite_to_18x_us),
            ("final", a.invite_to_final_us),
        ]
        .into_iter()
        .filter_map(|(name, us)| us.map(|us| format!("{name} {} ms", ms(us))))
        .collect();
        if !timings.is_empty() {
            s.push_str(&format!(", {}", timings.join(" ")));
        }
        if let Some(t) = &a.tls {
            s.push_str(&format!(", {}", tls_text(t)));
            if let Some(sni) = &t.sni {
                s.push_str(&format!(" sni {sni}"));
            }
        }
        s.push('\n');
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Outcome;
    use crate::sample::sample_report;

    #[test]
    fn failure_text_leaves_out_absent_parts() {
        let mut c = CheckResult {
            id: "x".into(),
            requirement: None,
            outcome: Outcome::Fail,
            expected: Some("1".into()),
            observed: Some("0".into()),
            message: "header missing".into(),
        };
        assert_eq!(failure_text(&c), "expected 1, observed 0: header missing");
        c.expected = None;
        assert_eq!(failure_text(&c), "observed 0: header missing");
        c.observed = None;
        assert_eq!(failure_text(&c), "header missing");
        c.expected = Some("1".into());
        c.message.clear();
        assert_eq!(failure_text(&c), "expected 1");
    }

    #[test]
    fn call_phrasing_follows_the_attempts() {
        let r = sample_report();
        let failover = &r.scenarios[1].calls[0];
        assert_eq!(gateways_tried(failover), "gw1 503 -> gw2 200");
        assert_eq!(call_status(failover), "200 OK");
        assert_eq!(
            call_tls(failover).and_then(|t| t.sni.as_deref()),
            None,
            "gw2's TLS, not gw1's"
        );
        let refused = &r.scenarios[2].calls[0];
        assert_eq!(gateways_tried(refused), "gw3 failed");
        assert_eq!(call_status(refused), "error: all gateways failed");
        assert!(call_tls(refused).is_none());
        let block = call_block(failover);
        assert!(
            block.contains("attempt 1 gw1 tls 127.0.0.1:5061: 503 Service Unavailable"),
            "{block}"
        );
        assert!(block.contains("setup 3.100 ms"), "{block}");
        assert_eq!(ms(2_345), "2.345");
        assert_eq!(ms(190), "0.190");
    }
}
