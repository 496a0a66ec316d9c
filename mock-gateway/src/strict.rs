//! The strict judge's extra checks, pure: what the parser lets through because it is
//! well-framed, but a careful E911 gateway must still refuse rather than answer 200.
//!
//! - [`header_problem`]: numeric headers that must be RFC 3261 delta-seconds or small integers
//!   (`Expires: -1`, `Max-Forwards: 99999999999`, `Session-Expires: 1e9`) -> 400.
//! - [`sdp_problem`]: an SDP offer that breaks RFC 4566's grammar where the gateway reads it
//!   (control bytes, lines that are not `x=value`, negative or non-numeric numbers in `o=`,
//!   `t=`, `m=`, `b=`, `a=rtpmap`, `a=ptime`, `a=crypto`, `c=` without `IN IP4|IP6`) -> 488.
//!
//! Each problem is one short lowercase sentence for the `Warning` header, naming the header or
//! the SDP line; a value is quoted as a bounded prefix.

use sip::{HeaderName, Request};

/// Longest piece of a value a problem quotes.
const QUOTE_CHARS: usize = 40;

/// The first numeric header of `req` that is not what RFC 3261 allows.
pub fn header_problem(req: &Request) -> Option<String> {
    let delta = |name: &str| -> Option<String> {
        for v in req.headers.get_all(&HeaderName::parse(name)) {
            let number = v.split(';').next().unwrap_or("").trim();
            if !is_delta_seconds(number) {
                return Some(format!(
                    "{name}: \"{}\" is not delta-seconds (0 to 4294967295)",
                    quote(v)
                ));
            }
        }
        None
    };
    if let Some(p) = delta("Expires")
        .or_else(|| delta("Session-Expires"))
        .or_else(|| delta("Min-SE"))
    {
        return Some(p);
    }
    for v in req.headers.get_all(&HeaderName::MaxForwards) {
        // 1*DIGIT (leading zeros are valid: RFC 4475 wsinv sends 0068).
        if !is_delta_seconds(v.trim()) {
            return Some(format!(
                "Max-Forwards: \"{}\" is not a decimal hop count",
                quote(v)
            ));
        }
    }
    None
}

/// RFC 3261 delta-seconds: digits, at most 2^32 - 1.
fn is_delta_seconds(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) && s.parse::<u32>().is_ok()
}

/// The first way `sdp` breaks the SDP grammar (RFC 4566) where the gateway depends on it.
pub fn sdp_problem(sdp: &str) -> Option<String> {
    if let Some((i, b)) = sdp
        .bytes()
        .enumerate()
        .find(|(_, b)| b.is_ascii_control() && !matches!(b, b'\r' | b'\n' | b'\t'))
    {
        let line = sdp[..i].bytes().filter(|c| *c == b'\n').count() + 1;
        return Some(format!("SDP line {line}: control byte 0x{b:02x}"));
    }
    let mut seen_v = false;
    let mut seen_o = false;
    let mut seen_s = false;
    for (n, raw) in sdp.split('\n').enumerate() {
        let line_no = n + 1;
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        if line.is_empty() {
            continue;
        }
        let bad = |why: String| Some(format!("SDP line {line_no}: {why}"));
        let Some((kind, value)) = line.split_once('=') else {
            return bad(format!("\"{}\" is not type=value", quote(line)));
        };
        let &[k] = kind.as_bytes() else {
            return bad(format!("\"{}\" is not a one-letter type", quote(kind)));
        };
        if !k.is_ascii_lowercase() {
            return bad(format!("\"{}\" is not a one-letter type", quote(kind)));
        }
        if !seen_v && k != b'v' {
            return bad("the description does not start with v=".to_owned());
        }
        let problem = match k {
            b'v' => {
                seen_v = true;
                (value != "0").then(|| format!("v={} (only version 0 exists)", quote(value)))
            }
            b'o' => {
                seen_o = true;
                origin(value)
            }
            b's' => {
                seen_s = true;
                None
            }
            b'c' => connection(value),
            b't' => {
                let f: Vec<&str> = value.split(' ').collect();
                (f.len() != 2 || !f.iter().all(|t| is_u64(t)))
                    .then(|| format!("t={} is not two NTP times", quote(value)))
            }
            b'b' => match value.split_once(':') {
                Some((t, bw)) if !t.is_empty() && is_u64(bw) => None,
                _ => Some(format!("b={} is not type:kilobits", quote(value))),
            },
            b'm' => media(value),
            b'a' => attribute(value),
            _ => None,
        };
        if let Some(p) = problem {
            return bad(p);
        }
    }
    match (seen_v, seen_o, seen_s) {
        (false, _, _) => Some("SDP: no v= line".to_owned()),
        (_, false, _) => Some("SDP: no o= line".to_owned()),
        (_, _, false) => Some("SDP: no s= line".to_owned()),
        _ => None,
    }
}

fn is_u64(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 20
        && s.bytes().all(|b| b.is_ascii_digit())
        && s.parse::<u64>().is_ok()
}

fn addr_type_ok(net: &str, addr: &str) -> bool {
    net == "IN" && matches!(addr, "IP4" | "IP6")
}

/// `o=<username> <sess-id> <sess-version> IN IP4|IP6 <address>`.
fn origin(value: &str) -> Option<String> {
    let f: Vec<&str> = value.split(' ').collect();
    let ok = f.len() == 6
        && !f[0].is_empty()
        && is_u64(f[1])
        && is_u64(f[2])
        && addr_type_ok(f[3], f[4])
        && !f[5].is_empty();
    (!ok).then(|| {
        format!(
            "o={} is not <user> <sess-id> <version> IN IP4|IP6 <address> (ids are unsigned)",
            quote(value)
        )
    })
}

/// `c=IN IP4|IP6 <address>[/ttl[/count]]`.
fn connection(value: &str) -> Option<String> {
    let f: Vec<&str> = value.split(' ').collect();
    let ok = f.len() == 3 && addr_type_ok(f[0], f[1]) && {
        let mut parts = f[2].split('/');
        let host = parts.next().unwrap_or("");
        let host_ok = if f[1] == "IP4" {
            host.parse::<std::net::Ipv4Addr>().is_ok() || is_fqdn(host)
        } else {
            host.parse::<std::net::Ipv6Addr>().is_ok() || is_fqdn(host)
        };
        host_ok && parts.all(is_u64)
    };
    (!ok).then(|| format!("c={} is not IN IP4|IP6 <address>", quote(value)))
}

fn is_fqdn(h: &str) -> bool {
    // Digits and dots only is an IPv4 address or nothing (c=IN IP4 999.999.999.999).
    if h.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return false;
    }
    !h.is_empty()
        && h.len() <= 253
        && h.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-')
}

/// `m=<media> <port>[/<count>] <proto> <fmt> ...`; RTP formats are payload types 0-127.
fn media(value: &str) -> Option<String> {
    let f: Vec<&str> = value.split(' ').collect();
    if f.len() < 4 || f[0].is_empty() || f[2].is_empty() {
        return Some(format!(
            "m={} is not <media> <port> <proto> <fmt>...",
            quote(value)
        ));
    }
    let mut port = f[1].split('/');
    let port_ok = port
        .next()
        .is_some_and(|p| p.parse::<u16>().is_ok() && is_u64(p))
        && port.all(|c| c.parse::<u16>().is_ok_and(|c| c > 0) && is_u64(c));
    if !port_ok {
        return Some(format!(
            "m= port \"{}\" is not a number from 0 to 65535",
            quote(f[1])
        ));
    }
    let rtp = f[2].starts_with("RTP/");
    f[3..]
        .iter()
        .find(|pt| rtp && !(is_u64(pt) && pt.parse::<u8>().is_ok_and(|n| n <= 127)))
        .map(|bad| {
            format!(
                "m= payload type \"{}\" is not a number from 0 to 127",
                quote(bad)
            )
        })
}

/// The attributes the gateway reads: `rtpmap`, `ptime`, `crypto`, `fmtp`.
fn attribute(value: &str) -> Option<String> {
    let (name, rest) = value.split_once(':').unwrap_or((value, ""));
    let first = rest.split(' ').next().unwrap_or("");
    match name {
        "rtpmap" | "fmtp" => (!(is_u64(first) && first.parse::<u8>().is_ok_and(|n| n <= 127)))
            .then(|| {
                format!(
                    "a={name}: payload type \"{}\" is not 0 to 127",
                    quote(first)
                )
            }),
        "ptime" | "maxptime" => {
            (!is_u64(rest.trim())).then(|| format!("a={name}:{} is not a number", quote(rest)))
        }
        "crypto" => {
            let f: Vec<&str> = rest.split(' ').collect();
            let ok = f.len() >= 3
                && is_u64(f[0])
                && f[0].len() <= 9
                && f[2].starts_with("inline:")
                && f[2].len() > "inline:".len();
            (!ok).then(|| {
                format!(
                    "a=crypto:{} is not <tag> <suite> inline:<key> (RFC 4568)",
                    quote(rest)
                )
            })
        }
        _ => None,
    }
}

fn quote(s: &str) -> String {
    scenarios::quote_prefix(s, QUOTE_CHARS)
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n\
        m=audio 40000 RTP/SAVP 0 101\r\na=rtpmap:101 telephone-event/8000\r\na=ptime:20\r\n\
        a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz\r\n";

    #[test]
    fn a_well_formed_offer_passes() {
        assert_eq!(sdp_problem(GOOD), None);
        let v6 = GOOD.replace("c=IN IP4 127.0.0.1", "c=IN IP6 ::1");
        assert_eq!(sdp_problem(&v6), None);
    }

    #[test]
    fn malformed_offers_are_named_by_line() {
        #[rustfmt::skip]
        let cases = [
            ("m=audio 40000 RTP/SAVP", "m=audio 40000 RTP/SAVP\0", "control byte 0x00"),
            ("s=-", "s=\u{1}", "control byte 0x01"),
            ("m=audio 40000", "m=audio -40000", "m= port"),
            ("m=audio 40000", "m=audio 99999", "m= port"),
            ("RTP/SAVP 0 101", "RTP/SAVP -1 101", "payload type"),
            ("o=- 1 1", "o=- -1 1", "o="),
            ("o=- 1 1", "o=- 1 18446744073709551616", "o="),
            ("t=0 0", "t=-1 0", "t="),
            ("a=ptime:20", "a=ptime:-20", "a=ptime"),
            ("a=rtpmap:101", "a=rtpmap:-101", "a=rtpmap"),
            ("a=crypto:1 ", "a=crypto:-1 ", "a=crypto"),
            ("c=IN IP4 127.0.0.1", "c=IN IP4 127.0.0.1 x", "c="),
            ("c=IN IP4 127.0.0.1", "c=XX IP4 127.0.0.1", "c="),
            ("c=IN IP4 127.0.0.1", "c=IN IP4 999.999.999.999", "c="),
            ("s=-", "s-", "not type=value"),
            ("v=0", "v=1", "version 0"),
        ];
        for (from, to, says) in cases {
            let bad = GOOD.replacen(from, to, 1);
            assert_ne!(bad, GOOD, "{from}");
            let p = sdp_problem(&bad).unwrap_or_else(|| panic!("{to:?} passed"));
            assert!(p.contains(says), "{to:?}: {p}");
            assert!(p.starts_with("SDP line "), "{p}");
        }
        assert_eq!(
            sdp_problem("o=- 1 1 IN IP4 h\r\n").as_deref(),
            Some("SDP line 1: the description does not start with v=")
        );
    }

    #[test]
    fn numeric_headers_must_be_what_rfc_3261_allows() {
        let req = |name: &str, value: &str| {
            let mut r = Request::new(sip::Method::Invite, sip::Uri::parse("sip:911@gw").unwrap());
            r.headers.push(HeaderName::parse(name), value);
            r
        };
        for (h, v) in [
            ("Expires", "-1"),
            ("Expires", "4294967296"),
            ("Expires", "1e9"),
            ("Expires", ""),
            ("Session-Expires", "-90;refresher=uac"),
            ("Min-SE", "x"),
            ("Max-Forwards", "-1"),
            ("Max-Forwards", "99999999999999999999"),
        ] {
            let p = header_problem(&req(h, v)).unwrap_or_else(|| panic!("{h}: {v} passed"));
            assert!(p.starts_with(h), "{p}");
        }
        for (h, v) in [
            ("Expires", "0"),
            ("Expires", "3600"),
            ("Session-Expires", "1800;refresher=uac"),
            ("Max-Forwards", "70"),
        ] {
            assert_eq!(header_problem(&req(h, v)), None, "{h}: {v}");
        }
    }
}
