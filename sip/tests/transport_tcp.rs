//! Plain TCP transport and certificate files, over real loopback sockets.

use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use sip::codec::{FrameError, Limits};
use sip::transport::certs::{self, Authority, CertError, GATEWAY_NAMES, KeyKind, Validity};
use sip::transport::{Connection, Frame, Stream, TransportError, TransportKind, connect};
use tokio::io::AsyncWriteExt as _;
use tokio::net::{TcpListener, TcpStream};

const T: Duration = Duration::from_secs(10);
const OPTIONS: &[u8] = b"OPTIONS sip:gw1 SIP/2.0\r\nContent-Length: 0\r\n\r\n";

/// A connected pair: (our framed client connection, the raw server socket).
async fn pair() -> (Connection, TcpStream) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (client, accepted) = tokio::join!(connect(addr, None, T), listener.accept());
    let (client, timings) = client.expect("connect");
    assert_eq!(timings.tls_handshake, None);
    assert!(
        client.stream().tcp().nodelay().unwrap(),
        "TCP_NODELAY is on"
    );
    (client, accepted.unwrap().0)
}

#[tokio::test]
async fn tcp_frames_and_keepalives_round_trip() {
    let (mut client, raw) = pair().await;
    assert_eq!(client.kind(), TransportKind::Tcp);
    assert_eq!(client.tls_info(), None);
    let mut server = Connection::new(Stream::Tcp(raw), Limits::default());
    assert_eq!(server.peer_addr(), client.local_addr());
    client.write_all(b"\r\n\r\n").await.unwrap();
    client.write_all(OPTIONS).await.unwrap();
    assert_eq!(server.read_frame().await.unwrap(), Some(Frame::KeepAlive));
    server.write_all(b"\r\n").await.unwrap(); // the pong is skipped by the client's decoder
    assert_eq!(
        server.read_frame().await.unwrap(),
        Some(Frame::Message(Bytes::from_static(OPTIONS)))
    );
    server.write_all(OPTIONS).await.unwrap();
    assert_eq!(
        client.read_frame().await.unwrap(),
        Some(Frame::Message(Bytes::from_static(OPTIONS)))
    );
    drop(server);
    assert_eq!(
        client.read_frame().await.unwrap(),
        None,
        "clean close at a boundary"
    );
}

#[tokio::test]
async fn close_after_a_pong_is_still_clean() {
    let (mut client, mut raw) = pair().await;
    raw.write_all(b"\r\n").await.unwrap();
    raw.shutdown().await.unwrap();
    assert_eq!(client.read_frame().await.unwrap(), None);
}

#[tokio::test]
async fn close_mid_header_is_truncated_message() {
    let (mut client, mut raw) = pair().await;
    let partial = b"SIP/2.0 200 OK\r\nVia: SIP/2.0/TCP x\r\n";
    raw.write_all(partial).await.unwrap();
    raw.shutdown().await.unwrap();
    let err = client.read_frame().await.expect_err("truncated");
    let peer = client.peer_addr();
    assert!(
        matches!(err, TransportError::TruncatedMessage { buffered, .. } if buffered == partial.len()),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        format!(
            "{peer} closed the connection in the middle of a message ({} bytes unread)",
            partial.len()
        )
    );
}

#[tokio::test]
async fn missing_content_length_is_a_frame_error_naming_the_peer() {
    let (mut client, mut raw) = pair().await;
    raw.write_all(b"SIP/2.0 200 OK\r\nCall-ID: x\r\n\r\n")
        .await
        .unwrap();
    let err = client.read_frame().await.expect_err("no content-length");
    assert_eq!(err.frame_error(), Some(&FrameError::MissingContentLength));
    assert!(
        err.to_string().contains(&client.peer_addr().to_string()),
        "{err}"
    );
}

#[tokio::test]
async fn connection_limits_apply_to_the_body() {
    let (mut client, mut raw) = pair().await;
    client.set_limits(Limits {
        max_header_bytes: 1024,
        max_body_bytes: 10,
    });
    raw.write_all(b"SIP/2.0 200 OK\r\nl: 11\r\n\r\n")
        .await
        .unwrap();
    let err = client.read_frame().await.expect_err("too big");
    assert_eq!(
        err.frame_error(),
        Some(&FrameError::BodyTooLarge {
            length: 11,
            limit: 10
        })
    );
}

#[tokio::test]
async fn read_timeout_bounds_a_silent_peer() {
    let (mut client, mut raw) = pair().await;
    client.set_read_timeout(Some(Duration::from_millis(50)));
    raw.write_all(b"SIP/2.0 200 OK\r\n").await.unwrap(); // starts a message, never ends it
    let err = client.read_frame().await.expect_err("timeout");
    assert!(
        matches!(err, TransportError::ReadTimeout { .. }) && err.is_timeout(),
        "{err:?}"
    );
    // Cancel-safe: the bytes read before the timeout are kept and the message can complete.
    client.set_read_timeout(None);
    raw.write_all(b"l: 0\r\n\r\n").await.unwrap();
    let frame = client.read_frame().await.unwrap();
    assert_eq!(
        frame,
        Some(Frame::Message(Bytes::from_static(
            b"SIP/2.0 200 OK\r\nl: 0\r\n\r\n"
        )))
    );
}

#[tokio::test]
async fn refused_connect_names_the_address() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr: SocketAddr = listener.local_addr().unwrap();
    drop(listener);
    let err = connect(addr, None, T)
        .await
        .map(|_| ())
        .expect_err("refused");
    assert!(
        matches!(err, TransportError::Connect { addr: a, .. } if a == addr),
        "{err:?}"
    );
    assert!(
        err.to_string()
            .starts_with(&format!("tcp connect to {addr} failed: ")),
        "{err}"
    );
}

#[tokio::test]
async fn split_then_unsplit_keeps_buffered_bytes() {
    let (client, mut raw) = pair().await;
    let (mut reader, writer) = client.into_split();
    let mut two = OPTIONS.to_vec();
    two.extend_from_slice(OPTIONS);
    raw.write_all(&two).await.unwrap();
    assert_eq!(
        reader.read_frame().await.unwrap(),
        Some(Frame::Message(Bytes::from_static(OPTIONS)))
    );
    let mut client = reader.unsplit(writer);
    assert_eq!(
        client.read_frame().await.unwrap(),
        Some(Frame::Message(Bytes::from_static(OPTIONS)))
    );
}

#[test]
fn issued_leaf_carries_the_chain_and_a_key() {
    let ca = Authority::generate("test CA").unwrap();
    let leaf = ca
        .issue(GATEWAY_NAMES, KeyKind::EcdsaP256, Validity::Current)
        .unwrap();
    assert_eq!(
        leaf.cert_pem.matches("-----BEGIN CERTIFICATE-----").count(),
        2
    );
    assert!(
        leaf.cert_pem.ends_with(&ca.cert_pem()),
        "leaf first, then the CA"
    );
    assert!(leaf.key_pem.contains("PRIVATE KEY"));
    assert!(
        !format!("{leaf:?}").contains("PRIVATE KEY"),
        "Debug hides the key"
    );
    // sip: URIs are accepted as subjectAltNames (RFC 5922).
    ca.issue(
        &["sip:gw1.anywhere.e911cloud.com"],
        KeyKind::EcdsaP256,
        Validity::Current,
    )
    .unwrap();
}

#[test]
fn issue_rejects_empty_and_invalid_names() {
    let ca = Authority::generate("test CA").unwrap();
    assert!(matches!(
        ca.issue(&[], KeyKind::EcdsaP256, Validity::Current),
        Err(CertError::NoNames)
    ));
    let err = ca
        .issue(&["bad name é"], KeyKind::EcdsaP256, Validity::Current)
        .unwrap_err();
    assert!(matches!(err, CertError::Name { .. }), "{err:?}");
    assert!(
        err.to_string()
            .starts_with("\"bad name é\" cannot be a subjectAltName"),
        "{err}"
    );
}

#[test]
fn write_bundle_writes_pems_and_private_keys() {
    let dir = std::env::temp_dir().join(format!(
        "sip-certs-{}-{}",
        std::process::id(),
        unique_suffix()
    ));
    let ca = Authority::generate("test CA").unwrap();
    let gw1 = ca
        .issue(
            &["gw1.anywhere.e911cloud.com"],
            KeyKind::Rsa2048,
            Validity::Current,
        )
        .unwrap();
    let files = certs::write_bundle(&dir, &ca, &[("gw1", &gw1)]).unwrap();
    let names: Vec<_> = files
        .iter()
        .map(|p| p.file_name().unwrap().to_str().unwrap().to_owned())
        .collect();
    // The CA's key too, so a later `certs --sbc` issues from the same CA.
    assert_eq!(names, ["ca.pem", "ca.key", "gw1.pem", "gw1.key"]);
    assert_eq!(std::fs::read_to_string(&files[0]).unwrap(), ca.cert_pem());
    assert_eq!(std::fs::read_to_string(&files[2]).unwrap(), gw1.cert_pem);
    assert_eq!(std::fs::read_to_string(&files[3]).unwrap(), gw1.key_pem);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        for key in [&files[1], &files[3]] {
            let mode = std::fs::metadata(key).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600, "{}", key.display());
        }
    }
    let again = Authority::load(
        "test CA",
        &std::fs::read_to_string(&files[0]).unwrap(),
        &std::fs::read_to_string(&files[1]).unwrap(),
    )
    .expect("the CA loads back");
    assert_eq!(again.cert_pem(), ca.cert_pem());
    // The files load back into a working server configuration.
    let cert = std::fs::read(&files[2]).unwrap();
    let key = std::fs::read(&files[3]).unwrap();
    sip::transport::server_config(&cert, &key, &Default::default()).expect("bundle loads");
    for bad in ["", "..", "a/b"] {
        assert!(matches!(
            certs::write_bundle(&dir, &ca, &[(bad, &gw1)]),
            Err(CertError::BadStem { .. })
        ));
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

fn unique_suffix() -> u64 {
    use std::time::{SystemTime, UNIX_EPOCH};
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
}
