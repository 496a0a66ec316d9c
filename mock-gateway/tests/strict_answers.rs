//! The gateway answers the RFC 4475 and RFC 5118 torture messages as the RFCs say, over real
//! TCP on loopback: each message on a fresh connection, then an OPTIONS on another one to prove
//! the gateway is still up. A request is never met with silence when its Via can be read.

mod support;

use std::path::PathBuf;

use mock_gateway::Limits;
use sip::codec::Frame;
use sip::transport::TransportKind;
use sip::{HeaderName, Message, Method, Response};
use support::{Uac, policy, start};

/// How long a case may go unanswered before it counts as silence.
const SILENCE: std::time::Duration = std::time::Duration::from_secs(3);
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::timeout;

/// What the gateway must do with one file.
#[derive(Debug, Clone, Copy)]
enum Expect {
    /// A final answer with one of these statuses.
    Status(&'static [u16]),
    /// Some final answer, but not 400 (valid syntax).
    NotBad,
    /// A response: dropped (no answer), the connection still answers what follows.
    Dropped,
    /// TCP framing where the bytes are still incomplete (clerr): nothing to answer yet.
    Incomplete,
}

fn corpora() -> PathBuf {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    ["sip-proto/tests/corpora"]
        .iter()
        .map(|d| root.join(d))
        .find(|d| d.join("rfc4475").is_dir())
        .expect("the torture corpora next to the sip crate")
}

#[rustfmt::skip]
fn cases() -> Vec<(&'static str, Expect)> {
    use Expect::*;
    vec![
        ("rfc4475/wsinv.dat", NotBad), ("rfc4475/intmeth.dat", NotBad),
        ("rfc4475/esc01.dat", NotBad), ("rfc4475/escnull.dat", NotBad),
        ("rfc4475/esc02.dat", NotBad), ("rfc4475/lwsdisp.dat", NotBad),
        ("rfc4475/longreq.dat", NotBad), ("rfc4475/dblreq.dat", NotBad),
        ("rfc4475/semiuri.dat", NotBad), ("rfc4475/transports.dat", NotBad),
        ("rfc4475/mpart01.dat", NotBad), ("rfc4475/unreason.dat", Dropped),
        ("rfc4475/noreason.dat", Dropped),
        ("rfc4475/badinv01.dat", Status(&[400])), ("rfc4475/clerr.dat", Incomplete),
        ("rfc4475/ncl.dat", Status(&[400])), ("rfc4475/scalar02.dat", Status(&[400])),
        ("rfc4475/scalarlg.dat", Dropped), ("rfc4475/quotbal.dat", Status(&[400])),
        ("rfc4475/ltgtruri.dat", Status(&[400])), ("rfc4475/lwsruri.dat", Status(&[400])),
        ("rfc4475/lwsstart.dat", Status(&[400])), ("rfc4475/trws.dat", Status(&[400, 403, 404, 405])),
        ("rfc4475/escruri.dat", Status(&[400])), ("rfc4475/baddate.dat", Status(&[400, 403, 404])),
        ("rfc4475/regbadct.dat", Status(&[400])), ("rfc4475/badaspec.dat", Status(&[400, 403, 404, 405])),
        ("rfc4475/baddn.dat", Status(&[400])), ("rfc4475/badvers.dat", Status(&[505])),
        ("rfc4475/mismatch01.dat", Status(&[400])), ("rfc4475/mismatch02.dat", Status(&[400, 501])),
        ("rfc4475/bigcode.dat", Dropped),
        ("rfc4475/badbranch.dat", NotBad),
        ("rfc4475/insuf.dat", Status(&[400])), ("rfc4475/unkscm.dat", Status(&[416])),
        ("rfc4475/novelsc.dat", Status(&[416])), ("rfc4475/unksm2.dat", NotBad),
        ("rfc4475/bext01.dat", Status(&[420])), ("rfc4475/invut.dat", Status(&[415])),
        ("rfc4475/regaut01.dat", NotBad), ("rfc4475/multi01.dat", Status(&[400])),
        ("rfc4475/mcl01.dat", Status(&[400])), ("rfc4475/bcast.dat", Dropped),
        ("rfc4475/zeromf.dat", NotBad), ("rfc4475/cparam01.dat", NotBad),
        ("rfc4475/cparam02.dat", NotBad), ("rfc4475/regescrt.dat", NotBad),
        ("rfc4475/sdp01.dat", Status(&[406])), // Written for UDP: on a stream transport its missing Content-Length is a 400 (RFC 3261 §18.3).
        ("rfc4475/inv2543.dat", Status(&[400])),
        ("rfc5118/ipv6-good", NotBad), ("rfc5118/ipv6-bad", Status(&[400])),
        ("rfc5118/port-ambiguous", NotBad), ("rfc5118/port-unambiguous", NotBad),
        ("rfc5118/via-received-param-with-delim", NotBad),
        ("rfc5118/via-received-param-no-delim", NotBad),
        ("rfc5118/ipv6-in-sdp", NotBad), ("rfc5118/mult-ip-in-header", NotBad),
        ("rfc5118/mult-ip-in-sdp", NotBad), ("rfc5118/ipv4-mapped-ipv6", NotBad),
        ("rfc5118/ipv6-correct-abnf-2-colons", NotBad),
        ("rfc5118/ipv6-bug-abnf-3-colons", Status(&[400, 404, 405])),
    ]
}

/// The first final response (provisional ones skipped), or `None` on a close or when nothing
/// comes within `bound` (only a failing case waits that long).
async fn final_response(uac: &mut Uac<TcpStream>, bound: std::time::Duration) -> Option<Response> {
    timeout(bound, async {
        loop {
            match uac.decoder.decode(&mut uac.buf) {
                Ok(Some(Frame::Message(m))) => match Message::parse_bytes(m) {
                    Ok(Message::Response(r)) if r.status >= 200 => return Some(r),
                    _ => continue,
                },
                Ok(Some(_)) => continue,
                Ok(None) => {}
                Err(_) => return None,
            }
            match uac.io.read_buf(&mut uac.buf).await {
                Ok(0) | Err(_) => return None,
                Ok(_) => {}
            }
        }
    })
    .await
    .ok()
    .flatten()
}

#[tokio::test]
async fn every_torture_message_is_answered_as_its_rfc_says_and_the_gateway_stays_up() {
    let (gw, _) = start(TransportKind::Tcp, policy(), Limits::default()).await;
    let root = corpora();
    let mut failures = Vec::new();
    for (name, expect) in cases() {
        let bytes = std::fs::read(root.join(name)).unwrap();
        let tcp = TcpStream::connect(gw.local_addr()).await.unwrap();
        let mut uac = Uac::new(tcp);
        uac.send_raw(&bytes).await;
        let got = match expect {
            Expect::Status(_) | Expect::NotBad => final_response(&mut uac, SILENCE).await,
            Expect::Dropped => {
                // The OPTIONS that follows on the same connection is the next thing answered.
                let options =
                    uac.request(Method::Options, "sip:gw1.anywhere.e911cloud.com", 1, None);
                uac.send(&options).await;
                final_response(&mut uac, SILENCE).await
            }
            // Waiting for the rest of the message: nothing is answered meanwhile.
            Expect::Incomplete => {
                final_response(&mut uac, std::time::Duration::from_millis(300)).await
            }
        };
        let warning = got
            .as_ref()
            .and_then(|r| r.headers.get(&HeaderName::Warning).map(str::to_owned))
            .unwrap_or_default();
        let got = got.map(|r| r.status);
        let ok = match expect {
            Expect::Status(s) => got.is_some_and(|g| s.contains(&g)),
            Expect::NotBad => got.is_some_and(|g| g >= 200 && g != 400),
            Expect::Dropped => got == Some(200),
            Expect::Incomplete => got.is_none(),
        };
        println!("{name:<44} {expect:?} -> {got:?} {warning}");
        if !ok {
            failures.push(format!("{name}: expected {expect:?}, got {got:?}"));
        }
        let _ = uac.io.shutdown().await;
        // Still up: a fresh connection gets 200 to OPTIONS.
        let mut probe = Uac::new(TcpStream::connect(gw.local_addr()).await.unwrap());
        let options = probe.request(Method::Options, "sip:gw1.anywhere.e911cloud.com", 1, None);
        probe.send(&options).await;
        probe.expect(&[200]).await;
        let mut rest = Vec::new();
        let _ = timeout(
            std::time::Duration::from_millis(1),
            probe.io.read_to_end(&mut rest),
        )
        .await;
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    gw.shutdown().await;
}

#[tokio::test]
async fn malformed_sdp_and_negative_numbers_are_refused_with_a_warning_never_200() {
    let (gw, _) = start(TransportKind::Tcp, policy(), Limits::default()).await;
    #[rustfmt::skip]
    let sdp_cases: [(&str, &str, u16, &str); 6] = [
        ("m=audio 40000 RTP/SAVP 0 101", "m=audio 40000 RTP/SAVP 0\0 101", 488, "control byte"),
        ("m=audio 40000", "m=audio -40000", 488, "m= port"),
        ("RTP/SAVP 0 101", "RTP/SAVP -8 101", 488, "payload type"),
        ("o=- 1 1", "o=- -1 -1", 488, "o="),
        ("t=0 0", "t=-5 0", 488, "t="),
        ("s=-", "s=\u{7}\u{1b}[2J", 488, "control byte"),
    ];
    for (from, to, status, says) in sdp_cases {
        let mut uac = Uac::new(TcpStream::connect(gw.local_addr()).await.unwrap());
        let mut invite = uac.invite("sip:911@gw1.anywhere.e911cloud.com", Some(support::ORG));
        let body = support::SDP.replacen(from, to, 1);
        assert_ne!(body, support::SDP);
        invite.body = body.into();
        uac.send(&invite).await;
        let r = final_response(&mut uac, SILENCE).await.expect("an answer");
        let w = r.headers.get(&HeaderName::Warning).unwrap_or_default();
        assert_eq!(r.status, status, "{to:?}: {w}");
        assert!(w.contains(says), "{to:?}: {w}");
    }
    for (name, value) in [
        ("Expires", "-1"),
        ("Session-Expires", "-90"),
        ("Max-Forwards", "-1"),
    ] {
        let mut uac = Uac::new(TcpStream::connect(gw.local_addr()).await.unwrap());
        let mut invite = uac.invite("sip:911@gw1.anywhere.e911cloud.com", Some(support::ORG));
        invite.headers.set(HeaderName::parse(name), value);
        uac.send(&invite).await;
        let r = final_response(&mut uac, SILENCE).await.expect("an answer");
        let w = r.headers.get(&HeaderName::Warning).unwrap_or_default();
        assert_eq!(r.status, 400, "{name}: {value}: {w}");
        assert!(w.contains(name), "{w}");
    }
    // A request line beyond repair, and the same with broken framing: still answered 400 (for
    // the CSeq's method), since the Via can be read.
    for framing in ["Content-Length: 0", "Content-Length: -5"] {
        let mut uac = Uac::new(TcpStream::connect(gw.local_addr()).await.unwrap());
        let raw = format!(
            "INV\0ITE sip:911@gw1 SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1:5060;branch=z9hG4bKnul\r\n\
             From: <sip:a@b>;tag=1\r\nTo: <sip:911@gw1>\r\nCall-ID: nul@x\r\nCSeq: 1 INVITE\r\n\
             Max-Forwards: 70\r\n{framing}\r\n\r\n"
        );
        uac.send_raw(raw.as_bytes()).await;
        let r = final_response(&mut uac, SILENCE).await.expect("an answer");
        assert_eq!(r.status, 400, "{framing}");
    }
    // The unmutated call still goes through.
    let mut uac = Uac::new(TcpStream::connect(gw.local_addr()).await.unwrap());
    let invite = uac.invite("sip:911@gw1.anywhere.e911cloud.com", Some(support::ORG));
    uac.send(&invite).await;
    assert_eq!(
        final_response(&mut uac, SILENCE).await.map(|r| r.status),
        Some(200)
    );
    gw.shutdown().await;
}
