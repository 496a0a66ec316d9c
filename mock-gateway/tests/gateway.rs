//! The gateway over real sockets: TLS on 127.0.0.1 port 0 with a certificate generated here, a
//! hand-written UAC built with the `sip` builder, and the observation log checked after each
//! exchange. Timeouts only bound a broken test; nothing waits for correctness.

mod support;

use std::time::Duration;

use mock_gateway::{Limits, Policy};
use scenarios::{OrgFinding, UnknownOrgPolicy};
use sip::message::SipHeaders;
use sip::transport::TransportKind;
use sip::{HeaderName, Method};
use support::{BOUND, HOST, ORG, SDP, Uac, connect_tls, policy, start};
use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;
use tokio::time::timeout;

#[tokio::test]
async fn full_911_call_over_tls_is_answered_and_observed() {
    let (gw, client) = start(TransportKind::Tls, policy(), Limits::default()).await;
    let mut uac = connect_tls(&gw, client.unwrap()).await;
    let invite = uac.invite("sip:911@gw1.anywhere.e911cloud.com", Some(ORG));
    uac.send(&invite).await;
    let rs = uac.expect(&[100, 180, 200]).await;
    let ok = &rs[2];
    let to_tag = ok.header_to().unwrap().tag().unwrap().to_owned();
    assert_eq!(rs[1].header_to().unwrap().tag(), Some(to_tag.as_str()));
    let sdp = std::str::from_utf8(&ok.body).unwrap();
    assert!(
        sdp.contains(" RTP/SAVP 0 101\r\n")
            && sdp.contains("a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:"),
        "{sdp}"
    );

    let ack = uac.request(
        Method::Ack,
        "sip:911@gw1.anywhere.e911cloud.com",
        1,
        Some(&to_tag),
    );
    uac.send(&ack).await;
    let bye = uac.request(
        Method::Bye,
        "sip:911@gw1.anywhere.e911cloud.com",
        2,
        Some(&to_tag),
    );
    uac.send(&bye).await;
    uac.expect(&[200]).await;

    let obs = gw.take_observations();
    let methods: Vec<_> = obs.iter().map(|o| o.method.as_str()).collect();
    assert_eq!(methods, ["INVITE", "ACK", "BYE"]);
    assert_eq!(obs.iter().map(|o| o.seq).collect::<Vec<_>>(), [1, 2, 3]);
    let inv = &obs[0];
    assert_eq!(
        (inv.gateway.as_str(), inv.transport.as_str()),
        ("gw1", "TLS")
    );
    let tls = inv.tls.as_ref().unwrap();
    assert!(tls.version.starts_with("TLSv1."), "{tls:?}");
    assert_eq!(tls.sni.as_deref(), Some(HOST));
    assert_eq!(inv.org.as_ref().unwrap().finding, OrgFinding::Ok);
    let ani = inv.ani.as_ref().unwrap();
    assert_eq!(
        (ani.number.as_str(), ani.source.as_str()),
        ("+13125550142", "P-Asserted-Identity")
    );
    assert_eq!(
        (inv.response, inv.routing.as_deref()),
        (Some(200), Some("psap"))
    );
    assert_eq!(inv.call_id.as_deref(), Some(uac.call_id.as_str()));
    assert!(
        inv.headers
            .iter()
            .any(|(n, v)| n.eq_ignore_ascii_case("E911-Organization-ID") && v == ORG)
    );
    assert_eq!(obs[2].response, Some(200));
    let json = serde_json::to_string(inv).unwrap();
    let back: mock_gateway::Observation = serde_json::from_str(&json).unwrap();
    assert_eq!(&back, inv);
    gw.shutdown().await;
}

#[tokio::test]
async fn missing_org_gets_403_with_a_warning_that_says_so() {
    let (gw, client) = start(TransportKind::Tls, policy(), Limits::default()).await;
    let mut uac = connect_tls(&gw, client.unwrap()).await;
    uac.send(&uac.invite("sip:911@gw1", None)).await;
    let rs = uac.expect(&[100, 403]).await;
    let w = rs[1].headers.get(&HeaderName::Warning).unwrap();
    assert!(
        w.starts_with(&format!("399 {HOST} \"E911-Organization-ID missing")),
        "{w}"
    );
    let obs = gw.observations();
    assert_eq!(obs[0].org.as_ref().unwrap().finding, OrgFinding::Missing);
    assert_eq!(obs[0].warning.as_deref(), Some(w));
    gw.shutdown().await;
}

#[tokio::test]
async fn garbage_gets_400_and_the_connection_still_answers_options() {
    let (gw, client) = start(TransportKind::Tls, policy(), Limits::default()).await;
    let mut uac = connect_tls(&gw, client.unwrap()).await;
    uac.send_raw(
        b"INVITE sip:911@gw1 SIP/2.0\r\nVia: SIP/2.0/TLS 127.0.0.1;branch=z9hG4bKbad\r\n\
          From: <sip:a@b>;tag=1\r\nTo: <sip:911@gw1>\r\nCall-ID: bad-1\r\nCSeq: one INVITE\r\n\
          Content-Length: 0\r\n\r\n",
    )
    .await;
    let bad = uac.expect(&[400]).await;
    assert_eq!(bad[0].call_id(), Some("bad-1"));
    let opts = uac.request(Method::Options, "sip:gw1.anywhere.e911cloud.com", 1, None);
    uac.send(&opts).await;
    let ok = uac.expect(&[200]).await;
    assert!(
        ok[0]
            .headers
            .get(&HeaderName::Allow)
            .unwrap()
            .contains("INVITE")
    );
    let obs = gw.observations();
    assert_eq!(obs.len(), 2);
    assert_eq!(obs[0].method, "INVITE");
    assert_eq!(obs[0].response, Some(400));
    assert!(
        obs[0].parse_error.as_deref().unwrap().contains("CSeq"),
        "{:?}",
        obs[0].parse_error
    );
    assert_eq!(obs[1].method, "OPTIONS");
    gw.shutdown().await;
}

#[tokio::test]
async fn oversized_message_is_refused_and_the_connection_closed() {
    let limits = Limits {
        max_message_bytes: 1024,
        ..Limits::default()
    };
    let (gw, client) = start(TransportKind::Tls, policy(), limits).await;
    let mut uac = connect_tls(&gw, client.unwrap()).await;
    let mut big = uac.invite("sip:911@gw1", Some(ORG));
    big.body = format!("{SDP}{}", "a=x-pad:0123456789abcdef\r\n".repeat(100)).into();
    uac.send(&big).await;
    let r = uac.recv().await.expect("an answer before the close");
    assert_eq!(r.status, 513);
    assert!(uac.recv().await.is_none(), "the connection is closed");
    let obs = gw.observations();
    assert_eq!(obs.len(), 1);
    assert!(
        obs[0]
            .parse_error
            .as_deref()
            .unwrap()
            .contains("exceeds 1024")
    );
    gw.shutdown().await;
}

#[tokio::test]
async fn cancel_while_ringing_gets_200_and_487() {
    let ringing = Policy {
        ring_time: Duration::from_secs(3600),
        ..policy()
    };
    let (gw, client) = start(TransportKind::Tls, ringing, Limits::default()).await;
    let mut uac = connect_tls(&gw, client.unwrap()).await;
    let invite = uac.invite("sip:911@gw1", Some(ORG));
    uac.send(&invite).await;
    uac.expect(&[100, 180]).await;
    let mut cancel = invite.clone();
    cancel.method = Method::Cancel;
    cancel.headers.set(HeaderName::CSeq, "1 CANCEL");
    cancel.headers.remove(&HeaderName::ContentType);
    cancel.body = bytes::Bytes::new();
    uac.send(&cancel).await;
    let rs = uac.expect(&[200, 487]).await;
    assert_eq!(rs[0].cseq().unwrap().method, Method::Cancel);
    assert_eq!(rs[1].cseq().unwrap().method, Method::Invite);
    // A retransmitted INVITE now gets the stored 487 again, not a new call.
    uac.send(&invite).await;
    uac.expect(&[487]).await;
    let obs = gw.observations();
    let summary: Vec<_> = obs
        .iter()
        .map(|o| (o.method.as_str(), o.response, o.retransmission))
        .collect();
    assert_eq!(
        summary,
        [
            ("CANCEL", Some(200), false),
            ("INVITE", Some(487), false),
            ("INVITE", None, true)
        ]
    );
    gw.shutdown().await;
}

#[tokio::test]
async fn tcp_transport_answers_options_and_policy_changes_apply() {
    let (gw, _) = start(TransportKind::Tcp, policy(), Limits::default()).await;
    let tcp = TcpStream::connect(gw.local_addr()).await.unwrap();
    let mut uac = Uac::new(tcp);
    let other = "00000000-0000-4000-8000-000000000001";
    uac.send(&uac.invite("sip:911@gw1", Some(other))).await;
    uac.expect(&[100, 403]).await;
    gw.set_policy(Policy {
        unknown_org: UnknownOrgPolicy::Accept,
        ..policy()
    });
    let mut again = uac.invite("sip:911@gw1", Some(other));
    again.headers.set(HeaderName::CSeq, "2 INVITE");
    uac.send(&again).await;
    uac.expect(&[100, 180, 200]).await;
    let obs = gw.take_observations();
    assert_eq!(obs[1].routing.as_deref(), Some("fallback centre"));
    assert_eq!(obs[1].transport, "TCP");
    assert!(obs[1].tls.is_none());
    assert!(gw.observations().is_empty(), "take drains the log");
    gw.shutdown().await;
}

#[tokio::test]
async fn a_peer_that_stops_mid_message_is_dropped() {
    let limits = Limits {
        read_timeout: Duration::from_millis(200),
        ..Limits::default()
    };
    let (gw, client) = start(TransportKind::Tls, policy(), limits).await;
    let mut uac = connect_tls(&gw, client.unwrap()).await;
    uac.send_raw(b"OPTIONS sip:gw1 SIP/2.0\r\nVia: SIP/2.0/TLS 127.0.0.1")
        .await;
    assert!(uac.recv().await.is_none(), "closed after the read timeout");
    gw.shutdown().await;
}

#[tokio::test]
async fn keepalive_ping_gets_a_pong_and_subscribers_see_observations() {
    let (gw, client) = start(TransportKind::Tls, policy(), Limits::default()).await;
    let mut rx = gw.subscribe();
    let mut uac = connect_tls(&gw, client.unwrap()).await;
    uac.send_raw(b"\r\n\r\n").await;
    let mut pong = [0u8; 2];
    timeout(BOUND, uac.io.read_exact(&mut pong))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(&pong, b"\r\n");
    let opts = uac.request(Method::Options, "sip:gw1", 1, None);
    uac.send(&opts).await;
    uac.expect(&[200]).await;
    let o = timeout(BOUND, rx.recv()).await.unwrap().unwrap();
    assert_eq!((o.method.as_str(), o.seq), ("OPTIONS", 1));
    gw.shutdown().await;
}
