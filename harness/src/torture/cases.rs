//! The torture cases: the RFC 4475 and RFC 5118 messages (carried in the binary, bit-exact),
//! and PROTOS-style mutations of the trunk's own INVITE, each with what a correct SIP element
//! does with it. Pure: bytes in, bytes and expectations out.
//!
//! The corpus is the one the `sip-proto` parser tests use (`sip-proto/tests/corpora`, pinned by
//! `SHA256SUMS`); the expectations follow its README, adapted to stream transports (the
//! messages were written for UDP: `clerr` waits for more bytes, `ncl`/`mcl01` break framing,
//! `inv2543` lacks the Content-Length a stream needs).

/// What a correct element does with a case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    /// Valid: any final answer (the element may still refuse it for its own reasons).
    Answer,
    /// Malformed: a final answer with one of these statuses (any 4xx-6xx when empty), never
    /// a 2xx, never silence on an open connection.
    Refuse(&'static [u16]),
    /// Framing broken: a refusal, or the connection closed (a stream cannot resynchronise).
    RefuseOrClose,
    /// Not to be accepted: anything but a 2xx (a refusal, a close, or silence).
    NotAccepted,
    /// A response sent to the element: it must not answer it.
    NoAnswer,
    /// Anything, as long as the element stays up (checked by the liveness probes).
    Survive,
}

impl Expect {
    /// In words, for the report.
    pub fn describe(self) -> String {
        match self {
            Expect::Answer => "a final answer (valid message)".into(),
            Expect::Refuse([]) => "a 4xx-6xx refusal, never 2xx or silence".into(),
            Expect::Refuse(s) => format!(
                "refused with {}",
                s.iter()
                    .map(u16::to_string)
                    .collect::<Vec<_>>()
                    .join(" or ")
            ),
            Expect::RefuseOrClose => "a refusal or a close (framing broken)".into(),
            Expect::NotAccepted => "anything but a 2xx".into(),
            Expect::NoAnswer => "no answer (a stray response is dropped)".into(),
            Expect::Survive => "anything; the element stays up".into(),
        }
    }
}

/// One message to send on a fresh connection.
#[derive(Debug, Clone)]
pub struct Case {
    /// `rfc4475/badvers`, `long/request-uri-user` ...
    pub name: String,
    /// The bytes sent, exactly.
    pub bytes: Vec<u8>,
    /// What a correct element does.
    pub expect: Expect,
}

/// A named group of cases, followed by liveness probes.
#[derive(Debug, Clone)]
pub struct Batch {
    /// `rfc4475`, `mutations: control bytes` ...
    pub name: String,
    /// What the batch attacks.
    pub description: String,
    /// The cases, in order.
    pub cases: Vec<Case>,
}

macro_rules! corpus {
    ($($dir:literal / $file:literal => $expect:expr),* $(,)?) => {
        vec![$((
            concat!($dir, "/", $file),
            &include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/../sip-proto/tests/corpora/", $dir, "/", $file))[..],
            $expect,
        )),*]
    };
}

/// Every file of both corpora with its expectation on a stream transport.
#[rustfmt::skip]
pub fn corpus() -> Vec<(&'static str, &'static [u8], Expect)> {
    use Expect::*;
    corpus![
        "rfc4475" / "wsinv.dat" => Answer, "rfc4475" / "intmeth.dat" => Answer,
        "rfc4475" / "esc01.dat" => Answer, "rfc4475" / "escnull.dat" => Answer,
        "rfc4475" / "esc02.dat" => Answer, "rfc4475" / "lwsdisp.dat" => Answer,
        "rfc4475" / "longreq.dat" => Answer, "rfc4475" / "dblreq.dat" => Answer,
        "rfc4475" / "semiuri.dat" => Answer, "rfc4475" / "transports.dat" => Answer,
        "rfc4475" / "mpart01.dat" => Answer, "rfc4475" / "unreason.dat" => NoAnswer,
        "rfc4475" / "noreason.dat" => NoAnswer,
        "rfc4475" / "badinv01.dat" => Refuse(&[400]), "rfc4475" / "clerr.dat" => Survive,
        "rfc4475" / "ncl.dat" => RefuseOrClose, "rfc4475" / "scalar02.dat" => Refuse(&[400]),
        "rfc4475" / "scalarlg.dat" => NoAnswer, "rfc4475" / "quotbal.dat" => Refuse(&[400]),
        "rfc4475" / "ltgtruri.dat" => Refuse(&[400]), "rfc4475" / "lwsruri.dat" => Refuse(&[400]),
        "rfc4475" / "lwsstart.dat" => Refuse(&[400]), "rfc4475" / "trws.dat" => Answer,
        "rfc4475" / "escruri.dat" => Refuse(&[400]), "rfc4475" / "baddate.dat" => Answer,
        "rfc4475" / "regbadct.dat" => Refuse(&[400]), "rfc4475" / "badaspec.dat" => Answer,
        "rfc4475" / "baddn.dat" => Refuse(&[400]), "rfc4475" / "badvers.dat" => Refuse(&[505]),
        "rfc4475" / "mismatch01.dat" => Refuse(&[400]),
        "rfc4475" / "mismatch02.dat" => Refuse(&[400, 501]),
        "rfc4475" / "bigcode.dat" => NoAnswer, "rfc4475" / "badbranch.dat" => Answer,
        "rfc4475" / "insuf.dat" => Refuse(&[400]), "rfc4475" / "unkscm.dat" => Refuse(&[416]),
        "rfc4475" / "novelsc.dat" => Refuse(&[416]), "rfc4475" / "unksm2.dat" => Answer,
        "rfc4475" / "bext01.dat" => Refuse(&[420]), "rfc4475" / "invut.dat" => Refuse(&[415]),
        "rfc4475" / "regaut01.dat" => Answer, "rfc4475" / "multi01.dat" => Refuse(&[400]),
        "rfc4475" / "mcl01.dat" => RefuseOrClose, "rfc4475" / "bcast.dat" => NoAnswer,
        "rfc4475" / "zeromf.dat" => Answer, "rfc4475" / "cparam01.dat" => Answer,
        "rfc4475" / "cparam02.dat" => Answer, "rfc4475" / "regescrt.dat" => Answer,
        "rfc4475" / "sdp01.dat" => Refuse(&[406]), "rfc4475" / "inv2543.dat" => Refuse(&[400]),
        "rfc5118" / "ipv6-good" => Answer, "rfc5118" / "ipv6-bad" => Refuse(&[400]),
        "rfc5118" / "port-ambiguous" => Answer, "rfc5118" / "port-unambiguous" => Answer,
        "rfc5118" / "via-received-param-with-delim" => Answer,
        "rfc5118" / "via-received-param-no-delim" => Answer,
        "rfc5118" / "ipv6-in-sdp" => Answer, "rfc5118" / "mult-ip-in-header" => Answer,
        "rfc5118" / "mult-ip-in-sdp" => Answer, "rfc5118" / "ipv4-mapped-ipv6" => Answer,
        "rfc5118" / "ipv6-correct-abnf-2-colons" => Answer,
        "rfc5118" / "ipv6-bug-abnf-3-colons" => Answer,
    ]
}

/// The corpus as two batches.
pub fn corpus_batches() -> Vec<Batch> {
    let mut rfc4475 = Vec::new();
    let mut rfc5118 = Vec::new();
    for (name, bytes, expect) in corpus() {
        let case = Case {
            name: name.trim_end_matches(".dat").to_owned(),
            bytes: bytes.to_vec(),
            expect,
        };
        if name.starts_with("rfc4475") {
            rfc4475.push(case);
        } else {
            rfc5118.push(case);
        }
    }
    vec![
        Batch {
            name: "rfc4475".into(),
            description: "RFC 4475 torture messages (valid, invalid, transaction, answers)".into(),
            cases: rfc4475,
        },
        Batch {
            name: "rfc5118".into(),
            description: "RFC 5118 IPv6 torture messages".into(),
            cases: rfc5118,
        },
    ]
}

/// A trunk INVITE as text, split for mutation: the header lines (request line first) and the
/// SDP body. Built by [`crate::torture`] from `originate::trunk::build_invite` for every case,
/// so each has its own Call-ID and branch.
#[derive(Debug, Clone)]
pub struct Invite {
    /// Request line, then `Name: value` lines, without line ends and without Content-Length.
    pub lines: Vec<String>,
    /// The SDP offer.
    pub sdp: String,
}

impl Invite {
    /// From a built request's bytes.
    pub fn from_bytes(bytes: &[u8]) -> Invite {
        let text = String::from_utf8_lossy(bytes);
        let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
        let lines = head
            .split("\r\n")
            .filter(|l| !l.to_ascii_lowercase().starts_with("content-length:"))
            .map(str::to_owned)
            .collect();
        Invite {
            lines,
            sdp: body.to_owned(),
        }
    }

    /// The message with a correct Content-Length for `body`.
    fn with_body(&self, body: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(body.len() + 1024);
        for l in &self.lines {
            out.extend_from_slice(l.as_bytes());
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(format!("Content-Length: {}\r\n\r\n", body.len()).as_bytes());
        out.extend_from_slice(body);
        out
    }

    /// The header lines as they are, then `extra` raw bytes as the rest of the message.
    fn with_raw_tail(&self, tail: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        for l in &self.lines {
            out.extend_from_slice(l.as_bytes());
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(tail);
        out
    }

    /// The index of the first line whose header name is `name` (case-insensitive).
    fn find(&self, name: &str) -> Option<usize> {
        self.lines.iter().position(|l| {
            l.split_once(':')
                .is_some_and(|(n, _)| n.trim().eq_ignore_ascii_case(name))
        })
    }

    /// With header `name`'s value replaced (or the header added).
    fn set(&self, name: &str, value: &str) -> Invite {
        let mut m = self.clone();
        let line = format!("{name}: {value}");
        match m.find(name) {
            Some(i) => m.lines[i] = line,
            None => m.lines.push(line),
        }
        m
    }

    /// With the request line's Request-URI user `911` replaced by `user`.
    fn user(&self, user: &str) -> Invite {
        let mut m = self.clone();
        m.lines[0] = m.lines[0].replacen("sip:911@", &format!("sip:{user}@"), 1);
        m
    }

    /// The message with its own SDP.
    fn valid(&self) -> Vec<u8> {
        self.with_body(self.sdp.as_bytes())
    }

    /// The message with the SDP's first `from` replaced by `to`.
    fn sdp_replaced(&self, from: &str, to: &str) -> Vec<u8> {
        self.with_body(self.sdp.replacen(from, to, 1).as_bytes())
    }

    /// The INVITE with every SDP line that starts with `prefix` (`o=`, `c=`) replaced by `line`.
    fn sdp_line_replaced(&self, prefix: &str, line: &str) -> Vec<u8> {
        let sdp = self
            .sdp
            .lines()
            .map(|l| if l.starts_with(prefix) { line } else { l })
            .collect::<Vec<_>>()
            .join("\r\n")
            + "\r\n";
        self.with_body(sdp.as_bytes())
    }
}

/// The mutation batches of one INVITE (`base` builds a fresh one per case).
pub fn mutation_batches(base: &dyn Fn() -> Invite) -> Vec<Batch> {
    use Expect::*;
    let any: &'static [u16] = &[];
    let b = base;
    let case = |name: &str, bytes: Vec<u8>, expect| Case {
        name: name.to_owned(),
        bytes,
        expect,
    };
    let long = vec![
        case(
            "long/request-uri-user-300",
            b().user(&"9".repeat(300)).valid(),
            NotAccepted,
        ),
        case(
            "long/call-id-4k",
            b().set("Call-ID", &"c".repeat(4096)).valid(),
            Survive,
        ),
        case(
            "long/from-display-10k",
            b().set(
                "From",
                &format!(
                    "\"{}\" <sip:+13125550100@trunk.invalid>;tag=t1",
                    "d".repeat(10_000)
                ),
            )
            .valid(),
            Survive,
        ),
        case(
            "long/header-value-200k",
            b().set("X-Long", &"v".repeat(200_000)).valid(),
            RefuseOrClose,
        ),
        case(
            "long/header-name-8k",
            b().set(&"N".repeat(8192), "v").valid(),
            Survive,
        ),
        case(
            "long/1000-headers",
            {
                let mut m = b();
                for i in 0..1000 {
                    m.lines.push(format!("X-Many-{i}: {i}"));
                }
                m.valid()
            },
            Survive,
        ),
        case(
            "long/via-branch-8k",
            {
                let m = b();
                let i = m.find("Via").unwrap_or(1);
                let mut m = m.clone();
                m.lines[i] = format!(
                    "Via: SIP/2.0/TCP 127.0.0.1:5060;branch=z9hG4bK{}",
                    "b".repeat(8192)
                );
                m.valid()
            },
            Survive,
        ),
        case(
            "long/sdp-10k-attributes",
            {
                let m = b();
                let mut sdp = m.sdp.clone();
                for i in 0..10_000 {
                    sdp.push_str(&format!("a=x-{i}:{i}\r\n"));
                }
                m.with_body(sdp.as_bytes())
            },
            Survive,
        ),
    ];
    let control = vec![
        case(
            "control/nul-in-request-uri",
            b().user("9\u{0}11").valid(),
            RefuseOrClose,
        ),
        case(
            "control/nul-in-method",
            {
                let mut m = b();
                m.lines[0] = m.lines[0].replacen("INVITE", "INV\u{0}ITE", 1);
                m.valid()
            },
            RefuseOrClose,
        ),
        case(
            "control/bel-in-call-id",
            b().set("Call-ID", "abc\u{7}def@trunk").valid(),
            Refuse(any),
        ),
        case(
            "control/esc-in-to",
            b().set("To", "<sip:911@gw1.anywhere.e911cloud.com>\u{1b}[2J")
                .valid(),
            Refuse(any),
        ),
        case(
            "control/bare-cr-in-header",
            b().set("Subject", "a\rb").valid(),
            RefuseOrClose,
        ),
        case(
            "control/bytes-ff-in-header",
            {
                let mut bytes = b().valid();
                if let Some(i) = find(&bytes, b"Call-ID: ") {
                    bytes.splice(i + 9..i + 9, [0xff, 0xfe, 0x00]);
                }
                bytes
            },
            RefuseOrClose,
        ),
        case(
            "control/nul-in-sdp",
            b().sdp_replaced("m=audio", "m=au\u{0}dio"),
            Refuse(any),
        ),
        case(
            "control/esc-in-sdp-session-name",
            b().sdp_replaced("s=", "s=\u{1b}[2J\u{7}"),
            Refuse(any),
        ),
    ];
    let numbers = vec![
        case(
            "numbers/cseq-negative",
            b().set("CSeq", "-1 INVITE").valid(),
            Refuse(&[400]),
        ),
        case(
            "numbers/cseq-overflow",
            b().set("CSeq", "99999999999999999999 INVITE").valid(),
            Refuse(&[400]),
        ),
        case(
            "numbers/cseq-not-a-number",
            b().set("CSeq", "one INVITE").valid(),
            Refuse(&[400]),
        ),
        case(
            "numbers/max-forwards-negative",
            b().set("Max-Forwards", "-1").valid(),
            Refuse(&[400]),
        ),
        case(
            "numbers/max-forwards-huge",
            b().set("Max-Forwards", "99999999999999999999").valid(),
            Refuse(&[400, 483]),
        ),
        case(
            "numbers/expires-negative",
            b().set("Expires", "-1").valid(),
            Refuse(&[400]),
        ),
        case(
            "numbers/session-expires-negative",
            b().set("Session-Expires", "-90;refresher=uac").valid(),
            Refuse(&[400]),
        ),
        case(
            "numbers/via-port-99999",
            {
                let mut m = b();
                if let Some(i) = m.find("Via") {
                    m.lines[i] = "Via: SIP/2.0/TCP 127.0.0.1:99999;branch=z9hG4bKport99999".into();
                }
                m.valid()
            },
            Refuse(&[400]),
        ),
        case(
            "numbers/request-uri-port-negative",
            {
                let mut m = b();
                m.lines[0] = m.lines[0]
                    .replacen(":5061", ":-5061", 1)
                    .replacen(":5060", ":-5060", 1);
                if !m.lines[0].contains(":-") {
                    m.lines[0] = m.lines[0].replacen(".com", ".com:-1", 1);
                }
                m.valid()
            },
            Refuse(&[400]),
        ),
        case(
            "numbers/dialled-not-a-number",
            b().user("9x1").valid(),
            NotAccepted,
        ),
        case(
            "numbers/dialled-overflow",
            b().user("911911911911911911911911").valid(),
            NotAccepted,
        ),
    ];
    let sdp = vec![
        case(
            "sdp/port-negative",
            b().sdp_replaced("m=audio ", "m=audio -"),
            Refuse(any),
        ),
        case(
            "sdp/port-over-65535",
            {
                let m = b();
                let sdp = replace_media_port(&m.sdp, "99999");
                m.with_body(sdp.as_bytes())
            },
            Refuse(any),
        ),
        case(
            "sdp/origin-negative-ids",
            b().sdp_line_replaced("o=", "o=- -1 -1 IN IP4 127.0.0.1"),
            Refuse(any),
        ),
        case(
            "sdp/time-negative",
            b().sdp_replaced("t=0 0", "t=-1 -1"),
            Refuse(any),
        ),
        case(
            "sdp/no-version-line",
            b().sdp_replaced("v=0\r\n", ""),
            Refuse(any),
        ),
        case(
            "sdp/no-formats",
            {
                let m = b();
                let sdp = m
                    .sdp
                    .lines()
                    .map(|l| {
                        if l.starts_with("m=audio") {
                            l.split(' ').take(3).collect::<Vec<_>>().join(" ")
                        } else {
                            l.to_owned()
                        }
                    })
                    .collect::<Vec<_>>()
                    .join("\r\n")
                    + "\r\n";
                m.with_body(sdp.as_bytes())
            },
            Refuse(any),
        ),
        case(
            "sdp/connection-garbage",
            b().sdp_line_replaced("c=", "c=IN IP4 999.999.999.999"),
            Refuse(any),
        ),
        case(
            "sdp/binary-garbage",
            b().with_body(&[0xde, 0xad, 0xbe, 0xef, 0x00, 0x01, 0x02, 0xff]),
            Refuse(any),
        ),
        case(
            "sdp/crypto-negative-tag",
            b().sdp_replaced("a=crypto:1 ", "a=crypto:-1 "),
            Refuse(any),
        ),
    ];
    let multipart = vec![
        case(
            "multipart/no-boundary",
            {
                let m = b().set("Content-Type", "multipart/mixed");
                let body = m.sdp.clone();
                m.with_body(body.as_bytes())
            },
            Refuse(any),
        ),
        case(
            "multipart/boundary-not-in-body",
            {
                let m = b().set("Content-Type", "multipart/mixed;boundary=zzz");
                let body = m.sdp.clone();
                m.with_body(body.as_bytes())
            },
            Refuse(any),
        ),
        case(
            "multipart/unterminated",
            {
                let m = b().set("Content-Type", "multipart/mixed;boundary=b1");
                let body = format!("--b1\r\nContent-Type: application/sdp\r\n\r\n{}", m.sdp);
                m.with_body(body.as_bytes())
            },
            Refuse(any),
        ),
        case(
            "multipart/no-sdp-part",
            {
                let m = b().set("Content-Type", "multipart/mixed;boundary=b1");
                m.with_body(b"--b1\r\nContent-Type: text/plain\r\n\r\nhello\r\n--b1--\r\n")
            },
            Refuse(any),
        ),
        case(
            "multipart/sdp-part-broken",
            {
                let m = b().set("Content-Type", "multipart/mixed;boundary=b1");
                let sdp = m.sdp.replacen("m=audio ", "m=audio -", 1);
                let body =
                    format!("--b1\r\nContent-Type: application/sdp\r\n\r\n{sdp}\r\n--b1--\r\n");
                m.with_body(body.as_bytes())
            },
            Refuse(any),
        ),
        case(
            "multipart/1000-empty-parts",
            {
                let m = b().set("Content-Type", "multipart/mixed;boundary=b1");
                let mut body = "--b1\r\n\r\n\r\n".repeat(1000);
                body.push_str("--b1--\r\n");
                m.with_body(body.as_bytes())
            },
            Refuse(any),
        ),
    ];
    let length = vec![
        case(
            "content-length/missing",
            b().with_raw_tail(format!("\r\n{}", b().sdp).as_bytes()),
            RefuseOrClose,
        ),
        case(
            "content-length/negative",
            b().with_raw_tail(format!("Content-Length: -5\r\n\r\n{}", b().sdp).as_bytes()),
            RefuseOrClose,
        ),
        case(
            "content-length/not-a-number",
            b().with_raw_tail(format!("Content-Length: abc\r\n\r\n{}", b().sdp).as_bytes()),
            RefuseOrClose,
        ),
        case(
            "content-length/overflow",
            b().with_raw_tail(
                format!("Content-Length: 18446744073709551616\r\n\r\n{}", b().sdp).as_bytes(),
            ),
            RefuseOrClose,
        ),
        case(
            "content-length/huge",
            b().with_raw_tail(format!("Content-Length: 4294967295\r\n\r\n{}", b().sdp).as_bytes()),
            RefuseOrClose,
        ),
        case(
            "content-length/twice-different",
            b().with_raw_tail(
                format!("Content-Length: 5\r\nContent-Length: 9\r\n\r\n{}", b().sdp).as_bytes(),
            ),
            RefuseOrClose,
        ),
        case(
            "content-length/longer-than-body",
            {
                let m = b();
                m.with_raw_tail(
                    format!("Content-Length: {}\r\n\r\n{}", m.sdp.len() + 100, m.sdp).as_bytes(),
                )
            },
            Survive,
        ),
        case(
            "content-length/shorter-than-body",
            {
                let m = b();
                m.with_raw_tail(format!("Content-Length: 10\r\n\r\n{}", m.sdp).as_bytes())
            },
            NotAccepted,
        ),
    ];
    let batch = |name: &str, description: &str, cases: Vec<Case>| Batch {
        name: format!("mutations: {name}"),
        description: description.to_owned(),
        cases,
    };
    vec![
        batch(
            "long fields",
            "oversized Request-URI, Call-ID, display name, header value, header count, SDP",
            long,
        ),
        batch(
            "control bytes",
            "NUL, BEL, ESC, bare CR and non-UTF-8 bytes in the request line, headers and SDP",
            control,
        ),
        batch(
            "bad numbers",
            "negative, overflowing and non-numeric CSeq, Max-Forwards, Expires, Session-Expires, ports, dialled numbers",
            numbers,
        ),
        batch(
            "broken SDP",
            "negative and out-of-range numbers, missing lines, garbage addresses, binary bodies",
            sdp,
        ),
        batch(
            "multipart",
            "missing or absent boundaries, unterminated bodies, no SDP part, broken SDP part, 1,000 parts",
            multipart,
        ),
        batch(
            "Content-Length abuse",
            "missing, negative, non-numeric, overflowing, duplicated, too long and too short",
            length,
        ),
    ]
}

/// The SDP with the `m=audio` port replaced.
fn replace_media_port(sdp: &str, port: &str) -> String {
    sdp.lines()
        .map(|l| match l.strip_prefix("m=audio ") {
            Some(rest) => {
                let after = rest.split_once(' ').map_or("", |(_, a)| a);
                format!("m=audio {port} {after}")
            }
            None => l.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("\r\n")
        + "\r\n"
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    const INVITE: &[u8] = b"INVITE sip:911@gw1.anywhere.e911cloud.com:5061;user=phone SIP/2.0\r\n\
        Via: SIP/2.0/TLS 127.0.0.1:5060;branch=z9hG4bKa\r\nMax-Forwards: 70\r\n\
        From: <sip:+13125550100@trunk.invalid>;tag=f\r\nTo: <sip:911@gw1.anywhere.e911cloud.com>\r\n\
        Call-ID: c1@trunk.invalid\r\nCSeq: 1 INVITE\r\nContent-Type: application/sdp\r\n\
        Content-Length: 131\r\n\r\n\
        v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 40000 RTP/SAVP 0\r\n\
        a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:x\r\n";

    #[test]
    fn the_corpus_is_complete_and_every_mutation_changes_the_invite() {
        let corpus = corpus();
        assert_eq!(corpus.len(), 61);
        let base = || Invite::from_bytes(INVITE);
        let valid = base().valid();
        assert!(
            sip::Message::parse(&valid).is_ok(),
            "the unmutated INVITE parses"
        );
        let batches = mutation_batches(&base);
        let mut names = std::collections::HashSet::new();
        for b in &batches {
            assert!(!b.cases.is_empty(), "{}", b.name);
            for c in &b.cases {
                assert!(names.insert(c.name.clone()), "{} twice", c.name);
                assert_ne!(c.bytes, valid, "{} is not mutated", c.name);
            }
        }
        assert!(names.len() >= 50, "{}", names.len());
    }
}
