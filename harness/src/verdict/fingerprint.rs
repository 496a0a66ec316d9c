//! The content of an INVITE that must not change when a call is retried on the next gateway
//! (ICD 5.3, 5.1.9, 5.1.7): the dialled number, the From identity (without its tag),
//! P-Asserted-Identity, Remote-Party-ID, every `E911-Organization-ID` line, the other headers
//! of the call, and the SDP offer with its per-connection values masked (origin session
//! id/version and address, connection address, media port, SRTP key).
//!
//! Built the same way from the INVITE the trunk sent ([`InviteFingerprint::of_request`]) and
//! from an INVITE a gateway received ([`InviteFingerprint::of_observation`]), so the retry is
//! judged where it can be seen: at the trunk when the harness is the trunk, at the gateways
//! when a system under test does the failover.

use reports::Observation;
use sip::Request;

use crate::evidence::TOKEN_HEADER;
use scenarios::ORG_HEADER;

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
    /// Headers that are not per attempt (name, value), in order.
    pub extra: Vec<(String, String)>,
    /// The SDP offer with per-connection values masked.
    pub sdp: String,
}

/// Headers that legitimately differ between attempts (or between hops), or are compared
/// separately.
const PER_ATTEMPT_HEADERS: &[&str] = &[
    "via",
    "v",
    "max-forwards",
    "from",
    "f",
    "to",
    "t",
    "call-id",
    "i",
    "cseq",
    "contact",
    "m",
    "content-length",
    "l",
    "record-route",
    "route",
    "p-asserted-identity",
    "remote-party-id",
    "e911-organization-id",
    // The correlation token names one INVITE as sent, so each attempt has its own.
    TOKEN_HEADER,
];

impl InviteFingerprint {
    /// The fingerprint of an INVITE as the trunk sent it.
    pub fn of_request(invite: &Request) -> InviteFingerprint {
        let dialed = match &invite.uri {
            sip::Uri::Sip(u) => u.user.clone().unwrap_or_default(),
            other => other.to_string(),
        };
        let headers: Vec<(&str, &str)> = invite
            .headers
            .iter()
            .map(|h| (h.name.as_str(), h.value.as_str()))
            .collect();
        InviteFingerprint::of_parts(dialed, &headers, &String::from_utf8_lossy(&invite.body))
    }

    /// The fingerprint of an INVITE as a gateway received it.
    pub fn of_observation(o: &Observation) -> InviteFingerprint {
        let dialed = match sip::Uri::parse(&o.request_uri) {
            Ok(sip::Uri::Sip(u)) => u.user.unwrap_or_default(),
            _ => o.request_uri.clone(),
        };
        let headers: Vec<(&str, &str)> = o
            .headers
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect();
        InviteFingerprint::of_parts(dialed, &headers, o.body.as_deref().unwrap_or(""))
    }

    fn of_parts(dialed: String, headers: &[(&str, &str)], body: &str) -> InviteFingerprint {
        let all = |names: &[&str]| -> Vec<String> {
            headers
                .iter()
                .filter(|(n, _)| names.iter().any(|x| n.eq_ignore_ascii_case(x)))
                .map(|(_, v)| v.trim().to_owned())
                .collect()
        };
        InviteFingerprint {
            dialed,
            from: all(&["from", "f"])
                .first()
                .map(|f| strip_tag(f))
                .unwrap_or_default(),
            pai: all(&["p-asserted-identity"]),
            rpid: all(&["remote-party-id"]),
            org: all(&[ORG_HEADER]),
            extra: headers
                .iter()
                .filter(|(n, _)| {
                    !PER_ATTEMPT_HEADERS
                        .iter()
                        .any(|x| n.eq_ignore_ascii_case(x))
                })
                .map(|(n, v)| ((*n).to_owned(), v.trim().to_owned()))
                .collect(),
            sdp: mask_sdp(body),
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

#[cfg(test)]
mod tests {
    use super::*;

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
    fn from_tag_is_not_part_of_the_identity() {
        assert_eq!(
            strip_tag("\"+1\" <sip:+1@h>;tag=abc"),
            strip_tag("\"+1\" <sip:+1@h>;tag=def")
        );
        // Only the tag goes: the identity and other parameters stay, so a changed caller on
        // the retry is a difference.
        assert_eq!(strip_tag("<sip:+1@h>;x=1;TAG=abc"), "<sip:+1@h>;x=1");
        let invite = |from: &str| InviteFingerprint::of_parts("911".into(), &[("From", from)], "");
        let d = invite("<sip:+1@h>;tag=a").differences(&invite("<sip:+2@h>;tag=a"));
        assert_eq!(d, ["From: <sip:+1@h> -> <sip:+2@h>"]);
    }

    #[test]
    fn a_media_line_without_a_port_is_kept_as_it_is() {
        assert_eq!(mask_sdp("m=audio\r\n"), "m=audio\n");
        assert_eq!(
            mask_sdp("m=audio 30000 RTP/SAVP 0\r\n"),
            "m=audio * RTP/SAVP 0\n"
        );
    }

    #[test]
    fn the_trunk_side_and_the_gateway_side_agree_on_the_same_invite() {
        let invite = crate::test_support::invite();
        let mut o = crate::test_support::observation();
        o.request_uri = invite.uri.to_string();
        o.headers = invite
            .headers
            .iter()
            .map(|h| (h.name.as_str().to_owned(), h.value.clone()))
            .collect();
        let (a, b) = (
            InviteFingerprint::of_request(&invite),
            InviteFingerprint::of_observation(&o),
        );
        assert_eq!(a, b);
        assert_eq!(a.dialed, "911");
        // A proxy's Record-Route and its own Via do not make the retry different.
        o.headers
            .push(("Record-Route".into(), "<sip:sbc;lr>".into()));
        assert!(
            a.differences(&InviteFingerprint::of_observation(&o))
                .is_empty()
        );
        o.headers.push((
            ORG_HEADER.into(),
            "4f3b1c2e-8d7a-4e59-9b0c-6a1d2e3f4a5b".into(),
        ));
        let d = a.differences(&InviteFingerprint::of_observation(&o));
        assert_eq!(
            d,
            ["E911-Organization-ID: (none) -> 4f3b1c2e-8d7a-4e59-9b0c-6a1d2e3f4a5b"]
        );
    }
}
