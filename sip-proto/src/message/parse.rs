//! The strict parser. One pass splits the header block into lines (unfolding continuation
//! lines), a second validates the headers the transaction layer relies on. Every error says
//! what was expected, and where: 1-based line and column and byte offset in the message.
//!
//! When a request fails validation after its headers were split, the error carries a
//! [`Salvage`] with those headers so that a UAS can still answer 400 (or 505, 416 ...).
//!
//! [`Message::parse_bytes`] first tries the one-pass fast path in `scan.rs`, which takes only
//! the everyday shape of a message and gives the same result as this parser; anything else,
//! every error included, is this parser's ([`Message::parse_full`]).

use std::fmt;

use bytes::Bytes;

use super::header::{Headers, Known, Raw, Span};
use super::validate::validate;
use super::{Message, Method, Request, Response};
use crate::uri::Uri;

/// What kind of problem a [`ParseError`] is; it decides the status a UAS answers with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ParseErrorKind {
    /// Malformed start line, header line or header value: 400.
    Syntax,
    /// `SIP/x.y` other than 2.0: 505.
    UnsupportedVersion,
    /// A mandatory header (Via, From, To, Call-ID, CSeq) is missing, or one that must be single
    /// appears twice: 400.
    MissingOrRepeatedHeader,
    /// The CSeq method differs from the request method: 400.
    MethodMismatch,
    /// Content-Length disagrees with the bytes present: 400.
    BodyLength,
    /// The header block is not UTF-8: 400.
    NotUtf8,
    /// No empty line ends the header block (the message is incomplete).
    Incomplete,
}

/// A parse failure with its position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// Kind of failure.
    pub kind: ParseErrorKind,
    /// 1-based line in the message.
    pub line: u32,
    /// 1-based column (byte) in that line.
    pub column: u32,
    /// Byte offset in the message.
    pub offset: usize,
    /// The header involved, when there is one.
    pub header: Option<String>,
    /// What was expected or what is wrong.
    pub message: String,
    /// What could be read of a request before the failure, to answer it.
    pub salvage: Option<Box<Salvage>>,
}

/// The readable parts of a message that failed validation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Salvage {
    /// The method, when the start line was a request line.
    pub method: Option<Method>,
    /// The header lines as split (unvalidated).
    pub headers: Headers,
}

impl std::error::Error for ParseError {}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}, column {}", self.line, self.column)?;
        if let Some(h) = &self.header {
            write!(f, " ({h})")?;
        }
        write!(f, ": {}", self.message)
    }
}

impl ParseError {
    /// The status a UAS should answer a request that failed this way with.
    pub fn status(&self) -> u16 {
        match self.kind {
            ParseErrorKind::UnsupportedVersion => 505,
            _ => 400,
        }
    }
}

/// Line bookkeeping for positions.
struct Lines<'a> {
    text: &'a str,
}

impl<'a> Lines<'a> {
    fn position(&self, offset: usize) -> (u32, u32) {
        let before = &self.text.as_bytes()[..offset.min(self.text.len())];
        let line = memchr::memchr_iter(b'\n', before).count() + 1;
        let col = offset
            - before
                .iter()
                .rposition(|&b| b == b'\n')
                .map_or(0, |p| p + 1)
            + 1;
        (line as u32, col as u32)
    }
}

pub(super) struct Ctx<'a> {
    lines: Lines<'a>,
}

impl<'a> Ctx<'a> {
    /// Positions are reported against `text` (the header block).
    pub(super) fn new(text: &'a str) -> Self {
        Ctx {
            lines: Lines { text },
        }
    }

    pub(super) fn err(
        &self,
        kind: ParseErrorKind,
        offset: usize,
        header: Option<&str>,
        message: impl Into<String>,
    ) -> ParseError {
        let (line, column) = self.lines.position(offset);
        ParseError {
            kind,
            line,
            column,
            offset,
            header: header.map(str::to_owned),
            message: message.into(),
            salvage: None,
        }
    }
}

impl Message {
    /// Parses exactly one message. Leading CRLFs are skipped. When a Content-Length is present
    /// the body is that many bytes (bytes after it are ignored, as on a datagram; fewer is an
    /// error); without one the body is everything after the header block.
    pub fn parse(input: &[u8]) -> Result<Message, ParseError> {
        Message::parse_bytes(Bytes::copy_from_slice(input))
    }

    /// Like [`Message::parse`] but shares the body with `input` instead of copying it.
    pub fn parse_bytes(input: Bytes) -> Result<Message, ParseError> {
        match super::scan::parse(&input) {
            Some(m) => Ok(m),
            None => Message::parse_full(input),
        }
    }

    /// The full parser, for any input: [`Message::parse_bytes`] without its fast path.
    pub(super) fn parse_full(input: Bytes) -> Result<Message, ParseError> {
        let skip = input
            .iter()
            .position(|&b| b != b'\r' && b != b'\n')
            .unwrap_or(input.len());
        let data = &input[skip..];
        let (head_len, body_start) = find_head_end(data).ok_or_else(|| ParseError {
            kind: ParseErrorKind::Incomplete,
            line: 1,
            column: 1,
            offset: skip,
            header: None,
            message: "expected an empty line ending the header block".into(),
            salvage: None,
        })?;
        let head = match std::str::from_utf8(&data[..head_len]) {
            Ok(h) => h,
            Err(e) => {
                let valid = std::str::from_utf8(&data[..e.valid_up_to()]).unwrap_or("");
                let ctx = Ctx {
                    lines: Lines { text: valid },
                };
                let mut err = ctx.err(
                    ParseErrorKind::NotUtf8,
                    e.valid_up_to(),
                    None,
                    "invalid UTF-8 in the header block",
                );
                err.offset += skip;
                return Err(err);
            }
        };
        let ctx = Ctx {
            lines: Lines { text: head },
        };
        let mut parsed = parse_head(head, &ctx).map_err(|mut e| {
            e.offset += skip;
            e
        })?;
        let body_all = input.slice(skip + body_start..);
        let with_salvage = |e: ParseError, start: &Start, headers: &Headers| -> ParseError {
            let mut e = e;
            if let Start::Request { method, .. } = start {
                e.salvage = Some(Box::new(Salvage {
                    method: Some(method.clone()),
                    headers: headers.clone(),
                }));
            }
            e.offset += skip;
            e
        };
        let method = match &parsed.start {
            Start::Request { method, .. } => Some(method),
            Start::Response { .. } => None,
        };
        if let Err(e) = validate(method, &parsed.headers, &ctx) {
            return Err(with_salvage(e, &parsed.start, &parsed.headers));
        }
        let body = match parsed.content_length {
            Some((len, _)) if len > body_all.len() => {
                let line = parsed.content_length.map(|(_, l)| l).unwrap_or(0);
                let e = ParseError {
                    kind: ParseErrorKind::BodyLength,
                    line,
                    column: 1,
                    offset: head_len,
                    header: Some("Content-Length".into()),
                    message: format!(
                        "Content-Length is {len} but only {} body bytes follow",
                        body_all.len()
                    ),
                    salvage: None,
                };
                return Err(with_salvage(e, &parsed.start, &parsed.headers));
            }
            Some((len, _)) => body_all.slice(..len),
            None => body_all,
        };
        let headers = std::mem::take(&mut parsed.headers);
        Ok(parsed.start.into_message(headers, body))
    }
}

/// Returns (length of the header block without the blank line, start of the body).
fn find_head_end(data: &[u8]) -> Option<(usize, usize)> {
    // One pass over the header block only: an LF followed by CRLF or by LF ends it.
    memchr::memchr_iter(b'\n', data).find_map(|i| match data.get(i + 1) {
        Some(b'\n') => Some((i, i + 2)),
        Some(b'\r') if data.get(i + 2) == Some(&b'\n') => Some((
            if i > 0 && data[i - 1] == b'\r' {
                i - 1
            } else {
                i
            },
            i + 3,
        )),
        _ => None,
    })
}

pub(super) enum Start {
    Request { method: Method, uri: Uri },
    Response { status: u16, reason: String },
}

impl Start {
    /// The message this start line begins, with its headers and body.
    pub(super) fn into_message(self, headers: Headers, body: Bytes) -> Message {
        match self {
            Start::Request { method, uri } => Message::Request(Request {
                method,
                uri,
                headers,
                body,
            }),
            Start::Response { status, reason } => Message::Response(Response {
                status,
                reason,
                headers,
                body,
            }),
        }
    }
}

struct Parsed {
    start: Start,
    headers: Headers,
    content_length: Option<(usize, u32)>,
}

fn is_sip_version(s: &str) -> Result<(), bool> {
    // Ok: SIP/2.0. Err(true): a well-formed other version. Err(false): not a version at all.
    let Some(v) = s
        .get(..4)
        .filter(|p| p.eq_ignore_ascii_case("SIP/"))
        .map(|_| &s[4..])
    else {
        return Err(false);
    };
    if v == "2.0" {
        return Ok(());
    }
    match v.split_once('.') {
        Some((a, b))
            if !a.is_empty()
                && !b.is_empty()
                && a.bytes().all(|c| c.is_ascii_digit())
                && b.bytes().all(|c| c.is_ascii_digit()) =>
        {
            Err(true)
        }
        _ => Err(false),
    }
}

pub(super) fn parse_start(line: &str, ctx: &Ctx<'_>) -> Result<Start, ParseError> {
    use ParseErrorKind::*;
    if line
        .as_bytes()
        .get(..4)
        .is_some_and(|p| p.eq_ignore_ascii_case(b"SIP/"))
    {
        // Status-Line = SIP-Version SP Status-Code SP Reason-Phrase
        let (version, rest) = line.split_once(' ').ok_or_else(|| {
            ctx.err(
                Syntax,
                line.len(),
                None,
                "expected ' ' after the SIP version",
            )
        })?;
        match is_sip_version(version) {
            Ok(()) => {}
            Err(true) => {
                return Err(ctx.err(
                    UnsupportedVersion,
                    0,
                    None,
                    format!("unsupported version '{version}' (expected SIP/2.0)"),
                ));
            }
            Err(false) => return Err(ctx.err(Syntax, 0, None, "expected 'SIP/2.0'")),
        }
        let code_end = rest.find(' ').unwrap_or(rest.len());
        let code = &rest[..code_end];
        let at = version.len() + 1;
        if code.len() != 3 || !code.bytes().all(|b| b.is_ascii_digit()) {
            return Err(ctx.err(Syntax, at, None, "expected a three-digit status code"));
        }
        let status: u16 = code
            .parse()
            .map_err(|_| ctx.err(Syntax, at, None, "expected a status code"))?;
        if !(100..=699).contains(&status) {
            return Err(ctx.err(Syntax, at, None, "status code must be 100..699"));
        }
        let reason = rest.get(code_end + 1..).unwrap_or("");
        if let Some(i) = reason
            .bytes()
            .position(|b| b.is_ascii_control() && b != b'\t')
        {
            return Err(ctx.err(
                Syntax,
                at + code_end + 1 + i,
                None,
                "control character in the reason phrase",
            ));
        }
        return Ok(Start::Response {
            status,
            reason: reason.to_owned(),
        });
    }
    // Request-Line = Method SP Request-URI SP SIP-Version
    let first = line.find(' ').ok_or_else(|| {
        ctx.err(
            Syntax,
            0,
            None,
            "expected 'METHOD SP Request-URI SP SIP/2.0'",
        )
    })?;
    let last = line.rfind(' ').unwrap_or(first);
    let method_text = &line[..first];
    let method = Method::parse(method_text)
        .ok_or_else(|| ctx.err(Syntax, 0, None, "expected a method token"))?;
    if last == first {
        return Err(ctx.err(
            Syntax,
            line.len(),
            None,
            "expected ' SIP/2.0' after the Request-URI",
        ));
    }
    let version = &line[last + 1..];
    match is_sip_version(version) {
        Ok(()) => {}
        Err(true) => {
            return Err(ctx.err(
                UnsupportedVersion,
                last + 1,
                None,
                format!("unsupported version '{version}' (expected SIP/2.0)"),
            ));
        }
        Err(false) => {
            return Err(ctx.err(
                Syntax,
                last + 1,
                None,
                "expected 'SIP/2.0' at the end of the request line",
            ));
        }
    }
    let uri_text = &line[first + 1..last];
    // Branch-free test first (it vectorises): ASCII whitespace is at most ' ', and any other
    // whitespace is not ASCII.
    let maybe_ws = uri_text
        .bytes()
        .fold(false, |acc, c| acc | (c <= b' ') | (c >= 0x80));
    if maybe_ws
        && let Some(i) =
            crate::uri::find_char(uri_text, crate::uri::is_ascii_ws, char::is_whitespace)
    {
        return Err(ctx.err(
            Syntax,
            first + 1 + i,
            None,
            "whitespace inside the Request-URI",
        ));
    }
    if uri_text.is_empty() {
        return Err(ctx.err(Syntax, first + 1, None, "expected a Request-URI"));
    }
    let uri = Uri::parse(uri_text).map_err(|e| {
        ctx.err(
            Syntax,
            first + 1 + e.at,
            None,
            format!("Request-URI: {}", e.message),
        )
    })?;
    // RFC 3261 §19.1.1: URI headers are not allowed in a Request-URI (RFC 4475 escruri).
    if let Uri::Sip(sip) = &uri
        && !sip.headers.is_empty()
    {
        let q = uri_text.find('?').unwrap_or(0);
        return Err(ctx.err(
            Syntax,
            first + 1 + q,
            None,
            "URI headers ('?...') are not allowed in a Request-URI",
        ));
    }
    Ok(Start::Request { method, uri })
}

/// Splits the start line and the header lines. On the first error it keeps splitting (skipping
/// bad lines) so that the error carries every readable header as [`Salvage`] for a request:
/// a UAS needs Via, From, To, Call-ID and CSeq to answer even a 400 or a 505.
///
/// Headers are kept as spans of one copy of the header block; a folded value is unfolded once
/// and appended to that copy.
fn parse_head(head: &str, ctx: &Ctx<'_>) -> Result<Parsed, ParseError> {
    use ParseErrorKind::Syntax;
    let mut lines = LineIter { text: head, pos: 0 };
    let (_, start_line) = lines.next().unwrap_or((0, ""));
    let (start, mut first_err) = match parse_start(start_line, ctx) {
        Ok(s) => (Some(s), None),
        Err(e) => (None, Some(e)),
    };
    let mut raw = Raw {
        text: String::with_capacity(head.len()),
        spans: Vec::with_capacity(24),
    };
    raw.text.push_str(head);
    let mut content_length: Option<(usize, u32)> = None;
    let mut pending: Option<Pending> = None;
    for (line_no, (offset, line)) in (2u32..).zip(lines) {
        if matches!(line.as_bytes().first(), Some(b' ' | b'\t')) {
            match pending.as_mut() {
                Some(p) => {
                    let t = trim_lws(line);
                    if let Some(i) = bad_control_char(t) {
                        let at = offset + lws_len(line);
                        let name = span_name(&p.span, head);
                        first_err.get_or_insert_with(|| {
                            ctx.err(
                                Syntax,
                                at + i,
                                Some(name),
                                "control character in the header value",
                            )
                        });
                    } else if !t.is_empty() {
                        let (a, b) = p.span.value;
                        let v = p.folded.get_or_insert_with(|| head[a..b].to_owned());
                        if !v.is_empty() {
                            v.push(' ');
                        }
                        v.push_str(t);
                    }
                }
                None => {
                    first_err.get_or_insert_with(|| {
                        ctx.err(Syntax, offset, None, "continuation line before any header")
                    });
                }
            }
            continue;
        }
        if let Some(p) = pending.take()
            && let Err(e) = finish_header(p, &mut raw, &mut content_length, ctx)
        {
            first_err.get_or_insert(e);
        }
        match split_header_line(line, offset, line_no, ctx) {
            Ok(span) => pending = Some(Pending { span, folded: None }),
            Err(e) => {
                first_err.get_or_insert(e);
            }
        }
    }
    if let Some(p) = pending.take()
        && let Err(e) = finish_header(p, &mut raw, &mut content_length, ctx)
    {
        first_err.get_or_insert(e);
    }
    let headers = Headers::parsed(raw);
    match (start, first_err) {
        (Some(start), None) => Ok(Parsed {
            start,
            headers,
            content_length,
        }),
        (start, Some(mut e)) => {
            let status_line = start_line
                .as_bytes()
                .get(..4)
                .is_some_and(|p| p.eq_ignore_ascii_case(b"SIP/"));
            let method = match start {
                Some(Start::Request { method, .. }) => Some(method),
                Some(Start::Response { .. }) => None,
                None if status_line => None,
                None => start_line.split(' ').next().and_then(Method::parse),
            };
            if !status_line {
                e.salvage = Some(Box::new(Salvage { method, headers }));
            }
            Err(e)
        }
        (None, None) => unreachable!("a start-line failure is recorded"),
    }
}

/// How many spaces and tabs `s` starts with.
fn lws_len(s: &str) -> usize {
    s.bytes().take_while(|&b| b == b' ' || b == b'\t').count()
}

/// `s` without trailing spaces and tabs.
fn trim_lws_end(s: &str) -> &str {
    let n = s
        .bytes()
        .rev()
        .take_while(|&b| b == b' ' || b == b'\t')
        .count();
    &s[..s.len() - n]
}

/// `s` without leading or trailing spaces and tabs.
fn trim_lws(s: &str) -> &str {
    trim_lws_end(&s[lws_len(s)..])
}

/// A header line being read: continuation lines may still follow.
struct Pending {
    span: Span,
    /// The unfolded value, once a continuation line was added.
    folded: Option<String>,
}

/// The name of a header for error messages: canonical when known, else as written.
fn span_name<'a>(span: &Span, text: &'a str) -> &'a str {
    match span.known {
        Some(k) => k.as_str(),
        None => text.get(span.name.0..span.name.1).unwrap_or(""),
    }
}

/// Splits one header line (`Name: value`, not a continuation) into a [`Span`] of the header
/// block (`offset` is where the line starts).
fn split_header_line(
    line: &str,
    offset: usize,
    line_no: u32,
    ctx: &Ctx<'_>,
) -> Result<Span, ParseError> {
    use ParseErrorKind::Syntax;
    // Names are short: a byte loop beats a vectorised search here.
    let colon = line.bytes().position(|b| b == b':').ok_or_else(|| {
        ctx.err(
            Syntax,
            offset,
            None,
            "expected 'Name: value' (no ':' in the header line)",
        )
    })?;
    let name = trim_lws_end(&line[..colon]);
    if name.is_empty() || !name.bytes().all(crate::uri::is_token_char) {
        let bad = name
            .bytes()
            .position(|b| !crate::uri::is_token_char(b))
            .unwrap_or(0);
        return Err(ctx.err(
            Syntax,
            offset + bad,
            None,
            "expected a header name (token characters) before ':'",
        ));
    }
    let raw = &line[colon + 1..];
    let lead = lws_len(raw);
    let value = trim_lws_end(&raw[lead..]);
    let vstart = offset + colon + 1 + lead;
    if let Some(i) = bad_control_char(value) {
        return Err(ctx.err(
            Syntax,
            vstart + i,
            Some(name),
            "control character in the header value",
        ));
    }
    Ok(Span {
        known: Known::lookup(name),
        name: (offset, offset + name.len()),
        value: (vstart, vstart + value.len()),
        line: line_no,
    })
}

/// The first control character of a header value that is not allowed there: TEXT-UTF8 admits
/// only HTAB, but a quoted-pair inside a quoted string may escape any byte except CR and LF
/// (RFC 3261 §25.1: `"BEL:\<0x07>"` in RFC 4475 intmeth is legal).
fn bad_control_char(value: &str) -> Option<usize> {
    let b = value.as_bytes();
    // Branch-free fast path (vectorises): most values hold no control character at all.
    let any = b.iter().fold(false, |acc, &c| {
        acc | ((c < 0x20) & (c != b'\t')) | (c == 0x7f)
    });
    if !any {
        return None;
    }
    let mut in_quotes = false;
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'"' => in_quotes = !in_quotes,
            b'\\' if in_quotes && i + 1 < b.len() => {
                if matches!(b[i + 1], b'\r' | b'\n') {
                    return Some(i + 1);
                }
                i += 1;
            }
            c if c.is_ascii_control() && c != b'\t' => return Some(i),
            _ => {}
        }
        i += 1;
    }
    None
}

fn finish_header(
    p: Pending,
    raw: &mut Raw,
    cl: &mut Option<(usize, u32)>,
    ctx: &Ctx<'_>,
) -> Result<(), ParseError> {
    let mut span = p.span;
    if let Some(v) = p.folded {
        let start = raw.text.len();
        raw.text.push_str(&v);
        span.value = (start, raw.text.len());
    }
    raw.spans.push(span);
    if span.known != Some(Known::ContentLength) {
        return Ok(());
    }
    let v = raw.text.get(span.value.0..span.value.1).unwrap_or("");
    let err = |kind, message| header_err(ctx, "Content-Length", span.line, kind, 0, message);
    if v.is_empty() || v.len() > 9 || !v.bytes().all(|b| b.is_ascii_digit()) {
        return Err(err(
            ParseErrorKind::Syntax,
            "expected Content-Length digits",
        ));
    }
    let n: usize = v.parse().unwrap_or(usize::MAX);
    match cl {
        Some((prev, _)) if *prev != n => Err(err(
            ParseErrorKind::MissingOrRepeatedHeader,
            "more than one Content-Length with different values",
        )),
        _ => {
            *cl = Some((n, span.line));
            Ok(())
        }
    }
}

/// An error about the header `name` on `line`, at byte `at` of its value.
pub(super) fn header_err(
    ctx: &Ctx<'_>,
    name: &str,
    line_no: u32,
    kind: ParseErrorKind,
    at: usize,
    message: impl Into<String>,
) -> ParseError {
    // Position: the header's line; the column points into the value (approximate when folded).
    let line_start = line_offset(ctx.lines.text, line_no);
    let line = &ctx.lines.text[line_start..];
    let line = &line[..line.find('\n').unwrap_or(line.len())];
    let value_col = line.find(':').map_or(0, |c| {
        c + 1 + (line[c + 1..].len() - line[c + 1..].trim_start_matches([' ', '\t']).len())
    });
    let offset = line_start + (value_col + at).min(line.len());
    let mut e = ctx.err(kind, offset, Some(name), message);
    e.line = line_no;
    e
}

fn line_offset(text: &str, line: u32) -> usize {
    if line <= 1 {
        return 0;
    }
    memchr::memchr_iter(b'\n', text.as_bytes())
        .nth(line as usize - 2)
        .map_or(text.len(), |p| p + 1)
}

struct LineIter<'a> {
    text: &'a str,
    pos: usize,
}

impl<'a> Iterator for LineIter<'a> {
    type Item = (usize, &'a str);
    fn next(&mut self) -> Option<Self::Item> {
        if self.pos >= self.text.len() {
            return None;
        }
        let start = self.pos;
        let rest = &self.text.as_bytes()[start..];
        let (end, next) = match memchr::memchr(b'\n', rest) {
            Some(i) => (start + i, start + i + 1),
            None => (self.text.len(), self.text.len()),
        };
        self.pos = next;
        let line = &self.text[start..end];
        Some((start, line.strip_suffix('\r').unwrap_or(line)))
    }
}
