//! Which number the call came from (ICD 5.1.7) and which number it dialled (ICD 5.2).
//!
//! The ANI is the user part of a `sip:`/`sips:` URI (parameters such as `;npdi` dropped) or the
//! number of a `tel:` URI, from the first header in the configured order that carries one with
//! at least one digit (`sip:anonymous@...` does not count), visual separators removed.
//!
//! Beside the ANI the gateway records the raw identity facts (the From URI, every
//! P-Asserted-Identity URI and its form, the Privacy header) and named findings on them
//! ([`scenarios::AniFinding`]): From and PAI disagreeing (compared in E.164 form), two PAI URIs
//! of one scheme (RFC 3325 §9.1), numbers not in E.164 form, and `Privacy: id` (RFC 3323), which
//! an emergency call overrides: the asserted identity is still the ANI. It records; the harness
//! judges.

use scenarios::{AniFinding, AniForm, AniHeader, e164, is_e164};
use sip::message::NameAddr;
use sip::uri::Uri;
use sip::{HeaderName, Request};

use crate::observation::{AniFindingRecord, AniObservation, Identity};

/// Finds the ANI in `req`, trying the headers in `order`, and records the identity facts and
/// findings beside it.
pub fn extract_ani(req: &Request, order: &[AniHeader]) -> Option<AniObservation> {
    let mut obs = ani_only(req, order)?;
    obs.from = req
        .headers
        .get(&HeaderName::From)
        .and_then(|v| identity(v.trim()));
    obs.pai = req
        .headers
        .values(&HeaderName::PAssertedIdentity)
        .filter_map(identity)
        .collect();
    obs.privacy = {
        let name = HeaderName::parse("Privacy");
        let values: Vec<&str> = req.headers.get_all(&name).collect();
        (!values.is_empty()).then(|| values.join(", "))
    };
    obs.findings = findings(&obs);
    Some(obs)
}

/// The ANI, its header and its URI form only, without the identity facts and findings: what
/// routing and the 933 read-back need when nothing is recorded (a load run).
pub fn ani_only(req: &Request, order: &[AniHeader]) -> Option<AniObservation> {
    let (number, source, form) = order.iter().find_map(|which| {
        let name = HeaderName::parse(which.header_name());
        req.headers.values(&name).find_map(|value| {
            let na = NameAddr::parse(value).ok()?;
            let number = uri_number(&na.uri)?;
            Some((number, which.header_name().to_owned(), uri_form(&na.uri)))
        })
    })?;
    Some(AniObservation {
        number,
        source,
        form,
        from: None,
        pai: Vec::new(),
        privacy: None,
        findings: Vec::new(),
    })
}

/// One identity header value (`"Name" <uri>;params`) as recorded.
fn identity(value: &str) -> Option<Identity> {
    let na = NameAddr::parse(value).ok()?;
    let number = uri_number(&na.uri);
    Some(Identity {
        uri: na.uri.to_string(),
        form: uri_form(&na.uri),
        e164: number.as_deref().and_then(e164),
        number,
    })
}

/// The form of a URI that can carry a number: tel, or sip/sips with or without `user=phone`.
pub fn uri_form(uri: &Uri) -> Option<AniForm> {
    match uri {
        Uri::Tel(_) => Some(AniForm::Tel),
        Uri::Sip(u)
            if u.params
                .value("user")
                .is_some_and(|v| v.eq_ignore_ascii_case("phone")) =>
        {
            Some(AniForm::SipUserPhone)
        }
        Uri::Sip(_) => Some(AniForm::Sip),
        _ => None,
    }
}

/// A number as a report shows it: `3125550100 (E.164 +13125550100)`, or as is when it already
/// is E.164 or has no E.164 form.
fn shown(number: &str, e164: Option<&str>) -> String {
    match e164 {
        Some(e) if e != number => format!("{number} (E.164 {e})"),
        _ => number.to_owned(),
    }
}

/// The named findings on the identity facts of `obs`, one record per finding.
fn findings(obs: &AniObservation) -> Vec<AniFindingRecord> {
    let mut out = Vec::new();
    let mut record = |finding, detail: String| out.push(AniFindingRecord { finding, detail });
    let numbered = |i: &Identity| i.number.clone().map(|n| (n, i.e164.clone()));
    let from = obs.from.as_ref().and_then(numbered);
    let pais: Vec<(String, Option<String>)> = obs.pai.iter().filter_map(numbered).collect();

    // 1. From and PAI name different callers (compared in E.164 form when there is one).
    if let Some((from_n, from_e)) = &from {
        let key = |n: &String, e: &Option<String>| e.clone().unwrap_or_else(|| n.clone());
        let differing: Vec<String> = pais
            .iter()
            .filter(|(n, e)| key(n, e) != key(from_n, from_e))
            .map(|(n, e)| shown(n, e.as_deref()))
            .collect();
        if !differing.is_empty() {
            record(
                AniFinding::FromPaiMismatch,
                format!(
                    "From carries {} but P-Asserted-Identity carries {}: different numbers",
                    shown(from_n, from_e.as_deref()),
                    differing.join(" and ")
                ),
            );
        }
    }

    // 2. More than one PAI URI of one scheme (RFC 3325 §9.1: one sip/sips and one tel at most).
    for scheme in ["sip", "tel"] {
        let same: Vec<&str> = obs
            .pai
            .iter()
            .filter(|i| i.form.is_some_and(|f| f.scheme() == scheme))
            .map(|i| i.uri.as_str())
            .collect();
        if same.len() > 1 {
            record(
                AniFinding::PaiDuplicated,
                format!(
                    "{} P-Asserted-Identity {scheme} URIs ({}); RFC 3325 allows at most one sip/sips and one tel URI",
                    same.len(),
                    same.join(", ")
                ),
            );
        }
    }

    // 3. Numbers not in E.164 form (the same number in another form is still this finding).
    let mut not_e164: Vec<String> = Vec::new();
    let mut note = |header: &str, n: &str, e: Option<&str>| {
        if !is_e164(n) {
            not_e164.push(match e {
                Some(e) => format!("{header} {n} is not E.164 (E.164 form {e})"),
                None => format!("{header} {n} is not E.164 and has no E.164 form"),
            });
        }
    };
    if let Some((n, e)) = &from {
        note("From", n, e.as_deref());
    }
    for (n, e) in &pais {
        note("P-Asserted-Identity", n, e.as_deref());
    }
    if obs.source == AniHeader::RemotePartyId.header_name() {
        note("Remote-Party-ID", &obs.number, e164(&obs.number).as_deref());
    }
    if !not_e164.is_empty() {
        record(AniFinding::NotE164, not_e164.join("; "));
    }

    // 4. Privacy: id (RFC 3323 §4.2, RFC 3325 §7): recorded; the emergency call keeps the ANI.
    let asks_id = obs.privacy.as_deref().is_some_and(|p| {
        p.split([';', ','])
            .any(|t| t.trim().eq_ignore_ascii_case("id"))
    });
    if asks_id {
        record(
            AniFinding::PrivacyId,
            format!(
                "Privacy: {} requested identity privacy; for an emergency call the gateway still uses the asserted identity: ANI {} from {}",
                obs.privacy.as_deref().unwrap_or_default(),
                obs.number,
                obs.source
            ),
        );
    }
    out
}

/// The number a URI names: the user part of a SIP URI or a tel URI's number, normalised, if it
/// holds a digit.
pub fn uri_number(uri: &Uri) -> Option<String> {
    let raw = match uri {
        Uri::Sip(u) => sip::uri::unescape(u.user.as_deref()?.split(';').next()?),
        Uri::Tel(t) => t.number.clone(),
        _ => return None,
    };
    let n = normalize_number(&raw);
    n.bytes().any(|b| b.is_ascii_digit()).then_some(n)
}

/// Removes visual separators (RFC 3966 `-`, `.`, `(`, `)` and spaces).
pub fn normalize_number(n: &str) -> String {
    n.chars()
        .filter(|c| !matches!(c, '-' | '.' | '(' | ')' | ' '))
        .collect()
}

/// The dialled number of a Request-URI: `urn:service:sos` (and its sub-services) is `911`.
pub fn dialed_number(uri: &Uri) -> Option<String> {
    match uri {
        Uri::Urn(u)
            if u.nid.eq_ignore_ascii_case("service")
                && (u.nss.eq_ignore_ascii_case("sos")
                    || u.nss.to_ascii_lowercase().starts_with("sos.")) =>
        {
            Some("911".into())
        }
        Uri::Sip(u) => Some(normalize_number(&sip::uri::unescape(
            u.user.as_deref()?.split(';').next()?,
        ))),
        Uri::Tel(t) => Some(normalize_number(&t.number)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sip::Message;

    fn invite(headers: &str) -> Request {
        let text = format!(
            "INVITE sip:911@gw SIP/2.0\r\nVia: SIP/2.0/TLS h;branch=z9hG4bK1\r\n\
             To: <sip:911@gw>\r\nCall-ID: c\r\nCSeq: 1 INVITE\r\nMax-Forwards: 70\r\n\
             {headers}Content-Length: 0\r\n\r\n"
        );
        match Message::parse(text.as_bytes()).unwrap() {
            Message::Request(r) => r,
            Message::Response(_) => unreachable!(),
        }
    }

    const DEFAULT: [AniHeader; 2] = [AniHeader::PAssertedIdentity, AniHeader::From];

    #[test]
    fn pai_wins_over_from_by_default() {
        let r = invite(
            "From: <sip:+13125550199@trunk>;tag=1\r\n\
             P-Asserted-Identity: \"Desk\" <sip:+1-312-555-0100@trunk;user=phone>\r\n",
        );
        let a = extract_ani(&r, &DEFAULT).unwrap();
        assert_eq!(a.number, "+13125550100");
        assert_eq!(a.source, "P-Asserted-Identity");
        let from_first = [AniHeader::From, AniHeader::PAssertedIdentity];
        let a = extract_ani(&r, &from_first).unwrap();
        assert_eq!(
            (a.number.as_str(), a.source.as_str()),
            ("+13125550199", "From")
        );
    }

    #[test]
    fn falls_back_to_from_when_pai_is_absent_or_anonymous() {
        let r = invite("From: <sip:3125550100@trunk>;tag=1\r\n");
        let a = extract_ani(&r, &DEFAULT).unwrap();
        assert_eq!(
            (a.number.as_str(), a.source.as_str()),
            ("3125550100", "From")
        );
        let r = invite(
            "From: \"Anonymous\" <sip:anonymous@anonymous.invalid>;tag=1\r\n\
             P-Asserted-Identity: <tel:+1.312.555.0100>\r\n",
        );
        let a = extract_ani(&r, &[AniHeader::From, AniHeader::PAssertedIdentity]).unwrap();
        assert_eq!(
            (a.number.as_str(), a.source.as_str()),
            ("+13125550100", "P-Asserted-Identity")
        );
    }

    #[test]
    fn second_pai_value_is_used_when_the_first_has_no_number() {
        let r = invite(
            "From: <sip:x@trunk>;tag=1\r\n\
             P-Asserted-Identity: <sip:desk@trunk>, <tel:+1-312-555-0100>\r\n",
        );
        assert_eq!(extract_ani(&r, &DEFAULT).unwrap().number, "+13125550100");
    }

    #[test]
    fn remote_party_id_is_supported() {
        let r = invite(
            "From: <sip:1@trunk>;tag=1\r\n\
             Remote-Party-ID: \"A\" <sip:+13125550111@trunk>;party=calling;screen=yes\r\n",
        );
        let a = extract_ani(&r, &[AniHeader::RemotePartyId, AniHeader::From]).unwrap();
        assert_eq!(
            (a.number.as_str(), a.source.as_str()),
            ("+13125550111", "Remote-Party-ID")
        );
    }

    #[test]
    fn none_when_no_header_in_the_order_has_a_number() {
        let r = invite("From: <sip:anonymous@anonymous.invalid>;tag=1\r\n");
        assert_eq!(extract_ani(&r, &DEFAULT), None);
        assert_eq!(extract_ani(&r, &[]), None);
    }

    fn names(a: &AniObservation) -> Vec<AniFinding> {
        a.findings.iter().map(|f| f.finding).collect()
    }

    #[test]
    fn agreeing_e164_from_and_pai_have_no_findings() {
        let r = invite(
            "From: <sip:+13125550100@trunk>;tag=1\r\n\
             P-Asserted-Identity: <sip:+13125550100@trunk;user=phone>\r\n",
        );
        let a = extract_ani(&r, &DEFAULT).unwrap();
        assert_eq!(names(&a), []);
        assert_eq!(a.form, Some(AniForm::SipUserPhone));
        assert_eq!(a.from.as_ref().unwrap().form, Some(AniForm::Sip));
        assert_eq!(a.pai.len(), 1);
        assert_eq!(a.privacy, None);
    }

    #[test]
    fn from_and_pai_disagreeing_is_named_with_both_numbers() {
        let r = invite(
            "From: <sip:+13125550199@trunk>;tag=1\r\n\
             P-Asserted-Identity: <sip:3125550106@trunk;user=phone>\r\n",
        );
        let a = extract_ani(&r, &DEFAULT).unwrap();
        assert_eq!(
            names(&a),
            [AniFinding::FromPaiMismatch, AniFinding::NotE164]
        );
        let d = &a.findings[0].detail;
        assert!(
            d.contains("+13125550199") && d.contains("3125550106 (E.164 +13125550106)"),
            "{d}"
        );
    }

    #[test]
    fn the_same_number_in_ten_or_eleven_digits_is_not_e164_but_no_mismatch() {
        for pai in ["3125550100", "13125550100"] {
            let r = invite(&format!(
                "From: <sip:+13125550100@trunk>;tag=1\r\n\
                 P-Asserted-Identity: <sip:{pai}@trunk;user=phone>\r\n"
            ));
            let a = extract_ani(&r, &DEFAULT).unwrap();
            assert_eq!(names(&a), [AniFinding::NotE164], "{pai}");
            let d = &a.findings[0].detail;
            assert!(
                d.contains(&format!(
                    "P-Asserted-Identity {pai} is not E.164 (E.164 form +13125550100)"
                )),
                "{d}"
            );
        }
    }

    #[test]
    fn two_pai_of_one_scheme_are_duplicated_but_sip_and_tel_are_allowed() {
        let r = invite(
            "From: <sip:+13125550100@trunk>;tag=1\r\n\
             P-Asserted-Identity: <sip:+13125550100@trunk;user=phone>\r\n\
             P-Asserted-Identity: <tel:+13125550100>\r\n",
        );
        let a = extract_ani(&r, &DEFAULT).unwrap();
        assert_eq!(names(&a), []);
        assert_eq!(
            a.pai.iter().map(|i| i.form).collect::<Vec<_>>(),
            [Some(AniForm::SipUserPhone), Some(AniForm::Tel)]
        );
        let r = invite(
            "From: <sip:+13125550100@trunk>;tag=1\r\n\
             P-Asserted-Identity: <sip:+13125550100@trunk;user=phone>, <sips:+13125550100@trunk>\r\n",
        );
        let a = extract_ani(&r, &DEFAULT).unwrap();
        assert_eq!(names(&a), [AniFinding::PaiDuplicated]);
        assert!(
            a.findings[0]
                .detail
                .starts_with("2 P-Asserted-Identity sip URIs")
        );
    }

    #[test]
    fn tel_pai_is_recorded_as_the_form_that_carried_the_ani() {
        let r = invite(
            "From: \"Anonymous\" <sip:anonymous@anonymous.invalid>;tag=1\r\n\
             P-Asserted-Identity: <tel:+1-312-555-0100>\r\n",
        );
        let a = extract_ani(&r, &DEFAULT).unwrap();
        assert_eq!(a.form, Some(AniForm::Tel));
        assert_eq!(a.from.as_ref().unwrap().number, None);
        assert_eq!(names(&a), []);
    }

    #[test]
    fn privacy_id_is_recorded_and_the_asserted_identity_is_still_the_ani() {
        let r = invite(
            "From: \"Anonymous\" <sip:anonymous@anonymous.invalid>;tag=1\r\n\
             P-Asserted-Identity: <sip:+13125550100@trunk;user=phone>\r\n\
             Privacy: id;critical\r\n",
        );
        let a = extract_ani(&r, &DEFAULT).unwrap();
        assert_eq!(a.number, "+13125550100");
        assert_eq!(a.privacy.as_deref(), Some("id;critical"));
        assert_eq!(names(&a), [AniFinding::PrivacyId]);
        assert!(
            a.findings[0]
                .detail
                .contains("ANI +13125550100 from P-Asserted-Identity")
        );
        let r = invite("From: <sip:+13125550100@trunk>;tag=1\r\nPrivacy: none\r\n");
        assert_eq!(names(&extract_ani(&r, &DEFAULT).unwrap()), []);
    }

    #[test]
    fn dialled_numbers() {
        let d = |s: &str| dialed_number(&Uri::parse(s).unwrap());
        assert_eq!(d("sip:911@gw").as_deref(), Some("911"));
        assert_eq!(d("sips:933@gw;user=phone").as_deref(), Some("933"));
        assert_eq!(
            d("sip:911;phone-context=+1@gw;user=phone").as_deref(),
            Some("911")
        );
        assert_eq!(d("urn:service:sos").as_deref(), Some("911"));
        assert_eq!(d("urn:service:sos.fire").as_deref(), Some("911"));
        assert_eq!(d("tel:+1-312-555-0100").as_deref(), Some("+13125550100"));
        assert_eq!(d("sip:gw.example.com"), None);
        assert_eq!(d("urn:service:counselling"), None);
    }
}
