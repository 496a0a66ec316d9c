//! TLS verdicts (ICD 5.1, 5.1.2): the call went over TLS, and the session is the trunk's TLS
//! profile (TLS 1.2, ECDHE on secp384r1, an RSA AES-GCM suite, an RSA certificate), judged
//! where the gateway saw it when it can (so what a system under test negotiated is what counts),
//! else where the trunk saw it. A handshake the gateway refused is named with the reason.

use mock_gateway::Observation;
use reports::{CallRecord, CheckResult, TlsInfo};
use scenarios::tls::GENESYS_BYOC_SUITES;

/// The requirement the transport check proves: the trunk's protocol is TLS.
pub const PROTOCOL: &str = "ICD 5.1.2";
/// The requirement the profile check proves: the trunk's TLS profile.
pub const PROFILE: &str = "ICD 5.1";

const PROFILE_TEXT: &str =
    "TLSv1.2, secp384r1, TLS_ECDHE_RSA_WITH_AES_{256,128}_GCM_SHA{384,256}, RSA certificate";

fn check(
    id: &str,
    requirement: &str,
    pass: bool,
    expected: &str,
    observed: String,
    message: String,
) -> CheckResult {
    crate::verdict::conformance::result(
        id,
        requirement,
        pass,
        expected.to_owned(),
        observed,
        message,
    )
}

/// The TLS checks of one call: `transport.tls` and `transport.tls-profile` when a session was
/// established; `transport.tls-profile` failing with the gateway's reason when a gateway
/// refused a handshake and no session reached a gateway.
pub fn judge_tls(record: &CallRecord, observations: Option<&[Observation]>) -> Vec<CheckResult> {
    let client = reports::call_tls(record);
    let at_gateway = observations.and_then(|obs| {
        obs.iter()
            .find(|o| o.method == "INVITE" && !o.retransmission && o.tls.is_some())
            .and_then(|o| o.tls.as_ref())
    });
    let refused = observations.and_then(|obs| obs.iter().find(|o| o.tls_error.is_some()));
    let mut out = Vec::new();
    // No session reached a gateway but one refused a handshake: the trunk (or the SBC in
    // front of the gateways) is outside the profile the gateway enforces.
    if let (None, Some(o)) = (at_gateway, refused) {
        let why = o.tls_error.as_deref().unwrap_or_default();
        out.push(check(
            "transport.tls-profile",
            PROFILE,
            false,
            PROFILE_TEXT,
            format!("{} refused the handshake: {why}", o.gateway),
            format!(
                "{} refused the trunk's TLS handshake ({why}): the trunk does not offer the TLS profile the gateway enforces (ICD 5.1: TLS 1.2, ECDHE secp384r1, RSA AES-GCM suites)",
                o.gateway
            ),
        ));
        return out;
    }
    let Some(session) = at_gateway.or(client) else {
        return out;
    };
    let ok_version = session.version == "TLSv1.2" || session.version == "TLSv1.3";
    out.push(check(
        "transport.tls",
        PROTOCOL,
        ok_version,
        "TLS 1.2 or later",
        format!("{} {}", session.version, session.cipher),
        format!("negotiated {} with {}", session.version, session.cipher),
    ));
    // The certificate is seen by the trunk (the gateway knows its own).
    let certificate = client.and_then(|t| t.certificate.as_deref());
    let problems = profile_problems(session, certificate);
    let observed = describe(session, certificate);
    let (pass, message) = if problems.is_empty() {
        (
            true,
            format!("the session is the trunk's TLS profile (ICD 5.1): {observed}"),
        )
    } else {
        (
            false,
            format!(
                "the session is outside the trunk's TLS profile (ICD 5.1): {}",
                problems.join("; ")
            ),
        )
    };
    out.push(check(
        "transport.tls-profile",
        PROFILE,
        pass,
        PROFILE_TEXT,
        observed,
        message,
    ));
    out
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

#[cfg(test)]
mod tests {
    use super::*;
    use reports::{Attempt, Outcome};

    fn tls(version: &str, cipher: &str, group: &str, cert: &str) -> TlsInfo {
        TlsInfo {
            version: version.into(),
            cipher: cipher.into(),
            group: Some(group.into()),
            sni: Some("gw1.anywhere.e911cloud.com".into()),
            certificate: Some(cert.into()),
        }
    }

    fn record(t: Option<TlsInfo>) -> CallRecord {
        CallRecord {
            answered_by: Some("gw1".into()),
            attempts: vec![Attempt {
                gateway: "gw1".into(),
                tls: t,
                ..Attempt::default()
            }],
            ..CallRecord::default()
        }
    }

    use crate::test_support::check as find;

    #[test]
    fn the_genesys_profile_passes() {
        let t = tls(
            "TLSv1.2",
            "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
            "secp384r1",
            "RSA 2048",
        );
        let checks = judge_tls(&record(Some(t)), None);
        assert_eq!(find(&checks, "transport.tls").outcome, Outcome::Pass);
        let p = find(&checks, "transport.tls-profile");
        assert_eq!(p.outcome, Outcome::Pass, "{p:?}");
        assert_eq!(p.requirement.as_deref(), Some("ICD 5.1"));
        assert!(p.observed.as_deref().unwrap().contains("RSA 2048"));
    }

    #[test]
    fn tls13_x25519_and_an_ecdsa_certificate_are_each_named() {
        let t = tls(
            "TLSv1.3",
            "TLS13_AES_256_GCM_SHA384",
            "X25519",
            "ECDSA P-384",
        );
        let checks = judge_tls(&record(Some(t)), None);
        assert_eq!(find(&checks, "transport.tls").outcome, Outcome::Pass);
        let p = find(&checks, "transport.tls-profile");
        assert_eq!(p.outcome, Outcome::Fail);
        for needle in [
            "TLSv1.3 instead of TLSv1.2",
            "X25519 instead of secp384r1",
            "TLS13_AES_256_GCM_SHA384 is not one of",
            "ECDSA P-384 certificate instead of RSA",
        ] {
            assert!(p.message.contains(needle), "{needle}: {}", p.message);
        }
    }

    #[test]
    fn the_gateway_side_session_wins_over_the_trunk_side() {
        // Through an SBC: the trunk spoke TLS 1.3 to the SBC, the SBC TLS 1.2 to the gateway.
        let client = tls("TLSv1.3", "TLS13_AES_128_GCM_SHA256", "X25519", "RSA 2048");
        let mut obs = crate::test_support::observation();
        obs.tls = Some(TlsInfo {
            certificate: None,
            ..tls(
                "TLSv1.2",
                "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
                "secp384r1",
                "",
            )
        });
        let checks = judge_tls(&record(Some(client)), Some(&[obs]));
        let p = find(&checks, "transport.tls-profile");
        assert_eq!(p.outcome, Outcome::Pass, "{p:?}");
    }

    #[test]
    fn a_refused_handshake_fails_the_profile_with_the_gateways_reason() {
        let mut obs = crate::test_support::observation();
        obs.method.clear();
        obs.tls_error = Some("peer is incompatible: no protocol version in common".into());
        let checks = judge_tls(&record(None), Some(&[obs]));
        assert!(checks.iter().all(|c| c.id != "transport.tls"));
        let p = find(&checks, "transport.tls-profile");
        assert_eq!(p.outcome, Outcome::Fail);
        assert!(
            p.message.contains("no protocol version in common"),
            "{}",
            p.message
        );
        assert!(p.message.contains("gw1 refused"), "{}", p.message);
    }

    #[test]
    fn no_tls_at_all_means_no_tls_checks() {
        assert!(judge_tls(&record(None), None).is_empty());
    }
}
