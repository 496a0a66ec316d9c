//! The one-pass parse of everyday SIP URIs, tried before the full scanner in `uri.rs`.

use std::net::Ipv4Addr;

use super::{Host, Params, SipUri, Uri, is_label_char, is_param_char, is_user_char};

/// The end of the run of bytes in `class` that starts at `i` (`i` when `i` is past the end).
#[inline(always)]
pub(crate) fn run(b: &[u8], i: usize, class: impl Fn(u8) -> bool) -> usize {
    match b.get(i..) {
        Some(r) => i + r.iter().position(|&c| !class(c)).unwrap_or(r.len()),
        None => i,
    }
}

/// A host name and optional port at `i`, as the full scanner accepts them: a letter or digit,
/// then letters, digits, `-` and `.` without `..`; then `:` and at most five digits up to
/// 65535. Returns where the host ends, where both end, and the port. Label by label, so
/// that `..` costs no test per byte.
#[inline(always)]
pub(crate) fn host_port_end(b: &[u8], i: usize) -> Option<(usize, usize, Option<u16>)> {
    if !b.get(i)?.is_ascii_alphanumeric() {
        return None;
    }
    let mut i = run(b, i, is_label_char);
    while b.get(i) == Some(&b'.') {
        if b.get(i + 1) == Some(&b'.') {
            return None;
        }
        i = run(b, i + 1, is_label_char);
    }
    if b.get(i) != Some(&b':') {
        return Some((i, i, None));
    }
    let end = run(b, i + 1, |c| c.is_ascii_digit());
    if end == i + 1 || end - i > 6 {
        return None;
    }
    let n = b[i + 1..end]
        .iter()
        .fold(0u32, |acc, &d| acc * 10 + u32::from(d - b'0'));
    Some((i, end, Some(u16::try_from(n).ok()?)))
}

/// The everyday `sip:`/`sips:` URI in one pass: lowercase scheme, no escapes, password, IPv6
/// host or URI headers. `None` for anything else, which [`super::scan`] then parses (or rejects):
/// whatever this accepts, `scan` accepts and parses to the same [`Uri`].
pub(super) fn parse_plain_sip(s: &str) -> Option<Uri> {
    let b = s.as_bytes();
    let (secure, mut i) = if b.starts_with(b"sip:") {
        (false, 4)
    } else if b.starts_with(b"sips:") {
        (true, 5)
    } else {
        return None;
    };
    // `scan` takes userinfo up to the first '@'. When the user run stops elsewhere there is
    // no '@' before it, and none after it either: an '@' stops the host and the parameters
    // below, and the URI must end there.
    let user_end = run(b, i, is_user_char);
    let mut user = None;
    if b.get(user_end) == Some(&b'@') {
        if user_end == i {
            return None;
        }
        user = Some(&s[i..user_end]);
        i = user_end + 1;
    }
    let host_start = i;
    let (host_end, end, port) = host_port_end(b, i)?;
    let name = &s[host_start..host_end];
    let v4 =
        b[host_start].is_ascii_digit() && name.bytes().all(|c| c.is_ascii_digit() || c == b'.');
    let host = match v4.then(|| name.parse::<Ipv4Addr>().ok()).flatten() {
        Some(a) => Host::V4(a),
        None => Host::Domain(name.to_owned()),
    };
    i = end;
    // Room for the usual few parameters in one allocation, none when there are none.
    let mut params = Params(match b.get(i) {
        Some(b';') => Vec::with_capacity(4),
        _ => Vec::new(),
    });
    while b.get(i) == Some(&b';') {
        let n_end = run(b, i + 1, is_param_char);
        if n_end == i + 1 {
            return None;
        }
        let name = &s[i + 1..n_end];
        i = n_end;
        let mut value = None;
        if b.get(i) == Some(&b'=') {
            let v_end = run(b, i + 1, is_param_char);
            value = Some(s[i + 1..v_end].to_owned());
            i = v_end;
        }
        params.0.push((name.to_owned(), value));
    }
    if i != b.len() {
        return None;
    }
    Some(Uri::Sip(SipUri {
        secure,
        user: user.map(str::to_owned),
        password: None,
        host,
        port,
        params,
        headers: Vec::new(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        /// The one-pass parse of everyday SIP URIs agrees with the full scanner.
        #[test]
        fn plain_sip_parse_agrees_with_scan(
            u in r"(sips?|SIP|tel):([a-z0-9+;?%:=.-]{1,8}@)?[a-z0-9.:_\[\]-]{1,14}(;[a-z0-9%=:.\[\]-]{0,6}){0,3}(\?[a-z=]{0,3})?",
        ) {
            if let Some(fast) = parse_plain_sip(&u) {
                proptest::prop_assert_eq!(Ok(fast), Uri::parse_scanned(&u), "{}", u);
            }
        }
    }

    #[test]
    fn plain_sip_uris_take_the_one_pass_parse() {
        for u in [
            "sip:911@gw1.anywhere.e911cloud.com:5061;transport=tls;user=phone",
            "sips:192.0.2.1",
            "sip:a@1.2.3;lr;x=",
            "sip:+1-312@h-1.example:0",
        ] {
            assert_eq!(
                parse_plain_sip(u).map(|x| x.to_string()).as_deref(),
                Some(u)
            );
        }
        for u in [
            "SIP:a@b",
            "sip:a:p@b",
            "sip:a%41@b",
            "sip:[::1]",
            "sip:a@b?x=y",
            "sip:@b",
            "sip:a@b:",
            "sip:a@b:65536",
            "sip:a@b:000001",
            "sip:a@.b",
            "sip:a@b..c",
            "sip:a@b;",
        ] {
            assert_eq!(parse_plain_sip(u), None, "{u}");
        }
        assert_eq!(
            parse_plain_sip("sip:a@1.2.3.4")
                .unwrap()
                .as_sip()
                .unwrap()
                .host,
            Host::V4(Ipv4Addr::new(1, 2, 3, 4))
        );
        assert_eq!(
            parse_plain_sip("sip:a@1.2.3.4.5")
                .unwrap()
                .as_sip()
                .unwrap()
                .host,
            Host::Domain("1.2.3.4.5".into())
        );
    }
}
