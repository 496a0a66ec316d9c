//! The checks a UAS makes on a request that parsed (RFC 3261 §8.2) before it looks at what the
//! request asks for: URI scheme (416), extensions (420), hop count (483), body type (415),
//! acceptable response types (406) and repeated single-valued headers (400).
//!
//! These are valid syntax with a specific answer (RFC 4475 §3.3: unkscm, novelsc, bext01,
//! invut, sdp01, multi01-style repeats), so they belong to the UAS and not to the parser. The
//! functions are pure: the mock gateway calls them and builds the answer, adding an
//! `Unsupported` header with [`Rejection::unsupported`] on a 420.

use super::header::HeaderName;
use super::{Method, Request, SipHeaders};

/// Why a UAS turns a well-formed request away, and with which status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    /// Status code to answer with.
    pub status: u16,
    /// A short explanation (for a `Warning` header or a log), not the reason phrase.
    pub why: &'static str,
    /// For a 420: the option tags that are not supported, for the `Unsupported` header.
    pub unsupported: Vec<String>,
}

/// What a UAS supports, to decide the answers of [`uas_precheck_with`].
#[derive(Debug, Clone, Copy)]
pub struct UasPolicy<'a> {
    /// Request-URI schemes served (compared case-insensitively).
    pub schemes: &'a [&'a str],
    /// Option tags this UAS implements (`Require` entries outside it give 420).
    pub extensions: &'a [&'a str],
    /// Also reject unknown `Proxy-Require` options, as a gateway that proxies does.
    pub check_proxy_require: bool,
    /// Media types accepted in an INVITE body (`type/*` wildcards allowed).
    pub invite_body_types: &'a [&'a str],
    /// Answer 483 when Max-Forwards is 0 on a request other than OPTIONS (proxy behaviour;
    /// RFC 4475 zeromf is an OPTIONS and is answered normally).
    pub enforce_max_forwards: bool,
}

impl Default for UasPolicy<'static> {
    fn default() -> Self {
        UasPolicy {
            schemes: &["sip", "sips", "tel", "urn"],
            extensions: &[
                "timer",
                "100rel",
                "replaces",
                "norefersub",
                "path",
                "outbound",
            ],
            check_proxy_require: true,
            invite_body_types: &[
                "application/sdp",
                "multipart/mixed",
                "multipart/alternative",
            ],
            enforce_max_forwards: true,
        }
    }
}

/// Headers that may appear once at most (besides the mandatory ones the parser already counts).
const SINGLE_VALUED: [HeaderName; 6] = [
    HeaderName::MaxForwards,
    HeaderName::ContentType,
    HeaderName::ContentLength,
    HeaderName::Expires,
    HeaderName::ContentDisposition,
    HeaderName::SessionExpires,
];

/// [`uas_precheck_with`] under [`UasPolicy::default`], as `(status, why)`.
pub fn uas_precheck(req: &Request) -> Option<(u16, &'static str)> {
    uas_precheck_with(req, &UasPolicy::default()).map(|r| (r.status, r.why))
}

/// Checks a parsed request in the order of RFC 3261 §8.2 and returns the first rejection.
pub fn uas_precheck_with(req: &Request, policy: &UasPolicy<'_>) -> Option<Rejection> {
    let reject = |status, why| {
        Some(Rejection {
            status,
            why,
            unsupported: Vec::new(),
        })
    };
    let h = &req.headers;
    for name in &SINGLE_VALUED {
        if h.count(name) > 1 {
            return reject(400, "a single-valued header appears more than once");
        }
    }
    let scheme = req.uri.scheme();
    if !policy
        .schemes
        .iter()
        .any(|s| s.eq_ignore_ascii_case(scheme))
    {
        return reject(416, "unsupported Request-URI scheme");
    }
    if policy.enforce_max_forwards
        && req.method != Method::Options
        && h.get(&HeaderName::MaxForwards)
            .is_some_and(|v| v.bytes().all(|b| b == b'0'))
    {
        return reject(483, "Max-Forwards is 0");
    }
    let mut unsupported: Vec<String> = Vec::new();
    let mut check = |name: &HeaderName| {
        for tag in h.values(name) {
            if !policy
                .extensions
                .iter()
                .any(|e| e.eq_ignore_ascii_case(tag))
                && !unsupported.iter().any(|u| u.eq_ignore_ascii_case(tag))
            {
                unsupported.push(tag.to_owned());
            }
        }
    };
    check(&HeaderName::Require);
    if policy.check_proxy_require {
        check(&HeaderName::ProxyRequire);
    }
    if !unsupported.is_empty() {
        return Some(Rejection {
            status: 420,
            why: "unsupported option tags in Require/Proxy-Require",
            unsupported,
        });
    }
    if req.method == Method::Invite {
        if !req.body.is_empty() {
            let media = req.content_type().map(media_type).unwrap_or("");
            if !policy
                .invite_body_types
                .iter()
                .any(|t| media_matches(t, media))
            {
                return reject(415, "unsupported Content-Type for an INVITE body");
            }
        }
        // RFC 4475 sdp01: an Accept that excludes SDP leaves no way to answer the offer.
        if h.get(&HeaderName::Accept).is_some()
            && !h
                .values(&HeaderName::Accept)
                .any(|a| media_matches(media_type(a), "application/sdp"))
        {
            return reject(406, "Accept does not allow application/sdp");
        }
    }
    None
}

/// The `type/subtype` of a Content-Type or Accept value, without parameters, trimmed.
fn media_type(v: &str) -> &str {
    v.split(';').next().unwrap_or("").trim()
}

/// Whether `pattern` (`*/*`, `type/*` or `type/subtype`) matches `media`, case-insensitively.
fn media_matches(pattern: &str, media: &str) -> bool {
    let (pt, ps) = pattern.split_once('/').unwrap_or((pattern, ""));
    let Some((mt, ms)) = media.split_once('/') else {
        return false;
    };
    (pt == "*" || pt.trim().eq_ignore_ascii_case(mt.trim()))
        && (ps.trim() == "*" || ps.trim().eq_ignore_ascii_case(ms.trim()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::Message;

    fn req(extra: &str, body: &str) -> Request {
        let text = format!(
            "INVITE sip:911@gw SIP/2.0\r\nVia: SIP/2.0/TLS h;branch=z9hG4bK1\r\n\
             From: <sip:a@b>;tag=1\r\nTo: <sip:911@gw>\r\nCall-ID: c\r\nCSeq: 1 INVITE\r\n\
             Max-Forwards: 70\r\n{extra}Content-Length: {}\r\n\r\n{body}",
            body.len()
        );
        match Message::parse(text.as_bytes()).unwrap() {
            Message::Request(r) => r,
            Message::Response(_) => unreachable!(),
        }
    }

    #[test]
    fn sdp_and_multipart_invites_pass() {
        assert_eq!(
            uas_precheck(&req("Content-Type: application/SDP\r\n", "v=0\r\n")),
            None
        );
        let mp = "Content-Type: multipart/mixed;boundary=x\r\nAccept: application/*\r\n";
        assert_eq!(uas_precheck(&req(mp, "--x--\r\n")), None);
    }

    #[test]
    fn unknown_require_lists_every_tag_once() {
        let r = req("Require: timer, foo\r\nProxy-Require: FOO, bar\r\n", "");
        let rej = uas_precheck_with(&r, &UasPolicy::default()).unwrap();
        assert_eq!(rej.status, 420);
        assert_eq!(rej.unsupported, vec!["foo", "bar"]);
        let lax = UasPolicy {
            check_proxy_require: false,
            extensions: &["timer", "foo"],
            ..UasPolicy::default()
        };
        assert_eq!(uas_precheck_with(&r, &lax), None);
    }

    #[test]
    fn zero_max_forwards_and_body_type() {
        let mut r = req("", "");
        r.headers.set(HeaderName::MaxForwards, "00");
        assert_eq!(uas_precheck(&r).map(|x| x.0), Some(483));
        r.method = Method::Options;
        assert_eq!(uas_precheck(&r), None);
        let t = req("Content-Type: text/plain\r\n", "hi");
        assert_eq!(uas_precheck(&t).map(|x| x.0), Some(415));
        let a = req("Accept: text/html\r\n", "");
        assert_eq!(uas_precheck(&a).map(|x| x.0), Some(406));
    }
}
