//! Single-pass acceptors for the everyday shapes of the values the parser validates:
//! `"Name" <sip:user@host:port;p=v>;tag=x` and `SIP/2.0/TLS host:port;branch=z9hG4bK...`.
//!
//! Each answers `true` only for values the full scanners in `typed.rs` and `uri.rs` accept
//! (a subset of their grammar: no escapes, no IPv6, no LWS inside, no quoted parameter values,
//! lowercase `sip`/`sips` only). Anything else, including every malformed value, answers
//! `false` and goes to the full scanner, which gives the error with its position. So this
//! file changes speed, never what is accepted or what an error says.

use crate::uri::{
    host_port_end, is_param_char, is_token_char, is_token_or_bracket, is_user_char, run,
};

/// `host[:port]` at `i`: a host name (letters, digits, `-`, `.`; not starting with `-` or
/// `.`, no `..`) or dotted digits, and a port of at most 65535. Where it ends.
#[inline(always)]
fn hostport(b: &[u8], i: usize) -> Option<usize> {
    host_port_end(b, i).map(|(_, end, _)| end)
}

/// A `sip:` or `sips:` URI at `i`, without escapes, password, IPv6 host or URI headers: where
/// it ends (at the first byte that cannot continue it).
#[inline(always)]
fn sip_uri_at(b: &[u8], i: usize) -> Option<usize> {
    let rest = b.get(i..)?;
    let mut i = i + if rest.starts_with(b"sip:") {
        4
    } else if rest.starts_with(b"sips:") {
        5
    } else {
        return None;
    };
    // The full scanner takes userinfo up to the first '@' of the URI. When the user run stops
    // elsewhere there is no '@' before it, and none after it either: an '@' stops the host
    // and the parameters below, and the URI must end there.
    let user_end = run(b, i, is_user_char);
    if b.get(user_end) == Some(&b'@') {
        if user_end == i {
            return None;
        }
        i = user_end + 1;
    }
    i = hostport(b, i)?;
    while b.get(i) == Some(&b';') {
        let n = run(b, i + 1, is_param_char);
        if n == i + 1 {
            return None;
        }
        i = n;
        if b.get(i) == Some(&b'=') {
            i = run(b, i + 1, is_param_char);
        }
    }
    Some(i)
}

/// A `sip:` or `sips:` URI without escapes, password, IPv6 host or URI headers.
#[cfg(test)]
fn sip_uri(u: &[u8]) -> bool {
    sip_uri_at(u, 0) == Some(u.len())
}

/// `;name[=value]` header parameters at `i` up to the end, with token (or `[]:`) values.
#[inline(always)]
fn header_params(b: &[u8], mut i: usize) -> bool {
    while b.get(i) == Some(&b';') {
        let n = run(b, i + 1, is_token_char);
        if n == i + 1 {
            return false;
        }
        i = n;
        if b.get(i) == Some(&b'=') {
            let e = run(b, i + 1, is_token_or_bracket);
            if e == i + 1 {
                return false;
            }
            i = e;
        }
    }
    i == b.len()
}

/// `["display"] <sip-uri>[;params]` (display without escapes; no LWS except after the
/// display name).
pub(super) fn name_addr(v: &str) -> bool {
    name_addr_params(v).is_some()
}

/// [`name_addr`], answering where the header parameters start (just after the `>`): each
/// is then `;token` or `;token=value` with neither holding `;`, `=` or whitespace.
pub(super) fn name_addr_params(v: &str) -> Option<usize> {
    let b = v.as_bytes();
    let mut i = 0;
    if b.first() == Some(&b'"') {
        i = memchr::memchr2(b'"', b'\\', &b[1..]).map_or(b.len(), |j| j + 1);
        if b.get(i) != Some(&b'"') {
            return None;
        }
        i = run(b, i + 1, |x| x == b' ');
    }
    if b.get(i) != Some(&b'<') {
        return None;
    }
    match sip_uri_at(b, i + 1) {
        Some(e) if b.get(e) == Some(&b'>') && header_params(b, e + 1) => Some(e + 1),
        _ => None,
    }
}

/// `SIP/2.0/<transport> host[:port][;params]` with single spaces only before the host.
pub(crate) fn via(v: &str) -> bool {
    let b = v.as_bytes();
    if !b.starts_with(b"SIP/2.0/") {
        return false;
    }
    let t = run(b, 8, is_token_char);
    let h = run(b, t, |x| x == b' ');
    if t == 8 || h == t {
        return false;
    }
    hostport(b, h).is_some_and(|e| header_params(b, e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::typed::{NameAddr, Via};
    use crate::uri::Uri;

    #[test]
    fn everyday_values_take_the_fast_path() {
        for v in [
            "\"ACME Contact Center\" <sip:+13125550100@trunk.acme.example;user=phone>;tag=9f2c41d07a3b",
            "<sip:911@gw1.anywhere.e911cloud.com;user=phone>",
            "<sip:+13125550100@198.51.100.10:5061;transport=tls>",
            "\"Agent 4012\" <sip:+13125550100@trunk.acme.example;user=phone>",
            "<sips:gw1.example.com;lr>",
        ] {
            assert!(name_addr(v), "{v}");
            assert!(NameAddr::validate(v).is_ok(), "{v}");
        }
        for v in [
            "SIP/2.0/TLS 198.51.100.10:5061;branch=z9hG4bK5f3a8c1e9b7d2046;rport",
            "SIP/2.0/TCP [2001:db8::9]:5060;branch=z9hG4bKx",
        ] {
            assert_eq!(via(v), !v.contains('['), "{v}");
            assert!(Via::validate(v).is_ok(), "{v}");
        }
    }

    #[test]
    fn unusual_or_bad_values_go_to_the_full_scanner() {
        for v in [
            "<sip:a@b",
            "\"a\\\"b\" <sip:a@b>",
            "<sip:a@-b>",
            "<sip:a@b..c>",
            "<sip:a@b:65536>",
            "<sip:a%41@b>",
            "<sip:@b>",
            "<tel:+1>",
            "sip:a@b",
            "<sip:a@b> ;tag=1",
            "<sip:a@b>;tag=",
            "<sip:a@b?x=y>",
            "<SIP:a@b>",
            "",
        ] {
            assert!(!name_addr(v), "{v}");
        }
        for v in [
            "SIP/2.0/TCP",
            "SIP/2.0/TCP  h ;x",
            "SIP/2.0/ TCP h",
            "SIP/2.0/TCP h;a=\"q\"",
        ] {
            assert!(!via(v), "{v}");
        }
    }

    #[test]
    fn byte_searches_agree_with_char_searches() {
        let ws = |c: char| c == ';' || c.is_whitespace();
        let ws_ascii = |b: u8| b == b';' || crate::uri::is_ascii_ws(b);
        for s in [
            "",
            "ab",
            "ab;c",
            "a b",
            "a\u{b}b",
            "\u{e9}t\u{e9};x",
            "a\u{a0}b;c",
            "\u{3000}",
        ] {
            assert_eq!(crate::uri::find_char(s, ws_ascii, ws), s.find(ws), "{s:?}");
            assert_eq!(crate::uri::split_byte(s, b';'), s.split_once(';'), "{s:?}");
        }
        for b in 0..=127u8 {
            assert_eq!(
                crate::uri::is_ascii_ws(b),
                char::from(b).is_whitespace(),
                "{b}"
            );
        }
        assert!(Uri::parse("sip:a@h..example").is_err());
        assert!(Uri::parse("sip:a@-h.example").is_err());
        assert_eq!(
            Uri::parse("sip:a@h_x.example").unwrap_err().at,
            "sip:a@h".len()
        );
        assert!(Uri::parse("sip:a@192.0.2.1:65535").is_ok());
        assert!(Uri::parse("sip:a@192.0.2.1:65536").is_err());
    }

    proptest::proptest! {
        /// Whatever the fast path accepts, the full scanners accept.
        #[test]
        fn fast_acceptance_implies_full_acceptance(
            v in r#"("[a-zA-Z0-9 ,\\"]{0,6}" {0,2})?<sips?:([a-z0-9+;?%:=.,-]{1,8}@)?[a-z0-9.:_-]{1,12}(;[a-z%=:,\[\]-]{0,5}){0,3}(\?[a-z=]{0,3})?>(;[a-z0-9=\[\]:";,-]{0,6}){0,3}"#,
            w in r"SIP/2\.0/[A-Za-z.%!-]{0,4} {0,2}[a-z0-9.:_-]{0,14}(;[a-z0-9=\[\]:,-]{0,8}){0,3}",
        ) {
            if name_addr(&v) {
                // One element: the list checks rely on it.
                proptest::prop_assert_eq!(
                    crate::message::split_list(&v).collect::<Vec<_>>(), vec![v.as_str()]
                );
                proptest::prop_assert!(NameAddr::validate(&v).is_ok(), "{}", v);
                proptest::prop_assert!(NameAddr::parse(&v).is_ok(), "{}", v);
            }
            if via(&w) {
                proptest::prop_assert_eq!(
                    crate::message::split_list(&w).collect::<Vec<_>>(), vec![w.as_str()]
                );
                proptest::prop_assert!(Via::validate(&w).is_ok(), "{}", w);
            }
            let inner = v.split(['<', '>']).nth(1).unwrap_or("");
            if sip_uri(inner.as_bytes()) {
                proptest::prop_assert!(Uri::validate(inner).is_ok(), "{}", inner);
            }
        }
    }
}
