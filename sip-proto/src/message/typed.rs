//! Typed views of the headers the transaction layer and the E911 checks depend on: Via, CSeq,
//! and name-addr headers (From, To, Contact, P-Asserted-Identity, Route ...).
//!
//! Each parser takes one header value (one element of a comma list) and reports the byte offset
//! inside that value where it stopped making sense.

use std::fmt;

use super::Method;
use crate::uri::{self, Host, Params, Uri, UriError};

/// Why a header value failed to parse, and where inside the value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message} (at byte {at} of the value)")]
pub struct ValueError {
    /// Byte offset inside the header value.
    pub at: usize,
    /// What was expected.
    pub message: String,
}

impl ValueError {
    fn new(at: usize, message: impl Into<String>) -> Self {
        ValueError {
            at,
            message: message.into(),
        }
    }
    fn from_uri(base: usize, e: UriError) -> Self {
        ValueError::new(base + e.at, format!("bad URI: {}", e.message))
    }
}

/// One Via value: `SIP/2.0/TLS host:port;branch=...`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Via {
    /// Transport (`UDP`, `TCP`, `TLS`, `SCTP`, `WS`, ...), uppercase as written.
    pub transport: String,
    /// sent-by host.
    pub host: Host,
    /// sent-by port.
    pub port: Option<u16>,
    /// Parameters (`branch`, `received`, `rport`, ...).
    pub params: Params,
}

impl Via {
    /// Parses one via-parm.
    pub fn parse(v: &str) -> Result<Via, ValueError> {
        let mut params = Params::default();
        let (transport, (host, port)) = scan_via(
            v,
            |h, p| (h.to_host(), p),
            |n, val| params.push(n, val.map(str::to_owned)),
        )?;
        Ok(Via {
            transport: transport.to_ascii_uppercase(),
            host,
            port,
            params,
        })
    }

    /// Checks one via-parm exactly as [`Via::parse`] does (same errors), without building it.
    pub(crate) fn validate(v: &str) -> Result<(), ValueError> {
        scan_via(v, |_, _| (), |_, _| {}).map(|_| ())
    }

    /// The `branch` parameter.
    pub fn branch(&self) -> Option<&str> {
        self.params.value("branch")
    }
}

/// The scanner behind [`Via::parse`] and [`Via::validate`]: returns the transport as written
/// and what `host` makes of the sent-by; parameters go to `param`.
fn scan_via<'a, R>(
    v: &'a str,
    host: impl FnOnce(uri::HostRef<'_>, Option<u16>) -> R,
    param: impl FnMut(&'a str, Option<&'a str>),
) -> Result<(&'a str, R), ValueError> {
    // sent-protocol = name LWS? "/" LWS? version LWS? "/" LWS? transport
    let mut parts = [""; 3];
    let mut rest = v;
    let mut off = 0;
    for (i, part) in parts.iter_mut().enumerate() {
        let trimmed = rest.trim_start();
        off += rest.len() - trimmed.len();
        let end = uri::find_char(
            trimmed,
            |b| b == b'/' || uri::is_ascii_ws(b),
            |c: char| c == '/' || c.is_whitespace(),
        )
        .unwrap_or(trimmed.len());
        *part = &trimmed[..end];
        if part.is_empty() || !part.bytes().all(uri::is_token_char) {
            return Err(ValueError::new(
                off,
                "expected sent-protocol like 'SIP/2.0/TCP'",
            ));
        }
        rest = &trimmed[end..];
        off += end;
        if i < 2 {
            let t = rest.trim_start();
            off += rest.len() - t.len();
            rest = t
                .strip_prefix('/')
                .ok_or_else(|| ValueError::new(off, "expected '/' in sent-protocol"))?;
            off += 1;
        }
    }
    if !parts[0].eq_ignore_ascii_case("SIP") || parts[1] != "2.0" {
        return Err(ValueError::new(0, "expected protocol 'SIP/2.0'"));
    }
    let t = rest.trim_start();
    if t.len() == rest.len() {
        return Err(ValueError::new(off, "expected whitespace before sent-by"));
    }
    off += rest.len() - t.len();
    rest = t;
    let end = uri::find_byte(rest, b';').unwrap_or(rest.len());
    let sent_by = rest[..end].trim_end();
    let sent_by = compact_colon(sent_by);
    let built = uri::scan_hostport(&sent_by, off)
        .map(|(h, p)| host(h, p))
        .map_err(|e| ValueError::from_uri(0, e))?;
    scan_params(&rest[end..], off + end, param)?;
    Ok((parts[2], built))
}

/// `host : port` may carry LWS around the colon in a Via; remove it.
fn compact_colon(s: &str) -> std::borrow::Cow<'_, str> {
    if s.contains(char::is_whitespace) {
        std::borrow::Cow::Owned(s.split_whitespace().collect())
    } else {
        std::borrow::Cow::Borrowed(s)
    }
}

impl fmt::Display for Via {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SIP/2.0/{} {}", self.transport, self.host)?;
        if let Some(p) = self.port {
            write!(f, ":{p}")?;
        }
        for (n, v) in &self.params.0 {
            match v {
                Some(v) => write!(f, ";{n}={v}")?,
                None => write!(f, ";{n}")?,
            }
        }
        Ok(())
    }
}

/// The CSeq header: sequence number and method.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CSeq {
    /// Sequence number (< 2^31, RFC 3261 §8.1.1.5).
    pub seq: u32,
    /// Method.
    pub method: Method,
}

impl CSeq {
    /// Parses `1 INVITE`.
    pub fn parse(v: &str) -> Result<CSeq, ValueError> {
        let v = v.trim();
        let digits = v.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 || digits > 10 {
            return Err(ValueError::new(0, "expected a CSeq number"));
        }
        let seq: u64 = v[..digits]
            .parse()
            .map_err(|_| ValueError::new(0, "expected a CSeq number"))?;
        if seq >= 1 << 31 {
            return Err(ValueError::new(0, "CSeq number must be less than 2^31"));
        }
        let rest = &v[digits..];
        let m = rest.trim_start();
        if m.len() == rest.len() || m.is_empty() {
            return Err(ValueError::new(
                digits,
                "expected whitespace and a method after the CSeq number",
            ));
        }
        let method = Method::parse(m).ok_or_else(|| {
            ValueError::new(
                v.len() - m.len(),
                "expected a method token after the CSeq number",
            )
        })?;
        Ok(CSeq {
            seq: seq as u32,
            method,
        })
    }
}

impl fmt::Display for CSeq {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.seq, self.method)
    }
}

/// A name-addr or addr-spec with header parameters: the shape of From, To, Contact,
/// P-Asserted-Identity, Route, Record-Route and Remote-Party-ID.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameAddr {
    /// Display name without quotes (unescaped), if any.
    pub display: Option<String>,
    /// The URI.
    pub uri: Uri,
    /// Header parameters after the URI (`tag`, `privacy` ...).
    pub params: Params,
}

impl NameAddr {
    /// Parses one name-addr / addr-spec value.
    pub fn parse(v: &str) -> Result<NameAddr, ValueError> {
        let mut params = Params::default();
        let (display, uri) = scan_name_addr(v, Uri::parse, |n, val| {
            params.push(n, val.map(str::to_owned))
        })?;
        Ok(NameAddr {
            display: display.map(|d| match d {
                Display::Quoted(q) => unescape_quoted(q),
                Display::Tokens(t) => t.to_owned(),
            }),
            uri,
            params,
        })
    }

    /// Checks one name-addr / addr-spec exactly as [`NameAddr::parse`] does (same errors),
    /// without building it.
    pub(crate) fn validate(v: &str) -> Result<(), ValueError> {
        scan_name_addr(v, Uri::validate, |_, _| {}).map(|_| ())
    }

    /// The `tag` parameter.
    pub fn tag(&self) -> Option<&str> {
        self.params.value("tag")
    }

    /// The `tag` parameter of a name-addr value, without building it: `Ok(None)` when it
    /// has none, the error [`NameAddr::parse`] gives when the value is malformed.
    pub(crate) fn tag_of(v: &str) -> Result<Option<&str>, ValueError> {
        // The everyday shape is valid as a whole: its parameters are plain `;name[=value]`.
        if let Some(p) = super::fast::name_addr_params(v) {
            let tag = v[p..].split(';').skip(1).find_map(|param| {
                let (name, value) = match param.split_once('=') {
                    Some((n, val)) => (n, Some(val)),
                    None => (param, None),
                };
                name.eq_ignore_ascii_case("tag").then_some(value)
            });
            return Ok(tag.flatten());
        }
        let mut tag = None;
        scan_name_addr(v, Uri::validate, |n, val| {
            if tag.is_none() && n.eq_ignore_ascii_case("tag") {
                tag = Some(val);
            }
        })?;
        Ok(tag.flatten())
    }
}

/// A display name as written: the inside of a quoted string (escapes kept) or tokens.
enum Display<'a> {
    Quoted(&'a str),
    Tokens(&'a str),
}

/// The scanner behind [`NameAddr::parse`] and [`NameAddr::validate`]: `uri` parses or checks
/// the URI text; parameters go to `param`.
fn scan_name_addr<'a, U>(
    v: &'a str,
    uri: impl FnOnce(&'a str) -> Result<U, UriError>,
    param: impl FnMut(&'a str, Option<&'a str>),
) -> Result<(Option<Display<'a>>, U), ValueError> {
    let trimmed = v.trim_start();
    let base = v.len() - trimmed.len();
    let b = trimmed.as_bytes();
    let (display, uri_start, uri_end, after) = if b.first() == Some(&b'"') {
        let close = find_quote_end(trimmed)
            .ok_or_else(|| ValueError::new(base, "unterminated quoted display name"))?;
        let display = Display::Quoted(&trimmed[1..close]);
        let rest = &trimmed[close + 1..];
        let lt = uri::find_byte(rest, b'<').ok_or_else(|| {
            ValueError::new(base + close + 1, "expected '<' after the display name")
        })?;
        if !rest[..lt].trim().is_empty() {
            return Err(ValueError::new(
                base + close + 1,
                "unexpected text between display name and '<'",
            ));
        }
        let start = close + 1 + lt + 1;
        let gt = uri::find_byte(&trimmed[start..], b'>')
            .ok_or_else(|| ValueError::new(base + start, "expected '>' closing the URI"))?;
        (Some(display), start, start + gt, start + gt + 1)
    } else if let Some(lt) = uri::find_byte(trimmed, b'<') {
        let name = trimmed[..lt].trim();
        if !name
            .split_whitespace()
            .all(|w| w.bytes().all(uri::is_token_char))
        {
            return Err(ValueError::new(
                base,
                "display name must be tokens or a quoted string",
            ));
        }
        let start = lt + 1;
        let gt = uri::find_byte(&trimmed[start..], b'>')
            .ok_or_else(|| ValueError::new(base + start, "expected '>' closing the URI"))?;
        let display = (!name.is_empty()).then_some(Display::Tokens(name));
        (display, start, start + gt, start + gt + 1)
    } else {
        // addr-spec: the URI ends at the first ';' (its parameters belong to the header) or space.
        let end = trimmed
            .bytes()
            .position(|b| matches!(b, b';' | b' ' | b'\t'))
            .unwrap_or(trimmed.len());
        // RFC 3261 §20.10: a URI holding ',', '?' or ';' must be in angle brackets
        // (RFC 4475 regbadct).
        if let Some(q) = trimmed[..end].bytes().position(|b| b == b'?' || b == b',') {
            return Err(ValueError::new(
                base + q,
                "a URI with headers ('?') must be enclosed in '<>'",
            ));
        }
        (None, 0, end, end)
    };
    let uri_text = &trimmed[uri_start..uri_end];
    if uri_text.is_empty() {
        return Err(ValueError::new(base + uri_start, "expected a URI"));
    }
    let uri = uri(uri_text).map_err(|e| ValueError::from_uri(base + uri_start, e))?;
    scan_params(trimmed[after..].trim_start(), base + after, param)?;
    Ok((display, uri))
}

impl fmt::Display for NameAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(d) = &self.display {
            write!(f, "\"{}\" ", d.replace('\\', "\\\\").replace('"', "\\\""))?;
        }
        write!(f, "<{}>", self.uri)?;
        for (n, v) in &self.params.0 {
            match v {
                Some(v) => write!(f, ";{n}={v}")?,
                None => write!(f, ";{n}")?,
            }
        }
        Ok(())
    }
}

fn find_quote_end(s: &str) -> Option<usize> {
    let b = s.as_bytes();
    let mut i = 1;
    while i < b.len() {
        match b[i] {
            b'\\' => i += 2,
            b'"' => return Some(i),
            _ => i += 1,
        }
    }
    None
}

fn unescape_quoted(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(n) = chars.next() {
                out.push(n);
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Parses `;name[=value]` header parameters (values may be quoted strings).
pub fn parse_params(s: &str, base: usize) -> Result<Params, ValueError> {
    let mut params = Params::default();
    scan_params(s, base, |n, v| params.push(n, v.map(str::to_owned)))?;
    Ok(params)
}

/// The scanner behind [`parse_params`]: each parameter goes to `param` (quoted values with
/// their quotes).
fn scan_params<'a>(
    s: &'a str,
    base: usize,
    mut param: impl FnMut(&'a str, Option<&'a str>),
) -> Result<(), ValueError> {
    let mut rest = s.trim_end();
    let mut at = base;
    while !rest.is_empty() {
        let r = rest.trim_start();
        at += rest.len() - r.len();
        let Some(r) = r.strip_prefix(';') else {
            return Err(ValueError::new(at, "expected ';' before a parameter"));
        };
        at += 1;
        let r2 = r.trim_start();
        at += r.len() - r2.len();
        let name_end = uri::find_char(
            r2,
            |b| b == b'=' || b == b';' || uri::is_ascii_ws(b),
            |c: char| c == '=' || c == ';' || c.is_whitespace(),
        )
        .unwrap_or(r2.len());
        let name = &r2[..name_end];
        if name.is_empty() || !name.bytes().all(uri::is_token_char) {
            return Err(ValueError::new(at, "expected a parameter name (token)"));
        }
        let mut r3 = r2[name_end..].trim_start();
        let mut value = None;
        if let Some(v) = r3.strip_prefix('=') {
            let v = v.trim_start();
            let vstart = at + (r2.len() - v.len());
            if v.starts_with('"') {
                let close = find_quote_end(v).ok_or_else(|| {
                    ValueError::new(vstart, "unterminated quoted parameter value")
                })?;
                value = Some(&v[..=close]);
                r3 = &v[close + 1..];
            } else {
                let end = uri::find_char(
                    v,
                    |b| b == b';' || uri::is_ascii_ws(b),
                    |c: char| c == ';' || c.is_whitespace(),
                )
                .unwrap_or(v.len());
                let val = &v[..end];
                if val.is_empty()
                    || !val
                        .bytes()
                        .all(|b| uri::is_token_char(b) || b"[]:".contains(&b))
                {
                    return Err(ValueError::new(vstart, "expected a parameter value"));
                }
                value = Some(val);
                r3 = &v[end..];
            }
        }
        param(name, value);
        at += r2.len() - r3.len();
        rest = r3;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn via_with_lws_and_params() {
        let v =
            Via::parse("SIP / 2.0 / TLS gw1.example.com : 5061 ; branch=z9hG4bK77;rport").unwrap();
        assert_eq!(v.transport, "TLS");
        assert_eq!(v.port, Some(5061));
        assert_eq!(v.branch(), Some("z9hG4bK77"));
        assert!(v.params.contains("rport"));
        let v6 =
            Via::parse("SIP/2.0/TCP [2001:db8::9]:5060;branch=z9hG4bKx;received=[2001:db8::9]")
                .unwrap();
        assert_eq!(v6.host, Host::V6("2001:db8::9".parse().unwrap()));
        assert!(Via::parse("SIP/2.0/TCP").is_err());
        assert!(Via::parse("SIP/3.0/TCP host").is_err());
    }

    #[test]
    fn cseq_bounds() {
        assert_eq!(CSeq::parse("  42 INVITE ").unwrap().seq, 42);
        assert!(CSeq::parse("4294967296 INVITE").is_err());
        assert!(CSeq::parse("INVITE").is_err());
        assert!(CSeq::parse("1").is_err());
    }

    #[test]
    fn name_addr_forms() {
        let n =
            NameAddr::parse(r#""Doe, \"J\"" <sip:+13125550100@trunk.example;user=phone>;tag=abc"#)
                .unwrap();
        assert_eq!(n.display.as_deref(), Some(r#"Doe, "J""#));
        assert_eq!(n.tag(), Some("abc"));
        assert_eq!(n.uri.user(), Some("+13125550100"));
        let a = NameAddr::parse("sip:alice@example.com;tag=1").unwrap();
        assert_eq!(a.tag(), Some("1"));
        assert!(a.uri.as_sip().unwrap().params.0.is_empty());
        let t = NameAddr::parse("Alice Smith <tel:+13125550100>").unwrap();
        assert_eq!(t.display.as_deref(), Some("Alice Smith"));
        assert!(NameAddr::parse("<sip:a@b").is_err());
        assert!(NameAddr::parse("\"open <sip:a@b>").is_err());
    }

    proptest::proptest! {
        /// The allocation-free checks the parser runs accept and reject exactly what the
        /// builders do, with the same error (position and message).
        #[test]
        fn validate_agrees_with_parse(
            v in r#"("[a-zA-Z \\"]{0,6}"|[a-zA-Z ]{0,4})? ?<?(sips?|tel|urn|x):[a-z0-9+@.:;=?&%\[\]-]{0,24}>? ?(;[a-z=" ]{0,6}){0,2}"#,
            w in r"SIP ?/ ?2\.0 ?/ ?[A-Za-z]{1,4} ?[a-z0-9.:\[\] ]{0,16}(;[a-z=0-9\[\]:]{0,8}){0,2}",
        ) {
            proptest::prop_assert_eq!(NameAddr::validate(&v).err(), NameAddr::parse(&v).err());
            proptest::prop_assert_eq!(Via::validate(&w).err(), Via::parse(&w).err());
            let u = v.trim_matches(|c| c == '<' || c == '>' || c == ' ');
            proptest::prop_assert_eq!(Uri::validate(u).err(), Uri::parse(u).err());
        }
    }

    #[test]
    fn quick_tag_of_agrees_with_the_full_scan() {
        let full = |v| {
            let mut tag = None;
            scan_name_addr(v, Uri::validate, |n, val| {
                if tag.is_none() && n.eq_ignore_ascii_case("tag") {
                    tag = Some(val);
                }
            })
            .map(|_| tag.flatten())
        };
        for (n, v) in [
            "<sip:a@b>;tag=1",
            "<sip:a@b>;TAG=x;tag=y",
            "<sip:a@b>;tag;tag=y",
            "<sip:a@b>;x=1;tag=z9;y",
            "<sip:a@b;tag=u>",
            "<sip:a@b;tag=u>;tagx=1",
            "\"Alice\" <sip:+1312@h.example:5060;user=phone>;tag=9f2c",
            "<sip:a@b>",
            "<sip:a@b> ;tag=1",
            "sip:a@b;tag=1",
            "<sip:a@b>;tag=\"q\"",
            "<sip:a@-b>;tag=1",
            "<sip:a@b>;tag=",
            "<tel:+1>;tag=2",
            "",
        ]
        .into_iter()
        .enumerate()
        {
            let fast = NameAddr::tag_of(v);
            let slow = full(v);
            // The first eight take the quick path.
            assert_eq!(super::super::fast::name_addr(v), n < 8, "{v}");
            assert_eq!(fast.as_ref().ok(), slow.as_ref().ok(), "{v}");
            assert_eq!(fast.is_err(), slow.is_err(), "{v}");
        }
    }
}
