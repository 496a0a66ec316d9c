//! TLS transport over real loopback sockets, with certificates generated in the test.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use rustls::pki_types::ServerName;
use sip::transport::certs::{Authority, Issued, KeyKind, Validity};
use sip::transport::{
    self, Connection, Frame, TlsProfile, TransportError, TransportKind, accept_tls, client_config,
    client_config_with, connect, insecure_client_config, server_config,
};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_rustls::TlsAcceptor;

const T: Duration = Duration::from_secs(10);
const GW1: &str = "gw1.anywhere.e911cloud.com";
const INVITE: &[u8] = b"INVITE sip:911@gw1.anywhere.e911cloud.com SIP/2.0\r\nCall-ID: a\r\nContent-Length: 4\r\n\r\nv=0\n";
const BYE: &[u8] = b"BYE sip:911@gw1 SIP/2.0\r\nl: 0\r\n\r\n";

fn leaf(ca: &Authority, key: KeyKind) -> Issued {
    ca.issue(&[GW1, "localhost", "127.0.0.1"], key, Validity::Current)
        .expect("issue leaf")
}

/// Listens on 127.0.0.1:0 and runs one server-side handshake; the task yields the connection.
async fn serve_one(
    leaf: &Issued,
    profile: &TlsProfile,
) -> (SocketAddr, JoinHandle<Result<Connection, TransportError>>) {
    let cfg = server_config(leaf.cert_pem.as_bytes(), leaf.key_pem.as_bytes(), profile)
        .expect("server config");
    let acceptor = TlsAcceptor::from(cfg);
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let task = tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.expect("accept");
        accept_tls(tcp, &acceptor, T).await
    });
    (addr, task)
}

fn name(s: &str) -> ServerName<'static> {
    ServerName::try_from(s.to_owned()).expect("server name")
}

async fn dial(
    addr: SocketAddr,
    cfg: Arc<rustls::ClientConfig>,
    sni: &str,
) -> Result<Connection, TransportError> {
    connect(addr, Some((cfg, name(sni))), T)
        .await
        .map(|(c, _)| c)
}

#[tokio::test]
async fn handshake_with_generated_ca_and_messages_round_trip() {
    let ca = Authority::generate("test CA").unwrap();
    let (addr, server) = serve_one(&leaf(&ca, KeyKind::EcdsaP256), &TlsProfile::default()).await;
    let cfg = client_config(ca.cert_pem().as_bytes()).unwrap();
    let (mut client, timings) = connect(addr, Some((cfg, name(GW1))), T)
        .await
        .expect("connect");
    let mut server = server.await.unwrap().expect("server handshake");

    assert!(timings.tls_handshake.is_some());
    assert_eq!(client.kind(), TransportKind::Tls);
    assert_eq!(client.peer_addr(), addr);
    assert_eq!(server.peer_addr(), client.local_addr());
    let info = client.tls_info().expect("tls info");
    assert_eq!(info.version, "TLSv1.3");
    assert!(info.cipher.starts_with("TLS13_"), "{info:?}");
    assert_eq!(info.sni.as_deref(), Some(GW1));
    let sinfo = server.tls_info().expect("server tls info");
    assert_eq!(sinfo.sni.as_deref(), Some(GW1));
    assert_eq!(
        (sinfo.version.as_str(), &sinfo.cipher, &sinfo.group),
        ("TLSv1.3", &info.cipher, &info.group)
    );

    // Two messages and a ping in one write, then a message split across writes.
    let mut burst = INVITE.to_vec();
    burst.extend_from_slice(b"\r\n\r\n");
    burst.extend_from_slice(BYE);
    client.write_all(&burst).await.unwrap();
    client.write_all(&INVITE[..20]).await.unwrap();
    assert_eq!(
        server.read_frame().await.unwrap(),
        Some(Frame::Message(Bytes::from_static(INVITE)))
    );
    assert_eq!(server.read_frame().await.unwrap(), Some(Frame::KeepAlive));
    assert_eq!(
        server.read_frame().await.unwrap(),
        Some(Frame::Message(Bytes::from_static(BYE)))
    );
    client.write_all(&INVITE[20..]).await.unwrap();
    assert_eq!(
        server.read_frame().await.unwrap(),
        Some(Frame::Message(Bytes::from_static(INVITE)))
    );

    // And back, then a clean close at a boundary.
    server.write_all(BYE).await.unwrap();
    server.shutdown().await.unwrap();
    assert_eq!(
        client.read_frame().await.unwrap(),
        Some(Frame::Message(Bytes::from_static(BYE)))
    );
    assert_eq!(client.read_frame().await.unwrap(), None);
}

#[tokio::test]
async fn rsa_leaf_under_rsa_ca_works() {
    let ca = Authority::generate_with("rsa CA", KeyKind::Rsa2048).unwrap();
    let (addr, server) = serve_one(&leaf(&ca, KeyKind::Rsa2048), &TlsProfile::default()).await;
    let cfg = client_config(ca.cert_pem().as_bytes()).unwrap();
    let mut client = dial(addr, cfg, "localhost").await.expect("connect");
    let mut server = server.await.unwrap().expect("server handshake");
    client.write_all(BYE).await.unwrap();
    assert_eq!(
        server.read_frame().await.unwrap(),
        Some(Frame::Message(Bytes::from_static(BYE)))
    );
}

#[tokio::test]
async fn ecdsa_p384_leaf_works_and_ip_literal_is_a_valid_name() {
    let ca = Authority::generate("test CA").unwrap();
    let (addr, server) = serve_one(&leaf(&ca, KeyKind::EcdsaP384), &TlsProfile::default()).await;
    let cfg = client_config(ca.cert_pem().as_bytes()).unwrap();
    let client = dial(addr, cfg, "127.0.0.1").await.expect("connect by IP");
    server.await.unwrap().expect("server handshake");
    // No SNI is sent for an IP address.
    assert_eq!(client.tls_info().unwrap().sni, None);
}

#[tokio::test]
async fn untrusted_ca_fails_with_a_readable_error_on_both_sides() {
    let ca = Authority::generate("real CA").unwrap();
    let other = Authority::generate("other CA").unwrap();
    let (addr, server) = serve_one(&leaf(&ca, KeyKind::EcdsaP256), &TlsProfile::default()).await;
    let cfg = client_config(other.cert_pem().as_bytes()).unwrap();
    let err = dial(addr, cfg, GW1).await.expect_err("must not trust");
    assert!(
        matches!(err, TransportError::Handshake { peer, .. } if peer == addr),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        format!("tls handshake with {addr} failed: invalid peer certificate: UnknownIssuer")
    );
    let server_err = server.await.unwrap().expect_err("server sees the alert");
    assert!(
        server_err.to_string().contains("received fatal alert"),
        "{server_err}"
    );
}

#[tokio::test]
async fn expired_leaf_is_refused() {
    let ca = Authority::generate("test CA").unwrap();
    let expired = ca
        .issue(&[GW1], KeyKind::EcdsaP256, Validity::Expired)
        .unwrap();
    let (addr, _server) = serve_one(&expired, &TlsProfile::default()).await;
    let cfg = client_config(ca.cert_pem().as_bytes()).unwrap();
    let err = dial(addr, cfg, GW1).await.expect_err("expired");
    let msg = err.to_string();
    assert!(
        msg.starts_with(&format!(
            "tls handshake with {addr} failed: invalid peer certificate: "
        )),
        "{msg}"
    );
    assert!(msg.to_lowercase().contains("expired"), "{msg}");
}

#[tokio::test]
async fn wrong_name_is_refused() {
    let ca = Authority::generate("test CA").unwrap();
    let (addr, _server) = serve_one(&leaf(&ca, KeyKind::EcdsaP256), &TlsProfile::default()).await;
    let cfg = client_config(ca.cert_pem().as_bytes()).unwrap();
    let err = dial(addr, cfg, "gw2.anywhere.e911cloud.com")
        .await
        .expect_err("wrong name");
    let msg = err.to_string();
    assert!(msg.contains("invalid peer certificate"), "{msg}");
    assert!(
        msg.contains("gw2.anywhere.e911cloud.com"),
        "names the expected identity: {msg}"
    );
}

#[tokio::test]
async fn a_name_matched_only_by_a_wildcard_is_refused_per_rfc_5922() {
    let ca = Authority::generate("test CA").unwrap();
    let wild = ca
        .issue(
            &["*.anywhere.e911cloud.com"],
            KeyKind::EcdsaP256,
            Validity::Current,
        )
        .expect("issue wildcard leaf");
    let (addr, _server) = serve_one(&wild, &TlsProfile::default()).await;
    let cfg = client_config(ca.cert_pem().as_bytes()).unwrap();
    let err = dial(addr, cfg, GW1).await.expect_err("wildcard-only name");
    let msg = err.to_string();
    assert!(msg.contains("RFC 5922"), "{msg}");
    assert!(msg.contains("*.anywhere.e911cloud.com"), "{msg}");

    // The same wildcard beside the exact name is fine: the exact name is what matched.
    let both = ca
        .issue(
            &["*.anywhere.e911cloud.com", GW1],
            KeyKind::EcdsaP256,
            Validity::Current,
        )
        .expect("issue leaf");
    let (addr, _server) = serve_one(&both, &TlsProfile::default()).await;
    let cfg = client_config(ca.cert_pem().as_bytes()).unwrap();
    dial(addr, cfg, GW1).await.expect("exact name present");
}

#[tokio::test]
async fn insecure_client_accepts_an_untrusted_certificate() {
    let ca = Authority::generate("unknown CA").unwrap();
    let expired = ca
        .issue(&["elsewhere.example"], KeyKind::Rsa2048, Validity::Expired)
        .unwrap();
    let (addr, server) = serve_one(&expired, &TlsProfile::default()).await;
    let mut client = dial(addr, insecure_client_config(), GW1)
        .await
        .expect("insecure connect");
    let mut server = server.await.unwrap().expect("server handshake");
    client.write_all(BYE).await.unwrap();
    assert_eq!(
        server.read_frame().await.unwrap(),
        Some(Frame::Message(Bytes::from_static(BYE)))
    );
}

#[tokio::test]
async fn tls12_only_server_negotiates_tls12() {
    let ca = Authority::generate("test CA").unwrap();
    let profile = TlsProfile {
        versions: sip::transport::TlsVersions::Tls12Only,
        ..TlsProfile::default()
    };
    let (addr, server) = serve_one(&leaf(&ca, KeyKind::Rsa2048), &profile).await;
    let client = dial(addr, client_config(ca.cert_pem().as_bytes()).unwrap(), GW1)
        .await
        .expect("connect");
    let server = server.await.unwrap().expect("server handshake");
    for info in [client.tls_info().unwrap(), server.tls_info().unwrap()] {
        assert_eq!(info.version, "TLSv1.2");
        assert!(info.cipher.starts_with("TLS_ECDHE_RSA_WITH_"), "{info:?}");
    }
}

#[tokio::test]
async fn server_group_secp384r1_is_honoured() {
    let ca = Authority::generate("test CA").unwrap();
    let profile = TlsProfile {
        groups: Some(vec!["secp384r1".to_owned()]),
        ..TlsProfile::default()
    };
    let (addr, server) = serve_one(&leaf(&ca, KeyKind::EcdsaP256), &profile).await;
    let client = dial(addr, client_config(ca.cert_pem().as_bytes()).unwrap(), GW1)
        .await
        .expect("connect");
    let server = server.await.unwrap().expect("server handshake");
    assert_eq!(
        client.tls_info().unwrap().group.as_deref(),
        Some("secp384r1")
    );
    assert_eq!(
        server.tls_info().unwrap().group.as_deref(),
        Some("secp384r1")
    );
}

#[tokio::test]
async fn genesys_byoc_client_profile_gets_tls12_secp384r1_rsa() {
    let ca = Authority::generate_with("rsa CA", KeyKind::Rsa2048).unwrap();
    let (addr, server) = serve_one(&leaf(&ca, KeyKind::Rsa2048), &TlsProfile::default()).await;
    let cfg = client_config_with(ca.cert_pem().as_bytes(), &TlsProfile::genesys_byoc()).unwrap();
    let client = dial(addr, cfg, GW1).await.expect("connect");
    server.await.unwrap().expect("server handshake");
    let info = client.tls_info().unwrap();
    assert_eq!(info.version, "TLSv1.2");
    assert_eq!(info.group.as_deref(), Some("secp384r1"));
    assert!(
        [
            "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
            "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"
        ]
        .contains(&info.cipher.as_str()),
        "{info:?}"
    );
}

#[tokio::test]
async fn genesys_profile_against_an_ecdsa_only_gateway_fails_to_agree() {
    let ca = Authority::generate("test CA").unwrap();
    let (addr, _server) = serve_one(&leaf(&ca, KeyKind::EcdsaP256), &TlsProfile::default()).await;
    let cfg = client_config_with(ca.cert_pem().as_bytes(), &TlsProfile::genesys_byoc()).unwrap();
    let err = dial(addr, cfg, GW1).await.expect_err("no common RSA suite");
    assert!(matches!(err, TransportError::Handshake { .. }), "{err:?}");
    assert!(err.to_string().contains("received fatal alert"), "{err}");
}

#[tokio::test]
async fn peer_that_stops_mid_message_gives_truncated_message() {
    let ca = Authority::generate("test CA").unwrap();
    let (addr, server) = serve_one(&leaf(&ca, KeyKind::EcdsaP256), &TlsProfile::default()).await;
    let mut client = dial(addr, client_config(ca.cert_pem().as_bytes()).unwrap(), GW1)
        .await
        .unwrap();
    let mut server = server.await.unwrap().unwrap();
    client.write_all(BYE).await.unwrap();
    client.write_all(&INVITE[..INVITE.len() - 2]).await.unwrap();
    client.shutdown().await.unwrap();
    assert_eq!(
        server.read_frame().await.unwrap(),
        Some(Frame::Message(Bytes::from_static(BYE)))
    );
    let err = server.read_frame().await.expect_err("truncated");
    assert!(
        matches!(err, TransportError::TruncatedMessage { buffered, .. } if buffered == INVITE.len() - 2),
        "{err:?}"
    );
}

#[tokio::test]
async fn handshake_timeout_when_the_server_never_answers() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let ca = Authority::generate("test CA").unwrap();
    let cfg = client_config(ca.cert_pem().as_bytes()).unwrap();
    // The listener accepts (the kernel completes TCP) but nobody speaks TLS.
    let err = connect(addr, Some((cfg, name(GW1))), Duration::from_millis(200))
        .await
        .map(|_| ())
        .expect_err("timeout");
    assert!(
        matches!(err, TransportError::HandshakeTimeout { peer, .. } if peer == addr),
        "{err:?}"
    );
    assert!(err.is_timeout());
    drop(listener);
}

#[tokio::test]
async fn split_halves_read_and_write_concurrently() {
    let ca = Authority::generate("test CA").unwrap();
    let (addr, server) = serve_one(&leaf(&ca, KeyKind::EcdsaP256), &TlsProfile::default()).await;
    let client = dial(addr, client_config(ca.cert_pem().as_bytes()).unwrap(), GW1)
        .await
        .unwrap();
    let server = server.await.unwrap().unwrap();
    let (mut reader, mut writer) = server.into_split();
    assert!(reader.tls_info().is_some());
    // Echo task on the server: every message read is written back.
    let echo = tokio::spawn(async move {
        let mut n = 0;
        while let Some(frame) = reader.read_frame().await.expect("read") {
            if let Frame::Message(m) = frame {
                writer.write_all(&m).await.expect("write");
                n += 1;
            }
        }
        n
    });
    let (mut creader, mut cwriter) = client.into_split();
    let sender = tokio::spawn(async move {
        for _ in 0..50 {
            cwriter.write_all(INVITE).await.unwrap();
        }
        cwriter.shutdown().await.unwrap();
    });
    for _ in 0..50 {
        assert_eq!(
            creader.read_frame().await.unwrap(),
            Some(Frame::Message(Bytes::from_static(INVITE)))
        );
    }
    sender.await.unwrap();
    assert_eq!(echo.await.unwrap(), 50);
}

#[tokio::test]
async fn profile_with_unknown_group_is_rejected_with_the_known_names() {
    let profile = TlsProfile {
        groups: Some(vec!["brainpool".to_owned()]),
        ..TlsProfile::default()
    };
    let err = sip::transport::provider(&profile).expect_err("unknown group");
    let msg = err.to_string();
    assert!(
        msg.contains("\"brainpool\"") && msg.contains("secp384r1"),
        "{msg}"
    );
    assert!(
        sip::transport::provider(&TlsProfile {
            groups: Some(vec!["P-384".into()]),
            ..TlsProfile::default()
        })
        .is_ok()
    );
}

#[test]
fn bad_pem_inputs_say_what_was_wrong() {
    let err = client_config(b"not a pem").expect_err("no CA");
    assert_eq!(
        err.to_string(),
        "reading CA certificate pem: no items found"
    );
    let ca = Authority::generate("test CA").unwrap();
    let l = leaf(&ca, KeyKind::EcdsaP256);
    let err =
        server_config(l.cert_pem.as_bytes(), b"", &TlsProfile::default()).expect_err("no key");
    assert!(
        err.to_string()
            .starts_with("reading server private key pem"),
        "{err}"
    );
    // A key that does not match the certificate.
    let other = leaf(&ca, KeyKind::EcdsaP256);
    let err = server_config(
        l.cert_pem.as_bytes(),
        other.key_pem.as_bytes(),
        &TlsProfile::default(),
    )
    .expect_err("mismatch");
    assert!(matches!(err, TransportError::Tls { .. }), "{err:?}");
}

#[test]
fn transport_kind_parses_and_displays() {
    assert_eq!("TLS".parse::<TransportKind>(), Ok(TransportKind::Tls));
    assert_eq!("tcp".parse::<TransportKind>(), Ok(TransportKind::Tcp));
    assert_eq!(TransportKind::Tls.to_string(), "tls");
    let err = "udp".parse::<TransportKind>().unwrap_err();
    assert_eq!(
        err.to_string(),
        "unknown transport \"udp\"; expected \"tcp\" or \"tls\""
    );
    let _ = transport::Limits::default();
}

#[tokio::test]
async fn a_self_signed_server_certificate_given_as_the_trust_is_pinned() {
    // An SBC with a self-signed certificate (a CA certificate presented as its own, which
    // webpki refuses as CaUsedAsEndEntity): giving that very certificate as the trust pins it.
    let own = Authority::generate_with("sbc self-signed", KeyKind::Rsa2048).expect("CA");
    let self_signed = Issued {
        cert_pem: own.cert_pem(),
        key_pem: own.key_pem(),
    };
    let (addr, server) = serve_one(&self_signed, &TlsProfile::default()).await;
    let cfg = client_config(own.cert_pem().as_bytes()).expect("client config");
    let client = dial(addr, cfg, "sbc.lab.example").await;
    assert!(client.is_ok(), "pinned: {client:?}");
    assert!(server.await.expect("join").is_ok());
    // Another self-signed certificate is still refused.
    let other = Authority::generate_with("someone else", KeyKind::Rsa2048).expect("CA");
    let (addr, _server) = serve_one(&self_signed, &TlsProfile::default()).await;
    let cfg = client_config(other.cert_pem().as_bytes()).expect("client config");
    let err = dial(addr, cfg, "sbc.lab.example")
        .await
        .expect_err("not pinned");
    assert!(matches!(err, TransportError::Handshake { .. }), "{err}");
}

#[tokio::test]
async fn a_lab_ca_written_to_a_folder_loads_back_and_issues_chaining_certificates() {
    let dir = tempfile::tempdir().expect("dir");
    let ca = Authority::generate("e911-harness test CA").expect("CA");
    let gw = leaf(&ca, KeyKind::Rsa2048);
    transport::certs::write_bundle(dir.path(), &ca, &[("gw1", &gw)]).expect("write");
    let read = |f: &str| std::fs::read_to_string(dir.path().join(f)).expect(f);
    let loaded =
        Authority::load("e911-harness test CA", &read("ca.pem"), &read("ca.key")).expect("load");
    let sbc = loaded
        .issue(
            &["sbc.lab.example", "127.0.0.1"],
            KeyKind::Rsa2048,
            Validity::Current,
        )
        .expect("issue");
    let (addr, server) = serve_one(&sbc, &TlsProfile::default()).await;
    let cfg = client_config(read("ca.pem").as_bytes()).expect("client config");
    assert!(dial(addr, cfg, "sbc.lab.example").await.is_ok());
    assert!(server.await.expect("join").is_ok());
    // A key that is not the certificate's is refused when loading.
    let stranger = Authority::generate("e911-harness test CA").expect("CA");
    let err = Authority::load("e911-harness test CA", &read("ca.pem"), &stranger.key_pem())
        .expect_err("mismatch");
    assert!(err.to_string().contains("does not fit"), "{err}");
}
