//! RFC 3261 §18.3 stream framing for TCP and TLS: sans-IO, no sockets, no clock.
//!
//! On a stream transport a SIP message ends where its `Content-Length` says it does, so the
//! decoder finds the end of the header block (the first empty line), reads `Content-Length`
//! from it and waits for exactly that many body bytes. It works check-then-parse, in the style
//! of mini-redis `connection.rs`: while a frame is incomplete, [`StreamDecoder::decode`] returns
//! `Ok(None)` and consumes nothing, and the caller reads more bytes into the same buffer.
//!
//! Between messages, bare CRLFs are skipped (RFC 3261 §7.5). A lone `"\r\n\r\n"` is an RFC 5626
//! keep-alive ping and is reported as [`Frame::KeepAlive`] (the caller answers `"\r\n"`); a
//! single `"\r\n"` is a pong and is skipped. The header block may also end with a bare `"\n\n"`,
//! as some peers send.
//!
//! Any [`FrameError`] means framing is lost: the caller answers 400 if it can and closes the
//! connection. The decoder does not resynchronise.

use std::sync::LazyLock;

use bytes::{Buf, Bytes, BytesMut};
use memchr::memmem;

/// Size caps applied while framing one message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest header block accepted, start line and the empty line included.
    pub max_header_bytes: usize,
    /// Largest `Content-Length` accepted.
    pub max_body_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_header_bytes: 16 * 1024,
            max_body_bytes: 64 * 1024,
        }
    }
}

impl Limits {
    /// The largest message (header block plus body) these limits let through.
    pub fn max_message_bytes(&self) -> usize {
        self.max_header_bytes.saturating_add(self.max_body_bytes)
    }
}

/// One unit read off a stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    /// An RFC 5626 `"\r\n\r\n"` keep-alive ping; the receiver answers with a `"\r\n"` pong.
    KeepAlive,
    /// One whole message: exactly its header block (with the empty line) and its body.
    Message(Bytes),
}

/// Why the byte stream cannot be split into messages; framing is lost after any of these.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FrameError {
    /// No empty line within the header size cap.
    #[error("header block exceeds the {limit}-byte limit")]
    HeaderTooLarge {
        /// The cap that was exceeded.
        limit: usize,
    },
    /// `Content-Length` announces more body than allowed.
    #[error("content-length {length} exceeds the {limit}-byte body limit")]
    BodyTooLarge {
        /// The announced body length.
        length: usize,
        /// The cap that was exceeded.
        limit: usize,
    },
    /// The header block has no `Content-Length` (or `l`), which a stream transport requires.
    #[error("content-length header missing; it is mandatory on stream transports (rfc 3261 §18.3)")]
    MissingContentLength,
    /// `Content-Length` is not a decimal number that fits in memory.
    #[error("content-length value {value:?} is not a decimal byte count")]
    InvalidContentLength {
        /// The value as received (lossy UTF-8), whitespace trimmed.
        value: String,
    },
    /// Two `Content-Length` headers with different values.
    #[error("content-length given twice with different values ({first} and {second})")]
    DuplicateContentLength {
        /// The first value seen.
        first: usize,
        /// The conflicting value.
        second: usize,
    },
}

/// Incremental framer for one byte stream.
///
/// The decoder remembers how far it has already scanned the caller's buffer, so feeding it a
/// message byte by byte costs linear, not quadratic, time. It must therefore always be given
/// the same buffer, with new bytes appended at the end and nothing removed except by `decode`.
#[derive(Debug, Clone, Default)]
pub struct StreamDecoder {
    limits: Limits,
    /// Offset from which to continue looking for the end of the header block.
    scanned: usize,
    /// Total length (header block + body) of the message at the front, once known.
    pending: Option<usize>,
}

const PING: &[u8] = b"\r\n\r\n";

impl StreamDecoder {
    /// A decoder enforcing `limits`.
    pub fn new(limits: Limits) -> Self {
        StreamDecoder {
            limits,
            scanned: 0,
            pending: None,
        }
    }

    /// The limits in force.
    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// Changes the limits; they apply from the next message whose header block is not yet
    /// complete.
    pub fn set_limits(&mut self, limits: Limits) {
        self.limits = limits;
    }

    /// True when no part of a message has been seen: `buf` holds at most bare line ends.
    ///
    /// A stream that ends in this state ended cleanly, at a message boundary.
    pub fn is_idle(&self, buf: &[u8]) -> bool {
        self.pending.is_none() && buf.iter().all(|&b| b == b'\r' || b == b'\n')
    }

    /// Takes the next frame off the front of `buf`.
    ///
    /// Returns `Ok(None)` when more bytes are needed; `buf` then still holds every byte that is
    /// part of a not-yet-complete frame (only skipped line ends may have been removed).
    pub fn decode(&mut self, buf: &mut BytesMut) -> Result<Option<Frame>, FrameError> {
        if let Some(total) = self.pending {
            return Ok(self.take_message(buf, total));
        }
        if self.scanned == 0 {
            // Nothing of a message seen yet: skip line ends, report pings.
            loop {
                if buf.starts_with(PING) {
                    buf.advance(PING.len());
                    return Ok(Some(Frame::KeepAlive));
                }
                if PING.starts_with(buf) {
                    // Empty, or a prefix of a ping: cannot tell ping from pong yet.
                    return Ok(None);
                }
                if buf.starts_with(b"\r\n") {
                    buf.advance(2);
                } else if buf[0] == b'\n' {
                    buf.advance(1);
                } else {
                    break;
                }
            }
        }
        let header_len = match find_header_end(buf, self.scanned) {
            Ok(end) => end,
            Err(resume) => {
                if buf.len() > self.limits.max_header_bytes {
                    return Err(self.fail(FrameError::HeaderTooLarge {
                        limit: self.limits.max_header_bytes,
                    }));
                }
                self.scanned = resume.max(1);
                return Ok(None);
            }
        };
        if header_len > self.limits.max_header_bytes {
            return Err(self.fail(FrameError::HeaderTooLarge {
                limit: self.limits.max_header_bytes,
            }));
        }
        let length = match content_length(&buf[..header_len]) {
            Ok(length) => length,
            Err(e) => return Err(self.fail(e)),
        };
        if length > self.limits.max_body_bytes {
            return Err(self.fail(FrameError::BodyTooLarge {
                length,
                limit: self.limits.max_body_bytes,
            }));
        }
        let total = header_len + length;
        self.pending = Some(total);
        Ok(self.take_message(buf, total))
    }

    fn take_message(&mut self, buf: &mut BytesMut, total: usize) -> Option<Frame> {
        if buf.len() < total {
            return None;
        }
        self.pending = None;
        self.scanned = 0;
        Some(Frame::Message(buf.split_to(total).freeze()))
    }

    fn fail(&mut self, e: FrameError) -> FrameError {
        self.pending = None;
        self.scanned = 0;
        e
    }
}

/// `LF CR LF` and `LF LF`, the two ways a header block ends.
static LF_CRLF: LazyLock<memmem::Finder<'static>> =
    LazyLock::new(|| memmem::Finder::new(b"\n\r\n"));
static LF_LF: LazyLock<memmem::Finder<'static>> = LazyLock::new(|| memmem::Finder::new(b"\n\n"));

/// Finds the end of the header block (just past its empty line), scanning from `from`.
///
/// The block ends at the first LF followed by CRLF or by LF: two substring searches, which
/// cost less than stopping at every line end. On failure returns the offset to resume from,
/// early enough that an end split across reads is still found.
fn find_header_end(buf: &[u8], from: usize) -> Result<usize, usize> {
    let hay = &buf[from..];
    let crlf = LF_CRLF.find(hay);
    // A bare-LF end counts only when it comes first.
    let lf = LF_LF.find(&hay[..crlf.map_or(hay.len(), |q| q + 1)]);
    match (crlf, lf) {
        (_, Some(r)) => Ok(from + r + 2),
        (Some(q), None) => Ok(from + q + 3),
        (None, None) => Err(from + hay.len().saturating_sub(2)),
    }
}

/// The line-by-line search [`find_header_end`] replaces, kept to check it.
#[cfg(test)]
fn find_header_end_by_lines(buf: &[u8], from: usize) -> Result<usize, usize> {
    for i in memchr::memchr_iter(b'\n', &buf[from..]).map(|i| i + from) {
        match buf.get(i + 1) {
            None => return Err(i),
            Some(b'\n') => return Ok(i + 2),
            Some(b'\r') => match buf.get(i + 2) {
                None => return Err(i),
                Some(b'\n') => return Ok(i + 3),
                Some(_) => {}
            },
            Some(_) => {}
        }
    }
    Err(buf.len())
}

/// Reads `Content-Length` (or compact `l`) from a complete header block.
fn content_length(block: &[u8]) -> Result<usize, FrameError> {
    let mut found: Option<usize> = None;
    // The first line is the start line, never a header. Line starts are found with memchr and
    // only a line starting like `Content-Length` or `l` is looked at further.
    let mut ends = memchr::memchr_iter(b'\n', block).peekable();
    while let Some(nl) = ends.next() {
        let start = nl + 1;
        if !matches!(block.get(start), Some(b'l' | b'L' | b'c' | b'C')) {
            continue;
        }
        let line = &block[start..ends.peek().copied().unwrap_or(block.len())];
        let Some(value) = content_length_value(line) else {
            continue;
        };
        let value = trim(value);
        let length = parse_length(value)?;
        match found {
            Some(first) if first != length => {
                return Err(FrameError::DuplicateContentLength {
                    first,
                    second: length,
                });
            }
            _ => found = Some(length),
        }
    }
    found.ok_or(FrameError::MissingContentLength)
}

/// The raw value if `line` is a `Content-Length` or `l` header line.
fn content_length_value(line: &[u8]) -> Option<&[u8]> {
    let first = *line.first()?;
    let rest = match first {
        b'l' | b'L' => &line[1..],
        b'c' | b'C' => {
            const NAME: &[u8] = b"content-length";
            if line.len() < NAME.len() || !line[..NAME.len()].eq_ignore_ascii_case(NAME) {
                return None;
            }
            &line[NAME.len()..]
        }
        _ => return None,
    };
    let rest = trim_start(rest);
    rest.strip_prefix(b":")
}

fn parse_length(value: &[u8]) -> Result<usize, FrameError> {
    let invalid = || FrameError::InvalidContentLength {
        value: String::from_utf8_lossy(value).into_owned(),
    };
    if value.is_empty() || !value.iter().all(u8::is_ascii_digit) {
        return Err(invalid());
    }
    value.iter().try_fold(0usize, |acc, &d| {
        acc.checked_mul(10)
            .and_then(|v| v.checked_add(usize::from(d - b'0')))
            .ok_or_else(invalid)
    })
}

fn is_ws(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r')
}

fn trim_start(s: &[u8]) -> &[u8] {
    let start = s.iter().position(|&b| !is_ws(b)).unwrap_or(s.len());
    &s[start..]
}

fn trim(s: &[u8]) -> &[u8] {
    let s = trim_start(s);
    let end = s.iter().rposition(|&b| !is_ws(b)).map_or(0, |i| i + 1);
    &s[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode_all(input: &[u8], limits: Limits) -> Result<Vec<Frame>, FrameError> {
        let mut d = StreamDecoder::new(limits);
        let mut buf = BytesMut::from(input);
        let mut out = Vec::new();
        while let Some(f) = d.decode(&mut buf)? {
            out.push(f);
        }
        Ok(out)
    }

    fn msg(s: &str) -> Frame {
        Frame::Message(Bytes::copy_from_slice(s.as_bytes()))
    }

    const OPTIONS: &str = "OPTIONS sip:gw1 SIP/2.0\r\nContent-Length: 0\r\n\r\n";

    #[test]
    fn frames_message_with_body_exactly() {
        let m = "MESSAGE sip:a SIP/2.0\r\nContent-Length: 5\r\n\r\nhello";
        let input = format!("{m}INVITE");
        let mut d = StreamDecoder::default();
        let mut buf = BytesMut::from(input.as_bytes());
        assert_eq!(d.decode(&mut buf), Ok(Some(msg(m))));
        assert_eq!(d.decode(&mut buf), Ok(None));
        assert_eq!(&buf[..], b"INVITE");
    }

    #[test]
    fn ping_is_keepalive_and_pong_is_skipped() {
        let input = format!("\r\n\r\n{OPTIONS}\r\n{OPTIONS}\r\n\r\n");
        let frames = decode_all(input.as_bytes(), Limits::default()).unwrap();
        assert_eq!(
            frames,
            vec![
                Frame::KeepAlive,
                msg(OPTIONS),
                msg(OPTIONS),
                Frame::KeepAlive
            ]
        );
    }

    #[test]
    fn partial_ping_waits() {
        let mut d = StreamDecoder::default();
        let mut buf = BytesMut::from(&b"\r\n\r"[..]);
        assert_eq!(d.decode(&mut buf), Ok(None));
        assert_eq!(buf.len(), 3);
        buf.extend_from_slice(b"\n");
        assert_eq!(d.decode(&mut buf), Ok(Some(Frame::KeepAlive)));
        assert!(buf.is_empty());
    }

    #[test]
    fn accepts_bare_lf_and_compact_form() {
        let m = "SIP/2.0 200 OK\nl :  3\n\nabc";
        assert_eq!(
            decode_all(m.as_bytes(), Limits::default()),
            Ok(vec![msg(m)])
        );
        let m = "SIP/2.0 200 OK\r\nCONTENT-length\t:\t2 \r\n\r\nab";
        assert_eq!(
            decode_all(m.as_bytes(), Limits::default()),
            Ok(vec![msg(m)])
        );
    }

    #[test]
    fn look_alike_headers_are_not_content_length() {
        let m = "SIP/2.0 200 OK\r\nContent-Length-X: 9\r\nLocation: 7\r\nl: 0\r\n\r\n";
        assert_eq!(
            decode_all(m.as_bytes(), Limits::default()),
            Ok(vec![msg(m)])
        );
    }

    #[test]
    fn missing_content_length_is_an_error() {
        let m = "SIP/2.0 200 OK\r\nVia: x\r\n\r\n";
        assert_eq!(
            decode_all(m.as_bytes(), Limits::default()),
            Err(FrameError::MissingContentLength)
        );
    }

    #[test]
    fn invalid_content_lengths_are_reported_with_their_value() {
        for v in ["-1", "abc", "", "1 2", "0x10", "99999999999999999999999"] {
            let m = format!("SIP/2.0 200 OK\r\nContent-Length: {v}\r\n\r\n");
            assert_eq!(
                decode_all(m.as_bytes(), Limits::default()),
                Err(FrameError::InvalidContentLength {
                    value: v.to_owned()
                }),
                "value {v:?}"
            );
        }
    }

    #[test]
    fn duplicate_content_length_conflict_is_an_error_but_repeat_is_not() {
        let m = "SIP/2.0 200 OK\r\nContent-Length: 1\r\nl: 2\r\n\r\nab";
        assert_eq!(
            decode_all(m.as_bytes(), Limits::default()),
            Err(FrameError::DuplicateContentLength {
                first: 1,
                second: 2
            })
        );
        let m = "SIP/2.0 200 OK\r\nContent-Length: 2\r\nl: 2\r\n\r\nab";
        assert_eq!(
            decode_all(m.as_bytes(), Limits::default()),
            Ok(vec![msg(m)])
        );
    }

    #[test]
    fn header_limit_applies_before_the_empty_line_arrives() {
        let limits = Limits {
            max_header_bytes: 64,
            max_body_bytes: 10,
        };
        let mut d = StreamDecoder::new(limits);
        let mut buf = BytesMut::from(&b"INVITE sip:a SIP/2.0\r\n"[..]);
        assert_eq!(d.decode(&mut buf), Ok(None));
        buf.extend_from_slice(&[b'X'; 64]);
        assert_eq!(
            d.decode(&mut buf),
            Err(FrameError::HeaderTooLarge { limit: 64 })
        );
    }

    #[test]
    fn header_limit_counts_the_whole_block() {
        let m = format!(
            "SIP/2.0 200 OK\r\nContent-Length: 0\r\nX: {}\r\n\r\n",
            "y".repeat(40)
        );
        let exact = Limits {
            max_header_bytes: m.len(),
            max_body_bytes: 0,
        };
        assert_eq!(decode_all(m.as_bytes(), exact), Ok(vec![msg(&m)]));
        let short = Limits {
            max_header_bytes: m.len() - 1,
            max_body_bytes: 0,
        };
        assert_eq!(
            decode_all(m.as_bytes(), short),
            Err(FrameError::HeaderTooLarge { limit: m.len() - 1 })
        );
    }

    #[test]
    fn body_limit_is_checked_from_the_header() {
        let limits = Limits {
            max_header_bytes: 1024,
            max_body_bytes: 4,
        };
        let ok = "SIP/2.0 200 OK\r\nl: 4\r\n\r\nabcd";
        assert_eq!(decode_all(ok.as_bytes(), limits), Ok(vec![msg(ok)]));
        // Rejected as soon as the header block is complete, before any body byte arrives.
        let big = "SIP/2.0 200 OK\r\nl: 5\r\n\r\n";
        assert_eq!(
            decode_all(big.as_bytes(), limits),
            Err(FrameError::BodyTooLarge {
                length: 5,
                limit: 4
            })
        );
    }

    #[test]
    fn byte_by_byte_feed_resumes_scanning() {
        let m = "INVITE sip:a SIP/2.0\r\nl: 3\r\n\r\nxyz";
        let mut d = StreamDecoder::default();
        let mut buf = BytesMut::new();
        let mut frames = Vec::new();
        for &b in m.as_bytes() {
            buf.extend_from_slice(&[b]);
            assert!(!d.is_idle(&buf) || b == b'\r' || b == b'\n');
            if let Some(f) = d.decode(&mut buf).unwrap() {
                frames.push(f);
            }
        }
        assert_eq!(frames, vec![msg(m)]);
        assert!(d.is_idle(&buf));
    }

    #[test]
    fn idle_only_between_messages() {
        let mut d = StreamDecoder::default();
        let mut buf = BytesMut::from(&b"\r\n"[..]);
        assert_eq!(d.decode(&mut buf), Ok(None));
        assert!(d.is_idle(&buf));
        buf.extend_from_slice(b"SIP/2.0 200 OK\r\nl: 3\r\n\r\n");
        assert_eq!(d.decode(&mut buf), Ok(None));
        assert!(!d.is_idle(&buf));
    }

    #[test]
    fn header_end_search_agrees_with_the_line_by_line_one() {
        // Every message of up to nine bytes over `a`, CR and LF (starting as a start line
        // does), searched at once and as it arrives byte by byte, resuming where told.
        let alphabet = [b'a', b'\r', b'\n'];
        for len in 1..=9u32 {
            for code in 0..3usize.pow(len - 1) {
                let mut msg = vec![b'a'];
                let mut c = code;
                for _ in 1..len {
                    msg.push(alphabet[c % 3]);
                    c /= 3;
                }
                let want = find_header_end_by_lines(&msg, 0).ok();
                assert_eq!(find_header_end(&msg, 0).ok(), want, "{msg:?}");
                let mut scanned = 0;
                let mut got = None;
                for n in 1..=msg.len() {
                    match find_header_end(&msg[..n], scanned) {
                        Ok(end) => {
                            got = Some(end);
                            break;
                        }
                        Err(resume) => scanned = resume.max(1),
                    }
                }
                assert_eq!(got, want, "{msg:?} byte by byte");
            }
        }
    }
}
