//! The outbound route (ICD 5.3): one emergency call tried across the E911 gateways, in route
//! order (Sequential) or from a random first choice (Random), moving on when a gateway rejects
//! the call with a retryable status or Q.850 cause, or fails at the transport level.
//!
//! Each attempt is one [`uac::place_call`]. Decisions, as a trunk makes them:
//! - **answered** (2xx): the call is up; stop.
//! - **final rejection**: a failure response whose status is not in `retry_on_status` and whose
//!   `Reason: Q.850;cause=N` is not in `retry_on_q850` (RFC 3261 §21: a 4xx other than 408/480
//!   is a verdict on the request, a 6xx is global); stop, no other gateway is tried.
//! - **retryable rejection**: status in `retry_on_status`, or cause in `retry_on_q850`; next.
//! - **transport failure**: connection refused or timed out, TLS handshake failure, connection
//!   closed or reset before a final response, or no final response within `attempt_timeout`
//!   (Timer B-like); always next.
//!
//! # Call-ID across failover
//! Each attempt is a new INVITE with its own Call-ID, From tag and branch: the trunk
//! re-originates the call towards another gateway, which for that gateway is a new call (what
//! a B2BUA trunk such as Genesys BYOC does; a stateful forking proxy such as Kamailio's
//! dispatcher in a `failure_route` keeps the Call-ID instead, as RFC 3263 §4.3 describes for one
//! request sent to the next server). Nothing at the gateways correlates the attempts, so the
//! harness does: [`RoutedOutcome`] keeps every attempt with its Call-ID. What must not change
//! between attempts is the call's content, recorded as an [`InviteFingerprint`]: the dialled
//! number, the From identity (without its tag), P-Asserted-Identity, Remote-Party-ID, every
//! `E911-Organization-ID` line, the extra headers, and the SDP offer with its per-connection
//! values masked (origin session id/version and address, connection address, media port, SRTP
//! key). `route.identical-retry` compares those.
//!
//! # Timing
//! Times are microseconds on the monotonic clock from the routed call's start. An attempt
//! whose INVITE was written records `invite_at_us` (connection start + TCP connect + TLS
//! handshake); one that never got to send its INVITE records its start instead. The failover
//! time is the second attempt's `invite_at_us` minus the first's.
//!
//! # Timeouts
//! Each attempt is one `place_call` with the call's timeout set to `attempt_timeout`. When its
//! INVITE gets no final response by then, the route moves on to the next gateway at once and
//! the timed-out attempt CANCELs in the background (its record is completed when that ends),
//! as a trunk does at Timer B; so a silent gateway costs `attempt_timeout` of failover time.
//! Every other ending is awaited: an answered attempt holds its call inside `place_call`, and a
//! call on hold must never look like a silent gateway (a second emergency call would be placed).

use std::time::{Duration, Instant};

use reports::CallRecord;
use scenarios::{CallSpec, Distribution, RouteSpec};
use sip::{HeaderName, Request, Response};

use crate::originate::health::HealthMonitor;
use crate::originate::uac::{self, CallOutcome, Target, UacConfig};

/// Why an attempt failed at the transport level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TransportFailure {
    /// TCP connect refused or unreachable.
    Refused,
    /// No TCP connection (or TLS handshake) within the connect bound.
    ConnectTimeout,
    /// The TLS handshake failed (certificate, name, expiry, protocol).
    TlsHandshake,
    /// The gateway closed the connection before a final response.
    Closed,
    /// The connection was reset (or a read or write failed) before a final response.
    Reset,
    /// No final response within `attempt_timeout`.
    Timeout,
    /// Any other failure before a final response.
    Other,
}

impl TransportFailure {
    /// Short name for reports.
    pub fn as_str(&self) -> &'static str {
        match self {
            TransportFailure::Refused => "refused",
            TransportFailure::ConnectTimeout => "connect-timeout",
            TransportFailure::TlsHandshake => "tls-handshake",
            TransportFailure::Closed => "closed",
            TransportFailure::Reset => "reset",
            TransportFailure::Timeout => "timeout",
            TransportFailure::Other => "error",
        }
    }
}

/// How one attempt ended, as the route judges it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttemptClass {
    /// A 2xx: the call is up.
    Answered,
    /// A failure response the route may not retry.
    Final,
    /// A failure response in `retry_on_status`.
    RetryableStatus,
    /// A failure response retryable because of its Q.850 cause.
    RetryableCause,
    /// No final response.
    Transport(TransportFailure),
    /// The gateway was skipped: health probing has it down.
    SkippedDown,
}

impl AttemptClass {
    /// Whether the route moves on to the next gateway after this attempt.
    pub fn moves_on(&self) -> bool {
        !matches!(self, AttemptClass::Answered | AttemptClass::Final)
    }

    /// Short description for messages.
    pub fn describe(&self) -> String {
        match self {
            AttemptClass::Answered => "answered".into(),
            AttemptClass::Final => "final rejection".into(),
            AttemptClass::RetryableStatus => "retryable status".into(),
            AttemptClass::RetryableCause => "retryable Q.850 cause".into(),
            AttemptClass::Transport(t) => format!("transport failure ({})", t.as_str()),
            AttemptClass::SkippedDown => "skipped (down by OPTIONS)".into(),
        }
    }
}

/// The parts of an INVITE that must be the same on every attempt of one call.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InviteFingerprint {
    /// Request-URI user (the dialled number).
    pub dialed: String,
    /// From, without its tag parameter.
    pub from: String,
    /// P-Asserted-Identity values.
    pub pai: Vec<String>,
    /// Remote-Party-ID values.
    pub rpid: Vec<String>,
    /// `E911-Organization-ID` lines, in order.
    pub org: Vec<String>,
    /// Headers the trunk does not write itself for the call (name, value), in order.
    pub extra: Vec<(String, String)>,
    /// The SDP offer with per-connection values masked.
    pub sdp: String,
}

/// Headers that legitimately differ between attempts or are compared separately.
const PER_ATTEMPT_HEADERS: &[&str] = &[
    "via",
    "max-forwards",
    "from",
    "to",
    "call-id",
    "cseq",
    "contact",
    "content-length",
    "p-asserted-identity",
    "remote-party-id",
    "e911-organization-id",
    // The correlation token names one INVITE as sent, so each attempt has its own.
    crate::originate::correlate::TOKEN_HEADER,
];

impl InviteFingerprint {
    /// The fingerprint of an INVITE as sent.
    pub fn of(invite: &Request) -> InviteFingerprint {
        let dialed = match &invite.uri {
            sip::Uri::Sip(u) => u.user.clone().unwrap_or_default(),
            other => other.to_string(),
        };
        let from = invite
            .headers
            .get(&HeaderName::From)
            .map(strip_tag)
            .unwrap_or_default();
        let all = |name: &str| -> Vec<String> {
            invite
                .headers
                .iter()
                .filter(|h| h.name.as_str().eq_ignore_ascii_case(name))
                .map(|h| h.value.clone())
                .collect()
        };
        let extra = invite
            .headers
            .iter()
            .filter(|h| {
                !PER_ATTEMPT_HEADERS
                    .iter()
                    .any(|n| h.name.as_str().eq_ignore_ascii_case(n))
            })
            .map(|h| (h.name.as_str().to_owned(), h.value.clone()))
            .collect();
        InviteFingerprint {
            dialed,
            from,
            pai: all("P-Asserted-Identity"),
            rpid: all("Remote-Party-ID"),
            org: all(crate::originate::trunk::ORG_HEADER),
            extra,
            sdp: mask_sdp(&String::from_utf8_lossy(&invite.body)),
        }
    }

    /// The fields that differ from `other`, each as `field: a -> b`.
    pub fn differences(&self, other: &InviteFingerprint) -> Vec<String> {
        let mut out = Vec::new();
        let mut cmp = |name: &str, a: String, b: String| {
            if a != b {
                out.push(format!("{name}: {a} -> {b}"));
            }
        };
        cmp("dialled number", self.dialed.clone(), other.dialed.clone());
        cmp("From", self.from.clone(), other.from.clone());
        cmp("P-Asserted-Identity", show(&self.pai), show(&other.pai));
        cmp("Remote-Party-ID", show(&self.rpid), show(&other.rpid));
        cmp("E911-Organization-ID", show(&self.org), show(&other.org));
        let ex = |e: &[(String, String)]| {
            show(
                &e.iter()
                    .map(|(n, v)| format!("{n}: {v}"))
                    .collect::<Vec<_>>(),
            )
        };
        cmp("other headers", ex(&self.extra), ex(&other.extra));
        if self.sdp != other.sdp {
            out.push("SDP offer differs (beyond per-connection values)".into());
        }
        out
    }
}

fn show(v: &[String]) -> String {
    if v.is_empty() {
        "(none)".into()
    } else {
        v.join(" | ")
    }
}

/// A From value without its `;tag=` parameter.
fn strip_tag(from: &str) -> String {
    from.split(';')
        .filter(|p| !p.trim().to_ascii_lowercase().starts_with("tag="))
        .collect::<Vec<_>>()
        .join(";")
}

/// The SDP with per-connection values replaced by `*`: `o=` session id, version and address,
/// `c=` address, `m=` port and the `a=crypto` key.
pub fn mask_sdp(sdp: &str) -> String {
    let mut out = String::new();
    for line in sdp.lines() {
        let masked = if let Some(rest) = line.strip_prefix("o=") {
            let f: Vec<&str> = rest.split_whitespace().collect();
            format!(
                "o={} * * {} {} *",
                f.first().unwrap_or(&""),
                f.get(3).unwrap_or(&""),
                f.get(4).unwrap_or(&"")
            )
        } else if let Some(rest) = line.strip_prefix("c=") {
            let f: Vec<&str> = rest.split_whitespace().collect();
            format!(
                "c={} {} *",
                f.first().unwrap_or(&""),
                f.get(1).unwrap_or(&"")
            )
        } else if let Some(rest) = line.strip_prefix("m=") {
            let mut f: Vec<&str> = rest.split_whitespace().collect();
            if f.len() > 1 {
                f[1] = "*";
            }
            format!("m={}", f.join(" "))
        } else if line.starts_with("a=crypto:") {
            match line.find("inline:") {
                Some(i) => format!("{}inline:*", &line[..i]),
                None => line.to_owned(),
            }
        } else {
            line.to_owned()
        };
        out.push_str(&masked);
        out.push('\n');
    }
    out
}

/// The Q.850 cause of a response's `Reason: Q.850;cause=N` header, if any (RFC 3326).
pub fn q850_cause(resp: &Response) -> Option<u16> {
    resp.headers
        .iter()
        .filter(|h| h.name.as_str().eq_ignore_ascii_case("Reason"))
        .flat_map(|h| sip::message::split_list(&h.value))
        .find_map(|value| {
            let mut parts = value.split(';');
            let protocol = parts.next()?.trim();
            if !protocol.eq_ignore_ascii_case("Q.850") {
                return None;
            }
            parts.find_map(|p| {
                let (k, v) = p.split_once('=')?;
                k.trim()
                    .eq_ignore_ascii_case("cause")
                    .then(|| v.trim().trim_matches('"').parse().ok())
                    .flatten()
            })
        })
}

/// One attempt of a routed call.
#[derive(Debug, Clone)]
pub struct RouteAttempt {
    /// Gateway name.
    pub gateway: String,
    /// How it ended.
    pub class: AttemptClass,
    /// Final status, when one arrived.
    pub status: Option<u16>,
    /// The Reason header's Q.850 cause, when a failure response carried one.
    pub q850: Option<u16>,
    /// Why it ended without a final response.
    pub error: Option<String>,
    /// Call-ID of this attempt's INVITE.
    pub call_id: String,
    /// When the attempt started (connecting), µs from the routed call's start.
    pub started_us: u64,
    /// When its INVITE was written (its start if it never was), µs from the call's start.
    pub invite_at_us: u64,
    /// When the route stopped waiting for it, µs from the call's start.
    pub ended_us: u64,
    /// Whether the INVITE was written on a connection.
    pub invite_sent: bool,
    /// What must stay the same across attempts (of the INVITE as sent or as built).
    pub fingerprint: InviteFingerprint,
    /// The full outcome (`None` for a skipped gateway).
    pub outcome: Option<CallOutcome>,
}

impl RouteAttempt {
    /// An attempt with no `place_call` outcome (yet): skipped, impossible, or still CANCELling.
    fn bare(
        gateway: &str,
        class: AttemptClass,
        error: Option<String>,
        started_us: u64,
        ended_us: u64,
    ) -> RouteAttempt {
        RouteAttempt {
            gateway: gateway.to_owned(),
            class,
            status: None,
            q850: None,
            error,
            call_id: String::new(),
            started_us,
            invite_at_us: started_us,
            ended_us,
            invite_sent: false,
            fingerprint: InviteFingerprint::default(),
            outcome: None,
        }
    }
}

/// Everything about one routed call.
#[derive(Debug, Clone)]
pub struct RoutedOutcome {
    /// Every attempt, in order (skipped gateways included).
    pub attempts: Vec<RouteAttempt>,
    /// The merged record for the report: every attempt's [`reports::Attempt`], the final
    /// status of the attempt that ended the call, the first attempt's Call-ID.
    pub record: CallRecord,
    /// The response that ended the call (2xx or final rejection), if any.
    pub final_response: Option<Response>,
    /// The gateway whose 2xx answered the call.
    pub answered_by: Option<String>,
    /// First INVITE to the INVITE on the next gateway, µs, when a second attempt was made.
    pub failover_us: Option<u64>,
    /// The first gateway the route chose for this call (before health skipping).
    pub first_choice: String,
}

impl RoutedOutcome {
    /// Attempts that reached a gateway (skipped ones left out).
    pub fn tried(&self) -> impl Iterator<Item = &RouteAttempt> {
        self.attempts
            .iter()
            .filter(|a| a.class != AttemptClass::SkippedDown)
    }

    /// The answering attempt's outcome, or the last tried one.
    pub fn last_outcome(&self) -> Option<&CallOutcome> {
        self.attempts.iter().rev().find_map(|a| a.outcome.as_ref())
    }
}

/// Chooses each call's first gateway: route order (Sequential) or at random (Random, seeded).
#[derive(Debug)]
pub struct Router {
    rng: fastrand::Rng,
}

impl Router {
    /// A router for `route`; a random route without a seed is seeded from the clock.
    pub fn new(route: &RouteSpec) -> Router {
        let rng = match route.seed {
            Some(s) => fastrand::Rng::with_seed(s),
            None => fastrand::Rng::new(),
        };
        Router { rng }
    }

    /// The order the next call tries the route's gateways in.
    pub fn next_order(&mut self, route: &RouteSpec) -> Vec<String> {
        attempt_order(route, self.first_choice(route))
    }

    fn first_choice(&mut self, route: &RouteSpec) -> usize {
        match route.distribution {
            Distribution::Sequential => 0,
            Distribution::Random => self.rng.usize(..route.gateways.len().max(1)),
        }
    }
}

/// The route's gateways with `first` moved to the front, the others in route order.
pub fn attempt_order(route: &RouteSpec, first: usize) -> Vec<String> {
    let mut order = Vec::with_capacity(route.gateways.len());
    if let Some(g) = route.gateways.get(first) {
        order.push(g.clone());
    }
    order.extend(
        route
            .gateways
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != first)
            .map(|(_, g)| g.clone()),
    );
    order
}

/// Per-call settings of [`place_routed_call`].
#[derive(Debug, Clone, Copy)]
pub struct RouteCallConfig<'a> {
    /// Originator settings.
    pub uac: &'a UacConfig,
    /// Gateway names in the order this call tries them ([`Router::next_order`]).
    pub order: &'a [String],
    /// OPTIONS health: gateways it has down are skipped, unless every gateway is down (an
    /// emergency call is then still tried on each, in order, rather than not placed at all).
    pub health: Option<&'a HealthMonitor>,
}

/// Classifies a finished attempt.
pub fn classify(route: &RouteSpec, outcome: &CallOutcome) -> (AttemptClass, Option<u16>) {
    if let Some(resp) = &outcome.final_response {
        let cause = q850_cause(resp);
        let class = if (200..300).contains(&resp.status) {
            AttemptClass::Answered
        } else if route.retry_on_status.contains(&resp.status) {
            AttemptClass::RetryableStatus
        } else if cause.is_some_and(|c| route.retry_on_q850.contains(&c)) {
            AttemptClass::RetryableCause
        } else {
            AttemptClass::Final
        };
        return (class, cause);
    }
    let error = outcome
        .record
        .attempts
        .last()
        .and_then(|a| a.error.clone())
        .or_else(|| outcome.record.error.clone())
        .unwrap_or_default();
    let kind = if outcome.tcp_connect_us.is_none() {
        if error.contains("timed out") {
            TransportFailure::ConnectTimeout
        } else if error.contains("tls handshake") {
            TransportFailure::TlsHandshake
        } else {
            TransportFailure::Refused
        }
    } else if error.contains("tls handshake") {
        TransportFailure::TlsHandshake
    } else if error.contains("no final response within") {
        TransportFailure::Timeout
    } else if error.contains("connection closed") {
        TransportFailure::Closed
    } else if error.contains("reading from the gateway failed") || error.contains("sending") {
        TransportFailure::Reset
    } else {
        TransportFailure::Other
    };
    (AttemptClass::Transport(kind), None)
}

fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

/// Places `call` along `route` over `targets` (looked up by gateway name); see the module docs.
/// Never panics, never fails: a gateway missing from `targets` is recorded as a failed attempt.
pub async fn place_routed_call(
    call: &CallSpec,
    route: &RouteSpec,
    targets: &[Target],
    cfg: &RouteCallConfig<'_>,
) -> RoutedOutcome {
    let start = Instant::now();
    let since = |t: Instant| micros(t.saturating_duration_since(start));
    let mut attempt_call = call.clone();
    attempt_call.timeout = route.attempt_timeout;
    let all_down = cfg
        .health
        .is_some_and(|h| cfg.order.iter().all(|g| !h.is_up(g)));
    let mut attempts: Vec<RouteAttempt> = Vec::new();
    let mut cancelling = Vec::new();
    for gateway in cfg.order {
        if let Some(h) = cfg.health
            && !all_down
            && !h.is_up(gateway)
        {
            let now = since(Instant::now());
            attempts.push(RouteAttempt::bare(
                gateway,
                AttemptClass::SkippedDown,
                Some("skipped: OPTIONS probing has this gateway down".into()),
                now,
                now,
            ));
            continue;
        }
        let Some(target) = targets.iter().find(|t| &t.name == gateway).cloned() else {
            let now = since(Instant::now());
            attempts.push(RouteAttempt::bare(
                gateway,
                AttemptClass::Transport(TransportFailure::Other),
                Some(format!("no target named {gateway} in this run")),
                now,
                now,
            ));
            continue;
        };
        let started = Instant::now();
        // The attempt runs as its own task and says when its INVITE timed out: the route moves
        // on right then, while the attempt CANCELs in the background (as a trunk does at Timer
        // B). Any other ending (answered and held, rejected, transport failure) is awaited to
        // the end, so a call on hold is never mistaken for a silent gateway.
        let (tx, rx) = tokio::sync::oneshot::channel();
        let task = {
            let (c, t, u) = (attempt_call.clone(), target.clone(), cfg.uac.clone());
            tokio::spawn(async move { uac::place_call_reporting(&c, &t, &u, Some(tx)).await })
        };
        let started_us = since(started);
        if rx.await.is_ok() {
            let now = since(Instant::now());
            attempts.push(RouteAttempt::bare(
                gateway,
                AttemptClass::Transport(TransportFailure::Timeout),
                None,
                started_us,
                now,
            ));
            cancelling.push((attempts.len() - 1, task));
            continue;
        }
        let outcome = match task.await {
            Ok(o) => o,
            Err(e) => {
                let now = since(Instant::now());
                attempts.push(RouteAttempt::bare(
                    gateway,
                    AttemptClass::Transport(TransportFailure::Other),
                    Some(format!("the attempt's task ended abnormally: {e}")),
                    started_us,
                    now,
                ));
                continue;
            }
        };
        let (class, q850) = classify(route, &outcome);
        let mut a = RouteAttempt::bare(gateway, class, None, started_us, since(Instant::now()));
        a.q850 = q850;
        fill(&mut a, outcome);
        let stop = !a.class.moves_on();
        attempts.push(a);
        if stop {
            break;
        }
    }
    // The timed-out attempts finish their CANCEL; their records then say what the gateway did.
    for (i, task) in cancelling {
        if let Ok(outcome) = task.await {
            let a = &mut attempts[i];
            fill(a, outcome);
            a.ended_us = since(Instant::now());
        }
    }
    finish(attempts, start, call)
}

/// Copies what a finished place_call says into the attempt.
fn fill(a: &mut RouteAttempt, outcome: CallOutcome) {
    a.status = outcome.final_response.as_ref().map(|r| r.status);
    a.call_id = outcome.record.call_id.clone();
    a.invite_sent = outcome.tcp_connect_us.is_some()
        && (outcome.tls_handshake_us.is_some()
            || outcome
                .record
                .attempts
                .last()
                .is_some_and(|x| x.transport == "tcp"));
    if a.invite_sent {
        let setup = outcome.tcp_connect_us.unwrap_or(0) + outcome.tls_handshake_us.unwrap_or(0);
        a.invite_at_us = a.started_us + setup;
    }
    if outcome.final_response.is_none() {
        a.error = outcome
            .record
            .attempts
            .last()
            .and_then(|x| x.error.clone())
            .or_else(|| outcome.record.error.clone());
    }
    a.fingerprint = InviteFingerprint::of(&outcome.invite);
    a.outcome = Some(outcome);
}

fn finish(attempts: Vec<RouteAttempt>, start: Instant, call: &CallSpec) -> RoutedOutcome {
    let tried: Vec<&RouteAttempt> = attempts
        .iter()
        .filter(|a| a.class != AttemptClass::SkippedDown)
        .collect();
    let failover_us = match (tried.first(), tried.get(1)) {
        (Some(a), Some(b)) => Some(b.invite_at_us.saturating_sub(a.invite_at_us)),
        _ => None,
    };
    let ender = tried
        .iter()
        .rev()
        .find(|a| matches!(a.class, AttemptClass::Answered | AttemptClass::Final));
    let mut record = CallRecord {
        call_id: tried.first().map(|a| a.call_id.clone()).unwrap_or_default(),
        dial: call.dial.clone(),
        ani: call.ani.clone(),
        ..CallRecord::default()
    };
    for a in &attempts {
        match &a.outcome {
            Some(o) => record.attempts.extend(o.record.attempts.iter().cloned()),
            None => record.attempts.push(reports::Attempt {
                gateway: a.gateway.clone(),
                error: a.error.clone(),
                ..reports::Attempt::default()
            }),
        }
    }
    let final_response = ender.and_then(|a| a.outcome.as_ref()?.final_response.clone());
    let answered_by = ender
        .filter(|a| a.class == AttemptClass::Answered)
        .map(|a| a.gateway.clone());
    if let Some(o) = ender.and_then(|a| a.outcome.as_ref()) {
        record.final_status = o.record.final_status;
        record.final_reason = o.record.final_reason.clone();
        record.answered_by = o.record.answered_by.clone();
        record.setup_us = o.record.setup_us;
        record.error = o.record.error.clone();
    } else {
        let each: Vec<String> = attempts
            .iter()
            .map(|a| {
                format!(
                    "{}: {}",
                    a.gateway,
                    a.error
                        .clone()
                        .or_else(|| a.status.map(|s| format!("answered {s}")))
                        .unwrap_or_else(|| a.class.describe())
                )
            })
            .collect();
        record.error = Some(format!(
            "every gateway on the route failed: {}",
            each.join("; ")
        ));
        // The last failure response, when one came (a retryable status on the last gateway).
        if let Some(o) = tried.last().and_then(|a| a.outcome.as_ref())
            && let Some(r) = &o.final_response
        {
            record.final_status = Some(r.status);
            record.final_reason = Some(r.reason.clone());
        }
    }
    record.duration_ms = start.elapsed().as_millis() as u64;
    RoutedOutcome {
        first_choice: attempts
            .first()
            .map(|a| a.gateway.clone())
            .unwrap_or_default(),
        attempts,
        record,
        final_response,
        answered_by,
        failover_us,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn q850_cause_is_read_from_reason() {
        let text = "SIP/2.0 503 Service Unavailable\r\nVia: SIP/2.0/TLS h;branch=z9hG4bKx\r\n\
            From: <sip:a@b>;tag=1\r\nTo: <sip:c@d>;tag=2\r\nCall-ID: x\r\nCSeq: 1 INVITE\r\n\
            Reason: SIP;cause=503, Q.850;cause=34;text=\"No circuit\"\r\nContent-Length: 0\r\n\r\n";
        let Ok(sip::Message::Response(r)) = sip::Message::parse(text.as_bytes()) else {
            panic!("parse")
        };
        assert_eq!(q850_cause(&r), Some(34));
    }

    #[test]
    fn sdp_masking_keeps_the_offer_shape() {
        let a = crate::originate::sdp::offer("127.0.0.1".parse().unwrap(), 30000);
        let b = crate::originate::sdp::offer("127.0.0.2".parse().unwrap(), 40002);
        assert_ne!(a, b);
        assert_eq!(mask_sdp(&a), mask_sdp(&b));
        let c = a.replace("RTP/SAVP", "RTP/AVP");
        assert_ne!(mask_sdp(&a), mask_sdp(&c));
    }

    #[test]
    fn order_puts_the_first_choice_first() {
        let route = RouteSpec::default();
        assert_eq!(attempt_order(&route, 0), ["gw1", "gw2"]);
        assert_eq!(attempt_order(&route, 1), ["gw2", "gw1"]);
        let mut seq = Router::new(&route);
        assert!((0..20).all(|_| seq.next_order(&route) == ["gw1", "gw2"]));
        let random = RouteSpec {
            distribution: Distribution::Random,
            seed: Some(42),
            ..RouteSpec::default()
        };
        let firsts = |seed| {
            let mut r = Router::new(&RouteSpec {
                seed: Some(seed),
                ..random.clone()
            });
            (0..200)
                .map(|_| r.next_order(&random)[0].clone())
                .collect::<Vec<_>>()
        };
        assert_eq!(firsts(42), firsts(42), "seeded choices repeat");
        let gw1 = firsts(42).iter().filter(|g| *g == "gw1").count();
        assert!((60..=140).contains(&gw1), "{gw1} of 200");
    }

    #[test]
    fn from_tag_is_not_part_of_the_identity() {
        assert_eq!(
            strip_tag("\"+1\" <sip:+1@h>;tag=abc"),
            strip_tag("\"+1\" <sip:+1@h>;tag=def")
        );
    }
}
