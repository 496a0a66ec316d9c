//! Test support shared by the gateway's socket tests: a gateway on 127.0.0.1 port 0 with
//! certificates from a private CA made here (`sip::transport::certs`), and a scripted UAC
//! built with the `sip` builder. Every wait is bounded by [`BOUND`].
#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::BytesMut;
use mock_gateway::{FaultTlsConfigs, Gateway, GatewayConfig, Limits, Policy};
use rustls::pki_types::ServerName;
use sip::codec::{Frame, StreamDecoder};
use sip::message::{new_branch, new_tag};
use sip::transport::certs::{Authority, KeyKind, Validity};
use sip::transport::{TlsProfile, TransportKind, client_config, server_config};
use sip::uri::Uri;
use sip::{HeaderName, Message, Method, Request, Response};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::timeout;

pub const HOST: &str = "gw1.anywhere.e911cloud.com";
pub const ORG: &str = "3f2504e0-4f89-41d3-9a0c-0305e82c3301";
pub const BOUND: Duration = Duration::from_secs(10);
pub const SDP: &str = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n\
    m=audio 40000 RTP/SAVP 0 101\r\na=rtpmap:101 telephone-event/8000\r\n\
    a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz\r\n";

/// A private CA, the gateway's server configuration from it, the certificates TLS faults
/// present, and a client configuration that trusts only that CA.
pub struct Pki {
    pub server: Arc<rustls::ServerConfig>,
    pub faults: FaultTlsConfigs,
    pub client: Arc<rustls::ClientConfig>,
}

pub fn pki() -> Pki {
    let ca = Authority::generate("e911-harness test CA").unwrap();
    let names = [HOST, "127.0.0.1"];
    let leaf = ca
        .issue(&names, KeyKind::EcdsaP256, Validity::Current)
        .unwrap();
    let profile = TlsProfile::default();
    let server =
        server_config(leaf.cert_pem.as_bytes(), leaf.key_pem.as_bytes(), &profile).unwrap();
    let faults = FaultTlsConfigs::issue(&ca, &names, KeyKind::EcdsaP256, &profile).unwrap();
    let client = client_config(ca.cert_pem().as_bytes()).unwrap();
    Pki {
        server,
        faults,
        client,
    }
}

/// Starts a gateway (with fault certificates on TLS) and returns the client configuration.
pub async fn start(
    transport: TransportKind,
    policy: Policy,
    limits: Limits,
) -> (Gateway, Option<Arc<rustls::ClientConfig>>) {
    let pki = pki();
    let tls = matches!(transport, TransportKind::Tls);
    let gw = Gateway::start(GatewayConfig {
        name: "gw1".into(),
        host: HOST.into(),
        listen: SocketAddr::from(([127, 0, 0, 1], 0)),
        transport,
        tls: tls.then_some(pki.server),
        policy,
        limits,
        fault_tls: tls.then_some(pki.faults),
        ..GatewayConfig::default()
    })
    .await
    .unwrap();
    (gw, tls.then_some(pki.client))
}

pub fn policy() -> Policy {
    Policy {
        orgs: vec![ORG.to_owned()],
        ..Policy::default()
    }
}

/// A TLS handshake with the gateway, as a client that asks for [`HOST`].
pub async fn tls_connect(
    gw: &Gateway,
    client: Arc<rustls::ClientConfig>,
) -> std::io::Result<tokio_rustls::client::TlsStream<TcpStream>> {
    let tcp = TcpStream::connect(gw.local_addr()).await?;
    tcp.set_nodelay(true)?;
    let name = ServerName::try_from(HOST).unwrap();
    timeout(
        BOUND,
        tokio_rustls::TlsConnector::from(client).connect(name, tcp),
    )
    .await
    .expect("the handshake ended within the bound")
}

/// The rustls error inside an I/O error, if there is one.
pub fn rustls_error(e: &std::io::Error) -> Option<&rustls::Error> {
    e.get_ref().and_then(|i| i.downcast_ref::<rustls::Error>())
}

/// A scripted UAC on one connection.
pub struct Uac<S> {
    pub io: S,
    pub buf: BytesMut,
    pub decoder: StreamDecoder,
    pub call_id: String,
    pub from_tag: String,
}

pub async fn connect_tls(
    gw: &Gateway,
    client: Arc<rustls::ClientConfig>,
) -> Uac<tokio_rustls::client::TlsStream<TcpStream>> {
    Uac::new(tls_connect(gw, client).await.unwrap())
}

impl<S: AsyncRead + AsyncWrite + Unpin> Uac<S> {
    pub fn new(io: S) -> Self {
        Uac {
            io,
            buf: BytesMut::new(),
            decoder: StreamDecoder::new(sip::codec::Limits {
                max_header_bytes: 1 << 20,
                max_body_bytes: 1 << 20,
            }),
            call_id: sip::message::new_call_id("uac.test"),
            from_tag: new_tag(),
        }
    }

    /// Starts a new call: a fresh Call-ID and From tag.
    pub fn new_call(&mut self) {
        self.call_id = sip::message::new_call_id("uac.test");
        self.from_tag = new_tag();
    }

    pub fn request(&self, method: Method, uri: &str, cseq: u32, to_tag: Option<&str>) -> Request {
        let mut r = Request::new(method.clone(), Uri::parse(uri).unwrap());
        r.headers.push(
            HeaderName::Via,
            format!("SIP/2.0/TLS 127.0.0.1:5061;branch={}", new_branch()),
        );
        r.headers.push(HeaderName::MaxForwards, "70");
        r.headers.push(
            HeaderName::From,
            format!("<sip:+13125550100@trunk.test>;tag={}", self.from_tag),
        );
        let to = match to_tag {
            Some(t) => format!("<{uri}>;tag={t}"),
            None => format!("<{uri}>"),
        };
        r.headers.push(HeaderName::To, to);
        r.headers.push(HeaderName::CallId, self.call_id.clone());
        r.headers.push(HeaderName::CSeq, format!("{cseq} {method}"));
        r
    }

    pub fn invite(&self, uri: &str, org: Option<&str>) -> Request {
        let mut r = self.request(Method::Invite, uri, 1, None);
        r.headers.push(
            HeaderName::Contact,
            "<sip:+13125550100@127.0.0.1;transport=tls>",
        );
        r.headers.push(
            HeaderName::PAssertedIdentity,
            "<sip:+1-312-555-0142@trunk.test;user=phone>",
        );
        if let Some(org) = org {
            r.headers.push("E911-Organization-ID", org);
        }
        r.headers.push(HeaderName::ContentType, "application/sdp");
        r.body = SDP.into();
        r
    }

    pub async fn send(&mut self, r: &Request) {
        self.io.write_all(&r.to_bytes()).await.unwrap();
    }

    pub async fn send_raw(&mut self, b: &[u8]) {
        self.io.write_all(b).await.unwrap();
    }

    /// The next response, or `None` when the gateway closed the connection.
    pub async fn recv(&mut self) -> Option<Response> {
        timeout(BOUND, async {
            loop {
                match self.decoder.decode(&mut self.buf).unwrap() {
                    Some(Frame::Message(m)) => match Message::parse_bytes(m).unwrap() {
                        Message::Response(r) => return Some(r),
                        Message::Request(r) => panic!("unexpected request {}", r.method),
                    },
                    Some(_) => continue,
                    None => {}
                }
                match self.io.read_buf(&mut self.buf).await {
                    Ok(0) | Err(_) => return None,
                    Ok(_) => {}
                }
            }
        })
        .await
        .expect("the gateway answered within the bound")
    }

    pub async fn expect(&mut self, statuses: &[u16]) -> Vec<Response> {
        let mut out = Vec::new();
        for s in statuses {
            let r = self.recv().await.expect("a response, not a close");
            assert_eq!(r.status, *s, "{r:?}");
            out.push(r);
        }
        out
    }
}
