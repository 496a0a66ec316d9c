//! Property tests for `sip_proto::codec`: framing does not depend on how the stream is chunked.

use bytes::{Bytes, BytesMut};
use proptest::prelude::*;
use sip_proto::codec::{Frame, FrameError, Limits, StreamDecoder};

/// One item of a generated stream, and the frame it must decode to (if any).
#[derive(Debug, Clone)]
enum Item {
    Message(Vec<u8>),
    Ping,
    Pong,
}

fn message() -> impl Strategy<Value = Vec<u8>> {
    (
        prop::sample::select(vec![
            "INVITE sip:911@gw1.anywhere.e911cloud.com SIP/2.0",
            "SIP/2.0 200 OK",
            "OPTIONS sip:gw2 SIP/2.0",
        ]),
        prop::collection::vec(("[A-Za-z-]{1,12}", "[ -~]{0,30}"), 0..6),
        prop::sample::select(vec!["Content-Length: ", "content-length:", "l: ", "L :\t"]),
        prop::collection::vec(any::<u8>(), 0..300),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(|(start, headers, cl, body, lf_only, cl_first)| {
            let eol = if lf_only { "\n" } else { "\r\n" };
            let mut head = format!("{start}{eol}");
            let cl_line = format!("{cl}{}{eol}", body.len());
            if cl_first {
                head.push_str(&cl_line);
            }
            for (name, value) in headers {
                // Never let a generated header look like Content-Length.
                let name = format!("X-{name}");
                head.push_str(&format!("{name}: {}{eol}", value.trim()));
            }
            if !cl_first {
                head.push_str(&cl_line);
            }
            head.push_str(eol);
            let mut m = head.into_bytes();
            m.extend_from_slice(&body);
            m
        })
}

fn item() -> impl Strategy<Value = Item> {
    prop_oneof![
        6 => message().prop_map(Item::Message),
        1 => Just(Item::Ping),
        1 => Just(Item::Pong),
    ]
}

/// The stream, and the frames it must decode to.
///
/// Between messages the wire holds only CRLF pairs, and the decoder reads each run of them
/// greedily: every two pairs are a ping, an odd one left over is a pong. So a pong followed by
/// a ping is, on the wire, a ping followed by a pong.
fn stream(items: &[Item]) -> (Vec<u8>, Vec<Frame>) {
    let mut bytes = Vec::new();
    let mut frames = Vec::new();
    let mut crlfs = 0;
    let flush = |crlfs: &mut usize, frames: &mut Vec<Frame>| {
        frames.extend(std::iter::repeat_n(Frame::KeepAlive, *crlfs / 2));
        *crlfs = 0;
    };
    for it in items {
        match it {
            Item::Message(m) => {
                flush(&mut crlfs, &mut frames);
                bytes.extend_from_slice(m);
                frames.push(Frame::Message(Bytes::copy_from_slice(m)));
            }
            Item::Ping => {
                bytes.extend_from_slice(b"\r\n\r\n");
                crlfs += 2;
            }
            Item::Pong => {
                bytes.extend_from_slice(b"\r\n");
                crlfs += 1;
            }
        }
    }
    flush(&mut crlfs, &mut frames);
    (bytes, frames)
}

fn decode_chunked(bytes: &[u8], cuts: &[usize]) -> Result<Vec<Frame>, FrameError> {
    let mut d = StreamDecoder::new(Limits::default());
    let mut buf = BytesMut::new();
    let mut out = Vec::new();
    let mut at = 0;
    let mut cuts: Vec<usize> = cuts.iter().map(|c| c % (bytes.len() + 1)).collect();
    cuts.sort_unstable();
    cuts.push(bytes.len());
    for cut in cuts {
        buf.extend_from_slice(&bytes[at..cut.max(at)]);
        at = cut.max(at);
        while let Some(f) = d.decode(&mut buf)? {
            out.push(f);
        }
    }
    assert!(d.is_idle(&buf), "bytes left over: {:?}", &buf[..]);
    Ok(out)
}

proptest! {
    #[test]
    fn any_chunking_yields_the_same_frames(
        items in prop::collection::vec(item(), 1..8),
        cuts in prop::collection::vec(any::<usize>(), 0..40),
    ) {
        let (bytes, expected) = stream(&items);
        let whole = decode_chunked(&bytes, &[]).expect("whole stream decodes");
        prop_assert_eq!(&whole, &expected);
        let chunked = decode_chunked(&bytes, &cuts).expect("chunked stream decodes");
        prop_assert_eq!(chunked, expected);
    }

    #[test]
    fn byte_at_a_time_matches_whole(items in prop::collection::vec(item(), 1..5)) {
        let (bytes, expected) = stream(&items);
        let cuts: Vec<usize> = (0..bytes.len()).collect();
        prop_assert_eq!(decode_chunked(&bytes, &cuts).expect("decodes"), expected);
    }

    #[test]
    fn arbitrary_bytes_never_panic_and_never_overrun(
        data in prop::collection::vec(any::<u8>(), 0..2000),
        cuts in prop::collection::vec(any::<usize>(), 0..10),
    ) {
        let limits = Limits { max_header_bytes: 512, max_body_bytes: 512 };
        let mut d = StreamDecoder::new(limits);
        let mut buf = BytesMut::new();
        let mut at = 0;
        let mut cuts: Vec<usize> = cuts.iter().map(|c| c % (data.len() + 1)).collect();
        cuts.sort_unstable();
        cuts.push(data.len());
        'outer: for cut in cuts {
            buf.extend_from_slice(&data[at..cut.max(at)]);
            at = cut.max(at);
            loop {
                match d.decode(&mut buf) {
                    Ok(Some(Frame::Message(m))) => prop_assert!(m.len() <= limits.max_message_bytes()),
                    Ok(Some(Frame::KeepAlive)) => {}
                    Ok(None) => break,
                    Err(_) => break 'outer,
                }
            }
        }
    }
}
