//! Stream framing (RFC 3261 §18.3), check-then-parse: CRLF keep-alives are skipped, a message
//! is complete when its header block has ended and `Content-Length` body bytes follow.
//! Incomplete input is `Ok(None)`; a missing or bad Content-Length, or a message over the size
//! cap, is a [`FrameError`] after which the stream cannot be resynchronised.
//!
//! This is the gateway's own copy until `sip::codec::StreamDecoder` lands; it has the same shape.

use bytes::{Buf, Bytes, BytesMut};

/// A unit read from a stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    /// A single CRLF: a keep-alive pong, or padding between messages.
    KeepAlive,
    /// A double-CRLF keep-alive ping (RFC 5626 §3.5.1), answered with one CRLF.
    Ping,
    /// One complete message, header block and body.
    Message(Bytes),
}

/// Why the stream cannot be framed any further.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FrameError {
    /// The message is larger than the cap.
    #[error("message exceeds {limit} bytes")]
    TooLarge {
        /// The cap.
        limit: usize,
        /// The header block received so far (it may allow a 400 answer).
        head: Bytes,
    },
    /// No Content-Length header (mandatory on stream transports).
    #[error("no Content-Length on a stream transport")]
    NoContentLength {
        /// The header block.
        head: Bytes,
    },
    /// A Content-Length that is not a number.
    #[error("malformed Content-Length")]
    BadContentLength {
        /// The header block.
        head: Bytes,
    },
}

impl FrameError {
    /// The header block of the offending message, to try to answer it.
    pub fn head(&self) -> &Bytes {
        match self {
            FrameError::TooLarge { head, .. }
            | FrameError::NoContentLength { head }
            | FrameError::BadContentLength { head } => head,
        }
    }
}

/// Takes the next frame from `buf`, or `Ok(None)` when more bytes are needed.
pub fn next_frame(buf: &mut BytesMut, limit: usize) -> Result<Option<Frame>, FrameError> {
    if buf.starts_with(b"\r\n") {
        if buf.starts_with(b"\r\n\r\n") {
            buf.advance(4);
            return Ok(Some(Frame::Ping));
        }
        if buf.len() < 4 && b"\r\n\r\n".starts_with(&buf[..]) {
            return Ok(None);
        }
        buf.advance(2);
        return Ok(Some(Frame::KeepAlive));
    }
    if buf.as_ref() == b"\r" {
        return Ok(None);
    }
    let Some(end) = find(buf, b"\r\n\r\n") else {
        if buf.len() > limit {
            let head = Bytes::copy_from_slice(&buf[..limit.min(buf.len())]);
            return Err(FrameError::TooLarge { limit, head });
        }
        return Ok(None);
    };
    let head_len = end + 4;
    let head = &buf[..head_len];
    let length = content_length(head).map_err(|missing| {
        let head = Bytes::copy_from_slice(head);
        if missing {
            FrameError::NoContentLength { head }
        } else {
            FrameError::BadContentLength { head }
        }
    })?;
    let total = head_len.saturating_add(length);
    if total > limit {
        return Err(FrameError::TooLarge {
            limit,
            head: Bytes::copy_from_slice(head),
        });
    }
    if buf.len() < total {
        return Ok(None);
    }
    Ok(Some(Frame::Message(buf.split_to(total).freeze())))
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// The Content-Length of a header block: `Err(true)` when absent, `Err(false)` when malformed.
fn content_length(head: &[u8]) -> Result<usize, bool> {
    let mut found = None;
    for line in head.split(|&b| b == b'\n').skip(1) {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let Some(colon) = line.iter().position(|&b| b == b':') else {
            continue;
        };
        let name = line[..colon].trim_ascii();
        if name.eq_ignore_ascii_case(b"content-length") || name.eq_ignore_ascii_case(b"l") {
            let v = std::str::from_utf8(line[colon + 1..].trim_ascii()).map_err(|_| false)?;
            if v.is_empty() || !v.bytes().all(|b| b.is_ascii_digit()) || v.len() > 9 {
                return Err(false);
            }
            let n: usize = v.parse().map_err(|_| false)?;
            if found.is_some_and(|f| f != n) {
                return Err(false);
            }
            found = Some(n);
        }
    }
    found.ok_or(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MSG: &[u8] = b"OPTIONS sip:gw SIP/2.0\r\nl: 4\r\n\r\nbody";

    #[test]
    fn keepalives_partial_and_pipelined() {
        let mut b = BytesMut::from(&b"\r\n\r"[..]);
        assert_eq!(next_frame(&mut b, 1000), Ok(None));
        b.extend_from_slice(b"\n");
        assert_eq!(next_frame(&mut b, 1000), Ok(Some(Frame::Ping)));
        assert!(b.is_empty());
        let mut b = BytesMut::from(&b"\r\nOPT"[..]);
        assert_eq!(next_frame(&mut b, 1000), Ok(Some(Frame::KeepAlive)));
        assert_eq!(&b[..], b"OPT");
        let mut b = BytesMut::from(&MSG[..10]);
        assert_eq!(next_frame(&mut b, 1000), Ok(None));
        b.extend_from_slice(&MSG[10..MSG.len() - 1]);
        assert_eq!(next_frame(&mut b, 1000), Ok(None));
        b.extend_from_slice(&MSG[MSG.len() - 1..]);
        b.extend_from_slice(MSG);
        for _ in 0..2 {
            assert_eq!(
                next_frame(&mut b, 1000),
                Ok(Some(Frame::Message(Bytes::from_static(MSG))))
            );
        }
        assert!(b.is_empty());
    }

    #[test]
    fn content_length_errors_and_size_cap() {
        let mut b = BytesMut::from(&b"OPTIONS sip:gw SIP/2.0\r\nVia: x\r\n\r\n"[..]);
        assert!(matches!(
            next_frame(&mut b, 1000),
            Err(FrameError::NoContentLength { .. })
        ));
        let mut b = BytesMut::from(&b"OPTIONS sip:gw SIP/2.0\r\nContent-Length: -1\r\n\r\n"[..]);
        assert!(matches!(
            next_frame(&mut b, 1000),
            Err(FrameError::BadContentLength { .. })
        ));
        let mut b = BytesMut::from(MSG);
        let e = next_frame(&mut b, 20).unwrap_err();
        assert!(matches!(e, FrameError::TooLarge { limit: 20, .. }));
        let mut b =
            BytesMut::from(&b"OPTIONS sip:gw SIP/2.0\r\nContent-Length: 999999\r\n\r\n"[..]);
        assert!(matches!(
            next_frame(&mut b, 1000),
            Err(FrameError::TooLarge { .. })
        ));
        let mut endless = BytesMut::from(&[b'a'; 1001][..]);
        assert!(matches!(
            next_frame(&mut endless, 1000),
            Err(FrameError::TooLarge { .. })
        ));
    }
}
