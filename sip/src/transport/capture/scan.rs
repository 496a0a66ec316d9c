//! A light look at a captured message's header block: its start line, Call-ID and CSeq method,
//! without parsing the message. Compact forms (`i:`) count; nothing here can fail.

/// What a message is, from its header block.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Scan<'a> {
    /// The request's method (`None` for a response).
    pub method: Option<&'a str>,
    /// The response's status (`None` for a request).
    pub status: Option<u16>,
    /// The Call-ID value, trimmed.
    pub call_id: Option<&'a str>,
    /// The method named in CSeq.
    pub cseq_method: Option<&'a str>,
}

/// Scans `bytes` (one message, or at least its header block).
pub fn scan(bytes: &[u8]) -> Scan<'_> {
    let mut out = Scan::default();
    let mut lines = bytes.split(|&b| b == b'\n').map(trim_cr);
    let Some(first) = lines.next().and_then(|l| std::str::from_utf8(l).ok()) else {
        return out;
    };
    if let Some(rest) = first.strip_prefix("SIP/2.0 ") {
        out.status = rest.get(..3).and_then(|s| s.parse().ok());
    } else {
        out.method = first.split(' ').next().filter(|m| !m.is_empty());
    }
    for line in lines {
        if line.is_empty() {
            break;
        }
        let Some(colon) = line.iter().position(|&b| b == b':') else {
            continue;
        };
        let Ok(name) = std::str::from_utf8(&line[..colon]) else {
            continue;
        };
        let name = name.trim();
        let value = std::str::from_utf8(&line[colon + 1..]).map(str::trim).ok();
        if name.eq_ignore_ascii_case("call-id") || name.eq_ignore_ascii_case("i") {
            out.call_id = out.call_id.or(value);
        } else if name.eq_ignore_ascii_case("cseq") {
            out.cseq_method = out
                .cseq_method
                .or_else(|| value.and_then(|v| v.split_whitespace().nth(1)));
        }
    }
    out
}

fn trim_cr(line: &[u8]) -> &[u8] {
    line.strip_suffix(b"\r").unwrap_or(line)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_requests_responses_and_compact_forms() {
        let inv = scan(
            b"INVITE sip:911@gw1 SIP/2.0\r\nVia: x\r\ni: abc@h\r\nCSeq: 1 INVITE\r\n\r\nbody: no",
        );
        assert_eq!(inv.method, Some("INVITE"));
        assert_eq!(inv.status, None);
        assert_eq!(inv.call_id, Some("abc@h"));
        assert_eq!(inv.cseq_method, Some("INVITE"));
        let ok = scan(b"SIP/2.0 200 OK\nCall-ID:  x-1 \nCSeq: 2 BYE\n\n");
        assert_eq!((ok.status, ok.method), (Some(200), None));
        assert_eq!((ok.call_id, ok.cseq_method), (Some("x-1"), Some("BYE")));
        assert_eq!(scan(b""), Scan::default());
        assert_eq!(scan(b"\xff\xfe").method, None);
    }
}
