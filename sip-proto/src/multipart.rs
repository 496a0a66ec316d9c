//! Multipart bodies (RFC 2046 §5.1) as SIP uses them: an INVITE that conveys location by value
//! (RFC 6442) carries `multipart/mixed` with the SDP offer and a PIDF-LO document side by side.
//!
//! [`parse`] splits a body into its parts (headers and content, borrowed from the body) and
//! reports a malformed body with the byte offset where it went wrong; [`build`] writes one.
//! Line ends are CRLF on output; on input a bare LF is accepted as well. Pure, never panics.

use std::fmt;

/// One body part: its headers as written, and its content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part<'a> {
    /// `(name, value)` in order, values trimmed.
    pub headers: Vec<(&'a str, &'a str)>,
    /// The content (without the CRLF that precedes the next delimiter).
    pub body: &'a [u8],
    /// Byte offset of the part's first header line in the whole body.
    pub offset: usize,
}

impl Part<'_> {
    /// The first header named `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| *v)
    }

    /// The part's media type, lower case without parameters (`application/pidf+xml`);
    /// `text/plain` when absent (RFC 2046 §5.1 default).
    pub fn media_type(&self) -> String {
        self.header("Content-Type")
            .map_or_else(|| "text/plain".to_owned(), media_type)
    }

    /// The Content-ID without its angle brackets.
    pub fn content_id(&self) -> Option<&str> {
        self.header("Content-ID")
            .map(|v| v.trim().trim_start_matches('<').trim_end_matches('>'))
    }
}

/// A malformed multipart body, with the byte offset in the body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MultipartError {
    /// Byte offset in the body.
    pub at: usize,
    /// What was expected.
    pub message: String,
}

impl fmt::Display for MultipartError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at body byte {}", self.message, self.at)
    }
}

impl std::error::Error for MultipartError {}

/// `type/subtype` of a Content-Type value, lower case, parameters dropped.
pub fn media_type(content_type: &str) -> String {
    content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase()
}

/// The `boundary` parameter of a Content-Type value (quotes removed).
pub fn boundary(content_type: &str) -> Option<&str> {
    content_type.split(';').skip(1).find_map(|p| {
        let (k, v) = p.split_once('=')?;
        k.trim()
            .eq_ignore_ascii_case("boundary")
            .then(|| v.trim().trim_matches('"'))
            .filter(|b| !b.is_empty())
    })
}

fn find(hay: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    if needle.is_empty() || from > hay.len() {
        return None;
    }
    hay[from..]
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|p| p + from)
}

/// Where the line starting at `at` ends: (end of content, start of next line).
fn line_end(body: &[u8], at: usize) -> Option<(usize, usize)> {
    let nl = body[at..].iter().position(|&b| b == b'\n')? + at;
    let end = if nl > at && body[nl - 1] == b'\r' {
        nl - 1
    } else {
        nl
    };
    Some((end, nl + 1))
}

/// Splits `body` into its parts. The boundary comes from the Content-Type ([`boundary`]).
pub fn parse<'a>(body: &'a [u8], boundary: &str) -> Result<Vec<Part<'a>>, MultipartError> {
    let err = |at: usize, message: String| MultipartError { at, message };
    let delim = format!("--{boundary}");
    let delim = delim.as_bytes();
    // The first delimiter starts the body or a line (anything before it is preamble).
    let mut at = if body.starts_with(delim) {
        0
    } else {
        find(body, &[b"\n", delim].concat(), 0)
            .map(|p| p + 1)
            .ok_or_else(|| err(0, format!("no opening delimiter --{boundary}")))?
    };
    let mut parts = Vec::new();
    loop {
        let after = at + delim.len();
        if body[after..].starts_with(b"--") {
            return if parts.is_empty() {
                Err(err(at, "a multipart body with no parts".into()))
            } else {
                Ok(parts)
            };
        }
        let (_, mut line) = line_end(body, after)
            .ok_or_else(|| err(after, "the delimiter line does not end".into()))?;
        let offset = line;
        let mut headers = Vec::new();
        loop {
            let (end, next) = line_end(body, line)
                .ok_or_else(|| err(line, "part headers do not end with an empty line".into()))?;
            if end == line {
                line = next;
                break;
            }
            let text = std::str::from_utf8(&body[line..end])
                .map_err(|_| err(line, "a part header is not UTF-8".into()))?;
            let (name, value) = text
                .split_once(':')
                .ok_or_else(|| err(line, format!("part header line {text:?} has no colon")))?;
            if name.trim().is_empty() || name.trim() != name {
                return Err(err(line, format!("bad part header name {name:?}")));
            }
            headers.push((name, value.trim()));
            line = next;
        }
        // The content runs to the line end that starts the next delimiter. Searching from the
        // blank line's own LF as well accepts an empty part written without its own CRLF.
        let nl = find(body, &[b"\n", delim].concat(), line.saturating_sub(1))
            .ok_or_else(|| err(line, format!("part never closed by --{boundary}")))?;
        let mut content_end = nl.max(line);
        if content_end > line && body[content_end - 1] == b'\r' {
            content_end -= 1;
        }
        parts.push(Part {
            headers,
            body: &body[line..content_end],
            offset,
        });
        at = nl + 1;
    }
}

/// A part to write: its headers and its content.
pub type NewPart<'a> = (&'a [(&'a str, &'a str)], &'a [u8]);

/// Writes a multipart body: each part's headers, a blank line, its content; CRLF line ends and
/// a closing delimiter.
pub fn build(boundary: &str, parts: &[NewPart<'_>]) -> Vec<u8> {
    let mut out = Vec::new();
    for (headers, body) in parts {
        out.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
        for (n, v) in *headers {
            out.extend_from_slice(format!("{n}: {v}\r\n").as_bytes());
        }
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(body);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const SDP: &[u8] = b"v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 30000 RTP/SAVP 0\r\n";
    const PIDF: &[u8] = b"<?xml version=\"1.0\"?>\r\n<presence entity=\"pres:caller@trunk\"/>";

    #[test]
    fn build_then_parse_round_trips() {
        let body = build(
            "b1",
            &[
                (&[("Content-Type", "application/sdp")], SDP),
                (
                    &[
                        ("Content-Type", "application/pidf+xml"),
                        ("Content-ID", "<loc@trunk>"),
                    ],
                    PIDF,
                ),
            ],
        );
        let parts = parse(&body, "b1").unwrap();
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[0].media_type(), "application/sdp");
        assert_eq!(parts[0].body, SDP);
        assert_eq!(parts[1].content_id(), Some("loc@trunk"));
        assert_eq!(parts[1].body, PIDF);
    }

    #[test]
    fn preamble_lf_line_ends_and_quoted_boundaries() {
        let ct = "multipart/mixed; boundary=\"x y\"";
        assert_eq!(boundary(ct), Some("x y"));
        assert_eq!(media_type(ct), "multipart/mixed");
        let body = b"preamble\n--x y\nContent-Type: text/plain\n\nhello\n--x y--\n";
        let parts = parse(body, "x y").unwrap();
        assert_eq!(parts.len(), 1);
        assert_eq!(parts[0].body, b"hello");
        assert_eq!(parts[0].media_type(), "text/plain");
    }

    #[test]
    fn malformed_bodies_say_where() {
        let e = parse(b"no delimiter here", "b").unwrap_err();
        assert_eq!(e.at, 0);
        assert!(e.message.contains("no opening delimiter --b"), "{e}");
        let e = parse(b"--b\r\nContent-Type: a/b\r\n\r\nnever closed", "b").unwrap_err();
        assert!(e.message.contains("never closed"), "{e}");
        let e = parse(b"--b\r\nno colon here\r\n\r\nx\r\n--b--", "b").unwrap_err();
        assert_eq!(e.at, 5);
        assert!(e.message.contains("no colon"), "{e}");
        let e = parse(b"--b--\r\n", "b").unwrap_err();
        assert!(e.message.contains("no parts"), "{e}");
    }

    proptest::proptest! {
        #[test]
        fn never_panics(body in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..200)) {
            let _ = parse(&body, "b");
            let mut framed = b"--b\r\n".to_vec();
            framed.extend_from_slice(&body);
            let _ = parse(&framed, "b");
        }

        #[test]
        fn any_parts_round_trip(
            contents in proptest::collection::vec("[a-zA-Z0-9 <>/=\r\n-]{0,60}", 1..5)
        ) {
            let headers: &[(&str, &str)] = &[("Content-Type", "text/plain")];
            let parts: Vec<NewPart<'_>> =
                contents.iter().map(|c| (headers, c.as_bytes())).collect();
            let body = build("zz_boundary_zz", &parts);
            let back = parse(&body, "zz_boundary_zz").unwrap();
            proptest::prop_assert_eq!(back.len(), contents.len());
            for (p, c) in back.iter().zip(&contents) {
                proptest::prop_assert_eq!(p.body, c.as_bytes());
            }
        }
    }

    #[test]
    fn an_empty_part_is_a_part() {
        let parts = parse(b"--b\r\nContent-Type: a/b\r\n\r\n\r\n--b--\r\n", "b").unwrap();
        assert_eq!(parts.len(), 1);
        assert!(parts[0].body.is_empty());
    }
}
