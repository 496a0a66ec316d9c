//! What the terminal tells the operator (pure text): what to do next, what the gateways will do,
//! what must arrive, what did arrive, and each step's verdict.

use reports::{Observation, Outcome, ScenarioReport};
use scenarios::plan::PlanStep;
use scenarios::{FaultKind, FaultSpec, FaultWhen, Scenario, TlsFaultKind, is_emergency_number};

use super::judge::expected_ani;

/// The instruction for step `index` (0-based) of `total`: what to do, what the gateways do,
/// what must arrive, how long the harness waits (`timeout`) and how the step ends.
pub fn instruction(
    step: &PlanStep,
    sc: &Scenario,
    index: usize,
    total: usize,
    timeout: std::time::Duration,
    driving: bool,
) -> String {
    let dial = scenarios::dialled_number(&sc.call.dial);
    let mut lines = vec![
        format!(
            "call {} of {total}: {} ({})",
            index + 1,
            sc.name,
            sc.requirements.join(", ")
        ),
        format!("  {}", step.say),
        format!("  gateways: {}", gateways(step, sc)),
    ];
    if is_emergency_number(dial) {
        lines.push(format!("  must arrive: {}", must_arrive(sc)));
    } else {
        lines.push(format!(
            "  must arrive: nothing: {dial} must never reach the E911 gateways (ICD 5.2)"
        ));
    }
    let wait = humantime::format_duration(timeout);
    lines.push(if driving {
        format!("  running the drive command (up to {wait})")
    } else if is_emergency_number(dial) {
        format!(
            "  waiting up to {wait} for {}; press Enter when you are done",
            calls(step.calls(), dial)
        )
    } else {
        format!("  place the call, hang up, then press Enter (waiting up to {wait})")
    });
    lines.join("\n")
}

fn calls(n: u32, dial: &str) -> String {
    if n == 1 {
        format!("the call to {dial}")
    } else {
        format!("{n} calls to {dial}")
    }
}

/// `gw1 answers 503 with Q.850 cause 34; gw2 answers`.
fn gateways(step: &PlanStep, sc: &Scenario) -> String {
    let names = sc
        .route
        .as_ref()
        .map(|r| r.gateways.clone())
        .unwrap_or_else(|| vec![sc.call.gateway.clone()]);
    names
        .iter()
        .map(|g| {
            if step.down.contains(g) {
                return format!("{g} is down (its connections are refused)");
            }
            let faults: Vec<String> = sc
                .faults
                .iter()
                .filter(|f| &f.gateway == g)
                .map(fault_phrase)
                .collect();
            if faults.is_empty() {
                format!("{g} answers")
            } else {
                format!("{g} {}", faults.join(", then "))
            }
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// What a fault makes the gateway do, in words.
pub fn fault_phrase(f: &FaultSpec) -> String {
    match &f.kind {
        FaultKind::Respond { status, q850, .. } => match q850 {
            Some(c) => format!("answers {status} with Q.850 cause {c}"),
            None => format!("answers {status}"),
        },
        FaultKind::Delay(d) => format!("answers after {}", humantime::format_duration(*d)),
        FaultKind::TryingThenSilence => "answers 100 Trying, then nothing".into(),
        FaultKind::Silence => "reads the INVITE and never answers".into(),
        FaultKind::Close(FaultWhen::BeforeInvite) => "closes every connection at once".into(),
        FaultKind::Close(FaultWhen::AfterInvite) => "closes the connection after the INVITE".into(),
        FaultKind::Reset(FaultWhen::BeforeInvite) => "resets every connection at once".into(),
        FaultKind::Reset(FaultWhen::AfterInvite) => "resets the connection after the INVITE".into(),
        FaultKind::Tls(TlsFaultKind::ProtocolError) => "refuses the TLS handshake".into(),
        FaultKind::Tls(t) => format!("presents a certificate that is {}", t.label()),
        FaultKind::Media(m) => format!("answers, then gets its media wrong ({})", m.label()),
    }
}

/// `911 from +13125550129 (site-ani after ...) in P-Asserted-Identity, org ..., answered by gw2`.
fn must_arrive(sc: &Scenario) -> String {
    let dial = scenarios::dialled_number(&sc.call.dial);
    let e = &sc.expect;
    let mut parts = Vec::new();
    let ani = expected_ani(sc).unwrap_or_else(|| "(any ANI)".into());
    let why = scenarios::caller::selection(sc)
        .map(|s| format!(" ({})", s.explain()))
        .unwrap_or_default();
    parts.push(format!("{dial} from {ani}{why}"));
    if let Some(h) = e.ani_source {
        parts.push(format!("ANI in {h}"));
    }
    if let Some(org) = sc.call.org_headers.first() {
        parts.push(format!("E911-Organization-ID {org}"));
    }
    if sc.call.tls.name() == "genesys-byoc" {
        parts.push("TLS 1.2 with the Genesys BYOC profile".into());
    }
    if let Some(s) = e.status {
        parts.push(format!("final answer {s}"));
    }
    if let Some(g) = &e.answered_by {
        parts.push(format!("answered by {g}"));
    }
    if let Some(n) = e.attempts {
        parts.push(format!("{n} gateway(s) tried"));
    }
    if let Some(d) = e.failover_within {
        parts.push(format!("failover within {}", humantime::format_duration(d)));
    }
    if e.no_retry == Some(true) {
        parts.push("no retry on another gateway".into());
    }
    if let Some(rb) = &e.readback {
        let what: Vec<&str> = [rb.number.as_deref(), rb.address.as_deref()]
            .into_iter()
            .flatten()
            .collect();
        parts.push(format!("read back {}", what.join(", ")));
    }
    if let Some(p) = &e.routing {
        parts.push(format!("routed to {p}"));
    }
    parts.join("; ")
}

/// One line for an observation as it arrives at a gateway; `None` for what is not worth a
/// line (retransmissions).
pub fn arrival(o: &Observation) -> Option<String> {
    if o.retransmission {
        return None;
    }
    let gw = &o.gateway;
    if o.is_connection_event() {
        return Some(match (&o.tls_error, &o.fault) {
            (Some(e), _) => format!("  {gw} <- TLS handshake failed: {e}"),
            (None, Some(f)) => format!("  {gw} <- connection ({f})"),
            (None, None) => format!("  {gw} <- connection"),
        });
    }
    let answer =
        o.response
            .map(|s| format!(" -> {s}"))
            .unwrap_or_else(|| match o.method.as_str() {
                "ACK" => String::new(),
                _ => " -> no answer".into(),
            });
    let fault = o
        .fault
        .as_deref()
        .map(|f| format!(" [{f}]"))
        .unwrap_or_default();
    if o.method != "INVITE" {
        return Some(format!("  {gw} <- {}{answer}{fault}", o.method));
    }
    let dial = o.dialed.as_deref().unwrap_or("?");
    let ani = o
        .ani
        .as_ref()
        .map(|a| format!("{} ({})", a.number, a.source))
        .unwrap_or_else(|| "(no ANI)".into());
    let org = o
        .org
        .as_ref()
        .map(|f| format!(", org {}", f.finding))
        .unwrap_or_default();
    let tls = o
        .tls
        .as_ref()
        .map(|t| format!(", {}", t.version))
        .unwrap_or_else(|| format!(", {}", o.transport));
    Some(format!(
        "  {gw} <- INVITE {dial} from {ani}{org}{tls}{answer}{fault}"
    ))
}

/// The step's verdict in one line, and its failing checks below it.
pub fn verdict(index: usize, total: usize, r: &ScenarioReport) -> String {
    let bad: Vec<String> = r
        .checks
        .iter()
        .filter(|c| matches!(c.outcome, Outcome::Fail | Outcome::Error))
        .map(|c| format!("    {} {}: {}", c.outcome.label(), c.id, c.message))
        .collect();
    let head = match (&r.not_applicable, bad.is_empty()) {
        (Some(why), _) => format!("not applicable: {why}"),
        (None, true) => format!("ok ({} checks)", r.checks.len()),
        (None, false) => "FAILED".to_owned(),
    };
    let mut out = format!("[{}/{total}] {}: {head}", index + 1, r.name);
    for b in bad {
        out.push('\n');
        out.push_str(&b);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{connection_event, invite_obs};
    use scenarios::plan::shipped_plan;

    fn step(name: &str) -> PlanStep {
        let plan = shipped_plan("genesys-byoc")
            .expect("shipped")
            .expect("loads");
        plan.steps
            .into_iter()
            .find(|s| s.name() == name)
            .expect("step")
    }

    fn text(name: &str, driving: bool) -> String {
        let s = step(name);
        let sc = super::super::judge::resolved(&s);
        instruction(&s, &sc, 2, 15, s.timeout, driving)
    }

    #[test]
    fn the_instruction_says_what_to_do_what_the_gateways_do_and_what_must_arrive() {
        let t = text("failover-503-q850", false);
        assert!(
            t.starts_with("call 3 of 15: failover-503-q850 (ICD 5.3)"),
            "{t}"
        );
        assert!(
            t.contains("gw1 answers 503 with Q.850 cause 34; gw2 answers"),
            "{t}"
        );
        assert!(t.contains("911 from +13125550129"), "{t}");
        assert!(t.contains("answered by gw2"), "{t}");
        assert!(t.contains("failover within 5s"), "{t}");
        assert!(t.contains("press Enter when you are done"), "{t}");
        let t = text("caller-shared-phone", true);
        assert!(
            t.contains("site-ani (+13125550129) after call-source"),
            "{t}"
        );
        assert!(t.contains("running the drive command"), "{t}");
        let t = text("failover-gw1-down", false);
        assert!(t.contains("gw1 is down"), "{t}");
        let t = text("dial-9911", false);
        assert!(t.contains("9911 must never reach the E911 gateways"), "{t}");
        assert!(t.contains("then press Enter"), "{t}");
        let t = text("failover-tls-refused", false);
        assert!(t.contains("gw1 refuses the TLS handshake"), "{t}");
    }

    #[test]
    fn arrivals_show_who_what_and_the_answer() {
        let l = arrival(&invite_obs("gw1", 1, 503)).expect("a line");
        assert_eq!(
            l,
            "  gw1 <- INVITE 911 from +13125550100 (P-Asserted-Identity), org ok, TLSv1.2 -> 503"
        );
        let mut bye = invite_obs("gw2", 1, 200);
        bye.method = "BYE".into();
        assert_eq!(arrival(&bye).as_deref(), Some("  gw2 <- BYE -> 200"));
        let e = connection_event("gw1", 1, Some("tls protocol error"), None);
        assert_eq!(
            arrival(&e).as_deref(),
            Some("  gw1 <- connection (tls protocol error)")
        );
        let mut again = invite_obs("gw1", 1, 200);
        again.retransmission = true;
        assert_eq!(arrival(&again), None);
    }
}
