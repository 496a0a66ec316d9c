//! Single-pass acceptors for the everyday shapes of the values the parser validates:
//! `"Name" <sip:user@host:port;p=v>;tag=x` and `SIP/2.0/TLS host:port;branch=z9hG4bK...`.
//!
//! Each answers `true` only for values the full scanners in `typed.rs` and `uri.rs` accept
//! (a subset of their grammar: no escapes, no IPv6, no LWS inside, no quoted parameter values,
//! lowercase `sip`/`sips` only). Anything else, including every malformed value, answers
//! `false` and goes to the full scanner, which gives the error with its position. So this
//! file changes speed, never what is accepted or what an error says.

use crate::uri::{is_host_char, is_param_char, is_token_char, is_user_char};

/// A cursor over the bytes of one value.
struct Cur<'a> {
    b: &'a [u8],
    i: usize,
}

impl Cur<'_> {
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    fn eat(&mut self, c: u8) -> bool {
        let hit = self.peek() == Some(c);
        self.i += usize::from(hit);
        hit
    }

    /// Skips bytes in the class; how many.
    #[inline(always)]
    fn run(&mut self, class: impl Fn(u8) -> bool) -> usize {
        let rest = self.b.get(self.i..).unwrap_or_default();
        let n = rest.iter().position(|&b| !class(b)).unwrap_or(rest.len());
        self.i += n;
        n
    }

    fn at_end(&self) -> bool {
        self.i >= self.b.len()
    }
}

/// `host[:port]`: a host name (letters, digits, `-`, `.`; not starting with `-` or `.`, no
/// `..`) or dotted digits, and a port of at most 65535.
fn hostport(c: &mut Cur<'_>) -> bool {
    let start = c.i;
    if !c.peek().is_some_and(|b| b.is_ascii_alphanumeric()) || c.run(is_host_char) == 0 {
        return false;
    }
    if c.b[start..c.i].windows(2).any(|w| w == b"..") {
        return false;
    }
    if c.eat(b':') {
        let p = c.i;
        let n = c.run(|b| b.is_ascii_digit());
        let port = c.b[p..c.i]
            .iter()
            .fold(0u32, |acc, &d| acc * 10 + u32::from(d - b'0'));
        if n == 0 || n > 5 || port > 65535 {
            return false;
        }
    }
    true
}

/// A `sip:` or `sips:` URI without escapes, password, IPv6 host or URI headers.
pub(super) fn sip_uri(u: &[u8]) -> bool {
    let rest = if let Some(r) = u.strip_prefix(b"sip:") {
        r
    } else if let Some(r) = u.strip_prefix(b"sips:") {
        r
    } else {
        return false;
    };
    let mut c = Cur { b: rest, i: 0 };
    // The full scanner takes userinfo up to the first '@' anywhere in the rest.
    if let Some(at) = rest.iter().position(|&b| b == b'@') {
        if at == 0 || !rest[..at].iter().all(|&b| is_user_char(b)) {
            return false;
        }
        c.i = at + 1;
    }
    if !hostport(&mut c) {
        return false;
    }
    while c.eat(b';') {
        if c.run(is_param_char) == 0 {
            return false;
        }
        if c.eat(b'=') {
            c.run(is_param_char);
        }
    }
    c.at_end()
}

/// `;name[=value]` header parameters up to the end, with token (or `[]:`) values.
fn header_params(c: &mut Cur<'_>) -> bool {
    while c.eat(b';') {
        if c.run(is_token_char) == 0 {
            return false;
        }
        if c.eat(b'=') && c.run(|b| is_token_char(b) || matches!(b, b'[' | b']' | b':')) == 0 {
            return false;
        }
    }
    c.at_end()
}

/// `["display"] <sip-uri>[;params]` (display without escapes; no LWS except after the
/// display name).
pub(super) fn name_addr(v: &str) -> bool {
    let b = v.as_bytes();
    let mut c = Cur { b, i: 0 };
    if c.eat(b'"') {
        while c.peek().is_some_and(|x| x != b'"' && x != b'\\') {
            c.i += 1;
        }
        if !c.eat(b'"') {
            return false;
        }
        c.run(|x| x == b' ');
    }
    if !c.eat(b'<') {
        return false;
    }
    let start = c.i;
    let Some(len) = b[start..].iter().position(|&x| x == b'>') else {
        return false;
    };
    if !sip_uri(&b[start..start + len]) {
        return false;
    }
    c.i = start + len + 1;
    header_params(&mut c)
}

/// `SIP/2.0/<transport> host[:port][;params]` with single spaces only before the host.
pub(super) fn via(v: &str) -> bool {
    let Some(rest) = v.as_bytes().strip_prefix(b"SIP/2.0/") else {
        return false;
    };
    let mut c = Cur { b: rest, i: 0 };
    if c.run(is_token_char) == 0 || c.run(|x| x == b' ') == 0 {
        return false;
    }
    hostport(&mut c) && header_params(&mut c)
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
            v in r#"("[a-zA-Z0-9 \\"]{0,6}" {0,2})?<sips?:([a-z0-9+;?%:=.-]{1,8}@)?[a-z0-9.:_-]{1,12}(;[a-z%=:\[\]-]{0,5}){0,3}(\?[a-z=]{0,3})?>(;[a-z0-9=\[\]:";-]{0,6}){0,3}"#,
            w in r"SIP/2\.0/[A-Za-z.%!-]{0,4} {0,2}[a-z0-9.:_-]{0,14}(;[a-z0-9=\[\]:-]{0,8}){0,3}",
        ) {
            if name_addr(&v) {
                proptest::prop_assert!(NameAddr::validate(&v).is_ok(), "{}", v);
                proptest::prop_assert!(NameAddr::parse(&v).is_ok(), "{}", v);
            }
            if via(&w) {
                proptest::prop_assert!(Via::validate(&w).is_ok(), "{}", w);
            }
            let inner = v.split(['<', '>']).nth(1).unwrap_or("");
            if sip_uri(inner.as_bytes()) {
                proptest::prop_assert!(Uri::validate(inner).is_ok(), "{}", inner);
            }
        }
    }
}
