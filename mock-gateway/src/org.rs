//! The `E911-Organization-ID` check (ICD 5.1.9): exactly one header line holding one canonical
//! UUID that this gateway serves. Field misconfigurations get a named finding and a detail that
//! says which: two lines or a comma list (duplicated), `;encoding=`/`;purpose=` parameters or
//! a hex-encoded value (the UUI "user data" form confused with a plain header), anything else
//! that is not 8-4-4-4-12 hex (malformed), a well-formed id that is not configured (unknown).

use scenarios::OrgFinding;
use sip::HeaderName;
use sip::message::split_list;

use crate::config::Policy;
use crate::observation::OrgObservation;

/// The header's name; it matches case-insensitively.
pub use scenarios::ORG_HEADER;

/// The header name as a [`HeaderName`].
pub fn org_header_name() -> HeaderName {
    HeaderName::parse(ORG_HEADER)
}

/// Checks the values of every `E911-Organization-ID` header line of an INVITE, in order.
pub fn check_org(values: &[&str], policy: &Policy) -> OrgObservation {
    let split: Vec<String> = values
        .iter()
        .flat_map(|v| {
            let parts: Vec<&str> = split_list(v).collect();
            if parts.is_empty() {
                vec![v.trim()]
            } else {
                parts
            }
        })
        .map(str::to_owned)
        .collect();
    let obs = |finding, detail: String| OrgObservation {
        finding,
        values: split.clone(),
        detail,
    };
    match (values.len(), split.len()) {
        (0, _) => return obs(OrgFinding::Missing, "no E911-Organization-ID header".into()),
        (1, 1) => {}
        (1, n) => {
            return obs(
                OrgFinding::Duplicated,
                format!("one header line holds a comma-separated list of {n} values"),
            );
        }
        (lines, _) => {
            return obs(
                OrgFinding::Duplicated,
                format!("{lines} E911-Organization-ID header lines"),
            );
        }
    }
    let value = split[0].as_str();
    if let Some(why) = malformation(value) {
        return obs(OrgFinding::Malformed, why);
    }
    if policy.orgs.iter().any(|o| o.eq_ignore_ascii_case(value)) {
        obs(
            OrgFinding::Ok,
            format!("organization {value} is configured"),
        )
    } else {
        let routed = match policy.unknown_org {
            scenarios::UnknownOrgPolicy::Accept => "; routed to fallback centre",
            _ => "",
        };
        obs(
            OrgFinding::Unknown,
            format!("organization {value} is not configured on this gateway{routed}"),
        )
    }
}

/// Why `value` is not one canonical UUID, naming the field mistake when it is a known one.
fn malformation(value: &str) -> Option<String> {
    if value.is_empty() {
        return Some("the header value is empty".into());
    }
    if let Some((base, params)) = value.split_once(';') {
        let names: Vec<String> = params
            .split(';')
            .filter_map(|p| {
                let name = p.split('=').next().unwrap_or("").trim();
                (!name.is_empty()).then(|| name.to_ascii_lowercase())
            })
            .collect();
        let named = |n: &str| names.iter().any(|x| x == n);
        let which = match (named("encoding"), named("purpose")) {
            (true, true) => "carries ;encoding= and ;purpose= parameters".to_owned(),
            (true, false) => {
                let enc = params
                    .split(';')
                    .find_map(|p| {
                        let (n, v) = p.split_once('=')?;
                        n.trim().eq_ignore_ascii_case("encoding").then(|| v.trim())
                    })
                    .unwrap_or("");
                format!("carries an ;encoding={enc} parameter")
            }
            (false, true) => "carries a ;purpose= parameter".to_owned(),
            (false, false) => format!("carries parameters (;{})", names.join(";")),
        };
        let base = base.trim();
        let hint = if scenarios::is_canonical_uuid(base) {
            " on an otherwise valid UUID"
        } else if hex_decodes_to_uuid(base) {
            " and the value is hex-encoded"
        } else {
            ""
        };
        return Some(format!(
            "the value {which}{hint} (UUI user-data form, not a plain header)"
        ));
    }
    if scenarios::is_canonical_uuid(value) {
        return None;
    }
    if hex_decodes_to_uuid(value) {
        return Some("the value is hex-encoded (it decodes to a UUID)".into());
    }
    if value.starts_with('"') && value.ends_with('"') && value.len() >= 2 {
        return Some("the value is quoted".into());
    }
    if value.len() == 32 && value.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Some("the UUID has no hyphens (not 8-4-4-4-12)".into());
    }
    if value.starts_with('{') || value.to_ascii_lowercase().starts_with("urn:uuid:") {
        return Some("the UUID is wrapped (braces or urn:uuid:)".into());
    }
    Some("the value is not a canonical 8-4-4-4-12 UUID".into())
}

/// Whether `value` is the hex encoding of the ASCII text of a canonical UUID.
fn hex_decodes_to_uuid(value: &str) -> bool {
    if value.len() != 72 || !value.bytes().all(|b| b.is_ascii_hexdigit()) {
        return false;
    }
    let decoded: Option<String> = value
        .as_bytes()
        .chunks(2)
        .map(|p| {
            let s = std::str::from_utf8(p).ok()?;
            u8::from_str_radix(s, 16).ok().map(char::from)
        })
        .collect();
    decoded.is_some_and(|d| scenarios::is_canonical_uuid(&d))
}

/// The Warning text (RFC 3261 §20.43 code 399) for a finding that is rejected.
pub fn warning_text(obs: &OrgObservation) -> String {
    format!("{ORG_HEADER} {}: {}", obs.finding.as_str(), obs.detail)
}

#[cfg(test)]
mod tests {
    use super::*;
    use scenarios::UnknownOrgPolicy;

    const ORG: &str = "3f2504e0-4f89-41d3-9a0c-0305e82c3301";

    fn policy() -> Policy {
        Policy {
            orgs: vec![ORG.to_owned()],
            ..Policy::default()
        }
    }

    fn hex(s: &str) -> String {
        s.bytes().map(|b| format!("{b:02x}")).collect()
    }

    #[test]
    fn one_configured_uuid_is_ok_in_any_case() {
        let o = check_org(&[ORG], &policy());
        assert_eq!(o.finding, OrgFinding::Ok);
        assert_eq!(o.values, vec![ORG]);
        let upper = ORG.to_ascii_uppercase();
        assert_eq!(check_org(&[&upper], &policy()).finding, OrgFinding::Ok);
    }

    #[test]
    fn missing_header() {
        let o = check_org(&[], &policy());
        assert_eq!(o.finding, OrgFinding::Missing);
        assert!(o.values.is_empty());
    }

    #[test]
    fn two_lines_and_comma_list_are_duplicated() {
        let o = check_org(&[ORG, ORG], &policy());
        assert_eq!(o.finding, OrgFinding::Duplicated);
        assert!(
            o.detail.contains("2 E911-Organization-ID header lines"),
            "{}",
            o.detail
        );
        let list = format!("{ORG}, {ORG}");
        let o = check_org(&[&list], &policy());
        assert_eq!(o.finding, OrgFinding::Duplicated);
        assert_eq!(o.values.len(), 2);
        assert!(o.detail.contains("comma-separated"), "{}", o.detail);
    }

    #[test]
    fn encoding_and_purpose_parameters_are_named() {
        let v = format!("{};encoding=hex", hex(ORG));
        let o = check_org(&[&v], &policy());
        assert_eq!(o.finding, OrgFinding::Malformed);
        assert!(o.detail.contains(";encoding=hex"), "{}", o.detail);
        assert!(o.detail.contains("hex-encoded"), "{}", o.detail);
        let v = format!("{ORG};purpose=isup");
        let o = check_org(&[&v], &policy());
        assert_eq!(o.finding, OrgFinding::Malformed);
        assert!(o.detail.contains(";purpose="), "{}", o.detail);
        assert!(!o.detail.contains("encoding"), "{}", o.detail);
        let v = format!("{ORG};encoding=ascii;purpose=x");
        let o = check_org(&[&v], &policy());
        assert!(
            o.detail.contains(";encoding= and ;purpose="),
            "{}",
            o.detail
        );
    }

    #[test]
    fn hex_encoded_value_is_malformed_and_says_so() {
        let v = hex(ORG);
        let o = check_org(&[&v], &policy());
        assert_eq!(o.finding, OrgFinding::Malformed);
        assert!(o.detail.contains("hex-encoded"), "{}", o.detail);
    }

    #[test]
    fn other_malformations() {
        for (v, word) in [
            ("", "empty"),
            ("3f2504e04f8941d39a0c0305e82c3301", "hyphens"),
            ("{3f2504e0-4f89-41d3-9a0c-0305e82c3301}", "wrapped"),
            ("\"3f2504e0-4f89-41d3-9a0c-0305e82c3301\"", "quoted"),
            ("3f2504e0-4f89-41d3-9a0c-0305e82c330", "8-4-4-4-12"),
            ("acme-corp", "8-4-4-4-12"),
        ] {
            let o = check_org(&[v], &policy());
            assert_eq!(o.finding, OrgFinding::Malformed, "{v}");
            assert!(o.detail.contains(word), "{v}: {}", o.detail);
        }
    }

    #[test]
    fn unknown_org_and_the_fallback_policy() {
        let other = "00000000-0000-4000-8000-000000000001";
        let o = check_org(&[other], &policy());
        assert_eq!(o.finding, OrgFinding::Unknown);
        assert!(!o.detail.contains("fallback"));
        let accept = Policy {
            unknown_org: UnknownOrgPolicy::Accept,
            ..policy()
        };
        let o = check_org(&[other], &accept);
        assert_eq!(o.finding, OrgFinding::Unknown);
        assert!(o.detail.contains("routed to fallback centre"));
    }

    #[test]
    fn header_name_matches_in_any_case() {
        assert_eq!(org_header_name(), HeaderName::parse("e911-organization-id"));
        assert_eq!(org_header_name(), HeaderName::parse("E911-ORGANIZATION-ID"));
    }
}
