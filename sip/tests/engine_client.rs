//! Client transactions (RFC 3261 §17.1) on a virtual clock: every timer, every transition.

use std::time::{Duration, Instant};

use sip::engine::{ClientEvent, ClientState, ClientTransaction, Reliability, Timers};
use sip::message::SipHeaders;
use sip::{HeaderName, Message, Method, Request, Response};

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn request(method: &str, branch: &str) -> Request {
    let text = format!(
        "{method} sip:911@gw.example;user=phone SIP/2.0\r\n\
         Via: SIP/2.0/UDP uac.example:5060;branch={branch}\r\n\
         Max-Forwards: 70\r\n\
         Route: <sip:sbc.example;lr>\r\n\
         From: <sip:+13125550100@trunk.example>;tag=uac1\r\n\
         To: <sip:911@gw.example>\r\n\
         Call-ID: call-1@trunk.example\r\n\
         CSeq: 5 {method}\r\n\
         Contact: <sip:+13125550100@uac.example:5060>\r\n\r\n"
    );
    match Message::parse(text.as_bytes()) {
        Ok(Message::Request(r)) => r,
        other => panic!("bad test request: {other:?}"),
    }
}

fn response(req: &Request, status: u16) -> Response {
    let mut r = Response::for_request(req, status, Some("gw9"));
    if (200..300).contains(&status) {
        r.headers.push(HeaderName::Contact, "<sip:gw.example:5060>");
    }
    r
}

/// Drives the machine by its own poll_timeout until it stops asking, recording the offsets (from
/// `t0`) of every transmission and every event.
fn run_to_end(
    tx: &mut ClientTransaction,
    t0: Instant,
) -> (Vec<Duration>, Vec<(Duration, ClientEvent)>) {
    let mut sent = vec![];
    let mut events = vec![];
    let mut now = t0;
    for _ in 0..1000 {
        while tx.poll_transmit().is_some() {
            sent.push(now - t0);
        }
        while let Some(e) = tx.poll_event() {
            events.push((now - t0, e));
        }
        match tx.poll_timeout() {
            Some(at) => {
                assert!(at >= now, "deadline in the past");
                now = at;
                tx.handle_timeout(now);
            }
            None => break,
        }
    }
    (sent, events)
}

#[test]
fn invite_timer_a_doubles_without_cap_until_timer_b() {
    let t0 = Instant::now();
    let mut tx = ClientTransaction::new(
        t0,
        request("INVITE", "z9hG4bKa1"),
        Timers::default(),
        Reliability::Unreliable,
    );
    assert_eq!(tx.state(), ClientState::Calling);
    let (sent, events) = run_to_end(&mut tx, t0);
    // First send, then T1, 2T1, 4T1, 8T1, 16T1, 32T1 after the previous one (no T2 cap).
    let expected: Vec<Duration> = [0, 500, 1500, 3500, 7500, 15500, 31500]
        .into_iter()
        .map(ms)
        .collect();
    assert_eq!(sent, expected);
    assert_eq!(tx.retransmissions(), 6);
    assert_eq!(
        events,
        vec![
            (ms(32_000), ClientEvent::Timeout),
            (ms(32_000), ClientEvent::Terminated)
        ]
    );
    assert_eq!(tx.state(), ClientState::Terminated);
}

#[test]
fn invite_on_reliable_transport_sends_once_and_times_out_at_64_t1() {
    let t0 = Instant::now();
    let timers = Timers {
        t1: ms(100),
        ..Timers::default()
    };
    let mut tx = ClientTransaction::new(
        t0,
        request("INVITE", "z9hG4bKa2"),
        timers,
        Reliability::Reliable,
    );
    assert_eq!(tx.poll_timeout(), Some(t0 + ms(6400)));
    let (sent, events) = run_to_end(&mut tx, t0);
    assert_eq!(sent, vec![Duration::ZERO]);
    assert_eq!(tx.retransmissions(), 0);
    assert_eq!(events[0], (ms(6400), ClientEvent::Timeout));
}

#[test]
fn provisional_moves_to_proceeding_and_stops_timers_a_and_b() {
    let t0 = Instant::now();
    let inv = request("INVITE", "z9hG4bKa3");
    let mut tx =
        ClientTransaction::new(t0, inv.clone(), Timers::default(), Reliability::Unreliable);
    tx.poll_transmit();
    let ringing = response(&inv, 180);
    assert_eq!(
        tx.on_response(t0 + ms(200), &ringing),
        Some(ClientEvent::Provisional(ringing.clone()))
    );
    assert_eq!(tx.state(), ClientState::Proceeding);
    assert_eq!(tx.poll_timeout(), None, "no Timer A or B in Proceeding");
    tx.handle_timeout(t0 + ms(60_000));
    assert_eq!(tx.poll_transmit(), None);
    assert_eq!(tx.poll_event(), None);
    // Further provisionals are passed up too.
    let progress = response(&inv, 183);
    assert!(matches!(
        tx.on_response(t0 + ms(300), &progress),
        Some(ClientEvent::Provisional(r)) if r.status == 183
    ));
}

#[test]
fn non_2xx_final_sends_one_ack_then_each_retransmitted_final_resends_it() {
    let t0 = Instant::now();
    let inv = request("INVITE", "z9hG4bKa4");
    let mut tx =
        ClientTransaction::new(t0, inv.clone(), Timers::default(), Reliability::Unreliable);
    assert_eq!(tx.poll_transmit().as_ref(), Some(&inv));
    let busy = response(&inv, 486);
    let now = t0 + ms(700);
    assert_eq!(
        tx.on_response(now, &busy),
        Some(ClientEvent::Final(busy.clone()))
    );
    assert_eq!(tx.state(), ClientState::Completed);
    let ack = tx.poll_transmit().expect("an ACK");
    assert_eq!(ack.method, Method::Ack);
    assert_eq!(ack.top_via().unwrap().branch(), Some("z9hG4bKa4"));
    assert_eq!(ack.header_to().unwrap().tag(), Some("gw9"));
    assert_eq!(ack.cseq().unwrap().seq, 5);
    assert_eq!(tx.poll_transmit(), None, "exactly one ACK");
    // Timer A is gone: the next deadline is Timer D.
    assert_eq!(tx.poll_timeout(), Some(now + ms(32_000)));

    // A retransmitted final is absorbed and re-sends the same ACK.
    assert_eq!(tx.on_response(now + ms(500), &busy), None);
    assert_eq!(tx.poll_transmit(), Some(ack));
    assert_eq!(tx.state(), ClientState::Completed);

    tx.handle_timeout(now + ms(31_999));
    assert_eq!(tx.state(), ClientState::Completed);
    tx.handle_timeout(now + ms(32_000));
    assert_eq!(tx.state(), ClientState::Terminated);
    assert_eq!(tx.poll_event(), Some(ClientEvent::Terminated));
    assert_eq!(tx.poll_timeout(), None);
    // Terminated: a late final is ignored.
    assert_eq!(tx.on_response(now + ms(40_000), &busy), None);
    assert_eq!(tx.poll_transmit(), None);
}

#[test]
fn timer_d_is_zero_on_reliable_transports() {
    let t0 = Instant::now();
    let inv = request("INVITE", "z9hG4bKa5");
    let mut tx = ClientTransaction::new(t0, inv.clone(), Timers::default(), Reliability::Reliable);
    tx.poll_transmit();
    assert!(matches!(
        tx.on_response(t0, &response(&inv, 503)),
        Some(ClientEvent::Final(r)) if r.status == 503
    ));
    assert_eq!(tx.state(), ClientState::Terminated);
    assert_eq!(
        tx.poll_transmit().map(|r| r.method),
        Some(Method::Ack),
        "the ACK is still sent"
    );
    assert_eq!(tx.poll_event(), Some(ClientEvent::Terminated));
    assert_eq!(tx.poll_timeout(), None);
}

#[test]
fn a_2xx_terminates_and_later_2xx_are_passed_up_not_absorbed() {
    let t0 = Instant::now();
    let inv = request("INVITE", "z9hG4bKa6");
    let mut tx =
        ClientTransaction::new(t0, inv.clone(), Timers::default(), Reliability::Unreliable);
    tx.poll_transmit();
    tx.on_response(t0 + ms(100), &response(&inv, 100));
    let ok = response(&inv, 200);
    assert_eq!(
        tx.on_response(t0 + ms(900), &ok),
        Some(ClientEvent::Final(ok.clone()))
    );
    assert_eq!(tx.state(), ClientState::Terminated);
    assert_eq!(tx.poll_event(), Some(ClientEvent::Terminated));
    assert_eq!(tx.poll_transmit(), None, "the ACK of a 2xx is the TU's");
    assert_eq!(tx.poll_timeout(), None);
    // The retransmitted 2xx reaches the TU again so its dialog re-sends the ACK.
    assert_eq!(
        tx.on_response(t0 + ms(1400), &ok),
        Some(ClientEvent::Final(ok.clone()))
    );
    assert_eq!(tx.poll_event(), None, "Terminated is reported once");
    // ... but a provisional or non-2xx after that is not.
    assert_eq!(tx.on_response(t0 + ms(1500), &response(&inv, 180)), None);
    assert_eq!(tx.on_response(t0 + ms(1500), &response(&inv, 500)), None);
}

#[test]
fn non_invite_timer_e_doubles_up_to_t2_until_timer_f() {
    let t0 = Instant::now();
    let mut tx = ClientTransaction::new(
        t0,
        request("OPTIONS", "z9hG4bKn1"),
        Timers::default(),
        Reliability::Unreliable,
    );
    assert_eq!(tx.state(), ClientState::Trying);
    let (sent, events) = run_to_end(&mut tx, t0);
    let expected: Vec<Duration> = [
        0, 500, 1500, 3500, 7500, 11500, 15500, 19500, 23500, 27500, 31500,
    ]
    .into_iter()
    .map(ms)
    .collect();
    assert_eq!(sent, expected);
    assert_eq!(
        events,
        vec![
            (ms(32_000), ClientEvent::Timeout),
            (ms(32_000), ClientEvent::Terminated)
        ]
    );
}

#[test]
fn non_invite_proceeding_retransmits_every_t2_and_timer_f_still_runs() {
    let t0 = Instant::now();
    let req = request("OPTIONS", "z9hG4bKn2");
    let mut tx =
        ClientTransaction::new(t0, req.clone(), Timers::default(), Reliability::Unreliable);
    tx.poll_transmit();
    tx.handle_timeout(t0 + ms(500));
    assert!(tx.poll_transmit().is_some());
    assert!(matches!(
        tx.on_response(t0 + ms(600), &response(&req, 100)),
        Some(ClientEvent::Provisional(_))
    ));
    assert_eq!(tx.state(), ClientState::Proceeding);
    // The pending Timer E (at 1.5 s) fires, then every T2.
    let (sent, events) = run_to_end(&mut tx, t0 + ms(600));
    let expected: Vec<Duration> = [900, 4900, 8900, 12900, 16900, 20900, 24900, 28900]
        .into_iter()
        .map(ms)
        .collect();
    assert_eq!(sent, expected);
    assert_eq!(events[0], (ms(31_400), ClientEvent::Timeout));
    assert_eq!(tx.retransmissions(), 9);
}

#[test]
fn non_invite_final_completes_absorbs_retransmissions_and_timer_k_ends_it() {
    let t0 = Instant::now();
    let req = request("OPTIONS", "z9hG4bKn3");
    let mut tx =
        ClientTransaction::new(t0, req.clone(), Timers::default(), Reliability::Unreliable);
    tx.poll_transmit();
    let ok = response(&req, 200);
    assert_eq!(
        tx.on_response(t0 + ms(50), &ok),
        Some(ClientEvent::Final(ok.clone()))
    );
    assert_eq!(tx.state(), ClientState::Completed);
    assert_eq!(tx.poll_timeout(), Some(t0 + ms(5050)), "Timer K = T4");
    assert_eq!(tx.on_response(t0 + ms(600), &ok), None);
    assert_eq!(tx.poll_transmit(), None, "no ACK for non-INVITE");
    tx.handle_timeout(t0 + ms(5050));
    assert_eq!(tx.state(), ClientState::Terminated);
    assert_eq!(tx.poll_event(), Some(ClientEvent::Terminated));

    // Reliable: Timer K is zero.
    let mut rel = ClientTransaction::new(t0, req.clone(), Timers::default(), Reliability::Reliable);
    rel.on_response(t0, &ok);
    assert_eq!(rel.state(), ClientState::Terminated);
}

#[test]
fn responses_of_other_transactions_are_ignored() {
    let t0 = Instant::now();
    let inv = request("INVITE", "z9hG4bKm1");
    let mut tx =
        ClientTransaction::new(t0, inv.clone(), Timers::default(), Reliability::Unreliable);
    let other_branch = response(&request("INVITE", "z9hG4bKm2"), 200);
    assert!(!tx.matches(&other_branch));
    assert_eq!(tx.on_response(t0, &other_branch), None);
    // Same branch, CSeq method CANCEL: the CANCEL's transaction, not this one.
    let cancel_resp = response(&sip::engine::cancel_for(&inv), 200);
    assert!(!tx.matches(&cancel_resp));
    assert_eq!(tx.on_response(t0, &cancel_resp), None);
    assert_eq!(tx.state(), ClientState::Calling);
    // A response without a Via cannot match and does not panic.
    let mut bare = response(&inv, 200);
    bare.headers.remove(&HeaderName::Via);
    assert_eq!(tx.on_response(t0, &bare), None);
    assert_eq!(tx.key().method, Method::Invite);
    assert_eq!(tx.key().branch, "z9hG4bKm1");
}

#[test]
fn transport_error_terminates_once() {
    let t0 = Instant::now();
    let mut tx = ClientTransaction::new(
        t0,
        request("BYE", "z9hG4bKt1"),
        Timers::default(),
        Reliability::Reliable,
    );
    tx.on_transport_error();
    tx.on_transport_error();
    assert_eq!(tx.poll_event(), Some(ClientEvent::TransportError));
    assert_eq!(tx.poll_event(), Some(ClientEvent::Terminated));
    assert_eq!(tx.poll_event(), None);
    assert_eq!(tx.poll_timeout(), None);
    assert_eq!(tx.state(), ClientState::Terminated);
}

#[test]
fn an_ack_is_sent_once_and_is_not_a_transaction() {
    let t0 = Instant::now();
    let mut tx = ClientTransaction::new(
        t0,
        request("ACK", "z9hG4bKk1"),
        Timers::default(),
        Reliability::Unreliable,
    );
    assert_eq!(tx.poll_transmit().map(|r| r.method), Some(Method::Ack));
    assert_eq!(tx.poll_transmit(), None);
    assert_eq!(tx.state(), ClientState::Terminated);
    assert_eq!(tx.poll_timeout(), None);
    assert_eq!(tx.poll_event(), Some(ClientEvent::Terminated));
}

#[test]
fn a_late_driver_gets_one_retransmission_not_a_burst() {
    let t0 = Instant::now();
    let mut tx = ClientTransaction::new(
        t0,
        request("INVITE", "z9hG4bKl1"),
        Timers::default(),
        Reliability::Unreliable,
    );
    tx.poll_transmit();
    tx.handle_timeout(t0 + ms(10_000));
    assert!(tx.poll_transmit().is_some());
    assert_eq!(tx.poll_transmit(), None);
    let next = tx.poll_timeout().unwrap();
    assert!(next > t0 + ms(10_000));
}
