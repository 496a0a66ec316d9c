//! The fast path of [`Message::parse_bytes`]: one pass over the header block for the everyday
//! shape of a message, where every line ends in CRLF, no line is folded, names are followed
//! directly by `:` and values hold no control character.
//!
//! It splits the lines into the same [`Span`]s the full parser makes and checks each known
//! header with the same [`check`] the full parser uses, then the start line with the same
//! [`parse_start`]. Anything it does not expect (leading CRLFs, a bare LF, a continuation line,
//! a space before `:`, an invalid value, a missing or repeated mandatory header, a short body,
//! invalid UTF-8 ...) answers `None` and the full parser starts over, so the fast path changes
//! speed only: what is accepted, what it parses to, and every error stay those of `parse.rs`.

use bytes::Bytes;

use super::Message;
use super::header::{Headers, Known, Raw, Span};
use super::parse::{Ctx, Start, parse_start};
use super::validate::{check, checked};
use crate::uri::is_token_char;

/// Parses `input` when it has the everyday shape, `None` otherwise (the caller then runs the
/// full parser, which also gives any error).
#[inline(always)]
pub(super) fn parse(input: &Bytes) -> Option<Message> {
    let data: &[u8] = input;
    // The start line.
    let nl = memchr::memchr(b'\n', data)?;
    let line = data[..nl].strip_suffix(b"\r")?;

    // The header lines, split into spans of `data` (which the header block starts).
    let mut spans: Vec<Span> = Vec::with_capacity(24);
    let mut pos = nl + 1;
    let mut line_no = 1u32;
    let mut content_length: Option<usize> = None;
    let (head_len, body_start) = loop {
        line_no += 1;
        let rest = data.get(pos..)?;
        match rest.first()? {
            b'\r' if rest.get(1) == Some(&b'\n') => {
                // The empty line: the header block ends before the CRLF of the last line.
                break (pos - 2, pos + 2);
            }
            b'\r' | b'\n' | b' ' | b'\t' => return None,
            _ => {}
        }
        // A known name is a token; any other name is checked.
        let name_len = find_colon(rest)?;
        let known = Known::lookup_in(rest, name_len);
        if known.is_none() && (name_len == 0 || !rest[..name_len].iter().all(|&b| is_token_char(b)))
        {
            return None;
        }
        let mut v = name_len + 1;
        while matches!(rest.get(v), Some(b' ' | b'\t')) {
            v += 1;
        }
        // The value ends at its first control character, which must start the CRLF.
        let cr = v + first_control(rest.get(v..)?)?;
        if rest[cr] != b'\r' || rest.get(cr + 1) != Some(&b'\n') {
            return None;
        }
        let mut end = cr;
        while end > v && matches!(rest[end - 1], b' ' | b'\t') {
            end -= 1;
        }
        if known == Some(Known::ContentLength) {
            let n = digits(&rest[v..end])?;
            if content_length.replace(n).is_some() {
                return None;
            }
        }
        spans.push(Span {
            known,
            name: (pos, pos + name_len),
            value: (pos + v, pos + end),
            line: line_no,
        });
        pos += cr + 2;
    };

    // The start line is read once the header block is known to be UTF-8.
    let head = std::str::from_utf8(&data[..head_len]).ok()?;
    let line = head.get(..line.len())?;
    let fast = if line.starts_with("SIP/") {
        status_line(line)
    } else {
        request_line(line)
    };
    let start = match fast {
        Some(start) => start,
        // Errors are never reported from here.
        None => parse_start(line, &Ctx::new("")).ok()?,
    };
    let method = match &start {
        Start::Request { method, .. } => Some(method),
        Start::Response { .. } => None,
    };
    let mut seen = [0u8; 5]; // Via, From, To, Call-ID, CSeq
    for s in &spans {
        let Some(known) = s.known else { continue };
        let slot = match known {
            Known::Via => 0,
            Known::From => 1,
            Known::To => 2,
            Known::CallId => 3,
            Known::CSeq => 4,
            _ => 5,
        };
        if let Some(n) = seen.get_mut(slot) {
            *n = n.saturating_add(1);
        }
        if checked(known) {
            check(known, head.get(s.value.0..s.value.1)?, method).ok()?;
        }
    }
    if seen[0] == 0 || seen[1..].iter().any(|&n| n != 1) {
        return None;
    }

    let body = match content_length {
        Some(len) if len > data.len() - body_start => return None,
        Some(len) => input.slice(body_start..body_start + len),
        None => input.slice(body_start..),
    };
    let headers = Headers::parsed(Raw {
        text: head.to_owned(),
        spans,
    });
    Some(start.into_message(headers, body))
}

/// The everyday request line, `METHOD SP Request-URI SP SIP/2.0`, as [`parse_start`] parses
/// it; `None` for anything else (a response, another version's spelling, whitespace inside
/// the Request-URI ...), which [`parse_start`] then takes.
fn request_line(line: &str) -> Option<Start> {
    let b = line.as_bytes();
    let uri_end = b.len().checked_sub(8)?;
    if &b[uri_end..] != b" SIP/2.0" {
        return None;
    }
    let sp = b.iter().position(|&c| c == b' ')?;
    let uri = line.get(sp + 1..uri_end).filter(|u| !u.is_empty())?;
    // No whitespace (ASCII whitespace is at most ' ', any other is not ASCII); branch-free so
    // that it vectorises.
    if uri
        .bytes()
        .fold(false, |acc, c| acc | (c <= b' ') | (c >= 0x80))
    {
        return None;
    }
    let method = super::Method::parse(&line[..sp])?;
    let uri = crate::uri::Uri::parse(uri).ok()?;
    // URI headers are not allowed in a Request-URI.
    if uri.as_sip().is_some_and(|s| !s.headers.is_empty()) {
        return None;
    }
    Some(Start::Request { method, uri })
}

/// The everyday status line, `SIP/2.0 SP 3DIGIT [SP Reason-Phrase]`, as [`parse_start`]
/// parses it; `None` for anything else.
#[inline(never)]
fn status_line(line: &str) -> Option<Start> {
    let b = line.as_bytes();
    let code = b.strip_prefix(b"SIP/2.0 ")?.get(..3)?;
    if !code.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let status = code.iter().fold(0u16, |n, &d| n * 10 + u16::from(d - b'0'));
    let reason = match b.get(11) {
        None => "",
        Some(b' ') => &line[12..],
        Some(_) => return None,
    };
    if !(100..=699).contains(&status) || reason.bytes().any(|c| c.is_ascii_control() && c != b'\t')
    {
        return None;
    }
    Some(Start::Response {
        status,
        reason: reason.to_owned(),
    })
}

/// The first control character other than HTAB in `b` (CR, LF, DEL ...), eight bytes at a
/// time.
#[inline(always)]
fn first_control(b: &[u8]) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let mut i = 0;
    while let Some(chunk) = b.get(i..i + 8) {
        let x = u64::from_le_bytes(chunk.try_into().ok()?);
        // `(c + 1) & 0x7f` is below 0x21 for every control byte (0x00..0x1f and 0x7f), and
        // also for HTAB, 0x80..0x9f and 0xff, which the loop steps over. A high bit per such
        // byte: exact up to the first one (carries and borrows only run upwards from a
        // flagged byte), so the lowest bit finds it, and the scan restarts after it.
        let t = x.wrapping_add(ONES) & !HIGH;
        let m = t.wrapping_sub(ONES * 0x21) & !t & HIGH;
        if m == 0 {
            i += 8;
            continue;
        }
        let j = i + (m.trailing_zeros() / 8) as usize;
        let c = b[j];
        if c != b'\t' && c < 0x80 {
            return Some(j);
        }
        i = j + 1;
    }
    b[i..]
        .iter()
        .position(|&c| (c < 0x20 && c != b'\t') || c == 0x7f)
        .map(|j| i + j)
}

/// The first `:` in `b`, eight bytes at a time.
#[inline(always)]
fn find_colon(b: &[u8]) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let mut i = 0;
    while let Some(chunk) = b.get(i..i + 8) {
        let x = u64::from_le_bytes(chunk.try_into().ok()?) ^ (ONES * u64::from(b':'));
        // A high bit per zero byte of `x`: exact up to the first one, which is all we use.
        let m = x.wrapping_sub(ONES) & !x & HIGH;
        if m != 0 {
            return Some(i + (m.trailing_zeros() / 8) as usize);
        }
        i += 8;
    }
    b[i..].iter().position(|&c| c == b':').map(|j| i + j)
}

/// A Content-Length value as the full parser reads it: 1 to 9 digits.
fn digits(v: &[u8]) -> Option<usize> {
    if v.is_empty() || v.len() > 9 {
        return None;
    }
    v.iter().try_fold(0usize, |n, &d| {
        d.is_ascii_digit().then(|| n * 10 + usize::from(d - b'0'))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::{HeaderName, ParseErrorKind, SipHeaders};

    const INVITE: &str = "INVITE sip:911@gw1.example.com:5061;transport=tls;user=phone SIP/2.0\r\n\
        Via: SIP/2.0/TLS 198.51.100.10:5061;branch=z9hG4bK5f3a;rport\r\n\
        Max-Forwards: 70\r\n\
        From: \"ACME\" <sip:+13125550100@trunk.acme.example;user=phone>;tag=9f2c\r\n\
        To: <sip:911@gw1.example.com;user=phone>\r\n\
        Call-ID: 3c26d8f0@trunk.acme.example\r\n\
        CSeq: 1 INVITE\r\n\
        Contact: <sip:+13125550100@198.51.100.10:5061;transport=tls>\r\n\
        E911-Organization-ID: 4f3b1c2e\r\n\
        Content-Type: application/sdp\r\n\
        Content-Length: 5\r\n\r\nv=0\r\nextra";

    const OK: &str = "SIP/2.0 200 OK\r\n\
        Via: SIP/2.0/TLS 198.51.100.10:5061;branch=z9hG4bK5f3a;rport\r\n\
        From: \"ACME\" <sip:+13125550100@trunk.acme.example;user=phone>;tag=9f2c\r\n\
        To: <sip:911@gw1.example.com;user=phone>;tag=a83f\r\n\
        Call-ID: 3c26d8f0@trunk.acme.example\r\n\
        CSeq: 1 INVITE\r\n\
        Content-Length: 0\r\n\r\n";

    /// Both paths give the same answer; returns whether the fast path took the message.
    fn agree(text: &str) -> bool {
        agree_bytes(text.as_bytes())
    }

    fn agree_bytes(text: &[u8]) -> bool {
        let input = Bytes::copy_from_slice(text);
        let fast = parse(&input);
        let full = Message::parse_full(input.clone());
        if let Some(m) = &fast {
            assert_eq!(Ok(m), full.as_ref(), "{:?}", String::from_utf8_lossy(text));
            // Line numbers and the other header views too (PartialEq compares them).
            assert_eq!(format!("{m:?}"), format!("{:?}", full.as_ref().unwrap()));
        }
        assert_eq!(
            Message::parse_bytes(input),
            full,
            "{:?}",
            String::from_utf8_lossy(text)
        );
        fast.is_some()
    }

    fn with(base: &str, from: &str, to: &str) -> String {
        assert!(base.contains(from), "{from}");
        base.replacen(from, to, 1)
    }

    #[test]
    fn everyday_messages_take_the_fast_path() {
        assert!(agree(INVITE));
        assert!(agree(OK));
        // Compact forms, any case, and LWS around values are still the everyday shape.
        assert!(agree(&with(INVITE, "Call-ID:", "i:")));
        assert!(agree(&with(INVITE, "Content-Length:", "content-LENGTH:")));
        assert!(agree(&with(
            INVITE,
            "Max-Forwards: 70",
            "Max-Forwards:\t 70 \t"
        )));
        assert!(agree(&with(INVITE, "Call-ID: ", "Call-ID:")));
        // Values the line splitter takes whole and the full value scanners check (IPv6,
        // escapes, quoted pairs, comma lists).
        assert!(agree(&with(
            INVITE,
            "198.51.100.10:5061;b",
            "[2001:db8::1]:5061;x;b"
        )));
        assert!(agree(&with(INVITE, "sip:911@gw1", "sip:9%31@gw1")));
        assert!(agree(&with(
            INVITE,
            "sip:911@gw1.example.com:5061;",
            "sips:911@[2001:db8::7]:5061;"
        )));
        assert!(agree(&with(INVITE, "<sip:911@gw1", "<sip:9%31@gw1")));
        assert!(agree(&with(
            INVITE,
            "Via: SIP",
            "Via: SIP/2.0/TCP h;branch=z9hG4bKa, SIP"
        )));
        assert!(agree(&with(INVITE, "4f3b1c2e", "4f3b\u{e9}1c2e")));
        assert!(agree(&with(INVITE, "\"ACME\"", "\"A\\\"C\\\\\"")));
        assert!(agree(&with(
            INVITE,
            "Contact: <",
            "Contact: <sip:a@[::1]>, <"
        )));
        let m = parse(&Bytes::from_static(INVITE.as_bytes())).unwrap();
        assert_eq!(m.body().as_ref(), b"v=0\r\n");
        assert_eq!(
            m.headers().get_header(&HeaderName::CSeq).map(|h| h.line),
            Some(7)
        );
    }

    #[test]
    fn unusual_messages_go_to_the_full_parser() {
        for text in [
            format!("\r\n{INVITE}"),
            with(INVITE, "Max-Forwards: 70\r\n", "Max-Forwards: 70\n"),
            with(INVITE, "Max-Forwards: 70\r\n", "Max-Forwards:\r\n 70\r\n"),
            with(INVITE, "Max-Forwards: 70\r\n", "Max-Forwards: 70\r\n\t\r\n"),
            with(INVITE, "Call-ID:", "Call-ID :"),
            with(INVITE, "Call-ID:", "Call ID:"),
            with(INVITE, "Call-ID: 3c", "Call-ID: \u{7}3c"),
            with(INVITE, "\"ACME\"", "\"A\\\u{7}\""),
            with(INVITE, "SIP/2.0\r\n", "SIP/2.0 \r\n"),
            with(INVITE, "INVITE sip", "INVITE  sip"),
            with(INVITE, "SIP/2.0\r\n", "SIP/3.0\r\n"),
            with(INVITE, "sip:911@gw1", "sip:9%31%@gw1"),
            with(INVITE, "1 INVITE", "1 BYE"),
            with(INVITE, "Call-ID: 3c26d8f0@trunk.acme.example\r\n", ""),
            with(
                INVITE,
                "CSeq: 1 INVITE\r\n",
                "CSeq: 1 INVITE\r\nCSeq: 1 INVITE\r\n",
            ),
            with(INVITE, "Content-Length: 5", "Content-Length: 50"),
            with(INVITE, "Content-Length: 5", "Content-Length: 5\r\nl: 5"),
            with(INVITE, "Content-Length: 5", "Content-Length: 0x5"),
            with(INVITE, "\r\n\r\nv=0", "\r\n\nv=0"),
            INVITE[..INVITE.find("\r\n\r\n").unwrap()].to_owned(),
            // A count that would wrap around in a byte.
            with(
                INVITE,
                "To:",
                &format!("{}To:", "From: <sip:a@b>\r\n".repeat(256)),
            ),
            with(
                INVITE,
                "To:",
                &format!("{}To:", "To: <sip:a@b>\r\n".repeat(255)),
            ),
            String::new(),
            "\r\n".into(),
        ] {
            assert!(!agree(&text), "{text:?}");
        }
        // Invalid UTF-8 in a value.
        let mut bad = INVITE.as_bytes().to_vec();
        let at = INVITE.find("4f3b").unwrap();
        bad[at] = 0xff;
        assert!(parse(&Bytes::from(bad.clone())).is_none());
        assert_eq!(
            Message::parse(&bad).unwrap_err().kind,
            ParseErrorKind::NotUtf8
        );
    }

    #[test]
    fn torture_corpus_messages_agree() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpora");
        let mut fast = 0;
        for sub in ["rfc4475", "rfc5118"] {
            for entry in std::fs::read_dir(dir.join(sub)).unwrap() {
                let path = entry.unwrap().path();
                fast += usize::from(agree_bytes(&std::fs::read(&path).unwrap()));
            }
        }
        assert!(fast > 0);
    }

    #[test]
    fn first_control_finds_the_first_control_byte() {
        let naive = |b: &[u8]| {
            b.iter()
                .position(|&c| (c < 0x20 && c != b'\t') || c == 0x7f)
        };
        let mut cases: Vec<Vec<u8>> = vec![b"".to_vec(), b"abc".to_vec()];
        for len in [1usize, 7, 8, 9, 15, 16, 17, 40] {
            for at in 0..len {
                // Pairs, so that a carry or borrow out of one byte meets the next.
                const BYTES: [u8; 14] = [
                    0, b'\t', b'\r', b'\n', 0x1f, 0x20, 0x21, 0x7e, 0x7f, 0x80, 0x9f, 0xa0, 0xfe,
                    0xff,
                ];
                for c in BYTES {
                    for d in BYTES {
                        let mut v: Vec<u8> = (0..len).map(|i| b'a' + (i % 26) as u8).collect();
                        v[at] = c;
                        if at + 1 < len {
                            v[at + 1] = d;
                        }
                        if at + 3 < len {
                            v[at + 3] = b'\r';
                        }
                        cases.push(v);
                    }
                }
            }
        }
        for v in cases {
            assert_eq!(first_control(&v), naive(&v), "{v:?}");
        }
    }

    #[test]
    fn request_line_agrees_with_parse_start() {
        for line in [
            "INVITE sip:911@gw1.example.com:5061;transport=tls SIP/2.0",
            "OPTIONS sip:gw SIP/2.0",
            "X-NEW tel:+13125550100 SIP/2.0",
            "INVITE urn:service:sos SIP/2.0",
            "INVITE sip:a@b?Subject=x SIP/2.0",
            "INVITE sip:a@b  SIP/2.0",
            "INVITE  sip:a@b SIP/2.0",
            "INVITE sip:a@b sip/2.0",
            "INVITE sip:a@b SIP/2.00",
            "INVITE sip:a\u{a0}b SIP/2.0",
            "INV\u{e9} sip:a@b SIP/2.0",
            "INVITE  SIP/2.0",
            "INVITE SIP/2.0",
            " SIP/2.0",
            "SIP/2.0 200 OK",
            "",
        ] {
            let full = parse_start(line, &Ctx::new(line)).ok();
            match (request_line(line), full) {
                (
                    Some(Start::Request { method, uri }),
                    Some(Start::Request { method: m, uri: u }),
                ) => {
                    assert_eq!((method, uri), (m, u), "{line}");
                }
                (Some(_), _) => panic!("fast path took {line:?}"),
                (None, _) => {}
            }
        }
        assert!(request_line("INVITE sip:911@gw SIP/2.0").is_some());
        assert!(request_line("INVITE sip:a@b  SIP/2.0").is_none());
    }

    #[test]
    fn status_line_agrees_with_parse_start() {
        for line in [
            "SIP/2.0 200 OK",
            "SIP/2.0 180 Ringing",
            "SIP/2.0 699",
            "SIP/2.0 100 ",
            "SIP/2.0 486 Busy\there \u{e9}",
            "SIP/2.0 099 Low",
            "SIP/2.0 700 High",
            "SIP/2.0 2000 OK",
            "SIP/2.0 20 OK",
            "SIP/2.0 2x0 OK",
            "SIP/2.0  200 OK",
            "SIP/2.0 200\tOK",
            "SIP/2.0 200 O\u{7}K",
            "sip/2.0 200 OK",
            "SIP/3.0 200 OK",
            "SIP/2.0",
        ] {
            let full = parse_start(line, &Ctx::new(line)).ok();
            match (status_line(line), full) {
                (
                    Some(Start::Response { status, reason }),
                    Some(Start::Response {
                        status: s,
                        reason: r,
                    }),
                ) => assert_eq!((status, reason), (s, r), "{line}"),
                (Some(_), _) => panic!("fast path took {line:?}"),
                (None, _) => {}
            }
        }
        assert!(status_line("SIP/2.0 200 OK").is_some());
    }

    #[test]
    fn find_colon_finds_the_first_colon() {
        for len in 0..20 {
            for at in 0..=len {
                let mut v: Vec<u8> = (0..len).map(|i| [b'a', 0x3b, 0x39, 0xba][i % 4]).collect();
                if at < len {
                    v[at] = b':';
                    if at + 1 < len {
                        v[at + 1] = b':';
                    }
                }
                let naive = v.iter().position(|&c| c == b':');
                assert_eq!(find_colon(&v), naive, "{v:?}");
            }
        }
    }

    proptest::proptest! {
        /// Whatever the lines look like, both paths answer the same.
        #[test]
        fn fast_and_full_paths_agree(
            lines in proptest::collection::vec(
                (0usize..12, "[ \t]{0,2}", "[a-zA-Z0-9 \t<>@;=:.\"\\\\/%\\[\\]-]{0,12}", 0usize..4),
                0..8,
            ),
            drop in proptest::collection::vec(0u8..8, 11),
            response in proptest::bool::ANY,
        ) {
            const NAMES: [&str; 12] = [
                "Via", "v", "From", "To", "t", "Call-ID", "CSeq", "Contact", "Max-Forwards",
                "Content-Length", "content-type", "X-Other",
            ];
            let base = if response { OK } else { INVITE };
            let (head, body) = base.split_once("\r\n\r\n").unwrap();
            let mut text = String::new();
            for (i, line) in head.split("\r\n").enumerate() {
                if i > 0 && drop.get(i) == Some(&0) {
                    continue;
                }
                text.push_str(line);
                text.push_str("\r\n");
            }
            for (name, lws, value, end) in &lines {
                text.push_str(NAMES[*name]);
                text.push(':');
                text.push_str(lws);
                text.push_str(value);
                text.push_str(["\r\n", "\n", "\r\n ", "\r\n\t"][*end]);
            }
            text.push_str("\r\n");
            text.push_str(body);
            agree(&text);
        }
    }
}
