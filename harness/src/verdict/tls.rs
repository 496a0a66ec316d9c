//! TLS, judged on the leg each requirement belongs to:
//! - `transport.tls-profile` (ICD 5.1): the trunk's TLS profile (TLS 1.2, ECDHE on secp384r1,
//!   an RSA AES-GCM suite, an RSA certificate) on the session the trunk negotiates: with the
//!   gateways when the harness calls them (as the gateway saw it), with the system under test
//!   when one is in between (the system under test must accept what the trunk offers).
//! - `transport.tls` (ICD 5.1.2): the session that reached the E911 gateways is TLS 1.2 or
//!   later: the trunk's own directly, the system under test's behind it (what production
//!   gateways accept, on every connection, whatever connection reuse or scenario order).
//! - `transport.tls-verify` (RFC 5922): where a scenario makes a gateway present a certificate
//!   the originator must refuse (untrusted, expired, wrong name), no request arrives over a
//!   connection that presented it.
//!
//! - a real originator's leg to the gateways ([`originator_leg`]): TLS 1.2 or later, and the
//!   Genesys BYOC profile when the plan names it, as the gateways saw each INVITE's session.
//!
//! A TCP leg makes the checks of that leg `skipped` with the reason: nothing was exercised.

use reports::{CheckResult, Observation, TlsInfo};
use scenarios::tls::GENESYS_BYOC_SUITES;
use scenarios::{FaultKind, Scenario, TlsProfile};
use sip::transport::TransportKind;

use super::{CallEvidence, Evidence, Setting, req, result, skipped};
use crate::evidence::{AttemptEnd, Failure, Topology};

const PROFILE_TEXT: &str =
    "TLSv1.2, secp384r1, TLS_ECDHE_RSA_WITH_AES_{256,128}_GCM_SHA{384,256}, RSA certificate";

const TLS12_OR_LATER: &str = "TLS 1.2 or later";

/// The TLS checks of one call; `expected`: the TLS profile the originator must speak (judged
/// on a real originator's leg; the harness's own trunk offers its profile itself).
pub fn judge_call(
    setting: &Setting,
    expected: &TlsProfile,
    c: &CallEvidence<'_>,
) -> Vec<CheckResult> {
    match setting.topology {
        Topology::Direct => direct(setting, c),
        Topology::ThroughSut => {
            let mut out = trunk_profile(setting, c);
            out.extend(gateway_leg(setting, c));
            out
        }
        Topology::Originator => originator_leg(setting, expected, c),
        Topology::External => {
            let mut out = trunk_profile(setting, c);
            if let Some(session) = client_session(c) {
                out.push(version_check(session, "the target"));
            }
            out
        }
    }
}

/// The session the trunk negotiated on its answering (or last) attempt.
fn client_session<'a>(c: &'a CallEvidence<'a>) -> Option<&'a TlsInfo> {
    let call = c.call;
    call.ender()
        .or_else(|| call.tried().last())
        .and_then(|a| a.tls.as_ref())
        .or_else(|| call.attempts.iter().find_map(|a| a.tls.as_ref()))
}

/// The certificate the trunk saw on its session.
fn client_certificate<'a>(c: &'a CallEvidence<'a>) -> Option<&'a str> {
    client_session(c).and_then(|t| t.certificate.as_deref())
}

/// Harness -> gateways: one leg; judged as the gateway saw it when it did.
fn direct(setting: &Setting, c: &CallEvidence<'_>) -> Vec<CheckResult> {
    if setting.trunk_leg == TransportKind::Tcp {
        return tcp_leg(
            &["transport.tls", "transport.tls-profile"],
            "the run is over TCP (--transport tcp)",
        );
    }
    let at_gateway = c.invites().into_iter().find_map(|o| o.tls.as_ref());
    let refused = c
        .observations
        .and_then(|obs| obs.iter().find(|o| o.tls_error.is_some()));
    // No session reached a gateway but one refused a handshake: the trunk is outside the
    // profile the gateway enforces.
    if let (None, Some(o)) = (at_gateway, refused) {
        return vec![refused_by_gateway(o)];
    }
    let Some(session) = at_gateway.or(client_session(c)) else {
        return Vec::new();
    };
    vec![
        version_check(session, "the gateway"),
        profile_check(
            session,
            client_certificate(c),
            "the trunk's session with the gateway",
        ),
    ]
}

fn refused_by_gateway(o: &Observation) -> CheckResult {
    let why = o.tls_error.as_deref().unwrap_or_default();
    result(
        "transport.tls-profile",
        req::TLS_PROFILE,
        false,
        PROFILE_TEXT,
        format!("{} refused the handshake: {why}", o.gateway),
        format!(
            "{} refused the trunk's TLS handshake ({why}): the trunk does not offer the TLS profile the gateway enforces (ICD 5.1: TLS 1.2, ECDHE secp384r1, RSA AES-GCM suites)",
            o.gateway
        ),
    )
}

/// The trunk's leg to the system under test (or the external target).
fn trunk_profile(setting: &Setting, c: &CallEvidence<'_>) -> Vec<CheckResult> {
    if setting.trunk_leg == TransportKind::Tcp {
        return tcp_leg(
            &["transport.tls-profile"],
            "the trunk leg is TCP (--transport tcp): the trunk's TLS profile (ICD 5.1) is not exercised",
        );
    }
    if let Some(session) = client_session(c) {
        return vec![profile_check(
            session,
            client_certificate(c),
            "the trunk's session with the system under test",
        )];
    }
    // No session: the system under test refused the trunk's handshake on the profile.
    let refused = c.call.tried().find_map(|a| match &a.end {
        AttemptEnd::NoAnswer(Failure::Tls(t)) if !t.kind.is_certificate() => Some((a, t.kind)),
        _ => None,
    });
    match refused {
        Some((a, kind)) => vec![result(
            "transport.tls-profile",
            req::TLS_PROFILE,
            false,
            PROFILE_TEXT,
            format!("handshake refused ({})", kind.as_str()),
            format!(
                "{} refused the trunk's TLS handshake offering the Genesys BYOC profile ({}): an originator on this trunk cannot connect (ICD 5.1)",
                a.target,
                a.notes.join("; ")
            ),
        )],
        None => Vec::new(),
    }
}

/// The system under test's leg to the gateways, as the gateways saw it.
fn gateway_leg(setting: &Setting, c: &CallEvidence<'_>) -> Vec<CheckResult> {
    if setting.gateway_leg == Some(TransportKind::Tcp) {
        return tcp_leg(
            &["transport.tls"],
            "the gateways listen on TCP (--gateway-transport tcp): TLS toward the gateways (ICD 5.1.2) is not exercised",
        );
    }
    let invites = c.invites();
    if invites.is_empty() {
        return Vec::new();
    }
    if let Some(plain) = invites.iter().find(|o| o.tls.is_none()) {
        return vec![result(
            "transport.tls",
            req::TLS,
            false,
            TLS12_OR_LATER,
            format!("{} over {}", plain.gateway, plain.transport),
            format!(
                "the INVITE reached {} over {} without TLS (ICD 5.1.2)",
                plain.gateway, plain.transport
            ),
        )];
    }
    let old = invites
        .iter()
        .find(|o| o.tls.as_ref().is_some_and(|t| !is_tls12_or_later(t)));
    let shown = invites
        .iter()
        .filter_map(|o| {
            o.tls
                .as_ref()
                .map(|t| format!("{}: {}", o.gateway, describe(t, None)))
        })
        .collect::<Vec<_>>()
        .join("; ");
    vec![match old {
        Some(o) => {
            let t = o
                .tls
                .as_ref()
                .map(|t| t.version.as_str())
                .unwrap_or_default();
            result(
                "transport.tls",
                req::TLS,
                false,
                TLS12_OR_LATER,
                shown,
                format!(
                    "the system under test reached {} with {t}; the E911 gateways accept TLS 1.2 or later (ICD 5.1.2)",
                    o.gateway
                ),
            )
        }
        None => result(
            "transport.tls",
            req::TLS,
            true,
            TLS12_OR_LATER,
            shown.clone(),
            format!("the system under test reached the gateways over TLS: {shown}"),
        ),
    }]
}

/// A real originator's leg to the gateways, its only leg, as the gateways saw the session of
/// each INVITE: TLS 1.2 or later (`transport.tls`, ICD 5.1.2) and, when the plan names the
/// Genesys BYOC profile, that profile (`transport.tls-profile`, ICD 5.1: version, group and
/// suite; the certificate is the gateways' own, so it is not judged here).
fn originator_leg(
    setting: &Setting,
    expected: &TlsProfile,
    c: &CallEvidence<'_>,
) -> Vec<CheckResult> {
    let genesys = *expected == TlsProfile::genesys_byoc();
    if setting.gateway_leg == Some(TransportKind::Tcp) {
        let ids: &[&str] = if genesys {
            &["transport.tls", "transport.tls-profile"]
        } else {
            &["transport.tls"]
        };
        return tcp_leg(
            ids,
            "the gateways listen on TCP (--transport tcp): the originator's TLS (ICD 5.1.2, 5.1) is not exercised",
        );
    }
    let invites = c.invites();
    if invites.is_empty() {
        return Vec::new();
    }
    let shown = |o: &Observation| {
        o.tls.as_ref().map_or_else(
            || format!("{}: {} without TLS", o.gateway, o.transport),
            |t| format!("{}: {}", o.gateway, describe(t, None)),
        )
    };
    let all = invites
        .iter()
        .map(|o| shown(o))
        .collect::<Vec<_>>()
        .join("; ");
    let mut out = Vec::new();
    let old = invites
        .iter()
        .find(|o| o.tls.as_ref().is_none_or(|t| !is_tls12_or_later(t)));
    out.push(match old {
        Some(o) => result(
            "transport.tls",
            req::TLS,
            false,
            TLS12_OR_LATER,
            shown(o),
            format!(
                "the originator reached {} with {}; the E911 gateways accept TLS 1.2 or later (ICD 5.1.2)",
                o.gateway,
                o.tls
                    .as_ref()
                    .map_or_else(|| format!("{} without TLS", o.transport), |t| t.version.clone())
            ),
        ),
        None => result(
            "transport.tls",
            req::TLS,
            true,
            TLS12_OR_LATER,
            all.clone(),
            format!("the originator reached the gateways over TLS: {all}"),
        ),
    });
    if genesys {
        let bad = invites.iter().find_map(|o| {
            let p = profile_problems(o.tls.as_ref()?, None);
            (!p.is_empty()).then_some((o, p))
        });
        out.push(match bad {
            Some((o, problems)) => result(
                "transport.tls-profile",
                req::TLS_PROFILE,
                false,
                PROFILE_TEXT,
                shown(o),
                format!(
                    "the originator's session with {} is outside the Genesys BYOC TLS profile (ICD 5.1): {}",
                    o.gateway,
                    problems.join("; ")
                ),
            ),
            None => result(
                "transport.tls-profile",
                req::TLS_PROFILE,
                true,
                PROFILE_TEXT,
                all.clone(),
                format!("the originator's sessions with the gateways are the Genesys BYOC TLS profile (ICD 5.1): {all}"),
            ),
        });
    }
    out
}

fn tcp_leg(ids: &[&str], why: &str) -> Vec<CheckResult> {
    ids.iter()
        .map(|id| {
            let requirement = if *id == "transport.tls" {
                req::TLS
            } else {
                req::TLS_PROFILE
            };
            skipped(id, requirement, None, why)
        })
        .collect()
}

fn is_tls12_or_later(t: &TlsInfo) -> bool {
    t.version == "TLSv1.2" || t.version == "TLSv1.3"
}

fn version_check(session: &TlsInfo, peer: &str) -> CheckResult {
    result(
        "transport.tls",
        req::TLS,
        is_tls12_or_later(session),
        TLS12_OR_LATER,
        format!("{} {}", session.version, session.cipher),
        format!(
            "negotiated {} with {} with {peer}",
            session.version, session.cipher
        ),
    )
}

fn profile_check(session: &TlsInfo, certificate: Option<&str>, leg: &str) -> CheckResult {
    let problems = profile_problems(session, certificate);
    let observed = describe(session, certificate);
    let (pass, message) = if problems.is_empty() {
        (
            true,
            format!("{leg} is the trunk's TLS profile (ICD 5.1): {observed}"),
        )
    } else {
        (
            false,
            format!(
                "{leg} is outside the trunk's TLS profile (ICD 5.1): {}",
                problems.join("; ")
            ),
        )
    };
    result(
        "transport.tls-profile",
        req::TLS_PROFILE,
        pass,
        PROFILE_TEXT,
        observed,
        message,
    )
}

/// What differs from the Genesys BYOC profile, one phrase each.
fn profile_problems(t: &TlsInfo, certificate: Option<&str>) -> Vec<String> {
    let mut p = Vec::new();
    if t.version != "TLSv1.2" {
        p.push(format!("{} instead of TLSv1.2", t.version));
    }
    // No group: a resumed session, keyed by the full handshake it resumes.
    if let Some(g) = t.group.as_deref()
        && g != "secp384r1"
    {
        p.push(format!("key exchange {g} instead of secp384r1"));
    }
    if !GENESYS_BYOC_SUITES.contains(&t.cipher.as_str()) {
        p.push(format!(
            "cipher {} is not one of {}",
            t.cipher,
            GENESYS_BYOC_SUITES.join(", ")
        ));
    }
    if let Some(c) = certificate
        && !sip::transport::spki::is_rsa(c)
    {
        p.push(format!("{c} certificate instead of RSA"));
    }
    p
}

fn describe(t: &TlsInfo, certificate: Option<&str>) -> String {
    let mut s = format!("{} {}", t.version, t.cipher);
    match &t.group {
        Some(g) => s.push_str(&format!(" {g}")),
        None => s.push_str(" (resumed session)"),
    }
    if let Some(c) = certificate {
        s.push_str(&format!(", {c} certificate"));
    }
    if let Some(sni) = &t.sni {
        s.push_str(&format!(", SNI {sni}"));
    }
    s
}

/// `transport.tls-verify` (RFC 5922) for a scenario whose gateways present certificates the
/// originator must refuse.
pub fn judge_identity(scenario: &Scenario, ev: &Evidence<'_>) -> Vec<CheckResult> {
    let faults: Vec<(&str, String)> = scenario
        .faults
        .iter()
        .filter_map(|f| match &f.kind {
            FaultKind::Tls(t) if t.is_identity() => Some((f.gateway.as_str(), f.kind.label())),
            _ => None,
        })
        .collect();
    if faults.is_empty() || ev.setting.gateway_leg != Some(TransportKind::Tls) {
        return Vec::new();
    }
    let Some(observed) = ev.scenario_observations else {
        return Vec::new();
    };
    let expected = "no request over a connection that presented a certificate to refuse";
    let mut out = Vec::new();
    for (gateway, label) in faults {
        let accepted = observed.iter().find(|o| {
            o.gateway == gateway
                && !o.is_connection_event()
                && o.connection_fault.as_deref() == Some(label.as_str())
        });
        let mut met: Vec<u64> = observed
            .iter()
            .filter(|o| {
                o.gateway == gateway
                    && o.is_connection_event()
                    && o.fault.as_deref() == Some(label.as_str())
            })
            .map(|o| o.conn)
            .collect();
        met.sort_unstable();
        met.dedup();
        let met = met.len();
        let what = label.trim_start_matches("tls ");
        out.push(match (accepted, met) {
            (Some(o), _) => result(
                "transport.tls-verify",
                req::IDENTITY,
                false,
                expected,
                format!("{} {} over it", o.method, o.request_uri),
                format!(
                    "{gateway} presented a certificate that is {what} and the originator accepted it: {} {} arrived over that connection (RFC 5922: the gateway's identity must be verified, or calls can be sent to an impostor)",
                    o.method, o.request_uri
                ),
            ),
            (None, 0) => skipped(
                "transport.tls-verify",
                req::IDENTITY,
                Some(expected.to_owned()),
                &format!(
                    "no connection to {gateway} met its {what} certificate, so whether the originator verifies it was not exercised"
                ),
            ),
            (None, n) => result(
                "transport.tls-verify",
                req::IDENTITY,
                true,
                expected,
                format!("{n} connection(s) refused"),
                format!(
                    "{gateway} presented a certificate that is {what} on {n} connection(s); the originator sent nothing over any of them"
                ),
            ),
        });
    }
    out
}

#[cfg(test)]
#[path = "tls_tests.rs"]
mod tests;
