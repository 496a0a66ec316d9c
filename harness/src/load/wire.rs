//! The load path's wire format, kept cheap: INVITEs from a pre-serialized template with per-call
//! substitutions, ACK/BYE written straight into bytes, and a response scanner that reads only
//! the fields the generator needs.
//!
//! The template is the trunk's real INVITE ([`crate::originate::trunk::build_invite`]) serialized once per
//! connection; its random Call-ID, From tag and Via branch are cut out, and each call pastes its
//! own (`<index hex>-<run tag>@<host>`, so a response maps back to its call by Call-ID alone).
//! With `--callers`, the spec carries [`ANI_HOLE`] and [`ORG_HOLE`] and every place they occur
//! becomes a hole too, filled from the call's caller row.
//! Conformance of the messages is the certify suite's job; this module only has to produce the
//! same bytes fast and read responses correctly (compact header forms, any case, folded lines
//! ignored).

use scenarios::CallSpec;
use sip::message::SipHeaders;

use crate::originate::trunk::{self, LocalEndpoint};
use crate::originate::uac::Target;

/// The ANI a spec carries when each call fills in its own (never a real number: +1 999 is not
/// an assigned area code).
pub const ANI_HOLE: &str = "+19990009119";
/// The organization id a spec carries when each call fills in its own.
pub const ORG_HOLE: &str = "ffffffff-9119-4fff-bfff-ffffffff9119";
/// The media port a `--media` template offers, replaced by each call's bound port (five
/// digits, like every port in 30000-60000).
pub const PORT_HOLE: u16 = 59119;
/// The SDES key a `--media` template offers, replaced by each call's key (40 base64
/// characters, as every 30-byte key).
pub const KEY_HOLE: &str = "E911E911E911E911E911E911E911E911E911E911";

/// A caller's per-call values.
#[derive(Debug, Clone, Copy)]
pub struct PerCall<'a> {
    /// The ANI.
    pub ani: &'a str,
    /// The organization id.
    pub org: &'a str,
}

/// An INVITE with holes for the per-call Call-ID, From tag and branch.
#[derive(Debug, Clone)]
pub struct Template {
    /// Fixed byte runs; holes sit between them, in the order of `holes`.
    parts: Vec<Vec<u8>>,
    holes: Vec<Hole>,
    /// Request-URI, for the ACK of a non-2xx.
    pub request_uri: String,
    /// Via header value up to (not including) the branch value, e.g. `SIP/2.0/TLS 1.2.3.4:5;branch=`.
    via_prefix: String,
    /// Via parameters after the branch (e.g. `;rport`).
    via_suffix: String,
    /// From header value without its tag.
    from: String,
    /// To header value of the INVITE.
    to: String,
    /// Host part of the Call-ID.
    host: String,
    run: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Hole {
    CallId,
    Tag,
    Branch,
    Ani,
    Org,
    MediaPort,
    MediaKey,
}

impl Template {
    /// Builds the template for `call` towards `target` from `local`; `run` is this run's tag
    /// (alphanumeric), part of every Call-ID and branch.
    pub fn new(
        call: &CallSpec,
        target: &Target,
        local: &LocalEndpoint,
        run: &str,
    ) -> Result<Template, String> {
        Template::with_media(call, target, local, run, false)
    }

    /// Like [`Template::new`]; with `media`, the offer's port and key are holes each call fills
    /// with its own bound socket's port and key ([`Template::invite_media`]).
    pub fn with_media(
        call: &CallSpec,
        target: &Target,
        local: &LocalEndpoint,
        run: &str,
        media: bool,
    ) -> Result<Template, String> {
        let holes = trunk::OfferMedia {
            port: PORT_HOLE,
            key: KEY_HOLE.to_owned(),
        };
        let req = trunk::build_invite_with(call, target, local, media.then_some(&holes));
        let text = String::from_utf8(req.to_bytes().to_vec()).map_err(|e| e.to_string())?;
        let call_id = req.call_id().ok_or("template has no Call-ID")?.to_owned();
        let from = req.header_from().ok_or("template has no From")?;
        let tag = from.tag().ok_or("template From has no tag")?.to_owned();
        let branch = req
            .top_via()
            .and_then(|v| v.branch().map(str::to_owned))
            .ok_or("template has no Via branch")?;
        let mut found: Vec<(usize, usize, Hole)> = Vec::new();
        for (needle, hole) in [
            (call_id.as_str(), Hole::CallId),
            (tag.as_str(), Hole::Tag),
            (branch.as_str(), Hole::Branch),
        ] {
            let hits: Vec<usize> = text.match_indices(needle).map(|m| m.0).collect();
            if hits.len() != 1 {
                return Err(format!(
                    "{hole:?} {needle:?} occurs {} times in the template",
                    hits.len()
                ));
            }
            found.push((hits[0], needle.len(), hole));
        }
        for (needle, hole) in [(ANI_HOLE, Hole::Ani), (ORG_HOLE, Hole::Org)] {
            found.extend(
                text.match_indices(needle)
                    .map(|m| (m.0, needle.len(), hole)),
            );
        }
        if media {
            let port = format!("m=audio {PORT_HOLE} ");
            for (needle, skip, len, hole) in [
                (port.as_str(), 8, 5, Hole::MediaPort),
                (KEY_HOLE, 0, KEY_HOLE.len(), Hole::MediaKey),
            ] {
                let hits: Vec<usize> = text.match_indices(needle).map(|m| m.0).collect();
                if hits.len() != 1 {
                    return Err(format!(
                        "{hole:?} occurs {} times in the template",
                        hits.len()
                    ));
                }
                found.push((hits[0] + skip, len, hole));
            }
        }
        found.sort_by_key(|f| f.0);
        if found.windows(2).any(|w| w[0].0 + w[0].1 > w[1].0) {
            return Err("template holes overlap".into());
        }
        let mut parts = Vec::new();
        let mut at = 0;
        for (pos, len, _) in &found {
            parts.push(text.as_bytes()[at..*pos].to_vec());
            at = pos + len;
        }
        parts.push(text.as_bytes()[at..].to_vec());
        let via = req
            .headers
            .values(&sip::HeaderName::Via)
            .next()
            .unwrap_or_default();
        let (via_prefix, via_suffix) = via
            .split_once(branch.as_str())
            .map(|(a, b)| (a.to_owned(), b.to_owned()))
            .ok_or("template Via lacks its branch")?;
        let from_value = req.headers.get(&sip::HeaderName::From).unwrap_or_default();
        let from_untagged = from_value.replacen(&format!(";tag={tag}"), "", 1);
        Ok(Template {
            parts,
            holes: found.iter().map(|f| f.2).collect(),
            request_uri: req.uri.to_string(),
            via_prefix,
            via_suffix,
            from: from_untagged,
            to: req
                .headers
                .get(&sip::HeaderName::To)
                .unwrap_or_default()
                .to_owned(),
            host: call_id
                .rsplit_once('@')
                .map_or("invalid", |h| h.1)
                .to_owned(),
            run: run.to_owned(),
        })
    }

    /// The Call-ID of call `idx`.
    pub fn call_id(&self, idx: u64) -> String {
        format!("{idx:x}-{}@{}", self.run, self.host)
    }

    /// Appends the INVITE of call `idx` to `out`, with the caller's values when the template
    /// has holes for them (a template without holes ignores `caller`).
    pub fn invite(&self, idx: u64, caller: Option<PerCall<'_>>, out: &mut Vec<u8>) {
        self.invite_media(idx, caller, None, out);
    }

    /// [`Template::invite`] offering `media`'s port and key (a template built without media
    /// has no holes for them and ignores it).
    pub fn invite_media(
        &self,
        idx: u64,
        caller: Option<PerCall<'_>>,
        media: Option<&trunk::OfferMedia>,
        out: &mut Vec<u8>,
    ) {
        let mut parts = self.parts.iter();
        if let Some(p) = parts.next() {
            out.extend_from_slice(p);
        }
        for (hole, part) in self.holes.iter().zip(parts) {
            let _ = match hole {
                Hole::CallId => {
                    write_bytes(out, format_args!("{idx:x}-{}@{}", self.run, self.host))
                }
                Hole::Tag => write_bytes(out, format_args!("{idx:x}")),
                Hole::Branch => write_bytes(out, format_args!("z9hG4bK{idx:x}i{}", self.run)),
                Hole::Ani => {
                    out.extend_from_slice(caller.map_or(ANI_HOLE, |c| c.ani).as_bytes());
                    Ok(())
                }
                Hole::Org => {
                    out.extend_from_slice(caller.map_or(ORG_HOLE, |c| c.org).as_bytes());
                    Ok(())
                }
                Hole::MediaPort => {
                    write_bytes(out, format_args!("{}", media.map_or(PORT_HOLE, |m| m.port)))
                }
                Hole::MediaKey => {
                    out.extend_from_slice(media.map_or(KEY_HOLE, |m| m.key.as_str()).as_bytes());
                    Ok(())
                }
            };
            out.extend_from_slice(part);
        }
    }

    /// Appends an in-dialog request (ACK with CSeq 1, BYE with CSeq 2) of call `idx` to `out`:
    /// to the 2xx's Contact, with its Record-Route reversed as Route, its To (with tag).
    pub fn in_dialog(&self, idx: u64, method: &str, d: &DialogInfo, out: &mut Vec<u8>) {
        let (seq, leg) = if method == "ACK" {
            (b'1', "a")
        } else {
            (b'2', "b")
        };
        // Written straight into `out` piece by piece: `write!` costs more than the copying.
        out.reserve(400);
        for part in [
            method,
            " ",
            &d.contact,
            " SIP/2.0\r\nVia: ",
            &self.via_prefix,
            "z9hG4bK",
        ] {
            out.extend_from_slice(part.as_bytes());
        }
        put_hex(out, idx);
        for part in [leg, &self.run, &self.via_suffix, "\r\nMax-Forwards: 70\r\n"] {
            out.extend_from_slice(part.as_bytes());
        }
        for r in d.route.iter().rev() {
            for part in ["Route: ", r, "\r\n"] {
                out.extend_from_slice(part.as_bytes());
            }
        }
        for part in ["From: ", &self.from, ";tag="] {
            out.extend_from_slice(part.as_bytes());
        }
        put_hex(out, idx);
        for part in ["\r\nTo: ", &d.to, "\r\nCall-ID: "] {
            out.extend_from_slice(part.as_bytes());
        }
        put_hex(out, idx);
        for part in ["-", &self.run, "@", &self.host, "\r\nCSeq: "] {
            out.extend_from_slice(part.as_bytes());
        }
        out.push(seq);
        for part in [" ", method, "\r\nContent-Length: 0\r\n\r\n"] {
            out.extend_from_slice(part.as_bytes());
        }
    }

    /// Appends the ACK of a non-2xx final response (same branch as the INVITE, §17.1.1.3).
    pub fn ack_non_2xx(&self, idx: u64, to: &str, out: &mut Vec<u8>) {
        let _ = write_bytes(
            out,
            format_args!(
                "ACK {} SIP/2.0\r\nVia: {}z9hG4bK{idx:x}i{}{}\r\nMax-Forwards: 70\r\nFrom: {};tag={idx:x}\r\nTo: {}\r\nCall-ID: {idx:x}-{}@{}\r\nCSeq: 1 ACK\r\nContent-Length: 0\r\n\r\n",
                self.request_uri,
                self.via_prefix,
                self.run,
                self.via_suffix,
                self.from,
                if to.is_empty() { &self.to } else { to },
                self.run,
                self.host
            ),
        );
    }

    /// The call index of a Call-ID of this run; `None` for anything else.
    pub fn index_of(&self, call_id: &str) -> Option<u64> {
        let (hex, rest) = call_id.split_once('-')?;
        let rest = rest.strip_prefix(self.run.as_str())?;
        if !rest.starts_with('@') {
            return None;
        }
        u64::from_str_radix(hex, 16).ok()
    }
}

/// Appends `n` in lowercase hex, as `{n:x}` formats it.
fn put_hex(out: &mut Vec<u8>, n: u64) {
    let digits = (16 - n.leading_zeros() as usize / 4).max(1);
    for i in (0..digits).rev() {
        out.push(b"0123456789abcdef"[((n >> (4 * i)) & 0xf) as usize]);
    }
}

fn write_bytes(out: &mut Vec<u8>, args: std::fmt::Arguments<'_>) -> std::io::Result<()> {
    std::io::Write::write_fmt(out, args)
}

/// What a 2xx tells the UAC about the dialog.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DialogInfo {
    /// Remote target (Contact URI).
    pub contact: String,
    /// To, with the remote tag.
    pub to: String,
    /// Record-Route values in the order received (reversed when used).
    pub route: Vec<String>,
}

/// The fields of a response the generator uses.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Scanned<'a> {
    /// Status code.
    pub status: u16,
    /// Call-ID.
    pub call_id: &'a str,
    /// CSeq method.
    pub method: &'a str,
    /// To header value.
    pub to: &'a str,
    /// First Contact's URI.
    pub contact: Option<&'a str>,
    /// Record-Route values, one per URI, in order.
    pub record_route: Vec<&'a str>,
}

/// Reads a response's status line and the headers the generator needs. `Err` names what is
/// missing; `Ok(None)` means the message is a request (the caller parses those fully).
pub fn scan_response(msg: &[u8]) -> Result<Option<Scanned<'_>>, &'static str> {
    let text = std::str::from_utf8(msg).map_err(|_| "not UTF-8")?;
    let mut lines = Lines { text, at: 0 };
    let first = lines.next().ok_or("empty message")?;
    let Some(rest) = first.strip_prefix("SIP/2.0 ") else {
        return Ok(None);
    };
    let status: u16 = rest
        .get(..3)
        .and_then(|s| s.parse().ok())
        .filter(|s| (100..700).contains(s))
        .ok_or("bad status line")?;
    let mut out = Scanned {
        status,
        ..Scanned::default()
    };
    let (mut have_cid, mut have_cseq) = (false, false);
    for line in lines {
        if line.is_empty() {
            break;
        }
        if line.starts_with([' ', '\t']) {
            continue; // folded continuation: none of the fields read here are folded in practice
        }
        let Some(colon) = memchr::memchr(b':', line.as_bytes()) else {
            return Err("header line without a colon");
        };
        let name = line[..colon].trim_end();
        // Only names starting like the five read here are compared further (Via, From,
        // Server, Content-* and the rest are skipped on their first byte).
        let Some(first) = name.bytes().next().map(|b| b.to_ascii_lowercase()) else {
            continue;
        };
        if !matches!(first, b'c' | b'i' | b't' | b'm' | b'r') {
            continue;
        }
        let value = line[colon + 1..].trim();
        if name.eq_ignore_ascii_case("call-id") || name.eq_ignore_ascii_case("i") {
            out.call_id = value;
            have_cid = true;
        } else if name.eq_ignore_ascii_case("cseq") {
            out.method = value.split_ascii_whitespace().nth(1).ok_or("bad CSeq")?;
            have_cseq = true;
        } else if name.eq_ignore_ascii_case("to") || name.eq_ignore_ascii_case("t") {
            out.to = value;
        } else if name.eq_ignore_ascii_case("contact") || name.eq_ignore_ascii_case("m") {
            if out.contact.is_none() {
                out.contact = Some(uri_of(value));
            }
        } else if name.eq_ignore_ascii_case("record-route") {
            out.record_route
                .extend(split_uris(value).filter(|v| !v.is_empty()));
        }
    }
    if !have_cid {
        return Err("no Call-ID");
    }
    if !have_cseq {
        return Err("no CSeq");
    }
    Ok(Some(out))
}

/// The lines of a message (LF or CRLF ends, the CR dropped), found with memchr: what
/// `text.split('\n')` with the CR stripped gives, at a fraction of the cost per line.
struct Lines<'a> {
    text: &'a str,
    /// Start of the next line; past the end when done.
    at: usize,
}

impl<'a> Iterator for Lines<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        let rest = self.text.get(self.at..)?;
        let (line, next) = match memchr::memchr(b'\n', rest.as_bytes()) {
            Some(i) => (&rest[..i], self.at + i + 1),
            None => (rest, self.text.len() + 1),
        };
        self.at = next;
        Some(line.strip_suffix('\r').unwrap_or(line))
    }
}

/// The URI of a name-addr (`"x" <sip:a@b>;p`) or addr-spec (`sip:a@b;p`).
fn uri_of(value: &str) -> &str {
    if let Some(start) = value.find('<') {
        let rest = &value[start + 1..];
        return rest.find('>').map_or(rest, |e| &rest[..e]);
    }
    let end = value.find([';', ',']).unwrap_or(value.len());
    value[..end].trim()
}

/// Splits a comma-separated list of name-addrs (commas inside `<>` kept).
fn split_uris(value: &str) -> impl Iterator<Item = &str> {
    let mut depth = 0i32;
    let mut start = 0;
    let mut out = Vec::new();
    for (i, ch) in value.char_indices() {
        match ch {
            '<' => depth += 1,
            '>' => depth -= 1,
            ',' if depth == 0 => {
                out.push(value[start..i].trim());
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(value[start..].trim());
    out.into_iter()
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use sip::transport::TransportKind;
    use sip::{Message, Method};

    use super::*;

    fn call() -> CallSpec {
        CallSpec {
            dial: "911".into(),
            ani: "+13125550100".into(),
            ani_in: vec![scenarios::AniPlacement::Pai],
            from_user: None,
            org_headers: vec![scenarios::DEFAULT_ORG_ID.into()],
            extra_headers: Vec::new(),
            hold: Duration::ZERO,
            timeout: Duration::from_secs(5),
            abandon_after: None,
            gateway: "gw1".into(),
            location: None,
            tls: scenarios::TlsProfile::any(),
        }
    }

    fn template() -> Template {
        let target = Target {
            name: "gw1".into(),
            host: "gw1.anywhere.e911cloud.com".into(),
            addr: "127.0.0.1:5061".parse().unwrap(),
            transport: TransportKind::Tls,
        };
        let local = LocalEndpoint {
            host: "trunk.e911-harness.invalid".into(),
            addr: "127.0.0.1:40000".parse().unwrap(),
        };
        Template::new(&call(), &target, &local, "r7").unwrap()
    }

    #[test]
    fn a_media_template_offers_each_calls_own_port_and_key() {
        let target = Target {
            name: "gw1".into(),
            host: "gw1.anywhere.e911cloud.com".into(),
            addr: "127.0.0.1:5061".parse().unwrap(),
            transport: TransportKind::Tls,
        };
        let local = LocalEndpoint {
            host: "trunk.e911-harness.invalid".into(),
            addr: "127.0.0.1:40000".parse().unwrap(),
        };
        let t = Template::with_media(&call(), &target, &local, "r7", true).unwrap();
        let key = media::MasterKey::generate().inline();
        for (idx, port) in [(1u64, 30000u16), (2, 60000)] {
            let mut out = Vec::new();
            let m = trunk::OfferMedia {
                port,
                key: key.clone(),
            };
            t.invite_media(idx, None, Some(&m), &mut out);
            let req = parse(out);
            let body = std::str::from_utf8(&req.body).unwrap();
            let a = sip::sdp::first_audio(body).unwrap();
            assert_eq!(a.port, Some(port));
            assert_eq!(a.crypto[0].key_params, format!("inline:{key}"));
            assert!(!body.contains(KEY_HOLE));
        }
        // Without media the template keeps a fresh random offer and no holes.
        let plain = template();
        let mut out = Vec::new();
        plain.invite_media(1, None, None, &mut out);
        let req = parse(out);
        let body = std::str::from_utf8(&req.body).unwrap();
        let a = sip::sdp::first_audio(body).unwrap();
        assert!(
            a.port.is_some_and(|p| (30000..=60000).contains(&p)),
            "{body}"
        );
        assert!(a.crypto[0].key_params.starts_with("inline:"), "{body}");
        assert!(!body.contains(KEY_HOLE), "{body}");
    }

    fn parse(bytes: Vec<u8>) -> sip::Request {
        match Message::parse(&bytes) {
            Ok(Message::Request(r)) => r,
            other => panic!("{other:?}\n{}", String::from_utf8_lossy(&bytes)),
        }
    }

    #[test]
    fn invites_from_the_template_parse_and_carry_their_own_ids() {
        let t = template();
        let mut a = Vec::new();
        t.invite(0x2a, None, &mut a);
        let r = parse(a);
        assert_eq!(r.method, Method::Invite);
        assert_eq!(r.call_id(), Some("2a-r7@trunk.e911-harness.invalid"));
        assert_eq!(r.header_from().unwrap().tag(), Some("2a"));
        assert_eq!(r.top_via().unwrap().branch(), Some("z9hG4bK2air7"));
        assert_eq!(t.index_of(r.call_id().unwrap()), Some(0x2a));
        assert_eq!(t.index_of("2a-r8@trunk.e911-harness.invalid"), None);
        assert_eq!(t.index_of("zz-r7@x"), None);
        let mut b = Vec::new();
        t.invite(0x2b, None, &mut b);
        assert_ne!(parse(b).call_id(), Some("2a-r7@trunk.e911-harness.invalid"));
    }

    #[test]
    fn a_caller_template_fills_each_calls_ani_and_org() {
        let mut spec = call();
        spec.ani = ANI_HOLE.into();
        spec.org_headers = vec![ORG_HOLE.into()];
        let target = Target {
            name: "gw1".into(),
            host: "gw1.anywhere.e911cloud.com".into(),
            addr: "127.0.0.1:5061".parse().unwrap(),
            transport: TransportKind::Tls,
        };
        let local = LocalEndpoint {
            host: "trunk.e911-harness.invalid".into(),
            addr: "127.0.0.1:40000".parse().unwrap(),
        };
        let t = Template::new(&spec, &target, &local, "r7").unwrap();
        let mut a = Vec::new();
        let org = "4f3b1c2e-8d7a-4e59-9b0c-6a1d2e3f4a5b";
        t.invite(
            5,
            Some(PerCall {
                ani: "+13125550142",
                org,
            }),
            &mut a,
        );
        let text = String::from_utf8(a.clone()).unwrap();
        assert!(
            !text.contains(ANI_HOLE) && !text.contains(ORG_HOLE),
            "{text}"
        );
        let r = parse(a);
        let ani = mock_gateway::extract_ani(&r, &[scenarios::AniHeader::PAssertedIdentity]);
        assert_eq!(ani.map(|a| a.number).as_deref(), Some("+13125550142"));
        assert_eq!(
            r.headers
                .get(&sip::HeaderName::from("E911-Organization-ID")),
            Some(org)
        );
    }

    #[test]
    fn in_dialog_requests_follow_the_2xx() {
        let t = template();
        let d = DialogInfo {
            contact: "sip:gw@10.0.0.9:5061;transport=tls".into(),
            to: "<sip:911@gw1.anywhere.e911cloud.com>;tag=gt".into(),
            route: vec!["<sip:p1;lr>".into(), "<sip:p2;lr>".into()],
        };
        let mut ack = Vec::new();
        t.in_dialog(7, "ACK", &d, &mut ack);
        let mut bye = Vec::new();
        t.in_dialog(7, "BYE", &d, &mut bye);
        let (ack, bye) = (parse(ack), parse(bye));
        assert_eq!(ack.uri.to_string(), d.contact);
        assert_eq!(ack.cseq().unwrap().to_string(), "1 ACK");
        assert_eq!(bye.cseq().unwrap().to_string(), "2 BYE");
        assert_eq!(ack.header_to().unwrap().tag(), Some("gt"));
        assert_ne!(
            ack.top_via().unwrap().branch(),
            bye.top_via().unwrap().branch()
        );
        assert!(ack.top_via().unwrap().params.contains("rport"));
        let routes: Vec<&str> = ack.headers.values(&sip::HeaderName::Route).collect();
        assert_eq!(routes, ["<sip:p2;lr>", "<sip:p1;lr>"]);
        // The pieces read as the one format string they replace.
        for (idx, method) in [
            (7, "ACK"),
            (0, "BYE"),
            (u64::MAX, "BYE"),
            (0x1_2345_6789, "ACK"),
        ] {
            let mut got = Vec::new();
            t.in_dialog(idx, method, &d, &mut got);
            let (seq, leg) = if method == "ACK" { (1, "a") } else { (2, "b") };
            let mut want = format!(
                "{method} {} SIP/2.0\r\nVia: {}z9hG4bK{idx:x}{leg}{}{}\r\nMax-Forwards: 70\r\n",
                d.contact, t.via_prefix, t.run, t.via_suffix
            );
            for r in d.route.iter().rev() {
                want.push_str(&format!("Route: {r}\r\n"));
            }
            want.push_str(&format!(
                "From: {};tag={idx:x}\r\nTo: {}\r\nCall-ID: {idx:x}-{}@{}\r\nCSeq: {seq} {method}\r\nContent-Length: 0\r\n\r\n",
                t.from, d.to, t.run, t.host
            ));
            assert_eq!(String::from_utf8(got).unwrap(), want);
        }
        let mut nack = Vec::new();
        t.ack_non_2xx(7, "<sip:911@gw1>;tag=x", &mut nack);
        let nack = parse(nack);
        assert_eq!(nack.uri.to_string(), t.request_uri);
        assert_eq!(nack.top_via().unwrap().branch(), Some("z9hG4bK7ir7"));
    }

    #[test]
    fn scanner_reads_full_and_compact_forms_in_any_case() {
        let m = b"SIP/2.0 200 OK\r\nv: SIP/2.0/TLS 1.2.3.4;branch=z9hG4bKx\r\ni: abc@h\r\nCSEQ: 1 INVITE\r\nt: <sip:911@gw>;tag=9\r\nM: \"gw\" <sip:gw@1.2.3.4:5061;transport=tls>;expires=3\r\nRecord-Route: <sip:a;lr>, <sip:b;lr>\r\nRecord-Route: <sip:c;lr>\r\n folded junk\r\nContent-Length: 0\r\n\r\n";
        let s = scan_response(m).unwrap().unwrap();
        assert_eq!(s.status, 200);
        assert_eq!(s.call_id, "abc@h");
        assert_eq!(s.method, "INVITE");
        assert_eq!(s.to, "<sip:911@gw>;tag=9");
        assert_eq!(s.contact, Some("sip:gw@1.2.3.4:5061;transport=tls"));
        assert_eq!(s.record_route, ["<sip:a;lr>", "<sip:b;lr>", "<sip:c;lr>"]);
        let bare = scan_response(
            b"SIP/2.0 180 Ringing\nCall-ID: x\nCSeq: 1 INVITE\nContact: sip:gw@h;transport=tcp\n\n",
        )
        .unwrap()
        .unwrap();
        assert_eq!(bare.contact, Some("sip:gw@h"));
        assert_eq!(scan_response(b"BYE sip:x SIP/2.0\r\n\r\n"), Ok(None));
        assert!(scan_response(b"SIP/2.0 20 OK\r\n\r\n").is_err());
        assert!(scan_response(b"SIP/2.0 200 OK\r\nCSeq: 1 INVITE\r\n\r\n").is_err());
        assert!(scan_response(b"SIP/2.0 200 OK\r\nCall-ID: a\r\n\r\n").is_err());
    }

    #[test]
    fn scanner_agrees_with_the_full_parser_on_a_real_response() {
        let t = template();
        let mut inv = Vec::new();
        t.invite(3, None, &mut inv);
        let inv = parse(inv);
        let mut resp = sip::Response::for_request(&inv, 486, Some("busy"));
        resp.headers
            .push(sip::HeaderName::Contact, "<sip:gw@127.0.0.1:5061>");
        let bytes = resp.to_bytes();
        let s = scan_response(&bytes).unwrap().unwrap();
        assert_eq!(s.status, 486);
        assert_eq!(Some(s.call_id), inv.call_id());
        assert_eq!(s.method, "INVITE");
        assert_eq!(s.contact, Some("sip:gw@127.0.0.1:5061"));
        assert!(s.to.ends_with(";tag=busy"), "{}", s.to);
    }
}
