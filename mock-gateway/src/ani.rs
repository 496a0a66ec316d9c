//! Which number the call came from (ICD 5.1.7) and which number it dialled (ICD 5.2).
//!
//! The ANI is the user part of a `sip:`/`sips:` URI (parameters such as `;npdi` dropped) or the
//! number of a `tel:` URI, from the first header in the configured order that carries one with
//! at least one digit (`sip:anonymous@...` does not count), visual separators removed.

use scenarios::AniHeader;
use sip::message::NameAddr;
use sip::uri::Uri;
use sip::{HeaderName, Request};

use crate::observation::AniObservation;

/// Finds the ANI in `req`, trying the headers in `order`.
pub fn extract_ani(req: &Request, order: &[AniHeader]) -> Option<AniObservation> {
    order.iter().find_map(|which| {
        let name = HeaderName::parse(which.header_name());
        req.headers.values(&name).find_map(|value| {
            let na = NameAddr::parse(value).ok()?;
            let number = uri_number(&na.uri)?;
            Some(AniObservation {
                number,
                source: which.header_name().to_owned(),
            })
        })
    })
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

    #[test]
    fn dialled_numbers() {
        let d = |s: &str| dialed_number(&Uri::parse(s).unwrap());
        assert_eq!(d("sip:911@gw").as_deref(), Some("911"));
        assert_eq!(d("sips:933@gw;user=phone").as_deref(), Some("933"));
        assert_eq!(d("urn:service:sos").as_deref(), Some("911"));
        assert_eq!(d("urn:service:sos.fire").as_deref(), Some("911"));
        assert_eq!(d("tel:+1-312-555-0100").as_deref(), Some("+13125550100"));
        assert_eq!(d("sip:gw.example.com"), None);
        assert_eq!(d("urn:service:counselling"), None);
    }
}
