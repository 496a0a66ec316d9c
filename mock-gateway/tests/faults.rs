//! Fault injection over real loopback TLS: what a client sees on the wire for each fault, the
//! capacity cap, the outage window, clearing, and which calls a selection picks. Waits are
//! bounded; the only time assertion is a lower bound the gateway guarantees (a delay is never
//! shorter than asked). "Nothing was sent" is shown by ordering, not by waiting: a request
//! sent after the faulted INVITE must get the next response on the connection.

mod support;

use std::io::ErrorKind;
use std::time::{Duration, Instant};

use mock_gateway::{
    CallSelect, FaultError, FaultKind, FaultPlan, FaultSpec, FaultWhen, TlsFaultKind, Window,
};
use sip::engine::{ack_for_non_2xx, cancel_for};
use sip::message::SipHeaders;
use sip::transport::TransportKind;
use sip::{HeaderName, Method, Request};
use support::{BOUND, ORG, Uac, connect_tls, policy, rustls_error, start, tls_connect};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite};
use tokio::net::TcpStream;
use tokio::time::timeout;

fn plan(kind: FaultKind, select: CallSelect) -> FaultPlan {
    FaultPlan {
        rules: vec![FaultSpec {
            gateway: "gw1".into(),
            kind,
            select,
        }],
        ..FaultPlan::default()
    }
}

fn respond(status: u16) -> FaultKind {
    FaultKind::Respond {
        status,
        reason: None,
        q850: None,
        retry_after: None,
    }
}

/// Sends OPTIONS and expects its 200 as the very next response: proof that the gateway queued
/// nothing else on this connection before it.
async fn options_answered_next<S: AsyncRead + AsyncWrite + Unpin>(uac: &mut Uac<S>) {
    let opts = uac.request(Method::Options, "sip:gw1", 7, None);
    uac.send(&opts).await;
    let r = uac.recv().await.expect("an answer");
    assert_eq!(
        (r.status, r.cseq().unwrap().method),
        (200, Method::Options),
        "{r:?}"
    );
}

/// The next read on a raw stream: bytes, a clean EOF, or an error kind.
async fn next_read<S: AsyncRead + Unpin>(io: &mut S) -> Result<usize, ErrorKind> {
    let mut b = [0u8; 1024];
    timeout(BOUND, io.read(&mut b))
        .await
        .expect("the gateway acted within the bound")
        .map_err(|e| e.kind())
}

#[tokio::test]
async fn respond_fault_puts_status_reason_q850_and_retry_after_on_the_wire() {
    let (gw, client) = start(TransportKind::Tls, policy(), Default::default()).await;
    gw.set_faults(plan(
        FaultKind::Respond {
            status: 503,
            reason: Some("Gateway Overloaded".into()),
            q850: Some(34),
            retry_after: Some(30),
        },
        CallSelect::All,
    ))
    .unwrap();
    let mut uac = connect_tls(&gw, client.unwrap()).await;
    let invite = uac.invite("sip:911@gw1", Some(ORG));
    uac.send(&invite).await;
    let r = uac.recv().await.unwrap();
    assert_eq!((r.status, r.reason.as_str()), (503, "Gateway Overloaded"));
    assert_eq!(r.headers.get(&HeaderName::Reason), Some("Q.850;cause=34"));
    assert_eq!(r.headers.get(&HeaderName::RetryAfter), Some("30"));
    // The ACK of the 503 is absorbed by the INVITE transaction; a retransmitted INVITE before
    // it would have replayed the 503.
    uac.send(&ack_for_non_2xx(&invite, &r)).await;
    options_answered_next(&mut uac).await;
    let obs = gw.observations();
    assert_eq!(
        obs[0].fault.as_deref(),
        Some("respond 503 q850=34 retry-after=30")
    );
    assert_eq!(obs[0].response, Some(503));
    assert_eq!(obs[1].method, "ACK");
    let s = gw.stats();
    assert_eq!(
        (s.invites, s.rejected, s.answered, s.faults_applied),
        (1, 1, 0, 1)
    );
    gw.shutdown().await;
}

#[tokio::test]
async fn delay_holds_every_response_then_answers_normally() {
    let (gw, client) = start(TransportKind::Tls, policy(), Default::default()).await;
    let delay = Duration::from_millis(300);
    gw.set_faults(plan(FaultKind::Delay(delay), CallSelect::All))
        .unwrap();
    let mut uac = connect_tls(&gw, client.unwrap()).await;
    let sent = Instant::now();
    uac.send(&uac.invite("sip:911@gw1", Some(ORG))).await;
    uac.expect(&[100]).await;
    assert!(
        sent.elapsed() >= delay,
        "not even 100 Trying before the delay"
    );
    uac.expect(&[180, 200]).await;
    let obs = gw.observations();
    assert_eq!(
        (obs[0].response, obs[0].fault.as_deref()),
        (Some(200), Some("delay 300ms"))
    );
    gw.shutdown().await;
}

#[tokio::test]
async fn trying_then_silence_sends_100_and_nothing_more() {
    let (gw, client) = start(TransportKind::Tls, policy(), Default::default()).await;
    gw.set_faults(plan(FaultKind::TryingThenSilence, CallSelect::All))
        .unwrap();
    let mut uac = connect_tls(&gw, client.unwrap()).await;
    let invite = uac.invite("sip:911@gw1", Some(ORG));
    uac.send(&invite).await;
    uac.expect(&[100]).await;
    // A retransmission gets the 100 again (the transaction is Proceeding), a CANCEL nothing.
    uac.send(&invite).await;
    uac.expect(&[100]).await;
    uac.send(&cancel_for(&invite)).await;
    options_answered_next(&mut uac).await;
    let obs = gw.observations();
    assert_eq!(obs[0].fault.as_deref(), Some("trying then silence"));
    assert_eq!(obs[0].response, None);
    assert!(obs[1].retransmission);
    assert_eq!((obs[2].method.as_str(), obs[2].response), ("CANCEL", None));
    gw.shutdown().await;
}

#[tokio::test]
async fn silence_never_answers_the_invite_but_the_connection_lives() {
    let (gw, client) = start(TransportKind::Tls, policy(), Default::default()).await;
    gw.set_faults(plan(FaultKind::Silence, CallSelect::All))
        .unwrap();
    let mut uac = connect_tls(&gw, client.unwrap()).await;
    let invite = uac.invite("sip:911@gw1", Some(ORG));
    uac.send(&invite).await;
    uac.send(&invite).await;
    options_answered_next(&mut uac).await;
    let obs = gw.observations();
    assert_eq!(obs[0].fault.as_deref(), Some("silence"));
    assert!(obs[1].retransmission && obs[1].response.is_none());
    gw.shutdown().await;
}

#[tokio::test]
async fn close_and_reset_before_invite_fail_the_handshake_as_eof_and_as_reset() {
    let (gw, client) = start(TransportKind::Tls, policy(), Default::default()).await;
    let client = client.unwrap();
    gw.set_faults(plan(
        FaultKind::Close(FaultWhen::BeforeInvite),
        CallSelect::All,
    ))
    .unwrap();
    let e = tls_connect(&gw, client.clone()).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::UnexpectedEof, "{e:?}");
    gw.set_faults(plan(
        FaultKind::Reset(FaultWhen::BeforeInvite),
        CallSelect::All,
    ))
    .unwrap();
    let e = tls_connect(&gw, client.clone()).await.unwrap_err();
    assert!(
        matches!(e.kind(), ErrorKind::ConnectionReset | ErrorKind::BrokenPipe),
        "{e:?}"
    );
    let obs = gw.observations();
    let labels: Vec<_> = obs
        .iter()
        .map(|o| (o.method.as_str(), o.fault.as_deref()))
        .collect();
    assert_eq!(
        labels,
        [
            ("", Some("close before invite")),
            ("", Some("reset before invite"))
        ]
    );
    assert_eq!(gw.stats().connections, 2);
    gw.shutdown().await;
}

#[tokio::test]
async fn close_after_invite_is_a_clean_eof_and_reset_after_invite_is_econnreset() {
    let (gw, client) = start(TransportKind::Tls, policy(), Default::default()).await;
    let client = client.unwrap();
    gw.set_faults(plan(
        FaultKind::Close(FaultWhen::AfterInvite),
        CallSelect::All,
    ))
    .unwrap();
    let mut uac = connect_tls(&gw, client.clone()).await;
    uac.send(&uac.invite("sip:911@gw1", Some(ORG))).await;
    assert_eq!(next_read(&mut uac.io).await, Ok(0), "close_notify then FIN");

    gw.set_faults(plan(
        FaultKind::Reset(FaultWhen::AfterInvite),
        CallSelect::All,
    ))
    .unwrap();
    let mut uac = connect_tls(&gw, client).await;
    uac.send(&uac.invite("sip:911@gw1", Some(ORG))).await;
    assert_eq!(
        next_read(&mut uac.io).await,
        Err(ErrorKind::ConnectionReset)
    );
    let faults: Vec<_> = gw
        .observations()
        .iter()
        .map(|o| o.fault.clone().unwrap())
        .collect();
    assert_eq!(faults, ["close after invite", "reset after invite"]);
    gw.shutdown().await;
}

#[tokio::test]
async fn each_tls_fault_gives_the_client_its_own_error_and_only_on_selected_connections() {
    let (gw, client) = start(TransportKind::Tls, policy(), Default::default()).await;
    let client = client.unwrap();
    for (fault, check) in [
        (
            TlsFaultKind::Untrusted,
            (|e: &rustls::Error| {
                matches!(
                    e,
                    rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer)
                )
            }) as fn(&rustls::Error) -> bool,
        ),
        (TlsFaultKind::Expired, |e| {
            matches!(
                e,
                rustls::Error::InvalidCertificate(
                    rustls::CertificateError::Expired
                        | rustls::CertificateError::ExpiredContext { .. }
                )
            )
        }),
        (TlsFaultKind::WrongName, |e| {
            matches!(
                e,
                rustls::Error::InvalidCertificate(
                    rustls::CertificateError::NotValidForName
                        | rustls::CertificateError::NotValidForNameContext { .. }
                )
            )
        }),
        (TlsFaultKind::ProtocolError, |e| {
            matches!(e, rustls::Error::InvalidMessage(_))
        }),
    ] {
        // Only the first connection after the plan is set is faulted.
        gw.set_faults(plan(FaultKind::Tls(fault), CallSelect::Calls(vec![1])))
            .unwrap();
        let e = tls_connect(&gw, client.clone()).await.unwrap_err();
        let inner = rustls_error(&e).unwrap_or_else(|| panic!("{fault:?}: {e:?}"));
        assert!(check(inner), "{fault:?}: {inner:?}");
        let mut uac = connect_tls(&gw, client.clone()).await;
        options_answered_next(&mut uac).await;
    }
    gw.clear_faults();
    let tcp_only = start(TransportKind::Tcp, policy(), Default::default())
        .await
        .0;
    assert_eq!(
        tcp_only.set_faults(plan(
            FaultKind::Tls(TlsFaultKind::ProtocolError),
            CallSelect::All
        )),
        Err(FaultError::NoFaultTls("protocol error"))
    );
    tcp_only.shutdown().await;
    gw.shutdown().await;
}

#[tokio::test]
async fn capacity_refuses_the_call_over_the_cap_with_503_cause_34_until_a_bye() {
    let (gw, client) = start(TransportKind::Tls, policy(), Default::default()).await;
    let client = client.unwrap();
    gw.set_faults(FaultPlan {
        capacity: Some(1),
        ..FaultPlan::default()
    })
    .unwrap();
    let mut a = connect_tls(&gw, client.clone()).await;
    a.send(&a.invite("sip:911@gw1", Some(ORG))).await;
    let ok = a.expect(&[100, 180, 200]).await.pop().unwrap();
    let to_tag = ok.header_to().unwrap().tag().unwrap().to_owned();

    let mut b = connect_tls(&gw, client.clone()).await;
    b.send(&b.invite("sip:911@gw1", Some(ORG))).await;
    let r = b.recv().await.unwrap();
    assert_eq!(r.status, 503);
    assert_eq!(r.headers.get(&HeaderName::Reason), Some("Q.850;cause=34"));

    let bye = a.request(Method::Bye, "sip:911@gw1", 2, Some(&to_tag));
    a.send(&bye).await;
    a.expect(&[200]).await;
    b.new_call();
    b.send(&b.invite("sip:911@gw1", Some(ORG))).await;
    b.expect(&[100, 180, 200]).await;
    // Closing a connection frees its dialogs' slots too.
    drop(b);
    let mut c = connect_tls(&gw, client).await;
    let answered = timeout(BOUND, async {
        loop {
            c.new_call();
            c.send(&c.invite("sip:911@gw1", Some(ORG))).await;
            if c.recv().await.unwrap().status == 100 {
                return c.expect(&[180, 200]).await;
            }
        }
    })
    .await;
    assert!(answered.is_ok(), "a slot came free after the close");
    let refused = gw
        .observations()
        .iter()
        .filter(|o| o.fault.as_deref() == Some("capacity 503 q850=34"))
        .count();
    assert!(refused >= 1);
    gw.shutdown().await;
}

#[tokio::test]
async fn outage_refuses_connections_drops_live_ones_then_recovers_on_the_same_port() {
    let (gw, client) = start(TransportKind::Tls, policy(), Default::default()).await;
    let client = client.unwrap();
    let addr = gw.local_addr();
    let mut live = connect_tls(&gw, client.clone()).await;
    options_answered_next(&mut live).await;
    gw.set_faults(FaultPlan {
        outage: Some(Window {
            from: Duration::ZERO,
            until: Duration::from_millis(1500),
        }),
        ..FaultPlan::default()
    })
    .unwrap();
    assert!(
        matches!(next_read(&mut live.io).await, Ok(0) | Err(_)),
        "the live connection is dropped"
    );
    let refused = timeout(BOUND, async {
        loop {
            match TcpStream::connect(addr).await {
                Err(e) if e.kind() == ErrorKind::ConnectionRefused => return,
                _ => tokio::task::yield_now().await,
            }
        }
    })
    .await;
    assert!(refused.is_ok(), "connect is refused during the outage");
    let back = timeout(BOUND, async {
        loop {
            if let Ok(io) = tls_connect(&gw, client.clone()).await {
                return io;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("the gateway is back within the bound");
    assert_eq!(back.get_ref().0.peer_addr().unwrap(), addr, "same port");
    let mut uac = Uac::new(back);
    options_answered_next(&mut uac).await;
    gw.shutdown().await;
}

#[tokio::test]
async fn clear_faults_restores_normal_answers() {
    let (gw, client) = start(TransportKind::Tls, policy(), Default::default()).await;
    gw.set_faults(plan(respond(486), CallSelect::All)).unwrap();
    let mut uac = connect_tls(&gw, client.unwrap()).await;
    uac.send(&uac.invite("sip:911@gw1", Some(ORG))).await;
    uac.expect(&[486]).await;
    gw.clear_faults();
    uac.new_call();
    uac.send(&uac.invite("sip:911@gw1", Some(ORG))).await;
    uac.expect(&[100, 180, 200]).await;
    let obs = gw.observations();
    assert_eq!(obs[1].fault, None);
    gw.shutdown().await;
}

/// Places `n` calls on one connection, acknowledging every final; the status each got
/// (486 = faulted, 200 = normal). Responses of other calls (a 2xx retransmitted before its ACK
/// arrived) are skipped.
async fn statuses<S: AsyncRead + AsyncWrite + Unpin>(uac: &mut Uac<S>, n: u64) -> Vec<u16> {
    let mut out = Vec::new();
    for _ in 0..n {
        uac.new_call();
        let inv: Request = uac.invite("sip:911@gw1", Some(ORG));
        uac.send(&inv).await;
        let r = loop {
            let r = uac.recv().await.unwrap();
            if r.status >= 200 && r.call_id() == Some(uac.call_id.as_str()) {
                break r;
            }
        };
        let ack = if r.status >= 300 {
            ack_for_non_2xx(&inv, &r)
        } else {
            let tag = r.header_to().and_then(|t| t.tag().map(str::to_owned));
            uac.request(Method::Ack, "sip:911@gw1", 1, tag.as_deref())
        };
        uac.send(&ack).await;
        out.push(r.status);
    }
    out
}

#[tokio::test]
async fn selections_pick_calls_by_index_every_nth_and_reproducible_fraction() {
    let (gw, client) = start(TransportKind::Tls, policy(), Default::default()).await;
    let mut uac = connect_tls(&gw, client.unwrap()).await;
    let expect = |f: &dyn Fn(u64) -> bool, n: u64| -> Vec<u16> {
        (1..=n).map(|i| if f(i) { 486 } else { 200 }).collect()
    };

    gw.set_faults(plan(respond(486), CallSelect::Calls(vec![2, 4])))
        .unwrap();
    assert_eq!(statuses(&mut uac, 5).await, [200, 486, 200, 486, 200]);

    gw.set_faults(plan(respond(486), CallSelect::Every(3)))
        .unwrap();
    assert_eq!(
        statuses(&mut uac, 7).await,
        expect(&|i| i % 3 == 0, 7),
        "indexes count from the new plan"
    );

    let fraction = CallSelect::Fraction {
        p: scenarios::Fraction(0.5),
        seed: 7,
    };
    gw.set_faults(plan(respond(486), fraction.clone())).unwrap();
    let first = statuses(&mut uac, 16).await;
    assert_eq!(first, expect(&|i| fraction.matches(i), 16));
    gw.set_faults(plan(respond(486), fraction)).unwrap();
    assert_eq!(statuses(&mut uac, 16).await, first, "same seed, same calls");
    assert!(first.contains(&486) && first.contains(&200));
    gw.shutdown().await;
}

#[tokio::test]
async fn a_retransmitted_invite_after_200_is_absorbed_and_gets_the_200_again() {
    let (gw, client) = start(TransportKind::Tls, policy(), Default::default()).await;
    let mut uac = connect_tls(&gw, client.unwrap()).await;
    let invite = uac.invite("sip:911@gw1", Some(ORG));
    uac.send(&invite).await;
    let ok = uac.expect(&[100, 180, 200]).await.pop().unwrap();
    uac.send(&invite).await;
    let again = uac.expect(&[200]).await.pop().unwrap();
    assert_eq!(again, ok);
    let s = gw.stats();
    assert_eq!((s.invites, s.answered), (1, 1));
    assert!(gw.observations()[1].retransmission);
    gw.shutdown().await;
}

#[tokio::test]
async fn a_peer_that_accepts_a_faulted_certificate_is_recorded_on_every_request_of_that_connection()
{
    let (gw, _) = start(
        TransportKind::Tls,
        policy(),
        mock_gateway::Limits::default(),
    )
    .await;
    gw.set_faults(plan(
        FaultKind::Tls(TlsFaultKind::WrongName),
        CallSelect::All,
    ))
    .unwrap();
    // A client that verifies nothing goes on over the wrong-name certificate.
    let mut uac = connect_tls(&gw, sip::transport::insecure_client_config()).await;
    let invite = uac.invite("sip:911@gw1.anywhere.e911cloud.com", Some(ORG));
    uac.send(&invite).await;
    let finals = uac.expect(&[100, 180, 200]).await;
    assert_eq!(finals.last().map(|r| r.status), Some(200));
    let obs = gw.take_observations();
    let event = obs
        .iter()
        .find(|o| o.is_connection_event())
        .expect("the fault on accept is recorded");
    assert_eq!(event.fault.as_deref(), Some("tls wrong name"));
    let inv = obs
        .iter()
        .find(|o| o.is_new_invite())
        .expect("the INVITE is recorded");
    assert_eq!(inv.connection_fault.as_deref(), Some("tls wrong name"));
    assert_eq!(inv.conn, event.conn, "the same connection");
    assert!(inv.conn >= 1);
    assert!(
        inv.body.as_deref().is_some_and(|b| b.starts_with("v=0")),
        "{inv:?}"
    );
    gw.shutdown().await;
}

#[tokio::test]
async fn a_plan_that_acts_on_connections_drops_the_established_ones() {
    let (gw, client) = start(
        TransportKind::Tls,
        policy(),
        mock_gateway::Limits::default(),
    )
    .await;
    let client = client.unwrap();
    let mut kept = connect_tls(&gw, client.clone()).await;
    let invite = kept.invite("sip:911@gw1.anywhere.e911cloud.com", Some(ORG));
    kept.send(&invite).await;
    kept.expect(&[100, 180, 200]).await;
    assert_eq!(gw.open_connections(), 1);
    // A call-level fault leaves established connections alone.
    gw.set_faults(plan(respond(503), CallSelect::All)).unwrap();
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(gw.open_connections(), 1);
    // A connection-level fault (a gateway restarting with another certificate) drops them, so
    // a peer that keeps connections meets the fault on its next one.
    gw.set_faults(plan(
        FaultKind::Tls(TlsFaultKind::Untrusted),
        CallSelect::All,
    ))
    .unwrap();
    assert!(gw.wait_no_connections(BOUND).await, "dropped");
    assert_eq!(
        kept.recv().await.map(|r| r.status),
        None,
        "the old connection is gone"
    );
    let e = tls_connect(&gw, client.clone()).await.unwrap_err();
    assert!(rustls_error(&e).is_some(), "{e}");
    // Clearing it drops what was accepted under it too.
    gw.clear_faults();
    assert!(gw.wait_no_connections(BOUND).await);
    assert!(tls_connect(&gw, client).await.is_ok());
    gw.shutdown().await;
}

#[tokio::test]
async fn observations_carry_the_run_clock() {
    let epoch = std::time::Instant::now();
    tokio::time::sleep(Duration::from_millis(30)).await;
    let pki = support::pki();
    let gw = mock_gateway::Gateway::start(mock_gateway::GatewayConfig {
        transport: TransportKind::Tls,
        tls: Some(pki.server),
        policy: policy(),
        epoch: Some(epoch),
        ..mock_gateway::GatewayConfig::default()
    })
    .await
    .unwrap();
    let mut uac = connect_tls(&gw, pki.client).await;
    let invite = uac.invite("sip:911@gw1.anywhere.e911cloud.com", Some(ORG));
    uac.send(&invite).await;
    uac.expect(&[100, 180, 200]).await;
    let obs = gw.take_observations();
    let inv = obs.iter().find(|o| o.is_new_invite()).expect("INVITE");
    // Counted from the run's epoch (30 ms before the gateway started), in microseconds.
    assert!(inv.at_us >= 30_000, "{}", inv.at_us);
    assert!(inv.at_us < 30_000_000, "{}", inv.at_us);
    assert!(
        inv.at_us >= inv.at_ms * 1_000,
        "{} vs {} ms since start",
        inv.at_us,
        inv.at_ms
    );
    gw.shutdown().await;
}
