//! The gateway's media over real sockets: a hand-written UAC offers SRTP on a UDP socket of its
//! own, runs a media session as the trunk would (its own key), and the BYE's observation
//! carries what the gateway received; each media fault shows on the trunk's side.

mod support;

use std::net::SocketAddr;
use std::time::Duration;

use media::{Keying, MasterKey, Plan, Program, Session, Suite};
use mock_gateway::{FaultPlan, FaultSpec, Limits, Policy};
use reports::MediaLeg;
use scenarios::{CallSelect, FaultKind, MediaFault};
use sip::Method;
use sip::message::SipHeaders;
use sip::transport::TransportKind;
use support::{HOST, ORG, Uac, connect_tls, policy, start};

fn media_policy() -> Policy {
    Policy {
        media: true,
        ..policy()
    }
}

/// Places one call with media for `hold`, dialing `dial`, and returns (trunk leg, gateway leg).
async fn call(fault: Option<MediaFault>, dial: &str, hold: Duration) -> (MediaLeg, MediaLeg) {
    let (gw, client) = start(TransportKind::Tls, media_policy(), Limits::default()).await;
    if let Some(f) = fault {
        gw.set_faults(FaultPlan {
            rules: vec![FaultSpec {
                gateway: "gw1".into(),
                kind: FaultKind::Media(f),
                select: CallSelect::All,
            }],
            ..FaultPlan::default()
        })
        .unwrap();
    }
    let mut uac: Uac<_> = connect_tls(&gw, client.unwrap()).await;
    let socket = media::bind("127.0.0.1".parse().unwrap()).unwrap();
    let port = socket.local_addr().unwrap().port();
    let key = MasterKey::generate();
    let uri = format!("sip:{dial}@{HOST}");
    let mut invite = uac.invite(&uri, Some(ORG));
    invite.body = format!(
        "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n\
         m=audio {port} RTP/SAVP 0 101\r\na=rtpmap:101 telephone-event/8000\r\n\
         a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:{}\r\n",
        key.inline()
    )
    .into();
    uac.send(&invite).await;
    let rs = uac.expect(&[100, 180, 200]).await;
    let answer = sip::sdp::first_audio(std::str::from_utf8(&rs[2].body).unwrap())
        .map(|a| {
            let addr: SocketAddr = format!("{}:{}", a.connection.unwrap(), a.port.unwrap())
                .parse()
                .unwrap();
            let k = MasterKey::from_key_params(a.crypto[0].key_params).unwrap();
            (addr, k)
        })
        .unwrap();
    let to_tag = rs[2].header_to().unwrap().tag().unwrap().to_owned();
    let trunk = Session::start(
        tokio::net::UdpSocket::from_std(socket).unwrap(),
        Plan {
            remote: answer.0,
            send_to: answer.0,
            send: Some(Keying {
                suite: Suite::AesCm128HmacSha1_80,
                key,
            }),
            receive: Some(Keying {
                suite: Suite::AesCm128HmacSha1_80,
                key: answer.1,
            }),
            payload_type: 0,
            program: Program::Comfort,
            send_after: Duration::ZERO,
            sending: true,
            bound: Duration::from_secs(30),
            fault: None,
        },
    );
    uac.send(&uac.request(Method::Ack, &uri, 1, Some(&to_tag)))
        .await;
    tokio::time::sleep(hold).await;
    let trunk_leg = trunk.stop().await;
    uac.send(&uac.request(Method::Bye, &uri, 2, Some(&to_tag)))
        .await;
    uac.expect(&[200]).await;
    let obs = gw.take_observations();
    let bye = obs.iter().find(|o| o.method == "BYE").unwrap();
    let gw_leg = bye
        .media_flow
        .clone()
        .expect("the BYE carries the gateway's media");
    gw.shutdown().await;
    (trunk_leg, gw_leg)
}

#[tokio::test]
async fn srtp_flows_both_ways_and_the_gateway_records_it_at_the_bye() {
    let (t, g) = call(None, "911", Duration::from_millis(600)).await;
    for leg in [&t, &g] {
        assert!(leg.authenticated >= 20, "{leg:?}");
        assert_eq!(
            (leg.auth_failures, leg.clear, leg.ssrc_changes),
            (0, 0, 0),
            "{leg:?}"
        );
        assert_eq!(leg.symmetric(), Some(true), "{leg:?}");
        assert!(
            leg.first_packet_us.is_some_and(|us| us < 200_000),
            "{leg:?}"
        );
        let port: u16 = leg.local.rsplit(':').next().unwrap().parse().unwrap();
        assert!((30000..=60000).contains(&port), "{leg:?}");
    }
    assert_eq!(g.sdp_remote, t.local);
    assert_eq!(g.send_suite.as_deref(), Some("AES_CM_128_HMAC_SHA1_80"));
    assert_eq!(g.played, "comfort tone");
}

#[tokio::test]
async fn a_933_call_reads_the_number_back_as_audio() {
    let (t, g) = call(None, "933", Duration::from_millis(1600)).await;
    assert_eq!(g.played, "digits 13125550142");
    assert_eq!(t.digits, "13125550142");
    assert!(t.audible_ms >= 600, "{t:?}");
}

#[tokio::test]
async fn each_media_fault_shows_at_the_trunk() {
    let hold = Duration::from_millis(500);
    let (t, g) = call(Some(MediaFault::None), "911", hold).await;
    assert_eq!((t.rtp, g.sent), (0, 0), "one-way: {t:?} {g:?}");
    assert!(g.authenticated > 0, "the trunk's media still arrives");
    assert_eq!(g.fault.as_deref(), Some("media none"));

    let (t, g) = call(Some(MediaFault::WrongPort), "911", hold).await;
    assert_eq!(t.rtp, 0);
    assert!(g.sent > 0 && g.sent_to != g.sdp_remote, "{g:?}");

    let (t, _) = call(Some(MediaFault::WrongKey), "911", hold).await;
    assert!(
        t.auth_failures > 0 && t.authenticated == 0 && t.clear == 0,
        "{t:?}"
    );

    let (t, g) = call(Some(MediaFault::PlainRtp), "911", hold).await;
    assert!(t.auth_failures > 0 && t.clear == t.auth_failures, "{t:?}");
    assert_eq!(g.send_suite, None);

    let (t, _) = call(
        Some(MediaFault::Late(Duration::from_millis(300))),
        "911",
        Duration::from_millis(700),
    )
    .await;
    assert!(t.first_packet_us.is_some_and(|us| us >= 300_000), "{t:?}");
}
