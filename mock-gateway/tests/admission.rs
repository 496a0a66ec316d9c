//! Admission control over real sockets on loopback: a flood of idle or slow connections from
//! other sources cannot lock a legitimate trunk out. Flooders bind their own loopback source
//! addresses (127.0.0.2, 127.0.0.3), the trunk calls from 127.0.0.1. Every loop is bounded in
//! count, every wait by [`BOUND`].

mod support;

use std::net::SocketAddr;
use std::time::Duration;

use mock_gateway::{Gateway, Limits};
use sip::Method;
use sip::message::SipHeaders;
use sip::transport::TransportKind;
use support::{BOUND, ORG, Uac, policy, start};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};
use tokio::time::timeout;

/// A connection from `source`; `None` when the gateway's reset arrived before the connect
/// completed (a refusal seen early).
async fn try_connect_from(source: [u8; 4], to: SocketAddr) -> Option<TcpStream> {
    let s = TcpSocket::new_v4().unwrap();
    s.bind(SocketAddr::from((source, 0))).unwrap();
    match s.connect(to).await {
        Ok(c) => Some(c),
        Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => None,
        Err(e) => panic!("connect from {source:?}: {e}"),
    }
}

async fn connect_from(source: [u8; 4], to: SocketAddr) -> TcpStream {
    try_connect_from(source, to).await.expect("a connection")
}

/// Whether the gateway ends this connection (EOF or reset) within the bound.
async fn closed_by_gateway(tcp: &mut TcpStream) -> bool {
    let mut buf = [0u8; 512];
    let reading = async {
        loop {
            match tcp.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => continue,
            }
        }
    };
    timeout(BOUND, reading).await.is_ok()
}

/// One complete 911 call from 127.0.0.1: INVITE -> 100/180/200, ACK, BYE -> 200.
async fn trunk_call(gw: &Gateway) {
    let tcp = connect_from([127, 0, 0, 1], gw.local_addr()).await;
    let mut uac = Uac::new(tcp);
    let uri = "sip:911@gw1.anywhere.e911cloud.com";
    uac.send(&uac.invite(uri, Some(ORG))).await;
    let rs = uac.expect(&[100, 180, 200]).await;
    let tag = rs[2].header_to().unwrap().tag().unwrap().to_owned();
    uac.send(&uac.request(Method::Ack, uri, 1, Some(&tag)))
        .await;
    uac.send(&uac.request(Method::Bye, uri, 2, Some(&tag)))
        .await;
    uac.expect(&[200]).await;
}

#[tokio::test]
async fn a_trunk_completes_its_calls_during_an_idle_keepalive_and_slowloris_flood() {
    let limits = Limits {
        max_connections: 64,
        max_connections_per_source: 16,
        first_request_timeout: Duration::from_secs(1),
        idle_timeout: Duration::from_secs(2),
        read_timeout: Duration::from_secs(2),
        ..Limits::default()
    };
    let (gw, _) = start(TransportKind::Tcp, policy(), limits).await;
    let addr = gw.local_addr();

    // 100 idle connections from one source, each sending a keep-alive CRLF: 16 are served,
    // the other 84 are closed at once instead of waiting in the backlog.
    let mut idle = Vec::new();
    for _ in 0..100 {
        if let Some(mut c) = try_connect_from([127, 0, 0, 2], addr).await {
            let _ = c.write_all(b"\r\n\r\n").await;
            idle.push(c);
        }
    }
    // A slowloris from another source: a header block that never ends.
    let mut slow = Vec::new();
    for _ in 0..16 {
        let mut c = connect_from([127, 0, 0, 3], addr).await;
        let _ = c
            .write_all(b"INVITE sip:911@gw1 SIP/2.0\r\nVia: SIP/2.0/TCP x")
            .await;
        slow.push(c);
    }

    // The legitimate trunk gets through while both floods hold their slots.
    for _ in 0..5 {
        trunk_call(&gw).await;
    }

    // Keep-alives do not keep a connection that never sends a request: all end.
    let mut still_open = 0;
    for c in &mut idle {
        let _ = c.write_all(b"\r\n\r\n").await;
        if !closed_by_gateway(c).await {
            still_open += 1;
        }
    }
    for c in &mut slow {
        if !closed_by_gateway(c).await {
            still_open += 1;
        }
    }
    assert_eq!(still_open, 0, "connections the gateway left open");
    let s = gw.stats();
    assert_eq!(s.refused_per_source, 84, "{s:?}");
    assert!(s.closed_idle >= 16, "{s:?}");
    // And the trunk still calls afterwards.
    trunk_call(&gw).await;
    gw.shutdown().await;
}

#[tokio::test]
async fn a_connection_over_the_total_cap_is_closed_at_once_and_counted() {
    let limits = Limits {
        max_connections: 2,
        ..Limits::default()
    };
    let (gw, _) = start(TransportKind::Tcp, policy(), limits).await;
    let addr = gw.local_addr();
    let mut held = Vec::new();
    for source in [[127, 0, 0, 2], [127, 0, 0, 3]] {
        let mut c = connect_from(source, addr).await;
        // Served: an OPTIONS is answered.
        let mut uac = Uac::new(&mut c);
        let o = uac.request(Method::Options, "sip:gw1.anywhere.e911cloud.com", 1, None);
        uac.send(&o).await;
        uac.expect(&[200]).await;
        held.push(c);
    }
    let closed = match try_connect_from([127, 0, 0, 4], addr).await {
        Some(mut third) => closed_by_gateway(&mut third).await,
        None => true,
    };
    assert!(
        closed,
        "the third connection must be closed at once, not left in the backlog"
    );
    assert_eq!(gw.stats().refused_total, 1);
    drop(held);
    gw.shutdown().await;
}
