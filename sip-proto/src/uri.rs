//! SIP, SIPS, tel and URN URIs (RFC 3261 §19.1, RFC 3966, RFC 5031 `urn:service:sos`).
//!
//! Parsing is strict about the characters each part may hold and keeps escapes as they were
//! written, so printing a parsed URI gives back the same text. IPv6 hosts are written as
//! references (`[2001:db8::1]`) and parsed into [`std::net::Ipv6Addr`].

use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};

mod chars;
mod plain;
use chars::{HOST, is_hnv_char, is_label_char, is_password_char, is_uric};
pub(crate) use chars::{
    is_param_char, is_token_char, is_token_or_bracket, is_user_char, is_word_or_at,
};
use plain::parse_plain_sip;
pub(crate) use plain::{host_port_end, run};

/// A URI as it appears in a Request-URI or a name-addr.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Uri {
    /// `sip:` or `sips:`.
    Sip(SipUri),
    /// `tel:` (RFC 3966).
    Tel(TelUri),
    /// `urn:` (for example `urn:service:sos`).
    Urn(UrnUri),
    /// Any other absolute URI (`http:`, `mailto:`, an unknown scheme): kept verbatim so a UAS can
    /// answer 416 Unsupported URI Scheme.
    Other {
        /// The scheme, as written.
        scheme: String,
        /// Everything after the first `:`.
        rest: String,
    },
}

/// A `sip:` or `sips:` URI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SipUri {
    /// `true` for `sips:`.
    pub secure: bool,
    /// The user part, escapes kept as written.
    pub user: Option<String>,
    /// The password part, escapes kept as written.
    pub password: Option<String>,
    /// The host.
    pub host: Host,
    /// The port, when given.
    pub port: Option<u16>,
    /// `;name[=value]` parameters, in order.
    pub params: Params,
    /// `?name=value&...` headers, escapes kept as written.
    pub headers: Vec<(String, String)>,
}

/// A `tel:` URI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TelUri {
    /// The number as written (`+1-312-555-0100` or a local number).
    pub number: String,
    /// Parameters such as `phone-context`.
    pub params: Params,
}

/// A `urn:` URI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UrnUri {
    /// Namespace identifier (`service`).
    pub nid: String,
    /// Namespace-specific string (`sos`).
    pub nss: String,
}

/// The host of a SIP URI or Via.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Host {
    /// A domain name, as written.
    Domain(String),
    /// An IPv4 address.
    V4(Ipv4Addr),
    /// An IPv6 address (written in brackets).
    V6(Ipv6Addr),
}

/// Ordered `;name[=value]` parameters; names compare case-insensitively.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Params(pub Vec<(String, Option<String>)>);

/// What went wrong in a URI, and at which byte of it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message} at URI byte {at}")]
pub struct UriError {
    /// Byte offset inside the URI text.
    pub at: usize,
    /// What was expected.
    pub message: &'static str,
}

impl Params {
    /// The value of parameter `name` (`Some(None)` for a flag such as `;lr`).
    pub fn get(&self, name: &str) -> Option<Option<&str>> {
        self.0
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_deref())
    }

    /// The value of parameter `name`, if it has one.
    pub fn value(&self, name: &str) -> Option<&str> {
        self.get(name).flatten()
    }

    /// Whether parameter `name` is present.
    pub fn contains(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// Appends a parameter.
    pub fn push(&mut self, name: impl Into<String>, value: Option<String>) {
        self.0.push((name.into(), value));
    }

    fn write(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (n, v) in &self.0 {
            match v {
                Some(v) => write!(f, ";{n}={v}")?,
                None => write!(f, ";{n}")?,
            }
        }
        Ok(())
    }
}

/// A host as scanned, borrowing the text of a domain name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum HostRef<'a> {
    Domain(&'a str),
    V4(Ipv4Addr),
    V6(Ipv6Addr),
}

impl HostRef<'_> {
    pub(crate) fn to_host(self) -> Host {
        match self {
            HostRef::Domain(d) => Host::Domain(d.to_owned()),
            HostRef::V4(a) => Host::V4(a),
            HostRef::V6(a) => Host::V6(a),
        }
    }
}

/// The parts of a `sip:`/`sips:` URI after the scheme, borrowed from the text.
struct SipParts<'a> {
    user: Option<&'a str>,
    password: Option<&'a str>,
    host: HostRef<'a>,
    port: Option<u16>,
}

/// The parts of a URI as scanned; parameters and URI headers went to the caller's sinks.
enum UriParts<'a> {
    Sip(SipParts<'a>, bool),
    Tel(&'a str),
    Urn(&'a str, &'a str),
    Other(&'a str, &'a str),
}

impl Uri {
    /// Parses a URI. The text must be exactly the URI (no surrounding `<>` or spaces).
    pub fn parse(s: &str) -> Result<Uri, UriError> {
        match parse_plain_sip(s) {
            Some(u) => Ok(u),
            None => Uri::parse_scanned(s),
        }
    }

    /// [`Uri::parse`] without the one-pass parse of everyday SIP URIs: the full scanner only.
    fn parse_scanned(s: &str) -> Result<Uri, UriError> {
        let mut params = Params::default();
        let mut headers = Vec::new();
        let parts = scan(
            s,
            |n, v| params.push(n, v.map(str::to_owned)),
            |n, v| headers.push((n.to_owned(), v.to_owned())),
        )?;
        Ok(match parts {
            UriParts::Sip(p, secure) => Uri::Sip(SipUri {
                secure,
                user: p.user.map(str::to_owned),
                password: p.password.map(str::to_owned),
                host: p.host.to_host(),
                port: p.port,
                params,
                headers,
            }),
            UriParts::Tel(number) => Uri::Tel(TelUri {
                number: number.to_owned(),
                params,
            }),
            UriParts::Urn(nid, nss) => Uri::Urn(UrnUri {
                nid: nid.to_owned(),
                nss: nss.to_owned(),
            }),
            UriParts::Other(scheme, rest) => Uri::Other {
                scheme: scheme.to_owned(),
                rest: rest.to_owned(),
            },
        })
    }

    /// Checks a URI exactly as [`Uri::parse`] does (same errors), without building it.
    pub(crate) fn validate(s: &str) -> Result<(), UriError> {
        scan(s, |_, _| {}, |_, _| {}).map(|_| ())
    }

    /// The SIP URI, if this is one.
    pub fn as_sip(&self) -> Option<&SipUri> {
        match self {
            Uri::Sip(u) => Some(u),
            _ => None,
        }
    }

    /// The "user" of the URI: the user part of a SIP URI, the number of a tel URI.
    pub fn user(&self) -> Option<&str> {
        match self {
            Uri::Sip(u) => u.user.as_deref(),
            Uri::Tel(t) => Some(&t.number),
            _ => None,
        }
    }

    /// The scheme, lowercase for the known ones.
    pub fn scheme(&self) -> &str {
        match self {
            Uri::Sip(u) if u.secure => "sips",
            Uri::Sip(_) => "sip",
            Uri::Tel(_) => "tel",
            Uri::Urn(_) => "urn",
            Uri::Other { scheme, .. } => scheme,
        }
    }
}

impl SipUri {
    /// A `sip:user@host` URI with no port or parameters.
    pub fn new(user: Option<&str>, host: Host) -> Self {
        SipUri {
            secure: false,
            user: user.map(str::to_owned),
            password: None,
            host,
            port: None,
            params: Params::default(),
            headers: Vec::new(),
        }
    }
}

impl TelUri {
    /// The digits of the number without visual separators (`+13125550100`).
    pub fn digits(&self) -> String {
        self.number
            .chars()
            .filter(|c| !matches!(c, '-' | '.' | '(' | ')'))
            .collect()
    }
}

/// The scanner behind [`Uri::parse`] and [`Uri::validate`]: one grammar, one set of errors.
/// Parameters (sip and tel) go to `param`, URI headers to `header`.
fn scan<'a>(
    s: &'a str,
    mut param: impl FnMut(&'a str, Option<&'a str>),
    header: impl FnMut(&'a str, &'a str),
) -> Result<UriParts<'a>, UriError> {
    let colon = memchr::memchr(b':', s.as_bytes()).ok_or(UriError {
        at: 0,
        message: "expected a URI scheme followed by ':'",
    })?;
    let scheme = &s[..colon];
    if scheme.is_empty()
        || !scheme.as_bytes()[0].is_ascii_alphabetic()
        || !scheme
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(&b))
    {
        return Err(UriError {
            at: 0,
            message: "expected a URI scheme (a letter, then letters, digits, '+', '-' or '.')",
        });
    }
    let rest = &s[colon + 1..];
    let base = colon + 1;
    if scheme.eq_ignore_ascii_case("sip") || scheme.eq_ignore_ascii_case("sips") {
        scan_sip_rest(rest, base, param, header).map(|p| UriParts::Sip(p, scheme.len() == 4))
    } else if scheme.eq_ignore_ascii_case("tel") {
        scan_tel_rest(rest, base, &mut param).map(UriParts::Tel)
    } else if scheme.eq_ignore_ascii_case("urn") {
        let (nid, nss) = rest.split_once(':').ok_or(UriError {
            at: base,
            message: "expected 'urn:<nid>:<nss>'",
        })?;
        if nid.is_empty() || nss.is_empty() || !nid.bytes().all(is_token_char) {
            return Err(UriError {
                at: base,
                message: "expected 'urn:<nid>:<nss>'",
            });
        }
        check_chars(
            nss,
            base + nid.len() + 1,
            is_uric,
            "invalid character in URN",
        )?;
        Ok(UriParts::Urn(nid, nss))
    } else {
        if rest.is_empty() {
            return Err(UriError {
                at: base,
                message: "expected something after the URI scheme",
            });
        }
        check_chars(rest, base, is_uric, "invalid character in URI")?;
        Ok(UriParts::Other(scheme, rest))
    }
}

fn scan_sip_rest<'a>(
    s: &'a str,
    base: usize,
    mut param: impl FnMut(&'a str, Option<&'a str>),
    mut header: impl FnMut(&'a str, &'a str),
) -> Result<SipParts<'a>, UriError> {
    // userinfo ends at the first '@' (neither user nor password may hold an unescaped '@').
    let (user, password, hostpart, hbase) = match memchr::memchr(b'@', s.as_bytes()) {
        Some(at) => {
            let info = &s[..at];
            let (user, password) = match memchr::memchr(b':', info.as_bytes()) {
                Some(c) => (&info[..c], Some(&info[c + 1..])),
                None => (info, None),
            };
            if user.is_empty() {
                return Err(UriError {
                    at: base,
                    message: "empty user part before '@'",
                });
            }
            check_escapes_and(user, base, is_user_char, "invalid character in user part")?;
            if let Some(p) = password {
                check_escapes_and(
                    p,
                    base + user.len() + 1,
                    is_password_char,
                    "invalid character in password",
                )?;
            }
            (Some(user), password, &s[at + 1..], base + at + 1)
        }
        None => (None, None, s, base),
    };
    let hp_end = memchr::memchr2(b';', b'?', hostpart.as_bytes()).unwrap_or(hostpart.len());
    let (host, port) = scan_hostport(&hostpart[..hp_end], hbase)?;
    let mut rest = &hostpart[hp_end..];
    let mut at = hbase + hp_end;
    while let Some(r) = rest.strip_prefix(';') {
        let end = memchr::memchr2(b';', b'?', r.as_bytes()).unwrap_or(r.len());
        let p = &r[..end];
        let (n, v) = match split_byte(p, b'=') {
            Some((n, v)) => (n, Some(v)),
            None => (p, None),
        };
        if n.is_empty() {
            return Err(UriError {
                at: at + 1,
                message: "empty URI parameter name",
            });
        }
        check_escapes_and(
            n,
            at + 1,
            is_param_char,
            "invalid character in URI parameter",
        )?;
        if let Some(v) = v {
            check_escapes_and(
                v,
                at + 2 + n.len(),
                is_param_char,
                "invalid character in URI parameter value",
            )?;
        }
        param(n, v);
        rest = &r[end..];
        at += 1 + end;
    }
    if let Some(h) = rest.strip_prefix('?') {
        at += 1;
        for pair in h.split('&') {
            let (n, v) = pair.split_once('=').ok_or(UriError {
                at,
                message: "expected 'name=value' in URI headers",
            })?;
            check_escapes_and(pair, at, is_hnv_char, "invalid character in URI header")?;
            header(n, v);
            at += pair.len() + 1;
        }
    }
    Ok(SipParts {
        user,
        password,
        host,
        port,
    })
}

fn scan_tel_rest<'a>(
    s: &'a str,
    base: usize,
    param: &mut impl FnMut(&'a str, Option<&'a str>),
) -> Result<&'a str, UriError> {
    let end = find_byte(s, b';').unwrap_or(s.len());
    let number = &s[..end];
    let digits = number.strip_prefix('+').unwrap_or(number);
    if digits.is_empty()
        || !digits
            .bytes()
            .any(|b| b.is_ascii_hexdigit() || b == b'*' || b == b'#')
        || !digits
            .bytes()
            .all(|b| b.is_ascii_hexdigit() || b"*#-.()".contains(&b))
    {
        return Err(UriError {
            at: base,
            message: "expected a telephone number (digits with optional leading '+')",
        });
    }
    let mut phone_context = false;
    let mut at = base + end;
    for p in s[end..].split(';').skip(1) {
        let (n, v) = match p.split_once('=') {
            Some((n, v)) => (n, Some(v)),
            None => (p, None),
        };
        if n.is_empty() || !n.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
            return Err(UriError {
                at: at + 1,
                message: "invalid tel URI parameter name",
            });
        }
        phone_context |= n.eq_ignore_ascii_case("phone-context");
        param(n, v);
        at += 1 + p.len();
    }
    if !number.starts_with('+') && !phone_context {
        return Err(UriError {
            at: base,
            message: "a local tel number needs a phone-context parameter",
        });
    }
    Ok(number)
}

/// Parses `host[:port]` (host may be an IPv6 reference) starting at byte `base` of the URI.
pub fn parse_hostport(s: &str, base: usize) -> Result<(Host, Option<u16>), UriError> {
    scan_hostport(s, base).map(|(h, p)| (h.to_host(), p))
}

/// [`parse_hostport`] without building the host.
pub(crate) fn scan_hostport(s: &str, base: usize) -> Result<(HostRef<'_>, Option<u16>), UriError> {
    let (host, port_str) = if let Some(r) = s.strip_prefix('[') {
        let close = r.find(']').ok_or(UriError {
            at: base,
            message: "expected ']' closing the IPv6 reference",
        })?;
        let addr: Ipv6Addr = r[..close].parse().map_err(|_| UriError {
            at: base + 1,
            message: "invalid IPv6 address",
        })?;
        let after = &r[close + 1..];
        let port = match after.strip_prefix(':') {
            Some(p) => Some(p),
            None if after.is_empty() => None,
            None => {
                return Err(UriError {
                    at: base + close + 2,
                    message: "expected ':' or end after IPv6 reference",
                });
            }
        };
        (HostRef::V6(addr), port)
    } else {
        let (h, p) = match memchr::memrchr(b':', s.as_bytes()) {
            Some(c) => (&s[..c], Some(&s[c + 1..])),
            None => (s, None),
        };
        (scan_host_name(h, base)?, p)
    };
    let port = match port_str {
        None => None,
        Some(p) => {
            if p.is_empty() || p.len() > 5 || !p.bytes().all(|b| b.is_ascii_digit()) {
                return Err(UriError {
                    at: base + s.len() - p.len(),
                    message: "expected a port number",
                });
            }
            // At most five digits: no overflow in u32.
            let n = p
                .bytes()
                .fold(0u32, |acc, d| acc * 10 + u32::from(d - b'0'));
            Some(u16::try_from(n).map_err(|_| UriError {
                at: base + s.len() - p.len(),
                message: "port number out of range",
            })?)
        }
    };
    Ok((host, port))
}

fn scan_host_name(h: &str, base: usize) -> Result<HostRef<'_>, UriError> {
    let b = h.as_bytes();
    if b.is_empty() {
        return Err(UriError {
            at: base,
            message: "expected a host",
        });
    }
    if b.iter().all(|&c| c.is_ascii_digit() || c == b'.')
        && let Ok(v4) = h.parse::<Ipv4Addr>()
    {
        return Ok(HostRef::V4(v4));
    }
    let bad = b.iter().position(|&c| !HOST[c as usize]);
    if bad.is_some() || matches!(b[0], b'-' | b'.') || b.windows(2).any(|w| w == b"..") {
        return Err(UriError {
            at: base + bad.unwrap_or(0),
            message: "invalid character in host name",
        });
    }
    Ok(HostRef::Domain(h))
}

fn check_chars(
    s: &str,
    base: usize,
    ok: fn(u8) -> bool,
    message: &'static str,
) -> Result<(), UriError> {
    match s.bytes().position(|b| !ok(b)) {
        Some(i) => Err(UriError {
            at: base + i,
            message,
        }),
        None => Ok(()),
    }
}

fn check_escapes_and(
    s: &str,
    base: usize,
    ok: fn(u8) -> bool,
    message: &'static str,
) -> Result<(), UriError> {
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            if i + 2 >= b.len() {
                return Err(UriError {
                    at: base + i,
                    message: "incomplete %-escape",
                });
            }
            if !(b[i + 1].is_ascii_hexdigit() && b[i + 2].is_ascii_hexdigit()) {
                return Err(UriError {
                    at: base + i,
                    message: "invalid %-escape",
                });
            }
            i += 3;
        } else if ok(b[i]) {
            i += 1;
        } else {
            return Err(UriError {
                at: base + i,
                message,
            });
        }
    }
    Ok(())
}

/// The first `byte` in `s`: a plain loop, cheaper than a vectorised search on the short
/// pieces (parameters, host parts) it is used for.
pub(crate) fn find_byte(s: &str, byte: u8) -> Option<usize> {
    s.bytes().position(|b| b == byte)
}

/// `s` split around its first `byte` (which must be ASCII, so both halves are `str`s).
pub(crate) fn split_byte(s: &str, byte: u8) -> Option<(&str, &str)> {
    find_byte(s, byte).map(|i| (&s[..i], &s[i + 1..]))
}

/// The first character of `s` for which `stop_ascii` (on an ASCII byte) or `stop` (on any
/// character) holds: `stop_ascii` must agree with `stop` on ASCII. A byte loop while the text
/// is ASCII, the `char` search from the first non-ASCII byte on.
pub(crate) fn find_char(
    s: &str,
    stop_ascii: impl Fn(u8) -> bool,
    stop: impl FnMut(char) -> bool,
) -> Option<usize> {
    for (i, &b) in s.as_bytes().iter().enumerate() {
        if b >= 0x80 {
            return s[i..].find(stop).map(|j| i + j);
        }
        if stop_ascii(b) {
            return Some(i);
        }
    }
    None
}

/// `char::is_whitespace` on an ASCII byte.
pub(crate) fn is_ascii_ws(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

/// Decodes `%XX` escapes (invalid escapes are kept as written).
pub fn unescape(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            let hex = |c: u8| (c as char).to_digit(16);
            if let (Some(h), Some(l)) = (hex(b[i + 1]), hex(b[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

impl fmt::Display for Host {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Host::Domain(d) => f.write_str(d),
            Host::V4(a) => write!(f, "{a}"),
            Host::V6(a) => write!(f, "[{a}]"),
        }
    }
}

impl fmt::Display for SipUri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.secure { "sips:" } else { "sip:" })?;
        if let Some(u) = &self.user {
            f.write_str(u)?;
            if let Some(p) = &self.password {
                write!(f, ":{p}")?;
            }
            f.write_str("@")?;
        }
        write!(f, "{}", self.host)?;
        if let Some(p) = self.port {
            write!(f, ":{p}")?;
        }
        self.params.write(f)?;
        for (i, (n, v)) in self.headers.iter().enumerate() {
            write!(f, "{}{n}={v}", if i == 0 { '?' } else { '&' })?;
        }
        Ok(())
    }
}

impl fmt::Display for Uri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Uri::Sip(u) => write!(f, "{u}"),
            Uri::Tel(t) => {
                write!(f, "tel:{}", t.number)?;
                t.params.write(f)
            }
            Uri::Urn(u) => write!(f, "urn:{}:{}", u.nid, u.nss),
            Uri::Other { scheme, rest } => write!(f, "{scheme}:{rest}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_sip_uri_with_everything() {
        let u = Uri::parse(
            "sips:911@gw1.anywhere.e911cloud.com:5061;transport=tls;user=phone?Subject=x",
        )
        .unwrap();
        let s = u.as_sip().unwrap();
        assert!(s.secure);
        assert_eq!(s.user.as_deref(), Some("911"));
        assert_eq!(s.host, Host::Domain("gw1.anywhere.e911cloud.com".into()));
        assert_eq!(s.port, Some(5061));
        assert_eq!(s.params.value("TRANSPORT"), Some("tls"));
        assert_eq!(s.headers, vec![("Subject".into(), "x".into())]);
        assert_eq!(
            u.to_string(),
            "sips:911@gw1.anywhere.e911cloud.com:5061;transport=tls;user=phone?Subject=x"
        );
    }

    #[test]
    fn parses_ipv6_reference_and_rejects_bad_one() {
        let u = Uri::parse("sip:user@[2001:db8::10]:5070").unwrap();
        assert_eq!(
            u.as_sip().unwrap().host,
            Host::V6("2001:db8::10".parse().unwrap())
        );
        assert_eq!(u.to_string(), "sip:user@[2001:db8::10]:5070");
        assert!(Uri::parse("sip:user@[2001:db8::10:5070").is_err());
        assert!(Uri::parse("sip:user@2001:db8::10").is_err());
    }

    #[test]
    fn parses_tel_and_urn() {
        let t = Uri::parse("tel:+1-312-555-0100").unwrap();
        match &t {
            Uri::Tel(t) => assert_eq!(t.digits(), "+13125550100"),
            other => panic!("not tel: {other:?}"),
        }
        assert!(
            Uri::parse("tel:911").is_err(),
            "local number without phone-context"
        );
        assert!(Uri::parse("tel:911;phone-context=+1").is_ok());
        let u = Uri::parse("urn:service:sos").unwrap();
        assert_eq!(
            u,
            Uri::Urn(UrnUri {
                nid: "service".into(),
                nss: "sos".into()
            })
        );
        assert_eq!(u.to_string(), "urn:service:sos");
    }

    #[test]
    fn unknown_scheme_is_kept_for_416() {
        let u = Uri::parse("unknownscheme:unknownstuff").unwrap();
        assert_eq!(u.scheme(), "unknownscheme");
    }

    #[test]
    fn rejects_bad_escapes_and_characters() {
        assert!(Uri::parse("sip:us%zzer@host").is_err());
        assert!(Uri::parse("sip:us%4@host").is_err());
        assert!(Uri::parse("sip:user@ho st").is_err());
        assert!(Uri::parse("sip:user@host:99999").is_err());
        assert!(Uri::parse("nocolon").is_err());
        assert_eq!(
            unescape("sips%3Auser%40example.com"),
            "sips:user@example.com"
        );
    }
}
