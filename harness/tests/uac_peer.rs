//! `uac::place_call` against a scripted peer: a loopback listener (port 0) that reads what the
//! trunk sends and answers a sequence written in each test, in the style of h2's
//! `tests/h2-support/src/mock.rs`. Every wait is bounded; no test sleeps for correctness.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use harness::evidence::record::call_record;
use harness::evidence::{Attempt, AttemptEnd, Epoch, Failure, TlsFailureKind};
use harness::originate::uac::{Target, UacConfig, place_call};
use reports::CallRecord;
use scenarios::{AniPlacement, CallSpec};
use sip::codec::{Frame, FrameError, Limits, StreamDecoder};
use sip::message::SipHeaders;
use sip::transport::TransportKind;
use sip::{HeaderName, Message, Method, Request, Response};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpListener;

/// Bound on every peer read: a test that waits longer has failed.
const PEER_WAIT: Duration = Duration::from_secs(5);
const GW_HOST: &str = "gw1.anywhere.e911cloud.com";

/// Takes the next frame off `buf` with a fresh `sip::codec` decoder (it rescans; fine here).
fn next_frame(buf: &mut BytesMut, limit: usize) -> Result<Option<Frame>, FrameError> {
    StreamDecoder::new(Limits {
        max_header_bytes: limit,
        max_body_bytes: limit,
    })
    .decode(buf)
}

trait Stream: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Stream for T {}

/// The peer's side of one connection.
struct Peer {
    io: Box<dyn Stream>,
    buf: BytesMut,
    /// Every request received, in order.
    seen: Vec<Request>,
}

impl Peer {
    /// The next request, or `None` when the trunk closed the connection.
    async fn recv(&mut self) -> Option<Request> {
        loop {
            match next_frame(&mut self.buf, 1 << 16).expect("trunk framing") {
                Some(Frame::Message(b)) => {
                    match Message::parse_bytes(b).expect("trunk sent an unparseable message") {
                        Message::Request(r) => {
                            self.seen.push(r.clone());
                            return Some(r);
                        }
                        Message::Response(r) => panic!("unexpected response from the trunk: {r:?}"),
                    }
                }
                Some(_) => continue,
                None => {}
            }
            let n = tokio::time::timeout(PEER_WAIT, self.io.read_buf(&mut self.buf))
                .await
                .expect("peer waited too long for the trunk")
                .expect("peer read");
            if n == 0 {
                return None;
            }
        }
    }

    /// The next request, which must have method `m`.
    async fn expect(&mut self, m: Method) -> Request {
        let r = self
            .recv()
            .await
            .unwrap_or_else(|| panic!("connection closed, expected {m}"));
        assert_eq!(r.method, m, "expected {m}, got {r:?}");
        r
    }

    async fn send(&mut self, bytes: impl AsRef<[u8]>) {
        self.io.write_all(bytes.as_ref()).await.expect("peer write");
    }

    async fn respond(&mut self, req: &Request, status: u16, edit: impl FnOnce(&mut Response)) {
        let mut r = Response::for_request(req, status, Some("gwtag"));
        edit(&mut r);
        self.send(r.to_bytes()).await;
    }
}

/// A 200 with Contact and an SDP answer that satisfies the interface.
fn ok_edit(contact: &'static str) -> impl FnOnce(&mut Response) {
    move |r: &mut Response| {
        r.headers.push(HeaderName::Contact, contact);
        r.headers.push(HeaderName::ContentType, "application/sdp");
        r.body = Bytes::from_static(
            b"v=0\r\no=gw 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n\
              m=audio 40000 RTP/SAVP 0 101\r\na=rtpmap:0 PCMU/8000\r\n\
              a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz\r\n",
        );
    }
}

fn call(timeout_ms: u64) -> CallSpec {
    CallSpec {
        dial: "911".into(),
        ani: "+13125550100".into(),
        ani_in: vec![AniPlacement::From, AniPlacement::Pai],
        from_user: None,
        org_headers: vec!["3f2504e0-4f89-41d3-9a0c-0305e82c3301".into()],
        extra_headers: Vec::new(),
        hold: Duration::from_millis(20),
        timeout: Duration::from_millis(timeout_ms),
        abandon_after: None,
        gateway: "gw1".into(),
        location: None,
        tls: scenarios::TlsProfile::genesys_byoc(),
    }
}

fn tcp_target(addr: SocketAddr) -> Target {
    Target {
        name: "gw1".into(),
        host: GW_HOST.into(),
        addr,
        transport: TransportKind::Tcp,
    }
}

fn cfg(tls: Option<Arc<rustls::ClientConfig>>) -> UacConfig {
    UacConfig {
        tls,
        tls_trust: None,
        local_host: "trunk.e911-harness.invalid".into(),
        connect_timeout: Duration::from_secs(2),
        epoch: Epoch::now(),
        recording: Default::default(),
        media: false,
    }
}

/// What the tests read of a placed call: its record as the report has it, its one attempt,
/// and the INVITE it sent.
#[derive(Debug)]
struct Out {
    record: CallRecord,
    a: Attempt,
    invite: Request,
}

async fn place(call: &CallSpec, target: &Target, cfg: &UacConfig) -> Out {
    let c = place_call(call, target, cfg).await;
    let record = call_record(&c);
    let a = c.attempts.into_iter().next().expect("one attempt");
    let invite = a.invite.clone().expect("an INVITE is always built");
    Out { record, a, invite }
}

/// Runs `script` as the peer on one accepted TCP connection while the trunk places `call`.
async fn over_tcp<F, Fut>(call: CallSpec, script: F) -> (Out, Vec<Request>)
where
    F: FnOnce(Peer) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = Peer> + Send,
{
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let peer = tokio::spawn(async move {
        let (sock, _) = listener.accept().await.unwrap();
        let p = Peer {
            io: Box::new(sock),
            buf: BytesMut::new(),
            seen: Vec::new(),
        };
        script(p).await.seen
    });
    let outcome = place(&call, &tcp_target(addr), &cfg(None)).await;
    let seen = tokio::time::timeout(PEER_WAIT, peer)
        .await
        .expect("peer finished")
        .expect("peer panicked");
    (outcome, seen)
}

#[tokio::test]
async fn answered_call_sends_ack_and_bye_in_the_dialog() {
    let (out, seen) = over_tcp(call(500), |mut p| async move {
        let inv = p.expect(Method::Invite).await;
        p.respond(&inv, 100, |_| {}).await;
        p.respond(&inv, 180, |_| {}).await;
        p.respond(&inv, 200, |r| {
            r.headers
                .push(HeaderName::RecordRoute, "<sip:sbc.example.invalid;lr>");
            ok_edit("<sip:gw@127.0.0.1:5061;transport=tcp>")(r)
        })
        .await;
        let _ack = p.expect(Method::Ack).await;
        let bye = p.expect(Method::Bye).await;
        p.respond(&bye, 200, |_| {}).await;
        assert!(
            p.recv().await.is_none(),
            "trunk closes after the BYE transaction"
        );
        p
    })
    .await;
    let r = &out.record;
    assert_eq!(r.error, None, "{r:?}");
    assert_eq!(r.final_status, Some(200));
    assert_eq!(r.final_reason.as_deref(), Some("OK"));
    assert_eq!(r.answered_by.as_deref(), Some("gw1"));
    assert_eq!(out.a.provisionals, [100, 180]);
    assert_eq!(out.a.end, AttemptEnd::Answered { status: 200 });
    let a = &r.attempts[0];
    assert_eq!((a.gateway.as_str(), a.transport.as_str()), ("gw1", "tcp"));
    assert_eq!(
        a.target,
        format!(
            "{GW_HOST}:{}",
            out.invite.uri.as_sip().unwrap().port.unwrap()
        )
    );
    assert_eq!(a.error, None);
    let (t100, t18x, tfinal) = (
        a.invite_to_100_us.unwrap(),
        a.invite_to_18x_us.unwrap(),
        a.invite_to_final_us.unwrap(),
    );
    assert!(t100 <= t18x && t18x <= tfinal, "{a:?}");
    assert_eq!(r.setup_us, Some(tfinal));
    assert!(out.a.timings.tcp_connect_us.is_some() && out.a.timings.tls_handshake_us.is_none());
    assert_eq!(r.call_id, out.invite.call_id().unwrap());

    let (inv, ack, bye) = (&seen[0], &seen[1], &seen[2]);
    assert_eq!(
        inv.to_bytes(),
        out.invite.to_bytes(),
        "the INVITE in the outcome is the one sent"
    );
    // ACK for a 2xx: a new transaction to the Contact, through the route set (§13.2.2.4).
    assert_eq!(ack.uri.to_string(), "sip:gw@127.0.0.1:5061;transport=tcp");
    assert_ne!(
        ack.top_via().unwrap().branch(),
        inv.top_via().unwrap().branch()
    );
    assert_eq!(ack.cseq().unwrap().seq, 1);
    assert_eq!(ack.cseq().unwrap().method, Method::Ack);
    assert_eq!(
        ack.headers.get(&HeaderName::Route),
        Some("<sip:sbc.example.invalid;lr>")
    );
    assert_eq!(ack.header_to().unwrap().tag(), Some("gwtag"));
    assert_eq!(ack.header_from(), inv.header_from());
    assert_eq!(ack.call_id(), inv.call_id());
    // BYE: next CSeq, new branch, same dialog identifiers.
    assert_eq!(bye.uri, ack.uri);
    assert_eq!(bye.cseq().unwrap().seq, 2);
    assert_eq!(bye.cseq().unwrap().method, Method::Bye);
    assert_ne!(
        bye.top_via().unwrap().branch(),
        ack.top_via().unwrap().branch()
    );
    assert_eq!(bye.header_to().unwrap().tag(), Some("gwtag"));
    assert_eq!(
        bye.headers.get(&HeaderName::Route),
        Some("<sip:sbc.example.invalid;lr>")
    );
    assert_eq!(bye.call_id(), inv.call_id());
}

#[tokio::test]
async fn rejection_records_status_and_warning_and_acks_in_the_transaction() {
    let warning = "399 gw1.anywhere.e911cloud.com \"E911-Organization-ID missing\"";
    let (out, seen) = over_tcp(call(500), move |mut p| async move {
        let inv = p.expect(Method::Invite).await;
        p.respond(&inv, 403, |r| r.headers.push(HeaderName::Warning, warning))
            .await;
        let _ack = p.expect(Method::Ack).await;
        assert!(p.recv().await.is_none());
        p
    })
    .await;
    let r = &out.record;
    assert_eq!(
        (r.final_status, r.final_reason.as_deref()),
        (Some(403), Some("Forbidden"))
    );
    assert_eq!(r.error, None);
    assert_eq!(r.answered_by, None);
    assert_eq!(r.setup_us, None);
    let a = &r.attempts[0];
    assert_eq!(a.status, Some(403));
    assert_eq!(a.warning.as_deref(), Some(warning));
    assert!(a.invite_to_final_us.is_some());
    assert_eq!(out.a.final_response.as_ref().unwrap().status, 403);
    let (inv, ack) = (&seen[0], &seen[1]);
    // ACK for a non-2xx: same branch and Request-URI as the INVITE, To from the response (§17.1.1.3).
    assert_eq!(ack.uri, inv.uri);
    assert_eq!(ack.top_via(), inv.top_via());
    assert_eq!(ack.cseq().unwrap().seq, 1);
    assert_eq!(ack.header_to().unwrap().tag(), Some("gwtag"));
    assert_eq!(seen.len(), 2, "no BYE after a rejection");
}

#[tokio::test]
async fn late_180_after_200_is_accepted() {
    let (out, seen) = over_tcp(call(500), |mut p| async move {
        let inv = p.expect(Method::Invite).await;
        p.respond(&inv, 200, ok_edit("<sip:gw@127.0.0.1:5061;transport=tcp>"))
            .await;
        p.respond(&inv, 180, |_| {}).await;
        let _ack = p.expect(Method::Ack).await;
        let bye = p.expect(Method::Bye).await;
        p.respond(&bye, 200, |_| {}).await;
        p
    })
    .await;
    assert_eq!(out.record.final_status, Some(200));
    assert_eq!(out.record.error, None);
    assert_eq!(out.record.attempts[0].error, None);
    assert_eq!(out.a.provisionals, [180]);
    assert_eq!(
        seen.iter().map(|r| r.method.clone()).collect::<Vec<_>>(),
        [Method::Invite, Method::Ack, Method::Bye]
    );
}

#[tokio::test]
async fn silence_times_out_and_cancels() {
    let (out, seen) = over_tcp(call(200), |mut p| async move {
        let inv = p.expect(Method::Invite).await;
        p.respond(&inv, 100, |_| {}).await;
        let cancel = p.expect(Method::Cancel).await;
        p.respond(&cancel, 200, |_| {}).await;
        p.respond(&inv, 487, |_| {}).await;
        let _ack = p.expect(Method::Ack).await;
        p
    })
    .await;
    let r = &out.record;
    assert_eq!(r.error.as_deref(), Some("no final response within 200ms"));
    assert_eq!(r.final_status, None);
    assert_eq!(
        r.attempts[0].status,
        Some(487),
        "the 487 is on the wire record"
    );
    assert_eq!(out.a.provisionals, [100]);
    let (inv, cancel, ack) = (&seen[0], &seen[1], &seen[2]);
    assert_eq!(cancel.uri, inv.uri);
    assert_eq!(cancel.top_via(), inv.top_via());
    assert_eq!(cancel.cseq().unwrap().seq, 1);
    assert_eq!(cancel.cseq().unwrap().method, Method::Cancel);
    assert_eq!(cancel.header_to(), inv.header_to());
    assert_eq!(ack.top_via(), inv.top_via());
}

#[tokio::test]
async fn garbage_frame_is_recorded_and_the_call_goes_on() {
    let (out, _) = over_tcp(call(500), |mut p| async move {
        let inv = p.expect(Method::Invite).await;
        p.send("SIP/2.0 abc Broken\r\nContent-Length: 0\r\n\r\n")
            .await;
        p.respond(&inv, 404, |_| {}).await;
        let _ack = p.expect(Method::Ack).await;
        p
    })
    .await;
    let a = &out.record.attempts[0];
    assert_eq!(a.status, Some(404));
    let err = a.error.as_deref().expect("garbage recorded");
    assert!(
        err.starts_with("unparseable message from gateway: "),
        "{err}"
    );
    assert_eq!(out.record.error, None);
}

#[tokio::test]
async fn gateway_bye_during_hold_is_answered_and_ends_the_call() {
    let mut c = call(500);
    c.hold = Duration::from_secs(30);
    let (out, seen) = over_tcp(c, |mut p| async move {
        let inv = p.expect(Method::Invite).await;
        p.respond(&inv, 200, ok_edit("<sip:gw@127.0.0.1:5061;transport=tcp>"))
            .await;
        let ack = p.expect(Method::Ack).await;
        let mut bye = Request::new(
            Method::Bye,
            inv.headers
                .get(&HeaderName::Contact)
                .map(|c| sip::message::NameAddr::parse(c).unwrap().uri)
                .unwrap(),
        );
        bye.headers.push(
            HeaderName::Via,
            "SIP/2.0/TCP 127.0.0.1:5061;branch=z9hG4bKgwbye",
        );
        bye.headers
            .push(HeaderName::From, ack.headers.get(&HeaderName::To).unwrap());
        bye.headers
            .push(HeaderName::To, ack.headers.get(&HeaderName::From).unwrap());
        bye.headers.push(HeaderName::CallId, inv.call_id().unwrap());
        bye.headers.push(HeaderName::CSeq, "1 BYE");
        p.send(bye.to_bytes()).await;
        // The trunk's 200 arrives as a response; read it raw.
        let mut raw = BytesMut::new();
        loop {
            if let Some(Frame::Message(b)) = next_frame(&mut raw, 1 << 16).unwrap() {
                let Message::Response(r) = Message::parse_bytes(b).unwrap() else {
                    panic!("expected a response")
                };
                assert_eq!((r.status, r.cseq().unwrap().method), (200, Method::Bye));
                break;
            }
            assert!(
                tokio::time::timeout(PEER_WAIT, p.io.read_buf(&mut raw))
                    .await
                    .unwrap()
                    .unwrap()
                    > 0
            );
        }
        assert!(
            p.recv().await.is_none(),
            "no BYE from the trunk after the gateway hung up"
        );
        p
    })
    .await;
    assert!(out.a.hung_up_by_peer);
    assert_eq!(out.record.final_status, Some(200));
    assert_eq!(out.record.attempts[0].error, None);
    assert_eq!(seen.len(), 2);
    assert!(out.record.duration_ms < 30_000);
}

#[tokio::test]
async fn connection_refused_is_recorded() {
    // Bind then drop: the port is free and nothing listens on it.
    let addr = TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap()
        .local_addr()
        .unwrap();
    let out = place(&call(200), &tcp_target(addr), &cfg(None)).await;
    let err = out.record.error.as_deref().expect("error recorded");
    assert_eq!(out.record.attempts[0].error.as_deref(), Some(err));
    assert!(err.to_ascii_lowercase().contains("refused"), "{err}");
    assert_eq!(out.a.end, AttemptEnd::NoAnswer(Failure::Refused));
    assert_eq!(out.record.final_status, None);
    assert!(!out.record.call_id.is_empty());
}

/// A self-signed server certificate for `GW_HOST` and the TLS acceptor that presents it.
fn tls_server() -> (
    tokio_rustls::TlsAcceptor,
    rustls::pki_types::CertificateDer<'static>,
) {
    let ck = rcgen::generate_simple_self_signed(vec![GW_HOST.to_owned()]).unwrap();
    let der = ck.cert.der().clone();
    let key = rustls::pki_types::PrivateKeyDer::try_from(ck.signing_key.serialize_der()).unwrap();
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::aws_lc_rs::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(vec![der.clone()], key)
    .unwrap();
    (tokio_rustls::TlsAcceptor::from(Arc::new(config)), der)
}

/// A client configuration trusting only `root`.
fn client_trusting(
    root: Option<rustls::pki_types::CertificateDer<'static>>,
) -> Arc<rustls::ClientConfig> {
    let mut roots = rustls::RootCertStore::empty();
    if let Some(root) = root {
        roots.add(root).unwrap();
    }
    Arc::new(
        rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::aws_lc_rs::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth(),
    )
}

async fn tls_listener() -> (
    TcpListener,
    Target,
    tokio_rustls::TlsAcceptor,
    rustls::pki_types::CertificateDer<'static>,
) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let mut target = tcp_target(listener.local_addr().unwrap());
    target.transport = TransportKind::Tls;
    let (acceptor, der) = tls_server();
    (listener, target, acceptor, der)
}

#[tokio::test]
async fn tls_call_records_sni_handshake_and_parameters() {
    let (listener, target, acceptor, der) = tls_listener().await;
    let peer = tokio::spawn(async move {
        let (sock, _) = listener.accept().await.unwrap();
        let tls = acceptor.accept(sock).await.unwrap();
        let sni = tls.get_ref().1.server_name().map(str::to_owned);
        let mut p = Peer {
            io: Box::new(tls),
            buf: BytesMut::new(),
            seen: Vec::new(),
        };
        let inv = p.expect(Method::Invite).await;
        p.respond(&inv, 503, |_| {}).await;
        p.expect(Method::Ack).await;
        sni
    });
    let out = place(&call(500), &target, &cfg(Some(client_trusting(Some(der))))).await;
    let sni = tokio::time::timeout(PEER_WAIT, peer)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(sni.as_deref(), Some(GW_HOST));
    assert_eq!(out.record.final_status, Some(503));
    let a = &out.record.attempts[0];
    assert_eq!(a.transport, "tls");
    let tls = a.tls.as_ref().expect("tls parameters recorded");
    assert!(!tls.version.is_empty() && !tls.cipher.is_empty(), "{tls:?}");
    assert_eq!(tls.sni.as_deref(), Some(GW_HOST));
    assert!(out.a.timings.tls_handshake_us.is_some());
    assert!(
        out.invite
            .headers
            .get(&HeaderName::Via)
            .unwrap()
            .starts_with("SIP/2.0/TLS ")
    );
}

#[tokio::test]
async fn untrusted_certificate_is_recorded() {
    let (listener, target, acceptor, _der) = tls_listener().await;
    let peer = tokio::spawn(async move {
        let (sock, _) = listener.accept().await.unwrap();
        // The client aborts the handshake; the server side just sees it fail.
        acceptor.accept(sock).await.is_err()
    });
    let out = place(&call(200), &target, &cfg(Some(client_trusting(None)))).await;
    assert!(
        tokio::time::timeout(PEER_WAIT, peer)
            .await
            .unwrap()
            .unwrap()
    );
    let err = out.record.error.as_deref().expect("error recorded");
    assert!(err.contains("UnknownIssuer"), "{err}");
    assert!(
        matches!(&out.a.end, AttemptEnd::NoAnswer(Failure::Tls(t)) if t.kind == TlsFailureKind::UnknownIssuer),
        "{:?}",
        out.a.end
    );
    assert!(err.contains(&target.addr.to_string()), "{err}");
    let a = &out.record.attempts[0];
    assert_eq!(a.error.as_deref(), Some(err));
    assert_eq!(a.tls, None);
    assert_eq!(out.record.final_status, None);
}

#[tokio::test]
async fn tls_without_client_config_is_recorded() {
    let mut t = tcp_target("127.0.0.1:9".parse().unwrap());
    t.transport = TransportKind::Tls;
    let out = place(&call(200), &t, &cfg(None)).await;
    assert_eq!(
        out.record.error.as_deref(),
        Some("target 127.0.0.1:9 uses tls but no tls client configuration was given")
    );
    assert_eq!(out.a.end, AttemptEnd::NoAnswer(Failure::Setup));
    assert_eq!(out.record.attempts[0].transport, "tls");
}
